"""Writing polygons people take away: patrol areas (GeoJSON, GeoPackage, KML for officers'
devices) and grid cells (GeoPackage, GeoJSON, CSV). Every file is written whole or not at all:
an existing file is only replaced by a complete one."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from hotspot_app.core import settings
from hotspot_app.core.errors import InputError, OutputError
from hotspot_app.io import exports


EXPORT_FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".kml": "KML"}



# --------------------------------------------------------------------------- exports
def write_patrol_areas(areas: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write patrol areas to .geojson (WGS84, RFC 7946), .gpkg (EPSG:27700, layer
    ``patrol_areas``) or .kml (WGS84; <name> is the area's rank and name as plain text, <description>
    its summary HTML-escaped for the balloon, both then XML-escaped by GDAL's KML driver). Areas are rounded to whole m². Written
    atomically (`exports.write_bytes_atomic`): an existing file is only replaced by a complete one.
    Returns the path."""
    path = Path(path)
    driver = EXPORT_FORMATS.get(path.suffix.lower())
    if driver is None:
        raise InputError(f"cannot write '{path.suffix}'; use one of {', '.join(EXPORT_FORMATS)}",
                         parameter="out")
    out = gpd.GeoDataFrame(areas.copy())
    out.attrs = {}
    if "area_m2" in out.columns:
        out["area_m2"] = out["area_m2"].astype(float).round(0)
    if "density_per_km2" in out.columns:
        out["density_per_km2"] = out["density_per_km2"].astype(float).round(1)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir) / f"patrol_areas{path.suffix.lower()}"
        if driver == "GPKG":
            out.to_file(tmp, driver="GPKG", layer="patrol_areas", engine="pyogrio")
        elif driver == "GeoJSON":
            out.to_crs(settings.CRS_WGS84).to_file(tmp, driver="GeoJSON", engine="pyogrio")
        else:
            label = ([f"#{int(r)} {n}" for r, n in zip(out["rank"], out["name"].astype(str))]
                     if "rank" in out.columns else out["name"].astype(str).tolist())
            # GDAL's KML driver XML-escapes the text itself: a <name> (plain text) is given as is
            # (escaping it here too showed "&amp;" to officers); a <description> is HTML that
            # balloons render, so its user text is HTML-escaped first
            kml = gpd.GeoDataFrame(
                {"Name": [exports.xml_text(s) for s in label],
                 "Description": out["description"].astype(str).map(lambda t: exports.xml_text(html.escape(t))),
                 "rank": out["rank"].astype(int), "count": out["count"].astype(int)},
                geometry=out.geometry.values, crs=out.crs,
            ).to_crs(settings.CRS_WGS84)
            kml.to_file(tmp, driver="KML", layer="patrol_areas", engine="pyogrio")
        exports.write_bytes_atomic(path, tmp.read_bytes())
    return path


AREA_EXPORTS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}


def write_areas(areas: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write areas (e.g. named places) as a boundary file the tool reads back: .geojson (WGS84)
    or .gpkg (EPSG:27700, one layer named after the areas' layer), atomically. Returns the path."""
    path = Path(path)
    driver = AREA_EXPORTS.get(path.suffix.lower())
    if driver is None:
        raise InputError(f"cannot write '{path.suffix}'; use one of {', '.join(AREA_EXPORTS)}", parameter="out")
    out = gpd.GeoDataFrame(areas.copy())
    out.attrs = {}
    layer = str(out["layer"].iloc[0]) if "layer" in out.columns and len(out) else "areas"
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir) / f"areas{path.suffix.lower()}"
        if driver == "GPKG":
            out.to_file(tmp, driver="GPKG", layer=layer, engine="pyogrio")
        else:
            out.to_crs(settings.CRS_WGS84).to_file(tmp, driver="GeoJSON", engine="pyogrio")
        exports.write_bytes_atomic(path, tmp.read_bytes())
    return path


# --------------------------------------------------------------------------- outputs
CELL_EXPORTS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".csv": "CSV"}



def write_cells(cells: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write cells to .gpkg (EPSG:27700, layer ``grid_cells``), .geojson (WGS84) or .csv (no
    geometry; x, y centres in EPSG:27700)."""
    path = Path(path)
    driver = CELL_EXPORTS.get(path.suffix.lower())
    if driver is None:
        raise InputError(f"cannot write '{path.suffix}'; use one of {', '.join(CELL_EXPORTS)}",
                         parameter="out")
    out = gpd.GeoDataFrame(cells.copy())
    out.attrs = {}
    if driver == "CSV":  # text neutralised, written atomically
        exports.write_bytes_atomic(path, exports.csv_bytes(pd.DataFrame(out.drop(columns="geometry"))))
        return path
    import pyogrio

    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # the old file stays until this is whole
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        if driver == "GPKG":
            out.to_file(tmp, driver="GPKG", layer="grid_cells", engine="pyogrio")
        else:
            out.to_crs(settings.CRS_WGS84).to_file(tmp, driver="GeoJSON", engine="pyogrio")
        os.replace(tmp, path)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        reason = getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__
        raise OutputError(f"could not write ({reason}); the previous file is unchanged",
                          file=str(path)) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return path


# --------------------------------------------------------------------------- street networks
def read_lines(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """A street network (line features, e.g. OS Open Roads ``road_link``) from a GeoPackage,
    GeoJSON or Shapefile, in EPSG:27700 (reprojected from its declared CRS). InputError naming
    the file when it is missing, unreadable, has no CRS or holds no lines."""
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError("no such file", file=str(path))
    try:
        if layer is None and path.suffix.lower() == ".gpkg":
            layers = pyogrio.list_layers(path)
            lines = [str(n) for n, kind in layers if kind and "line" in str(kind).lower()]
            layer = lines[0] if len(lines) == 1 else None
            if layer is None and len(layers) > 1:
                raise InputError(f"{len(layers)} layers; choose one with --streets-layer "
                                 f"({', '.join(str(n) for n, _ in layers)})", file=str(path))
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise InputError(f"cannot read the street network ({' '.join(str(exc).split())})",
                         file=str(path)) from None
    if gdf.crs is None:
        raise InputError("the street network declares no CRS; save it in EPSG:27700", file=str(path))
    if len(gdf) == 0:
        raise InputError("the street network holds no features", file=str(path))
    return gdf.to_crs(settings.CRS) if not gdf.crs.equals(settings.CRS) else gdf
