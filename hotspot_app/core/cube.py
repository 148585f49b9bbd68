"""The space-time cube: incidents counted per grid cell and month, in one pass.

Emerging hot spots, the backtest and the snap-point stability check all work on the same table:
a fixed grid (``hotspots.make_grid``: whole cells of ``cell_m`` metres over the study area) and
one column per calendar month. Every selected incident is assigned to its cell once (on its
distinct location, as everywhere in the project) and the counts of every (cell, month) are one
``np.bincount``, so a force's three years of ASB make a cube in well under a second.

The study area is the union of `areas` when given, else the convex hull of the selected
incidents (all months of the cube) buffered by one cell (``hotspots.study_area``). Incidents in
no kept cell (possible only with `areas`) are counted in ``n_outside``, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import geopandas as gpd
import numpy as np

from hotspot_app.core import hotspots, locations, periods, selection, settings
from hotspot_app.core.errors import InputError


@dataclass
class Cube:
    """Counts per cell and month.

    Attributes
    ----------
    cells : GeoDataFrame
        The grid (``cell_id``, ``row``, ``col``, ``x``, ``y``, geometry); ``attrs["grid"]``.
    months : list of str
        The cube's months, consecutive, ``YYYY-MM``.
    counts : ndarray (cells, months) of int
    covered : ndarray (months,) of bool
        Whether the data passed in (all categories) have any rows in that month (docs/design.md §5:
        a month without rows is not covered, and its zeros are not zeros).
    n_incidents, n_outside : int
        Selected incidents in the cube's months; those in no kept cell.
    spacing_m : float or None
        Median distance from each distinct location to its nearest other one.
    warnings : list of str
    """

    cells: gpd.GeoDataFrame
    months: list[str]
    counts: np.ndarray
    covered: np.ndarray
    n_incidents: int
    n_outside: int
    spacing_m: float | None
    warnings: list[str] = field(default_factory=list)

    @property
    def cell_m(self) -> float:
        return float(self.cells.attrs["grid"].cell_m)

    def window(self, first: int, last: int) -> np.ndarray:
        """Counts per cell summed over month positions ``first..last`` (inclusive)."""
        return self.counts[:, first:last + 1].sum(axis=1)

    def uncovered(self, first: int, last: int) -> list[str]:
        return [m for m, c in zip(self.months[first:last + 1], self.covered[first:last + 1]) if not c]


def month_positions(incidents, months: Sequence[str]) -> np.ndarray:
    """Position of each incident's month in `months` (-1 for other months)."""
    lookup = {m: i for i, m in enumerate(months)}
    return np.fromiter((lookup.get(m, -1) for m in incidents["month"].astype(str)),
                       dtype=np.int64, count=len(incidents))


def build(
    incidents: gpd.GeoDataFrame,
    months: Sequence[str],
    cell_m: float = settings.CELL_M,
    shape: str = "square",
    *,
    category=None,
    areas: gpd.GeoDataFrame | None = None,
    cells: gpd.GeoDataFrame | None = None,
) -> Cube:
    """Count the incidents of `category` per cell and month over `months` (consecutive).

    `cells` (from an earlier cube or ``hotspots.make_grid``) counts on that grid instead of a
    new one. The input is not modified.
    """
    selection.validate_params(cell_m=cell_m)
    months = list(months)
    if not months:
        raise InputError("no months to count", parameter="period")
    expected = periods.month_range(months[0], months[-1])
    if months != expected:
        raise InputError(f"months must be consecutive from {months[0]} to {months[-1]}",
                         parameter="period")
    present = set(incidents["month"].astype(str).unique()) if len(incidents) else set()
    covered = np.array([m in present for m in months], dtype=bool)
    sel = selection.select(incidents, category, (months[0], months[-1]))
    xy = selection.coordinates(sel)
    loc = locations.distinct(xy)
    if cells is None:
        if len(sel) == 0 and (areas is None or len(areas) == 0):
            raise InputError(f"no incidents of the chosen categories in {months[0]}..{months[-1]}",
                             parameter="category")
        area = hotspots.study_area(sel if areas is None else None, areas, cell_m)
        cells = hotspots.make_grid(area, cell_m, shape)
    pos = hotspots.cell_of_points(cells, xy, loc)   # the project's one rule for "cell of a point"
    t = month_positions(sel, months)
    inside = pos >= 0
    n, T = len(cells), len(months)
    counts = np.bincount(pos[inside] * T + t[inside], minlength=n * T).reshape(n, T)
    spacing = hotspots.location_spacing(loc.xy)
    notes = []
    note = hotspots.cell_warning(cells.attrs["grid"].cell_m, spacing)
    if note:
        notes.append(note)
    if (~inside).any():
        notes.append(f"{int((~inside).sum()):,} incidents lie outside the study area's cells and "
                     "are not counted")
    return Cube(cells, months, counts.astype(np.int64), covered, int(len(sel)),
                int((~inside).sum()), spacing, notes)
