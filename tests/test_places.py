"""Named places (issue 20, item 9): town centres made from the grid references of their streets
or postcodes with a radius, kept as the town_centre area layer that tables and rankings use."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from hotspot_app.core import schema
from hotspot_app.core.errors import InputError
from hotspot_app.core.locations import grid_ref
from hotspot_app.questions import places, table


def test_a_grid_reference_reads_back_to_the_square_it_names():
    assert places.parse_grid_ref("NZ 4923 1784") == (449235.0, 517845.0)
    assert grid_ref(*places.parse_grid_ref("NZ49231784")) == "NZ 4923 1784"
    assert places.parse_grid_ref("TQ 30 80") == (530500.0, 180500.0)  # 1 km square, its centre
    with pytest.raises(InputError) as err:
        places.parse_grid_ref("NZ 123", row=4)
    assert err.value.row == 4 and err.value.column == "grid_ref"


def test_points_of_one_name_are_one_area_of_the_town_centre_layer():
    pts = pd.DataFrame({"name": ["Market Place", "Market Place", "Harbour"],
                        "easting": ["1000", "1100", "5000"], "northing": ["1000", "1000", "5000"],
                        "radius_m": ["100", "", "50"]})
    areas, warnings = places.named_places(pts, radius_m=100)
    assert areas["name"].tolist() == ["Market Place", "Harbour"] and set(areas["layer"]) == {"town_centre"}
    assert warnings == []
    market = areas.geometry.iloc[0]
    assert market.contains(shapely.Point(1050, 1000)) and not market.contains(shapely.Point(1050, 1150))
    assert 7_820 < areas.geometry.iloc[1].area < 7_854  # a 50 m circle (pi r² = 7,854 m²)
    far, warned = places.named_places(pd.DataFrame({"name": ["Split", "Split"], "easting": [0, 9000],
                                                    "northing": [0, 0]}), radius_m=100)
    assert far.geometry.iloc[0].geom_type == "MultiPolygon" and warned[0].startswith("Split: its points")


@pytest.mark.parametrize("frame, column, row", [
    (pd.DataFrame({"name": ["A"], "grid_ref": ["XX 12"]}), "grid_ref", 1),
    (pd.DataFrame({"name": ["A", "B"], "easting": ["1", "x"], "northing": ["1", "2"]}), "easting", 2),
    (pd.DataFrame({"name": ["A", ""], "easting": ["1", "2"], "northing": ["1", "2"]}), "name", 2),
    (pd.DataFrame({"name": ["A"], "easting": ["1"], "northing": ["1"], "radius_m": ["-5"]}), "radius_m", 1),
])
def test_a_bad_row_is_named(frame, column, row):
    with pytest.raises(InputError) as err:
        places.named_places(frame)
    assert (err.value.column, err.value.row) == (column, row)


@pytest.mark.realdata
def test_a_town_centre_made_from_grid_references_gives_a_table(realdata):
    from hotspot_app.io import ingest

    month = realdata / "police_cleveland" / "2024-09-cleveland-street.csv"
    inc = ingest.read_incidents([month]).incidents
    centre, _ = places.named_places(pd.DataFrame({"name": ["Stockton High Street"] * 2,
                                                  "grid_ref": ["NZ 4444 1912", "NZ 4450 1880"]}), radius_m=200)
    doc = table.area_table(inc, centre, area="Stockton High Street", period="2024-09..2024-09",
                           compare="2024-09..2024-09").document
    total = doc["rows"][-1]["cells"]["Stockton High Street"]["current"]
    inside = inc[inc.within(centre.geometry.iloc[0])]
    assert total == int(inside["kind"].eq("crime").sum()) and total > 0


def street_incidents() -> gpd.GeoDataFrame:
    """Two map points on High Street, one on Mill Lane (police.uk-style 'On or near' locations)."""
    df = pd.DataFrame({"category": ["Shoplifting"] * 5, "month": ["2024-01"] * 5,
                       "x": [1000.0, 1000.0, 1150.0, 1250.0, 9000.0], "y": [1000.0] * 5,
                       "location": ["On or near High Street", "On or near High Street", "On or near high street",
                                    "On or near Mill Lane", "On or near Far Road"]})
    return schema.make_incidents(df, source="police-uk")


def test_a_town_centre_from_its_streets_uses_the_incidents_on_or_near_locations():
    pts = pd.DataFrame({"name": ["Town centre", "Town centre", "Town centre"],
                        "street": ["High Street", "On or near Mill Lane", "Nowhere Road"]})
    areas, warnings = places.named_places(pts, radius_m=100, incidents=street_incidents())
    assert areas["name"].tolist() == ["Town centre"] and set(areas["layer"]) == {"town_centre"}
    (centre,) = areas.geometry
    # circles of 100 m round (1000, 1000), (1150, 1000), (1250, 1000), joined; Far Road not in it
    assert centre.geom_type == "Polygon" and centre.contains(shapely.Point(1075, 1000))
    assert centre.contains(shapely.Point(1340, 1000)) and not centre.contains(shapely.Point(1000, 1110))
    assert not centre.contains(shapely.Point(9000, 1000))
    assert warnings == ["Town centre: no incident is on or near 'Nowhere Road' (row 3), so that street adds nothing"]
    with pytest.raises(InputError) as err:
        places.named_places(pts, radius_m=100)
    assert err.value.parameter == "incidents"


def test_a_place_by_postcode_needs_the_users_postcode_file():
    pts = pd.DataFrame({"name": ["Market", "Market"], "postcode": ["ts1 1aa", "TS9 9ZZ"]})
    lookup = pd.DataFrame({"postcode": ["TS1 1AA"], "easting": ["449000"], "northing": ["519000"]})
    areas, warnings = places.named_places(pts, radius_m=50, postcodes=lookup)
    assert areas.geometry.iloc[0].contains(shapely.Point(449040, 519000))
    assert warnings == ["Market: postcode TS9 9ZZ (row 2) is not in the postcode file, so it adds nothing"]
    with pytest.raises(InputError) as err:
        places.named_places(pts)
    assert err.value.parameter == "postcodes"


def test_hotspot_places_writes_an_area_file_and_adds_to_a_workspace(tmp_path):
    import json

    from typer.testing import CliRunner

    from hotspot_app.cli import app
    from hotspot_app.io import workspace
    from hotspot_app.io.ingest import read_boundaries

    inc = street_incidents()
    ws = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(ws).write_incidents(inc)
    listed = tmp_path / "centres.csv"
    listed.write_text("name,street,grid_ref\nTown centre,High Street,\nTown centre,Mill Lane,\n"
                      "Harbour,,NZ 4923 1784\n", encoding="utf-8")
    out = tmp_path / "centres.geojson"
    r = CliRunner().invoke(app, ["places", str(listed), "--incidents", str(ws), "--radius-m", "100",
                                 "--out", str(out), "--into", str(ws), "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [a["name"] for a in doc["areas"]] == ["Town centre", "Harbour"] and doc["layer"] == "town_centre"
    back = read_boundaries(out, layer="town_centre").areas
    assert back["name"].tolist() == ["Town centre", "Harbour"]
    stored = workspace.open_workspace(ws).areas()
    assert sorted(stored.loc[stored["layer"] == "town_centre", "name"]) == ["Harbour", "Town centre"]
    r = CliRunner().invoke(app, ["table", str(ws), "--areas", str(out), "--area", "Town centre",
                                 "--month", "2024-01", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"][-1]["selected_month"]["current"] == 4  # Far Road is outside


@pytest.mark.realdata
def test_stockton_high_street_from_its_street_name_on_the_real_files(realdata):
    from hotspot_app.io import ingest

    inc = ingest.read_incidents([realdata / "police_cleveland" / "2024-09-cleveland-street.csv"]).incidents
    centre, warnings = places.named_places(pd.DataFrame({"name": ["High Street"], "street": ["High Street"]}),
                                           radius_m=100, incidents=inc)
    on_street = inc[inc["location"] == "On or near High Street"]
    assert len(on_street) == 16
    assert on_street.within(centre.geometry.iloc[0].buffer(1e-6)).all()
    # several towns have a High Street: each is a piece of the area, and the warning says so
    pieces = len(getattr(centre.geometry.iloc[0], "geoms", [centre.geometry.iloc[0]]))
    assert (warnings == []) if pieces == 1 else warnings == [
        f"High Street: its points are more than 200 m apart, so it is {pieces} separate pieces"]
