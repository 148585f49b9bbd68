"""Emerging hot spots: which grid cells are new, intensifying, persistent, ... hot (or cold) spots.

The method is ArcGIS Pro's *Emerging Hot Spot Analysis* (Space Time Pattern Mining toolbox),
whose definitions are followed here:

* https://pro.arcgis.com/en/pro-app/latest/tool-reference/space-time-pattern-mining/emerginghotspots.htm
  (the tool: "a space-time implementation of the Getis-Ord Gi* statistic"; neighbourhood
  distance and *neighborhood time step*; locations analysed are those with at least one point in
  at least one time step unless a mask is given)
* https://pro.arcgis.com/en/pro-app/latest/tool-reference/space-time-pattern-mining/learnmoreemerging.htm
  (how it works: Gi* per bin with an FDR correction, then the Mann-Kendall trend test on each
  location's series, then the pattern definitions below)

R's ``sfdep::emerging_hotspot_analysis`` implements the same scheme (Gi* with time-lagged
neighbours, ``Kendall::MannKendall`` on the Gi* series).

Steps
-----
1. **Cube**: incidents counted per grid cell (``cell_m``) and time step (``period_months``
   months, default 1) — ``cube.build``. Cells analysed: those with at least one incident in the
   window, or every cell of `areas` when given (ArcGIS's polygon analysis mask).
2. **Space-time Gi***: the neighbours of bin (i, t) are cell i's spatial neighbours (queen, or
   a distance band in metres; the cell itself included) in time steps t, t-1, ..., t-k
   (``time_steps`` = k, default 1, ArcGIS's *Neighborhood Time Step*). The Gi* z-score is
   ``hotspots.gi_star_z`` (the project's Gi*, checked against esda) on the whole cube, i.e. with
   the global mean and standard deviation of all bins (ArcGIS's default global window, *entire
   cube*); the weights are the Kronecker product of the time band and the spatial weights.
3. **Significance**: two-sided normal p-values, corrected over **all bins of the cube** with
   the Benjamini-Hochberg false discovery rate (statsmodels ``multipletests(method="fdr_bh")``);
   a bin is a hot (cold) spot when its corrected p < ``alpha`` and z > 0 (z < 0).
4. **Trend**: the Mann-Kendall test (``mann_kendall``: tie-corrected, two-sided) on each
   cell's series of Gi* z-scores; ``trend_z`` > 0 means clustering of high counts is
   intensifying. Significant when ``trend_p`` < ``alpha`` (not corrected for multiple testing:
   the trend only qualifies cells that are already significant hot or cold spots).

Classes (ArcGIS Pro's definitions; T time steps, "hot" = a significant hot-spot bin)
-----------------------------------------------------------------------------------
``new``
    hot in the final time step and never significant (hot or cold) before.
``consecutive``
    a single uninterrupted run of at least two hot bins ending with the final time step, nothing
    significant before the run, and fewer than 90% of the bins hot.
``intensifying``
    hot in at least 90% of the time steps including the final one, with a significant upward
    trend in the Gi* z-scores.
``persistent``
    hot in at least 90% of the time steps including the final one, without a significant trend.
``diminishing``
    hot in at least 90% of the time steps including the final one, with a significant downward
    trend.
``oscillating``
    hot in the final time step, a significant cold spot in some earlier one, and hot in fewer
    than 90% of the time steps.
``sporadic``
    hot in the final time step, hot on and off before (fewer than 90% of the time steps hot),
    never a significant cold spot, and neither new nor consecutive.
``historical``
    not hot in the final time step but hot in at least 90% of the time steps.
``cold-new`` ... ``cold-historical``
    the same with hot and cold exchanged (``cold-intensifying``: ever colder, a downward trend).
``no pattern``
    significant in some bin but none of the above (ArcGIS: *no pattern detected*), e.g. hot for
    a few months last year and not since.
``not significant``
    never a significant hot or cold spot.

Where a cell fits both a hot and a cold definition (possible only for ``historical`` against a
cold pattern of the final step), the pattern of the final time step wins. ArcGIS asks for at
least 10 time steps for a trend worth reading; with fewer the result carries a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse, stats

from hotspot_app.core import hotspots, periods, selection, settings
from hotspot_app.core import cube as cube_mod
from hotspot_app.core.errors import InputError

#: The vocabulary, in legend order.
HOT_CLASSES = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
               "oscillating", "historical")
CLASSES = (*HOT_CLASSES, *(f"cold-{c}" for c in HOT_CLASSES), "no pattern", "not significant")

#: One sentence per class for legends, tables and the pack.
DESCRIPTIONS: dict[str, str] = {
    "new": "a hot spot in the final month for the first time",
    "consecutive": "hot in an unbroken run of recent months, never before",
    "intensifying": "hot in at least 90% of months and getting hotter",
    "persistent": "hot in at least 90% of months, no clear trend",
    "diminishing": "hot in at least 90% of months but cooling",
    "sporadic": "hot now, on and off before",
    "oscillating": "hot now, a cold spot in an earlier month",
    "historical": "hot in at least 90% of months, but not in the final month",
    "no pattern": "significant in some months, no pattern",
    "not significant": "never a significant hot or cold spot",
}
for _c in HOT_CLASSES:
    DESCRIPTIONS[f"cold-{_c}"] = ("cold spot: " + DESCRIPTIONS[_c].replace("hot spot", "cold spot")
                                  .replace("hotter", "colder").replace("hot", "cold"))

#: ArcGIS's threshold of "most" time steps.
SHARE = 0.9
#: Fewer time steps than this get a warning (ArcGIS's minimum for the trend).
MIN_STEPS = 10


@dataclass
class Emerging:
    """Result of `emerging_hotspots`.

    Attributes
    ----------
    cells : GeoDataFrame
        One row per analysed cell: ``cell_id``, ``row``, ``col``, ``x``, ``y``, ``count`` (all
        steps), ``n_hot``, ``n_cold`` (significant bins), ``gi_z_last`` (final step's z),
        ``trend_z``, ``trend_p`` (Mann-Kendall on the Gi* z-scores), ``class``, geometry.
    steps : list of str
        The time steps, ``FROM..TO`` (or one month).
    z, p_adj : ndarray (cells, steps)
        Gi* z-scores and FDR-corrected p-values of every bin.
    parameters : dict
        The method and every parameter used (JSON-ready).
    warnings : list of str
    """

    cells: gpd.GeoDataFrame
    steps: list[str]
    z: np.ndarray
    p_adj: np.ndarray
    parameters: dict
    warnings: list[str] = field(default_factory=list)

    def counts_by_class(self) -> dict[str, int]:
        vc = self.cells["class"].value_counts()
        return {c: int(vc[c]) for c in CLASSES if c in vc.index}

    def to_dict(self) -> dict:
        """JSON document for ``hotspot grid --method emerging`` (docs/design.md §5c): every analysed
        cell with ``class`` and ``trend_p``."""
        c = self.cells
        rows = [{"cell_id": cid, "x": round(float(x), 1), "y": round(float(y), 1), "count": int(n),
                 "n_hot": int(h), "n_cold": int(k), "gi_z_last": round(float(zl), 4),
                 "trend_z": round(float(tz), 4), "trend_p": float(tp), "class": cls}
                for cid, x, y, n, h, k, zl, tz, tp, cls in zip(
                    c["cell_id"], c["x"], c["y"], c["count"], c["n_hot"], c["n_cold"],
                    c["gi_z_last"], c["trend_z"], c["trend_p"], c["class"])]
        return {"parameters": self.parameters, "n_cells": len(self.cells),
                "classes": self.counts_by_class(), "cells": rows, "warnings": list(self.warnings)}


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann–Kendall trend test along axis 1 of a (cells, periods) array.

    Returns (z, two-sided p). S = Σ_{i<j} sign(x_j − x_i); Var S corrected for ties;
    z = (S − sign(S)) / sqrt(Var S)."""
    x = np.asarray(series, dtype=float)
    m, t = x.shape
    s = np.zeros(m)
    for i in range(t - 1):
        s += np.sign(x[:, i + 1:] - x[:, [i]]).sum(axis=1)
    var = np.full(m, t * (t - 1) * (2 * t + 5), dtype=float)
    for r in range(m):
        _, ties = np.unique(x[r], return_counts=True)
        ties = ties[ties > 1]
        var[r] -= (ties * (ties - 1) * (2 * ties + 5)).sum()
    var /= 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    return z, 2 * stats.norm.sf(np.abs(z))


def space_time_weights(spatial: sparse.spmatrix, n_steps: int, time_steps: int) -> sparse.csr_matrix:
    """Binary weights over bins ordered time-major (bin = t * n + i): bin (i, t) neighbours
    (j, s) when j is a spatial neighbour of i (self included) and 0 <= t - s <= `time_steps`."""
    band = sparse.diags([np.ones(n_steps - d) for d in range(time_steps + 1)],
                        [-d for d in range(time_steps + 1)], shape=(n_steps, n_steps))
    return sparse.kron(band, spatial, format="csr")


def _final_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at the last column, per row."""
    rev = flags[:, ::-1]
    return np.where(rev.all(axis=1), flags.shape[1], np.argmin(rev, axis=1))


def classify(hot: np.ndarray, cold: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray,
             alpha: float = 0.05) -> np.ndarray:
    """Class of each cell (rows) from its significant hot / cold bins (cells, steps) and the
    Mann-Kendall trend of its Gi* z-scores (definitions in the module docstring)."""
    hot, cold = np.asarray(hot, bool), np.asarray(cold, bool)
    n = len(hot)
    up = (np.asarray(trend_p) < alpha) & (np.asarray(trend_z) > 0)
    down = (np.asarray(trend_p) < alpha) & (np.asarray(trend_z) < 0)
    out = np.full(n, "not significant", dtype=object)
    out[(hot | cold).any(axis=1)] = "no pattern"

    def patterns(a: np.ndarray, b: np.ndarray, rising: np.ndarray, falling: np.ndarray, prefix: str):
        """Final-step patterns of spots `a` (the other kind `b`), and the historical mask."""
        final = a[:, -1]
        share = a.mean(axis=1)
        most = share >= SHARE - 1e-12
        run = _final_run(a)
        earlier = np.arange(a.shape[1])[None, :] < (a.shape[1] - run)[:, None]
        before_run = ((a | b) & earlier).any(axis=1)
        b_before = b[:, :-1].any(axis=1)
        got = np.full(n, None, dtype=object)
        cond = [
            (final & most & rising, "intensifying"),
            (final & most & falling, "diminishing"),
            (final & most & ~rising & ~falling, "persistent"),
            (final & ~most & (run == 1) & ~before_run, "new"),
            (final & ~most & (run >= 2) & ~before_run, "consecutive"),
            (final & ~most & b_before, "oscillating"),
            (final & ~most, "sporadic"),
        ]
        for mask, name in cond:
            take = mask & (got == None)  # noqa: E711  (object array comparison)
            got[take] = prefix + name
        historical = ~final & most
        return got, historical

    hot_final, hot_hist = patterns(hot, cold, up, down, "")
    cold_final, cold_hist = patterns(cold, hot, down, up, "cold-")
    for got in (hot_final, cold_final):
        has = got != None  # noqa: E711
        out[has] = got[has]
    final_any = (hot_final != None) | (cold_final != None)  # noqa: E711
    out[hot_hist & ~final_any] = "historical"
    out[cold_hist & ~final_any & ~hot_hist] = "cold-historical"
    return out


def _steps(months: list[str], period_months: int) -> tuple[list[list[str]], list[str]]:
    """Blocks of `period_months` months ending with the last month; leading months that do not
    fill a block are left out (returned second)."""
    k = len(months) % period_months
    dropped, kept = months[:k], months[k:]
    return [kept[i:i + period_months] for i in range(0, len(kept), period_months)], dropped


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    cell_m: float = settings.CELL_M,
    shape: str = "square",
    *,
    category=None,
    period=None,
    period_months: int = 1,
    time_steps: int = 1,
    spatial_weights: str | float = "queen",
    alpha: float = 0.05,
    areas: gpd.GeoDataFrame | None = None,
) -> Emerging:
    """Emerging hot spot classes of grid cells over monthly (or `period_months`) time steps.

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700); not modified.
    cell_m : float
        Cell side in metres (``shape="hex"``: hexagons of the same area).
    category : optional
        Categories or named groups (``asb``, ``burglary``...).
    period : optional
        ``FROM..TO`` (or ``(from, to)``); default every month from the first to the last month
        of the selected incidents.
    period_months : int
        Months per time step (default 1). Blocks end with the last month.
    time_steps : int
        Earlier time steps in each bin's neighbourhood (ArcGIS's *Neighborhood Time Step*; 0 =
        only the same step).
    spatial_weights : "queen" or float
        Spatial neighbours: the cells around (queen) or cells whose centres lie within that
        many metres.
    alpha : float
        Significance level of the FDR-corrected Gi* bins and of the trend test.
    areas : GeoDataFrame, optional
        The study area (every cell in it is analysed); default the cells with incidents.

    Returns
    -------
    Emerging
    """
    selection.validate_params(cell_m=cell_m, alpha=alpha)
    for name, value, lo in (("period_months", period_months, 1), ("time_steps", time_steps, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise InputError(f"{name} must be a whole number >= {lo} (got {value!r})", parameter=name)
    sel = selection.select(incidents, category, period)
    if len(sel) == 0:
        raise InputError("no incidents of the chosen categories and period", parameter="category")
    months = selection.parse_period(period)
    if months is None or (len(months) == 2 and (months[0] is None or months[1] is None)):
        seen = sorted(sel["month"].astype(str).unique())
        lo = months[0] if months and months[0] else seen[0]
        hi = months[1] if months and months[1] else seen[-1]
        months = periods.month_range(lo, hi)
    blocks, dropped = _steps(months, period_months)
    if len(blocks) < 2:
        raise InputError(f"emerging hot spots need at least 2 time steps; {len(months)} months "
                         f"give {len(blocks)} of {period_months} months", parameter="period")
    used = [m for b in blocks for m in b]
    c = cube_mod.build(incidents, used, cell_m, shape, category=category, areas=areas)
    notes = list(c.warnings)
    gaps = [m for m, ok in zip(c.months, c.covered) if not ok]
    if gaps:
        raise InputError(f"no data loaded for {', '.join(gaps)}: an empty month would read as a "
                         "cold spot; choose a period the data cover", parameter="period")
    if dropped:
        notes.append(f"{', '.join(dropped)} left out: time steps of {period_months} months end "
                     f"with {used[-1]}")
    T = len(blocks)
    counts = c.counts.reshape(len(c.cells), T, period_months).sum(axis=2)
    keep = np.ones(len(c.cells), bool) if areas is not None else counts.sum(axis=1) > 0
    cells = c.cells.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    cells.attrs = dict(c.cells.attrs)
    x = counts[keep]
    n = len(cells)
    if n < 2:
        raise InputError("fewer than 2 cells hold incidents; use a smaller cell_m", parameter="cell_m")
    if time_steps >= T:
        raise InputError(f"time_steps ({time_steps}) must be below the number of time steps ({T})",
                         parameter="time_steps")
    W = space_time_weights(hotspots.neighbours(cells, spatial_weights), T, time_steps)
    z = hotspots.gi_star_z(x.T.ravel().astype(float), W).reshape(T, n).T
    p = 2 * stats.norm.sf(np.abs(z))
    from statsmodels.stats.multitest import multipletests

    p_adj = multipletests(p.ravel(), alpha=alpha, method="fdr_bh")[1].reshape(n, T)
    sig = p_adj < alpha
    hot, cold = sig & (z > 0), sig & (z < 0)
    tz, tp = mann_kendall(z)
    out = cells[["cell_id", "row", "col", "x", "y"]].copy()
    out["count"] = x.sum(axis=1)
    out["n_hot"], out["n_cold"] = hot.sum(axis=1), cold.sum(axis=1)
    out["gi_z_last"] = z[:, -1]
    out["trend_z"], out["trend_p"] = tz, tp
    out["class"] = classify(hot, cold, tz, tp, alpha)
    out = gpd.GeoDataFrame(out, geometry=cells.geometry.values, crs=settings.CRS)
    out.attrs = {"grid": cells.attrs["grid"]}
    if T < MIN_STEPS:
        notes.append(f"only {T} time steps: ArcGIS asks for at least {MIN_STEPS} before its "
                     "trend and 90% rules are worth reading")
    steps = [b[0] if len(b) == 1 else f"{b[0]}..{b[-1]}" for b in blocks]
    params = {
        "method": "emerging hot spots (space-time Gi*, Mann-Kendall trend; ArcGIS Pro definitions)",
        "cell_m": float(cell_m), "shape": shape,
        "category": None if category is None else selection_list(category),
        "from": used[0], "to": used[-1], "period_months": int(period_months),
        "time_steps": int(time_steps),
        "spatial_weights": spatial_weights if isinstance(spatial_weights, str) else float(spatial_weights),
        "alpha": float(alpha), "correction": "fdr_bh over all bins",
        "trend": "Mann-Kendall on the Gi* z-scores",
        "cells": "every cell of the areas" if areas is not None else "cells with incidents",
        "n_incidents": int(c.n_incidents),
    }
    return Emerging(out, steps, z, p_adj, params, notes)


def selection_list(category) -> list[str]:
    return [category] if isinstance(category, str) else list(category)


def legend(classes: Sequence[str] | None = None) -> pd.DataFrame:
    """The legend: ``class`` and ``meaning`` for `classes` (default all), in vocabulary order."""
    want = CLASSES if classes is None else [c for c in CLASSES if c in set(classes)]
    return pd.DataFrame({"class": list(want), "meaning": [DESCRIPTIONS[c] for c in want]})
