"""Which method predicts next month here: a rolling-origin backtest of hot spot maps.

For each scoring month m in the window, every method builds its map **only from months before
m**, flags the top cells covering a fixed share of the study area (``area_share``, default 5%),
and is scored on month m's incidents. The scores are averaged over the months and the method
with the highest mean PAI is named best (ties: the higher PEI).

Grid and study area
-------------------
One grid of ``cell_m`` cells (``cube.build``) over the study area: the union of `areas` when
given, else the convex hull of the selected incidents of every month used, buffered by one
cell. A = the area of all its cells; the flagged area a = ``area_share`` x A exactly (see ties).

Methods (each month m; counts per cell from the months before m)
-----------------------------------------------------------------
``last-month``       counts in m-1.
``last-3-months``    counts in m-3..m-1.
``last-12-months``   counts in m-12..m-1.
``kde``              Gaussian kernel density (standard deviation ``bandwidth_m``, default
                     ``cell_m``) of the incidents of m-12..m-1, at the cell centres: the
                     definition of ``hotspots.kde`` (the kernel is cut at 5 bandwidths, which
                     changes densities by less than 4e-6 of the peak, and no ranking here).
``gistar``           Getis-Ord Gi* z-score (``hotspots.gi_star_z``, queen neighbours) of the
                     12-month counts.
``dbscan``           the DBSCAN patrol areas of m-12..m-1 (``clusters.label_locations`` on the
                     distinct locations weighted by their counts; polygons as
                     ``cluster_areas.polygon``; ``eps_m``/``min_samples`` default to the app's
                     street-level preset). Cells meeting a patrol area come first, by the
                     area's rank (most incidents first), then by their own 12-month count; when
                     the patrol areas meet fewer cells than the share, the busiest other cells
                     (12-month counts) fill it, so every map flags the same area (a warning
                     gives the patrol areas' own share).
``seasonal``         a seasonal count model: the cell's mean count in the same calendar month of
                     the earlier years held (m-12, m-24, ... with their following 11 months
                     covered), shrunk half-way towards its level (mean monthly count over
                     m-12..m-1) times the area-wide seasonal index of that calendar month (the
                     area's total in that month over its mean monthly total in the 12 months
                     from it, averaged over those years):
                     ``0.5 * same_month + 0.5 * index * level``.

Scores (each month)
-------------------
* **PAI**, Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008) = (n/N) / (a/A): n of
  month m's N incidents fall in the flagged cells.
* **PEI**, Predictive Efficiency Index (Hunt 2016) = n / n*: n* the most incidents of month m
  any selection of the same area could hold (the busiest cells of month m itself); 1 = perfect.
* **RRI**, Recapture Rate Index (Levine 2008) = (n/N) / (n1/N1): the flagged cells' share of
  month m's incidents over their share of the incidents the map was built from (n1 of N1).
  None when n1 = 0.

Ties: cells tied with the last flagged cell share the remaining area, each counted with the
same fraction (the expectation over every order of the tied cells), so a is exactly the share
asked for and no rule favours one cell over another. A month is scored only when it has data
and every method asked for has the history it needs (covered months); skipped months are named
in the warnings, so every method's mean is over the same months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from hotspot_app.core import cluster_areas, clusters, hotspots, locations, patrol, periods, selection, settings
from hotspot_app.core import cube as cube_mod
from hotspot_app.core.errors import InputError

METHODS = ("last-month", "last-3-months", "last-12-months", "kde", "gistar", "dbscan", "seasonal")
#: Months of history each method needs before the scoring month.
HISTORY = {"last-month": 1, "last-3-months": 3, "last-12-months": 12, "kde": 12, "gistar": 12,
           "dbscan": 12, "seasonal": 12}
#: The KDE kernel is cut at this many bandwidths.
KDE_CUTOFF = 5.0


@dataclass
class Backtest:
    """Result of `backtest`.

    Attributes
    ----------
    table : DataFrame
        One row per method: ``method``, ``pai``, ``pei``, ``rri`` (means over the months
        scored; rri over the months where it is defined), ``months``, ``hit_rate`` (mean n/N),
        and the spread over the
        months: ``pai_sd``, ``pei_sd``, ``rri_sd`` (sample standard deviation; None with fewer
        than 2 months), ``pai_min``, ``pai_max``.
    monthly : DataFrame
        One row per method and month: ``method``, ``month``, ``pai``, ``pei``, ``rri``, ``n``,
        ``N``, ``n_best``, ``area_share`` (flagged share of the study area), ``hit_rate``
        (n/N), ``patrol_share`` (dbscan: share of the study area the patrol areas meet).
    best : str or None
        The method with the highest mean PAI (ties: PEI); None when no month was scored.
    parameters : dict
    warnings : list of str
    """

    table: pd.DataFrame
    monthly: pd.DataFrame
    best: str | None
    parameters: dict
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON document of ``hotspot backtest`` (docs/design.md §5c)."""
        def num(v, nd=4):
            return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else round(float(v), nd)

        methods = [{"method": r.method, "pai": num(r.pai), "pei": num(r.pei), "rri": num(r.rri),
                    "months": int(r.months), "pai_sd": num(r.pai_sd), "pei_sd": num(r.pei_sd),
                    "rri_sd": num(r.rri_sd)}
                   for r in self.table.itertuples(index=False)]
        return {"area_share": self.parameters["area_share"], "methods": methods, "best": self.best,
                "parameters": self.parameters, "warnings": list(self.warnings)}

    def sentence(self) -> str | None:
        """One sentence for the page: which method predicted best, and how well."""
        if self.best is None:
            return None
        r = self.table.set_index("method").loc[self.best]
        p = self.parameters
        return (f"Over {int(r.months)} months ({p['from']} to {p['to']}), the {label(self.best)} "
                f"map predicted the next month best: the {p['area_share']:.0%} of the area it "
                f"flagged held {r.hit_rate:.0%} of the month's incidents on average (PAI "
                f"{r.pai:.1f}, PEI {r.pei:.2f}).")


def label(method: str) -> str:
    return {"last-month": "last month's counts", "last-3-months": "last 3 months' counts",
            "last-12-months": "last 12 months' counts", "kde": "kernel density",
            "gistar": "Gi*", "dbscan": "patrol-area (DBSCAN)",
            "seasonal": "seasonal count model"}.get(method, method)


def top_share(score: np.ndarray, k: float) -> np.ndarray:
    """Weights (0..1) of the cells flagged by the top `k` cells (k may be fractional) ranked by
    `score`: 1 above the boundary, the same fraction for every cell tied at it, 0 below.
    Cells with score -inf are never flagged (then the weights may sum to less than k)."""
    score = np.asarray(score, dtype=float)
    w = np.zeros(len(score))
    ok = np.isfinite(score)
    if k <= 0 or not ok.any():
        return w
    vals, inv, size = np.unique(-score[ok], return_inverse=True, return_counts=True)
    before = np.concatenate([[0], np.cumsum(size)[:-1]])
    frac = np.clip((k - before) / size, 0.0, 1.0)
    w[ok] = frac[inv]
    return w


def _window(mat: sparse.csr_matrix | np.ndarray, first: int, last: int) -> np.ndarray:
    return np.asarray(mat[:, first:last + 1].sum(axis=1)).ravel().astype(float)


@dataclass
class _Data:
    cube: cube_mod.Cube
    loc_xy: np.ndarray              # distinct locations of the selected incidents
    loc_month: sparse.csr_matrix    # (locations, months) counts
    W: sparse.csr_matrix            # queen neighbours of the cells (self included)
    K: sparse.csr_matrix | None     # (cells, locations) Gaussian kernel
    tree: shapely.STRtree


def _kernel(cells: gpd.GeoDataFrame, loc_xy: np.ndarray, bw: float) -> sparse.csr_matrix:
    """Gaussian kernel weights between cell centres and locations within KDE_CUTOFF bandwidths
    (normalised to a density per m²)."""
    centres = cells[["x", "y"]].to_numpy()
    if len(loc_xy) == 0:
        return sparse.csr_matrix((len(centres), 0))
    pairs = cKDTree(centres).sparse_distance_matrix(cKDTree(loc_xy), KDE_CUTOFF * bw,
                                                    output_type="ndarray")
    k = np.exp(-0.5 * (pairs["v"] / bw) ** 2) / (2 * np.pi * bw * bw)
    return sparse.csr_matrix((k, (pairs["i"], pairs["j"])), shape=(len(centres), len(loc_xy)))


def _dbscan_score(d: _Data, first: int, last: int, train: np.ndarray, eps_m: float,
                  min_samples: int) -> np.ndarray:
    w = _window(d.loc_month, first, last)
    live = w > 0
    score = train.copy()        # cells outside every patrol area: their own 12-month count
    if not live.any():
        return score, 0.0
    xy, uw = d.loc_xy[live], w[live]
    labels, _ = clusters.label_locations(xy, uw, eps_m, min_samples)
    ok = labels >= 0
    if not ok.any():
        return score, 0.0
    lab, inv = np.unique(labels[ok], return_inverse=True)
    size = np.bincount(inv, weights=uw[ok])
    rank = np.empty(len(lab), dtype=np.int64)
    rank[np.argsort(-size, kind="stable")] = np.arange(1, len(lab) + 1)
    polys = [cluster_areas.polygon(xy[ok][inv == g], eps_m) for g in range(len(lab))]
    pi, ci = d.tree.query(np.asarray(polys, dtype=object), predicate="intersects")
    best = np.full(len(train), np.iinfo(np.int64).max)
    np.minimum.at(best, ci, rank[pi])
    inside = best < np.iinfo(np.int64).max
    top = train.max() + 1.0
    score[inside] = (len(lab) + 1 - best[inside]) * top + train[inside]
    return score, float(inside.sum())


def _scores(method: str, d: _Data, j: int, eps_m: float, min_samples: int
            ) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(score per cell, training counts per cell, cells meeting a patrol area or None) of
    `method` for the month at position j."""
    c = d.cube.counts
    if method == "last-month":
        tr = c[:, j - 1].astype(float)
        return tr, tr, None
    if method == "last-3-months":
        tr = c[:, j - 3:j].sum(axis=1).astype(float)
        return tr, tr, None
    tr = c[:, j - 12:j].sum(axis=1).astype(float)
    if method == "last-12-months":
        return tr, tr, None
    if method == "kde":
        return d.K @ _window(d.loc_month, j - 12, j - 1), tr, None
    if method == "gistar":
        return hotspots.gi_star_z(tr, d.W), tr, None
    if method == "dbscan":
        score, met = _dbscan_score(d, j - 12, j - 1, tr, eps_m, min_samples)
        return score, tr, met
    if method == "seasonal":
        years = [j - 12 * y for y in range(1, j // 12 + 1)
                 if d.cube.covered[j - 12 * y] and d.cube.covered[j - 12 * y:j - 12 * y + 12].all()]
        same = c[:, years].mean(axis=1)
        level = tr / 12.0
        totals = c.sum(axis=0).astype(float)
        ratios = [totals[y] / totals[y:y + 12].mean() for y in years if totals[y:y + 12].sum() > 0]
        index = float(np.mean(ratios)) if ratios else 1.0
        return 0.5 * same + 0.5 * index * level, tr, None
    raise InputError(f"unknown method {method!r}; use {', '.join(METHODS)}", parameter="methods")


def _mean(v: list) -> float | None:
    v = [x for x in v if x is not None and np.isfinite(x)]
    return float(np.mean(v)) if v else None


def _sd(v: list) -> float | None:
    v = [x for x in v if x is not None and np.isfinite(x)]
    return float(np.std(v, ddof=1)) if len(v) >= 2 else None


def backtest(
    incidents: gpd.GeoDataFrame,
    period,
    *,
    category=None,
    cell_m: float = settings.CELL_M,
    area_share: float = 0.05,
    methods: Sequence[str] | None = None,
    history_from: str | None = None,
    shape: str = "square",
    areas: gpd.GeoDataFrame | None = None,
    bandwidth_m: float | None = None,
    preset: str | None = None,
    eps_m: float | None = None,
    min_samples: int | None = None,
) -> Backtest:
    """Score each method's map of the months before each month of `period` on that month.

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700), all categories (coverage is judged on all rows);
        not modified.
    period : str or (from, to)
        The scoring months, ``FROM..TO``.
    category : optional
        Categories or named groups to score (``asb``...).
    cell_m : float
        Cell side in metres.
    area_share : float
        Share of the study area each map flags (0 < share < 1), e.g. 0.05.
    methods : list of str, optional
        Any of `METHODS` (default all).
    history_from : str, optional
        First month maps may use (default the first month of the data).
    areas : GeoDataFrame, optional
        Study area (union of the polygons); default the incidents' buffered convex hull.
    bandwidth_m : float, optional
        KDE bandwidth (default `cell_m`).
    preset, eps_m, min_samples : optional
        DBSCAN parameters (``patrol.cluster_parameters``: the street-level preset by default).

    Returns
    -------
    Backtest
    """
    selection.validate_params(cell_m=cell_m)
    if isinstance(area_share, bool) or not isinstance(area_share, (int, float)) \
            or not 0 < area_share < 1:
        raise InputError(f"area_share must be between 0 and 1, e.g. 0.05 (got {area_share!r})",
                         parameter="area_share")
    methods = list(METHODS if methods is None else methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise InputError(f"unknown method {', '.join(map(repr, bad)) or '(none)'}; use "
                         f"{', '.join(METHODS)}", parameter="methods")
    methods = list(dict.fromkeys(methods))
    eps, ms = patrol.cluster_parameters(preset, eps_m, min_samples)
    bw = float(cell_m if bandwidth_m is None else bandwidth_m)
    selection.validate_params(bandwidth_m=bw, eps_m=eps, min_samples=ms)
    scoring = selection.parse_period(period)
    if scoring is None or None in scoring:
        raise InputError("period needs both ends: FROM..TO", parameter="period")
    data_months = sorted(incidents["month"].astype(str).unique()) if len(incidents) else []
    if not data_months:
        raise InputError("no incidents", parameter="incidents")
    start = periods.parse_month(history_from, "history_from") if history_from else data_months[0]
    start = min(start, scoring[0])
    months = periods.month_range(start, scoring[-1])
    c = cube_mod.build(incidents, months, cell_m, shape, category=category, areas=areas)
    notes = list(c.warnings)
    sel = selection.select(incidents, category, (months[0], months[-1]))
    loc = locations.distinct(selection.coordinates(sel))
    t = cube_mod.month_positions(sel, months)
    loc_month = sparse.csr_matrix((np.ones(len(t)), (loc.inverse, t)),
                                  shape=(len(loc.xy), len(months)))
    need_w = "gistar" in methods
    d = _Data(c, loc.xy, loc_month,
              hotspots.neighbours(c.cells, "queen") if need_w else None,
              _kernel(c.cells, loc.xy, bw) if "kde" in methods else None,
              shapely.STRtree(c.cells.geometry.values))
    n_cells = len(c.cells)
    k = area_share * n_cells
    rows, skipped = [], {}
    for m in scoring:
        j = months.index(m)
        if not c.covered[j]:
            skipped.setdefault("no data loaded for the month", []).append(m)
            continue
        short = [meth for meth in methods if j - HISTORY[meth] < 0 or not c.covered[j - HISTORY[meth]:j].all()]
        if short:
            need = max(HISTORY[s] for s in short)
            skipped.setdefault(f"{', '.join(short)} need{'s' if len(short) == 1 else ''} "
                               f"{need} month{'s' if need > 1 else ''} of data before it", []).append(m)
            continue
        test = c.counts[:, j].astype(float)
        N = test.sum()
        if N == 0:
            skipped.setdefault("no incidents of the chosen categories", []).append(m)
            continue
        n_best = float(top_share(test, k) @ test)
        for meth in methods:
            score, train, met = _scores(meth, d, j, eps, ms)
            w = top_share(score, k)
            a = w.sum()
            n = float(w @ test)
            n1, N1 = float(w @ train), float(train.sum())
            share = a / n_cells
            pai = (n / N) / share if a > 0 else None
            pei = n / n_best if n_best > 0 and a > 0 else None
            rri = (n / N) / (n1 / N1) if n1 > 0 and N1 > 0 else None
            rows.append({"method": meth, "month": m, "pai": pai, "pei": pei, "rri": rri,
                         "hit_rate": n / N, "n": n, "N": N, "n_best": n_best, "area_share": share,
                         "patrol_share": None if met is None else met / n_cells})
    for why, ms_ in skipped.items():
        notes.append(f"not scored: {periods.format_range(ms_) if len(ms_) > 2 else ', '.join(ms_)} "
                     f"({why})")
    monthly = pd.DataFrame(rows, columns=["method", "month", "pai", "pei", "rri", "hit_rate", "n",
                                          "N", "n_best", "area_share", "patrol_share"])
    table = []
    for meth in methods:
        g = monthly[monthly["method"] == meth]
        pai, pei, rri = (g[col].tolist() for col in ("pai", "pei", "rri"))
        finite = [x for x in pai if x is not None]
        table.append({"method": meth, "pai": _mean(pai), "pei": _mean(pei), "rri": _mean(rri),
                      "months": int(len(g)), "hit_rate": _mean(g["hit_rate"].tolist()),
                      "pai_sd": _sd(pai), "pei_sd": _sd(pei),
                      "rri_sd": _sd(rri), "pai_min": min(finite) if finite else None,
                      "pai_max": max(finite) if finite else None})
        small = g[g["patrol_share"].notna() & (g["patrol_share"] < area_share - 1e-9)]
        if len(small):
            notes.append(f"{meth}: the patrol areas met less than {area_share:.0%} of the area in "
                         f"{len(small)} of {len(g)} months (mean {small['patrol_share'].mean():.1%}"
                         "); the busiest other cells (12-month counts) filled the rest")
    table = pd.DataFrame(table)
    ranked = table[table["pai"].notna()].sort_values(["pai", "pei"], ascending=False, kind="stable")
    best = str(ranked["method"].iloc[0]) if len(ranked) else None
    comparison = None
    if len(ranked) >= 2:
        comparison = _compare(monthly, best, str(ranked["method"].iloc[1]))
        if comparison["p_value"] is None or comparison["p_value"] >= 0.05:
            p_text = "n/a" if comparison["p_value"] is None else f"{comparison['p_value']:.2f}"
            notes.append(f"{best} and {comparison['runner_up']} cannot be told apart over these "
                         f"{comparison['months']} months (paired Wilcoxon signed-rank test on the "
                         f"monthly PAI, p = {p_text}); either serves")
    if best is None:
        notes.append("no month could be scored: choose scoring months with 12 months of data "
                     "before them, or fewer methods")
    params = {
        "method": "rolling-origin backtest (each month's map built only from the months before it)",
        "from": scoring[0], "to": scoring[-1], "history_from": months[0],
        "category": None if category is None else ([category] if isinstance(category, str) else list(category)),
        "cell_m": float(cell_m), "shape": shape, "area_share": float(area_share),
        "n_cells": int(n_cells), "study_area_km2": round(n_cells * c.cell_m ** 2 / 1e6, 3),
        "methods": methods, "bandwidth_m": bw, "eps_m": float(eps), "min_samples": int(ms),
        "best_by": "mean PAI (ties: PEI)",
    }
    params["comparison"] = comparison
    return Backtest(table, monthly, best, params, notes)


def _compare(monthly: pd.DataFrame, best: str, runner_up: str) -> dict:
    """Paired comparison of the best method with the runner-up: the Wilcoxon signed-rank test
    (scipy, two-sided) on their PAI month by month. p is None with fewer than 2 months or no
    difference at all."""
    from scipy import stats

    a = monthly[monthly["method"] == best].set_index("month")["pai"]
    b = monthly[monthly["method"] == runner_up].set_index("month")["pai"]
    both = pd.concat([a, b], axis=1, keys=["a", "b"]).dropna()
    diff = (both["a"] - both["b"]).to_numpy(float)
    p = None
    if len(diff) >= 2 and np.any(diff != 0):
        p = float(stats.wilcoxon(both["a"], both["b"]).pvalue)
    return {"runner_up": runner_up, "months": int(len(diff)),
            "months_better": int((diff > 0).sum()), "p_value": p,
            "test": "Wilcoxon signed-rank, paired by month, on PAI"}
