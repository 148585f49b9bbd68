"""Altair charts: monthly time series (with an intervention period marked) and bar charts.

Charts take tidy tables computed by the core and only draw them; no Streamlit here.
"""

from __future__ import annotations

from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd


def _month_dates(months: pd.Series) -> pd.Series:
    return pd.to_datetime(months.astype(str) + "-01")


def monthly_series(
    table: pd.DataFrame,
    *,
    count: str = "count",
    series: str | None = "series",
    title: str = "",
    marks: Sequence[tuple[str, str, str]] = (),
    height: int = 280,
) -> alt.Chart:
    """Line chart of monthly counts (`table` has ``month`` 'YYYY-MM', `count`, optional
    `series`). `marks` shades month ranges ``(from, to, label)`` inclusive — e.g. the
    intervention, or the before and after windows. Null counts (uncovered months) are gaps."""
    data = pd.DataFrame({"date": _month_dates(table["month"]),
                         "count": pd.to_numeric(table[count], errors="coerce").astype(float)})
    if series and series in table.columns:
        data["series"] = table[series].astype(str).to_numpy()
    enc = {"x": alt.X("date:T", title="Month", axis=alt.Axis(format="%b %Y")),
           "y": alt.Y("count:Q", title="Incidents per month")}
    tips = [alt.Tooltip("date:T", format="%B %Y", title="Month"), alt.Tooltip("count:Q", title="Incidents")]
    if "series" in data.columns:
        enc["color"] = alt.Color("series:N", title=None)
        tips.append(alt.Tooltip("series:N", title="Series"))
    lines = alt.Chart(data).mark_line(point=True).encode(**enc, tooltip=tips)
    layers = []
    if marks:
        spans = pd.DataFrame({
            "start": [pd.Timestamp(f"{a}-01") for a, _, _ in marks],
            "end": [pd.Timestamp(f"{b}-01") + pd.offsets.MonthEnd(1) for _, b, _ in marks],
            "label": [lab for _, _, lab in marks]})
        layers.append(alt.Chart(spans).mark_rect(opacity=0.15).encode(
            x="start:T", x2="end:T", color=alt.Color("label:N", title="Period",
                                                    scale=alt.Scale(scheme="set2"))))
        layers.append(alt.Chart(spans).mark_text(align="left", dx=3, dy=-5, baseline="top", fontSize=11)
                      .encode(x="start:T", y=alt.value(2), text="label:N"))
    chart = alt.layer(*layers, lines) if layers else lines
    return chart.properties(title=title, height=height).resolve_scale(color="independent")


def bars(table: pd.DataFrame, *, label: str, value: str = "count", title: str = "",
         top: int | None = 15, height: int | None = None, value_title: str = "Incidents") -> alt.Chart:
    """Horizontal bars of `value` by `label`, largest first (the `top` largest)."""
    data = table[[label, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    data = data.sort_values(value, ascending=False, kind="stable")
    if top:
        data = data.head(top)
    data[label] = data[label].astype(str)
    return alt.Chart(data).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=value_title),
        y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=0, labelOverlap=False)),  # every label, whole
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{value}:Q", format=",")],
    ).properties(title=title, height=height or alt.Step(24))  # 24 px a bar: room for every label


def stacked_monthly(table: pd.DataFrame, *, by: str, count: str = "count", title: str = "",
                    height: int = 260) -> alt.Chart:
    """Stacked monthly bars (`table`: month, `by`, `count`), e.g. primary vs secondary fires."""
    data = pd.DataFrame({"date": _month_dates(table["month"]), by: table[by].astype(str),
                         "count": pd.to_numeric(table[count], errors="coerce")})
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("yearmonth(date):T", title="Month"),
        y=alt.Y("count:Q", title="Incidents", stack=True),
        color=alt.Color(f"{by}:N", title=None),
        tooltip=[alt.Tooltip("yearmonth(date):T", title="Month"), alt.Tooltip(f"{by}:N"),
                 alt.Tooltip("count:Q")],
    ).properties(title=title, height=height)


def k_distance(curve: pd.DataFrame, eps_m: float | None = None) -> alt.LayerChart | alt.Chart:
    """The sorted k-distance curve (`eps_guide.suggest_eps`) with the suggested eps as a rule."""
    line = alt.Chart(curve).mark_line().encode(
        x=alt.X("share:Q", title="Share of incidents (sorted by distance)", axis=alt.Axis(format="%")),
        y=alt.Y("distance_m:Q", title="Distance to the k-th neighbour (m)"),
        tooltip=[alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("distance_m:Q", format=",.0f")],
    )
    if eps_m is None:
        return line.properties(height=260)
    rule = alt.Chart(pd.DataFrame({"eps_m": [eps_m]})).mark_rule(strokeDash=[4, 4], color="#c0392b").encode(
        y="eps_m:Q", tooltip=[alt.Tooltip("eps_m:Q", title="suggested eps (m)", format=",.0f")])
    return (line + rule).properties(height=260)


def day_hour_heat(table: pd.DataFrame, title: str = "", value_title: str = "Incidents") -> alt.Chart:
    """Heat table of `when.day_hour_table` (rows Mon..Sun, columns hours 0..23) with the count
    written in every non-empty cell."""
    long = table.rename_axis(index="weekday", columns="hour").stack().rename("count").reset_index()
    long["hour_label"] = long["hour"].map(lambda h: f"{int(h):02d}")
    base = alt.Chart(long).encode(
        x=alt.X("hour_label:O", title="Hour of day (start)", sort=[f"{h:02d}" for h in range(24)]),
        y=alt.Y("weekday:O", title=None, sort=list(table.index)),
    )
    rect = base.mark_rect().encode(
        color=alt.Color("count:Q", title=value_title, scale=alt.Scale(scheme="orangered")),
        tooltip=[alt.Tooltip("weekday:O", title="Day"), alt.Tooltip("hour_label:O", title="Hour"),
                 alt.Tooltip("count:Q", title=value_title)])
    text = base.transform_filter("datum.count > 0").mark_text(fontSize=9).encode(text="count:Q")
    return (rect + text).properties(title=title, height=210)


#: The most points a concentration curve draws per line: a national year's curve has a point per
#: grid cell (hundreds of thousands); the chart is 280 pixels high, so a point every 1/500 of
#: the area axis (and every point where the curve bends most, the busiest places, kept in full)
#: draws the same line. The downloads keep every point.
CURVE_MAX_POINTS: int = 500


def thin_curve(curve: pd.DataFrame, *, x: str = "area_share", group: str | None = None,
               max_points: int = CURVE_MAX_POINTS) -> pd.DataFrame:
    """The rows of `curve` to draw: each line (`group`) as it is when it has at most
    `max_points` points, else its first `max_points` // 2 points (the busiest places, where
    the curve climbs fastest), its last point, and the first point at or after each of
    `max_points` // 2 evenly spaced values of `x`. Row order kept; `curve` is not changed."""
    parts = [curve] if group is None else [part for _, part in curve.groupby(group, sort=False)]
    keep = []
    for part in parts:
        if len(part) <= max_points:
            keep.append(part.index.to_numpy())
            continue
        xs = part[x].to_numpy(dtype=float)
        head = np.arange(max_points // 2)
        marks = np.linspace(xs.min(), xs.max(), max_points // 2)
        # the curve's x (cumulative area share) never falls, so a search finds the crossings
        even = np.minimum(np.searchsorted(xs, marks, side="left"), len(xs) - 1)
        rows = np.unique(np.concatenate([head, even, [len(xs) - 1]]))
        keep.append(part.index.to_numpy()[rows])
    if len(keep) == len(parts) and sum(map(len, keep)) == len(curve):
        return curve
    return curve.loc[np.sort(np.concatenate(keep))] if keep else curve


def concentration_curve(curve: pd.DataFrame, *, x: str = "area_share", y: str = "share",
                        group: str | None = None, mark_n: int | None = None,
                        max_points: int = CURVE_MAX_POINTS) -> alt.Chart:
    """The concentration ("80/20") curve: cumulative share of incidents (`y`, 0..1) against
    cumulative share of area (`x`, 0..1), one line per `group` (wards, grid cells, patrol areas),
    with the diagonal an even spread would give. A line of more than `max_points` points is
    drawn through `thin_curve`'s points (the same picture; the data behind it stays whole)."""
    data = thin_curve(curve, x=x, group=group, max_points=max_points).copy()
    enc = dict(x=alt.X(f"{x}:Q", title="Share of the area (places sorted, busiest first)",
                       axis=alt.Axis(format="%")),
               y=alt.Y(f"{y}:Q", title="Share of incidents", axis=alt.Axis(format="%")),
               tooltip=[alt.Tooltip(f"{x}:Q", format=".1%", title="area"),
                        alt.Tooltip(f"{y}:Q", format=".1%", title="incidents")])
    if group:
        enc["color"] = alt.Color(f"{group}:N", title=None)
        enc["tooltip"].insert(0, alt.Tooltip(f"{group}:N"))
    line = alt.Chart(data).mark_line(point=len(data) <= 60).encode(**enc)
    even = alt.Chart(pd.DataFrame({x: [0.0, 1.0], y: [0.0, 1.0]})).mark_line(
        strokeDash=[4, 4], color="#999").encode(x=f"{x}:Q", y=f"{y}:Q")
    return (even + line).properties(height=280)


def placebo_histogram(rate_ratios: Sequence[float], target_rate_ratio: float | None, *,
                      title: str = "", height: int = 220) -> alt.Chart:
    """Histogram of the placebo pseudo-targets' rate ratios (log scale) with the target's drawn
    as a red rule: the placebo-in-space test."""
    import math

    data = pd.DataFrame({"rate_ratio": [float(v) for v in rate_ratios if v is not None and v > 0]})
    data["log_rr"] = [math.log(v) for v in data["rate_ratio"]]
    bars_ = alt.Chart(data).mark_bar(color="#9ecae1").encode(
        x=alt.X("log_rr:Q", bin=alt.Bin(maxbins=30), title="log rate ratio (0 = no change)"),
        y=alt.Y("count():Q", title="Places like the target"),
        tooltip=[alt.Tooltip("count():Q", title="Places")])
    layers = [bars_]
    if target_rate_ratio:
        rule = pd.DataFrame({"log_rr": [math.log(target_rate_ratio)],
                             "label": [f"the target: rate ratio {target_rate_ratio:.2f}"]})
        layers.append(alt.Chart(rule).mark_rule(color="#d7301f", size=3).encode(
            x="log_rr:Q", tooltip=[alt.Tooltip("label:N", title="")]))
    return alt.layer(*layers).properties(title=title, height=height)


def season_bars(by_month: pd.DataFrame, label: str, *, value_title: str = "Incidents",
                height: int = 240) -> alt.Chart:
    """Monthly counts as bars, the season's months (``season`` True) in their own colour, so the
    bonfire period (or any months chosen) stands out against the rest of the year. Months not
    covered (null counts) are left out."""
    data = pd.DataFrame({"date": _month_dates(by_month["month"]),
                         "count": pd.to_numeric(by_month["count"], errors="coerce").astype(float),
                         "when": ["In " + label if s else "Rest of the year" for s in by_month["season"]]})
    data = data.dropna(subset=["count"])
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("yearmonth(date):T", title="Month", axis=alt.Axis(format="%b %Y")),
        y=alt.Y("count:Q", title=f"{value_title} per month"),
        color=alt.Color("when:N", title=None, scale=alt.Scale(range=["#d95f02", "#9e9e9e"])),
        tooltip=[alt.Tooltip("date:T", format="%B %Y", title="Month"),
                 alt.Tooltip("count:Q", title=value_title), alt.Tooltip("when:N", title="")],
    ).properties(height=height)
