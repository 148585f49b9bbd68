"""Fires: deliberate primary/secondary fires by ward (count and rate per 1,000), by property type
and by month; clusters of secondary fires."""

import folium
import pandas as pd
import streamlit as st

from hotspot_app import areas as core_areas
from hotspot_app import charts, maps, reports
from hotspot_app.ui import cache, common

st.title("Deliberate fires")
ds = common.dataset()
common.banner(ds)
if not ds.incidents["kind"].eq("fire").any():
    st.info("No fire-service incidents are loaded. Load a fire extract on the *Data* page.")
    st.stop()

FIRE_GROUPS = {"deliberate-fires": "All deliberate fires",
               "deliberate-primary-fires": "Deliberate primary fires (F1)",
               "deliberate-secondary-fires": "Deliberate secondary fires (F3)"}
c1, c2, c3 = st.columns([1.5, 2, 1.2])
group = c1.selectbox("Fires", list(FIRE_GROUPS), format_func=FIRE_GROUPS.get, key="fi-group")
with c2:
    months = common.period_picker(ds, "fi-period")
metric = c3.radio("Ward metric", ["count", "rate"], key="fi-metric",
                  format_func={"count": "Count", "rate": "Rate per 1,000 residents"}.get)
selection = (group,)

ranking, warnings = cache.ward_ranking(ds.key, selection, months)
common.show_warnings(warnings)
wards_rows = ranking[ranking["area_id"] != core_areas.OUTSIDE].set_index("area_id")
total = ranking.attrs.get("total")
st.metric(f"{FIRE_GROUPS[group]}, {len(months)} months", reports.fmt_int(total))

# secondary-fire clusters
with st.expander("Clusters of deliberate secondary fires", expanded=True):
    k1, k2 = st.columns(2)
    eps_m = k1.number_input("eps (metres)", 10.0, 2000.0, 150.0, 10.0, key="fi-eps")
    min_samples = k2.number_input("Min samples", 1, 1000, 8, 1, key="fi-min")
    clus = cache.clusters(ds.key, ("deliberate-secondary-fires",), (months[0], months[-1]),
                          float(eps_m), int(min_samples))
    if clus.message:
        st.info(clus.message)
    else:
        st.caption(f"{len(clus.areas)} clusters of secondary fires "
                   f"({clus.n_incidents - clus.n_noise:,} of {clus.n_incidents:,} fires).")

if metric == "rate":
    values, title, fmt = wards_rows["rate_per_1000"].astype(float), "Fires per 1,000", "{:,.2f}"
else:
    values, title, fmt = wards_rows["count"].astype(float), "Fires", "{:,.0f}"
m = maps.base_map(maps.bounds_of(ds.wards), tiles=common.tiles())
if len(ds.wards):
    layer, scale = maps.choropleth(ds.wards, values, title=title, fmt=fmt, name=f"Wards: {title}")
    layer.add_to(m)
    maps.Legend(scale).add_to(m)
locs = cache.locations(ds.key, selection, months)
if len(locs):
    maps.heat_layer(locs, name="Fire heat", show=False).add_to(m)
    mk = maps.location_markers(locs, name="Fire locations", show=True)
    if mk is not None:
        mk.add_to(m)
if len(clus.areas):
    maps.patrol_areas(clus.areas, name="Secondary-fire clusters").add_to(m)
folium.LayerControl(collapsed=True).add_to(m)
common.show_map(m, key="fi-map", download=f"fires-{metric}")

left, right = st.columns(2)
with left:
    st.subheader("By property type")
    by_type = cache.breakdown(ds.key, "subcategory", selection, months)
    if len(by_type):
        st.altair_chart(charts.bars(by_type, label="subcategory", value_title="Fires"), width="stretch")
    st.dataframe(by_type, hide_index=True, width="stretch",
                 column_config={"subcategory": "Property type", "count": "Fires",
                                "share_pct": st.column_config.NumberColumn("Share", format="%.1f%%")})
    common.downloads(by_type, "fires-by-property-type", key="fi-type-dl")
with right:
    st.subheader("By month")
    monthly = cache.monthly(ds.key, selection, split="category")
    monthly = monthly[monthly["month"].isin(months)]
    if len(monthly):
        st.altair_chart(charts.stacked_monthly(monthly, by="category"), width="stretch")
    common.downloads(monthly, "fires-by-month", key="fi-month-dl")

st.subheader("By ward")
st.dataframe(reports.rank_display(ranking), hide_index=True, width="stretch")
common.downloads(ranking, "fires-by-ward", key="fi-ward-dl")
