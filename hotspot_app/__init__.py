"""hotspot_app: crime, ASB and deliberate-fire hotspots, patrol areas and intervention
evaluation for community safety partnerships, computed in EPSG:27700 metres.

The public API is re-exported here and loaded lazily (PEP 562), so ``import hotspot_app`` and
the ``hotspot`` CLI stay fast; each name lives in the module of its concern::

    from hotspot_app import read_incidents, read_boundaries, partnership_table, dbscan, evaluate
    result = read_incidents(["data/2024-01-cleveland-street.csv"])
    wards = read_boundaries("geodata/wards.geojson", layer="ward").areas
    table, warnings = partnership_table(result.incidents, wards.geometry[0], "2024-03")
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # ingest / store / demo (I/O at the edges)
    "read_incidents": "ingest", "read_boundaries": "ingest", "IngestResult": "ingest",
    "BoundaryResult": "ingest", "Workspace": "store", "is_workspace": "store",
    "Demo": "demo", "load_demo": "demo:load", "generate_demo": "demo:generate",
    # schema and vocabulary
    "make_incidents": "schema", "make_areas": "schema", "validate_incidents": "schema",
    "INCIDENT_COLUMNS": "schema", "AREA_COLUMNS": "schema", "InputError": "errors",
    "classify": "taxonomy", "select": "taxonomy",
    # areas, periods, tables
    "join": "areas", "within": "areas", "counts": "areas", "find_area": "areas",
    "partnership_table": "areas", "area_summary": "areas", "rank_areas": "areas",
    "year_on_year": "areas", "window": "periods", "comparison_window": "periods",
    "Coverage": "periods", "build_table": "tables", "indicators": "tables",
    # clusters and hotspots
    "dbscan": "clusters", "suggest_eps": "clusters", "hotspot_grid": "hotspots",
    "gistar": "hotspots", "kde": "hotspots", "pai": "hotspots", "rri": "hotspots",
    "forecast_accuracy": "hotspots", "emerging": "hotspots",
    # evaluation
    "evaluate": "evaluation", "evaluate_intervention": "evaluation", "wdq": "evaluation",
    "wdd": "evaluation", "tne": "evaluation", "rate_ratio": "evaluation",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'hotspot_app' has no attribute '{name}'")
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(f".{module}", __name__), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
