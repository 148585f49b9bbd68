"""Generic incident files (CSV, Parquet, GeoJSON, GeoPackage): column aliases, WGS84 vs BNG,
swapped coordinates, Great Britain bounds, dates, kinds, ids and clear errors."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point

from hotspot_app.core import settings
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import read_incidents

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def csv(path, text):
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def test_aliases_case_insensitive_dates_and_rejects(tmp_path):
    f = csv(tmp_path / "export.csv", """
REF,Date Of Offence,Offence Type,Sub Category,LON,LAT,Address,Officer
A1,31/01/2024 22:15,Shoplifting,Food,-1.234,54.567,High St,PC 1
A2,2024-02-03,Criminal Damage,,-1.235,54.568,,PC 2
A3,03 Feb 2024,ASB Nuisance,,-1.236,54.569,,PC 3
A4,not a date,Robbery,,-1.234,54.567,,PC 4
A5,,Robbery,,-1.234,54.567,,PC 5
A6,2024-02-05,Robbery,,2.35,48.85,,PC 6
A7,2024-02-06,Robbery,,,,,PC 7
A8,2024-02-07,Glitter bombing,,-1.234,54.567,,PC 8
""")
    res = read_incidents(f)
    s = res.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (8, 4, 4)
    assert s["rejected_by_reason"] == {"bad date": 1, "no date": 1, "outside Great Britain": 1,
                                       "no location": 1}
    assert res.rejects[["row", "column", "reason", "value"]].values.tolist()[0] == [
        4, "Date Of Offence", "bad date", "not a date"]
    inc = res.incidents.set_index("incident_id")
    assert inc["occurred"].tolist() == [pd.Timestamp("2024-01-31 22:15"), pd.Timestamp("2024-02-03"),
                                        pd.Timestamp("2024-02-03"), pd.Timestamp("2024-02-07")]
    assert inc["month"].tolist() == ["2024-01", "2024-02", "2024-02", "2024-02"]
    assert inc["category"].tolist() == ["Shoplifting", "Criminal Damage", "ASB Nuisance", "Glitter bombing"]
    assert inc["kind"].tolist() == ["crime", "crime", "asb", "crime"]
    assert inc.loc["A8", "group"] == "Unknown"
    assert inc.loc["A1", "subcategory"] == "Food" and inc.loc["A1", "location"] == "High St"
    assert inc.loc["A1", "officer"] == "PC 1"          # extra columns kept, snake_case
    x, y = TO_BNG.transform(-1.234, 54.567)
    assert (inc.loc["A1"].geometry.x, inc.loc["A1"].geometry.y) == pytest.approx((x, y), abs=1e-6)
    assert inc["source"].eq("generic").all() and inc.crs.equals(settings.CRS)


def test_bng_detection_swaps_and_masks(tmp_path):
    f = csv(tmp_path / "bng.csv", """
id,month,category,easting,northing
1,2024-03,Burglary,449000,520000
2,2024-03,Burglary,1140000,445000
3,2024/3,Burglary,449***,520***
""")
    res = read_incidents(f)
    inc = res.incidents.set_index("incident_id")
    assert res.summary["loaded"] == 3
    # (1140000, 445000) is off the grid east of Britain; swapped it is a point in Shetland
    assert [(g.x, g.y) for g in inc.geometry] == [(449000, 520000), (445000, 1140000), (449500, 520500)]
    assert inc["location_precision_m"].tolist() == [1.0, 1.0, 1000.0]
    assert inc["month"].tolist() == ["2024-03"] * 3 and inc["occurred"].isna().all()
    assert any("1 row had easting and northing swapped" in w for w in res.summary["warnings"])


def test_swapped_latitude_longitude_fixed_and_reported(tmp_path):
    f = csv(tmp_path / "swapped.csv", """
id,date,category,latitude,longitude
1,2024-01-01,Drugs,54.5,-1.2
2,2024-01-01,Drugs,-1.2,54.5
3,2024-01-01,Drugs,-1.3,54.6
""")
    res = read_incidents(f)
    assert res.summary["loaded"] == 3
    assert any("2 rows had longitude and latitude swapped" in w for w in res.summary["warnings"])
    g = res.incidents.geometry
    assert (g.iloc[1].x, g.iloc[1].y) == (g.iloc[0].x, g.iloc[0].y)


def test_metres_in_lon_lat_columns_are_read_as_bng(tmp_path):
    f = csv(tmp_path / "m.csv", "id,date,category,lon,lat\n1,2024-01-01,Drugs,449000,520000")
    res = read_incidents(f)
    assert (res.incidents.geometry.x.item(), res.incidents.geometry.y.item()) == (449000, 520000)
    assert any("hold metres" in w for w in res.summary["warnings"])


def test_kind_column_weight_and_duplicate_ids(tmp_path):
    f = csv(tmp_path / "k.csv", """
id,date,category,kind,weight,x,y
1,2024-01-01,Fly-tipping,asb,2,449000,520000
2,2024-01-01,Fly-tipping,fire,,449000,520000
3,2024-01-01,Fly-tipping,robot,1,449000,520000
4,2024-01-01,Shoplifting,,heavy,449000,520000
1,2024-01-02,Shoplifting,,,449000,520000
""")
    res = read_incidents(f)
    assert res.summary["rejected_by_reason"] == {"bad kind": 1, "bad weight": 1, "duplicate id": 1}
    inc = res.incidents
    assert inc["kind"].tolist() == ["asb", "fire"]
    assert inc["weight"].tolist() == [2.0, 1.0]
    assert "1 row repeats an incident ID already loaded from the same source; the first was kept and the " \
        "repeat was not loaded (listed as 'duplicate id' in the rejects)" in res.summary["warnings"]


def test_missing_required_columns_name_file_and_column(tmp_path):
    f = csv(tmp_path / "nocat.csv", "id,date,lon,lat\n1,2024-01-01,-1.2,54.5")
    with pytest.raises(InputError) as err:
        read_incidents(f)
    assert str(err.value).startswith(f"{f}, column 'category'")
    g = csv(tmp_path / "nocoords.csv", "id,date,category\n1,2024-01-01,Drugs")
    with pytest.raises(InputError, match="no coordinate columns"):
        read_incidents(g)
    h = csv(tmp_path / "nodate.csv", "id,category,lon,lat\n1,Drugs,-1.2,54.5")
    with pytest.raises(InputError, match="no date or month column"):
        read_incidents(h, kind="generic")


def test_ids_generated_when_absent_are_stable(tmp_path):
    text = "date,category,lon,lat\n2024-01-01,Drugs,-1.2,54.5\n2024-01-01,Drugs,-1.2,54.5\n"
    a = csv(tmp_path / "a.csv", text)
    ids = read_incidents(a).incidents["incident_id"].tolist()
    assert len(set(ids)) == 2 and all(i.startswith("row-") for i in ids)
    b = csv(tmp_path / "b.csv", text)  # another file, same rows: same ids
    assert read_incidents(b).incidents["incident_id"].tolist() == ids


def test_geojson_gpkg_and_parquet_inputs(tmp_path):
    gdf = gpd.GeoDataFrame({
        "id": ["g1", "g2", "g3", "g4"],
        "date": ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"],
        "category": ["Robbery", "Anti-social behaviour", "Drugs", "Drugs"],
    }, geometry=[Point(-1.2, 54.5), Point(-1.21, 54.51), None, LineString([(-1.2, 54.5), (-1.3, 54.6)])],
        crs="EPSG:4326")
    paths = [tmp_path / "i.geojson", tmp_path / "i.gpkg", tmp_path / "i.parquet"]
    gdf.to_file(paths[0], driver="GeoJSON")
    gdf.to_file(paths[1], driver="GPKG")
    gdf.to_parquet(paths[2])
    x, y = TO_BNG.transform(-1.2, 54.5)
    for p in paths:
        res = read_incidents(p)
        s = res.summary
        assert (s["read"], s["loaded"], s["rejected"]) == (4, 2, 2), p
        assert s["rejected_by_reason"] == {"no location": 1, "not a point geometry": 1}
        inc = res.incidents
        assert inc["kind"].tolist() == ["crime", "asb"]
        assert (inc.geometry.iloc[0].x, inc.geometry.iloc[0].y) == pytest.approx((x, y), abs=1e-3)
    bng = gdf.iloc[:2].to_crs(27700)
    bng.to_file(tmp_path / "b.gpkg", driver="GPKG")
    inc = read_incidents(tmp_path / "b.gpkg").incidents
    assert inc.geometry.iloc[0].x == pytest.approx(x, abs=1e-3)


def _two_police_rows(tmp_path):
    """A police.uk file with one ASB row (no Crime ID) and one crime row."""
    return csv(tmp_path / "p.csv", """
Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context
,2024-01,X,X,-1.2,54.5,On or near A,E1,N1,Anti-social behaviour,,
abc,2024-01,X,X,-1.3,54.6,On or near B,E2,N2,Vehicle crime,Under investigation,
""")


def test_police_csv_output_reads_back_identically(tmp_path):
    from hotspot_app.io.ingest import output

    f = _two_police_rows(tmp_path)
    first = read_incidents(f).incidents
    out = output.write_incidents(first, tmp_path / "out.csv")
    again = read_incidents(out)
    assert again.summary["rejected"] == 0
    cols = ["incident_id", "source", "month", "category", "group", "kind", "location", "lsoa_code"]
    assert again.incidents[cols].astype(object).values.tolist() == first[cols].astype(object).values.tolist()
    assert again.incidents.geometry.distance(first.geometry).max() < 0.5


def test_parquet_and_workspace_outputs_read_back(tmp_path):
    from hotspot_app.io.ingest import output

    f = _two_police_rows(tmp_path)
    first = read_incidents(f).incidents
    path = output.write_incidents(first, tmp_path / "out.parquet")
    again = read_incidents(path)
    assert again.summary["rejected"] == 0 and again.summary["warnings"] == []
    cols = ["incident_id", "source", "month", "category", "group", "kind", "location"]
    assert again.incidents[cols].astype(object).values.tolist() == first[cols].astype(object).values.tolist()
    assert again.incidents["occurred"].isna().all()
    assert again.incidents.geometry.distance(first.geometry).max() < 1e-6
