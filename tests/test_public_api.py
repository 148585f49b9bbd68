"""Every name the package promises in __all__ resolves to the documented object of its module."""

import importlib
import subprocess
import sys

import pytest

import hotspot_app

#: The documented public API: name -> (module, attribute) — the package docstring's promise.
DOCUMENTED = {
    "read_incidents": ("io.ingest", "read_incidents"), "read_boundaries": ("io.ingest", "read_boundaries"),
    "IngestResult": ("io.ingest", "IngestResult"), "BoundaryResult": ("io.ingest", "BoundaryResult"),
    "Workspace": ("io.workspace", "Workspace"),
    "open_workspace": ("io.workspace", "open_workspace"), "is_workspace": ("io.workspace", "is_workspace"),
    "Demo": ("io.demo", "Demo"), "load_demo": ("io.demo", "load"), "generate_demo": ("io.demo", "generate"),
    "make_incidents": ("core.schema", "make_incidents"), "make_areas": ("core.schema", "make_areas"),
    "validate_incidents": ("core.schema", "validate_incidents"),
    "INCIDENT_COLUMNS": ("core.schema", "INCIDENT_COLUMNS"), "AREA_COLUMNS": ("core.schema", "AREA_COLUMNS"),
    "InputError": ("core.errors", "InputError"), "classify": ("core.taxonomy", "classify"),
    "select": ("core.taxonomy", "select"),
    "join": ("core.areas", "join"), "within": ("core.areas", "within"), "counts": ("core.areas", "counts"),
    "find_area": ("core.areas", "find_area"), "partnership_table": ("core.summaries", "partnership_table"),
    "area_summary": ("core.summaries", "area_summary"), "rank_areas": ("core.summaries", "rank_areas"),
    "year_on_year": ("core.summaries", "year_on_year"), "build_table": ("core.tables", "build_table"),
    "indicators": ("core.indicators", "indicators"), "window": ("core.periods", "window"),
    "comparison_window": ("core.periods", "comparison_window"), "Coverage": ("core.periods", "Coverage"),
    "dbscan": ("core.clusters", "dbscan"), "suggest_eps": ("core.eps_guide", "suggest_eps"),
    "hotspot_grid": ("core.hotspots", "hotspot_grid"), "gistar": ("core.hotspots", "gistar"),
    "kde": ("core.hotspots", "kde"), "pai": ("core.forecast", "pai"), "rri": ("core.forecast", "rri"),
    "forecast_accuracy": ("core.forecast", "forecast_accuracy"), "emerging": ("core.emerging", "emerging_hotspots"),
    "evaluate": ("core.evaluation", "evaluate"), "evaluate_intervention": ("core.evaluation", "evaluate_intervention"),
    "wdq": ("core.evaluation", "wdq"), "wdd": ("core.evaluation", "wdd"), "tne": ("core.evaluation", "tne"),
    "rate_ratio": ("core.evaluation", "rate_ratio"),
    "area_table": ("questions.table", "area_table"), "patrol_areas": ("questions.patrol_areas", "patrol_areas"),
    "patrol_plan": ("questions.patrol_plan", "patrol_plan"),
}


def test_all_lists_exactly_the_documented_names():
    assert sorted(hotspot_app.__all__) == sorted([*DOCUMENTED, "__version__"])


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_public_name_is_the_object_of_its_module(name):
    module, attr = DOCUMENTED[name]
    assert getattr(hotspot_app, name) is getattr(importlib.import_module(f"hotspot_app.{module}"), attr)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        hotspot_app.nothing_here  # noqa: B018


def test_import_stays_light():
    # The CLI imports the package on every call: heavy libraries load only when used.
    code = "import sys, hotspot_app; print(any(m in sys.modules for m in ('statsmodels', 'sklearn', 'streamlit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
