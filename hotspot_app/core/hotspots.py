"""Grid and hex hotspots: counts, kernel density (KDE) and Getis-Ord Gi* per cell.

Everything is in metres on EPSG:27700.

Grids
-----
``square`` cells are ``cell_m`` × ``cell_m``. ``hex`` cells are pointy-top hexagons **of the same
area** as a ``cell_m`` square (side ``cell_m * sqrt(2 / (3 * sqrt(3)))``), so counts on the two
shapes are comparable. The *study area* is the union of the given areas (e.g. wards), or else the
convex hull of the incidents buffered by one cell. Cells that intersect the study area are kept
**whole** (not cut at its edge) so every cell has the same area — Gi* and PAI assume that.
Incidents outside every kept cell (possible only with a given study area) are reported in
``attrs["n_outside"]``, never silently dropped.

Gi* (Getis & Ord 1992/1995)
---------------------------
For cell i with count x_i, binary weights w_ij that include the cell itself (w_ii = 1), n cells,
mean x̄ and S = sqrt(Σx²/n − x̄²)::

    Gi* = (Σ_j w_ij x_j − x̄ W_i) / (S * sqrt((n Σ_j w_ij² − W_i²) / (n − 1))),   W_i = Σ_j w_ij

which is a z-score (the same value as PySAL esda ``G_Local(star=True, transform="B").Zs``; tested).
Neighbours: ``queen`` (squares: the 8 around; hexagons: the 6 around) or a distance band in
metres (cells whose centres are within that distance). p-values are two-sided normal, then
corrected for multiple testing with the **Benjamini–Hochberg false discovery rate** (statsmodels
``multipletests(method="fdr_bh")``); a cell is a ``hot`` (``cold``) spot when its corrected p-value
is below ``alpha`` (default 0.05) and z > 0 (z < 0).

Emerging hot spots over time are `emerging`'s; forecast accuracy (PAI, RRI) is `forecast`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from hotspot_app.core import locations, selection, settings
from hotspot_app.core.errors import InputError

SHAPES = ("square", "hex")
METHODS = ("count", "kde", "gistar")
HEX_SIDE = math.sqrt(2.0 / (3.0 * math.sqrt(3.0)))   # hex side per unit of cell_m (equal area)


def _check(shape: str | None = None, cell_m: float | None = None) -> None:
    if shape is not None and shape not in SHAPES:
        raise InputError(f"shape must be one of {', '.join(SHAPES)} (got {shape!r})", parameter="shape")
    if cell_m is not None:
        selection.validate_params(cell_m=cell_m)


# --------------------------------------------------------------------------- grids
def study_area(incidents: gpd.GeoDataFrame | None = None, areas: gpd.GeoDataFrame | None = None,
               buffer_m: float = settings.CELL_M):
    """The study area polygon: the union of `areas` when given, else the incidents' convex hull
    buffered by `buffer_m`."""
    if areas is not None and len(areas):
        if areas.crs is None or not areas.crs.equals(settings.CRS):
            raise InputError(f"areas must be in {settings.CRS}", parameter="areas")
        return shapely.union_all(areas.geometry.values)
    if incidents is None or len(incidents) == 0:
        raise InputError("no incidents and no areas to define a study area", parameter="incidents")
    uxy = locations.distinct(selection.coordinates(incidents)).xy
    return shapely.MultiPoint(uxy).convex_hull.buffer(buffer_m)


def _hex_geometry(cx: np.ndarray, cy: np.ndarray, a: float) -> np.ndarray:
    angles = np.deg2rad(np.arange(6) * 60 + 30)
    xs = cx[:, None] + a * np.cos(angles)[None, :]
    ys = cy[:, None] + a * np.sin(angles)[None, :]
    return shapely.polygons(np.stack([xs, ys], axis=2))


@dataclass(frozen=True)
class Grid:
    """A square or hex lattice anchored at (x0, y0): cell of a point, centre of a cell."""

    shape: str
    cell_m: float
    x0: float
    y0: float

    @property
    def side(self) -> float:
        return self.cell_m * HEX_SIDE

    def index(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of the cell containing each point."""
        x, y = xy[:, 0] - self.x0, xy[:, 1] - self.y0
        if self.shape == "square":
            return (np.floor(y / self.cell_m).astype(np.int64),
                    np.floor(x / self.cell_m).astype(np.int64))
        a = self.side
        w, h = math.sqrt(3) * a, 3 * a
        # the hex lattice is two rectangular lattices (w x 3a), the second offset by (w/2, 1.5a);
        # a point's hexagon is the nearest centre of either
        i0, j0 = np.round(x / w), np.round(y / h)
        i1, j1 = np.round((x - w / 2) / w), np.round((y - 1.5 * a) / h)
        d0 = (x - i0 * w) ** 2 + (y - j0 * h) ** 2
        d1 = (x - i1 * w - w / 2) ** 2 + (y - j1 * h - 1.5 * a) ** 2
        second = d1 < d0
        row = np.where(second, 2 * j1 + 1, 2 * j0).astype(np.int64)
        col = np.where(second, i1, i0).astype(np.int64)
        return row, col

    def centre(self, row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.shape == "square":
            return self.x0 + (col + 0.5) * self.cell_m, self.y0 + (row + 0.5) * self.cell_m
        a = self.side
        w = math.sqrt(3) * a
        return self.x0 + col * w + (row % 2) * w / 2, self.y0 + row * 1.5 * a

    def polygons(self, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        cx, cy = self.centre(row, col)
        if self.shape == "square":
            h = self.cell_m / 2
            return shapely.box(cx - h, cy - h, cx + h, cy + h)
        return _hex_geometry(cx, cy, self.side)

    def cell_area(self) -> float:
        return self.cell_m ** 2


def make_grid(area, cell_m: float = settings.CELL_M, shape: str = "square") -> gpd.GeoDataFrame:
    """Cells (whole) of a square or hex grid that intersect the polygon `area`.

    Columns: ``cell_id`` ("r<row>c<col>"), ``row``, ``col``, ``x``, ``y`` (centre), geometry.
    The lattice is anchored at the area's lower-left bound rounded down to whole `cell_m`, so the
    same area and cell size always give the same cells. ``attrs["grid"]`` holds the `Grid`.
    """
    _check(shape, cell_m)
    minx, miny, maxx, maxy = shapely.bounds(area)
    x0 = math.floor(minx / cell_m) * cell_m - cell_m
    y0 = math.floor(miny / cell_m) * cell_m - cell_m
    g = Grid(shape, float(cell_m), float(x0), float(y0))
    if shape == "square":
        rows = np.arange(0, int(math.ceil((maxy - y0) / cell_m)) + 2)
        cols = np.arange(0, int(math.ceil((maxx - x0) / cell_m)) + 2)
    else:
        a = g.side
        rows = np.arange(-1, int(math.ceil((maxy - y0) / (1.5 * a))) + 2)
        cols = np.arange(-1, int(math.ceil((maxx - x0) / (math.sqrt(3) * a))) + 2)
    ncell = len(rows) * len(cols)
    if ncell > 20_000_000:
        raise InputError(f"cell_m {cell_m:g} gives {ncell:,} cells; use a larger cell_m",
                         parameter="cell_m")
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    polys = g.polygons(rr, cc)
    shapely.prepare(area)
    keep = shapely.intersects(area, polys)
    rr, cc, polys = rr[keep], cc[keep], polys[keep]
    cx, cy = g.centre(rr, cc)
    out = gpd.GeoDataFrame(
        {"cell_id": [f"r{r}c{c}" for r, c in zip(rr, cc)], "row": rr, "col": cc, "x": cx, "y": cy},
        geometry=polys, crs=settings.CRS)
    out.attrs["grid"] = g
    return out


def cell_of_points(cells: gpd.GeoDataFrame, xy: np.ndarray,
            loc: locations.Locations | None = None) -> np.ndarray:
    """Position in `cells` of the cell each point falls in (-1 outside every kept cell)."""
    g: Grid = cells.attrs["grid"]
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    loc = locations.distinct(xy) if loc is None else loc
    uxy, inverse = loc.xy, loc.inverse
    row, col = g.index(uxy)
    key = pd.MultiIndex.from_arrays([cells["row"].to_numpy(), cells["col"].to_numpy()])
    pos = key.get_indexer(pd.MultiIndex.from_arrays([row, col]))
    return pos[inverse]


def grid_counts(
    incidents: gpd.GeoDataFrame,
    cell_m: float = settings.CELL_M,
    shape: str = "square",
    *,
    areas: gpd.GeoDataFrame | None = None,
    category=None,
    period=None,
    weighted: bool = False,
    cells: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Incidents per grid cell over the study area (zeros included).

    Columns: the grid's, ``count`` and ``weighted_count`` (sum of ``weight``), ``value`` (the
    count, or the weighted count when `weighted`). ``attrs``: ``n_incidents`` (selected),
    ``n_outside`` (selected incidents in no kept cell; counts + outside = selected).
    Pass `cells` (from an earlier call / `make_grid`) to count on the same grid.
    """
    _check(shape, cell_m)
    sel = selection.select(incidents, category, period)
    if cells is None:
        cells = make_grid(study_area(sel if areas is None else None, areas, cell_m), cell_m, shape)
    xy = selection.coordinates(sel)
    loc = locations.distinct(xy)
    pos = cell_of_points(cells, xy, loc)
    inside = pos >= 0
    out = cells.copy()
    out.attrs = dict(cells.attrs)
    out["count"] = np.bincount(pos[inside], minlength=len(cells)).astype(np.int64)
    out["weighted_count"] = np.bincount(pos[inside], weights=sel["weight"].to_numpy(float)[inside],
                                        minlength=len(cells))
    out["value"] = out["weighted_count"] if weighted else out["count"]
    spacing = location_spacing(loc.xy)
    out.attrs.update(n_incidents=int(len(sel)), n_outside=int((~inside).sum()),
                     n_locations=int(len(loc.xy)), spacing_m=spacing,
                     warnings=list(cells.attrs.get("warnings", [])))
    note = cell_warning(cells.attrs["grid"].cell_m, spacing)
    if note and note not in out.attrs["warnings"]:
        out.attrs["warnings"].append(note)
    return out


def _round_up(m: float, step: float = 50.0) -> int:
    return int(math.ceil(m / step) * step)


def location_spacing(uxy: np.ndarray) -> float | None:
    """Median distance (m) from each distinct incident location to its nearest other location:
    the spacing of police.uk's snap points. None with fewer than 2 locations."""
    if len(uxy) < 2:
        return None
    from scipy.spatial import cKDTree  # (0.05 s to import: only where a tree is built)

    d, _ = cKDTree(uxy).query(uxy, k=2)
    return float(np.median(d[:, 1]))


def fitting_cell_m(spacing_m: float | None, minimum: float = 50.0) -> float:
    """The finest cell that is not finer than the incident locations' spacing (the size
    `cell_warning` advises), and never below `minimum`."""
    return float(max(minimum, _round_up(spacing_m))) if spacing_m else float(minimum)


def cell_warning(cell_m: float, spacing_m: float | None) -> str | None:
    """A warning when grid cells are finer than the spacing of the incident locations (each
    occupied cell then holds about one snap point, and a map of cells is a map of snap points)."""
    if spacing_m is None or cell_m >= spacing_m:
        return None
    return (f"grid cells of {cell_m:g} m are finer than the spacing of the incident locations "
            f"(median {spacing_m:,.0f} m to the nearest other location): most occupied cells hold "
            f"a single location; use cells >= {fitting_cell_m(spacing_m, 0):,.0f} m")


#: Gi* flagging more than this share of the cells that hold incidents gets a warning.
HOT_SHARE_WARN = 0.5


def gistar_warning(cells: gpd.GeoDataFrame) -> str | None:
    """A warning when Gi* flags a large share of the occupied cells (more than
    `HOT_SHARE_WARN`, at least 5 cells) or flags cells finer than the locations' spacing:
    "7,293 hot cells around 7,300 incident locations: ... use cells >= X m"."""
    if "hotspot" not in cells.columns or "count" not in cells.columns:
        return None
    hot = int((cells["hotspot"] == "hot").sum())
    occupied = int((cells["count"] > 0).sum())
    g = cells.attrs.get("grid")
    spacing = cells.attrs.get("spacing_m")
    if hot < 5 or g is None:
        return None
    fine = spacing is not None and g.cell_m < spacing
    share = hot / max(occupied, 1)
    if not fine and share <= HOT_SHARE_WARN:
        return None
    suggest = max(2 * g.cell_m, _round_up(2 * spacing) if spacing else 0)
    nloc = cells.attrs.get("n_locations")
    if fine:
        return (f"{hot:,} hot cells around {nloc:,} incident locations: cells of {g.cell_m:g} m are "
                f"finer than the locations' spacing ({spacing:,.0f} m), so Gi* flags single snap "
                f"points and the cells next to them; use cells >= {suggest:,.0f} m")
    return (f"{hot:,} hot cells, {share:.0%} of the {occupied:,} cells with incidents: cells of "
            f"{g.cell_m:g} m are too small for Gi* to pick out hot spots; use cells >= "
            f"{suggest:,.0f} m")


def kde(
    incidents: gpd.GeoDataFrame,
    cell_m: float = settings.CELL_M,
    shape: str = "square",
    *,
    bandwidth_m: float | None = None,
    areas: gpd.GeoDataFrame | None = None,
    category=None,
    period=None,
    weighted: bool = False,
    cells: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Kernel density surface evaluated at cell centres.

    Gaussian kernel (sklearn ``KernelDensity``) with standard deviation `bandwidth_m` metres
    (default: `cell_m`), fitted on the distinct locations weighted by their incident counts (or
    total weights). ``density_per_km2`` is the estimated incidents per km² at the cell centre
    (it integrates to the number of incidents). Columns also include ``count``.
    """
    from sklearn.neighbors import KernelDensity

    bw = float(cell_m if bandwidth_m is None else bandwidth_m)
    selection.validate_params(bandwidth_m=bw)
    out = grid_counts(incidents, cell_m, shape, areas=areas, category=category, period=period,
                      weighted=weighted, cells=cells)
    sel = selection.select(incidents, category, period)
    w = sel["weight"].to_numpy(float) if weighted else None
    uxy, uw = locations.distinct(selection.coordinates(sel), w)[:2]
    if len(uxy) == 0 or uw.sum() <= 0:
        out["density_per_km2"] = 0.0
    else:
        model = KernelDensity(bandwidth=bw, kernel="gaussian", rtol=1e-6).fit(uxy, sample_weight=uw)
        dens = np.exp(model.score_samples(out[["x", "y"]].to_numpy()))
        out["density_per_km2"] = dens * uw.sum() * 1e6
    out.attrs["bandwidth_m"] = bw
    return out


# --------------------------------------------------------------------------- Gi*
def neighbours(cells: gpd.GeoDataFrame, spatial_weights: str | float = "queen") -> sparse.csr_matrix:
    """Binary spatial weights between cells, **including each cell itself** (Gi*).

    ``"queen"``: cells sharing an edge or a corner (squares: up to 8, hexagons: 6); a number:
    cells whose centres are within that many metres.
    """
    weights = spatial_weights
    n = len(cells)
    if isinstance(weights, str):
        if weights != "queen":
            raise InputError(f"spatial_weights must be 'queen' or a distance in metres (got "
                             f"{weights!r})", parameter="spatial_weights")
        g: Grid = cells.attrs["grid"]
        row, col = cells["row"].to_numpy(), cells["col"].to_numpy()
        key = pd.MultiIndex.from_arrays([row, col])
        if g.shape == "square":
            offs = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
            pairs = [(np.full(n, dr), np.full(n, dc)) for dr, dc in offs]
        else:
            odd = row % 2
            pairs = [(np.zeros(n, int), np.full(n, -1)), (np.zeros(n, int), np.full(n, 1))]
            for dr in (-1, 1):
                pairs.append((np.full(n, dr), odd - 1))     # even rows: c-1, c; odd rows: c, c+1
                pairs.append((np.full(n, dr), odd))
        ii, jj = [np.arange(n)], [np.arange(n)]
        for dr, dc in pairs:
            j = key.get_indexer(pd.MultiIndex.from_arrays([row + dr, col + dc]))
            ok = j >= 0
            ii.append(np.flatnonzero(ok)), jj.append(j[ok])
        i, j = np.concatenate(ii), np.concatenate(jj)
    else:
        d = float(weights)
        if not d > 0:
            raise InputError("distance band must be > 0 metres", parameter="spatial_weights")
        pts = cells[["x", "y"]].to_numpy()
        from scipy.spatial import cKDTree  # (0.05 s to import: only where a tree is built)

        p = cKDTree(pts).query_pairs(d * (1 + 1e-9), output_type="ndarray")
        i = np.concatenate([np.arange(n), p[:, 0], p[:, 1]])
        j = np.concatenate([np.arange(n), p[:, 1], p[:, 0]])
    return sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))


def gi_star_z(values: np.ndarray, W: sparse.spmatrix) -> np.ndarray:
    """Getis-Ord Gi* z-scores of `values` with weights `W` (self included). Constant values
    give z = 0."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return np.zeros(n)
    xbar = x.mean()
    s = math.sqrt(max((x ** 2).mean() - xbar ** 2, 0.0))
    wi = np.asarray(W.sum(axis=1)).ravel()
    w2 = np.asarray(W.multiply(W).sum(axis=1)).ravel()
    num = W @ x - xbar * wi
    den = s * np.sqrt(np.maximum(n * w2 - wi ** 2, 0.0) / (n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(den > 0, num / den, 0.0)
    return z


def gistar(
    cells: gpd.GeoDataFrame,
    value: str = "value",
    *,
    spatial_weights: str | float = "queen",
    alpha: float = 0.05,
    correction: str = "fdr_bh",
) -> gpd.GeoDataFrame:
    """Gi* hot and cold spots of a cell table (from `grid_counts`).

    Adds ``gi_z`` (z-score), ``gi_p`` (two-sided normal p), ``gi_p_adj`` (corrected with
    statsmodels ``multipletests(method=correction)``, default Benjamini–Hochberg FDR; ``"holm"``
    also accepted) and ``hotspot`` (``hot`` / ``cold`` / ``not significant`` at `alpha`).
    `spatial_weights`: ``"queen"`` or a distance band in metres (`neighbours`). A warning
    (``attrs["warnings"]``) says when Gi* flags so large a share of the occupied cells that the
    cells are too small (`gistar_warning`).
    """
    from scipy import stats  # here, not at the top: importing it costs the app's first paint ~0.5 s
    from statsmodels.stats.multitest import multipletests

    if not 0 < alpha < 1:
        raise InputError("alpha must be between 0 and 1", parameter="alpha")
    if value not in cells.columns:
        raise InputError(f"cells have no column '{value}'", parameter="value")
    out = cells.copy()
    out.attrs = dict(cells.attrs)
    z = gi_star_z(out[value].to_numpy(float), neighbours(out, spatial_weights))
    p = 2 * stats.norm.sf(np.abs(z))
    p_adj = multipletests(p, alpha=alpha, method=correction)[1] if len(p) else p
    out["gi_z"], out["gi_p"], out["gi_p_adj"] = z, p, p_adj
    sig = p_adj < alpha
    out["hotspot"] = np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "not significant"))
    out.attrs.update(spatial_weights=spatial_weights, alpha=alpha, correction=correction)
    note = gistar_warning(out)
    if note:
        out.attrs["warnings"] = [*out.attrs.get("warnings", []), note]
    return out


def hotspot_grid(
    incidents: gpd.GeoDataFrame,
    cell_m: float = settings.CELL_M,
    method: str = "count",
    shape: str = "square",
    **kwargs,
) -> gpd.GeoDataFrame:
    """One call for the CLI/app: ``count`` (`grid_counts`), ``kde`` or ``gistar`` (counts then
    `gistar`). `kwargs` go to the underlying functions (areas, category, period, weighted,
    bandwidth_m, spatial_weights, alpha)."""
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)} (got {method!r})",
                         parameter="method")
    if method == "kde":
        return kde(incidents, cell_m, shape, **kwargs)
    gi = {k: kwargs.pop(k) for k in ("spatial_weights", "alpha", "correction")
          if k in kwargs}
    kwargs.pop("bandwidth_m", None)
    counts = grid_counts(incidents, cell_m, shape, **kwargs)
    return gistar(counts, **gi) if method == "gistar" else counts


_CELL_FIELDS = {
    "count": ["count"],
    "kde": ["count", "density_per_km2"],
    "gistar": ["count", "gi_z", "gi_p", "gi_p_adj", "hotspot"],
}


def cells_to_dict(cells: gpd.GeoDataFrame, method: str = "count") -> dict:
    """JSON-ready document of a cell table: ``{"parameters", "n_incidents", "n_outside",
    "n_cells", "cells": [{"cell_id", "x", "y", "count", ...}]}`` (every cell, zeros included;
    kde adds ``density_per_km2``, gistar ``gi_z``, ``gi_p``, ``gi_p_adj``, ``hotspot``)."""
    g: Grid = cells.attrs["grid"]
    params = {"cell_m": g.cell_m, "shape": g.shape, "method": method}
    if method == "kde":
        params["bandwidth_m"] = cells.attrs.get("bandwidth_m")
    if method == "gistar":
        params.update(weights=cells.attrs.get("spatial_weights"), alpha=cells.attrs.get("alpha"),
                      correction=cells.attrs.get("correction"))
    fields = _CELL_FIELDS[method]
    rows = []
    for r in cells[["cell_id", "x", "y", *fields]].itertuples(index=False):
        d = {"cell_id": r.cell_id, "x": round(float(r.x), 1), "y": round(float(r.y), 1),
             "count": int(r.count)}
        for f in fields[1:]:
            v = getattr(r, f)
            d[f] = v if isinstance(v, str) else float(v)
        rows.append(d)
    return {"parameters": params, "n_incidents": int(cells.attrs.get("n_incidents", 0)),
            "n_outside": int(cells.attrs.get("n_outside", 0)), "n_cells": len(cells),
            "cells": rows}


