"""Writing ingested incidents and the rejects table (the `hotspot ingest --out/--rejects` files).

- ``.csv``: the schema columns (without geometry), the extra columns, then ``longitude`` and
  ``latitude`` (WGS84, 6 decimals) -- a file `read_incidents` reads back as a generic CSV.
- ``.parquet``: GeoParquet (EPSG:27700).
- ``.gpkg``: a workspace GeoPackage (`store.Workspace`, layer ``incidents``), usable as INCIDENTS
  by every other command.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError
from . import geo

INCIDENT_SUFFIXES = (".csv", ".parquet", ".gpkg")


def check_incidents_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in INCIDENT_SUFFIXES:
        raise InputError(f"--out must end with {', '.join(INCIDENT_SUFFIXES)} (got '{path.name}')",
                         parameter="out")
    if not path.parent.exists():
        raise InputError("folder does not exist", file=path.parent, parameter="out")
    return path


def check_rejects_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise InputError(f"--rejects must be a .csv file (got '{path.name}')", parameter="rejects")
    if not path.parent.exists():
        raise InputError("folder does not exist", file=path.parent, parameter="rejects")
    return path


def lonlat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude of point incidents (each distinct point reprojected once)."""
    x = shapely.get_x(np.asarray(gdf.geometry.values, dtype=object))
    y = shapely.get_y(np.asarray(gdf.geometry.values, dtype=object))
    if len(x) == 0:
        return x, y
    xy = np.ascontiguousarray(np.column_stack([x, y])).view(np.complex128).ravel()
    codes, uniq = pd.factorize(xy)
    lon, lat = geo.to_wgs84(np.real(uniq), np.imag(uniq))
    return np.round(lon, 6)[codes], np.round(lat, 6)[codes]


def write_incidents(incidents: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write incidents by extension (.csv, .parquet, .gpkg); the write is atomic for .gpkg."""
    path = check_incidents_path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.DataFrame(incidents.drop(columns=incidents.geometry.name))
        df["longitude"], df["latitude"] = lonlat(incidents)
        tmp = path.with_name(path.name + ".tmp")
        df.to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S")
        tmp.replace(path)
    elif suffix == ".parquet":
        tmp = path.with_name(path.name + ".tmp")
        incidents.to_parquet(tmp, index=False)
        tmp.replace(path)
    else:
        from .. import store

        if path.exists() and not store.is_workspace(path):
            raise InputError("exists and is not a workspace GeoPackage; choose another --out", file=path)
        store.Workspace(path).write_incidents(incidents)
    return path


def write_rejects(rejects: pd.DataFrame, path: str | Path) -> Path:
    path = check_rejects_path(path)
    rejects.to_csv(path, index=False)
    return path
