"""How well do hotspots predict? PAI and RRI (docs/design.md §6): hotspots chosen on training
months, scored on the months after.

* PAI (Chainey et al. 2008) = (n/N) / (a/A): n incidents of the *test* period inside the selected
  hotspots, N in the whole study area; a the selected area, A the study area. Design §6 worked
  example: observed (6, 3, 0), predicted (3, 2, 1), equal cells: PAI of the top 1, 2, 3 cells =
  2, 1.5, 1.
* RRI, Recapture Rate Index (Levine 2004) = (n2/n1) / (N2/N1): n1, n2 incidents inside the
  selection in the training and test periods, N1, N2 in the study area. > 1: the hotspots kept
  more than their share of incidents in the next period.
"""

from __future__ import annotations

from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core import selection, settings
from hotspot_app.core.errors import InputError
from hotspot_app.core.hotspots import grid_counts, kde, make_grid, study_area

def pai(n: float, N: float, a: float, A: float) -> float | None:
    """Predictive Accuracy Index (n/N) / (a/A); None when N, a or A is 0."""
    if not N or not a or not A:
        return None
    return (n / N) / (a / A)


def rri(n1: float, N1: float, n2: float, N2: float) -> float | None:
    """Recapture Rate Index (Levine): (n2/n1) / (N2/N1); None when n1, N1 or N2 is 0."""
    if not n1 or not N1 or not N2:
        return None
    return (n2 / n1) / (N2 / N1)


def pai_curve(predicted: Sequence[float], observed: Sequence[float],
              area: Sequence[float] | None = None) -> pd.DataFrame:
    """PAI of the top 1, 2, ... cells ranked by `predicted` (ties: input order).

    Columns: ``k``, ``area_share`` (a/A), ``hit_rate`` (n/N), ``pai``. Equal cell areas unless
    `area` is given."""
    pred = np.asarray(predicted, dtype=float)
    obs = np.asarray(observed, dtype=float)
    ar = np.ones(len(pred)) if area is None else np.asarray(area, dtype=float)
    if not (len(pred) == len(obs) == len(ar)):
        raise InputError("predicted, observed and area need one value per cell", parameter="observed")
    order = np.argsort(-pred, kind="stable")
    n_cum = np.cumsum(obs[order])
    a_cum = np.cumsum(ar[order])
    N, A = obs.sum(), ar.sum()
    hit = n_cum / N if N else np.full(len(pred), np.nan)
    share = a_cum / A
    return pd.DataFrame({"k": np.arange(1, len(pred) + 1), "area_share": share, "hit_rate": hit,
                         "pai": hit / share})


def forecast_accuracy(
    incidents: gpd.GeoDataFrame,
    train,
    test,
    *,
    method: str = "count",
    cell_m: float = settings.CELL_M,
    shape: str = "square",
    top: int | float = 0.05,
    category=None,
    areas: gpd.GeoDataFrame | None = None,
    eps_m: float | None = None,
    min_samples: int | None = None,
    bandwidth_m: float | None = None,
) -> dict:
    """PAI and RRI of hotspots chosen on the `train` months, scored on the `test` months.

    `method`: ``count`` or ``kde`` (the `top` cells: a whole number of cells, or a share of the
    cells when < 1, ranked by training count / density) or ``clusters`` (the union of DBSCAN
    patrol areas of the training period). Returns a dict: ``pai``, ``rri``, ``n_train``
    (n1), ``N_train`` (N1), ``n_test`` (n), ``N_test`` (N), ``area_m2`` (a), ``study_area_m2``
    (A), ``cells`` (selected cells, grid methods), and ``curve`` (`pai_curve` on the test counts,
    grid methods).
    """
    if method not in ("count", "kde", "clusters"):
        raise InputError("method must be count, kde or clusters", parameter="method")
    sel = selection.select(incidents, category)
    train_m, test_m = selection.parse_period(train), selection.parse_period(test)
    area = study_area(sel if areas is None else None, areas, cell_m)
    cells = make_grid(area, cell_m, shape)
    tr = grid_counts(sel, cell_m, shape, period=train_m, cells=cells)
    te = grid_counts(sel, cell_m, shape, period=test_m, cells=cells)
    if method == "clusters":
        from hotspot_app.core import clusters

        if eps_m is None or min_samples is None:
            raise InputError("method 'clusters' needs eps_m and min_samples", parameter="eps_m")

        res = clusters.dbscan(sel, eps_m, min_samples, period=train_m)
        if len(res.areas) == 0:
            raise InputError(res.message or "no clusters in the training period", parameter="eps_m")
        geom = shapely.intersection(shapely.union_all(res.areas.geometry.values), area)
        A = shapely.area(area)
        a = shapely.area(geom)
        tr_in = selection.select(sel, period=train_m)
        te_in = selection.select(sel, period=test_m)
        from hotspot_app.core.areas import within

        n1, N1 = int(within(tr_in, geom).sum()), len(tr_in)
        n2, N2 = int(within(te_in, geom).sum()), len(te_in)
        return {"method": method, "pai": pai(n2, N2, a, A), "rri": rri(n1, N1, n2, N2),
                "n_train": n1, "N_train": N1, "n_test": n2, "N_test": N2, "area_m2": a,
                "study_area_m2": A, "cells": None, "curve": None}
    score = (kde(sel, cell_m, shape, bandwidth_m=bandwidth_m, period=train_m, cells=cells)
             ["density_per_km2"].to_numpy() if method == "kde" else tr["count"].to_numpy(float))
    k = int(top) if top >= 1 else max(1, int(round(top * len(cells))))
    k = min(k, len(cells))
    order = np.argsort(-score, kind="stable")[:k]
    n1, N1 = int(tr["count"].to_numpy()[order].sum()), int(tr["count"].sum())
    n2, N2 = int(te["count"].to_numpy()[order].sum()), int(te["count"].sum())
    A = len(cells) * cells.attrs["grid"].cell_area()
    a = k * cells.attrs["grid"].cell_area()
    return {"method": method, "pai": pai(n2, N2, a, A), "rri": rri(n1, N1, n2, N2),
            "n_train": n1, "N_train": N1, "n_test": n2, "N_test": N2, "area_m2": a,
            "study_area_m2": A, "cells": cells.iloc[order]["cell_id"].tolist(),
            "curve": pai_curve(score, te["count"].to_numpy(float))}
