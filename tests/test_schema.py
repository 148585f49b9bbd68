"""Canonical incident and area tables: EPSG:27700, schema columns first, extras kept."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError


def test_make_incidents_builds_the_schema_and_keeps_extra_columns():
    df = pd.DataFrame({"category": ["Shoplifting", "Anti-social behaviour"],
                       "occurred": ["2024-03-05 22:10", "2024-04-01 01:00"],
                       "x": [450000.0, 450100.0], "y": [515000.0, 515050.0],
                       "lsoa_code": ["E01000001", "E01000002"]})
    before = df.copy()
    inc = schema.make_incidents(df)
    pd.testing.assert_frame_equal(df, before)  # input not mutated
    assert list(inc.columns) == schema.INCIDENT_COLUMNS + ["lsoa_code"]
    assert inc.crs.equals(settings.CRS)
    assert inc["month"].tolist() == ["2024-03", "2024-04"]
    assert inc["kind"].tolist() == ["crime", "asb"]
    assert inc["weight"].tolist() == [1.0, 1.0]
    assert inc.geometry.x.tolist() == [450000.0, 450100.0]
    schema.validate_incidents(inc)


def test_make_incidents_reprojects_wgs84_to_bng():
    inc = schema.make_incidents(pd.DataFrame({"category": ["Drugs"], "month": ["2024-01"],
                                              "lon": [-1.234567], "lat": [54.567890]}),
                                x="lon", y="lat", crs=settings.CRS_WGS84)
    # Middlesbrough is near E 450,000 N 517,000.
    assert 440_000 < inc.geometry.x[0] < 460_000 and 505_000 < inc.geometry.y[0] < 525_000


def test_validate_reports_every_problem_at_once():
    bad = gpd.GeoDataFrame({"month": ["2024-13"], "kind": ["theft"]},
                           geometry=[shapely.Point(0, 0)], crs=settings.CRS_WGS84)
    with pytest.raises(InputError) as err:
        schema.validate_incidents(bad)
    msg = str(err.value)
    assert "missing columns" in msg and "CRS" in msg and "kind" in msg and "YYYY-MM" in msg


def test_find_column_uses_case_insensitive_aliases():
    assert schema.find_column(["Crime ID", "Month", "LONGITUDE", "Latitude"], "incident_id") == "Crime ID"
    assert schema.find_column(["Easting_m", "Northing_m"], "easting") == "Easting_m"
    assert schema.find_column(["foo"], "category") is None


def test_make_areas_names_a_missing_field():
    gdf = gpd.GeoDataFrame({"WD24NM": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=settings.CRS)
    areas = schema.make_areas(gdf, name="WD24NM", layer="ward", population=None)
    assert areas[["area_id", "name", "layer"]].values.tolist() == [["ward-1", "A", "ward"]]
    assert np.isnan(areas["population"][0])
    with pytest.raises(InputError, match="WD13NM"):
        schema.make_areas(gdf, name="WD13NM")


def test_input_error_is_one_line_and_names_where():
    err = InputError("bad\nvalue here", file="x.csv", row=7, column="Month")
    assert str(err) == "x.csv, row 7, column 'Month': bad value here"
