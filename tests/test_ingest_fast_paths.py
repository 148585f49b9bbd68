"""The generic CSV fast path (dictionary-encoded Arrow columns, rules once per distinct text) and
the outputs written without Python per row (issue 12, item 2).

The expected frames below are what the row-by-row implementation produced for the same files
(ids, months, categories, rejects with their row, column, reason and text), so the fast path is
pinned to give the same incidents, rejects and ids.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.io import workspace
from hotspot_app.io.ingest import output, read_incidents

MIXED = """Ref,Date,Month,Offence Type,Sub Category,Longitude,Latitude,Address,Weight,Kind,Officer,Source
 A1 ,31/01/2024 22:15,,Shoplifting,Food,-1.234,54.567,High St,,,PC 1,
A2,2024-02-03,,Criminal Damage,,-1.235,54.568,,2,,PC 2,
A3,03 Feb 2024,,ASB Nuisance,,-1.236,54.569,,,,=cmd,
A4,not a date,,Robbery,,-1.234,54.567,,,,PC 4,
A5,,2024-03,Robbery,,-1.234,54.567,,,,PC 5,
A6,2024-02-05,,Robbery,,2.35,48.85,,,,PC 6,
A7,2024-02-06,,Robbery,,,,,,,PC 7,
,2024-02-07,,Glitter bombing,,-1.234,54.567,,,asb,PC 8,
A9,2024-02-07,,Glitter bombing,,-1.234,54.567,,x,,PC 9,
A10,2024-02-07,,Robbery,,-1.234,54.567,,-1,,PC 10,
A11,0024-02-07,,Robbery,,-1.234,54.567,,,,PC 11,
A12,2024-02-08,,,,-1.234,54.567,,,,PC 12,
A13,2024-02-08,,Robbery,,abc,54.567,,,,PC 13,
A14,2024-02-08,,Robbery,,54.567,-1.234,,,,PC 14,
A2,2024-02-09,,Robbery,,-1.234,54.567,,,,PC 15,
,,,,,,,,,,,
A16,2024-02-10T10:00:00+01:00,,Robbery,,-1.234,54.567,,,weird,PC 16,
A17,2024-02-10,2024-05,Burglary,,-1.234,54.567,,,,PC 17,fire
A18,,2099-01,Burglary,,-1.234,54.567,,,,PC 18,
A19,,2024/7,Burglary,,-1.234,54.567,,,,PC 19,
"""

NO_IDS = """date,category,easting,northing,location,beat
2024-01-05,Anti-social behaviour,445123,515432,Street 1,B1
2024-01-05,Anti-social behaviour,445123,515432,Street 1,B1
2024-01-06,Burglary,445***,515***,,B2
2024-01-07,Vehicle crime,-1.2,54.5,,B3
2024-01-07,Vehicle crime,0,0,,B3
bad,Vehicle crime,445000,515000,,
2024-01-08,Drugs,515432,445123,,B4
"""


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _obj(series) -> list:
    return [None if pd.isna(v) else v for v in series.astype(object)]


def test_mixed_file_gives_the_row_by_row_incidents_rejects_and_ids(tmp_path):
    f = _file(tmp_path, "mixed.csv", MIXED)
    res = read_incidents(f)
    inc, rej = res.incidents, res.rejects
    assert _obj(inc["incident_id"]) == ["A1", "A2", "A3", "A5", "row-8", "A14", "A17", "A19"]
    assert _obj(inc["month"]) == ["2024-01", "2024-02", "2024-02", "2024-03", "2024-02", "2024-02",
                                  "2024-02", "2024-07"]
    assert [None if pd.isna(v) else str(v) for v in inc["occurred"]] == [
        "2024-01-31 22:15:00", "2024-02-03 00:00:00", "2024-02-03 00:00:00", None,
        "2024-02-07 00:00:00", "2024-02-08 00:00:00", "2024-02-10 00:00:00", None]
    assert _obj(inc["category"]) == ["Shoplifting", "Criminal Damage", "ASB Nuisance", "Robbery",
                                     "Glitter bombing", "Robbery", "Burglary", "Burglary"]
    assert _obj(inc["kind"]) == ["crime", "crime", "asb", "crime", "asb", "crime", "crime", "crime"]
    assert inc["weight"].tolist() == [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert _obj(inc["subcategory"]) == ["Food"] + [None] * 7
    assert _obj(inc["location"]) == ["High St"] + [None] * 7
    assert _obj(inc["source"]) == ["generic"] * 6 + ["fire", "generic"]
    assert _obj(inc["officer"]) == ["PC 1", "PC 2", "=cmd", "PC 5", "PC 8", "PC 14", "PC 17", "PC 19"]
    # A14's swapped longitude/latitude fixed: it lies where A1 does
    assert inc.geometry.iloc[5].distance(inc.geometry.iloc[0]) < 1e-6
    assert round(inc.geometry.iloc[0].x, 3) == 449625.026 and round(inc.geometry.iloc[0].y, 3) == 519355.632
    assert rej["row"].tolist() == [4, 6, 7, 9, 10, 11, 12, 13, 15, 16, 17, 19]
    assert _obj(rej["column"]) == ["Date", "Longitude", "Longitude", "Weight", "Weight", "Date",
                                   "Offence Type", "Longitude", "incident_id", None, "Kind", "Month"]
    assert rej["reason"].tolist() == ["bad date", "outside Great Britain", "no location", "bad weight",
                                      "negative weight", "date out of range", "no category",
                                      "bad coordinates", "duplicate id", "empty row", "bad kind",
                                      "date out of range"]
    assert _obj(rej["value"]) == ["not a date", "2.35,48.85", None, "x", "-1", "0024-02-07", None,
                                  "abc,54.567", "A2", None, "weird", "2099-01"]
    s = res.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (20, 8, 12)
    assert s["warnings"][:2] == [
        f"{f.name}: 1 row had longitude and latitude swapped (latitude values looked like longitudes); fixed",
        f"{f.name}: 2 rows without an id got generated ids"]  # the file's name, not its folder


def test_generated_ids_are_the_row_by_row_content_hashes(tmp_path):
    f = _file(tmp_path, "no_ids.csv", NO_IDS)
    res = read_incidents(f)
    inc = res.incidents
    # identical rows get different ids (occurrence number); same content -> same id on any run
    assert _obj(inc["incident_id"]) == ["row-78312b34a9bf1b5a", "row-78312a34a9bf19a7",
                                        "row-f24565f398843bc5", "row-1d68e830cacda6fe"]
    assert inc["location_precision_m"].tolist() == [1.0, 1.0, 1000.0, 1.0]
    assert [(p.x, p.y) for p in inc.geometry] == [(445123.0, 515432.0), (445123.0, 515432.0),
                                                  (445500.0, 515500.0), (515432.0, 445123.0)]
    assert _obj(inc["beat"]) == ["B1", "B1", "B2", "B4"]
    assert res.rejects[["row", "column", "reason", "value"]].astype(object).values.tolist() == [
        [4, "easting", "degrees in easting/northing", "-1.2,54.5"],
        [5, "easting", "outside Great Britain", "0,0"],
        [6, "date", "bad date", "bad"]]
    # rows sharing a location share one Point object (memory: one per distinct location)
    assert inc.geometry.values[0] is inc.geometry.values[1]


def test_a_question_without_ids_reads_one_file_the_same_without_generating_them(tmp_path):
    """`ids=False` (the patrol areas read no ids): one file without an id column loads the same
    rows, columns and rejects, only without ``incident_id``; two such files still get ids, since
    a row repeated across them is a duplicate (the second copy is not loaded)."""
    f = _file(tmp_path, "no_ids.csv", NO_IDS)
    with_ids, without = read_incidents(f), read_incidents(f, ids=False)
    assert "incident_id" not in without.incidents.columns
    pd.testing.assert_frame_equal(without.incidents, with_ids.incidents.drop(columns="incident_id"))
    pd.testing.assert_frame_equal(without.rejects, with_ids.rejects)
    assert (without.summary["read"], without.summary["loaded"], without.summary["rejected"]) == (7, 4, 3)
    # the warning about generated ids is said only when ids were generated
    assert without.summary["warnings"] == [w for w in with_ids.summary["warnings"] if "no id column" not in w]
    g = _file(tmp_path, "again.csv", NO_IDS)
    both = read_incidents([f, g], ids=False)
    assert both.incidents["incident_id"].notna().all()
    assert (both.summary["loaded"], both.summary["rejected_by_reason"]["duplicate id"]) == (4, 4)


def test_arrow_columns_and_pandas_columns_give_the_same_result(tmp_path):
    """The CSV reader's dictionary-encoded Arrow columns and a table's pandas columns (a Parquet
    file without geometry, the spatial path) go through the same rules with the same outcome."""
    f = _file(tmp_path, "no_ids.csv", NO_IDS)
    text = pd.read_csv(f, dtype=str, keep_default_na=False)
    pq = tmp_path / "no_ids.parquet"
    text.to_parquet(pq, index=False)
    a, b = read_incidents(f), read_incidents(pq)
    cols = ["incident_id", "source", "occurred", "month", "category", "group", "kind", "weight",
            "location", "beat", "location_precision_m"]
    assert a.incidents[cols].astype(object).values.tolist() == b.incidents[cols].astype(object).values.tolist()
    assert a.rejects[["row", "column", "reason", "value"]].values.tolist() == \
        b.rejects[["row", "column", "reason", "value"]].values.tolist()


def test_csv_output_is_neutralised_and_reads_back_identically(tmp_path):
    f = _file(tmp_path, "mixed.csv", MIXED)
    first = read_incidents(f).incidents
    out = output.write_incidents(first, tmp_path / "out.csv")
    raw = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert raw["officer"].tolist()[2] == "'=cmd"                # formula neutralised
    assert raw["occurred"].tolist()[:2] == ["2024-01-31 22:15:00", "2024-02-03 00:00:00"]
    assert raw["occurred"].tolist()[3] == ""                     # no date: an empty cell, not a value
    assert raw["weight"].tolist()[:2] == ["1.0", "2.0"]
    assert raw[["longitude", "latitude"]].values.tolist()[0] == ["-1.234", "54.567"]
    again = read_incidents(out)
    assert again.summary["rejected"] == 0
    cols = ["incident_id", "source", "month", "category", "group", "kind", "weight", "location"]
    assert again.incidents[cols].astype(object).values.tolist() == first[cols].astype(object).values.tolist()
    assert again.incidents.geometry.distance(first.geometry).max() < 0.5


def test_workspace_output_keeps_categorical_extras_and_missing_dates(tmp_path):
    f = _file(tmp_path, "mixed.csv", MIXED)
    first = read_incidents(f).incidents
    assert isinstance(first["officer"].dtype, pd.CategoricalDtype)  # one copy per distinct text
    ws = tmp_path / "ws.gpkg"
    output.write_incidents(first, ws)
    back = workspace.GeopackageWorkspace(ws).incidents()
    assert _obj(back["officer"]) == _obj(first["officer"])
    assert back["occurred"].isna().tolist() == first["occurred"].isna().tolist()
    assert _obj(back["incident_id"]) == _obj(first["incident_id"])
    assert isinstance(back, gpd.GeoDataFrame) and np.allclose(back.geometry.x, first.geometry.x)


def test_geoparquet_read_back_decodes_each_distinct_point_once(tmp_path):
    f = _file(tmp_path, "mixed.csv", MIXED)
    first = read_incidents(f).incidents
    path = output.write_incidents(first, tmp_path / "out.parquet")
    again = read_incidents(path)
    assert again.summary["rejected"] == 0 and again.summary["warnings"] == []
    inc = again.incidents
    cols = ["incident_id", "source", "occurred", "month", "category", "group", "kind", "subcategory",
            "weight", "location", "officer"]
    assert inc[cols].astype(object).where(inc[cols].notna(), None).values.tolist() == \
        first[cols].astype(object).where(first[cols].notna(), None).values.tolist()
    assert inc.geometry.distance(first.geometry).max() == 0
    # A5, row-8 and A14 were at the same place: one shared Point
    assert inc.geometry.values[3] is inc.geometry.values[4] is inc.geometry.values[5]


def test_geoparquet_in_wgs84_with_a_missing_point_is_reprojected_and_rejected_by_row(tmp_path):
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame({"id": ["g1", "g2", "g3", "g4"],
                            "date": ["2024-03-01", "2024-03-02", "2024-03-02", "2024-03-03"],
                            "category": ["Burglary", "Burglary", "Drugs", "Drugs"]},
                           geometry=[Point(-1.234, 54.567), Point(-1.234, 54.567), None, Point(2.35, 48.85)],
                           crs="EPSG:4326")
    path = tmp_path / "wgs84.parquet"
    gdf.to_parquet(path)
    res = read_incidents(path)
    assert res.rejects[["row", "column", "reason"]].astype(object).values.tolist() == [
        [3, "geometry", "no location"], [4, "geometry", "outside Great Britain"]]
    inc = res.incidents
    assert inc["incident_id"].tolist() == ["g1", "g2"]
    assert round(inc.geometry.iloc[0].x, 3) == 449625.026 and round(inc.geometry.iloc[0].y, 3) == 519355.632
    assert inc.geometry.values[0] is inc.geometry.values[1]
