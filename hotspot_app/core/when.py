"""When incidents happen: the day-of-week × hour table and peak times, and the one rule that
decides whether incidents have times at all.

police.uk street data give a month and nothing finer (``occurred`` is NaT): a weekday or hour
table built from them would be invented, so it is not built and the reason is said in one
sentence (`TimeDetail.reason`). Fire-service records and force exports carry a date and a time
of call. A column of dates read without times parses as midnight; when every dated incident
sits exactly at 00:00 the data have dates but no times (weekdays are known, hours are not).

Everything here takes a DataFrame with an ``occurred`` column and never modifies it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hotspot_app.core import measures

__all__ = ["WEEKDAYS", "TimeDetail", "time_detail", "day_hour_table", "peak_times"]

#: Row labels of the day × hour table, Monday first (ISO weekday order).
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class TimeDetail:
    """How finely the incidents are timed.

    level : ``"time"`` (date and time of day), ``"date"`` (dates, all at midnight) or
        ``"month"`` (no dates: police.uk).
    timed : incidents with a date (``occurred`` not null).
    total : incidents looked at.
    reason : one sentence for the user when a weekday/hour view is hidden or partial, else None.
    """

    level: str
    timed: int
    total: int
    reason: str | None

    @property
    def has_times(self) -> bool:
        return self.level == "time"

    @property
    def has_dates(self) -> bool:
        return self.level in ("time", "date")


def _occurred(incidents: pd.DataFrame) -> pd.Series:
    if "occurred" not in incidents.columns:
        return pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[ns]")
    occ = pd.to_datetime(incidents["occurred"], errors="coerce")
    if getattr(occ.dt, "tz", None) is not None:
        occ = occ.dt.tz_convert("Europe/London").dt.tz_localize(None)
    return occ


def time_detail(incidents: pd.DataFrame) -> TimeDetail:
    """The rule: incidents have *times* when some have a date and not every dated incident is at
    exactly 00:00:00; *dates* when all dated incidents are at midnight; *months* when none has a
    date. Incidents without a date among timed ones are counted (`timed` < `total`) and said."""
    occ = _occurred(incidents)
    total, dated = len(occ), occ.notna()
    timed = int(dated.sum())
    if timed == 0:
        return TimeDetail("month", 0, total, (
            "These incidents have a month but no date or time (police.uk publishes months only), "
            "so weekday and hour are unknown and not shown."))
    d = occ[dated]
    midnight = (d.dt.hour == 0) & (d.dt.minute == 0) & (d.dt.second == 0)
    missing = (f" {total - timed:,} of {total:,} incidents have no date and are left out."
               if timed < total else "")
    if midnight.all():
        return TimeDetail("date", timed, total, (
            "These incidents have dates but no time of day, so hours are not shown." + missing))
    return TimeDetail("time", timed, total, missing.strip() or None)


def day_hour_table(incidents: pd.DataFrame) -> pd.DataFrame | None:
    """Counts by day of week (rows ``Mon``..``Sun``) and hour of day (columns 0..23, the hour the
    incident started: 0 = 00:00–00:59), every cell present (zeros are real zeros: the table only
    counts incidents with a time). None when the incidents have no times (`time_detail`)."""
    if not time_detail(incidents).has_times:
        return None
    occ = _occurred(incidents).dropna()
    counts = pd.crosstab(occ.dt.day_of_week, occ.dt.hour)
    table = counts.reindex(index=range(7), columns=range(24), fill_value=0).astype(int)
    table.index = pd.Index(WEEKDAYS, name="weekday")
    table.columns = pd.Index(list(range(24)), name="hour")
    return table


def _label_hours(h: int, span: int) -> str:
    return f"{h:02d}:00–{(h + span) % 24:02d}:00"


def peak_times(incidents: pd.DataFrame, top: int = 3, span_hours: int = 3) -> dict | None:
    """Peak times of timed incidents: the `top` weekdays, the `top` hours of day, the busiest
    `span_hours`-hour window (wrapping past midnight) with its share, and the busiest
    weekday-hour cells. Ties keep calendar order. None without times.

    Returns ``{"timed": n, "weekdays": [(day, n)], "hours": [(label, n)],
    "window": {"label", "count", "share_pct"}, "slots": [(label, n)], "text": str}``.
    """
    table = day_hour_table(incidents)
    if table is None:
        return None
    n = int(table.to_numpy().sum())
    by_day = table.sum(axis=1)
    by_hour = table.sum(axis=0)
    days = by_day.sort_values(ascending=False, kind="stable").head(top)
    hours = by_hour.sort_values(ascending=False, kind="stable").head(top)
    wrapped = pd.concat([by_hour, by_hour.iloc[:span_hours - 1]]).to_numpy()
    windows = [int(wrapped[h:h + span_hours].sum()) for h in range(24)]
    best = max(range(24), key=lambda h: (windows[h], -h))
    cells = table.stack().sort_values(ascending=False, kind="stable").head(top)
    share = measures.share_pct(windows[best], n)
    window = {"label": _label_hours(best, span_hours), "count": windows[best], "share_pct": share}
    text = (f"Busiest {span_hours} hours: {window['label']} ({window['count']:,} of {n:,} "
            f"incidents, {share:.1f}%); busiest days: {', '.join(days.index)}.")
    return {"timed": n,
            "weekdays": [(d, int(v)) for d, v in days.items()],
            "hours": [(_label_hours(h, 1), int(v)) for h, v in hours.items()],
            "window": window,
            "slots": [(f"{d} {_label_hours(h, 1)}", int(v)) for (d, h), v in cells.items()],
            "text": text}
