"""Harm weights (hotspot_app.harm, harm.csv) and the concentration curve and sentence
(hotspot_app.concentration): issue 11 items 4 and 5, design §6."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from hotspot_app.core import clusters, concentration, harm, schema
from hotspot_app.core.errors import InputError


def make(xy, category, months=None):
    xy = np.asarray(xy, dtype=float)
    data = {"category": category, "month": months or ["2024-01"] * len(xy)}
    return schema.make_incidents(pd.DataFrame(data), x=xy[:, 0], y=xy[:, 1])


# --------------------------------------------------------------------------- the table
def test_harm_table_covers_every_taxonomy_category_once_with_a_documented_range():
    t = harm.table()
    tax = pd.read_csv(harm.TABLE_PATH.with_name("taxonomy.csv"))
    assert list(t.columns) == harm.COLUMNS
    assert set(t["category"]) == set(tax["category"]) and not t["category"].duplicated().any()
    weighted = t[t["weight"].notna()]
    assert (weighted["low"] <= weighted["weight"]).all() and (weighted["weight"] <= weighted["high"]).all()
    assert weighted["source"].str.len().gt(0).all() and t["note"].str.len().gt(0).all()
    # police.uk's mixed categories carry a real range; ASB counts 1; non-offence fires carry none
    vso = t.set_index("category").loc["Violence and sexual offences"]
    assert vso["low"] < vso["weight"] < vso["high"]
    assert t.set_index("category").loc["Anti-social behaviour", ["weight", "low", "high"]].tolist() == [1, 1, 1]
    assert t.set_index("category").loc["False alarm", ["weight", "low", "high"]].isna().all()


def test_incidents_without_a_harm_weight_are_named_in_a_warning_not_zeroed_silently():
    inc = make([(0, 0)] * 4, ["Shoplifting", "False alarm", "False alarm", "Special service"])
    w, notes = harm.weights(inc)
    assert w[0] == 6.0 and np.isnan(w[1:]).all()
    assert notes == ["harm weights: 3 incidents in categories without a harm weight add nothing "
                     "to the harm: False alarm (2), Special service (1)"]
    assert harm.weights(inc, "high")[0][0] == 10.0
    with pytest.raises(InputError, match="parameter 'which'"):
        harm.weights(inc, "median")


# --------------------------------------------------------------------------- planted case
def planted():
    """A: 40 shoplifting incidents (harm 6 each: 240; low 160, high 400) at (0..30 m, 0);
    B: 15 violence and sexual offences (harm 60: 900; low 150, high 4,500) 1 km away."""
    a = [(float(i % 4) * 10, 0.0) for i in range(40)]
    b = [(1000.0 + (i % 3) * 10, 0.0) for i in range(15)]
    return make(a + b, ["Shoplifting"] * 40 + ["Violence and sexual offences"] * 15)


def test_harm_ranking_changes_the_order_and_the_low_high_check_reports_it():
    inc = planted()
    by_count = clusters.dbscan(inc, 50, 15)
    by_harm = clusters.dbscan(inc, 50, 15, rank_by="harm")
    # count ranking (the default): A (40) first; harm ranking: B (900) before A (240)
    assert by_count.areas["count"].tolist() == [40, 15]
    assert by_count.areas["weight"].tolist() == [40.0, 15.0]
    assert by_harm.areas["count"].tolist() == [15, 40]
    assert by_harm.areas["weight"].tolist() == [900.0, 240.0]
    assert by_harm.parameters["weight"] == "harm" and by_harm.parameters["harm_table"] == harm.SOURCE
    doc = by_harm.to_dict()
    assert [c["weight"] for c in doc["clusters"]] == [900.0, 240.0]
    assert "weight" not in by_count.to_dict()["clusters"][0]
    # low weights: A 160 > B 150; high: B 4,500 > A 400 -> the top 1 depends on the range
    check = harm.rank_check(by_harm.incidents, "cluster_id", top=1)
    assert check["central"] == [1] and check["low"] == [2] and check["high"] == [1]
    assert check["changes"] and check["only_low"] == [2] and check["only_high"] == [1]
    assert check["text"] == ("The top 1 by harm changes between the low and high weights: cluster_id 1 "
                             "is in it only with the high weights, 2 only with the low.")
    both = harm.rank_check(by_harm.incidents, "cluster_id", top=2)
    assert not both["changes"] and both["text"] == ("The top 2 by harm is the same with the low and "
                                                    "the high weights.")


def test_weight_by_a_numeric_column_and_its_errors():
    inc = planted()
    inc["cost"] = [1.0] * 40 + [10.0] * 15
    res = clusters.dbscan(inc, 50, 15, rank_by="cost")
    assert res.areas["weight"].tolist() == [150.0, 40.0] and res.parameters["weight"] == "cost"
    with pytest.raises(InputError, match="parameter 'rank_by'"):
        clusters.dbscan(inc, 50, 15, rank_by="nope")
    inc.loc[inc.index[3], "cost"] = -1.0
    with pytest.raises(InputError, match="row 4, column 'cost'"):
        clusters.dbscan(inc, 50, 15, rank_by="cost")


# --------------------------------------------------------------------------- concentration
def test_concentration_curve_exact_on_constructed_places():
    c = concentration.curve([5, 30, 5, 10], [4, 1, 3, 2], places=["d", "a", "c", "b"])
    assert list(c.columns) == concentration.CURVE_COLUMNS
    assert c["place"].tolist() == ["a", "b", "c", "d"]      # ties (5, 5): smaller area first
    assert c["cum_value"].tolist() == [30, 40, 45, 50]
    assert c["value_share"].tolist() == [0.6, 0.8, 0.9, 1.0]
    assert c["area_share"].tolist() == [0.1, 0.3, 0.6, 1.0]
    assert concentration.sentence([5, 30, 5, 10], [4, 1, 3, 2], 1) == (
        "1 place holds 60% of incidents in 10% of the area")


def test_concentration_sentence_three_wards_hold_48_percent_in_2_6_percent():
    values = [20, 16, 12] + [4] * 13
    areas = [1.0, 0.8, 0.8] + [7.5] * 12 + [7.4]
    assert concentration.sentence(values, areas, 3, what="ASB", places="wards") == (
        "3 wards hold 48% of ASB in 2.6% of the area")
    assert concentration.sentence(values, areas, 3, what="ASB", places="wards", decimals=1) == (
        "3 wards hold 48.0% of ASB in 2.6% of the area")
    assert concentration.sentence(values, areas, 3, what="ASB", decimals=0) == (
        "3 places hold 48% of ASB in 3% of the area")


def test_percent_rounds_half_away_from_zero():
    assert concentration.percent(0.125, 0) == "13%"
    assert concentration.percent(0.0125) == "1.3%"
    assert concentration.percent(0.5) == "50%"


def test_concentration_of_patrol_areas_by_harm():
    res = clusters.dbscan(planted(), 50, 15, rank_by="harm")
    c = concentration.curve(res.areas["weight"], res.areas["area_m2"], res.areas["rank"])
    assert c["place"].tolist() == [1, 2] and c["value_share"].iloc[0] == pytest.approx(900 / 1140)


def test_concentration_refuses_missing_values_never_a_false_zero():
    with pytest.raises(InputError, match="parameter 'values'"):
        concentration.curve([1, None, 3], [1, 1, 1])
    with pytest.raises(InputError, match="parameter 'areas_m2'"):
        concentration.curve([1, 2], [1])
    with pytest.raises(InputError, match="parameter 'n'"):
        concentration.sentence([1, 2], [1, 1], 0)
