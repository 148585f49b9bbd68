"""What an evaluation compares: the target (an area, a stored intervention, a boundary file or a
drawn polygon), its displacement ring, and the control region by the default policy (design §6:
R the response area, D the ring, C the control, DC the ring round a named control).

target (R, "treated" T)
    The intervention area: an area polygon, or a point buffered by its radius (a CCTV column),
    see `intervention_area`.
buffer (D)
    The displacement ring: the target buffered by ``buffer_m`` metres, minus the target.
control (C)
    A named control area or file, or by default the rest of the containing area layer (e.g. the
    union of the borough's wards) minus the target and its buffer ring; when there is no
    containing layer, every other loaded incident outside the target and its ring. Each
    incident counts in at most one of target, buffer and control (target first, then buffer).
displacement control (DC)
    Only for a named control area: the ring of ``buffer_m`` around it (for the WDD).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import areas as _areas
from hotspot_app.core import settings
from hotspot_app.core.errors import InputError


# --------------------------------------------------------------------------- geometry helpers
def intervention_area(row: Mapping[str, Any] | pd.Series, areas: gpd.GeoDataFrame | None = None
                      ) -> BaseGeometry:
    """The polygon an intervention covers (EPSG:27700).

    A polygon geometry is returned as it is; a point is buffered by ``radius_m`` metres (e.g. a
    CCTV column's viewshed); with no geometry, ``area_id`` is looked up in `areas`.
    """
    geom = row.get("geometry") if hasattr(row, "get") else None
    radius = row.get("radius_m") if hasattr(row, "get") else None
    label = row.get("name") or row.get("intervention_id") or "intervention"
    if geom is not None and not (isinstance(geom, float) and math.isnan(geom)) and not geom.is_empty:
        if geom.geom_type in ("Point", "MultiPoint"):
            if radius is None or pd.isna(radius) or float(radius) <= 0:
                raise InputError(f"intervention '{label}' is a point and needs radius_m > 0",
                                 column="radius_m")
            return geom.buffer(float(radius))
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            return geom
        raise InputError(f"intervention '{label}' has a {geom.geom_type} geometry; use a polygon "
                         "or a point with radius_m", column="geometry")
    area_id = row.get("area_id")
    if area_id is not None and not pd.isna(area_id) and areas is not None:
        hit = areas[areas["area_id"].astype(str) == str(area_id)]
        if not hit.empty:
            return shapely.union_all(hit.geometry.values)
    raise InputError(f"intervention '{label}' has no geometry and its area_id '{area_id}' is not "
                     "among the areas given", column="area_id")


def buffer_ring(target: BaseGeometry, buffer_m: float = settings.BUFFER_M) -> BaseGeometry:
    """The displacement ring: `target` buffered by `buffer_m` metres, minus the target."""
    if buffer_m < 0:
        raise InputError("buffer_m must be >= 0 metres", parameter="buffer_m")
    if buffer_m == 0:
        return shapely.Polygon()
    return target.buffer(buffer_m).difference(target)


def target_and_ring(target: BaseGeometry | gpd.GeoDataFrame, buffer_m: float = settings.BUFFER_M,
                    name: str = "target area") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The target (its polygons merged) and its displacement ring as one-row GeoDataFrames
    (columns name, geometry; EPSG:27700), for maps; the ring frame is empty when buffer_m = 0."""
    geom, _, _ = geometry_of(target, "target")
    ring = buffer_ring(geom, buffer_m)
    area = gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=settings.CRS)
    buf = gpd.GeoDataFrame({"name": [f"{buffer_m:g} m buffer ring"]}, geometry=[ring], crs=settings.CRS)
    return area, buf[~buf.geometry.is_empty]


def geometry_of(value: Any, what: str) -> tuple[BaseGeometry, str | None, str | None]:
    """(polygon, name, layer) from a shapely geometry or a GeoDataFrame/GeoSeries of areas."""
    if isinstance(value, BaseGeometry):
        return value, None, None
    if isinstance(value, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if len(value) == 0:
            raise InputError(f"{what} has no polygons", parameter=what)
        if value.crs is not None and not value.crs.equals(settings.CRS):
            value = value.to_crs(settings.CRS)
        geoms = value.geometry.values if isinstance(value, gpd.GeoDataFrame) else value.values
        name = layer = None
        if isinstance(value, gpd.GeoDataFrame):
            if "name" in value.columns:
                name = _areas.display_name(value)
            if "layer" in value.columns and value["layer"].nunique() == 1:
                layer = str(value["layer"].iloc[0])
        return shapely.union_all(geoms), name, layer
    raise InputError(f"{what} must be a polygon or areas (GeoDataFrame)", parameter=what)


def default_control(
    target: BaseGeometry,
    buffer_m: float = settings.BUFFER_M,
    context: gpd.GeoDataFrame | BaseGeometry | None = None,
    exclude: gpd.GeoDataFrame | BaseGeometry | None = None,
) -> tuple[BaseGeometry | None, str]:
    """The default control region and its description.

    The union of `context` (the containing layer, e.g. the borough's wards) minus the target
    buffered by `buffer_m` (target and ring) and minus `exclude` (other treated areas, with their
    own ring). ``None`` as the region means "everywhere outside the target, its ring and the
    excluded areas" (used when there is no containing layer or it does not contain the target).
    """
    zone = target.buffer(buffer_m) if buffer_m > 0 else target
    if exclude is not None:
        ex, _, _ = geometry_of(exclude, "exclude")
        zone = shapely.union(zone, ex.buffer(buffer_m) if buffer_m > 0 else ex)
    if context is not None:
        region, _, layer = geometry_of(context, "context")
        if not region.is_empty and region.intersection(target).area >= 0.5 * target.area:
            what = (f"the rest of the {layer.replace('_', ' ')} layer" if layer and layer != "custom"
                    else "the rest of the containing areas")
            return region.difference(zone), f"{what} outside the target and its {buffer_m:g} m ring"
    return None, f"all other loaded incidents outside the target and its {buffer_m:g} m ring"


def intervention_place(
    intervention: Mapping[str, Any] | pd.Series, areas: gpd.GeoDataFrame | None = None,
) -> tuple[str, str | None]:
    """(name, layer) to describe an intervention's place in headlines.

    Partnership papers name the place ("the Hemlington micro hotspot"), so when the intervention
    refers to a stored area its area's name and layer are used; otherwise (e.g. a CCTV point with
    a radius) the intervention's own name, as a micro hotspot when the intervention is patrols.
    """
    name = str(intervention.get("name") or intervention.get("intervention_id"))
    layer = "micro_hotspot" if intervention.get("type") == "patrols" else None
    area_id = intervention.get("area_id")
    if areas is not None and area_id is not None and not pd.isna(area_id):
        hit = areas[areas["area_id"].astype(str) == str(area_id)]
        if len(hit):
            name, layer = str(hit["name"].iloc[0]), str(hit["layer"].iloc[0])
    return name, layer
