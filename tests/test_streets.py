"""Hot streets (hotspot_app.core.streets): exact counts per segment and per 100 m on constructed
lines and points, ranking, the police.uk street-name check, refusals."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString

from hotspot_app.core import schema
from hotspot_app.core import streets
from hotspot_app.core.errors import InputError

X0, Y0 = 400_000.0, 500_000.0


def line(*pts):
    return LineString([(X0 + x, Y0 + y) for x, y in pts])


def network() -> gpd.GeoDataFrame:
    """High Street 200 m, Mill Lane 400 m (two parts), an unnamed 40 m link, the A179 1 km."""
    return gpd.GeoDataFrame(
        {"id": ["hs", "ml", "u", "a"], "name1": ["High Street", "Mill Lane", None, None],
         "roadNumber": [None, None, None, "A179"]},
        geometry=[line((0, 0), (200, 0)),
                  MultiLineString([line((0, 300), (200, 300)), line((200, 300), (400, 300))]),
                  line((1000, 0), (1000, 40)), line((0, 2000), (1000, 2000))], crs=27700)


def incidents() -> gpd.GeoDataFrame:
    pts = ([(20, 5, "On or near High Street")] * 3 + [(150, -4, "On or near High Street")] * 2
           + [(100, 6, "On or near Mill Lane")]                   # snapped to High Street: mismatch
           + [(50, 295, "On or near Mill Lane")] * 3
           + [(390, 310, "On or near Parking Area")]              # a place label: not checked
           + [(1002, 20, "On or near Beck Road")]                 # unnamed segment: unmatched
           + [(500, 2010, "On or near A179")] * 4                 # matched on the road number
           + [(600, 600, "On or near High Street")])              # 300 m from any street
    df = pd.DataFrame(pts, columns=["x", "y", "location"])
    df["x"] += X0
    df["y"] += Y0
    df["category"], df["month"] = "Burglary", "2024-01"
    return schema.make_incidents(df)


def test_counts_per_segment_and_per_100m_are_exact():
    res = streets.hot_streets(incidents(), network())
    seg = res.segments.set_index("segment_id")
    assert seg["count"].to_dict() == {"hs": 6, "ml": 4, "u": 1, "a": 4}
    assert seg["length_m"].to_dict() == pytest.approx({"hs": 200, "ml": 400, "u": 40, "a": 1000})
    assert seg["per_100m"].to_dict() == pytest.approx({"hs": 3.0, "ml": 1.0, "u": 2.5, "a": 0.4})
    assert list(res.segments["segment_id"]) == ["hs", "u", "ml", "a"]      # by per 100 m
    assert list(res.segments["rank"]) == [1, 2, 3, 4]
    assert seg.loc["u", "short"] and not seg.loc["hs", "short"]
    assert seg.loc["a", "name"] == "A179" and seg.loc["u", "name"] is None
    assert res.n_incidents == 16 and res.n_snapped == 15
    assert any("1 of 16 incidents are more than 50 m" in w for w in res.warnings)
    assert any("shorter than 50 m (ranks 2)" in w for w in res.warnings)


def test_rank_by_count():
    res = streets.hot_streets(incidents(), network(), rank_by="count")
    # 6; then 4 and 4, the tie broken by the rate (Mill Lane 1.0 per 100 m, the A179 0.4); 1
    assert list(res.segments["segment_id"]) == ["hs", "ml", "a", "u"]


def test_street_name_check():
    check = streets.hot_streets(incidents(), network()).name_check
    # checked: 15 snapped minus the Parking Area = 14; matched: 5 High St + 3 Mill Lane + 4 A179
    assert check["checked"] == 14 and check["matched"] == 12
    assert check["share"] == pytest.approx(12 / 14)
    assert check["unnamed"] == 1
    assert check["mismatches"] == [["Beck Road", "(no name)", 1], ["Mill Lane", "High Street", 1]]


def test_name_normalisation_and_place_labels():
    assert streets.normalise("On or near Saint George'S Road West") == "st georges road west"
    assert streets.normalise("St. George's Road West") == "st georges road west"
    assert streets.normalise("Bridge & Canal Walk") == "bridge and canal walk"
    assert not streets.is_street("On or near Parking Area")
    assert not streets.is_street("On or near Middleton Grange Shopping Centre")
    assert not streets.is_street("On or near Sports/Recreation Area")
    assert streets.is_street("On or near Lingfield Ash") and streets.is_street("On or near A179")


def test_equidistant_point_goes_to_the_first_segment_in_the_file():
    net = gpd.GeoDataFrame({"name": ["First", "Second"]},
                           geometry=[line((0, 0), (100, 0)), line((0, 20), (100, 20))], crs=27700)
    df = pd.DataFrame({"category": ["Burglary"], "month": ["2024-01"], "x": [X0 + 50],
                       "y": [Y0 + 10]})
    res = streets.hot_streets(schema.make_incidents(df), net)
    assert res.segments["name"].tolist() == ["First"]


def test_refusals():
    inc = incidents()
    with pytest.raises(InputError) as exc:
        streets.hot_streets(inc, network().to_crs(4326))
    assert exc.value.parameter == "streets"
    pts = gpd.GeoDataFrame({"name": ["x"]}, geometry=gpd.points_from_xy([X0], [Y0]), crs=27700)
    with pytest.raises(InputError) as exc:
        streets.hot_streets(inc, pts)
    assert exc.value.column == "geometry" and exc.value.row == 1
    with pytest.raises(InputError) as exc:
        streets.hot_streets(inc, network(), name_field="street")
    assert exc.value.column == "street"
