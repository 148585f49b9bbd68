"""Empirical Bayes rates (hotspot_app.core.smoothing) against esda's, global and spatial, on a
small constructed map; shrinkage by population; areas without population; refusals."""

from __future__ import annotations

import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
from esda.smoothing import Empirical_Bayes, Spatial_Empirical_Bayes
from shapely.geometry import box

from hotspot_app.core import smoothing
from hotspot_app.core.errors import InputError


def grid_map(seed=0) -> gpd.GeoDataFrame:
    """20 square areas (5 x 4) with populations 300..20,000 and rates varying threefold."""
    rng = np.random.default_rng(seed)
    b = rng.integers(300, 20_000, 20).astype(float)
    e = rng.poisson(b * 0.01 * rng.uniform(0.3, 3, 20)).astype(float)
    geoms = [box(400_000 + c * 1000, 500_000 + r * 1000, 400_000 + (c + 1) * 1000,
                 500_000 + (r + 1) * 1000) for r in range(4) for c in range(5)]
    return gpd.GeoDataFrame({"name": [f"A{i}" for i in range(20)], "count": e, "population": b},
                            geometry=geoms, crs=27700)


def test_global_eb_agrees_with_esda():
    g = grid_map()
    ref = Empirical_Bayes(g["count"].to_numpy(), g["population"].to_numpy()).r.ravel()
    np.testing.assert_allclose(smoothing.empirical_bayes(g["count"], g["population"]), ref,
                               rtol=1e-9, atol=1e-12)


def test_spatial_eb_agrees_with_esda():
    g = grid_map()
    w = libpysal.weights.Queen.from_dataframe(g, use_index=False)
    w.id_order = list(range(len(g)))
    ref = Spatial_Empirical_Bayes(g["count"].to_numpy(), g["population"].to_numpy(), w).r.ravel()
    W = smoothing.contiguity(g)
    assert W.nnz == sum(len(v) for v in w.neighbors.values())
    np.testing.assert_allclose(smoothing.spatial_empirical_bayes(g["count"], g["population"], W),
                               ref, rtol=1e-9, atol=1e-12)


def test_smooth_rates_table_keeps_the_raw_rate_beside_the_smoothed_one():
    g = grid_map()
    out = smoothing.smooth_rates(g, method="spatial", name="name")
    w = libpysal.weights.Queen.from_dataframe(g, use_index=False)
    w.id_order = list(range(len(g)))
    ref = Spatial_Empirical_Bayes(g["count"].to_numpy(), g["population"].to_numpy(), w).r.ravel()
    np.testing.assert_allclose(out.table["rate_eb"].astype(float), ref * 1000, rtol=1e-9)
    np.testing.assert_allclose(out.table["rate"].astype(float), 1000 * g["count"] / g["population"])
    assert list(g.columns) == ["name", "count", "population", "geometry"]       # input untouched
    assert out.parameters["smooth"] == "eb" and "spatial" in out.parameters["method"]


def test_small_populations_are_pulled_furthest_towards_the_mean():
    t = pd.DataFrame({"count": [1, 100, 5, 500], "population": [20, 10_000, 1_000, 100_000]})
    out = smoothing.smooth_rates(t).table
    mean = 1000 * t["count"].sum() / t["population"].sum()
    raw, eb = out["rate"].astype(float), out["rate_eb"].astype(float)
    assert raw[0] == pytest.approx(50.0)                     # 1 in 20: 50 per 1,000
    moved = (raw - eb).abs() / (raw - mean).abs()
    assert moved[0] > 0.9 and moved[3] < moved[0]            # the 20-person area moved most


def test_no_variation_beyond_chance_gives_the_mean_marshall_rule():
    # equal rates everywhere: the between-area variance estimate is negative -> every rate = mean
    e, b = np.array([10.0, 20, 30]), np.array([1000.0, 2000, 3000])
    np.testing.assert_allclose(smoothing.empirical_bayes(e, b), [0.01] * 3)


def test_areas_without_population_have_no_rate_and_are_named():
    t = pd.DataFrame({"name": ["A", "B", "C"], "count": [5, 7, 9], "population": [1000, 0, None]})
    out = smoothing.smooth_rates(t, name="name")
    assert out.table["rate"].tolist()[1:] == [None, None]
    assert out.table["rate_eb"].tolist()[1:] == [None, None]
    assert out.table["rate"][0] == pytest.approx(5.0) and out.table["rate_eb"][0] == pytest.approx(5.0)
    assert out.warnings and "B, C" in out.warnings[0]


def test_refusals_name_the_problem():
    with pytest.raises(InputError) as exc:
        smoothing.smooth_rates(pd.DataFrame({"count": [1], "population": [10]}), method="spatial")
    assert exc.value.parameter == "smooth"
    with pytest.raises(InputError) as exc:
        smoothing.smooth_rates(pd.DataFrame({"count": [-1], "population": [10]}))
    assert exc.value.column == "count" and exc.value.row == 1
    with pytest.raises(InputError) as exc:
        smoothing.smooth_rates(pd.DataFrame({"n": [1], "population": [10]}))
    assert exc.value.column == "count"
