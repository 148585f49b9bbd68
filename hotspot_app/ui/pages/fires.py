"""Fires (the prevention officer): how precise the fire locations are, deliberate primary and
secondary fires by ward (the boundaries loaded, or the file's own ward column), ward × month,
secondary-fire clusters as a named table with downloads, property types (every label shown),
by month, and when fires happen (day × hour, where the records have times)."""

import folium
import streamlit as st

from hotspot_app.core import areas as areas_mod
from hotspot_app.core import fire_summary as core_fires
from hotspot_app.core import params, patrol, periods, taxonomy
from hotspot_app.io import exports
from hotspot_app.questions import fires
from hotspot_app.render import charts, formatting, maps
from hotspot_app.ui import cache, common, patrol_calls

st.title("Deliberate fires")
ds = common.dataset()
common.banner(ds)
if not ds.incidents["kind"].eq("fire").any():
    st.info("No fire-service incidents are loaded. Load a fire extract on the *Data* page.")
    st.stop()

FIRE_GROUPS = {g: taxonomy.selection_label([g], capital=True) for g in fires.GROUPS}  # the one set of labels
c1, c2, c3 = st.columns([1.5, 2, 1.2])
group = c1.selectbox("Fires", list(FIRE_GROUPS), format_func=FIRE_GROUPS.get, key="fi-group")
with c2:
    months = common.period_picker(ds, "fi-period", kind="fire")
has_wards = len(ds.wards) > 0
metric = c3.radio("Ward metric", ["count", "rate"], key="fi-metric", disabled=not has_wards,
                  format_func={"count": "Count", "rate": "Rate per 1,000 residents"}.get)
category = (group,)
within = common.place_picker(ds, "fi-place")
where = areas_mod.describe_within(list(within)) if within else None
with common.answer_or_stop():
    wards = cache.place(ds.key, within)[1]  # the wards of the place chosen (all loaded for none)
common.print_caption(ds, months, category, title="Deliberate fires" + (f" in {where}" if where else ""))

summary = patrol_calls.fire_summary(ds.key, group, months, within)
if summary.precision_note:
    st.warning(summary.precision_note, icon=":material/location_on:")
ranking, ranked_doc = (cache.ward_ranking(ds.key, category, months, within) if has_wards
                       else (None, {"warnings": []}))
common.show_warnings(list(ranked_doc["warnings"]) + list(summary.warnings))
st.metric(f"{FIRE_GROUPS[group]}" + (f" in {where}" if where else "") + f", {len(months)} months",
          formatting.fmt_int(summary.total))

# ---------------------------------------------------------------- secondary-fire clusters
st.subheader("Clusters of deliberate secondary fires")
defaults = patrol_calls.fire_defaults(ds.key)
k1, k2, k3 = st.columns(3)
eps_m = k1.number_input("eps (metres)", value=defaults["eps_m"], key="fi-eps", **params.widget("eps_m"),
                        help="Fires within this distance are neighbours; never finer than the locations' "
                             "precision.")
min_samples = k2.number_input("Min samples", value=defaults["min_samples"], key="fi-min",
                              **params.widget("min_samples"))
top = int(k3.number_input("Top", value=defaults["top"], key="fi-top", **params.widget("top")))
clus = patrol_calls.fire_clusters(ds.key, (months[0], months[-1]), float(eps_m), int(min_samples), top, within)
common.show_warnings(clus.warnings)
shown = clus.areas
if clus.message:
    st.info(clus.message)
else:
    st.caption(f"{clus.n_found} clusters hold {clus.n_incidents - clus.n_noise:,} of {clus.n_incidents:,} "
               f"secondary fires; the top {len(shown)} are listed.")
if len(shown):
    ctable = patrol.display_table(shown, per_ha=fires.per_ha_meaningful(summary.precision_m))
    common.table(ctable, headings=patrol.DISPLAY, hide_index=True, width="stretch",
                 column_config={**{c: patrol.DISPLAY[c] for c in ctable.columns},
                                "area_m2": st.column_config.NumberColumn("Size (m²)", format="%,d")})
    token = common.geo_downloads_token(shown, ds.key, months[0], months[-1], eps_m, min_samples, top, within)
    common.download_row(ds.key, shown, ctable, token, stem="secondary-fire-clusters",
                        widget_key="fi-clu",
                        png_title="Clusters of deliberate secondary fires" + (f" in {where}" if where else "")
                                  + f", {periods.describe([months[0], months[-1]])}")

# ---------------------------------------------------------------- map
m = maps.base_map(maps.bounds_of(wards) or maps.bounds_of(shown) or None, tiles=common.tiles())
if has_wards:
    values, _ = cache.ward_values(ds.key, category, months, metric, within)
    title, fmt = ("Fires per 1,000", "{:,.2f}") if metric == "rate" else ("Fires", "{:,.0f}")
    layer, scale = maps.choropleth(wards, values.astype(float), title=title, fmt=fmt, name=f"Wards: {title}")
    layer.add_to(m)
    maps.Legend(scale).add_to(m)
locs = cache.locations(ds.key, category, months, within)
precision = summary.precision_m
if len(locs):
    maps.heat_layer(locs, name="Fire heat", show=False).add_to(m)
    mk = maps.location_markers(locs, name="Fire locations" + (f" (±{precision / 2:,.0f} m)" if precision else ""),
                               show=True)
    if mk is not None:
        mk.add_to(m)
if len(shown):
    maps.patrol_area_layer(shown, name="Secondary-fire clusters",
                           fields={c: label for c, label in (("rank", "Rank"), ("name", "Name"), ("count", "Fires"))
                                   if c in shown.columns}).add_to(m)
    maps.rank_markers(shown, name="Cluster numbers").add_to(m)
    maps.patrol_legend(position="bottomleft").add_to(m)
folium.LayerControl(collapsed=True).add_to(m)
common.show_map(m, key="fi-map", download=f"fires-{metric}")

# ---------------------------------------------------------------- by ward, by ward × month
st.subheader("By ward")
st.caption(f"Ward from {summary.how}.")
if has_wards:
    common.table(formatting.rank_display(ranking), hide_index=True, width="stretch")
    common.downloads(ranking, "fires-by-ward", key="fi-ward-dl")
st.markdown("**Ward × month**")
ward_table = summary.ward_month
common.table(ward_table, hide_index=True, width="stretch")
w1, w2 = st.columns(2)
w1.download_button("CSV", data=lambda: exports.csv_bytes(ward_table), file_name="fires-ward-by-month.csv",
                   mime="text/csv", key="fi-wm-csv", on_click="ignore")
w2.download_button("XLSX", data=lambda: formatting.xlsx_bytes(exports.neutralise_frame(ward_table)),
                   file_name="fires-ward-by-month.xlsx", key="fi-wm-xlsx", on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# ---------------------------------------------------------------- the bonfire period
st.subheader("Bonfire period against the rest of the year")
MONTH_NAMES = core_fires.MONTH_NAMES
b1, b2 = st.columns([2, 1.4])
season = b1.multiselect("Months compared with the rest of the year", list(range(1, 13)),
                        default=list(core_fires.BONFIRE_MONTHS), key="fi-season",
                        format_func=lambda m: MONTH_NAMES[m - 1],
                        help="October–November (Halloween, Bonfire Night) by default; choose any months.")
span = b2.radio("Months used", ["all", "period"], key="fi-season-from", horizontal=True,
                format_func={"all": "Every month loaded", "period": "The period above"}.get,
                help="A season needs several years to compare: every month loaded by default.")
if not season or len(season) == 12:
    st.info("Choose between one and eleven months to compare with the rest of the year.")
else:
    with common.answer_or_stop():
        seas = patrol_calls.seasonal(ds.key, group, tuple(ds.months) if span == "all" else tuple(months),
                                     tuple(sorted(season)), within)
    common.show_warnings(seas.warnings)
    st.markdown(f"**{seas.sentence(FIRE_GROUPS[group].lower())}**")
    st.caption(seas.method)
    st.altair_chart(charts.season_bars(seas.by_month, seas.label, value_title="Fires"), width="stretch")
    ward_season = seas.by_ward.rename(columns={
        "ward": "Ward", "season_months": "Months in season", "other_months": "Other months",
        "season_count": "Fires in season", "other_count": "Fires otherwise",
        "season_per_month": "A month in season", "other_per_month": "A month otherwise",
        "rate_ratio": "Rate ratio", "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "p",
        "pct_change": "Change (%)", "pct_low": "Change low (%)", "pct_high": "Change high (%)",
        "dispersion": "Dispersion"})
    common.table(ward_season, hide_index=True, width="stretch",
                 column_config={"p": st.column_config.NumberColumn("p", format="%.3f")})
    common.downloads(ward_season, f"fires-{core_fires.season_label(season).lower()}-by-ward",
                     key="fi-season-dl")

# ---------------------------------------------------------------- property type, month
st.subheader("By property type")
by_type = cache.breakdown(ds.key, "subcategory", category, months, within)
if len(by_type):
    st.altair_chart(charts.bars(by_type, label="subcategory", value_title="Fires", top=None), width="stretch")
st.dataframe(by_type, hide_index=True, width="stretch",
             column_config={"subcategory": "Property type", "count": "Fires",
                            "share_pct": st.column_config.NumberColumn("Share", format="%.1f%%")})
common.downloads(by_type, "fires-by-property-type", key="fi-type-dl")

st.subheader("By month")
monthly, _ = cache.monthly(ds.key, category, months, split="category", within=within)
if len(monthly):
    st.altair_chart(charts.stacked_monthly(monthly, by="category"), width="stretch")
common.downloads(monthly, "fires-by-month", key="fi-month-dl")

# ---------------------------------------------------------------- when
common.when_section(ds.key, category, months, widget_key="fi-dh-dl", name="fires-by-weekday-and-hour",
                    value_title="Fires", within=within)
