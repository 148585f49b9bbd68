"""The workspace partners trust month after month (issue 9, design §5b, §9): loads accumulate by
(source, provider, month), every load is recorded, writes never lose (backups, lock, version
check, kill during a write, two writers, a read-only folder, a full disk), temp files of killed
writes are cleaned up. Real GeoPackages, real processes, real signals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from hotspot_app.io import ingest
from hotspot_app.core import schema, settings
from hotspot_app.io import workspace
from hotspot_app.core.errors import ConflictError, InputError, OutputError

ROOT = Path(__file__).resolve().parent.parent


def _police(month: str, n: int, force: str = "Cleveland Police", start: int = 0,
            category: str = "Shoplifting") -> gpd.GeoDataFrame:
    """n police.uk rows of one month and force (ids unique per month and force)."""
    data = pd.DataFrame({
        "incident_id": [f"{force[:3]}-{month}-{start + i}" for i in range(n)],
        "month": [month] * n,
        "category": [category] * n,
        "x": 450000.0 + np.arange(n), "y": 515000.0 + np.arange(n),
        "falls_within": [force] * n,
    })
    return schema.make_incidents(data, source="police-uk")


def _fires(month: str, n: int) -> gpd.GeoDataFrame:
    data = pd.DataFrame({"incident_id": [f"F{month}-{i}" for i in range(n)], "month": [month] * n,
                         "category": ["Deliberate secondary fire"] * n,
                         "x": 451000.0 + np.arange(n), "y": 516000.0 + np.arange(n)})
    return schema.make_incidents(data, source="fire")


def _wards() -> gpd.GeoDataFrame:
    raw = gpd.GeoDataFrame({"name": ["North", "South"]},
                           geometry=[box(449000, 514000, 452000, 516000), box(449000, 516000, 452000, 518000)],
                           crs=settings.CRS)
    return schema.make_areas(raw, name="name", layer="ward")


def _concat(*frames) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.CRS)


def _counts(ws) -> dict:
    cov = ws.coverage()
    return {(r.source, r.provider, r.month): int(r.rows) for r in cov.itertuples(index=False)}


# ------------------------------------------------------------------ loads that accumulate
def test_a_new_month_is_added_and_nothing_else_is_touched(tmp_path):
    """Today's main: saving one new month replaced every stored month and deleted the
    intervention. Now the month is added; months, areas, interventions and runs are kept."""
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    first = ws.load_incidents(_concat(_police("2024-01", 30), _police("2024-02", 20)), files=["jan-feb.csv"])
    ws.write_areas(_wards())
    ws.add_intervention("Precinct patrols", "patrols", "2024-02-01", "2024-06-30",
                        geometry=box(450000, 515000, 450100, 515100))
    ws.save_cluster_run({"eps_m": 100}, gpd.GeoDataFrame({"count": [5]}, geometry=[box(0, 0, 9, 9)],
                                                         crs=settings.CRS))
    second = ws.load_incidents(_police("2024-03", 7), files=["2024-03-cleveland-street.csv"])
    assert first.to_dict() == {"before": 0, "after": 50, "added": 50, "replaced": 0, "months_replaced": []}
    assert second.to_dict() == {"before": 50, "after": 57, "added": 7, "replaced": 0, "months_replaced": []}
    assert _counts(ws) == {("police-uk", "Cleveland Police", "2024-01"): 30,
                           ("police-uk", "Cleveland Police", "2024-02"): 20,
                           ("police-uk", "Cleveland Police", "2024-03"): 7}
    assert ws.interventions()["name"].tolist() == ["Precinct patrols"]
    assert ws.areas("ward")["name"].tolist() == ["North", "South"]
    assert len(ws.cluster_runs()) == 1 and len(ws.patrol_areas(1)) == 1


def test_a_republished_month_replaces_only_that_force_and_month(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.load_incidents(_concat(_police("2024-01", 10), _police("2024-02", 12),
                              _police("2024-01", 4, force="Durham Constabulary"), _fires("2024-01", 3)))
    # police.uk republishes Cleveland's January with 11 rows
    res = ws.load_incidents(_police("2024-01", 11, start=100))
    assert res.to_dict() == {"before": 29, "after": 30, "added": 11, "replaced": 10,
                             "months_replaced": ["2024-01"]}
    assert res.removed == {("police-uk", "Cleveland Police", "2024-01"): 10}
    assert _counts(ws) == {("fire", "fire service", "2024-01"): 3,
                           ("police-uk", "Cleveland Police", "2024-01"): 11,
                           ("police-uk", "Cleveland Police", "2024-02"): 12,
                           ("police-uk", "Durham Constabulary", "2024-01"): 4}
    jan = ws.incidents().query("provider == 'Cleveland Police' and month == '2024-01'")
    assert sorted(jan["incident_id"]) == sorted(f"Cle-2024-01-{i}" for i in range(100, 111))


def test_the_same_file_twice_changes_nothing(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    month = _police("2024-05", 25)
    ws.load_incidents(month)
    once = ws.incidents().sort_values("incident_id").reset_index(drop=True)
    res = ws.load_incidents(month)
    twice = ws.incidents().sort_values("incident_id").reset_index(drop=True)
    assert res.to_dict() == {"before": 25, "after": 25, "added": 25, "replaced": 25,
                             "months_replaced": ["2024-05"]}
    pd.testing.assert_frame_equal(pd.DataFrame(once.drop(columns="geometry")),
                                  pd.DataFrame(twice.drop(columns="geometry")))
    assert once.geometry.equals(twice.geometry)


def test_replace_all_removes_incidents_only_and_reports_it(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.load_incidents(_concat(_police("2023-11", 5), _police("2023-12", 6)))
    ws.write_areas(_wards())
    ws.add_intervention("CCTV", "cctv", "2023-12-01", geometry=Point(450000, 515000), radius_m=100)
    res = ws.load_incidents(_police("2024-01", 4), replace_all=True)
    assert res.to_dict() == {"before": 11, "after": 4, "added": 4, "replaced": 11,
                             "months_replaced": ["2023-11", "2023-12"]}
    assert _counts(ws) == {("police-uk", "Cleveland Police", "2024-01"): 4}
    assert len(ws.interventions()) == 1 and len(ws.areas()) == 2
    assert ws.loads()["replace_all"].tolist() == [False, True]
    assert ws.audit()["action"].tolist()[-1] == "replace_all"


def test_provider_of_police_fire_and_generic():
    police = _police("2024-01", 2)
    fires = _fires("2024-01", 1)
    named = fires.assign(frs="Cleveland Fire Brigade")
    generic = schema.make_incidents(pd.DataFrame({"category": ["Shoplifting"], "month": ["2024-01"],
                                                  "x": [450000.0], "y": [515000.0]}))
    assert schema.provider_of(police).tolist() == ["Cleveland Police"] * 2
    assert schema.provider_of(fires).tolist() == ["fire service"]
    assert schema.provider_of(named).tolist() == ["Cleveland Fire Brigade"]
    assert schema.provider_of(generic).tolist() == ["generic"]
    assert schema.provider_of(generic, generic="Council CCTV").tolist() == ["Council CCTV"]


def test_ingest_sets_the_provider_column(tmp_path):
    csv = tmp_path / "2024-01-cleveland-street.csv"
    csv.write_text("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                   "LSOA name,Crime type,Last outcome category,Context\n"
                   "abc,2024-01,Cleveland Police,Cleveland Police,-1.23,54.57,On or near X,E01,"
                   "Mbro 001A,Shoplifting,,\n"
                   ",2024-01,Cleveland Police,Cleveland Police,,,No Location,,,Burglary,,\n")
    res = ingest.read_incidents([csv])
    assert res.incidents["provider"].tolist() == ["Cleveland Police"]
    assert res.summary["rejected_by_reason"] == {"no location": 1}
    gen = tmp_path / "gen.csv"
    gen.write_text("date,category,easting,northing\n2024-01-03,Shoplifting,450000,515000\n")
    assert ingest.read_incidents([gen], provider="Council").incidents["provider"].tolist() == ["Council"]


# ------------------------------------------------------------------ history and coverage
def test_every_load_is_recorded_with_counts_months_and_missing_locations(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    rejects = pd.DataFrame({"file": ["2024-02-cleveland-street.csv"] * 3 + ["2024-01-cleveland-street.csv"],
                            "row": [4, 5, 9, 2], "column": ["Longitude"] * 4,
                            "reason": ["no location"] * 3 + ["no location"], "value": [""] * 4})
    ws.load_incidents(_concat(_police("2024-01", 40), _police("2024-02", 17)),
                      files=["2024-01-cleveland-street.csv", "2024-02-cleveland-street.csv"],
                      read=61, rejected=rejects, user="analyst1")
    ws.load_incidents(_police("2024-01", 41), files=["2024-01-cleveland-street.csv"], read=41, rejected=0,
                      user="analyst2")
    loads = ws.loads()
    assert list(loads.columns[:12]) == workspace.LOAD_COLUMNS
    assert loads["load_id"].tolist() == [1, 2]
    assert loads["user"].tolist() == ["analyst1", "analyst2"]
    assert loads["files"].tolist() == [["2024-01-cleveland-street.csv", "2024-02-cleveland-street.csv"],
                                       ["2024-01-cleveland-street.csv"]]
    assert loads["providers"].tolist() == [["Cleveland Police"], ["Cleveland Police"]]
    assert loads[["read", "loaded", "rejected", "added", "replaced"]].values.tolist() == \
        [[61, 57, 4, 57, 0], [41, 41, 0, 41, 40]]
    assert loads["months"].tolist() == [["2024-01", "2024-02"], ["2024-01"]]
    assert loads["no_location"].tolist() == [{"2024-01": 1, "2024-02": 3}, {}]
    assert all(t.endswith("Z") and pd.Timestamp(t).tzinfo is not None for t in loads["loaded_at"])
    assert ws.audit()["action"].tolist() == ["load", "load"]
    assert ws.audit()["user"].tolist() == ["analyst1", "analyst2"]
    assert "40 removed (police-uk Cleveland Police 2024-01: 40)" in ws.audit()["detail"].iloc[1]


def test_coverage_grid_shows_gaps_and_months_with_many_missing_locations(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    rejects = pd.DataFrame({"file": ["2024-04-cleveland-street.csv"] * 5, "row": range(1, 6),
                            "column": ["Longitude"] * 5, "reason": ["no location"] * 5, "value": [""] * 5})
    ws.load_incidents(_concat(_police("2024-01", 10), _police("2024-02", 10), _police("2024-04", 20),
                              _fires("2024-02", 2)), rejected=rejects)
    cov = ws.coverage()
    assert list(cov.columns) == ["source", "provider", "month", "rows"]
    grid = workspace.coverage_grid(cov, ws.loads())
    assert list(grid.columns) == ["source", "provider", "2024-01", "2024-02", "2024-03", "2024-04"]
    police = grid[grid["source"] == "police-uk"].iloc[0]
    assert [police[m] for m in ("2024-01", "2024-02", "2024-04")] == [10, 10, 20]
    assert pd.isna(police["2024-03"])  # a gap is a gap, never 0
    assert grid.attrs["gaps"] == ["police-uk Cleveland Police: no rows in 2024-03"]
    # 5 of 25 (20%) had no location: flagged, so it is not read as a fall in crime
    assert grid.attrs["flags"] == ["police.uk 2024-04: 5 of 25 rows (20.0%) had no location and are not mapped"]


# ------------------------------------------------------------------ areas and interventions
def test_edit_and_delete_interventions_and_areas_are_recorded(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.write_areas(_wards(), user="a")
    iid = ws.add_intervention("Lighting", "lighting", "2024-01-01", area_id="ward-1", user="a")
    ws.update_intervention(iid, end="2024-06-30", notes="new LED columns", user="b")
    got = ws.interventions().iloc[0]
    assert got["end"] == pd.Timestamp("2024-06-30") and got["notes"] == "new LED columns"
    assert got["start"] == pd.Timestamp("2024-01-01")
    with pytest.raises(InputError, match="end date 2023-01-01 is before the start date 2024-01-01"):
        ws.update_intervention(iid, end="2023-01-01")
    with pytest.raises(InputError, match="unknown intervention field"):
        ws.update_intervention(iid, colour="red")
    ws.delete_area("ward-2", user="b")
    assert ws.areas("ward")["area_id"].tolist() == ["ward-1"]
    ws.delete_intervention(iid, user="c")
    assert len(ws.interventions()) == 0
    ws.delete_area("ward-1")
    assert ws.area_layers() == []
    audit = ws.audit()
    assert audit["action"].tolist() == ["area_added", "intervention_added", "intervention_edited",
                                        "area_deleted", "intervention_deleted", "area_deleted"]
    assert audit["user"].tolist()[:5] == ["a", "a", "b", "b", "c"]
    assert audit["detail"].tolist()[3] == "South (ward, ward-2)"
    assert "end, notes changed" in audit["detail"].tolist()[2]


# ------------------------------------------------------------------ writes that never lose
def test_a_backup_is_kept_before_any_replacement_and_only_the_last_five(tmp_path):
    path = tmp_path / "ws.gpkg"
    ws = workspace.GeopackageWorkspace(path)
    ws.load_incidents(_police("2024-01", 10))
    ws.load_incidents(_police("2024-02", 10))
    assert ws.backups() == []  # nothing removed yet, nothing to back up
    ws.load_incidents(_police("2024-01", 12, start=50))
    (backup,) = ws.backups()
    assert _counts(workspace.GeopackageWorkspace(backup)) == {("police-uk", "Cleveland Police", "2024-01"): 10,
                                                ("police-uk", "Cleveland Police", "2024-02"): 10}
    for k in range(6):
        ws.load_incidents(_police("2024-01", 3 + k, start=100 * k))
    assert len(ws.backups()) == workspace.BACKUPS_KEPT
    assert _counts(ws)[("police-uk", "Cleveland Police", "2024-01")] == 8


def test_version_check_gives_a_one_line_conflict_naming_the_other_writer(tmp_path):
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.load_incidents(_police("2024-01", 5), user="alice")
    seen = ws.version()
    other = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    other.load_incidents(_police("2024-02", 5), user="bob")
    assert other.version() != seen
    with pytest.raises(ConflictError) as err:
        ws.load_incidents(_police("2024-03", 5), user="alice", expected_version=seen)
    assert str(err.value) == (f"workspace {tmp_path / 'ws.gpkg'} changed since you opened it (by bob); "
                              "reload and try again")
    assert _counts(ws) == {("police-uk", "Cleveland Police", "2024-01"): 5,
                           ("police-uk", "Cleveland Police", "2024-02"): 5}
    ws.load_incidents(_police("2024-03", 5), user="alice", expected_version=ws.version())
    assert len(ws.incidents()) == 15


WRITER = textwrap.dedent("""
    import sys, time, numpy as np, pandas as pd
    from pathlib import Path
    from hotspot_app.core import schema
    from hotspot_app.core.errors import ConflictError
    from hotspot_app.io import workspace
    path, month, n, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    expected = sys.argv[5] if len(sys.argv) > 5 else None
    data = pd.DataFrame({"incident_id": [f"{month}-{i}" for i in range(n)], "month": month,
                         "category": "Shoplifting", "falls_within": "Cleveland Police",
                         "x": 450000.0 + np.arange(n) % 5000, "y": 515000.0 + np.arange(n) // 5000})
    inc = schema.make_incidents(data, source="police-uk")
    ws = workspace.GeopackageWorkspace(path)
    Path(gate + ".ready-" + month).touch()
    while not Path(gate).exists():
        time.sleep(0.01)
    try:
        ws.load_incidents(inc, files=[month + ".csv"], expected_version=expected)
    except ConflictError as exc:
        print("CONFLICT", exc)
        sys.exit(3)
    print("OK")
""")


def _writer(tmp_path, path, month, n, gate, expected=None):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(script), str(path), month, str(n), str(gate)] + ([expected] if expected else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_ready(gate: Path, months, timeout=120):
    end = time.monotonic() + timeout
    while not all(Path(f"{gate}.ready-{m}").exists() for m in months):
        assert time.monotonic() < end, "writers did not start"
        time.sleep(0.02)


def test_two_concurrent_writer_processes_lose_no_update(tmp_path):
    """Today's main: both copy the file, the later rename drops the other's committed write.
    Now the lock serialises them: both months are in the workspace."""
    path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(path).load_incidents(_police("2024-01", 10))
    gate = tmp_path / "go"
    procs = [_writer(tmp_path, path, m, 3000, gate) for m in ("2024-02", "2024-03")]
    _wait_ready(gate, ("2024-02", "2024-03"))
    gate.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert _counts(workspace.GeopackageWorkspace(path)) == {("police-uk", "Cleveland Police", "2024-01"): 10,
                                              ("police-uk", "Cleveland Police", "2024-02"): 3000,
                                              ("police-uk", "Cleveland Police", "2024-03"): 3000}
    assert workspace.GeopackageWorkspace(path).loads()["load_id"].tolist() == [1, 2, 3]


def test_two_writers_from_the_same_version_the_second_gets_a_conflict(tmp_path):
    path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(path).load_incidents(_police("2024-01", 10))
    seen = workspace.GeopackageWorkspace(path).version()
    gate = tmp_path / "go"
    procs = [_writer(tmp_path, path, m, 2000, gate, expected=seen) for m in ("2024-02", "2024-03")]
    _wait_ready(gate, ("2024-02", "2024-03"))
    gate.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], outs
    loser = outs[[p.returncode for p in procs].index(3)][0]
    assert "changed since you opened it" in loser and loser.count("\n") == 1
    counts = _counts(workspace.GeopackageWorkspace(path))
    assert counts[("police-uk", "Cleveland Police", "2024-01")] == 10 and len(counts) == 2


# A load killed with SIGKILL (while it writes its incidents files, or at the rename that would
# make them current): tests/test_partitioned_store.py.


def test_a_full_disk_is_a_one_line_error_naming_the_path_and_the_old_state_is_intact(tmp_path):
    """A real write failure from the OS: the writer may not grow any file past 1 MB (EFBIG, as
    when the disk is full)."""
    path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(path).load_incidents(_police("2024-01", 10))
    before = path.read_bytes()
    script = tmp_path / "full.py"
    script.write_text(textwrap.dedent(f"""
        import resource, signal, sys, numpy as np, pandas as pd
        from hotspot_app.core import schema
        from hotspot_app.core.errors import ConflictError
        from hotspot_app.io import workspace
        from hotspot_app.core.errors import OutputError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
        n = 200_000
        inc = schema.make_incidents(pd.DataFrame({{"incident_id": [str(i) for i in range(n)],
            "month": "2024-02", "category": "Shoplifting", "falls_within": "Cleveland Police",
            "location": [f"On or near a long street name {{i}}" for i in range(n)],
            "x": 450000.0 + np.arange(n) % 900, "y": 515000.0 + np.arange(n) // 900}}), source="police-uk")
        try:
            workspace.GeopackageWorkspace({str(path)!r}).load_incidents(inc)
        except OutputError as exc:
            print(exc)
            sys.exit(2)
    """))
    proc = subprocess.run([sys.executable, str(script)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    line = proc.stdout.strip()
    # the incidents' file that could not be written is named (they live beside the GeoPackage)
    assert line.startswith(f"{tmp_path / 'ws.incidents'}/month=2024-02/") and \
        ": could not write the workspace's incidents (File too large); it is unchanged" in line
    assert "\n" not in line
    assert path.read_bytes() == before
    assert list(tmp_path.glob(".ws.gpkg.tmp-*")) == []
    assert list((tmp_path / "ws.incidents").glob("month=2024-02*")) == []  # nothing half-written left


@pytest.fixture
def readonly_folder(tmp_path):
    """A real read-only folder: a read-only bind mount when running as root (permission bits do
    not stop root), else a folder without write permission."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield_folder = folder
    if os.geteuid() != 0:
        def make_ro():
            folder.chmod(0o555)

        def undo():
            folder.chmod(0o755)
    else:
        def make_ro():
            ok = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0 \
                and subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True).returncode == 0
            if not ok:
                subprocess.run(["umount", str(folder)], capture_output=True)
                pytest.skip("running as root without permission to mount a read-only folder")

        def undo():
            subprocess.run(["umount", str(folder)], capture_output=True)
    yield yield_folder, make_ro
    undo()


def test_a_read_only_folder_is_a_one_line_error_naming_the_path(readonly_folder):
    folder, make_ro = readonly_folder
    path = folder / "ws.gpkg"
    workspace.GeopackageWorkspace(path).load_incidents(_police("2024-01", 10))
    before = path.read_bytes()
    make_ro()
    ws = workspace.GeopackageWorkspace(path)
    with pytest.raises(OutputError) as err:
        ws.load_incidents(_police("2024-02", 10))
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    assert "the workspace is unchanged" in str(err.value)
    assert path.read_bytes() == before
    assert _counts(ws) == {("police-uk", "Cleveland Police", "2024-01"): 10}  # still readable


# ------------------------------------------------------------------ the CLI
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "hotspot_app.cli", *map(str, args)], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=300)


def _street_csv(path: Path, month: str, n: int, force: str = "Cleveland Police", no_location: int = 0):
    lines = ["Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
             "Crime type,Last outcome category,Context"]
    for i in range(n):
        lines.append(f"id{month}{i},{month},{force},{force},{-1.2 - i / 1e4:.5f},54.57,On or near X,"
                     f"E01,Mbro 001A,Shoplifting,,")
    for i in range(no_location):
        lines.append(f"nl{month}{i},{month},{force},{force},,,No Location,,,Shoplifting,,")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_ingest_into_a_workspace_month_after_month(tmp_path):
    jan = _street_csv(tmp_path / "2024-01-cleveland-street.csv", "2024-01", 30, no_location=2)
    feb = _street_csv(tmp_path / "2024-02-cleveland-street.csv", "2024-02", 20)
    ws = tmp_path / "ws.gpkg"
    docs = []
    for f in (jan, feb, jan):
        proc = _cli("ingest", f, "--into", ws, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        docs.append(json.loads(proc.stdout))
    assert [d["workspace"] for d in docs] == [
        {"before": 0, "after": 30, "added": 30, "replaced": 0, "months_replaced": []},
        {"before": 30, "after": 50, "added": 20, "replaced": 0, "months_replaced": []},
        {"before": 50, "after": 50, "added": 30, "replaced": 30, "months_replaced": ["2024-01"]}]
    assert docs[0]["read"] == 32 and docs[0]["rejected"] == 2
    w = workspace.GeopackageWorkspace(ws)
    assert w.loads()["no_location"].tolist() == [{"2024-01": 2}, {}, {"2024-01": 2}]
    # the workspace is INCIDENTS for the other commands
    proc = _cli("clusters", ws, "--eps-m", "100", "--min-samples", "5", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_incidents"] == 50
    # text: what a replacement removed
    proc = _cli("ingest", jan, "--into", ws)
    assert "Workspace" in proc.stdout and "replaced 30 rows of police-uk Cleveland Police 2024-01" in proc.stdout
    # --replace-all
    proc = _cli("ingest", feb, "--into", ws, "--replace-all", "--format", "json")
    assert json.loads(proc.stdout)["workspace"] == {"before": 50, "after": 20, "added": 20, "replaced": 50,
                                                    "months_replaced": ["2024-01", "2024-02"]}


def test_cli_ingest_into_refuses_bad_targets(tmp_path):
    jan = _street_csv(tmp_path / "2024-01-cleveland-street.csv", "2024-01", 3)
    for args, message in [
        (("--into", jan), "is an input"),
        ((), "give --out FILE or --into WORKSPACE"),
        (("--out", tmp_path / "a.gpkg", "--into", tmp_path / "b.gpkg"), "give --out FILE or --into WORKSPACE"),
        (("--out", tmp_path / "a.gpkg", "--replace-all"), "--replace-all needs --into"),
    ]:
        proc = _cli("ingest", jan, *args)
        assert proc.returncode == 2 and proc.stderr.startswith("error: ") and message in proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stdout == ""
    boundaries = tmp_path / "wards.gpkg"
    _wards().to_file(boundaries, driver="GPKG")
    proc = _cli("ingest", jan, "--into", boundaries)
    assert proc.returncode == 2 and "is not a workspace GeoPackage" in proc.stderr
    assert jan.read_text().startswith("Crime ID")  # the input was not touched


# ------------------------------------------------------------------ the Data page (AppTest)
APP = str(ROOT / "streamlit_app.py")


def _data_page(key: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180)
    if key:
        at.session_state["source"] = key
    at.run()
    at.switch_page("hotspot_app/ui/pages/data.py").run()
    assert not at.exception, at.exception
    return at


def _seeded_workspace(path: Path) -> str:
    """Two police.uk months and an intervention, as a partnership's workspace would hold."""
    from hotspot_app.ui import source

    ws = workspace.GeopackageWorkspace(path)
    ws.load_incidents(_concat(_police("2024-01", 30), _police("2024-02", 20)), files=["jan-feb.csv"])
    ws.add_intervention("Precinct patrols", "patrols", "2024-02-01", geometry=box(450000, 515000, 450100, 515100))
    return source.workspace_key(path)


def _upload(at, month: str, n: int, tmp_path: Path, no_location: int = 0):
    csv = _street_csv(tmp_path / f"{month}-cleveland-street.csv", month, n, no_location=no_location)
    at.file_uploader(key="dt-inc-files").set_value([(csv.name, csv.read_bytes(), "text/csv")]).run()
    assert not at.exception, at.exception


def test_data_page_adds_a_new_month_and_keeps_the_rest(tmp_path, monkeypatch):
    """Today's main: saving one new month replaced every stored month and deleted the
    intervention, with no warning."""
    path = tmp_path / "workspace.gpkg"
    monkeypatch.setattr(settings, "WORKSPACE", path)
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    at = _data_page(_seeded_workspace(path))
    _upload(at, "2024-03", 7, tmp_path)
    assert at.button(key="dt-save").label.startswith("Add to workspace")
    at.button(key="dt-save").click().run()
    assert not at.exception, at.exception
    ws = workspace.GeopackageWorkspace(path)
    assert _counts(ws) == {("police-uk", "Cleveland Police", "2024-01"): 30,
                           ("police-uk", "Cleveland Police", "2024-02"): 20,
                           ("police-uk", "Cleveland Police", "2024-03"): 7}
    assert ws.interventions()["name"].tolist() == ["Precinct patrols"]
    assert any("from 50 to 57 incidents" in s.value for s in at.success)
    # the history and the coverage grid are shown
    assert [len(df.value) for df in at.dataframe if "load" in getattr(df.value, "columns", [])] == [2]
    grids = [df.value for df in at.dataframe if "2024-03" in getattr(df.value, "columns", [])]
    assert grids and grids[0]["2024-03"].tolist() == [7]


def test_data_page_offers_no_save_for_zero_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "WORKSPACE", tmp_path / "workspace.gpkg")
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    at = _data_page()
    _upload(at, "2024-04", 0, tmp_path, no_location=3)
    assert at.button(key="dt-save").disabled
    assert any("nothing to add" in e.value for e in at.error)
    assert not (tmp_path / "workspace.gpkg").exists()


def test_data_page_replace_everything_only_after_a_confirmation_listing_it(tmp_path, monkeypatch):
    path = tmp_path / "workspace.gpkg"
    monkeypatch.setattr(settings, "WORKSPACE", path)
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    at = _data_page(_seeded_workspace(path))
    _upload(at, "2024-05", 4, tmp_path)
    at.button(key="dt-replace").click().run()
    assert not at.exception, at.exception
    listed = [df.value for df in at.dataframe if "rows" in getattr(df.value, "columns", [])
              and "from" in df.value.columns]
    assert listed and listed[0][["provider", "from", "to", "months", "rows"]].values.tolist() == \
        [["Cleveland Police", "2024-01", "2024-02", 2, 50]]
    assert any("50 rows from 1 loads" in md.value for md in at.markdown)
    assert len(workspace.GeopackageWorkspace(path).incidents()) == 50  # nothing removed before "Yes"
    at.button(key="dt-replace-yes").click().run()
    assert not at.exception, at.exception
    ws = workspace.GeopackageWorkspace(path)
    assert _counts(ws) == {("police-uk", "Cleveland Police", "2024-05"): 4}
    assert ws.interventions()["name"].tolist() == ["Precinct patrols"]
    assert len(ws.backups()) == 1 and len(workspace.GeopackageWorkspace(ws.backups()[0]).incidents()) == 50


def test_data_page_failed_save_is_one_line_and_the_workspace_is_intact(readonly_folder, monkeypatch):
    """Today's main deletes the workspace before writing the new one: a failure in between
    loses everything. Now nothing is deleted; the failure is one line naming the path."""
    folder, make_ro = readonly_folder
    path = folder / "workspace.gpkg"
    monkeypatch.setattr(settings, "WORKSPACE", path)
    monkeypatch.setattr(settings, "DATA_DIR", folder.parent)
    key = _seeded_workspace(path)
    before = path.read_bytes()
    at = _data_page(key)
    _upload(at, "2024-03", 5, folder.parent)
    make_ro()
    at.button(key="dt-save").click().run()
    assert not at.exception, at.exception
    assert any(e.value.startswith(f"{path}: ") and "unchanged" in e.value for e in at.error)
    assert path.read_bytes() == before


# ------------------------------------------------------------------ micro-hotspots from a file
def test_micro_hotspots_with_dates_are_imported_as_areas_and_interventions(tmp_path):
    from hotspot_app.ui import source

    path = tmp_path / "ws.gpkg"
    key = _seeded_workspace(path)  # one intervention already
    hot = gpd.GeoDataFrame({"name": ["Precinct", "Station Road"], "start": ["2024-03-01", "2024-04-15"],
                            "end": ["2024-08-31", None], "type": ["patrols", "cctv"]},
                           geometry=[box(-1.235, 54.570, -1.233, 54.572), box(-1.230, 54.575, -1.228, 54.577)],
                           crs="EPSG:4326")
    f = tmp_path / "micro 2024.geojson"
    hot.to_file(f, driver="GeoJSON")
    new_key, n = source.import_micro_hotspots(key, str(f))
    assert n == 2 and new_key != key
    ws = workspace.GeopackageWorkspace(path)
    areas = ws.areas("micro_hotspot")
    assert areas[["area_id", "name"]].values.tolist() == [["micro_hotspot-micro_2024-1", "Precinct"],
                                                          ["micro_hotspot-micro_2024-2", "Station Road"]]
    iv = ws.interventions()
    assert iv["intervention_id"].tolist() == ["int-1", "int-2", "int-3"]
    assert iv["name"].tolist() == ["Precinct patrols", "Precinct", "Station Road"]
    assert iv["type"].tolist() == ["patrols", "patrols", "cctv"]
    assert iv["area_id"].tolist()[1:] == ["micro_hotspot-micro_2024-1", "micro_hotspot-micro_2024-2"]
    assert iv["start"].tolist()[1:] == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-15")]
    assert iv["end"].iloc[1] == pd.Timestamp("2024-08-31") and pd.isna(iv["end"].iloc[2])
    assert iv.geometry.iloc[1].equals(areas.geometry.iloc[0])
    assert len(ws.incidents()) == 50  # incidents untouched
    with pytest.raises(InputError, match="imported before"):
        source.import_micro_hotspots(new_key, str(f))
    bad = hot.assign(start=["2024-03-01", "soon"])
    g = tmp_path / "bad.geojson"
    bad.to_file(g, driver="GeoJSON")
    with pytest.raises(InputError) as err:
        source.import_micro_hotspots(new_key, str(g))
    assert str(err.value) == "bad.geojson, row 2, column 'start': no readable start date ('soon')"
    assert len(workspace.GeopackageWorkspace(path).interventions()) == 3  # nothing half-imported


def test_ward_population_from_census_lsoa_counts_in_the_app_as_in_the_cli(realdata, tmp_path):
    """Census 2021 LSOA counts onto the May 2024 wards, and the workspace keeps them."""
    from hotspot_app.ui import source

    wards = ingest.read_boundaries(realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson",
                                   layer="ward").areas
    path = tmp_path / "ws.gpkg"
    ws = workspace.GeopackageWorkspace(path)
    res = ingest.read_incidents([realdata / "police_cleveland" / "2024-01-cleveland-street.csv"])
    ws.load_incidents(res.incidents, areas=wards)
    census = realdata / "population" / "census2021_lsoa21_population_cleveland.csv"
    lsoas = [str(realdata / "lsoa_2011" / f"E0600000{i}.json") for i in range(1, 5)]
    key, pop, report = source.population_from_lsoa(source.workspace_key(path), str(census), lsoas)
    total = int(pd.read_csv(census)["total_usual_residents"].sum())
    # the same figure as `hotspot rank --population ... --lsoa-boundaries ...` (test_cli_areas):
    # every resident of the Census file is in a ward; the 17 LSOA21 codes without a 2011
    # polygon are listed in the report, placed by the incidents naming them
    assert total == 569389 and int(pop["population"].sum()) == 569389
    assert len(report) == 17 and report["reason"].str.startswith("no polygon; placed").all()
    assert len(pop) == len(wards) == 83
    stored = workspace.GeopackageWorkspace(path).areas("ward")
    assert stored["population"].tolist() == pop["population"].tolist()
    assert workspace.GeopackageWorkspace(path).audit()["action"].tolist() == ["load", "area_added", "area_added"]


def test_real_cleveland_35_months_then_one_more_month_keeps_every_row_and_the_intervention(realdata, tmp_path):
    """The issue's case on the real data: 35 police.uk months (269,437 incidents) and a recorded
    intervention; adding November 2025 again (7,371 rows, as the Data page does) used to leave
    7,371 incidents and no intervention. Now nothing is lost."""
    from hotspot_app.ui import source

    path = tmp_path / "ws.gpkg"
    months = sorted((realdata / "police_cleveland").glob("*-cleveland-street.csv"))
    first = ingest.read_incidents(months)
    ws = workspace.GeopackageWorkspace(path)
    ws.load_incidents(first.incidents, read=first.summary["read"], rejected=first.rejects)
    ws.add_intervention("Precinct patrols", "patrols", "2024-07-01", "2024-12-31",
                        geometry=box(444000, 518000, 444300, 518300))
    assert len(first.incidents) == 269437 and len(ws.coverage()) == 35
    nov = ingest.read_incidents([realdata / "police_cleveland" / "2025-11-cleveland-street.csv"])
    key, loaded = source.add_to_workspace(path, nov)
    assert loaded.to_dict() == {"before": 269437, "after": 269437, "added": 7371, "replaced": 7371,
                                "months_replaced": ["2025-11"]}
    ws = workspace.GeopackageWorkspace(path)
    assert len(ws.coverage()) == 35 and int(ws.coverage()["rows"].sum()) == 269437
    assert ws.interventions()["name"].tolist() == ["Precinct patrols"]
    assert len(ws.backups()) == 1 and source.target_of(key) == str(path.resolve())


def test_data_page_does_not_offer_to_add_the_same_upload_twice(tmp_path, monkeypatch):
    path = tmp_path / "workspace.gpkg"
    monkeypatch.setattr(settings, "WORKSPACE", path)
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    at = _data_page(_seeded_workspace(path))
    _upload(at, "2024-03", 7, tmp_path)
    at.button(key="dt-save").click().run()
    assert not at.exception, at.exception
    assert at.button(key="dt-save").disabled
    assert any("These files are in the workspace now" in i.value for i in at.info)
    assert len(workspace.GeopackageWorkspace(path).loads()) == 2


def test_drawing_on_the_demo_never_overwrites_an_existing_workspace(tmp_path):
    """Today's main copies the demo over the workspace (its incidents replaced by the demo's)
    when a polygon is drawn while the demo is shown. Now it is refused, the workspace intact."""
    from hotspot_app.ui import source

    path = tmp_path / "ws.gpkg"
    _seeded_workspace(path)
    before = path.read_bytes()
    with pytest.raises(InputError, match="you are viewing the demo data; switch to the workspace"):
        source.add_drawn_intervention(source.DEMO, path, box(450000, 515000, 450100, 515100), "x",
                                      "patrols", "2024-01-01", None, None)
    assert path.read_bytes() == before


def test_data_page_edits_and_deletes_an_intervention_and_an_area(tmp_path, monkeypatch):
    path = tmp_path / "workspace.gpkg"
    monkeypatch.setattr(settings, "WORKSPACE", path)
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    _seeded_workspace(path)
    workspace.GeopackageWorkspace(path).write_areas(_wards())
    from hotspot_app.ui import source

    at = _data_page(source.workspace_key(path))
    at.text_input(key="dt-ed-notes-int-1").set_value("evenings only")
    at.date_input(key="dt-ed-end-int-1").set_value(pd.Timestamp("2024-05-31").date())
    at.button(key="FormSubmitter:dt-edit-iv-Save changes").click().run()
    assert not at.exception, at.exception
    iv = workspace.GeopackageWorkspace(path).interventions().iloc[0]
    assert (iv["notes"], iv["end"]) == ("evenings only", pd.Timestamp("2024-05-31"))
    assert at.button(key="dt-del-iv").disabled  # not without the confirmation
    at.checkbox(key="dt-del-iv-ok-int-1").check().run()
    at.button(key="dt-del-iv").click().run()
    assert not at.exception, at.exception
    assert len(workspace.GeopackageWorkspace(path).interventions()) == 0
    at.selectbox(key="dt-del-area-pick").set_value("ward-2").run()
    at.checkbox(key="dt-del-area-ok-ward-2").check().run()
    at.button(key="dt-del-area").click().run()
    assert not at.exception, at.exception
    ws = workspace.GeopackageWorkspace(path)
    assert ws.areas("ward")["name"].tolist() == ["North"]
    assert ws.audit()["action"].tolist()[-3:] == ["intervention_edited", "intervention_deleted", "area_deleted"]
    assert len(ws.incidents()) == 50 and len(ws.backups()) == 2  # one before each deletion


def test_data_page_says_when_another_process_changed_the_workspace(tmp_path, monkeypatch):
    path = tmp_path / "workspace.gpkg"
    monkeypatch.setattr(settings, "WORKSPACE", path)
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    at = _data_page(_seeded_workspace(path))
    assert not [i for i in at.info if "has changed since" in i.value]
    proc = _cli("ingest", _street_csv(tmp_path / "2024-03-cleveland-street.csv", "2024-03", 4), "--into", path)
    assert proc.returncode == 0, proc.stderr
    at.run()
    assert any("has changed since these data were opened" in i.value for i in at.info)
    assert at.metric[0].value == "50"
    at.button(key="dt-reload").click().run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "54"
    assert not [i for i in at.info if "has changed since" in i.value]


def test_a_drawn_intervention_refused_leaves_no_area_behind(tmp_path):
    """The intervention is checked before its area is written: a refused one (an end before its
    start) leaves the workspace as it was, not a micro-hotspot without its intervention."""
    from hotspot_app.ui import source

    path = tmp_path / "ws.gpkg"
    _seeded_workspace(path)
    ws = workspace.GeopackageWorkspace(path)
    layers, version = ws.area_layers(), ws.version()
    with pytest.raises(InputError, match="parameter 'end'"):
        source.add_drawn_intervention(source.workspace_key(path), path, box(450000, 515000, 450100, 515100),
                                      "x", "patrols", "2024-03-01", "2024-01-01", None)
    assert ws.area_layers() == layers and ws.version() == version
