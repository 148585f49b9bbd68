"""hotspot_app."""
