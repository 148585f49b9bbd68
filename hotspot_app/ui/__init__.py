"""Streamlit pages (thin: widgets -> cached call into the core -> map/table/chart) and the cached
calls they make (`cache`). The page scripts are run by `streamlit_app.py` via st.navigation;
`PAGES` lists them in menu order."""

PAGES = [
    ("hotspot_app/ui/pages/overview.py", "Overview", ":material/map:"),
    ("hotspot_app/ui/pages/hotspots.py", "Hotspots", ":material/local_fire_department:"),
    ("hotspot_app/ui/pages/patrol_plan.py", "Patrol plan", ":material/directions_walk:"),
    ("hotspot_app/ui/pages/before_after.py", "Before / after", ":material/compare:"),
    ("hotspot_app/ui/pages/fires.py", "Fires", ":material/fireplace:"),
    ("hotspot_app/ui/pages/area_tables.py", "Area tables", ":material/table:"),
    ("hotspot_app/ui/pages/reports.py", "Reports", ":material/description:"),
    ("hotspot_app/ui/pages/data.py", "Data", ":material/upload_file:"),
]
