"""Joins of incidents to areas (wards, town centres, micro-hotspots, patrol areas), counts per
area, and the names of areas. Tables and summaries built on these are in `tables` and `summaries`.

Join rule
---------
A point belongs to an area when it *intersects* the polygon, so a point exactly on the edge is
inside. Within one layer each incident is counted **once**: a point on a boundary shared by two
areas (or inside two overlapping areas of the same layer) goes to the area that comes first in
the layer's row order. Different layers are independent: a point counts in its ward and in the
micro-hotspot inside it. Incidents in no area are labelled ``OUTSIDE`` — never dropped.

police.uk locations are snapped to a limited set of map points, so incidents repeat
coordinates heavily; the join runs on the unique coordinates once and maps back (identical
result, several times faster than joining every row). Incidents loaded by the ingest share one
Point object per location, so the distinct objects are found from their identities without
reading every coordinate. When a sample shows the points are mostly distinct the join queries
them directly instead, testing the index's candidates against prepared copies of the polygons
(benchmarks/joins.py).

Names: `display_name` is the one way an area (one or several polygons) is named ('A', 'A and B',
'A, B and C', '<n> areas'); `area_label` the place in a sentence ('Hemlington ward area');
`layer_unit` the plural noun of a layer ('wards'); `new_area_id` the id of an area drawn by hand.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core import locations, settings
from hotspot_app.core.errors import InputError
from hotspot_app.core.measures import (
    is_missing,
    join_names,
)

OUTSIDE = "outside"


def check_crs(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None or not gdf.crs.equals(settings.CRS):
        raise InputError(f"{what} must be in {settings.CRS} (got {gdf.crs})", parameter=what)


def unique_points(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Distinct coordinates and, for each incident, the index of its distinct coordinate.

    Exact (no rounding): coordinates are factorised on their float values.
    """
    xy = shapely.get_coordinates(incidents.geometry.values)
    if len(xy) != len(incidents):
        raise InputError("incident geometries must all be single points", parameter="incidents")
    return _unique_xy(xy)


# Distinct locations are decided in locations.factorize_xy (same hash pass, same size hint).
_unique_xy = locations.factorize_xy


def locate(xy: np.ndarray, areas: gpd.GeoDataFrame, points: np.ndarray | None = None) -> np.ndarray:
    """Row position in `areas` of the area each point falls in (first by row order), -1 if none.

    `points` optionally passes the point geometries of `xy` (saves building them again).
    """
    n = len(xy)
    if n == 0 or len(areas) == 0:
        return np.full(n, -1, dtype=np.int64)
    # geopandas caches the spatial index on the areas frame: repeated joins to the same layer
    # (the app, tables over several windows) build the tree once.
    pts = shapely.points(xy) if points is None else points
    ip, hit = areas.sindex.query(pts, predicate="intersects")
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, ip, hit)
    out[out == np.iinfo(np.int64).max] = -1
    return out


def _locate_many(points: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """`locate` for many (mostly distinct) point geometries, same result: the areas' cached
    index gives the bounding-box candidates, then the exact test runs against prepared copies of
    the polygons (the caller's polygons are left unprepared), which is faster than the index's
    own predicate query when there are many points."""
    n = len(points)
    if n == 0 or len(areas) == 0:
        return np.full(n, -1, dtype=np.int64)
    ip, hit = areas.sindex.query(points)
    polygons = shapely.from_wkb(shapely.to_wkb(np.asarray(areas.geometry.values)))
    shapely.prepare(polygons)
    inside = shapely.intersects(polygons[hit], points[ip])
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, ip[inside], hit[inside])
    out[out == np.iinfo(np.int64).max] = -1
    return out


def _xy_of_points(geoms: np.ndarray) -> np.ndarray | None:
    """(n, 2) coordinates when every geometry is a non-empty 2D/3D point with finite x, y; None
    otherwise (the caller then takes the general path, with its errors)."""
    xy = np.empty((len(geoms), 2), dtype=np.float64)
    try:
        shapely.get_x(geoms, out=xy[:, 0])  # NaN for None and non-point geometries
        shapely.get_y(geoms, out=xy[:, 1])
    except shapely.errors.GEOSException:  # e.g. an empty point
        return None
    return xy if np.isfinite(xy).all() else None


def _all_coordinates(geoms: np.ndarray) -> np.ndarray:
    """Coordinates of every geometry; `InputError` unless there is exactly one per incident."""
    xy = shapely.get_coordinates(geoms)
    if len(xy) != len(geoms):
        raise InputError("incident geometries must all be single points", parameter="incidents")
    return xy


def _labels_by_object(labels: np.ndarray, areas: gpd.GeoDataFrame, codes: np.ndarray,
                      objects: np.ndarray) -> np.ndarray | None:
    """Labels when incidents share Point objects (the ingest makes one Point per distinct
    location; `locations.factorize_objects` found them from their identities without reading
    every coordinate): each distinct coordinate is located once and labels map back. None when
    the distinct objects are not all plain points."""
    xy = _xy_of_points(objects)
    if xy is None:
        return None
    uniq, inverse = _unique_xy(xy)  # different objects may share coordinates
    return labels[locate(uniq, areas)][inverse][codes]


def join(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, field: str = "area_id") -> pd.Series:
    """The area (`field` value, default ``area_id``) of each incident; ``OUTSIDE`` when in none.

    Returns a Series aligned with `incidents`. Neither input is modified.
    """
    check_crs(incidents, "incidents")
    check_crs(areas, "areas")
    if field not in areas.columns:
        raise InputError(f"areas have no column '{field}'", parameter="field")
    if len(incidents) == 0:
        return pd.Series([], index=incidents.index, dtype=object, name=field)
    geoms = np.ascontiguousarray(incidents.geometry.values, dtype=object)
    labels = np.append(np.asarray(areas[field].astype(str).to_numpy(), dtype=object), OUTSIDE)
    values = None
    found = locations.factorize_objects(geoms)  # (its hash table sized from a sample)
    if found is not None:  # repeated Point objects: work per distinct object
        values = _labels_by_object(labels, areas, *found)
    if values is None:
        xy = None
        step = max(1, len(geoms) // 50_000)
        part = _xy_of_points(geoms[::step][:50_000])
        if part is None:  # not all plain points: the general path (and its error)
            xy = _all_coordinates(geoms)
            part = xy[::step][:50_000]
        size, distinct = len(part), len(pd.unique(np.ascontiguousarray(part).view(np.complex128).ravel()))
        if len(geoms) > size and distinct > 0.5 * size:
            # mostly distinct: query the points directly (their coordinates are not needed, only
            # the check that every geometry is one point)
            if xy is None and int(shapely.get_num_coordinates(geoms).sum()) != len(geoms):
                raise InputError("incident geometries must all be single points", parameter="incidents")
            values = labels[_locate_many(geoms, areas)]  # -1 picks the trailing OUTSIDE
        else:
            if xy is None:
                xy = _xy_of_points(geoms)
                if xy is None:
                    xy = _all_coordinates(geoms)
            uniq, inverse = _unique_xy(xy)  # (its hash table sized from a sample)
            values = labels[locate(uniq, areas)][inverse]
    return pd.Series(values, index=incidents.index, dtype=object, name=field, copy=False)


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
    if hit.empty and "area_id" in areas.columns:  # an area_id picks one of several same-named areas
        hit = areas[areas["area_id"].astype(str).str.strip() == str(name).strip()]
    if hit.empty:
        choices = ", ".join(sorted(areas["name"].astype(str).unique())[:40])
        raise InputError(f"no area named '{name}'; areas are: {choices}", parameter="area")
    if "area_id" in hit.columns and hit["area_id"].astype(str).nunique() > 1:
        # never merge different areas that share a name (491 crimes reported against 134)
        ids = hit["area_id"].astype(str)
        layers = hit["layer"].astype(str) if "layer" in hit.columns else pd.Series("", index=hit.index)
        candidates = ", ".join(dict.fromkeys(f"{a} ({n}{', ' + lay if lay else ''})" for a, n, lay
                                             in zip(ids, hit["name"].astype(str), layers)))
        raise InputError(f"{ids.nunique()} different areas are named '{name}'; give the area_id of "
                         f"one: {candidates}", parameter="area")
    return hit


# =========================================================================== area selection
def area_mask(incidents: gpd.GeoDataFrame, area) -> pd.Series:
    """Boolean mask of the incidents in `area`.

    `area` is a boolean mask aligned with `incidents` (used as is), a shapely (multi)polygon, or
    a GeoDataFrame/GeoSeries of polygons (their union: a point in any of them is in the area).
    """
    if isinstance(area, pd.Series) and area.dtype == bool:
        if not area.index.equals(incidents.index):
            raise InputError("area mask is not aligned with the incidents", parameter="area")
        return area
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if area.crs is not None and not area.crs.equals(settings.CRS):
            area = area.to_crs(settings.CRS)
        geoms = area.geometry.values if isinstance(area, gpd.GeoDataFrame) else area.values
        if len(geoms) == 0:
            raise InputError("no area polygons given", parameter="area")
        geometry = shapely.union_all(np.asarray(geoms)) if len(geoms) > 1 else geoms[0]
        return within(incidents, geometry)
    if isinstance(area, shapely.Geometry):
        return within(incidents, area)
    raise InputError("area must be a mask, a polygon or a GeoDataFrame of polygons", parameter="area")


#: How each area layer is named in sentences (plural), e.g. "in just 3 wards".
LAYER_UNITS: dict[str, str] = {"ward": "wards", "town_centre": "town centres",
                               "micro_hotspot": "micro-hotspots", "patrol": "patrol areas"}


def layer_unit(layer: str | None) -> str:
    """The plural noun for areas of `layer` ('wards', 'micro-hotspots'; 'areas' otherwise)."""
    return LAYER_UNITS.get(str(layer), "areas")


def display_name(areas: gpd.GeoDataFrame | gpd.GeoSeries | None, fallback: str | None = None,
                 most: int = 3) -> str:
    """The one way an area (one or several polygons) is named: its distinct names in order,
    'A', 'A and B', 'A, B and C'; more than `most` names read '<n> areas' (or `fallback`, e.g.
    the file's stem, when given); `fallback` (default 'area') when there are no names."""
    names = []
    if isinstance(areas, gpd.GeoDataFrame) and "name" in areas.columns:
        names = list(dict.fromkeys(str(n) for n in areas["name"] if not is_missing(n) and str(n).strip()))
    if not names:
        return fallback or "area"
    if len(names) > most:
        return fallback or f"{len(names)} areas"
    return join_names(names)


def new_area_id(existing, layer: str, tag: str = "drawn") -> str:
    """A fresh area id for an area drawn or added by hand: ``<layer>-<tag>-<k>`` with the
    smallest k above the number of `existing` ids that none of them uses."""
    ids = {str(i) for i in existing}
    k = len(ids) + 1
    while f"{layer}-{tag}-{k}" in ids:
        k += 1
    return f"{layer}-{tag}-{k}"


def area_label(areas: gpd.GeoDataFrame) -> str:
    """Text naming an area in sentences: 'Hemlington ward area' for a ward, else 'X area'."""
    name = display_name(areas)
    layers = set(areas["layer"].astype(str)) if "layer" in areas.columns else set()
    if layers == {"ward"}:
        several = areas["name"].astype(str).nunique() > 1 if "name" in areas.columns else False
        return f"{name} wards area" if several else f"{name} ward area"
    return f"{name} area"




# =========================================================================== choosing a place
#: Columns naming an area's local authority, first found wins (ONS ward files carry LADyyNM).
AUTHORITY_COLUMNS: tuple[str, ...] = ("authority", "local_authority", "lad_name")


def authority_column(areas: gpd.GeoDataFrame | None) -> str | None:
    """The column of `areas` naming each area's local authority (``authority``, ``LAD24NM``,
    ``LAD23NM`` ...), or None."""
    if areas is None:
        return None
    for c in areas.columns:
        low = str(c).lower()
        if low in AUTHORITY_COLUMNS or (low.startswith("lad") and low.endswith("nm")):
            return str(c)
    return None


def parse_within(within) -> list[tuple[str | None, list[str]]]:
    """``FIELD=VALUE[,VALUE...]`` or ``NAME[,NAME...]`` (area names), one string or several, as
    (field or None for the name, values) pairs; `InputError` naming ``within`` when empty."""
    specs = [within] if isinstance(within, str) else list(within or [])
    out: list[tuple[str | None, list[str]]] = []
    for spec in specs:
        text = str(spec).strip()
        field, _, rest = text.partition("=") if "=" in text else (None, "", text)
        values = [v.strip() for v in rest.split(",") if v.strip()]
        if not values or (field is not None and not field.strip()):
            raise InputError(f"'{spec}' names no area: give FIELD=VALUE (e.g. LAD24NM=Hartlepool) "
                             "or area names separated by commas", parameter="within")
        out.append((field.strip() if field is not None else None, values))
    return out


def pick(areas: gpd.GeoDataFrame | None, within) -> gpd.GeoDataFrame:
    """The areas a user chose with `within` (`parse_within`): rows whose FIELD (case-insensitive
    column name) equals one of the values, or whose name is one of the names (case-insensitive);
    several specs must all hold. A copy; `InputError` naming ``within`` with the choices when a
    field or a value is unknown, or when no boundary layer is given."""
    if areas is None or len(areas) == 0:
        raise InputError("choosing a place needs a boundary layer (e.g. --areas wards.geojson)",
                         parameter="within")
    keep = pd.Series(True, index=areas.index)
    for field, values in parse_within(within):
        if field is None:
            column = "name"
        else:
            column = next((c for c in areas.columns if str(c).lower() == field.lower()), None)
            if column is None or column == areas.geometry.name:
                fields = ", ".join(str(c) for c in areas.columns if c != areas.geometry.name)
                raise InputError(f"the boundary layer has no field '{field}' (fields: {fields})",
                                 parameter="within")
        have = areas[column].astype(str).str.strip()
        lookup = {v.lower(): v for v in have.unique()}
        missing = [v for v in values if v.lower() not in lookup]
        if missing:
            choices = ", ".join(sorted(lookup.values())[:40])
            raise InputError(f"no area with {column} '{missing[0]}' (choices: {choices})",
                             parameter="within")
        keep &= have.str.lower().isin([v.lower() for v in values])
    chosen = areas[keep]
    if chosen.empty:
        raise InputError(f"no area matches all of {within!r}", parameter="within")
    return chosen.copy()


def describe_within(within) -> str:
    """'Hartlepool' / 'Victoria and Headland': the chosen place in words."""
    return "; ".join(join_names(values) for _, values in parse_within(within))
