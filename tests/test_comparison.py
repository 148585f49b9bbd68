"""Comparison areas matched on the pre-period (issue 19): windows, the candidate pool and its
exclusion zone, hexagon candidates when the layer has too few areas, monthly counts, matching on
level and trend, synthetic-control weights, and the pre-period fit with its divergence warning."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

import evaluation_cases as ec
from hotspot_app.core import schema, settings
from hotspot_app.core.evaluation import comparison as cmp
from hotspot_app.core.evaluation.matched import evaluate_matched
from hotspot_app.core.errors import InputError


# --------------------------------------------------------------------------- windows
def test_windows_default_pre_period_is_24_months_before_the_after_window():
    w = cmp.windows(("2021-07", "2021-12"), ("2022-07", "2022-12"))
    assert w.before == ["2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12"]
    assert w.pre[0] == "2020-07" and w.pre[-1] == "2022-06" and len(w.pre) == 24
    assert not w.pre_given
    # a before window further back than 24 months starts the pre-period
    assert cmp.windows("2019-01..2019-06", "2022-07..2022-12").pre[0] == "2019-01"
    given = cmp.windows(("2021-07", "2021-12"), ("2022-07", "2022-12"), pre=("2022-01", "2022-06"))
    assert given.pre_given and given.pre == ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06"]


def test_windows_errors_name_the_parameter():
    with pytest.raises(InputError, match="parameter 'before'.*must end before the after window"):
        cmp.windows(("2022-06", "2022-08"), ("2022-07", "2022-12"))
    with pytest.raises(InputError, match="parameter 'after'"):
        cmp.windows(("2021-07", "2021-12"), ("2022-07", "2022-13"))
    with pytest.raises(InputError, match="parameter 'pre'.*at least 4 months"):
        cmp.windows(("2021-07", "2021-12"), ("2022-07", "2022-12"), pre=("2022-05", "2022-06"))
    with pytest.raises(InputError, match="parameter 'before'.*pair"):
        cmp.windows(["2021-07", "2021-08", "2021-09"], ("2022-07", "2022-12"))


# --------------------------------------------------------------------------- counts
def test_monthly_matrix_counts_edges_overlaps_and_ignores_other_months():
    a = box(0, 0, 100, 100)
    b = box(50, 0, 150, 100)  # overlaps a
    pts = pd.DataFrame({
        "x": [10, 100, 75, 75, 200, 10],
        "y": [10, 50, 50, 50, 50, 10],
        "month": ["2024-01", "2024-01", "2024-02", "2024-02", "2024-01", "2023-12"],
        "category": "Anti-social behaviour"})
    inc = schema.make_incidents(pts)
    m = cmp.monthly_matrix(inc, [a, b], ["2024-01", "2024-02"])
    # a: (10,10) Jan, (100,50) on a's edge Jan, (75,50) x2 Feb; b: edge point Jan, (75,50) x2 Feb
    assert m.tolist() == [[2, 2], [1, 2]]
    assert cmp.monthly_matrix(inc.iloc[:0], [a], ["2024-01"]).tolist() == [[0]]


# --------------------------------------------------------------------------- features and matching
def test_features_worked_example():
    # counts + 0.5 = 1, 2, 4, 8: the log counts rise by log 2 a month exactly
    level, trend = cmp.features(np.array([[0.5, 1.5, 3.5, 7.5]]))
    assert level[0] == pytest.approx(math.log(3.25 + 0.5 / 4))
    assert trend[0] == pytest.approx(math.log(2))
    level, trend = cmp.features(np.array([[5, 5, 5, 5, 5, 5]]))
    assert level[0] == pytest.approx(math.log(5 + 0.5 / 6)) and trend[0] == pytest.approx(0.0)


def test_match_picks_the_nearest_in_level_and_trend():
    months = np.arange(12)
    target = 20 * 1.0 ** months
    pool = np.array([20 * 1.05 ** months,        # same level, rising
                     20 * np.ones(12),            # identical
                     80 * np.ones(12),            # flat, 4x busier
                     21 * np.ones(12),            # nearly identical
                     5 * 1.05 ** months])         # quiet and rising
    m = cmp.match(target, pool, ids=list("abcde"), n_matches=2)
    assert m.ids == ["b", "d"]
    assert m.table["chosen"].tolist() == [False, True, False, True, False]
    assert m.table.loc[1, "distance"] == pytest.approx(0.0)
    with pytest.raises(InputError, match="n_matches"):
        cmp.match(target, pool, n_matches=0)
    with pytest.raises(InputError, match="no candidate"):
        cmp.match(target, pool[:0])


def test_synthetic_weights_recover_a_planted_mixture():
    t = np.arange(12, dtype=float)
    a, b, c = 10 + t, 50 - 2 * t, 30 + 5 * np.sin(t)
    shape = 0.3 * a / a.mean() + 0.7 * b / b.mean()
    w = cmp.synthetic_weights(40 * shape, np.vstack([a, b, c]))
    assert w.sum() == pytest.approx(1.0)
    assert w == pytest.approx([0.3, 0.7, 0.0], abs=1e-3)


# --------------------------------------------------------------------------- the constructed case
@pytest.fixture(scope="module")
def null_case():
    return evaluate_matched(ec.incidents(seed=1), ec.layer().iloc[[0]], before=ec.BEFORE,
                                after=ec.AFTER, category="asb", areas=ec.layer(), study_area=ec.STUDY)


def test_constructed_case_matches_western_areas(null_case):
    r = null_case
    assert r.pool == "layer" and r.method == "matched"
    assert len(r.candidates) == 40  # the target itself is in the exclusion zone
    names = list(r.matched["name"])
    assert len(names) == 10
    assert sum(n.startswith("West") for n in names) >= 9, names
    # the match is made on the covered part of the default 24-month pre-period
    assert r.pre_fit.months[0] == "2021-01" and r.pre_fit.months[-1] == "2022-06"
    assert r.pre_fit.warning is None and r.pre_fit.p_value > 0.05
    assert r.to_dict()["control"]["areas"] == names


def test_constructed_case_matching_over_many_datasets_prefers_the_west():
    rng = np.random.default_rng(7)
    pre = np.arange(0, 18)  # 2021-01..2022-06
    west = []
    for _ in range(50):
        c = ec.simulate_counts(rng)
        m = cmp.match(c[0, pre], c[1:, pre])
        west.append(np.mean(m.chosen < 20))  # pool rows 0..19 are the western hotspots
    assert np.mean(west) > 0.9


def test_exclusion_zone_drops_candidates_near_the_target_and_other_treated_places():
    target = Point(0, 0).buffer(100)
    near = Point(450, 0).buffer(100)      # 350 m from the target's edge: inside 250 + 250
    far = Point(700, 0).buffer(100)       # 500 m from the edge: just clear
    treated = Point(3000, 0).buffer(100)
    by_treated = Point(3300, 0).buffer(100)  # within the treated place's 250 m ring
    layer = gpd.GeoDataFrame({"area_id": ["t", "n", "f", "x", "y"], "name": list("TNFXY")},
                             geometry=[target, near, far, treated, by_treated], crs=settings.CRS)
    pool = cmp.candidate_pool(target, areas=layer, exclude=treated, min_candidates=1)
    assert pool.source == "layer" and pool.dropped == 4
    assert pool.candidates["candidate_id"].tolist() == ["f"]
    with pytest.raises(InputError, match="exclusion_m"):
        cmp.candidate_pool(target, areas=layer, exclusion_m=-1)


def test_too_few_layer_candidates_gives_equal_size_hexagons_of_the_targets_area():
    layer = ec.layer()
    few = layer.iloc[[0, 1, 2, 21]]  # the target and three others
    target = layer.geometry.iloc[0]
    pool = cmp.candidate_pool(target, areas=few, study_area=ec.STUDY)
    assert pool.source == "hexagons"
    assert "Only 3 areas of the layer" in pool.warnings[0] and "hexagon" in pool.warnings[0]
    cells = pool.candidates
    assert len(cells) > 1000
    assert np.allclose(cells.area, target.area, rtol=1e-9)
    zone = target.buffer(settings.BUFFER_M + cmp.EXCLUSION_M)
    assert not shapely.intersects(zone, np.asarray(cells.geometry.values)).any()
    assert shapely.covers(ec.STUDY, np.asarray(cells.geometry.values)).all()
    assert cells["candidate_id"].str.startswith("hex r").all()

    r = evaluate_matched(ec.incidents(seed=2), target, before=ec.BEFORE, after=ec.AFTER,
                             category="asb", areas=few, study_area=ec.STUDY, run_placebo=False)
    assert r.pool == "hexagons" and r.method == "matched"
    assert any("hexagon cells" in w for w in r.warnings)
    matched = r.matched
    assert len(matched) == 10 and matched["candidate_id"].str.startswith("hex ").all()
    # only busy cells (a quarter of the target's pre-period count) were candidates
    assert (r.candidates["pre"] >= 0.25 * r.series["target"].iloc[:18].sum()).all()
    # the busy cells are the ones over the other micro-hotspots; the matched ones are western
    assert (matched.geometry.centroid.x < ec.X0 + ec.WIDTH / 2).sum() >= 8
    assert r.effect is not None and r.effect.ci95[0] <= 1 <= r.effect.ci95[1]


# --------------------------------------------------------------------------- pre-period fit
def test_pre_fit_warns_when_the_pre_periods_diverge():
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    t = np.arange(12)
    rising = np.rint(40 * 1.08 ** t)
    flat = np.vstack([np.full(12, 40), np.full(12, 60), np.full(12, 50)])
    fit = cmp.pre_fit(rising, flat, months)
    assert fit.p_value < 0.001
    assert fit.trend_difference == pytest.approx(8.0, abs=0.1)  # planted: 8% a month
    assert fit.warning.startswith("The pre-periods diverge: before the intervention the target's "
                                  "counts grew 8.0% a month faster")
    assert "faster than its comparison areas'" in fit.warning and "2022-01..2022-12" in fit.warning
    wobble = np.array([40, 44, 37, 41, 45, 36, 39, 43, 38, 42, 40, 35])  # no trend of its own
    same = cmp.pre_fit(wobble, flat, months)
    assert same.warning is None and same.p_value > 0.5
    assert same.control == pytest.approx([40.0] * 12)  # 3 flat areas scaled to the target's total
    assert same.gap == pytest.approx(100 * np.abs(wobble - 40).mean() / 40)


def test_diverging_target_in_the_constructed_case_warns():
    # the target grows 6% a month on its own: no candidate is on its path
    inc = ec.incidents(seed=3, target_growth=1.06)
    r = evaluate_matched(inc, ec.layer().iloc[[0]], before=ec.BEFORE, after=ec.AFTER,
                             category="asb", areas=ec.layer(), study_area=ec.STUDY, run_placebo=False)
    assert r.pre_fit.warning is not None and r.pre_fit.p_value < 0.05
    assert r.pre_fit.warning in r.warnings
    assert r.to_dict()["control"]["pre_fit"]["warning"] == r.pre_fit.warning
