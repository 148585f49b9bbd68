"""Patrol plan (phone-friendly): today's visits first (area, times, grid reference, a map link),
then a small map, the printable one-page sheet and the schedule CSV, and the patrol log upload
(delivered dosage against the plan; patrol days against comparison days where incidents have
dates). Uses the Hotspots page's settings when it was opened first."""

import datetime as dt
import io

import pandas as pd
import streamlit as st

from hotspot_app.core import params, patrol, periods, taxonomy
from hotspot_app.core.errors import HotspotError
from hotspot_app.io import exports
from hotspot_app.questions import patrol_areas as patrol_question
from hotspot_app.questions import patrol_plan
from hotspot_app.render import maps, patrol_sheet
from hotspot_app.ui import cache, common, patrol_calls

st.title("Patrol plan")
ds = common.dataset()
common.banner(ds)

cur = st.session_state.get("hs-current")
if cur is None:
    months = ds.months[-12:]
    cur = {"category": ("asb",) if "asb" in set(ds.incidents["kind"].astype(str)) else (),
           "period": (months[0], months[-1]), "preset": patrol.DEFAULT_PRESET, "eps_m": None,
           "min_samples": None, "top": patrol_question.SHOWN, "rank_by": None}
    st.caption("Patrol areas of the last 12 months with the app's default preset; choose others on "
               "the *Hotspots* page.")
choice = patrol_question.choose(cur["preset"], cur["eps_m"], cur["min_samples"])
what = taxonomy.selection_label(cur["category"], everything="all incidents")
st.caption(f"Top {cur['top']} patrol areas for {what}, {periods.describe(sorted(set(cur['period'])))} "
           f"({choice.describe()}).")

with st.expander("Plan settings", expanded=False):
    s1, s2, s3 = st.columns(3)
    defaults = patrol_plan.DEFAULTS
    visits = int(s1.number_input("Visits per patrol day", value=defaults["visits_per_day"], key="pp-visits",
                                 **params.widget("visits_per_day")))
    minutes = int(s2.number_input("Minutes per visit", value=defaults["minutes"], key="pp-min",
                                  help="Koper curve: 10–15 minutes, at irregular times.", **params.widget("minutes")))
    days = int(s3.number_input("Days", value=defaults["days"], key="pp-days", **params.widget("plan_days")))
    s4, s5, s6 = st.columns(3)
    start = s4.date_input("First day", patrol.next_monday(), key="pp-start")
    hours = s5.slider("Patrol hours", 0, 24, defaults["hours"], key="pp-hours")
    lo, hi, step = params.WIDGETS["comparison_share"]
    share = s6.slider("Comparison days (no patrol)", lo, hi, defaults["comparison_share"], step, key="pp-share",
                      help="Days each area is left without a planned patrol, chosen at random — the "
                           "comparison that tells whether the patrols worked (Grip's crossover design).")
    seed = int(st.number_input("Random seed (same seed, same plan)", value=defaults["seed"], key="pp-seed",
                               **params.widget("seed")))

with common.answer_or_stop():
    plan = patrol_calls.plan(ds.key, tuple(cur["category"]), tuple(cur["period"]), cur["preset"],
                             cur["eps_m"], cur["min_samples"], int(cur["top"]), visits, minutes, days,
                             start.isoformat(), seed, (int(hours[0]), int(hours[1])), float(share),
                             cur.get("rank_by"))
common.show_warnings(plan.warnings)

# ---------------------------------------------------------------- the day's visits (phone first)
dates = sorted(plan.schedule["date"].unique())
today = dt.date.today().isoformat()
day = st.selectbox("Day", dates, index=dates.index(today) if today in dates else 0, key="pp-day",
                   format_func=lambda d: pd.Timestamp(d).strftime("%a %d %b %Y"))
rows = plan.schedule[plan.schedule["date"] == day].sort_values("rank")
areas = patrol.contract_columns(plan.areas).set_index("rank")
for _, r in rows.iterrows():
    a = areas.loc[int(r["rank"])]
    where = f"{a['grid_ref']} · [map](geo:{a['latitude']:.5f},{a['longitude']:.5f})" if a["grid_ref"] else ""
    if r["day_type"] == "patrol":
        st.markdown(f"**#{int(r['rank'])} {common.md(str(r['area']))}** — visits at **{r['times']}**, "
                    f"{minutes} minutes each  \n{where}")
    else:
        st.markdown(f"#{int(r['rank'])} {common.md(str(r['area']))} — *comparison day: no patrol*  \n{where}")

m = maps.base_map(maps.bounds_of(plan.areas, pad_m=250.0), tiles=common.tiles())
maps.patrol_area_layer(plan.areas, fields={"rank": "Rank", "name": "Name"}).add_to(m)
maps.rank_markers(plan.areas).add_to(m)
common.show_map(m, key="pp-map", height=360)

# ---------------------------------------------------------------- sheet and CSV
token = f"{ds.key}|{cur}|{visits}|{minutes}|{days}|{start}|{hours}|{share}|{seed}"
summary = plan.summary()
st.dataframe(summary, hide_index=True, width="stretch",
             column_config={"rank": "#", "area": "Area", "patrol_days": "Patrol days",
                            "comparison_days": "Comparison days", "planned_visits": "Visits",
                            "planned_minutes": "Minutes"})
power = cache.plan_power(ds.key, tuple(cur["category"]), tuple(cur["period"]), plan, token)
st.info(f"**Power before launch:** {power.sentence()}", icon="📏")
with st.expander("How the power is worked out"):
    st.markdown("\n".join(f"- {a}" for a in power.power.assumptions))
d1, d2 = st.columns(2)
d1.download_button("Patrol sheet (print on one page)",
                   data=lambda: patrol_calls.sheet(ds.key, plan, token, "Patrol sheet").encode("utf-8"),
                   file_name="patrol-sheet.html", mime="text/html", key="pp-sheet", on_click="ignore")
d2.download_button("Schedule (CSV)", data=patrol_sheet.plan_csv(plan), file_name="patrol-plan.csv",
                   mime="text/csv", key="pp-csv", on_click="ignore")
st.caption("Officers fill in *visits_done* and *minutes_done* on the CSV (or keep a log with date, area, "
           "minutes) and upload it below.")

# ---------------------------------------------------------------- patrol log
st.subheader("Patrol log: what was delivered")
up = st.file_uploader("Patrol log (CSV)", type=["csv"], key="pp-log")
if up is not None:
    try:
        log = patrol.read_patrol_log(io.BytesIO(up.getvalue()), name=up.name)
        dose = patrol.delivered_dosage(log, None if log.plan is not None else plan)
    except HotspotError as exc:  # the uploaded log's own error, naming it: the page goes on
        st.error(str(exc))
    else:
        st.dataframe(dose, hide_index=True, width="stretch")
        st.download_button("Dosage (CSV)", data=exports.csv_bytes(dose), file_name="patrol-dosage.csv",
                           mime="text/csv", key="pp-dose-csv", on_click="ignore")
        sel = patrol_calls.selected(ds.key, tuple(cur["category"]), tuple(ds.months))
        sched = log.plan if log.plan is not None else plan.schedule
        compared = []
        for name in sched["area"].astype(str).unique():
            geom = plan.areas[plan.areas["name"].astype(str) == name]
            if len(geom):
                compared.append(patrol.patrol_day_comparison(sel, geom, sched[sched["area"] == name], name=name))
        if compared:
            table = pd.DataFrame(compared)
            reasons = table["reason"].dropna().unique()
            for reason in reasons:
                st.info(reason)
            st.dataframe(table.drop(columns=["reason"]), hide_index=True, width="stretch")
