"""`hotspot ingest` (design §5): exact JSON summary, text output, --out formats, --rejects, and the
one-line exit-2 error; real Cleveland police.uk files read completely."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotspot_app.io import workspace
from hotspot_app.cli import app

runner = CliRunner()
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def police(tmp_path: Path) -> Path:
    f = tmp_path / "2024-01-x-street.csv"
    f.write_text("\n".join([
        HEADER,
        "a1,2024-01,X,X,-1.2,54.5,On or near A,E1,N1,Burglary,Under investigation,",
        ",2024-01,X,X,-1.21,54.51,On or near B,E2,N2,Anti-social behaviour,,",
        ",2024-01,X,X,,,No Location,,,Anti-social behaviour,,",
        "a2,2024-99,X,X,-1.2,54.5,On or near A,E1,N1,Drugs,,",
    ]) + "\n")
    return f


def test_json_summary_is_exact_and_files_are_written(tmp_path):
    f = police(tmp_path)
    out, rej = tmp_path / "out.csv", tmp_path / "rejects.csv"
    r = invoke("ingest", f, "--out", out, "--rejects", rej, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc == {"read": 4, "loaded": 2, "rejected": 2,
                   "rejected_by_reason": {"no location": 1, "bad month": 1}, "warnings": []}
    df = pd.read_csv(out)
    assert list(df.columns) == ["incident_id", "source", "occurred", "month", "category", "group", "kind",
                                "subcategory", "weight", "location", "reported_by", "falls_within",
                                "lsoa_code", "lsoa_name", "last_outcome_category", "context",
                                "provider", "longitude", "latitude"]
    assert df[["longitude", "latitude"]].values.tolist() == [[-1.2, 54.5], [-1.21, 54.51]]
    rj = pd.read_csv(rej)
    assert rj[["row", "reason"]].values.tolist() == [[3, "no location"], [4, "bad month"]]


def test_text_output_parquet_and_workspace(tmp_path):
    f = police(tmp_path)
    r = invoke("ingest", f, "--out", tmp_path / "x.parquet")
    assert r.exit_code == 0
    assert "Read 4 rows from 1 file: 2 loaded, 2 rejected." in r.stdout
    assert "rejected, no location: 1" in r.stdout and "Use --rejects" in r.stdout
    assert len(gpd.read_parquet(tmp_path / "x.parquet")) == 2
    ws = tmp_path / "ws.gpkg"
    assert invoke("ingest", f, "--out", ws).exit_code == 0
    assert workspace.is_workspace(ws)
    back = workspace.GeopackageWorkspace(ws).incidents()
    assert sorted(back["category"]) == ["Anti-social behaviour", "Burglary"]


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a text"),
    (b"", "empty file"),
    (b"foo,bar\n1,2\n", "no category column"),
])
def test_broken_input_is_a_one_line_error(tmp_path, content, message):
    f = tmp_path / "broken.csv"
    f.write_bytes(content)
    r = invoke("ingest", f, "--out", tmp_path / "o.csv", "--format", "json")
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(f) in lines[0] and message in lines[0]


def test_bad_arguments_exit_2(tmp_path):
    f = police(tmp_path)
    for args in (["--out", tmp_path / "o.txt"], ["--out", tmp_path / "o.csv", "--kind", "nope"],
                 ["--out", tmp_path / "o.csv", "--rejects", tmp_path / "r.xlsx"],
                 ["--out", tmp_path / "o.csv", "--format", "xml"]):
        r = invoke("ingest", f, *args)
        assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, args
    assert invoke("ingest", tmp_path / "missing.csv", "--out", tmp_path / "o.csv").exit_code == 2


def test_real_cleveland_police_every_row_read(realdata, tmp_path):
    folder = realdata / "police_cleveland"
    files = sorted(folder.glob("*.csv"))
    assert len(files) == 35
    expected = sum(len(p.read_bytes().splitlines()) - 1 for p in files)
    r = invoke("ingest", folder, "--out", tmp_path / "x.csv", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc) == {"read", "loaded", "rejected", "rejected_by_reason", "warnings"}
    assert doc["read"] == expected and doc["read"] == doc["loaded"] + doc["rejected"]
    # one Crime ID is published in both 2024-03 and 2024-04: the second is a duplicate
    assert doc["rejected_by_reason"] == {"duplicate id": 1}
    out = pd.read_csv(tmp_path / "x.csv", usecols=["month", "kind"])
    assert len(out) == doc["loaded"]


def test_real_cleveland_2024_counts(realdata):
    from hotspot_app.io.ingest import read_incidents

    files = sorted((realdata / "police_cleveland").glob("2024-*.csv"))
    res = read_incidents(files)
    s = res.summary
    assert s["read"] == 89_892                      # SOURCES.md
    assert [f["read"] for f in s["files"]] == [6561, 6641, 7690, 7921, 8556, 7806, 7938, 8517, 7523,
                                               7693, 6950, 6096]
    assert (s["loaded"], s["rejected"]) == (89_891, 1)
    inc = res.incidents
    assert int((inc["kind"] == "asb").sum()) == 16_309
    assert int((inc["category"] == "Criminal damage and arson").sum()) == 9_303
    assert inc["category"].nunique() == 14 and inc["group"].ne("Unknown").all()
    assert inc["incident_id"].is_unique
