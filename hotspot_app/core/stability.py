"""Snap-point sensitivity: do the top patrol areas and hot cells survive police.uk's anonymisation?

police.uk moves every incident to one of a fixed set of map points (the centre of a street or a
public place near it). The true place lies somewhere around its snap point, so a ranking built on
snap points is one draw of many possible. This module moves each incident at random within an
anonymisation radius of its snap point, recomputes the ranking, repeats (`draws` times, seeded),
and reports for each item of the original ranking the **stability share**: the share of draws
in which it is still in the top.

Displacement
------------
Each incident independently, uniformly over a disc around its snap point. The disc's radius is
`radius_m` when given, else (``"auto"``) half the distance from the snap point to its nearest
other snap point (the true place is nearer its own map point than any other, the rule that
makes a point a snap point), capped at `max_radius_m` (default 150 m). police.uk does not
publish the radius; the assumption is named in the result.

What is ranked
--------------
* **patrol areas**: DBSCAN (``clusters.label_points``) with the app's preset (street-level by
  default) and the project's patrol areas (``cluster_areas.build``: ranked by incidents, then
  density). An original top-`top` area is *kept* in a draw when one of the draw's top-`top`
  areas covers at least `overlap` (default half) of its polygon.
* **hot cells**: incidents per ``cell_m`` grid cell; the original top-`top_cells` cells (ties
  by cell order) are *kept* when they are again among the draw's top `top_cells` cells.

A share of 1.0 means the item was in the top in every draw: the anonymisation cannot have put
it there. A low share means its place in the ranking rests on where police.uk happened to put
the points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspot_app.core import cluster_areas, clusters, hotspots, locations, patrol, selection, settings
from hotspot_app.core.errors import InputError

DRAWS = 20
MAX_RADIUS_M = 150.0


@dataclass
class Stability:
    """Result of `snap_stability`.

    Attributes
    ----------
    patrol : DataFrame
        The original top patrol areas: ``rank``, ``name``, ``count``, ``stability`` (share of
        draws kept), ``median_rank`` (median rank of the draw's area that covers it; None when
        never kept).
    cells : DataFrame
        The original top cells: ``rank``, ``cell_id``, ``x``, ``y``, ``count``, ``stability``.
    parameters : dict
    warnings : list of str
    """

    patrol: pd.DataFrame
    cells: pd.DataFrame
    parameters: dict
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        def rows(df: pd.DataFrame) -> list[dict]:
            out = []
            for rec in df.to_dict("records"):
                out.append({k: (None if isinstance(v, float) and np.isnan(v) else
                                v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
            return out
        return {"parameters": self.parameters, "patrol": rows(self.patrol),
                "cells": rows(self.cells), "warnings": list(self.warnings)}


def radii(uxy: np.ndarray, radius_m: float | str = "auto",
          max_radius_m: float = MAX_RADIUS_M) -> np.ndarray:
    """Displacement radius of each distinct location (module docstring)."""
    if radius_m != "auto":
        return np.full(len(uxy), float(radius_m))
    if len(uxy) < 2:
        return np.full(len(uxy), float(max_radius_m))
    d, _ = cKDTree(uxy).query(uxy, k=2)
    return np.minimum(d[:, 1] / 2.0, max_radius_m)


def displace(xy: np.ndarray, radius: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each point moved uniformly within a disc of its `radius`."""
    r = radius * np.sqrt(rng.random(len(xy)))
    a = rng.random(len(xy)) * 2 * np.pi
    return xy + np.column_stack([r * np.cos(a), r * np.sin(a)])


def _top_cells(counts: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-counts, kind="stable")[:k]


def snap_stability(
    incidents: gpd.GeoDataFrame,
    *,
    category=None,
    period=None,
    top: int = 5,
    top_cells: int | None = None,
    draws: int = DRAWS,
    seed: int = 0,
    radius_m: float | str = "auto",
    max_radius_m: float = MAX_RADIUS_M,
    preset: str | None = None,
    eps_m: float | None = None,
    min_samples: int | None = None,
    cell_m: float = settings.CELL_M,
    overlap: float = 0.5,
) -> Stability:
    """Stability share of the top patrol areas and top cells under snap-point displacement.

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700); not modified.
    top : int
        Patrol areas ranked (default 5).
    top_cells : int, optional
        Cells ranked (default `top`).
    draws : int
        Random displacements (1..1,000), seeded by `seed`.
    radius_m : float or "auto"
        Displacement radius in metres, or "auto" (half the distance to the nearest other snap
        point, at most `max_radius_m`).
    preset, eps_m, min_samples : optional
        DBSCAN parameters (``patrol.cluster_parameters``).
    cell_m : float
        Grid cell size for the hot cells.
    overlap : float
        Share of an original patrol area a draw's area must cover for it to count as kept.
    """
    eps, ms = patrol.cluster_parameters(preset, eps_m, min_samples)
    top_cells = top if top_cells is None else top_cells
    selection.validate_params(eps_m=eps, min_samples=ms, cell_m=cell_m, top=top)
    selection.validate_params(top=top_cells)
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or not 1 <= draws <= 1000:
        raise InputError(f"draws must be a whole number from 1 to 1,000 (got {draws!r})",
                         parameter="draws")
    if radius_m != "auto" and not (isinstance(radius_m, (int, float)) and 0 <= radius_m <= 1000):
        raise InputError(f"radius_m must be 'auto' or 0 to 1,000 m (got {radius_m!r})",
                         parameter="radius_m")
    if not (isinstance(max_radius_m, (int, float)) and 0 < max_radius_m <= 1000):
        raise InputError(f"max_radius_m must be between 0 and 1,000 m (got {max_radius_m!r})",
                         parameter="max_radius_m")
    if not (isinstance(overlap, (int, float)) and 0 < overlap <= 1):
        raise InputError(f"overlap must be between 0 and 1 (got {overlap!r})", parameter="overlap")
    sel = selection.select(incidents, category, period)
    if len(sel) == 0:
        raise InputError("no incidents of the chosen categories and period", parameter="category")
    xy = selection.coordinates(sel)
    loc = locations.distinct(xy)
    rad = radii(loc.xy, radius_m, max_radius_m)[loc.inverse]
    notes = []

    # the original rankings
    labels, _ = clusters.label_points(xy, eps, ms)
    base, _, _ = cluster_areas.build(sel, labels, eps, loc=loc)
    base = base.head(top)
    reach = float(rad.max()) if len(rad) else 0.0
    area = hotspots.study_area(sel, None, cell_m + reach)
    grid = hotspots.make_grid(area, cell_m, "square")
    base_counts = np.bincount(hotspots.cell_of_points(grid, xy, loc), minlength=len(grid))
    k_cells = min(top_cells, int((base_counts > 0).sum()))
    base_cells = _top_cells(base_counts, k_cells)
    if len(base) < top:
        notes.append(f"only {len(base)} patrol area(s) found with eps_m {eps:g} and min_samples "
                     f"{ms}; the stability of those is shown")
    if k_cells < top_cells:
        notes.append(f"only {k_cells} cells hold incidents")

    rng = np.random.default_rng(seed)
    kept = np.zeros(len(base), dtype=np.int64)
    ranks: list[list[int]] = [[] for _ in range(len(base))]
    cell_kept = np.zeros(len(base_cells), dtype=np.int64)
    base_geoms = np.asarray(base.geometry.values)
    base_area = shapely.area(base_geoms)
    for _ in range(draws):
        moved = displace(xy, rad, rng)
        mloc = locations.distinct(moved)
        lab, _ = clusters.label_points(moved, eps, ms)
        if len(base):
            drawn, _, _ = cluster_areas.build(sel, lab, eps, loc=mloc)
            drawn = drawn.head(top)
            if len(drawn):
                inter = shapely.area(shapely.intersection(base_geoms[:, None],
                                                          np.asarray(drawn.geometry.values)[None, :]))
                cover = inter / base_area[:, None]
                ok = cover >= overlap - 1e-12
                for i in np.flatnonzero(ok.any(axis=1)):
                    kept[i] += 1
                    ranks[i].append(int(drawn["rank"].to_numpy()[np.argmax(np.where(ok[i], cover[i], -1))]))
        pos = hotspots.cell_of_points(grid, moved, mloc)
        counts = np.bincount(pos[pos >= 0], minlength=len(grid))
        cell_kept += np.isin(base_cells, _top_cells(counts, k_cells))
    patrol_t = pd.DataFrame({
        "rank": base["rank"].to_numpy(dtype=np.int64), "name": base["name"].to_numpy(dtype=object),
        "count": base["count"].to_numpy(dtype=np.int64), "stability": kept / draws,
        "median_rank": [float(np.median(r)) if r else None for r in ranks],
    })
    cells_t = pd.DataFrame({
        "rank": np.arange(1, len(base_cells) + 1), "cell_id": grid["cell_id"].to_numpy()[base_cells],
        "x": grid["x"].to_numpy()[base_cells], "y": grid["y"].to_numpy()[base_cells],
        "count": base_counts[base_cells].astype(np.int64), "stability": cell_kept / draws,
    })
    params = {"method": "snap points moved uniformly within a disc, rankings recomputed per draw",
              "category": None if category is None else ([category] if isinstance(category, str) else list(category)),
              "draws": int(draws), "seed": int(seed),
              "radius_m": radius_m if radius_m == "auto" else float(radius_m),
              "radius_rule": ("half the distance to the nearest other snap point, at most "
                              f"{max_radius_m:g} m" if radius_m == "auto" else "fixed"),
              "eps_m": float(eps), "min_samples": int(ms), "top": int(top),
              "top_cells": int(top_cells), "cell_m": float(cell_m), "overlap": float(overlap),
              "n_incidents": int(len(sel))}
    return Stability(patrol_t, cells_t, params, notes)
