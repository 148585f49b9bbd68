"""Comparison areas matched on the pre-period: the candidate pool, the monthly series, the
match and its pre-period fit.

Why
---
"Did the patrols work?" needs an answer to "compared with what?". The rest of the force (or the
rest of an areas layer) is a poor answer when it trends differently from the target's own
surroundings: a target in a flat district compared with a force whose other half is rising
looks like a success that did not happen. The accepted practice (the Home Office Grip
evaluation; the College of Policing hot spots guidance) compares the target with *similar
places*: comparison areas that were on the same path as the target before the intervention.

What this module does
---------------------
1. **Candidate pool** (`candidate_pool`): the places a comparison area may be chosen from, in
   order of preference: a candidates file the user gives, else the other areas of the target's
   layer (e.g. the micro-hotspots that were not funded), else — when fewer than
   `MIN_CANDIDATES` remain — equal-size hexagon cells of about the target's area laid over the
   study area (`hexagon_cells`; only cells with at least a quarter of the target's pre-period
   count, and one a month, are kept: comparison places should be busy places too). At least
   `MIN_CANDIDATES` because a placebo test needs 19 pseudo-targets before p < 0.05 is possible.
   In every case a candidate is dropped when it touches the
   *exclusion zone*: the target, its displacement ring (``buffer_m``) and a further
   ``exclusion_m`` metres, so that neither displaced crime nor a diffusion of benefits can leak
   into the comparison. Other treated places (``exclude``) and their rings are dropped too.
2. **Monthly series** (`monthly_matrix`): incidents per candidate per month (a point on an edge
   counts as inside; overlapping candidates each count it). The pre-period is by default the
   `PRE_MONTHS` months before the after window (those the data cover).
3. **Matching** (`match`): each place's pre-period is summarised by two figures, its *level*
   (log of the mean monthly count) and its *trend* (the straight-line growth of its log monthly
   counts, per month); a third figure is *where* it is: its distance from the target (centre to
   centre, metres). All three are standardised by their spread over the pool, and the
   ``n_matches`` candidates nearest to the target in that space are the comparison areas
   (nearest by standardised Euclidean distance). Distance is there because a year and a half of
   noisy monthly counts cannot always tell a flat place from a rising one: in the constructed
   case of issue 19 (flat west, east rising 3.5% a month) matching on level and trend alone
   took a quarter of a rising area into every ten matched areas and the interval excluded 1 in
   7.3% of null datasets; with distance as well, 5.1% (benchmarks/RESULTS.md). Nearby places
   share the local trend the target would have followed; the exclusion zone keeps them clear of
   its displacement ring. Synthetic-control weights
   (`synthetic_weights`) are offered as a second reading: non-negative weights summing to 1
   whose weighted pre-period shape (each series divided by its own mean) tracks the target's.
4. **Pre-period fit** (`pre_fit`): the target and its matched areas month by month over the
   pre-period, and a *pre-trend test*: a Poisson model of the monthly counts with a level per
   area and per month plus a separate linear trend for the target, its Pearson scale estimating
   extra-Poisson variation (quasi-Poisson). A significant target trend (p < 0.05) means the
   target and its comparison were not on parallel paths before the intervention, and a warning
   says that the difference-in-differences effect may be biased.

Assumptions, said plainly: the matched areas are on the path the target would have followed
without the intervention (parallel trends on the log scale, checked by the pre-trend test);
they were not affected by the intervention (the exclusion zone); months are judged covered when
the data sources supplying the selected incidents have any rows in them.

Everything is in EPSG:27700 metres. Functions never modify their inputs and return warnings as
plain sentences with their result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import areas as area_joins
from hotspot_app.core import hotspots, periods, settings, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.core.evaluation import panel

__all__ = [
    "MIN_CANDIDATES", "N_MATCHES", "EXCLUSION_M", "PRE_MONTHS", "PRE_TREND_ALPHA",
    "Windows", "windows", "Pool", "candidate_pool", "hexagon_cells", "exclusion_zone",
    "monthly_matrix", "coverage_of", "as_geometry", "selected", "Match", "match", "features",
    "synthetic_weights", "PreFit", "pre_fit",
]

#: Fewer candidates than this after the exclusion zone: equal-size hexagon cells are used. A
#: placebo test needs at least 19 pseudo-targets before p < 0.05 is possible at all.
MIN_CANDIDATES: int = 20
#: Comparison areas chosen by nearest matching.
N_MATCHES: int = 10
#: Metres beyond the displacement ring inside which no candidate may lie.
EXCLUSION_M: float = 250.0
#: The default pre-period: this many months before the after window (longer pre-periods give
#: steadier trends; months the data do not cover are left out).
PRE_MONTHS: int = 24
#: The pre-trend test warns below this p value.
PRE_TREND_ALPHA: float = 0.05
#: Hexagon cells are kept as candidates when their pre-period count is at least this share of
#: the target's (comparison places should be busy places too) and at least one a month.
HEX_MIN_SHARE: float = 0.25


# --------------------------------------------------------------------------- windows
def _window(value: Any, parameter: str) -> list[str]:
    """A window from 'FROM..TO', a single 'YYYY-MM', or a (from, to) pair (inclusive)."""
    if value is None:
        raise InputError("give the window as (from, to) months or 'YYYY-MM..YYYY-MM'",
                         parameter=parameter)
    if isinstance(value, str):
        return periods.parse_range(value, parameter)
    items = list(value)
    if len(items) != 2:
        raise InputError(f"a window is a (from, to) pair of months, got {len(items)} values",
                         parameter=parameter)
    start = periods.parse_month(items[0], parameter)
    end = periods.parse_month(items[1], parameter)
    if start > end:
        raise InputError(f"window starts ({start}) after it ends ({end})", parameter=parameter)
    return periods.month_range(start, end)


@dataclass(frozen=True)
class Windows:
    """The months compared: ``before`` and ``after`` (the difference-in-differences windows)
    and ``pre`` (the months the match is made on: by default the `PRE_MONTHS` months before the
    after window, or from the before window's start when that is earlier; months the data do
    not cover are then left out). ``pre_given`` says whether the user chose the pre-period."""

    before: list[str]
    after: list[str]
    pre: list[str]
    pre_given: bool = False

    @property
    def all(self) -> list[str]:
        """Every month used, in order, without repeats."""
        return sorted(set(self.before) | set(self.after) | set(self.pre))


def windows(before: Any, after: Any, pre: Any = None) -> Windows:
    """Parse and check the windows (see `Windows`). The before window must end before the after
    window starts; so must the pre-period."""
    b, a = _window(before, "before"), _window(after, "after")
    if b[-1] >= a[0]:
        raise InputError(f"the before window ({b[0]}..{b[-1]}) must end before the after window "
                         f"({a[0]}..{a[-1]}) starts", parameter="before")
    if pre is not None:
        p = _window(pre, "pre")
    else:
        p = periods.month_range(min(b[0], periods.add_months(a[0], -PRE_MONTHS)), periods.add_months(a[0], -1))
    if p[-1] >= a[0]:
        raise InputError(f"the pre-period ({p[0]}..{p[-1]}) must end before the after window starts",
                         parameter="pre")
    if len(p) < 4:
        raise InputError("the pre-period needs at least 4 months to judge a trend", parameter="pre")
    return Windows(before=b, after=a, pre=p, pre_given=pre is not None)


# --------------------------------------------------------------------------- geometry
def as_geometry(value: Any, what: str = "target") -> BaseGeometry:
    """One (multi)polygon in EPSG:27700 from a geometry or areas (their polygons merged)."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if len(value) == 0:
            raise InputError(f"{what} has no polygons", parameter=what)
        if value.crs is not None and not value.crs.equals(settings.CRS):
            value = value.to_crs(settings.CRS)
        return shapely.union_all(np.asarray(value.geometry.values if isinstance(value, gpd.GeoDataFrame)
                                            else value.values))
    raise InputError(f"{what} must be a polygon or areas (GeoDataFrame)", parameter=what)


def exclusion_zone(target: BaseGeometry, buffer_m: float = settings.BUFFER_M,
                   exclusion_m: float = EXCLUSION_M, exclude: Any = None) -> BaseGeometry:
    """Where no comparison area may lie: the target buffered by its ring and the exclusion
    distance (``buffer_m + exclusion_m``), plus other treated places (`exclude`) with their
    rings."""
    for value, name in ((buffer_m, "buffer_m"), (exclusion_m, "exclusion_m")):
        if value is None or not math.isfinite(value) or value < 0:
            raise InputError(f"{name} must be a distance in metres >= 0", parameter=name)
    zone = target.buffer(buffer_m + exclusion_m) if buffer_m + exclusion_m > 0 else target
    if exclude is not None:
        ex = as_geometry(exclude, "exclude")
        zone = shapely.union(zone, ex.buffer(buffer_m) if buffer_m > 0 else ex)
    return zone


def hexagon_cells(study_area: BaseGeometry, cell_area_m2: float, zone: BaseGeometry | None = None
                  ) -> gpd.GeoDataFrame:
    """Equal-size hexagon cells of `cell_area_m2` square metres lying wholly inside
    `study_area` and clear of `zone` (the exclusion zone). Columns candidate_id ("hex r<row>c<col>"),
    name, source ("hexagons"), geometry. The lattice is `hotspots.make_grid`'s (anchored on the
    study area's bounds, so the same inputs give the same cells)."""
    if not (cell_area_m2 and math.isfinite(cell_area_m2) and cell_area_m2 > 0):
        raise InputError("the target has no area to size the cells by", parameter="target")
    cells = hotspots.make_grid(study_area, cell_m=math.sqrt(cell_area_m2), shape="hex")
    geoms = np.asarray(cells.geometry.values)
    shapely.prepare(study_area)
    keep = shapely.covers(study_area, geoms)
    if zone is not None and not zone.is_empty:
        shapely.prepare(zone)
        keep &= ~shapely.intersects(zone, geoms)
    cells = cells[keep]
    ids = ["hex " + c for c in cells["cell_id"]]
    names = [f"cell {c} (centre {x:.0f}, {y:.0f})" for c, x, y in zip(cells["cell_id"], cells["x"], cells["y"])]
    return gpd.GeoDataFrame({"candidate_id": ids, "name": names, "source": "hexagons"},
                            geometry=np.asarray(cells.geometry.values), crs=settings.CRS)


@dataclass
class Pool:
    """The candidate comparison areas (columns candidate_id, name, source, geometry), where they
    came from (``source``: "file", "layer" or "hexagons"), how many were dropped by the
    exclusion zone, and warnings."""

    candidates: gpd.GeoDataFrame
    source: str
    dropped: int = 0
    warnings: list[str] = field(default_factory=list)


def _as_candidates(frame: gpd.GeoDataFrame, source: str, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{what} must be areas (a GeoDataFrame)", parameter=what)
    if frame.crs is not None and not frame.crs.equals(settings.CRS):
        frame = frame.to_crs(settings.CRS)
    ids = (frame["area_id"].astype(str).to_numpy() if "area_id" in frame.columns
           else np.array([f"{what}-{i + 1}" for i in range(len(frame))]))
    names = frame["name"].astype(str).to_numpy() if "name" in frame.columns else ids
    out = gpd.GeoDataFrame({"candidate_id": ids, "name": names, "source": source},
                           geometry=np.asarray(frame.geometry.values), crs=settings.CRS)
    polygonal = out.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygonal.all():
        bad = out["candidate_id"].iloc[int(np.flatnonzero(~polygonal)[0])]
        raise InputError(f"{what} '{bad}' is not a polygon", parameter=what)
    return out


def candidate_pool(
    target: BaseGeometry | gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    study_area: BaseGeometry | gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    exclude: Any = None,
    buffer_m: float = settings.BUFFER_M,
    exclusion_m: float = EXCLUSION_M,
    min_candidates: int = MIN_CANDIDATES,
) -> Pool:
    """The candidate comparison areas for `target` (see the module docstring).

    `candidates` (a file's areas) is used when given; else `areas` (the target's layer: the
    target itself falls in the exclusion zone and is dropped). When fewer than `min_candidates`
    remain, hexagon cells of the target's area are laid over `study_area` (a polygon or areas;
    default the incidents' convex hull) outside the exclusion zone, and used instead (the file's
    or layer's areas are then not mixed in: candidates should be alike).
    """
    tgeom = as_geometry(target, "target")
    if tgeom.is_empty or tgeom.area <= 0:
        raise InputError("the target area is empty (no polygon area)", parameter="target")
    zone = exclusion_zone(tgeom, buffer_m, exclusion_m, exclude)
    shapely.prepare(zone)
    warnings: list[str] = []
    given = None
    if candidates is not None:
        given = _as_candidates(candidates, "file", "candidates")
    elif areas is not None and len(areas):
        given = _as_candidates(areas, "layer", "areas")
    if given is not None:
        clear = ~shapely.intersects(zone, np.asarray(given.geometry.values))
        pool = given[clear].reset_index(drop=True)
        dropped = int((~clear).sum())
        if len(pool) >= min_candidates:
            return Pool(pool, str(given["source"].iloc[0]), dropped, warnings)
        what = "candidates file" if candidates is not None else "layer"
        warnings.append(
            f"Only {len(pool)} areas of the {what} lie outside the target, its {buffer_m:g} m ring "
            f"and a further {exclusion_m:g} m (at least {min_candidates} are needed for matching "
            "and a placebo test), so equal-size hexagon cells of the target's area over the "
            "study area are used as candidate comparison areas instead.")
    if study_area is None:
        if incidents is None or len(incidents) == 0:
            raise InputError("no study area to lay comparison cells over: give study_area or "
                             "incidents", parameter="study_area")
        region = hotspots.study_area(incidents)
    else:
        region = as_geometry(study_area, "study_area")
    cells = hexagon_cells(region, tgeom.area, zone)
    if len(cells) == 0:
        warnings.append("No hexagon cell of the target's size fits in the study area outside the "
                        "exclusion zone: no comparison areas can be matched.")
    return Pool(cells, "hexagons", 0, warnings)


# --------------------------------------------------------------------------- counts
def coverage_of(incidents: pd.DataFrame, mask: pd.Series) -> periods.Coverage:
    """Months covered for the incidents selected by `mask`: months in which the data sources
    supplying them have any rows, anywhere (police.uk months do not cover fire months)."""
    if "source" in incidents.columns and bool(mask.any()):
        sources = set(pd.unique(incidents.loc[mask, "source"]))
        if sources != set(pd.unique(incidents["source"])):
            return periods.Coverage.of(incidents[incidents["source"].isin(list(sources))])
    return periods.Coverage.of(incidents)


def monthly_matrix(incidents: gpd.GeoDataFrame, polygons: Sequence[BaseGeometry] | gpd.GeoSeries | np.ndarray,
                   months: Sequence[str]) -> np.ndarray:
    """Incidents per polygon per month: an integer array (polygons x months). A point on an edge
    counts as inside; overlapping polygons each count it; months not listed are ignored. The
    join runs once per distinct location (police.uk locations repeat heavily)."""
    polys = np.asarray(polygons.values if isinstance(polygons, gpd.GeoSeries) else polygons, dtype=object)
    out = np.zeros((len(polys), len(months)), dtype=np.int64)
    if len(incidents) == 0 or len(polys) == 0:
        return out
    m_idx = pd.Index(list(months)).get_indexer(incidents["month"].astype(str).to_numpy())
    uniq, inverse = area_joins.unique_points(incidents)
    keep = m_idx >= 0
    per_point = sparse.coo_matrix((np.ones(int(keep.sum())), (inverse[keep], m_idx[keep])),
                                  shape=(len(uniq), len(months))).tocsr()
    tree = shapely.STRtree(polys)
    ip, ia = tree.query(shapely.points(uniq), predicate="intersects")
    link = sparse.coo_matrix((np.ones(len(ip)), (ia, ip)), shape=(len(polys), len(uniq))).tocsr()
    out[:] = np.rint((link @ per_point).toarray()).astype(np.int64)
    return out


def selected(incidents: gpd.GeoDataFrame, category: Any) -> tuple[gpd.GeoDataFrame, periods.Coverage]:
    """The incidents of `category` (`taxonomy.select`) and the months covered for them."""
    sel = taxonomy.select(incidents, category)
    return incidents[sel.to_numpy()], coverage_of(incidents, sel)


# --------------------------------------------------------------------------- matching
def features(pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(level, trend) of each row of pre-period monthly counts (areas x months).

    level = log(mean monthly count + 0.5 / months): the log of the mean monthly count;
    trend = the least-squares slope of log(count + 0.5) on the month number: growth on the log
    scale per month (0.034 is about 3.5% a month). The 0.5 keeps months with no incidents
    finite."""
    pre = np.atleast_2d(np.asarray(pre, dtype=float))
    n = pre.shape[1]
    level = np.log(pre.mean(axis=1) + 0.5 / n)
    t = np.arange(n, dtype=float) - (n - 1) / 2.0
    denom = float(t @ t)
    trend = (np.log(pre + 0.5) @ t) / denom if denom > 0 else np.zeros(len(pre))
    return level, trend


@dataclass
class Match:
    """The comparison areas chosen for one target.

    ``table``: one row per candidate (candidate_id, level, trend, distance, chosen, weight);
    ``chosen``: the positions (in the pool) of the matched areas, nearest first; ``weights``:
    synthetic-control weights over the pool (None when not computed)."""

    table: pd.DataFrame
    chosen: np.ndarray
    target_level: float
    target_trend: float
    weights: np.ndarray | None = None

    @property
    def ids(self) -> list[str]:
        return [str(v) for v in self.table["candidate_id"].to_numpy()[self.chosen]]


def _spread(values: np.ndarray) -> float:
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return sd if sd > 1e-12 else 1.0


def match(target_pre: np.ndarray, pool_pre: np.ndarray, ids: Sequence[str] | None = None,
          n_matches: int = N_MATCHES, synthetic: bool = False,
          distance_m: np.ndarray | None = None) -> Match:
    """Nearest matching on the pre-period level and trend (see `features`) and, when
    `distance_m` (each candidate's distance from the target, metres) is given, on place.

    Each candidate's distance to the target is sqrt(((level - target level) / sd_level)^2 +
    ((trend - target trend) / sd_trend)^2 + (distance_m / sd_distance)^2), the spreads taken
    over the pool; the `n_matches` nearest are chosen (ties by pool order). With
    ``synthetic=True`` the synthetic-control weights (`synthetic_weights`) are computed too."""
    pool_pre = np.atleast_2d(np.asarray(pool_pre, dtype=float))
    target_pre = np.asarray(target_pre, dtype=float).ravel()
    if pool_pre.shape[0] == 0:
        raise InputError("no candidate comparison areas to match", parameter="candidates")
    if pool_pre.shape[1] != target_pre.size:
        raise InputError("the target and candidates need the same pre-period months", parameter="pre")
    if n_matches < 1:
        raise InputError("n_matches must be at least 1", parameter="n_matches")
    level, trend = features(pool_pre)
    (tl,), (tt,) = features(target_pre[None, :])
    d = np.hypot((level - tl) / _spread(level), (trend - tt) / _spread(trend))
    if distance_m is not None:
        far = np.asarray(distance_m, dtype=float).ravel()
        if far.size != len(pool_pre) or not np.isfinite(far).all():
            raise InputError("distance_m needs one finite distance per candidate", parameter="distance_m")
        d = np.hypot(d, far / _spread(far))
    order = np.argsort(d, kind="stable")
    chosen = order[: min(n_matches, len(order))]
    ids = list(ids) if ids is not None else [str(i) for i in range(len(pool_pre))]
    flag = np.zeros(len(d), dtype=bool)
    flag[chosen] = True
    weights = synthetic_weights(target_pre, pool_pre) if synthetic else None
    table = pd.DataFrame({"candidate_id": ids, "level": level, "trend": trend, "distance": d,
                          "chosen": flag, "weight": weights if weights is not None else np.nan})
    if distance_m is not None:
        table["distance_m"] = np.asarray(distance_m, dtype=float).ravel()
    return Match(table=table, chosen=chosen, target_level=float(tl), target_trend=float(tt),
                 weights=weights)


def synthetic_weights(target_pre: np.ndarray, pool_pre: np.ndarray) -> np.ndarray:
    """Synthetic-control weights: w >= 0 with sum(w) = 1 minimising the squared gap between the
    target's pre-period shape and the weighted shapes of the candidates, each series divided by
    its own pre-period mean (so a quiet place can stand in for a busy one's path). Solved by
    non-negative least squares with the sum-to-one constraint as a heavily weighted extra row
    (scipy.optimize.nnls). Candidates with no pre-period incidents get weight 0."""
    from scipy.optimize import nnls

    pool_pre = np.atleast_2d(np.asarray(pool_pre, dtype=float))
    t = np.asarray(target_pre, dtype=float).ravel()
    means = pool_pre.mean(axis=1)
    usable = means > 0
    w = np.zeros(len(pool_pre))
    if not usable.any() or t.mean() <= 0:
        return w
    shapes = (pool_pre[usable] / means[usable, None]).T  # months x usable
    big = 1e3
    A = np.vstack([shapes, big * np.ones((1, shapes.shape[1]))])
    b = np.concatenate([t / t.mean(), [big]])
    sol, _ = nnls(A, b, maxiter=50 * A.shape[1])
    total = sol.sum()
    if total <= 0:
        return w
    w[usable] = sol / total
    return w


# --------------------------------------------------------------------------- pre-period fit
@dataclass
class PreFit:
    """How well the matched comparison tracks the target before the intervention.

    months, target, control: the pre-period months, the target's counts and the matched areas'
    pooled counts scaled to the target's pre-period total (the path the target 'should' have
    had); ``trend_difference``: the target's extra growth on the log scale per month, as % a
    month; ``p_value``: the pre-trend test (None when it cannot be fitted); ``warning``: a
    sentence when the pre-periods diverge, else None; ``gap``: the mean absolute monthly gap
    between target and scaled control, as % of the target's mean."""

    months: list[str]
    target: list[int]
    control: list[float]
    trend_difference: float | None
    p_value: float | None
    gap: float | None
    warning: str | None
    dispersion: float | None = None

    def to_dict(self) -> dict:
        return {"p_value": None if self.p_value is None else float(f"{self.p_value:.4g}"),
                "warning": self.warning,
                "trend_difference_pct_per_month": (None if self.trend_difference is None
                                                   else round(self.trend_difference, 2)),
                "mean_gap_pct": None if self.gap is None else round(self.gap, 1),
                "months": [self.months[0], self.months[-1]] if self.months else None}


def pre_fit(target_pre: np.ndarray, controls_pre: np.ndarray, months: Sequence[str],
            alpha: float = PRE_TREND_ALPHA) -> PreFit:
    """The pre-period fit and the pre-trend test.

    Model (statsmodels GLM, Poisson family): log E[count of area i in month t] = a_i + g_t +
    d * target_i * (t - mean t). ``a_i`` is each area's level, ``g_t`` each month's common level
    (seasonality, force-wide shocks), and ``d`` the target's own extra trend. The scale is the
    Pearson chi-square over its degrees of freedom when above 1 (quasi-Poisson: counts vary more
    than Poisson chance), and the test of d = 0 is then a t test on the residual degrees of
    freedom. A p value below `alpha` gives the divergence warning."""
    t = np.asarray(target_pre, dtype=float).ravel()
    c = np.atleast_2d(np.asarray(controls_pre, dtype=float))
    c = c[c.sum(axis=1) > 0]
    n = t.size
    pooled = c.sum(axis=0) if len(c) else np.zeros(n)
    scaled = pooled * (t.sum() / pooled.sum()) if pooled.sum() > 0 else np.full(n, np.nan)
    gap = (float(np.mean(np.abs(t - scaled)) / t.mean() * 100.0)
           if t.mean() > 0 and np.isfinite(scaled).all() else None)
    base = PreFit(months=list(months), target=[int(v) for v in t], control=[float(v) for v in scaled],
                  trend_difference=None, p_value=None, gap=gap, warning=None)
    if t.sum() == 0 or len(c) == 0 or n < 4:
        base.warning = ("The pre-trend test could not be run (no incidents in the target or its "
                        "comparison areas in the pre-period).")
        return base
    fit = panel.fit(t, c, extra="trend")
    if fit is None:
        return base
    b, p = fit.coefficient, fit.p_value
    base.trend_difference = 100.0 * (math.exp(b) - 1.0)
    base.p_value = p
    base.dispersion = fit.dispersion
    if p < alpha:
        way = "faster" if b > 0 else "slower"
        base.warning = (
            f"The pre-periods diverge: before the intervention the target's counts grew "
            f"{abs(base.trend_difference):.1f}% a month {way} than its comparison areas' "
            f"(pre-trend test p = {p:.3g}, {months[0]}..{months[-1]}). The comparison was not "
            "on the target's path, so the difference-in-differences effect may be biased; "
            "read it with the placebo test and the robustness table.")
    return base
