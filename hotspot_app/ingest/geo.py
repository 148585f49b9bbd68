"""Coordinates: WGS84 -> British National Grid, Great Britain bounds, points built once per
distinct location (police.uk points repeat heavily), and the 64-bit keys used to find
duplicate incident ids quickly."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import Transformer

from .. import settings

_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=4)
def transformer(src: str = settings.CRS_WGS84, dst: str = settings.CRS) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude (degrees) -> EPSG:27700 easting/northing (metres)."""
    if len(lon) == 0:
        return np.asarray(lon, float), np.asarray(lat, float)
    x, y = transformer().transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) == 0:
        return np.asarray(x, float), np.asarray(y, float)
    lon, lat = transformer(settings.CRS, settings.CRS_WGS84).transform(np.asarray(x, float),
                                                                      np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def in_gb_wgs84(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = settings.GB_BOUNDS_WGS84
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def in_gb_bng(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = settings.GB_BOUNDS_BNG
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1) & ~((x == 0) & (y == 0))


def points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Shapely points for x/y (object array); each distinct location is built once and shared."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) == 0:
        return np.empty(0, dtype=object)
    xy = np.ascontiguousarray(np.column_stack([x, y])).view(np.complex128).ravel()
    codes, uniq = pd.factorize(xy)
    ux, uy = np.real(uniq), np.imag(uniq)
    return shapely.points(ux, uy)[codes]


def hash_values(values: np.ndarray) -> np.ndarray:
    """Stable 64-bit hash of each string (pandas' SipHash with its fixed key)."""
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)


def combine(h: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Order-dependent combination of two uint64 hash arrays (FNV-style, wrapping)."""
    return ((h ^ other) * _PRIME) ^ (other >> np.uint64(29))


def id_keys(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit keys of id strings: equal ids have equal keys; different ids rarely do (callers
    re-check equal keys exactly).

    Vectorised over the Arrow buffers: the key mixes each string's length with its first and last
    8 bytes (for police.uk's 64-hex Crime IDs, 128 random bits). Empty ids get key 0.
    """
    if isinstance(ids, pa.ChunkedArray):
        if ids.num_chunks == 0:
            return np.empty(0, dtype=np.uint64)
        return np.concatenate([id_keys(c) for c in ids.chunks])
    n = len(ids)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    if not pa.types.is_string(ids.type) or ids.null_count:
        return hash_values(np.asarray([v or "" for v in ids.to_pylist()], dtype=object))
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[ids.offset: ids.offset + n + 1]
    buf = ids.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None and buf.size else np.zeros(1, np.uint8)
    start, end = offsets[:-1].astype(np.int64), offsets[1:].astype(np.int64)
    lens = end - start
    k = np.arange(8)
    head_idx = start[:, None] + k
    tail_idx = end[:, None] - 8 + k
    head_ok = head_idx < end[:, None]
    tail_ok = tail_idx >= start[:, None]
    top = len(data) - 1
    head = np.where(head_ok, data[np.clip(head_idx, 0, top)], 0).astype(np.uint8)
    tail = np.where(tail_ok, data[np.clip(tail_idx, 0, top)], 0).astype(np.uint8)
    w0 = np.ascontiguousarray(head).view(np.uint64).ravel()
    w1 = np.ascontiguousarray(tail).view(np.uint64).ravel()
    out = combine(combine(lens.astype(np.uint64) * _MIX, w0), w1)
    out[lens == 0] = 0
    return out


def hex16(h: np.ndarray) -> np.ndarray:
    """uint64 -> 16-character lower-case hex (numpy 'S16')."""
    table = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
    b = np.asarray(h, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)
    return np.ascontiguousarray(table[b]).view("S16").ravel()


def fixed_strings(*parts: np.ndarray) -> pa.Array:
    """Arrow string array from fixed-width byte pieces laid side by side (no per-row Python):
    each part is (n, w) uint8 or a numpy 'S<w>' array of n items."""
    n = len(parts[0])
    if n == 0:
        return pa.array([], type=pa.string())
    mats = [p.view(np.uint8).reshape(len(p), -1) if p.dtype.kind == "S" else p for p in parts]
    data = np.ascontiguousarray(np.concatenate(mats, axis=1)) if n else np.empty((0, 1), np.uint8)
    width = data.shape[1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def occurrence(keys: np.ndarray) -> np.ndarray:
    """1-based occurrence number of each key among equal keys, in array order (1, 1, 2, 1, 3...)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n) - starts[run] + 1
    return out
