"""Patrol days against comparison days (issue 19): constructed daily data with a planted
patrol-day effect, a planted next-day carry-over and a planted dose-response; month-only data
give the reason instead of figures."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from hotspot_app.core import patrol, schema, settings
from hotspot_app.core.evaluation import crossover as cx
from hotspot_app.core.errors import InputError

CENTRES = {"Market Square": (450_000.0, 515_000.0), "Station Road": (452_000.0, 515_000.0)}
AREAS = gpd.GeoDataFrame({"area_id": ["p1", "p2"], "name": list(CENTRES)},
                         geometry=[Point(*xy).buffer(150) for xy in CENTRES.values()], crs=settings.CRS)


def schedule(days: int = 168, seed: int = 5) -> pd.DataFrame:
    """Half patrol, half comparison days per area, drawn at random."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-06", periods=days, freq="D")
    rows = []
    for name in CENTRES:
        patrol_day = rng.permutation(np.r_[np.ones(days // 2, bool), np.zeros(days - days // 2, bool)])
        rows += [{"date": d.strftime("%Y-%m-%d"), "area": name,
                  "day_type": "patrol" if p else "comparison"} for d, p in zip(dates, patrol_day)]
    return pd.DataFrame(rows)


def daily_incidents(sched: pd.DataFrame, rate, seed: int = 9, timed: bool = True) -> gpd.GeoDataFrame:
    """Incidents per area and day ~ Poisson(rate(row, previous row)), placed inside the area,
    at a random time of day (or months only when `timed` is False)."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, g in sched.groupby("area", sort=False):
        prev = None
        for _, r in g.iterrows():
            n = rng.poisson(rate(r, prev))
            x, y = CENTRES[name]
            for _ in range(n):
                when = pd.Timestamp(r["date"]) + pd.Timedelta(minutes=int(rng.integers(0, 1440)))
                rows.append({"occurred": when, "x": x + rng.uniform(-50, 50), "y": y + rng.uniform(-50, 50),
                             "category": "Anti-social behaviour"})
            prev = r
    frame = pd.DataFrame(rows)
    if not timed:
        frame = frame.assign(month=frame["occurred"].dt.strftime("%Y-%m")).drop(columns="occurred")
    return schema.make_incidents(frame)


def test_planted_patrol_day_effect_lies_in_its_interval():
    sched = schedule()
    inc = daily_incidents(sched, lambda r, prev: 4.0 * (0.6 if r["day_type"] == "patrol" else 1.0))
    res = cx.crossover(inc, AREAS, sched, category="asb")
    assert res.reason is None
    assert (res.patrol_days, res.comparison_days) == (168, 168)
    assert res.incidents_patrol_days + res.incidents_comparison_days == len(inc)
    lo, hi = res.effect.ci95
    assert lo <= 0.6 <= hi and hi < 1.0 and res.effect.p_value < 0.001
    # no carry-over was planted: its interval holds 1
    assert res.carryover.ci95[0] <= 1.0 <= res.carryover.ci95[1]
    assert res.dose is None and res.dose_table is None
    doc = res.to_dict()
    assert set(doc["effect"]) == {"rate_ratio", "ci95", "p_value", "model"} and doc["reason"] is None


def test_planted_next_day_carry_over_lies_in_its_interval():
    sched = schedule(seed=6)

    def rate(r, prev):
        base = 4.0 * (0.6 if r["day_type"] == "patrol" else 1.0)
        return base * (0.75 if prev is not None and prev["day_type"] == "patrol" else 1.0)

    res = cx.crossover(inc := daily_incidents(sched, rate, seed=10), AREAS, sched)
    assert len(inc) > 0
    assert res.carryover.ci95[0] <= 0.75 <= res.carryover.ci95[1] and res.carryover.ci95[1] < 1.0
    # yesterday's plan is randomised too: the patrol-day contrast is still the same-day effect
    assert res.effect.ci95[0] <= 0.6 <= res.effect.ci95[1]


def test_planted_dose_response_per_15_minutes():
    sched = schedule(seed=7)
    rng = np.random.default_rng(3)
    minutes = np.where(sched["day_type"] == "patrol", rng.choice([15, 30, 45, 60], len(sched)), 0)
    sched = sched.assign(minutes=minutes)
    inc = daily_incidents(sched, lambda r, prev: 5.0 * 0.85 ** (r["minutes"] / 15), seed=11)
    log = sched[sched["minutes"] > 0][["date", "area", "minutes"]]
    log = log.assign(area=log["area"].str.upper())  # log names match case-insensitively
    res = cx.crossover(inc, AREAS, sched.drop(columns="minutes"), log=log)
    lo, hi = res.dose.ci95
    assert lo <= 0.85 <= hi and hi < 1.0
    table = res.dose_table.set_index("minutes")
    assert table.loc["none", "days"] == int((minutes == 0).sum())
    assert table.loc["over 30 minutes", "days"] == int((minutes > 30).sum())
    assert table["incidents"].sum() == len(inc)
    assert table.loc["none", "per_day"] > table.loc["over 30 minutes", "per_day"]
    assert res.to_dict()["dose"]["per_minutes"] == 15


def test_monthly_data_give_the_reason_not_figures():
    sched = schedule(days=56)
    inc = daily_incidents(sched, lambda r, prev: 3.0, timed=False)
    res = cx.crossover(inc, AREAS, sched)
    assert res.reason == cx.MONTHLY_REASON
    assert "police.uk publishes the month of each incident, not the day" in res.reason
    assert res.effect is None and res.carryover is None and res.dose is None
    assert res.incidents_patrol_days is None
    assert res.to_dict()["effect"] is None


def test_a_plan_schedule_and_one_polygon_are_accepted_and_errors_name_the_column():
    area = AREAS.iloc[[0]].assign(rank=1)
    plan = patrol.make_plan(area.assign(count=10), top=1, days=28, start="2025-01-06", seed=2)
    inc = daily_incidents(plan.schedule.assign(area="Market Square"), lambda r, prev: 3.0, seed=4)
    res = cx.crossover(inc, AREAS.geometry.iloc[0], plan.schedule[["date", "day_type"]])
    assert res.patrol_days + res.comparison_days == 28 and res.effect is not None
    bad = plan.schedule[["date", "day_type"]].assign(day_type="maybe")
    with pytest.raises(InputError, match="column 'day_type'.*not patrol or comparison"):
        cx.crossover(inc, AREAS.geometry.iloc[0], bad)
    with pytest.raises(InputError, match="schedule area 'Nowhere'"):
        cx.crossover(inc, AREAS, plan.schedule.assign(area="Nowhere"))
