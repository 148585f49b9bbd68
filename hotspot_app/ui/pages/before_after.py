"""Before / after: choose an intervention (or an area and dates) and the control -> the answer of
the evaluation question (the one `hotspot evaluate` and the report pack give): warnings first,
the headline and its significance, KPI cards (count, % change, baseline change, control-adjusted
effect with its interval, WDQ), the comparison areas on a map beside the target, the robustness
table, the placebo histogram, two before/after maps with the same extent and colour scale, and
the monthly series (the target against its comparison areas over the pre-period)."""

import geopandas as gpd
import pandas as pd
import streamlit as st

from hotspot_app.render import charts, maps, formatting, static_maps
from hotspot_app.core import evaluation, periods, settings
from hotspot_app.questions import evaluation as question
from hotspot_app.io import exports
from hotspot_app.ui import cache, common

st.title("Before / after")
ds = common.dataset()
common.banner(ds)
months_all = ds.months
fmt_month = lambda m: pd.Timestamp(f"{m}-01").strftime("%b %Y")  # noqa: E731

choices = cache.intervention_choices(ds.key)
modes = (["Stored intervention"] if choices else []) + ["Area and dates"]
mode = st.radio("Evaluate", modes, horizontal=True, key="ba-mode")

c1, c2 = st.columns([2, 2])
if mode == "Stored intervention":
    iv_id = c1.selectbox("Intervention", list(choices), format_func=choices.get, key="ba-iv")
    target = f"intervention:{iv_id}"
    row = ds.interventions[ds.interventions["intervention_id"].astype(str) == iv_id].iloc[0]
    start = pd.Timestamp(row["start"]).strftime("%Y-%m")
    end = pd.Timestamp(row["end"]).strftime("%Y-%m") if pd.notna(row["end"]) else months_all[-1]
    default_cat = evaluation.default_category(row)
else:
    area_opts = {f"area:{a}": f"{n} ({lay.replace('_', ' ')})" for a, n, lay in
                 zip(ds.areas["area_id"], ds.areas["name"], ds.areas["layer"])}
    for name, wkt in st.session_state.get("drawn_areas", {}).items():
        area_opts[f"wkt:{wkt}"] = f"{name} (drawn)"
    if not area_opts:
        st.info("Load boundaries or draw a micro-hotspot on the Data page to evaluate an area.")
        st.stop()
    target = c1.selectbox("Area", list(area_opts), format_func=area_opts.get, key="ba-area")
    start, end = months_all[max(0, len(months_all) - 6)], months_all[-1]
    default_cat = evaluation.default_category(None)
    iv_id = None
start = min(max(start, months_all[0]), months_all[-1])
end = min(max(end, start), months_all[-1])
with c2:
    category = common.category_picker(ds, "ba-cat", default=default_cat)

c3, c4, c5 = st.columns([2, 1.2, 1])
after_lo, after_hi = c3.select_slider("After window (intervention period)", options=months_all,
                                      value=(start, end), format_func=fmt_month, key=f"ba-after-{target}")
after = tuple(periods.month_range(after_lo, after_hi))
before_mode = c4.radio("Compare with", ["Same months a year earlier", "The months just before"],
                       key="ba-before")
before = (tuple(periods.comparison_window(after, "previous-period"))
          if before_mode == "The months just before" else None)
buffer_m = c5.number_input("Buffer ring (m)", min_value=0.0, max_value=2000.0, value=float(settings.BUFFER_M),
                           step=50.0, key="ba-buffer")
use_baseline = st.checkbox("Also compare with a baseline year", key="ba-base-on")
baseline = None
if use_baseline:
    # default: the same months in an earlier year the data cover (seasonality cancels)
    b_default = question.default_baseline(after, months_all) or months_all[:len(after)]
    blo, bhi = st.select_slider("Baseline window", options=months_all, value=(b_default[0], b_default[-1]),
                                format_func=fmt_month, key=f"ba-baseline-{after[0]}-{after[-1]}")
    baseline = tuple(periods.month_range(blo, bhi))
CONTROL_LABELS = {"matched": "Matched comparison areas (default)", "layer": "The rest of the layer",
                  "rest": "The rest of the data", "area": "An area you name"}
control = st.radio("Control", list(CONTROL_LABELS), format_func=CONTROL_LABELS.get, horizontal=True,
                   key="ba-control",
                   help="Matched: places like the target on the months before (level, trend and "
                        "distance), from the target's layer or equal-size hexagons. The robustness "
                        "table shows the effect under every control.")
chosen_control = None if control == "matched" else control
if control == "area":
    named = {str(a): f"{n} ({lay.replace('_', ' ')})" for a, n, lay in
             zip(ds.areas["area_id"], ds.areas["name"], ds.areas["layer"]) if f"area:{a}" != target}
    if not named:
        st.info("Load boundaries on the Data page to name a control area.")
        st.stop()
    chosen_control = st.selectbox("Control area", list(named), format_func=named.get, key="ba-control-area")

with common.answer_or_stop(), st.status("Evaluating (matching comparison areas, placebo test)…",
                                       expanded=False) as status:
    answer = cache.evaluate(ds.key, target, category, after, before, baseline, float(buffer_m),
                            chosen_control)
    status.update(label=f"Evaluated {answer.evaluation.area}", state="complete")
ev = answer.evaluation

common.print_caption(ds, ev.after.months, category, title=f"Before / after: {ev.area}")
# warnings first, prominently
for text in dict.fromkeys(answer.warnings):
    st.warning(text, icon="⚠️")
headline, effect_sentence, robustness_sentence = answer.sentences()
st.markdown(f"**{headline}**")
if ev.effect is not None:  # the headline says at once whether the change could be chance
    lo_, hi_ = ev.effect.ci95
    verdict = ("statistically significant at the 5% level" if not (lo_ <= 1 <= hi_)
               else "not statistically significant: it could be chance")
    st.markdown(f"**Against {common.md(answer.control_text())}, the change is {verdict}.**")
st.markdown(effect_sentence)

k = st.columns(5)
k[0].metric(f"After ({fmt_month(ev.after.start)}–{fmt_month(ev.after.end)})", formatting.fmt_int(ev.after.count),
            help=f"Before ({fmt_month(ev.before.start)}–{fmt_month(ev.before.end)}): {formatting.fmt_int(ev.before.count)}")
k[1].metric("Change on before", formatting.fmt_pct(ev.pct_change) if ev.pct_change is not None else "n/a",
            None if ev.diff is None else f"{ev.diff:+,}", delta_color="inverse")
k[2].metric("Change on baseline", formatting.fmt_pct(ev.baseline_pct_change)
            if ev.baseline_pct_change is not None else "n/a",
            help="After compared with the baseline window (per month when lengths differ)."
            if ev.baseline else "Tick 'Also compare with a baseline year'.")
if ev.effect is not None:
    lo, hi = ev.effect.ci95
    k[3].metric("Control-adjusted effect", f"{ev.effect.pct_change:+.1f}%",
                help=f"Rate ratio {ev.effect.rate_ratio:.2f} (95% CI {lo:.2f}–{hi:.2f}, "
                     f"p = {ev.effect.p_value:.3g}) against {answer.control_text()}.")
    k[3].caption(f"95% CI {(lo - 1) * 100:+.0f}% to {(hi - 1) * 100:+.0f}%")
else:
    k[3].metric("Control-adjusted effect", "n/a")
k[4].metric("WDQ", "n/a" if ev.wdq is None else f"{ev.wdq:.2f}", help=ev.wdq_text or None)
if ev.wdq_text:
    st.caption(ev.wdq_text)
st.caption("**WDQ** (weighted displacement quotient): the change in the buffer ring against the control, "
           "divided by the change in the target — above 0 the ring also fell (benefits spread), below 0 "
           "incidents moved into the ring. **WDD** (weighted displacement difference): the incidents the "
           "target and ring together gained or lost against the control, with its test. **TNE** (total "
           "net effect): incidents prevented (positive) or added (negative) in the target and ring "
           "together, given the control's trend.")

# the target beside its comparison areas; the robustness table; the placebo histogram
area = gpd.GeoDataFrame({"name": [ev.area]}, geometry=[answer.target], crs=settings.CRS)
ring = gpd.GeoDataFrame({"name": [f"{buffer_m:g} m buffer ring"]}, geometry=[answer.ring], crs=settings.CRS)
ring = ring[~ring.geometry.is_empty]
left, right = st.columns([3, 2])
with left:
    st.markdown(f"**Compared with:** {answer.control_text()}")
    if len(answer.control_polygons):
        others = None
        if answer.method == "matched":
            cand = answer.matched.candidates
            others = cand[~cand["chosen"]][["name", "geometry"]]
        common.show_map(maps.comparison_map(area, answer.control_polygons, buffer=ring, candidates=others,
                                            tiles=common.tiles()), key="ba-map-control", height=430,
                        download="comparison-areas-map")
        common.png_download(lambda: static_maps.matched_areas_png(answer.target, answer.ring,
                                                                  answer.control_polygons),
                            f"comparison-areas-{ev.area}", key="ba-control-map")
    else:
        st.caption("The control is every other incident outside the target, its ring and other "
                   "treated places: nothing to draw.")
    fit = answer.pre_fit
    if fit is not None and fit.p_value is not None:
        st.caption(f"Pre-period fit, {fmt_month(fit.months[0])} to {fmt_month(fit.months[-1])}: pre-trend "
                   f"test p = {fit.p_value:.3g}; mean monthly gap {fit.gap:.0f}% of the target's mean.")
with right:
    st.markdown("**Robustness: the effect under each control**")
    st.dataframe(answer.robustness_table(), hide_index=True, key="ba-robustness")
    st.caption(robustness_sentence)
    p = answer.placebo
    if p is not None and p.n:
        st.markdown("**Placebo test**")
        st.altair_chart(charts.placebo_histogram(p.effects["rate_ratio"].tolist(),
                                                 ev.effect.rate_ratio if ev.effect is not None else None),
                        width="stretch")
        st.caption(f"Each of {p.n} places like the target treated as if it had been the target; "
                   + (f"the target ranks {p.rank} of {p.n + 1}, placebo p = {p.p_value:.2f}."
                      if p.p_value is not None else "no target effect to rank."))

# two maps, same extent and colour scale
pad = 150.0
bounds = tuple(float(v) for v in pd.concat([area, ring]).total_bounds)
locs_b = cache.window_locations(ds.key, bounds, pad, category, tuple(ev.before.months))
locs_a = cache.window_locations(ds.key, bounds, pad, category, tuple(ev.after.months))
m_before, m_after = maps.before_after_maps(area, locs_b, locs_a, buffer=ring, pad_m=pad,
                                             tiles=common.tiles())
left, right = st.columns(2)
with left:
    st.markdown(f"**Before** — {fmt_month(ev.before.start)} to {fmt_month(ev.before.end)}: "
                f"{formatting.fmt_int(ev.before.count)} in the area")
    common.show_map(m_before, key="ba-map-before", height=430, download="before-map")
with right:
    st.markdown(f"**After** — {fmt_month(ev.after.start)} to {fmt_month(ev.after.end)}: "
                f"{formatting.fmt_int(ev.after.count)} in the area")
    common.show_map(m_after, key="ba-map-after", height=430, download="after-map")
st.caption("Both maps share the extent and the scale: circle size and heat intensity mean the same "
           "number of incidents at one location on each.")
common.png_download(lambda: static_maps.window_pair_png(ds.incidents, answer.target, before=ev.before.months,
                                                        after=ev.after.months, category=list(category) or None,
                                                        ring=answer.ring, cell_m=answer.cell_m),
                    f"before-after-{ev.area}", key="ba-pair")

# monthly series with the intervention marked; the target against its comparison areas
series = ev.series
marks = [(ev.before.start, ev.before.end, "before"), (ev.after.start, ev.after.end, "after")]
if ev.baseline is not None:
    marks.append((ev.baseline.start, ev.baseline.end, "baseline"))
if len(series):
    shown = series[series["series"].isin(["target", "buffer"])].copy()
    shown["series"] = shown["series"].map({"target": ev.area, "buffer": f"{buffer_m:g} m ring"})
    st.altair_chart(charts.monthly_series(shown, marks=marks, title="Incidents per month"),
                    width="stretch")
paired = answer.matched.series
if answer.method == "matched" and len(paired) and paired["control"].notna().any():
    tidy = paired.melt(id_vars="month", value_vars=["target", "control"], var_name="series", value_name="count")
    tidy["series"] = tidy["series"].map({"target": ev.area,
                                         "control": "comparison areas (scaled to the target's pre-period)"})
    st.altair_chart(charts.monthly_series(tidy, marks=marks, title="The target and its comparison areas"),
                    width="stretch")

with st.expander("Full evaluation (method, control, robustness, WDD, TNE)"):
    st.markdown(formatting.evaluation_markdown(answer))
d = st.columns(3)
d[0].download_button("Evaluation (Markdown)", formatting.evaluation_markdown(answer).encode("utf-8"),
                     "evaluation.md", "text/markdown", key="ba-md", on_click="ignore")
d[1].download_button("Evaluation (JSON)", formatting.json_text(answer.to_dict()).encode("utf-8"),
                     "evaluation.json", "application/json", key="ba-json", on_click="ignore")
d[2].download_button("Monthly series (CSV)", exports.csv_bytes(series),
                     "evaluation-series.csv", "text/csv", key="ba-csv", on_click="ignore")
