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
either way).
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

from .. import schema, settings
from ..errors import InputError

_ONS_NAME = re.compile(r"^[A-Za-z]{2,6}\d{2}NM$", re.I)
_ONS_CODE = re.compile(r"^[A-Za-z]{2,6}\d{2}CD$", re.I)


@dataclass
class BoundaryResult:
    """Areas (schema.AREA_COLUMNS + extra columns), warnings, and the repaired features
    (DataFrame: area_id, name, problem)."""

    areas: gpd.GeoDataFrame
    warnings: list[str] = field(default_factory=list)
    repaired: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["area_id", "name", "problem"]))


def _open(path: Path) -> gpd.GeoDataFrame:
    import pyogrio

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
        if len(layers) > 1:
            polys = [name for name, gtype in layers if gtype and "polygon" in str(gtype).lower()]
            same = [name for name in polys if name.lower() == path.stem.lower()]
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
                    population_field: str | None = None, id_field: str | None = None) -> BoundaryResult:
    """Read a boundary file into canonical areas; see the module docstring.

    Parameters
    ----------
    path : GeoJSON, GeoPackage or zipped Shapefile.
    name_field, id_field, population_field : field names (case-insensitive); detected when None.
    layer : the areas' layer (ward, town_centre, micro_hotspot, patrol, custom).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", file=path)
    if layer not in schema.AREA_LAYERS:
        raise InputError(f"unknown layer '{layer}'; use one of {', '.join(schema.AREA_LAYERS)}",
                         parameter="layer")
    gdf = _open(path)
    warnings: list[str] = []
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
    geoms = gdf.geometry.values
    missing = np.asarray(gdf.geometry.isna() | gdf.geometry.is_empty)
    if missing.any():
        names = ", ".join(gdf.loc[missing, name].astype(str).head(5))
        warnings.append(f"{path}: {int(missing.sum())} features without geometry dropped ({names})")
        gdf = gdf.loc[~missing].reset_index(drop=True)
        geoms = gdf.geometry.values
    gtypes = set(gdf.geom_type.unique())
    if not gtypes <= {"Polygon", "MultiPolygon"}:
        raise InputError("boundary file must hold polygons (found " + ", ".join(sorted(gtypes)) + ")",
                         file=path)
    if gdf.crs is None:
        x0, y0, x1, y1 = gdf.total_bounds
        if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
            gdf = gdf.set_crs(settings.CRS_WGS84)
            warnings.append(f"{path}: no CRS; coordinates look like degrees, read as WGS84 (EPSG:4326)")
        else:
            gdf = gdf.set_crs(settings.CRS)
            warnings.append(f"{path}: no CRS; coordinates look like metres, read as British National Grid (EPSG:27700)")
    gdf = gdf.to_crs(settings.CRS)  # validate and repair in the working CRS
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
        warnings.append(f"{path}: {int(invalid.sum())} invalid polygons repaired with make_valid: "
                        + "; ".join(f"{r['area_id']} {r['name']} ({r['problem']})" for r in repaired_rows[:5]))
    areas = schema.make_areas(gdf, name=name, layer=layer, area_id=ident, population=pop)
    dup_names = areas["name"][areas["name"].str.lower().duplicated(keep=False)]
    if len(dup_names):
        warnings.append(f"{path}: {len(dup_names)} areas share a name with another area "
                        f"(e.g. {', '.join(pd.unique(dup_names)[:3])}); pick them by area_id")
    if ident and areas["area_id"].duplicated().any():
        warnings.append(f"{path}: field {ident} has repeated values; area ids are not unique")
    return BoundaryResult(areas, warnings, pd.DataFrame(repaired_rows, columns=["area_id", "name", "problem"]))


def _polygonal(geom):
    """The polygonal part of a make_valid result (drops stray lines/points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(p.geoms if p.geom_type == "MultiPolygon" else [p])
    return shapely.MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else shapely.Polygon())
