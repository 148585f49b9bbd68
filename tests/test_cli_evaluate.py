"""`hotspot evaluate` (design §5): exit codes, one-line errors, the exact JSON document and a
readable markdown summary; real police.uk data when ../shared/realdata is present."""

import json
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point
from typer.testing import CliRunner

from hotspot_app.core import periods, settings
from hotspot_app.cli import app

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "realdata"
runner = CliRunner()

KEYS = ["area", "categories", "after", "before", "diff", "pct_change", "baseline", "buffer",
        "control", "wdq", "effect", "warnings"]


def invoke(*args):
    return runner.invoke(app, ["evaluate", *map(str, args)])


def test_bad_arguments_exit_2_with_one_line_error(tmp_path):
    r = invoke(tmp_path / "x.csv", "--area", "Somewhere", "--after", "2023-07..2023-12")
    assert r.exit_code == 2
    assert "--areas" in r.output and "parameter 'area'" in r.output
    r = invoke(tmp_path / "x.csv", "--area", "A", "--after", "2023-7..2023-12")
    assert r.exit_code == 2 and "parameter 'after'" in r.output
    r = invoke(tmp_path / "x.csv", "--area", "A", "--after", "2023-07..2023-12", "--format", "xml")
    assert r.exit_code == 2 and "parameter 'format'" in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = invoke(tmp_path / "x.csv", "--area", tmp_path / "missing.geojson", "--after", "2023-07..2023-12")
    assert r.exit_code == 2 and "boundary file not found" in r.output and "parameter 'area'" in r.output


def test_json_on_the_demo_workspace_is_one_document_with_the_contract_keys(demo):
    ws = demo.dir / "workspace.gpkg"
    truth = demo.truth["patrol_effect"]
    r = invoke(ws, "--areas", ws, "--area", truth["area"].upper(), "--after", "2023-07..2023-12",
               "--baseline", "2021-07..2021-12", "--category", "asb", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc)[:12] == KEYS and set(doc) == set(KEYS) | {"details"}
    assert doc["area"] == truth["area"] and doc["categories"] == ["asb"]
    assert doc["after"] == {"from": "2023-07", "to": "2023-12",
                            "count": truth["observed"]["area"]["2023-07..2023-12"]}
    assert doc["before"] == {"from": "2022-07", "to": "2022-12",
                             "count": truth["observed"]["area"]["2022-07..2022-12"]}
    assert doc["baseline"]["count"] == truth["observed"]["area"]["2021-07..2021-12"]
    assert doc["buffer"] == {"before": truth["observed"]["buffer"]["2022-07..2022-12"],
                             "after": truth["observed"]["buffer"]["2023-07..2023-12"]}
    assert doc["diff"] == doc["after"]["count"] - doc["before"]["count"]
    lo, hi = doc["effect"]["ci95"]
    assert lo < 0.7 < hi
    # the other patrolled micro-hotspots are kept out of the default control
    assert "other treated areas" in doc["details"]["control_area"]


def test_markdown_with_a_named_control_area(demo):
    ws = demo.dir / "workspace.gpkg"
    truth = demo.truth["patrol_effect"]
    other = next(m for m in demo.truth["micro_hotspots"] if not m["effect"])
    r = invoke(ws, "--areas", ws, "--area", truth["area"], "--control", other["name"],
               "--after", "2023-07..2023-12", "--category", "asb")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"## {truth['area']}: intervention evaluation")
    assert "micro hotspot fell" in r.stdout and "same months of 2022" in r.stdout
    assert f"Control: {other['name']}" in r.stdout
    assert "WDD" in r.stdout and "SE" in r.stdout
    r = invoke(ws, "--areas", ws, "--area", "Nowhere Park", "--after", "2023-07..2023-12")
    assert r.exit_code == 2 and "no area named 'Nowhere Park'" in r.output


def test_real_cleveland_micro_area_from_a_boundary_file(realdata, tmp_path):
    """A 300 m circle around the busiest ASB map point in Cleveland, given as a GeoJSON file."""
    from hotspot_app.io import ingest

    police = realdata / "police_cleveland"
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    incidents = ingest.read_incidents([police]).incidents
    asb = incidents[incidents["kind"] == "asb"]
    top = asb.geometry.get_coordinates().round(0).value_counts().index[0]
    circle = Point(*top).buffer(300)
    area_file = tmp_path / "busiest_asb_300m.geojson"
    gpd.GeoDataFrame({"name": ["Busiest ASB point 300 m"]}, geometry=[circle],
                     crs=settings.CRS).to_file(area_file)
    # independent count: every ASB row intersecting the circle in July–December 2024
    after = periods.month_range("2024-07", "2024-12")
    expected = int((asb.geometry.intersects(circle) & asb["month"].isin(after)).sum())

    r = invoke(police, "--area", area_file, "--areas", wards, "--after", "2024-07..2024-12",
               "--baseline", "2023-01..2023-12", "--category", "asb", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["area"] == "Busiest ASB point 300 m"
    assert doc["after"]["count"] == expected > 0
    assert doc["before"]["from"] == "2023-07" and doc["before"]["count"] > 0
    assert doc["control"]["before"] > 1000 and doc["effect"] is not None
    # the --areas file is a ward file (questions.boundaries): the control is the rest of its wards
    assert doc["details"]["control_area"].startswith("the rest of the ward layer")

    r = invoke(police, "--area", area_file, "--areas", wards, "--after", "2024-07..2024-12",
               "--category", "asb")
    assert r.exit_code == 0, r.output
    md = r.stdout
    assert md.startswith("## Busiest ASB point 300 m: intervention evaluation")
    md = " ".join(md.split())  # the table's cells are padded
    assert "compared with the same months of 2023" in md
    assert "| Target area |" in md and "| Buffer ring (250 m) |" in md and "| Control |" in md
    assert "rate ratio" in md and "WDQ" in md
