"""PostGIS workspace: time of the monthly cycle on real police.uk months (Cleveland, from
../shared/realdata) through `workspace.PostgisWorkspace` (one transaction per load: lock, delete
the month's key, COPY the rows, history, audit) against plain geopandas `to_postgis` append /
`read_postgis` on the same server (baseline), on a throwaway cluster (tests/pg.py).

Run: .venv/bin/python benchmarks/store_pg.py   (writes its section of benchmarks/RESULTS.md)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import geopandas as gpd  # noqa: E402

from _common import machine, write_section  # noqa: E402
from hotspot_app.io import ingest
from hotspot_app.core import schema, settings
from hotspot_app.io import workspace  # noqa: E402
from pg import throwaway_cluster  # noqa: E402

MONTHS = 12
REALDATA = ROOT.parent / "shared" / "realdata" / "police_cleveland"


def timed(func, *args):
    t0 = time.perf_counter()
    out = func(*args)
    return time.perf_counter() - t0, out


def main() -> None:
    files = sorted(REALDATA.glob("*-cleveland-street.csv"))[:MONTHS]
    if not files:
        sys.exit(f"no police.uk files under {REALDATA}")
    months = []
    for f in files:
        res = ingest.read_incidents([f])
        inc = res.incidents
        if "provider" not in inc.columns:
            inc = inc.assign(provider=schema.provider_of(inc))
        months.append((f, res, inc))
    with throwaway_cluster() as server:
        url = server.new_database()
        ws = workspace.open_workspace(url)
        loads = [timed(lambda m=m: ws.load_incidents(m[2], files=[m[0]], read=m[1].summary["read"],
                                                       rejected=m[1].summary["rejected"], user="bench"))[0]
                 for m in months]
        republish, result = timed(lambda: ws.load_incidents(months[0][2], files=[months[0][0]], user="bench"))
        read_s, all_inc = timed(ws.incidents)
        cov_s, cov = timed(ws.coverage)
        base_url = server.new_database()
        from sqlalchemy import create_engine

        engine = create_engine("postgresql+psycopg://" + base_url[len("postgresql://"):])
        plain = [timed(lambda m=m: m[2].to_postgis("incidents", engine, if_exists="append", index=False))[0]
                 for m in months]
        plain_read, plain_all = timed(lambda: gpd.read_postgis("SELECT * FROM incidents", engine,
                                                               geom_col="geometry", crs=settings.CRS))
        engine.dispose()
    n = len(all_inc)
    assert n == len(plain_all) == sum(len(m[2]) for m in months)
    assert result.replaced == result.added == len(months[0][2])
    rows = [
        ("`load_incidents`, one month (median of 12)", statistics.median(loads), statistics.median(len(m[2]) for m in months)),
        ("plain `to_postgis` append, one month (median of 12; baseline)", statistics.median(plain),
         statistics.median(len(m[2]) for m in months)),
        ("`load_incidents`, a republished month (replaces its rows)", republish, len(months[0][2])),
        ("`incidents()`, 12 months", read_s, n),
        ("plain `read_postgis`, 12 months (baseline)", plain_read, n),
        ("`coverage()`", cov_s, n),
    ]
    lines = [
        "## PostGIS workspace (benchmarks/store_pg.py)",
        "",
        f"Machine: {machine()}",
        "",
        f"Real data: the first {MONTHS} Cleveland police.uk street files ({n:,} incidents); a throwaway "
        "PostgreSQL cluster on the same machine (fsync off), one process, times in seconds.",
        "",
        "| operation | seconds | rows | rows/s |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {label} | {dt:.2f} | {rows_:,.0f} | {rows_ / dt:,.0f} |" for label, dt, rows_ in rows]
    lines += ["", f"Ratios: monthly load / plain append = {rows[0][1] / rows[1][1]:.2f}; "
                  f"read / plain read = {rows[3][1] / rows[4][1]:.2f}. Coverage rows: {len(cov)}."]
    write_section("store_pg", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
