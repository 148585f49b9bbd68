"""How many places: the concentration curve and its sentence (docs/design.md §6, issue 11 item 5).

Places (wards, grid cells, patrol areas) are sorted by their count — or harm — descending (ties:
the smaller area first, then input order); the curve is the cumulative share of the total
against the cumulative share of the area (the "80/20" curve). `sentence` reads it at N places:
"3 places hold 48% of ASB in 2.6% of the area".

Percentages: whole numbers by default, one decimal below 10% (so 2.6% is not shown as 3%), or
always whole / always one decimal with ``decimals=0`` / ``1``; rounded half away from zero.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from hotspot_app.core.errors import InputError
from hotspot_app.core.measures import share_pct

CURVE_COLUMNS = ["n", "place", "value", "area_m2", "cum_value", "cum_area_m2", "value_share",
                 "area_share"]


def _array(values, name: str) -> np.ndarray:
    a = np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)
    bad = ~np.isfinite(a) | (a < 0)
    if bad.any():
        raise InputError(f"{name} must be numbers >= 0 (place {int(np.flatnonzero(bad)[0]) + 1} "
                         "is not)", parameter=name)
    return a


def curve(values: Sequence[float], areas_m2: Sequence[float],
          places: Sequence | None = None) -> pd.DataFrame:
    """Cumulative share of `values` (incidents or harm) against cumulative share of area.

    One row per place, sorted by value descending (ties: smaller area first, then input order):
    ``n`` (1..), ``place`` (from `places`, else the input position), ``value``, ``area_m2``,
    ``cum_value``, ``cum_area_m2``, ``value_share`` and ``area_share`` (0..1 of the totals).
    `InputError` for missing or negative values or areas, or when lengths differ."""
    v = _array(values, "values")
    a = _array(areas_m2, "areas_m2")
    if len(v) != len(a):
        raise InputError("values and areas_m2 need one value per place", parameter="areas_m2")
    labels = np.arange(len(v)) if places is None else np.asarray(list(places), dtype=object)
    if len(labels) != len(v):
        raise InputError("places need one name per value", parameter="places")
    order = np.lexsort((np.arange(len(v)), a, -v))
    v, a, labels = v[order], a[order], labels[order]
    cv, ca = np.cumsum(v), np.cumsum(a)
    tv, ta = (cv[-1], ca[-1]) if len(v) else (0.0, 0.0)
    return pd.DataFrame({
        "n": np.arange(1, len(v) + 1), "place": labels, "value": v, "area_m2": a,
        "cum_value": cv, "cum_area_m2": ca,
        "value_share": cv / tv if tv > 0 else np.full(len(v), np.nan),
        "area_share": ca / ta if ta > 0 else np.full(len(v), np.nan),
    })[CURVE_COLUMNS]


def percent(share: float, decimals: int | None = None) -> str:
    """0.4812 -> "48%"; 0.0256 -> "2.6%" (one decimal below 10% unless `decimals` is given)."""
    if decimals not in (None, 0, 1):
        raise InputError("decimals must be 0, 1 or None", parameter="decimals")
    d = decimals if decimals is not None else (1 if float(share) < 0.1 else 0)
    q = share_pct(float(share), 1.0, places=d)
    return f"{q:.{d}f}%"


def sentence(values: Sequence[float], areas_m2: Sequence[float], n: int, *, what: str = "incidents",
             places: str = "places", decimals: int | None = None) -> str:
    """"3 places hold 48% of ASB in 2.6% of the area": the top `n` places of `curve`.

    `what` names the values ("ASB", "the harm"); `places` the kind of place ("wards", "patrol
    areas"; "place"/"places" agree with `n`). `n` larger than the number of places is capped."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise InputError(f"n must be a whole number >= 1 (got {n!r})", parameter="n")
    c = curve(values, areas_m2)
    if len(c) == 0 or c["cum_value"].iloc[-1] <= 0:
        raise InputError(f"no {what} to describe: the places hold none", parameter="values")
    row = c.iloc[min(int(n), len(c)) - 1]
    k = int(row["n"])
    noun = places[:-1] if k == 1 and places.endswith("s") else places
    verb = "holds" if k == 1 else "hold"
    return (f"{k:,} {noun} {verb} {percent(row['value_share'], decimals)} of {what} in "
            f"{percent(row['area_share'], decimals)} of the area")
