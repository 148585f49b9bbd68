"""Rolling-origin backtest (hotspot_app.core.backtest): the design §6 PAI worked example with PEI
and RRI, ties shared fairly, maps built only from earlier months, stable hot cells give PAI > 5,
the KDE agrees with hotspots.kde, refusals, and the real Cleveland ASB table."""

from __future__ import annotations

import glob

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from hotspot_app.core import hotspots, periods, schema
from hotspot_app.core import backtest
from hotspot_app.core.errors import InputError

X0, Y0 = 400_000.0, 500_000.0


def make(points) -> gpd.GeoDataFrame:
    """points: (x, y, month) in metres from (X0, Y0)."""
    df = pd.DataFrame(points, columns=["x", "y", "month"])
    df["x"] += X0
    df["y"] += Y0
    df["category"] = "Anti-social behaviour"
    return schema.make_incidents(df)


def strip(n_cells: int, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """A study area of exactly `n_cells` cells in a row (the box stays inside them)."""
    return gpd.GeoDataFrame({"name": ["study"]}, geometry=[box(X0 + 1, Y0 + 1, X0 + n_cells * cell_m - 1,
                                                                Y0 + cell_m - 1)], crs=27700)


def test_top_share_shares_ties_at_the_boundary():
    np.testing.assert_allclose(backtest.top_share(np.array([3, 2, 2, 1.0]), 2), [1, .5, .5, 0])
    np.testing.assert_allclose(backtest.top_share(np.array([3, 2, 2, 1.0]), 2.5), [1, .75, .75, 0])
    np.testing.assert_allclose(backtest.top_share(np.array([0, 0, 0, 0.0]), 1), [.25] * 4)
    np.testing.assert_allclose(backtest.top_share(np.array([5, -np.inf, 1.0]), 3), [1, 0, 1])


def test_design_worked_example_pai_pei_rri():
    # last month (2024-01) counts per cell (3, 2, 1); the scored month (2024-02) (6, 3, 0):
    # flag the top third of the area (1 of 3 cells): PAI = (6/9) / (1/3) = 2 (design §6),
    # PEI = 6 / 6 (the best cell of February is the same) = 1, RRI = (6/9) / (3/6) = 4/3
    pts = ([(50, 50, "2024-01")] * 3 + [(150, 50, "2024-01")] * 2 + [(250, 50, "2024-01")]
           + [(50, 50, "2024-02")] * 6 + [(150, 50, "2024-02")] * 3)
    res = backtest.backtest(make(pts), "2024-02..2024-02", cell_m=100, area_share=1 / 3,
                            methods=["last-month"], areas=strip(3))
    row = res.table.iloc[0]
    assert res.parameters["n_cells"] == 3
    assert row["pai"] == pytest.approx(2.0) and row["pei"] == pytest.approx(1.0)
    assert row["rri"] == pytest.approx(4 / 3) and row["months"] == 1
    assert res.best == "last-month"
    doc = res.to_dict()
    assert doc["area_share"] == pytest.approx(1 / 3) and doc["best"] == "last-month"
    assert doc["methods"] == [{"method": "last-month", "pai": 2.0, "pei": 1.0, "rri": 1.3333,
                               "months": 1, "pai_sd": None, "pei_sd": None, "rri_sd": None}]


def test_maps_use_only_the_months_before():
    # every month has 10 incidents in cell 0; 2024-06 alone has 40 in cell 9 (never before):
    # no map built from earlier months can flag cell 9, so in June the count maps catch 10 of 50
    pts = []
    for m in periods.month_range("2023-01", "2024-06"):
        pts += [(50, 50, m)] * 10
    pts += [(950, 50, "2024-06")] * 40
    res = backtest.backtest(make(pts), "2024-06..2024-06", cell_m=100, area_share=0.1,
                            methods=["last-month", "last-12-months", "seasonal"], areas=strip(10))
    for r in res.table.itertuples():
        assert r.pai == pytest.approx((10 / 50) / 0.1), r.method
        assert r.pei == pytest.approx(10 / 40), r.method


def stable_hot_cells(seed=2) -> gpd.GeoDataFrame:
    """40 x 40 cells of 100 m; 20 fixed hot cells with Poisson(20) a month, background
    Poisson(0.3) a cell, 2023-01..2024-12."""
    rng = np.random.default_rng(seed)
    hot = rng.choice(1600, 20, replace=False)
    rows = []
    for m in periods.month_range("2023-01", "2024-12"):
        n = rng.poisson(0.3, 1600)
        n[hot] += rng.poisson(20, len(hot))
        cell = np.repeat(np.arange(1600), n)
        x = (cell % 40) * 100 + rng.uniform(0, 100, len(cell))
        y = (cell // 40) * 100 + rng.uniform(0, 100, len(cell))
        rows += list(zip(x, y, [m] * len(cell)))
    return make(rows)


def test_stable_hot_cells_give_the_best_method_pai_above_5():
    res = backtest.backtest(stable_hot_cells(), "2024-01..2024-12", cell_m=100, area_share=0.05)
    t = res.table.set_index("method")
    assert list(t.index) == list(backtest.METHODS)
    assert (t["months"] == 12).all()
    assert t.loc[res.best, "pai"] > 5
    assert t.loc[res.best, "pai"] == t["pai"].max()
    assert res.parameters["history_from"] == "2023-01" and res.parameters["area_share"] == 0.05
    assert res.sentence().startswith("Over 12 months (2024-01 to 2024-12), the ")
    monthly = res.monthly
    assert len(monthly) == 12 * len(backtest.METHODS)
    assert np.allclose(monthly["area_share"], 0.05)


def test_months_without_enough_history_are_skipped_and_named():
    res = backtest.backtest(stable_hot_cells(), "2023-06..2024-01", cell_m=100,
                            methods=["last-month", "last-12-months"])
    assert res.table.set_index("method")["months"].tolist() == [1, 1]
    assert any(w.startswith("not scored: 2023-06..2023-12 (last-12-months needs 12 months")
               for w in res.warnings)


def test_kde_scores_are_hotspots_kde():
    inc = stable_hot_cells()
    res_cells = hotspots.make_grid(hotspots.study_area(inc, None, 100), 100)
    from hotspot_app.core import locations, selection

    sel = selection.select(inc, None, "2023-01..2023-12")
    loc = locations.distinct(selection.coordinates(sel))
    K = backtest._kernel(res_cells, loc.xy, 150.0)
    mine = K @ loc.weight * 1e6
    ref = hotspots.kde(sel, 100, bandwidth_m=150.0, cells=res_cells)["density_per_km2"].to_numpy()
    np.testing.assert_allclose(mine, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_bad_parameters_are_refused_by_name():
    inc = stable_hot_cells()
    for kwargs, param in (({"area_share": 0}, "area_share"), ({"area_share": 1.5}, "area_share"),
                          ({"methods": ["crystal-ball"]}, "methods"), ({"cell_m": -5}, "cell_m")):
        with pytest.raises(InputError) as exc:
            backtest.backtest(inc, "2024-01..2024-02", **kwargs)
        assert exc.value.parameter == param


@pytest.mark.realdata
def test_real_cleveland_asb_2024(realdata):
    from hotspot_app.io import ingest

    files = sorted(glob.glob(str(realdata / "police_cleveland" / "202[34]-*-cleveland-street.csv")))
    if len(files) < 24:
        pytest.skip("Cleveland 2023-2024 street files missing from ../shared/realdata")
    inc = ingest.read_incidents(files).incidents
    res = backtest.backtest(inc, "2024-01..2024-12", category="asb", cell_m=250, area_share=0.05)
    doc = res.to_dict()
    assert doc["area_share"] == 0.05 and doc["best"] in backtest.METHODS
    assert [m["method"] for m in doc["methods"]] == list(backtest.METHODS)
    for m in doc["methods"]:
        assert m["months"] == 12, m
        assert np.isfinite(m["pai"]) and m["pai"] >= 1, m
        assert 0 < m["pei"] <= 1, m
    assert res.parameters["history_from"] == "2023-01"
    assert not any(w.startswith("not scored") for w in res.warnings)
