"""DBSCAN (and HDBSCAN) clusters of incidents, turned into ranked patrol areas.

Everything is in metres on EPSG:27700.

Definitions (the same as scikit-learn's ``DBSCAN``)
--------------------------------------------------
* Two incidents are *neighbours* when their distance is at most ``eps_m`` (``dx² + dy² <= eps²``,
  the comparison scikit-learn's trees make). In space–time mode (``days=D``) they must also be at
  most ``D`` days apart.
* An incident is a *core* incident when the (weighted) number of incidents in its neighbourhood,
  itself included, is at least ``min_samples``. With ``weight=True`` the ``weight`` column (harm,
  cost) is the sample weight; otherwise every incident weighs 1.
* Core incidents that are neighbours belong to the same cluster (transitively).
* A non-core incident within ``eps_m`` of a core incident is a *border* incident; it joins the
  cluster of its **nearest** core incident. (scikit-learn gives it to whichever cluster reaches
  it first, which depends on row order; the nearest-core rule gives the same clusters whatever
  the row order, so patrol areas and their ids are stable across re-runs.) Everything else is
  noise (``cluster_id = -1``).

Identical coordinates
---------------------
police.uk snaps locations to a fixed set of map points, so thousands of incidents share a
coordinate. Incidents with identical coordinates have identical neighbourhoods, so DBSCAN runs on
the distinct locations with ``sample_weight`` = the number (or total weight) of incidents there:
the core and noise sets and the clusters are exactly those of DBSCAN on the raw rows, and it is
one to two orders of magnitude faster (see ``benchmarks/clusters.py``).

Methods
-------
``auto`` (default)
    ``sklearn`` up to ``settings.GRID_METHOD_MIN_LOCATIONS`` distinct locations, ``grid`` above
    (the number where the grid method starts to pay, measured in ``benchmarks/clusters.py``).
``sklearn``
    ``sklearn.cluster.DBSCAN`` on the distinct locations with ``sample_weight`` — the reference
    implementation; border points are then re-assigned by the nearest-core rule.
``grid``
    The hand-written exact grid DBSCAN of ``clusters_grid`` (same core and noise sets and the
    same partition of core points as scikit-learn; tested against it).
``hdbscan``
    ``sklearn.cluster.HDBSCAN(min_cluster_size=min_samples, min_samples=min_samples)`` on the
    incidents (no weights; ``eps_m`` is only used for the patrol-area buffer).

Patrol areas
------------
Each cluster becomes a polygon: the concave hull (``shapely.concave_hull``, ratio 0.3) of its
distinct member locations buffered by ``eps_m / 2`` (a cluster at one location is a circle of
radius ``eps_m / 2``), so every member lies inside its patrol area. Areas are built in one
grouped pass over the member rows (sorted by cluster once; no per-cluster filtering), holding
coordinates once per distinct location and per-row data as integer codes.

Each area is *named* by its most frequent location text (police.uk's "On or near ..."; other
texts get that prefix) and, with ``areas``, the area its centre lies in ("On or near Market
Street — Central ward"). Its centre (``centroid_easting``/``centroid_northing``, OS grid
reference, longitude/latitude) is the incident-weighted mean of its member locations. Areas are
ranked by incident count, or by summed weight with ``weight`` (ties: higher density first, then
the lowest member coordinate), and ``cluster_id`` is the rank: the same data give the same ids,
whatever the row order.

Weights
-------
``weight=None`` counts incidents. ``weight="harm"`` gives each incident its category's harm
weight (``harm.csv``, see ``harm``) and ``weight="COLUMN"`` the values of a numeric column: the
clusters are the same (``min_samples`` still counts incidents) and areas are ranked by summed
weight. ``weight=True`` (older callers) uses the ``weight`` column as DBSCAN's sample weight too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hotspot_app.core import clusters_grid, locations, settings
from hotspot_app.core.errors import InputError
# Selection helpers live in `selection`; re-exported here for older callers.
from hotspot_app.core.selection import coordinates, parse_period, select, validate_params

NOISE = -1
CONCAVE_RATIO = 0.3
#: Smallest k-distance `suggest_eps` considers (police.uk snap points can be metres apart).
MIN_EPS_M = 10.0
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
#: Share of the incidents' extent that two or fewer patrol areas may cover before a warning.
COVERAGE_WARN_SHARE = 0.5


def collapse(xy: np.ndarray, weight: np.ndarray | None = None, extra: np.ndarray | None = None):
    """Older name of `locations.distinct`: ``(unique_xy, unique_weight, inverse[, unique_extra])``."""
    loc = locations.distinct(xy, weight, extra)
    return tuple(loc) if extra is not None else tuple(loc[:3])


# --------------------------------------------------------------------------- labelling
def _assign_borders(xy: np.ndarray, core: np.ndarray, labels: np.ndarray, eps: float,
                    g: "clusters_grid._Grid | None" = None) -> np.ndarray:
    """Give each non-core point within eps of a core point the label of its nearest core point
    (exact distance ties: whichever the k-d tree returns)."""
    labels = labels.copy()
    labels[~core] = NOISE
    todo = np.flatnonzero(~core)
    if len(todo) == 0 or not core.any():
        return labels
    # only core points in grid cells near a non-core point can be its nearest core point
    cores = np.flatnonzero(core) if g is None else g.cores_near(core, todo)
    tree = cKDTree(xy[cores])
    dist, pos = tree.query(xy[todo], k=1, distance_upper_bound=eps * (1 + 1e-9))
    ok = np.isfinite(dist)
    d = xy[todo[ok]] - xy[cores[pos[ok]]]
    ok2 = (d[:, 0] ** 2 + d[:, 1] ** 2) <= eps * eps
    idx = np.flatnonzero(ok)[ok2]
    labels[todo[idx]] = labels[cores[pos[idx]]]
    return labels


def resolve_method(method: str, n_locations: int) -> str:
    """``auto`` -> ``sklearn`` up to `settings.GRID_METHOD_MIN_LOCATIONS` distinct locations,
    ``grid`` above; any other method unchanged."""
    if method != "auto":
        return method
    return "grid" if n_locations > settings.GRID_METHOD_MIN_LOCATIONS else "sklearn"


def label_locations(uxy: np.ndarray, uw: np.ndarray, eps_m: float, min_samples: float,
                    method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN labels (0.., -1 noise; not renumbered) and core mask of *distinct* locations `uxy`
    weighted by `uw` (incidents or total weight there)."""
    if len(uxy) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    method = resolve_method(method, len(uxy))
    if method == "sklearn":
        from sklearn.cluster import DBSCAN

        model = DBSCAN(eps=eps_m, min_samples=min_samples).fit(uxy, sample_weight=uw)
        core = np.zeros(len(uxy), dtype=bool)
        core[model.core_sample_indices_] = True
        labels = np.where(core, model.labels_, NOISE)
        return _assign_borders(uxy, core, labels, eps_m), core
    labels, core, g = clusters_grid.label(uxy, uw, eps_m, min_samples)
    return _assign_borders(uxy, core, labels, eps_m, g), core


def label_points(
    xy: np.ndarray,
    eps_m: float = settings.EPS_M,
    min_samples: int = settings.MIN_SAMPLES,
    sample_weight: np.ndarray | None = None,
    *,
    method: str = "auto",
    collapse_duplicates: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN labels and core mask of an (n, 2) array of metre coordinates.

    Parameters
    ----------
    xy : ndarray (n, 2)
        Coordinates in metres.
    eps_m : float
        Neighbourhood radius in metres (> 0).
    min_samples : int
        Weighted neighbourhood count (self included) that makes a point core (>= 1).
    sample_weight : ndarray (n,), optional
        Non-negative weight of each point (default 1).
    method : {"auto", "grid", "sklearn"}
        ``auto``: sklearn up to `settings.GRID_METHOD_MIN_LOCATIONS` distinct locations, grid
        above. See the module docstring.
    collapse_duplicates : bool
        Run on distinct coordinates with summed weights (identical result, faster).

    Returns
    -------
    labels : ndarray of int (n,)
        Cluster number (0..k-1, in order of first appearance in `xy`) or -1 for noise.
    core : ndarray of bool (n,)
    """
    validate_params(eps_m=eps_m, min_samples=min_samples, method=method)
    if method == "hdbscan":
        raise InputError("label_points does not run HDBSCAN; use dbscan(..., method='hdbscan')",
                         parameter="method")
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if len(w) != n:
        raise InputError("sample_weight must have one value per point", parameter="sample_weight")
    if n and (not np.isfinite(w).all() or (w < 0).any()):
        raise InputError("weights must be finite and >= 0", parameter="weight")
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    if collapse_duplicates:
        uxy, uw, inverse = locations.distinct(xy, w)[:3]
    else:
        uxy, uw, inverse = xy, w, np.arange(n)
    labels, core = label_locations(uxy, uw, eps_m, min_samples, method)
    return _renumber(labels[inverse]), core[inverse]


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Clusters numbered 0.. in order of first appearance; noise stays -1."""
    codes, uniq = pd.factorize(np.asarray(labels))
    uniq = np.asarray(uniq)
    new = np.cumsum(uniq >= 0) - 1
    return np.where(uniq[codes] >= 0, new[codes], NOISE).astype(np.int64)


def _graph_labels(n: int, i: np.ndarray, j: np.ndarray, d2: np.ndarray, w: np.ndarray,
                  min_samples: float) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN on an explicit neighbour graph (pairs i<j with squared distance d2; self pairs
    implied): core by weighted degree, clusters = components of core-core edges, border points
    to their nearest core neighbour."""
    deg = w.copy()
    np.add.at(deg, i, w[j])
    np.add.at(deg, j, w[i])
    core = deg >= min_samples
    cc = core[i] & core[j]
    graph = coo_matrix((np.ones(int(cc.sum())), (i[cc], j[cc])), shape=(n, n)).tocsr()
    _, comp = connected_components(graph, directed=False)
    labels = np.where(core, comp, NOISE)
    # border: nearest core neighbour (ties: lowest index)
    bi = np.concatenate([i, j])
    bj = np.concatenate([j, i])
    bd = np.concatenate([d2, d2])
    sel = ~core[bi] & core[bj]
    bi, bj, bd = bi[sel], bj[sel], bd[sel]
    order = np.lexsort((bj, bd, bi))
    bi, bj = bi[order], bj[order]
    first = np.ones(len(bi), dtype=bool)
    first[1:] = bi[1:] != bi[:-1]
    labels[bi[first]] = comp[bj[first]]
    return _renumber(labels), core


def label_space_time(
    xy: np.ndarray, day: np.ndarray, eps_m: float, days: float, min_samples: int,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Space–time DBSCAN: neighbours within `eps_m` metres **and** `days` days (inclusive).

    `day` is a float day number per point (e.g. days since 1970). Runs on distinct
    (x, y, day) triples with summed weights. Returns (labels, core) as `label_points`.
    """
    validate_params(eps_m=eps_m, min_samples=min_samples, days=days)
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    uxy, uw, inverse, uday = locations.distinct(xy, w, np.asarray(day, dtype=float))
    tree = cKDTree(uxy)
    pairs = tree.query_pairs(eps_m * (1 + 1e-9), output_type="ndarray")
    i, j = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.empty(0, int), np.empty(0, int))
    d = uxy[i] - uxy[j]
    d2 = d[:, 0] ** 2 + d[:, 1] ** 2
    keep = (d2 <= eps_m * eps_m) & (np.abs(uday[i] - uday[j]) <= days)
    labels, core = _graph_labels(len(uxy), i[keep], j[keep], d2[keep], uw, min_samples)
    return _renumber(labels[inverse]), core[inverse]


# --------------------------------------------------------------------------- results
@dataclass
class Clusters:
    """The result of `dbscan`.

    Attributes
    ----------
    selection : GeoDataFrame
        The selected incidents (not modified; see `incidents` for the labelled copy).
    labels : ndarray
        ``cluster_id`` of each selected incident (rank of its patrol area, -1 noise).
    core : ndarray of bool
    areas : GeoDataFrame
        Ranked patrol areas (`AREA_COLUMNS`), one row per cluster (the `top` N with ``top``).
    parameters : dict
        The parameters used (JSON-ready).
    message : str | None
        When no cluster was found: which parameter to change.
    warnings : list of str
        Everything the user must be told: space-time notes, areas larger than walkable, a few
        areas covering most of the extent, eps finer than the locations' precision, no clusters.
    top_categories : dict
        cluster_id -> {category: count} (the three most frequent), for the JSON document.
    """

    selection: gpd.GeoDataFrame
    labels: np.ndarray
    core: np.ndarray
    areas: gpd.GeoDataFrame
    parameters: dict
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    top_categories: dict = field(default_factory=dict)
    n_clusters: int = 0

    @property
    def incidents(self) -> gpd.GeoDataFrame:
        """The selected incidents (a copy) with ``cluster_id`` and ``core`` columns."""
        out = self.selection.copy()
        out["cluster_id"] = self.labels
        out["core"] = self.core
        return out

    @property
    def n_incidents(self) -> int:
        return int(len(self.labels))

    @property
    def n_noise(self) -> int:
        return int((self.labels == NOISE).sum())

    def to_dict(self) -> dict:
        """The CLI's JSON document (design §5 and §5b "Clusters grow")."""
        weighted = bool(self.parameters.get("weight"))
        rows = []
        for r in self.areas.itertuples(index=False):
            d = {
                "cluster_id": int(r.cluster_id),
                "count": int(r.count),
                "area_m2": round(float(r.area_m2), 1),
                "density_per_km2": round(float(r.density_per_km2), 1),
                "first_month": r.first_month,
                "last_month": r.last_month,
                "top_categories": self.top_categories.get(int(r.cluster_id), {}),
                "rank": int(r.rank),
                "name": r.name,
                "centroid": {"easting": round(float(r.centroid_easting), 1),
                             "northing": round(float(r.centroid_northing), 1),
                             "longitude": round(float(r.longitude), 6),
                             "latitude": round(float(r.latitude), 6)},
            }
            if weighted:
                d["weight"] = round(float(r.weight), 3)
            rows.append(d)
        return {"parameters": self.parameters, "n_incidents": self.n_incidents,
                "n_noise": self.n_noise, "clusters": rows}


def no_cluster_message(eps_m: float, min_samples: int, n_incidents: int) -> str:
    """sfhotspot-style hint naming the parameters to change."""
    if n_incidents == 0:
        return ("no clusters: no incidents selected; check category and from/to "
                "(the period and categories chosen contain no incidents)")
    return (f"no clusters: try a larger eps_m (now {eps_m:g}) or a smaller min_samples "
            f"(now {min_samples}); {n_incidents} incidents were selected")


def _day_numbers(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, list[str]]:
    """Day number of each incident: its date, or the 15th of its month when only the month is
    known (with a warning)."""
    notes = []
    occurred = pd.to_datetime(incidents["occurred"]) if "occurred" in incidents else None
    mid = pd.to_datetime(incidents["month"].astype(str) + "-15")
    if occurred is None or occurred.isna().all():
        notes.append("space-time mode: these incidents have months but no dates, so each is "
                     "placed on the 15th of its month; 'days' below about 30 then only links "
                     "incidents of the same month")
        when = mid
    else:
        missing = int(occurred.isna().sum())
        if missing:
            notes.append(f"space-time mode: {missing} incidents have only a month; they are "
                         "placed on the 15th of their month")
        when = occurred.fillna(mid)
    day = (when.dt.tz_localize(None) if when.dt.tz is not None else when)
    day = (day - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return np.asarray(day, dtype=float), notes


def incident_weights(incidents: gpd.GeoDataFrame, weight) -> tuple[np.ndarray | None, list[str]]:
    """Per-incident weights for ranking: None (count), ``"harm"`` (the category's harm weight,
    `harm.weights`), True (the ``weight`` column) or a numeric column's name. Returns
    (weights or None, warnings). `InputError` naming the column for a missing column or a
    negative / non-numeric value."""
    if weight is None or weight is False:
        return None, []
    if isinstance(weight, str) and weight == "harm":
        from hotspot_app.core import harm

        return harm.weights(incidents)
    col = "weight" if weight is True else weight
    if not isinstance(col, str) or col not in incidents.columns:
        raise InputError(f"weight must be 'harm' or a numeric column of the incidents "
                         f"(no column {col!r})", parameter="weight")
    w = pd.to_numeric(incidents[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError("weights must be finite numbers >= 0", row=row, column=col)
    return w, []


def dbscan(
    incidents: gpd.GeoDataFrame,
    eps_m: float = settings.EPS_M,
    min_samples: int = settings.MIN_SAMPLES,
    *,
    category: str | Sequence[str] | None = None,
    period=None,
    days: float | None = None,
    weight=None,
    method: str = "auto",
    areas: gpd.GeoDataFrame | None = None,
    top: int | None = None,
) -> Clusters:
    """Find clusters of incidents and turn them into ranked, named patrol areas.

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700). Not modified.
    eps_m : float
        Neighbourhood radius in metres (> 0); default `settings.EPS_M`.
    min_samples : int
        Incidents within `eps_m`, self included, that make a core incident (>= 1); default
        `settings.MIN_SAMPLES`.
    category : str or list of str, optional
        Categories, taxonomy nodes or named groups (``asb``, ``deliberate-secondary-fires``...).
    period : optional
        ``"YYYY-MM..YYYY-MM"``, ``(from, to)`` or a list of months (inclusive).
    days : float, optional
        Space–time mode: neighbours must also be within `days` days. Needs ``occurred``;
        incidents with only a month are placed on the 15th (with a warning).
    weight : None, "harm", column name, or True
        Rank areas by summed weight (see the module docstring); True also uses the ``weight``
        column as DBSCAN's sample weight (older callers).
    method : {"auto", "grid", "sklearn", "hdbscan"}
    areas : GeoDataFrame, optional
        Areas (wards...) with a ``name`` column: each patrol area is named with the area its
        centre lies in.
    top : int, optional
        Keep the `top` N areas (all are found and ranked; the rest stay in `labels`).

    Returns
    -------
    Clusters
    """
    validate_params(eps_m=eps_m, min_samples=min_samples, days=days, method=method, top=top)
    if days is not None and method == "hdbscan":
        raise InputError("space-time mode (days) is not available with method 'hdbscan'",
                         parameter="days")
    sel = select(incidents, category, period)
    xy = coordinates(sel)
    w_rank, notes = incident_weights(sel, weight)
    w_sample = w_rank if weight is True else None
    loc = locations.distinct(xy, w_sample)
    used = method
    if len(sel) == 0:
        labels, core = np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    elif method == "hdbscan":
        labels, core = _hdbscan(xy, min_samples)
    elif days is not None:
        day, day_notes = _day_numbers(sel)
        notes += day_notes
        labels, core = label_space_time(xy, day, eps_m, days, min_samples, w_sample)
        used = "space-time"
    else:
        used = resolve_method(method, len(loc.xy))
        ul, uc = label_locations(loc.xy, loc.weight, eps_m, min_samples, used)
        labels, core = _renumber(ul)[loc.inverse], uc[loc.inverse]
    months = parse_period(period)
    parameters = {
        "eps_m": float(eps_m),
        "min_samples": int(min_samples),
        "category": None if category is None else ([category] if isinstance(category, str) else list(category)),
        "from": months[0] if months else None,
        "to": months[-1] if months else None,
        "days": None if days is None else float(days),
        "weight": (False if weight is None or weight is False else
                   "weight" if weight is True else str(weight)),
        "method": "sklearn" if used == "space-time" else used,
    }
    if weight == "harm":
        from hotspot_app.core import harm

        parameters["harm_table"] = harm.SOURCE
    built = patrol_areas(sel, labels, eps_m, loc=loc if days is None and method != "hdbscan" else None,
                         weights=w_rank, areas=areas)
    all_areas, rank_of, tops = built
    cid = np.full(len(labels), NOISE, dtype=np.int64)
    if len(rank_of):
        cid[labels >= 0] = rank_of[labels[labels >= 0]]
    shown = all_areas if top is None else all_areas[all_areas["rank"] <= top]
    message = None if len(all_areas) else no_cluster_message(eps_m, min_samples, len(sel))
    notes += area_warnings(shown, all_areas, sel, loc.xy, eps_m, areas)
    if message:
        notes.append(message)
    return Clusters(sel, cid, core, shown.reset_index(drop=True), parameters, message, notes,
                    tops, len(all_areas))


def _hdbscan(xy: np.ndarray, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import HDBSCAN

    size = max(int(min_samples), 2)
    if len(xy) < size:
        return np.full(len(xy), NOISE), np.zeros(len(xy), dtype=bool)
    model = HDBSCAN(min_cluster_size=size, min_samples=size, copy=True).fit(xy)
    labels = _renumber(model.labels_)
    return labels, labels >= 0


# --------------------------------------------------------------------------- warnings
def _km2(m2: float) -> str:
    return f"{m2 / 1e6:.2f} km²"


def _distance(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"


def walkable_warnings(areas: gpd.GeoDataFrame, eps_m: float | None = None) -> list[str]:
    """The not-walkable warnings (the one home of that rule and its words): areas whose
    ``area_m2`` exceeds `settings.WALKABLE_MAX_M2`, the first three by name, then a count."""
    out = []
    limit = settings.WALKABLE_MAX_M2
    big = areas[areas["area_m2"].astype(float) > limit] if len(areas) else areas
    fix = f"lower eps_m (now {eps_m:g})" if eps_m is not None else "lower eps_m"
    for r in big.head(3).itertuples(index=False):
        out.append(f"area #{int(r.rank)} ({_km2(r.area_m2)}) is larger than a walkable patrol "
                   f"area ({_km2(limit)}): {fix}")
    if len(big) > 3:
        out.append(f"{len(big) - 3} more areas are larger than a walkable patrol area "
                   f"({_km2(limit)})")
    return out


def area_warnings(shown: gpd.GeoDataFrame, all_areas: gpd.GeoDataFrame, sel: gpd.GeoDataFrame,
                  uxy: np.ndarray, eps_m: float, areas: gpd.GeoDataFrame | None = None) -> list[str]:
    """Plain-words warnings on patrol areas (issue 11): areas larger than walkable
    (`settings.WALKABLE_MAX_M2`), two or fewer areas covering most of the extent, eps finer than
    the locations' precision (``location_precision_m``)."""
    out = walkable_warnings(shown, eps_m)
    if 1 <= len(all_areas) <= 2 and len(uxy):
        if areas is not None and len(areas):
            extent, what = shapely.union_all(areas.geometry.values), "the areas"
        else:
            extent = shapely.MultiPoint(uxy).convex_hull.buffer(eps_m / 2.0)
            what = "the incidents' extent"
        covered = shapely.area(shapely.intersection(
            shapely.union_all(all_areas.geometry.values), extent))
        share = covered / max(shapely.area(extent), 1e-9)
        if share > COVERAGE_WARN_SHARE:
            out.append(f"{len(all_areas)} patrol area{'s cover' if len(all_areas) > 1 else ' covers'} "
                       f"{share:.0%} of {what}: eps_m {eps_m:g} is too large for patrol areas; "
                       "lower eps_m")
    if "location_precision_m" in sel.columns and len(sel):
        prec = pd.to_numeric(sel["location_precision_m"], errors="coerce")
        if prec.notna().any():
            p = float(prec.median())
            if eps_m < p:
                out.append(f"locations are only precise to {_distance(p)}; eps {_distance(eps_m)} "
                           f"cannot find clusters — use >= {p:,.0f} m or count by ward")
    return out


# --------------------------------------------------------------------------- patrol areas
#: Columns of the patrol-areas GeoDataFrame: the contract the app pages and the patrol plan use
#: (`CONTRACT_COLUMNS`), then older columns kept for existing pages and exports.
CONTRACT_COLUMNS = [
    "rank", "cluster_id", "name", "location_text", "area_name", "count", "weight", "area_m2",
    "area_ha", "incidents_per_ha", "centroid_easting", "centroid_northing", "longitude",
    "latitude", "grid_ref", "first_month", "last_month", "top_categories", "walkable", "geometry",
]
EXTRA_COLUMNS = ["area_id", "layer", "locations", "density_per_km2", "peak_months", "peak_hours",
                 "peak_weekdays", "description"]
AREA_COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS
NEAR_PREFIXES = ("on or near ", "near ")


def polygon(member_xy: np.ndarray, eps_m: float):
    """Patrol polygon of a cluster's distinct member locations: concave hull (ratio 0.3)
    buffered by eps_m/2 (a circle of radius eps_m/2 for one location)."""
    pts = np.unique(np.asarray(member_xy, dtype=float), axis=0)
    return _polygons(pts, np.zeros(len(pts), dtype=np.int64), eps_m)[0]


def _polygons(pts: np.ndarray, group: np.ndarray, eps_m: float) -> np.ndarray:
    """One patrol polygon per group of distinct points (`group` sorted, 0..k-1), vectorised."""
    k = int(group[-1]) + 1 if len(group) else 0
    n = np.bincount(group, minlength=k)
    out = np.empty(k, dtype=object)
    single = n == 1
    first = np.r_[0, np.cumsum(n)[:-1]]
    if single.any():
        out[single] = shapely.buffer(shapely.points(pts[first[single]]), eps_m / 2.0, quad_segs=16)
    if (~single).any():
        many = ~single[group]
        mp = shapely.multipoints(pts[many], indices=np.unique(group[many], return_inverse=True)[1])
        hull = shapely.concave_hull(mp, ratio=CONCAVE_RATIO)
        out[~single] = shapely.buffer(hull, eps_m / 2.0, quad_segs=8)
    return out


def _top_k(group: np.ndarray, codes: np.ndarray, k: int):
    """The `k` most frequent codes per group (ties: lower code first; -1 codes ignored):
    arrays (group, code, count), sorted by group then rank. Hash-counted, then only the distinct
    (group, code) pairs are sorted."""
    ok = codes >= 0
    if not ok.any():
        e = np.empty(0, dtype=np.int64)
        return e, e, e
    ncodes = int(codes.max()) + 1
    key = group[ok].astype(np.int64) * ncodes + codes[ok]
    kc, uniq = pd.factorize(key)
    cnt = np.bincount(kc)
    g, c = uniq // ncodes, uniq % ncodes
    order = np.lexsort((c, -cnt, g))
    g, c, cnt = g[order], c[order], cnt[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    pos = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    keep = pos < k
    return g[keep], c[keep], cnt[keep]


def _codes(column: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted integer codes (-1 for missing) of a column at the boolean `rows`, and the values
    they stand for. Factorises the column's own storage (Arrow strings, categoricals) once."""
    codes, uniques = locations.factorize_shared(column, sort=True)
    return np.asarray(codes)[rows].astype(np.int64), np.asarray(uniques, dtype=object)


def _per_group(g: np.ndarray, items: list, n: int) -> list[list]:
    out: list[list] = [[] for _ in range(n)]
    for gi, item in zip(g.tolist(), items):
        out[gi].append(item)
    return out


def patrol_name(location_text: str | None, area_name: str | None, rank: int) -> str:
    """"On or near Market Street — Central ward": the location text (police.uk's already says
    "On or near"; others get it), then the area when known; "Patrol area N" without a text."""
    text = (location_text or "").strip()
    if not text:
        base = f"Patrol area {rank}"
    elif text.lower().startswith(NEAR_PREFIXES):
        base = text
    else:
        base = f"On or near {text}"
    return f"{base} — {area_name}" if area_name else base


def _area_names(areas: gpd.GeoDataFrame | None, xy: np.ndarray) -> list[str | None]:
    """Name of the area each point lies in (None outside every area); ward names gain " ward"."""
    if areas is None or len(areas) == 0 or len(xy) == 0:
        return [None] * len(xy)
    if areas.crs is None or not areas.crs.equals(settings.CRS):
        raise InputError(f"areas must be in {settings.CRS} (got {areas.crs})", parameter="areas")
    if "name" not in areas.columns:
        raise InputError("areas have no 'name' column", column="name", parameter="areas")
    names = areas["name"].astype(object).where(areas["name"].notna(), None).to_numpy()
    if "layer" in areas.columns:
        ward = (areas["layer"].astype(str) == "ward").to_numpy()
        names = np.array([f"{n} ward" if w and n and not str(n).lower().endswith("ward") else n
                          for n, w in zip(names, ward)], dtype=object)
    tree = shapely.STRtree(areas.geometry.values)
    pi, ai = tree.query(shapely.points(xy), predicate="within")
    out: list[str | None] = [None] * len(xy)
    for p, a in zip(pi[::-1].tolist(), ai[::-1].tolist()):   # first area wins
        out[p] = names[a]
    return out


def _empty_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in AREA_COLUMNS if c != "geometry"},
                            geometry=gpd.GeoSeries([], crs=settings.CRS), crs=settings.CRS)[AREA_COLUMNS]


def patrol_areas(sel: gpd.GeoDataFrame, labels: np.ndarray, eps_m: float, *,
                 loc: locations.Locations | None = None, weights: np.ndarray | None = None,
                 areas: gpd.GeoDataFrame | None = None):
    """Ranked, named patrol areas of labelled incidents, in one grouped pass.

    `labels` (one per row of `sel`, clusters 0..k-1, -1 noise); `loc` the distinct locations of
    `sel` (computed when not given); `weights` per-row weights for ranking (None: counts).
    Returns (areas GeoDataFrame with `AREA_COLUMNS`, rank of each cluster, cluster_id ->
    {category: count} of its three most frequent categories)."""
    nclu = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    if nclu == 0:
        return _empty_areas(), np.empty(0, dtype=np.int64), {}
    if loc is None:
        loc = locations.distinct(coordinates(sel))
    members = labels >= 0
    lab = labels[members].astype(np.int64)
    nloc = len(loc.xy)
    # distinct (cluster, location) pairs with their incident counts
    pk, pairs = pd.factorize(lab * nloc + loc.inverse[members])
    pcount = np.bincount(pk).astype(float)
    pg, pl = pairs // nloc, pairs % nloc
    pxy = loc.xy[pl]
    order = np.lexsort((pxy[:, 1], pxy[:, 0], pg))
    pg, pxy, pcount = pg[order], pxy[order], pcount[order]
    nlocs = np.bincount(pg, minlength=nclu)
    first = np.r_[0, np.cumsum(nlocs)[:-1]]
    geoms = _polygons(pxy, pg, eps_m)
    area = shapely.area(geoms)
    count = np.bincount(pg, weights=pcount, minlength=nclu)
    cx = np.bincount(pg, weights=pxy[:, 0] * pcount, minlength=nclu) / count
    cy = np.bincount(pg, weights=pxy[:, 1] * pcount, minlength=nclu) / count
    wsum = (count if weights is None else
            np.bincount(lab, weights=np.nan_to_num(np.asarray(weights, float)[members]), minlength=nclu))
    density = count / (area / 1e6)
    lowest = pxy[first]
    # rank: value (count or summed weight) desc, density desc, lowest member coordinate asc
    order = np.lexsort((lowest[:, 1], lowest[:, 0], -density, -wsum))
    rank_of = np.empty(nclu, dtype=np.int64)
    rank_of[order] = np.arange(1, nclu + 1)
    # months, categories, location texts, times: integer codes, counted per cluster
    mcodes, mcats = _codes(sel["month"], members)
    mser = pd.Series(mcodes)
    firstm = np.asarray(mcats)[mser.groupby(lab).min().reindex(range(nclu)).to_numpy()]
    lastm = np.asarray(mcats)[mser.groupby(lab).max().reindex(range(nclu)).to_numpy()]
    ccodes, ccats = _codes(sel["category"], members)
    g, c, n = _top_k(lab, ccodes, 3)
    tops = _per_group(g, list(zip(map(str, ccats[c].tolist()), n.tolist())), nclu)
    loc_text: list = [None] * nclu
    if "location" in sel.columns:
        lcodes, lcats = _codes(sel["location"], members)
        blank = np.flatnonzero(pd.Series(np.asarray(lcats, dtype=object)).astype(str).str.strip() == "")
        if len(blank):
            lcodes = np.where(np.isin(lcodes, blank), -1, lcodes)
        g, c, _ = _top_k(lab, lcodes, 1)
        for gi, ci in zip(g.tolist(), c.tolist()):
            loc_text[gi] = str(lcats[ci])
    moy = np.array([int(m[5:7]) - 1 for m in mcats], dtype=np.int64)[mcodes]
    g, c, _ = _top_k(lab, moy, 3)
    peak_months = _per_group(g, [MONTH_NAMES[ci] for ci in c], nclu)
    peak_hours = peak_days = [None] * nclu
    if "occurred" in sel.columns:
        occ = pd.to_datetime(sel["occurred"]).iloc[np.flatnonzero(members)]
        timed = occ.notna() & (occ.dt.hour.ne(0) | occ.dt.minute.ne(0))
        if timed.any():
            hrs = np.where(occ.notna(), occ.dt.hour.fillna(-1), -1).astype(np.int64)
            dow = np.where(occ.notna(), occ.dt.day_of_week.fillna(-1), -1).astype(np.int64)
            g, c, _ = _top_k(lab, hrs, 3)
            peak_hours = [", ".join(v) or None for v in _per_group(g, [f"{h:02d}:00" for h in c], nclu)]
            g, c, _ = _top_k(lab, dow, 3)
            peak_days = [", ".join(v) or None for v in _per_group(g, [WEEKDAY_NAMES[d] for d in c], nclu)]
    area_names = _area_names(areas, np.column_stack([cx, cy]))
    lonlat = locations.lonlat(np.column_stack([cx, cy]))
    refs = [locations.grid_ref(x, y) for x, y in zip(cx, cy)]
    top_text = ["; ".join(f"{k} ({v})" for k, v in t) for t in tops]
    names = [patrol_name(loc_text[k], area_names[k], int(rank_of[k])) for k in range(nclu)]
    area_ha = area / 1e4
    desc = [f"#{int(rank_of[k])} {names[k]}: {int(count[k])} incidents, {firstm[k]} to {lastm[k]}; "
            f"{top_text[k]}; {area_ha[k]:,.2f} ha; grid ref {refs[k]}"
            + (f"; peak months {', '.join(peak_months[k])}" if peak_months[k] else "")
            + (f"; peak hours {peak_hours[k]}; peak days {peak_days[k]}" if peak_hours[k] else "")
            for k in range(nclu)]
    table = pd.DataFrame({
        "rank": rank_of, "cluster_id": rank_of, "name": names,
        "location_text": pd.Series(loc_text, dtype=object),
        "area_name": pd.Series(area_names, dtype=object), "count": count.astype(np.int64), "weight": wsum.astype(float),
        "area_m2": area, "area_ha": np.round(area_ha, 2),
        "incidents_per_ha": np.round(count / area_ha, 1),
        "centroid_easting": cx, "centroid_northing": cy,
        "longitude": lonlat[:, 0], "latitude": lonlat[:, 1], "grid_ref": refs,
        "first_month": firstm.astype(str), "last_month": lastm.astype(str),
        "top_categories": top_text, "walkable": area <= settings.WALKABLE_MAX_M2,
        "area_id": [f"patrol-{r}" for r in rank_of], "layer": "patrol", "locations": nlocs,
        "density_per_km2": density, "peak_months": [", ".join(p) or None for p in peak_months],
        "peak_hours": peak_hours, "peak_weekdays": peak_days, "description": desc,
    })
    out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=settings.CRS), crs=settings.CRS)
    out = out.iloc[order].reset_index(drop=True)[AREA_COLUMNS]
    top_dict = {int(rank_of[k]): dict(tops[k]) for k in range(nclu)}
    return out, rank_of, top_dict


# --------------------------------------------------------------------------- eps guidance
@dataclass
class EpsSuggestion:
    """k-distance guidance: `eps_m` at the knee of the sorted distance-to-k-th-neighbour curve;
    `curve` has columns ``share`` (0..1, incidents sorted by distance) and ``distance_m``."""

    eps_m: float
    min_samples: int
    curve: pd.DataFrame


def suggest_eps(incidents: gpd.GeoDataFrame, min_samples: int = settings.MIN_SAMPLES, *,
                category=None, period=None, points: int = 500) -> EpsSuggestion:
    """Suggest `eps_m` from the k-distance curve (k = `min_samples`, self included, as DBSCAN
    counts it): for each incident the distance within which `min_samples` incidents lie. Sorted
    ascending, the curve is low for incidents in clusters and rises where noise begins. The
    suggestion is the distance just before the largest jump of at least ×2 between neighbouring
    half-percentiles (a step), or else the *knee* of the bend: the point farthest below the
    straight line from the first to the last point (Kneedle-style). Only k-distances of at
    least `MIN_EPS_M` (10 m) count: a snap point that alone holds `min_samples` incidents (0 m),
    or snap points a few metres apart, are core at any useful eps and say nothing about it.
    A guide, not a rule: show `curve` next to it. Computed on distinct locations weighted by
    their incident counts. `curve` (for a chart) is thinned to at most `points` rows."""
    validate_params(min_samples=min_samples)
    sel = select(incidents, category, period)
    xy = coordinates(sel)
    if len(sel) < 2:
        raise InputError("need at least 2 incidents to suggest eps_m", parameter="incidents")
    uxy, uw = locations.distinct(xy)[:2]
    k = int(min(len(uxy), min_samples))
    dist, idx = cKDTree(uxy).query(uxy, k=k)
    dist, idx = dist.reshape(len(uxy), k), idx.reshape(len(uxy), k)
    cum = np.cumsum(uw[idx], axis=1)
    reach = np.argmax(cum >= min_samples, axis=1)
    never = cum[:, -1] < min_samples
    kd = dist[np.arange(len(uxy)), reach]
    kd[never] = dist[never, -1]
    order = np.argsort(kd, kind="stable")
    kd_s, w_s = kd[order], uw[order]
    share = np.cumsum(w_s) / w_s.sum()
    # knee: max distance below the chord from first to last point (normalised axes), over the
    # incidents with a positive k-distance (a snap point holding min_samples incidents is core
    # at any eps and says nothing about eps)
    pos = np.flatnonzero(kd_s >= MIN_EPS_M)
    knee = len(kd_s) - 1
    if len(pos) >= 2:
        # a step: clustered incidents, then a jump to the noise level (at least x2 between
        # neighbouring percentiles) -> the last distance before the largest such jump
        q = np.unique(np.searchsorted(share[pos], np.linspace(0, 1, 201)).clip(0, len(pos) - 1))
        steps = kd_s[pos][q]
        ratio = steps[1:] / steps[:-1]
        if len(ratio) and ratio.max() >= 2.0:
            knee = int(pos[q[int(np.argmax(ratio))]])
        else:   # a bend: farthest below the chord from the first to the last point
            y = kd_s[pos] / kd_s[-1]
            x = share[pos]
            chord = y[0] + (y[-1] - y[0]) * (x - x[0]) / max(x[-1] - x[0], 1e-12)
            knee = int(pos[np.argmax(chord - y)])
    pick = np.unique(np.searchsorted(share, np.linspace(0, 1, points), side="left").clip(0, len(share) - 1))
    curve = pd.DataFrame({"share": share[pick], "distance_m": kd_s[pick]})
    return EpsSuggestion(float(round(kd_s[knee], 1)), int(min_samples), curve)


def top_categories_text(v) -> str:
    """Top categories as text for tables and tooltips: 'Anti-social behaviour (40); ...' (the first
    three), from the dict or its JSON text."""
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return v
    if isinstance(v, dict):
        return "; ".join(f"{k} ({n})" for k, n in list(v.items())[:3])
    return "" if v is None else str(v)
