"""Distinct locations: the one place where incident coordinates are collapsed to distinct points.

police.uk snaps every incident to one of a fixed set of map points, so a force's year of
incidents sits on a few thousand coordinates. Everything that only needs a count (or a total
weight) per place — DBSCAN, grid counts, kernel density, map markers — runs on the distinct
locations and maps back to rows with the inverse index, so memory and time scale with the
number of distinct locations, not rows.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd


class Locations(NamedTuple):
    """``xy`` (k, 2) distinct coordinates; ``weight`` (k,) rows (or summed row weights) at each;
    ``inverse`` (n,) position of each row's location (``xy[inverse]`` gives the rows back);
    ``extra`` (k,) the distinct values of the extra key (e.g. a day number) or None."""

    xy: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray
    extra: np.ndarray | None = None


def distinct_hint(keys: np.ndarray) -> int | None:
    """The table size to hash `keys` with (pandas' ``size_hint``): four times the distinct keys
    of a sample of about 50,000 spread over the array when keys repeat (snapped locations, shared
    objects, codes), so the hash table stays in cache; None (a table for every row) when the
    sample is mostly distinct, where a small table would only grow. The hint never changes the
    result, only the speed."""
    n = len(keys)
    step = max(1, n // 50_000)
    sample = keys[::step]
    distinct = len(pd.unique(sample))
    if n > len(sample) and distinct > 0.5 * len(sample):
        return None
    return min(n, max(1024, 4 * distinct))


def factorize_xy(xy: np.ndarray, size_hint: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (x, y) rows in order of first appearance and each row's index into them: one
    hash pass, each row viewed as one complex128 value (exact, no rounding). The one home of
    "same location"; `distinct` and `areas` build on it.

    `size_hint` (expected number of distinct points) keeps the hash table small enough to stay
    in cache (about 3x faster on snapped data); it grows by itself if the guess is low. Without
    it the hint is estimated from a sample (`distinct_hint`)."""
    if len(xy) == 0:
        return np.asarray(xy, dtype=np.float64).reshape(0, 2), np.zeros(0, dtype=np.int64)
    key = np.ascontiguousarray(xy, dtype=np.float64).view(np.complex128).ravel()
    inverse, uniq = pd.factorize(key, size_hint=size_hint or distinct_hint(key))
    uniq = np.asarray(uniq, dtype=np.complex128)
    return np.column_stack([uniq.real, uniq.imag]), inverse


def object_ids(values: np.ndarray) -> np.ndarray:
    """The identity (address) of each object of a contiguous object array, as a read-only int
    view of the array's own pointer buffer (no copy, nothing dereferenced; the view keeps
    `values` alive, so addresses cannot be reused while it exists). Equal ids mean the very same
    object: the ingest makes one Point per distinct location and one string per distinct text."""
    return np.frombuffer(memoryview(values).cast("B"), dtype=np.intp)


def factorize_objects(values: np.ndarray, size_hint: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, distinct objects) of an object array whose rows share objects (as the ingest's
    columns do), found from the objects' identities, so nothing is hashed or compared per row;
    None when most rows hold objects of their own (then identity does not pay). Different
    objects may still be equal: callers that need distinct VALUES factorize the (few) distinct
    objects again. `size_hint`: the expected number of distinct objects (see `factorize_xy`;
    estimated from a sample when not given)."""
    values = np.ascontiguousarray(values, dtype=object)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), values
    ids = object_ids(values)
    if n > 100_000:
        # no object repeated among 10,000 rows spread over the column: each row has its own
        # (shared objects repeat within far fewer draws), so do not hash every identity
        sample = ids[:: n // 10_000]
        if len(pd.unique(sample)) == len(sample):
            return None
    codes, uniq = pd.factorize(ids, size_hint=size_hint or distinct_hint(ids))
    if n > 1_000 and len(uniq) > 0.5 * n:
        return None
    # codes number the objects in order of first appearance: a running maximum rises by one at
    # each first occurrence, which gives one representative row per distinct object
    first = np.searchsorted(np.maximum.accumulate(codes), np.arange(int(codes.max()) + 1))
    return codes, values[first]


def factorize_shared(values, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=sort)`` (codes, -1 for missing; distinct values), but for an
    object column whose rows share objects (the ingest's text columns) the objects are found by
    identity first and only the few distinct objects are hashed by value: the same result,
    several times faster on a million rows. Other columns go straight to pandas."""
    dtype = getattr(values, "dtype", None)
    if dtype == object:
        arr = np.asarray(values, dtype=object)
        found = factorize_objects(arr)
        if found is not None:
            codes, objects = found
            vcodes, uniq = pd.factorize(pd.Series(objects, dtype=object), sort=sort,
                                        use_na_sentinel=True)
            return np.asarray(vcodes)[codes], np.asarray(uniq, dtype=object)
        values = arr
    codes, uniq = pd.factorize(values, sort=sort, use_na_sentinel=True)
    return np.asarray(codes), uniq


def distinct(xy: np.ndarray, weight: np.ndarray | None = None,
             extra: np.ndarray | None = None) -> Locations:
    """Distinct rows of `xy` (and of `extra`, e.g. a day number, when given).

    Without `extra` locations come in order of first appearance (hashing, fast); with `extra`
    they are sorted lexicographically by (x, y, extra). ``weight`` of a location is the number
    of rows there, or the sum of `weight` over them. The input is not modified.
    """
    xy = np.asarray(xy, dtype=np.float64)
    n = len(xy)
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    if n == 0:
        return Locations(np.empty((0, 2)), np.empty(0), np.empty(0, dtype=np.int64),
                         None if extra is None else np.empty(0))
    if extra is None:
        uxy, inverse = factorize_xy(xy)
        uw = np.bincount(inverse, weights=w, minlength=len(uxy))
        return Locations(uxy, uw, inverse.astype(np.int64))
    cols = [xy[:, 0], xy[:, 1], np.asarray(extra, dtype=float)]
    order = np.lexsort(cols[::-1])
    keys = [c[order] for c in cols]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any([k[1:] != k[:-1] for k in keys], axis=0)
    group = np.cumsum(new) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group
    uw = np.bincount(group, weights=w[order])
    return Locations(np.column_stack([keys[0][new], keys[1][new]]), uw, inverse, keys[2][new])


# Letters of the 100 km squares of the OS National Grid: a 5 x 5 grid of 500 km squares
# (S, T, N, O, H, ...) each cut into 5 x 5 squares of 100 km, lettered A-Z without I, row by row
# from the top left. False origin: square SV.
_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"


def grid_ref(easting: float, northing: float, digits: int = 8) -> str | None:
    """OS National Grid reference of a point in EPSG:27700 metres: ``"NZ 4923 1784"`` (8 digits,
    10 m squares), truncated as the OS convention is (the square the point lies in). `digits` is
    the total number of digits: 2, 4, 6, 8 or 10. None outside the grid (0-700 km east,
    0-1300 km north) or for a missing value."""
    if digits not in (2, 4, 6, 8, 10):
        raise ValueError("digits must be 2, 4, 6, 8 or 10")
    try:
        e, n = float(easting), float(northing)
    except (TypeError, ValueError):
        return None
    if not (0 <= e < 700_000 and 0 <= n < 1_300_000):
        return None
    e100, n100 = int(e // 100_000), int(n // 100_000)
    first = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    second = ((19 - n100) * 5) % 25 + e100 % 5
    half = digits // 2
    unit = 10 ** (5 - half)
    ee = int((e % 100_000) // unit)
    nn = int((n % 100_000) // unit)
    return f"{_LETTERS[first]}{_LETTERS[second]} {ee:0{half}d} {nn:0{half}d}"


def lonlat(xy: np.ndarray) -> np.ndarray:
    """(n, 2) longitude, latitude (EPSG:4326) of (n, 2) EPSG:27700 coordinates (pyproj)."""
    from pyproj import Transformer

    from hotspot_app.core import settings

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    tr = Transformer.from_crs(settings.CRS, settings.CRS_WGS84, always_xy=True)
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])
