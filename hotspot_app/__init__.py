"""hotspot_app: crime, ASB and deliberate-fire hotspots, patrol areas and intervention
evaluation for community safety partnerships, computed in EPSG:27700 metres.

The public API is re-exported here and loaded lazily (PEP 562), so ``import hotspot_app`` and
the ``hotspot`` CLI stay fast; each name lives in the module of its concern::

    from hotspot_app import read_incidents, read_boundaries, patrol_areas, area_table, evaluate
    result = read_incidents(["data/2024-01-cleveland-street.csv"])
    wards = read_boundaries("geodata/wards.geojson", layer="ward").areas
    answer = patrol_areas(result.incidents, category="asb", areas=wards, top=5)  # the app's preset
    print(answer.sentence(), answer.warnings)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # ingest / store / demo (I/O at the edges)
    "read_incidents": "io.ingest", "read_boundaries": "io.ingest", "IngestResult": "io.ingest",
    "BoundaryResult": "io.ingest", "Workspace": "io.workspace", "open_workspace": "io.workspace",
    "is_workspace": "io.workspace",
    "Demo": "io.demo", "load_demo": "io.demo:load", "generate_demo": "io.demo:generate",
    # schema and vocabulary
    "make_incidents": "core.schema", "make_areas": "core.schema", "validate_incidents": "core.schema",
    "INCIDENT_COLUMNS": "core.schema", "AREA_COLUMNS": "core.schema", "InputError": "core.errors",
    "classify": "core.taxonomy", "select": "core.taxonomy",
    # areas, periods, tables
    "join": "core.areas", "within": "core.areas", "counts": "core.areas", "find_area": "core.areas",
    "partnership_table": "core.summaries", "area_summary": "core.summaries",
    "rank_areas": "core.summaries", "year_on_year": "core.summaries", "window": "core.periods", "comparison_window": "core.periods",
    "Coverage": "core.periods", "build_table": "core.tables", "indicators": "core.indicators",
    # clusters and hotspots
    "dbscan": "core.clusters", "suggest_eps": "core.eps_guide", "hotspot_grid": "core.hotspots",
    "gistar": "core.hotspots", "kde": "core.hotspots", "pai": "core.forecast", "rri": "core.forecast",
    "forecast_accuracy": "core.forecast", "emerging": "core.emerging:emerging_hotspots",
    # evaluation
    "evaluate": "core.evaluation", "evaluate_intervention": "core.evaluation", "wdq": "core.evaluation",
    "wdd": "core.evaluation", "tne": "core.evaluation", "rate_ratio": "core.evaluation",
    # the questions: one function per user question, the answer every face gives
    "area_table": "questions.table", "patrol_areas": "questions.patrol_areas",
    "patrol_plan": "questions.patrol_plan",
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
