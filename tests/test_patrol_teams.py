"""A place chosen and a plan a team can walk (issue 21 items 1-2): `--within` picks a place's
own patrol areas, names read as places (proper case, authority, told apart, a grid reference
where there is no street), teams are never in two places at once, every day has a patrol, and
each plan draws a fresh seed that it records so `--seed` reproduces it."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from hotspot_app.core import areas as areas_mod, cluster_areas, patrol, schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.questions import patrol_areas, patrol_plan

X0, Y0 = 450_000.0, 517_800.0


def make(xy, location=None):
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    data = {"category": ["Anti-social behaviour"] * n, "month": ["2024-01"] * n}
    if location is not None:
        data["location"] = location
    return schema.make_incidents(pd.DataFrame(data), x=xy[:, 0], y=xy[:, 1])


def two_towns():
    """Two wards called 'Central' in two authorities (North, South), 10 km apart. North holds the
    three biggest clusters (40, 35, 30 incidents), South two smaller ones (20, 12)."""
    wards = gpd.GeoDataFrame(
        {"name": ["Central", "Central", "Park"], "layer": ["ward"] * 3,
         "LAD24NM": ["North", "South", "South"]},
        geometry=[box(X0 - 2000, Y0 - 2000, X0 + 2000, Y0 + 2000),
                  box(X0 + 8000, Y0 - 2000, X0 + 12000, Y0 + 2000),
                  box(X0 + 12000, Y0 - 2000, X0 + 16000, Y0 + 2000)], crs=settings.CRS)
    pts = ([(X0 - 1000, Y0)] * 40 + [(X0, Y0)] * 35 + [(X0 + 1000, Y0)] * 30
           + [(X0 + 10000, Y0)] * 20 + [(X0 + 10000, Y0 + 1000)] * 12)
    loc = (["On or near St Paul'S Street"] * 40 + ["On or near Market Street"] * 35
           + ["On or near Market Street"] * 30 + ["On or near Bus Station"] * 20 + [""] * 12)
    return make(pts, loc), wards


def test_pick_by_field_or_names_and_errors_name_within():
    _, wards = two_towns()
    assert areas_mod.pick(wards, "LAD24NM=South")["name"].tolist() == ["Central", "Park"]
    assert areas_mod.pick(wards, "lad24nm=north,south")["LAD24NM"].tolist() == ["North", "South", "South"]
    assert areas_mod.pick(wards, "park")["LAD24NM"].tolist() == ["South"]
    assert areas_mod.pick(wards, ["LAD24NM=South", "Central"])["LAD24NM"].tolist() == ["South"]
    assert areas_mod.authority_column(wards) == "LAD24NM"
    for bad, words in (("LAD99NM=North", "no field 'LAD99NM'"), ("LAD24NM=East", "no area with LAD24NM 'East'"),
                       ("Nowhere", "no area with name 'Nowhere'"), ("LAD24NM=", "names no area")):
        with pytest.raises(InputError, match=words) as err:
            areas_mod.pick(wards, bad)
        assert err.value.parameter == "within"
    with pytest.raises(InputError, match="boundary layer") as err:
        areas_mod.pick(None, "Park")
    assert err.value.parameter == "within"


def test_within_gives_the_place_its_own_top_areas_with_readable_names():
    incidents, wards = two_towns()
    everywhere = patrol_areas.patrol_areas(incidents, eps_m=50, min_samples=10, areas=wards)
    names = everywhere.areas["name"].tolist()
    # proper case, the authority because two wards are called Central, told apart by grid reference
    assert names[0] == "On or near St Paul's Street — Central ward, North"
    assert names[1] == "On or near Market Street — Central ward, North (NZ 5000 1780)"
    assert names[2] == "On or near Market Street — Central ward, North (NZ 5100 1780)"
    # no location text: named by its grid reference and ward
    assert names[4] == "Near NZ 6000 1880 — Central ward, South"
    south = patrol_areas.patrol_areas(incidents, eps_m=50, min_samples=10, areas=wards,
                                      within="LAD24NM=South", top=5)
    assert south.areas["count"].tolist() == [20, 12] and south.n_incidents == 32
    assert south.areas["name"].tolist()[0] == "On or near Bus Station — Central ward, South"
    assert south.to_dict()["parameters"]["within"] == "LAD24NM=South"


def spread_areas(n=6, apart=2000.0):
    geoms = [box(X0 + apart * i, Y0, X0 + apart * i + 80, Y0 + 80) for i in range(n)]
    return gpd.GeoDataFrame({"rank": range(1, n + 1), "name": [f"On or near Street {i + 1}" for i in range(n)],
                             "count": [60 - i for i in range(n)]}, geometry=geoms, crs=settings.CRS)


def test_no_team_is_in_two_places_at_once_and_teams_share_the_areas():
    # 6 areas 2 km apart, walking: 2.6 km of street = 32.5 minutes between neighbours
    plan = patrol.make_plan(spread_areas(), top=None, visits_per_day=2, minutes=15, days=14,
                            start="2025-03-03", seed=5, teams=2, travel="walking")
    s = plan.schedule
    assert s.groupby("rank")["team"].first().tolist() == [1, 2, 1, 2, 1, 2]
    assert plan.conflicts() == []
    for (date, team), day in s[s["times"] != ""].groupby(["date", "team"]):
        visits = sorted((int(t[:2]) * 60 + int(t[3:]), r) for r, ts in zip(day["rank"], day["times"])
                        for t in ts.split(", "))
        for (t1, r1), (t2, r2) in zip(visits, visits[1:]):
            apart = abs(r1 - r2) * 2000.0 * patrol.ROUTE_FACTOR / patrol.TRAVEL_M_PER_MIN["walking"]
            assert t2 - t1 >= 15 + (apart if r1 != r2 else 0)
    doc = plan.to_dict()
    assert (doc["teams"], doc["travel"], doc["conflicts"]) == (2, "walking", 0)
    assert [a["team"] for a in doc["areas"]] == [1, 2, 1, 2, 1, 2]
    # the checker finds a team sent to two areas 4 km apart 20 minutes apart
    clash = pd.DataFrame({"date": ["2025-03-03"] * 2, "team": [1, 1], "rank": [1, 3],
                          "times": ["15:40", "16:00"]})
    assert patrol.schedule_conflicts(clash, spread_areas(), 15, "walking") == [
        {"date": "2025-03-03", "team": 1, "first": 1, "second": 3, "gap_minutes": 20,
         "needed_minutes": 80.0}]


def test_a_team_that_cannot_fit_its_visits_is_told_to_add_a_team():
    with pytest.raises(InputError, match="add a team") as err:
        patrol.make_plan(spread_areas(6, apart=5000.0), top=None, visits_per_day=4, days=7,
                         start="2025-03-03", seed=1, travel="walking", hours=(10, 14))
    assert err.value.parameter == "teams"
    with pytest.raises(InputError, match="travel"):
        patrol.make_plan(spread_areas(2), travel="cycling")


def test_every_day_has_a_patrol_and_counts_stay_balanced():
    for seed in range(20):
        plan = patrol.make_plan(spread_areas(2), top=None, days=28, start="2025-03-03", seed=seed)
        s = plan.schedule
        per_day = s.groupby("date")["day_type"].apply(lambda d: (d == "patrol").any())
        assert per_day.all(), seed
        for _, sub in s.groupby("rank"):
            assert (sub["day_type"] == "comparison").sum() == 14
            assert sub.groupby("weekday")["day_type"].apply(lambda d: (d == "patrol").sum()).tolist() == [2] * 7


def test_each_plan_draws_a_fresh_seed_that_reproduces_it():
    incidents, wards = two_towns()
    kw = dict(eps_m=50, min_samples=10, areas=wards, start="2025-03-03", days=14)
    first = patrol_plan.patrol_plan(incidents, **kw)
    second = patrol_plan.patrol_plan(incidents, **kw)
    assert first.seed != second.seed
    assert not first.schedule["times"].equals(second.schedule["times"])
    again = patrol_plan.patrol_plan(incidents, seed=first.seed, **kw)
    pd.testing.assert_frame_equal(again.schedule, first.schedule)
    picked = patrol_plan.patrol_plan(incidents, ranks=[2, 4], seed=1, **kw)
    assert picked.areas["rank"].tolist() == [2, 4]
    with pytest.raises(InputError, match="no patrol area #9") as err:
        patrol_plan.patrol_plan(incidents, ranks=[9], seed=1, **kw)
    assert err.value.parameter == "ranks"


def test_a_plan_on_areas_already_found_is_the_questions_plan():
    """The Patrol plan page plans on the patrol areas it has shown (`plan_for`): the same schedule,
    areas, warnings and parameters as `patrol_plan` with the same arguments and seed."""
    incidents, wards = two_towns()
    kw = dict(eps_m=50, min_samples=10, areas=wards)
    sched = dict(start="2025-03-03", days=14, seed=7, teams=2)
    for ranks, top in (([2, 4], None), (None, 3)):
        direct = patrol_plan.patrol_plan(incidents, ranks=ranks, top=top, **kw, **sched)
        found = patrol_areas.patrol_areas(incidents, top=None if ranks else top, **kw)
        shown = patrol_plan.plan_for(found, ranks=ranks, top=top, **sched)
        pd.testing.assert_frame_equal(shown.schedule, direct.schedule)
        assert shown.areas["rank"].tolist() == direct.areas["rank"].tolist()
        assert (shown.warnings, shown.parameters, shown.seed) == (direct.warnings, direct.parameters, 7)


def test_proper_case_and_unique_names():
    assert cluster_areas.proper_case("On or near St Paul'S Street") == "On or near St Paul's Street"
    assert cluster_areas.proper_case("O'Sullivan Road") == "O'Sullivan Road"
    assert cluster_areas.unique_names(["A", "B", "A"], ["NZ 1", None, "NZ 2"], [1, 2, 3]) == \
        ["A (NZ 1)", "B", "A (NZ 2)"]


# =========================================================================== the inspector's CLI
@pytest.mark.realdata
def test_hartlepool_plan_from_the_cli_on_real_data(realdata, tmp_path):
    from typer.testing import CliRunner

    from hotspot_app.cli import app

    files = sorted((realdata / "police_cleveland").glob("2024-*-cleveland-street.csv"))
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if len(files) < 12 or not wards.exists():
        pytest.skip("Cleveland 2024 files or May 2024 wards missing from ../shared/realdata")
    folder = tmp_path / "police"
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    runner = CliRunner()

    def plan(*extra):
        r = runner.invoke(app, ["patrol-plan", str(folder), "--areas", str(wards), "--within",
                                "LAD24NM=Hartlepool", "--top", "5", "--format", "json", *extra])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout[r.stdout.index("{"):])

    one = plan("--start", "2026-01-05", "--out", str(tmp_path / "one.csv"))
    later = plan("--start", "2026-01-12", "--out", str(tmp_path / "later.csv"))
    assert len(one["areas"]) == 5 and all(a["name"].endswith(", Hartlepool") or ", Hartlepool (" in a["name"]
                                          for a in one["areas"])
    assert one["conflicts"] == 0 and later["conflicts"] == 0 and one["teams"] == 1
    a = pd.read_csv(tmp_path / "one.csv", dtype=str, keep_default_na=False)
    b = pd.read_csv(tmp_path / "later.csv", dtype=str, keep_default_na=False)
    assert set(a["team"]) == {"1"}
    assert one["seed"] != later["seed"]
    assert a["times"].tolist() != b["times"].tolist()
    # the same seed a week later: the same schedule shifted by a week
    same = plan("--start", "2026-01-12", "--seed", str(one["seed"]), "--out", str(tmp_path / "same.csv"))
    c = pd.read_csv(tmp_path / "same.csv", dtype=str, keep_default_na=False)
    assert same["seed"] == one["seed"] and c["times"].tolist() == a["times"].tolist()
    assert c["day_type"].tolist() == a["day_type"].tolist()


# =========================================================================== patrol logs
def test_log_matches_name_rank_grid_ref_or_street_and_says_why_a_visit_is_not_counted(tmp_path):
    plan = patrol.make_plan(spread_areas(3), top=None, days=7, start="2025-12-01", seed=2,
                            comparison_share=0.0)
    g2 = plan.schedule.loc[plan.schedule["rank"] == 2, "grid_ref"].iloc[0]
    csv = tmp_path / "log.csv"
    csv.write_text("Date,Area,Minutes\n"
                   "2025-12-01,on or near street 1,15\n"       # name, any case
                   f"2025-12-01,{g2.replace(' ', '')},12\n"      # grid reference, spaces dropped
                   "2025-12-02,#3,10\n"                         # rank
                   "2025-12-02,Street 1,15\n"                   # the street alone
                   "2025-11-28,Street 1,15\n"                   # before the plan
                   "2025-12-09,Street 1,15\n"                   # after it
                   "2025-12-03,Nowhere Lane,15\n", encoding="utf-8")
    log = patrol.read_patrol_log(csv)
    d = patrol.delivered_dosage(log, plan).set_index("area")
    assert d["visits_done"].tolist() == [2.0, 1.0, 1.0] and d["minutes_done"].tolist() == [30.0, 12.0, 10.0]
    assert d["visits_outside_plan"].tolist() == [2.0, 0.0, 0.0]
    out = patrol.outside_plan(log, plan)
    assert out[["date", "area"]].values.tolist() == [["2025-11-28", "Street 1"], ["2025-12-03", "Nowhere Lane"],
                                                     ["2025-12-09", "Street 1"]]
    assert out["reason"].tolist() == [
        "before the plan starts: the plan runs 01 Dec 2025 to 07 Dec 2025",
        "'Nowhere Lane' is not one of the plan's areas (give its name, rank or grid reference)",
        "after the plan ends: the plan runs 01 Dec 2025 to 07 Dec 2025"]
    assert set(patrol.DOSAGE_HEADINGS) == set(d.reset_index().columns)


def test_a_months_log_is_read_against_its_own_months_plan():
    plan = patrol.make_plan(spread_areas(2), top=None, days=28, start="2025-12-01", seed=2)
    november = patrol.read_patrol_log(pd.DataFrame({"date": ["2025-11-03", "2025-11-20"],
                                                    "area": ["1", "2"]}))
    assert patrol_plan.log_window(november, plan) == ("2025-11-03", 28)
    december = patrol.read_patrol_log(pd.DataFrame({"date": ["2025-11-30", "2025-12-02"], "area": ["1", "2"]}))
    assert patrol_plan.log_window(december, plan) is None
    long = patrol.read_patrol_log(pd.DataFrame({"date": ["2025-09-01", "2025-10-31"], "area": ["1", "2"]}))
    assert patrol_plan.log_window(long, plan) == ("2025-09-01", 61)
