"""Area statistics on constructed data with exact expected numbers: the join rule, the
partnership table (hierarchy, windows, comparisons, coverage), the micro-hotspot summary, rankings,
rates, year-on-year tables and population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot_app.core import areas, measures, periods, schema
from hotspot_app.core.errors import InputError
from hotspot_app.core import population
from hotspot_app.core import summaries

CRS = "EPSG:27700"


def incidents(rows):
    """rows: (category, month, x, y) tuples."""
    df = pd.DataFrame(rows, columns=["category", "month", "x", "y"])
    return schema.make_incidents(df)


def filler(months, x=1e5, y=1e5, category="Drugs"):
    """One incident per month far from every area, so those months count as covered."""
    return [(category, m, x, y) for m in months]


def layer(boxes, names, layer_name="ward", population=None):
    gdf = gpd.GeoDataFrame({"name": names, "pop": population if population is not None else [np.nan] * len(names)},
                           geometry=[shapely.box(*b) for b in boxes], crs=CRS)
    return schema.make_areas(gdf, name="name", layer=layer_name, population="pop")


# --------------------------------------------------------------------------- join rule
def test_boundary_point_counted_once_per_layer_and_outside_kept():
    wards = layer([(0, 0, 10, 10), (10, 0, 20, 10)], ["West", "East"])
    micro = layer([(8, 4, 12, 6)], ["Micro"], "micro_hotspot")
    inc = incidents([("Drugs", "2024-01", 10, 5),    # on the West/East edge, inside Micro
                     ("Drugs", "2024-01", 0, 0),     # on West's outer corner
                     ("Drugs", "2024-01", 15, 5),    # East
                     ("Drugs", "2024-01", 30, 5)])   # in no ward
    ward_of = areas.join(inc, wards)
    assert ward_of.tolist() == ["ward-1", "ward-1", "ward-2", "outside"]
    micro_of = areas.join(inc, micro)
    assert micro_of.tolist() == ["micro_hotspot-1", "outside", "outside", "outside"]
    c = areas.counts(inc, wards)
    assert c["count"].tolist() == [2, 1, 1]
    assert c["count"].sum() == len(inc)
    # reversing the layer's row order moves the shared-edge point to the (new) first area
    rev = wards.iloc[::-1].reset_index(drop=True)
    assert areas.join(inc, rev).tolist() == ["ward-2", "ward-1", "ward-2", "outside"]


def test_unique_point_join_identical_to_plain_sjoin():
    rng = np.random.default_rng(7)
    # 10 x 10 grid of 100 m cells; snapped points on a 25 m lattice, so many sit on cell edges
    boxes = [(i * 100, j * 100, i * 100 + 100, j * 100 + 100) for i in range(10) for j in range(10)]
    grid = layer(boxes, [f"c{k}" for k in range(100)])
    snaps = rng.integers(-4, 45, size=(300, 2)) * 25.0
    pick = rng.integers(0, len(snaps), size=5000)
    inc = incidents([("Drugs", "2024-01", x, y) for x, y in snaps[pick]])
    ours = areas.join(inc, grid)
    # plain geopandas: every intersecting polygon, then the first by row order (the documented rule)
    sj = gpd.sjoin(inc[["geometry"]], grid[["area_id", "geometry"]], how="left", predicate="intersects")
    first = sj.reset_index().groupby("index")["index_right"].min()
    expected = first.map(lambda p: "outside" if pd.isna(p) else grid["area_id"].iloc[int(p)])
    assert ours.tolist() == expected.reindex(inc.index).tolist()
    assert (ours == "outside").sum() > 0 and sj.index.duplicated().sum() > 0  # edges were exercised


def test_join_of_mostly_distinct_points_equals_sjoin_first_match():
    # more than 50,000 points, most of them distinct: the join queries the points directly
    # (no unique-coordinate step); its labels must still be sjoin's first match by row order
    rng = np.random.default_rng(3)
    boxes = [(i * 100, j * 100, i * 100 + 100, j * 100 + 100) for i in range(10) for j in range(10)]
    grid = layer(boxes, [f"c{k}" for k in range(100)])
    xy = np.vstack([rng.uniform(-50, 1050, size=(55_000, 2)),
                    rng.integers(0, 11, size=(5_000, 2)) * 100.0])  # many exactly on cell corners/edges
    inc = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    assert len(np.unique(xy, axis=0)) > 0.5 * len(xy) and len(xy) > 50_000
    ours = areas.join(inc, grid)
    sj = gpd.sjoin(inc, grid[["area_id", "geometry"]], how="left", predicate="intersects")
    first = sj.reset_index().groupby("index")["index_right"].min()
    expected = first.map(lambda p: "outside" if pd.isna(p) else grid["area_id"].iloc[int(p)])
    assert ours.tolist() == expected.reindex(inc.index).tolist()
    assert areas.counts(inc, grid)["count"].sum() == len(inc)


def test_shared_point_objects_give_the_same_labels_as_separate_points():
    # the ingest makes one Point object per distinct location; the join then works per object
    rng = np.random.default_rng(11)
    boxes = [(i * 100, j * 100, i * 100 + 100, j * 100 + 100) for i in range(10) for j in range(10)]
    grid = layer(boxes, [f"c{k}" for k in range(100)])
    snaps = rng.integers(-4, 45, size=(300, 2)) * 25.0  # many on cell edges and corners
    pick = rng.integers(0, len(snaps), size=60_000)
    separate = shapely.points(snaps[pick])
    one_each = shapely.points(snaps)
    shared = one_each[pick]
    # partly shared: two different objects for the same location, used alternately
    twin = shapely.points(snaps)
    mixed = np.where(np.arange(len(pick)) % 2 == 0, one_each[pick], twin[pick])
    expected = None
    for geoms in (separate, shared, mixed):
        inc = gpd.GeoDataFrame({"k": np.arange(len(pick))}, geometry=geoms, crs=CRS,
                               index=pd.RangeIndex(5, 5 + len(pick)))
        got = areas.join(inc, grid)
        assert got.dtype == object and got.index.equals(inc.index) and got.name == "area_id"
        if expected is None:
            sj = gpd.sjoin(inc[["geometry"]], grid[["area_id", "geometry"]], how="left", predicate="intersects")
            first = sj.reset_index().groupby("index")["index_right"].min()
            expected = first.map(lambda p: "outside" if pd.isna(p) else grid["area_id"].iloc[int(p)])
            expected = expected.reindex(inc.index).tolist()
            assert "outside" in expected and sj.index.duplicated().sum() > 0
        assert got.tolist() == expected
    # a repeated non-point object is still an error, whichever path finds it
    for bad in (None, shapely.Point(), shapely.MultiPoint([(1, 1), (2, 2)])):
        geoms = shared.copy()
        geoms[::2] = bad
        inc = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=CRS))
        with pytest.raises(InputError, match="single points"):
            areas.join(inc, grid)
    # mostly distinct points with a bad geometry where the distinctness sample does not look
    distinct = shapely.points(rng.uniform(-50, 1050, size=(60_000, 2)))
    for bad in (None, shapely.Point(), shapely.MultiPoint([(1, 1), (2, 2)])):
        geoms = distinct.copy()
        geoms[55_001] = bad
        inc = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=CRS))
        with pytest.raises(InputError, match="single points"):
            areas.join(inc, grid)


# --------------------------------------------------------------------------- partnership table
AREA = shapely.box(0, 0, 100, 100)
ALL_MONTHS = periods.month_range("2022-01", "2024-03")


def ho_rows():
    rows = filler(ALL_MONTHS)
    march = [("Violence Without Injury", 3), ("Violence With Injury", 2), ("Shoplifting", 4),
             ("Criminal Damage", 1), ("Public Order Offences", 2), ("Mystery offence", 1)]
    for cat, n in march:
        rows += [(cat, "2024-03", 50, 50)] * n
    rows += [("Shoplifting", "2023-03", 50, 50)] * 2          # same month last year
    rows += [("Shoplifting", "2023-10", 50, 50)] * 3          # in last 6 and last 12
    rows += [("Homicide", "2023-05", 50, 50)]                 # last 12 only
    rows += [("Anti-social behaviour", "2024-03", 50, 50)] * 5  # never in the crime Total
    inc = incidents(rows)
    fires = schema.make_incidents(pd.DataFrame({"category": ["Deliberate secondary fire"] * 2,
                                                "month": ["2024-03"] * 2, "x": [50, 50], "y": [50, 50]}))
    return pd.concat([inc, fires], ignore_index=True)


def row(rows, name):
    hit = rows[rows["category"] == name]
    assert len(hit) == 1, name
    return hit.iloc[0]


def test_partnership_table_hierarchy_subtotals_and_order():
    rows, warnings = summaries.partnership_table(ho_rows(), AREA, "2024-03")
    assert warnings == []
    assert rows.attrs["taxonomy"] == "home-office"
    order = rows["category"].tolist()
    # town-centre order: groups before their leaves, Unknown then Total last
    assert order[:3] == ["Victim Based Crime", "Violence", "Violence Without Injury"]
    assert order.index("Theft Offences") < order.index("Shoplifting") < order.index("Criminal Damage & Arson")
    assert order.index("Robbery") < order.index("Non victim based") < order.index("Public Order Offences")
    assert order[-2:] == ["Unknown", "Total"]
    sm = {r.category: r.selected_month_current for r in rows.itertuples()}
    assert sm["Violence"] == 5 and sm["Theft Offences"] == 4 and sm["Criminal Damage & Arson"] == 1
    assert sm["Victim Based Crime"] == 10 and sm["Non victim based"] == 2 and sm["Unknown"] == 1
    assert sm["Total"] == 13      # ASB (5) and fires (2) are not crimes
    assert sm["Total"] == sm["Victim Based Crime"] + sm["Non victim based"] + sm["Unknown"]
    shop = row(rows, "Shoplifting")
    assert (shop.selected_month_current, shop.selected_month_previous, shop.selected_month_diff,
            shop.selected_month_pct_diff) == (4, 2, 2, 100.0)
    assert (shop.last_6_months_current, shop.last_12_months_current) == (7, 7)
    assert row(rows, "Homicide").last_12_months_current == 1
    assert row(rows, "Homicide").last_6_months_current == 0
    assert row(rows, "Total").last_12_months_current == 13 + 3 + 1
    # previous 0 -> pct null (never Infinity)
    assert pd.isna(row(rows, "Violence").selected_month_pct_diff)
    assert row(rows, "Violence").parent == "Victim Based Crime" and row(rows, "Violence").level == 1
    assert row(rows, "Violence With Injury").level == 2
    doc = summaries.table_document((rows, warnings), "Town centre")
    assert set(doc) == {"area", "month", "comparison", "rows", "warnings"}
    assert doc["rows"][0] == {"category": "Victim Based Crime", "parent": None, "level": 0,
                              "selected_month": {"current": 10, "previous": 2, "diff": 8, "pct_diff": 400.0},
                              "last_6_months": {"current": 13, "previous": 2, "diff": 11, "pct_diff": 550.0},
                              "last_12_months": {"current": 14, "previous": 2, "diff": 12, "pct_diff": 600.0}}


def test_asb_and_fire_tables_have_their_own_totals():
    rows, _ = summaries.partnership_table(ho_rows(), AREA, "2024-03", kind="asb")
    assert row(rows, "Total").selected_month_current == 5
    rows, _ = summaries.partnership_table(ho_rows(), AREA, "2024-03", kind="fire")
    assert row(rows, "Deliberate").selected_month_current == 2
    assert row(rows, "Total").selected_month_current == 2


def test_police_uk_taxonomy_auto_and_empty_rows_optional():
    rows_ = filler(ALL_MONTHS, category="Drugs") + [("Burglary", "2024-03", 5, 5),
                                                   ("Violence and sexual offences", "2024-03", 5, 5)]
    inc = incidents(rows_)
    full, _ = summaries.partnership_table(inc, AREA, "2024-03")
    assert full.attrs["taxonomy"] == "police-uk"
    # 13 police.uk crime types (ASB is not a crime) + 4 groups + Total, zeros included
    assert len(full) == 18
    assert set(full["node"]) == {"group", "leaf", "total"}
    assert (full["node"] == "leaf").sum() == 13 and (full["node"] == "group").sum() == 4
    short, _ = summaries.partnership_table(inc, AREA, "2024-03", include_empty=False)
    assert short["category"].tolist() == ["Victim Based Crime", "Violence and sexual offences",
                                          "Theft Offences", "Burglary", "Total"]
    forced, _ = summaries.partnership_table(inc, AREA, "2024-03", taxonomy_name="home-office")
    # police.uk leaves absent from the home-office list are kept under their own group
    assert row(forced, "Burglary").parent == "Theft Offences"
    assert row(forced, "Total").selected_month_current == 2


def test_windows_and_comparisons_across_year_boundary():
    rows_ = filler(periods.month_range("2021-06", "2024-02"))
    for m in ("2023-09", "2023-08", "2022-09", "2022-08", "2024-02", "2023-02", "2023-03"):
        rows_.append(("Robbery", m, 5, 5))
    inc = incidents(rows_)
    assert periods.table_windows("2024-02")["last_6_months"] == periods.month_range("2023-09", "2024-02")
    sply, _ = summaries.partnership_table(inc, AREA, "2024-02")
    r = row(sply, "Robbery")
    # current 6 = 2023-09..2024-02 -> 2023-09, 2024-02; SPLY 6 = 2022-09..2023-02 -> 2022-09, 2023-02
    assert (r.last_6_months_current, r.last_6_months_previous) == (2, 2)
    # current 12 = 2023-03..2024-02 -> 2023-03, 08, 09, 2024-02; SPLY 12 = 2022-03..2023-02 -> 2022-08, 09, 2023-02
    assert (r.last_12_months_current, r.last_12_months_previous, r.last_12_months_pct_diff) == (4, 3, 33.3)
    assert (r.selected_month_current, r.selected_month_previous) == (1, 1)
    prev, _ = summaries.partnership_table(inc, AREA, "2024-02", compare="previous-period")
    r = row(prev, "Robbery")
    # previous period: month 2024-01 (0); 6 = 2023-03..2023-08 -> 2023-03, 2023-08; 12 = 2022-03..2023-02 -> 3
    assert (r.selected_month_previous, r.last_6_months_previous, r.last_12_months_previous) == (0, 2, 3)
    assert pd.isna(r.selected_month_pct_diff)
    assert prev.attrs["comparison"] == "previous-period"


def test_uncovered_window_is_null_with_warning_naming_months():
    rows_ = filler(periods.month_range("2023-06", "2024-03")) + [("Robbery", "2024-03", 5, 5)]
    rows, warnings = summaries.partnership_table(incidents(rows_), AREA, "2024-03")
    total = row(rows, "Total")
    assert total.selected_month_current == 1
    assert pd.isna(total.selected_month_previous) and pd.isna(total.selected_month_diff)
    assert total.last_6_months_current == 1
    assert pd.isna(total.last_12_months_current) and pd.isna(total.last_12_months_pct_diff)
    text = " | ".join(warnings)
    assert "last 12 months current (2023-04..2024-03): no data loaded for 2023-04, 2023-05" in text
    assert "selected month previous (2023-03..2023-03)" not in text  # single month shown as itself
    assert "selected month previous (2023-03): no data loaded for 2023-03" in text
    doc = summaries.table_document((rows, warnings), "X")
    assert doc["rows"][-1]["last_12_months"] == {"current": None, "previous": None, "diff": None, "pct_diff": None}


def test_table_rejects_bad_parameters():
    inc = incidents(filler(["2024-01"]))
    with pytest.raises(InputError, match="parameter 'month'"):
        summaries.partnership_table(inc, AREA, "2024-13")
    with pytest.raises(InputError, match="parameter 'compare'"):
        summaries.partnership_table(inc, AREA, "2024-01", compare="last-week")
    with pytest.raises(InputError, match="parameter 'taxonomy'"):
        summaries.partnership_table(inc, AREA, "2024-01", taxonomy_name="fbi")
    with pytest.raises(InputError, match="parameter 'kind'"):
        summaries.partnership_table(inc, AREA, "2024-01", kind="arson")


# --------------------------------------------------------------------------- summary (the micro-hotspot paper)
def spread(total, months, category, x=50, y=50):
    out = []
    for i, m in enumerate(months):
        n = total // len(months) + (1 if i < total % len(months) else 0)
        out += [(category, m, x, y)] * n
    return out


def hemlington():
    cur = periods.month_range("2023-04", "2024-03")
    prev = periods.month_range("2022-04", "2023-03")
    rows_ = (spread(1331, cur, "Shoplifting") + spread(1499, prev, "Criminal damage and arson")
             + spread(374, cur, "Anti-social behaviour") + spread(523, prev, "Anti-social behaviour")
             + spread(40, cur + prev, "Drugs", x=500, y=500))  # outside the ward
    inc = incidents(rows_)
    ward = layer([(0, 0, 100, 100)], ["Hemlington"])
    return inc, ward


def test_summary_reproduces_seed_000():
    inc, ward = hemlington()
    doc = summaries.area_summary(inc, ward, "2024-03")  # place and name come from the area itself
    assert doc["area"] == "Hemlington"
    assert doc["crime"] == {"current": 1331, "previous": 1499, "diff": -168, "pct_diff": -11.2}
    assert doc["asb"] == {"current": 374, "previous": 523, "diff": -149, "pct_diff": -28.5}
    assert doc["text"] == (
        "In the 12 months up to March 2024 there were 1,331 crimes recorded in the Hemlington ward area, "
        "this figure represents an 11.2% (-168 crimes) reduction in comparison to the same time period in "
        "the previous 12-months. In the 12 months up to March 2024 there were 374 anti-social behaviour "
        "incidents recorded in the Hemlington ward area, this figure represents a 28.5% (-149 incidents) "
        "reduction in comparison to the same time period in the previous 12-months.")
    assert list(doc) == ["area", "to", "months", "crime", "asb", "text", "warnings"]
    assert doc["warnings"] == []


def test_summary_sentence_increase_na_and_uncovered():
    s = summaries.summary_sentence("crime", 120, 100, "2024-03", 12, "Yarm ward area")
    assert s.endswith("represents a 20.0% (+20 crimes) increase in comparison to the same time period "
                      "in the previous 12-months.")
    s = summaries.summary_sentence("asb", 5, 0, "2024-03", 12, "Yarm ward area")
    assert "n/a" in s and "Infinity" not in s
    assert "is not available" in summaries.summary_sentence("crime", None, 10, "2024-03", 12, "Yarm ward area")
    inc, ward = hemlington()
    doc = summaries.area_summary(inc, ward, "2024-03", n_months=24, place="Hemlington ward area")
    assert doc["crime"]["previous"] is None and doc["crime"]["current"] == 1331 + 1499
    assert any("2020-04" in w for w in doc["warnings"])


@pytest.mark.parametrize("number,article", [("8", "an"), ("11.2", "an"), ("18", "an"), ("80", "an"),
                                            ("800", "an"), ("11,000", "an"), ("71", "a"), ("1", "a"),
                                            ("110", "a"), ("180", "a"), ("28.5", "a"), ("1,100", "a")])
def test_sentences_use_an_before_eight_eleven_eighteen(number, article):
    assert measures.a_or_an(number) == article


def test_display_name_is_the_one_way_an_area_is_named():
    one = layer([(0, 0, 1, 1)], ["Hemlington"])
    assert areas.display_name(one) == "Hemlington"
    assert areas.area_label(one) == "Hemlington ward area"
    assert areas.area_label(layer([(0, 0, 1, 1)], ["Precinct"], "micro_hotspot")) == "Precinct area"
    two = layer([(0, 0, 1, 1), (1, 0, 2, 1), (2, 0, 3, 1)], ["Ash", "Beech", "Ash"])
    assert areas.display_name(two) == "Ash and Beech"  # distinct names, in order
    four = layer([(k, 0, k + 1, 1) for k in range(4)], ["A", "B", "C", "D"])
    assert areas.display_name(four) == "4 areas"
    assert areas.display_name(four, fallback="patrol_areas") == "patrol_areas"
    assert areas.display_name(layer([(0, 0, 1, 1)], ["A"]).drop(columns="name"), fallback="x") == "x"
    assert areas.new_area_id(["micro_hotspot-drawn-2"], "micro_hotspot") == "micro_hotspot-drawn-3"
    assert areas.new_area_id(["a", "micro_hotspot-drawn-3", "b"], "micro_hotspot") == "micro_hotspot-drawn-4"


# --------------------------------------------------------------------------- rankings and rates
def ranked_setup():
    wards = layer([(0, 0, 10, 10), (10, 0, 20, 10), (20, 0, 30, 10)], ["Ash", "Beech", "Cedar"],
                  population=[2000, 1000, 4000])
    rows_ = ([("Anti-social behaviour", "2024-01", 5, 5)] * 5 + [("Anti-social behaviour", "2024-01", 15, 5)] * 3
             + [("Anti-social behaviour", "2024-01", 25, 5)] * 2 + [("Anti-social behaviour", "2024-01", 99, 99)]
             + [("Drugs", "2024-01", 25, 5)] * 7)
    return incidents(rows_), wards


def test_rank_counts_shares_rates_and_outside():
    inc, wards = ranked_setup()
    table, warnings = summaries.rank_areas(inc, wards, category="asb")
    assert warnings == []
    assert table["name"].tolist() == ["Ash", "Beech", "Cedar", "outside"]
    assert table["count"].tolist() == [5, 3, 2, 1]
    assert table["share_pct"].tolist() == [45.5, 27.3, 18.2, 9.1]
    assert table["cumulative_share_pct"].tolist()[:3] == [45.5, 72.7, 90.9]
    assert table["rate_per_1000"].tolist()[:3] == [2.5, 3.0, 0.5]
    assert table["rank"].tolist()[:3] == [1, 2, 3] and pd.isna(table["rank"].iloc[3])
    top = summaries.top_share(table, 1, what="ASB")
    assert top["share_pct"] == 45.5 and top["text"] == "Almost half (45%) of ASB occurred in just 1 ward; Ash."
    pop, _ = population.population_from_table(pd.DataFrame({"ward": ["Ash", "Beech", "Cedar"], "residents": [500, 500, 500]}), wards)
    t2, _ = summaries.rank_areas(inc, wards, category="asb", population=pop)
    assert t2["rate_per_1000"].tolist()[:3] == [10.0, 6.0, 4.0]


def test_rank_uncovered_months_gives_null_and_warning():
    inc, wards = ranked_setup()
    table, warnings = summaries.rank_areas(inc, wards, category="asb", months=["2023-12", "2024-01"])
    assert table["count"].isna().all()
    assert warnings and "2023-12" in warnings[0]


def test_share_phrase_bands():
    assert summaries.share_phrase(48.2) == "almost half (48%)"
    assert summaries.share_phrase(55) == "more than half (55%)"
    assert summaries.share_phrase(12) == "12%"


def test_year_on_year_oct_sep_fires_by_category_and_area():
    months_ = periods.month_range("2020-10", "2023-09")
    rows_ = filler(months_, category="False alarm")
    rows_ += spread(91, periods.financial_year(2020, 10), "Deliberate primary fire")
    rows_ += spread(108, periods.financial_year(2021, 10), "Deliberate primary fire")
    rows_ += spread(92, periods.financial_year(2022, 10), "Deliberate primary fire")
    rows_ += spread(598, periods.financial_year(2020, 10), "Deliberate secondary fire", x=150)
    rows_ += spread(1049, periods.financial_year(2021, 10), "Deliberate secondary fire", x=150)
    rows_ += spread(695, periods.financial_year(2022, 10), "Deliberate secondary fire", x=150)
    inc = incidents(rows_)
    table, warnings = summaries.year_on_year(inc, [2020, 2021, 2022], start_month=10,
                                         category="deliberate-fires", by="category")
    assert warnings == []
    assert list(table.columns) == ["category", "Oct 20 \u2013 Sep 21", "Oct 21 \u2013 Sep 22",
                                   "Oct 22 \u2013 Sep 23", "change", "pct_change"]
    assert table.iloc[:, 1:4].to_numpy().tolist() == [[91, 108, 92], [598, 1049, 695], [689, 1157, 787]]
    assert table["change"].tolist() == [-16, -354, -370]
    assert table["pct_change"].tolist() == [-14.8, -33.7, -32.0]
    wards = layer([(0, 0, 100, 100)], ["Rossmere"])
    by_area, _ = summaries.year_on_year(inc, [2022], start_month=10, category="deliberate-primary-fires", areas=wards)
    assert by_area["name"].tolist() == ["Rossmere", "outside", "Total"]
    assert by_area["Oct 22 \u2013 Sep 23"].tolist() == [92, 0, 92]
    table, warnings = summaries.year_on_year(inc, [2019, 2020], start_month=10, category="deliberate-fires", by="category")
    assert table["Oct 19 \u2013 Sep 20"].isna().all() and "2019-10" in warnings[0]


def test_breakdown_by_property_type_counts_missing():
    df = pd.DataFrame({"category": ["Deliberate primary fire"] * 5 + ["Deliberate secondary fire"],
                       "month": ["2024-01"] * 6, "x": [1] * 6, "y": [1] * 6,
                       "subcategory": ["Car", "Car", "Dwelling", None, "Car", "Grassland"]})
    out = summaries.breakdown(schema.make_incidents(df), category="deliberate-primary-fires")
    assert out.to_dict("list") == {"subcategory": ["Car", "Dwelling", "Not recorded"], "count": [3, 1, 1],
                                   "share_pct": [60.0, 20.0, 20.0]}


# --------------------------------------------------------------------------- population
def test_population_from_lsoa_centroids_reports_unmatched():
    wards = layer([(0, 0, 10, 10), (10, 0, 20, 10)], ["West", "East"])
    lsoas = gpd.GeoDataFrame({"LSOA21CD": ["L1", "L2", "L3", "L4"]},
                             geometry=[shapely.box(0, 0, 5, 5), shapely.box(5, 0, 10, 5),
                                       shapely.box(11, 0, 19, 9), shapely.box(50, 50, 60, 60)], crs=CRS)
    pop_table = pd.DataFrame({"lsoa21_code": ["L1", "L2", "L3", "L4", "L5", "L6"],
                              "total_usual_residents": [100, 200, 400, 800, 1600, 3200]})
    pts = incidents([("Drugs", "2024-01", 12, 2), ("Drugs", "2024-01", 14, 2), ("Drugs", "2024-01", 13, 8)])
    pts["lsoa_code"] = "L5"
    pop, report = population.population_from_lsoa(pop_table, lsoas, wards, area_code="LSOA21CD",
                                             fallback_points=pts)
    assert pop.to_dict() == {"ward-1": 300.0, "ward-2": 2000.0}
    assert report.to_dict("list") == {
        "code": ["L4", "L5", "L6"], "population": [800, 1600, 3200],
        "reason": ["outside every area", "no polygon; placed at the median of its incident points", "no polygon"],
        "area_id": [None, "ward-2", None]}
    # every person is accounted for: assigned + not assigned
    assert pop.sum() + report.loc[report["area_id"].isna(), "population"].sum() == pop_table["total_usual_residents"].sum()


def test_population_from_table_by_code_warns_on_gaps():
    wards = layer([(0, 0, 10, 10), (10, 0, 20, 10)], ["West", "East"])
    table = pd.DataFrame({"code": ["ward-1", "ward-9"], "population": [1234, 99]})
    pop, warnings = population.population_from_table(table, wards)
    assert pop.iloc[0] == 1234 and pd.isna(pop.iloc[1])
    assert "East" in warnings[0] and "ward-9" in warnings[1]


def test_coverage_is_judged_per_source_supplying_the_kind():
    police = schema.make_incidents(pd.DataFrame({"category": ["Drugs"] * 15 + ["Anti-social behaviour"],
                                                 "month": periods.month_range("2023-01", "2024-03") + ["2024-03"],
                                                 "x": [500.0] * 15 + [5.0], "y": [500.0] * 15 + [5.0]}),
                                    source="police-uk")
    fires = schema.make_incidents(pd.DataFrame({"category": ["Deliberate secondary fire"] * 2,
                                                "month": ["2024-02", "2024-03"], "x": [5.0, 5.0], "y": [5.0, 5.0]}),
                                  source="fire")
    inc = pd.concat([police, fires], ignore_index=True)
    # ASB: police.uk months are covered even where they hold no ASB -> previous 0, not null
    rows, warnings = summaries.partnership_table(inc, AREA, "2024-03", kind="asb")
    assert rows.iloc[-1].selected_month_current == 1 and rows.iloc[-1].selected_month_previous == 0
    assert not any(w.startswith("selected month") for w in warnings)
    # fires: the fire data start in 2024-02, police months do not make 2023-03 covered for fires
    rows, warnings = summaries.partnership_table(inc, AREA, "2024-03", kind="fire")
    total = rows.iloc[-1]
    assert total.selected_month_current == 1 and pd.isna(total.selected_month_previous)
    assert any("selected month previous (2023-03): no data loaded for 2023-03" in w for w in warnings)


def test_change_by_area_against_the_same_months_a_year_earlier():
    wards = layer([(0, 0, 10, 10), (10, 0, 20, 10)], ["Ash", "Beech"])
    rows_ = ([("Drugs", "2023-01", 5, 5)] * 4 + [("Drugs", "2024-01", 5, 5)] * 5
             + [("Drugs", "2024-01", 15, 5)] * 3 + [("Drugs", "2024-01", 99, 99)])
    out, warnings = summaries.change_by_area(incidents(rows_), wards, category="crime", months=["2024-01"])
    assert warnings == []
    assert out[["name", "count", "previous", "pct_change"]].astype(object).where(out.notna(), None).values.tolist() == [
        ["Ash", 5, 4, 25.0], ["Beech", 3, 0, None], ["outside", 1, 0, None]]
