"""Hotspots: patrol areas people can act on — a preset (street-level / neighbourhood; eps and
min samples under Advanced), the top N named, numbered areas on the map and in a table (click a
row to zoom), readable sizes, warnings first, PAI in words, harm ranking, the concentration
curve, when incidents happen, and downloads of every table and map."""

import folium
import streamlit as st

from hotspot_app.render import charts, maps
from hotspot_app.core import harm, patrol, settings
from hotspot_app.core.errors import InputError
from hotspot_app.ui import cache, common, patrol_calls

st.title("Hotspots and patrol areas")
ds = common.dataset()
common.banner(ds)

c1, c2 = st.columns([2, 2])
with c1:
    selection = common.category_picker(ds, "hs-cat", default=["asb"])
with c2:
    months = common.period_picker(ds, "hs-period")
p1, p2, p3 = st.columns([2, 1, 1.4])


def _apply_preset():
    chosen = patrol.PRESETS[st.session_state["hs-preset"]]
    st.session_state["hs-eps"] = float(chosen.eps_m)
    st.session_state["hs-min"] = int(chosen.min_samples)


preset_name = p1.radio("Patrol areas", list(patrol.PRESETS), horizontal=True, key="hs-preset",
                       format_func=lambda k: k.replace("-", " ").capitalize(), on_change=_apply_preset,
                       help="; ".join(f"{k}: {p.text}" for k, p in patrol.PRESETS.items()))
if "hs-eps" not in st.session_state:
    _apply_preset()
top = int(p2.number_input("Top", min_value=1, max_value=50, value=5, step=1, key="hs-top",
                          help="How many of the highest-ranked areas to show and plan for."))
rank_by = p3.radio("Rank by", ["count", "harm"], horizontal=True, key="hs-rank",
                   format_func={"count": "Incidents", "harm": "Harm"}.get,
                   help="Harm weights each incident by a documented severity weight (design §6); "
                        "counting incidents is the default.")
preset = patrol.PRESETS[preset_name]
if (float(st.session_state["hs-eps"]), int(st.session_state["hs-min"])) == (preset.eps_m, preset.min_samples):
    st.caption(f"**{preset_name.replace('-', ' ').capitalize()}**: {preset.text}.")
else:
    st.caption(f"Own settings (Advanced): incidents within {st.session_state['hs-eps']:g} m, at least "
               f"{int(st.session_state['hs-min'])} of them.")

with st.expander("Advanced: eps, min samples, space–time, grid layer"):
    a1, a2, a3, a4 = st.columns(4)
    eps_m = a1.number_input("eps (metres)", min_value=5.0, max_value=5000.0,
                            step=5.0, key="hs-eps",
                            help="Two incidents are neighbours within this distance.")
    min_samples = a2.number_input("Min samples", min_value=1, max_value=10_000,
                                  step=1, key="hs-min",
                                  help="Incidents within eps (itself included) that make a dense core.")
    space_time = a3.toggle("Space–time", key="hs-st", help="Neighbours must also be close in time (needs dates).")
    days = a4.number_input("Days", min_value=1.0, max_value=365.0, value=30.0, step=1.0, key="hs-days",
                           disabled=not space_time)
    GRIDS = {"none": "None", "count": "Counts per cell", "kde": "Kernel density (KDE)",
             "gistar": "Gi* hot and cold spots (FDR-corrected)"}
    g1, g2, g3 = st.columns([2, 1, 1])
    grid_method = g1.radio("Grid layer", list(GRIDS), format_func=GRIDS.get, horizontal=True, key="hs-grid")
    cell_m = g2.number_input("Cell size (m)", min_value=25.0, max_value=2000.0, value=float(settings.CELL_M),
                             step=25.0, key="hs-cell")
    shape = g3.radio("Cells", ["square", "hex"], horizontal=True, key="hs-shape")
    try:
        guide = cache.eps_suggestion(ds.key, selection, (months[0], months[-1]), int(min_samples))
    except InputError as exc:
        st.info(str(exc))
    else:
        st.markdown(f"For **{int(min_samples)}** min samples the k-distance curve bends at about "
                    f"**{guide.eps_m:,.0f} m**: a guide, not a rule — patrol areas should stay walkable, "
                    "so prefer the smaller of this and a few streets.")
        st.altair_chart(charts.k_distance(guide.curve, guide.eps_m), width="stretch")

period = (months[0], months[-1])
weight = "harm" if rank_by == "harm" else None
with st.status("Finding patrol areas…", expanded=False) as status:
    found = patrol_calls.patrol_areas(ds.key, selection, period, float(eps_m), int(min_samples),
                                      float(days) if space_time else None, weight)
    status.update(label=f"{len(found.areas)} patrol areas from {found.n_incidents:,} incidents "
                        f"({found.n_noise:,} not in any area)", state="complete")
cells = None
if grid_method != "none":
    cells = cache.grid(ds.key, selection, period, grid_method, float(cell_m), shape)
    found_warnings = list(found.warnings) + list(cells.attrs.get("warnings", []))
else:
    found_warnings = list(found.warnings)
# warnings first
common.show_warnings(found_warnings)
if found.message:
    st.info(found.message)
shown = found.areas.sort_values("rank", kind="stable").head(top).reset_index(drop=True)
st.session_state["hs-current"] = {"selection": selection, "period": period, "eps_m": float(eps_m),
                                  "min_samples": int(min_samples), "top": top, "weight": weight,
                                  "preset": preset_name}

table = patrol.display_table(shown, weighted=weight is not None)
if len(shown):
    st.markdown(f"**Top {len(shown)} of {len(found.areas)} patrol areas** "
                f"({int(shown['count'].sum()):,} of {found.n_incidents:,} incidents). "
                "Click a row to zoom the map to it.")
picked = None
if len(table):
    event = st.dataframe(
        table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
        key="hs-table",
        column_config={**{c: patrol.DISPLAY[c] for c in table.columns},
                       "area_m2": st.column_config.NumberColumn("Size (m²)", format="%,d"),
                       "area_ha": st.column_config.NumberColumn("Size (ha)", format="%.2f"),
                       "incidents_per_ha": st.column_config.NumberColumn("Incidents per ha", format="%.2f"),
                       "latitude": st.column_config.NumberColumn("Latitude", format="%.5f"),
                       "longitude": st.column_config.NumberColumn("Longitude", format="%.5f"),
                       "walkable": st.column_config.CheckboxColumn("Walkable")})
    rows = event.selection.rows if event is not None else []
    picked = int(rows[0]) if rows else None
else:
    st.caption("No patrol areas for these settings.")

# ---------------------------------------------------------------- the map
if picked is not None:
    bounds = maps.bounds_of(shown.iloc[[picked]], pad_m=150.0)
    st.caption(f"Map zoomed to #{int(shown['rank'].iloc[picked])} {shown['name'].iloc[picked]}.")
elif len(shown):
    bounds = maps.bounds_of(shown, pad_m=300.0)
else:
    bounds = maps.bounds_of(ds.wards) or None
m = maps.base_map(bounds, tiles=common.tiles())
if len(ds.wards):
    maps.area_outlines(ds.wards, name="Wards", colour="#777777", line_width=1).add_to(m)
locs = cache.locations(ds.key, selection, months)
if len(locs):
    maps.heat_layer(locs, show=False).add_to(m)
if cells is not None:
    if grid_method == "gistar":
        layer, scale = maps.grid_layer(cells, value="count", category="hotspot", name=GRIDS[grid_method],
                                       hide=["not significant"], title="Gi* (FDR 5%)")
        st.caption(f"Gi* with queen neighbours on {len(cells):,} cells; "
                   f"{int((cells['hotspot'] == 'hot').sum())} hot-spot cells at a 5% false discovery "
                   "rate (Benjamini–Hochberg).")
    elif grid_method == "kde":
        layer, scale = maps.grid_layer(cells, value="density_per_km2", name=GRIDS[grid_method],
                                       title="Incidents per km²")
    else:
        layer, scale = maps.grid_layer(cells, value="count", name=GRIDS[grid_method], title="Incidents per cell")
    layer.add_to(m)
    maps.Legend(scale, position="bottomleft").add_to(m)
# micro-hotspot outlines below the patrol areas and their numbers
if len(ds.micro_hotspots):
    maps.area_outlines(ds.micro_hotspots, name="Micro-hotspots", colour="#008837", dash="6 4").add_to(m)
if len(shown):
    maps.patrol_areas(shown, fields={c: l for c, l in (("rank", "Rank"), ("name", "Name"),
                                                       ("count", "Incidents"), ("area_m2", "Size (m²)"),
                                                       ("grid_ref", "Grid ref")) if c in shown.columns}
                      ).add_to(m)
    maps.rank_markers(shown).add_to(m)
    maps.patrol_legend().add_to(m)
folium.LayerControl(collapsed=True).add_to(m)
common.show_map(m, key="hs-map", download="patrol-areas-map", height=520)

if len(shown):
    token = patrol_calls.geo_downloads_token(shown, ds.key, selection, period, eps_m, min_samples, weight, top)
    st.markdown("**Downloads** (the areas shown)")
    patrol_calls.download_row(ds.key, shown, table, token, stem="patrol-areas", widget_key="hs",
                              png_title=f"Top {len(shown)} patrol areas, {period[0]} to {period[1]}",
                              png_name="patrol-areas-map.png")
    st.page_link("hotspot_app/ui/pages/patrol_plan.py", label=f"Plan patrols for these {len(shown)} areas",
                 icon=":material/directions_walk:")

if cells is not None:
    with st.expander(f"Grid cells ({GRIDS[grid_method]}): download"):
        keep = [c for c in cells.columns if c in ("cell_id", "count", "weighted_count", "value", "density_per_km2",
                                                 "gi_z", "gi_p", "gi_p_adj", "hotspot", "geometry")]
        common.downloads(cells[keep], f"grid-{grid_method}-{int(cell_m)}m-{shape}", key="hs-grid-dl", geo=True)

# ---------------------------------------------------------------- PAI in words
st.subheader("How well do patrol areas predict where incidents happen? (PAI)")
fc = cache.forecast_pai(ds.key, selection, period, float(eps_m), int(min_samples))
if fc is not None and fc.get("pai") is not None:
    share_n = 100 * fc["n_test"] / fc["N_test"] if fc["N_test"] else None
    share_a = 100 * fc["area_m2"] / fc["study_area_m2"]
    st.markdown(
        f"Patrol areas found on **{fc['train']}** held **{fc['n_test']:,} of {fc['N_test']:,}** incidents "
        f"of **{fc['test']}** ({share_n:.1f}%) on **{share_a:.2f}%** of the area. "
        f"The Predictive Accuracy Index is the share of incidents over the share of area: "
        f"**PAI = {fc['pai']:.1f}** — last period's areas caught {fc['pai']:.1f} times the incidents an "
        "equal area picked at random would (1 = no better than chance).")
else:
    st.caption("PAI needs the months before the selected period (the same length) loaded, and patrol "
               "areas found in them.")

# ---------------------------------------------------------------- how many places
st.subheader("How many places?")
curves, sentences = patrol_calls.concentration(ds.key, selection, months, float(cell_m), top)
if curves is None:
    st.caption("Nothing selected to measure.")
else:
    for sentence in sentences:
        st.markdown(f"**{sentence}**")
    st.caption(f"Places sorted busiest first; the dashed line is an even spread. Change *Top* to read the "
               f"curve at another N; the grid uses the cell size under Advanced ({cell_m:g} m).")
    st.altair_chart(charts.concentration_curve(curves, y="value_share", group="places"), width="stretch")
    common.downloads(curves, "concentration-curve", key="hs-conc-dl")

# ---------------------------------------------------------------- harm
if rank_by == "harm":
    st.subheader("Harm weights")
    check = patrol_calls.harm_check(ds.key, selection, period, float(eps_m), int(min_samples),
                                    float(days) if space_time else None, top)
    if check is not None:
        label = {int(c): f"#{int(r)} {n}" for c, r, n in zip(found.areas["cluster_id"], found.areas["rank"],
                                                            found.areas["name"])}
        moved = [f"{label.get(int(c), c)} (only with the {side} weights)"
                 for side, ids in (("high", check["only_high"]), ("low", check["only_low"])) for c in ids]
        text = check["text"] + ("" if not moved else " " + "; ".join(moved) + ".")
        (st.warning if check["changes"] else st.success)(text)
    st.caption(f"Areas ranked by summed harm weight (counting incidents is the default). Weights: "
               f"{harm.SOURCE}.")
    weights = harm.table()
    st.dataframe(weights, hide_index=True, width="stretch")
    common.downloads(weights, "harm-weights", key="hs-harm-dl")

# ---------------------------------------------------------------- when
patrol_calls.when_section(ds.key, selection, months, widget_key="hs-dh-dl", name="incidents-by-weekday-and-hour")
