"""The workspace interface on both backends (GeoPackage and PostGIS): monthly loads accumulate by
(source, provider, month), the history, coverage and audit say what happened, areas,
interventions and saved runs survive loads, a stale writer gets ConflictError; and PostGIS-only
facts (schema versioning, spatial indexes, two processes loading at once, the CLI on a
postgresql:// URL). The PostGIS cluster is real (tests/pg.py); it skips only outside CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box
from typer.testing import CliRunner

from hotspot_app.core import schema, settings
from hotspot_app.io import workspace
from hotspot_app.cli import app
from hotspot_app.core.errors import ConflictError, InputError

pytest_plugins = ["pg"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["gpkg", "postgis"])
def ws(request, tmp_path):
    """An empty workspace on each backend, opened through `workspace.open_workspace`."""
    if request.param == "gpkg":
        return workspace.open_workspace(tmp_path / "ws.gpkg")
    return workspace.open_workspace(request.getfixturevalue("pg_url"))


def incidents(month: str, n: int, provider: str = "Cleveland Police", source: str = "police-uk",
              start: int = 0, category: str = "Burglary") -> gpd.GeoDataFrame:
    data = pd.DataFrame({
        "incident_id": [f"{provider[:3]}-{month}-{start + i}" for i in range(n)],
        "month": [month] * n,
        "category": [category] * n,
        "x": [450000.0 + 10 * (start + i) for i in range(n)],
        "y": [515000.0 + 5 * i for i in range(n)],
    })
    inc = schema.make_incidents(data, x="x", y="y", source=source)
    inc["provider"] = provider
    return inc


def rich_incidents() -> gpd.GeoDataFrame:
    """test_store's incidents (extra columns of several dtypes, NaT, None) with a provider."""
    from test_store import _incidents

    return _incidents().assign(provider="generic")


def wards(n: int = 2, layer: str = "ward") -> gpd.GeoDataFrame:
    raw = gpd.GeoDataFrame(
        {"name": [f"{layer} {i}" for i in range(n)], "pop": [5000 + i for i in range(n)]},
        geometry=[box(450000 + 500 * i, 515000, 450400 + 500 * i, 515400) for i in range(n)],
        crs=settings.CRS)
    return schema.make_areas(raw, name="name", layer=layer, population="pop")


def rows_by_month(ws) -> dict:
    cov = ws.coverage()
    return {(r.source, r.provider, r.month): int(r.rows) for r in cov.itertuples(index=False)}


# --------------------------------------------------------------------------- contract tests
def test_round_trip_of_a_load_keeps_dtypes_nat_none_and_extra_columns(ws):
    inc = rich_incidents()
    ws.load_incidents(inc, files=["x.csv"], read=4, rejected=0, user="ann")
    back = workspace.open_workspace(ws.url if hasattr(ws, "url") else ws.path).incidents()
    assert_geodataframe_equal(back, inc)
    assert back["occurred"].isna().tolist() == [False, True, False, True]
    assert back["subcategory"].isna().tolist() == [True, True, False, True]


def test_monthly_loads_accumulate_and_a_republished_month_replaces_only_itself(ws):
    jan = incidents("2024-01", 3)
    feb = incidents("2024-02", 2, start=10)
    r1 = ws.load_incidents(jan, files=["2024-01-cleveland-street.csv"], read=4, rejected=1, user="ann")
    assert r1.to_dict() == {"before": 0, "after": 3, "added": 3, "replaced": 0, "months_replaced": []}
    r2 = ws.load_incidents(feb, files=[Path("/uploads/a1b2/2024-02-cleveland-street.csv")], read=2,
                           rejected=0, user="ann")
    assert r2.to_dict() == {"before": 3, "after": 5, "added": 2, "replaced": 0, "months_replaced": []}
    # police.uk republishes January with one more crime: January's 3 rows become 4, February kept.
    jan2 = incidents("2024-01", 4, start=100)
    r3 = ws.load_incidents(jan2, files=["2024-01-cleveland-street.csv"], read=4, rejected=0, user="bob")
    assert r3.to_dict() == {"before": 5, "after": 6, "added": 4, "replaced": 3, "months_replaced": ["2024-01"]}
    assert r3.removed == {("police-uk", "Cleveland Police", "2024-01"): 3}
    assert rows_by_month(ws) == {("police-uk", "Cleveland Police", "2024-01"): 4,
                                 ("police-uk", "Cleveland Police", "2024-02"): 2}
    got = ws.incidents()
    assert sorted(got["incident_id"]) == sorted(list(jan2["incident_id"]) + list(feb["incident_id"]))
    # The same file twice changes nothing.
    r4 = ws.load_incidents(jan2, files=["2024-01-cleveland-street.csv"], read=4, rejected=0, user="bob")
    assert r4.to_dict() == {"before": 6, "after": 6, "added": 4, "replaced": 4, "months_replaced": ["2024-01"]}
    assert sorted(ws.incidents()["incident_id"]) == sorted(got["incident_id"])
    loads = ws.loads()
    assert loads["load_id"].tolist() == [r1.load_id, r2.load_id, r3.load_id, r4.load_id]
    assert loads["user"].tolist() == ["ann", "ann", "bob", "bob"]
    assert loads[["read", "loaded", "rejected", "added", "replaced"]].astype(int).values.tolist() == [
        [4, 3, 1, 3, 0], [2, 2, 0, 2, 0], [4, 4, 0, 4, 3], [4, 4, 0, 4, 4]]
    assert all(t.endswith("Z") for t in loads["loaded_at"])
    assert loads["files"].tolist()[:2] == [["2024-01-cleveland-street.csv"], ["2024-02-cleveland-street.csv"]]
    assert loads["months"].tolist()[2] == ["2024-01"] and loads["providers"].tolist()[0] == ["Cleveland Police"]
    assert loads["replace_all"].tolist() == [False] * 4


def test_a_load_can_bring_its_areas_in_the_same_step(ws):
    w = wards(2)
    r = ws.load_incidents(incidents("2024-01", 3), files=["jan.csv"], rejected=2, areas=w, user="ann")
    assert r.to_dict() == {"before": 0, "after": 3, "added": 3, "replaced": 0, "months_replaced": []}
    assert_geodataframe_equal(ws.areas("ward"), w)
    assert ws.loads()[["read", "loaded", "rejected"]].values.tolist() == [[5, 3, 2]]
    assert ws.audit()["action"].tolist() == ["load", "area_added"]


def test_another_provider_or_source_in_the_same_month_is_kept(ws):
    ws.load_incidents(incidents("2024-01", 3), user="ann")
    ws.load_incidents(incidents("2024-01", 2, provider="Durham Constabulary"), user="ann")
    ws.load_incidents(incidents("2024-01", 5, provider="Cleveland Fire Brigade", source="fire",
                                category="Deliberate secondary fire"), user="ann")
    r = ws.load_incidents(incidents("2024-01", 1), user="ann")
    assert r.to_dict() == {"before": 10, "after": 8, "added": 1, "replaced": 3, "months_replaced": ["2024-01"]}
    assert rows_by_month(ws) == {("fire", "Cleveland Fire Brigade", "2024-01"): 5,
                                 ("police-uk", "Cleveland Police", "2024-01"): 1,
                                 ("police-uk", "Durham Constabulary", "2024-01"): 2}


def test_loads_never_touch_areas_interventions_or_runs_and_replace_all_says_what_it_removed(ws):
    ws.load_incidents(incidents("2024-01", 3), user="ann")
    ws.load_incidents(incidents("2024-02", 2), user="ann")
    w = wards(2)
    ws.write_areas(w, user="ann")
    iid = ws.add_intervention("Town centre patrols", "patrols", "2024-01-15", "2024-03-31",
                              area_id="ward-1", user="ann")
    polys = gpd.GeoDataFrame({"cluster_id": [1]}, geometry=[box(450000, 515000, 450100, 515100)],
                             crs=settings.CRS)
    run_id = ws.save_cluster_run({"eps_m": 100, "min_samples": 5}, polys, name="Jan", user="ann")
    r = ws.load_incidents(incidents("2024-03", 4), replace_all=True, user="cat")
    assert r.to_dict() == {"before": 5, "after": 4, "added": 4, "replaced": 5,
                           "months_replaced": ["2024-01", "2024-02"]}
    assert rows_by_month(ws) == {("police-uk", "Cleveland Police", "2024-03"): 4}
    assert_geodataframe_equal(ws.areas("ward"), w)
    assert ws.interventions()["intervention_id"].tolist() == [iid]
    assert ws.cluster_runs()["run_id"].tolist() == [run_id]
    last = ws.audit().iloc[-1]
    assert (last["user"], last["action"]) == ("cat", "replace_all")
    assert "police-uk Cleveland Police 2024-01: 3" in last["detail"]
    assert "police-uk Cleveland Police 2024-02: 2" in last["detail"]


def test_every_write_is_audited_with_who_and_what(ws):
    ws.load_incidents(incidents("2024-01", 3), files=["2024-01-cleveland-street.csv"], read=3,
                      rejected=0, user="ann")
    ws.write_areas(wards(2), user="ann")
    iid = ws.add_intervention("Lighting on Oak Road", "lighting", "2024-02-01", area_id="ward-1", user="bob")
    ws.update_intervention(iid, end="2024-05-31", user="bob")
    ws.delete_area("ward-2", user="ann")
    ws.delete_intervention(iid, user="cat")
    ws.save_cluster_run({"eps_m": 100}, gpd.GeoDataFrame(
        {"cluster_id": [1]}, geometry=[box(0, 0, 1, 1)], crs=settings.CRS), name="Feb run", user="cat")
    log = ws.audit()
    assert list(log.columns) == ["at", "user", "action", "detail"]
    assert log[["user", "action"]].values.tolist() == [
        ["ann", "load"], ["ann", "area_added"], ["bob", "intervention_added"],
        ["bob", "intervention_edited"], ["ann", "area_deleted"], ["cat", "intervention_deleted"],
        ["cat", "cluster_run_saved"]]
    assert log["detail"][0].startswith("load 1: 2024-01-cleveland-street.csv; 3 rows added")
    assert "Lighting on Oak Road (lighting, int-1, from 2024-02-01" in log["detail"][2]
    assert log["detail"][3].startswith("Lighting on Oak Road (int-1): ") and "end" in log["detail"][3]
    assert log["detail"][4] == "ward 1 (ward, ward-2)"
    assert "Feb run" in log["detail"][6]
    assert ws.areas("ward")["area_id"].tolist() == ["ward-1"]
    assert len(ws.interventions()) == 0


def test_user_defaults_to_the_os_user(ws):
    import getpass

    ws.load_incidents(incidents("2024-01", 1))
    assert ws.audit()["user"].tolist() == [getpass.getuser()]


def test_a_stale_writer_gets_conflict_error_and_changes_nothing(ws):
    ws.load_incidents(incidents("2024-01", 3), user="ann")
    seen = ws.version()
    ws.load_incidents(incidents("2024-02", 2), user="bob")
    assert ws.version() != seen
    with pytest.raises(ConflictError) as err:
        ws.load_incidents(incidents("2024-01", 9), user="ann", expected_version=seen)
    message = str(err.value)
    assert "changed since you opened it (by bob); reload and try again" in message
    assert "\n" not in message
    assert rows_by_month(ws) == {("police-uk", "Cleveland Police", "2024-01"): 3,
                                 ("police-uk", "Cleveland Police", "2024-02"): 2}
    r = ws.load_incidents(incidents("2024-01", 9), user="ann", expected_version=ws.version())
    assert r.after == 11


def test_areas_replace_by_layer(ws):
    micro = wards(2, "micro_hotspot")
    micro["patrol_start"] = pd.to_datetime(["2023-07-01", "2022-07-01"]).astype("datetime64[ns]")
    ws.write_areas(micro, user="ann")
    ws.write_areas(wards(3), user="ann")
    assert ws.area_layers() == ["ward", "micro_hotspot"]
    assert_geodataframe_equal(ws.areas("micro_hotspot"), micro)
    new = wards(1)
    ws.write_areas(new, user="ann")
    assert_geodataframe_equal(ws.areas("ward"), new)
    assert_geodataframe_equal(ws.areas("micro_hotspot"), micro)
    assert ws.areas()["layer"].tolist() == ["ward", "micro_hotspot", "micro_hotspot"]
    with pytest.raises(InputError, match="no 'patrol' areas"):
        ws.areas("patrol")


def test_interventions_point_with_radius_and_edits(ws):
    a = ws.add_intervention("CCTV column 4", "cctv", "2024-03-01", geometry=Point(450100, 515100),
                            radius_m=75, notes="=HYPERLINK(x)", user="ann")
    b = ws.add_intervention("Patrols", "patrols", "2024-01-01", "2024-02-29", area_id="ward-0", user="ann")
    assert (a, b) == ("int-1", "int-2")
    ws.update_intervention(a, name="CCTV column 4 (moved)", geometry=Point(450200, 515200), user="bob")
    got = ws.interventions()
    assert got["name"].tolist() == ["CCTV column 4 (moved)", "Patrols"]
    assert got.geometry.iloc[0].equals(Point(450200, 515200))
    assert got["radius_m"].iloc[0] == 75.0 and np.isnan(got["radius_m"].iloc[1])
    assert pd.isna(got["end"].iloc[0]) and got["end"].iloc[1] == pd.Timestamp("2024-02-29")
    assert got["notes"].iloc[0] == "=HYPERLINK(x)"
    with pytest.raises(InputError, match="intervention type must be one of"):
        ws.add_intervention("X", "magic", "2024-01-01", area_id="ward-0", user="ann")
    with pytest.raises(InputError, match="no intervention 'int-9'"):
        ws.update_intervention("int-9", name="y", user="ann")


def test_cluster_runs_round_trip(ws):
    polys = gpd.GeoDataFrame({"cluster_id": [1, 2], "count": [20, 15]},
                             geometry=[box(0, 0, 10, 10), box(20, 20, 30, 30)], crs=settings.CRS)
    r1 = ws.save_cluster_run({"eps_m": 100, "min_samples": 15}, polys, name="Night-time economy")
    r2 = ws.save_cluster_run({"eps_m": 50, "min_samples": 5}, polys.iloc[:1])
    runs = ws.cluster_runs()
    assert runs["run_id"].tolist() == [r1, r2] == [1, 2]
    assert runs["name"].tolist() == ["Night-time economy", "run 2"]
    assert runs["parameters"].tolist() == [{"eps_m": 100, "min_samples": 15}, {"eps_m": 50, "min_samples": 5}]
    assert runs["n_polygons"].tolist() == [2, 1]
    assert ws.patrol_areas(1)["count"].tolist() == [20, 15]
    assert len(ws.patrol_areas()) == 3
    with pytest.raises(InputError, match="no cluster run 7"):
        ws.patrol_areas(7)


def test_both_backends_offer_the_same_methods_with_the_same_signatures():
    import inspect

    from hotspot_app.io import workspace

    # Both implement the declared interface (no abstract method left) ...
    assert not getattr(workspace.GeopackageWorkspace, "__abstractmethods__", None)
    assert not getattr(workspace.PostgisWorkspace, "__abstractmethods__", None)
    assert issubclass(workspace.GeopackageWorkspace, workspace.Workspace)
    assert issubclass(workspace.PostgisWorkspace, workspace.Workspace)
    # ... and every public method either offers, with the same signature.
    # the GeoPackage file's own: locks, backup files, its incidents folder and private copies
    file_only = {"layers", "lock_path", "backups", "backups_of", "store", "copy_to"}
    for name in sorted(n for n in dir(workspace.GeopackageWorkspace) if not n.startswith("_") and n not in file_only):
        gpkg, pg = getattr(workspace.GeopackageWorkspace, name), getattr(workspace.PostgisWorkspace, name, None)
        assert pg is not None, f"PostgisWorkspace has no {name}"
        if isinstance(inspect.getattr_static(workspace.GeopackageWorkspace, name), property):
            continue
        assert inspect.signature(pg) == inspect.signature(gpkg), name


def test_write_replaces_several_tables_in_one_step_and_refuses_a_stale_writer(ws):
    ws.load_incidents(incidents("2024-01", 3), user="ann")
    seen = ws.version()
    fresh = incidents("2023-12", 2, start=50)
    iv = gpd.GeoDataFrame({"intervention_id": ["int-7"], "name": ["Alley gates"], "type": ["closure"],
                           "area_id": ["ward-1"], "start": [pd.Timestamp("2024-02-01")], "end": [pd.NaT],
                           "radius_m": [np.nan], "notes": [None]},
                          geometry=gpd.GeoSeries([None], crs=settings.CRS), crs=settings.CRS)
    ws.write(incidents=fresh, areas=[wards(2), wards(1, "micro_hotspot")], interventions=iv, user="bob",
             expected_version=seen)
    assert rows_by_month(ws) == {("police-uk", "Cleveland Police", "2023-12"): 2}
    assert ws.area_layers() == ["ward", "micro_hotspot"]
    assert ws.interventions()["intervention_id"].tolist() == ["int-7"]
    assert ws.audit()[["user", "action"]].values.tolist() == [
        ["ann", "load"], ["bob", "replace_all"], ["bob", "area_added"], ["bob", "area_added"],
        ["bob", "intervention_added"]]
    # The next intervention gets an id above every id the workspace has held (never reused).
    assert ws.add_intervention("Patrols", "patrols", "2024-03-01", area_id="ward-0", user="bob") == "int-8"
    with pytest.raises(ConflictError, match=r"changed since you opened it \(by bob\)"):
        ws.write(incidents=incidents("2024-05", 9), user="ann", expected_version=seen)
    with pytest.raises(ConflictError):
        ws.delete_area("ward-1", user="ann", expected_version=seen)
    assert rows_by_month(ws) == {("police-uk", "Cleveland Police", "2023-12"): 2}
    assert ws.areas("ward")["area_id"].tolist() == ["ward-1", "ward-2"]
    ws.delete_area("ward-1", user="ann", expected_version=ws.version())
    assert ws.areas("ward")["area_id"].tolist() == ["ward-2"]


def test_an_intervention_ending_before_it_starts_is_refused_on_add_and_edit(ws):
    with pytest.raises(InputError, match="the end date 2024-01-31 is before the start date 2024-02-01"):
        ws.add_intervention("Patrols", "patrols", "2024-02-01", "2024-01-31", area_id="ward-0", user="ann")
    iid = ws.add_intervention("Patrols", "patrols", "2024-02-01", area_id="ward-0", user="ann")
    with pytest.raises(InputError, match="is before the start date"):
        ws.update_intervention(iid, end="2024-01-01", user="ann")
    with pytest.raises(InputError, match="unknown intervention field"):
        ws.update_intervention(iid, colour="red", user="ann")
    assert pd.isna(ws.interventions()["end"].iloc[0])
    assert ws.audit()["action"].tolist() == ["intervention_added"]


def test_coverage_grid_contents_summary_and_imported_micro_hotspots_on_either_backend(ws):
    jan_rejects = pd.DataFrame({"file": ["2024-01-cleveland-street.csv"] * 2, "row": [5, 6],
                                "column": ["Longitude"] * 2, "reason": ["no location"] * 2, "value": ["", ""]})
    ws.load_incidents(incidents("2024-01", 8), files=["2024-01-cleveland-street.csv"], rejected=jan_rejects,
                      user="ann")
    ws.load_incidents(incidents("2024-03", 5), files=["2024-03-cleveland-street.csv"], rejected=0, user="ann")
    assert ws.loads()["no_location"].tolist() == [{"2024-01": 2}, {}]
    grid = workspace.coverage_grid(ws.coverage(), ws.loads())
    assert grid.columns.tolist() == ["source", "provider", "2024-01", "2024-02", "2024-03"]
    assert grid.iloc[0, 2:].tolist() == [8, pd.NA, 5]  # February: not loaded, never a zero
    assert grid.attrs["gaps"] == ["police-uk Cleveland Police: no rows in 2024-02"]
    assert grid.attrs["flags"] == ["police.uk 2024-01: 2 of 10 rows (20.0%) had no location and are not mapped"]
    summary = workspace.contents_summary(ws.coverage())
    assert summary.values.tolist() == [["police-uk", "Cleveland Police", "2024-01", "2024-03", 2, 13]]
    micro = wards(2, "micro_hotspot").assign(start=["2024-01-01", "2024-02-15"], end=["2024-03-31", ""])
    ws.write_areas(micro.drop(columns=["start", "end"]), user="ann")
    for r in workspace.interventions_from_areas(micro).itertuples(index=False):
        ws.add_intervention(r.name, r.type, r.start, None if pd.isna(r.end) else r.end, area_id=r.area_id,
                            geometry=r.geometry, user="ann")
    got = ws.interventions()
    assert got[["intervention_id", "name", "area_id"]].values.tolist() == [
        ["int-1", "micro_hotspot 0", "micro_hotspot-1"], ["int-2", "micro_hotspot 1", "micro_hotspot-2"]]
    assert got["end"].iloc[0] == pd.Timestamp("2024-03-31") and pd.isna(got["end"].iloc[1])


# --------------------------------------------------------------------------- PostGIS only
@pytest.fixture
def pgws(pg_url):
    return workspace.open_workspace(pg_url)


def _sql(url: str, statement: str):
    import psycopg

    with psycopg.connect(url) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else None


def test_postgres_url_selects_postgis_and_schema_is_versioned(pg_url):
    from hotspot_app.io.workspace.postgis import SCHEMA_VERSION, PostgisWorkspace

    assert workspace.is_workspace(pg_url)
    assert workspace.is_workspace(Path(pg_url))  # typer hands URLs over as Paths ("postgresql:/...")
    ws = workspace.open_workspace(Path(pg_url))
    assert isinstance(ws, PostgisWorkspace) and ws.url == pg_url
    assert _sql(pg_url, "SELECT version FROM hotspot_schema") == [(SCHEMA_VERSION,)]
    workspace.open_workspace(pg_url)  # re-opening does not migrate again
    assert _sql(pg_url, "SELECT version FROM hotspot_schema") == [(SCHEMA_VERSION,)]
    _sql(pg_url, "UPDATE hotspot_schema SET version = 99")
    with pytest.raises(InputError, match="version 99, newer than this tool understands"):
        PostgisWorkspace(pg_url)


def test_spatial_and_key_indexes_exist(pgws):
    pgws.load_incidents(incidents("2024-01", 2), user="ann")
    pgws.write_areas(wards(2), user="ann")
    idx = {r[0]: r[1] for r in _sql(pgws.url, "SELECT indexname, indexdef FROM pg_indexes "
                                              "WHERE schemaname = 'public'")}
    gist = sorted(name for name, d in idx.items() if "USING gist" in d)
    assert any("incidents" in n for n in gist) and any("areas__ward" in n for n in gist)
    assert "(source, provider, month)" in idx["incidents_load_key"]


def test_replaced_rows_are_kept_for_the_last_five_replacing_loads(pgws):
    pgws.load_incidents(incidents("2024-01", 3), user="ann")
    ids = []
    for k in range(6):
        ids.append(pgws.load_incidents(incidents("2024-01", 2 + k % 2, start=10 * k), user="ann").load_id)
    kept = _sql(pgws.url, "SELECT load_id, count(*) FROM incidents_removed GROUP BY load_id ORDER BY load_id")
    # removals: 3, 2, 3, 2, 3, 2 rows; the first replacing load's backup is dropped.
    assert kept == [(ids[1], 2), (ids[2], 3), (ids[3], 2), (ids[4], 3), (ids[5], 2)]
    row = _sql(pgws.url, "SELECT row FROM incidents_removed ORDER BY load_id, row->>'incident_id' LIMIT 1")[0][0]
    assert row["month"] == "2024-01" and row["geometry"].startswith("POINT")


def test_a_failed_load_leaves_the_workspace_as_it_was(pgws):
    pgws.load_incidents(incidents("2024-01", 3), user="ann")
    before = pgws.version()
    bad = incidents("2024-01", 2)
    bad.loc[1, "month"] = None
    with pytest.raises(InputError, match="row 2, column 'month'"):
        pgws.load_incidents(bad, user="ann")
    clash = incidents("2024-01", 2)
    clash["_rowid"] = ["not", "a number"]  # collides with the table's own column type
    with pytest.raises(Exception):
        pgws.load_incidents(clash, user="ann")
    assert pgws.version() == before
    assert rows_by_month(pgws) == {("police-uk", "Cleveland Police", "2024-01"): 3}
    assert len(pgws.loads()) == 1 and len(pgws.audit()) == 1


LOADER = """
import sys, time
sys.path.insert(0, {tests!r})
from test_store_pg import incidents
from hotspot_app.io import workspace
ws = workspace.open_workspace({url!r})
month, n = sys.argv[1], int(sys.argv[2])
inc = incidents(month, n)
while time.time() < {start}:  # start both writers together
    time.sleep(0.005)
r = ws.load_incidents(inc, files=[month + ".csv"], user="proc-" + month)
print(r.load_id)
"""


def test_two_processes_loading_different_months_at_once_both_land(pgws):
    import time

    pgws.load_incidents(incidents("2023-12", 1), user="ann")
    script = LOADER.format(tests=str(ROOT / "tests"), url=pgws.url, start=time.time() + 3)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [subprocess.Popen([sys.executable, "-c", script, month, str(n)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for month, n in (("2024-01", 40), ("2024-02", 30))]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert rows_by_month(pgws) == {("police-uk", "Cleveland Police", "2023-12"): 1,
                                   ("police-uk", "Cleveland Police", "2024-01"): 40,
                                   ("police-uk", "Cleveland Police", "2024-02"): 30}
    loads = pgws.loads()
    assert sorted(loads["user"].tolist()) == ["ann", "proc-2024-01", "proc-2024-02"]
    assert sorted(loads["added"].tolist()) == [1, 30, 40]
    assert len(pgws.incidents()) == 71


HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")


def test_cli_ingest_into_postgis_then_table_reads_it(pg_url, tmp_path):
    runner = CliRunner()
    lines = [HEADER]
    for month, rows in (("2024-01", [("Burglary", 3), ("Anti-social behaviour", 2)]),
                        ("2023-01", [("Burglary", 1)])):
        for category, n in rows:
            lines += [f"{month}-{category[:3]}-{i},{month},Cleveland Police,Cleveland Police,-1.2300,54.5700,"
                      f"On or near High Street,E01,Middlesbrough 001A,{category},,"
                      for i in range(n)]
    f = tmp_path / "2024-01-cleveland-street.csv"
    f.write_text("\n".join(lines) + "\n")
    areas = gpd.GeoDataFrame({"name": ["Centre"]}, geometry=[box(-1.25, 54.55, -1.2, 54.6)], crs="EPSG:4326")
    areas_path = tmp_path / "areas.geojson"
    areas.to_file(areas_path)
    r = runner.invoke(app, ["ingest", str(f), "--into", pg_url, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["workspace"] == {"before": 0, "after": 6, "added": 6, "replaced": 0,
                                                 "months_replaced": []}
    # the load is recorded as police.uk's file names its force
    assert workspace.open_workspace(pg_url).loads()[["files", "providers", "read", "loaded"]].values.tolist() == [
        [["2024-01-cleveland-street.csv"], ["Cleveland Police"], 6, 6]]
    r = runner.invoke(app, ["table", pg_url, "--areas", str(areas_path), "--area", "Centre",
                            "--month", "2024-01", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    total = next(row for row in doc["rows"] if row["category"] == "Total")
    assert total["selected_month"]["current"] == 3 and total["selected_month"]["previous"] == 1
    assert total["selected_month"]["diff"] == 2 and total["selected_month"]["pct_diff"] == 200.0


def test_unreachable_database_is_a_one_line_error(pg_server):
    r = CliRunner().invoke(app, ["clusters", pg_server.url("no_such_db"), "--eps-m", "100",
                                 "--min-samples", "5"])
    assert r.exit_code == 2
    err = r.stderr.strip()
    assert err.startswith("error: postgresql://postgres@127.0.0.1") and "no_such_db" in err
    assert "\n" not in err


# --------------------------------------------------------------------------- reading less (issue 24)
def _mixed_loads(ws) -> None:
    ws.load_incidents(incidents("2024-01", 6, category="Burglary"), user="ann")
    ws.load_incidents(incidents("2024-02", 5, category="Anti-social behaviour"), user="ann")
    ws.load_incidents(incidents("2024-02", 4, provider="Durham Constabulary", category="Shoplifting"), user="ann")
    ws.load_incidents(incidents("2024-03", 3, source="fire", provider="Fire Service",
                                category="Deliberate secondary fire"), user="ann")


@pytest.mark.parametrize("sel", [
    dict(category="asb"), dict(category="crime", period=("2024-02", "2024-03")), dict(period=(None, "2024-01")),
    dict(bbox=(450_020, 515_000, 450_040, 515_030)), dict(category="crime", columns=["month", "category"]),
    dict(category="Robbery"), dict(columns=["incident_id"])], ids=str)
def test_a_selection_read_is_exactly_the_selection_of_everything(ws, sel):
    from hotspot_app.core.selection import Selection

    _mixed_loads(ws)
    selection = Selection(**sel)
    whole = ws.incidents()
    assert len(whole) == 18
    got = ws.incidents(selection)
    assert_geodataframe_equal(got, selection.apply(whole))


def test_the_incident_summary_counts_what_is_stored_without_reading_it(ws):
    _mixed_loads(ws)
    ws.load_incidents(incidents("2024-02", 2, category="Anti-social behaviour", start=50), user="ann")  # republished
    s = ws.incident_summary()
    assert list(s.columns) == ["source", "provider", "month", "kind", "category", "group", "rows"]
    got = {(r.provider, r.month, r.category): int(r.rows) for r in s.itertuples(index=False)}
    assert got == {("Cleveland Police", "2024-01", "Burglary"): 6, ("Cleveland Police", "2024-02", "Anti-social behaviour"): 2,
                   ("Durham Constabulary", "2024-02", "Shoplifting"): 4,
                   ("Fire Service", "2024-03", "Deliberate secondary fire"): 3}
    assert rows_by_month(ws)[("police-uk", "Cleveland Police", "2024-02")] == 2


def test_incidents_are_partitioned_by_month(pgws):
    _mixed_loads(pgws)
    parts = _sql(pgws.url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                           "WHERE i.inhparent = 'incidents'::regclass ORDER BY 1")
    assert [p[0] for p in parts] == ["incidents_default", "incidents_m2024_01", "incidents_m2024_02", "incidents_m2024_03"]
    assert _sql(pgws.url, "SELECT count(*) FROM incidents_m2024_02") == [(9,)]
    assert _sql(pgws.url, "SELECT count(*) FROM incidents_default") == [(0,)]
    plan = "\n".join(r[0] for r in _sql(pgws.url, "EXPLAIN SELECT * FROM incidents WHERE month = '2024-03'"))
    assert "incidents_m2024_03" in plan and "incidents_m2024_01" not in plan  # the other months are pruned


def test_a_version_2_database_is_migrated_to_month_partitions_keeping_every_row_in_order(pg_url):
    """A database the previous release wrote (one incidents table) is moved over on first open."""
    from sqlalchemy import create_engine, text

    from hotspot_app.io.workspace import postgis

    engine = create_engine(postgis._sqlalchemy_url(pg_url))
    old = _concat_frames(incidents("2024-02", 3, start=0), incidents("2024-01", 4, start=10),
                         incidents("2024-02", 2, provider="Durham Constabulary"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE hotspot_schema (version integer NOT NULL)"))
        for step in postgis._MIGRATIONS[:2]:
            for statement in step:
                statement(conn) if callable(statement) else conn.execute(text(statement))
        conn.execute(text("INSERT INTO hotspot_schema VALUES (2)"))
        bare = postgis.PostgisWorkspace.__new__(postgis.PostgisWorkspace)
        bare._engine = engine
        bare._put(conn, "incidents", old)  # as release 2 wrote them
    engine.dispose()
    ws = workspace.open_workspace(pg_url)
    assert _sql(pg_url, "SELECT version FROM hotspot_schema") == [(postgis.SCHEMA_VERSION,)]
    assert _sql(pg_url, "SELECT relkind FROM pg_class WHERE relname = 'incidents'") == [("p",)]
    assert_geodataframe_equal(ws.incidents(), old)  # every row, in the order it was loaded
    assert rows_by_month(ws) == {("police-uk", "Cleveland Police", "2024-01"): 4,
                                 ("police-uk", "Cleveland Police", "2024-02"): 3,
                                 ("police-uk", "Durham Constabulary", "2024-02"): 2}
    ws.load_incidents(incidents("2024-03", 1), user="ann")  # and it takes new months
    assert len(ws.incidents()) == 10


def _concat_frames(*frames) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.CRS)


def test_what_reading_the_files_said_is_kept_with_each_load_that_still_holds_rows(ws):
    ws.load_incidents(incidents("2024-01", 3), user="ann", warnings=["2 rows repeat an incident_id ..."])
    ws.load_incidents(incidents("2024-02", 2), user="ann", warnings=lambda: ["file b: a warning"])
    assert ws.load_warnings() == ["2 rows repeat an incident_id ...", "file b: a warning"]
    ws.load_incidents(incidents("2024-01", 4, start=10), user="ann")  # January republished: load 1 holds nothing
    assert ws.load_warnings() == ["file b: a warning"]
