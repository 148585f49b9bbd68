"""`hotspot table`, `summary` and `rank` (design §5): exact JSON documents on constructed police.uk
files, one-line errors with exit 2, and the documented shapes on the demo workspace and on real
Cleveland data (skipped when ../shared/realdata is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box
from typer.testing import CliRunner

from hotspot_app.core import periods
from hotspot_app.cli import app

runner = CliRunner()
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
A = (-1.2350, 54.5700)   # inside the test ward
B = (-1.1500, 54.6000)   # outside it


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def police_files(tmp_path: Path) -> Path:
    """Monthly police.uk street CSVs 2023-01..2024-03: one Public order row outside the ward every
    month (coverage), and in the ward: March 2024 3 Shoplifting, 1 Burglary, 1 Drugs, 2 ASB;
    March 2023 1 Shoplifting."""
    folder = tmp_path / "police"
    n = 0
    for month in periods.month_range("2023-01", "2024-03"):
        rows = [("Public order", B)]
        if month == "2024-03":
            rows += [("Shoplifting", A)] * 3 + [("Burglary", A), ("Drugs", A)] + [("Anti-social behaviour", A)] * 2
        if month == "2023-03":
            rows += [("Shoplifting", A)]
        lines = [HEADER]
        for cat, (lon, lat) in rows:
            n += 1
            cid = "" if cat == "Anti-social behaviour" else f"id{n:05d}"
            lines.append(f"{cid},{month},Cleveland Police,Cleveland Police,{lon},{lat},On or near Test Street,"
                         f"E01000001,Test 001A,{cat},,")
        (folder / month).mkdir(parents=True)
        (folder / month / f"{month}-cleveland-street.csv").write_text("\n".join(lines) + "\n")
    return folder


def ward_file(tmp_path: Path) -> Path:
    x, y = TO_BNG.transform(*A)
    gdf = gpd.GeoDataFrame({"WD24CD": ["E05000001", "E05000002"], "WD24NM": ["Test Ward", "Other Ward"],
                            "population": [2500, 1000]},
                           geometry=[box(x - 200, y - 200, x + 200, y + 200), box(x + 200, y - 200, x + 600, y + 200)],
                           crs="EPSG:27700")
    path = tmp_path / "wards.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture()
def files(tmp_path):
    return police_files(tmp_path), ward_file(tmp_path)


def test_table_json_exact(files):
    police, wards = files
    r = invoke("table", police, "--areas", wards, "--area", "test ward", "--month", "2024-03", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == ["area", "month", "comparison", "rows", "warnings"]
    assert (doc["area"], doc["month"], doc["comparison"]) == ("Test Ward", "2024-03", "same-period-last-year")
    rows = {row["category"]: row for row in doc["rows"]}
    assert list(rows)[-1] == "Total" and "Anti-social behaviour" not in rows
    assert rows["Total"]["selected_month"] == {"current": 5, "previous": 1, "diff": 4, "pct_diff": 400.0}
    assert rows["Shoplifting"]["selected_month"] == {"current": 3, "previous": 1, "diff": 2, "pct_diff": 200.0}
    assert rows["Burglary"]["selected_month"] == {"current": 1, "previous": 0, "diff": 1, "pct_diff": None}
    assert rows["Theft Offences"]["selected_month"]["current"] == 4
    assert rows["Burglary"]["parent"] == "Theft Offences" and rows["Burglary"]["level"] == 2
    # last 6 / 12 months compare with 2022-10..2023-03 / 2022-04..2023-03, but the data start in
    # 2023-01 -> null (not 0, not partial) + a warning naming the months
    assert rows["Non victim based"]["last_6_months"] == {"current": 1, "previous": None, "diff": None, "pct_diff": None}
    assert rows["Total"]["last_12_months"] == {"current": 5, "previous": None, "diff": None, "pct_diff": None}
    assert len(doc["warnings"]) == 2
    assert "2022-10, 2022-11, 2022-12;" in doc["warnings"][0]
    assert "2022-04, 2022-05, 2022-06, 2022-07, 2022-08, 2022-09, 2022-10, 2022-11, 2022-12;" in doc["warnings"][1]
    r = invoke("table", police, "--areas", wards, "--area", "Test Ward", "--month", "2024-03", "--kind", "asb",
               "--format", "json")
    asb = {row["category"]: row for row in json.loads(r.stdout)["rows"]}
    assert asb["Total"]["selected_month"] == {"current": 2, "previous": 0, "diff": 2, "pct_diff": None}


def test_table_markdown_and_csv(files):
    police, wards = files
    r = invoke("table", police, "--areas", wards, "--area", "Test Ward", "--month", "2024-03")
    assert r.exit_code == 0, r.output
    assert "| **Total**" in r.stdout and "400.0%" in r.stdout and "Infinity" not in r.stdout
    r = invoke("table", police, "--areas", wards, "--area", "Test Ward", "--month", "2024-03",
               "--compare", "previous-period", "--format", "csv")
    assert r.exit_code == 0, r.output
    from io import StringIO
    table = pd.read_csv(StringIO(r.stdout)).set_index("category")
    # previous period of March 2024 is February 2024: nothing in the ward
    assert table.loc["Total", "selected_month_current"] == 5 and table.loc["Total", "selected_month_previous"] == 0


def test_summary_json_exact(files):
    police, wards = files
    r = invoke("summary", police, "--areas", wards, "--area", "Test Ward", "--to", "2024-03", "--months", "3",
               "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == ["area", "to", "months", "crime", "asb", "text", "warnings"]
    assert doc["crime"] == {"current": 5, "previous": 1, "diff": 4, "pct_diff": 400.0}
    assert doc["asb"] == {"current": 2, "previous": 0, "diff": 2, "pct_diff": None}
    assert doc["text"].startswith("In the 3 months up to March 2024 there were 5 crimes recorded in the "
                                  "Test Ward ward area, this figure represents a 400.0% (+4 crimes) increase")
    r = invoke("summary", police, "--areas", wards, "--area", "Test Ward", "--to", "2024-03")
    assert r.exit_code == 0 and "In the 12 months up to March 2024 there were 5 crimes" in r.stdout
    assert "warning:" in r.stdout  # the previous 12 months are not covered


def test_rank_json_exact(files):
    police, wards = files
    r = invoke("rank", police, "--areas", wards, "--category", "crime", "--from", "2024-03", "--to", "2024-03",
               "--top", "1", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["from"], doc["to"], doc["total"], doc["outside"]) == ("2024-03", "2024-03", 6, 1)
    first = doc["areas"][0]
    assert first == {"rank": 1, "area_id": "E05000001", "name": "Test Ward", "count": 5, "share_pct": 83.3,
                     "cumulative_share_pct": 83.3, "population": 2500.0, "rate_per_1000": 2.0}
    assert [a["name"] for a in doc["areas"]] == ["Test Ward", "Other Ward", "outside"]
    assert doc["top"]["share_pct"] == 83.3 and doc["top"]["areas"] == ["Test Ward"]
    r = invoke("rank", police, "--areas", wards, "--category", "shoplifting")
    assert r.exit_code == 0 and "| Test Ward" in r.stdout


def test_bad_input_exits_2_with_one_line(files):
    police, wards = files
    for args, where in [
        (["table", police, "--areas", wards, "--area", "Test Ward", "--month", "2024-3"], "parameter 'month'"),
        (["table", police, "--areas", wards, "--area", "Nowhere", "--month", "2024-03"], "Test Ward"),
        (["table", police, "--areas", wards, "--area", "Test Ward", "--month", "2024-03", "--kind", "fires"], "parameter 'kind'"),
        (["table", police, "--areas", wards, "--area", "Test Ward", "--month", "2024-03", "--format", "xml"], "parameter 'format'"),
        (["summary", police, "--areas", wards, "--area", "Test Ward", "--to", "March"], "parameter 'to'"),
        (["rank", police, "--areas", wards, "--category", "spaceships"], "parameter 'category'"),
        (["rank", police, "--areas", wards, "--from", "2024-05", "--to", "2024-01"], "parameter"),
    ]:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert r.stdout == ""
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and where in errors[0], r.stderr
        assert r.stderr.strip().splitlines()[-1] == errors[0]


def test_demo_workspace_shapes(demo):
    ws = demo.dir / "workspace.gpkg"
    town = str(demo.town_centres["name"].iloc[0])
    r = invoke("table", ws, "--areas", ws, "--area", town, "--month", "2024-03", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = {row["category"]: row for row in doc["rows"]}
    top = [row for row in doc["rows"] if row["level"] == 0 and row["category"] != "Total"]
    for w in ("selected_month", "last_6_months", "last_12_months"):
        assert sum(row[w]["current"] for row in top) == rows["Total"][w]["current"]
    r = invoke("rank", ws, "--areas", ws, "--category", "asb", "--format", "json")
    doc = json.loads(r.stdout)
    assert len(doc["areas"]) == len(demo.wards) + 1
    assert sum(a["count"] for a in doc["areas"]) == doc["total"] == int((demo.incidents["kind"] == "asb").sum())


@pytest.mark.realdata
def test_real_cleveland_table_summary_rank(realdata, capsys):
    police = realdata / "police_cleveland"
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    r = invoke("table", police, "--areas", wards, "--area", "Stockton Town Centre", "--month", "2024-09",
               "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = {row["category"]: row for row in doc["rows"]}
    total12 = rows["Total"]["last_12_months"]["current"]
    with capsys.disabled():
        print(f"\n[real data] Stockton Town Centre ward, 12 months to Sept 2024: {total12} crimes "
              f"(the town-centre paper, force system, town centre: 4,043); previous 12 months "
              f"{rows['Total']['last_12_months']['previous']}")
    assert total12 > 1000
    # the comparison year 2022-10..2023-09 starts before the data (2023-01): null, with a warning
    assert rows["Total"]["last_12_months"]["previous"] is None
    assert any("2022-10, 2022-11, 2022-12" in w for w in doc["warnings"])
    assert rows["Total"]["selected_month"]["previous"] is not None
    top = [row for row in doc["rows"] if row["level"] == 0 and row["category"] != "Total"]
    assert sum(row["last_12_months"]["current"] for row in top) == total12
    r = invoke("summary", police, "--areas", wards, "--area", "Hemlington", "--to", "2024-12", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["crime"]["previous"] is not None and doc["asb"]["current"] > 0
    assert doc["text"].startswith("In the 12 months up to December 2024 there were")
    r = invoke("rank", police, "--areas", wards, "--category", "asb", "--from", "2024-01", "--to", "2024-12",
               "--population", realdata / "population" / "census2021_lsoa21_population_cleveland.csv",
               *[a for i in range(1, 5) for a in ("--lsoa-boundaries", realdata / "lsoa_2011" / f"E0600000{i}.json")],
               "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert len(doc["areas"]) == 84 and doc["total"] == sum(a["count"] for a in doc["areas"])
    # the 17 LSOA21 codes without a 2011 polygon are reported (placed by their incident points)
    assert any(n.startswith("17 LSOA(s) no polygon; placed") for n in doc["notes"]), doc["notes"]
    assert sum(a["population"] or 0 for a in doc["areas"]) == 569389
