"""Workspace store: a real GeoPackage, round trips equal, atomic writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box

from hotspot_app.core import schema, settings
from hotspot_app.io import workspace
from hotspot_app.core.errors import InputError


def _incidents() -> gpd.GeoDataFrame:
    data = pd.DataFrame({
        "incident_id": ["a1", "a2", "a3", "a4"],
        "occurred": pd.to_datetime(["2023-01-05 21:30:00", None, "2023-02-01 00:00:01", None]),
        "month": ["2023-01", "2023-01", "2023-02", "2023-03"],
        "category": ["Shoplifting", "Anti-social behaviour", "Deliberate secondary fire", "Made up"],
        "x": [450000.5, 450100.0, 450200.25, 450300.0],
        "y": [515000.0, 515050.0, 515100.75, 515150.0],
        "subcategory": [None, None, "Loose refuse", None],
        "location": ["On or near High Street", None, "Near Oak Road", "On or near X"],
        # extra input columns of several dtypes, with missing values
        "beat": ["B1", None, "B2", "B3"],
        "n_suspects": np.array([1, 0, 2, 5], dtype="int64"),
        "value_gbp": [12.5, np.nan, 0.0, 3.25],
        "repeat": [True, False, False, True],
    })
    return schema.make_incidents(data, x="x", y="y", source="generic")


def _areas(layer: str, n: int = 2, x0: float = 450000.0) -> gpd.GeoDataFrame:
    raw = gpd.GeoDataFrame(
        {"name": [f"{layer} {i}" for i in range(n)], "pop": [5000 + i for i in range(n)]},
        geometry=[box(x0 + 500 * i, 515000, x0 + 500 * i + 400, 515400) for i in range(n)],
        crs=settings.CRS)
    return schema.make_areas(raw, name="name", layer=layer, population="pop")


def test_incidents_round_trip_keeps_dtypes_nat_and_extra_columns(tmp_path):
    inc = _incidents()
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.write_incidents(inc)
    back = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg").incidents()
    assert_geodataframe_equal(back, inc)
    assert back["occurred"].isna().tolist() == [False, True, False, True]
    assert back["month"].tolist() == ["2023-01", "2023-01", "2023-02", "2023-03"]
    assert back.loc[3, "group"] == "Unknown"  # unknown categories kept


def test_empty_incidents_round_trip(tmp_path):
    empty = schema.empty_incidents()
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.write_incidents(empty)
    assert_geodataframe_equal(ws.incidents(), empty)


def test_areas_replace_by_layer_and_keep_other_layers(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.write_incidents(_incidents())
    wards, micro = _areas("ward", 3), _areas("micro_hotspot", 2, x0=460000)
    micro["patrol_start"] = pd.to_datetime(["2023-07-01", "2022-07-01"]).astype("datetime64[ns]")
    ws.write_areas(micro)
    ws.write_areas(wards)
    assert ws.area_layers() == ["ward", "micro_hotspot"]
    assert_geodataframe_equal(ws.areas("ward"), wards)
    assert_geodataframe_equal(ws.areas("micro_hotspot"), micro)
    both = ws.areas()
    assert both["layer"].tolist() == ["ward"] * 3 + ["micro_hotspot"] * 2
    assert both["patrol_start"].isna().sum() == 3

    new_wards = _areas("ward", 1)
    ws.write_areas(new_wards)
    assert_geodataframe_equal(ws.areas("ward"), new_wards)
    assert_geodataframe_equal(ws.areas("micro_hotspot"), micro)   # untouched
    assert_geodataframe_equal(ws.incidents(), _incidents())        # untouched


def test_interventions_polygon_and_point_with_radius(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    assert list(ws.interventions().columns) == schema.INTERVENTION_COLUMNS
    assert len(ws.interventions()) == 0
    first = ws.add_intervention("Patrols", "patrols", "2023-07-01", "2023-12-31",
                                area_id="micro_hotspot-1", geometry=box(0, 0, 300, 300))
    second = ws.add_intervention("CCTV column", "cctv", "2022-09-01",
                                 geometry=Point(450000, 515000), radius_m=100)
    assert (first, second) == ("int-1", "int-2")
    got = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg").interventions()
    assert got["intervention_id"].tolist() == ["int-1", "int-2"]
    assert got["type"].tolist() == ["patrols", "cctv"]
    assert got["start"].tolist() == [pd.Timestamp("2023-07-01"), pd.Timestamp("2022-09-01")]
    assert got["end"].iloc[0] == pd.Timestamp("2023-12-31") and pd.isna(got["end"].iloc[1])
    assert got["radius_m"].iloc[1] == 100.0 and np.isnan(got["radius_m"].iloc[0])
    assert got.geometry.iloc[0].equals(box(0, 0, 300, 300))
    assert got.geometry.iloc[1].equals(Point(450000, 515000))
    with pytest.raises(InputError, match="type"):
        ws.add_intervention("x", "magic", "2023-01-01", area_id="a")
    with pytest.raises(InputError, match="area_id or a geometry"):
        ws.add_intervention("x", "patrols", "2023-01-01")


def test_cluster_runs_saved_with_parameters_and_polygons(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    polys = gpd.GeoDataFrame({"cluster_id": [0, 1], "count": [40, 17]},
                             geometry=[box(0, 0, 100, 100), box(500, 500, 650, 600)],
                             crs=settings.CRS)
    params = {"eps_m": 100.0, "min_samples": 15, "category": ["asb"], "from": "2023-04"}
    assert ws.save_cluster_run(params, polys, name="ASB 2023") == 1
    assert ws.save_cluster_run({"eps_m": 50.0}, polys.iloc[:1]) == 2
    runs = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg").cluster_runs()
    assert runs["run_id"].tolist() == [1, 2]
    assert runs["name"].tolist() == ["ASB 2023", "run 2"]
    assert runs["parameters"].iloc[0] == params
    assert runs["n_polygons"].tolist() == [2, 1]
    first = ws.patrol_areas(1)
    expected = polys.copy()
    expected.insert(0, "run_id", np.int64(1))
    assert_geodataframe_equal(first, expected)
    assert len(ws.patrol_areas(2)) == 1 and len(ws.patrol_areas()) == 3
    with pytest.raises(InputError, match="no cluster run 7"):
        ws.patrol_areas(7)


def test_failing_write_leaves_old_file_intact_and_no_temp_files(tmp_path):
    path = tmp_path / "ws.gpkg"
    ws = workspace.GeopackageWorkspace(path)
    ws.write_incidents(_incidents())
    ws.write_areas(_areas("ward"))
    before = path.read_bytes()
    # The first layer of this two-layer write (cluster_runs) succeeds in the temporary copy,
    # the second (patrol_areas: a complex-number column GeoPackage cannot hold) fails.
    bad = gpd.GeoDataFrame({"c": [1 + 2j]}, geometry=[box(0, 0, 1, 1)], crs=settings.CRS)
    with pytest.raises(Exception):
        ws.save_cluster_run({"eps_m": 100}, bad)
    assert path.read_bytes() == before
    # only the workspace, its (empty) lock file and its incidents folder holding exactly the
    # files its manifest names: no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ws.gpkg.lock", "ws.gpkg", "ws.incidents"]
    manifest = ws._manifest()
    held = {p.relative_to(ws.store.root).as_posix() for p in ws.store.root.rglob("*.parquet")}
    assert held == {p.path for p in manifest.parts}
    assert [p.name for p in (ws.store.root / "_manifests").iterdir()] == [f"{manifest.id}.json"]
    assert len(ws.cluster_runs()) == 0
    assert_geodataframe_equal(ws.incidents(), _incidents())


def test_is_workspace(tmp_path):
    ws_path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(ws_path).write_incidents(_incidents())
    areas_only = tmp_path / "areas.gpkg"
    workspace.GeopackageWorkspace(areas_only).write_areas(_areas("ward"))
    text = tmp_path / "fake.gpkg"
    text.write_text("not a geopackage")
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    assert workspace.is_workspace(ws_path)
    assert not workspace.is_workspace(areas_only)
    assert not workspace.is_workspace(text)
    assert not workspace.is_workspace(csv)
    assert not workspace.is_workspace(tmp_path / "missing.gpkg")
    assert not workspace.is_workspace(tmp_path)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(InputError, match=r"\.gpkg"):
        workspace.GeopackageWorkspace(tmp_path / "ws.sqlite")
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    with pytest.raises(InputError, match="no incidents loaded yet"):
        ws.incidents()
    with pytest.raises(InputError, match="EPSG:27700"):
        ws.write_incidents(_incidents().to_crs(settings.CRS_WGS84))
    ws.write_areas(_areas("ward"))
    with pytest.raises(InputError, match="no 'patrol' areas.*ward"):
        ws.areas("patrol")


def test_write_several_layers_in_one_step(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    wards, micro = _areas("ward", 2), _areas("micro_hotspot", 1, x0=460000)
    ws.write(incidents=_incidents(), areas=[wards, micro])
    assert_geodataframe_equal(ws.incidents(), _incidents())
    assert_geodataframe_equal(ws.areas("ward"), wards)
    assert_geodataframe_equal(ws.areas("micro_hotspot"), micro)
    assert workspace.is_workspace(tmp_path / "ws.gpkg")


def test_columns_differing_only_in_case_are_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "ws.gpkg"
    ws = workspace.GeopackageWorkspace(path)
    ws.write_incidents(_incidents())
    before = path.read_bytes()
    clash = _incidents()
    clash["Month"] = "x"
    with pytest.raises(InputError, match="'month' and 'Month' differ only in case"):
        ws.write_incidents(clash)
    assert path.read_bytes() == before
