"""Coordinates: WGS84 -> British National Grid, Great Britain bounds, and points built once per
distinct location (police.uk points repeat heavily). Incident-id hashing lives in `ids`."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
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


def points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Shapely points for x/y (object array); each distinct location is built once and shared."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) == 0:
        return np.empty(0, dtype=object)
    from hotspot_app.core.locations import factorize_xy

    uxy, codes = factorize_xy(np.column_stack([x, y]))
    return shapely.points(uxy[:, 0], uxy[:, 1])[codes]
