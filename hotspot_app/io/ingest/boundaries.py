"""Boundary files -> canonical areas (EPSG:27700).

Reads GeoJSON, GeoPackage (the first polygon layer, or the one named like the file) and zipped
Shapefiles with pyogrio. The name field is the one given (case-insensitive), else the first of:
``name``; an ONS-style ``<CODE><yy>NM`` column (``WD24NM``, ``WD13NM``, ``LSOA11NM``, ... but not
the Welsh ``...NMW``), in column order; any column containing ``name``. The id field is the one
given, else the ``...CD`` column that pairs with the name column (``WD24NM`` -> ``WD24CD``), else
the first ``...CD`` column, else generated. Population is read only from a field that is named
(``population_field``) or called ``population``.

Invalid polygons are repaired with shapely ``make_valid`` (keeping only the polygonal parts) and
listed in ``BoundaryResult.repaired`` and in a warning. Features with no geometry are dropped with a
warning naming them; non-polygon features are an error. A file without a CRS is assumed WGS84 when
its coordinates look like degrees, British National Grid when they look like metres (warning
either way). A declared CRS its coordinates contradict is corrected with a warning; features in
degrees mixed with features in metres are refused, naming them; areas outside Great Britain are
named in a warning. Areas sharing a name are kept distinct (their own ``area_id``) and named in a
warning; `areas.find_area` refuses such a name, listing the candidates. A GeoPackage with several
polygon layers needs ``source_layer`` unless one is named like the file.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError

_ONS_NAME = re.compile(r"^[A-Za-z]{2,6}\d{2}NM$", re.I)
_ONS_CODE = re.compile(r"^[A-Za-z]{2,6}\d{2}CD$", re.I)


@dataclass
class BoundaryResult:
    """Areas (schema.AREA_COLUMNS + extra columns), warnings, and the repaired features
    (DataFrame: area_id, name, problem)."""

    areas: gpd.GeoDataFrame
    warnings: list[str] = field(default_factory=list)
    repaired: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["area_id", "name", "problem"]))


BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp", ".kml", ".fgb")


def _open(path: Path, source_layer: str | None = None) -> gpd.GeoDataFrame:
    import pyogrio

    if path.suffix.lower() not in BOUNDARY_SUFFIXES:
        raise InputError(f"not a boundary file: a '{path.suffix}' file holds no polygons; give a "
                         "GeoJSON, GeoPackage or zipped Shapefile", file=path)

    target = str(path)
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                shp = [n for n in zf.namelist() if n.lower().endswith(".shp") and "__MACOSX" not in n]
                gj = [n for n in zf.namelist() if n.lower().endswith((".geojson", ".json", ".gpkg"))]
        except zipfile.BadZipFile as exc:
            raise InputError(f"not a readable zip archive ({exc})", file=path) from exc
        inner = (shp or gj or [None])[0]
        if inner is None:
            raise InputError("zip archive holds no shapefile (.shp), GeoJSON or GeoPackage", file=path)
        target = f"/vsizip/{path}/{inner}"
    layer = None
    try:
        layers = pyogrio.list_layers(target)
        names = [str(name) for name, _ in layers]
        if source_layer is not None:
            if source_layer not in names:
                raise InputError(f"no layer '{source_layer}' (layers: {', '.join(names)})", file=path,
                                 parameter="areas_layer")
            layer = source_layer
        elif len(layers) > 1:
            polys = [name for name, gtype in layers if gtype and "polygon" in str(gtype).lower()]
            same = [name for name in polys if name.lower() == path.stem.lower()]
            if len(polys) > 1 and not same:
                raise InputError(f"holds {len(polys)} polygon layers ({', '.join(polys)}); choose one "
                                 "with --areas-layer NAME", file=path, parameter="areas_layer")
            layer = (same or polys or [layers[0][0]])[0]
        return gpd.read_file(target, layer=layer, engine="pyogrio")
    except InputError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(f"cannot read boundary file: {' '.join(str(exc).split())}", file=path) from exc


def _pick(columns, wanted: str | None, kind: str, file) -> str | None:
    cols = [c for c in columns if c != "geometry"]
    if wanted is not None:
        for c in cols:
            if c.lower() == wanted.lower():
                return c
        raise InputError(f"no {kind} field '{wanted}' (fields: {', '.join(cols)})", file=file, column=wanted)
    return None


def detect_name_field(columns) -> str | None:
    cols = [c for c in columns if c != "geometry"]
    for c in cols:
        if c.lower() == "name":
            return c
    for c in cols:
        if _ONS_NAME.match(c):
            return c
    for c in cols:
        if "name" in c.lower() and not c.lower().endswith("nmw"):
            return c
    return None


def detect_id_field(columns, name_field: str | None) -> str | None:
    cols = [c for c in columns if c != "geometry"]
    if name_field and _ONS_NAME.match(name_field):
        pair = name_field[:-2] + ("CD" if name_field[-2:].isupper() else "cd")
        for c in cols:
            if c.lower() == pair.lower():
                return c
    for c in cols:
        if _ONS_CODE.match(c):
            return c
    for c in cols:
        if c.lower() in ("id", "code", "area_id"):
            return c
    return None


def read_boundaries(path, name_field: str | None = None, layer: str = "custom",
                    population_field: str | None = None, id_field: str | None = None,
                    source_layer: str | None = None) -> BoundaryResult:
    """Read a boundary file into canonical areas; see the module docstring.

    Parameters
    ----------
    path : GeoJSON, GeoPackage or zipped Shapefile.
    name_field, id_field, population_field : field names (case-insensitive); detected when None.
    layer : the areas' layer (ward, town_centre, micro_hotspot, patrol, custom).
    source_layer : the layer to read from a multi-layer GeoPackage; needed when it holds several
        polygon layers and none is named like the file (an `InputError` lists them).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", file=path)
    if layer not in schema.AREA_LAYERS:
        raise InputError(f"unknown layer '{layer}'; use one of {', '.join(schema.AREA_LAYERS)}",
                         parameter="layer")
    gdf = _open(path, source_layer)
    warnings: list[str] = []
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf.columns:
        raise InputError("not a boundary file: it has no geometry", file=path)
    if len(gdf) == 0:
        raise InputError("boundary file has no features", file=path)
    name = _pick(gdf.columns, name_field, "name", path) or detect_name_field(gdf.columns)
    if name is None:
        raise InputError("no name field found; give one with --area-field (fields: "
                         + ", ".join(c for c in gdf.columns if c != "geometry") + ")", file=path,
                         parameter="name_field")
    ident = _pick(gdf.columns, id_field, "id", path) or detect_id_field(gdf.columns, name)
    pop = _pick(gdf.columns, population_field, "population", path)
    if pop is None and population_field is None:
        pop = next((c for c in gdf.columns if c.lower() == "population"), None)

    # geometry: missing, wrong type, invalid
    missing = np.asarray(gdf.geometry.isna() | gdf.geometry.is_empty)
    if missing.any():
        names = ", ".join(gdf.loc[missing, name].astype(str).head(5))
        warnings.append(f"{path.name}: {int(missing.sum())} features without geometry dropped ({names})")
        gdf = gdf.loc[~missing].reset_index(drop=True)
    gtypes = set(gdf.geom_type.unique())
    if not gtypes <= {"Polygon", "MultiPolygon"}:
        raise InputError("boundary file must hold polygons (found " + ", ".join(sorted(gtypes)) + ")",
                         file=path)
    gdf = _check_crs(gdf, name, path, warnings)
    gdf = gdf.to_crs(settings.CRS)  # validate and repair in the working CRS
    outside = ~_inside(np.asarray(gdf.geometry.values, dtype=object), settings.GB_BOUNDS_BNG)
    if outside.any():
        warnings.append(f"{path.name}: {int(outside.sum())} of {len(gdf)} areas lie outside Great Britain "
                        f"({_names(gdf, name, outside)}); incidents cannot fall in them")
    invalid = ~shapely.is_valid(np.asarray(gdf.geometry.values, dtype=object))
    repaired_rows = []
    if invalid.any():
        reasons = shapely.is_valid_reason(np.asarray(gdf.geometry.values, dtype=object)[invalid])
        fixed = [_polygonal(shapely.make_valid(g)) for g in np.asarray(gdf.geometry.values, dtype=object)[invalid]]
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = gpd.GeoSeries(fixed, index=gdf.index[invalid], crs=gdf.crs)
        ids = gdf.loc[invalid, ident].astype(str) if ident else pd.Series(np.nonzero(invalid)[0] + 1).astype(str)
        for i, nm, why in zip(ids, gdf.loc[invalid, name].astype(str), reasons):
            repaired_rows.append({"area_id": i, "name": nm, "problem": str(why)})
        warnings.append(f"{path.name}: {int(invalid.sum())} invalid polygons repaired with make_valid: "
                        + "; ".join(f"{r['area_id']} {r['name']} ({r['problem']})" for r in repaired_rows[:5]))
    areas = schema.make_areas(gdf, name=name, layer=layer, area_id=ident, population=pop)
    dup = areas["name"].str.strip().str.lower().duplicated(keep=False)
    if dup.any():
        warnings.append(_shared_names(areas, dup, name, layer, path))
    if ident and areas["area_id"].duplicated().any():
        warnings.append(f"{path.name}: field {ident} has repeated values; area ids are not unique")
    return BoundaryResult(areas, warnings, pd.DataFrame(repaired_rows, columns=["area_id", "name", "problem"]))


def _shared_names(areas: gpd.GeoDataFrame, dup: pd.Series, name: str, layer: str, path: Path) -> str:
    """The duplicate-name warning in words, said once: how many areas share a name and how they
    are told apart, never a list of codes. Wards of several authorities that share names (an ONS
    ward file of a county) are shown with their authority ('Victoria, Hartlepool')."""
    from hotspot_app.core.areas import authority_column

    n = int(dup.sum())
    noun = ("ward" if layer == "ward" else "area") + ("s" if n != 1 else "")
    auth = authority_column(areas)
    if auth is not None and auth.lower() != name.lower():
        keys = areas.loc[dup, "name"].str.strip().str.lower()
        spans = areas.loc[dup].groupby(keys, sort=False)[auth].nunique()
        if (spans > 1).all():
            return f"{n:,} {noun} share a name with an area in another authority; each is shown with its authority"
    names = list(dict.fromkeys(areas.loc[dup, "name"].str.strip()))
    listed = ", ".join(names[:3]) + (f" and {len(names) - 3:,} more names" if len(names) > 3 else "")
    return (f"{path.name}: {n:,} {noun} share a name with another area ({listed}); each is kept as "
            f"a separate area")


def _inside(geoms: np.ndarray, box) -> np.ndarray:
    """True for each geometry whose bounds lie inside `box` (x0, y0, x1, y1)."""
    b = shapely.bounds(geoms)
    x0, y0, x1, y1 = box
    return (b[:, 0] >= x0) & (b[:, 1] >= y0) & (b[:, 2] <= x1) & (b[:, 3] <= y1)


def _names(gdf: gpd.GeoDataFrame, name: str, mask: np.ndarray, limit: int = 5) -> str:
    picked = gdf.loc[mask, name].astype(str).tolist()
    more = f" and {len(picked) - limit} more" if len(picked) > limit else ""
    return ", ".join(picked[:limit]) + more


def _check_crs(gdf: gpd.GeoDataFrame, name: str, path: Path, warnings: list[str]) -> gpd.GeoDataFrame:
    """The polygons with a CRS their coordinates agree with.

    Each feature's coordinates are classed as British longitude/latitude degrees or British
    National Grid metres. Features of both kinds in one file are refused, naming them (no single
    CRS can be right). A file whose declared CRS contradicts all of its coordinates (BNG metres
    declared as EPSG:4326, or degrees declared as EPSG:27700) is read in the CRS the coordinates
    fit, with a warning. No CRS: decided by the coordinates, with a warning.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    degrees = _inside(geoms, settings.GB_BOUNDS_WGS84)
    # metres: inside the BNG box and impossible as degrees (|x| > 180 or |y| > 90)
    metres = _inside(geoms, settings.GB_BOUNDS_BNG) & ~_inside(geoms, (-180.0, -90.0, 180.0, 90.0))
    if degrees.any() and metres.any():
        raise InputError(f"features mix coordinate systems: {int(degrees.sum())} in longitude/latitude "
                         f"degrees ({_names(gdf, name, degrees)}) and {int(metres.sum())} in British "
                         f"National Grid metres ({_names(gdf, name, metres)}); save them in one CRS",
                         file=path)
    if gdf.crs is None:
        x0, y0, x1, y1 = gdf.total_bounds
        if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
            warnings.append(f"{path.name}: no CRS; coordinates look like degrees, read as WGS84 (EPSG:4326)")
            return gdf.set_crs(settings.CRS_WGS84)
        warnings.append(f"{path.name}: no CRS; coordinates look like metres, read as British National Grid (EPSG:27700)")
        return gdf.set_crs(settings.CRS)
    declared = gdf.crs.to_string()
    if gdf.crs.is_geographic and metres.all():
        warnings.append(f"{path.name}: declares {declared} (degrees) but its coordinates are British "
                        "National Grid metres; read as EPSG:27700")
        return gdf.set_crs(settings.CRS, allow_override=True)
    if gdf.crs.is_projected and degrees.all():
        warnings.append(f"{path.name}: declares {declared} (metres) but its coordinates are "
                        "longitude/latitude degrees; read as WGS84 (EPSG:4326)")
        return gdf.set_crs(settings.CRS_WGS84, allow_override=True)
    return gdf


def _polygonal(geom):
    """The polygonal part of a make_valid result (drops stray lines/points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(p.geoms if p.geom_type == "MultiPolygon" else [p])
    return shapely.MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else shapely.Polygon())
