"""Grid/hex hotspots (hotspot_app.hotspots): counts that add up, hex cells, KDE mass, Gi*
against PySAL esda, FDR, emerging patterns, PAI/RRI (design §6 worked example)."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from hotspot_app.core import forecast, hotspots, schema
from hotspot_app.core.errors import InputError
import geopandas as gpd


def make(xy, months=None, category="Anti-social behaviour"):
    xy = np.asarray(xy, dtype=float)
    data = {"category": [category] * len(xy),
            "month": months if months is not None else ["2024-01"] * len(xy)}
    return schema.make_incidents(pd.DataFrame(data), x=xy[:, 0], y=xy[:, 1])


def sample(seed=1, n=3000):
    rng = np.random.default_rng(seed)
    xy = np.vstack([rng.normal(1000, 150, (2 * n // 3, 2)), rng.uniform(0, 3000, (n - 2 * n // 3, 2))])
    months = rng.choice(["2024-01", "2024-02", "2024-03", "2024-04"], len(xy))
    return make(xy, list(months))


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_counts_add_up_and_every_incident_lies_in_its_cell(shape):
    inc = sample()
    cells = hotspots.grid_counts(inc, 200, shape)
    assert cells["count"].sum() == len(inc) and cells.attrs["n_outside"] == 0
    assert np.allclose(cells.geometry.area, 200 * 200)            # hexes: same area as squares
    xy = shapely.get_coordinates(inc.geometry.values)
    pos = hotspots.cell_of_points(cells, xy)
    assert shapely.intersects_xy(cells.geometry.values[pos], xy[:, 0], xy[:, 1]).all()
    assert cells["cell_id"].is_unique


def test_square_grid_counts_on_a_constructed_example():
    inc = make([(10, 10), (20, 20), (110, 10), (150, 150), (150, 160)])
    area = gpd.GeoDataFrame({"area_id": ["a"], "name": ["A"], "layer": ["custom"],
                             "population": [np.nan]}, geometry=[box(0, 0, 200, 200)], crs=27700)
    cells = hotspots.grid_counts(inc, 100, "square", areas=area)
    got = dict(zip(zip(cells["x"], cells["y"]), cells["count"]))
    assert got[(50.0, 50.0)] == 2 and got[(150.0, 50.0)] == 1 and got[(150.0, 150.0)] == 2
    assert got[(50.0, 150.0)] == 0
    assert cells["count"].sum() == 5


def test_incidents_outside_the_study_area_are_reported_not_dropped():
    inc = make([(10, 10), (5000, 5000)])
    area = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)], crs=27700)
    cells = hotspots.grid_counts(inc, 100, areas=area)
    assert cells["count"].sum() == 1 and cells.attrs["n_outside"] == 1


def test_kde_integrates_to_the_number_of_incidents():
    inc = sample()
    k = hotspots.kde(inc, 100, bandwidth_m=150)
    mass = (k["density_per_km2"] * 0.01).sum()        # 100 m cells = 0.01 km2
    assert mass == pytest.approx(len(inc), rel=0.03)
    peak = k.loc[k["density_per_km2"].idxmax()]
    assert abs(peak["x"] - 1000) < 150 and abs(peak["y"] - 1000) < 150


@pytest.mark.parametrize("shape, weights", [("square", "queen"), ("hex", "queen"), ("square", 450.0)])
def test_gistar_matches_esda_g_local_star(shape, weights):
    cells = hotspots.grid_counts(sample(), 200, shape)
    out = hotspots.gistar(cells, spatial_weights=weights)
    W = hotspots.neighbours(cells, weights)
    nb = {i: [int(j) for j in W[i].indices if j != i] for i in range(len(cells))}
    w = libpysal.weights.W(nb, silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(cells["count"].to_numpy(float), w, transform="B", star=True,
                           permutations=0)
    np.testing.assert_allclose(out["gi_z"].to_numpy(), ref.Zs, rtol=1e-9, atol=1e-9)
    assert (out["hotspot"] == "hot").sum() >= 5


def test_queen_neighbours_count_eight_squares_and_six_hexes():
    inc = make(np.random.default_rng(0).uniform(0, 2000, (500, 2)))
    for shape, k in (("square", 9), ("hex", 7)):
        cells = hotspots.grid_counts(inc, 200, shape)
        W = hotspots.neighbours(cells, "queen")
        deg = np.asarray(W.sum(axis=1)).ravel()
        assert deg.max() == k and (W.diagonal() == 1).all()


def test_fdr_correction_is_benjamini_hochberg():
    from statsmodels.stats.multitest import multipletests

    out = hotspots.gistar(hotspots.grid_counts(sample(), 200))
    np.testing.assert_allclose(out["gi_p_adj"], multipletests(out["gi_p"], method="fdr_bh")[1])
    assert (out["gi_p_adj"] >= out["gi_p"] - 1e-15).all()
    assert ((out["hotspot"] == "hot") == ((out["gi_p_adj"] < 0.05) & (out["gi_z"] > 0))).all()
    assert out.attrs["correction"] == "fdr_bh"


def test_pai_worked_example_design_section_6():
    curve = forecast.pai_curve([3, 2, 1], [6, 3, 0])
    assert curve["pai"].tolist() == pytest.approx([2.0, 1.5, 1.0])
    assert curve["hit_rate"].tolist() == pytest.approx([6 / 9, 1.0, 1.0])
    assert forecast.pai(6, 9, 1, 3) == pytest.approx(2.0)
    assert forecast.pai(1, 0, 1, 3) is None


def test_rri_levine_definition():
    # 20 of 100 in the selection in training, 30 of 200 in test: (30/20)/(200/100) = 0.75
    assert forecast.rri(20, 100, 30, 200) == pytest.approx(0.75)
    assert forecast.rri(0, 100, 30, 200) is None


def test_forecast_accuracy_top_cells_train_then_test():
    inc = sample()
    res = forecast.forecast_accuracy(inc, "2024-01..2024-02", "2024-03..2024-04", top=10)
    assert res["N_train"] + res["N_test"] == len(inc)
    assert res["pai"] == pytest.approx((res["n_test"] / res["N_test"]) /
                                       (res["area_m2"] / res["study_area_m2"]))
    assert res["rri"] == pytest.approx((res["n_test"] / res["n_train"]) /
                                       (res["N_test"] / res["N_train"]))
    assert res["pai"] > 5 and len(res["cells"]) == 10
    assert res["curve"]["pai"].iloc[-1] == pytest.approx(1.0)
    cl = forecast.forecast_accuracy(inc, "2024-01..2024-02", "2024-03..2024-04", method="clusters",
                                    eps_m=50, min_samples=10)
    assert cl["pai"] > 5 and cl["n_test"] <= cl["N_test"]


def test_bad_parameters_name_the_parameter():
    inc = sample(n=30)
    with pytest.raises(InputError, match="parameter 'cell_m'"):
        hotspots.grid_counts(inc, 0)
    with pytest.raises(InputError, match="parameter 'shape'"):
        hotspots.grid_counts(inc, 100, "triangle")
    with pytest.raises(InputError, match="parameter 'method'"):
        hotspots.hotspot_grid(inc, 100, "lisa")
    with pytest.raises(InputError, match="parameter 'cell_m'"):
        hotspots.grid_counts(inc, 0.01)


def test_demo_fire_cluster_cells_are_gistar_hot_spots(demo):
    cells = hotspots.hotspot_grid(demo.incidents, 200, "gistar", category="deliberate-secondary-fires")
    for c in demo.truth["clusters"]:
        if c["group"] != "deliberate-secondary-fires":
            continue
        cell = cells[shapely.intersects_xy(cells.geometry.values, c["x"], c["y"])].iloc[0]
        assert cell["hotspot"] == "hot", c["name"]


def lattice(step=200.0, n=3, per=20):
    """n x n snap points `step` metres apart, `per` incidents on each."""
    pts = [(500 + i * step, 500 + j * step) for i in range(n) for j in range(n)]
    return make(np.repeat(np.array(pts, float), per, axis=0))


def test_cells_finer_than_the_snap_point_spacing_are_warned_about():
    inc = lattice()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # returned in attrs, never warnings.warn
        cells = hotspots.grid_counts(inc, 50)
    assert cells.attrs["spacing_m"] == 200.0 and cells.attrs["n_locations"] == 9
    assert cells.attrs["warnings"] == [
        "grid cells of 50 m are finer than the spacing of the incident locations (median 200 m "
        "to the nearest other location): most occupied cells hold a single location; use cells "
        ">= 200 m"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hotspots.grid_counts(inc, 250).attrs["warnings"] == []


def test_gistar_flagging_the_cells_around_each_snap_point_is_warned_about():
    inc = lattice()
    area = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 3000, 3000)], crs=27700)
    out = hotspots.hotspot_grid(inc, 50, "gistar", areas=area)
    # each snap point's cell and its 8 queen neighbours (which include it) are hot: 9 x 9
    assert int((out["hotspot"] == "hot").sum()) == 81
    assert out.attrs["warnings"][-1] == (
        "81 hot cells around 9 incident locations: cells of 50 m are finer than the locations' "
        "spacing (200 m), so Gi* flags single snap points and the cells next to them; use cells "
        ">= 400 m")
