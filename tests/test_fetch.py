"""`hotspot fetch police-uk|boundaries|population` and `hotspot monthly` (issue 24, design §5c)
against a local server answering like police.uk, the ONS geography services and Nomis, with
responses built from the real Cleveland data (tests/fetch_server.py)."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
import yaml
from shapely.geometry import Polygon
from typer.testing import CliRunner

from hotspot_app.io import ingest
from hotspot_app.io import workspace
from hotspot_app.cli import app
from hotspot_app.io.fetch import http, police_uk
from fetch_server import FakeServices, police_csv

pytest_plugins = ["pg"]

runner = CliRunner()
Q1 = ("2024-01", "2024-02", "2024-03")
Q1_ROWS = {"2024-01": 6561, "2024-02": 6641, "2024-03": 7690}
LADS = ["E06000001", "E06000002", "E06000003", "E06000004"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def as_json(result) -> dict:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture(autouse=True)
def fast_client(monkeypatch):
    """No pacing and millisecond back-offs (the rules are the same; the waits are recorded)."""
    monkeypatch.setattr(http, "RATE_PER_S", 0.0)
    monkeypatch.setattr(http, "BACKOFF_S", 0.001)
    monkeypatch.setattr(http, "TIMEOUT_S", 20.0)
    waits: list[float] = []
    real = http._sleep
    monkeypatch.setattr(http, "_sleep", lambda s: (waits.append(s), real(s)))
    return waits


@pytest.fixture
def q1(realdata):
    with FakeServices(realdata, months=Q1) as s:
        yield s


def by_month_and_category(incidents) -> dict:
    return {(str(m), str(c)): int(n) for (m, c), n in
            incidents.groupby(["month", "category"], observed=True).size().items()}


def signature(incidents) -> collections.Counter:
    """Every incident as (easting, northing, category, location, police.uk crime id or '')."""
    ids = incidents["incident_id"].astype(str)
    ids = ids.where(~ids.str.startswith(("asb-", "nid-")), "")
    return collections.Counter(zip(incidents.geometry.x.round(1), incidents.geometry.y.round(1),
                                   incidents["category"].astype(str), incidents["location"].astype(str), ids))


@pytest.fixture(scope="module")
def real_q1(realdata):
    return ingest.read_incidents([police_csv(realdata, m) for m in Q1]).incidents


# =========================================================================== police.uk -> workspace
@pytest.mark.realdata
def test_fetch_into_a_workspace_loads_exactly_the_real_csvs_and_a_second_run_adds_nothing(q1, tmp_path, real_q1):
    ws = tmp_path / "ws.gpkg"
    doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                         "--base-url", q1.url, "--into", ws, "--format", "json"))
    assert doc["months"] == list(Q1)
    assert doc["incidents"] == 20892
    assert doc["workspace"] == {"before": 0, "after": 20892, "added": 20892, "replaced": 0, "months_replaced": []}
    assert doc["out"] is None and doc["warnings"] == []
    assert doc["requests"] == len(q1.log)  # every request the server saw is counted
    loaded = workspace.open_workspace(ws).incidents()
    assert loaded.groupby("month").size().to_dict() == Q1_ROWS
    assert by_month_and_category(loaded) == by_month_and_category(real_q1)
    assert signature(loaded) == signature(real_q1)
    assert set(loaded["provider"].astype(str)) == {"Cleveland Police"}
    assert not (tmp_path / ".ws.gpkg.fetch").exists()  # staging folder removed after the load

    before, version = ws.read_bytes(), workspace.open_workspace(ws).version()
    seen = len(q1.log)
    again = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                           "--base-url", q1.url, "--into", ws, "--format", "json"))
    second = q1.log[seen:]
    assert again["months"] == [] and again["incidents"] == 0
    assert again["workspace"] == {"before": 20892, "after": 20892, "added": 0, "replaced": 0, "months_replaced": []}
    assert again["requests"] == len(second) == 2  # the force's name and the months-available check
    assert [line.split("?")[0] for line in second] == ["GET /api/forces/cleveland", "GET /api/crimes-street-dates"]
    assert ws.read_bytes() == before and workspace.open_workspace(ws).version() == version


@pytest.mark.realdata
def test_a_server_failure_half_way_leaves_the_workspace_unchanged_says_so_and_a_rerun_resumes(realdata, tmp_path):
    ws = tmp_path / "ws.gpkg"
    with FakeServices(realdata, months=("2023-12",) + Q1) as s:
        assert invoke("ingest", police_csv(realdata, "2023-12"), "--into", ws).exit_code == 0
        before, version = ws.read_bytes(), workspace.open_workspace(ws).version()
        s.fail(lambda line: "crimes-street/all-crime" in line and "date=2024-02" in line, 500, times=None)
        r = invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                   "--base-url", s.url, "--into", ws)
        assert r.exit_code == 1
        lines = r.stderr.strip().splitlines()  # progress, then the one-line error
        error = lines[-1]
        assert [line for line in lines if line.startswith("error")] == [error]
        assert error.startswith("error: police.uk is not answering: crimes-street 2024-02")
        assert "failed 6 times (last: HTTP 500)" in error
        assert f"nothing was loaded: the workspace {ws} is unchanged" in error
        assert "1 month(s) fetched so far wait in" in error
        assert ws.read_bytes() == before and workspace.open_workspace(ws).version() == version
        assert "Traceback" not in r.stdout + r.stderr

        s.heal()
        seen = len(s.log)
        doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                             "--base-url", s.url, "--into", ws, "--format", "json"))
        rerun = s.log[seen:]
    assert doc["months"] == list(Q1) and doc["incidents"] == 20892
    assert doc["workspace"]["before"] == 6523 and doc["workspace"]["after"] == 6523 + 20892
    assert not any("date=2024-01" in line for line in rerun)  # the month fetched before is not asked again
    assert any("date=2024-02" in line for line in rerun) and any("date=2024-03" in line for line in rerun)
    got = workspace.open_workspace(ws).incidents().groupby("month").size().to_dict()
    assert got == {"2023-12": 6523, **Q1_ROWS}


@pytest.mark.realdata
def test_polygons_holding_too_many_crimes_are_split_and_the_counts_still_add_up(realdata, tmp_path, monkeypatch, real_q1):
    # a 503 above 1,500 crimes (police.uk: above 10,000); halves overlapping by about 1 km, so
    # thousands of crimes come back twice and have to be kept once
    monkeypatch.setattr(police_uk, "SPLIT_OVERLAP_DEG", 0.01)
    with FakeServices(realdata, months=Q1, threshold=1500) as s:
        doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                             "--base-url", s.url, "--out", tmp_path / "police", "--format", "json"))
        served, polygons = dict(s.served), s.count("/api/crimes-street/all-crime")
    assert doc["incidents"] == 20892
    assert polygons > 3 * 8  # each month split into at least 5 pieces
    assert all(served[m] > Q1_ROWS[m] for m in Q1)  # the overlaps were sent twice ...
    back = ingest.read_incidents([tmp_path / "police"])
    assert back.summary["read"] == back.summary["loaded"] == 20892  # ... and written once
    assert by_month_and_category(back.incidents) == by_month_and_category(real_q1)
    assert signature(back.incidents) == signature(real_q1)


def test_halves_of_a_split_cover_points_on_the_cut():
    square = Polygon([(0, 0), (0.02, 0), (0.02, 0.01), (0, 0.01)])
    a, b = police_uk._halves(square)
    import shapely

    on_cut = shapely.points([(0.01, 0.002), (0.01, 0.005), (0.01, 0.009)])
    assert all(shapely.contains(a, on_cut)) and all(shapely.contains(b, on_cut))
    assert a.union(b).equals(square)


@pytest.mark.realdata
def test_a_long_area_polygon_is_posted_and_the_area_file_names_the_rows(realdata, tmp_path, monkeypatch, real_q1):
    import geopandas as gpd

    wards = gpd.read_file(realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson")
    area = wards.dissolve("LAD24CD").buffer(1000).union_all()  # covers every real point (<= 871 m outside)
    gpd.GeoDataFrame({"name": ["Cleveland area"]}, geometry=[area], crs=27700).to_file(tmp_path / "area.geojson")
    monkeypatch.setattr(police_uk, "POLY_GET_MAX", 200)
    with FakeServices(realdata, months=Q1[:1]) as s:
        doc = as_json(invoke("fetch", "police-uk", "--areas", tmp_path / "area.geojson", "--from", "2024-01",
                             "--to", "2024-01", "--base-url", s.url, "--out", tmp_path / "out", "--format", "json"))
        assert s.count("POST /api/crimes-street/all-crime") >= 1 and s.count("GET /api/crimes-street/") == 0
        assert s.count("neighbourhoods") == 0 and s.count("crimes-no-location") == 0  # no force given
    back = ingest.read_incidents([tmp_path / "out" / "2024-01" / "2024-01-area-street.csv"]).incidents
    assert doc["incidents"] == 6561 == len(back)
    assert set(back["provider"].astype(str)) == {"police.uk API (area)"}
    assert signature(back) == signature(real_q1[real_q1["month"] == "2024-01"])


# =========================================================================== politeness
@pytest.mark.realdata
def test_429_with_retry_after_is_waited_out_and_every_request_is_counted(q1, tmp_path, fast_client):
    q1.fail("/api/crimes-street-dates", 429, times=2, headers={"Retry-After": "0.05"})
    q1.fail("/api/crimes-no-location", 502, times=1)
    doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-01",
                         "--base-url", q1.url, "--out", tmp_path / "out", "--format", "json"))
    assert doc["incidents"] == 6561
    assert q1.count("/api/crimes-street-dates") == 3 and q1.count("/api/crimes-no-location") == 2
    assert doc["requests"] == len(q1.log)
    # forces, dates x3 (two 429s), neighbourhoods + 4 boundaries, one polygon, no-location x2 (one 502)
    assert doc["requests"] == 1 + 3 + 5 + 1 + 2
    assert fast_client == [0.05, 0.05, 0.001]  # Retry-After honoured; the 502 backed off


def test_requests_are_paced_to_the_rate_limit(monkeypatch, fast_client):
    class Clock:  # time that moves only when the client waits
        now = 100.0

        def monotonic(self):
            return self.now

        def sleep(self, seconds):
            self.now += seconds

    monkeypatch.setattr(http, "time", Clock())
    client = http.Client("http://127.0.0.1:9", rate_per_s=4)
    for _ in range(3):
        client._pace()
    assert fast_client == [0.25, 0.25]  # the 2nd and 3rd wait a quarter second each


def test_retry_after_in_seconds_or_as_an_http_date():
    from datetime import datetime, timezone

    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert http.retry_after_seconds("120") == 120.0
    assert http.retry_after_seconds("0.25") == 0.25
    assert http.retry_after_seconds("Fri, 01 Mar 2024 12:00:30 GMT", now=now) == 30.0
    assert http.retry_after_seconds("Fri, 01 Mar 2024 11:00:00 GMT", now=now) == 0.0
    assert http.retry_after_seconds(None) is None and http.retry_after_seconds("soon") is None


@pytest.mark.realdata
def test_a_service_that_is_down_is_one_line_and_exit_1(q1, tmp_path):
    q1.fail("/api/", 503, times=None)
    r = invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-01",
               "--base-url", q1.url, "--out", tmp_path / "out")
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [
        "error: police.uk is not answering: the force 'cleveland' failed 6 times (last: HTTP 503); try again later"]
    assert not (tmp_path / "out").exists()


def test_nothing_listening_is_one_line_and_exit_1(tmp_path):
    import socket

    with socket.socket() as sock:  # a free port, then closed: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    r = invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-01",
               "--base-url", f"http://127.0.0.1:{port}", "--into", tmp_path / "ws.gpkg")
    assert r.exit_code == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("error: police.uk is not answering: the force 'cleveland' failed 6 times")
    assert not (tmp_path / "ws.gpkg").exists()


def test_bad_arguments_exit_2_before_any_request(tmp_path):
    cases = [
        (["--force", "cleveland", "--from", "2024-13", "--to", "2024-03", "--out", tmp_path], "parameter 'from'"),
        (["--force", "cleveland", "--from", "2024-03", "--to", "2024-01", "--out", tmp_path], "starts (2024-03) after"),
        (["--force", "cleveland", "--from", "2024-01", "--to", "2024-03"], "give --out DIR or --into WORKSPACE"),
        (["--force", "Cleveland Police!", "--from", "2024-01", "--to", "2024-03", "--out", tmp_path], "force id"),
        (["--from", "2024-01", "--to", "2024-03", "--out", tmp_path], "give --force ID or --areas FILE"),
        (["--force", "cleveland", "--from", "2024-01", "--to", "2024-03", "--into", tmp_path / "x.csv"], "a workspace is"),
    ]
    for args, needle in cases:
        r = invoke("fetch", "police-uk", *args, "--base-url", "http://127.0.0.1:9")
        assert r.exit_code == 2, (args, r.stderr)
        assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_the_commands_also_run_as_python_m_hotspot_app_cli(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "hotspot_app.cli", "fetch", "police-uk", "--force", "cleveland",
                           "--from", "2024-13", "--to", "2024-03", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "error: parameter 'from': '2024-13' is not a month; use YYYY-MM, e.g. 2024-03\n"


@pytest.mark.realdata
def test_an_unknown_force_is_named_with_the_ids_police_uk_has(q1, tmp_path):
    r = invoke("fetch", "police-uk", "--force", "clevland", "--from", "2024-01", "--to", "2024-01",
               "--base-url", q1.url, "--out", tmp_path)
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: parameter 'force': police.uk has no force 'clevland'; e.g. cleveland"


# =========================================================================== --out, the archive
@pytest.mark.realdata
def test_out_writes_police_uk_csvs_that_ingest_reads_back_whole_and_a_rerun_skips_them(q1, tmp_path):
    out = tmp_path / "police"
    doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                         "--base-url", q1.url, "--out", out, "--format", "json"))
    assert doc["out"] == str(out) and doc["workspace"] is None and doc["incidents"] == 20892
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv"))
    assert files == [f"{m}/{m}-cleveland-street.csv" for m in Q1]
    assert (out / "2024-01" / "2024-01-cleveland-street.csv").read_text().splitlines()[0] == ",".join(police_uk.HEADER)
    back = as_json(invoke("ingest", out, "--out", tmp_path / "x.parquet", "--format", "json"))
    assert back["read"] == back["loaded"] == 20892 and back["rejected"] == 0
    seen = len(q1.log)
    again = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                           "--base-url", q1.url, "--out", out, "--format", "json"))
    assert again["months"] == [] and again["requests"] == 2
    assert not any("crimes-street/" in line for line in q1.log[seen:])


@pytest.mark.realdata
def test_crimes_without_a_location_are_written_as_police_uk_does_and_counted_by_the_ingest(q1, tmp_path):
    q1.no_location["2024-01"] = [
        {"category": "burglary", "persistent_id": "ab" * 32, "location_subtype": "", "id": 1, "location": None,
         "context": "", "month": "2024-01", "location_type": None,
         "outcome_status": {"category": "Under investigation", "date": "2024-01"}},
        {"category": "violent-crime", "persistent_id": "cd" * 32, "location_subtype": "", "id": 2, "location": None,
         "context": "", "month": "2024-01", "location_type": None, "outcome_status": None},
    ]
    ws = tmp_path / "ws.gpkg"
    doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-01",
                         "--base-url", q1.url, "--into", ws, "--format", "json"))
    assert doc["incidents"] == 6561
    assert any("2 crimes police.uk could not map" in w for w in doc["warnings"])
    loads = workspace.open_workspace(ws).loads()
    assert loads[["read", "loaded", "rejected"]].values.tolist() == [[6563, 6561, 2]]
    assert loads["no_location"].tolist() == [{"2024-01": 2}]


@pytest.mark.realdata
def test_the_monthly_archive_gives_the_force_files_byte_for_byte_reading_only_what_is_needed(realdata, tmp_path):
    with FakeServices(realdata, months=Q1) as s:
        s.add_archive("2024-03", [f"2023-{m:02d}" for m in range(1, 13)] + list(Q1))
        size = len(s.archives["2024-03"])
        doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                             "--base-url", s.url, "--source", "archive", "--out", tmp_path / "a", "--format", "json"))
        ranged = s.bytes_served
        s.ranges = False  # a server without range requests: the zip is downloaded, still only 3 read
        doc2 = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-03",
                              "--base-url", s.url, "--source", "archive", "--out", tmp_path / "b", "--format", "json"))
        assert s.count("GET /api/crimes-street/") == 0
    assert doc["incidents"] == doc2["incidents"] == 20892
    assert ranged < size / 4  # the directory and three members of a 15-month, two-force archive
    for folder in ("a", "b"):
        got = sorted(p.name for p in (tmp_path / folder).rglob("*.csv"))
        assert got == [f"{m}-cleveland-street.csv" for m in Q1]  # no decoy force, no outcomes
        for m in Q1:
            assert (tmp_path / folder / m / f"{m}-cleveland-street.csv").read_bytes() == police_csv(realdata, m).read_bytes()


def test_which_archive_holds_which_month():
    months = [f"2021-{m:02d}" for m in range(1, 13)] + [f"2024-{m:02d}" for m in range(1, 4)]
    assert police_uk.archive_for(months, "2024-06") == {
        "2024-03": ["2021-04", "2021-05", "2021-06", "2021-07", "2021-08", "2021-09", "2021-10", "2021-11",
                    "2021-12", "2024-01", "2024-02", "2024-03"],
        "2021-03": ["2021-01", "2021-02", "2021-03"]}


def test_plan_skips_complete_months_and_names_unavailable_ones():
    todo, done, missing = police_uk.plan("2023-11", "2024-03", ["2024-01", "2024-02", "2024-03"], {"2024-02"})
    assert (todo, done, missing) == (["2024-01", "2024-03"], ["2024-02"], ["2023-11", "2023-12"])
    assert police_uk.plan("2024-01", "2024-03", ["2024-01", "2024-02", "2024-03"], {"2024-02"}, refresh=True)[0] == \
        ["2024-01", "2024-02", "2024-03"]


@pytest.mark.realdata
def test_months_police_uk_does_not_hold_are_a_warning(realdata, tmp_path):
    with FakeServices(realdata, months=Q1[1:]) as s:
        doc = as_json(invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2023-12", "--to", "2024-02",
                             "--base-url", s.url, "--out", tmp_path, "--format", "json"))
    assert doc["months"] == ["2024-02"] and doc["incidents"] == 6641
    assert doc["warnings"] == ["not available from police.uk: 2023-12, 2024-01 (it holds 2024-02..2024-03)"]


# =========================================================================== PostgreSQL workspace
@pytest.mark.realdata
def test_fetch_into_a_postgis_workspace(q1, pg_url):
    args = ("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-02",
            "--base-url", q1.url, "--into", pg_url, "--format", "json")
    doc = as_json(invoke(*args))
    assert doc["workspace"] == {"before": 0, "after": 13202, "added": 13202, "replaced": 0, "months_replaced": []}
    again = as_json(invoke(*args))
    assert again["months"] == [] and again["workspace"]["added"] == 0
    assert workspace.open_workspace(pg_url).incidents().groupby("month").size().to_dict() == \
        {"2024-01": 6561, "2024-02": 6641}


@pytest.mark.realdata
def test_monthly_on_a_postgis_workspace_and_its_private_copy(q1, pg_url, tmp_path):
    from hotspot_app.questions import monthly

    config = tmp_path / "monthly.yaml"
    config.write_text(yaml.safe_dump({"workspace": pg_url, "police_uk": {
        "force": "cleveland", "first_month": "2024-02", "base_url": q1.url}}))
    r = invoke("monthly", config)
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[1].startswith("fetch: 2 new month(s) (2024-02, 2024-03): 14,331 incidents fetched in ")
    assert lines[2].endswith(" 0 -> 14,331 incidents (14,331 added, 0 replaced; 2024-02, 2024-03)")
    r = invoke("monthly", config)
    assert r.exit_code == 0 and "load: nothing to load" in r.stdout
    ws = workspace.open_workspace(pg_url)
    copy, version = monthly._copy_workspace(ws, pg_url, tmp_path)  # what packs reading it are built on
    assert version == ws.version()
    assert copy.incidents().groupby("month").size().to_dict() == {"2024-02": 6641, "2024-03": 7690}


def test_a_workspace_password_never_reaches_the_output(tmp_path):
    url = "postgresql://bob:s3cret@127.0.0.1:1/partnership"  # nothing listens on port 1
    assert police_uk.redact(url) == "postgresql://bob@127.0.0.1:1/partnership"
    config = tmp_path / "monthly.yaml"
    config.write_text(yaml.safe_dump({"workspace": url, "police_uk": {"force": "cleveland",
                                                                      "base_url": "http://127.0.0.1:9"}}))
    for r in (invoke("monthly", config),
              invoke("fetch", "police-uk", "--force", "cleveland", "--from", "2024-01", "--to", "2024-01",
                     "--into", url, "--base-url", "http://127.0.0.1:9")):
        assert r.exit_code == 2 and "cannot use the PostgreSQL workspace" in r.stderr
        assert "s3cret" not in r.stdout + r.stderr


# =========================================================================== the monthly cycle
def _cycle(tmp_path: Path, realdata: Path, url: str, area: str = "Hemlington") -> Path:
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_wgs84.geojson"
    (tmp_path / "paper.yaml").write_text(yaml.safe_dump({
        "title": "Cleveland monthly paper", "data": ["ws.gpkg"],
        "areas": {"wards": {"file": str(wards), "layer": "ward"}},
        "sections": [{"heading": "This month"},
                     {"table": {"areas": "wards", "area": area, "month": "2024-03"}}]}))
    config = tmp_path / "monthly.yaml"
    config.write_text(yaml.safe_dump({
        "workspace": "ws.gpkg",
        "police_uk": {"force": "cleveland", "first_month": "2024-01", "base_url": url},
        "reports": [{"spec": "paper.yaml", "out": ["paper.html", "paper.xlsx"]}]}))
    return config


@pytest.mark.realdata
def test_monthly_fetches_the_new_month_loads_it_rebuilds_the_pack_and_a_second_run_fetches_nothing(realdata, tmp_path):
    ws = tmp_path / "ws.gpkg"
    for m in Q1[:2]:
        assert invoke("ingest", police_csv(realdata, m), "--into", ws).exit_code == 0
    with FakeServices(realdata, months=Q1) as s:
        config = _cycle(tmp_path, realdata, s.url)
        r = invoke("monthly", config)
        assert r.exit_code == 0, (r.stdout, r.stderr)
        lines = r.stdout.strip().splitlines()
        assert [line.split(":")[0] for line in lines] == ["config", "fetch", "load", "report"]
        assert lines[1].startswith("fetch: 1 new month(s) (2024-03): 7,690 incidents fetched in ")
        assert lines[2] == f"load: {ws} 13,202 -> 20,892 incidents (7,690 added, 0 replaced; 2024-03)"
        assert lines[3].startswith("report: paper.yaml: paper.html, paper.xlsx (")
        assert not any(".monthly-" in p.name or p.name.startswith(".hotspot-monthly") for p in tmp_path.iterdir())
        assert workspace.open_workspace(ws).incidents().groupby("month").size().to_dict() == Q1_ROWS
        # the pack is the one `hotspot report` builds from the workspace as it is now
        assert invoke("report", tmp_path / "paper.yaml", "--out", tmp_path / "direct.html").exit_code == 0
        assert (tmp_path / "paper.html").read_text() == (tmp_path / "direct.html").read_text()

        before, html = ws.read_bytes(), (tmp_path / "paper.html").read_bytes()
        seen = len(s.log)
        r2 = invoke("monthly", config, "--format", "json")
        second = s.log[seen:]
    doc = as_json(r2)
    assert [step["summary"] for step in doc["steps"]][1:] == [
        "nothing new: the workspace holds Cleveland Police to 2024-03, police.uk's latest month is 2024-03 (2 requests)",
        "nothing to load", "paper.yaml: up to date (nothing new)"]
    assert doc["months"] == [] and doc["workspace"]["added"] == 0
    assert [line.split("?")[0] for line in second] == ["GET /api/forces/cleveland", "GET /api/crimes-street-dates"]
    assert ws.read_bytes() == before and (tmp_path / "paper.html").read_bytes() == html


@pytest.mark.realdata
def test_monthly_failures_exit_non_zero_and_leave_the_workspace_and_the_pack_as_they_were(realdata, tmp_path):
    ws = tmp_path / "ws.gpkg"
    for m in Q1[:2]:
        assert invoke("ingest", police_csv(realdata, m), "--into", ws).exit_code == 0
    with FakeServices(realdata, months=Q1) as s:
        config = _cycle(tmp_path, realdata, s.url)
        (tmp_path / "paper.html").write_text("last month's paper")
        before = ws.read_bytes()

        # 1. police.uk fails half way
        s.fail("date=2024-03", 500, times=None)
        r = invoke("monthly", config)
        assert r.exit_code == 1
        assert r.stdout.startswith("config: monthly.yaml: workspace ")
        assert r.stderr.strip().splitlines()[-1].startswith(
            "error: fetch: police.uk is not answering: crimes-street 2024-03")
        assert f"the workspace {ws} is unchanged" in r.stderr
        assert ws.read_bytes() == before and (tmp_path / "paper.html").read_text() == "last month's paper"
        s.heal()

        # 2. the pack cannot be built (an area the boundaries do not have): nothing is loaded
        _cycle(tmp_path, realdata, s.url, area="Nowhere Ward")
        r = invoke("monthly", config)
        assert r.exit_code == 2
        assert r.stdout.strip().splitlines()[1].startswith("fetch: 1 new month(s) (2024-03)")
        error = r.stderr.strip().splitlines()[-1]
        assert error.startswith("error: report: paper.yaml: ") and "Nowhere Ward" in error
        assert error.endswith(f"nothing was loaded: the workspace {ws} is unchanged")
        assert ws.read_bytes() == before and (tmp_path / "paper.html").read_text() == "last month's paper"
        assert not any(".monthly-" in p.name for p in tmp_path.iterdir())

        # 3. fixed: the month fetched before is loaded without asking police.uk for it again
        _cycle(tmp_path, realdata, s.url)
        seen = len(s.log)
        r = invoke("monthly", config)
        assert r.exit_code == 0, r.stderr
        assert "(1 month(s) fetched by an earlier run)" in r.stdout
        assert not any("crimes-street/" in line for line in s.log[seen:])
    assert workspace.open_workspace(ws).incidents().groupby("month").size().to_dict() == Q1_ROWS
    assert "last month" not in (tmp_path / "paper.html").read_text()


def test_monthly_config_errors_name_the_key_and_exit_2(tmp_path):
    config = tmp_path / "monthly.yaml"
    config.write_text(yaml.safe_dump({"workspace": "ws.gpkg", "police_uk": {"force": "cleveland", "frist_month": "2024-01"}}))
    r = invoke("monthly", config)
    assert r.exit_code == 2
    assert r.stderr.strip() == (f"error: config: {config}, parameter 'police_uk.frist_month': unknown key; "
                                "use areas, base_url, first_month, force, provider, source")
    config.write_text(yaml.safe_dump({"workspace": "ws.gpkg", "police_uk": {"force": "cleveland"},
                                      "reports": [{"spec": "missing.yaml", "out": "paper.html"}]}))
    r = invoke("monthly", config)
    assert r.exit_code == 2 and "no such report spec" in r.stderr and not (tmp_path / "ws.gpkg").exists()


# =========================================================================== boundaries and population
@pytest.mark.realdata
def test_boundaries_and_population_fetched_give_the_ranking_the_original_files_give(realdata, tmp_path):
    with FakeServices(realdata, months=(), page_max=25) as s:
        geo = s.url + "/arcgis/rest/services"
        wards = as_json(invoke("fetch", "boundaries", "--lad", ",".join(LADS[:2]), "--lad", LADS[2], "--lad", LADS[3],
                               "--out", tmp_path / "wards.geojson", "--base-url", geo, "--format", "json"))
        lsoas = as_json(invoke("fetch", "boundaries", "--lad", ",".join(LADS), "--level", "lsoa",
                               "--out", tmp_path / "lsoa.gpkg", "--base-url", geo, "--format", "json"))
        pop = as_json(invoke("fetch", "population", "--lad", ",".join(LADS), "--out", tmp_path / "pop.csv",
                             "--base-url", s.url + "/nomis/api/v01", "--geography-url", geo, "--format", "json"))
        assert s.count("WD24_LAD24_UK_LU") == 4  # 84 lookup rows in pages of 25
    assert (wards["areas"], wards["lads"], wards["warnings"]) == (83, LADS, [])
    assert lsoas["areas"] == 342 and lsoas["warnings"] == [
        "17 lsoa(s) of the lookup have no boundary in "
        "Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5: "
        + ", ".join(f"E010351{n}" for n in range(88, 100)) + ", "
        + ", ".join(f"E010352{n:02d}" for n in range(0, 5))]
    assert (pop["lsoas"], pop["population"], pop["warnings"]) == (359, 569389, [])
    for name in ("wards.geojson", "lsoa.gpkg", "pop.csv"):
        text = (tmp_path / f"{name}.licence.txt").read_text()
        assert "Open Government Licence v3.0" in text and "Office for National Statistics" in text
    read = ingest.read_boundaries(tmp_path / "wards.geojson", layer="ward")
    assert len(read.areas) == 83 and read.warnings == []

    police = [police_csv(realdata, m) for m in Q1]
    common = ["--by", "LAD24NM", "--category", "asb", "--from", "2024-01", "--to", "2024-03", "--format", "json"]
    fetched = as_json(invoke("rank", *police, "--areas", tmp_path / "wards.geojson", "--population", tmp_path / "pop.csv",
                             "--lsoa-boundaries", tmp_path / "lsoa.gpkg", *common))
    original = as_json(invoke(
        "rank", *police, "--areas", realdata / "wards_2024" / "cleveland_wards_may2024_bsc_wgs84.geojson",
        "--population", realdata / "population" / "census2021_lsoa21_population_cleveland.csv",
        *[x for i in range(1, 5) for x in ("--lsoa-boundaries", realdata / "lsoa_2011" / f"E0600000{i}.json")], *common))
    assert fetched["areas"] == original["areas"]
    assert {a["name"]: a["population"] for a in fetched["areas"]} == {
        "Hartlepool": 92327, "Middlesbrough": 143930, "Redcar and Cleveland": 136520, "Stockton-on-Tees": 196612,
        "outside": None}  # the Census 2021 totals of the four authorities


@pytest.mark.realdata
def test_unknown_or_malformed_authority_codes_are_named(realdata, tmp_path):
    with FakeServices(realdata, months=()) as s:
        geo = s.url + "/arcgis/rest/services"
        r = invoke("fetch", "boundaries", "--lad", "E06000099", "--out", tmp_path / "w.geojson", "--base-url", geo)
        assert r.exit_code == 2
        assert r.stderr.strip().splitlines()[-1] == ("error: parameter 'lad': no wards found for E06000099 in the ONS lookup "
                                    "WD24_LAD24_UK_LU (2024 local authority codes, England and Wales)")
        r = invoke("fetch", "population", "--lad", "Hartlepool", "--out", tmp_path / "p.csv", "--base-url", s.url)
        assert r.exit_code == 2
        assert r.stderr.strip() == "error: parameter 'lad': 'Hartlepool' is not a local authority code (e.g. E06000001)"
        # in the lookup, but the boundary service has no polygon for it: the service is at fault
        r = invoke("fetch", "boundaries", "--lad", "E06000005", "--out", tmp_path / "w.geojson", "--base-url", geo)
        assert r.exit_code == 1
        assert r.stderr.strip().splitlines()[-1] == \
            "error: the ONS geography service sent no ward boundaries for E06000005"
        assert s.count("/nomis/") == 0
    assert not list(tmp_path.iterdir())
