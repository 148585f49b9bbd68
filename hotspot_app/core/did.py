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

Calibration (benchmarks/evaluation_type1.py, the constructed case of issue 19): the matched
interval excludes 1 in about 6-7% of null datasets (the naive rest-of-the-layer control in about
half), because now and then a comparison area from the rising half is matched by chance.

`evaluate_matched` ties it together for one target; it returns plain data with warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import settings, taxonomy
from hotspot_app.core import comparison, panel
from hotspot_app.core.errors import InputError

__all__ = [
    "MAX_PLACEBO", "DidEffect", "did", "Placebo", "placebo", "ControlResult", "synthetic_effect",
    "robustness_sentence", "conclusion", "MatchedEvaluation", "evaluate_matched",
]

#: The placebo test uses at most this many pseudo-targets (those most like the target).
MAX_PLACEBO: int = 200
#: Fewer target incidents than this in the before window: a small-numbers warning.
SMALL_COUNT: int = settings.SMALL_COUNT


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
            n_matches: int = comparison.N_MATCHES) -> Placebo:
    """Run the placebo-in-space test (module docstring).

    `counts` (pool areas x months) are the candidates' monthly counts; `pre`, `before`, `after`
    are column positions of the windows. `pseudo` lists the pool positions used as
    pseudo-targets (default all); `too_close` maps a position to the positions that may not be
    its comparison areas (within the ring and exclusion distance). Each pseudo-target is
    matched with `comparison.match` and estimated with `did`, as the real target was."""
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
        m = comparison.match(counts[j, pre], counts[others][:, pre], n_matches=n_matches)
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
    the name of a control area; ``description`` says what it is made of."""

    control: str
    description: str
    effect: DidEffect | None

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


# --------------------------------------------------------------------------- one evaluation
@dataclass
class MatchedEvaluation:
    """A matched evaluation of one target (`evaluate_matched`).

    ``method``: the control the main ``effect`` uses ("matched", or "layer"/"rest" when no
    comparison area could be matched); ``pool``: where candidates came from ("file", "layer",
    "hexagons"); ``candidates``: the pool (candidate_id, name, source, geometry, pre, before,
    after counts, level, trend, distance, chosen, weight) for the map; ``matched``: the chosen
    rows; ``counts``: window totals of the target and the matched areas pooled; ``series``:
    month, target, control (matched areas pooled, scaled to the target's pre-period total);
    ``pre_fit``, ``placebo``, ``robustness`` (one row per control formed; the first is the
    main one) and its ``robustness_text``; ``warnings``."""

    name: str
    categories: list[str]
    windows: comparison.Windows
    method: str
    pool: str
    candidates: gpd.GeoDataFrame
    counts: dict
    effect: DidEffect | None
    pre_fit: comparison.PreFit | None
    placebo: Placebo | None
    robustness: list[ControlResult]
    robustness_text: str
    series: pd.DataFrame
    warnings: list[str]

    @property
    def matched(self) -> gpd.GeoDataFrame:
        return self.candidates[self.candidates["chosen"]].sort_values("distance")

    def to_dict(self) -> dict:
        """The keys issue 19 adds to ``hotspot evaluate --format json``: ``control`` (method,
        areas, pre_fit, before/after counts, pool), ``effect``, ``placebo``, ``robustness``,
        plus ``robustness_text`` and ``warnings``."""
        return {
            "control": {"method": self.method,
                        "areas": [str(n) for n in self.matched["name"]] if self.method == "matched" else [],
                        "before": self.counts["control"][0], "after": self.counts["control"][1],
                        "pre_fit": self.pre_fit.to_dict() if self.pre_fit else None,
                        "pool": self.pool},
            "effect": self.effect.to_dict() if self.effect else None,
            "placebo": self.placebo.to_dict() if self.placebo else None,
            "robustness": [r.to_dict() for r in self.robustness],
            "robustness_text": self.robustness_text,
            "warnings": list(self.warnings),
        }


def _positions(months: Sequence[str], window: Sequence[str]) -> np.ndarray:
    index = {m: i for i, m in enumerate(months)}
    return np.array([index[m] for m in window], dtype=int)


def evaluate_matched(
    incidents: gpd.GeoDataFrame,
    target: BaseGeometry | gpd.GeoDataFrame,
    *,
    before: Any,
    after: Any,
    pre: Any = None,
    category: Any = None,
    areas: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    study_area: BaseGeometry | gpd.GeoDataFrame | None = None,
    control_area: BaseGeometry | gpd.GeoDataFrame | None = None,
    control_name: str | None = None,
    exclude: Any = None,
    name: str | None = None,
    buffer_m: float = settings.BUFFER_M,
    exclusion_m: float = comparison.EXCLUSION_M,
    n_matches: int = comparison.N_MATCHES,
    min_candidates: int = comparison.MIN_CANDIDATES,
    run_placebo: bool = True,
    max_placebo: int = MAX_PLACEBO,
) -> MatchedEvaluation:
    """Evaluate `target` against comparison areas matched on the pre-period.

    incidents : canonical incidents (EPSG:27700; ``month``, ``category``, ``kind``, geometry).
    target : the intervention area (polygons are merged).
    before, after, pre : windows as (from, to) months or 'YYYY-MM..YYYY-MM'
        (`comparison.windows`; pre defaults to before's start up to the month before after).
    category : the incidents evaluated (`taxonomy.select`; None = all).
    areas : the target's layer (e.g. the micro-hotspots): the default candidate pool and the
        "layer" control. candidates : a candidates file's areas (the pool instead of the layer).
    study_area : where hexagon candidates are laid when too few areas remain (default the
        incidents' convex hull). control_area, control_name : a named control for the
        robustness table. exclude : other treated places (kept out of every control).
    buffer_m, exclusion_m : the displacement ring and the distance beyond it kept clear.
    n_matches : comparison areas matched. run_placebo, max_placebo : the placebo test and the
        most pseudo-targets it uses (those nearest the target in level and trend).
    """
    win = comparison.windows(before, after, pre)
    if incidents.crs is not None and not incidents.crs.equals(settings.CRS):
        raise InputError(f"incidents must be in {settings.CRS} (got {incidents.crs})", parameter="incidents")
    tgeom = comparison.as_geometry(target, "target")
    if tgeom.is_empty or tgeom.area <= 0:
        raise InputError("the target area is empty (no polygon area)", parameter="target")
    if name is None:
        name = (str(target["name"].iloc[0]) if isinstance(target, gpd.GeoDataFrame) and "name" in target.columns
                and len(target) == 1 else "target area")
    warnings: list[str] = []
    chosen_inc, coverage = comparison.selected(incidents, category)
    cats = taxonomy.category_list(category)
    for label, w in (("before window", win.before), ("after window", win.after)):
        missing = coverage.missing(w)
        if missing:
            warnings.append(f"The {label} {w[0]}..{w[-1]} has months with no data loaded "
                            f"({', '.join(missing)}); the effect cannot be estimated.")
    pre_months = [m for m in win.pre if m in coverage.months]
    if len(pre_months) < len(win.pre) and win.pre_given:
        gone = [m for m in win.pre if m not in coverage.months]
        warnings.append(f"Pre-period months with no data loaded are left out of the match: {', '.join(gone)}.")
    if len(pre_months) < 4:
        warnings.append("Fewer than 4 covered pre-period months: comparison areas cannot be matched.")
    windows_ok = not coverage.missing(win.before) and not coverage.missing(win.after)

    pool = comparison.candidate_pool(tgeom, areas=areas, candidates=candidates, study_area=study_area,
                                     incidents=incidents, exclude=exclude, buffer_m=buffer_m,
                                     exclusion_m=exclusion_m, min_candidates=min_candidates)
    warnings += pool.warnings
    months = win.all
    p_pre, p_b, p_a = (_positions(months, w) for w in (pre_months, win.before, win.after))
    target_counts = comparison.monthly_matrix(chosen_inc, [tgeom], months)[0]
    cand = pool.candidates.copy()
    counts = comparison.monthly_matrix(chosen_inc, np.asarray(cand.geometry.values), months)
    t_pre = target_counts[p_pre]
    if pool.source == "hexagons" and len(cand):
        need = max(float(len(p_pre)), comparison.HEX_MIN_SHARE * float(t_pre.sum()))
        busy = counts[:, p_pre].sum(axis=1) >= need
        cand, counts = cand[busy].reset_index(drop=True), counts[busy]
        if len(cand) < min_candidates:
            warnings.append(f"Only {len(cand)} hexagon cells have at least {need:.0f} incidents in the "
                            "pre-period (a quarter of the target's, and one a month): the match and "
                            "the placebo test rest on few places.")
    cand["pre"] = counts[:, p_pre].sum(axis=1)
    cand["before"] = counts[:, p_b].sum(axis=1)
    cand["after"] = counts[:, p_a].sum(axis=1)

    tb_tot, ta_tot = int(target_counts[p_b].sum()), int(target_counts[p_a].sum())
    if tb_tot < SMALL_COUNT:
        warnings.append(f"Small numbers: only {tb_tot} incidents in the target in the before window "
                        f"(fewer than {SMALL_COUNT}); the interval will be wide.")

    effect = pf = plc = None
    results: list[ControlResult] = []
    method = "matched"
    covered = np.array([m in coverage.months for m in months])
    series = pd.DataFrame({"month": months, "target": pd.array(np.where(covered, target_counts, 0), dtype="Int64"),
                           "control": np.nan})
    series.loc[~covered, "target"] = pd.NA
    control_totals: tuple[float | None, float | None] = (None, None)
    can_match = len(cand) > 0 and len(p_pre) >= 4
    if can_match:
        m = comparison.match(t_pre, counts[:, p_pre], ids=cand["candidate_id"], n_matches=n_matches,
                             synthetic=True)
        for col in ("level", "trend", "distance", "chosen", "weight"):
            cand[col] = m.table[col].to_numpy()
        sel = m.chosen
        if len(sel) < n_matches:
            warnings.append(f"Only {len(sel)} comparison areas could be matched (asked for {n_matches}).")
        pf = comparison.pre_fit(t_pre, counts[sel][:, p_pre], pre_months)
        if pf.warning:
            warnings.append(pf.warning)
        pooled = counts[sel].sum(axis=0).astype(float)
        ratio = t_pre.sum() / pooled[p_pre].sum() if pooled[p_pre].sum() > 0 else np.nan
        series["control"] = np.where(covered, pooled * ratio, np.nan)
        if windows_ok:
            control_totals = (float(pooled[p_b].sum()), float(pooled[p_a].sum()))
            effect = did(target_counts[p_b], target_counts[p_a], counts[sel][:, p_b], counts[sel][:, p_a])
            results.append(ControlResult("matched", f"the {len(sel)} matched comparison areas", effect))
            syn = synthetic_effect(target_counts[p_b], target_counts[p_a], counts[:, p_b], counts[:, p_a],
                                   m.weights, t_pre, counts[:, p_pre],
                                   effect.dispersion if effect is not None else 1.0)
            n_w = int((m.weights > 1e-6).sum()) if m.weights is not None else 0
            results.append(ControlResult("synthetic", f"the synthetic control ({n_w} weighted areas)", syn))
        if windows_ok and run_placebo:
            plc = _run_placebo(cand, counts, m, p_pre, p_b, p_a, effect, buffer_m, exclusion_m,
                               n_matches, max_placebo)
            warnings += plc.warnings
    else:
        for col, value in (("level", np.nan), ("trend", np.nan), ("distance", np.nan), ("chosen", False),
                           ("weight", np.nan)):
            cand[col] = value

    if windows_ok:
        shared = (effect.dispersion, effect.df_resid) if effect is not None and effect.df_resid else None
        results += _naive_controls(chosen_inc, tgeom, target_counts, months, p_b, p_a, areas, exclude,
                                   control_area, control_name, buffer_m, shared)
    if not can_match:
        fallback = next((r for r in results if r.control in ("layer", "rest") and r.effect is not None), None)
        method = fallback.control if fallback else ("layer" if areas is not None else "rest")
        if fallback is not None:
            effect, control_totals = fallback.effect, fallback.effect.control
        warnings.append("No comparison areas could be matched, so the effect is measured against "
                        + (f"{fallback.description}." if fallback else "no control: none could be formed."))
    if effect is None and windows_ok:
        warnings.append("The effect is undefined: the target or its comparison has no incidents in a window.")
    text = robustness_sentence(results) if results else "No control could be formed."
    return MatchedEvaluation(
        name=name, categories=cats, windows=win, method=method, pool=pool.source, candidates=cand,
        counts={"target": (tb_tot, ta_tot),
                "control": tuple(None if v is None else int(round(v)) for v in control_totals)},
        effect=effect, pre_fit=pf, placebo=plc, robustness=results, robustness_text=text,
        series=series, warnings=warnings)


def _run_placebo(cand, counts, m, p_pre, p_b, p_a, effect, buffer_m, exclusion_m, n_matches,
                 max_placebo) -> Placebo:
    """Pseudo-targets: the `max_placebo` candidates nearest the target in level and trend. Areas
    within a pseudo-target's ring and exclusion distance are not its comparison areas."""
    order = np.argsort(m.table["distance"].to_numpy(), kind="stable")[:max_placebo]
    geoms = np.asarray(cand.geometry.values)
    tree = shapely.STRtree(geoms)
    near_i, near_j = tree.query(geoms[order], predicate="dwithin", distance=buffer_m + exclusion_m)
    too_close: dict[int, set[int]] = {}
    for a, b in zip(order[near_i], near_j):
        if a != b:
            too_close.setdefault(int(a), set()).add(int(b))
    out = placebo(counts, pre=p_pre, before=p_b, after=p_a, target_effect=effect,
                  ids=cand["candidate_id"], names=cand["name"], pseudo=order, too_close=too_close,
                  n_matches=n_matches)
    if len(cand) > max_placebo:
        out.warnings.append(f"The placebo test uses the {max_placebo} candidate areas most like the "
                            f"target in pre-period level and trend (of {len(cand)}).")
    return out


def _naive_controls(chosen_inc, tgeom, target_counts, months, p_b, p_a, areas, exclude, control_area,
                    control_name, buffer_m, scale) -> list[ControlResult]:
    """The controls used before matching, with the same estimator: the rest of the layer (the
    layer's other areas clear of the target and its ring, each a unit), the rest of the data
    (every incident outside the target, its ring and other treated places, one unit) and a
    named area (outside the target and its ring, one unit). `scale` is the matched fit's
    (dispersion, df): the target's extra-Poisson variation is estimated once, among places like
    it, not from a large aggregate's swings (None: each fit's own)."""
    zone = tgeom.buffer(buffer_m) if buffer_m > 0 else tgeom
    out: list[ControlResult] = []
    tb, ta = target_counts[p_b], target_counts[p_a]
    if areas is not None and len(areas):
        geoms = np.asarray(areas.to_crs(settings.CRS).geometry.values if areas.crs is not None
                           and not areas.crs.equals(settings.CRS) else areas.geometry.values)
        others = geoms[~shapely.intersects(zone, geoms)]
        if len(others):
            c = comparison.monthly_matrix(chosen_inc, others, months)
            out.append(ControlResult("layer", f"the rest of the layer ({len(others)} areas)",
                                     did(tb, ta, c[:, p_b], c[:, p_a], scale)))
    # the rest of the data: all selected incidents minus those in the target, ring and exclusions
    shut = zone
    if exclude is not None:
        ex = comparison.as_geometry(exclude, "exclude")
        shut = shapely.union(shut, ex.buffer(buffer_m) if buffer_m > 0 else ex)
    inside = comparison.monthly_matrix(chosen_inc, [shut], months)[0]
    m_idx = pd.Index(list(months)).get_indexer(chosen_inc["month"].astype(str).to_numpy())
    everything = np.bincount(m_idx[m_idx >= 0], minlength=len(months))
    rest = (everything - inside)[None, :]
    out.append(ControlResult("rest", "the rest of the data", did(tb, ta, rest[:, p_b], rest[:, p_a], scale)))
    if control_area is not None:
        cgeom = comparison.as_geometry(control_area, "control_area").difference(zone)
        label = control_name or (str(control_area["name"].iloc[0]) if isinstance(control_area, gpd.GeoDataFrame)
                                 and "name" in control_area.columns and len(control_area) == 1 else "control area")
        if cgeom.is_empty:
            out.append(ControlResult(label, label, None))
        else:
            c = comparison.monthly_matrix(chosen_inc, [cgeom], months)
            out.append(ControlResult(label, label, did(tb, ta, c[:, p_b], c[:, p_a], scale)))
    return out
