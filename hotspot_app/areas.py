"""Joins of incidents to areas (wards, town centres, micro-hotspots, patrol areas), counts,
rates, partnership tables and summaries.

Join rule
---------
A point belongs to an area when it *intersects* the polygon, so a point exactly on the edge is
inside. Within one layer each incident is counted **once**: a point on a boundary shared by two
areas (or inside two overlapping areas of the same layer) goes to the area that comes first in
the layer's row order. Different layers are independent: a point counts in its ward and in the
micro-hotspot inside it. Incidents in no area are labelled ``OUTSIDE`` — never dropped.

police.uk locations are snapped to a limited set of map points, so incidents repeat
coordinates heavily; the join runs on the unique coordinates once and maps back (identical
result, several times faster than joining every row).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from .errors import InputError

OUTSIDE = "outside"


def _check_crs(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None or not gdf.crs.equals(settings.CRS):
        raise InputError(f"{what} must be in {settings.CRS} (got {gdf.crs})", parameter=what)


def unique_points(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Distinct coordinates and, for each incident, the index of its distinct coordinate.

    Exact (no rounding): coordinates are factorised on their float values.
    """
    xy = shapely.get_coordinates(incidents.geometry.values)
    if len(xy) != len(incidents):
        raise InputError("incident geometries must all be single points", parameter="incidents")
    cx, ux = pd.factorize(xy[:, 0])
    cy, uy = pd.factorize(xy[:, 1])
    key = cx.astype(np.int64) * max(len(uy), 1) + cy
    inverse, uniq_key = pd.factorize(key)
    uniq = np.column_stack([ux[uniq_key // max(len(uy), 1)], uy[uniq_key % max(len(uy), 1)]])
    return uniq, inverse


def locate(xy: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Row position in `areas` of the area each point falls in (first by row order), -1 if none."""
    tree = shapely.STRtree(areas.geometry.values)
    pts, hit = tree.query(shapely.points(xy), predicate="intersects")
    out = np.full(len(xy), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, pts, hit)
    out[out == np.iinfo(np.int64).max] = -1
    return out


def join(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, field: str = "area_id") -> pd.Series:
    """The area (`field` value, default ``area_id``) of each incident; ``OUTSIDE`` when in none.

    Returns a Series aligned with `incidents`. Neither input is modified.
    """
    _check_crs(incidents, "incidents")
    _check_crs(areas, "areas")
    if field not in areas.columns:
        raise InputError(f"areas have no column '{field}'", parameter="field")
    if len(incidents) == 0:
        return pd.Series([], index=incidents.index, dtype=object, name=field)
    uniq, inverse = unique_points(incidents)
    pos = locate(uniq, areas)[inverse]
    labels = np.asarray(areas[field].astype(str).to_numpy(), dtype=object)
    values = np.where(pos >= 0, labels[np.clip(pos, 0, None)], OUTSIDE)
    return pd.Series(values, index=incidents.index, dtype=object, name=field)


def within(incidents: gpd.GeoDataFrame, geometry) -> pd.Series:
    """Boolean mask of incidents intersecting one (multi)polygon (edge counts as inside)."""
    if len(incidents) == 0:
        return pd.Series([], index=incidents.index, dtype=bool)
    uniq, inverse = unique_points(incidents)
    shapely.prepare(geometry)
    inside = shapely.intersects_xy(geometry, uniq[:, 0], uniq[:, 1])
    return pd.Series(inside[inverse], index=incidents.index)


def counts(
    incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, mask: pd.Series | None = None,
) -> pd.DataFrame:
    """Incidents per area: columns area_id, name, count; every area listed (zeros included) and
    a final ``outside`` row, so the counts add up to the number of incidents selected."""
    sel = incidents if mask is None else incidents[mask]
    labels = join(sel, areas)
    per = labels.value_counts()
    out = pd.DataFrame({"area_id": areas["area_id"].astype(str).to_numpy(),
                        "name": areas["name"].astype(str).to_numpy()})
    out["count"] = out["area_id"].map(per).fillna(0).astype(int)
    outside = pd.DataFrame({"area_id": [OUTSIDE], "name": [OUTSIDE], "count": [int(per.get(OUTSIDE, 0))]})
    return pd.concat([out, outside], ignore_index=True)


def find_area(areas: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """The area(s) called `name` (case-insensitive); `InputError` naming the choices otherwise."""
    hit = areas[areas["name"].astype(str).str.strip().str.lower() == str(name).strip().lower()]
    if hit.empty:
        choices = ", ".join(sorted(areas["name"].astype(str).unique())[:40])
        raise InputError(f"no area named '{name}'; areas are: {choices}", parameter="area")
    return hit
