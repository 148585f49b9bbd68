"""Named places (issue 20, item 9): town centres made from the grid references of their streets
or postcodes with a radius, kept as the town_centre area layer that tables and rankings use."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

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
