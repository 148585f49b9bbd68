"""Overview: ward choropleth (count, rate per 1,000, change), incident heat, town centres and
micro-hotspots, category/period filters, KPI cards with the micro-hotspot summary."""

import streamlit as st

from hotspot_app.core import areas as areas_mod
from hotspot_app.core import coverage, measures, periods
from hotspot_app.render import formatting, maps
from hotspot_app.ui import cache, common

st.title("Overview")
ds = common.dataset()
common.banner(ds)

METRICS = {"count": "Count", "rate": "Rate per 1,000 residents", "change": "% change on a year earlier"}

c1, c2, c3 = st.columns([2, 2, 1.3])
with c1:
    category = common.category_picker(ds, "ov-cat", default=["crime"])
with c2:
    months = common.period_picker(ds, "ov-period")
with c3:
    metric = st.radio("Ward metric", list(METRICS), format_func=METRICS.get, key="ov-metric")

within = common.place_picker(ds, "ov-place")
where = areas_mod.describe_within(list(within)) if within else None
with common.answer_or_stop():
    wards = cache.place(ds.key, within)[1]  # the wards of the place chosen (all loaded for none)
common.print_caption(ds, months, category, title="Overview" + (f" of {where}" if where else ""))
kpi_box = st.container()  # filled after the map is sent, so the map frame starts loading first

# ---------------------------------------------------------------- map
ranking, ranked_doc = cache.ward_ranking(ds.key, category, months, within)
ward_ids = wards["area_id"].astype(str)
counts, warnings = cache.ward_values(ds.key, category, months, "count", within)
rates, _ = cache.ward_values(ds.key, category, months, "rate", within)
if metric == "change":
    change, warnings = cache.ward_change(ds.key, category, months, within)
    values = change.set_index("area_id")["pct_change"].astype(float)
    title, fmt, diverging = "% change on a year earlier", "{:+.1f}%", True
    extra = {"Count": [formatting.fmt_int(v) for v in ward_ids.map(change.set_index("area_id")["count"])],
             "A year earlier": [formatting.fmt_int(v) for v in ward_ids.map(change.set_index("area_id")["previous"])]}
elif metric == "rate":
    values = rates.astype(float)
    title, fmt, diverging = "Rate per 1,000", "{:,.1f}", False
    extra = {"Count": [formatting.fmt_int(v) for v in ward_ids.map(counts)]}
else:
    values = counts.astype(float)
    title, fmt, diverging = "Incidents", "{:,.0f}", False
    extra = {"Rate per 1,000": [formatting.fmt_rate(v) for v in ward_ids.map(rates)]}
common.show_warnings(warnings)
if metric == "rate" and values.isna().all():
    st.info("The ward boundaries have no population, so rates cannot be computed.")

locs = cache.locations(ds.key, category, months, within)
n_sel = cache.count_selected(ds.key, category, months, within)
st.caption(f"{n_sel:,} incidents selected" + (f" in {where}" if where else "") + " at"
           f" {len(locs):,} distinct locations; the heat layer is "
           f"weighted by incidents per location (a layer of location circles is added when there "
           f"are at most {maps.OVERVIEW_MARKERS:,} locations; see Hotspots for patrol areas).")
# made (and rendered) once per workspace version and selection, then sent as it was
common.show_map(lambda: maps.overview_map(wards, values, locs, metric_title=title, fmt=fmt, diverging=diverging,
                                          extra=extra, town_centres=ds.town_centres,
                                          micro_hotspots=ds.micro_hotspots, tiles=common.tiles()),
                key="ov-map", download=f"overview-{metric}", token=(ds.key, category, months, metric, within))


def _png() -> bytes:
    """The map as PNG, drawn when the button is clicked (matplotlib is imported then, not at the
    page's first paint)."""
    from hotspot_app.render import static_maps

    shades = [None if measures.is_missing(v) else float(v) for v in wards["area_id"].astype(str).map(values)]
    return static_maps.choropleth_png(wards, shades, title=f"{title}" + (f" in {where}" if where else "")
                                      + f", {periods.describe([months[0], months[-1]])}",
                                      legend_title=title, diverging=diverging)


common.png_download(_png, f"overview-{metric}", key="ov-map")

# ---------------------------------------------------------------- KPI cards for one area
with kpi_box:
    area_choices = {cache.ALL: f"All of {where}" if where else "All areas loaded"}
    inside = wards.geometry.union_all() if within else None
    for layer in (wards, ds.town_centres, ds.micro_hotspots):
        if inside is not None and layer is not wards:
            layer = layer[layer.intersects(inside)]  # the town centres and micro-hotspots of the place
        area_choices.update({str(a): str(n) for a, n in zip(layer["area_id"], layer["name"])})
    common.keep_choice("ov-area", area_choices)
    area_id = st.selectbox("Area for the summary", list(area_choices), format_func=area_choices.get,
                           key="ov-area")
    summary = cache.area_summary(ds.key, area_id, months[-1], len(months), within)
    kpis = [("crime", "Crimes"), ("asb", "ASB incidents"), ("fires", "Deliberate fires")]
    cols = st.columns(len([k for k, _ in kpis if k in summary]))
    span = periods.describe([months[0], months[-1]]) if len(months) > 1 else periods.describe(months)
    for col, (k, label) in zip(cols, [kp for kp in kpis if kp[0] in summary]):
        block = summary[k]
        loaded = coverage.kind_loaded(ds.kind_sources, {"fires": "fire"}.get(k, k))
        col.metric(f"{label}, {span}", formatting.fmt_int(block.get("current")) if loaded else "not loaded",
                   formatting.change_text(block.get("diff"), block.get("pct_diff")), delta_color="inverse",
                   help="Compared with the same months a year earlier.")
    st.markdown(f"> {summary['text']}")
    common.show_warnings(summary.get("warnings", []))

# ---------------------------------------------------------------- ward table
st.subheader("Wards")
if len(ranking) > 1:
    for sentence in ranked_doc.get("sentences", []):  # the rank question's sentences, as the CLI and pack say them
        st.markdown(sentence)
table = formatting.rank_display(ranking)
common.table(table, hide_index=True, width="stretch")
common.downloads(ranking, f"wards-{months[0]}-{months[-1]}", key="ov-dl")
