"""Figures that are what they say (issue 20): every false zero of the issue, on constructed data
with the truth planted. A figure the data cannot give is n/a (null) with a warning, or refused;
never 0. Shares never name an area with no incidents; populations are whole numbers of people."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot_app.core import coverage, periods, schema, sentences, summaries
from hotspot_app.core.errors import InputError
from hotspot_app.core.population import population_from_table
from hotspot_app.questions import indicators, rank, table

CRS = "EPSG:27700"


def wards() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame({"name": ["Ash", "Birch", "Cedar"], "LAD24NM": ["North", "North", "South"]},
                           geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
                                     shapely.box(1000, 1000, 1100, 1100)], crs=CRS)
    return schema.make_areas(gdf, name="name", layer="ward")


def police(rows, provider="Cleveland Police") -> gpd.GeoDataFrame:
    """rows: (category, month, x, y)."""
    df = pd.DataFrame(rows, columns=["category", "month", "x", "y"]).assign(provider=provider)
    return schema.make_incidents(df, source="police-uk")


def two_forces() -> pd.DataFrame:
    # Cleveland for January-March 2024 (Ash: 2 a month), a second force for January-February
    # (Cedar: 3 a month)
    cleveland = police([("Drugs", m, 5.0, 5.0) for m in ("2024-01", "2024-02", "2024-03")] * 2)
    durham = police([("Drugs", m, 1005.0, 1005.0) for m in ("2024-01", "2024-02")] * 3,
                    provider="Durham Constabulary")
    return pd.concat([cleveland, durham], ignore_index=True)


DURHAM = "Durham has no data for 2024-03"


def test_a_second_force_missing_a_month_gives_na_with_a_warning_naming_the_force():
    inc = two_forces()
    assert sorted(coverage.for_kind(inc, "crime").months) == ["2024-01", "2024-02"]
    assert coverage.gaps_by_provider(inc, ["2024-02", "2024-03"]) == [DURHAM]
    assert coverage.gaps_by_provider(inc[inc["provider"] == "Cleveland Police"], ["2024-04"]) == []  # one force
    doc = table.area_table(inc, wards(), by="LAD24NM", period="2024-03..2024-03",
                           compare="2024-02..2024-02").document
    total = doc["rows"][-1]["cells"]
    assert total["South"]["current"] is None and total["South"]["diff"] is None  # never 0, -100%
    assert total["North"]["current"] is None and total["North"]["previous"] == 2  # March not known force-wide
    assert (total["Total"]["current"], total["Total"]["previous"]) == (None, 5)
    assert doc["warnings"] == [f"{DURHAM}: period current (2024-03) is shown as null (not zero) because "
                               "not every force or service that supplies it has data for those months"]
    # February against January: both forces loaded, exact figures and no warning
    doc = table.area_table(inc, wards(), by="LAD24NM", period="2024-02..2024-02",
                           compare="2024-01..2024-01").document
    total = doc["rows"][-1]["cells"]
    assert [(total[c]["current"], total[c]["previous"]) for c in ("North", "South", "Total")] == \
        [(2, 2), (3, 3), (5, 5)] and doc["warnings"] == []


def test_the_second_forces_missing_month_is_named_by_the_summary_and_the_indicators():
    inc = two_forces()
    w = wards()
    doc = summaries.area_summary(inc, w[w["name"] == "Cedar"], to="2024-03", n_months=1,
                                 compare="previous-period")
    assert (doc["crime"]["current"], doc["crime"]["previous"]) == (None, 3)
    assert any(w.startswith(f"{DURHAM}: crime current (2024-03)") for w in doc["warnings"])
    spec = pd.DataFrame({"indicator": ["Drugs"], "category": ["Drugs"], "target": ["reduce"]})
    ind = indicators.indicators(inc, spec, "2024-03..2024-03", compare="previous-period")
    assert (ind["rows"][0]["current"], ind["rows"][0]["previous"], ind["rows"][0]["status"]) == (None, 5, "n/a")
    assert ind["warnings"] == [f"{DURHAM}: Drugs current (2024-03) is shown as null (not zero) because "
                               "not every force or service that supplies it has data for those months"]


def test_a_police_uk_month_without_asb_rows_gives_asb_na_with_a_warning():
    rows = [("Drugs", m, 5.0, 5.0) for m in ("2024-01", "2024-02")] + [("Anti-social behaviour", "2024-01", 5.0, 5.0)] * 4
    inc = police(rows)
    doc = table.area_table(inc, wards(), by="LAD24NM", period="2024-02..2024-02", kind="asb",
                           compare="2024-01..2024-01").document
    north = doc["rows"][-1]["cells"]["North"]
    assert (north["current"], north["previous"], north["pct_diff"]) == (None, 4, None)  # not 0, -100%
    assert any("no data loaded for 2024-02" in w for w in doc["warnings"])


def test_rank_of_a_category_police_uk_does_not_split_is_refused():
    inc = police([("Violence and sexual offences", "2024-01", 5.0, 5.0)] * 3)
    with pytest.raises(InputError) as err:
        rank.rank(inc, wards(), category=["Violence with injury"])
    assert err.value.parameter == "category" and "'Violence with injury'" in err.value.message
    with pytest.raises(InputError):
        rank.area_values(inc, wards(), category=["Arson"], months=["2024-01"])
    _, doc = rank.rank(inc, wards(), category=["Violence and sexual offences"])  # the data's own: fine
    assert doc["areas"][0]["count"] == 3


def test_an_indicator_whose_source_is_not_loaded_is_na_not_zero():
    inc = police([("Drugs", m, 5.0, 5.0) for m in periods.month_range("2023-04", "2024-06")])
    spec = pd.DataFrame({"indicator": ["Deliberate fires", "Drugs"],
                         "category": ["deliberate-fires", "Drugs"], "target": ["reduce", "reduce"]})
    doc = indicators.indicators(inc, spec, "2024-04..2024-06")
    fires, drugs = doc["rows"]
    assert (fires["current"], fires["previous"], fires["status"]) == (None, None, "n/a")
    assert (drugs["current"], drugs["previous"]) == (3, 3)
    assert any(w.startswith("Deliberate fires: no fire service incidents data are loaded") for w in doc["warnings"])
    assert doc["sentences"][0].startswith("Deliberate fires: not available")


def test_a_share_never_names_an_area_with_no_incidents():
    inc = police([("Drugs", "2024-01", 5.0, 5.0)] * 4)
    ranked, doc = rank.rank(inc, wards(), category=["crime"], top=3)
    assert doc["top"]["areas"] == ["Ash"] and doc["top"]["text"].endswith("in just 1 ward; Ash.")
    assert doc["sentences"] == ["All (100%; 4 of the 4 incidents) of crime occurred in just 1 ward; Ash (4)."]


@pytest.mark.parametrize("value, message", [("-500", "-500 is not a whole number"),
                                            ("0.4", "0.4 is not a whole number"),
                                            ("abc", "'abc' is not a number")])
def test_a_population_that_is_not_a_whole_number_of_people_is_refused_naming_the_row(value, message):
    pop = pd.DataFrame({"area": ["Ash", "Birch"], "population": ["1,200", value]})
    with pytest.raises(InputError) as err:
        population_from_table(pop, wards())
    assert message in err.value.message and err.value.row == 2 and err.value.column == "population"


def test_a_population_with_commas_and_an_empty_cell_is_read():
    pop = pd.DataFrame({"area": ["Ash", "Birch", "Cedar"], "population": ["1,200", "", "0"]})
    values, warnings = population_from_table(pop, wards())
    assert values.tolist()[0] == 1200.0 and np.isnan(values.tolist()[1]) and values.tolist()[2] == 0.0
    assert any("no population for 1 area(s): Birch" in w for w in warnings)


def test_unknown_figures_are_said_to_be_unknown_in_the_sentences():
    doc = {"columns": [{"id": "A", "area": "A", "from": "2024-01", "to": "2024-12", "compare_from": "2023-01",
                        "compare_to": "2023-12"}],
           "rows": [{"category": "Total", "parent": None, "level": 0,
                     "cells": {"A": {"current": 10, "previous": None, "diff": None, "pct_diff": None}}}]}
    said = sentences.table_sentences(doc, "crime")
    assert said[0] == ("Recorded crime during the period in A cannot be compared with the previous 12 months: "
                       "the data do not cover both periods.")
    assert not any(" 0 " in s or "(-" in s for s in said)
    assert summaries.top_share(pd.DataFrame({"area_id": ["a"], "name": ["A"], "count": [None]}).assign(
        rank=None), 3)["count"] is None


def test_a_rate_map_without_population_shows_counts_and_says_so(tmp_path):
    inc = police([("Drugs", "2024-01", 5.0, 5.0)] * 4 + [("Drugs", "2024-01", 105.0, 5.0)] * 2)
    values, metric, grey, warnings = rank.map_values(inc, wards(), months=["2024-01"], metric="rate")
    assert metric == "count" and values.tolist() == [4, 2, 0] and grey == {}
    assert any("no population" in w and "the map shows counts" in w for w in warnings)
    pop = tmp_path / "pop.csv"
    pop.write_text("area,population\nAsh,2000\nCedar,500\n", encoding="utf-8")
    values, metric, grey, warnings = rank.map_values(inc, wards(), months=["2024-01"], metric="rate",
                                                     population=pop)
    ids = wards()["area_id"].astype(str).tolist()
    assert metric == "rate" and values[ids[0]] == 2.0 and values[ids[2]] == 0.0
    assert grey == {ids[1]: "no population"}  # grey said honestly: Birch has no population


# ----------------------------------------------------------------------------- council reports
def test_a_council_extract_is_its_own_kind_and_never_in_the_crime_total(tmp_path):
    """A council's fly-tipping and noise CSV loaded beside police.uk rows: the crime Total is the
    police.uk count alone; the council's rows are kind 'council', a block of their own."""
    import json

    from typer.testing import CliRunner

    from hotspot_app.cli import app
    from hotspot_app.io.ingest import read_incidents
    from reliability import makers as mk

    police_csv = mk.police_file(tmp_path, [mk.police_row(f"c{i}", crime=c) for i, c in
                                           enumerate(["Burglary", "Burglary", "Drugs", "Anti-social behaviour"])])
    police_csv = police_csv.rename(tmp_path / "2024-01-cleveland-street.csv")
    council = mk.text_file(tmp_path, "council.csv", [mk.GENERIC_HEADER] + [
        f"f{i},2024-01-{10 + i},{c},449500,520000" for i, c in
        enumerate(["Fly-tipping", "Fly-tipping", "Fly-tipping", "Noise", "Noise"])])
    wards = tmp_path / "wards.geojson"
    mk.wards().to_file(wards)
    res = read_incidents(council)
    assert res.incidents["kind"].tolist() == ["council"] * 5
    assert res.incidents["group"].tolist() == ["Fly-tipping"] * 3 + ["Noise"] * 2
    assert res.summary["warnings"] == [
        "council.csv: 5 rows with categories that are not police or fire categories (Fly-tipping, Noise) were "
        "loaded as council reports: their own kind, never counted in a crime total (a kind column saying "
        "'crime' or 'asb' counts them as such)"]

    def table(*files, extra=()):
        r = CliRunner().invoke(app, ["table", *map(str, files), "--areas", str(wards), "--by", "WD24NM",
                                     "--period", "2024-01..2024-01", *extra, "--format", "json"])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    alone, both = table(police_csv), table(police_csv, council)
    assert alone["rows"][-1]["cells"]["Total"]["current"] == 3  # 2 burglaries, 1 drugs
    assert both["rows"] == alone["rows"]  # the council's rows are in no crime row, nor the crime Total
    assert not any(r["category"] in ("Unknown", "Fly-tipping") for r in both["rows"])
    mixed = table(police_csv, council, extra=("--category", "crime", "--category", "council"))
    got = [(r["category"], r.get("kind"), r["cells"]["Total"]["current"]) for r in mixed["rows"]]
    assert ("Crime total", "crime", 3) in got
    assert [g for g in got if g[1] == "council"] == [("Fly-tipping", "council", 3), ("Noise", "council", 2),
                                                     ("Council reports total", "council", 5)]
    assert got[-1] == ("Total", None, 8)
    council_only = table(police_csv, council, extra=("--kind", "council"))
    assert [(r["category"], r["cells"]["Total"]["current"]) for r in council_only["rows"]] == \
        [("Fly-tipping", 3), ("Noise", 2), ("Total", 5)]


def test_the_cli_names_the_second_force_missing_a_month(tmp_path):
    """Two police.uk forces as files, Durham without March: `hotspot table` and `hotspot summary`
    give March n/a and the warning names Durham."""
    import json

    from typer.testing import CliRunner

    from hotspot_app.cli import app
    from reliability import makers as mk

    def force_file(force: str, month: str, n: int):
        rows = [f"{force[0]}{month}{i},{month},{force},{force},-1.23,54.57,On or near A Street,E01,N01,Drugs,,"
                for i in range(n)]
        return mk.text_file(tmp_path, f"{month}-{force.split()[0].lower()}-street.csv", [mk.POLICE_HEADER, *rows])

    files = [force_file("Cleveland Police", m, 2) for m in ("2024-01", "2024-02", "2024-03")]
    files += [force_file("Durham Constabulary", m, 3) for m in ("2024-01", "2024-02")]
    wards = tmp_path / "wards.geojson"
    mk.wards().to_file(wards)
    r = CliRunner().invoke(app, ["table", *map(str, files), "--areas", str(wards), "--by", "WD24NM",
                                 "--period", "2024-03..2024-03", "--compare", "previous-period", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    total = doc["rows"][-1]["cells"]["Total"]
    assert (total["current"], total["previous"], total["pct_diff"]) == (None, 5, None)
    assert any(w.startswith(f"{DURHAM}: period current (2024-03) is shown as null (not zero)") for w in doc["warnings"])
