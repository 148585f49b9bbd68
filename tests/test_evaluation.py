"""Intervention evaluation: before/after with the same months a year earlier, control-adjusted
rate ratio, displacement (WDQ, TNE, WDD: design §6 worked examples), warnings, time series."""

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from hotspot_app.core import evaluation as ev
from hotspot_app.core import periods, schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.render import formatting

X0, Y0 = 450_000.0, 515_000.0
TARGET = box(X0, Y0, X0 + 100, Y0 + 100)
# Points well inside each region (buffer ring is 250 m wide around TARGET).
SPOT = {"target": (X0 + 50, Y0 + 50), "buffer": (X0 + 200, Y0 + 50),
        "control": (X0 + 1500, Y0 + 1500), "far": (X0 + 9000, Y0 + 9000)}
BOROUGH = gpd.GeoDataFrame({"area_id": ["w1", "w2"], "name": ["North", "South"], "layer": "ward"},
                           geometry=[box(X0 - 2000, Y0, X0 + 2000, Y0 + 2000),
                                     box(X0 - 2000, Y0 - 2000, X0 + 2000, Y0)], crs=settings.CRS)


def build(counts, category="Anti-social behaviour", months=None):
    """Incidents from {(spot, month): n}; `months` (optional) get one far-away filler row each
    so that they are covered."""
    rows = []
    for (spot, month), n in counts.items():
        x, y = SPOT[spot]
        rows += [{"month": month, "category": category, "x": x, "y": y}] * int(n)
    for m in months or []:
        x, y = SPOT["far"]
        rows.append({"month": m, "category": "Bicycle theft", "x": x, "y": y})
    return schema.make_incidents(pd.DataFrame(rows))


def flat(spot, window, per_month):
    return {(spot, m): per_month for m in window}


# --------------------------------------------------------------------------- worked examples
def test_wdq_worked_example_is_minus_one_and_tne_zero():
    # design §6: R 100->50, D 100->150, C 100->100 gives WDQ = -1.
    assert ev.wdq(rb=100, ra=50, db=100, da=150, cb=100, ca=100) == pytest.approx(-1.0)
    assert ev.tne(rb=100, ra=50, db=100, da=150, cb=100, ca=100) == pytest.approx(0.0)
    assert "equals the gain" in ev.wdq_interpretation(-1.0, 100, 50, 100, 100)


def test_wdq_and_tne_other_values_and_interpretation_ranges():
    # Control rose 100 -> 125: expected R 125, got 50; D expected 125, got 100.
    assert ev.wdq(100, 50, 100, 100, 100, 125) == pytest.approx((100 / 125 - 1) / (50 / 125 - 1))
    assert ev.wdq(100, 50, 100, 100, 100, 125) == pytest.approx(1 / 3)
    assert ev.tne(100, 50, 100, 100, 100, 125) == pytest.approx(75 + 25)
    assert "diffusion of benefits" in ev.wdq_interpretation(0.33, 100, 50, 100, 125)
    assert "less than the gain" in ev.wdq_interpretation(-0.5, 100, 50, 100, 100)
    assert "exceeds the gain" in ev.wdq_interpretation(-1.5, 100, 50, 100, 100)
    assert "did not fall" in ev.wdq_interpretation(-0.5, 50, 100, 100, 100)


def test_wdq_undefined_for_zero_control_or_no_relative_change():
    assert ev.wdq(100, 50, 100, 150, 0, 100) is None
    assert ev.wdq(100, 50, 100, 150, 100, 0) is None
    assert ev.wdq(100, 100, 100, 150, 100, 100) is None  # target unchanged relative to control
    assert "no incidents" in ev.wdq_interpretation(None, 100, 50, 0, 100)
    assert ev.tne(100, 50, 100, 150, 0, 100) is None


def test_wdd_worked_example():
    # design §6 (Wheeler & Ratcliffe 2018): WDD -118, SE 39.6, Z -2.98.
    r = ev.wdd(treated_before=207, treated_after=110, control_before=308, control_after=318,
               displacement_before=178, displacement_after=157,
               displacement_control_before=150, displacement_control_after=140)
    assert r.wdd == -118
    assert r.variance == 1568
    assert round(r.se, 1) == 39.6
    assert round(r.z, 2) == -2.98
    assert r.p_value == pytest.approx(0.00289, abs=2e-5)


# --------------------------------------------------------------------------- rate ratio
def test_rate_ratio_on_2x2_totals_is_the_cross_ratio_with_wald_interval():
    e = ev.rate_ratio(100, 50, 200, 200)
    assert e.model == "poisson"
    assert e.rate_ratio == pytest.approx(0.5)
    se = math.sqrt(1 / 100 + 1 / 50 + 1 / 200 + 1 / 200)  # = 0.2
    assert e.ci95[0] == pytest.approx(0.5 * math.exp(-1.959964 * se), rel=1e-6)  # 0.3379
    assert e.ci95[1] == pytest.approx(0.5 * math.exp(1.959964 * se), rel=1e-6)   # 0.7400
    assert round(e.ci95[0], 4) == 0.3379 and round(e.ci95[1], 4) == 0.7400
    assert e.p_value == pytest.approx(0.000529, abs=1e-6)
    assert ev.rate_ratio(0, 50, 200, 200) is None


def test_rate_ratio_on_poisson_months_recovers_the_planted_ratio():
    rng = np.random.default_rng(7)
    tb, ta = rng.poisson(20, 12), rng.poisson(20 * 0.6 * 1.1, 12)
    cb, ca = rng.poisson(400, 12), rng.poisson(400 * 1.1, 12)
    e = ev.rate_ratio(tb, ta, cb, ca)
    assert e.model == "poisson"
    assert e.ci95[0] < 0.6 < e.ci95[1]
    # the point estimate is the cross ratio of the totals
    assert e.rate_ratio == pytest.approx((ta.sum() / tb.sum()) / (ca.sum() / cb.sum()), rel=1e-6)
    assert e.p_value < 0.001


def test_rate_ratio_switches_to_negative_binomial_when_overdispersed():
    rng = np.random.default_rng(11)
    # gamma-Poisson months: variance far above the mean
    def nb(mean, n):
        return rng.poisson(rng.gamma(2.0, mean / 2.0, n))
    tb, ta, cb, ca = nb(30, 12), nb(21, 12), nb(300, 12), nb(300, 12)
    e = ev.rate_ratio(tb, ta, cb, ca)
    p = ev.rate_ratio(tb.sum(), ta.sum(), cb.sum(), ca.sum())
    assert e.model == "negative-binomial" and e.dispersion > 2
    assert p.model == "poisson"
    # the NB interval is wider than the naive Poisson 2x2 one
    assert (math.log(e.ci95[1]) - math.log(e.ci95[0])) > 1.5 * (math.log(p.ci95[1]) - math.log(p.ci95[0]))


# --------------------------------------------------------------------------- windows
def test_same_months_before_across_a_year_end():
    assert ev.same_months_before("2023-11..2024-02") == ["2022-11", "2022-12", "2023-01", "2023-02"]
    before, after = ev.windows_around("2024-01", 3)
    assert before == ["2023-10", "2023-11", "2023-12"] and after == ["2024-01", "2024-02", "2024-03"]
    before, _ = ev.windows_around("2024-01", 2, gap=1)
    assert before == ["2023-10", "2023-11"]


def test_before_after_counts_across_year_end_exclude_neighbouring_months():
    months = periods.month_range("2021-01", "2024-06")
    counts = {("target", m): 5 for m in periods.month_range("2022-11", "2023-02")}  # 20 before
    counts[("target", "2022-10")] = 50   # just outside the before window
    counts[("target", "2023-03")] = 50
    counts.update({("target", m): 3 for m in periods.month_range("2023-11", "2024-02")})  # 12 after
    counts[("target", "2024-03")] = 40
    counts.update(flat("control", months, 30))
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-11..2024-02", name="Test",
                    context=BOROUGH)
    d = r.to_dict()
    assert d["before"] == {"from": "2022-11", "to": "2023-02", "count": 20}
    assert d["after"] == {"from": "2023-11", "to": "2024-02", "count": 12}
    assert d["diff"] == -8 and d["pct_change"] == -40.0
    assert d["control"] == {"before": 120, "after": 120}
    assert d["effect"]["rate_ratio"] == 0.6


# --------------------------------------------------------------------------- full evaluation
def seed_000_like():
    """Jul–Dec 2022: 100 ASB; Jul–Dec 2023: 71; 2021: 490 (the baseline year); control flat."""
    months = periods.month_range("2021-01", "2023-12")
    counts = {}
    counts.update({("target", m): 40 for m in periods.month_range("2021-01", "2021-10")})
    counts.update({("target", "2021-11"): 45, ("target", "2021-12"): 45})  # 2021 = 490
    counts.update({("target", m): 20 for m in periods.month_range("2022-01", "2022-06")})
    counts.update({("target", m): n for m, n in zip(periods.month_range("2022-07", "2022-12"),
                                                     [15, 15, 15, 15, 20, 20])})  # 100
    counts.update({("target", m): n for m, n in zip(periods.month_range("2023-07", "2023-12"),
                                                     [12, 12, 12, 12, 12, 11])})  # 71
    counts.update({("target", m): 15 for m in periods.month_range("2023-01", "2023-06")})
    counts.update(flat("buffer", months, 10))
    counts.update(flat("control", months, 200))
    return build(counts, months=months)


def test_seed_000_headline_and_json_contract():
    inc = seed_000_like()
    r = ev.evaluate(inc, TARGET, after="2023-07..2023-12", baseline="2021-01..2021-12",
                    category=["asb"], name="Hemlington", layer="micro_hotspot", context=BOROUGH)
    d = r.to_dict()
    assert list(d) == ["area", "categories", "after", "before", "diff", "pct_change", "baseline",
                       "buffer", "control", "wdq", "effect", "warnings", "details"]
    assert d["area"] == "Hemlington" and d["categories"] == ["asb"]
    assert d["after"] == {"from": "2023-07", "to": "2023-12", "count": 71}
    assert d["before"] == {"from": "2022-07", "to": "2022-12", "count": 100}
    assert d["diff"] == -29 and d["pct_change"] == -29.0
    # baseline is 12 months against a 6-month after window: compared per month
    assert d["baseline"] == {"from": "2021-01", "to": "2021-12", "count": 490, "pct_change": -71.0}
    assert d["buffer"] == {"before": 60, "after": 60}
    assert d["control"] == {"before": 1200, "after": 1200}
    assert set(d["effect"]) == {"rate_ratio", "ci95", "p_value"}
    assert d["effect"]["rate_ratio"] == 0.71
    assert d["wdq"] == pytest.approx(0.0)
    json.dumps(d, allow_nan=False)
    assert r.headline() == ("ASB in the Hemlington micro hotspot fell 29% in July–December 2023 "
                            "compared with the same months of 2022, a 71% reduction on the 2021 "
                            "baseline (per month).")
    md = formatting.evaluation_markdown(r)
    assert r.headline() in md
    table = r.counts_table()
    assert table.iloc[0].tolist() == ["Target area", 100, 71, "-29", "-29.0%"]
    assert " ".join(md.split()).count("| Target area | 100 | 71 | -29 | -29.0% |") == 1
    assert "rate ratio 0.71" in md and "95% CI" in md
    assert "WDQ 0" in md


def test_control_from_context_excludes_target_ring_and_outside_points():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months, 30), **flat("buffer", months, 10), **flat("control", months, 50)}
    inc = build(counts, months=months)  # the 'far' fillers lie outside BOROUGH
    r = ev.evaluate(inc, TARGET, after="2023-01..2023-12", context=BOROUGH)
    assert r.control == {"before": 600, "after": 600}
    assert "ward layer" in r.control_description
    # without a containing layer, the rest of the data (incl. the far fillers: 1 a month) is used
    r2 = ev.evaluate(inc, TARGET, after="2023-01..2023-12", category=None)
    assert r2.control == {"before": 612, "after": 612}
    assert "all other loaded incidents" in r2.control_description
    # other treated areas are taken out of the default control
    r3 = ev.evaluate(inc, TARGET, after="2023-01..2023-12", context=BOROUGH,
                     exclude=Point(*SPOT["control"]).buffer(10))
    assert r3.control == {"before": 0, "after": 0}


def test_named_control_gives_wdd_with_its_own_ring():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months[:12], 20), **flat("target", months[12:], 10),
              **flat("control", months, 25)}
    ctrl = box(SPOT["control"][0] - 50, SPOT["control"][1] - 50, SPOT["control"][0] + 50,
               SPOT["control"][1] + 50)
    # displacement-control incidents: 100 m outside the control box
    rows = [{"month": m, "category": "Anti-social behaviour", "x": SPOT["control"][0] + 150,
             "y": SPOT["control"][1]} for m in months for _ in range(2)]
    inc = pd.concat([build(counts, months=months), schema.make_incidents(pd.DataFrame(rows))],
                    ignore_index=True)
    r = ev.evaluate(inc, TARGET, after="2023-01..2023-12", control=ctrl, control_name="Park ward")
    assert r.control == {"before": 300, "after": 300}
    assert r.wdd.wdd == (120 - 240) - 0 + 0 - 0
    assert r.wdd.variance == 240 + 120 + 600 + 0 + 0 + 48
    assert "Park ward" in r.control_description
    assert r.to_dict()["details"]["wdd"]["wdd"] == -120


# --------------------------------------------------------------------------- warnings
def _warn(r, word):
    return [w for w in r.warnings if word in w]


def test_small_count_warning_fires_below_threshold_only():
    months = periods.month_range("2022-01", "2023-12")
    base = flat("control", months, 50)
    few = {**base, **flat("target", months[:12], 1), ("target", "2022-01"): 8}  # 19 before
    enough = {**base, **flat("target", months[:12], 1), ("target", "2022-01"): 9}  # 20 before
    r = ev.evaluate(build(few, months=months), TARGET, after="2023-01..2023-12")
    assert r.before.count == 19 and len(_warn(r, "Small numbers")) == 1
    r = ev.evaluate(build(enough, months=months), TARGET, after="2023-01..2023-12")
    assert r.before.count == 20 and not _warn(r, "Small numbers")


def test_peak_warning_fires_when_before_window_is_well_above_history():
    months = periods.month_range("2021-01", "2023-12")
    counts = {**flat("control", months, 50), **flat("target", months[:12], 20),
              **flat("target", months[12:24], 30), **flat("target", months[24:], 20)}
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12")
    (w,) = _warn(r, "peak")
    assert "regression to the mean" in w and "1.5×" in w and "longer baseline" in w
    # 1.2x the history: below the 1.25 factor, and not the highest window by 10%
    counts.update(flat("target", months[12:24], 24))
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12")
    assert not _warn(r, "peak")


def test_peak_warning_on_the_highest_window_of_a_short_history():
    # only 6 months precede the before window (rule a cannot apply); the before window is the
    # highest 6-month total of the 18 months before the intervention
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("control", months, 50), **flat("target", months, 10)}
    counts.update(flat("target", periods.month_range("2022-07", "2022-12"), 16))
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-07..2023-12")
    assert r.before.months[0] == "2022-07"
    assert len(_warn(r, "highest 6-month total")) == 1
    flat_counts = {**flat("control", months, 50), **flat("target", months, 10)}
    r = ev.evaluate(build(flat_counts, months=months), TARGET, after="2023-07..2023-12")
    assert not _warn(r, "peak")


def test_zero_control_warning_and_undefined_wdq():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months, 30), **flat("buffer", months, 5)}
    inc = build(counts, months=months)
    r = ev.evaluate(inc, TARGET, after="2023-01..2023-12", context=BOROUGH)
    assert r.control == {"before": 0, "after": 0}
    assert r.wdq is None and r.effect is None
    assert len(_warn(r, "control area had no incidents")) == 1
    assert "undefined" in r.wdq_text
    counts.update(flat("control", months, 1))
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12", context=BOROUGH)
    assert not _warn(r, "control area had no incidents") and r.effect is not None


def test_uncovered_months_give_null_and_a_warning():
    months = [m for m in periods.month_range("2022-01", "2023-12") if m != "2022-03"]
    counts = {**flat("target", months, 30), **flat("control", months, 40)}
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12",
                    baseline="2021-01..2021-12")
    d = r.to_dict()
    assert d["before"]["count"] is None and d["after"]["count"] == 360
    assert d["diff"] is None and d["pct_change"] is None and d["effect"] is None
    assert d["control"]["before"] is None and d["baseline"]["count"] is None
    cov = [w for w in d["warnings"] if "no data loaded" in w]
    assert len(cov) == 2 and "2022-03" in cov[0] and "2021-01" in cov[1]
    assert "not covered" in r.headline()
    # a fully covered evaluation has no coverage warning
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-04..2023-12")
    assert not _warn(r, "no data loaded")


def test_no_warnings_on_a_clean_evaluation():
    months = periods.month_range("2021-01", "2023-12")
    counts = {**flat("target", months, 30), **flat("buffer", months, 5), **flat("control", months, 40)}
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12", context=BOROUGH)
    assert r.warnings == []


# --------------------------------------------------------------------------- series, areas
def test_time_series_is_tidy_with_intervention_marked():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months, 3), **flat("buffer", months, 2), **flat("control", months, 4)}
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-06",
                    intervention=("2023-01", "2023-03"))
    s = r.series
    assert list(s.columns) == ["month", "series", "count", "covered", "period", "intervention"]
    assert len(s) == 24 * 3 and set(s["series"]) == {"target", "buffer", "control"}
    t = s[s["series"] == "target"].set_index("month")
    assert t.loc["2022-05", "count"] == 3 and t.loc["2022-05", "period"] == "before"
    assert t.loc["2023-02", "period"] == "after" and bool(t.loc["2023-02", "intervention"])
    assert not bool(t.loc["2023-04", "intervention"]) and t.loc["2023-09", "period"] == ""
    assert int(s[s["series"] == "control"]["count"].sum()) == 24 * (4 + 1)  # + far fillers


def test_intervention_area_buffers_a_point_by_its_radius():
    cctv = {"intervention_id": "i1", "name": "CCTV column", "type": "cctv",
            "geometry": Point(X0, Y0), "radius_m": 100}
    poly = ev.intervention_area(cctv)
    assert poly.area == pytest.approx(math.pi * 100 ** 2, rel=0.01)
    assert ev.intervention_area({"name": "p", "geometry": TARGET}) is TARGET
    areas = gpd.GeoDataFrame({"area_id": ["a1"], "name": ["A"]}, geometry=[TARGET], crs=settings.CRS)
    assert ev.intervention_area({"name": "p", "geometry": None, "area_id": "a1"}, areas).equals(TARGET)
    with pytest.raises(InputError, match="radius_m"):
        ev.intervention_area({"name": "c", "geometry": Point(X0, Y0), "radius_m": None})


def test_evaluate_intervention_uses_its_months():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months[:12], 20), **flat("target", months[12:], 14),
              **flat("control", months, 40)}
    row = pd.Series({"intervention_id": "i1", "name": "Lighting", "type": "lighting", "area_id": None,
                     "start": pd.Timestamp("2023-03-01"), "end": pd.Timestamp("2023-08-31"),
                     "radius_m": 60.0, "notes": "", "geometry": Point(*SPOT["target"])})
    r = ev.evaluate_intervention(build(counts, months=months), row)
    assert r.after.months[0] == "2023-03" and r.after.months[-1] == "2023-08"
    assert r.before.count == 120 and r.after.count == 84 and r.area == "Lighting"


def test_bad_inputs_name_the_parameter():
    inc = build({("target", "2023-01"): 1}, months=["2022-01"])
    with pytest.raises(InputError, match="'after'"):
        ev.evaluate(inc, TARGET, after="2023-13..2024-01")
    with pytest.raises(InputError, match="overlap"):
        ev.evaluate(inc, TARGET, after="2023-01..2023-12", before="2022-06..2023-05")
    with pytest.raises(InputError, match="buffer_m"):
        ev.evaluate(inc, TARGET, after="2023-01", buffer_m=-5)
    with pytest.raises(InputError, match="category"):
        ev.evaluate(inc, TARGET, after="2023-01", category=["no such thing"])


def test_buffer_zero_gives_null_buffer_and_wdq():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months, 30), **flat("control", months, 40)}
    d = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12", buffer_m=0).to_dict()
    assert d["buffer"] is None and d["wdq"] is None and d["effect"]["rate_ratio"] == 1.0


# --------------------------------------------------------------------------- dosage
def test_patrol_dosage_spearman_on_weekly_counts():
    areas = gpd.GeoDataFrame({"area_id": ["h1"], "name": ["Hotspot"]}, geometry=[TARGET], crs=settings.CRS)
    weeks = pd.date_range("2024-01-01", periods=6, freq="W-MON")
    hours = [2, 4, 6, 8, 10, 12]
    per_week = [9, 7, 6, 4, 3, 1]  # more hours, fewer incidents
    rows = [{"occurred": w + pd.Timedelta(days=2), "category": "Anti-social behaviour",
             "x": SPOT["target"][0], "y": SPOT["target"][1]} for w, n in zip(weeks, per_week) for _ in range(n)]
    inc = schema.make_incidents(pd.DataFrame(rows))
    log = pd.DataFrame({"Area": ["hotspot"] * 6, "Week start": weeks.strftime("%Y-%m-%d"), "Hours": hours})
    d = ev.dosage(log, inc, areas, category="asb")
    assert d.unit == "week"
    assert d.table["count"].tolist() == per_week and d.table["hours"].tolist() == hours
    assert d.rho == pytest.approx(-1.0)
    assert "Spearman" in d.text()
    bad = log.assign(Hours=["2", "4", "6", "lots", "10", "12"])
    with pytest.raises(InputError, match="row 4"):
        ev.dosage(bad, inc, areas)
    # one patrol-log reader (patrol.read_patrol_log): a visits log in minutes, UK dates, reads the same
    uk = pd.DataFrame({"area": ["Hotspot"] * 6, "date": weeks.strftime("%d/%m/%Y"),
                       "minutes": [h * 60 for h in hours]})
    assert ev.dosage(uk, inc, areas, category="asb").table["hours"].tolist() == hours


# --------------------------------------------------------------------------- demo known truth
def _demo_eval(demo, area_id, after):
    micro = demo.micro_hotspots
    target = micro[micro["area_id"] == area_id]
    return ev.evaluate(demo.incidents, target, after=after, category=["asb"],
                       buffer_m=demo.truth["patrol_effect"]["buffer_m"], context=demo.wards,
                       exclude=micro[micro["area_id"] != area_id])


def test_demo_planted_patrol_effect_and_displacement_are_recovered(demo):
    truth = demo.truth["patrol_effect"]
    months = truth["effect_months"]
    after = f"{months[0]}..{months[-1]}"
    r = _demo_eval(demo, truth["area_id"], after)
    before = f"{periods.add_months(months[0], -12)}..{periods.add_months(months[-1], -12)}"
    # our counts use the same join rule as the planted truth
    assert r.after.count == truth["observed"]["area"][after]
    assert r.before.count == truth["observed"]["area"][before]
    assert r.buffer == {"before": truth["observed"]["buffer"][before],
                        "after": truth["observed"]["buffer"][after]}
    # planted effect: ASB rate x 0.7 inside the area
    lo, hi = r.effect.ci95
    assert lo < 1 - truth["reduction"] < hi
    assert hi < 1  # and the reduction is detected
    # planted expected counts (rate x seasonality over the effect months)
    season = demo.truth["seasonality"]["asb"]
    expected_removed = sum(truth["asb_per_month"] * season[int(m[5:]) - 1] * truth["reduction"]
                           for m in months)
    expected_displaced = expected_removed * truth["displaced_fraction"]
    d, (dlo, dhi) = r.buffer_excess
    assert dlo < expected_displaced < dhi and dlo > 0
    t, (tlo, thi) = r.target_excess
    assert tlo < -expected_removed < thi
    # displacement smaller than the gain: WDQ between -1 and 0
    assert -1 < r.wdq < 0 and "less than the gain" in r.wdq_text
    assert r.warnings == []
    assert "micro hotspot fell" in r.headline()


def test_demo_unpatrolled_effect_hotspot_shows_no_effect(demo):
    spec = next(m for m in demo.truth["micro_hotspots"] if not m["effect"])
    start, end = spec["patrol_start"][:7], spec["patrol_end"][:7]
    r = _demo_eval(demo, spec["area_id"], f"{start}..{end}")
    lo, hi = r.effect.ci95
    assert lo < 1 < hi


def test_demo_evaluate_intervention_rows(demo):
    iv = demo.interventions
    row = iv[iv["type"] == "patrols"].iloc[0]
    r = ev.evaluate_intervention(demo.incidents, row, areas=demo.micro_hotspots, context=demo.wards,
                                 category=["asb"])
    assert r.after.months[0] == row["start"].strftime("%Y-%m")
    # the headline names the place, as the partnership papers do
    area_name = demo.micro_hotspots.set_index("area_id").loc[row["area_id"], "name"]
    assert r.headline().startswith(f"ASB in the {area_name} micro hotspot ")
    cctv = iv[iv["type"] == "cctv"].iloc[0]
    area = ev.intervention_area(cctv)
    assert area.area == pytest.approx(math.pi * cctv["radius_m"] ** 2, rel=0.01)


def test_wdq_text_cautions_when_the_target_change_is_not_significant():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months[:12], 30), **flat("target", months[12:], 28),
              **flat("buffer", months[:12], 10), **flat("buffer", months[12:], 12),
              **flat("control", months, 100)}
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12", context=BOROUGH)
    assert r.wdq == pytest.approx(-1.0)
    assert r.effect.ci95[0] < 1 < r.effect.ci95[1]
    assert "not statistically significant" in r.wdq_text
    # a clear reduction carries no caution
    counts.update(flat("target", months[12:], 15))
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12", context=BOROUGH)
    assert r.effect.ci95[1] < 1 and "Caution" not in r.wdq_text


def test_unequal_windows_warn_and_the_rate_ratio_uses_rates():
    months = periods.month_range("2022-01", "2023-12")
    counts = {**flat("target", months, 10), **flat("control", months, 50)}
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-07..2023-12",
                    before="2022-01..2022-12", context=BOROUGH)
    assert r.before.count == 120 and r.after.count == 60 and r.pct_change == -50.0
    assert len(_warn(r, "not like for like")) == 1
    assert r.effect.rate_ratio == pytest.approx(1.0)
    r = ev.evaluate(build(counts, months=months), TARGET, after="2023-07..2023-12", context=BOROUGH)
    assert not _warn(r, "not like for like")


def test_coverage_is_judged_on_the_sources_supplying_the_selection():
    months = periods.month_range("2022-01", "2023-12")
    police = build({**flat("target", months, 5), **flat("control", months, 20)}, months=months)
    fire_rows = [{"month": m, "category": "Deliberate secondary fire", "x": SPOT["target"][0],
                  "y": SPOT["target"][1], "source": "fire"}
                 for m in periods.month_range("2022-01", "2023-06") for _ in range(3)]
    fire_rows += [{"month": m, "category": "Deliberate secondary fire", "x": SPOT["control"][0],
                   "y": SPOT["control"][1], "source": "fire"}
                  for m in periods.month_range("2022-01", "2023-06") for _ in range(9)]
    inc = pd.concat([police, schema.make_incidents(pd.DataFrame(fire_rows), default_kind="fire")],
                    ignore_index=True)
    # fire data end in 2023-06: July–December 2023 is not covered for fires ...
    r = ev.evaluate(inc, TARGET, after="2023-07..2023-12", category=["deliberate-fires"])
    assert r.before.count == 18 and r.after.count is None
    assert len(_warn(r, "2023-07, 2023-08")) == 1
    # ... but it is for ASB (police months)
    r = ev.evaluate(inc, TARGET, after="2023-07..2023-12", category=["asb"])
    assert r.after.count == 30 and not _warn(r, "no data loaded")


# --------------------------------------------------------------------------- text that agrees with itself
def overdispersed():
    """Target monthly ASB alternating 0/16 before and 1/21 after (96 -> 132), control 40/60
    (600 -> 600), ring 5 -> 6 a month: overdispersed, so the model is negative binomial."""
    months = periods.month_range("2022-01", "2023-12")
    counts = {}
    for spot, before, after in (("target", [0, 16], [1, 21]), ("control", [40, 60], [42, 58])):
        counts.update({(spot, m): before[i % 2] for i, m in enumerate(months[:12])})
        counts.update({(spot, m): after[i % 2] for i, m in enumerate(months[12:])})
    counts.update({**flat("buffer", months[:12], 5), **flat("buffer", months[12:], 6)})
    return ev.evaluate(build(counts, months=months), TARGET, after="2023-01..2023-12", context=BOROUGH,
                       name="Precinct", layer="micro_hotspot", category=["asb", "Anti-social behaviour"])


def test_one_significance_statement_per_effect_and_signs_in_words():
    # A Poisson interval for the excess said "95% CI 4 to 67 more" (significant) beside a rate
    # ratio of 0.74-2.52 "not significant": the excess interval now comes from the rate ratio's.
    r = overdispersed()
    assert (r.before.count, r.after.count, r.control) == (96, 132, {"before": 600, "after": 600})
    assert r.effect.model == "negative-binomial"
    assert r.effect_text() == (
        "**Target area, control-adjusted:** about 35 more incidents than the control's trend predicts "
        "(95% CI 25 fewer to 146 more); rate ratio 1.36 (95% CI 0.74–2.52, p = 0.322; negative-binomial "
        "model), a 36% increase relative to the control; not statistically significant at the 5% level "
        "(the 95% interval includes no change).")
    assert r.buffer_text().splitlines()[1] == (
        "Buffer ring (250 m), control-adjusted: about 12 more incidents than the control's trend "
        "predicts (95% CI 10 fewer to 43 more); rate ratio 1.20 (95% CI 0.84–1.72); not statistically "
        "significant at the 5% level (the 95% interval includes no change).")
    # TNE counts incidents prevented: -48 is 48 *more* incidents, and the text says so in words
    assert r.tne == pytest.approx(-48.0)
    assert r.net_text().splitlines()[0] == (
        "**Net effect, target and ring together:** About 48 more incidents in the target and buffer "
        "together than the control area's trend predicts (total net effect -48.0: incidents added).")
    md = formatting.evaluation_markdown(r)
    assert md.count("statistically significant at the 5% level") == 2  # target and ring, once each
    assert "prevented: " not in md and "95% CI +" not in md  # no signed double negatives
    # 'asb' and 'Anti-social behaviour' are one selection, named once
    assert r.headline().startswith("ASB in the Precinct micro hotspot rose 38% in 2023")
    # the excess interval holds no change exactly when the rate ratio's holds 1
    lo, hi = r.target_excess[1]
    assert (lo < 0 < hi) == (r.effect.ci95[0] < 1 < r.effect.ci95[1])


def test_default_baseline_is_the_same_months_of_an_earlier_year():
    have = periods.month_range("2021-01", "2024-06")
    after = periods.month_range("2023-07", "2023-12")
    assert ev.default_baseline(after, have) == periods.month_range("2021-07", "2021-12")
    assert ev.default_baseline(periods.month_range("2024-01", "2024-06"), have) == \
        periods.month_range("2022-01", "2022-06")
    assert ev.default_baseline(after, periods.month_range("2022-01", "2024-06")) is None
