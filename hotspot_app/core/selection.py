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

from hotspot_app.core import params, periods, settings, taxonomy
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
    """(n, 2) array of x, y in metres; `InputError` for missing or non-point geometry."""
    geoms = incidents.geometry.values
    if len(geoms) and (shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any()):
        row = int(np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))[0]) + 1
        raise InputError("incident has no location", row=row, column="geometry")
    xy = shapely.get_coordinates(geoms)
    if len(xy) != len(incidents):
        raise InputError("incident geometries must all be single points", column="geometry")
    return xy
