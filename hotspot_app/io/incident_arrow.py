"""Canonical incidents <-> Arrow tables: what the GeoParquet files of `hotspot ingest --out`
and the workspace's partitioned incidents (`workspace.partitioned`) share. Written from the
distinct values (each shared Point encoded to WKB once, text as dictionary columns) and read back
sharing them again (one string object per distinct text, one Point per distinct location), so
neither direction does Python or GEOS work per row.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from hotspot_app.core import settings

#: Schema metadata key of the GeoParquet files `hotspot ingest` writes: its JSON says the file
#: holds canonical incidents (validated on the way in), so commands may read back only the rows
#: they select (`ingest.canonical`) instead of checking every row again.
PARQUET_MARK = b"hotspot_app"
PARQUET_MARK_VALUE = {"table": "incidents", "version": 1}
#: Canonical text columns, returned as object columns like `read_incidents` gives them.
TEXT_COLUMNS = ("source", "month", "category", "group", "kind", "subcategory", "location", "provider")


def decode_wkb(column) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct geometries) of an Arrow WKB column: each distinct WKB value decoded once,
    so rows that share a snap point share one geometry object (memory per location, not per
    row); a null cell is code ``len(distinct) - 1``, whose geometry is None."""
    wkb = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    enc = pc.dictionary_encode(wkb)
    distinct = shapely.from_wkb(np.asarray(enc.dictionary.to_pylist() + [None], dtype=object))
    codes = pc.fill_null(enc.indices, len(enc.dictionary)).to_numpy(zero_copy_only=False)
    return codes, distinct


def distinct_objects(values) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct objects) of an object column: by identity when rows share objects
    (`locations.factorize_objects`), else every row its own."""
    from hotspot_app.core.locations import factorize_objects

    values = np.asarray(values, dtype=object)
    found = factorize_objects(values)
    return found if found is not None else (np.arange(len(values)), values)


#: ISO WKB of a 2D point, little-endian: byte order 1, type 1, x, y (21 bytes, as GEOS writes it)
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def point_xy(distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) of geometries that are all 2D points or None (NaN for None), else None: the one
    test for "plain points", which the fast WKB and bounds below rely on."""
    geoms = np.asarray(distinct, dtype=object)
    tid = shapely.get_type_id(geoms)  # -1 for None
    missing = tid == -1
    if not ((tid == 0) | missing).all():
        return None
    present = geoms[~missing] if missing.any() else geoms
    if shapely.is_empty(present).any() or shapely.has_z(present).any():
        return None
    return shapely.get_x(geoms), shapely.get_y(geoms)  # NaN for None


def wkb_column(codes: np.ndarray, distinct: np.ndarray, xy: tuple | None = None) -> pa.Array:
    """The WKB column of rows `codes` into `distinct` geometries (None: a null cell). Plain 2D
    points (the incidents' case; `xy` from `point_xy` when the caller has it) are laid out by
    numpy in the bytes GEOS writes (shapely.to_wkb made an object per point: 1.2 s of a national
    year's load); anything else goes through shapely."""
    xy = point_xy(distinct) if xy is None else xy
    if xy is not None and int((~np.isnan(xy[0])).sum()) * _WKB_POINT.itemsize >= 2**31 - 1:
        xy = None  # (more than a binary column's 32-bit offsets hold: as shapely's path does)
    if xy is None:
        wkb = pa.array(shapely.to_wkb(distinct), type=pa.binary())  # None stays None
    else:
        x, y = xy
        missing = np.isnan(x)
        rec = np.empty(int((~missing).sum()), dtype=_WKB_POINT)
        rec["order"], rec["type"] = 1, 1
        rec["x"], rec["y"] = x[~missing], y[~missing]
        offsets = np.zeros(len(x) + 1, dtype=np.int32)
        np.cumsum(np.where(missing, 0, _WKB_POINT.itemsize), out=offsets[1:])
        validity = pa.array(~missing).buffers()[1] if missing.any() else None
        wkb = pa.Array.from_buffers(pa.binary(), len(x), [validity, pa.py_buffer(offsets),
                                                          pa.py_buffer(rec.view(np.uint8))],
                                    null_count=int(missing.sum()))
    return wkb.take(pa.array(codes))


def arrow_column(s: pd.Series, factorized: tuple | None = None) -> pa.Array:
    """One attribute column: text as a dictionary column (each distinct text once), others as
    pyarrow converts them. `factorized`: the object column's `factorize_shared` (codes,
    values), when the caller has them already."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return pa.array(s)
    if s.dtype != object:
        return pa.array(s, from_pandas=True)
    from hotspot_app.core.locations import factorize_shared

    codes, values = factorized if factorized is not None else factorize_shared(s)
    try:
        dictionary = pa.array(np.asarray(values, dtype=object), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: let pyarrow decide per row
        return pa.array(s, from_pandas=True)
    indices = codes.astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=indices < 0), dictionary)


def codes_of(column) -> tuple[np.ndarray, np.ndarray]:
    """(codes, values) of a dictionary or plain text column; missing values are code -1."""
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    idx = pc.fill_null(col.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    return idx, np.asarray(col.dictionary.to_pylist(), dtype=object)


def points_of_bbox(column) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct Points) from a GeoParquet 1.1 ``bbox`` covering column of point
    geometries (xmin = xmax = x): the coordinates are factorized as pairs and each distinct
    pair becomes one Point -- no WKB read or decoded. A null bbox (no geometry) is the last
    code, whose geometry is None."""
    from hotspot_app.core.locations import factorize_xy

    bb = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    x = pc.struct_field(bb, "xmin").to_numpy(zero_copy_only=False)
    y = pc.struct_field(bb, "ymin").to_numpy(zero_copy_only=False)
    missing = bb.is_null().to_numpy(zero_copy_only=False) | np.isnan(x)
    if missing.any():
        x, y = np.where(missing, 0.0, x), np.where(missing, 0.0, y)
    uxy, codes = factorize_xy(np.column_stack([x, y]))
    distinct = np.append(shapely.points(uxy[:, 0], uxy[:, 1]), None)
    codes = np.asarray(codes, dtype=np.int64)
    if missing.any():
        codes[missing] = len(distinct) - 1
    return codes, distinct


def frame_of_table(table: pa.Table) -> gpd.GeoDataFrame:
    """Canonical incidents from the selected rows: text as object columns sharing one string per
    distinct value, extra text columns as categoricals, one Point per distinct location (from the
    ``geometry`` WKB column, or from a point ``bbox`` covering column read in its place, which is
    faster and gives the same points)."""
    table = table.unify_dictionaries()
    geometry = "geometry" if "geometry" in table.column_names else "bbox"
    data = {}
    for name in table.column_names:
        if name == geometry:
            continue
        col = table.column(name)
        if name in TEXT_COLUMNS:
            c, v = codes_of(col)
            data[name] = pd.Series(np.append(v, None).astype(object)[c], dtype=object, copy=False)
        else:
            data[name] = col.to_pandas()
    codes, distinct = (decode_wkb(table.column("geometry")) if geometry == "geometry"
                       else points_of_bbox(table.column("bbox")))
    frame = pd.DataFrame(data)
    at = list(table.column_names).index(geometry)
    frame.insert(at, "geometry", gpd.array.GeometryArray(distinct[codes], crs=settings.CRS))
    return gpd.GeoDataFrame(frame, geometry="geometry", copy=False)
