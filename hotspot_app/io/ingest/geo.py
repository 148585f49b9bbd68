"""Coordinates: WGS84 -> British National Grid, Great Britain bounds, and points built once per
distinct location (police.uk points repeat heavily). Incident-id hashing lives in `ids`."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from hotspot_app.core import settings

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


def points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapely points for x/y (object array), each distinct location built once and shared;
    with the distinct (x, y) and each row's index into them (`locations.factorize_xy`)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) == 0:
        return np.empty(0, dtype=object), np.empty((0, 2)), np.zeros(0, dtype=np.int64)
    from hotspot_app.core.locations import factorize_xy

    uxy, codes = factorize_xy(np.column_stack([x, y]))
    return shapely.points(uxy[:, 0], uxy[:, 1])[codes], uxy, codes


class Places:
    """The EPSG:27700 coordinates and Point of each WGS84 location already read in one load.
    police.uk's snap points recur month after month, so a load read in batches (`hotspot ingest
    --into`) reprojects each location and builds its Point once, not once a batch, and rows of
    every batch share that one Point. Used by one reading thread at a time."""

    def __init__(self):
        self._index = pd.Index(np.empty(0, dtype=np.complex128))
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._points = np.empty(0, dtype=object)

    def __len__(self) -> int:
        return len(self._index)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, Points) of finite `lon`/`lat` pairs: `to_bng` and `shapely.points` for the
        pairs not seen before, the stored ones for the others."""
        key = np.asarray(lon, float) + 1j * np.asarray(lat, float)
        pos = self._index.get_indexer(key)
        new = pos < 0
        if new.any():
            codes, fresh = pd.factorize(key[new])  # (two texts may give one number)
            fresh = np.asarray(fresh, dtype=np.complex128)
            x, y = to_bng(fresh.real, fresh.imag)
            pos[new] = len(self._index) + codes
            self._index = self._index.append(pd.Index(fresh))
            self._x = np.concatenate([self._x, x])
            self._y = np.concatenate([self._y, y])
            self._points = np.concatenate([self._points, shapely.points(x, y)])
        return self._x[pos], self._y[pos], self._points[pos]
