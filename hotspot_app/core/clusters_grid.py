"""The hand-written exact grid DBSCAN: the same core and noise sets and the same partition of
core points as ``sklearn.cluster.DBSCAN`` (tested against it), faster when there are very many
distinct locations (``clusters.label_points(method="auto")`` switches to it above
``settings.GRID_METHOD_MIN_LOCATIONS``; see ``benchmarks/clusters.py``).

How it works: points are bucketed in square cells of side just under ``eps/(2√2)``, so every pair
of points inside one 3×3 block of cells is within ``eps``. A 3×3 block whose weight reaches
``min_samples`` makes the points of its centre cell core without any distance computation; a
cell whose whole 7×7 neighbourhood weighs less holds no core point; the remaining points count
their neighbours cell by cell (cells wholly within ``eps`` count whole, the others point by
point, stopping once ``min_samples`` is reached). Core cells in one 3×3 block are linked
untested; farther pairs of core cells are linked when any pair of their core points is within
``eps`` (tested first on a few extreme points per cell, then exactly for the pairs still in
different components), and clusters are the connected components (``scipy.sparse.csgraph``).
Distances are compared as ``dx² + dy² <= eps²`` like scikit-learn's trees.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

NOISE = -1


def label(xy: np.ndarray, w: np.ndarray, eps: float, min_samples: float):
    """Core mask and core labels (border and noise points -1) of distinct points `xy` with
    weights `w`; also returns the grid, whose `near` narrows the border search."""
    g = _Grid(xy, eps)
    core = _grid_core(xy, w, eps, min_samples, g)
    labels = _grid_components(xy, core, eps, g) if core.any() else np.full(len(xy), NOISE)
    return labels, core, g


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

    def near(self, points: np.ndarray) -> np.ndarray:
        """Mask over the cells: those that can hold a point within eps of one of `points`."""
        cells = np.unique(self.cell_of[points])
        near = np.concatenate([self.neighbour(cells, dx, dy) for dx, dy in self.offsets])
        mask = np.zeros(len(self.keys), dtype=bool)
        mask[near[near >= 0]] = True
        return mask

    def rect(self, cells: np.ndarray):
        lo = self.origin + (self.ij[cells] - self.pad) * self.side
        return lo, lo + self.side


def _coarse_upper(g: _Grid, cell_w: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """For each of `cells`, the weight of the 3x3 coarse cells around it, where a coarse cell is
    3x3 grid cells: 9x9 grid cells in all, which hold every offset of `g` (radius <= 3), so it is
    never less than the cell's neighbourhood weight."""
    if g.pad > 3:  # (the offsets' radius: 3 for reach 2)
        return np.full(len(cells), np.inf)
    ci, cj = g.ij[:, 0] // 3 + 1, g.ij[:, 1] // 3 + 1
    h = int(cj.max()) + 2 if len(cj) else 1
    ckey = ci * h + cj
    ukey, inverse = np.unique(ckey, return_inverse=True)
    uw = np.bincount(inverse, weights=cell_w, minlength=len(ukey))
    mine = ckey[cells]
    out = np.zeros(len(cells))
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            target = mine + dx * h + dy
            pos = np.minimum(np.searchsorted(ukey, target), len(ukey) - 1)
            out += np.where(ukey[pos] == target, uw[pos], 0.0)
    return out


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
    # upper bound: a cell whose whole neighbourhood weighs less than min_samples has no core
    # point. First on a coarse grid (9 lookups a cell: most of a nation's sparse cells go
    # here), then offset by offset for the cells left (no cells x offsets table either way)
    upper = np.zeros(len(cells))
    sub = np.flatnonzero(_coarse_upper(g, cell_w, cells) >= min_samples)
    upper[sub] = block[cells[sub]]
    for dx, dy in offsets:
        nb = g.neighbour(cells[sub], dx, dy)
        upper[sub] += np.where(nb >= 0, cell_w[nb], 0.0)  # (-1 reads the last cell; discarded)
    kept = upper >= min_samples
    possible = kept[qslot]
    todo, qcell_all = todo[possible], qcell_all[possible]
    cells = cells[kept]
    table = np.stack([g.neighbour(cells, dx, dy) for dx, dy in offsets], axis=1)[
        (np.cumsum(kept) - 1)[qslot[possible]]]
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
