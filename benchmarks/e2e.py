"""End to end: the user's commands timed as users run them, against plain-script baselines.

Each line is ONE fresh process started by `/usr/bin/time -v` (a file in, the outputs written):
wall seconds and peak RSS come from `time`, so the interpreter start, imports, reading and
writing are all in the figure. Each `hotspot` command is paired with a named plain script in
`benchmarks/baselines/` doing the same job the way an analyst would (pandas + geopandas +
scikit-learn/esda, no validation or reports); the two alternate run by run.

Data (generated once, git-ignored; never committed):
- ``national``: a national year of police.uk street CSVs, 6,000,000 rows in 12 monthly files,
  250,000 snap points spread over England's extent, 20% ASB, 2% without a location, heavy-tailed
  location popularity; ~7,000 Voronoi "wards" over the same extent (benchmarks/_data/).
- ``snapped``: a generic CSV of 1,000,000 rows on 15,000 snap points (x, y in metres).
- ``three-years`` / ``decade``: the same generator over 36 months (18M rows) and 120 months
  (60M rows, ~14 GiB of CSV), written under ``--data`` (default /work/bigdata; the decade's data
  and workspace are removed afterwards unless ``--keep``).

The national commands load a workspace (``ingest --into``: GeoParquet partitioned by month and
provider) and read it back; the baselines chain the plain scripts on ``plain_ingest.py``'s own
GeoParquet (police.uk's column names, e.g. ``Crime type``).

Run: ``.venv/bin/python benchmarks/e2e.py [--repeats N] [--only national|snapped|three-years|decade]
[--rows N] [--data DIR] [--baselines] [--keep]``. Writes the ``e2e``, ``e2e_three`` and
``e2e_decade`` sections of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import machine, write_section  # noqa: E402

DATA = HERE / "_data"
PY = sys.executable
HOTSPOT = [PY, "-m", "hotspot_app.cli"]
BASE = HERE / "baselines"
# England's extent in British National Grid metres (roughly), for synthetic national data.
EXTENT = (140_000.0, 20_000.0, 655_000.0, 650_000.0)
CRIME_TYPES = {"Violence and sexual offences": 0.33, "Criminal damage and arson": 0.12,
               "Shoplifting": 0.11, "Public order": 0.09, "Other theft": 0.07, "Vehicle crime": 0.06,
               "Burglary": 0.06, "Drugs": 0.04, "Other crime": 0.03, "Possession of weapons": 0.02,
               "Robbery": 0.02, "Theft from the person": 0.02, "Bicycle theft": 0.03}


# --------------------------------------------------------------------------- data
def _snap_points(rng, n: int) -> np.ndarray:
    """Snap points clustered like towns: most near a few hundred centres, some scattered."""
    x0, y0, x1, y1 = EXTENT
    centres = np.column_stack([rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)])
    which = rng.integers(0, len(centres), n)
    pts = centres[which] + rng.normal(0, 2_500, (n, 2))
    scattered = rng.random(n) < 0.2
    pts[scattered] = np.column_stack([rng.uniform(x0, x1, scattered.sum()), rng.uniform(y0, y1, scattered.sum())])
    return np.round(pts, 0)


def national(rows: int, locations: int = 250_000, months: int = 12, seed: int = 11,
             root: Path | None = None, first_year: int = 2024) -> Path:
    """police.uk monthly street CSVs (YYYY-MM/YYYY-MM-national-street.csv) from January of
    `first_year` on (months after next year are rejected as out of range: a decade ends in 2026)."""
    out = (root or DATA) / (f"national_{rows}" if months == 12 else f"national_{rows}_{months}m_{first_year}")
    done = out / ".complete"
    if done.exists():
        return out
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    xy = _snap_points(rng, locations)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    lon_s = np.array([f"{v:.6f}" for v in lon], dtype=object)
    lat_s = np.array([f"{v:.6f}" for v in lat], dtype=object)
    street = np.array([f"On or near Street {i}" for i in range(locations)], dtype=object)
    p = rng.pareto(1.2, locations) + 1
    p /= p.sum()
    names = list(CRIME_TYPES)
    probs = np.array(list(CRIME_TYPES.values()))
    probs /= probs.sum()
    hexd = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
    per = rows // months
    shutil.rmtree(out, ignore_errors=True)
    for m in range(months):
        n = per if m < months - 1 else rows - per * (months - 1)
        loc = rng.choice(locations, n, p=p)
        is_asb = rng.random(n) < 0.20
        no_loc = rng.random(n) < 0.02
        ctype = np.where(is_asb, "Anti-social behaviour", np.array(names, dtype=object)[rng.choice(len(names), n, p=probs)])
        raw = np.frombuffer(rng.bytes(32 * n), dtype=np.uint8).reshape(n, 32)
        cid = np.ascontiguousarray(hexd[raw]).view("S64").ravel().astype(str).astype(object)
        cid[is_asb] = ""
        month = f"{first_year + m // 12}-{m % 12 + 1:02d}"
        table = pa.table({
            "Crime ID": cid, "Month": np.full(n, month, dtype=object),
            "Reported by": np.full(n, "Benchmark Police", dtype=object),
            "Falls within": np.full(n, "Benchmark Police", dtype=object),
            "Longitude": np.where(no_loc, "", lon_s[loc]), "Latitude": np.where(no_loc, "", lat_s[loc]),
            "Location": np.where(no_loc, "No Location", street[loc]),
            "LSOA code": np.full(n, "E01000001", dtype=object), "LSOA name": np.full(n, "Somewhere 001A", dtype=object),
            "Crime type": ctype, "Last outcome category": np.where(is_asb, "", "Under investigation"),
            "Context": np.full(n, "", dtype=object)})
        (out / month).mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(table, out / month / f"{month}-national-street.csv")
    done.touch()
    return out


def wards(n: int = 7_000, seed: int = 12) -> Path:
    """~`n` Voronoi "wards" over England's extent, named "Ward 0000", ..."""
    path = DATA / f"wards_{n}.gpkg"
    if path.exists():
        return path
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = EXTENT
    seeds = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    frame = shapely.box(x0, y0, x1, y1)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    gdf = gpd.GeoDataFrame({"name": [f"Ward {i:04d}" for i in range(len(cells))]}, geometry=cells, crs="EPSG:27700")
    DATA.mkdir(parents=True, exist_ok=True)
    gdf.to_file(path, driver="GPKG")
    return path


def snapped(rows: int = 1_000_000, locations: int = 15_000, seed: int = 13) -> Path:
    path = DATA / f"snapped_{rows}.csv"
    if path.exists():
        return path
    import pandas as pd

    rng = np.random.default_rng(seed)
    xy = np.round(np.column_stack([rng.uniform(440_000, 460_000, locations), rng.uniform(510_000, 530_000, locations)]), 0)
    p = rng.pareto(1.2, locations) + 1
    loc = rng.choice(locations, rows, p=p / p.sum())
    days = rng.integers(0, 365, rows)
    date = (np.datetime64("2024-01-01") + days.astype("timedelta64[D]")).astype(str)
    cat = np.where(rng.random(rows) < 0.3, "Anti-social behaviour", "Criminal damage and arson")
    DATA.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": np.arange(rows), "date": date, "category": cat, "x": xy[loc, 0], "y": xy[loc, 1],
                  "location": [f"Street {i}" for i in loc]}).to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- timing
def _first_to_go() -> None:
    """A timed process is the first the kernel ends when memory runs out (a baseline reading
    several national years may not fit): the machine's other work is not."""
    try:
        Path("/proc/self/oom_score_adj").write_text("1000")
    except OSError:
        pass


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(wall s, peak MiB, exit code, last stderr line) of one fresh process under /usr/bin/time -v."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=_first_to_go)
    err = proc.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    code = int(re.search(r"Exit status: (\d+)", err).group(1)) if "Exit status" in err else proc.returncode
    tail = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("\t")]
    return seconds, peak, code, (tail[-1] if tail else "")


def fresh(*paths: Path) -> None:
    """Remove a workspace (its file, incidents folder, lock, backups) or an output before a run."""
    for path in paths:
        for p in [path, path.with_name(f"{path.stem}.incidents"), path.with_name(f".{path.name}.lock"),
                  *path.parent.glob(f"{path.stem}.backup-*")]:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def pair(label: str, ours: list[str], base: list[str], work: Path, repeats: int,
         before=None) -> dict:
    """The command and its baseline in turn, `repeats` times (`before()` runs untimed before each
    run of the command)."""
    runs = {"ours": [], "base": []}
    for _ in range(repeats):
        for key, cmd in (("ours", ours), ("base", base)):
            if before is not None and key == "ours":  # the workspace the next commands read is kept
                before()
            s, mib, code, tail = timed(cmd, work)
            if code != 0:
                raise SystemExit(f"{label} ({key}) failed with exit {code}: {tail}")
            runs[key].append((s, mib))
            print(f"  {label} [{key}]: {s:.1f} s, {mib:,.0f} MiB", flush=True)
    med = {k: (statistics.median(r[0] for r in v), max(r[1] for r in v)) for k, v in runs.items()}
    return {"label": label, "ours": med["ours"], "base": med["base"], "ratio": med["base"][0] / med["ours"][0],
            "mem_ratio": med["base"][1] / med["ours"][1],
            "pairs": [b[0] / o[0] for o, b in zip(runs["ours"], runs["base"])],
            "runs": runs}


def combined(label: str, parts: list[dict]) -> dict:
    """Two commands run one after the other (e.g. ingest, then clusters on its output) against
    their two baselines: seconds add up, peak memory is the larger of the two; ratios pair by
    pair (run i of each)."""
    n = min(len(p["runs"]["ours"]) for p in parts)
    ours = [sum(p["runs"]["ours"][i][0] for p in parts) for i in range(n)]
    base = [sum(p["runs"]["base"][i][0] for p in parts) for i in range(n)]
    o = (statistics.median(ours), max(p["ours"][1] for p in parts))
    b = (statistics.median(base), max(p["base"][1] for p in parts))
    return {"label": label, "ours": o, "base": b, "ratio": b[0] / o[0], "mem_ratio": b[1] / o[1],
            "pairs": [bb / oo for oo, bb in zip(ours, base)], "runs": None}


def solo(label: str, cmd: list[str], work: Path) -> dict:
    s, mib, code, tail = timed(cmd, work)
    print(f"  {label}: {s:.1f} s, {mib:,.0f} MiB, exit {code}", flush=True)
    return {"label": label, "seconds": s, "peak": mib, "code": code, "tail": tail}


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


# --------------------------------------------------------------------------- scenarios
def years_scenario(name: str, rows: int, months: int, limit_gib: float, root: Path, work: Path,
                   baselines: bool, keep: bool, first_year: int = 2024) -> None:
    """Several national years: ingest into a workspace, then a ward's table, the ASB ranking of
    7,000 wards and the ASB patrol areas of every month loaded, each in a fresh process; each
    must stay under `limit_gib` peak. With `baselines`, the plain scripts on the same files
    (their peaks are what made this the question)."""
    folder, wpath = national(rows, months=months, root=root, first_year=first_year), wards()
    last = f"{first_year + (months - 1) // 12}-{(months - 1) % 12 + 1:02d}"
    ws = work / f"{name}.gpkg"
    csv_bytes = du(folder)
    load = os.getloadavg()[0]
    fresh(ws)
    runs = [solo(f"`hotspot ingest` {months} monthly files --into a workspace",
                 HOTSPOT + ["ingest", str(folder), "--into", str(ws), "--format", "json"], work)]
    store_bytes = du(work / f"{name}.incidents") if (work / f"{name}.incidents").exists() else 0
    runs += [solo(f"`hotspot table` one ward, {last} (month, 6 and 12 months against a year earlier)",
                  HOTSPOT + ["table", str(ws), "--areas", str(wpath), "--area", "Ward 0042", "--month", last,
                             "--format", "json"], work),
             solo("`hotspot rank --category asb` 7,000 wards, every month loaded",
                  HOTSPOT + ["rank", str(ws), "--areas", str(wpath), "--category", "asb", "--top", "10",
                             "--format", "json"], work),
             solo("`hotspot clusters --category asb` every month loaded -> GPKG",
                  HOTSPOT + ["clusters", str(ws), "--category", "asb", "--eps-m", "100", "--min-samples", "15",
                             "--out", str(work / f"{name}_clusters.gpkg"), "--format", "json"], work)]
    base = []
    if baselines:
        out = work / f"{name}_base.parquet"
        base = [solo("`plain_ingest.py` (baseline)", [PY, str(BASE / "plain_ingest.py"), str(folder), str(out)], work)]
        if base[0]["code"] == 0:
            base += [solo("`plain_table.py` (baseline)", [PY, str(BASE / "plain_table.py"), str(out), str(wpath),
                                                          "Ward 0042", last], work),
                     solo("`plain_rank.py` (baseline)", [PY, str(BASE / "plain_rank.py"), str(out), str(wpath),
                                                        "Anti-social behaviour"], work),
                     solo("`plain_clusters.py` (baseline)", [PY, str(BASE / "plain_clusters.py"), str(out),
                                                            str(work / f"{name}_base.gpkg"), "100", "15",
                                                            "Anti-social behaviour"], work)]
        out.unlink(missing_ok=True)
    title = {"e2e_three": "Three national years", "e2e_decade": "A national decade"}.get(name, name)
    lines = [f"## {title} (benchmarks/e2e.py --only {'three-years' if name == 'e2e_three' else 'decade'})", "",
             f"Machine: {machine()}; load average at start {load:.1f}, at the end {os.getloadavg()[0]:.1f}.", "",
             f"{rows:,} police.uk rows in {months} monthly files ({csv_bytes / 2**30:.1f} GiB of CSV; the national "
             f"generator of section e2e, {first_year}-01..{last}) in `{folder.parent}`; each command once in a fresh process "
             "under `/usr/bin/time -v` (start-up, imports, reading, work, writing). The workspace's partitioned "
             f"incidents: {store_bytes / 2**30:.1f} GiB of GeoParquet.", "",
             f"| command | seconds | peak MiB | completed | under {limit_gib:g} GiB |", "|---|---:|---:|---|---|"]
    for r in runs + base:
        ok = r["code"] == 0
        lines.append(f"| {r['label']} | {r['seconds']:.1f} | {r['peak']:,.0f} | "
                     f"{'yes' if ok else 'NO (exit %d: %s)' % (r['code'], r['tail'][:80])} | "
                     f"{'yes' if r['peak'] < limit_gib * 1024 else 'NO'} |")
    kept = []
    if not baselines:  # the plain scripts' rows of the last run that had them, said as such
        from _common import RESULTS
        old = RESULTS.read_text() if RESULTS.exists() else ""
        block = re.search(rf"<!-- {name}:start -->(.*?)<!-- {name}:end -->", old, flags=re.S)
        kept = [ln for ln in (block.group(1).splitlines() if block else [])
                if ln.startswith("| `plain_") or ln.startswith("Baseline (the plain scripts")]
        lines += [ln for ln in kept if ln.startswith("| ")]
    peak = max(r["peak"] for r in runs)
    met = all(r["code"] == 0 and r["peak"] < limit_gib * 1024 for r in runs)
    lines += ["", f"Target: ingest + table + rank + clusters each complete under {limit_gib:g} GiB peak: "
              f"largest peak {peak / 1024:.2f} GiB, {sum(r['seconds'] for r in runs):.0f} s in all -- "
              f"**{'met' if met else 'NOT met'}** ({time.strftime('%Y-%m-%d')})."]
    if base:
        bpeak = max(r["peak"] for r in base)
        lines.append(f"Baseline (the plain scripts, same files, {time.strftime('%Y-%m-%d')}, load at start "
                     f"{load:.1f}): largest peak {bpeak / 1024:.2f} GiB, {sum(r['seconds'] for r in base):.0f} s in all.")
    lines += [ln for ln in kept if ln.startswith("Baseline (the plain scripts")]
    text = "\n".join(lines)
    print(text)
    write_section(name, text)
    if not keep:
        fresh(ws, work / f"{name}_clusters.gpkg", work / f"{name}_base.gpkg")


#: What the figures rest on (kept with the table whatever scenario is re-run).
HOW = [
    "How: `hotspot ingest --into` reads the police.uk files a batch at a time (about "
    "`settings.INGEST_BATCH_BYTES` of CSV) and writes each batch's rows straight into the workspace's "
    "incidents, GeoParquet partitioned by month and provider (`io/workspace/partitioned.py`), so memory "
    "holds one batch; the clusters and rank commands read back only the ASB rows, only the columns they "
    "use, through pyarrow.dataset with the selection pushed into the scan, and judge month coverage on the "
    "workspace's summary of everything loaded (its manifest), not on the rows read.",
    "",
    "What took the national year from 1.3x to 3.9x (2026-12-06): the `hotspot` process keeps freed memory "
    "for reuse (`cli/allocator.py`: glibc `mallopt` and Arrow on the system pool; the kernel time of the ingest "
    "fell from 7 to 1.3 s of its CPU seconds), each snap point is reprojected and made a Point once per load, "
    "not once a batch (`geo.Places`), the bitmap of loaded ids grows with the load instead of first touching "
    "128 MiB, the workspace writer factorizes each text column once, and the grid DBSCAN narrows its border "
    "search from the side with fewer points (195,354 ASB locations, 10,140 core: 0.59 -> 0.03 s).",
    "",
    "From 3.9x to 4.6x (2026-12-06, later): the writer lays out the points' WKB and bounds with numpy "
    "(shapely's per-point `to_wkb` cost 1.2 s) and dictionary-encodes the bbox columns (Parquet writes 25% "
    "faster), each batch's id keys are sorted once and the loaded-id bitmap set byte by byte (about 2 s), the "
    "load's months and providers come from the files written, the process leaves without freeing every "
    "object once its outputs are written (0.2 s of `clusters`), and the grid DBSCAN rules out sparse cells "
    "with a coarse bound first (0.30 -> 0.15 s).",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--only", choices=["national", "snapped", "three-years", "decade"], default=None)
    ap.add_argument("--rows", type=int, default=6_000_000, help="rows of the national year")
    ap.add_argument("--data", type=Path, default=Path("/work/bigdata"),
                    help="folder for the multi-year data (three years, a decade): several GiB")
    ap.add_argument("--baselines", action="store_true", help="also run the plain scripts on three years")
    ap.add_argument("--keep", action="store_true", help="keep the workspaces and the data")
    args = ap.parse_args()
    work = DATA / "e2e_work"
    work.mkdir(parents=True, exist_ok=True)
    if args.only == "three-years":
        years_scenario("e2e_three", 18_000_000, 36, 4.0, args.data, work, args.baselines, args.keep)
        return
    if args.only == "decade":
        args.data.mkdir(parents=True, exist_ok=True)
        dwork = args.data / "work"
        dwork.mkdir(exist_ok=True)
        try:
            years_scenario("e2e_decade", 60_000_000, 120, 8.0, args.data, dwork, False, args.keep, first_year=2017)
        finally:
            if not args.keep:
                shutil.rmtree(args.data / "national_60000000_120m_2017", ignore_errors=True)
                shutil.rmtree(dwork, ignore_errors=True)
        return
    results = []
    load = os.getloadavg()[0]
    if args.only in (None, "snapped"):
        csv = snapped()
        results.append(pair("`hotspot clusters` 1M snapped CSV, against DBSCAN on the raw points",
                            HOTSPOT + ["clusters", str(csv), "--eps-m", "100", "--min-samples", "15", "--out", "c.gpkg"],
                            [PY, str(BASE / "plain_clusters.py"), str(csv), "c_raw.gpkg", "100", "15", "--raw"],
                            work, args.repeats))
        results.append(pair("`hotspot clusters` 1M snapped CSV (eps 100 m, min samples 15) -> GPKG",
                            HOTSPOT + ["clusters", str(csv), "--eps-m", "100", "--min-samples", "15", "--out", "c.gpkg"],
                            [PY, str(BASE / "plain_clusters.py"), str(csv), "c_base.gpkg", "100", "15"], work, args.repeats))
        results.append(pair("`hotspot grid --method gistar` 1M snapped CSV, 250 m cells -> GPKG",
                            HOTSPOT + ["grid", str(csv), "--cell-m", "250", "--method", "gistar", "--out", "g.gpkg"],
                            [PY, str(BASE / "plain_grid.py"), str(csv), "g_base.gpkg", "250"], work, args.repeats))
    if args.only in (None, "national"):
        folder, wpath = national(args.rows), wards()
        ws = work / "nat.gpkg"
        results.append(pair(f"`hotspot ingest --into` a new workspace, national year ({args.rows:,} police.uk rows)",
                            HOTSPOT + ["ingest", str(folder), "--into", str(ws), "--format", "json"],
                            [PY, str(BASE / "plain_ingest.py"), str(folder), "nat_base.parquet"], work, args.repeats,
                            before=lambda: fresh(ws)))
        results.append(pair("`hotspot clusters --category asb` national year (the workspace) -> GPKG",
                            HOTSPOT + ["clusters", str(ws), "--category", "asb", "--eps-m", "100", "--min-samples", "15",
                                       "--out", "nat_clusters.gpkg"],
                            [PY, str(BASE / "plain_clusters.py"), "nat_base.parquet", "nat_clusters_base.gpkg", "100", "15",
                             "Anti-social behaviour"], work, args.repeats))
        results.append(combined("national year: ingest, then ASB patrol areas (the two rows above)",
                                results[-2:]))
        results.append(pair("`hotspot rank --category asb` national year (the workspace) to 7,000 wards",
                            HOTSPOT + ["rank", str(ws), "--areas", str(wpath), "--category", "asb", "--top", "10",
                                       "--format", "json"],
                            [PY, str(BASE / "plain_rank.py"), "nat_base.parquet", str(wpath), "Anti-social behaviour"],
                            work, args.repeats))
    lines = ["## End to end: the user's commands (benchmarks/e2e.py)", "",
             f"Machine: {machine()}; load average at start {load:.1f}.", "",
             "Each figure: one fresh process under `/usr/bin/time -v` (start-up, imports, reading, work, writing), "
             f"median of {args.repeats} run(s), the command and its baseline alternating. Baselines: the named plain "
             "scripts in `benchmarks/baselines/` (the clusters and rank scripts read `plain_ingest.py`'s own "
             "GeoParquet). Ratio = baseline seconds / command seconds (> 1: the command is faster); memory ratio = "
             "baseline peak / command peak.", "",
             "| command | seconds | peak MiB | baseline | baseline seconds | baseline peak MiB | speed ratio | memory ratio |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    names = {"clusters": "plain_clusters.py", "grid": "plain_grid.py", "ingest": "plain_ingest.py", "rank": "plain_rank.py"}
    for r in results:
        if r["runs"] is None:
            base = "`plain_ingest.py` + `plain_clusters.py`"
        else:
            base = "`" + next(v for k, v in names.items() if f"hotspot {k}" in r["label"]) \
                + (" --raw" if "raw points" in r["label"] else "") + "`"
        pairs = ", ".join(f"{x:.2f}" for x in r["pairs"])
        lines.append(f"| {r['label']} | {r['ours'][0]:.1f} | {r['ours'][1]:,.0f} | {base} | {r['base'][0]:.1f} | "
                     f"{r['base'][1]:,.0f} | {r['ratio']:.2f}x ({pairs}) | {r['mem_ratio']:.2f}x |")
    targets = {"national year: ingest, then ASB patrol areas": (3.0, "national year, ingest + ASB patrol "
                                                               "areas >= 3x the plain scripts with at most half their peak"),
               "against DBSCAN on the raw points": (10.0, "`clusters` on the 1M snapped CSV >= 10x "
                                                     "read_csv + sklearn DBSCAN on the raw points")}
    notes = []
    for r in results:
        for key, (goal, text) in targets.items():
            if key in r["label"]:
                met = r["ratio"] >= goal and (goal != 3.0 or r["mem_ratio"] >= 2)
                notes.append(f"- Target: {text}: {r['ratio']:.2f}x (pairs {', '.join(f'{x:.2f}' for x in r['pairs'])}),"
                             f" memory {r['mem_ratio']:.2f}x -- **{'met' if met else 'NOT met'}** "
                             f"({time.strftime('%Y-%m-%d')}, load {load:.1f}).")
    if args.only:  # keep the other scenario's rows and target lines from the last run
        from _common import RESULTS
        old = RESULTS.read_text() if RESULTS.exists() else ""
        block = re.search(r"<!-- e2e:start -->(.*?)<!-- e2e:end -->", old, flags=re.S)
        ran = {r["label"] for r in results}
        for line in (block.group(1).splitlines() if block else []):
            other = "snapped" if ("snapped" in line or "raw points" in line) else "national"
            if other == args.only:
                continue
            if line.startswith("| ") and not line.startswith(("| command", "|---")) \
                    and line.split(" | ")[0][2:] not in ran:
                lines.append(line)
            elif line.startswith("- Target"):
                notes.append(line)
    lines += ["", f"Speed ratio: medians, then each pair's own ratio in brackets. Load average at the end "
              f"{os.getloadavg()[0]:.1f} (2 cores).", "", *notes, "", *HOW]
    text = "\n".join(lines)
    print(text)
    write_section("e2e", text)


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"done in {time.time() - t0:.0f} s")
