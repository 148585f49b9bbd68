"""`hotspot clusters` and `hotspot grid` (design §5): exit codes, one-line errors, the exact
JSON documents, patrol-area files read back, and real police.uk data when present."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotspot_app.core import schema
from hotspot_app.io import workspace
from hotspot_app.cli import app

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "realdata" / "police_cleveland"
runner = CliRunner()
CLUSTER_KEYS = ["cluster_id", "count", "area_m2", "density_per_km2", "first_month", "last_month",
                "top_categories", "rank", "name", "centroid"]
DOC_KEYS = ["parameters", "n_incidents", "n_noise", "clusters", "preset", "eps_m", "min_samples"]


def run(*args):
    return runner.invoke(app, [*map(str, args)])


@pytest.fixture
def oracle_ws(tmp_path):
    """Design §6 oracle points (offset into Great Britain) in a workspace GeoPackage."""
    xy = np.array([(0, 0), (1, 1), (-1, -1), (-3, -3)], float) + (450000, 430000)
    inc = schema.make_incidents(pd.DataFrame({
        "category": ["Anti-social behaviour"] * 3 + ["Shoplifting"],
        "month": ["2024-01", "2024-02", "2024-02", "2024-03"]}), x=xy[:, 0], y=xy[:, 1])
    path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(path).write_incidents(inc)
    return path


def test_clusters_json_is_exactly_the_contract(oracle_ws):
    r = run("clusters", oracle_ws, "--eps-m", 2, "--min-samples", 1, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == DOC_KEYS
    assert doc["n_incidents"] == 4 and doc["n_noise"] == 0
    assert [list(c) for c in doc["clusters"]] == [CLUSTER_KEYS, CLUSTER_KEYS]
    first, second = doc["clusters"]
    assert (first["cluster_id"], first["rank"], first["count"]) == (1, 1, 3)
    assert (second["cluster_id"], second["rank"], second["count"]) == (2, 2, 1)
    assert first["top_categories"] == {"Anti-social behaviour": 3}
    assert (first["first_month"], first["last_month"]) == ("2024-01", "2024-02")
    assert second["area_m2"] == pytest.approx(np.pi, abs=0.05)   # circle of radius eps/2 = 1 (1 dp)
    assert doc["parameters"]["eps_m"] == 2.0 and doc["parameters"]["min_samples"] == 1
    # design §5c: the parameters used, and no preset name for own settings
    assert (doc["preset"], doc["eps_m"], doc["min_samples"]) == (None, 2.0, 1)


def test_clusters_use_the_apps_default_preset_and_name_it(oracle_ws):
    """Design §5c: without --eps-m/--min-samples the street-level preset (the app's default);
    --preset picks the other one; --eps-m/--min-samples override a preset (then no name)."""
    r = run("clusters", oracle_ws, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["preset"], doc["eps_m"], doc["min_samples"]) == ("street-level", 75.0, 25)
    assert doc["parameters"]["preset"] == "street-level" and doc["clusters"] == []
    r = run("clusters", oracle_ws, "--preset", "neighbourhood", "--format", "json")
    assert (json.loads(r.stdout)["preset"], json.loads(r.stdout)["eps_m"]) == ("neighbourhood", 150.0)
    r = run("clusters", oracle_ws, "--preset", "neighbourhood", "--min-samples", 1, "--format", "json")
    doc = json.loads(r.stdout)
    assert (doc["preset"], doc["eps_m"], doc["min_samples"]) == (None, 150.0, 1)
    assert len(doc["clusters"]) == 1  # the four points within 150 m
    r = run("clusters", oracle_ws)
    assert "Patrol areas (DBSCAN, street-level preset: incidents within 75 m, at least 25 of them)" in r.stdout
    r = run("clusters", oracle_ws, "--preset", "city-wide")
    assert r.exit_code == 2 and "parameter 'preset'" in r.output and "street-level" in r.output


def test_clusters_category_and_months_filter(oracle_ws):
    r = run("clusters", oracle_ws, "--eps-m", 2, "--min-samples", 1, "--category", "asb",
            "--from", "2024-02", "--to", "2024-03", "--format", "json")
    doc = json.loads(r.stdout)
    # (1,1) and (-1,-1) are 2.83 m apart: without (0,0) (January) they are two clusters
    assert doc["n_incidents"] == 2 and [c["count"] for c in doc["clusters"]] == [1, 1]
    assert doc["parameters"]["category"] == ["asb"]
    assert (doc["parameters"]["from"], doc["parameters"]["to"]) == ("2024-02", "2024-03")


def test_clusters_text_output_and_no_cluster_hint(oracle_ws):
    r = run("clusters", oracle_ws, "--eps-m", 2, "--min-samples", 1)
    assert r.exit_code == 0 and "| 1 | 1 | Near SE 5000 3000 | 3 |" in r.stdout
    assert "2 clusters; 4 incidents selected, 0 not in any cluster." in r.stdout
    r = run("clusters", oracle_ws, "--eps-m", 2, "--min-samples", 1, "--top", 1)
    # --top shows fewer than were found: the header says both (it said "1 clusters")
    assert r.exit_code == 0 and "2 clusters, the top 1 shown; 4 incidents selected" in r.stdout
    assert "| 2 | 2 |" not in r.stdout
    r = run("clusters", oracle_ws, "--eps-m", 0.5, "--min-samples", 3)
    assert r.exit_code == 0
    assert "no clusters: try a larger eps_m (now 0.5) or a smaller min_samples (now 3)" in r.stdout


@pytest.mark.parametrize("args, parameter", [
    (["--eps-m", 0, "--min-samples", 15], "eps_m"),
    (["--eps-m", 100, "--min-samples", 0], "min_samples"),
    (["--eps-m", 100, "--min-samples", 15, "--days", -2], "days"),
    (["--eps-m", 100, "--min-samples", 15, "--from", "2024-1"], "from"),
    (["--eps-m", 100, "--min-samples", 15, "--out", "x.shp"], "out"),
    (["--eps-m", 100, "--min-samples", 15, "--format", "xml"], "format"),
    (["--eps-m", 100, "--min-samples", 15, "--category", "nonsense"], "category"),
])
def test_clusters_bad_input_is_a_one_line_error_exit_2(oracle_ws, args, parameter):
    r = run("clusters", oracle_ws, *args)
    assert r.exit_code == 2
    assert f"parameter '{parameter}'" in r.output
    assert len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".kml"])
def test_clusters_out_writes_polygons_geopandas_reads(oracle_ws, tmp_path, suffix):
    out = tmp_path / f"patrol{suffix}"
    r = run("clusters", oracle_ws, "--eps-m", 2, "--min-samples", 1, "--out", out, "--format", "json")
    assert r.exit_code == 0, r.output
    back = gpd.read_file(out)
    assert len(back) == 2
    assert back.to_crs(27700).contains(
        gpd.points_from_xy([450000], [430000], crs=27700)[0]).tolist() == [True, False]


def test_clusters_on_the_demo_workspace_find_the_planted_fire_clusters(demo):
    from sklearn.cluster import DBSCAN

    from hotspot_app.core import selection

    r = run("clusters", demo.dir / "workspace.gpkg", "--category", "deliberate-secondary-fires",
            "--eps-m", 100, "--min-samples", 15, "--areas", demo.dir / "wards.geojson",
            "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    planted = [c for c in demo.truth["clusters"] if c["group"] == "deliberate-secondary-fires"]
    # the same cluster sizes as scikit-learn's DBSCAN on the raw points
    xy = selection.coordinates(selection.select(demo.incidents, "deliberate-secondary-fires"))
    labels = DBSCAN(eps=100, min_samples=15).fit(xy).labels_
    sizes = sorted(np.bincount(labels[labels >= 0]).tolist(), reverse=True)
    assert [c["count"] for c in doc["clusters"]] == sizes
    assert len(doc["clusters"]) == len(planted)
    # each planted cluster is named with the ward it was planted in, centred within its radius
    for c in planted:
        mine = [k for k in doc["clusters"] if k["name"].endswith(f" — {c['ward']} ward")]
        assert len(mine) == 1, (c["name"], [k["name"] for k in doc["clusters"]])
        cen = mine[0]["centroid"]
        assert np.hypot(cen["easting"] - c["x"], cen["northing"] - c["y"]) <= c["radius_m"]


def test_grid_json_counts_add_up(oracle_ws):
    r = run("grid", oracle_ws, "--cell-m", 100, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == ["parameters", "n_incidents", "n_outside", "n_cells", "cells"]
    assert sum(c["count"] for c in doc["cells"]) + doc["n_outside"] == doc["n_incidents"] == 4
    assert doc["n_cells"] == len(doc["cells"])
    assert doc["parameters"] == {"cell_m": 100.0, "shape": "square", "method": "count"}


@pytest.mark.parametrize("method, keys", [
    ("kde", ["cell_id", "x", "y", "count", "density_per_km2"]),
    ("gistar", ["cell_id", "x", "y", "count", "gi_z", "gi_p", "gi_p_adj", "hotspot"]),
])
def test_grid_methods_on_the_demo(demo, tmp_path, method, keys):
    out = tmp_path / "cells.gpkg"
    r = run("grid", demo.dir / "workspace.gpkg", "--cell-m", 250, "--method", method, "--shape",
            "hex", "--category", "deliberate-secondary-fires", "--out", out, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc["cells"][0]) == keys
    assert len(gpd.read_file(out)) == doc["n_cells"]
    if method == "gistar":
        assert doc["parameters"]["correction"] == "fdr_bh"
        assert any(c["hotspot"] == "hot" for c in doc["cells"])


def test_grid_bad_input_exit_2(oracle_ws):
    for args, p in ((["--cell-m", 0], "cell_m"), (["--cell-m", 100, "--method", "lisa"], "method"),
                    (["--cell-m", 100, "--shape", "tri"], "shape")):
        r = run("grid", oracle_ws, *args)
        assert r.exit_code == 2 and f"parameter '{p}'" in r.output, r.output


def test_real_cleveland_asb_2024_patrol_areas_and_geopackage(tmp_path):
    if not REAL.is_dir():
        pytest.skip("../shared/realdata is not available")
    files = sorted(REAL.glob("2024-*.csv"))
    out = tmp_path / "x.gpkg"
    r = run("clusters", *files, "--category", "asb", "--eps-m", 100, "--min-samples", 15,
            "--out", out, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n_incidents"] > 10_000 and len(doc["clusters"]) > 20
    assert [c["rank"] for c in doc["clusters"]] == list(range(1, len(doc["clusters"]) + 1))
    counts = [c["count"] for c in doc["clusters"]]
    # ranked by count; (a cluster can hold fewer than min_samples incidents when some of its
    # core incidents' neighbours are nearer another cluster's core - a DBSCAN property)
    assert counts == sorted(counts, reverse=True) and counts[0] >= 100
    assert sum(counts) + doc["n_noise"] == doc["n_incidents"]
    assert all(c["first_month"] >= "2024-01" and c["last_month"] <= "2024-12" for c in doc["clusters"])
    back = gpd.read_file(out, layer="patrol_areas")
    assert len(back) == len(doc["clusters"]) and back.crs.equals("EPSG:27700")
    assert back["count"].tolist() == counts


# --------------------------------------------------------------------------- issue 11: names, top, harm
@pytest.fixture
def named_ws(tmp_path):
    """A: 40 shoplifting incidents on Market Street; B: 15 violence 1 km east, in a Central and
    an East ward (workspace areas)."""
    from shapely.geometry import box

    xy = np.array([(i % 4 * 10.0, 0.0) for i in range(40)] + [(1000.0 + i % 3 * 10, 0.0)
                                                                for i in range(15)]) + (450000, 430000)
    inc = schema.make_incidents(pd.DataFrame({
        "category": ["Shoplifting"] * 40 + ["Violence and sexual offences"] * 15,
        "month": ["2024-01"] * 55,
        "location": ["On or near Market Street"] * 40 + ["On or near Bus Station"] * 15}),
        x=xy[:, 0], y=xy[:, 1])
    wards = gpd.GeoDataFrame({"name": ["Central", "East"]}, geometry=[
        box(449500, 429500, 450500, 430500), box(450500, 429500, 451500, 430500)], crs=27700)
    path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(path).write_incidents(inc)
    wards_path = tmp_path / "wards.geojson"
    wards.to_file(wards_path)
    return path, wards_path


def test_clusters_areas_top_and_harm_weight(named_ws):
    ws, wards = named_ws
    r = run("clusters", ws, "--eps-m", 50, "--min-samples", 15, "--areas", wards, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == DOC_KEYS
    # wards.geojson reads as wards (questions.boundaries), as in the app: "... — Central ward"
    assert [c["name"] for c in doc["clusters"]] == ["On or near Market Street — Central ward",
                                                    "On or near Bus Station — East ward"]
    assert [list(c) for c in doc["clusters"]] == [CLUSTER_KEYS, CLUSTER_KEYS]
    assert doc["clusters"][0]["centroid"]["easting"] == 450015.0
    r = run("clusters", ws, "--eps-m", 50, "--min-samples", 15, "--weight", "harm", "--top", 1,
            "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [(c["name"], c["count"], c["weight"]) for c in doc["clusters"]] == [
        ("On or near Bus Station", 15, 900.0)]
    assert list(doc["clusters"][0]) == CLUSTER_KEYS + ["weight"]
    assert doc["parameters"]["weight"] == "harm"
    # the low/high check reaches the user (stderr), the areas named as the app names them
    assert ("note: The top 1 by harm changes between the low and high weights: #1 On or near Bus "
            "Station is in it only with the high weights, #2 only with the low.") in r.stderr


@pytest.mark.parametrize("args, parameter", [
    (["--top", 0], "top"), (["--weight", "no_such_column"], "rank_by"),
    (["--rank-by", "no_such_column"], "rank_by"),
])
def test_clusters_bad_top_or_weight_exit_2(named_ws, args, parameter):
    r = run("clusters", named_ws[0], "--eps-m", 50, "--min-samples", 15, *args)
    assert r.exit_code == 2 and f"parameter '{parameter}'" in r.output, r.output


def test_clusters_out_carries_names_and_whole_square_metres(named_ws, tmp_path):
    ws, wards = named_ws
    for suffix in (".geojson", ".kml"):
        out = tmp_path / f"areas{suffix}"
        r = run("clusters", ws, "--eps-m", 50, "--min-samples", 15, "--areas", wards, "--out", out)
        assert r.exit_code == 0, r.output
        back = gpd.read_file(out)
        if suffix == ".kml":
            assert back["Name"].tolist() == ["#1 On or near Market Street — Central ward",
                                             "#2 On or near Bus Station — East ward"]
            assert back["description"].iloc[0].startswith("#1 On or near Market Street — Central ward: "
                                                          "40 incidents, 2024-01 to 2024-01;")
        else:
            assert back["name"].tolist() == ["On or near Market Street — Central ward",
                                             "On or near Bus Station — East ward"]
            assert (back["area_m2"] == back["area_m2"].round(0)).all()
            assert back["grid_ref"].tolist() == ["SE 5001 3000", "SE 5101 3000"]


def test_clusters_refuses_to_overwrite_its_input(named_ws):
    ws, wards = named_ws
    before = wards.read_bytes()
    r = run("clusters", ws, "--eps-m", 50, "--min-samples", 15, "--areas", wards, "--out", wards)
    assert r.exit_code == 2 and "parameter 'out'" in r.output, r.output
    assert wards.read_bytes() == before


def test_grid_warnings_reach_stderr(oracle_ws):
    r = run("grid", oracle_ws, "--cell-m", 0.5, "--format", "json")
    assert r.exit_code == 0, r.output
    assert "warning: grid cells of 0.5 m are finer than the spacing of the incident locations" in r.stderr
    json.loads(r.stdout)


def test_real_fire_extract_masked_to_1_km_says_eps_cannot_find_clusters(realdata):
    r = run("clusters", realdata / "fire" / "afrs_attended_incidents_july_2014.csv", "--category",
            "deliberate-secondary-fires", "--eps-m", 150, "--min-samples", 15, "--format", "json")
    assert r.exit_code == 0, r.output
    assert ("warning: locations are only precise to 1 km; eps 150 m cannot find clusters — use "
            ">= 1,000 m or count by ward") in r.stderr
    assert json.loads(r.stdout)["clusters"] == []


def test_real_cleveland_asb_patrol_areas_are_named_with_their_2024_ward(realdata):
    files = sorted((realdata / "police_cleveland").glob("2024-*.csv"))
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    r = run("clusters", *files, "--category", "asb", "--eps-m", 100, "--min-samples", 15,
            "--areas", wards, "--top", 5, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [c["rank"] for c in doc["clusters"]] == [1, 2, 3, 4, 5]
    ward_names = set(gpd.read_file(wards).iloc[:, :5].select_dtypes(["object", "str"]).stack())
    for c in doc["clusters"]:
        street, place = c["name"].split(" — ")
        ward, authority = place.split(" (")[0].split(", ")  # the wards span four authorities
        assert street.startswith("On or near ") and ward.endswith(" ward") and ward[:-5] in ward_names
        assert authority in ward_names
        assert 54.4 < c["centroid"]["latitude"] < 54.8 and -1.5 < c["centroid"]["longitude"] < -0.7
