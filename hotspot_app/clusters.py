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
``grid`` (default, exact)
    Points are bucketed in square cells of side just under ``eps/(2√2)``, so every pair of
    points inside one 3×3 block of cells is within ``eps``. A 3×3 block whose weight reaches
    ``min_samples`` makes the points of its centre cell core without any distance computation;
    a cell whose whole 7×7 neighbourhood weighs less holds no core point; the remaining points
    count their neighbours cell by cell (cells wholly within ``eps`` count whole, the others
    point by point, stopping once ``min_samples`` is reached). Core cells in one 3×3 block are
    linked untested; farther pairs of core cells are linked when any pair of their core points
    is within ``eps`` (tested first on a few extreme points per cell, then exactly for the pairs
    still in different components), and clusters are the connected components
    (``scipy.sparse.csgraph``). Same core and noise sets and the same partition of core points
    as scikit-learn (tested on random and snapped data; ``benchmarks/clusters.py`` checks it on
    1,000,000 points). Distances are compared as ``dx² + dy² <= eps²`` like scikit-learn's trees;
    a pair at exactly ``eps`` up to floating-point rounding could in principle be judged
    differently.
``sklearn``
    ``sklearn.cluster.DBSCAN`` on the distinct locations with ``sample_weight`` — the reference
    implementation; border points are then re-assigned by the nearest-core rule.
``hdbscan``
    ``sklearn.cluster.HDBSCAN(min_cluster_size=min_samples, min_samples=min_samples)`` on the
    incidents (no weights; ``eps_m`` is only used for the patrol-area buffer).

Patrol areas
------------
Each cluster becomes a polygon: the concave hull (``shapely.concave_hull``, ratio 0.3) of its
member locations buffered by ``eps_m / 2`` (a cluster at one location is a circle of radius
``eps_m / 2``), so every member lies inside its patrol area. Areas are ranked by incident count
(ties: higher density first, then the lowest member coordinate), and ``cluster_id`` is the rank:
the same data give the same ids, whatever the row order.
"""

from __future__ import annotations

import html
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from . import params, periods, settings, taxonomy
from .errors import InputError

NOISE = -1
METHODS = ("auto", "grid", "sklearn", "hdbscan")
CONCAVE_RATIO = 0.3
#: Smallest k-distance `suggest_eps` considers (police.uk snap points can be metres apart).
MIN_EPS_M = 10.0
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
EXPORT_FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".kml": "KML"}

# One table of parameter constraints (as scikit-learn's ``_parameter_constraints``):
# name -> (type, lower bound, upper bound, closed sides) or a tuple of allowed strings.
_PARAMETER_CONSTRAINTS: dict[str, tuple] = {**params.CONSTRAINTS, "method": METHODS}  # limits: params.py


def validate_params(**values) -> None:
    """Check parameters against `_PARAMETER_CONSTRAINTS` (the numeric limits of `params`);
    raise one `InputError` listing every problem, naming the first bad parameter. ``None`` is
    accepted for optional parameters (``days``)."""
    params.validate(_PARAMETER_CONSTRAINTS, **values)


# --------------------------------------------------------------------------- selection
def parse_period(period) -> list[str] | None:
    """``None``, ``"YYYY-MM..YYYY-MM"``, ``(from, to)`` (either may be None) or a list of months
    -> inclusive list of months (None = all)."""
    if period is None:
        return None
    if isinstance(period, str):
        return periods.parse_range(period, "period")
    period = list(period)
    if len(period) == 2 and (period[0] is None or period[1] is None):
        return [None if period[0] is None else periods.parse_month(period[0], "from"),
                None if period[1] is None else periods.parse_month(period[1], "to")]
    if len(period) == 2 and all(isinstance(p, str) for p in period) and period[0] > period[1]:
        periods.month_range(period[0], period[1])  # raises, naming the range
    if len(period) == 2:
        return periods.month_range(period[0], period[1])
    return [periods.parse_month(p, "period") for p in period]


def select(incidents: gpd.GeoDataFrame, category=None, period=None) -> gpd.GeoDataFrame:
    """The incidents of the chosen categories/groups (``taxonomy.select``) and months.

    `period` as in `parse_period`; an open end (``(None, "2024-06")``) is unbounded. Returns a
    copy; the input is not modified.
    """
    _check_incidents(incidents)
    mask = taxonomy.select(incidents, category)
    months = parse_period(period)
    if months is not None:
        month = incidents["month"].astype(str)
        if len(months) == 2 and (months[0] is None or months[1] is None):
            if months[0] is not None:
                mask &= month >= months[0]
            if months[1] is not None:
                mask &= month <= months[1]
        else:
            mask &= month.isin(months)
    return incidents[mask].copy()


def _check_incidents(incidents) -> None:
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputError("incidents must be a GeoDataFrame (see schema.make_incidents)",
                         parameter="incidents")
    if incidents.crs is None or not incidents.crs.equals(settings.CRS):
        raise InputError(f"incidents must be in {settings.CRS} (got {incidents.crs})",
                         parameter="incidents")
    for col in ("month", "category", "kind", "group"):
        if col not in incidents.columns:
            raise InputError(f"incidents have no '{col}' column", column=col)


def coordinates(incidents: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) array of x, y in metres; `InputError` for missing or non-point geometry."""
    geoms = incidents.geometry.values
    if len(geoms) and (shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any()):
        row = int(np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))[0]) + 1
        raise InputError("incident has no location", row=row, column="geometry")
    xy = shapely.get_coordinates(geoms)
    if len(xy) != len(incidents):
        raise InputError("incident geometries must all be single points", column="geometry")
    return xy


def collapse(xy: np.ndarray, weight: np.ndarray | None = None, extra: np.ndarray | None = None):
    """Distinct rows of `xy` (and of `extra`, e.g. a day number, when given): in order of first
    appearance for `xy` alone (hashing, fast), sorted lexicographically with `extra`.

    Returns ``(unique_xy, unique_weight, inverse[, unique_extra])`` where ``unique_weight`` is the
    number of rows (or total `weight`) at each distinct location and ``unique_xy[inverse] == xy``.
    """
    if len(xy) and extra is None:
        flat = np.ascontiguousarray(xy, dtype=np.float64).view(np.complex128).ravel()
        inverse, uniq = pd.factorize(flat)
        w = np.ones(len(xy)) if weight is None else np.asarray(weight, dtype=float)
        uw = np.bincount(inverse, weights=w, minlength=len(uniq))
        return np.column_stack([uniq.real, uniq.imag]), uw, inverse.astype(np.int64)
    cols = [xy[:, 0], xy[:, 1]] + ([extra] if extra is not None else [])
    if len(xy) == 0:
        empty = (np.empty((0, 2)), np.empty(0), np.empty(0, dtype=np.int64))
        return empty + ((np.empty(0),) if extra is not None else ())
    order = np.lexsort(cols[::-1])
    keys = [c[order] for c in cols]
    new = np.ones(len(order), dtype=bool)
    new[1:] = np.any([k[1:] != k[:-1] for k in keys], axis=0)
    group = np.cumsum(new) - 1
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = group
    w = np.ones(len(xy)) if weight is None else np.asarray(weight, dtype=float)
    uw = np.bincount(group, weights=w[order])
    uxy = np.column_stack([keys[0][new], keys[1][new]])
    if extra is not None:
        return uxy, uw, inverse, keys[2][new]
    return uxy, uw, inverse


# --------------------------------------------------------------------------- core algorithms
def _pairs(q: np.ndarray, c: np.ndarray, start: np.ndarray, count: np.ndarray, order: np.ndarray,
           max_pairs: int = 4_000_000):
    """Yield chunks of (query, candidate) index pairs: every point of cell ``c[k]`` for ``q[k]``."""
    if len(q) == 0:
        return
    cnt = count[c]
    ends = np.cumsum(cnt)
    lo = 0
    while lo < len(q):
        base = ends[lo - 1] if lo else 0
        hi = int(np.searchsorted(ends, base + max_pairs, side="right"))
        hi = max(hi, lo + 1)
        cc, qq, kk = c[lo:hi], q[lo:hi], cnt[lo:hi]
        tot = int(kk.sum())
        if tot:
            rq = np.repeat(qq, kk)
            offs = np.arange(tot) - np.repeat(np.cumsum(kk) - kk, kk)
            yield rq, order[np.repeat(start[cc], kk) + offs]
        lo = hi


class _Grid:
    """Points bucketed in square cells of side just under eps / (reach·√2), so any two points in
    one cell — and any two points in a 3×3 block when reach = 2 — are within eps. ``offsets``
    are the cell offsets that can hold points within eps of a cell (radius ceil(reach·√2))."""

    def __init__(self, xy: np.ndarray, eps: float, reach: int = 2):
        self.reach = reach
        self.side = eps / (reach * math.sqrt(2.0)) * (1.0 - 1e-7)
        r = int(math.ceil(reach * math.sqrt(2.0)))
        self.offsets = [(dx, dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1)]
        self.origin = xy.min(axis=0) if len(xy) else np.zeros(2)
        ij = np.floor((xy - self.origin) / self.side).astype(np.int64) + r
        self.height = int(ij[:, 1].max()) + r + 1 if len(xy) else 1
        key = ij[:, 0] * self.height + ij[:, 1]
        self.pad = r
        self.order = np.argsort(key, kind="stable")
        skey = key[self.order]
        new = np.ones(len(skey), dtype=bool)
        new[1:] = skey[1:] != skey[:-1]
        self.start = np.flatnonzero(new)
        self.keys = skey[self.start]
        self.count = np.diff(np.append(self.start, len(skey)))
        self.cell_of = np.empty(len(xy), dtype=np.int64)
        self.cell_of[self.order] = np.cumsum(new) - 1
        self.ij = np.column_stack([self.keys // self.height, self.keys % self.height])

    def neighbour(self, cells: np.ndarray, dx: int, dy: int) -> np.ndarray:
        """Index of the cell at offset (dx, dy) from each of `cells`, -1 where empty."""
        target = self.keys[cells] + dx * self.height + dy
        pos = np.searchsorted(self.keys, target)
        pos = np.minimum(pos, len(self.keys) - 1)
        return np.where(self.keys[pos] == target, pos, -1)

    def rect(self, cells: np.ndarray):
        lo = self.origin + (self.ij[cells] - self.pad) * self.side
        return lo, lo + self.side


def _grid_core(xy: np.ndarray, w: np.ndarray, eps: float, min_samples: float, g: _Grid) -> np.ndarray:
    """Core mask: weighted neighbourhood count (self included) >= min_samples.

    Every point of a cell is within eps of the whole 3×3 block of cells around it (cell side
    eps/(2√2)), so a block weighing min_samples makes its centre cell's points core without any
    distance. A cell whose whole neighbourhood weighs less holds no core point. For the other
    points, cells wholly within eps count whole; the rest are scanned point by point, nearest
    offsets first, and a point stops being scanned once it reaches min_samples.
    """
    eps2 = eps * eps
    ncell = len(g.keys)
    cell_w = np.bincount(g.cell_of, weights=w, minlength=ncell)
    allc = np.arange(ncell)
    block = cell_w.copy()
    inner = [(dx, dy) for dx, dy in g.offsets if max(abs(dx), abs(dy)) <= g.reach - 1
             and (dx, dy) != (0, 0)]
    for dx, dy in inner:
        nb = g.neighbour(allc, dx, dy)
        block += np.where(nb >= 0, cell_w[np.clip(nb, 0, None)], 0.0)
    core = block[g.cell_of] >= min_samples          # dense blocks: core, no distances needed
    todo = np.flatnonzero(~core)
    if len(todo) == 0:
        return core
    qcell_all = g.cell_of[todo]
    cells, qslot = np.unique(qcell_all, return_inverse=True)
    inner_set = set(inner) | {(0, 0)}
    offsets = sorted((o for o in g.offsets if o not in inner_set),
                     key=lambda o: (max(abs(o[0]) - 1, 0) ** 2 + max(abs(o[1]) - 1, 0) ** 2, o))
    table = np.stack([g.neighbour(cells, dx, dy) for dx, dy in offsets], axis=1)
    # upper bound: a cell whose whole neighbourhood weighs less than min_samples has no core point
    upper = block[cells] + np.where(table >= 0, cell_w[np.clip(table, 0, None)], 0).sum(axis=1)
    possible = (upper >= min_samples)[qslot]
    todo, qcell_all, table = todo[possible], qcell_all[possible], table[qslot[possible]]
    if len(todo) == 0:
        return core
    total = block[qcell_all].copy()                  # the 3x3 block: wholly within eps
    pq = xy[todo]
    partial = np.zeros(table.shape, dtype=bool)
    far_margin = eps2 * (1.0 - 1e-9)
    for k in range(len(offsets)):
        nb = table[:, k]
        has = nb >= 0
        if not has.any():
            continue
        rows = np.flatnonzero(has)
        lo, hi = g.rect(nb[rows])
        far = np.maximum(np.abs(pq[rows] - lo), np.abs(pq[rows] - hi))
        whole = (far ** 2).sum(axis=1) <= far_margin
        gap = np.maximum(np.maximum(lo - pq[rows], pq[rows] - hi), 0.0)
        reach = (gap ** 2).sum(axis=1) <= eps2
        total[rows[whole]] += cell_w[nb[rows[whole]]]
        partial[rows[~whole & reach], k] = True
    active = total < min_samples
    for k in range(len(offsets)):
        rows = np.flatnonzero(active & partial[:, k])
        if len(rows) == 0:
            continue
        for rq, cand in _pairs(rows, table[rows, k], g.start, g.count, g.order):
            d = pq[rq] - xy[cand]
            hit = (d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]) <= eps2
            total += np.bincount(rq[hit], weights=w[cand[hit]], minlength=len(todo))
        active &= total < min_samples
    core[todo] = total >= min_samples
    return core


def _extremes(values: np.ndarray, cells: np.ndarray, ncells: int) -> np.ndarray:
    """Index (into `values`) of the maximum of `values` within each cell (-1 for empty cells).
    `cells` must be sorted."""
    out = np.full(ncells, -1, dtype=np.int64)
    if len(values) == 0:
        return out
    new = np.ones(len(cells), dtype=bool)
    new[1:] = cells[1:] != cells[:-1]
    starts = np.flatnonzero(new)
    mx = np.maximum.reduceat(values, starts)
    sizes = np.diff(np.append(starts, len(values)))
    hit = np.flatnonzero(values == np.repeat(mx, sizes))
    hc = cells[hit]
    first = np.ones(len(hit), dtype=bool)
    first[1:] = hc[1:] != hc[:-1]
    out[hc[first]] = hit[first]
    return out


_OPPOSITE = {0: 1, 1: 0, 2: 3, 3: 2, 4: 7, 5: 6, 6: 5, 7: 4}
_DIRS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]


def _grid_components(xy: np.ndarray, core: np.ndarray, eps: float, g: _Grid) -> np.ndarray:
    """Cluster number of each core point (-1 for non-core): connected components of core cells
    linked when some pair of their core points is within eps.

    Cell pairs are visited offset by offset, nearest offsets first; a pair already in one
    component is skipped. A pair is linked at once when one of the extreme core points of each
    cell facing the other (3 directions each) are within eps; otherwise every core point of one
    cell near the other cell is compared with every core point of the other (exact)."""
    eps2 = eps * eps
    ncell = len(g.keys)
    core_sorted = core[g.order]
    cidx = g.order[core_sorted]                       # core points, grouped by cell
    ccell = g.cell_of[cidx]                           # sorted
    core_cells = ccell[np.r_[True, ccell[1:] != ccell[:-1]]] if len(ccell) else ccell
    cx, cy = xy[cidx, 0], xy[cidx, 1]
    ext = np.stack([_extremes(dx * cx + dy * cy if dx and dy else (dx * cx if dx else dy * cy),
                              ccell, ncell) for dx, dy in _DIRS], axis=1)
    ext = np.where(ext >= 0, cidx[np.clip(ext, 0, None)], -1)   # point index per (cell, dir)
    dirs = np.array(_DIRS, float) / np.linalg.norm(np.array(_DIRS, float), axis=1)[:, None]
    core_count = np.bincount(ccell, minlength=ncell)
    core_start = np.zeros(ncell, dtype=np.int64)
    core_start[1:] = np.cumsum(core_count)[:-1]
    corder = np.arange(len(cidx))
    rows, cols = [core_cells], [core_cells]
    comp = np.arange(ncell)
    half = [(dx, dy) for dx, dy in g.offsets if (dx, dy) > (0, 0)]
    half.sort(key=lambda o: (max(abs(o[0]) - 1, 0) ** 2 + max(abs(o[1]) - 1, 0) ** 2, o))
    # cells in one 3x3 block: every pair of their points is within eps, so link them untested
    inner = [o for o in half if max(abs(o[0]), abs(o[1])) <= g.reach - 1]
    for dx, dy in inner:
        nb = g.neighbour(core_cells, dx, dy)
        ok = nb >= 0
        ok[ok] = core_count[nb[ok]] > 0
        rows.append(core_cells[ok]), cols.append(nb[ok])
    graph = coo_matrix((np.ones(sum(len(r) for r in rows)),
                        (np.concatenate(rows), np.concatenate(cols))), shape=(ncell, ncell)).tocsr()
    _, comp = connected_components(graph, directed=False)
    for dx, dy in [o for o in half if o not in inner]:
        nb = g.neighbour(core_cells, dx, dy)
        ok = nb >= 0
        a, b = core_cells[ok], nb[ok]
        ok = (core_count[b] > 0) & (comp[a] != comp[b])
        a, b = a[ok], b[ok]
        if len(a) == 0:
            continue
        u = np.array([dx, dy], float) / math.hypot(dx, dy)
        facing = np.argsort(-(dirs @ u), kind="stable")[:3]
        linked = np.zeros(len(a), dtype=bool)
        for ka in facing:
            for kb in facing:
                todo = np.flatnonzero(~linked)
                if len(todo) == 0:
                    break
                d = xy[ext[a[todo], ka]] - xy[ext[b[todo], _OPPOSITE[kb]]]
                linked[todo[(d[:, 0] ** 2 + d[:, 1] ** 2) <= eps2]] = True
        rest = np.flatnonzero(~linked)
        if len(rest):
            ra, rb = a[rest], b[rest]
            qa = np.repeat(np.arange(len(ra)), core_count[ra])
            offs = np.arange(len(qa)) - np.repeat(np.cumsum(core_count[ra]) - core_count[ra],
                                                  core_count[ra])
            qpts = cidx[np.repeat(core_start[ra], core_count[ra]) + offs]
            qb = rb[qa]
            # only core points of cell a within eps of cell b's square can link to it
            lo, hi = g.rect(qb)
            gap = np.maximum(np.maximum(lo - xy[qpts], xy[qpts] - hi), 0.0)
            near = (gap ** 2).sum(axis=1) <= eps2
            qa, qpts, qb = qa[near], qpts[near], qb[near]
            found = np.zeros(len(ra), dtype=bool)
            for rq, cand in _pairs(np.arange(len(qpts)), qb, core_start, core_count, corder):
                d = xy[qpts[rq]] - xy[cidx[cand]]
                hit = (d[:, 0] ** 2 + d[:, 1] ** 2) <= eps2
                found[qa[rq[hit]]] = True
            linked[rest[found]] = True
        if linked.any():   # merge the linked components (a small graph over components)
            m = int(comp.max()) + 1
            merge = coo_matrix((np.ones(int(linked.sum())), (comp[a[linked]], comp[b[linked]])),
                               shape=(m, m)).tocsr()
            comp = connected_components(merge, directed=False)[1][comp]
    labels = np.full(len(xy), NOISE, dtype=np.int64)
    labels[cidx] = comp[ccell]
    return labels


def _assign_borders(xy: np.ndarray, core: np.ndarray, labels: np.ndarray, eps: float,
                    g: _Grid | None = None) -> np.ndarray:
    """Give each non-core point within eps of a core point the label of its nearest core point
    (exact distance ties: whichever the k-d tree returns)."""
    labels = labels.copy()
    labels[~core] = NOISE
    todo = np.flatnonzero(~core)
    if len(todo) == 0 or not core.any():
        return labels
    if g is None:
        cores = np.flatnonzero(core)
    else:   # only core points in cells near a non-core point can be its nearest core point
        cells = np.unique(g.cell_of[todo])
        near = np.unique(np.concatenate([g.neighbour(cells, dx, dy) for dx, dy in g.offsets]))
        near = near[near >= 0]
        cores = np.flatnonzero(core & np.isin(g.cell_of, near))
    tree = cKDTree(xy[cores])
    dist, pos = tree.query(xy[todo], k=1, distance_upper_bound=eps * (1 + 1e-9))
    ok = np.isfinite(dist)
    d = xy[todo[ok]] - xy[cores[pos[ok]]]
    ok2 = (d[:, 0] ** 2 + d[:, 1] ** 2) <= eps * eps
    idx = np.flatnonzero(ok)[ok2]
    labels[todo[idx]] = labels[cores[pos[idx]]]
    return labels


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
        ``auto`` is ``grid``. See the module docstring.
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
        uxy, uw, inverse = collapse(xy, w)
    else:
        uxy, uw, inverse = xy, w, np.arange(n)
    if method == "sklearn":
        from sklearn.cluster import DBSCAN

        model = DBSCAN(eps=eps_m, min_samples=min_samples).fit(uxy, sample_weight=uw)
        core = np.zeros(len(uxy), dtype=bool)
        core[model.core_sample_indices_] = True
        labels = np.where(core, model.labels_, NOISE)
    else:
        g = _Grid(uxy, eps_m)
        core = _grid_core(uxy, uw, eps_m, min_samples, g)
        labels = _grid_components(uxy, core, eps_m, g) if core.any() else np.full(len(uxy), NOISE)
    labels = _assign_borders(uxy, core, labels, eps_m, g if method != "sklearn" else None)
    return _renumber(labels[inverse]), core[inverse]


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
    uxy, uw, inverse, uday = collapse(xy, w, np.asarray(day, dtype=float))
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
    incidents : GeoDataFrame
        The selected incidents (a copy) with ``cluster_id`` (rank of the patrol area, -1 noise)
        and ``core`` (bool) columns.
    areas : GeoDataFrame
        Ranked patrol areas (see `patrol_areas`), one row per cluster.
    parameters : dict
        The parameters used (JSON-ready).
    message : str | None
        When no cluster was found: which parameter to change.
    warnings : list of str
    """

    incidents: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    parameters: dict
    message: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def n_incidents(self) -> int:
        return int(len(self.incidents))

    @property
    def n_noise(self) -> int:
        return int((self.incidents["cluster_id"] == NOISE).sum())

    def to_dict(self) -> dict:
        """The CLI's JSON document (design §5)."""
        return {
            "parameters": self.parameters,
            "n_incidents": self.n_incidents,
            "n_noise": self.n_noise,
            "clusters": [
                {
                    "cluster_id": int(r.cluster_id),
                    "count": int(r.count),
                    "area_m2": round(float(r.area_m2), 1),
                    "density_per_km2": round(float(r.density_per_km2), 1),
                    "first_month": r.first_month,
                    "last_month": r.last_month,
                    "top_categories": json.loads(r.top_categories),
                    "rank": int(r.rank),
                }
                for r in self.areas.itertuples(index=False)
            ],
        }


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


def dbscan(
    incidents: gpd.GeoDataFrame,
    eps_m: float = settings.EPS_M,
    min_samples: int = settings.MIN_SAMPLES,
    *,
    category: str | Sequence[str] | None = None,
    period=None,
    days: float | None = None,
    weight: bool = False,
    method: str = "auto",
) -> Clusters:
    """Find clusters of incidents and turn them into ranked patrol areas.

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700). Not modified.
    eps_m : float
        Neighbourhood radius in metres (> 0); default `settings.EPS_M`.
    min_samples : int
        Incidents (weighted when `weight`) within `eps_m`, self included, that make a core
        incident (>= 1); default `settings.MIN_SAMPLES`.
    category : str or list of str, optional
        Categories, taxonomy nodes or named groups (``asb``, ``deliberate-secondary-fires``...).
    period : optional
        ``"YYYY-MM..YYYY-MM"``, ``(from, to)`` or a list of months (inclusive).
    days : float, optional
        Space–time mode: neighbours must also be within `days` days. Needs ``occurred``;
        incidents with only a month are placed on the 15th (with a warning).
    weight : bool
        Use the ``weight`` column (harm, cost) as DBSCAN's sample weight.
    method : {"auto", "grid", "sklearn", "hdbscan"}

    Returns
    -------
    Clusters
    """
    validate_params(eps_m=eps_m, min_samples=min_samples, days=days, method=method)
    if days is not None and method == "hdbscan":
        raise InputError("space-time mode (days) is not available with method 'hdbscan'",
                         parameter="days")
    sel = select(incidents, category, period)
    xy = coordinates(sel)
    w = sel["weight"].to_numpy(dtype=float) if weight else None
    if weight and (not np.isfinite(w).all() or (w < 0).any()):
        bad = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0]) + 1
        raise InputError("weights must be finite and >= 0", row=bad, column="weight")
    notes: list[str] = []
    if len(sel) == 0:
        labels, core = np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    elif method == "hdbscan":
        labels, core = _hdbscan(xy, min_samples)
    elif days is not None:
        day, notes = _day_numbers(sel)
        labels, core = label_space_time(xy, day, eps_m, days, min_samples, w)
    else:
        labels, core = label_points(xy, eps_m, min_samples, w, method=method)
    months = parse_period(period)
    parameters = {
        "eps_m": float(eps_m),
        "min_samples": int(min_samples),
        "category": None if category is None else ([category] if isinstance(category, str) else list(category)),
        "from": months[0] if months else None,
        "to": months[-1] if months else None,
        "days": None if days is None else float(days),
        "weight": bool(weight),
        "method": "grid" if method == "auto" else method,
    }
    areas, rank_of = _patrol_areas(sel, xy, labels, eps_m, weight)
    out = sel.copy()
    cid = np.full(len(labels), NOISE, dtype=np.int64)
    cid[labels >= 0] = rank_of[labels[labels >= 0]]
    out["cluster_id"] = cid
    out["core"] = core
    message = None if len(areas) else no_cluster_message(eps_m, min_samples, len(sel))
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return Clusters(out, areas, parameters, message, notes)


def _hdbscan(xy: np.ndarray, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import HDBSCAN

    size = max(int(min_samples), 2)
    if len(xy) < size:
        return np.full(len(xy), NOISE), np.zeros(len(xy), dtype=bool)
    model = HDBSCAN(min_cluster_size=size, min_samples=size, copy=True).fit(xy)
    labels = _renumber(model.labels_)
    return labels, labels >= 0


# --------------------------------------------------------------------------- patrol areas
AREA_COLUMNS = [
    "area_id", "name", "layer", "population", "cluster_id", "rank", "count", "weighted_count",
    "locations", "area_m2", "density_per_km2", "first_month", "last_month", "top_categories",
    "peak_months", "peak_hours", "peak_weekdays", "description", "geometry",
]


def _top(values: pd.Series, k: int, names: list[str] | None = None) -> str | None:
    """'Mar, Jul, Aug': the k most frequent values (ties by value order)."""
    if values.empty:
        return None
    vc = values.value_counts()
    vc = vc.sort_index(kind="stable").sort_values(ascending=False, kind="stable").head(k)
    return ", ".join(names[int(v)] if names else str(v) for v in vc.index)


def polygon(member_xy: np.ndarray, eps_m: float):
    """Patrol polygon of a cluster's distinct member locations: concave hull (ratio 0.3)
    buffered by eps_m/2 (a circle of radius eps_m/2 for one location)."""
    pts = np.unique(np.asarray(member_xy, dtype=float), axis=0)
    if len(pts) == 1:
        return shapely.Point(pts[0]).buffer(eps_m / 2.0, quad_segs=16)
    hull = shapely.concave_hull(shapely.MultiPoint(pts), ratio=CONCAVE_RATIO)
    return hull.buffer(eps_m / 2.0, quad_segs=8)


def _patrol_areas(sel: gpd.GeoDataFrame, xy: np.ndarray, labels: np.ndarray, eps_m: float,
                  weight: bool) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    nclu = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    if nclu == 0:
        empty = gpd.GeoDataFrame({c: [] for c in AREA_COLUMNS if c != "geometry"},
                                 geometry=gpd.GeoSeries([], crs=settings.CRS), crs=settings.CRS)
        return empty, np.empty(0, dtype=np.int64)
    members = labels >= 0
    lab = labels[members]
    mxy = xy[members]
    order = np.lexsort((mxy[:, 1], mxy[:, 0], lab))
    lab_s, xy_s = lab[order], mxy[order]
    bounds = np.searchsorted(lab_s, np.arange(nclu + 1))
    geoms, lowest = [], []
    for k in range(nclu):
        pts = xy_s[bounds[k]:bounds[k + 1]]
        geoms.append(polygon(pts, eps_m))
        lowest.append(tuple(pts[0]))
    geoms = np.asarray(geoms, dtype=object)
    area = shapely.area(geoms)
    dfm = sel.loc[members, ["month", "category", "weight"]].copy()
    dfm["label"] = lab
    count = np.bincount(lab, minlength=nclu)
    wcount = np.bincount(lab, weights=dfm["weight"].to_numpy(dtype=float), minlength=nclu)
    locations = np.array([len(np.unique(xy_s[bounds[k]:bounds[k + 1]], axis=0)) for k in range(nclu)])
    density = count / (area / 1e6)
    # rank: count desc, density desc, lowest member coordinate asc (stable ids)
    keys = sorted(range(nclu), key=lambda k: (-count[k], -density[k], lowest[k]))
    rank_of = np.empty(nclu, dtype=np.int64)
    rank_of[keys] = np.arange(1, nclu + 1)
    grouped = dfm.groupby("label", sort=True)
    first = grouped["month"].min()
    last = grouped["month"].max()
    occurred = pd.to_datetime(sel.loc[members, "occurred"]) if "occurred" in sel else None
    has_time = occurred is not None and occurred.notna().any() and (
        occurred.dropna().dt.hour.ne(0) | occurred.dropna().dt.minute.ne(0)).any()
    rows = []
    for k in keys:
        sub = dfm[dfm["label"] == k]
        vc = sub["category"].astype(str).value_counts()
        vc = vc.sort_index(kind="stable").sort_values(ascending=False, kind="stable").head(3)
        top = {str(c): int(v) for c, v in vc.items()}
        moy = sub["month"].astype(str).str[5:7].astype(int) - 1
        peak_hours = peak_days = None
        if has_time:
            occ = occurred[sub.index].dropna()
            peak_hours = _top(occ.dt.hour.map(lambda h: f"{h:02d}:00"), 3)
            peak_days = _top(occ.dt.day_of_week, 3, WEEKDAY_NAMES)
        r = int(rank_of[k])
        name = f"Patrol area {r}"
        top_text = ", ".join(f"{c} ({v})" for c, v in top.items())
        desc = (f"{count[k]} incidents, {first[k]} to {last[k]}; {top_text}; "
                f"peak months {_top(moy, 3, MONTH_NAMES)}")
        if peak_hours:
            desc += f"; peak hours {peak_hours}; peak days {peak_days}"
        rows.append({
            "area_id": f"patrol-{r}", "name": name, "layer": "patrol", "population": np.nan,
            "cluster_id": r, "rank": r, "count": int(count[k]), "weighted_count": float(wcount[k]),
            "locations": int(locations[k]), "area_m2": float(area[k]),
            "density_per_km2": float(density[k]), "first_month": str(first[k]),
            "last_month": str(last[k]), "top_categories": json.dumps(top),
            "peak_months": _top(moy, 3, MONTH_NAMES), "peak_hours": peak_hours,
            "peak_weekdays": peak_days, "description": desc, "geometry": geoms[k],
        })
    areas = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.CRS)[AREA_COLUMNS]
    return areas, rank_of


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
    uxy, uw, _ = collapse(xy)
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


# --------------------------------------------------------------------------- exports
def export(areas: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write patrol areas to .geojson (WGS84, RFC 7946), .gpkg (EPSG:27700, layer
    ``patrol_areas``) or .kml (WGS84; name and description HTML-escaped, for officers'
    devices). Returns the path."""
    path = Path(path)
    driver = EXPORT_FORMATS.get(path.suffix.lower())
    if driver is None:
        raise InputError(f"cannot write '{path.suffix}'; use one of {', '.join(EXPORT_FORMATS)}",
                         parameter="out")
    out = areas.copy()
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if driver == "GPKG":
        out.to_file(path, driver="GPKG", layer="patrol_areas", engine="pyogrio")
    elif driver == "GeoJSON":
        out.to_crs(settings.CRS_WGS84).to_file(path, driver="GeoJSON", engine="pyogrio")
    else:
        kml = gpd.GeoDataFrame(
            {"Name": out["name"].astype(str).map(html.escape),
             "Description": out["description"].astype(str).map(html.escape),
             "rank": out["rank"].astype(int), "count": out["count"].astype(int)},
            geometry=out.geometry.values, crs=out.crs,
        ).to_crs(settings.CRS_WGS84)
        kml.to_file(path, driver="KML", layer="patrol_areas", engine="pyogrio")
    return path
