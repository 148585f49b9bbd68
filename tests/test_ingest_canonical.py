"""The GeoParquet `hotspot ingest` writes, and reading back only the selected rows
(`ingest.canonical`): the file is ordinary GeoParquet (geopandas reads the same incidents), and a
command given it selects exactly the rows `selection.select` would, with the same results as from
the source files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hotspot_app.core import selection
from hotspot_app.cli import app
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import canonical, output, read_incidents

runner = CliRunner()
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")


def police(tmp_path: Path) -> Path:
    """Two months, three snap points, ASB and crime; one row without a location."""
    rows = [HEADER]
    for month in ("2024-01", "2024-02"):
        for i, (lon, lat, kind) in enumerate([(-1.2, 54.5, "Anti-social behaviour"),
                                              (-1.2, 54.5, "Burglary"),
                                              (-1.21, 54.51, "Anti-social behaviour"),
                                              (-1.22, 54.52, "=cmd|' /C calc'!A0"),
                                              (None, None, "Anti-social behaviour")]):
            cid = "" if kind == "Anti-social behaviour" else f"id-{month}-{i}"
            where = "" if lon is None else f"{lon},{lat}"
            rows.append(f"{cid},{month},Force,Cleveland Police,{where or ','},On or near A,E1,N1,"
                        f"\"{kind}\",,")
    f = tmp_path / "2024-x-street.csv"
    f.write_text("\n".join(rows) + "\n")
    return f


def same_incidents(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if c == "geometry":
            assert a.geometry.reset_index(drop=True).geom_equals(b.geometry.reset_index(drop=True)).all()
            assert a.crs.equals(b.crs)
        else:
            left = a[c].astype(object).where(a[c].notna(), None).tolist()
            right = b[c].astype(object).where(b[c].notna(), None).tolist()
            assert left == right, c


def test_written_file_is_geoparquet_with_the_same_incidents(tmp_path):
    result = read_incidents(police(tmp_path))
    out = output.write_incidents(result.incidents, tmp_path / "inc.parquet")
    meta = pq.read_schema(out).metadata
    geo = json.loads(meta[b"geo"])
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    assert geo["columns"]["geometry"]["geometry_types"] == ["Point"]
    assert json.loads(meta[output.PARQUET_MARK]) == output.PARQUET_MARK_VALUE
    back = gpd.read_parquet(out)  # any GeoParquet reader
    assert back.crs.to_epsg() == 27700
    assert len(back) == 8  # the 8 rows with a location, of 10
    same_incidents(back.astype({c: object for c in back.columns if str(back[c].dtype) == "category"
                                and c in ("source", "month", "category", "group", "kind",
                                          "location", "provider")}), result.incidents)
    bbox = geo["columns"]["geometry"]["bbox"]
    assert bbox == pytest.approx(list(result.incidents.total_bounds))
    # the canonical reader gives the very table read_incidents gave, dtypes included
    again, total, summary = canonical.read(out)
    assert total == 8 and summary is None  # nothing left out
    same_incidents(again, result.incidents)
    assert list(again.dtypes.astype(str)) == list(result.incidents.dtypes.astype(str))


def test_selection_read_equals_select_on_everything(tmp_path):
    inc = read_incidents(police(tmp_path)).incidents
    out = output.write_incidents(inc, tmp_path / "inc.parquet")
    for category, period in [(["asb"], None), (["crime"], ("2024-02", "2024-02")), (None, ("2024-01", None)),
                             (["Burglary"], None), (["Unknown"], None)]:
        got, total, summary = canonical.read(out, category=category, period=period)
        want = selection.select(inc, category, period)
        assert total == 8
        same_incidents(got, want)
        if len(got) == len(inc):
            assert summary is None  # nothing left out: the incidents are the whole file
            continue
        # the summary describes the whole file, whatever was selected: per month 2 ASB rows,
        # 1 burglary, 1 unknown category
        assert summary["rows"].sum() == 8 and len(summary) == 6
        asb = summary[(summary["kind"] == "asb") & (summary["month"] == "2024-01")]
        assert asb["rows"].tolist() == [2] and asb["source"].tolist() == ["police-uk"]
    got = canonical.read(out, category=["asb"], period=("2023-01", "2023-12")).incidents
    assert len(got) == 0 and list(got.columns) == list(inc.columns)
    with pytest.raises(InputError, match="unknown category or group 'nonsense'"):
        canonical.read(out, category=["nonsense"])


def test_other_parquet_files_are_read_as_generic_files(tmp_path):
    inc = read_incidents(police(tmp_path)).incidents
    plain = tmp_path / "plain.parquet"
    inc.to_parquet(plain)  # no mark: not ours
    assert canonical.read(plain) is None
    ours = output.write_incidents(inc, tmp_path / "ours.parquet")
    table = pq.read_table(ours)
    meta = dict(table.schema.metadata)
    geo = json.loads(meta[b"geo"])
    geo["columns"]["geometry"]["crs"] = None  # a mark whose promise does not hold
    pq.write_table(table.replace_schema_metadata({**meta, b"geo": json.dumps(geo).encode()}),
                   tmp_path / "edited.parquet")
    assert canonical.read(tmp_path / "edited.parquet") is None
    pq.write_table(table.drop_columns(["month"]), tmp_path / "nomonth.parquet")
    assert canonical.read(tmp_path / "nomonth.parquet") is None
    r = runner.invoke(app, ["clusters", str(plain), "--category", "asb", "--eps-m", "100",
                            "--min-samples", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_incidents"] == 4


def test_real_cleveland_clusters_from_parquet_equal_clusters_from_csvs(realdata, tmp_path):
    folder = realdata / "police_cleveland"
    pq_path = tmp_path / "cleveland.parquet"
    r = runner.invoke(app, ["ingest", str(folder), "--out", str(pq_path)])
    assert r.exit_code == 0, r.output
    args = ["--category", "asb", "--from", "2024-01", "--to", "2024-12", "--eps-m", "100",
            "--min-samples", "15", "--format", "json"]
    from_csv = runner.invoke(app, ["clusters", str(folder), *args])
    from_pq = runner.invoke(app, ["clusters", str(pq_path), *args])
    assert from_csv.exit_code == 0 and from_pq.exit_code == 0, from_pq.output
    a, b = json.loads(from_csv.stdout), json.loads(from_pq.stdout)
    assert a == b
    # police.uk's own count: 16,309 ASB rows with a location in Cleveland's 2024 files
    assert a["n_incidents"] == 16_309
    # the progress line counts every incident in the file, not just those read back
    total = len(read_incidents(folder).incidents)
    assert f"of {total:,} incidents" in from_pq.stderr
    inc = read_incidents(folder).incidents
    got, n, _ = canonical.read(pq_path, category=["asb"], period=("2024-01", "2024-12"))
    assert n == total
    want = selection.select(inc, ["asb"], ("2024-01", "2024-12"))
    assert len(got) == len(want) == a["n_incidents"]
    assert np.array_equal(got["incident_id"].to_numpy(object), want["incident_id"].to_numpy(object))


def test_factorize_objects_by_identity():
    from shapely import Point

    from hotspot_app.core import locations

    a, b = Point(1, 2), Point(3, 4)
    twin = Point(1, 2)  # equal to a, another object
    rows = np.array([a, b, a, twin, b, a] * 300, dtype=object)
    codes, objects = locations.factorize_objects(rows)
    assert list(objects) == [a, b, twin] and objects[0] is a and objects[2] is twin
    assert codes[:6].tolist() == [0, 1, 0, 2, 1, 0]
    assert (objects[codes] == rows).all()
    # rows that each hold their own object: identity does not pay, the caller hashes values
    assert locations.factorize_objects(np.array([Point(i, i) for i in range(2_000)], dtype=object)) is None


def test_real_cleveland_rank_from_parquet_equals_rank_from_csvs(realdata, tmp_path):
    """`rank` reads only the selected categories back from the Parquet file and judges month
    coverage on the file's summary: every figure, warning and null is the CSVs' own."""
    folder = realdata / "police_cleveland"
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    pq_path = tmp_path / "cleveland.parquet"
    assert runner.invoke(app, ["ingest", str(folder), "--out", str(pq_path)]).exit_code == 0
    cases = [
        ["--category", "asb", "--top", "3"],
        ["--category", "asb", "--from", "2025-06"],                        # open end: the data's last
        ["--category", "burglary", "--from", "2025-10", "--to", "2026-01"],  # months not loaded
        ["--category", "asb", "--from", "2024-01", "--to", "2024-12", "--within", "LAD24NM=Hartlepool",
         "--top", "3"],
    ]
    for extra in cases:
        a = runner.invoke(app, ["rank", str(folder), "--areas", str(wards), *extra, "--format", "json"])
        b = runner.invoke(app, ["rank", str(pq_path), "--areas", str(wards), *extra, "--format", "json"])
        assert a.exit_code == 0 and b.exit_code == 0, (extra, b.output)
        from_csv, from_pq = json.loads(a.stdout), json.loads(b.stdout)
        # reading the CSVs again repeats the ingest's own warning (one duplicate Crime ID)
        dup = [w for w in from_csv["warnings"] if "repeat" in w]
        assert len(dup) == 1
        from_csv["warnings"].remove(dup[0])
        assert from_csv == from_pq, extra
    doc = json.loads(b.stdout)  # the last case: Hartlepool's ASB in 2024, as the assessment paper reports it
    assert (doc["top"]["count"], doc["top"]["total"]) == (1_226, 2_632)
    assert doc["top"]["areas"] == ["Victoria", "Burn Valley", "Headland & Harbour"]
    uncovered = json.loads(runner.invoke(app, ["rank", str(pq_path), "--areas", str(wards), *cases[2],
                                               "--format", "json"]).stdout)
    assert uncovered["total"] is None
    assert uncovered["warnings"] == ["ranking period (2025-10..2026-01): no data loaded for 2025-12, "
                                     "2026-01; its count is shown as null (not zero) because those "
                                     "months are not covered"]
