"""The table engine (tables.py, design §5b) on constructed data with exact expected numbers: area
columns by a field with a Total and rates per 1,000, within-authority columns, quarters against
the same quarter last year, Oct-Sep years, fixed reference windows, Home Office rows police.uk
cannot fill (null, never 0), force-export labels and ASB codes, duplicate area names."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from hotspot_app.core import periods, schema, tables
from hotspot_app.core.errors import InputError
from hotspot_app.render import formatting

# Three wards in two authorities; ward centres for placing incidents.
WARDS = gpd.GeoDataFrame(
    {"area_id": ["W1", "W2", "W3"], "name": ["Ash", "Birch", "Cedar"], "layer": "ward",
     "LAD": ["North", "North", "South"], "population": [1000, 3000, 2000]},
    geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)], crs="EPSG:27700")
AT = {"Ash": (50, 50), "Birch": (150, 50), "Cedar": (250, 50), "out": (5000, 5000)}


def incidents(rows, months=("2022-10", "2024-09")):
    """rows: (category, month, place, n). One 'Public order' row outside every ward in every month
    of `months` keeps the months covered."""
    data = []
    for cat, month, place, n in rows:
        data += [(cat, month, *AT[place])] * n
    if months:
        data += [("Public order", m, *AT["out"]) for m in periods.month_range(*months)]
    df = pd.DataFrame(data, columns=["category", "month", "x", "y"])
    return schema.make_incidents(df, source="police-uk")


def cell(doc, category, column):
    row = next(r for r in doc["rows"] if r["category"] == category)
    return row["cells"][column]


def test_by_field_dissolves_areas_with_total_and_rates():
    inc = incidents([("Shoplifting", "2024-05", "Ash", 3), ("Shoplifting", "2024-05", "Birch", 1),
                     ("Shoplifting", "2023-05", "Ash", 2), ("Burglary", "2024-04", "Cedar", 4),
                     ("Burglary", "2023-06", "Cedar", 5), ("Shoplifting", "2024-07", "Ash", 9)])
    doc = tables.build_table(inc, WARDS, by="LAD", period="2024-04..2024-06")
    assert list(doc) == ["columns", "rows", "warnings"]
    assert [c["id"] for c in doc["columns"]] == ["North", "South", "Total"]
    assert doc["columns"][0] == {"id": "North", "area": "North", "from": "2024-04", "to": "2024-06",
                                 "compare_from": "2023-04", "compare_to": "2023-06", "population": 4000.0}
    assert doc["columns"][2]["population"] == 6000.0
    assert cell(doc, "Shoplifting", "North") == {"current": 4, "previous": 2, "diff": 2, "pct_diff": 100.0,
                                                 "rate": 1.0}
    assert cell(doc, "Burglary", "South") == {"current": 4, "previous": 5, "diff": -1, "pct_diff": -20.0,
                                              "rate": 2.0}
    # Total column = both authorities; the outside 'Public order' rows are in no column
    assert cell(doc, "Total", "Total") == {"current": 8, "previous": 7, "diff": 1, "pct_diff": 14.3,
                                           "rate": 1.33}
    assert cell(doc, "Public order", "Total")["current"] == 0
    assert doc["rows"][-1]["category"] == "Total"
    assert any("3 incidents in the current windows lie outside every area" in w for w in doc["warnings"])
    frame = tables.to_frame(doc)
    assert frame.set_index("category").loc["Shoplifting", "Total_share"] == 50.0
    assert frame.set_index("category").loc["Theft Offences", "node"] == "group"
    assert frame["node"].iloc[-1] == "total"


def test_within_keeps_one_authority_and_several_areas_give_a_column_each():
    inc = incidents([("Shoplifting", "2024-05", "Ash", 3), ("Shoplifting", "2024-05", "Birch", 1),
                     ("Shoplifting", "2024-05", "Cedar", 7)])
    doc = tables.build_table(inc, WARDS, by="name", within="lad=north", period="2024-05..2024-05")
    assert [c["id"] for c in doc["columns"]] == ["Ash", "Birch", "Total"]
    assert cell(doc, "Total", "Total")["current"] == 4      # Cedar (South) is not within
    doc = tables.build_table(inc, WARDS, area=["cedar", "Ash"], period="2024-05..2024-05", total=False)
    assert [c["id"] for c in doc["columns"]] == ["Cedar", "Ash"]
    assert cell(doc, "Total", "Cedar")["current"] == 7 and cell(doc, "Total", "Cedar")["rate"] == 3.5
    with pytest.raises(InputError, match="no area has LAD = 'West'"):
        tables.build_table(inc, WARDS, by="name", within="LAD=West", period="2024-05..2024-05")
    with pytest.raises(InputError, match="no field 'county'"):
        tables.build_table(inc, WARDS, by="county", period="2024-05..2024-05")


def test_oct_sep_years_each_against_the_year_before_first_uncovered_is_null():
    rows = [("Criminal damage and arson", "2022-12", "Ash", 2), ("Criminal damage and arson", "2023-10", "Ash", 5),
            ("Criminal damage and arson", "2024-09", "Ash", 1)]
    inc = incidents(rows, months=("2022-10", "2024-09"))
    doc = tables.build_table(inc, WARDS, area="Ash", years="2022..2023", year_start=10)
    assert [c["id"] for c in doc["columns"]] == ["2022/23", "2023/24"]
    assert (doc["columns"][1]["from"], doc["columns"][1]["to"]) == ("2023-10", "2024-09")
    assert cell(doc, "Total", "2022/23") == {"current": 2, "previous": None, "diff": None, "pct_diff": None,
                                             "rate": 2.0}
    assert cell(doc, "Total", "2023/24") == {"current": 6, "previous": 2, "diff": 4, "pct_diff": 200.0,
                                             "rate": 6.0}
    assert any(w.startswith("2022/23 previous (2021-10..2022-09): no data loaded for 2021-10") for w in doc["warnings"])


def test_fixed_reference_window_and_month_windows_for_several_areas():
    inc = incidents([("Robbery", "2023-01", "Ash", 4), ("Robbery", "2024-03", "Ash", 6)],
                    months=("2023-01", "2024-03"))
    doc = tables.build_table(inc, WARDS, area="Ash", period="2024-01..2024-03", compare="2023-01..2023-03")
    assert doc["columns"][0]["compare_from"] == "2023-01"
    assert cell(doc, "Robbery", "Ash") == {"current": 6, "previous": 4, "diff": 2, "pct_diff": 50.0, "rate": 6.0}
    doc = tables.build_table(inc, WARDS, area=["Ash", "Birch"], month="2024-03", total=False)
    assert [c["id"] for c in doc["columns"]] == [
        "Ash: selected_month", "Ash: last_6_months", "Ash: last_12_months",
        "Birch: selected_month", "Birch: last_6_months", "Birch: last_12_months"]
    assert cell(doc, "Robbery", "Ash: last_12_months")["current"] == 6


def test_home_office_rows_police_uk_cannot_fill_are_null_never_zero():
    inc = incidents([("Violence and sexual offences", "2024-05", "Ash", 3), ("Burglary", "2024-05", "Ash", 2),
                     ("Shoplifting", "2024-05", "Ash", 1)])
    doc = tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", taxonomy_name="home-office")
    for name in ("Violence With Injury", "Violence", "Arson", "Burglary Residential", "Sexual Offences"):
        assert cell(doc, name, "Ash")["current"] is None, name
    assert cell(doc, "Violence and sexual offences", "Ash")["current"] == 3
    assert cell(doc, "Shoplifting", "Ash")["current"] == 1
    assert cell(doc, "Total", "Ash")["current"] == 6
    assert cell(doc, "Victim Based Crime", "Ash")["current"] == 6
    blind = next(w for w in doc["warnings"] if "cannot distinguish" in w)
    assert "Violence With Injury" in blind and "Arson" in blind and "not 0" in blind
    assert any('"Burglary" includes business and community burglary' in w for w in doc["warnings"])
    # Same-spelt nodes are listed once, as the data spell them
    names = [r["category"] for r in doc["rows"]]
    assert "Shoplifting" in names and names.count("Shoplifting") == 1
    # the police.uk table asks for nothing finer: no caveat, no null
    doc = tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05")
    assert not any("cannot distinguish" in w or "coarser" in w for w in doc["warnings"])


def test_force_export_labels_and_asb_codes_take_their_home_office_rows():
    cats = [("Domestic Burglary", 2), ("Other Burglary", 1), ("Vehicle Crime (Inc Inter.)", 3),
            ("Robbery \u2013 Personal", 1), ("Robbery - Business", 1), ("Public Disorder", 2),
            ("Trafficking of drugs", 1), ("Possession/Use of drugs", 4), ("AS21 - Personal", 5),
            ("AS22 - Nuisance", 2)]
    inc = incidents([(c, "2024-05", "Ash", n) for c, n in cats], months=None)
    doc = tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", compare="previous-period")
    got = {r["category"]: r["cells"]["Ash"]["current"] for r in doc["rows"]}
    assert got["Burglary Residential"] == 2 and got["Burglary Business and Community"] == 1
    assert got["Vehicle Offences"] == 3 and got["Public Order Offences"] == 2
    assert got["Robbery - Personal"] == 1 and got["Robbery - Business"] == 1
    assert got["Trafficking of drugs"] == 1 and got["Possession/Use of drugs"] == 4
    assert got["Total"] == 15  # ASB codes are not crimes
    assert "Fraud & Forgery" not in got  # listed only when present
    assert got["Violence With Injury"] == 0  # Home Office data: a real zero
    asb = tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", kind="asb")
    got = {r["category"]: r["cells"]["Ash"]["current"] for r in asb["rows"]}
    assert got == {"Anti-social behaviour": 7, "ASB Personal": 5, "ASB Nuisance": 2, "ASB Environmental": 0,
                   "Total": 7}


def test_category_selection_keeps_only_its_rows_with_neighbourhood_caveat():
    inc = incidents([("Burglary", "2024-05", "Ash", 2), ("Vehicle crime", "2024-05", "Ash", 1),
                     ("Shoplifting", "2024-05", "Ash", 5)])
    doc = tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", category="neighbourhood-crime")
    names = [r["category"] for r in doc["rows"]]
    assert "Shoplifting" not in names and "Burglary" in names and names[-1] == "Total"
    assert cell(doc, "Total", "Ash")["current"] == 3
    assert any("includes business and community burglary" in w for w in doc["warnings"])
    with pytest.raises(InputError, match="select no row of kind 'crime'"):
        tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", category="asb")


def test_duplicate_area_names_are_dissolved_once_with_a_warning():
    by_lad = WARDS.assign(name=WARDS["LAD"])
    grouped, warnings = tables.group_areas(by_lad)
    assert grouped["name"].tolist() == ["North", "South"]
    assert grouped["population"].tolist() == [4000.0, 2000.0]
    assert warnings == ["2 areas share 1 name(s) and were dissolved into one area per name (each counted "
                        "once): North (2 parts)"]


def test_renderings_show_na_not_zero_and_neutralise_text():
    inc = incidents([("Shoplifting", "2024-05", "Ash", 3)])
    doc = tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", taxonomy_name="home-office")
    md = formatting.document_markdown(doc, title="Crime")
    assert "| **Total**" in md and "n/a" in md and "Infinity" not in md
    csv = formatting.document_csv(doc).decode()
    assert csv.splitlines()[0].startswith("category,parent,level,node,Ash_current,Ash_previous,Ash_diff")


def test_area_tables_page_presets_use_the_engine(demo):
    """The Area tables page: each preset renders the engine's numbers (demo borough)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).parents[1] / "streamlit_app.py"), default_timeout=240)
    at.run()
    at.switch_page("hotspot_app/ui/pages/area_tables.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="tb-preset").set_value("quarter").run()
    assert not at.exception, at.exception
    inc = demo.incidents
    end = max(inc["month"])
    quarter = periods.window(end, 3)
    shown = at.dataframe[0].value
    total = shown[shown["Category"].str.strip() == "Total"]
    in_wards = tables.areas_mod.area_mask(inc, demo.wards)
    expected = int((inc["kind"].eq("crime") & inc["month"].isin(quarter) & in_wards).sum())
    assert total["Total: Current"].iloc[0] == f"{expected:,}"
    at.selectbox(key="tb-kind2").set_value("fire").run()
    at.selectbox(key="tb-tax2").set_value("rows:subcategory").run()
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    fires = inc["kind"].eq("fire") & inc["month"].isin(quarter) & in_wards
    assert shown["Category"].iloc[-1].strip() == "Total"
    assert shown["Total: Current"].iloc[-1] == f"{int(fires.sum()):,}"
    both = inc["kind"].eq("fire") & inc["month"].isin(quarter + periods.shift(quarter, -12)) & in_wards
    assert set(shown["Category"].str.strip()[:-1]) == set(inc.loc[both, "subcategory"].fillna("Not recorded"))
    at.selectbox(key="tb-preset").set_value("years").run()
    assert not at.exception, at.exception
    assert any(c.endswith(": Diff") for c in at.dataframe[0].value.columns)
    at.selectbox(key="tb-preset").set_value("indicators").run()
    assert not at.exception, at.exception
    result = at.dataframe[-1].value
    assert list(result.columns)[0] == "Indicator" and result["Status"].isin(["on track", "off track", "n/a"]).all()


def test_flat_rows_by_a_column_fires_by_property_type():
    df = pd.DataFrame({"category": ["Deliberate primary fire"] * 4 + ["Deliberate secondary fire"] * 3,
                       "month": ["2024-05"] * 6 + ["2023-05"],
                       "x": [50] * 7, "y": [50] * 7,
                       "subcategory": ["Car", "Car", "Dwelling", None, "Grassland", "Refuse", "Refuse"]})
    inc = schema.make_incidents(df, source="fire")
    doc = tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", kind="fire", rows="subcategory")
    got = [(r["category"], r["cells"]["Ash"]["current"], r["cells"]["Ash"]["previous"]) for r in doc["rows"]]
    # 2023-05 is covered by the fire data (the Refuse fire), so previous counts are real
    assert got == [("Car", 2, 0), ("Dwelling", 1, 0), ("Grassland", 1, 0), ("Not recorded", 1, 0),
                   ("Refuse", 1, 1), ("Total", 6, 1)]
    with pytest.raises(InputError, match="no column 'property'"):
        tables.build_table(inc, WARDS, area="Ash", period="2024-05..2024-05", kind="fire", rows="property")


def test_a_table_read_only_in_its_area_box_is_the_table_of_everything_with_the_summary_beside():
    """A workspace reads the one-area table's incidents in the area's bounding box only
    (`questions.selected.table_selection`); with the summary of everything loaded beside them
    (`whole`) the table is the same as from every incident: here an unrecognised category occurs
    only in Cedar, yet Ash's table has its row (Unknown, 0) either way, and the coverage warnings
    of months loaded outside the box are the same."""
    from hotspot_app.core import summaries
    from hotspot_app.core.selection import Selection
    from hotspot_app.io.workspace.base import summary_of

    inc = incidents([("Shoplifting", "2024-06", "Ash", 3), ("Shoplifting", "2023-06", "Ash", 1),
                     ("Widget misuse", "2024-06", "Cedar", 2), ("Burglary", "2024-05", "Cedar", 4)],
                    months=("2023-03", "2024-06"))
    ash = WARDS[WARDS["name"] == "Ash"]
    full = summaries.partnership_table(inc, ash, "2024-06")
    read = Selection(category="crime", period=tables.needed_months(month="2024-06"),
                     bbox=tuple(ash.total_bounds)).apply(inc)
    assert len(read) == 4  # Ash's shoplifting only
    narrowed = summaries.partnership_table(read, ash, "2024-06", whole=summary_of(inc, 1))
    pd.testing.assert_frame_equal(narrowed.rows, full.rows)
    assert narrowed.warnings == full.warnings and full.warnings  # 2022-07..2023-02 not loaded
    rows = full.rows.set_index("category")
    assert rows.loc["Unknown", "selected_month_current"] == 0
    assert rows.loc["Shoplifting", ["selected_month_current", "selected_month_previous"]].tolist() == [3, 1]
    without = summaries.partnership_table(read, ash, "2024-06")  # the box alone: rows and coverage differ
    assert "Unknown" not in set(without.rows["category"])
