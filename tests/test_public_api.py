"""Every name the package promises in __all__ resolves to the documented object of its module."""

import importlib
import subprocess
import sys

import pytest

import hotspot_app

#: The documented public API: name -> (module, attribute) — the package docstring's promise.
DOCUMENTED = {
    "read_incidents": ("ingest", "read_incidents"), "read_boundaries": ("ingest", "read_boundaries"),
    "IngestResult": ("ingest", "IngestResult"), "BoundaryResult": ("ingest", "BoundaryResult"),
    "Workspace": ("store", "Workspace"), "is_workspace": ("store", "is_workspace"),
    "Demo": ("demo", "Demo"), "load_demo": ("demo", "load"), "generate_demo": ("demo", "generate"),
    "make_incidents": ("schema", "make_incidents"), "make_areas": ("schema", "make_areas"),
    "validate_incidents": ("schema", "validate_incidents"),
    "INCIDENT_COLUMNS": ("schema", "INCIDENT_COLUMNS"), "AREA_COLUMNS": ("schema", "AREA_COLUMNS"),
    "InputError": ("errors", "InputError"), "classify": ("taxonomy", "classify"),
    "select": ("taxonomy", "select"),
    "join": ("areas", "join"), "within": ("areas", "within"), "counts": ("areas", "counts"),
    "find_area": ("areas", "find_area"), "partnership_table": ("areas", "partnership_table"),
    "area_summary": ("areas", "area_summary"), "rank_areas": ("areas", "rank_areas"),
    "year_on_year": ("areas", "year_on_year"), "build_table": ("tables", "build_table"),
    "indicators": ("tables", "indicators"), "window": ("periods", "window"),
    "comparison_window": ("periods", "comparison_window"), "Coverage": ("periods", "Coverage"),
    "dbscan": ("clusters", "dbscan"), "suggest_eps": ("clusters", "suggest_eps"),
    "hotspot_grid": ("hotspots", "hotspot_grid"), "gistar": ("hotspots", "gistar"),
    "kde": ("hotspots", "kde"), "pai": ("hotspots", "pai"), "rri": ("hotspots", "rri"),
    "forecast_accuracy": ("hotspots", "forecast_accuracy"), "emerging": ("hotspots", "emerging"),
    "evaluate": ("evaluation", "evaluate"), "evaluate_intervention": ("evaluation", "evaluate_intervention"),
    "wdq": ("evaluation", "wdq"), "wdd": ("evaluation", "wdd"), "tne": ("evaluation", "tne"),
    "rate_ratio": ("evaluation", "rate_ratio"),
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
