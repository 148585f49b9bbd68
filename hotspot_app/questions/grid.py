"""Which cells are hot? The grid question (docs/design.md §6 "Gi*", "PAI"): incidents per square
or hex cell, kernel density, or Getis-Ord Gi* hot and cold spots (Benjamini-Hochberg FDR) over
the study area -- the one answer `hotspot grid` and the Hotspots page's grid layer give.

Decided here: the cell size when none is given (`settings.CELL_M`), the study area (the union of
`areas`, e.g. the wards loaded, else the incidents' hull), the KDE bandwidth (the cell size) and
the Gi* significance level (`ALPHA`); the grid's warnings (cells finer than the spacing of the
incident locations, Gi* flagging the cells around every snap point) in one list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

from hotspot_app.core import areas as areas_mod, hotspots, params, settings
from hotspot_app.core.errors import InputError

#: Gi* significance after the false-discovery-rate correction.
ALPHA: float = 0.05
METHODS = hotspots.METHODS
SHAPES = hotspots.SHAPES


@dataclass(frozen=True)
class Grid:
    """The answer: the cells (every cell of the study area, zeros included), the method, and
    every warning."""

    cells: gpd.GeoDataFrame
    method: str
    shape: str
    cell_m: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The `hotspot grid` JSON document (`hotspots.cells_to_dict`)."""
        return hotspots.cells_to_dict(self.cells, self.method)

    def sentence(self) -> str:
        doc_n, out = self.cells.attrs.get("n_incidents", 0), self.cells.attrs.get("n_outside", 0)
        return (f"{len(self.cells):,} {self.shape} cells of {self.cell_m:g} m; {doc_n:,} incidents "
                f"({out:,} outside the study area).")


def grid(incidents: gpd.GeoDataFrame, *, method: str = "count", cell_m: float | None = None,
         shape: str = "square", category=None, period=None, areas: gpd.GeoDataFrame | None = None,
         bandwidth_m: float | None = None, alpha: float | None = None, within=None) -> Grid:
    """Grid counts (``count``), kernel density (``kde``: Gaussian, `bandwidth_m`, default the
    cell size) or Gi* (``gistar``, FDR at `alpha`, default `ALPHA`) of the selected incidents on
    `cell_m` cells (default `settings.CELL_M`) over the union of `areas` (default: the
    incidents' hull). `within` (`areas.pick`, e.g. ``"LAD24NM=Hartlepool"``) makes the chosen
    areas the study area and counts only the incidents inside them."""
    if within:
        chosen = areas_mod.pick(areas, within)
        incidents = incidents[areas_mod.area_mask(incidents, chosen)]
        areas = chosen
    if method not in METHODS:
        raise InputError(f"unknown method '{method}'; use {', '.join(METHODS)}", parameter="method")
    if shape not in SHAPES:
        raise InputError(f"unknown shape '{shape}'; use {' or '.join(SHAPES)}", parameter="shape")
    cell_m = float(settings.CELL_M if cell_m is None else cell_m)
    alpha = ALPHA if alpha is None else alpha
    params.validate(cell_m=cell_m, alpha=alpha,
                    **({"bandwidth_m": bandwidth_m} if bandwidth_m is not None else {}))
    kwargs: dict = {"areas": areas if areas is not None and len(areas) else None,
                    "category": category, "period": period}
    if method == "kde":
        kwargs["bandwidth_m"] = bandwidth_m
    if method == "gistar":
        kwargs["alpha"] = alpha
    cells = hotspots.hotspot_grid(incidents, cell_m, method, shape, **kwargs)
    return Grid(cells, method, shape, cell_m, list(dict.fromkeys(cells.attrs.get("warnings", []))))
