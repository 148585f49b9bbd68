"""The before/after evaluation of one target against one control region (`evaluate`): window
counts with the coverage rule, the target's and the ring's control-adjusted effects, WDQ, total
net effect, WDD, and the warnings (small numbers, an area chosen on a peak, an empty control,
uncovered months, unequal windows).

Commissioners report figures such as "ASB in the Hemlington micro hotspot fell 29% in
July–December 2023 compared with the same months of 2022, a 71% reduction on the 2021 baseline".
This module gives that figure and the evidence behind it. Everything is computed in EPSG:27700
(metres); inputs are never modified.

Windows: the *after* window is compared with the *before* window, by default the same months one
year earlier (seasonality cancels; a window across a year end, e.g. 2023-11..2024-02, is
compared with 2022-11..2023-02). An optional *baseline* window (e.g. 2021) is compared too; when
it has a different length from the after window the comparison is per month. Coverage rule
(design §5): a month is covered when the loaded data have any rows that month anywhere; a window
with an uncovered month has a null count and a warning, never a zero. Coverage is judged per
data source: only the sources that supply the selected incidents count (police.uk months do not
make months after a fire extract ends look covered for deliberate fires).

The effects are `effects.rate_ratio` on the control region's monthly counts unless the caller
passes effects computed elsewhere (``effects=``: the evaluation question passes the panel model
of `did` against the chosen control's units, `questions.evaluation`). Formulas: `effects`.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import areas as _areas
from hotspot_app.core import periods, settings, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.core.evaluation.effects import (
    excess_from_effect, rate_ratio, tne, tne_interpretation, wdd, wdq, wdq_interpretation,
)
from hotspot_app.core.evaluation.regions import (
    buffer_ring, default_control, geometry_of, intervention_area, intervention_place,
)
from hotspot_app.core.evaluation.result import Evaluation, WindowCount
from hotspot_app.core.evaluation.windows import same_months_before, window_months

#: Series names in `Evaluation.series` (tidy monthly counts).
SERIES = ("target", "buffer", "control")
#: A before window whose monthly mean exceeds the preceding history's by this factor is a peak.
PEAK_FACTOR: float = 1.25

__all__ = ["SERIES", "PEAK_FACTOR", "evaluate", "evaluate_intervention", "monthly_counts",
           "default_category"]


def _expected(before: int | None, control_before: int | None, control_after: int | None) -> float | None:
    """The count the control's trend predicts: before * (Ca/Cb); None without a control."""
    if None in (before, control_before, control_after) or not control_before:
        return None
    return before * control_after / control_before


# --------------------------------------------------------------------------- core
def _masks(incidents: gpd.GeoDataFrame, target, ring, control, dc, excluded=None
           ) -> dict[str, pd.Series]:
    in_target = _areas.within(incidents, target)
    in_ring = (_areas.within(incidents, ring) & ~in_target) if not ring.is_empty else \
        pd.Series(False, index=incidents.index)
    used = in_target | in_ring
    out = {"target": in_target, "buffer": in_ring}
    if control is None:
        out["control"] = ~used
        if excluded is not None and not excluded.is_empty:
            out["control"] &= ~_areas.within(incidents, excluded)
    else:
        out["control"] = _areas.within(incidents, control) & ~used
    if dc is not None and not dc.is_empty:
        out["displacement_control"] = _areas.within(incidents, dc) & ~used & ~out["control"]
    return out


def monthly_counts(incidents: pd.DataFrame, masks: Mapping[str, pd.Series],
                   months: Sequence[str], coverage: periods.Coverage) -> pd.DataFrame:
    """Tidy monthly counts: month, series, count (nullable Int64; null when the month is not
    covered), covered. One row per month per mask name."""
    rows = []
    month_col = incidents["month"].astype(object)
    for name, mask in masks.items():
        per = month_col[mask.to_numpy()].value_counts().to_dict()
        for m in months:
            covered = m in coverage.months
            rows.append((m, name, int(per.get(m, 0)) if covered else None, covered))
    out = pd.DataFrame(rows, columns=["month", "series", "count", "covered"])
    out["count"] = out["count"].astype("Int64")
    return out


def _wide(table: pd.DataFrame) -> dict[str, dict[str, int | None]]:
    """series -> {month: count} for fast window sums."""
    out: dict[str, dict[str, int | None]] = {}
    for name, month, count in zip(table["series"], table["month"], table["count"]):
        out.setdefault(name, {})[month] = None if pd.isna(count) else int(count)
    return out


def _sum(wide: Mapping[str, Mapping[str, int | None]], name: str, window: Sequence[str],
         coverage: periods.Coverage) -> int | None:
    if not coverage.covers(window):
        return None
    return int(sum(wide[name][m] for m in window))


def _monthly(wide: Mapping[str, Mapping[str, int | None]], name: str, window: Sequence[str]) -> list[int]:
    return [int(wide[name][m]) for m in window]


def _peak_warning(table: pd.DataFrame, before: Sequence[str], after: Sequence[str],
                  coverage: periods.Coverage, before_count: int | None) -> str | None:
    """Regression-to-the-mean check on the target's history.

    Fires when (a) at least 12 covered months precede the before window and the before window's
    monthly mean exceeds `PEAK_FACTOR` x their monthly mean, or (b) the before window is the
    highest of at least 12 windows of its length in the covered history before the after window
    and more than 10% above the history's monthly mean.
    """
    if before_count is None:
        return None
    s = table[table["series"] == "target"].set_index("month")["count"]
    covered = [m for m in s.index if m in coverage.months]
    before_mean = before_count / len(before)
    prior = [m for m in covered if m < before[0]]
    reason = None
    if len(prior) >= 12:
        prior_mean = float(s[prior].astype(float).mean())
        if before_mean > PEAK_FACTOR * prior_mean:
            ratio = (f"{before_mean / prior_mean:.1f}× the {prior_mean:.1f} a month" if prior_mean
                     else "against none")
            reason = (f"its before-window average of {before_mean:.1f} a month is {ratio} "
                      f"in the {len(prior)} months before it")
    if reason is None:
        hist = s[[m for m in covered if m < after[0]]].astype(float)
        k = len(before)
        # consecutive windows only (no uncovered gap inside)
        months = list(hist.index)
        sums = []
        for i in range(len(months) - k + 1):
            w = months[i:i + k]
            if periods.add_months(w[0], k - 1) == w[-1]:
                sums.append(float(hist[w].sum()))
        if len(sums) >= 12 and before_count >= max(sums) and before_mean > 1.1 * float(hist.mean()):
            reason = (f"the before window ({before_count:,}) is the highest {k}-month total in the "
                      f"{len(hist)} months of history before the intervention")
    if reason is None:
        return None
    return ("The area may have been selected on a peak (regression to the mean): " + reason +
            ". Part of any fall would have happened anyway; use a longer baseline (e.g. --baseline "
            "over a full earlier year) and the control-adjusted effect rather than the raw change.")


def _coverage(incidents: pd.DataFrame, chosen: pd.DataFrame) -> periods.Coverage:
    """Months covered for the selected incidents: months in which the data sources that supply
    them (e.g. police-uk for ASB, fire for deliberate fires) have any rows, anywhere. So fire
    months after the fire extract ends are not taken as zeros because police data go on."""
    if "source" in incidents.columns and len(chosen):
        sources = set(pd.unique(chosen["source"]))
        if sources != set(pd.unique(incidents["source"])):
            return periods.Coverage.of(incidents[incidents["source"].isin(list(sources))])
    return periods.Coverage.of(incidents)


def evaluate(
    incidents: gpd.GeoDataFrame,
    target: BaseGeometry | gpd.GeoDataFrame,
    *,
    after: str | Sequence[str],
    before: str | Sequence[str] | None = None,
    baseline: str | Sequence[str] | None = None,
    category: str | Sequence[str] | None = None,
    buffer_m: float = settings.BUFFER_M,
    control: BaseGeometry | gpd.GeoDataFrame | None = None,
    context: BaseGeometry | gpd.GeoDataFrame | None = None,
    exclude: BaseGeometry | gpd.GeoDataFrame | None = None,
    name: str | None = None,
    layer: str | None = None,
    control_name: str | None = None,
    intervention: tuple[str, str] | None = None,
    small_count: int = settings.SMALL_COUNT,
    control_units: bool = False,
    effects: tuple[Any, Any] | None = None,
) -> Evaluation:
    """Before/after evaluation of an area with control, displacement buffer and warnings.

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700). A month is covered when the sources supplying the
        selected categories have any rows in it, anywhere (design §5 coverage rule, per source).
    target : polygon or GeoDataFrame
        The intervention area (several polygons are merged). The evaluation question
        (`questions.evaluation.evaluate`) decides the target, the control and the exclusions.
    after, before, baseline : "YYYY-MM..YYYY-MM" or list of months
        ``before`` defaults to the same months one year earlier; ``baseline`` is optional.
    category : names, groups or taxonomy nodes (`taxonomy.select`); None = all incidents.
    buffer_m : float, metres
        Width of the displacement ring (0 = no ring; buffer and WDQ are then null).
    control : polygon or GeoDataFrame, optional
        A named control area; its overlap with the target and ring is removed. Default: see
        `default_control` with `context` (the containing layer) and `exclude`.
    control_units : bool
        True when `control` is several comparison areas pooled (matched areas, the rest of a
        layer) rather than one named area of the target's size: no ring is drawn round it and
        no WDD is computed (the WDD assumes a control of comparable size).
    name, layer : the target's name and layer, for the text (taken from `target` if areas).
    intervention : (start, end) months to mark in the series; default the after window.
    small_count : before counts below this trigger the small-count warning.
    effects : (target effect, ring effect), optional
        The control-adjusted effects when computed elsewhere (the panel model of `did` against
        the control's units); each has rate_ratio, ci95, p_value, model and dispersion. Default:
        `rate_ratio` on the control region's monthly counts.
    """
    after_w = window_months(after, "after")
    before_w = window_months(before, "before") or same_months_before(after_w)
    base_w = window_months(baseline, "baseline")
    if buffer_m is None or buffer_m < 0 or not math.isfinite(buffer_m):
        raise InputError("buffer_m must be a distance in metres >= 0", parameter="buffer_m")
    if set(before_w) & set(after_w):
        raise InputError(f"before ({before_w[0]}..{before_w[-1]}) and after ({after_w[0]}..{after_w[-1]}) "
                         "windows overlap", parameter="before")
    target_geom, t_name, t_layer = geometry_of(target, "target")
    if target_geom.is_empty or target_geom.area <= 0:
        raise InputError("the target area is empty (no polygon area)", parameter="area")
    name = name or t_name or "target area"
    layer = layer or t_layer
    ring = buffer_ring(target_geom, buffer_m)

    dc = excluded = None
    if control is not None:
        c_geom, c_name, _ = geometry_of(control, "control")
        zone = target_geom.buffer(buffer_m) if buffer_m > 0 else target_geom
        control_geom = c_geom.difference(zone)
        if control_geom.is_empty:
            raise InputError("the control area lies entirely inside the target and its buffer",
                             parameter="control")
        control_desc = f"{control_name or c_name or 'the control area'} (outside the target and its {buffer_m:g} m ring)"
        if buffer_m > 0 and not control_units:
            dc = c_geom.buffer(buffer_m).difference(c_geom).difference(zone)
    else:
        control_geom, control_desc = default_control(target_geom, buffer_m, context, exclude)
        if control_geom is None and exclude is not None:
            ex, _, _ = geometry_of(exclude, "exclude")
            excluded = ex.buffer(buffer_m) if buffer_m > 0 else ex
            control_desc += " and other treated areas with their rings"

    sel = taxonomy.select(incidents, category)
    chosen = incidents[sel]
    coverage = _coverage(incidents, chosen)
    cats = taxonomy.category_list(category)
    masks = _masks(chosen, target_geom, ring, control_geom, dc, excluded)

    windows = [after_w, before_w] + ([base_w] if base_w else [])
    all_months = [m for w in windows for m in w]
    start = min(all_months + ([coverage.first] if coverage.first else []))
    end = max(all_months + ([coverage.last] if coverage.last else []))
    months = periods.month_range(start, end)
    table = monthly_counts(chosen, masks, months, coverage)
    wide = _wide(table)

    def total(series, w):
        return _sum(wide, series, w, coverage)

    tb, ta = total("target", before_w), total("target", after_w)
    cb, ca = total("control", before_w), total("control", after_w)
    has_ring = buffer_m > 0
    db, da = (total("buffer", before_w), total("buffer", after_w)) if has_ring else (None, None)

    warnings_: list[str] = []
    for label, w in (("after window", after_w), ("before window", before_w),
                     ("baseline window", base_w)):
        if w:
            missing = coverage.missing(w)
            if missing:
                warnings_.append(periods.coverage_warning(missing, f"{label} {w[0]}..{w[-1]}"))
    if len(before_w) != len(after_w):
        warnings_.append(
            f"The before window has {len(before_w)} months and the after window {len(after_w)}: the "
            "raw counts and % change are not like for like. Use windows of equal length (the "
            "control-adjusted rate ratio accounts for the difference).")
    if tb is not None and tb < small_count:
        warnings_.append(
            f"Small numbers: only {tb} incidents in the target area before the intervention (fewer "
            f"than {small_count}); percentage changes on counts this small swing widely by chance. "
            "Use a longer window or a larger area, and rely on the confidence interval.")
    if base_w:
        bcount = total("target", base_w)
        if bcount is not None and bcount < small_count:
            warnings_.append(f"Small numbers: only {bcount} incidents in the target area in the "
                             f"baseline window (fewer than {small_count}).")
    peak = _peak_warning(table, before_w, after_w, coverage, tb)
    if peak:
        warnings_.append(peak)
    if (cb is not None and cb == 0) or (ca is not None and ca == 0):
        warnings_.append("The control area had no incidents in the "
                         f"{'before' if cb == 0 else 'after'} window: WDQ and the control-adjusted "
                         "effect are undefined. Choose a larger control area.")

    effect = buffer_effect = None
    if effects is not None:
        effect, buffer_effect = effects
        if not has_ring:
            buffer_effect = None
    elif None not in (tb, ta, cb, ca):
        effect = rate_ratio(_monthly(wide, "target", before_w), _monthly(wide, "target", after_w),
                            _monthly(wide, "control", before_w), _monthly(wide, "control", after_w))
        if has_ring and None not in (db, da):
            buffer_effect = rate_ratio(_monthly(wide, "buffer", before_w), _monthly(wide, "buffer", after_w),
                                       _monthly(wide, "control", before_w), _monthly(wide, "control", after_w))
    q = wdq(tb, ta, db, da, cb, ca) if has_ring else None
    q_text = (wdq_interpretation(q, tb, ta, cb, ca) if has_ring
              else "No buffer ring (buffer_m = 0): displacement not assessed.")
    if q is not None and effect is not None and effect.ci95[0] <= 1 <= effect.ci95[1]:
        q_text += (" Caution: the target's change relative to the control is not statistically "
                   "significant, so this WDQ divides by a change that may be chance.")
    net = tne(tb, ta, db if has_ring else 0, da if has_ring else 0, cb, ca)
    wdd_value, wdd_note = None, ""
    if dc is not None:
        dcb, dca = total("displacement_control", before_w), total("displacement_control", after_w)
        wdd_value = wdd(tb, ta, cb, ca, db, da, dcb, dca)
    else:
        wdd_note = ("WDD not computed: it needs a control area of comparable size with its own "
                    "buffer ring (give --control NAME).")

    base = WindowCount(tuple(base_w), total("target", base_w)) if base_w else None
    mark = intervention or (after_w[0], after_w[-1])
    series = table[table["series"].isin(SERIES)].copy()
    series["period"] = np.select(
        [series["month"].isin(after_w), series["month"].isin(before_w),
         series["month"].isin(base_w or [])], ["after", "before", "baseline"], default="")
    series["intervention"] = (series["month"] >= mark[0]) & (series["month"] <= mark[1])
    series = series.reset_index(drop=True)

    return Evaluation(
        area=name, categories=cats,
        after=WindowCount(tuple(after_w), ta), before=WindowCount(tuple(before_w), tb),
        baseline=base,
        buffer={"before": db, "after": da} if has_ring else None,
        control={"before": cb, "after": ca},
        wdq=q, effect=effect, warnings=warnings_, layer=layer, buffer_m=float(buffer_m),
        control_description=control_desc, wdq_text=q_text, tne=net, tne_text=tne_interpretation(net),
        wdd=wdd_value, wdd_note=wdd_note, buffer_effect=buffer_effect, series=series,
        buffer_excess=excess_from_effect(_expected(db, cb, ca), buffer_effect) if has_ring else None,
        target_excess=excess_from_effect(_expected(tb, cb, ca), effect),
        intervention=mark,
    )


def default_category(intervention: Mapping[str, Any] | pd.Series | None) -> list[str]:
    """What an intervention is evaluated on by default: ASB for patrols (the partnership's
    hotspot patrols target ASB), else all crime."""
    kind = intervention.get("type") if intervention is not None else None
    return ["asb"] if kind == "patrols" else ["crime"]


def evaluate_intervention(
    incidents: gpd.GeoDataFrame,
    intervention: Mapping[str, Any] | pd.Series,
    *,
    areas: gpd.GeoDataFrame | None = None,
    context: gpd.GeoDataFrame | None = None,
    exclude: gpd.GeoDataFrame | BaseGeometry | None = None,
    after: str | Sequence[str] | None = None,
    **kwargs: Any,
) -> Evaluation:
    """`evaluate` for a stored intervention row (schema.INTERVENTION_COLUMNS).

    The target is `intervention_area(intervention, areas)`; the after window defaults to the
    intervention's months (start..end); the before window to the same months a year earlier.
    """
    target = intervention_area(intervention, areas)
    start = pd.Timestamp(intervention["start"]).strftime("%Y-%m")
    end_value = intervention.get("end")
    end = pd.Timestamp(end_value).strftime("%Y-%m") if end_value is not None and not pd.isna(end_value) else None
    if after is None:
        if end is None:
            raise InputError(f"intervention '{intervention.get('name')}' has no end date; give the "
                             "after window", parameter="after")
        after = periods.month_range(start, end)
    name, layer = intervention_place(intervention, areas)
    kwargs.setdefault("name", name)
    kwargs.setdefault("layer", layer)
    return evaluate(incidents, target, after=after, context=context, exclude=exclude,
                    intervention=(start, end or window_months(after, "after")[-1]), **kwargs)


