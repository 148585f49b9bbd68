"""The evaluation question (`questions.evaluation.evaluate`): the one place its policies live —
the target, other treated places, the control (matched by default), the candidate pool, the
windows — checked on constructed data with planted truth (issue 19's west/east case)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import evaluation_cases as ec
from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.questions import evaluation as q

BEFORE, AFTER = "2021-07..2021-12", "2022-07..2022-12"


@pytest.fixture(scope="module")
def layer():
    return ec.layer()


@pytest.fixture(scope="module")
def null_answer(layer):
    return q.evaluate(ec.incidents(seed=1), "Target", areas=layer, before=BEFORE, after=AFTER, category="asb")


def test_default_is_matched_from_the_layer_and_holds_no_effect(null_answer):
    a = null_answer
    assert a.method == "matched" and a.control == "matched" and a.matched.pool == "layer"
    assert len(a.control_areas) == 10 and sum(n.startswith("West") for n in a.control_areas) >= 9
    lo, hi = a.effect.ci95
    assert lo <= 1.0 <= hi
    assert a.placebo.n == 40 and a.placebo.p_value > 0.05
    # the layer's 40 other hotspots are the pool (the places not funded): none is excluded
    assert not any("kept out of every comparison" in w for w in a.warnings)
    # the naive controls sit beside it in the robustness table: the rest of the layer is biased
    rows = {r.control: r.effect for r in a.robustness}
    assert list(rows) == ["matched", "synthetic", "layer", "rest"]
    assert rows["layer"].ci95[1] < 1.0
    doc = a.to_dict()
    assert doc["effect"] == {k: v for k, v in doc["robustness"][0].items() if k != "control"}
    assert doc["control"]["method"] == "matched" and doc["control"]["areas"] == a.control_areas
    assert doc["control"]["before"] == a.evaluation.control["before"] > 0
    assert doc["placebo"] == {"n": 40, "p_value": round(a.placebo.p_value, 4)}
    assert doc["sentences"] == a.sentences() and "not statistically significant" in doc["sentences"][1]
    # WDD needs a control of the target's size: not computed against 10 pooled areas
    assert doc["details"]["wdd"] is None and "give --control NAME" in doc["details"]["wdd_note"]


def test_planted_fall_is_held_by_the_matched_interval_and_stated_significant(layer):
    a = q.evaluate(ec.incidents(seed=1, effect=0.7), "Target", areas=layer, before=BEFORE, after=AFTER,
                   category="asb")
    lo, hi = a.effect.ci95
    assert lo <= 0.70 <= hi and hi < 1.0
    assert a.placebo.rank == 1
    assert "statistically significant at the 5% level." in a.sentences()[1]
    layer_row = next(r for r in a.robustness if r.control == "layer")
    assert not (layer_row.effect.ci95[0] <= 0.70 <= layer_row.effect.ci95[1])


@pytest.mark.parametrize("control", ["layer", "rest"])
def test_control_layer_or_rest_leads_with_that_row_and_keeps_the_table(null_answer, layer, control):
    a = q.evaluate(ec.incidents(seed=1), "Target", areas=layer, before=BEFORE, after=AFTER, category="asb",
                   control=control, placebo=False)
    row = next(r for r in null_answer.robustness if r.control == control)
    assert a.method == control and a.effect.rate_ratio == pytest.approx(row.effect.rate_ratio)
    assert [r.control for r in a.robustness] == [r.control for r in null_answer.robustness]
    assert a.pre_fit is None and a.to_dict()["control"]["pre_fit"] is None
    if control == "layer":
        assert len(a.control_areas) == 40
    else:
        assert a.control_areas == [] and len(a.control_polygons) == 0


def test_named_control_area_gets_the_wdd(layer):
    a = q.evaluate(ec.incidents(seed=1), "Target", areas=layer, before=BEFORE, after=AFTER, category="asb",
                   control="West 1", placebo=False)
    assert a.method == "area" and a.control == "West 1" and a.control_areas == ["West 1"]
    assert a.evaluation.wdd is not None
    assert a.robustness[-1].control == "West 1"


def test_diverging_pre_period_warns(layer):
    a = q.evaluate(ec.incidents(seed=3, target_growth=1.05), "Target", areas=layer, before=BEFORE,
                   after=AFTER, category="asb", placebo=False)
    assert a.pre_fit.p_value < 0.05
    assert any(w.startswith("The pre-periods diverge: before the intervention the target's counts grew")
               for w in a.warnings)


def _micro_case():
    """Three micro-hotspots (one the target) in a 4 km square of background incidents."""
    rng = np.random.default_rng(5)
    n = 6000
    x = 440_000 + rng.uniform(0, 4000, n)
    y = 510_000 + rng.uniform(0, 4000, n)
    months = rng.choice([f"2022-{m:02d}" for m in range(1, 13)] + [f"2023-{m:02d}" for m in range(1, 13)], n)
    hot = [Point(441_000, 511_000), Point(443_000, 513_000), Point(441_000, 513_000)]
    xs, ys, ms = [x], [y], [months]
    for p in hot:
        k = 1200
        r = 60 * np.sqrt(rng.uniform(size=k))
        t = rng.uniform(0, 2 * np.pi, k)
        xs.append(p.x + r * np.cos(t))
        ys.append(p.y + r * np.sin(t))
        ms.append(rng.choice(np.unique(months), k))
    inc = schema.make_incidents(pd.DataFrame({"category": "Anti-social behaviour", "month": np.concatenate(ms)}),
                                x=np.concatenate(xs), y=np.concatenate(ys))
    micro = gpd.GeoDataFrame({"area_id": ["m1", "m2", "m3"], "name": ["Precinct", "Rec", "Shops"],
                              "layer": "custom"}, geometry=[p.buffer(100) for p in hot], crs=settings.CRS)
    return inc, micro


def test_few_micro_hotspots_hexagons_stand_in_and_the_others_are_kept_out():
    inc, micro = _micro_case()
    a = q.evaluate(inc, "precinct", areas=micro, after="2023-07..2023-12", category="asb", placebo=False)
    assert a.matched.pool == "hexagons" and a.method == "matched"
    assert any("the layer's other 2 areas are kept out of every comparison" in w for w in a.warnings)
    # no matched hexagon touches another micro-hotspot or its ring; the 'layer' row still exists
    others = micro.iloc[1:].geometry.buffer(settings.BUFFER_M).union_all()
    assert not a.control_polygons.intersects(others).any()
    assert "layer" in [r.control for r in a.robustness]
    # the headline names the place as a micro hotspot: the layer is patrol-sized, whatever its name
    assert "the Precinct micro hotspot" in a.sentences()[0]


def test_arguments_are_checked_before_any_incident_is_read():
    micro = _micro_case()[1]
    with pytest.raises(InputError, match="--areas"):
        q.check_arguments("Precinct", None)
    with pytest.raises(InputError, match="parameter 'control'"):
        q.check_arguments("Precinct", micro, control="Nowhere")
    with pytest.raises(InputError, match="no area named 'Nowhere'"):
        q.check_arguments("Nowhere", micro)
    q.check_arguments(box(0, 0, 10, 10), None, control="rest")  # a drawn area needs no layer


def test_power_for_chosen_areas_says_its_assumptions(layer):
    inc = ec.incidents(seed=1)
    p = q.plan_power(inc, layer.iloc[[0]], weeks=26, effect=0.8, category="asb")
    assert p.months[-1] == "2022-12" and len(p.months) == 12
    assert 0 < p.power.minimum_effect < 1 and p.power.weeks_needed > 0
    assert any("10 matched areas" in a for a in p.power.assumptions)
    assert p.to_dict()["sentence"].startswith("A 26-week trial can detect a fall of ")


def test_patrol_log_on_monthly_data_says_why_the_crossover_cannot_be_done(layer, tmp_path):
    from hotspot_app.core.evaluation import crossover

    log = tmp_path / "log.csv"
    log.write_text("date,area,minutes\n2022-07-04,Target,15\n2022-07-06,Target,15\n2022-07-08,Target,10\n")
    a = q.evaluate(ec.incidents(seed=1), "Target", areas=layer, before=BEFORE, after=AFTER, category="asb",
                   placebo=False, patrol_log=log)
    c = a.to_dict()["patrol"]["crossover"]
    assert c["reason"] == crossover.MONTHLY_REASON and c["effect"] is None and c["carryover"] is None
    assert crossover.MONTHLY_REASON in a.warnings
    assert (c["patrol_days"], c["comparison_days"]) == (3, 2)


def test_a_lone_saved_micro_hotspot_is_compared_within_the_wards():
    """A micro-hotspot drawn and saved on the Data page is alone in its layer: 'the rest of the
    layer' is then the wards (as for a drawn polygon), not an error (the analyst's Before/after)."""
    inc, micro = _micro_case()
    wards = gpd.GeoDataFrame({"area_id": [f"w{i}{j}" for i in range(4) for j in range(4)],
                              "name": [f"Ward {i}{j}" for i in range(4) for j in range(4)], "layer": "ward"},
                             geometry=[box(440_000 + 1000 * i, 510_000 + 1000 * j, 441_000 + 1000 * i,
                                           511_000 + 1000 * j) for i in range(4) for j in range(4)],
                             crs=settings.CRS)
    lone = micro.iloc[[0]].assign(layer="micro_hotspot")
    areas = gpd.GeoDataFrame(pd.concat([wards, lone], ignore_index=True), crs=settings.CRS)
    a = q.evaluate(inc, "Precinct", areas=areas, after="2023-07..2023-12", category="asb", control="layer",
                   placebo=False)
    assert a.method == "layer" and a.control == "layer"
    # the Precinct sits where four wards meet: its 250 m ring touches them; the other 12 are the control
    assert sorted(a.control_areas) == sorted(f"Ward {i}{j}" for i in range(4) for j in range(4)
                                             if not (i in (0, 1) and j in (0, 1)))
    assert "the Precinct micro hotspot" in a.sentences()[0]
