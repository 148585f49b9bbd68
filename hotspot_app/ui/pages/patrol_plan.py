"""Patrol plan (phone-friendly): today's visits first (area, times, grid reference, a map link),
then a small map, the printable one-page sheet and the schedule CSV, and the patrol log upload
(delivered dosage against the plan; patrol days against comparison days where incidents have
dates). Uses the Hotspots page's settings when it was opened first."""

import datetime as dt
import io

import pandas as pd
import streamlit as st

from hotspot_app.core import areas as areas_mod, params, patrol, periods, taxonomy
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
    cur = {"category": ("asb",) if "asb" in ds.kinds else (),
           "period": (months[0], months[-1]), "preset": patrol.DEFAULT_PRESET, "eps_m": None,
           "min_samples": None, "top": patrol_question.SHOWN, "rank_by": None, "within": ()}
    st.caption("Patrol areas of the last 12 months with the app's default preset; choose others on "
               "the *Hotspots* page.")
choice = patrol_question.choose(cur["preset"], cur["eps_m"], cur["min_samples"])
what = taxonomy.selection_label(cur["category"], everything="all incidents")

# where, and which areas: the plan's own choices (the Hotspots page's place the first time)
where_box = st.expander("Where and which areas", expanded=False)
with where_box:
    within = common.place_picker(ds, "pp-place", default=tuple(cur.get("within") or ()))
with common.answer_or_stop():
    candidates = patrol_calls.patrol_areas(ds.key, tuple(cur["category"]), tuple(cur["period"]),
                                           cur["preset"], cur["eps_m"], cur["min_samples"], None,
                                           cur.get("rank_by"), None, within)
if not len(candidates.areas):
    st.info(candidates.message or "No patrol areas here for these settings: choose another place "
            "or preset.")
    st.stop()
labels = {int(r): f"#{int(r)} {n}" for r, n in zip(candidates.areas["rank"], candidates.areas["name"])}
options = list(labels)[:params.WIDGETS["top"][1]]
# ranks mean other areas once the Hotspots page's settings or the place change: start again from
# the top N then, and say so (a page never silently changes what another page planned)
made_for = repr((cur, within))
if st.session_state.get("pp-pick-for") not in (None, made_for) and st.session_state.get("pp-pick"):
    st.session_state["pp-pick"] = options[:int(cur["top"])]
    st.info("The patrol areas changed (settings on the *Hotspots* page or the place): the plan now "
            "starts from the top areas again.")
st.session_state["pp-pick-for"] = made_for
common.keep_options("pp-pick", options)
if not st.session_state.get("pp-pick"):
    st.session_state["pp-pick"] = options[:int(cur["top"])]
with where_box:
    picked = st.multiselect("Areas to patrol", options, key="pp-pick", format_func=labels.get,
                            help="The place's highest-ranked patrol areas are ticked; add or remove any.")
if not picked:
    st.info("Tick at least one area to plan patrols for (under *Where and which areas*).")
    st.stop()

place = f" in {areas_mod.describe_within(list(within))}" if within else ""
which = (f"Top {len(picked)}" if sorted(picked) == options[:len(picked)]
         else f"{len(picked)} chosen")
st.caption(f"{which} patrol areas{place} for {what}, "
           f"{periods.describe(sorted(set(cur['period'])))} ({choice.describe()}).")

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
    s7, s8, s9 = st.columns(3)
    teams = int(s7.number_input("Teams", min_value=1, max_value=min(50, len(picked)),
                                value=defaults["teams"], key="pp-teams",
                                help="Teams sharing the areas; no team is sent to two places closer in "
                                     "time than a visit plus the travel between them."))
    travel = s8.radio("Between areas", list(patrol.TRAVEL_M_PER_MIN), key="pp-travel", horizontal=True,
                      index=list(patrol.TRAVEL_M_PER_MIN).index(defaults["travel"]),
                      format_func=str.capitalize)
    if "pp-seed" not in st.session_state:
        st.session_state["pp-seed"] = patrol_plan.fresh_seed()
    seed = int(s9.number_input("Random seed (same seed, same plan)", key="pp-seed",
                               **params.widget("seed"),
                               help="Each new plan draws its own seed so visit times cannot be "
                                    "learnt from week to week; give a plan's seed to repeat it."))

with common.answer_or_stop():
    plan = patrol_calls.plan(ds.key, tuple(cur["category"]), tuple(cur["period"]), cur["preset"],
                             cur["eps_m"], cur["min_samples"], len(picked), visits, minutes, days,
                             start.isoformat(), seed, (int(hours[0]), int(hours[1])), float(share),
                             cur.get("rank_by"), within, tuple(sorted(picked)), teams, travel)
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
    lat, lon = f"{a['latitude']:.5f}", f"{a['longitude']:.5f}"
    osm = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
    # geo: opens the phone's own maps app (and does nothing on a desktop browser): the
    # OpenStreetMap link beside it works everywhere
    where = (f"{a['grid_ref']} · [OpenStreetMap]({osm}) · [phone maps](geo:{lat},{lon}?q={lat},{lon})"
             if a["grid_ref"] else "")
    if r["day_type"] == "patrol":
        team = f"team {int(r['team'])}, " if plan.teams > 1 else ""
        st.markdown(f"**#{int(r['rank'])} {common.md(str(r['area']))}** — {team}visits at **{r['times']}**, "
                    f"{minutes} minutes each  \n{where}")
    else:
        st.markdown(f"#{int(r['rank'])} {common.md(str(r['area']))} — *comparison day: no patrol*  \n{where}")

st.caption(f"Plan from {pd.Timestamp(plan.start).strftime('%a %d %b %Y')} for {len(plan.areas)} areas, "
           f"{plan.teams} team{'s' if plan.teams != 1 else ''} ({plan.travel} between areas), seed "
           f"{plan.seed}: give this seed to make the same plan again.")
common.print_caption(ds, tuple(cur["period"]), tuple(cur["category"]),
                     title=f"Patrol plan from {pd.Timestamp(plan.start).strftime('%d %b %Y')}"
                           + (f" in {areas_mod.describe_within(list(within))}" if within else ""))
m = maps.base_map(maps.bounds_of(plan.areas, pad_m=250.0), tiles=common.tiles())
if len(ds.wards):  # the wards around the areas: a map that reads offline, without a basemap
    x0, y0, x1, y1 = plan.areas.total_bounds
    near = ds.wards.cx[x0 - 2000:x1 + 2000, y0 - 2000:y1 + 2000]
    maps.area_outlines(near, name="Wards", colour="#777777", line_width=1).add_to(m)
maps.patrol_area_layer(plan.areas, fields={"rank": "Rank", "name": "Name"}).add_to(m)
maps.rank_markers(plan.areas).add_to(m)
common.show_map(m, key="pp-map", height=360)

# ---------------------------------------------------------------- sheet and CSV
token = (f"{ds.key}|{cur}|{within}|{sorted(picked)}|{visits}|{minutes}|{days}|{start}|{hours}|{share}|"
         f"{seed}|{teams}|{travel}")
summary = plan.summary()
common.table(summary, headings={"rank": "#", "team": "Team", "area": "Area", "patrol_days": "Patrol days",
                                 "comparison_days": "Comparison days", "planned_visits": "Visits",
                                 "planned_minutes": "Minutes"}, hide_index=True, width="stretch",
             column_config={"rank": "#", "team": "Team", "area": "Area", "patrol_days": "Patrol days",
                            "comparison_days": "Comparison days", "planned_visits": "Visits",
                            "planned_minutes": "Minutes"})
# the power depends on the areas and the plan's length, not on its seed or visit times: a new
# session's fresh seed reuses it (on a national year it is the page's slowest step)
power = cache.plan_power(ds.key, tuple(cur["category"]), tuple(cur["period"]), plan,
                         f"{ds.key}|{cur}|{within}|{sorted(picked)}|{days}")
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
up = st.file_uploader("Patrol log (CSV)", type=["csv"], key="pp-log",
                      help="The filled-in schedule CSV, or a log with a date and an area (name, rank "
                           "or grid reference) per visit, and minutes if recorded.")
if up is not None:
    try:
        log = patrol.read_patrol_log(io.BytesIO(up.getvalue()), name=up.name)
    except HotspotError as exc:  # the uploaded log's own error, naming it: the page goes on
        st.error(str(exc))
        st.stop()
    against = plan
    window = patrol_plan.log_window(log, plan)
    if window is not None:
        first = pd.Timestamp(log.visits["date"].min())
        last = pd.Timestamp(log.visits["date"].max())
        with common.answer_or_stop():
            against = patrol_calls.plan(ds.key, tuple(cur["category"]), tuple(cur["period"]), cur["preset"],
                                        cur["eps_m"], cur["min_samples"], len(picked), visits, minutes,
                                        min(window[1], params.WIDGETS["plan_days"][1]), window[0], seed,
                                        (int(hours[0]), int(hours[1])), float(share), cur.get("rank_by"),
                                        within, tuple(sorted(picked)), teams, travel)
        st.info(f"The log's visits ({first:%d %b} to {last:%d %b %Y}) fall outside the plan above "
                f"(from {pd.Timestamp(plan.start):%d %b %Y}), so they are checked against the plan for "
                f"the log's own dates, with the same areas, settings and seed ({seed}). To check against "
                "the exact plan that was handed out, upload its filled-in schedule CSV.")
    dose = patrol.delivered_dosage(log, None if log.plan is not None else against)
    outside = patrol.outside_plan(log, None if log.plan is not None else against)
    st.dataframe(dose.rename(columns=patrol.DOSAGE_HEADINGS), hide_index=True, width="stretch")
    st.download_button("Dosage (CSV)", data=exports.csv_bytes(dose.rename(columns=patrol.DOSAGE_HEADINGS)),
                       file_name="patrol-dosage.csv", mime="text/csv", key="pp-dose-csv", on_click="ignore")
    if len(outside):
        st.warning(f"{len(outside)} logged visit day(s) are outside the plan and not counted above:",
                   icon="⚠️")
        st.dataframe(outside.rename(columns={"date": "Date", "area": "Area (as logged)", "visits": "Visits",
                                             "minutes": "Minutes", "reason": "Why not counted"}),
                     hide_index=True, width="stretch")
    sel = patrol_calls.selected(ds.key, tuple(cur["category"]), tuple(ds.months))
    sched = log.plan if log.plan is not None else against.schedule
    compared = []
    for name in sched["area"].astype(str).unique():
        geom = against.areas[against.areas["name"].astype(str) == name]
        if len(geom):
            compared.append(patrol.patrol_day_comparison(sel, geom, sched[sched["area"] == name], name=name))
    if compared:
        table = pd.DataFrame(compared)
        reasons = table["reason"].dropna().unique()
        for reason in reasons:
            st.info(reason)
        st.dataframe(table.drop(columns=["reason"]).rename(columns={
            "area": "Area", "patrol_days": "Patrol days", "comparison_days": "Comparison days",
            "incidents_patrol_days": "Incidents on patrol days",
            "incidents_comparison_days": "Incidents on comparison days",
            "per_patrol_day": "Per patrol day", "per_comparison_day": "Per comparison day",
            "rate_ratio": "Patrol-day rate ÷ comparison-day rate"}), hide_index=True, width="stretch")
