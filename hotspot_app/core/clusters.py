"""DBSCAN (and HDBSCAN) clusters of incidents, turned into ranked patrol areas.

Everything is in metres on EPSG:27700.

Definitions (the same as scikit-learn's ``DBSCAN``)
--------------------------------------------------
* Two incidents are *neighbours* when their distance is at most ``eps_m`` (``dx² + dy² <= eps²``,
  the comparison scikit-learn's trees make). In space–time mode (``days=D``) they must also be at
  most ``D`` days apart.
* An incident is a *core* incident when the (weighted) number of incidents in its neighbourhood,
  itself included, is at least ``min_samples``. With ``weighted=True`` the ``weight`` column
  (harm, cost) is the sample weight; otherwise every incident weighs 1.
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
    ``sklearn`` up to ``settings.GRID_METHOD_MIN_LOCATIONS`` distinct locations, ``grid`` above;
    the setting is 0 (always ``grid``: as fast or faster at every size measured in
    ``benchmarks/clusters.py``, and no scikit-learn import on a fresh start).
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
Each cluster becomes a ranked, named polygon (`cluster_areas.build`; its docstring says how).

What weights points, and what ranks areas
-----------------------------------------
``weighted=True`` makes the incidents' ``weight`` column (harm, cost) DBSCAN's sample weight:
``min_samples`` then counts summed weight, not incidents. ``rank_by`` only ranks the areas:
``None`` by incident count, ``"harm"`` by summed harm weight (``harm.csv``, see ``harm``),
``"COLUMN"`` by a numeric column's sum; the clusters are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hotspot_app.core import cluster_areas, clusters_grid, locations, settings
from hotspot_app.core.errors import InputError
from hotspot_app.core.selection import coordinates, parse_period, select, validate_params

NOISE = -1
#: Share of the incidents' extent that two or fewer patrol areas may cover before a warning.
COVERAGE_WARN_SHARE = 0.5


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
    cores = np.flatnonzero(core)
    if g is not None:
        # only points in nearby grid cells can be within eps of each other: narrow the larger
        # side to the cells near the smaller one (few cores among many sparse locations, as in
        # a nation's ASB, leave most non-core points far from every core)
        if len(cores) <= len(todo):
            todo = todo[g.near(cores)[g.cell_of[todo]]]
        else:
            cores = cores[g.near(todo)[g.cell_of[cores]]]
        if len(todo) == 0:
            return labels
    from scipy.spatial import cKDTree  # (0.05 s to import: only where a tree is built)

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
    eps_m: float,
    min_samples: int,
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
    from scipy.spatial import cKDTree  # (0.05 s to import: only where a tree is built)

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
        """The JSON document of docs/design.md §5 and §5b "Clusters grow" (`cluster_areas.document_rows`)."""
        return {"parameters": self.parameters, "n_incidents": self.n_incidents,
                "n_noise": self.n_noise,
                "clusters": cluster_areas.document_rows(self.areas, self.top_categories,
                                                        bool(self.parameters.get("weight")))}


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


def rank_weights(incidents: gpd.GeoDataFrame, rank_by: str | None) -> tuple[np.ndarray | None, list[str]]:
    """Per-incident values that rank patrol areas: None (``rank_by=None``: counts), the
    category's harm weight (``"harm"``, `harm.weights`) or a numeric column's values. Returns
    (values or None, warnings). `InputError` naming the column for a missing column or a
    negative / non-numeric value."""
    if rank_by is None:
        return None, []
    if rank_by == "harm":
        from hotspot_app.core import harm

        return harm.weights(incidents)
    return column_weights(incidents, rank_by, parameter="rank_by"), []


def column_weights(incidents: gpd.GeoDataFrame, column, parameter: str = "weight") -> np.ndarray:
    """The numeric `column` of the incidents as weights (finite, >= 0); `InputError` naming the
    column and the first bad row otherwise."""
    if not isinstance(column, str) or column not in incidents.columns:
        raise InputError(f"{parameter} must be 'harm' or a numeric column of the incidents "
                         f"(no column {column!r})", parameter=parameter)
    w = pd.to_numeric(incidents[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError("weights must be finite numbers >= 0", row=row, column=column)
    return w


def dbscan(
    incidents: gpd.GeoDataFrame,
    eps_m: float,
    min_samples: int,
    *,
    category: str | Sequence[str] | None = None,
    period=None,
    days: float | None = None,
    rank_by: str | None = None,
    weighted: bool = False,
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
        Neighbourhood radius in metres (> 0). The defaults users see are the named presets
        (`patrol.PRESETS`), decided by the patrol-areas question (`questions.patrol_areas`).
    min_samples : int
        Incidents within `eps_m`, self included, that make a core incident (>= 1).
    category : str or list of str, optional
        Categories, taxonomy nodes or named groups (``asb``, ``deliberate-secondary-fires``...).
    period : optional
        ``"YYYY-MM..YYYY-MM"``, ``(from, to)`` or a list of months (inclusive).
    days : float, optional
        Space–time mode: neighbours must also be within `days` days. Needs ``occurred``;
        incidents with only a month are placed on the 15th (with a warning).
    rank_by : None, "harm" or a column name
        Rank areas by summed harm or column values instead of counts (the clusters are the same).
    weighted : bool
        DBSCAN weighs each incident by its ``weight`` column (``min_samples`` counts weight);
        areas are then ranked by summed weight unless `rank_by` says otherwise.
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
    w_sample = column_weights(sel, "weight") if weighted else None
    w_rank, notes = rank_weights(sel, rank_by)
    if w_rank is None:
        w_rank = w_sample
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
        # the JSON key of docs/design.md §5b ("--weight harm|COLUMN"): what ranks the areas
        "weight": str(rank_by) if rank_by is not None else ("weight" if weighted else False),
        "method": "sklearn" if used == "space-time" else used,
    }
    if rank_by == "harm":
        from hotspot_app.core import harm

        parameters["harm_table"] = harm.SOURCE
    built = cluster_areas.build(sel, labels, eps_m, loc=loc if days is None and method != "hdbscan" else None,
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


def walkable_warnings(areas: gpd.GeoDataFrame, eps_m: float | None = None,
                      precision_m: float | None = None) -> list[str]:
    """The not-walkable warnings (the one home of that rule and its words): areas whose
    ``area_m2`` exceeds `settings.WALKABLE_MAX_M2`, the first three by name, then a count. When
    the locations are only precise to `precision_m` and eps is not above it, lowering eps cannot
    help: one sentence says so instead (the same advice as the precision warning)."""
    out = []
    limit = settings.WALKABLE_MAX_M2
    big = areas[areas["area_m2"].astype(float) > limit] if len(areas) else areas
    if len(big) and precision_m is not None and eps_m is not None and eps_m <= precision_m:
        return [f"{len(big)} area{'s are' if len(big) != 1 else ' is'} larger than a walkable patrol "
                f"area ({_km2(limit)}): locations are only precise to {_distance(precision_m)}, so "
                "smaller areas cannot be found; use them to choose where to look, and the ward "
                "figures to compare places"]
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
    p = None
    if "location_precision_m" in sel.columns and len(sel):
        prec = pd.to_numeric(sel["location_precision_m"], errors="coerce")
        p = float(prec.median()) if prec.notna().any() else None
    out = walkable_warnings(shown, eps_m, p)
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
    if p is not None and eps_m < p:
        if len(all_areas):
            out.append(f"locations are only precise to {_distance(p)}; with eps {_distance(eps_m)} "
                       "an area holds only incidents recorded at the same masked point — use "
                       f">= {p:,.0f} m or count by ward")
        else:
            out.append(f"locations are only precise to {_distance(p)}; eps {_distance(eps_m)} "
                       f"cannot find clusters — use >= {p:,.0f} m or count by ward")
    return out
