"""Reliability suite (issue 9, items 5-7): malformed and unusual inputs written by the tests
themselves, each asserting either exact read / loaded / rejected counts with reasons (and
read == loaded + rejected), or a one-line error (exit 2) naming the problem; then the output side
(formula neutralising, atomic outputs, one-line I/O errors) and the CLI's warning plumbing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box
from typer.testing import CliRunner

from hotspot_app.render import formatting
from hotspot_app.cli import app
from hotspot_app.io.ingest import files, read_boundaries, read_incidents
from reliability import makers as mk
from hotspot_app.io import geofiles

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, fragment: str) -> str:
    """Exit 2, nothing on stdout, and exactly one error line on stderr (the last line; warnings
    and progress may come before it) containing `fragment`."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert fragment in errors[0], errors[0]
    return errors[0]


# =============================================================================== input cases
P, G = mk.police_row, "450000,520000"


def _police(rows, **kw):
    return lambda d: [mk.police_file(d, rows, **kw)]


def _generic(header, rows, name="incidents.csv", encoding="utf-8"):
    return lambda d: [mk.text_file(d, name, [header, *rows], encoding=encoding)]


def _fire(rows):
    return lambda d: [mk.fire_file(d, rows)]


def _spatial(name, layers):
    def make(d):
        path = d / name
        for layer, gdf in layers:
            gdf.to_file(path, layer=layer) if layer else gdf.to_file(path)
        return [path]
    return make


def _zip(members, name="police.zip"):
    def make(d):
        path = d / name
        path.write_bytes(mk.zip_bytes([(n, b() if callable(b) else b) for n, b in members]))
        return [path]
    return make


def _nested(depth: int):
    inner = mk.zip_bytes([("2024-02/2024-02-cleveland-street.csv",
                           mk.police_bytes([P("b1", "2024-02"), P("b2", "2024-02")]))])
    for level in range(depth - 1):
        inner = mk.zip_bytes([(f"level{level}.zip", inner)])
    return _zip([("2024-01/2024-01-cleveland-street.csv", mk.police_bytes([P("a1")])),
                 ("more.zip", inner)])


def _geo_dates(dates, crs="EPSG:27700", geoms=None):
    n = len(dates)
    return gpd.GeoDataFrame({"id": [f"s{i}" for i in range(n)], "date": dates,
                             "category": ["Burglary"] * n},
                            geometry=geoms or [Point(450000 + i, 520000) for i in range(n)], crs=crs)


def ok(read, loaded, reasons=None, warning=None, check=None):
    return {"read": read, "loaded": loaded, "reasons": reasons or {}, "warning": warning, "check": check}


def err(fragment):
    return {"error": fragment}


def _locations(*expected):
    def check(result):
        assert result.incidents["location"].tolist() == list(expected)
    return check


def _categories(*expected):
    def check(result):
        assert result.incidents["category"].tolist() == list(expected)
    return check


GH = "id,date,category,easting,northing"
LL = "id,date,category,longitude,latitude"

INPUT_CASES = [
    # ---- police.uk street CSVs
    pytest.param(_police([P("c1"), P("c2"), P("c3")]), ok(3, 3), id="police-clean"),
    pytest.param(_police([P("c1"), P("c2", "0024-01"), P("c3")]), ok(3, 2, {"date out of range": 1}),
                 id="police-month-0024"),
    pytest.param(_police([P("c1"), P("c2", "0000-01")]), ok(2, 1, {"date out of range": 1}),
                 id="police-month-0000-01"),
    pytest.param(_police([P("c1"), P("c2", "2099-01")]), ok(2, 1, {"date out of range": 1}),
                 id="police-month-after-next-year"),
    pytest.param(_police([P("c1"), P("c2", "1989-12")]), ok(2, 1, {"date out of range": 1}),
                 id="police-month-before-1990"),
    pytest.param(_police([P("c1"), P("c2", "2024-13")]), ok(2, 1, {"bad month": 1}), id="police-month-13"),
    pytest.param(_police([P("c1"), P("c2", "")]), ok(2, 1, {"bad month": 1}), id="police-month-blank"),
    pytest.param(_police([P("c1"), P("c2", crime="")]), ok(2, 1, {"no category": 1}),
                 id="police-empty-crime-type"),
    pytest.param(_police([P("c1", crime="Mystery offence")]), ok(1, 1, check=_categories("Mystery offence")),
                 id="police-unknown-crime-type-kept"),
    pytest.param(_police([P("c1"), P("c2", lon="", lat="")]), ok(2, 1, {"no location": 1}),
                 id="police-no-coordinates"),
    pytest.param(_police([P("c1"), P("c2", lon="abc")]), ok(2, 1, {"bad coordinates": 1}),
                 id="police-text-coordinates"),
    pytest.param(_police([P("c1"), P("c2", lon="10.0", lat="10.0")]), ok(2, 1, {"outside Great Britain": 1}),
                 id="police-outside-gb"),
    pytest.param(_police([P("c1"), "", P("c2")]), ok(3, 2, {"empty row": 1}), id="police-blank-line"),
    pytest.param(_police([P("c1"), P("c2") + ",extra"]), ok(2, 1, {"wrong number of fields": 1}),
                 id="police-extra-field"),
    pytest.param(_police([P("c1"), P("c1")]), ok(2, 1, {"duplicate id": 1}), id="police-duplicate-crime-id"),
    pytest.param(_police([]), ok(0, 0), id="police-header-only"),
    pytest.param(lambda d: [mk.text_file(d, "2024-01-x-street.csv", ["exported by a tool", "",
                                                                      mk.POLICE_HEADER, P("c1")])],
                 ok(1, 1), id="police-preamble-lines"),
    pytest.param(lambda d: [mk.text_file(d, "x.csv", ["\ufeff" + mk.POLICE_HEADER, P("c1")])], ok(1, 1),
                 id="police-bom"),
    pytest.param(lambda d: [mk.text_file(d, "x.csv", [mk.POLICE_HEADER,
                                                      P("c1").replace("On or near A Street", '"Line one\nline two"')])],
                 ok(1, 1, check=_locations("Line one\nline two")), id="police-quoted-newline"),
    pytest.param(lambda d: [d / "crlf.csv" if (d / "crlf.csv").write_bytes(
        ("\r\n".join([mk.POLICE_HEADER, P("c1"), P("c2")]) + "\r\n").encode()) else None],
        ok(2, 2), id="police-crlf"),
    pytest.param(lambda d: [(d / "stray.csv", (d / "stray.csv").write_bytes(
        ("\n".join([mk.POLICE_HEADER, P("c1").replace("A Street", "Café"), P("c2").replace("A Street", "Ca\x00")])
         + "\n").encode("utf-8").replace(b"Ca\x00", b"Ca\xe9")))[0]],
        ok(2, 2, warning="UTF-8 except 1 row (2)", check=_locations("On or near Café", "On or near Caé")),
        id="police-utf8-with-one-stray-byte"),
    pytest.param(_police([P("c1").replace("A Street", "Café")], encoding="cp1252"),
                 ok(1, 1, warning="not UTF-8; read as cp1252", check=_locations("On or near Café")),
                 id="police-cp1252-file"),
    # ---- generic CSVs
    pytest.param(_generic(GH, [f"1,2024-01-15,Burglary,{G}", f"2,0024-01-15,Burglary,{G}"]),
                 ok(2, 1, {"date out of range": 1}), id="generic-date-0024-01-15"),
    pytest.param(_generic(GH, [f"1,2024-01-15,Burglary,{G}", f"2,9999-12-31,Burglary,{G}"]),
                 ok(2, 1, {"date out of range": 1}), id="generic-date-9999"),
    pytest.param(_generic(GH, [f"1,15/01/0024,Burglary,{G}", f"2,15/01/2024,Burglary,{G}"]),
                 ok(2, 1, {"date out of range": 1}), id="generic-uk-date-year-0024"),
    pytest.param(_generic(GH, [f"1,31/02/2024,Burglary,{G}", f"2,2024-01-15,Burglary,{G}"]),
                 ok(2, 1, {"bad date": 1}), id="generic-impossible-date"),
    pytest.param(_generic(GH, [f"1,,Burglary,{G}", f"2,2024-01-15,Burglary,{G}"]),
                 ok(2, 1, {"no date": 1}), id="generic-blank-date"),
    pytest.param(_generic("id,month,category,easting,northing", [f"1,0000-01,Burglary,{G}", f"2,2024-01,Drugs,{G}"]),
                 ok(2, 1, {"date out of range": 1}), id="generic-month-0000-01"),
    pytest.param(_generic(GH, [f"1,2024-01-15,,{G}", f"2,2024-01-15,Drugs,{G}"]),
                 ok(2, 1, {"no category": 1}), id="generic-empty-category"),
    pytest.param(_generic(GH, [f"1,2024-01-15,Something new,{G}"]), ok(1, 1, check=_categories("Something new")),
                 id="generic-unrecognised-category-kept"),
    pytest.param(_generic(GH + ",weight", [f"1,2024-01-15,Burglary,{G},-3", f"2,2024-01-15,Burglary,{G},2"]),
                 ok(2, 1, {"negative weight": 1}), id="generic-negative-weight"),
    pytest.param(_generic(GH + ",weight", [f"1,2024-01-15,Burglary,{G},heavy", f"2,2024-01-15,Burglary,{G},"]),
                 ok(2, 1, {"bad weight": 1}), id="generic-text-weight"),
    pytest.param(_generic(GH + ",kind", [f"1,2024-01-15,Odd thing,{G},robbery", f"2,2024-01-15,Odd thing,{G},asb"]),
                 ok(2, 1, {"bad kind": 1}), id="generic-bad-kind"),
    pytest.param(_generic(LL, ["1,2024-01-15,Burglary,54.57,-1.23", "2,2024-01-15,Burglary,-1.23,54.57"]),
                 ok(2, 2, warning="1 row had longitude and latitude swapped"), id="generic-swapped-lon-lat"),
    pytest.param(_generic(GH, ["1,2024-01-15,Burglary,-1.23,54.57"]),
                 ok(1, 1, warning="hold degrees, not metres"), id="generic-degrees-in-easting"),
    pytest.param(_generic(LL, [f"1,2024-01-15,Burglary,{G}"]),
                 ok(1, 1, warning="hold metres, not degrees"), id="generic-metres-in-longitude"),
    pytest.param(_generic(GH, ["1,2024-01-15,Burglary,450***,520***"]), ok(1, 1), id="generic-masked-coordinates"),
    pytest.param(_generic(GH, [f"1,2024-01-15T10:00:00+01:00,Burglary,{G}", f"2,2024-01-15T10:00:00Z,Burglary,{G}",
                               f"3,2024-01-15 10:00,Burglary,{G}"]), ok(3, 3), id="generic-mixed-utc-offsets"),
    pytest.param(_generic(GH, [f"1,2024-01-15,=HYPERLINK(\"http://x\"),{G}"]), ok(1, 1), id="generic-formula-category"),
    pytest.param(_generic("id,date,easting,northing", [f"1,2024-01-15,{G}"]), err("no category column"),
                 id="generic-no-category-column"),
    pytest.param(_generic("id,category,easting,northing", [f"1,Burglary,{G}"]),
                 err("column 'date': no date or month column"), id="generic-no-date-column"),
    pytest.param(_generic("id,date,category", ["1,2024-01-15,Burglary"]), err("no coordinate columns"),
                 id="generic-no-coordinate-columns"),
    pytest.param(lambda d: [d / "empty.csv" if (d / "empty.csv").write_bytes(b"") is not None else None],
                 err("empty file"), id="generic-empty-file"),
    # ---- fire-service extracts
    pytest.param(_fire([mk.fire_row(1), mk.fire_row(2, year="0024")]), ok(2, 1, {"date out of range": 1}),
                 id="fire-year-0024"),
    pytest.param(_fire([mk.fire_row(1), mk.fire_row(2, year="1985")]), ok(2, 1, {"date out of range": 1}),
                 id="fire-year-1985"),
    pytest.param(_fire([mk.fire_row(1), mk.fire_row(2, cat="")]), ok(2, 1, {"no category": 1}),
                 id="fire-empty-incident-category"),
    pytest.param(_fire([mk.fire_row(1), mk.fire_row(2, day="32")]), ok(2, 1, {"bad date": 1}), id="fire-day-32"),
    pytest.param(_fire([mk.fire_row(1, x="450***", y="520***")]), ok(1, 1), id="fire-masked-coordinates"),
    pytest.param(_fire([mk.fire_row(1), mk.fire_row(2, x="", y="")]), ok(2, 1, {"no location": 1}),
                 id="fire-no-coordinates"),
    # ---- spatial incident files
    pytest.param(_spatial("multi.gpkg", [("crimes", mk.points_layer(5, "Burglary")),
                                         ("more", mk.points_layer(7, "Drugs"))]), ok(12, 12),
                 id="gpkg-two-incident-layers-all-read"),
    pytest.param(_spatial("notes.gpkg", [("crimes", mk.points_layer(3)),
                                         ("notes", gpd.GeoDataFrame({"text": ["x"]}, geometry=[Point(450000, 520000)],
                                                                    crs=27700))]),
                 ok(3, 3, warning="not read: notes"), id="gpkg-layer-without-incidents-named"),
    pytest.param(_spatial("none.gpkg", [("a", gpd.GeoDataFrame({"t": ["x"]}, geometry=[Point(0, 0)], crs=27700)),
                                        ("b", gpd.GeoDataFrame({"t": ["y"]}, geometry=[Point(0, 0)], crs=27700))]),
                 err("none of its 2 layers (a, b) has a category"), id="gpkg-no-incident-layer"),
    pytest.param(_spatial("lie.geojson", [(None, mk.points_layer(3).set_crs(4326, allow_override=True))]),
                 ok(3, 3, warning="declares EPSG:4326 (degrees) but its coordinates are British National Grid"),
                 id="geojson-bng-declared-as-wgs84"),
    pytest.param(_spatial("lines.geojson", [(None, _geo_dates(["2024-01-15", "2024-01-16"],
                                                              geoms=[Point(450000, 520000),
                                                                     LineString([(450000, 520000), (450010, 520000)])]))]),
                 ok(2, 1, {"not a point geometry": 1}), id="geojson-line-geometry"),
    pytest.param(_spatial("old.geojson", [(None, _geo_dates(["2024-01-15", "0024-01-15"]))]),
                 ok(2, 1, {"date out of range": 1}), id="geojson-date-0024"),
    pytest.param(_spatial("old.gpkg", [(None, _geo_dates(["2024-01-15", "1900-01-15"]))]),
                 ok(2, 1, {"date out of range": 1}), id="gpkg-date-1900"),
    # ---- zips
    pytest.param(_nested(2), ok(3, 3), id="zip-inside-zip"),
    pytest.param(_nested(3), err("nested more than 3 deep"), id="zip-nested-too-deep"),
    pytest.param(_zip([("m.csv", mk.police_bytes([P("a1")])), ("m.csv", mk.police_bytes([P("b1"), P("b2")]))]),
                 ok(3, 3, warning="more than one member named m.csv; each is read"), id="zip-two-members-one-name"),
    pytest.param(_zip([("2024-01.csv", mk.police_bytes([P("a1")])), ("__MACOSX/._2024-01.csv", b"\x00\x05junk"),
                       (".hidden.csv", b"junk")]), ok(1, 1), id="zip-macos-junk-skipped"),
    pytest.param(_zip([("readme.txt.md", b"hello")]), err("zip archive holds no CSV files"), id="zip-without-csv"),
    pytest.param(lambda d: [d / "fake.zip" if (d / "fake.zip").write_bytes(b"not a zip") else None],
                 err("not a readable zip archive"), id="zip-not-a-zip"),
]


@pytest.mark.parametrize("make, expected", INPUT_CASES)
def test_input_case(tmp_path, make, expected):
    paths = make(tmp_path)
    if "error" in expected:
        r = invoke("ingest", *paths, "--out", tmp_path / "out.csv")
        one_line_error(r, expected["error"])
        assert not (tmp_path / "out.csv").exists()
        return
    result = read_incidents(paths)
    s = result.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (expected["read"], expected["loaded"],
                                                       expected["read"] - expected["loaded"])
    assert s["read"] == s["loaded"] + s["rejected"] == len(result.incidents) + len(result.rejects)
    assert s["rejected_by_reason"] == expected["reasons"]
    if expected["warning"]:
        assert any(expected["warning"] in w for w in s["warnings"]), s["warnings"]
    if expected["check"]:
        expected["check"](result)


def test_rejected_date_names_row_column_and_value(tmp_path):
    f = mk.text_file(tmp_path, "x.csv", [GH, f"1,2024-01-15,Burglary,{G}", f"2,0024-01-15,Burglary,{G}",
                                         f"3,2024-02-01,Drugs,{G}"])
    rj = read_incidents(f).rejects
    assert rj[["row", "column", "reason", "value"]].values.tolist() == [[2, "date", "date out of range",
                                                                         "0024-01-15"]]


def test_zip_member_sniffed_from_its_first_bytes(tmp_path):
    """A 60 MB member compresses to ~60 kB; sniffing it must not decompress it whole."""
    big = mk.police_bytes([P("a1")]) + b"\n" * (60 << 20)
    path = tmp_path / "big.zip"
    path.write_bytes(mk.zip_bytes([("2024-01-x-street.csv", big)]))
    src = files.discover([path])[0]
    tracemalloc.start()
    try:
        head = src.head()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert head.startswith(mk.POLICE_HEADER.encode())
    assert peak < 5 << 20, peak


def test_zip_bomb_refused_naming_the_member(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_UNZIPPED_BYTES", 1 << 20)
    path = tmp_path / "bomb.zip"
    path.write_bytes(mk.zip_bytes([("2024-01-x-street.csv", mk.police_bytes([P("a1")]) + b"\n" * (2 << 20))]))
    r = invoke("ingest", path, "--out", tmp_path / "o.csv")
    one_line_error(r, "bomb.zip:2024-01-x-street.csv: zip member decompresses to more than 1,048,576 bytes")


# =============================================================================== boundaries
def _mixed_crs(path):
    w = mk.wards(("North", "South", "East"))
    w.loc[[0], "geometry"] = w.to_crs(4326).geometry.iloc[[0]].values
    w.to_file(path)


BOUNDARY_CASES = [
    pytest.param(_mixed_crs, err("features mix coordinate systems: 1 in longitude/latitude degrees (North) "
                                 "and 2 in British National Grid metres (South, East)"), id="boundary-mixed-crs"),
    pytest.param(lambda p: mk.wards().set_crs(4326, allow_override=True).to_file(p),
                 {"warning": "declares EPSG:4326 (degrees) but its coordinates are British National Grid metres",
                  "names": ["North", "South"]}, id="boundary-bng-declared-as-wgs84"),
    pytest.param(lambda p: mk.wards(crs=4326).set_crs(27700, allow_override=True).to_file(p),
                 {"warning": "declares EPSG:27700 (metres) but its coordinates are longitude/latitude degrees",
                  "names": ["North", "South"]}, id="boundary-degrees-declared-as-bng"),
    pytest.param(lambda p: mk.wards(("Hemlington", "Hemlington")).to_file(p),
                 {"warning": "2 areas share a name with another area (Hemlington); each is kept as a "
                             "separate area", "names": ["Hemlington", "Hemlington"]}, id="boundary-duplicate-names"),
    pytest.param(lambda p: gpd.GeoDataFrame({"name": ["Far"]}, geometry=[box(10, 45, 11, 46)], crs=4326).to_file(p),
                 {"warning": "1 of 1 areas lie outside Great Britain (Far)", "names": ["Far"]},
                 id="boundary-outside-gb"),
    pytest.param(lambda p: gpd.GeoDataFrame({"name": ["Bow"]}, crs=27700, geometry=[
        Polygon([(450000, 520000), (451000, 521000), (451000, 520000), (450000, 521000)])]).to_file(p),
                 {"warning": "1 invalid polygons repaired", "names": ["Bow"]}, id="boundary-bowtie-repaired"),
    pytest.param(lambda p: gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[box(450000, 520000, 451000, 521000), None],
                                            crs=27700).to_file(p),
                 {"warning": "1 features without geometry dropped (B)", "names": ["A"]}, id="boundary-null-geometry"),
    pytest.param(lambda p: gpd.GeoDataFrame({"name": ["P"]}, geometry=[Point(450000, 520000)], crs=27700).to_file(p),
                 err("boundary file must hold polygons (found Point)"), id="boundary-points"),
]


@pytest.mark.parametrize("make, expected", BOUNDARY_CASES)
def test_boundary_case(tmp_path, make, expected):
    path = tmp_path / "areas.geojson"
    make(path)
    if "error" in expected:
        with pytest.raises(Exception) as exc:
            read_boundaries(path)
        assert expected["error"] in str(exc.value) and "\n" not in str(exc.value)
        return
    res = read_boundaries(path)
    assert any(expected["warning"] in w for w in res.warnings), res.warnings
    assert res.areas["name"].tolist() == expected["names"]
    assert res.areas["area_id"].is_unique


def test_boundary_crs_fixed_so_incidents_fall_inside(tmp_path):
    """BNG metres declared as EPSG:4326 used to put every incident 'outside'."""
    areas = tmp_path / "wards.geojson"
    mk.wards().set_crs(4326, allow_override=True).to_file(areas)
    inc = mk.police_file(tmp_path, [P("c1", lon="-1.2346", lat="54.5641"), P("c2", lon="-1.2346", lat="54.5641")])
    r = invoke("rank", inc, "--areas", areas, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["outside"] == 0 and doc["total"] == 2
    assert any("declares EPSG:4326" in w for w in doc["warnings"])


def test_csv_given_as_areas_is_one_line_error(tmp_path):
    areas = mk.text_file(tmp_path, "wards.csv", ["name,population", "North,100"])
    inc = mk.police_file(tmp_path, [P("c1")])
    r = invoke("summary", inc, "--areas", areas, "--area", "North", "--to", "2024-01")
    one_line_error(r, "wards.csv: not a boundary file: a '.csv' file holds no polygons")


def test_gpkg_with_two_polygon_layers_asks_for_one(tmp_path):
    areas = tmp_path / "areas.gpkg"
    mk.wards(("North", "South")).to_file(areas, layer="wards")
    mk.wards(("Centre",)).to_file(areas, layer="centres")
    inc = mk.police_file(tmp_path, [P("c1", lon="-1.2346", lat="54.5641")])
    one_line_error(invoke("summary", inc, "--areas", areas, "--area", "North", "--to", "2024-01"),
                   "holds 2 polygon layers (wards, centres); choose one with --areas-layer NAME")
    r = invoke("summary", inc, "--areas", areas, "--area", "North", "--to", "2024-01", "--months", "1",
               "--areas-layer", "wards", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["crime"]["current"] == 1


def test_duplicate_area_name_is_an_error_listing_candidates(tmp_path):
    areas = tmp_path / "wards.geojson"
    mk.wards(("Hemlington", "Hemlington")).to_file(areas)
    inc = mk.police_file(tmp_path, [P("c1", lon="-1.2346", lat="54.5641"), P("c2", lon="-1.2346", lat="54.5641")])
    one_line_error(invoke("summary", inc, "--areas", areas, "--area", "hemlington", "--to", "2024-01"),
                   "2 different areas are named 'hemlington'; give the area_id of one: E05000001 (Hemlington, "
                   "ward), E05000002 (Hemlington, ward)")
    r = invoke("summary", inc, "--areas", areas, "--area", "E05000001", "--to", "2024-01", "--months", "1",
               "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["crime"]["current"] == 2


# =============================================================================== warnings reach the user
def test_ingest_and_boundary_warnings_reach_stderr_and_json(tmp_path):
    inc = mk.text_file(tmp_path, "x.csv", [LL, "1,2024-01-15,Burglary,54.5641,-1.2346",
                                           "2,2024-01-15,Burglary,-1.2346,54.5641"])
    areas = tmp_path / "wards.geojson"
    mk.wards(("North", "North")).to_file(areas)
    r = invoke("rank", inc, "--areas", areas, "--format", "json")
    assert r.exit_code == 0, r.stderr
    warnings = json.loads(r.stdout)["warnings"]
    swapped = [w for w in warnings if "1 row had longitude and latitude swapped" in w]
    shared = [w for w in warnings if "share a name with another area" in w]
    assert len(swapped) == 1 and len(shared) == 1
    assert f"warning: {swapped[0]}" in r.stderr and f"warning: {shared[0]}" in r.stderr


def test_repaired_polygon_warning_reaches_table_json(tmp_path):
    areas = tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"name": ["Bow"]}, crs=27700, geometry=[
        Polygon([(449000, 519000), (451000, 521000), (451000, 519000), (449000, 521000)])]).to_file(areas)
    inc = mk.police_file(tmp_path, [P("c1", lon="-1.2346", lat="54.5641")])
    r = invoke("table", inc, "--areas", areas, "--area", "Bow", "--month", "2024-01", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert any("invalid polygons repaired" in w for w in json.loads(r.stdout)["warnings"])


# =============================================================================== outputs
def test_out_equal_to_an_input_or_the_rejects_is_refused(tmp_path):
    f = mk.police_file(tmp_path, [P("c1"), P("c2", lon="")])
    before = f.read_bytes()
    one_line_error(invoke("ingest", f, "--out", f), f"{f} is an input")
    one_line_error(invoke("ingest", f, "--out", tmp_path / "o.csv", "--rejects", tmp_path / "o.csv"),
                   "is another output")
    assert f.read_bytes() == before
    assert not (tmp_path / "o.csv").exists()


def test_read_only_location_is_one_line_error_and_nothing_left(tmp_path):
    f = mk.police_file(tmp_path, [P("c1"), P("c2", lon="")])
    one_line_error(invoke("ingest", f, "--out", "/proc/hotspot-out.csv"), "/proc/hotspot-out.csv: could not write")
    rejects = tmp_path / "r.csv"
    one_line_error(invoke("ingest", f, "--out", "/proc/hotspot-out.csv", "--rejects", rejects),
                   "/proc/hotspot-out.csv: could not write")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name]   # no rejects, no temp files


def test_disk_full_leaves_old_outputs_and_no_temp_files(tmp_path):
    """A file-size limit (RLIMIT_FSIZE) makes the big write fail as a full disk would."""
    rows = [P(f"c{i:05d}") for i in range(3000)] + [P("bad", lon="")]
    f = mk.police_file(tmp_path, rows)
    out, rejects = tmp_path / "out" / "o.csv", tmp_path / "out" / "r.csv"
    out.parent.mkdir()
    out.write_text("old incidents\n")
    rejects.write_text("old rejects\n")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000)); "
            "from hotspot_app.cli import app; sys.argv = ['hotspot'] + sys.argv[1:]; app()")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", code, "ingest", str(f), "--out", str(out), "--rejects", str(rejects)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines[-1] == f"error: {out}: could not write (File too large); the previous file is unchanged"
    assert out.read_text() == "old incidents\n" and rejects.read_text() == "old rejects\n"
    assert sorted(x.name for x in out.parent.iterdir()) == ["o.csv", "r.csv"]


FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]


def _formula_police(tmp_path):
    rows = [P(f"c{i}").replace("On or near A Street", text.replace('"', '""').join('""'))
            for i, text in enumerate(FORMULAS)]
    rows.append(P("bad", month="=1+1"))
    return mk.police_file(tmp_path, rows)


def test_ingest_csv_and_rejects_neutralise_formulas(tmp_path):
    f = _formula_police(tmp_path)
    out, rej = tmp_path / "o.csv", tmp_path / "r.csv"
    r = invoke("ingest", f, "--out", out, "--rejects", rej)
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(out)
    assert df["location"].tolist() == ["'" + t for t in FORMULAS]
    assert df["weight"].tolist() == [1.0] * 4 and df["longitude"].tolist() == [-1.23] * 4  # numbers stay numbers
    assert pd.read_csv(rej)["value"].tolist() == ["'=1+1"]


def test_rank_and_table_csv_neutralise_area_names(tmp_path):
    areas = tmp_path / "wards.geojson"
    mk.wards(("=HYPERLINK(\"http://evil\")", "@SUM(1)")).to_file(areas)
    inc = mk.police_file(tmp_path, [P("c1", lon="-1.2346", lat="54.5641")])
    r = invoke("rank", inc, "--areas", areas, "--format", "csv")
    assert r.exit_code == 0, r.stderr
    names = pd.read_csv(pd.io.common.StringIO(r.stdout))["name"].tolist()
    assert names[:2] == ["'=HYPERLINK(\"http://evil\")", "'@SUM(1)"]
    r = invoke("table", inc, "--areas", areas, "--area", "E05000001", "--month", "2024-01", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    assert not any(line.startswith(("=", "+", "@")) for line in r.stdout.splitlines())


def test_xlsx_cells_are_text_not_formulas():
    import openpyxl

    data = formatting.xlsx_bytes(pd.DataFrame({"name": FORMULAS, "count": [1, -2, 3, 4]}))
    ws = openpyxl.load_workbook(pd.io.common.BytesIO(data)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    values = rows[rows.index(["Area", "Count"]) + 1:]  # the formatted workbook: title, then the table
    assert values == [["'" + t, n] for t, n in zip(FORMULAS, [1, -2, 3, 4])]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_grid_csv_export_neutralised_and_atomic(tmp_path):

    cells = gpd.GeoDataFrame({"cell_id": ["=1+1", "c2"], "count": [3, -1]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700)
    path = tmp_path / "cells.csv"
    geofiles.write_cells(cells, path)
    assert path.read_text() == "cell_id,count\n'=1+1,3\nc2,-1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.csv"]


def test_map_layer_names_are_escaped():
    from hotspot_app.render import maps

    w = mk.wards(("North",))
    layer = maps.area_outlines(w, name="<img src=x onerror=alert(1)>")
    assert layer.layer_name == "&lt;img src=x onerror=alert(1)&gt;"


# =============================================================================== parameters
@pytest.mark.parametrize("args, fragment", [
    pytest.param(["summary", "--months", "100000"], "parameter 'months': months must be <= 120 (got 100000)",
                 id="summary-months-unbounded"),
    pytest.param(["summary", "--months", "0"], "parameter 'months': months must be >= 1 (got 0)", id="summary-months-0"),
    pytest.param(["rank", "--top", "5000"], "parameter 'top': top must be <= 1000 (got 5000)", id="rank-top"),
    pytest.param(["clusters", "--eps-m", "1e9", "--min-samples", "5"], "parameter 'eps_m': eps_m must be <= 10000",
                 id="clusters-eps"),
    pytest.param(["clusters", "--eps-m", "100", "--min-samples", "10000000"],
                 "parameter 'min_samples': min_samples must be <= 1e+06", id="clusters-min-samples"),
    pytest.param(["grid", "--cell-m", "1e7"], "parameter 'cell_m': cell_m must be <= 50000", id="grid-cell"),
    pytest.param(["evaluate", "--area", "North", "--after", "2024-01..2024-01", "--buffer-m", "1e6"],
                 "parameter 'buffer_m': buffer_m must be <= 10000", id="evaluate-buffer"),
])
def test_unbounded_parameters_are_refused(tmp_path, args, fragment):
    inc = mk.police_file(tmp_path, [P("c1")])
    areas = tmp_path / "wards.geojson"
    mk.wards().to_file(areas)
    command, rest = args[0], args[1:]
    extra = {"summary": ["--areas", areas, "--area", "North", "--to", "2024-01"],
             "rank": ["--areas", areas], "evaluate": ["--areas", areas]}.get(command, [])
    one_line_error(invoke(command, inc, *extra, *rest), fragment)


# =============================================================================== never a false zero
def test_fire_only_data_say_crime_not_loaded(tmp_path):
    fires = mk.fire_file(tmp_path, [mk.fire_row(1, year="2024", month="January", x="449500", y="520000")])
    areas = tmp_path / "wards.geojson"
    mk.wards().to_file(areas)
    r = invoke("summary", fires, "--areas", areas, "--area", "North", "--to", "2024-01", "--months", "1",
               "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["crime"] == {"current": None, "previous": None, "diff": None, "pct_diff": None}
    assert doc["asb"]["current"] is None
    assert doc["fires"]["current"] == 1
    assert "0 crimes" not in doc["text"] and "No crimes are loaded" in doc["text"]
    assert "no crimes are loaded (the data hold only fire incidents); crime is shown as null, not zero" in doc["warnings"]


def test_validate_incidents_lists_implausible_months_and_negative_weights():
    from hotspot_app.core import schema

    inc = schema.make_incidents(pd.DataFrame({"category": ["Burglary", "Theft", "Drugs"],
                                              "month": ["2024-01", "2024-01", "0000-01"],
                                              "weight": [1.0, -2.0, 1.0],
                                              "x": [450000.0] * 3, "y": [520000.0] * 3}))
    with pytest.raises(Exception) as exc:
        schema.validate_incidents(inc)
    assert str(exc.value) == (f"not a valid incidents table: 1 rows with a month before 1990-01 or after "
                              f"{schema.latest_month()}; 1 rows with a negative weight")
