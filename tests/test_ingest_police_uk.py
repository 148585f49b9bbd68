"""police.uk street CSV ingest: every row loaded or rejected with a reason, stable ASB ids,
header detection, encodings, folders and zip archives (fixture files written by the tests)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import read_incidents

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def row(cid="", month="2024-01", lon="-1.234567", lat="54.567890", loc="On or near High Street",
        ctype="Burglary", outcome="Under investigation", lsoa="E01012001", lsoa_name="Middlesbrough 001A"):
    return f"{cid},{month},Cleveland Police,Cleveland Police,{lon},{lat},{loc},{lsoa},{lsoa_name},{ctype},{outcome},"


def write(path: Path, rows: list[str], header: str = HEADER, encoding: str = "utf-8",
          newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((newline.join([header, *rows]) + newline).encode(encoding))
    return path


def month_rows(month: str) -> list[str]:
    """5 rows: 2 crimes, 2 identical ASB rows, 1 ASB row without a location."""
    return [
        row(cid=f"{month}-aaa", month=month, ctype="Burglary"),
        row(cid=f"{month}-bbb", month=month, ctype="Shoplifting", lon="-1.2", lat="54.6"),
        row(month=month, ctype="Anti-social behaviour", outcome=""),
        row(month=month, ctype="Anti-social behaviour", outcome=""),
        row(month=month, ctype="Anti-social behaviour", outcome="", lon="", lat="", loc="No Location",
            lsoa="", lsoa_name=""),
    ]


def test_rows_loaded_or_rejected_with_reasons(tmp_path):
    f = write(tmp_path / "2024-01-cleveland-street.csv", month_rows("2024-01") + [
        row(cid="c1", month="2024-13"),            # bad month
        row(cid="c2", lon="abc"),                  # bad coordinates
        row(cid="c3", lon="2.35", lat="48.85"),    # Paris: outside Great Britain
        row(cid="c4", ctype="Flying carpet theft"),  # unknown category: kept as Unknown
    ])
    res = read_incidents(f)
    s = res.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (9, 5, 4)
    assert s["rejected_by_reason"] == {"no location": 1, "bad month": 1, "bad coordinates": 1,
                                       "outside Great Britain": 1}
    assert s["files"] == [{"file": str(f), "read": 9, "loaded": 5, "rejected": 4}]
    rj = res.rejects
    assert list(rj.columns[:4]) == ["file", "row", "column", "reason"]
    assert rj[["row", "column", "reason"]].values.tolist() == [
        [5, "Longitude", "no location"], [6, "Month", "bad month"], [7, "Longitude", "bad coordinates"],
        [8, "Longitude", "outside Great Britain"]]
    assert rj.loc[rj["reason"] == "bad month", "value"].item() == "2024-13"
    inc = res.incidents
    assert inc.crs.equals(settings.CRS)
    schema.validate_incidents(inc)
    assert list(inc.columns[:11]) == schema.INCIDENT_COLUMNS
    assert inc["kind"].tolist() == ["crime", "crime", "asb", "asb", "crime"]
    assert inc["group"].tolist()[:3] == ["Victim Based Crime/Theft Offences"] * 2 + ["Anti-social behaviour"]
    assert inc.iloc[4][["category", "group"]].tolist() == ["Flying carpet theft", "Unknown"]
    assert inc["occurred"].isna().all() and (inc["month"] == "2024-01").all()
    assert inc["source"].eq("police-uk").all() and inc["weight"].eq(1.0).all()
    assert inc["location"].iloc[0] == "On or near High Street"
    assert inc[["lsoa_code", "lsoa_name", "last_outcome_category", "reported_by", "falls_within",
                "context"]].iloc[0].tolist() == ["E01012001", "Middlesbrough 001A", "Under investigation",
                                                 "Cleveland Police", "Cleveland Police", ""]
    x, y = TO_BNG.transform(-1.234567, 54.567890)
    assert inc.geometry.iloc[0].x == pytest.approx(x, abs=1e-6)
    assert inc.geometry.iloc[0].y == pytest.approx(y, abs=1e-6)


def test_asb_ids_stable_across_runs_file_folder_and_zip(tmp_path):
    folder = tmp_path / "download"
    files = [write(folder / m / f"{m}-cleveland-street.csv", month_rows(m)) for m in ("2024-01", "2024-02")]
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in files:
            zf.write(f, f.relative_to(folder).as_posix())
    single = read_incidents(files[1]).incidents
    by_folder = read_incidents(folder).incidents
    by_zip = read_incidents(archive).incidents
    again = read_incidents(folder).incidents
    asb = by_folder.loc[by_folder["kind"] == "asb", "incident_id"].tolist()
    assert len(asb) == 4 and len(set(asb)) == 4          # identical rows get distinct ids
    assert all(i.startswith("asb-") and len(i) == 20 for i in asb)
    assert by_folder["incident_id"].tolist() == by_zip["incident_id"].tolist() == again["incident_id"].tolist()
    feb = by_folder[by_folder["month"] == "2024-02"]["incident_id"].tolist()
    assert single["incident_id"].tolist() == feb
    # the month is part of the row content: January and February ASB ids differ
    assert set(asb[:2]).isdisjoint(asb[2:])
    zip_files = [f["file"] for f in read_incidents(archive).summary["files"]]
    assert zip_files == [f"{archive}:2024-01/2024-01-cleveland-street.csv",
                         f"{archive}:2024-02/2024-02-cleveland-street.csv"]


def test_same_month_loaded_twice_is_reported_as_duplicates(tmp_path):
    f = write(tmp_path / "a" / "2024-01-x-street.csv", month_rows("2024-01"))
    g = write(tmp_path / "b" / "2024-01-x-street.csv", month_rows("2024-01"))
    res = read_incidents([f, g])
    s = res.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (10, 4, 6)
    assert s["rejected_by_reason"] == {"no location": 2, "duplicate id": 4}
    assert [fc["loaded"] for fc in s["files"]] == [4, 0]
    assert any("4 rows repeat an incident ID" in w for w in s["warnings"])
    dup = res.rejects[res.rejects["reason"] == "duplicate id"]
    assert dup["file"].eq(str(g)).all() and dup["row"].tolist() == [1, 2, 3, 4]


def test_crime_id_repeated_in_a_later_month_keeps_the_first(tmp_path):
    f = write(tmp_path / "2024-01.csv", [row(cid="same", month="2024-01", outcome="Under investigation")])
    g = write(tmp_path / "2024-02.csv", [row(cid="same", month="2024-02", outcome="Court result unavailable")])
    res = read_incidents([f, g])
    assert res.incidents["month"].tolist() == ["2024-01"]
    assert res.rejects[["file", "row", "reason", "value"]].values.tolist() == [[str(g), 1, "duplicate id", "same"]]


def test_header_detection_bom_cp1252_crlf_and_column_order(tmp_path):
    cols = HEADER.split(",")
    order = [9, 0, 1, 5, 4, 6, 2, 3, 7, 8, 10, 11]
    header = ",".join(cols[i].upper() for i in order)
    fields = row(cid="x1", loc="On or near Café Street").split(",")
    body = ",".join(fields[i] for i in order)
    text = "Cleveland Police street-level crime\nexported 2024\n" + header + "\r\n" + body + "\r\n"
    f1 = tmp_path / "preamble.csv"
    f1.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    f2 = tmp_path / "cp1252.csv"
    f2.write_bytes(text.encode("cp1252"))
    r1, r2 = read_incidents(f1), read_incidents(f2)
    for r in (r1, r2):
        assert r.summary["loaded"] == 1 and r.summary["rejected"] == 0
        assert r.incidents["location"].item() == "On or near Café Street"
        assert r.incidents["category"].item() == "Burglary"
    assert not any("cp1252" in w for w in r1.summary["warnings"])
    assert any("read as cp1252" in w for w in r2.summary["warnings"])


def test_malformed_rows_fall_back_to_exact_row_numbers(tmp_path):
    rows = [row(cid="a"), "", "just,three,fields", row(cid="b"), '"unterminated,' + row(cid="c")]
    f = write(tmp_path / "bad.csv", rows)
    res = read_incidents(f)
    s = res.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (5, 2, 3)
    assert res.rejects[["row", "reason"]].values.tolist() == [
        [2, "empty row"], [3, "wrong number of fields"], [5, "wrong number of fields"]]
    assert res.incidents["incident_id"].tolist() == ["a", "b"]


def test_forced_kind_with_missing_column_names_file_and_column(tmp_path):
    f = write(tmp_path / "nocoords.csv", ["x,2024-01,Burglary"], header="Crime ID,Month,Crime type")
    with pytest.raises(InputError) as err:
        read_incidents(f, kind="police-uk")
    assert str(f) in str(err.value) and "Longitude" in str(err.value)


def test_outcomes_files_in_a_folder_are_skipped_with_a_warning(tmp_path):
    write(tmp_path / "2024-01" / "2024-01-x-street.csv", month_rows("2024-01"))
    write(tmp_path / "2024-01" / "2024-01-x-outcomes.csv", ["abc,2024-01,X,X,-1.2,54.5,Loc,E0,N,Offender fined"],
          header="Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type")
    res = read_incidents(tmp_path)
    assert res.summary["read"] == 5
    assert any("outcomes" in w for w in res.summary["warnings"])


def test_empty_file_and_missing_path_are_input_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty file"):
        read_incidents(empty)
    with pytest.raises(InputError, match="no such file"):
        read_incidents(tmp_path / "missing.csv")
    notzip = tmp_path / "broken.zip"
    notzip.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputError, match="zip"):
        read_incidents(notzip)


def test_header_only_file_loads_nothing(tmp_path):
    res = read_incidents(write(tmp_path / "h.csv", []))
    assert (res.summary["read"], res.summary["loaded"]) == (0, 0)
    assert list(res.incidents.columns) == schema.INCIDENT_COLUMNS + ["provider"]
    assert res.incidents.crs.equals(settings.CRS)


def test_many_repeated_points_share_one_reprojection(tmp_path):
    rng = np.random.default_rng(1)
    pts = [(-1.2 - i / 1000, 54.5 + i / 1000) for i in range(7)]
    picks = rng.integers(0, 7, 500)
    f = write(tmp_path / "many.csv", [row(cid=f"id{i}", lon=f"{pts[p][0]:.6f}", lat=f"{pts[p][1]:.6f}")
                                      for i, p in enumerate(picks)])
    inc = read_incidents(f).incidents
    assert len(inc) == 500
    assert inc.geometry.apply(lambda g: (round(g.x, 3), round(g.y, 3))).nunique() == 7
    x, y = TO_BNG.transform(*pts[picks[0]])
    assert (inc.geometry.iloc[0].x, inc.geometry.iloc[0].y) == pytest.approx((x, y), abs=1e-6)


def test_folder_reads_csvs_and_skips_other_files_with_warnings(tmp_path):
    write(tmp_path / "2024-01" / "2024-01-x-street.csv", month_rows("2024-01"))
    (tmp_path / "wards.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (tmp_path / "population.csv").write_text("ward,population\nNorth,1000\n")
    res = read_incidents(tmp_path)
    assert [f["file"] for f in res.summary["files"]] == [str(tmp_path / "2024-01" / "2024-01-x-street.csv")]
    assert res.summary["warnings"] == ["skipped population.csv: not an incident file "
                                       "(no category with a date or month)"]  # its name, not its folder
    with pytest.raises(InputError, match="no category column"):
        read_incidents(tmp_path / "population.csv")      # named explicitly: an error
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no incident CSV files"):
        read_incidents(tmp_path / "empty")
    with pytest.raises(InputError, match="no incident files given"):
        read_incidents([])


def test_ids_same_whether_crime_ids_share_one_width_or_not(tmp_path):
    # police.uk Crime IDs are 64 hex digits: the ids are then copied straight from the reader's
    # buffers; other widths take the general path. Both give the same ids, in row order.
    hexid = [f"{i:064x}" for i in range(1, 9)]
    rows = [row(cid=hexid[0]), row(ctype="Anti-social behaviour", outcome=""),
            row(cid=hexid[1], month="2024-13"),                       # rejected between kept rows
            row(cid=hexid[2], lon="-1.3"), row(ctype="Anti-social behaviour", outcome=""),
            row(cid=hexid[3], lon="", lat=""),                        # rejected: no location
            row(ctype="Mystery", outcome=""),                         # no Crime ID, not ASB: nid-
            row(cid=hexid[4], lat="54.6")]
    fixed = read_incidents(write(tmp_path / "a" / "f.csv", rows)).incidents["incident_id"].tolist()
    assert fixed[0] == hexid[0] and fixed[2] == hexid[2] and fixed[5] == hexid[4] and len(fixed) == 6
    assert fixed[1].startswith("asb-") and fixed[3].startswith("asb-") and fixed[4].startswith("nid-")
    assert fixed[1] != fixed[3] and all(len(i) == 20 for i in (fixed[1], fixed[3], fixed[4]))
    mixed_rows = list(rows)
    mixed_rows[3] = row(cid="short-id", lon="-1.3")
    mixed = read_incidents(write(tmp_path / "b" / "f.csv", mixed_rows)).incidents["incident_id"].tolist()
    assert mixed == fixed[:2] + ["short-id"] + fixed[3:]
