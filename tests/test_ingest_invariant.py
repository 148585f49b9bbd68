"""Property: for any police.uk-like CSV, however malformed, every data record is either loaded or
rejected with a reason -- read == loaded + rejected, per file and overall -- and each rejected
record is listed once in the rejects table with its row number."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings, strategies as st

from hotspot_app.io.ingest import read_incidents

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")

ids = st.sampled_from(["", "", "abc", "abc", "0123456789abcdef0123456789abcdef", "x,y"])
months = st.sampled_from(["2024-01", "2024-02", "2024-13", "24-01", "", "January", "2024-1"])
coords = st.sampled_from([("-1.2345", "54.5678"), ("-1.2", "54.6"), ("", ""), ("-1.2", ""),
                          ("abc", "54.5"), ("54.5", "-1.2"), ("2.35", "48.85"), ("NaN", "54.5"),
                          ("-1.2345", "54.5678"), (" -1.1 ", "54.5")])
text = st.text(alphabet=string.ascii_letters + string.digits + " ,.'\"-&é", max_size=12)
crime_types = st.sampled_from(["Burglary", "Anti-social behaviour", "Shoplifting", "", "Mystery", "Drugs"])


def quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


@st.composite
def good_row(draw):
    lon, lat = draw(coords)
    fields = [draw(ids), draw(months), "Cleveland Police", "Cleveland Police", lon, lat, draw(text),
              "E01000001", "Somewhere 001A", draw(crime_types), draw(text), ""]
    return ",".join(quote(f) for f in fields)


@st.composite
def bad_row(draw):
    kind = draw(st.sampled_from(["blank", "garbage", "short", "long", "quoted-newline", "stray-quote"]))
    if kind == "blank":
        return ""
    if kind == "garbage":
        return draw(st.text(alphabet=string.printable.replace("\n", "").replace("\r", "").replace("\x0b", "").replace("\x0c", ""), max_size=40))
    base = draw(good_row()).split(",")
    if kind == "short":
        return ",".join(base[: draw(st.integers(1, 11))])
    if kind == "long":
        return ",".join(base + ["extra"] * draw(st.integers(1, 3)))
    if kind == "quoted-newline":
        return ",".join(base[:6]) + ',"On or near\nHigh Street",' + ",".join(base[7:])
    return ",".join(base[:6]) + ',"unterminated,' + ",".join(base[7:])


lines = st.lists(st.one_of(good_row(), good_row(), bad_row()), min_size=0, max_size=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(lines, min_size=1, max_size=3), crlf=st.booleans())
def test_read_equals_loaded_plus_rejected(tmp_path_factory, files, crlf):
    folder = tmp_path_factory.mktemp("prop")
    nl = "\r\n" if crlf else "\n"
    for i, rows in enumerate(files):
        (folder / f"2024-0{i + 1}-x-street.csv").write_bytes(nl.join([HEADER, *rows]).encode() + nl.encode())
    res = read_incidents(folder)
    s = res.summary
    assert s["read"] == s["loaded"] + s["rejected"]
    assert len(res.incidents) == s["loaded"] and len(res.rejects) == s["rejected"]
    assert sum(s["rejected_by_reason"].values()) == s["rejected"]
    assert len(s["files"]) == len(files)
    for f in s["files"]:
        assert f["read"] == f["loaded"] + f["rejected"] and f["loaded"] >= 0
        rj = res.rejects[res.rejects["file"] == f["file"]]
        assert rj["row"].is_unique
        assert rj["row"].between(1, f["read"]).all()
    # files whose lines are all simple (no quotes) have one record per line, blank lines included
    for rows, f in zip(files, s["files"]):
        if all('"' not in r for r in rows):
            assert f["read"] == len(rows)
    assert res.incidents["incident_id"].is_unique
    assert res.incidents.geometry.notna().all()
