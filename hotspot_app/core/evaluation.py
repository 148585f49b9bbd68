"""Intervention evaluation: before/after, control-adjusted effect, displacement, warnings.

Commissioners report figures such as "ASB in the Hemlington micro hotspot fell 29% in
July–December 2023 compared with the same months of 2022, a 71% reduction on the 2021 baseline"
(seed 000). This module gives that figure and the evidence behind it. Everything is computed in
EPSG:27700 (metres); inputs are never modified.

Regions
-------
target (R, "treated" T)
    The intervention area: an area polygon, or a point buffered by its radius (a CCTV column),
    see `intervention_area`.
buffer (D)
    The displacement ring: the target buffered by ``buffer_m`` metres, minus the target.
control (C)
    A named control area or file, or by default the rest of the containing area layer (e.g. the
    union of the borough's wards) minus the target and its buffer ring; when there is no
    containing layer, every other loaded incident outside the target and its ring. Each
    incident counts in at most one of target, buffer and control (target first, then buffer).
displacement control (DC)
    Only for a named control area: the ring of ``buffer_m`` around it (for the WDD).

Windows
-------
The *after* window is compared with the *before* window, by default the same months one year
earlier (seasonality cancels; a window across a year end, e.g. 2023-11..2024-02, is compared
with 2022-11..2023-02). An optional *baseline* window (e.g. 2021) is compared too; when it has a
different length from the after window the comparison is per month. Coverage rule (design §5):
a month is covered when the loaded data have any rows that month anywhere; a window with an
uncovered month has a null count and a warning, never a zero. Coverage is judged per data
source: only the sources that supply the selected incidents count (police.uk months do not make
months after a fire extract ends look covered for deliberate fires).

Formulas (design §6)
--------------------
% change = 100 * (after - before) / before, null when before = 0.

Rate ratio (the effect): (Ta/Tb) / (Ca/Cb), from a log-linear model fitted with statsmodels to
the monthly counts of target and control in the before and after windows::

    log E[count] = b0 + b1*target + b2*after + b3*target*after + s[month in window],
    rate ratio = exp(b3)

``s`` (only when the windows have equal lengths) is shared by target and control, so the
seasonality of paired months (each July with the July a year earlier) is not mistaken for
overdispersion. With factors only the model is collapsible: the Poisson estimate and interval
equal those of the 2x2 table of window totals. The model is Poisson unless the monthly counts
are overdispersed: when the Poisson fit's Pearson chi-square exceeds the 95th percentile of
chi-square on its residual degrees of freedom, a negative-binomial (NB2) model with
ML-estimated alpha is fitted instead (quasi-Poisson if that fit fails). The 95% interval is exp(b3 +/- 1.96 SE) (Wald) and
the p-value is the two-sided Wald test of b3 = 0. With totals only (no monthly detail) the model
is the saturated Poisson 2x2 and SE = sqrt(1/Tb + 1/Ta + 1/Cb + 1/Ca). Null when any of the four
totals is zero.

WDQ (Bowers & Johnson 2003) = (Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb). > 0: diffusion of benefits;
0 to -1: some displacement, less than the gain; < -1: displacement exceeds the gain. Undefined
(null) when the control has no incidents in either window or the target showed no change
relative to the control.

TNE (total net effect) = [Rb*(Ca/Cb) - Ra] + [Db*(Ca/Cb) - Da]: incidents prevented (positive)
or added (negative) in target and buffer together, against the control's trend.

Excess (target, ring) = E * (RR - 1) with E = before * (Ca/Cb), the count the control's trend
predicts, and RR that region's control-adjusted rate ratio; its 95% interval is E * (lo - 1) to
E * (hi - 1). One test per effect: the excess is significant exactly when its rate ratio is, and
the text states significance once per effect (target, ring; the net effect by the WDD when a
control is named). Signs are said in words ("about 67 fewer incidents").

WDD (Wheeler & Ratcliffe 2018) = (Ta - Tb) - (Ca - Cb) + (Da - Db) - (DCa - DCb), variance =
the sum of the eight counts, Z = WDD / SE. It assumes a control of comparable size, so it is
computed for a named control area (with its own ring as DC), not for the borough-wide default.
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import areas as _areas
from hotspot_app.core import periods, settings, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.core.measures import a_or_an, pct_change, round_half_up

#: Series names in `Evaluation.series` (tidy monthly counts).
SERIES = ("target", "buffer", "control")
#: Layers whose areas are themselves small intervention areas (not a containing layer).
INTERVENTION_LAYERS = ("micro_hotspot", "patrol")
#: A before window whose monthly mean exceeds the preceding history's by this factor is a peak.
PEAK_FACTOR: float = 1.25

__all__ = [
    "Effect", "WDD", "WindowCount", "Evaluation", "Dosage",
    "intervention_area", "intervention_place", "buffer_ring", "default_control", "windows_around", "same_months_before",
    "rate_ratio", "excess_from_effect", "significance", "wdq", "wdq_interpretation", "tne", "tne_interpretation", "wdd",
    "evaluate", "evaluate_intervention", "monthly_counts", "patrol_log", "dosage",
    "Regions", "resolve_regions", "default_baseline", "default_category", "target_and_ring",
]


# --------------------------------------------------------------------------- geometry helpers
def intervention_area(row: Mapping[str, Any] | pd.Series, areas: gpd.GeoDataFrame | None = None
                      ) -> BaseGeometry:
    """The polygon an intervention covers (EPSG:27700).

    A polygon geometry is returned as it is; a point is buffered by ``radius_m`` metres (e.g. a
    CCTV column's viewshed); with no geometry, ``area_id`` is looked up in `areas`.
    """
    geom = row.get("geometry") if hasattr(row, "get") else None
    radius = row.get("radius_m") if hasattr(row, "get") else None
    label = row.get("name") or row.get("intervention_id") or "intervention"
    if geom is not None and not (isinstance(geom, float) and math.isnan(geom)) and not geom.is_empty:
        if geom.geom_type in ("Point", "MultiPoint"):
            if radius is None or pd.isna(radius) or float(radius) <= 0:
                raise InputError(f"intervention '{label}' is a point and needs radius_m > 0",
                                 column="radius_m")
            return geom.buffer(float(radius))
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            return geom
        raise InputError(f"intervention '{label}' has a {geom.geom_type} geometry; use a polygon "
                         "or a point with radius_m", column="geometry")
    area_id = row.get("area_id")
    if area_id is not None and not pd.isna(area_id) and areas is not None:
        hit = areas[areas["area_id"].astype(str) == str(area_id)]
        if not hit.empty:
            return shapely.union_all(hit.geometry.values)
    raise InputError(f"intervention '{label}' has no geometry and its area_id '{area_id}' is not "
                     "among the areas given", column="area_id")


def buffer_ring(target: BaseGeometry, buffer_m: float = settings.BUFFER_M) -> BaseGeometry:
    """The displacement ring: `target` buffered by `buffer_m` metres, minus the target."""
    if buffer_m < 0:
        raise InputError("buffer_m must be >= 0 metres", parameter="buffer_m")
    if buffer_m == 0:
        return shapely.Polygon()
    return target.buffer(buffer_m).difference(target)


def target_and_ring(target: BaseGeometry | gpd.GeoDataFrame, buffer_m: float = settings.BUFFER_M,
                    name: str = "target area") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The target (its polygons merged) and its displacement ring as one-row GeoDataFrames
    (columns name, geometry; EPSG:27700), for maps; the ring frame is empty when buffer_m = 0."""
    geom, _, _ = _as_geometry(target, "target")
    ring = buffer_ring(geom, buffer_m)
    area = gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=settings.CRS)
    buf = gpd.GeoDataFrame({"name": [f"{buffer_m:g} m buffer ring"]}, geometry=[ring], crs=settings.CRS)
    return area, buf[~buf.geometry.is_empty]


def _as_geometry(value: Any, what: str) -> tuple[BaseGeometry, str | None, str | None]:
    """(polygon, name, layer) from a shapely geometry or a GeoDataFrame/GeoSeries of areas."""
    if isinstance(value, BaseGeometry):
        return value, None, None
    if isinstance(value, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if len(value) == 0:
            raise InputError(f"{what} has no polygons", parameter=what)
        if value.crs is not None and not value.crs.equals(settings.CRS):
            value = value.to_crs(settings.CRS)
        geoms = value.geometry.values if isinstance(value, gpd.GeoDataFrame) else value.values
        name = layer = None
        if isinstance(value, gpd.GeoDataFrame):
            if "name" in value.columns:
                name = _areas.display_name(value)
            if "layer" in value.columns and value["layer"].nunique() == 1:
                layer = str(value["layer"].iloc[0])
        return shapely.union_all(geoms), name, layer
    raise InputError(f"{what} must be a polygon or areas (GeoDataFrame)", parameter=what)


def default_control(
    target: BaseGeometry,
    buffer_m: float = settings.BUFFER_M,
    context: gpd.GeoDataFrame | BaseGeometry | None = None,
    exclude: gpd.GeoDataFrame | BaseGeometry | None = None,
) -> tuple[BaseGeometry | None, str]:
    """The default control region and its description.

    The union of `context` (the containing layer, e.g. the borough's wards) minus the target
    buffered by `buffer_m` (target and ring) and minus `exclude` (other treated areas, with their
    own ring). ``None`` as the region means "everywhere outside the target, its ring and the
    excluded areas" (used when there is no containing layer or it does not contain the target).
    """
    zone = target.buffer(buffer_m) if buffer_m > 0 else target
    if exclude is not None:
        ex, _, _ = _as_geometry(exclude, "exclude")
        zone = shapely.union(zone, ex.buffer(buffer_m) if buffer_m > 0 else ex)
    if context is not None:
        region, _, layer = _as_geometry(context, "context")
        if not region.is_empty and region.intersection(target).area >= 0.5 * target.area:
            what = (f"the rest of the {layer.replace('_', ' ')} layer" if layer and layer != "custom"
                    else "the rest of the containing areas")
            return region.difference(zone), f"{what} outside the target and its {buffer_m:g} m ring"
    return None, f"all other loaded incidents outside the target and its {buffer_m:g} m ring"


@dataclass(frozen=True)
class Regions:
    """What `evaluate` compares, decided once by `resolve_regions`: the target, its control (a
    named one, or the default built from `context` minus the target's ring and `exclude`), and
    the names the text uses."""

    target: BaseGeometry | gpd.GeoDataFrame
    name: str
    layer: str | None = None
    control: BaseGeometry | gpd.GeoDataFrame | None = None
    control_name: str | None = None
    context: BaseGeometry | gpd.GeoDataFrame | None = None
    exclude: BaseGeometry | gpd.GeoDataFrame | None = None


def _containing_layer(areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The layer a place of its own (a file, a drawn polygon) is compared within: the wards when
    there are any, else every area given."""
    if areas is None or len(areas) == 0:
        return None
    if "layer" in areas.columns and areas["layer"].astype(str).eq("ward").any():
        return areas[areas["layer"].astype(str) == "ward"]
    return areas


def _pick(areas: gpd.GeoDataFrame | None, value: str, parameter: str) -> gpd.GeoDataFrame:
    """The area(s) named (case-insensitive) or with area_id `value` (`areas.find_area`)."""
    if areas is None:
        raise InputError(f"'{value}' is not a boundary file; give --areas FILE to pick an area by "
                         "name", parameter=parameter)
    try:
        return _areas.find_area(areas, value)
    except InputError as exc:
        raise InputError(exc.message, parameter=parameter) from None


def resolve_regions(
    target: str | Mapping[str, Any] | pd.Series | BaseGeometry | gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None = None,
    *,
    control: str | BaseGeometry | gpd.GeoDataFrame | None = None,
    interventions: pd.DataFrame | None = None,
    name: str | None = None,
) -> Regions:
    """The target/control policy of every evaluation (CLI and app call this, nothing else).

    `target` is one of
      - an area name or ``area_id`` in `areas`: an area picked from a layer. In a layer of small
        treated areas (`INTERVENTION_LAYERS`: micro-hotspots, patrol areas) the control is every
        incident outside the target, its ring and the layer's other areas (they are treated
        too); in any other layer (wards, town centres) it is the rest of that layer;
      - a stored intervention row (`intervention_area`): the control is every incident outside
        the target, its ring and the other `interventions` with their rings;
      - a polygon or areas of its own (a boundary file, a drawn polygon): the control is the
        rest of the wards in `areas` (all `areas` when there are no wards), or every other
        incident when no areas are given.
    `control` (a name or ``area_id`` in `areas`, or polygons) replaces the default control.
    `name` overrides the target's display name (default `areas.display_name`).
    """
    context = exclude = None
    if isinstance(target, str):
        rows = _pick(areas, target, "area")
        layer = str(rows["layer"].iloc[0]) if "layer" in rows.columns else None
        same = areas if layer is None else areas[areas["layer"].astype(str) == layer]
        others = same[~same.index.isin(rows.index)]
        if layer in INTERVENTION_LAYERS:
            exclude = others if len(others) else None
        else:
            context = same
        geom, shown = rows, _areas.display_name(rows)
    elif isinstance(target, (Mapping, pd.Series)) and not isinstance(target, gpd.GeoDataFrame):
        geom = intervention_area(target, areas)
        if interventions is not None:
            ident = str(target.get("intervention_id"))
            rest = [intervention_area(r, areas) for _, r in interventions.iterrows()
                    if str(r["intervention_id"]) != ident]
            exclude = shapely.union_all(rest) if rest else None
        shown, layer = intervention_place(target, areas)
    else:
        geom = target
        context = _containing_layer(areas)
        layer = None
        if isinstance(target, gpd.GeoDataFrame) and "layer" in target.columns and target["layer"].nunique() == 1:
            layer = str(target["layer"].iloc[0])
        shown = _areas.display_name(target) if isinstance(target, gpd.GeoDataFrame) else "drawn area"
    control_rows = control_name = None
    if control is not None:
        control_rows = _pick(areas, control, "control") if isinstance(control, str) else control
        control_name = (_areas.display_name(control_rows, fallback="the control area")
                        if isinstance(control_rows, gpd.GeoDataFrame) else None)
        context = exclude = None
    return Regions(target=geom, name=name or shown, layer=None if layer in (None, "custom") else layer,
                   control=control_rows, control_name=control_name, context=context, exclude=exclude)


# --------------------------------------------------------------------------- windows
def _window(value: str | Sequence[str] | None, parameter: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return periods.parse_range(value, parameter)
    months = [periods.parse_month(m, parameter) for m in value]
    if not months:
        raise InputError("a window needs at least one month", parameter=parameter)
    return months


def same_months_before(after: str | Sequence[str]) -> list[str]:
    """The same months one year earlier (2023-11..2024-02 -> 2022-11..2023-02)."""
    return periods.comparison_window(_window(after, "after"), "same-period-last-year")


def default_baseline(after: str | Sequence[str], available: Sequence[str]) -> list[str] | None:
    """The baseline a user is offered first: the same months as the after window in the latest
    year before the comparison year (two or more years earlier) that the `available` months
    cover; None when no earlier year is covered. Same months, so seasonality cancels."""
    after_w = _window(after, "after")
    have = set(available)
    years = 2
    while have and periods.add_months(after_w[0], -12 * years) >= min(have):
        candidate = periods.shift(after_w, -12 * years)
        if set(candidate) <= have:
            return candidate
        years += 1
    return None


def windows_around(start: str, n_months: int | None = None, gap: int = 0) -> tuple[list[str], list[str]]:
    """Equal-length (before, after) windows around an intervention starting in month `start`.

    After = `start` and the following ``n_months - 1`` months; before = the `n_months` months
    ending ``gap + 1`` months before `start` (``gap`` months left out, e.g. a set-up period).
    """
    if n_months is None:
        raise InputError("give the window length n_months", parameter="n_months")
    months = int(n_months)
    start = periods.parse_month(start, "start")
    if months < 1 or gap < 0:
        raise InputError("months must be >= 1 and gap >= 0", parameter="months")
    after = [periods.add_months(start, k) for k in range(months)]
    before = periods.window(periods.add_months(start, -1 - gap), months)
    return before, after


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Effect:
    """Control-adjusted rate ratio (Ta/Tb)/(Ca/Cb) with its 95% interval.

    `model` is ``poisson``, ``negative-binomial`` or ``quasi-poisson``; `dispersion` the Poisson
    fit's Pearson chi-square / df (None when there are no residual degrees of freedom).
    """

    rate_ratio: float
    ci95: tuple[float, float]
    p_value: float
    model: str
    dispersion: float | None = None

    @property
    def pct_change(self) -> float:
        """The control-adjusted change in %, 100 * (rate ratio - 1)."""
        return 100.0 * (self.rate_ratio - 1.0)

    def to_dict(self) -> dict:
        return {"rate_ratio": round(self.rate_ratio, 4),
                "ci95": [round(self.ci95[0], 4), round(self.ci95[1], 4)],
                "p_value": float(f"{self.p_value:.4g}")}


def rate_ratio(
    target_before: int | Sequence[int], target_after: int | Sequence[int],
    control_before: int | Sequence[int], control_after: int | Sequence[int],
) -> Effect | None:
    """Control-adjusted rate ratio (Ta/Tb)/(Ca/Cb) from a log-linear model (statsmodels).

    Each argument is a window total or the window's monthly counts. When all four windows have
    the same number of months, a month-in-window factor shared by target and control absorbs
    seasonality (paired months, e.g. each July with the July a year earlier); with factors only
    this log-linear model ([group x period][month]) is collapsible, so the Poisson estimate and
    interval equal those of the 2x2 table of totals. The Poisson fit is then checked for
    overdispersion (Pearson chi-square above the 95th percentile of chi-square on its residual
    df) and a negative-binomial (NB2) model is used when it is. Returns None when any of the
    four totals is zero (the ratio is undefined).
    """
    from scipy import stats
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    parts = [np.atleast_1d(np.asarray(v, dtype=float)) for v in
             (target_before, target_after, control_before, control_after)]
    if any(p.size == 0 or not np.isfinite(p).all() or p.sum() <= 0 for p in parts):
        return None
    y = np.concatenate(parts)
    is_target = np.concatenate([np.full(parts[0].size, 1.0), np.full(parts[1].size, 1.0),
                                np.zeros(parts[2].size), np.zeros(parts[3].size)])
    is_after = np.concatenate([np.zeros(parts[0].size), np.ones(parts[1].size),
                               np.zeros(parts[2].size), np.ones(parts[3].size)])
    X = np.column_stack([np.ones_like(y), is_target, is_after, is_target * is_after])
    n = parts[0].size
    if n > 1 and all(p.size == n for p in parts):
        # month-in-window effects shared by target and control (seasonality of paired months)
        pos = np.tile(np.arange(n), 4)
        X = np.column_stack([X] + [(pos == k).astype(float) for k in range(1, n)])
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        fit = GLM(y, X, family=families.Poisson()).fit()
        b, se = float(fit.params[3]), float(fit.bse[3])
        dof = len(y) - X.shape[1]
        dispersion = float(fit.pearson_chi2 / dof) if dof > 0 else None
        model = "poisson"
        if dof > 0 and fit.pearson_chi2 > stats.chi2.ppf(0.95, dof):
            model = "negative-binomial"
            try:
                from statsmodels.discrete.discrete_model import NegativeBinomial

                nb = NegativeBinomial(y, X, loglike_method="nb2").fit(disp=0, maxiter=500)
                b_nb, se_nb = float(nb.params[3]), float(nb.bse[3])
                if not (np.isfinite(b_nb) and np.isfinite(se_nb) and se_nb > 0):
                    raise ValueError("negative-binomial fit failed")
                b, se = b_nb, se_nb
            except Exception:  # noqa: BLE001 - fall back to a scaled Poisson
                model = "quasi-poisson"
                se = se * math.sqrt(dispersion)
    z = b / se
    return Effect(rate_ratio=math.exp(b), ci95=(math.exp(b - 1.959964 * se), math.exp(b + 1.959964 * se)),
                  p_value=float(2 * stats.norm.sf(abs(z))), model=model, dispersion=dispersion)


def wdq(rb: float, ra: float, db: float, da: float, cb: float, ca: float) -> float | None:
    """Weighted displacement quotient (Bowers & Johnson 2003).

    ``(Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb)``; None when a control count is zero or the target
    showed no change relative to the control (denominator 0).
    """
    if any(v is None for v in (rb, ra, db, da, cb, ca)) or cb == 0 or ca == 0:
        return None
    success = ra / ca - rb / cb
    if abs(success) < 1e-12:
        return None
    return (da / ca - db / cb) / success


def wdq_interpretation(value: float | None, rb=None, ra=None, cb=None, ca=None) -> str:
    """Plain-English reading of a WDQ (design §6)."""
    if value is None:
        if cb == 0 or ca == 0:
            return "WDQ undefined: the control area had no incidents in one of the windows."
        return ("WDQ undefined: the target area showed no change relative to the control "
                "(or counts are missing).")
    if None not in (rb, ra, cb, ca) and cb and ca and ra / ca - rb / cb > 0:
        return (f"WDQ {value:.2f} is not a displacement measure here: the target area did not fall "
                "relative to the control.")
    if value > 1e-9:
        return (f"WDQ {value:.2f} > 0: diffusion of benefits — the buffer also improved relative to "
                "the control.")
    if abs(value) <= 1e-9:
        return "WDQ 0: no displacement to the buffer and no diffusion of benefits."
    if abs(value + 1) <= 1e-9:
        return "WDQ -1: displacement to the buffer equals the gain in the target (no net effect)."
    if value > -1:
        return (f"WDQ {value:.2f} (between 0 and -1): some displacement to the buffer, less than the "
                "gain in the target.")
    return f"WDQ {value:.2f} < -1: displacement to the buffer exceeds the gain in the target."


def tne(rb: float, ra: float, db: float, da: float, cb: float, ca: float) -> float | None:
    """Total net effect ``[Rb*(Ca/Cb) - Ra] + [Db*(Ca/Cb) - Da]``: incidents prevented (> 0) or
    added (< 0) in target and buffer together against the control's trend; None if Cb = 0."""
    if any(v is None for v in (rb, ra, db, da, cb, ca)) or cb == 0:
        return None
    k = ca / cb
    return (rb * k - ra) + (db * k - da)


def tne_interpretation(value: float | None) -> str:
    """The TNE in words. TNE counts incidents *prevented*, so a positive TNE is fewer incidents
    and a negative one more; the text says 'fewer'/'more' and names the sign's meaning."""
    if value is None:
        return "Total net effect undefined (no control incidents before, or counts missing)."
    n = abs(round(value))
    if n == 0:
        return "Total net effect 0: no net change in target and buffer together, given the control trend."
    word, meaning = ("fewer", "prevented") if value > 0 else ("more", "added")
    return (f"About {n:,} {word} incidents in the target and buffer together than the control "
            f"area's trend predicts (total net effect {value:+.1f}: incidents {meaning}).")


def excess_from_effect(expected: float | None, effect: Effect | None
                       ) -> tuple[float, tuple[float, float]] | None:
    """Incidents above (> 0) or below (< 0) what the control's trend predicts, with its 95%
    interval, read off the control-adjusted rate ratio RR of the same area: with `expected` =
    ``before * (Ca/Cb)`` (the count the control's trend predicts), the excess is
    ``expected * (RR - 1)`` (= ``after - before * (Ca/Cb)`` for the Poisson model) and its
    interval is ``expected * (lo - 1)`` to ``expected * (hi - 1)``. So the excess is
    statistically significant exactly when the rate ratio is: one test per effect.

    For the buffer ring (with the buffer's rate ratio) this is the number displaced into it
    (> 0) or the diffusion of benefits (< 0); for the target, minus the incidents prevented.
    None when the expected count or the rate ratio is missing.
    """
    if expected is None or effect is None:
        return None
    lo, hi = effect.ci95
    return (float(expected) * (effect.rate_ratio - 1.0),
            (float(expected) * (lo - 1.0), float(expected) * (hi - 1.0)))


def _expected(before: int | None, control_before: int | None, control_after: int | None) -> float | None:
    """The count the control's trend predicts: before * (Ca/Cb); None without a control."""
    if None in (before, control_before, control_after) or not control_before:
        return None
    return before * control_after / control_before


def significance(effect: Effect | WDD | None) -> str:
    """The one significance statement of an effect, from its 95% interval (rate ratios) or its
    two-sided Z test (WDD) at the 5% level."""
    if effect is None:
        return "not tested"
    if isinstance(effect, WDD):
        return ("statistically significant at the 5% level" if effect.p_value < 0.05
                else "not statistically significant at the 5% level")
    lo, hi = effect.ci95
    return ("not statistically significant at the 5% level (the 95% interval includes no change)"
            if lo <= 1 <= hi else "statistically significant at the 5% level")


def _fewer_more(value: float) -> str:
    """'67 fewer', '23 more', '0' (incidents against the control's trend)."""
    n = abs(round(value))
    if n == 0:
        return "0"
    return f"{n:,} {'fewer' if value < 0 else 'more'}"


def _against_trend(value: float) -> str:
    """'about 67 fewer incidents than the control's trend predicts' / 'as many incidents as ...'."""
    if abs(round(value)) == 0:
        return "as many incidents as the control's trend predicts"
    return f"about {_fewer_more(value)} incidents than the control's trend predicts"


@dataclass(frozen=True)
class WDD:
    """Weighted displacement difference (Wheeler & Ratcliffe 2018)."""

    wdd: float
    variance: float
    se: float
    z: float
    p_value: float

    def to_dict(self) -> dict:
        return {"wdd": self.wdd, "se": round(self.se, 2), "z": round(self.z, 2),
                "p_value": float(f"{self.p_value:.4g}")}


def wdd(treated_before: float, treated_after: float, control_before: float, control_after: float,
        displacement_before: float = 0, displacement_after: float = 0,
        displacement_control_before: float = 0, displacement_control_after: float = 0) -> WDD | None:
    """WDD = (Ta - Tb) - (Ca - Cb) + (Da - Db) - (DCa - DCb); variance = sum of the eight counts,
    SE = sqrt(variance), Z = WDD / SE (two-sided normal p-value). None when a count is missing
    or all are zero."""
    from scipy import stats

    counts = [treated_before, treated_after, control_before, control_after, displacement_before,
              displacement_after, displacement_control_before, displacement_control_after]
    if any(c is None for c in counts):
        return None
    tb, ta, cb, ca, db, da, dcb, dca = (float(c) for c in counts)
    value = (ta - tb) - (ca - cb) + (da - db) - (dca - dcb)
    var = float(sum(counts))
    if var <= 0:
        return None
    se = math.sqrt(var)
    z = value / se
    return WDD(wdd=value, variance=var, se=se, z=z, p_value=float(2 * stats.norm.sf(abs(z))))


# --------------------------------------------------------------------------- result
def _excess_dict(value) -> dict | None:
    if value is None:
        return None
    return {"count": round(value[0], 1), "ci95": [round(value[1][0], 1), round(value[1][1], 1)]}


@dataclass(frozen=True)
class WindowCount:
    """A window (inclusive months) and its count (None when a month is not covered)."""

    months: tuple[str, ...]
    count: int | None

    @property
    def start(self) -> str:
        return self.months[0]

    @property
    def end(self) -> str:
        return self.months[-1]

    def to_dict(self) -> dict:
        return {"from": self.start, "to": self.end, "count": self.count}


@dataclass
class Evaluation:
    """The result of `evaluate`. `to_dict()` is the ``hotspot evaluate`` JSON (design §5) plus
    one extra key ``details`` (WDD, TNE, model, interpretation texts, regions)."""

    area: str
    categories: list[str]
    after: WindowCount
    before: WindowCount
    baseline: WindowCount | None
    buffer: dict | None
    control: dict | None
    wdq: float | None
    effect: Effect | None
    warnings: list[str]
    layer: str | None = None
    buffer_m: float = settings.BUFFER_M
    control_description: str = ""
    wdq_text: str = ""
    tne: float | None = None
    tne_text: str = ""
    wdd: WDD | None = None
    wdd_note: str = ""
    buffer_effect: Effect | None = None
    buffer_excess: tuple[float, tuple[float, float]] | None = None
    target_excess: tuple[float, tuple[float, float]] | None = None
    series: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    intervention: tuple[str, str] | None = None

    # ---- figures
    @property
    def diff(self) -> int | None:
        if self.before.count is None or self.after.count is None:
            return None
        return int(self.after.count - self.before.count)

    @property
    def pct_change(self) -> float | None:
        return pct_change(self.after.count, self.before.count)

    @property
    def baseline_pct_change(self) -> float | None:
        """After vs baseline; per month when the windows differ in length."""
        if self.baseline is None or self.baseline.count is None or self.after.count is None:
            return None
        nb, na = len(self.baseline.months), len(self.after.months)
        return pct_change(self.after.count / na, self.baseline.count / nb)

    def to_dict(self) -> dict:
        """Exactly the ``hotspot evaluate`` JSON of design §5 (+ ``details``)."""
        baseline = None
        if self.baseline is not None:
            baseline = {**self.baseline.to_dict(), "pct_change": self.baseline_pct_change}
        details = {
            "buffer_m": self.buffer_m,
            "control_area": self.control_description,
            "effect_model": self.effect.model if self.effect else None,
            "effect_pct_change": round(self.effect.pct_change, 1) if self.effect else None,
            "buffer_effect": self.buffer_effect.to_dict() if self.buffer_effect else None,
            "target_excess": _excess_dict(self.target_excess),
            "buffer_excess": _excess_dict(self.buffer_excess),
            "wdq_interpretation": self.wdq_text,
            "tne": None if self.tne is None else round(self.tne, 2),
            "tne_interpretation": self.tne_text,
            "wdd": self.wdd.to_dict() if self.wdd else None,
            "wdd_note": self.wdd_note,
            "intervention": list(self.intervention) if self.intervention else None,
            "baseline_per_month": (self.baseline is not None
                                   and len(self.baseline.months) != len(self.after.months)),
        }
        return {
            "area": self.area,
            "categories": list(self.categories),
            "after": self.after.to_dict(),
            "before": self.before.to_dict(),
            "diff": self.diff,
            "pct_change": self.pct_change,
            "baseline": baseline,
            "buffer": self.buffer,
            "control": self.control,
            "wdq": None if self.wdq is None else round(self.wdq, 4),
            "effect": self.effect.to_dict() if self.effect else None,
            "warnings": list(self.warnings),
            "details": details,
        }

    # ---- text
    def _what(self) -> str:
        return taxonomy.selection_label(self.categories, everything="recorded incidents", capital=True)

    def _where(self) -> str:
        name = self.area
        low = name.lower()
        if self.layer == "micro_hotspot" and "hotspot" not in low:
            return f"the {name} micro hotspot"
        if self.layer == "ward" and "ward" not in low:
            return f"the {name} ward"
        if self.layer == "town_centre" and "centre" not in low:
            return f"{name} town centre"
        return name if low.startswith("the ") else f"the {name} area"

    def headline(self) -> str:
        """One sentence in the partnership's style (seed 000)."""
        after, before = self.after, self.before
        when = periods.span_text(after.months)
        if list(before.months) == periods.shift(after.months, -12):
            if before.months[0][:4] == before.months[-1][:4]:
                against = f"the same months of {before.months[0][:4]}"
            else:
                against = f"the same months a year earlier ({periods.span_text(before.months)})"
        else:
            against = periods.span_text(before.months)
        head = f"{self._what()} in {self._where()}"
        pct = self.pct_change
        if after.count is None or before.count is None:
            text = (f"{head} in {when} could not be compared with {against}: "
                    "some months are not covered by the data")
        elif pct is None:
            text = f"{head} rose from 0 to {after.count:,} in {when} compared with {against}"
        elif round_half_up(pct) == 0:
            text = f"{head} did not change ({before.count:,} to {after.count:,}) in {when} compared with {against}"
        else:
            verb = "fell" if pct < 0 else "rose"
            text = f"{head} {verb} {round_half_up(abs(pct)):.0f}% in {when} compared with {against}"
        if self.baseline is not None and self.baseline_pct_change is not None:
            bp = self.baseline_pct_change
            word = "reduction" if bp < 0 else "increase"
            per = "" if len(self.baseline.months) == len(after.months) else " (per month)"
            if round_half_up(bp) == 0:
                text += f", no change on the {periods.span_text(self.baseline.months)} baseline{per}"
            else:
                shown = f"{round_half_up(abs(bp)):.0f}"
                text += (f", {a_or_an(shown)} {shown}% {word} on the {periods.span_text(self.baseline.months)} "
                         f"baseline{per}")
        return text + "."

    def effect_text(self) -> str:
        """The target's control-adjusted effect, with its one significance statement: the rate
        ratio and the incidents above/below the control's trend share one interval."""
        if self.effect is None or self.target_excess is None:
            return "**Target area, control-adjusted:** not available (a count is zero or missing)."
        e = self.effect
        v, (lo, hi) = self.target_excess
        shown = f"{round_half_up(abs(e.pct_change)):.0f}"
        change = (f"{a_or_an(shown)} {shown}% {'reduction' if e.rate_ratio < 1 else 'increase'}"
                  if round_half_up(e.pct_change) != 0 else "no change")
        return (f"**Target area, control-adjusted:** {_against_trend(v)} "
                f"(95% CI {_fewer_more(lo)} to {_fewer_more(hi)}); rate ratio "
                f"{e.rate_ratio:.2f} (95% CI {e.ci95[0]:.2f}–{e.ci95[1]:.2f}, p = {e.p_value:.3g}; "
                f"{e.model} model), {change} relative to the control; {significance(e)}.")

    def buffer_text(self) -> str:
        """The displacement ring: WDQ, and the ring's control-adjusted change with its one
        significance statement (displacement when significantly more, diffusion when fewer)."""
        lines = [f"**Displacement:** {self.wdq_text}"]
        if self.buffer_effect is not None and self.buffer_excess is not None:
            e = self.buffer_effect
            v, (lo, hi) = self.buffer_excess
            sig = significance(e)
            reading = ""
            if not (e.ci95[0] <= 1 <= e.ci95[1]):
                reading = (": incidents were displaced into the ring" if e.rate_ratio > 1
                           else ": the ring shared the benefit (diffusion of benefits)")
            lines.append(f"Buffer ring ({self.buffer_m:g} m), control-adjusted: {_against_trend(v)} "
                         f"(95% CI {_fewer_more(lo)} to {_fewer_more(hi)}); rate ratio {e.rate_ratio:.2f} (95% CI "
                         f"{e.ci95[0]:.2f}–{e.ci95[1]:.2f}); {sig}{reading}.")
        return "\n".join(lines)

    def net_text(self) -> str:
        """Target and ring together: the total net effect, tested by the WDD when there is a
        named control (one significance statement), said to be untested otherwise."""
        lines = [f"**Net effect, target and ring together:** {self.tne_text}"]
        if self.wdd is not None:
            w = self.wdd
            lines.append(f"WDD {w.wdd:+.0f} ({_fewer_more(w.wdd)} incidents against the control's "
                         f"change; SE {w.se:.1f}, Z {w.z:.2f}, p = {w.p_value:.3g}): "
                         f"{significance(w)}.")
        elif self.wdd_note:
            lines.append(self.wdd_note + " The net effect is not tested.")
        return "\n".join(lines)

    def region_counts(self) -> list[tuple[str, int | None, int | None]]:
        """(label, before, after) of the target, the buffer ring (when there is one) and the
        control: the rows every counts table shows."""
        regions = [("Target area", self.before.count, self.after.count)]
        if self.buffer is not None:
            regions.append((f"Buffer ring ({self.buffer_m:g} m)", self.buffer["before"], self.buffer["after"]))
        if self.control is not None:
            regions.append(("Control", self.control["before"], self.control["after"]))
        return regions

    def counts_table(self) -> pd.DataFrame:
        """Before, after, change and % change of target, ring and control, as display text."""
        b, a = self.before, self.after
        rows = []
        for label, vb, va in self.region_counts():
            p = pct_change(va, vb)
            rows.append({"": label, f"Before ({periods.span_text(b.months)})": vb, f"After ({periods.span_text(a.months)})": va,
                         "Change": None if vb is None or va is None else f"{va - vb:+,}",
                         "% change": None if p is None else f"{p:+.1f}%"})
        out = pd.DataFrame(rows)
        for col in out.columns[1:3]:
            out[col] = pd.array(out[col].tolist(), dtype="Int64")
        return out


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
    target: BaseGeometry | gpd.GeoDataFrame | Regions,
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
) -> Evaluation:
    """Before/after evaluation of an area with control, displacement buffer and warnings.

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700). A month is covered when the sources supplying the
        selected categories have any rows in it, anywhere (design §5 coverage rule, per source).
    target : polygon, GeoDataFrame or `Regions`
        The intervention area (several polygons are merged), or the `resolve_regions` decision
        (target, control or context/exclude, names), which the CLI and the app pass.
    after, before, baseline : "YYYY-MM..YYYY-MM" or list of months
        ``before`` defaults to the same months one year earlier; ``baseline`` is optional.
    category : names, groups or taxonomy nodes (`taxonomy.select`); None = all incidents.
    buffer_m : float, metres
        Width of the displacement ring (0 = no ring; buffer and WDQ are then null).
    control : polygon or GeoDataFrame, optional
        A named control area; its overlap with the target and ring is removed. Default: see
        `default_control` with `context` (the containing layer) and `exclude`.
    name, layer : the target's name and layer, for the text (taken from `target` if areas).
    intervention : (start, end) months to mark in the series; default the after window.
    small_count : before counts below this trigger the small-count warning.
    """
    if isinstance(target, Regions):
        control = control if control is not None else target.control
        context = context if context is not None else target.context
        exclude = exclude if exclude is not None else target.exclude
        name, layer = name or target.name, layer or target.layer
        control_name = control_name or target.control_name
        target = target.target
    after_w = _window(after, "after")
    before_w = _window(before, "before") or same_months_before(after_w)
    base_w = _window(baseline, "baseline")
    if buffer_m is None or buffer_m < 0 or not math.isfinite(buffer_m):
        raise InputError("buffer_m must be a distance in metres >= 0", parameter="buffer_m")
    if set(before_w) & set(after_w):
        raise InputError(f"before ({before_w[0]}..{before_w[-1]}) and after ({after_w[0]}..{after_w[-1]}) "
                         "windows overlap", parameter="before")
    target_geom, t_name, t_layer = _as_geometry(target, "target")
    if target_geom.is_empty or target_geom.area <= 0:
        raise InputError("the target area is empty (no polygon area)", parameter="area")
    name = name or t_name or "target area"
    layer = layer or t_layer
    ring = buffer_ring(target_geom, buffer_m)

    dc = excluded = None
    if control is not None:
        c_geom, c_name, _ = _as_geometry(control, "control")
        zone = target_geom.buffer(buffer_m) if buffer_m > 0 else target_geom
        control_geom = c_geom.difference(zone)
        if control_geom.is_empty:
            raise InputError("the control area lies entirely inside the target and its buffer",
                             parameter="control")
        control_desc = f"{control_name or c_name or 'the control area'} (outside the target and its {buffer_m:g} m ring)"
        if buffer_m > 0:
            dc = c_geom.buffer(buffer_m).difference(c_geom).difference(zone)
    else:
        control_geom, control_desc = default_control(target_geom, buffer_m, context, exclude)
        if control_geom is None and exclude is not None:
            ex, _, _ = _as_geometry(exclude, "exclude")
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
    if None not in (tb, ta, cb, ca):
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
                    "buffer ring (give --control).")

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


def intervention_place(
    intervention: Mapping[str, Any] | pd.Series, areas: gpd.GeoDataFrame | None = None,
) -> tuple[str, str | None]:
    """(name, layer) to describe an intervention's place in headlines.

    Partnership papers name the place ("the Hemlington micro hotspot"), so when the intervention
    refers to a stored area its area's name and layer are used; otherwise (e.g. a CCTV point with
    a radius) the intervention's own name, as a micro hotspot when the intervention is patrols.
    """
    name = str(intervention.get("name") or intervention.get("intervention_id"))
    layer = "micro_hotspot" if intervention.get("type") == "patrols" else None
    area_id = intervention.get("area_id")
    if areas is not None and area_id is not None and not pd.isna(area_id):
        hit = areas[areas["area_id"].astype(str) == str(area_id)]
        if len(hit):
            name, layer = str(hit["name"].iloc[0]), str(hit["layer"].iloc[0])
    return name, layer


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
                    intervention=(start, end or _window(after, "after")[-1]), **kwargs)


# --------------------------------------------------------------------------- patrol dosage
@dataclass(frozen=True)
class Dosage:
    """Patrol hours against incident counts per area and period (week or month)."""

    table: pd.DataFrame  # area, period, hours, count
    rho: float | None    # Spearman correlation of hours and count
    p_value: float | None
    unit: str            # "week" or "month"

    def text(self) -> str:
        if self.rho is None:
            return "Not enough patrol-log periods to relate patrol hours to incidents."
        direction = "fewer" if self.rho < 0 else "more"
        return (f"Spearman correlation of patrol hours and incidents per {self.unit}: "
                f"{self.rho:.2f} (p = {self.p_value:.3g}, {len(self.table)} area-{self.unit}s); "
                f"{'weeks' if self.unit == 'week' else 'months'} with more patrol hours had {direction} "
                "incidents. Correlation is not proof of cause.")


def patrol_log(df: pd.DataFrame) -> pd.DataFrame:
    """A patrol log (columns area, week start, hours; names case-insensitive) as columns area
    (str), week_start (Timestamp), hours (float), one row per area and date. Read by the one
    patrol-log reader, `patrol.read_patrol_log` (its column vocabulary; errors name the row and
    column); hours are required here."""
    from hotspot_app.core import patrol

    log = patrol.read_patrol_log(df)
    v = log.visits
    if v["minutes"].isna().any():
        first = v[v["minutes"].isna()].iloc[0]
        raise InputError(f"patrol log has no hours for '{first['area']}' on "
                         f"{pd.Timestamp(first['date']):%Y-%m-%d} (columns: "
                         f"{', '.join(map(str, df.columns))})", column="hours")
    return pd.DataFrame({"area": v["area"].astype(str).to_numpy(), "week_start": v["date"].to_numpy(),
                         "hours": (v["minutes"].astype(float) / 60.0).to_numpy()})


def dosage(log: pd.DataFrame, incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
           category: str | Sequence[str] | None = None) -> Dosage:
    """Relate patrol hours to incident counts in the patrolled areas.

    `log` is a patrol log (see `patrol_log`); its ``area`` matches `areas` by name or area_id.
    Weekly (Monday-start weeks containing the logged week start) when the selected incidents
    have dates, otherwise monthly (hours summed per month; police.uk data have months only).
    Returns the table and the Spearman correlation of hours and counts.
    """
    from scipy import stats

    log = patrol_log(log)
    sel = incidents[taxonomy.select(incidents, category)]
    key = {str(v).strip().lower(): str(aid) for aid, v in zip(areas["area_id"], areas["name"])}
    key.update({str(a).strip().lower(): str(a) for a in areas["area_id"]})
    log["area_id"] = log["area"].str.lower().map(key)
    unknown = log.loc[log["area_id"].isna(), "area"]
    if len(unknown):
        raise InputError(f"patrol log area '{unknown.iloc[0]}' is not among the areas", column="area")
    labels = _areas.join(sel, areas)
    weekly = len(sel) > 0 and sel["occurred"].notna().all()
    if weekly:
        period = sel["occurred"].dt.to_period("W-SUN").dt.start_time
        log["period"] = log["week_start"].dt.to_period("W-SUN").dt.start_time
        unit = "week"
    else:
        period = sel["month"].astype(object)
        log["period"] = log["week_start"].dt.strftime("%Y-%m")
        unit = "month"
    counted = pd.DataFrame({"area_id": labels.to_numpy(), "period": period.to_numpy()})
    per = counted.groupby(["area_id", "period"]).size()
    table = log.groupby(["area_id", "period"], as_index=False)["hours"].sum()
    table["count"] = [int(per.get((a, p), 0)) for a, p in zip(table["area_id"], table["period"])]
    names = dict(zip(areas["area_id"].astype(str), areas["name"].astype(str)))
    table.insert(0, "area", table["area_id"].map(names))
    rho = p = None
    if len(table) >= 3 and table["hours"].nunique() > 1 and table["count"].nunique() > 1:
        res = stats.spearmanr(table["hours"], table["count"])
        rho, p = float(res.statistic), float(res.pvalue)
    return Dosage(table=table, rho=rho, p_value=p, unit=unit)
