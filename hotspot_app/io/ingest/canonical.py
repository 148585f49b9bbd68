"""Reading back the GeoParquet files `hotspot ingest` writes, only the rows a command selects.

Those files hold canonical incidents that were validated on the way in (every row loaded or
rejected with a reason) and carry `output.PARQUET_MARK` in their schema metadata. A command that
selects incidents (``clusters --category asb``, ``grid``) need not check six million rows again
and build all of them to keep a fifth: the selection columns (``kind``, ``category``, ``group``,
``month``) are read as dictionary codes, the selection rule (`selection.mask`, the same one
`selection.select` applies) runs once per distinct combination of their values, and the other
columns are read row group by row group keeping only the selected rows. Each distinct WKB point is
decoded once (rows sharing a snap point share one Point, as after an ingest).

Any other Parquet file -- or one of ours whose columns, CRS or geometry type are not what the
mark promises -- returns None, and the caller reads it as a generic file (every row checked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from hotspot_app.core import schema, selection, settings
from hotspot_app.io.incident_arrow import PARQUET_MARK, PARQUET_MARK_VALUE, codes_of, frame_of_table

#: Columns the selection rule reads, and the summary of the whole file keeps (with ``source``).
SELECTION_COLUMNS = ("kind", "category", "group", "month")
SUMMARY_COLUMNS = ("source", *SELECTION_COLUMNS)


class Selected(NamedTuple):
    """What `read` returns: the selected ``incidents``; ``rows`` in the file; ``summary``, one row
    per distinct (source, kind, category, group, month) of the WHOLE file with its ``rows``, for
    what is judged on everything loaded (month coverage), or None when nothing was left out."""

    incidents: gpd.GeoDataFrame
    rows: int
    summary: pd.DataFrame | None


def _open(path: Path):
    """The ParquetFile and its GeoParquet geometry column when `path` is one of ours and keeps
    the mark's promises; else None."""
    import pyarrow.parquet as pq

    if path.suffix.lower() not in (".parquet", ".geoparquet") or not path.is_file():
        return None
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException):
        return None  # the generic reader gives the user the error
    meta = pf.schema_arrow.metadata or {}
    try:
        if json.loads(meta.get(PARQUET_MARK, b"null")) != PARQUET_MARK_VALUE:
            return None
        geo_meta = json.loads(meta[b"geo"])
        gcol = geo_meta["primary_column"]
        info = geo_meta["columns"][gcol]
    except (KeyError, TypeError, ValueError):
        return None
    names = set(pf.schema_arrow.names)
    needed = set(schema.INCIDENT_COLUMNS) | {"provider"}
    if gcol != "geometry" or not needed <= names or str(info.get("encoding")).upper() != "WKB" \
            or info.get("geometry_types") not in (["Point"], []):
        return None
    from pyproj import CRS

    try:
        if info.get("crs") is None or not CRS.from_user_input(info["crs"]).equals(CRS(settings.CRS)):
            return None
    except Exception:  # pyproj raises CRSError and friends for a bad CRS
        return None
    return pf


def read(path: str | Path, category=None, period=None) -> Selected | None:
    """The selected incidents of a GeoParquet file `hotspot ingest` wrote (`Selected`); None
    for any other file. `category` and `period` as in `selection.select` (whose rule is
    applied, once per distinct combination of kind, category, group and month); an unknown
    category raises its `InputError`."""
    pf = _open(Path(path))
    if pf is None:
        return None
    total = pf.metadata.num_rows
    keep = summary = None
    if category or period is not None:
        keep, summary = _selected_rows(pf, category, period)
    if keep is None:
        table = pf.read()
    else:  # one row group at a time, keeping only the selected rows (memory: the selection)
        parts, start = [], 0
        for i in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(i).num_rows
            part = keep[start:start + n]
            start += n
            if part.any():
                group = pf.read_row_group(i)
                parts.append(group if part.all() else group.filter(pa.array(part)))
        table = pa.concat_tables(parts) if parts else pf.schema_arrow.empty_table()
    if summary is not None and keep.all():
        summary = None  # nothing left out: the incidents are the whole file
    return Selected(frame_of_table(table), total, summary)


def _selected_rows(pf, category, period) -> tuple[np.ndarray, pd.DataFrame]:
    """(boolean per row of the file, summary of the whole file): `selection.mask` on each
    distinct combination of the summary columns (read as dictionary codes: a few bytes a row)."""
    table = pf.read(columns=list(SUMMARY_COLUMNS)).unify_dictionaries()
    codes, values = [], []
    for name in SUMMARY_COLUMNS:
        c, v = codes_of(table.column(name))
        codes.append(c)
        values.append(v)
    del table
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c, v in zip(codes, values):
        key = key * (len(v) + 1) + (c + 1)  # +1: nulls are code -1
    row_combo, combos = pd.factorize(key)
    combos = np.asarray(combos, dtype=np.int64)
    parts = {}
    for name, v in reversed(list(zip(SUMMARY_COLUMNS, values))):
        base = len(v) + 1
        c = combos % base - 1
        combos = combos // base
        parts[name] = np.append(v, None)[c]  # -1 -> the appended None
    summary = pd.DataFrame({name: pd.Series(parts[name], dtype=object) for name in SUMMARY_COLUMNS})
    summary["rows"] = np.bincount(row_combo, minlength=len(summary))
    return selection.mask(summary, category, period)[row_combo], summary
