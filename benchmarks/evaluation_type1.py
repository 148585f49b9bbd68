"""Type I error and power of the matched evaluation (issue 19) on the constructed case.

The constructed case (tests/evaluation_cases.py): a study area whose western half is flat and
whose eastern half rises 3.5% a month; the target micro-hotspot in the west; 40 other
micro-hotspots in the same layer (20 west, 20 east); monthly counts Poisson around levels of
40-80 a month with a common seasonal wave and a 10% month-to-month shock. Each simulated
dataset is the count matrix `matched.evaluate_matched` builds (18 covered pre-period months,
before 2021-07..12, after 2022-07..12).

Measured, at the 5% level:
- the matched difference-in-differences (`comparison.match` + `did.did`): rejection rate over
  N_DID null datasets (type I error) and over N_DID datasets with a planted 30% fall (power);
- the naive control (the rest of the layer, all 40 other hotspots): the same two rates;
- the placebo-in-space test (`did.placebo`, each of the 40 others as pseudo-target): rejection
  rate (p <= 0.05) over the first N_PLACEBO datasets of each kind;
- the share of matched areas that are western (the right comparison).
Each rate with its 95% (Wilson) interval. Prints the figures and writes the
``evaluation_type1`` section of RESULTS.md.

Run: ``.venv/bin/python benchmarks/evaluation_type1.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, write_section  # noqa: E402

N_DID = 1000
N_PLACEBO = 1000
SEED = 2026


def wilson(k: int, n: int) -> tuple[float, float]:
    from scipy import stats

    z = stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    import evaluation_cases as ec

    from hotspot_app.core import periods
    from hotspot_app.core.evaluation import comparison, did

    months = ec.MONTHS
    pre = np.arange(18)
    b = np.array([months.index(m) for m in periods.month_range(*ec.BEFORE)])
    a = np.array([months.index(m) for m in periods.month_range(*ec.AFTER)])
    xy, _ = ec.hotspot_centres()
    far = np.hypot(*(xy[1:] - xy[0]).T)  # each candidate's distance from the target, metres
    rows = []
    timing = {}
    for label, effect in (("no effect (type I error)", 1.0), ("planted 30% fall (power)", 0.7)):
        rng = np.random.default_rng(SEED)
        k_m = k_n = k_p = n_p = k_lt = 0
        west = []
        t0 = time.perf_counter()
        for i in range(N_DID):
            c = ec.simulate_counts(rng, effect=effect)
            m = comparison.match(c[0, pre], c[1:, pre], distance_m=far)
            sel = 1 + m.chosen
            lt = 1 + comparison.match(c[0, pre], c[1:, pre]).chosen
            k_lt += did.did(c[0, b], c[0, a], c[lt][:, b], c[lt][:, a]).significant
            west.append(float(np.mean(m.chosen < 20)))
            e = did.did(c[0, b], c[0, a], c[sel][:, b], c[sel][:, a])
            k_m += e.significant
            k_n += did.did(c[0, b], c[0, a], c[1:, b], c[1:, a]).significant
            if i < N_PLACEBO:
                plc = did.placebo(c[1:].astype(float), pre=pre, before=b, after=a, target_effect=e,
                                  ids=[str(j) for j in range(40)], centres=xy[1:])
                k_p += plc.p_value <= 0.05
                n_p += 1
        timing[label] = time.perf_counter() - t0
        for method, k, n in (("matched DiD (95% CI excludes 1)", k_m, N_DID),
                             ("matched on level and trend only, no distance (95% CI excludes 1)", k_lt, N_DID),
                             ("rest of the layer (95% CI excludes 1)", k_n, N_DID),
                             ("placebo-in-space (p <= 0.05)", k_p, n_p)):
            lo, hi = wilson(k, n)
            rows.append((label, method, n, k / n, lo, hi))
        rows.append((label, "share of matched areas that are western", N_DID, float(np.mean(west)), None, None))

    lines = ["## Evaluation: type I error and power of the matched comparison (benchmarks/evaluation_type1.py)",
             "", f"Machine: {machine()}", "",
             "The constructed case of issue 19 (western half flat, eastern half +3.5% a month; target in "
             "the west; 40 other micro-hotspots, 20 west and 20 east; Poisson counts, levels 40-80 a "
             "month, seasonal wave, 10% monthly shock). Each dataset is the count matrix the evaluation "
             f"builds (18 pre-period months; 6-month windows a year apart). Comparison areas matched on "
             "pre-period level, trend and distance from the target (`comparison.match`); the row "
             "'level and trend only' is the match without distance, for comparison. Seed "
             f"{SEED}; 5% level; 95% Wilson intervals.", "",
             "| data | test | datasets | rejection rate | 95% interval |", "|---|---|---:|---:|---|"]
    for label, method, n, rate, lo, hi in rows:
        ci = "" if lo is None else f"{lo:.3f}-{hi:.3f}"
        lines.append(f"| {label} | {method} | {n} | {rate:.3f} | {ci} |")
    lines.append("")
    lines.append("Time: " + "; ".join(f"{k}: {v:.0f} s for {N_DID} datasets (placebo on {N_PLACEBO})"
                                       for k, v in timing.items()) + ".")
    text = "\n".join(lines)
    print(text)
    write_section("evaluation_type1", text)


if __name__ == "__main__":
    main()
