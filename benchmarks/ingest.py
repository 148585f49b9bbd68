"""Ingest benchmark: police.uk street CSVs -> canonical EPSG:27700 incidents.

Generates 1,000,000 police.uk-format rows (12 monthly files in ``YYYY-MM/`` folders, like the
police.uk download) into ``benchmarks/_data/police_1m/`` (git-ignored; generated once, reused),
then times, each in a fresh process (``measure``):

- ``hotspot_app.ingest.read_incidents`` on the folder: header detection, validation, the rejects
  report, stable ASB ids, taxonomy, reprojection to EPSG:27700 -> GeoDataFrame;
- the baseline: plain ``pandas.read_csv`` per file + ``concat`` + ``geopandas.points_from_xy`` +
  ``to_crs("EPSG:27700")`` (rows without coordinates dropped, nothing validated or reported).

A second table times a generic 1M-row CSV (`e2e.snapped()`) against ``pandas.read_csv`` +
``points_from_xy``.

Run: ``.venv/bin/python benchmarks/ingest.py [--rows N] [--generic]``. Writes the ``ingest`` section of
RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, measure, write_section  # noqa: E402

HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
CRIME_TYPES = {  # shares of crime (ASB is drawn separately), roughly Cleveland 2024
    "Violence and sexual offences": 0.33, "Criminal damage and arson": 0.12, "Shoplifting": 0.11,
    "Public order": 0.09, "Other theft": 0.07, "Vehicle crime": 0.06, "Burglary": 0.06,
    "Drugs": 0.04, "Other crime": 0.03, "Possession of weapons": 0.02, "Robbery": 0.02,
    "Theft from the person": 0.02, "Bicycle theft": 0.03,
}
OUTCOMES = ["Investigation complete; no suspect identified", "Unable to prosecute suspect",
            "Under investigation", "Awaiting court outcome", "Court result unavailable",
            "Status update unavailable", "Local resolution", "Offender given a caution"]


def generate(out: Path, rows: int = 1_000_000, locations: int = 15_000, no_location: float = 0.02,
             asb: float = 0.20, months: int = 12, seed: int = 7) -> Path:
    """Write `rows` police.uk street rows as `months` monthly files under `out`; return `out`."""
    done = out / f".complete-{rows}"
    if done.exists():
        return out
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(-1.45, -0.80, locations), 6)
    lat = np.round(rng.uniform(54.45, 54.75, locations), 6)
    street = np.array([f"On or near Street {i}" for i in range(locations)], dtype=object)
    lsoa_i = rng.integers(0, 360, locations)
    lsoa_code = np.array([f"E0103{5000 + i:04d}" for i in range(360)], dtype=object)[lsoa_i]
    lsoa_name = np.array([f"Borough {i // 6:03d}{'ABCDEF'[i % 6]}" for i in range(360)],
                         dtype=object)[lsoa_i]
    # heavy-tailed popularity of locations, as in real snapped data
    p = rng.pareto(1.2, locations) + 1
    loc = rng.choice(locations, rows, p=p / p.sum())
    is_asb = rng.random(rows) < asb
    no_loc = rng.random(rows) < no_location
    ctype = rng.choice(list(CRIME_TYPES), rows, p=np.array(list(CRIME_TYPES.values())) / sum(CRIME_TYPES.values()))
    ctype = np.where(is_asb, "Anti-social behaviour", ctype)
    raw = np.frombuffer(rng.bytes(32 * rows), dtype=np.uint8).reshape(rows, 32)
    hexdigits = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
    crime_id = np.ascontiguousarray(hexdigits[raw]).view("S64").ravel().astype(str).astype(object)
    crime_id[is_asb] = ""
    outcome = np.array(OUTCOMES, dtype=object)[rng.integers(0, len(OUTCOMES), rows)]
    outcome[is_asb] = ""
    month_i = np.sort(rng.integers(0, months, rows))
    df = pd.DataFrame({
        "Crime ID": crime_id,
        "Month": [f"2024-{m + 1:02d}" for m in month_i],
        "Reported by": "Benchmark Police", "Falls within": "Benchmark Police",
        "Longitude": np.where(no_loc, "", lon[loc].astype(str)),
        "Latitude": np.where(no_loc, "", lat[loc].astype(str)),
        "Location": np.where(no_loc, "No Location", street[loc]),
        "LSOA code": np.where(no_loc, "", lsoa_code[loc]),
        "LSOA name": np.where(no_loc, "", lsoa_name[loc]),
        "Crime type": ctype, "Last outcome category": outcome, "Context": "",
    })
    out.mkdir(parents=True, exist_ok=True)
    for m, part in df.groupby(month_i):
        name = f"2024-{m + 1:02d}"
        (out / name).mkdir(exist_ok=True)
        part.to_csv(out / name / f"{name}-benchmark-street.csv", index=False)
    done.touch()
    return out


def run_ingest(path: str) -> tuple[int, int, int, float]:
    import time

    from hotspot_app.io.ingest import read_incidents

    cpu = time.process_time()
    res = read_incidents(path)
    assert res.incidents.crs.equals("EPSG:27700")
    s = res.summary
    return s["read"], s["loaded"], s["rejected"], time.process_time() - cpu


def run_ingest_warm(path: str) -> tuple[int, int, int, float, float]:
    """Second call in the same process (as in the app's long-running server): the wall and CPU
    seconds of that call only are returned (the 5th and 4th items)."""
    import time

    from hotspot_app.io.ingest import read_incidents

    read_incidents(path)
    cpu, wall = time.process_time(), time.perf_counter()
    s = read_incidents(path).summary
    return s["read"], s["loaded"], s["rejected"], time.process_time() - cpu, time.perf_counter() - wall


def run_baseline(path: str) -> tuple[int, int, int, float]:
    import time

    import geopandas as gpd

    cpu = time.process_time()
    files = sorted(Path(path).rglob("*.csv"))
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["Longitude"], df["Latitude"]),
                           crs="EPSG:4326").to_crs("EPSG:27700")
    return len(df), int(gdf.geometry.notna().sum()), 0, time.process_time() - cpu


def run_generic_baseline(path: str) -> tuple[int, int, int, float]:
    """Plain script for a generic CSV: read_csv + points_from_xy (EPSG:27700 metres given)."""
    import time

    import geopandas as gpd

    cpu = time.process_time()
    df = pd.read_csv(path)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs="EPSG:27700")
    return len(df), int(gdf.geometry.notna().sum()), 0, time.process_time() - cpu


def timed(funcs: dict, path: str, repeats: int) -> dict:
    """Per method: median and best wall seconds, median CPU seconds, peak MiB, result counts.

    Methods alternate run by run (A, B, A, B, ...), each run in a fresh process, so that both see
    the same background load on this shared machine.
    """
    runs = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, func in funcs.items():
            runs[name].append(measure(func, path))
    out = {}
    for name, rs in runs.items():
        secs = sorted(r[2][4] if len(r[2]) > 4 else r[0] for r in rs)
        cpus = sorted(r[2][3] for r in rs)
        out[name] = (secs[len(secs) // 2], secs[0], cpus[len(cpus) // 2], max(r[1] for r in rs), rs[0][2][:3])
    return out


GENERIC_HOW = [
    "- How: every column but the id is read dictionary-encoded by pyarrow and every rule runs once per",
    "  distinct text (`rules.Coded`); ids stay Arrow strings; one shared Point per distinct location;",
    "  reject text is built only for rejected rows; canonical text columns are object arrays pointing at",
    "  the shared distinct strings (later steps factorize them by identity: `locations.factorize_shared`).",
    "  Before the fast path the same file took 6.6-7.1 s CPU and 1.9 GB in the row-by-row reader.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--generic", action="store_true",
                        help="only the generic CSV section (the police.uk tables already in RESULTS.md are kept)")
    args = parser.parse_args()
    # import before forking: the timings measure the work, not module import
    import geopandas  # noqa: F401

    import hotspot_app.io.ingest  # noqa: F401
    data = generate(Path(__file__).parent / "_data" / f"police_{args.rows}", rows=args.rows)
    cases = [("synthetic police.uk, 12 monthly files", data)]
    real = ROOT.parent / "shared" / "realdata" / "police_cleveland"
    if real.is_dir():
        cases.append(("real Cleveland police.uk 2023-01..2025-11, 35 files", real))
    lines = [
        "## ingest: police.uk street CSVs -> EPSG:27700 incidents",
        "",
        f"Machine: {machine()}",
        "",
        f"Synthetic data: {args.rows:,} rows in 12 monthly `YYYY-MM/` files, ~15,000 distinct snapped",
        "locations (heavy-tailed use), ~2% without coordinates, ~20% ASB (empty Crime ID), 64-hex",
        "Crime IDs. Each figure: median (best) of "
        f"{args.repeats} runs, each in a fresh process (`measure`), the two methods alternating run by",
        "run; CPU = user+sys seconds of the process (all threads); peak = max RSS of the process.",
        "",
        "- **hotspot ingest**: `read_incidents(folder)` -- header detection, validation and the rejects",
        "  report, stable ASB ids, duplicate-id check, taxonomy, reprojection -> canonical GeoDataFrame.",
        "- **baseline**: `pandas.read_csv` per file + `concat` + `geopandas.points_from_xy` +",
        "  `to_crs(\"EPSG:27700\")`; no validation, no rejects, no ids, no taxonomy.",
        "- **warm process**: the same ingest called a second time in one process (the Streamlit",
        "  server's case); only that call is timed. A fresh process (the CLI's case) also pays for",
        "  faulting in new memory pages (sys time), which is most of the difference.",
        "",
        "| data | method | rows read | loaded | rejected | wall s median (best) | rows/s (median) | rows/s (best) | CPU s | peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios = []
    snapped = Path(__file__).parent / "_data" / "snapped_1000000.csv"
    if args.generic or not snapped.exists():
        sys.path.insert(0, str(Path(__file__).parent))
        from e2e import snapped as make_snapped

        snapped = make_snapped()
    generic_cases = [("generic CSV, 1M rows (id,date,category,x,y,location; 15,000 snap points)", snapped)]
    if args.generic:
        cases = []
    for label, path in cases:
        res = timed({"hotspot ingest": run_ingest, "baseline pandas+geopandas": run_baseline,
                     "hotspot ingest, warm process (2nd call)": run_ingest_warm}, str(path), args.repeats)
        for name, (med, best, cpu, peak, (read, loaded, rejected)) in res.items():
            lines.append(f"| {label} | {name} | {read:,} | {loaded:,} | {rejected:,} | {med:.2f} ({best:.2f}) | "
                         f"{read / med:,.0f} | {read / best:,.0f} | {cpu:.2f} | {peak:,.0f} |")
            print(lines[-1], flush=True)
        a, b = res["hotspot ingest"], res["baseline pandas+geopandas"]
        w = res["hotspot ingest, warm process (2nd call)"]
        ratios.append((label, b[0] / a[0], b[1] / a[1], b[2] / a[2], b[0] / w[0]))
    generic_lines = [
        "",
        "### generic CSV -> EPSG:27700 incidents",
        "",
        "`benchmarks/_data/snapped_1000000.csv` (`e2e.snapped()`): 1,000,000 rows, `id,date,category,x,y,location`,",
        "BNG metres on 15,000 snap points, ISO dates. **hotspot ingest**: `read_incidents(file)` (alias",
        "detection, date/coordinate parsing and every reject rule, ids, duplicate-id check, taxonomy);",
        "**baseline**: `pandas.read_csv` + `geopandas.points_from_xy` (no validation). Same layout as above.",
        "",
        "| data | method | rows read | loaded | rejected | wall s median (best) | rows/s (median) | rows/s (best) | CPU s | peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, path in generic_cases:
        res = timed({"hotspot ingest": run_ingest, "baseline read_csv+points_from_xy": run_generic_baseline},
                    str(path), args.repeats)
        for name, (med, best, cpu, peak, (read, loaded, rejected)) in res.items():
            generic_lines.append(f"| {label} | {name} | {read:,} | {loaded:,} | {rejected:,} | {med:.2f} ({best:.2f}) | "
                                 f"{read / med:,.0f} | {read / best:,.0f} | {cpu:.2f} | {peak:,.0f} |")
            print(generic_lines[-1], flush=True)
        a, b = res["hotspot ingest"], res["baseline read_csv+points_from_xy"]
        generic_lines += ["", f"- generic: ingest vs baseline speed ratio **{b[0] / a[0]:.1f}x** (median wall), "
                              f"{b[1] / a[1]:.1f}x (best wall), {b[2] / a[2]:.1f}x (CPU time); load average "
                              f"at the end {__import__('os').getloadavg()[0]:.1f} on 2 cores."]
        rate = a[4][0] / a[0]
        generic_lines += [f"- Target >= 1M rows/s (fresh process, median): {rate:,.0f} rows/s -- "
                          f"**{'met' if rate >= 1e6 else 'NOT met'}**.", *GENERIC_HOW]
    if args.generic:
        import re as _re

        from _common import RESULTS
        old = RESULTS.read_text()
        m = _re.search(r"<!-- ingest:start -->\n(.*?)\n### generic CSV|<!-- ingest:start -->\n(.*?)<!-- ingest:end -->", old, _re.S)
        keep = (m.group(1) or m.group(2)).rstrip() if m else "## ingest"
        write_section("ingest", keep + "\n" + "\n".join(generic_lines))
        return
    lines.append("")
    for label, med, best, cpu, warm in ratios:
        lines.append(f"- {label}: ingest vs baseline speed ratio **{med:.1f}x** (median wall), "
                     f"{best:.1f}x (best wall), {cpu:.1f}x (CPU time); warm process {warm:.1f}x.")
    lines += [
        "",
        "Why it is faster although it does more: pyarrow's multi-threaded CSV reader with dictionary-",
        "encoded text columns; months, crime types and coordinates parsed once per distinct value; each",
        "distinct (longitude, latitude) reprojected once and made into one shared shapely Point;",
        "duplicate ids found from 64-bit keys read straight from the Crime IDs' bytes; the id column",
        "written once from the CSV reader's buffers (Crime IDs share one width); no per-row Python.",
        "Note: 2 cores shared with other work, so absolute times vary run to run; compare the ratio.",
    ]
    write_section("ingest", "\n".join(lines + generic_lines))


if __name__ == "__main__":
    main()
