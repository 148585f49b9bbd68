"""One matched evaluation (`evaluate_matched`): the candidate pool, the match, the pre-period
fit, the difference-in-differences effect against the matched areas, the placebo-in-space test
and the robustness table (every control that can be formed, each with the displacement ring's
effect against it), returned as plain data with one list of warnings.

The pieces are `comparison` (pool, series, match, pre-trend test), `panel` (the count model)
and `did` (the estimator, the placebo test, the robustness sentence). Which control the answer
leads with, and every default, is decided by the evaluation question
(`hotspot_app.questions.evaluation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import settings, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.core.evaluation import comparison
from hotspot_app.core.evaluation.did import (
    MAX_PLACEBO, ControlResult, DidEffect, Placebo, did, placebo, robustness_sentence, synthetic_effect,
)

__all__ = ["MatchedEvaluation", "evaluate_matched"]

#: Fewer target incidents than this in the before window: a small-numbers warning.
SMALL_COUNT: int = settings.SMALL_COUNT


@dataclass
class MatchedEvaluation:
    """A matched evaluation of one target (`evaluate_matched`).

    ``method``: the control the main ``effect`` uses ("matched", or "layer"/"rest" when no
    comparison area could be matched); ``pool``: where candidates came from ("file", "layer",
    "hexagons"); ``candidates``: the pool (candidate_id, name, source, geometry, pre, before,
    after counts, level, trend, distance (standardised), distance_m (from the target, metres),
    chosen, weight) for the map; ``matched``: the chosen
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



def _centres(geoms) -> np.ndarray:
    """Centroids (x, y in metres) of polygons, one row each."""
    return shapely.get_coordinates(shapely.centroid(np.asarray(geoms, dtype=object))).reshape(-1, 2)



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
    pool_from_areas: bool = True,
) -> MatchedEvaluation:
    """Evaluate `target` against comparison areas matched on the pre-period.

    incidents : canonical incidents (EPSG:27700; ``month``, ``category``, ``kind``, geometry).
    target : the intervention area (polygons are merged).
    before, after, pre : windows as (from, to) months or 'YYYY-MM..YYYY-MM'
        (`comparison.windows`; pre defaults to before's start up to the month before after).
    category : the incidents evaluated (`taxonomy.select`; None = all).
    areas : the target's layer (e.g. the micro-hotspots): the "layer" control and, unless
        ``pool_from_areas=False`` (a target that is not one of them), the default candidate
        pool. candidates : a candidates file's areas (the pool instead of the layer).
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

    pool = comparison.candidate_pool(tgeom, areas=areas if pool_from_areas else None,
                                     candidates=candidates, study_area=study_area,
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
        cand, counts, said = _busy_cells(cand, counts, p_pre, t_pre, min_candidates)
        warnings += said
    centres = _centres(cand.geometry.values)
    t_centre = _centres([tgeom])[0]
    cand["pre"] = counts[:, p_pre].sum(axis=1)
    cand["before"] = counts[:, p_b].sum(axis=1)
    cand["after"] = counts[:, p_a].sum(axis=1)

    tb_tot, ta_tot = int(target_counts[p_b].sum()), int(target_counts[p_a].sum())
    ring_counts = None
    if buffer_m > 0:  # the ring: within buffer_m of the target, not in it (a point on the edge is inside)
        ring_counts = comparison.monthly_matrix(chosen_inc, [tgeom.buffer(buffer_m)], months)[0] - target_counts
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
                             synthetic=True, distance_m=np.hypot(*(centres - t_centre).T))
        for col in ("level", "trend", "distance", "distance_m", "chosen", "weight"):
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
            ring = (did(ring_counts[p_b], ring_counts[p_a], counts[sel][:, p_b], counts[sel][:, p_a])
                    if ring_counts is not None else None)
            results.append(ControlResult("matched", f"the {len(sel)} matched comparison areas", effect, ring,
                                         tuple(cand.geometry.values[sel]),
                                         tuple(str(v) for v in cand["name"].to_numpy()[sel])))
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
        for col, value in (("level", np.nan), ("trend", np.nan), ("distance", np.nan),
                           ("distance_m", np.nan), ("chosen", False),
                           ("weight", np.nan)):
            cand[col] = value

    if windows_ok:
        shared = (effect.dispersion, effect.df_resid) if effect is not None and effect.df_resid else None
        results += _naive_controls(chosen_inc, tgeom, target_counts, ring_counts, months, p_b, p_a, areas,
                                   exclude, control_area, control_name, buffer_m, shared)
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
                  n_matches=n_matches, centres=_centres(geoms))
    if len(cand) > max_placebo:
        out.warnings.append(f"The placebo test uses the {max_placebo} candidate areas most like the "
                            f"target in pre-period level and trend (of {len(cand)}).")
    return out



def _busy_cells(cand, counts, p_pre, t_pre, min_candidates):
    """Hexagon candidates busy enough to stand for the target: at least a quarter of the
    target's pre-period incidents (`comparison.HEX_MIN_SHARE`) and one a month; when fewer than
    `min_candidates` cells are that busy, every cell with one a month (matching then prefers the
    busiest). Returns the kept cells, their counts and the warnings."""
    pre_tot = counts[:, p_pre].sum(axis=1)
    floor = float(len(p_pre))
    need = max(floor, comparison.HEX_MIN_SHARE * float(t_pre.sum()))
    busy = pre_tot >= need
    said = []
    few = "; the match and the placebo test rest on few places" if (pre_tot >= floor).sum() < min_candidates else ""
    if busy.sum() < min_candidates and (pre_tot >= floor).sum() > busy.sum():
        said.append(f"Only {int(busy.sum())} hexagon cells have a quarter of the target's pre-period "
                    f"incidents ({need:.0f}), so every cell with at least one a month is a candidate "
                    f"({int((pre_tot >= floor).sum())} cells){few}.")
        busy = pre_tot >= floor
    elif busy.sum() < min_candidates:
        said.append(f"Only {int(busy.sum())} hexagon cells have at least {need:.0f} incidents in the "
                    "pre-period: the match and the placebo test rest on few places.")
    return cand[busy].reset_index(drop=True), counts[busy], said


def _naive_controls(chosen_inc, tgeom, target_counts, ring_counts, months, p_b, p_a, areas, exclude,
                    control_area, control_name, buffer_m, scale) -> list[ControlResult]:
    """The controls used before matching, with the same estimator: the rest of the layer (the
    layer's other areas clear of the target and its ring, each a unit), the rest of the data
    (every incident outside the target, its ring and other treated places, one unit) and a
    named area (outside the target and its ring, one unit). `scale` is the matched fit's
    (dispersion, df): the target's extra-Poisson variation is estimated once, among places like
    it, not from a large aggregate's swings (None: each fit's own)."""
    zone = tgeom.buffer(buffer_m) if buffer_m > 0 else tgeom
    out: list[ControlResult] = []
    tb, ta = target_counts[p_b], target_counts[p_a]

    def effects(c):
        ring = (did(ring_counts[p_b], ring_counts[p_a], c[:, p_b], c[:, p_a], scale)
                if ring_counts is not None else None)
        return did(tb, ta, c[:, p_b], c[:, p_a], scale), ring

    if areas is not None and len(areas):
        if areas.crs is not None and not areas.crs.equals(settings.CRS):
            areas = areas.to_crs(settings.CRS)
        geoms = np.asarray(areas.geometry.values)
        clear = ~shapely.intersects(zone, geoms)
        others = geoms[clear]
        if len(others):
            names = (areas["name"].astype(str).to_numpy()[clear] if "name" in areas.columns
                     else np.array([f"area {i + 1}" for i in np.flatnonzero(clear)]))
            c = comparison.monthly_matrix(chosen_inc, others, months)
            out.append(ControlResult("layer", f"the rest of the layer ({len(others)} "
                                     f"{'area' if len(others) == 1 else 'areas'})", *effects(c),
                                     tuple(others), tuple(names)))
    # the rest of the data: all selected incidents minus those in the target, ring and exclusions
    shut = zone
    if exclude is not None:
        ex = comparison.as_geometry(exclude, "exclude")
        shut = shapely.union(shut, ex.buffer(buffer_m) if buffer_m > 0 else ex)
    inside = comparison.monthly_matrix(chosen_inc, [shut], months)[0]
    m_idx = pd.Index(list(months)).get_indexer(chosen_inc["month"].astype(str).to_numpy())
    everything = np.bincount(m_idx[m_idx >= 0], minlength=len(months))
    rest = (everything - inside)[None, :]
    out.append(ControlResult("rest", "the rest of the data", *effects(rest)))
    if control_area is not None:
        cgeom = comparison.as_geometry(control_area, "control_area").difference(zone)
        label = control_name or (str(control_area["name"].iloc[0]) if isinstance(control_area, gpd.GeoDataFrame)
                                 and "name" in control_area.columns and len(control_area) == 1 else "control area")
        if cgeom.is_empty:
            out.append(ControlResult(label, label, None, names=(label,)))
        else:
            c = comparison.monthly_matrix(chosen_inc, [cgeom], months)
            out.append(ControlResult(label, label, *effects(c), (cgeom,), (label,)))
    return out
