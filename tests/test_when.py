"""when.py: the times rule (police.uk months only vs fire records with times), the day × hour
table and peak times, exact on constructed times."""

from __future__ import annotations

import pandas as pd

from hotspot_app.core import when


def _inc(times):
    return pd.DataFrame({"occurred": pd.to_datetime(pd.Series(times, dtype=object), format="ISO8601"), "month": "2024-01"})


def test_months_only_is_detected_and_no_table():
    inc = _inc([None, None, None])
    d = when.time_detail(inc)
    assert (d.level, d.timed, d.total, d.has_times, d.has_dates) == ("month", 0, 3, False, False)
    assert "police.uk publishes months only" in d.reason
    assert when.day_hour_table(inc) is None and when.peak_times(inc) is None
    # no occurred column at all behaves the same
    assert when.time_detail(pd.DataFrame({"month": ["2024-01"]})).level == "month"


def test_dates_at_midnight_are_dates_not_times():
    d = when.time_detail(_inc(["2024-01-01", "2024-01-02 00:00:00", None]))
    assert (d.level, d.timed, d.total) == ("date", 2, 3)
    assert "no time of day" in d.reason and "1 of 3 incidents have no date" in d.reason
    assert when.day_hour_table(_inc(["2024-01-01"])) is None


def test_day_hour_table_exact():
    # 2024-01-01 is a Monday
    times = ["2024-01-01 22:15", "2024-01-08 22:59", "2024-01-01 23:00", "2024-01-06 00:30",
             "2024-01-07 13:00", None]
    inc = _inc(times)
    d = when.time_detail(inc)
    assert (d.level, d.timed, d.total) == ("time", 5, 6)
    assert d.reason == "1 of 6 incidents have no date and are left out."
    t = when.day_hour_table(inc)
    assert t.shape == (7, 24) and list(t.index) == when.WEEKDAYS and list(t.columns) == list(range(24))
    assert int(t.to_numpy().sum()) == 5
    assert t.loc["Mon", 22] == 2 and t.loc["Mon", 23] == 1 and t.loc["Sat", 0] == 1 and t.loc["Sun", 13] == 1
    assert t.loc["Tue"].sum() == 0


def test_peak_times_exact_and_window_wraps_midnight():
    times = ["2024-01-01 22:15", "2024-01-08 22:59", "2024-01-01 23:00", "2024-01-06 00:30",
             "2024-01-07 13:00"]
    p = when.peak_times(_inc(times), top=2, span_hours=3)
    assert p["timed"] == 5
    assert p["weekdays"] == [("Mon", 3), ("Sat", 1)]
    assert p["hours"] == [("22:00–23:00", 2), ("00:00–01:00", 1)]
    # 22:00-01:00 holds 22:xx (2) + 23:xx (1) + 00:xx (1) = 4 of 5
    assert p["window"] == {"label": "22:00–01:00", "count": 4, "share_pct": 80.0}
    assert p["slots"][0] == ("Mon 22:00–23:00", 2)
    assert p["text"].startswith("Busiest 3 hours: 22:00–01:00 (4 of 5 incidents, 80.0%)")


def test_demo_fires_have_times_and_police_uk_months_only(demo):
    inc = demo.incidents
    assert when.time_detail(inc[inc["source"] == "police-uk"]).level == "month"
    fires = inc[inc["kind"] == "fire"]
    d = when.time_detail(fires)
    assert d.level == "time" and d.timed == len(fires)
    assert int(when.day_hour_table(fires).to_numpy().sum()) == len(fires)
