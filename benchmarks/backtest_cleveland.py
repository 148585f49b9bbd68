"""Which method predicts next month: the backtest on real police.uk data, and the time it takes.

Data: ``../shared/realdata/police_cleveland``, the 24 monthly street files 2023-01..2024-12, read
with ``ingest.read_incidents``. Backtest (``core.backtest.backtest``): ASB, scoring months
2024-01..2024-12, each month's maps built only from the months before it (2023-01 onwards),
250 m cells over the incidents' buffered convex hull, 5% of the area flagged, all seven methods.

Also timed on the same data (wall clock, this process, best of 3): emerging hot spots on the 24
months of ASB (250 m, monthly steps) and the snap-point stability of the top 5 patrol areas and
cells of 2024 ASB (20 draws). police.uk has no dates, so the Knox test is timed on synthetic
dated incidents (10,000 over 5 km x 5 km and a year, 99 permutations).

Run: ``.venv/bin/python benchmarks/backtest_cleveland.py``. Prints the table; writes the
``backtest`` section of RESULTS.md. Skips (and writes nothing) without the real data.
"""

from __future__ import annotations

import os
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, write_section  # noqa: E402

REAL = ROOT.parent / "shared" / "realdata" / "police_cleveland"


def best_of(n, func, *args, **kwargs):
    times, out = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        out = func(*args, **kwargs)
        times.append(time.perf_counter() - t0)
    return min(times), sorted(times)[len(times) // 2], out


def fmt(v, nd=2):
    return "n/a" if v is None else f"{v:.{nd}f}"


def main() -> None:
    files = sorted(REAL.glob("202[34]-*-cleveland-street.csv"))
    if len(files) < 24:
        print(f"skipped: the 2023-2024 Cleveland files are not in {REAL}")
        return
    import numpy as np
    import pandas as pd

    from hotspot_app.io import ingest
    from hotspot_app.core import schema, selection
    from hotspot_app.core import backtest, emerging, near_repeat, stability

    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    inc = ingest.read_incidents(files).incidents
    t_read = time.perf_counter() - t0
    n_asb = int(selection.select(inc, "asb").shape[0])

    t_bt, t_bt_med, res = best_of(3, backtest.backtest, inc, "2024-01..2024-12", category="asb",
                                  cell_m=250, area_share=0.05)
    table = res.table
    print(table[["method", "pai", "pei", "rri", "months", "pai_sd", "pei_sd"]].to_string(index=False))
    print("best:", res.best)
    for w in res.warnings:
        print("warning:", w)

    t_em, t_em_med, em = best_of(3, emerging.emerging_hotspots, inc, 250, category="asb",
                                 period="2023-01..2024-12")
    t_st, t_st_med, st = best_of(3, stability.snap_stability, inc, category="asb",
                                 period="2024-01..2024-12", draws=20)
    rng = np.random.default_rng(0)
    n_nr = 10_000
    occ = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n_nr), unit="D")
    dated = schema.make_incidents(pd.DataFrame({"category": "Burglary", "occurred": occ}),
                                  x=rng.uniform(400_000, 405_000, n_nr),
                                  y=rng.uniform(500_000, 505_000, n_nr))
    t_nr, t_nr_med, nr = best_of(3, near_repeat.knox, dated, permutations=99)

    libs = ", ".join(f"{n} {metadata.version(n)}" for n in ("scipy", "statsmodels"))
    p = res.parameters
    cmp_ = p.get("comparison") or {}
    lines = [
        "## Backtest: which method predicts next month (benchmarks/backtest_cleveland.py)",
        "",
        f"Machine: {machine()}; {libs}",
        "",
        f"Data: police.uk Cleveland street files 2023-01..2024-12 ({len(inc):,} incidents, "
        f"{n_asb:,} ASB), read in {t_read:.1f} s. ASB; scoring months {p['from']}..{p['to']} "
        f"(12), each month's maps built only from the months before it ({p['history_from']} "
        f"onwards); {p['cell_m']:g} m cells over the incidents' buffered convex hull "
        f"({p['n_cells']:,} cells, {p['study_area_km2']:,.0f} km²); the top "
        f"{p['area_share']:.0%} of the area flagged. KDE bandwidth {p['bandwidth_m']:g} m; DBSCAN "
        f"eps {p['eps_m']:g} m, min_samples {p['min_samples']} (street-level preset). Means over "
        "the months (sd = standard deviation month to month).",
        "",
        "| method | PAI | PEI | RRI | months | PAI sd | PEI sd | hit rate |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table.itertuples(index=False):
        lines.append(f"| {r.method} | {fmt(r.pai)} | {fmt(r.pei, 3)} | {fmt(r.rri, 3)} | "
                     f"{r.months} | {fmt(r.pai_sd)} | {fmt(r.pei_sd, 3)} | {r.hit_rate:.1%} |")
    lines += [
        "",
        f"Best by mean PAI: **{res.best}**; against the runner-up ({cmp_.get('runner_up')}) "
        f"better in {cmp_.get('months_better')} of {cmp_.get('months')} months, paired Wilcoxon "
        f"signed-rank p = {fmt(cmp_.get('p_value'), 4)}. The page's sentence: "
        f"\"{res.sentence()}\"",
        "",
        "Warnings: " + ("; ".join(res.warnings) if res.warnings else "none") + ".",
        "",
        f"Time (wall clock in this process, best (median) of 3; load average at start "
        f"{load:.1f}, a shared machine, so timings vary run to run):",
        "",
        "| analysis | data | s |",
        "|---|---|---:|",
        f"| backtest, 7 methods x 12 months | Cleveland ASB 2023-01..2024-12 | {t_bt:.2f} ({t_bt_med:.2f}) |",
        f"| emerging hot spots, 24 monthly steps, 250 m ({len(em.cells):,} cells with incidents) "
        f"| Cleveland ASB 2023-01..2024-12 | {t_em:.2f} ({t_em_med:.2f}) |",
        f"| snap-point stability, top 5 patrol areas and cells, 20 draws | Cleveland ASB 2024 "
        f"({st.parameters['n_incidents']:,}) | {t_st:.2f} ({t_st_med:.2f}) |",
        f"| Knox near-repeat, 3 x 3 bands, 99 permutations ({nr.parameters['n_pairs_within']:,} "
        f"pairs within 400 m) | synthetic, {n_nr:,} dated incidents | {t_nr:.2f} ({t_nr_med:.2f}) |",
        "",
        "Emerging classes on Cleveland ASB (cells): "
        + ", ".join(f"{k} {v:,}" for k, v in em.counts_by_class().items()) + ".",
    ]
    write_section("backtest", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
