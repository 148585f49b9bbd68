"""Hotspots: patrol areas people can act on — a preset (street-level / neighbourhood; eps and
min samples under Advanced), the top N named, numbered areas on the map and in a table (click a
row to zoom), readable sizes, warnings first, PAI in words, harm ranking, the concentration
curve, when incidents happen, and downloads of every table and map; then, when opened, where next
(`ui.where_next`: emerging hot spots, the best method for next month, near repeats, stability
under snapping, hot streets)."""

import folium
import streamlit as st

from hotspot_app.core import areas as areas_mod, harm, params, patrol, periods, settings, taxonomy
from hotspot_app.questions import patrol_areas as patrol_question
from hotspot_app.render import charts, maps
from hotspot_app.ui import cache, common, patrol_calls

st.title("Hotspots and patrol areas")
ds = common.dataset()
common.banner(ds)

c1, c2 = st.columns([2, 2])
with c1:
    category = common.category_picker(ds, "hs-cat", default=["asb"])
with c2:
    months = common.period_picker(ds, "hs-period")
within = common.place_picker(ds, "hs-place")
common.print_caption(ds, months, category, title="Hotspots and patrol areas"
                     + (f" in {areas_mod.describe_within(list(within))}" if within else ""))
p1, p2, p3 = st.columns([2, 1, 1.4])


def _apply_preset():
    chosen = patrol.PRESETS[st.session_state["hs-preset"]]
    st.session_state["hs-eps"] = float(chosen.eps_m)
    st.session_state["hs-min"] = int(chosen.min_samples)


preset_name = p1.radio("Patrol areas", list(patrol.PRESETS), horizontal=True, key="hs-preset",
                       index=list(patrol.PRESETS).index(patrol.DEFAULT_PRESET),
                       format_func=lambda k: k.replace("-", " ").capitalize(), on_change=_apply_preset,
                       help="; ".join(f"{k}: {p.text}" for k, p in patrol.PRESETS.items()))
if "hs-eps" not in st.session_state:
    _apply_preset()
top = int(p2.number_input("Top", value=patrol_question.SHOWN, key="hs-top", **params.widget("top"),
                          help="How many of the highest-ranked areas to show and plan for."))
rank_by = p3.radio("Rank by", ["count", "harm"], horizontal=True, key="hs-rank",
                   format_func={"count": "Incidents", "harm": "Harm"}.get,
                   help="Harm weights each incident by a documented severity weight (docs/design.md §6); "
                        "counting incidents is the default.")
choice = patrol_question.choose(preset_name, float(st.session_state["hs-eps"]), int(st.session_state["hs-min"]))
st.caption(f"**{choice.describe()[:1].upper() + choice.describe()[1:]}**.")

with st.expander("Advanced: eps, min samples, space–time, grid layer"):
    a1, a2, a3, a4 = st.columns(4)
    eps_m = a1.number_input("eps (metres)", key="hs-eps", **params.widget("eps_m"),
                            help="Two incidents are neighbours within this distance.")
    min_samples = a2.number_input("Min samples", key="hs-min", **params.widget("min_samples"),
                                  help="Incidents within eps (itself included) that make a dense core.")
    space_time = a3.toggle("Space–time", key="hs-st", help="Neighbours must also be close in time (needs dates).")
    days = a4.number_input("Days", value=30.0, key="hs-days", disabled=not space_time, **params.widget("days"))
    GRIDS = {"none": "None", "count": "Counts per cell", "kde": "Kernel density (KDE)",
             "gistar": "Gi* hot and cold spots (FDR-corrected)"}
    g1, g2, g3 = st.columns([2, 1, 1])
    grid_method = g1.radio("Grid layer", list(GRIDS), format_func=GRIDS.get, horizontal=True, key="hs-grid")
    cell_m = g2.number_input("Cell size (m)", value=float(settings.CELL_M), key="hs-cell", **params.widget("cell_m"))
    shape = g3.radio("Cells", ["square", "hex"], horizontal=True, key="hs-shape")
    with common.answer_or_stop():
        guide, guide_text = patrol_calls.eps_guidance(ds.key, category, (months[0], months[-1]), int(min_samples))
    st.markdown(guide_text)
    st.altair_chart(charts.k_distance(guide.curve, guide.eps_m), width="stretch")

period = (months[0], months[-1])
rank_by = "harm" if rank_by == "harm" else None
with st.status("Finding patrol areas…", expanded=False) as status:
    found = patrol_calls.patrol_areas(ds.key, category, period, preset_name, float(eps_m), int(min_samples),
                                      float(days) if space_time else None, rank_by, top, within)
    status.update(label=f"{found.n_found} patrol areas from {found.n_incidents:,} incidents "
                        f"({found.n_noise:,} not in any area)", state="complete")
grid_answer = None
if grid_method != "none":
    grid_answer = cache.grid(ds.key, category, period, grid_method, float(cell_m), shape)
# warnings first
common.show_warnings(list(found.warnings) + (grid_answer.warnings if grid_answer is not None else []))
if found.message:
    st.info(found.message)
shown = found.areas
st.session_state["hs-current"] = {"category": category, "period": period, "preset": preset_name,
                                  "eps_m": float(eps_m), "min_samples": int(min_samples), "top": top,
                                  "rank_by": rank_by, "within": within}

table = patrol.display_table(shown, weighted=rank_by is not None)
if len(shown):
    st.markdown(f"**{found.sentence()}** Click a row to zoom the map to it.")
picked = None
if len(table):
    event = common.table(
        table, headings=patrol.DISPLAY, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
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
cells = grid_answer.cells if grid_answer is not None else None
if cells is not None and grid_method == "gistar":
    st.caption(f"Gi* with queen neighbours on {len(cells):,} cells; "
               f"{int((cells['hotspot'] == 'hot').sum())} hot-spot cells at a 5% false discovery "
               "rate (Benjamini–Hochberg).")


def _map():
    """The page's map (no page elements: made once per token, see `common.show_map`)."""
    m = maps.base_map(bounds, tiles=common.tiles())
    if len(ds.wards):
        maps.area_outlines(ds.wards, name="Wards", colour="#777777", line_width=1).add_to(m)
    locs = cache.locations(ds.key, category, months)
    if len(locs):
        maps.heat_layer(locs, show=False).add_to(m)
    if cells is not None:
        if grid_method == "gistar":
            layer, scale = maps.grid_layer(cells, value="count", category="hotspot", name=GRIDS[grid_method],
                                           hide=["not significant"], title="Gi* (FDR 5%)")
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
        maps.patrol_area_layer(shown, fields={c: label for c, label in (("rank", "Rank"), ("name", "Name"),
                                                                        ("count", "Incidents"), ("area_m2", "Size (m²)"),
                                                                        ("grid_ref", "Grid ref")) if c in shown.columns}
                               ).add_to(m)
        maps.rank_markers(shown).add_to(m)
        maps.patrol_legend().add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


# made (and rendered) once per workspace version and settings, then sent as it was
common.show_map(_map, key="hs-map", download="patrol-areas-map", height=520,
                token=(ds.key, category, months, preset_name, float(eps_m), int(min_samples),
                       float(days) if space_time else None, rank_by, top, within, grid_method, float(cell_m), shape,
                       picked))

if len(shown):
    what_words = taxonomy.selection_label(category, everything="all incidents")
    token = common.geo_downloads_token(shown, ds.key, category, period, eps_m, min_samples, rank_by, top, within)
    st.markdown("**Downloads** (the areas shown)")
    common.download_row(ds.key, shown, table, token, stem="patrol-areas", widget_key="hs",
                        png_title=f"Top {len(shown)} patrol areas"
                                  + (f" in {areas_mod.describe_within(list(within))}" if within else "")
                                  + f", {what_words}, {periods.describe([period[0], period[1]])}",
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
fc = patrol_calls.forecast(ds.key, category, period, preset_name, float(eps_m), int(min_samples))
if fc is not None and fc.get("text"):
    st.markdown(fc["text"])
else:
    st.caption("PAI needs the months before the selected period (the same length) loaded, and patrol "
               "areas found in them.")

# ---------------------------------------------------------------- how many places
st.subheader("How many places?")
drawn, sentences, n_points = patrol_calls.concentration_shown(ds.key, category, months, float(cell_m), top)
if drawn is None:
    st.caption("Nothing selected to measure.")
else:
    for sentence in sentences:
        st.markdown(f"**{sentence}**")
    st.caption(f"Places sorted busiest first; the dashed line is an even spread. Change *Top* to read the "
               f"curve at another N; the grid uses the cell size under Advanced ({cell_m:g} m).")
    st.altair_chart(charts.concentration_curve(drawn, y="value_share", group="places"), width="stretch")
    # the whole curves (a point per place), made when a download is clicked
    common.downloads(lambda: patrol_calls.concentration(ds.key, category, months, float(cell_m), top)[0],
                     "concentration-curve", key="hs-conc-dl")

# ---------------------------------------------------------------- harm
if rank_by == "harm":
    st.subheader("Harm weights")
    check = found.harm_check
    if check is not None:
        (st.warning if check["changes"] else st.success)(check["text"])
    st.caption(f"Areas ranked by summed harm weight (counting incidents is the default). Weights: "
               f"{harm.SOURCE}.")
    weights = harm.table()
    st.dataframe(weights, hide_index=True, width="stretch")
    common.downloads(weights, "harm-weights", key="hs-harm-dl")

# ---------------------------------------------------------------- when
common.when_section(ds.key, category, months, widget_key="hs-dh-dl", name="incidents-by-weekday-and-hour")

# ---------------------------------------------------------------- where next (ui/where_next.py)
# On demand: these analyses take seconds to minutes on a force's data (Gi* per cell and month,
# every method scored month by month, seeded draws) and importing them alone takes seconds, so
# the page's first paint shows the map and the ranked table; once opened, each answer is cached.
st.header("Where next")
if st.toggle("Show where next: emerging hot spots, which map predicts next month, near repeats, "
             "stability under snapping and rates by ward", key="hs-where-next",
             help="Computed when opened (it can take a minute on a force's data), then kept."):
    from hotspot_app.ui import where_next

    where_next.section(ds, category, months, preset=preset_name, eps_m=float(eps_m), min_samples=int(min_samples),
                       top=top, ranked_by_harm=rank_by is not None)
else:
    st.caption("Open it to see which places are heating up, which kind of map has predicted next month "
               "best here, and whether the top places survive police.uk's snapping.")
