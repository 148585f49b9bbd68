"""Difference-in-differences against matched comparison areas, the placebo-in-space test and the
robustness table: the inference of an evaluation that survives review.

What is compared
----------------
The target's incidents in the *after* window against its *before* window, relative to the same
change in its comparison areas (chosen by `comparison.match` on the pre-period level and trend).
The effect is a rate ratio: 0.70 means 30% fewer incidents than the comparison areas' change
predicts; 1 means no effect.

The model (`did`)
-----------------
A Poisson regression of the monthly counts of the target and each comparison area over the
before and after months, with a level per area, a level per month, and a term for the target
in the after months (`panel`): rate ratio = exp(that term). Extra-Poisson variation is handled
by the Pearson scale (quasi-Poisson, t reference distribution); the 95% interval is
exp(b -/+ q * SE) and the p value tests "no effect". With one comparison area this is the
classic control-adjusted rate ratio (Ta/Tb)/(Ca/Cb) with a month-by-month model.

Assumption (parallel trends): without the intervention the target's counts would have changed
by the same factor as its comparison areas'. The pre-trend test (`comparison.pre_fit`) checks
it on the months before; the placebo test does not rely on the model at all.

Placebo-in-space (`placebo`)
----------------------------
Each candidate comparison area in turn is treated as if it had been the target: its own
comparison areas are matched from the rest of the pool (never the real target, never areas
within the ring and exclusion distance of it) and the same estimator gives its rate ratio. If
the real target's effect is no more extreme than most pseudo-targets', it is what places like it
do anyway. "Extreme" is measured by |log rate ratio| / its standard error (a studentized placebo
test: busier places give steadier estimates, so each estimate is judged against its own
precision; ranking raw rate ratios would make a quiet target look extreme among busy
pseudo-targets). Empirical p value = (1 + number of pseudo-targets at least as extreme) /
(1 + number of pseudo-targets), two-sided; rank 1 = most extreme.

Robustness (`robustness_sentence`)
----------------------------------
The same estimator with every control that can be formed: the matched areas; a synthetic
control (`synthetic_effect`: the candidates weighted to track the target's pre-period shape);
the rest of the layer (its other areas clear of the target and its ring); the rest of the data
(every incident outside the target and its ring); a named area. The target's extra-Poisson
variation is estimated once, in the matched panel (places like the target), and used for every
row: a single large aggregate such as the rest of the force swings by a few per cent a month,
which on its thousands of incidents would otherwise set a dispersion far too large for a
micro-hotspot. One sentence says whether the conclusion (a significant fall, a significant
rise, or no clear change) holds across the rows.

Calibration (benchmarks/evaluation_type1.py, the constructed case of issue 19, 1,000 null
datasets): the matched interval excludes 1 in 5.1% of them (matched on level and trend alone,
7.3%: now and then a comparison area from the rising half was matched by chance; the naive
rest-of-the-layer control 51.5%); the placebo test rejects in 4.5%.

`matched.evaluate_matched` ties it together for one target; it returns plain data with warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from hotspot_app.core.errors import InputError
from hotspot_app.core.evaluation import comparison, panel

__all__ = [
    "MAX_PLACEBO", "DidEffect", "did", "Placebo", "placebo", "ControlResult", "synthetic_effect",
    "robustness_sentence", "conclusion",
]

#: The placebo test uses at most this many pseudo-targets (those most like the target).
MAX_PLACEBO: int = 200


# --------------------------------------------------------------------------- the estimator
@dataclass(frozen=True)
class DidEffect:
    """A difference-in-differences rate ratio with its 95% interval and p value, the model used
    (``poisson`` or ``quasi-poisson``), the Pearson dispersion, the number of comparison areas,
    and the window totals of the target and of the comparison areas pooled."""

    rate_ratio: float
    ci95: tuple[float, float]
    p_value: float
    model: str
    dispersion: float
    n_controls: int
    target: tuple[int, int]
    control: tuple[float, float]
    df_resid: int | None = None
    se: float | None = None

    @property
    def z(self) -> float | None:
        """log(rate ratio) / its standard error (None without one)."""
        return None if not self.se else math.log(self.rate_ratio) / self.se

    @property
    def pct_change(self) -> float:
        return 100.0 * (self.rate_ratio - 1.0)

    @property
    def significant(self) -> bool:
        return not (self.ci95[0] <= 1.0 <= self.ci95[1])

    def to_dict(self) -> dict:
        return {"rate_ratio": round(self.rate_ratio, 4),
                "ci95": [round(self.ci95[0], 4), round(self.ci95[1], 4)],
                "p_value": float(f"{self.p_value:.4g}")}


def did(target_before, target_after, controls_before, controls_after,
        dispersion: tuple[float, int] | None = None) -> DidEffect | None:
    """Difference-in-differences rate ratio of a target against comparison areas.

    `target_before`, `target_after`: the target's monthly counts in each window;
    `controls_before`, `controls_after`: arrays (areas x months) of the comparison areas'. The
    model is `panel.fit` with the after term (module docstring); `dispersion` = (phi, df)
    imposes a dispersion estimated among places like the target (`panel.fit`). None when the
    ratio is undefined (the target or the comparison areas have no incidents in a window)."""
    tb = np.asarray(target_before, dtype=float).ravel()
    ta = np.asarray(target_after, dtype=float).ravel()
    cb = np.atleast_2d(np.asarray(controls_before, dtype=float))
    ca = np.atleast_2d(np.asarray(controls_after, dtype=float))
    if cb.shape[0] != ca.shape[0] or cb.shape[1] != tb.size or ca.shape[1] != ta.size:
        raise InputError("controls need one row per area and the target's months", parameter="controls")
    after = np.r_[np.zeros(tb.size, dtype=bool), np.ones(ta.size, dtype=bool)]
    fitted = panel.fit(np.r_[tb, ta], np.hstack([cb, ca]), extra="after", after=after,
                       dispersion=dispersion)
    if fitted is None:
        return None
    b = fitted.coefficient
    return DidEffect(rate_ratio=math.exp(b), ci95=(math.exp(fitted.ci95[0]), math.exp(fitted.ci95[1])),
                     p_value=fitted.p_value, model=fitted.model, dispersion=fitted.dispersion,
                     n_controls=fitted.n_controls, target=(int(tb.sum()), int(ta.sum())),
                     control=(float(cb.sum()), float(ca.sum())), df_resid=fitted.df_resid,
                     se=fitted.se)


def synthetic_effect(target_before, target_after, donors_before, donors_after, weights,
                     target_pre, donors_pre, dispersion: float = 1.0) -> DidEffect | None:
    """The rate ratio against a synthetic control.

    The synthetic series is S_t = sum_i w_i * (m_T / m_i) * y_it: each donor's counts scaled to
    the target's pre-period mean (m = pre-period monthly means) and weighted. Rate ratio =
    (Ta / Tb) / (Sa / Sb). Its variance on the log scale is, by the delta method with the
    windows independent, phi * (1/Ta + 1/Tb) + Var(Sa)/Sa^2 + Var(Sb)/Sb^2 with
    Var(S) = phi * sum_i (w_i m_T / m_i)^2 * (donor i's window count); phi is the dispersion of
    the matched fit (at least 1). Normal interval and p value."""
    from scipy import stats

    w = np.asarray(weights, dtype=float)
    keep = w > 1e-6
    if not keep.any():
        return None
    dp = np.atleast_2d(np.asarray(donors_pre, dtype=float))[keep]
    db = np.atleast_2d(np.asarray(donors_before, dtype=float))[keep]
    da = np.atleast_2d(np.asarray(donors_after, dtype=float))[keep]
    m_t = float(np.mean(target_pre))
    m_i = dp.mean(axis=1)
    if m_t <= 0 or (m_i <= 0).any():
        return None
    k = w[keep] * m_t / m_i
    tb, ta = float(np.sum(target_before)), float(np.sum(target_after))
    sb, sa = float(k @ db.sum(axis=1)), float(k @ da.sum(axis=1))
    if min(tb, ta, sb, sa) <= 0:
        return None
    phi = max(1.0, float(dispersion) if math.isfinite(dispersion) else 1.0)
    var = phi * (1 / tb + 1 / ta) + phi * float((k ** 2) @ db.sum(axis=1)) / sb ** 2 \
        + phi * float((k ** 2) @ da.sum(axis=1)) / sa ** 2
    b, se = math.log((ta / tb) / (sa / sb)), math.sqrt(var)
    return DidEffect(rate_ratio=math.exp(b), ci95=(math.exp(b - 1.959964 * se), math.exp(b + 1.959964 * se)),
                     p_value=float(2 * stats.norm.sf(abs(b / se))), model="synthetic (delta method)",
                     dispersion=phi, n_controls=int(keep.sum()), target=(int(tb), int(ta)), control=(sb, sa),
                     se=se)


# --------------------------------------------------------------------------- placebo
@dataclass
class Placebo:
    """The placebo-in-space test: ``n`` pseudo-targets with an estimate, the empirical two-sided
    ``p_value`` and the real target's ``rank`` among the n + 1 (1 = most extreme, by |z|), the
    pseudo-targets' estimates (``effects``: candidate_id, name, rate_ratio, z) for the
    histogram, how many candidates gave no estimate (``skipped``), and warnings."""

    n: int
    p_value: float | None
    rank: int | None
    effects: pd.DataFrame
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"n": self.n, "p_value": None if self.p_value is None else round(self.p_value, 4),
                "rank": self.rank}


def placebo(counts: np.ndarray, *, pre: np.ndarray, before: np.ndarray, after: np.ndarray,
            target_effect: DidEffect | None, ids: Sequence[str], names: Sequence[str] | None = None,
            pseudo: Sequence[int] | None = None, too_close: dict[int, set[int]] | None = None,
            n_matches: int = comparison.N_MATCHES, centres: np.ndarray | None = None) -> Placebo:
    """Run the placebo-in-space test (module docstring).

    `counts` (pool areas x months) are the candidates' monthly counts; `pre`, `before`, `after`
    are column positions of the windows. `pseudo` lists the pool positions used as
    pseudo-targets (default all); `too_close` maps a position to the positions that may not be
    its comparison areas (within the ring and exclusion distance). `centres` (pool areas x 2,
    metres) matches on place too, as the real target was. Each pseudo-target is matched with
    `comparison.match` and estimated with `did`, as the real target was."""
    counts = np.asarray(counts, dtype=float)
    ids = [str(i) for i in ids]
    names = [str(n) for n in names] if names is not None else ids
    pseudo = list(range(len(counts))) if pseudo is None else list(pseudo)
    rows, skipped = [], 0
    for j in pseudo:
        others = np.array([i for i in range(len(counts))
                           if i != j and not (too_close and i in too_close.get(j, ()))], dtype=int)
        if len(others) == 0:
            skipped += 1
            continue
        far = None if centres is None else np.hypot(*(centres[others] - centres[j]).T)
        m = comparison.match(counts[j, pre], counts[others][:, pre], n_matches=n_matches, distance_m=far)
        chosen = others[m.chosen]
        eff = did(counts[j, before], counts[j, after], counts[chosen][:, before], counts[chosen][:, after])
        if eff is None:
            skipped += 1
            continue
        rows.append((ids[j], names[j], eff.rate_ratio, eff.z))
    effects = pd.DataFrame(rows, columns=["candidate_id", "name", "rate_ratio", "z"])
    warnings: list[str] = []
    n = len(effects)
    p = rank = None
    if target_effect is not None and target_effect.z is not None and n:
        t = abs(target_effect.z)
        zs = np.abs(effects["z"].to_numpy(dtype=float))
        extreme = int((zs >= t - 1e-12).sum())
        p = (1 + extreme) / (1 + n)
        rank = 1 + int((zs > t + 1e-12).sum())
    if skipped:
        warnings.append(f"{skipped} candidate area(s) gave no placebo estimate (no incidents in a "
                        "window) and are left out of the placebo test.")
    if 0 < n < 19:
        warnings.append(f"The placebo test has only {n} pseudo-targets, so its p value cannot go "
                        f"below {1 / (n + 1):.2f}; it cannot show significance at the 5% level.")
    return Placebo(n=n, p_value=p, rank=rank, effects=effects, skipped=skipped, warnings=warnings)


# --------------------------------------------------------------------------- robustness
@dataclass(frozen=True)
class ControlResult:
    """The effect under one control: ``control`` is "matched", "synthetic", "layer", "rest" or
    the name of a control area; ``description`` says what it is made of; ``ring_effect`` is the
    displacement ring's effect against the same control (None when there is no ring or it could
    not be estimated); ``units`` the polygons the control is made of (empty for "rest": every
    incident outside the target, its ring and other treated places; and for "synthetic") and
    ``names`` their names."""

    control: str
    description: str
    effect: DidEffect | None
    ring_effect: DidEffect | None = None
    units: tuple = ()
    names: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        e = self.effect
        return {"control": self.control, "rate_ratio": None if e is None else round(e.rate_ratio, 4),
                "ci95": None if e is None else [round(e.ci95[0], 4), round(e.ci95[1], 4)],
                "p_value": None if e is None else float(f"{e.p_value:.4g}")}


def conclusion(effect: DidEffect | None) -> str | None:
    """'fall', 'rise' or 'no clear change' from the 95% interval; None without an effect."""
    if effect is None:
        return None
    lo, hi = effect.ci95
    if hi < 1.0:
        return "fall"
    if lo > 1.0:
        return "rise"
    return "no clear change"


def _said(result: ControlResult) -> str:
    e = result.effect
    return f"{result.description} {e.rate_ratio:.2f} (95% CI {e.ci95[0]:.2f}–{e.ci95[1]:.2f})"


def robustness_sentence(results: Sequence[ControlResult]) -> str:
    """One plain-English sentence: does the conclusion of the first (main) control hold across
    the others? A conclusion is a significant fall, a significant rise or no clear change
    (the 95% interval includes 1)."""
    have = [r for r in results if r.effect is not None]
    if not have:
        return "No control could be formed, so the effect could not be estimated."
    main = have[0]
    verdict = conclusion(main.effect)
    words = {"fall": "a significant fall", "rise": "a significant rise",
             "no clear change": "no clear change"}
    if len(have) == 1:
        return (f"Only one control could be formed ({main.description}): it shows "
                f"{words[verdict]} (rate ratio {main.effect.rate_ratio:.2f}); robustness across "
                "controls cannot be judged.")
    differ = [r for r in have[1:] if conclusion(r.effect) != verdict]
    low = min(r.effect.rate_ratio for r in have)
    high = max(r.effect.rate_ratio for r in have)
    if not differ:
        return (f"The conclusion holds across all {len(have)} controls: each shows "
                f"{words[verdict]} (rate ratios {low:.2f} to {high:.2f}).")
    others = "; ".join(f"{_said(r)} shows {words[conclusion(r.effect)]}" for r in differ)
    return (f"The conclusion depends on the control: {_said(main)} shows {words[verdict]}, but "
            f"{others}. Prefer the matched comparison when its pre-period fit is good; a control "
            "that trends differently from the target's surroundings biases the effect.")


