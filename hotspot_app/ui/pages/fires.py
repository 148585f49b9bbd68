"""Fires (the prevention officer): how precise the fire locations are, deliberate primary and
secondary fires by ward (the boundaries loaded, or the file's own ward column), ward × month,
secondary-fire clusters as a named table with downloads, property types (every label shown),
by month, and when fires happen (day × hour, where the records have times)."""

import folium
import pandas as pd
import streamlit as st

from hotspot_app.core import areas as core_areas
from hotspot_app.render import charts, maps, formatting
from hotspot_app.io import exports
from hotspot_app.core import patrol, taxonomy
from hotspot_app.ui import cache, common, patrol_calls

st.title("Deliberate fires")
ds = common.dataset()
common.banner(ds)
if not ds.incidents["kind"].eq("fire").any():
    st.info("No fire-service incidents are loaded. Load a fire extract on the *Data* page.")
    st.stop()

precision, precision_note = patrol_calls.fire_precision(ds.key)
if precision_note:
    st.warning(precision_note, icon=":material/location_on:")

FIRE_GROUPS = {g: taxonomy.selection_label([g], capital=True)  # the one set of group labels
               for g in ("deliberate-fires", "deliberate-primary-fires", "deliberate-secondary-fires")}
c1, c2, c3 = st.columns([1.5, 2, 1.2])
group = c1.selectbox("Fires", list(FIRE_GROUPS), format_func=FIRE_GROUPS.get, key="fi-group")
with c2:
    months = common.period_picker(ds, "fi-period")
has_wards = len(ds.wards) > 0
metric = c3.radio("Ward metric", ["count", "rate"], key="fi-metric", disabled=not has_wards,
                  format_func={"count": "Count", "rate": "Rate per 1,000 residents"}.get)
selection = (group,)

ward_table, how, wm_warnings = patrol_calls.fires_ward_month(ds.key, selection, months)
ranking, warnings = (cache.ward_ranking(ds.key, selection, months) if has_wards else (None, []))
common.show_warnings(list(warnings) + list(wm_warnings))
total_row = ward_table[ward_table["ward"] == "Total"]
total = int(total_row["Total"].iloc[0]) if len(total_row) and pd.notna(total_row["Total"].iloc[0]) else None
st.metric(f"{FIRE_GROUPS[group]}, {len(months)} months", formatting.fmt_int(total))

# ---------------------------------------------------------------- secondary-fire clusters
st.subheader("Clusters of deliberate secondary fires")
default_eps = max(150.0, float(precision or 0.0))
k1, k2, k3 = st.columns(3)
eps_m = k1.number_input("eps (metres)", 10.0, 5000.0, default_eps, 10.0, key="fi-eps",
                        help="Fires within this distance are neighbours; never finer than the locations' "
                             "precision.")
min_samples = k2.number_input("Min samples", 1, 1000, 5, 1, key="fi-min")
top = int(k3.number_input("Top", 1, 50, 10, 1, key="fi-top"))
clus = patrol_calls.patrol_areas(ds.key, ("deliberate-secondary-fires",), (months[0], months[-1]),
                                 float(eps_m), int(min_samples))
common.show_warnings(clus.warnings)
shown = clus.areas.sort_values("rank", kind="stable").head(top).reset_index(drop=True)
if clus.message:
    st.info(clus.message)
else:
    st.caption(f"{len(clus.areas)} clusters hold {clus.n_incidents - clus.n_noise:,} of {clus.n_incidents:,} "
               f"secondary fires; the top {len(shown)} are listed.")
if len(shown):
    ctable = patrol.display_table(shown)
    st.dataframe(ctable, hide_index=True, width="stretch",
                 column_config={**{c: patrol.DISPLAY[c] for c in ctable.columns},
                                "area_m2": st.column_config.NumberColumn("Size (m²)", format="%,d")})
    token = patrol_calls.geo_downloads_token(shown, ds.key, months[0], months[-1], eps_m, min_samples, top)
    patrol_calls.download_row(ds.key, shown, ctable, token, stem="secondary-fire-clusters",
                              widget_key="fi-clu", png_title="Clusters of deliberate secondary fires")

# ---------------------------------------------------------------- map
m = maps.base_map(maps.bounds_of(ds.wards) or maps.bounds_of(shown) or None, tiles=common.tiles())
if has_wards:
    wards_rows = ranking[ranking["area_id"] != core_areas.OUTSIDE].set_index("area_id")
    if metric == "rate":
        values, title, fmt = wards_rows["rate_per_1000"].astype(float), "Fires per 1,000", "{:,.2f}"
    else:
        values, title, fmt = wards_rows["count"].astype(float), "Fires", "{:,.0f}"
    layer, scale = maps.choropleth(ds.wards, values, title=title, fmt=fmt, name=f"Wards: {title}")
    layer.add_to(m)
    maps.Legend(scale).add_to(m)
locs = cache.locations(ds.key, selection, months)
if len(locs):
    maps.heat_layer(locs, name="Fire heat", show=False).add_to(m)
    mk = maps.location_markers(locs, name="Fire locations" + (f" (±{precision / 2:,.0f} m)" if precision else ""),
                               show=True)
    if mk is not None:
        mk.add_to(m)
if len(shown):
    maps.patrol_areas(shown, name="Secondary-fire clusters",
                      fields={c: l for c, l in (("rank", "Rank"), ("name", "Name"), ("count", "Fires"))
                              if c in shown.columns}).add_to(m)
    maps.rank_markers(shown, name="Cluster numbers").add_to(m)
    maps.patrol_legend(position="bottomleft").add_to(m)
folium.LayerControl(collapsed=True).add_to(m)
common.show_map(m, key="fi-map", download=f"fires-{metric}")

# ---------------------------------------------------------------- by ward, by ward × month
st.subheader("By ward")
st.caption(f"Ward from {how}.")
if has_wards:
    st.dataframe(formatting.rank_display(ranking), hide_index=True, width="stretch")
    common.downloads(ranking, "fires-by-ward", key="fi-ward-dl")
st.markdown("**Ward × month**")
st.dataframe(ward_table, hide_index=True, width="stretch")
w1, w2 = st.columns(2)
w1.download_button("CSV", data=exports.csv_bytes(ward_table), file_name="fires-ward-by-month.csv",
                   mime="text/csv", key="fi-wm-csv", on_click="ignore")
w2.download_button("XLSX", data=lambda: formatting.xlsx_bytes(exports.neutralise_frame(ward_table)),
                   file_name="fires-ward-by-month.xlsx", key="fi-wm-xlsx", on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# ---------------------------------------------------------------- property type, month
st.subheader("By property type")
by_type = cache.breakdown(ds.key, "subcategory", selection, months)
if len(by_type):
    st.altair_chart(charts.bars(by_type, label="subcategory", value_title="Fires", top=None), width="stretch")
st.dataframe(by_type, hide_index=True, width="stretch",
             column_config={"subcategory": "Property type", "count": "Fires",
                            "share_pct": st.column_config.NumberColumn("Share", format="%.1f%%")})
common.downloads(by_type, "fires-by-property-type", key="fi-type-dl")

st.subheader("By month")
monthly = cache.monthly(ds.key, selection, split="category")
monthly = monthly[monthly["month"].isin(months)]
if len(monthly):
    st.altair_chart(charts.stacked_monthly(monthly, by="category"), width="stretch")
common.downloads(monthly, "fires-by-month", key="fi-month-dl")

# ---------------------------------------------------------------- when
patrol_calls.when_section(ds.key, selection, months, widget_key="fi-dh-dl", name="fires-by-weekday-and-hour", value_title="Fires")
