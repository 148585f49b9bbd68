"""patrol.py: the randomised schedule keeps its promises (visits, comparison days balanced by
weekday, seeded), delivered dosage from a constructed patrol log is exact, patrol days against
comparison days, the sheet escapes user text, and the CLI `patrol-plan` / `evaluate
--patrol-log` contracts."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot_app.core import locations, patrol, settings
from hotspot_app.core.errors import InputError


def _areas(n=3, side=100.0):
    """n square patrol areas (side metres) near Middlesbrough, ranked 1..n."""
    geoms = [shapely.box(449000 + 1000 * i, 519000, 449000 + 1000 * i + side, 519000 + side) for i in range(n)]
    return gpd.GeoDataFrame({"rank": range(1, n + 1), "cluster_id": range(1, n + 1),
                             "name": [f"On or near Street {i + 1}" for i in range(n)],
                             "count": [50 - 10 * i for i in range(n)]},
                            geometry=geoms, crs=settings.CRS)


def test_schedule_gives_each_area_its_visits_and_comparison_days():
    plan = patrol.make_plan(_areas(3), top=5, visits_per_day=2, minutes=15, days=28,
                            start="2025-03-03", seed=1, hours=(10, 22))
    s = plan.schedule
    assert len(s) == 3 * 28 and s["date"].min() == "2025-03-03" and s["date"].max() == "2025-03-30"
    for rank, sub in s.groupby("rank"):
        assert (sub["day_type"] == "patrol").sum() == 14 and (sub["day_type"] == "comparison").sum() == 14
        # balanced within each weekday: 28 days = 4 of each weekday -> 2 patrol, 2 comparison
        per_wd = sub.groupby("weekday")["day_type"].apply(lambda d: (d == "patrol").sum())
        assert per_wd.tolist() == [2] * 7
        patrol_days = sub[sub["day_type"] == "patrol"]
        assert patrol_days["planned_visits"].sum() == 28 and patrol_days["planned_minutes"].sum() == 28 * 15
        for times in patrol_days["times"]:
            mins = [int(t[:2]) * 60 + int(t[3:]) for t in times.split(", ")]
            assert len(mins) == 2 and mins[0] >= 600 and mins[1] + 15 <= 22 * 60
            assert mins[1] - mins[0] >= 15 and all(m % 5 == 0 for m in mins)
        comp = sub[sub["day_type"] == "comparison"]
        assert (comp["planned_visits"] == 0).all() and (comp["times"] == "").all()
    summ = plan.summary()
    assert summ[["patrol_days", "comparison_days", "planned_visits", "planned_minutes"]].values.tolist() == \
        [[14, 14, 28, 420]] * 3
    # seeded: reproducible, and another seed gives another schedule
    again = patrol.make_plan(_areas(3), days=28, start="2025-03-03", seed=1)
    pd.testing.assert_frame_equal(again.schedule, s)
    other = patrol.make_plan(_areas(3), days=28, start="2025-03-03", seed=2)
    assert not other.schedule["day_type"].equals(s["day_type"])


def test_schedule_odd_lengths_and_top():
    plan = patrol.make_plan(_areas(6), top=4, visits_per_day=3, days=10, start="2025-03-03", seed=7,
                            comparison_share=0.3)
    s = plan.schedule
    assert sorted(s["rank"].unique()) == [1, 2, 3, 4]
    for _, sub in s.groupby("rank"):
        assert (sub["day_type"] == "comparison").sum() == 3 and (sub["day_type"] == "patrol").sum() == 7
        assert sub["planned_visits"].sum() == 21
    none = patrol.make_plan(_areas(1), days=7, start="2025-03-03", comparison_share=0.0)
    assert (none.schedule["day_type"] == "patrol").all()
    assert any("no comparison days" in w for w in none.warnings)


def test_plan_rejects_bad_parameters():
    with pytest.raises(InputError, match="visits_per_day"):
        patrol.make_plan(_areas(1), visits_per_day=10, minutes=90, hours=(10, 12))
    with pytest.raises(InputError, match="days"):
        patrol.make_plan(_areas(1), days=0)
    with pytest.raises(InputError, match="no patrol areas"):
        patrol.make_plan(_areas(1).iloc[0:0])


def test_contract_columns_fill_missing_and_keep_present():
    a = _areas(2)
    a.loc[1, "geometry"] = shapely.box(449000, 519000, 449600, 519600)  # 0.36 km²
    out = patrol.contract_columns(a)
    assert out["area_m2"].round().tolist() == [10000.0, 360000.0]
    assert out["area_ha"].round(2).tolist() == [1.0, 36.0]
    assert out["incidents_per_ha"].round(2).tolist() == [50.0, round(40 / 36, 2)]
    assert out["walkable"].tolist() == [True, False]
    assert out["grid_ref"].iloc[0] == "NZ 4905 1905"  # representative point of the 100 m box: (449050, 519050)
    # the plan warns with clusters' one not-walkable rule and words
    assert ("area #2 (0.36 km²) is larger than a walkable patrol area (0.25 km²): lower eps_m (now 75)"
            in patrol.make_plan(a, top=2, eps_m=75).warnings)
    kept = patrol.contract_columns(a.assign(grid_ref=["X", "Y"], walkable=[False, False]))
    assert kept["grid_ref"].tolist() == ["X", "Y"] and kept["walkable"].tolist() == [False, False]
    assert locations.grid_ref(449250.0, 519930.0) == "NZ 4925 1993"
    assert locations.grid_ref(530000, 180000) == "TQ 3000 8000"


def _small_plan():
    """Hand-made 4-day plan for two areas."""
    rows = []
    for area, types in (("Street 1", ["patrol", "comparison", "patrol", "comparison"]),
                        ("Street 2", ["comparison", "patrol", "patrol", "comparison"])):
        for d, t in zip(pd.date_range("2025-03-03", periods=4), types):
            rows.append({"date": d.strftime("%Y-%m-%d"), "rank": 1 if area == "Street 1" else 2,
                         "area": area, "day_type": t, "planned_visits": 2 if t == "patrol" else 0,
                         "planned_minutes": 30 if t == "patrol" else 0})
    return pd.DataFrame(rows)


def test_delivered_dosage_from_a_visits_log_exact(tmp_path):
    log_csv = tmp_path / "log.csv"
    log_csv.write_text("Date,Area,Minutes\n"
                       "2025-03-03,street 1,15\n"
                       "03/03/2025,Street 1,10\n"       # UK day-first
                       "2025-03-05,Street 1,20\n"
                       "2025-03-04,Street 1,15\n"       # a comparison day
                       "2025-03-04,2,12\n"              # by rank
                       "2025-03-09,Street 2,15\n",      # outside the plan
                       encoding="utf-8")
    log = patrol.read_patrol_log(log_csv)
    assert len(log.visits) == 6 and log.plan is None  # one row per (date, area as written)
    d = patrol.delivered_dosage(log, _small_plan()).set_index("area")
    s1, s2 = d.loc["Street 1"], d.loc["Street 2"]
    assert (s1["patrol_days"], s1["comparison_days"], s1["planned_visits"], s1["planned_minutes"]) == (2, 2, 4, 60)
    assert (s1["visits_done"], s1["minutes_done"], s1["visits_pct"], s1["minutes_pct"]) == (4.0, 60.0, 100.0, 100.0)
    assert (s1["visits_on_comparison_days"], s1["visits_outside_plan"], s1["days_recorded"]) == (1.0, 0.0, 3)
    assert (s2["visits_done"], s2["minutes_done"], s2["visits_pct"], s2["minutes_pct"]) == (1.0, 12.0, 25.0, 20.0)
    assert (s2["visits_outside_plan"], s2["visits_on_comparison_days"]) == (1.0, 0.0)


def test_filled_in_plan_is_a_log_and_blank_is_not_zero(tmp_path):
    plan = patrol.make_plan(_areas(2), days=4, start="2025-03-03", seed=3, comparison_share=0.5)
    sched = plan.schedule.copy()
    first = sched.index[(sched["rank"] == 1) & (sched["day_type"] == "patrol")]
    sched.loc[first[0], ["visits_done", "minutes_done"]] = [2, 25]
    sched.loc[first[1], ["visits_done", "minutes_done"]] = [1, 15]
    path = tmp_path / "filled.csv"
    path.write_bytes(pd.DataFrame(sched).to_csv(index=False).encode())
    log = patrol.read_patrol_log(path)
    assert log.plan is not None and len(log.visits) == 2
    d = patrol.delivered_dosage(log).set_index("area")
    one, two = d.loc["On or near Street 1"], d.loc["On or near Street 2"]
    assert (one["planned_visits"], one["visits_done"], one["minutes_done"], one["visits_pct"]) == (4, 3.0, 40.0, 75.0)
    assert one["minutes_pct"] == round(100 * 40 / 60, 1)
    # nothing recorded for area 2: null, never 0
    assert two["days_recorded"] == 0 and pd.isna(two["visits_done"]) and pd.isna(two["visits_pct"])


def test_patrol_log_errors_name_row_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,area,minutes\n2025-03-03,Street 1,15\nnot a day,Street 1,15\n")
    with pytest.raises(InputError) as e:
        patrol.read_patrol_log(bad)
    assert e.value.row == 2 and e.value.column == "date" and "bad.csv" in str(e.value)
    neg = tmp_path / "neg.csv"
    neg.write_text("date,area,minutes\n2025-03-03,Street 1,-5\n")
    with pytest.raises(InputError, match="minutes"):
        patrol.read_patrol_log(neg)
    # an area the plan does not have is listed with the reason, not an error that hides the rest
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("date,area\n2025-03-03,Nowhere Lane\n2025-03-03,Street 1\n")
    log = patrol.read_patrol_log(unknown)
    assert patrol.delivered_dosage(log, _small_plan()).set_index("area").loc["Street 1", "visits_done"] == 1.0
    out = patrol.outside_plan(log, _small_plan())
    assert out[["date", "area", "visits"]].values.tolist() == [["2025-03-03", "Nowhere Lane", 1.0]]
    assert out["reason"].iloc[0].startswith("'Nowhere Lane' is not one of the plan's areas")


def test_patrol_days_against_comparison_days_exact():
    area = shapely.box(0, 0, 100, 100)
    pts = [(10, 10, "2025-03-03 10:00"), (20, 20, "2025-03-03 23:00"), (30, 30, "2025-03-04 12:00"),
           (40, 40, "2025-03-05 09:00"), (50, 50, "2025-03-06 01:00"), (60, 60, "2025-03-06 02:00"),
           (500, 500, "2025-03-03 10:00")]  # outside
    inc = gpd.GeoDataFrame({"occurred": pd.to_datetime([p[2] for p in pts]), "month": "2025-03"},
                           geometry=[shapely.Point(p[0], p[1]) for p in pts], crs=settings.CRS)
    days = _small_plan()
    days = days[days["area"] == "Street 1"]  # patrol 3rd, 5th; comparison 4th, 6th
    out = patrol.patrol_day_comparison(inc, area, days, name="Street 1")
    assert (out["patrol_days"], out["comparison_days"]) == (2, 2)
    assert (out["incidents_patrol_days"], out["incidents_comparison_days"]) == (3, 3)
    assert (out["per_patrol_day"], out["per_comparison_day"], out["rate_ratio"]) == (1.5, 1.5, 1.0)
    months_only = inc.assign(occurred=pd.NaT)
    mo = patrol.patrol_day_comparison(months_only, area, days)
    assert mo["incidents_patrol_days"] is None and "months only" in mo["reason"]


def test_sheet_escapes_user_text_and_csv_neutralises():
    a = _areas(2)
    a.loc[0, "name"] = "<script>alert(1)</script> & =HYPERLINK(\"x\")"
    plan = patrol.make_plan(a, days=7, start="2025-03-03", seed=1)
    page = patrol_sheet.sheet_html(plan, title="Plan <b>x</b>", map_png=b"\x89PNG", period="2024-01..2024-12")
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "Plan &lt;b&gt;x&lt;/b&gt;" in page
    assert "data:image/png;base64," in page and "@page" in page
    csv = patrol_sheet.plan_csv(plan).decode()
    assert "'=HYPERLINK" not in csv  # the name starts with '<', not a formula prefix
    b = _areas(1)
    b.loc[0, "name"] = "=cmd|' /C calc'!A0"
    csv2 = patrol_sheet.plan_csv(patrol.make_plan(b, days=2, start="2025-03-03")).decode()
    assert "'=cmd" in csv2


# --------------------------------------------------------------------------- CLI
from typer.testing import CliRunner  # noqa: E402

from hotspot_app.core import schema
from hotspot_app.io import workspace  # noqa: E402
from hotspot_app.cli import app  # noqa: E402
from hotspot_app.core import summaries
from hotspot_app.render import patrol_sheet

runner = CliRunner()


@pytest.fixture
def planted_ws(tmp_path):
    """Three planted ASB clusters (60, 40 and 30 incidents within 20 m) with dates in March
    2025, plus scattered noise, in a workspace GeoPackage."""
    rng = np.random.default_rng(0)
    rows = []
    centres = [(449000, 519000, 60), (451000, 519000, 40), (453000, 519000, 30)]
    for cx, cy, n in centres:
        for k in range(n):
            rows.append((cx + rng.uniform(-20, 20), cy + rng.uniform(-20, 20),
                         pd.Timestamp("2025-03-03") + pd.Timedelta(hours=int(rng.integers(0, 28 * 24)))))
    for k in range(20):
        rows.append((440000 + 800 * k, 530000, pd.Timestamp("2025-03-10 12:00")))
    df = pd.DataFrame(rows, columns=["x", "y", "occurred"])
    df["category"] = "Anti-social behaviour"
    inc = schema.make_incidents(df)
    path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(path).write_incidents(inc)
    return path, inc


def test_cli_patrol_plan_json_csv_and_sheet(planted_ws, tmp_path):
    ws, _ = planted_ws
    out, sheet = tmp_path / "plan.csv", tmp_path / "sheet.html"
    r = runner.invoke(app, ["patrol-plan", str(ws), "--category", "asb", "--from", "2025-03", "--to", "2025-03",
                            "--eps-m", "50", "--min-samples", "10", "--top", "2", "--visits-per-day", "3",
                            "--days", "14", "--start", "2025-04-07", "--seed", "4", "--out", str(out),
                            "--sheet", str(sheet), "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [a["rank"] for a in doc["areas"]] == [1, 2] and [a["count"] for a in doc["areas"]] == [60, 40]
    for a in doc["areas"]:
        assert (a["patrol_days"], a["comparison_days"], a["planned_visits"], a["planned_minutes"]) == (7, 7, 21, 315)
    assert doc["start"] == "2025-04-07" and doc["seed"] == 4 and doc["minutes_per_visit"] == 15
    assert doc["parameters"]["eps_m"] == 50.0 and doc["parameters"]["min_samples"] == 10
    plan = pd.read_csv(out)
    assert len(plan) == 28 and set(plan["day_type"]) == {"patrol", "comparison"}
    assert plan["visits_done"].isna().all()
    text = sheet.read_text()
    assert "Patrol sheet" in text and "data:image/png;base64," in text
    # same seed, same plan
    r2 = runner.invoke(app, ["patrol-plan", str(ws), "--category", "asb", "--eps-m", "50", "--min-samples", "10",
                             "--top", "2", "--visits-per-day", "3", "--days", "14", "--start", "2025-04-07",
                             "--seed", "4", "--out", str(tmp_path / "again.csv")])
    assert r2.exit_code == 0 and (tmp_path / "again.csv").read_bytes() == out.read_bytes()


def test_cli_patrol_plan_bad_input_exits_2(planted_ws, tmp_path):
    ws, _ = planted_ws
    r = runner.invoke(app, ["patrol-plan", str(ws), "--preset", "village"])
    assert r.exit_code == 2 and "unknown preset 'village'" in r.output
    r = runner.invoke(app, ["patrol-plan", str(ws), "--out", str(ws)])
    assert r.exit_code == 2 and "is an input" in r.output
    r = runner.invoke(app, ["patrol-plan", str(ws), "--hours", "ten"])
    assert r.exit_code == 2 and "--hours" in r.output


def test_cli_evaluate_patrol_log_exact(planted_ws, tmp_path):
    ws, inc = planted_ws
    areas = gpd.GeoDataFrame({"name": ["Street One"]}, geometry=[shapely.box(448950, 518950, 449050, 519050)],
                             crs=settings.CRS)
    area_file = tmp_path / "area.geojson"
    areas.to_crs(settings.CRS_WGS84).to_file(area_file, driver="GeoJSON")
    log = tmp_path / "log.csv"
    # patrol days: 3, 5, 7 March (a visit logged); comparison days: 4 and 6 March
    log.write_text("date,area,minutes\n2025-03-03,Street One,15\n2025-03-05,Street One,10\n"
                   "2025-03-05,Street One,15\n2025-03-07,Street One,20\n")
    r = runner.invoke(app, ["evaluate", str(ws), "--area", str(area_file), "--after", "2025-03..2025-03",
                            "--patrol-log", str(log), "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    p = doc["patrol"]
    assert p["dosage"] == [{"area": "Street One", "days_recorded": 3, "visits_done": 4.0, "minutes_done": 60.0}]
    occ = pd.to_datetime(inc["occurred"]).dt.normalize()
    inside = inc.geometry.within(areas.geometry.iloc[0])
    day = lambda d: int((inside & (occ == pd.Timestamp(d))).sum())  # noqa: E731
    exp_p = day("2025-03-03") + day("2025-03-05") + day("2025-03-07")
    exp_c = day("2025-03-04") + day("2025-03-06")
    d = p["days"]
    assert (d["patrol_days"], d["comparison_days"]) == (3, 2)
    assert (d["incidents_patrol_days"], d["incidents_comparison_days"]) == (exp_p, exp_c)
    assert exp_p + exp_c > 0
    # the other evaluate keys are unchanged
    assert {"area", "after", "before", "pct_change", "warnings"} <= set(doc)


# --------------------------------------------------------------------------- app pages (AppTest)
def _page(name):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "streamlit_app.py"), default_timeout=240)
    at.run()
    at.switch_page(f"hotspot_app/ui/pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def test_patrol_page_schedule_and_log_upload_give_exact_dosage():
    at = _page("patrol_plan")
    summary = at.dataframe[0].value
    assert summary[["patrol_days", "comparison_days", "planned_visits", "planned_minutes"]].values.tolist() == \
        [[14, 14, 28, 420]] * 5
    day_lines = [m.value for m in at.markdown if m.value.lstrip("*").startswith("#")]
    assert len(day_lines) == 5  # the day's visits first, one line per area
    # the plan's heading reads as the other pages do: 'ASB' and month names, not codes; it names
    # the preset and its parameters (design §5c)
    assert any(c.value == ("Top 5 patrol areas for ASB, April 2023 to March 2024 (street-level preset: "
                           "incidents within 75 m, at least 25 of them).")
               for c in at.caption), [c.value for c in at.caption]
    start = at.date_input(key="pp-start").value.isoformat()
    name = summary["area"].iloc[0]
    log = f"date,area,minutes\n{start},{name},15\n{start},{name},12\n".encode()
    at.file_uploader(key="pp-log").set_value(("log.csv", log, "text/csv")).run()
    assert not at.exception, at.exception
    dose = at.dataframe[1].value.set_index("Area")  # readable headings
    row = dose.loc[name]
    assert (row["Visits planned"], row["Visits done"], row["Minutes done"]) == (28, 2.0, 27.0)
    assert row["Visits done (% of planned)"] == 7.1 and row["Minutes done (% of planned)"] == round(100 * 27 / 420, 1)
    # the demo's ASB has months only: patrol vs comparison days cannot be compared, and it says so
    assert any("months only" in i.value for i in at.info)


def test_fires_page_ward_month_table_and_when(demo):
    at = _page("fires")
    wm = [d.value for d in at.dataframe if "ward" in d.value.columns and "Total" in d.value.columns][0]
    total = int(wm.set_index("ward").loc["Total", "Total"])
    inc = demo.incidents
    from hotspot_app.core import periods, taxonomy

    window = periods.window(inc["month"].max(), 12)
    assert total == int((taxonomy.select(inc, "deliberate-fires") & inc["month"].isin(window)).sum())
    assert any(m.value.startswith("Busiest 3 hours:") for m in at.markdown)  # fire records have times


def test_hotspots_page_says_why_police_uk_has_no_hours():
    at = _page("hotspots")
    assert any("police.uk publishes months only" in i.value for i in at.info)


def test_data_page_says_how_precise_uploaded_fire_locations_are(realdata, tmp_path, monkeypatch):
    import glob

    from hotspot_app.core import settings as st_settings

    monkeypatch.setattr(st_settings, "DATA_DIR", tmp_path)
    files = glob.glob(str(realdata / "fire" / "afrs_*.csv"))
    at = _page("data")
    at.file_uploader(key="dt-inc-files").set_value([(p.split("/")[-1], open(p, "rb").read(), "text/csv")
                                                   for p in files]).run()
    assert not at.exception, at.exception
    assert any("1,084 of 1,084 fire locations are only precise to about 1 km" in w.value for w in at.warning)


def test_hotspots_page_concentration_and_harm_check_after_the_clusters_merge(demo):
    """Runs once the clusters branch's concentration.py and harm.py are in: the page's sentence is
    the core's for the wards at N = Top, and the harm option shows the low/high check."""
    from hotspot_app.core import concentration, harm
    from hotspot_app.core import periods

    at = _page("hotspots")
    inc = demo.incidents
    window = periods.window(inc["month"].max(), 12)
    ranking, _ = summaries.rank_areas(inc, demo.wards, category=["asb"], months=window)
    counts = demo.wards["area_id"].map(ranking.set_index("area_id")["count"]).fillna(0)
    expected = concentration.sentence(counts.to_numpy(), demo.wards.geometry.area.to_numpy(), 5,
                                      what="ASB", places="wards")
    assert any(m.value == f"**{expected}**" for m in at.markdown)
    at.radio(key="hs-rank").set_value("harm").run()
    assert not at.exception, at.exception
    texts = [e.value for e in list(at.success) + list(at.warning)]
    assert any(t.startswith("The top 5 by harm") for t in texts)
    assert len(at.dataframe[0].value) == 5 and "weight" in at.dataframe[0].value.columns
    assert harm.table()["category"].tolist() == [d for d in at.dataframe if "source" in d.value.columns][0] \
        .value["category"].tolist()
