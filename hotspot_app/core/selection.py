"""Selecting incidents: by category and period (`select`), the period grammar (`parse_period`),
the coordinates of a selection (`coordinates`) and the one table of parameter constraints
(`validate_params`) that clusters, hotspots and the app check their parameters against.

Moved out of ``clusters`` so that grid hotspots, maps and the app select incidents without
importing the clustering code. ``clusters`` re-exports these names for old callers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from hotspot_app.core import locations, params, periods, settings, taxonomy
from hotspot_app.core.errors import InputError

#: DBSCAN methods (``auto`` picks sklearn or grid by the number of distinct locations).
METHODS = ("auto", "grid", "sklearn", "hdbscan")

# The numeric limits live in `params` (one table for every face); clusters add the methods.
_PARAMETER_CONSTRAINTS: dict[str, tuple] = {**params.CONSTRAINTS, "method": METHODS}
_OPTIONAL = ("days", "top")


def validate_params(**values) -> None:
    """Check parameters against `_PARAMETER_CONSTRAINTS` (the limits of `params` plus the
    DBSCAN methods); raise one `InputError` listing every problem, naming the first bad
    parameter. ``None`` is accepted for optional parameters (``days``, ``top``)."""
    params.validate(_PARAMETER_CONSTRAINTS,
                    **{k: v for k, v in values.items() if not (v is None and k in _OPTIONAL)})


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
    # boolean indexing already copies (pandas >= 3: copy-on-write); no second copy of every row
    return incidents[mask(incidents, category, period)]


def mask(table, category=None, period=None) -> np.ndarray:
    """True for the rows `select` keeps: any table with ``month``, ``category``, ``kind`` and
    ``group`` columns (e.g. one row per distinct combination of them, as the GeoParquet reader
    uses to read only the selected rows)."""
    keep = taxonomy.select(table, category)
    months = parse_period(period)
    if months is not None:
        month = table["month"].astype(str)
        if len(months) == 2 and (months[0] is None or months[1] is None):
            if months[0] is not None:
                keep &= month >= months[0]
            if months[1] is not None:
                keep &= month <= months[1]
        else:
            keep &= month.isin(months)
    return np.asarray(keep, dtype=bool)


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
    """(n, 2) array of x, y in metres; `InputError` for missing or non-point geometry. Rows that
    share Point objects (the ingest makes one per distinct location) are read once per object."""
    geoms = np.asarray(incidents.geometry.values, dtype=object)
    found = locations.factorize_objects(geoms)
    codes, objects = found if found is not None else (None, geoms)
    missing = shapely.is_missing(objects) | shapely.is_empty(objects)
    if missing.any():
        row = int(np.flatnonzero(missing if codes is None else missing[codes])[0]) + 1
        raise InputError("incident has no location", row=row, column="geometry")
    xy = shapely.get_coordinates(objects)
    if len(xy) != len(objects):
        raise InputError("incident geometries must all be single points", column="geometry")
    return xy if codes is None else xy[codes]


class Selection:
    """What a command reads of the incidents: the categories/groups and months (as `select`),
    a bounding box in metres and the columns it uses. A store that can read less (the
    partitioned workspace, PostGIS) pushes it into the read; `apply` is the rule it must match
    on the full table: `store.read(selection)` equals `selection.apply(all incidents)`, row for
    row (docs/design.md §9).

    Parameters
    ----------
    category : str or list of str, optional
        As `select` (``taxonomy.select``); None keeps every category.
    period : optional
        As `parse_period`; None keeps every month.
    bbox : (xmin, ymin, xmax, ymax), optional
        Metres (EPSG:27700); a point on the boundary is inside. None keeps every point.
    columns : list of str, optional
        The columns the caller uses (the geometry always comes); None keeps every column.
    """

    __slots__ = ("category", "period", "bbox", "columns")

    def __init__(self, category=None, period=None, bbox=None, columns=None):
        if isinstance(category, str):
            category = [category]
        self.category = tuple(category) if category else None
        months = parse_period(period)
        self.period = None if months is None else tuple(months)
        if bbox is not None:
            bbox = tuple(float(v) for v in bbox)
            if len(bbox) != 4 or not all(np.isfinite(bbox)) or bbox[0] > bbox[2] or bbox[1] > bbox[3]:
                raise InputError("bbox must be (xmin, ymin, xmax, ymax) in metres with xmin <= xmax "
                                 "and ymin <= ymax", parameter="bbox")
        self.bbox = bbox
        self.columns = None if columns is None else tuple(dict.fromkeys(str(c) for c in columns))

    def __repr__(self) -> str:
        return (f"Selection(category={self.category!r}, period={self.period!r}, bbox={self.bbox!r}, "
                f"columns={self.columns!r})")

    def __eq__(self, other) -> bool:
        return isinstance(other, Selection) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, s) for s in self.__slots__))

    @property
    def everything(self) -> bool:
        """True when nothing is left out (every row, every column)."""
        return self.category is None and self.period is None and self.bbox is None and self.columns is None

    @property
    def rows_everything(self) -> bool:
        """True when every row is kept (columns may still be left out)."""
        return self.category is None and self.period is None and self.bbox is None

    def months(self) -> list[str] | None:
        """The period as `parse_period` gives it (None: every month)."""
        return None if self.period is None else list(self.period)

    def mask(self, incidents) -> np.ndarray:
        """True for the rows the selection keeps (`mask` for category and period; the bbox on
        the points' coordinates, boundary included; a missing point is outside any bbox)."""
        keep = np.array(mask(incidents, self.category, self.months()), dtype=bool) if (self.category or self.period) \
            else np.ones(len(incidents), dtype=bool)
        if self.bbox is not None:
            geoms = np.asarray(incidents.geometry.values, dtype=object)
            x, y = shapely.get_x(geoms), shapely.get_y(geoms)
            x0, y0, x1, y1 = self.bbox
            with np.errstate(invalid="ignore"):
                keep &= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        return keep

    def kept_columns(self, available, geometry: str = "geometry") -> list[str]:
        """The columns returned from a table with `available` columns (in its order; the
        geometry column always)."""
        if self.columns is None:
            return list(available)
        wanted = set(self.columns) | {geometry}
        return [c for c in available if c in wanted]

    def apply(self, incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The selected rows and columns of a full incidents table (a new frame, index 0..n-1):
        the rule every store's pushed-down read returns exactly."""
        _check_incidents(incidents)
        out = incidents if self.rows_everything else incidents[self.mask(incidents)]
        cols = self.kept_columns(out.columns, out.geometry.name)
        if len(cols) != len(out.columns):
            out = out[cols]
        return out.reset_index(drop=True)
