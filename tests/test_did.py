"""Difference-in-differences against matched areas, placebo-in-space and robustness (issue 19):
the constructed case where half the study area trends differently (no effect, and a planted 30%
fall), type I error over 200 simulated null datasets, worked examples, the JSON keys, and the
real Cleveland files (Hemlington and Hartlepool micro-hotspots)."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

import evaluation_cases as ec
from hotspot_app.core import periods, settings
from hotspot_app.core.evaluation import comparison as cmp
from hotspot_app.core.evaluation import did
from hotspot_app.core.evaluation.matched import evaluate_matched


# --------------------------------------------------------------------------- worked examples
def test_did_with_one_control_is_the_two_by_two_rate_ratio():
    rng = np.random.default_rng(3)
    tb, ta = rng.poisson(30, 6), rng.poisson(25, 6)
    cb, ca = rng.poisson(300, 6), rng.poisson(310, 6)
    e = did.did(tb, ta, [cb], [ca])
    assert (tb.sum(), ta.sum(), cb.sum(), ca.sum()) == (169, 153, 1806, 1919)
    assert e.rate_ratio == pytest.approx((153 / 169) / (1919 / 1806), rel=1e-9)
    # no overdispersion (Pearson dispersion 0.79 < 1): the Poisson interval of the 2x2 table
    assert e.model == "poisson" and e.dispersion == pytest.approx(0.788, abs=1e-3)
    se = math.sqrt(1 / 169 + 1 / 153 + 1 / 1806 + 1 / 1919)
    lo, hi = (math.exp(math.log(e.rate_ratio) + s * 1.959964 * se) for s in (-1, 1))
    assert e.ci95 == pytest.approx((lo, hi), rel=1e-6)
    assert e.to_dict() == {"rate_ratio": 0.852, "ci95": [0.6783, 1.0702], "p_value": 0.1685}


def test_did_is_undefined_without_incidents_in_a_window():
    assert did.did([0, 0, 0], [1, 2, 3], [[5, 5, 5]], [[5, 5, 5]]) is None
    assert did.did([1, 2, 3], [1, 2, 3], [[0, 0, 0]], [[5, 5, 5]]) is None


def test_placebo_p_value_and_rank_worked_example():
    # 19 candidates with no effect; the target fell to 30%: the most extreme of 20
    rng = np.random.default_rng(11)
    pool = rng.poisson(50, size=(19, 24)).astype(float)
    target = rng.poisson(50, size=24).astype(float)
    pre, before, after = np.arange(18), np.arange(6, 12), np.arange(18, 24)
    target[after] = np.rint(target[after] * 0.3)
    m = cmp.match(target[pre], pool[:, pre])
    eff = did.did(target[before], target[after], pool[m.chosen][:, before], pool[m.chosen][:, after])
    plc = did.placebo(pool, pre=pre, before=before, after=after, target_effect=eff,
                      ids=[f"c{i}" for i in range(19)])
    assert plc.n == 19 and plc.rank == 1
    assert plc.p_value == pytest.approx(1 / 20)
    assert plc.effects["rate_ratio"].between(0.7, 1.4).all()
    assert plc.to_dict() == {"n": 19, "p_value": 0.05, "rank": 1}
    # a pseudo-target never takes a neighbour within its exclusion distance as a comparison area
    few = did.placebo(pool[:5], pre=pre, before=before, after=after, target_effect=eff,
                      ids=list("abcde"), too_close={0: {1, 2, 3, 4}})
    assert few.n == 4 and few.skipped == 1
    assert "cannot go below 0.20" in few.warnings[1]


def _result(control, rr, lo, hi):
    e = did.DidEffect(rr, (lo, hi), 0.01, "poisson", 1.0, 10, (100, 80), (1000.0, 1000.0))
    return did.ControlResult(control, f"the {control} control", e)


def test_robustness_sentence():
    holds = [_result("matched", 0.70, 0.60, 0.82), _result("layer", 0.65, 0.55, 0.77)]
    assert did.robustness_sentence(holds) == (
        "The conclusion holds across all 2 controls: each shows a significant fall (rate ratios "
        "0.65 to 0.70).")
    depends = [_result("matched", 0.98, 0.85, 1.13), _result("layer", 0.77, 0.68, 0.86)]
    assert did.robustness_sentence(depends).startswith(
        "The conclusion depends on the control: the matched control 0.98 (95% CI 0.85–1.13) shows "
        "no clear change, but the layer control 0.77 (95% CI 0.68–0.86) shows a significant fall.")
    assert did.robustness_sentence(depends[:1]).startswith("Only one control could be formed")
    assert did.robustness_sentence([did.ControlResult("rest", "x", None)]).startswith("No control")
    assert did.conclusion(_result("rest", 1.3, 1.1, 1.5).effect) == "rise"


# --------------------------------------------------------------------------- the constructed case
@pytest.fixture(scope="module")
def layer():
    return ec.layer()


def _evaluate(inc, layer, **kw):
    return evaluate_matched(inc, layer.iloc[[0]], before=ec.BEFORE, after=ec.AFTER,
                                category="asb", areas=layer, study_area=ec.STUDY, **kw)


def test_no_effect_matched_interval_holds_one_and_the_naive_layer_control_is_biased(layer):
    r = _evaluate(ec.incidents(seed=1, effect=1.0), layer)
    lo, hi = r.effect.ci95
    assert lo <= 1.0 <= hi
    assert r.placebo.n == 40 and r.placebo.p_value > 0.05
    rows = {x.control: x.effect for x in r.robustness}
    assert list(rows) == ["matched", "synthetic", "layer", "rest"]
    naive = rows["layer"]
    assert naive.ci95[1] < 1.0 and naive.p_value < 0.05  # the bias the issue describes
    assert sum(n.startswith("West") for n in r.matched["name"]) >= 9
    assert r.robustness_text.startswith("The conclusion depends on the control: the 10 matched "
                                        "comparison areas")
    assert r.warnings == []


def test_planted_30_percent_fall_matched_interval_holds_it_and_naive_does_not(layer):
    r = _evaluate(ec.incidents(seed=1, effect=0.7), layer)
    lo, hi = r.effect.ci95
    assert lo <= 0.70 <= hi
    naive = {x.control: x.effect for x in r.robustness}["layer"]
    assert not (naive.ci95[0] <= 0.70 <= naive.ci95[1]) and naive.rate_ratio < 0.6
    assert r.placebo.rank == 1 and r.placebo.p_value == pytest.approx(1 / 41)
    assert sum(n.startswith("West") for n in r.matched["name"]) >= 9
    assert r.robustness_text.startswith("The conclusion holds across all 4 controls: each shows a "
                                        "significant fall")


def test_type_one_error_over_200_null_datasets_is_near_five_percent():
    """Matched DiD on 200 simulated null datasets of the constructed case (the count matrices
    `evaluate_matched` builds: 18 pre-period months, 6-month windows a year apart)."""
    rng = np.random.default_rng(19)
    months = ec.MONTHS
    pre = np.arange(18)
    b = np.array([months.index(m) for m in periods.month_range(*ec.BEFORE)])
    a = np.array([months.index(m) for m in periods.month_range(*ec.AFTER)])
    xy, _ = ec.hotspot_centres()
    far = np.hypot(*(xy[1:] - xy[0]).T)
    matched = naive = 0
    for _ in range(200):
        c = ec.simulate_counts(rng)
        sel = 1 + cmp.match(c[0, pre], c[1:, pre], distance_m=far).chosen
        matched += did.did(c[0, b], c[0, a], c[sel][:, b], c[sel][:, a]).significant
        naive += did.did(c[0, b], c[0, a], c[1:, b], c[1:, a]).significant
    rate = matched / 200
    assert 0.03 <= rate <= 0.08, rate
    assert naive / 200 > 0.3  # the rest of the layer: wrong and confident


def test_to_dict_has_the_contract_keys(layer):
    r = _evaluate(ec.incidents(seed=4), layer, run_placebo=False)
    doc = r.to_dict()
    assert set(doc) == {"control", "effect", "placebo", "robustness", "robustness_text", "warnings"}
    assert doc["control"]["method"] == "matched" and len(doc["control"]["areas"]) == 10
    assert set(doc["control"]["pre_fit"]) >= {"p_value", "warning"}
    assert doc["control"]["before"] == r.counts["control"][0] > 0
    assert set(doc["effect"]) == {"rate_ratio", "ci95", "p_value"}
    assert doc["placebo"] is None
    assert [x["control"] for x in doc["robustness"]] == ["matched", "synthetic", "layer", "rest"]
    assert all(set(x) == {"control", "rate_ratio", "ci95", "p_value"} for x in doc["robustness"])
    assert doc["robustness"][0]["rate_ratio"] == doc["effect"]["rate_ratio"]
    series = r.series
    assert list(series.columns) == ["month", "target", "control"]
    pre = series[series["month"].between("2021-01", "2022-06")]
    assert pre["control"].sum() == pytest.approx(pre["target"].sum())


def test_named_control_area_joins_the_robustness_table(layer):
    east = layer[layer["name"].str.startswith("East")]
    r = _evaluate(ec.incidents(seed=1), layer, control_area=east, control_name="eastern hotspots",
                  run_placebo=False)
    row = r.robustness[-1]
    assert row.control == "eastern hotspots" and row.effect.ci95[1] < 1.0


def test_uncovered_after_month_gives_no_effect_and_says_why(layer):
    inc = ec.incidents(seed=1)
    inc = inc[inc["month"] != "2022-09"]
    r = _evaluate(inc, layer)
    assert r.effect is None and r.robustness == []
    assert any("after window 2022-07..2022-12 has months with no data loaded (2022-09)" in w
               for w in r.warnings)


def test_no_candidates_anywhere_falls_back_to_the_layer_and_says_so(layer):
    few = layer.iloc[[0, 1, 2, 21]]
    target = layer.geometry.iloc[0]
    small_study = target.buffer(600)  # no hexagon fits outside the ring and exclusion distance
    r = evaluate_matched(ec.incidents(seed=1), target, before=ec.BEFORE, after=ec.AFTER,
                             category="asb", areas=few, study_area=small_study)
    assert r.method == "layer" and r.pool == "hexagons" and r.placebo is None
    assert r.effect is r.robustness[0].effect and r.robustness[0].control == "layer"
    assert any(w.startswith("No hexagon cell of the target's size fits") for w in r.warnings)
    assert ("No comparison areas could be matched, so the effect is measured against the rest of "
            "the layer (3 areas).") in r.warnings
    doc = r.to_dict()
    assert doc["control"]["method"] == "layer" and doc["control"]["areas"] == []
    assert doc["control"]["pre_fit"] is None


# --------------------------------------------------------------------------- real data
def _busiest(asb: gpd.GeoDataFrame, where) -> Point:
    xy = shapely.get_coordinates(asb.geometry.values)
    inside = shapely.intersects_xy(where, xy[:, 0], xy[:, 1])
    top = pd.DataFrame(xy[inside], columns=["x", "y"]).value_counts().index[0]
    return Point(*top)


@pytest.mark.realdata
def test_real_cleveland_hemlington_and_hartlepool_micro_hotspots(realdata, capsys):
    from hotspot_app.io import ingest
    from hotspot_app.io.ingest import boundaries

    police = realdata / "police_cleveland"
    wards_file = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if not wards_file.exists() or not any(police.glob("2024-12-*.csv")):
        pytest.skip("Cleveland 2023-2024 files or May 2024 wards missing from ../shared/realdata")
    inc = ingest.read_incidents(police).incidents
    wards = boundaries.read_boundaries(wards_file, layer="ward").areas
    study = shapely.union_all(np.asarray(wards.geometry.values))
    before_w = inc[(inc["kind"] == "asb") & inc["month"].between("2023-07", "2023-12")]
    places = {"Hemlington": wards.loc[wards["name"] == "Hemlington", "geometry"].iloc[0],
              "Hartlepool": shapely.union_all(np.asarray(wards.loc[wards["LAD24NM"] == "Hartlepool",
                                                                    "geometry"].values))}
    for place, where in places.items():
        target = _busiest(before_w, where).buffer(200)  # a micro-hotspot round the busiest location
        r = evaluate_matched(inc, target, name=f"{place} micro-hotspot", before=("2023-07", "2023-12"),
                                 after=("2024-07", "2024-12"), category="asb", study_area=study)
        doc = r.to_dict()
        with capsys.disabled():
            print(f"\n[real data] {place} micro-hotspot (200 m round the busiest ASB location, "
                  f"ASB, after 2024-07..12 vs 2023-07..12): target {r.counts['target']}, pool "
                  f"{r.pool} ({len(r.candidates)} cells), matched {r.counts['control']}")
            print(f"  effect {doc['effect']}  pre-trend p {doc['control']['pre_fit']['p_value']}  "
                  f"placebo {doc['placebo']}")
            for row in doc["robustness"]:
                print(f"  {row}")
            print(f"  {r.robustness_text}")
            for w in r.warnings:
                print(f"  warning: {w}")
        assert r.pool == "hexagons" and r.method == "matched"
        assert len(r.matched) == 10 and (r.matched["before"] > 0).all()
        assert r.counts["target"][0] >= 20
        assert math.isfinite(r.effect.rate_ratio) and 0.2 < r.effect.rate_ratio < 5
        lo, hi = r.effect.ci95
        assert 0 < lo < r.effect.rate_ratio < hi
        assert r.pre_fit.p_value is not None
        assert r.placebo.n > 10 and 0 < r.placebo.p_value <= 1
        assert [x["control"] for x in doc["robustness"]] == ["matched", "synthetic", "rest"]
        assert all(x["rate_ratio"] is not None for x in doc["robustness"])
        # the matched cells lie outside the target, its ring and the exclusion distance
        zone = target.buffer(settings.BUFFER_M + cmp.EXCLUSION_M)
        assert not shapely.intersects(zone, np.asarray(r.matched.geometry.values)).any()
