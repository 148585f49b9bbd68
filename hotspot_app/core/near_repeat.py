"""Near repeats: after an incident, are more incidents than chance would give close by and soon?

The Knox test (Knox 1964) with Monte Carlo permutations, as in Ratcliffe's Near Repeat
Calculator and ptools' ``near_strings``/Knox tools:

* every pair of incidents is put in a distance band x time band: distance bands from
  `distance_m` edges (e.g. 0, 100, 200, 400 m give 0-100, 100-200 and 200-400 m) and time
  bands from `days` edges (0, 7, 14, 28 give 0-7, 7-14 and 14-28 days). A band includes its
  upper edge and, for the first band, its lower edge too (0 <= d <= 100, 100 < d <= 200, ...);
  the time between two incidents is the absolute difference of their dates in days.
* **observed** = the pairs in the band;
* **expected** = the mean count over `permutations` data sets in which the dates are shuffled
  among the incidents (locations kept), i.e. what the same places and the same dates would give
  with no link between where and when (seeded: the same seed gives the same answer);
* **ratio** = observed / expected (the Knox ratio; None when expected is 0): "within 100 m and
  7 days of a burglary, the number of further burglaries is 2.1 times what chance gives";
* **p_value** = (1 + permutations with a count >= observed) / (1 + permutations), one-sided
  (more pairs than chance). It is per band, not corrected for the number of bands; the result
  says so.

The test needs the date of each incident. police.uk publishes months only: such data are
refused with an `InputError` saying that near-repeat needs dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hotspot_app.core import selection, taxonomy
from hotspot_app.core.errors import InputError

DISTANCE_M = (0.0, 100.0, 200.0, 400.0)
DAYS = (0.0, 7.0, 14.0, 28.0)
PERMUTATIONS = 99
#: More pairs within the largest band than this is refused (memory: about 16 bytes a pair).
MAX_PAIRS = 40_000_000


@dataclass
class NearRepeat:
    """Result of `knox`.

    Attributes
    ----------
    bands : DataFrame
        One row per distance band x time band: ``distance_from``, ``distance_to`` (m),
        ``days_from``, ``days_to``, ``observed``, ``expected``, ``ratio``, ``p_value``.
    parameters : dict
    warnings : list of str
    """

    bands: pd.DataFrame
    parameters: dict
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON document of ``hotspot near-repeat`` (docs/design.md §5c)."""
        rows = [{"distance_m": [_num(r.distance_from), _num(r.distance_to)],
                 "days": [_num(r.days_from), _num(r.days_to)], "observed": int(r.observed),
                 "expected": round(float(r.expected), 3),
                 "ratio": None if r.ratio is None or not np.isfinite(r.ratio) else round(float(r.ratio), 3),
                 "p_value": round(float(r.p_value), 4)}
                for r in self.bands.itertuples(index=False)]
        return {"bands": rows, "parameters": self.parameters, "sentences": self.sentences(),
                "warnings": list(self.warnings)}

    def sentences(self, alpha: float = 0.05) -> list[str]:
        """One sentence per band with more pairs than chance at `alpha` (ratio > 1)."""
        what = self.parameters.get("what") or "an incident"
        out = []
        for r in self.bands.itertuples(index=False):
            if r.ratio is not None and np.isfinite(r.ratio) and r.ratio > 1 and r.p_value < alpha:
                out.append(f"Within {_num(r.distance_from)}-{_num(r.distance_to)} m and "
                           f"{_num(r.days_from)}-{_num(r.days_to)} days of {what}, further incidents "
                           f"were {r.ratio:.1f} times as common as chance would give "
                           f"({int(r.observed)} pairs against {r.expected:.1f} expected; "
                           f"p = {r.p_value:.3f}).")
        return out


def _num(v: float):
    return int(v) if float(v).is_integer() else float(v)


def _edges(values: Sequence[float], name: str) -> np.ndarray:
    try:
        e = np.asarray([float(v) for v in values], dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers, e.g. 0,100,200,400 (got {values!r})",
                         parameter=name) from None
    if len(e) < 2 or not np.isfinite(e).all() or (e < 0).any() or (np.diff(e) <= 0).any():
        raise InputError(f"{name} must be at least two increasing numbers >= 0, e.g. "
                         f"0,100,200,400 (got {', '.join(f'{v:g}' for v in e)})", parameter=name)
    return e


def _band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index of each value (0 .. len(edges) - 2; -1 outside): [e0, e1], (e1, e2], ..."""
    b = np.searchsorted(edges, values, side="left") - 1
    b[values == edges[0]] = 0
    b[(values < edges[0]) | (values > edges[-1])] = -1
    return b


def day_numbers(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970 as float, mask of incidents with a date)."""
    if "occurred" not in incidents.columns:
        return np.zeros(len(incidents)), np.zeros(len(incidents), dtype=bool)
    occ = pd.to_datetime(incidents["occurred"])
    if occ.dt.tz is not None:
        occ = occ.dt.tz_localize(None)
    dated = occ.notna().to_numpy()
    days = ((occ - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return np.nan_to_num(days), dated


def knox(
    incidents: gpd.GeoDataFrame,
    *,
    category=None,
    period=None,
    distance_m: Sequence[float] = DISTANCE_M,
    days: Sequence[float] = DAYS,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> NearRepeat:
    """Knox test of near repeats over distance x time bands (module docstring).

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700) with ``occurred`` dates; not modified.
    category, period : optional
        As everywhere (``burglary``, ``deliberate-fires``...; ``FROM..TO``).
    distance_m, days : sequence of numbers
        Band edges in metres and days, increasing, from e.g. 0.
    permutations : int
        Monte Carlo permutations of the dates (1..9,999).
    seed : int
        Seed of the permutations.

    Returns
    -------
    NearRepeat
    """
    d_edges, t_edges = _edges(distance_m, "distance_m"), _edges(days, "days")
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) \
            or not 1 <= permutations <= 9_999:
        raise InputError(f"permutations must be a whole number from 1 to 9,999 (got {permutations!r})",
                         parameter="permutations")
    sel = selection.select(incidents, category, period)
    t, dated = day_numbers(sel)
    notes = []
    if len(sel) and not dated.any():
        raise InputError("near-repeat needs dates: these incidents have only a month (police.uk "
                         "publishes months, not dates); use records with dates, e.g. the force's "
                         "or the fire service's own extract", column="occurred")
    if len(sel) and not dated.all():
        notes.append(f"{int((~dated).sum()):,} of {len(sel):,} incidents have only a month and are "
                     "left out; the test uses the dated ones")
    xy = selection.coordinates(sel)[dated]
    t = t[dated]
    n = len(t)
    if n < 2:
        raise InputError(f"near-repeat needs at least 2 dated incidents (got {n})",
                         parameter="category")
    tree = cKDTree(xy)
    n_pairs = tree.count_neighbors(tree, d_edges[-1] * (1 + 1e-12))
    n_pairs = (int(n_pairs) - n) // 2
    if n_pairs > MAX_PAIRS:
        raise InputError(f"{n_pairs:,} pairs of incidents lie within {d_edges[-1]:g} m of each "
                         f"other (more than {MAX_PAIRS:,}); use a shorter period or smaller "
                         "distance bands", parameter="distance_m")
    pairs = tree.query_pairs(d_edges[-1] * (1 + 1e-12), output_type="ndarray")
    i, j = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.empty(0, int), np.empty(0, int))
    dist = np.hypot(*(xy[i] - xy[j]).T) if len(i) else np.empty(0)
    db = _band(dist, d_edges)
    keep = db >= 0
    i, j, db = i[keep], j[keep], db[keep]
    nd, nt = len(d_edges) - 1, len(t_edges) - 1

    def table(times: np.ndarray) -> np.ndarray:
        tb = _band(np.abs(times[i] - times[j]), t_edges)
        ok = tb >= 0
        return np.bincount(db[ok] * nt + tb[ok], minlength=nd * nt)

    observed = table(t)
    rng = np.random.default_rng(seed)
    sims = np.empty((permutations, nd * nt), dtype=np.int64)
    for k in range(permutations):
        sims[k] = table(t[rng.permutation(n)])
    expected = sims.mean(axis=0)
    p = (1 + (sims >= observed).sum(axis=0)) / (1 + permutations)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1), np.nan)
    di, ti = np.divmod(np.arange(nd * nt), nt)
    bands = pd.DataFrame({
        "distance_from": d_edges[di], "distance_to": d_edges[di + 1],
        "days_from": t_edges[ti], "days_to": t_edges[ti + 1],
        "observed": observed, "expected": expected,
        "ratio": pd.Series([None if not np.isfinite(r) else float(r) for r in ratio], dtype=object),
        "p_value": p,
    })
    notes.append(f"p-values are per band ({nd * nt} bands, one-sided, {permutations} permutations); "
                 "with many bands one may fall below 0.05 by chance")
    cats = taxonomy.category_list(category) if category is not None else None
    params = {"method": "Knox test, Monte Carlo permutations of the dates (locations kept)",
              "category": cats, "what": _what(cats),
              "period": _period_text(period),
              "distance_m": [_num(v) for v in d_edges], "days": [_num(v) for v in t_edges],
              "permutations": int(permutations), "seed": int(seed), "n_incidents": int(n),
              "n_pairs_within": int(len(i))}
    return NearRepeat(bands, params, notes)


def _period_text(period) -> str | None:
    months = selection.parse_period(period)
    if months is None:
        return None
    if len(months) == 2 and (months[0] is None or months[1] is None):
        return f"{months[0] or ''}..{months[1] or ''}"
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"


def _what(cats: list[str] | None) -> str:
    return f"an incident ({', '.join(cats)})" if cats else "an incident"
