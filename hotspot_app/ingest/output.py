"""Writing ingested incidents and the rejects table (the `hotspot ingest --out/--rejects` files).

- ``.csv``: the schema columns (without geometry), the extra columns, then ``longitude`` and
  ``latitude`` (WGS84, 6 decimals) -- a file `read_incidents` reads back as a generic CSV.
- ``.parquet``: GeoParquet (EPSG:27700).
- ``.gpkg``: a workspace GeoPackage (`store.Workspace`, layer ``incidents``), usable as INCIDENTS
  by every other command.

Every CSV text cell is neutralised (`exports.neutralise_frame`); writes are atomic and an I/O
failure is a one-line `OutputError` naming the path (`write_outputs`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import exports
from ..errors import InputError, OutputError
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


def _temp_beside(path: Path) -> Path:
    """A new empty temp file in `path`'s folder (renamed over `path` when complete)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"could not write ({exc.strerror or exc}); nothing was written",
                          file=str(path)) from None
    os.close(fd)
    return Path(tmp)


def incidents_csv_frame(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ``.csv`` form: schema and extra columns, then WGS84 longitude/latitude; text cells
    neutralised (a cell starting with =, +, -, @, tab or CR cannot run as a formula)."""
    df = pd.DataFrame(incidents.drop(columns=incidents.geometry.name))
    df["longitude"], df["latitude"] = lonlat(incidents)
    return exports.neutralise_frame(df)


def _write_to(incidents: gpd.GeoDataFrame, path: Path, tmp: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        incidents_csv_frame(incidents).to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S")
    else:
        incidents.to_parquet(tmp, index=False)


def write_outputs(incidents: gpd.GeoDataFrame, path: str | Path, rejects: pd.DataFrame | None = None,
                  rejects_path: str | Path | None = None) -> Path:
    """Write the incidents (by extension: .csv, .parquet, .gpkg) and, when given, the rejects
    CSV, so that a failure (disk full, read-only folder, permission) leaves both targets as they
    were: each is written to a temp file beside it first, the rejects are renamed into place only
    after the incidents, and temp files are removed on any error. An `OSError` becomes a one-line
    `OutputError` naming the path."""
    path = check_incidents_path(path)
    pending: list[Path] = []
    try:
        rej_tmp = None
        if rejects_path is not None:
            rejects_path = check_rejects_path(rejects_path)
            rej_tmp = _temp_beside(rejects_path)
            pending.append(rej_tmp)
            _guard(lambda: rej_tmp.write_bytes(exports.csv_bytes(rejects)), rejects_path)
        if path.suffix.lower() == ".gpkg":
            from .. import store

            if path.exists() and not store.is_workspace(path):
                raise InputError("exists and is not a workspace GeoPackage; choose another --out", file=path)
            _guard(lambda: store.Workspace(path).write_incidents(incidents), path)
        else:
            tmp = _temp_beside(path)
            pending.append(tmp)
            _guard(lambda: _write_to(incidents, path, tmp), path)
            _guard(lambda: os.replace(tmp, path), path)
            pending.remove(tmp)
        if rej_tmp is not None:
            _guard(lambda: os.replace(rej_tmp, rejects_path), rejects_path)
            pending.remove(rej_tmp)
    finally:
        for leftover in pending:
            leftover.unlink(missing_ok=True)
    return path


def _guard(action, path: Path) -> None:
    try:
        action()
    except OSError as exc:
        raise OutputError(f"could not write ({exc.strerror or exc}); the previous file is unchanged",
                          file=str(path)) from None


def write_incidents(incidents: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write incidents by extension (.csv, .parquet, .gpkg), atomically (`write_outputs`)."""
    return write_outputs(incidents, path)


def write_rejects(rejects: pd.DataFrame, path: str | Path) -> Path:
    """Write the rejects table as CSV, atomically, text neutralised."""
    path = check_rejects_path(path)
    exports.write_bytes_atomic(path, exports.csv_bytes(rejects))
    return path
