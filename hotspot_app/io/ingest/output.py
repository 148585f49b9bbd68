"""Writing ingested incidents and the rejects table (the `hotspot ingest --out/--rejects` files).

- ``.csv``: the schema columns (without geometry), the extra columns, then ``longitude`` and
  ``latitude`` (WGS84, 6 decimals) -- a file `read_incidents` reads back as a generic CSV.
- ``.parquet``: GeoParquet (EPSG:27700).
- ``.gpkg``: a workspace GeoPackage (`workspace.GeopackageWorkspace`, layer ``incidents``), usable as INCIDENTS
  by every other command.

Every CSV text cell is neutralised (`exports.neutralise_frame`); writes are atomic and an I/O
failure is a one-line `OutputError` naming the path (`write_outputs`).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely

from hotspot_app.io import exports, incident_arrow
from hotspot_app.io.incident_arrow import arrow_column, distinct_objects, wkb_column
from hotspot_app.core.errors import InputError, OutputError
from hotspot_app.io.ingest import geo

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
    from hotspot_app.core.locations import factorize_xy

    uxy, codes = factorize_xy(np.column_stack([x, y]))
    lon, lat = geo.to_wgs84(uxy[:, 0], uxy[:, 1])
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


def _cells(s: pd.Series) -> pa.Array:
    """One column as CSV cells, each distinct value rendered once (then an Arrow take): text
    neutralised (`exports.neutralise`), dates as ``YYYY-MM-DD HH:MM:SS``, floats as pandas writes
    them (``repr``), booleans as True/False; missing values are empty cells."""
    if pd.api.types.is_integer_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        return pa.array(s.to_numpy())
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniq = s.cat.codes.to_numpy(), np.asarray(s.cat.categories, dtype=object)
    elif pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return _neutralised(pa.array(s))
    else:
        codes, uniq = pd.factorize(s, use_na_sentinel=True)
        uniq = np.asarray(uniq, dtype=object) if not isinstance(uniq, pd.DatetimeIndex) else uniq
    if isinstance(uniq, pd.DatetimeIndex):
        text = uniq.strftime("%Y-%m-%d %H:%M:%S").to_numpy(object)
    else:
        text = np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else
                         exports.neutralise(v) if isinstance(v, str) else
                         repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)
                         for v in uniq], dtype=object)
    codes = np.asarray(codes)
    return pa.array(text, type=pa.string()).take(pa.array(codes, mask=codes < 0))


def _neutralised(text: pa.Array) -> pa.Array:
    """`exports.neutralise` on an Arrow string array, vectorised: a cell starting with a formula
    prefix gets a leading apostrophe."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    if not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type):
        text = text.cast(pa.string())
    risky = None
    for prefix in exports.FORMULA_PREFIXES:
        hit = pc.starts_with(text, prefix)
        risky = hit if risky is None else pc.or_(risky, hit)
    if risky is None or not pc.any(risky).as_py():
        return text
    # the apostrophe and separator take the column's own string type (string or large_string:
    # Arrow has no kernel mixing them)
    quote, empty = pa.scalar("'", type=text.type), pa.scalar("", type=text.type)
    return pc.if_else(risky, pc.binary_join_element_wise(quote, text, empty), text)


def write_incidents_csv(incidents: gpd.GeoDataFrame, target) -> None:
    """The ``.csv`` form (`incidents_csv_frame`'s content) written by pyarrow's CSV writer:
    no Python per row (each column rendered once per distinct value)."""
    df = pd.DataFrame(incidents.drop(columns=incidents.geometry.name))
    df["longitude"], df["latitude"] = lonlat(incidents)
    names = [exports.neutralise(str(c)) for c in df.columns]
    table = pa.table([_cells(df[c]) for c in df.columns], names=names)
    pacsv.write_csv(table, str(target), pacsv.WriteOptions(quoting_style="needed"))


# The mark of the GeoParquet files `hotspot ingest` writes (`incident_arrow.PARQUET_MARK`).
PARQUET_MARK, PARQUET_MARK_VALUE = incident_arrow.PARQUET_MARK, incident_arrow.PARQUET_MARK_VALUE


def write_incidents_parquet(incidents: gpd.GeoDataFrame, target) -> None:
    """GeoParquet 1.0 (WKB geometry, EPSG:27700, with its bbox), written by pyarrow from the
    distinct values: the ingest shares one Point per location and one string per distinct text,
    so each distinct Point is encoded to WKB once and each text column becomes a dictionary
    column (read back by pandas as a categorical) -- no Python or GEOS call per row. The schema
    metadata carries `PARQUET_MARK`. geopandas reads it as any GeoParquet (tested)."""
    import json

    import pyarrow.parquet as pq
    from pyproj import CRS

    gname = incidents.geometry.name
    codes, points = distinct_objects(incidents.geometry.values)  # each shared Point once
    arrays, names = [], []
    for name in incidents.columns:
        arrays.append(wkb_column(codes, points) if name == gname else arrow_column(incidents[name]))
        names.append(str(name))
    table = pa.table(arrays, names=names)
    meta = {"encoding": "WKB", "crs": CRS.from_user_input(incidents.crs).to_json_dict()
            if incidents.crs is not None else None}
    bounds = _bounds(points)
    meta["geometry_types"] = ["Point"] if bounds is not None else []
    if bounds is not None:
        meta["bbox"] = bounds
    geo_meta = {"version": "1.0.0", "primary_column": gname, "columns": {gname: meta}}
    table = table.replace_schema_metadata({b"geo": json.dumps(geo_meta).encode(),
                                           PARQUET_MARK: json.dumps(PARQUET_MARK_VALUE).encode()})
    pq.write_table(table, str(target))


def _bounds(distinct: np.ndarray) -> list[float] | None:
    b = shapely.bounds(distinct[~shapely.is_missing(distinct)])
    if not len(b) or not np.isfinite(b).any():
        return None
    return [float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])),
            float(np.nanmax(b[:, 3]))]


def _write_to(incidents: gpd.GeoDataFrame, path: Path, tmp: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_incidents_csv(incidents, tmp)
    else:
        write_incidents_parquet(incidents, tmp)


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
            from hotspot_app.io import workspace

            if path.exists() and not workspace.is_workspace(path):
                raise InputError("exists and is not a workspace GeoPackage; choose another --out", file=path)
            _guard(lambda: workspace.GeopackageWorkspace(path).write_incidents(incidents), path)
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
        raise OutputError(f"could not write ({_reason(exc)}); the previous file is unchanged",
                          file=str(path)) from None


def _reason(exc: OSError) -> str:
    """The system's words for an I/O error (Arrow's writers wrap them: "... [errno 27] ...")."""
    found = re.search(r"\[errno (\d+)\]", str(exc))
    if found:
        return os.strerror(int(found.group(1)))
    return exc.strerror or str(exc)


def write_incidents(incidents: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write incidents by extension (.csv, .parquet, .gpkg), atomically (`write_outputs`)."""
    return write_outputs(incidents, path)


def write_rejects(rejects: pd.DataFrame, path: str | Path) -> Path:
    """Write the rejects table as CSV, atomically, text neutralised."""
    path = check_rejects_path(path)
    exports.write_bytes_atomic(path, exports.csv_bytes(rejects))
    return path
