"""The workspace's incidents as GeoParquet partitioned by month and provider (docs/design.md §9):
a pushed-down read returns exactly what `Selection.apply` gives on the whole table; a load
replaces exactly the files of its (source, provider, month) keys; a writer killed with SIGKILL
while it writes files, or at the very rename that would make them current, leaves the previous
state; two writers lose nothing; a workspace written before incidents were partitioned is read
and moved over on its next load; backups and copies keep their own incidents."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

from hotspot_app.core import schema, selection, settings
from hotspot_app.core.errors import ConflictError, InputError
from hotspot_app.core.selection import Selection
from hotspot_app.io import workspace
from hotspot_app.io.workspace import base

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ["Anti-social behaviour", "Burglary", "Shoplifting", "Violence and sexual offences",
              "Deliberate secondary fire"]


def _rows(month: str, n: int, provider: str = "Cleveland Police", source: str = "police-uk",
          seed: int = 0, start: int = 0, extra: bool = False) -> gpd.GeoDataFrame:
    """`n` incidents of one month and provider: categories and places drawn from a fixed seed
    (places on a 100 m lattice, so rows share points as police.uk's do)."""
    rng = np.random.default_rng(seed)
    data = {
        "incident_id": [f"{provider[:3]}-{month}-{start + i}" for i in range(n)],
        "month": [month] * n,
        "category": (np.array(CATEGORIES[:4], dtype=object)[rng.integers(0, 4, n)] if source != "fire"
                     else np.full(n, CATEGORIES[4], dtype=object)),
        "x": 450_000.0 + 100 * rng.integers(0, 40, n), "y": 515_000.0 + 100 * rng.integers(0, 40, n),
        "location": np.array(["On or near A Street", "On or near B Road", None], dtype=object)[rng.integers(0, 3, n)],
    }
    if extra:
        data["beat"] = np.array(["B1", "B2", None], dtype=object)[rng.integers(0, 3, n)]
        data["n_suspects"] = rng.integers(0, 4, n).astype("int64")
    return schema.make_incidents(pd.DataFrame(data), source=source).assign(provider=provider)


def _loaded(path: Path) -> workspace.GeopackageWorkspace:
    """A workspace of five loads: two providers, two sources, four months, one load with extra
    columns (so files differ in columns and dtypes)."""
    ws = workspace.GeopackageWorkspace(path)
    ws.load_incidents(_rows("2024-01", 400, seed=1))
    ws.load_incidents(_rows("2024-02", 300, seed=2, extra=True))
    ws.load_incidents(_rows("2024-02", 250, provider="Durham Constabulary", seed=3))
    ws.load_incidents(_rows("2024-03", 200, source="fire", provider="Cleveland Fire Brigade", seed=4))
    ws.load_incidents(_rows("2024-04", 150, seed=5))
    return ws


SELECTIONS = [
    Selection(),
    Selection(category="asb"),
    Selection(category=["crime"], period=("2024-02", "2024-03")),
    Selection(category="Burglary", period=(None, "2024-02")),
    Selection(category="deliberate-fires"),
    Selection(period="2024-04..2024-04"),
    Selection(bbox=(450_500, 515_500, 451_500, 516_200)),
    Selection(category="asb", bbox=(450_000, 515_000, 450_000, 515_000)),  # one lattice point, edges in
    Selection(category="crime", period=("2024-01", "2024-02"), bbox=(450_000, 515_000, 451_000, 515_900),
              columns=["month", "category", "kind"]),
    Selection(columns=["location", "beat"]),
    Selection(category="Robbery"),  # nothing of it loaded: an empty frame of the right columns
]


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    """Equal frames; a categorical column compares by value (its categories are those read)."""
    assert_geodataframe_equal(a, b, check_index_type=True)


@pytest.mark.parametrize("sel", SELECTIONS, ids=[repr(s) for s in SELECTIONS])
def test_a_pushed_down_read_is_exactly_the_selection_of_the_whole_table(tmp_path, sel):
    ws = _loaded(tmp_path / "ws.gpkg")
    whole = ws.incidents()
    assert len(whole) == 1300
    got = ws.incidents(sel)
    _same(got, sel.apply(whole))
    # and the same as the selection rule of clusters and grids (`selection.select`)
    if sel.bbox is None and sel.columns is None:
        _same(got, selection.select(whole, sel.category, sel.months()).reset_index(drop=True))


def test_pushed_down_reads_have_the_planted_numbers(tmp_path):
    ws = _loaded(tmp_path / "ws.gpkg")
    whole = ws.incidents()
    assert len(ws.incidents(Selection(period=("2024-02", "2024-02")))) == 550
    assert len(ws.incidents(Selection(category="deliberate-fires"))) == 200
    assert len(ws.incidents(Selection(category="asb"))) == (whole["category"] == "Anti-social behaviour").sum() == 260
    # the month pruning reads only the files of the months asked for
    store, manifest = ws.store, ws._manifest()
    keep, expr = store.plan(manifest, Selection(period=("2024-02", "2024-02")))
    assert sorted({manifest.parts[i].key for i in keep}) == [("police-uk", "Cleveland Police", "2024-02"),
                                                            ("police-uk", "Durham Constabulary", "2024-02")]
    assert expr is None  # whole files: no row filter
    keep, expr = store.plan(manifest, Selection(category="deliberate-fires"))
    assert [manifest.parts[i].key for i in keep] == [("fire", "Cleveland Fire Brigade", "2024-03")]
    # one file per key and kind: a selection of a kind reads whole files, no row filter
    keep, expr = store.plan(manifest, Selection(category="asb"))
    assert expr is None and {k for i in keep for k, *_ in manifest.parts[i].summary} == {"asb"}
    assert sum(manifest.parts[i].rows for i in keep) == 260
    # the summary answers coverage without reading a row
    summary = ws.incident_summary()
    assert int(summary["rows"].sum()) == 1300
    assert ws.coverage().set_index(["source", "provider", "month"])["rows"].to_dict() == {
        ("fire", "Cleveland Fire Brigade", "2024-03"): 200, ("police-uk", "Cleveland Police", "2024-01"): 400,
        ("police-uk", "Cleveland Police", "2024-02"): 300, ("police-uk", "Cleveland Police", "2024-04"): 150,
        ("police-uk", "Durham Constabulary", "2024-02"): 250}


def test_the_files_are_hive_partitioned_geoparquet_other_tools_read(tmp_path):
    import pyarrow.dataset as ds

    ws = _loaded(tmp_path / "ws.gpkg")
    root = ws.store.root
    assert root == tmp_path / "ws.incidents"
    names = sorted({p.relative_to(root).parent.as_posix() for p in root.rglob("*.parquet")})
    assert names == ["month=2024-01/provider=Cleveland%20Police", "month=2024-02/provider=Cleveland%20Police",
                     "month=2024-02/provider=Durham%20Constabulary",
                     "month=2024-03/provider=Cleveland%20Fire%20Brigade",
                     "month=2024-04/provider=Cleveland%20Police"]
    table = ds.dataset(root, format="parquet", partitioning="hive", exclude_invalid_files=True,
                       ignore_prefixes=["_", "."]).to_table(columns=["month", "provider", "category"])
    assert table.num_rows == 1300
    assert table.filter(ds.field("provider") == "Durham Constabulary").num_rows == 250
    april = sorted(root.rglob("month=2024-04/**/*.parquet"))
    assert len(april) == 2  # one file per kind (crime, ASB)
    back = pd.concat([gpd.read_parquet(f) for f in april])  # plain GeoParquet 1.1 (bbox covering column)
    assert len(back) == 150 and back.crs.equals(settings.CRS) and "bbox" not in back.columns
    assert sorted(back["_seq"]) == list(range(150))  # each row's place in the load
    import pyarrow.parquet as pq

    assert pq.read_schema(april[0]).field("bbox").type.num_fields == 4


def _files(manifest) -> dict:
    out: dict = {}
    for p in manifest.parts:
        out.setdefault(p.key, []).append(p.path)
    return {k: sorted(v) for k, v in out.items()}


def test_a_republished_key_replaces_exactly_its_files(tmp_path):
    ws = _loaded(tmp_path / "ws.gpkg")
    before = _files(ws._manifest())
    result = ws.load_incidents(_rows("2024-02", 120, seed=9))  # Cleveland republishes February
    assert (result.before, result.added, result.replaced, result.after) == (1300, 120, 300, 1120)
    assert result.months_replaced == ["2024-02"]
    after = _files(ws._manifest())
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {("police-uk", "Cleveland Police", "2024-02")}  # every other file untouched
    assert after[("police-uk", "Durham Constabulary", "2024-02")] == before[("police-uk", "Durham Constabulary", "2024-02")]
    feb = ws.incidents(Selection(period=("2024-02", "2024-02")))
    assert feb.groupby("provider").size().to_dict() == {"Cleveland Police": 120, "Durham Constabulary": 250}
    # the replaced file is kept while the backup taken before the replacement names it
    (backup,) = ws.backups()
    assert len(workspace.GeopackageWorkspace(backup).incidents()) == 1300
    assert all((ws.store.root / f).exists() for f in before[("police-uk", "Cleveland Police", "2024-02")])
    # the same file twice changes nothing
    again = ws.load_incidents(_rows("2024-02", 120, seed=9))
    assert (again.added, again.replaced, again.after) == (120, 120, 1120)
    assert_geodataframe_equal(ws.incidents(Selection(period=("2024-02", "2024-02"))), feb)


def test_replace_all_and_a_load_in_batches(tmp_path):
    ws = _loaded(tmp_path / "ws.gpkg")
    batches = (_rows(m, 100, seed=i) for i, m in enumerate(["2025-01", "2025-02", "2025-03"]))
    result = ws.load_incidents(batches, files=["a.csv"], read=lambda: 310, rejected=lambda: 10, replace_all=True)
    assert (result.before, result.added, result.replaced, result.after) == (1300, 300, 1300, 300)
    assert ws.coverage()["month"].tolist() == ["2025-01", "2025-02", "2025-03"]
    load = ws.loads().iloc[-1]
    assert (load["read"], load["loaded"], load["rejected"], load["replace_all"]) == (310, 300, 10, True)


WRITER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from test_partitioned_store import _rows
    from hotspot_app.io import workspace
    from hotspot_app.io.workspace import gpkg

    path, mode = sys.argv[1], sys.argv[2]
    if mode == "at-rename":  # killed at the very rename that would make the new state current
        real = os.replace
        def replace(src, dst):
            if str(dst) == path:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(src, dst)
        gpkg.os.replace = replace
    batches = (_rows("2024-0%d" % (5 + i % 4), 20_000, seed=100 + i, start=20_000 * i) for i in range(400))
    workspace.GeopackageWorkspace(path).load_incidents(batches, files=["big.csv"])
""")


def _kill_writer(tmp_path: Path, path: Path, mode: str) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(tests=str(ROOT / "tests")))
    return subprocess.Popen([sys.executable, str(script), str(path), mode], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _state(ws) -> tuple:
    return (ws.version(), ws.coverage().to_dict("records"), len(ws.loads()), ws.interventions()["name"].tolist())


@pytest.mark.parametrize("mode", ["writing-files", "at-rename"])
def test_a_load_killed_with_sigkill_leaves_the_previous_state(tmp_path, mode):
    path = tmp_path / "ws.gpkg"
    ws = _loaded(path)
    ws.add_intervention("Patrols", "patrols", "2024-01-01", geometry=gpd.points_from_xy([450_000], [515_000])[0],
                        radius_m=100.0)
    before, before_bytes = _state(ws), path.read_bytes()
    whole = ws.incidents()
    proc = _kill_writer(tmp_path, path, mode)
    if mode == "writing-files":
        end = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < end:
            if len(list((tmp_path / "ws.incidents").glob("month=2024-0[5-8]/*/*.parquet"))) >= 3:
                break  # the load is writing its files
            time.sleep(0.01)
        assert proc.poll() is None, "the writer finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert path.read_bytes() == before_bytes  # the workspace file, byte for byte
    orphans = list((tmp_path / "ws.incidents").glob("month=2024-0[5-8]/*/*.parquet"))
    assert orphans  # the killed writer's files are there ...
    reopened = workspace.GeopackageWorkspace(path)  # ... until the workspace is next opened
    assert list((tmp_path / "ws.incidents").glob("month=2024-0[5-8]/*/*.parquet")) == []
    assert _state(reopened) == before
    assert_geodataframe_equal(reopened.incidents(), whole)
    held = {p.relative_to(reopened.store.root).as_posix() for p in reopened.store.root.rglob("*.parquet")}
    assert held == {p.path for p in reopened._manifest().parts}


TWO = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    import time
    from test_partitioned_store import _rows
    from hotspot_app.core.errors import ConflictError
    from hotspot_app.io import workspace

    path, month, gate = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    expected = sys.argv[4] if len(sys.argv) > 4 else None
    Path(str(gate) + ".ready-" + month).touch()
    while not gate.exists():
        time.sleep(0.01)
    try:
        workspace.GeopackageWorkspace(path).load_incidents(
            (_rows(month, 5_000, seed=s, start=5_000 * s) for s in range(4)), expected_version=expected)
    except ConflictError as exc:
        print(exc)
        sys.exit(3)
""")


def _two(tmp_path: Path, path: Path, expected: str | None = None) -> list:
    script = tmp_path / "two.py"
    script.write_text(TWO.format(tests=str(ROOT / "tests")))
    gate = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(script), str(path), m, str(gate)] + ([expected] if expected else []),
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for m in ("2024-06", "2024-07")]
    end = time.monotonic() + 120
    while not all(Path(f"{gate}.ready-{m}").exists() for m in ("2024-06", "2024-07")):
        assert time.monotonic() < end, "writers did not start"
        time.sleep(0.02)
    gate.touch()
    return [(p.wait(timeout=600), *p.communicate()) for p in procs]


def test_two_writers_lose_nothing_and_leave_only_the_files_their_manifests_name(tmp_path):
    path = tmp_path / "ws.gpkg"
    _loaded(path)
    outs = _two(tmp_path, path)
    assert [o[0] for o in outs] == [0, 0], outs
    ws = workspace.GeopackageWorkspace(path)
    cov = ws.coverage().set_index(["source", "provider", "month"])["rows"]
    assert cov[("police-uk", "Cleveland Police", "2024-06")] == 20_000
    assert cov[("police-uk", "Cleveland Police", "2024-07")] == 20_000
    assert int(cov.sum()) == 1300 + 40_000
    held = {p.relative_to(ws.store.root).as_posix() for p in ws.store.root.rglob("*.parquet")}
    assert held == {p.path for p in ws._manifest().parts}  # no load replaced anything: no backup holds files


def test_two_writers_from_the_same_version_one_gets_a_conflict_and_writes_nothing(tmp_path):
    path = tmp_path / "ws.gpkg"
    seen = _loaded(path).version()
    outs = _two(tmp_path, path, expected=seen)
    assert sorted(o[0] for o in outs) == [0, 3], outs
    loser = next(o for o in outs if o[0] == 3)
    assert "changed since you opened it" in loser[1]
    ws = workspace.GeopackageWorkspace(path)
    assert int(ws.coverage()["rows"].sum()) == 1300 + 20_000
    held = {p.relative_to(ws.store.root).as_posix() for p in ws.store.root.rglob("*.parquet")}
    assert held == {p.path for p in ws._manifest().parts}  # the loser's files were removed


def test_a_workspace_written_before_partitioning_is_read_then_moved_over_on_its_next_load(tmp_path):
    demo = ROOT / "hotspot_app" / "data" / "demo" / "workspace.gpkg"
    path = tmp_path / "old.gpkg"
    shutil.copyfile(demo, path)
    ws = workspace.GeopackageWorkspace(path)
    assert ws._manifest() is None and "incidents" in ws.layers()
    old = ws.incidents()
    n = len(old)
    asb = Selection(category="asb", period=("2023-01", "2023-06"))
    _same(ws.incidents(asb), asb.apply(old))
    result = ws.load_incidents(_rows("2030-01", 10), user="ann")
    assert (result.before, result.added, result.after) == (n, 10, n + 10)
    assert "incidents" not in ws.layers() and ws._manifest() is not None
    moved = ws.incidents(Selection(period=(None, "2029-12")))
    _same(moved, Selection(period=(None, "2029-12")).apply(base.with_provider(old)))
    (backup,) = ws.backups()  # the file as it was, incidents layer and all
    assert "incidents" in workspace.GeopackageWorkspace(backup, check=False).layers()
    assert workspace.is_workspace(path) and workspace.is_workspace(backup)


def test_a_restored_backup_and_a_copy_keep_their_own_incidents(tmp_path):
    path = tmp_path / "ws.gpkg"
    ws = _loaded(path)
    whole = ws.incidents()
    ws.load_incidents(_rows("2024-01", 5, seed=7))  # replaces January: a backup is taken first
    (tmp_path / "elsewhere").mkdir()
    copy = ws.copy_to(tmp_path / "elsewhere" / "copy.gpkg")
    copy.load_incidents(_rows("2024-09", 7, seed=8))
    assert len(ws.incidents()) == 1300 - 400 + 5  # the copy's load is the copy's alone
    assert len(copy.incidents()) == 1300 - 400 + 5 + 7
    (backup,) = ws.backups()
    shutil.copyfile(backup, path)  # restore the backup as a user would
    restored = workspace.GeopackageWorkspace(path)
    assert_geodataframe_equal(restored.incidents(), whole)


def test_files_removed_outside_the_tool_are_named_on_open_and_can_be_accepted(tmp_path):
    path = tmp_path / "ws.gpkg"
    ws = _loaded(path)
    victim = next(p for p in ws._manifest().parts if p.key == ("police-uk", "Durham Constabulary", "2024-02")
                  and p.summary[0][0] == "asb")
    (ws.store.root / victim.path).unlink()
    with pytest.raises(InputError, match=rf"{victim.rows} rows of police-uk Durham Constabulary 2024-02\) was removed outside"):
        workspace.GeopackageWorkspace(path)
    accepted = workspace.GeopackageWorkspace(path, check=False).accept_changes(user="ann")
    assert len(accepted) == 1
    ws = workspace.GeopackageWorkspace(path)
    assert int(ws.coverage()["rows"].sum()) == 1300 - victim.rows and ws.audit()["action"].iloc[-1] == "changes_accepted"


def test_a_stale_writer_is_refused_before_writing_any_file(tmp_path):
    path = tmp_path / "ws.gpkg"
    ws = _loaded(path)
    seen = ws.version()
    ws.load_incidents(_rows("2024-05", 10))
    n_files = len(list(ws.store.root.rglob("*.parquet")))
    with pytest.raises(ConflictError):
        ws.load_incidents(_rows("2024-06", 10), expected_version=seen)
    assert len(list(ws.store.root.rglob("*.parquet"))) == n_files


def test_a_load_whose_months_and_providers_interleave_reads_back_in_its_own_order(tmp_path):
    """A generic file with rows of several months and providers mixed: one file per key, and
    the rows come back in the order they were loaded (what every command sees from the CSV)."""
    a, b = _rows("2024-01", 30, seed=1), _rows("2024-02", 30, provider="Durham Constabulary", seed=2)
    mixed = gpd.GeoDataFrame(pd.concat([a, b], ignore_index=True).iloc[np.random.default_rng(3).permutation(60)]
                             .reset_index(drop=True), crs=settings.CRS)
    ws = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg")
    ws.load_incidents(_rows("2023-12", 10, seed=4))
    ws.load_incidents(mixed)
    ws.load_incidents(_rows("2024-03", 10, seed=5))
    assert {(p.month, p.seq) for p in ws._manifest().parts} == {
        ("2023-12", True), ("2024-01", True), ("2024-02", True), ("2024-03", True)}  # crime and ASB interleave
    whole = ws.incidents()
    _same(whole.iloc[10:70].reset_index(drop=True), mixed)
    for sel in (Selection(category="asb"), Selection(period=("2024-02", "2024-03")), Selection(columns=["month"])):
        _same(ws.incidents(sel), sel.apply(whole))
