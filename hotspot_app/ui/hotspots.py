"""Hotspots: DBSCAN patrol areas (eps in metres, min samples, categories, period, space–time
days) on the map and in a ranked table; grid / Gi* layer and PAI when available; downloads."""

import folium
import pandas as pd
import streamlit as st

from hotspot_app import charts, exports, maps, settings
from hotspot_app.errors import InputError
from hotspot_app.ui import cache, common

st.title("Hotspots and patrol areas")
ds = common.dataset()
common.banner(ds)

c1, c2 = st.columns([2, 2])
with c1:
    selection = common.category_picker(ds, "hs-cat", default=["asb"])
with c2:
    months = common.period_picker(ds, "hs-period")
c3, c4, c5, c6 = st.columns(4)
eps_m = c3.number_input("eps (metres)", min_value=5.0, max_value=2000.0, value=float(settings.EPS_M),
                        step=10.0, key="hs-eps",
                        help="Two incidents are neighbours within this distance (a few streets).")
min_samples = c4.number_input("Min samples", min_value=1, max_value=10_000, value=int(settings.MIN_SAMPLES),
                              step=1, key="hs-min",
                              help="Incidents within eps (itself included) that make a dense core.")
space_time = c5.toggle("Space–time", key="hs-st",
                       help="Neighbours must also be close in time (needs dates).")
days = c6.number_input("Days", min_value=1.0, max_value=365.0, value=30.0, step=1.0, key="hs-days",
                       disabled=not space_time)

g1, g2, g3 = st.columns([2, 1, 1])
GRIDS = {"none": "None", "count": "Counts per cell", "kde": "Kernel density (KDE)",
         "gistar": "Gi* hot and cold spots (FDR-corrected)"}
grid_method = g1.radio("Grid layer", list(GRIDS), format_func=GRIDS.get, horizontal=True, key="hs-grid")
cell_m = g2.number_input("Cell size (m)", min_value=25.0, max_value=2000.0, value=float(settings.CELL_M),
                         step=25.0, key="hs-cell")
shape = g3.radio("Cells", ["square", "hex"], horizontal=True, key="hs-shape")

with st.expander("Help choosing eps (k-distance curve)"):
    try:
        guide = cache.eps_suggestion(ds.key, selection, (months[0], months[-1]), int(min_samples))
    except InputError as exc:
        st.info(str(exc))
    else:
        st.markdown(f"For **{int(min_samples)}** min samples the k-distance curve bends at about "
                    f"**{guide.eps_m:,.0f} m**: incidents to the left of the bend sit in dense places, "
                    "those to the right are scattered. A guide, not a rule: patrol areas should stay "
                    "walkable, so prefer the smaller of this and a few streets.")
        st.altair_chart(charts.k_distance(guide.curve, guide.eps_m), use_container_width=True)

with st.status("Finding clusters…", expanded=False) as status:
    result = cache.clusters(ds.key, selection, (months[0], months[-1]), float(eps_m), int(min_samples),
                            float(days) if space_time else None)
    status.update(label=f"{len(result.areas)} patrol areas from {result.n_incidents:,} incidents "
                        f"({result.n_noise:,} not in any cluster)", state="complete")
common.show_warnings(result.warnings)
if result.message:
    st.info(result.message)

locs = cache.locations(ds.key, selection, months)
bounds = maps.bounds_of(ds.wards) or None
m = maps.base_map(bounds, tiles=common.tiles())
if len(ds.wards):
    maps.area_outlines(ds.wards, name="Wards", colour="#777777", weight=1).add_to(m)
if len(locs):
    maps.heat_layer(locs, show=False).add_to(m)
if grid_method != "none":
    cells = cache.grid(ds.key, selection, (months[0], months[-1]), grid_method, float(cell_m), shape)
    if grid_method == "gistar":
        layer, scale = maps.grid_layer(cells, value="count", category="hotspot", name=GRIDS[grid_method],
                                       hide=["not significant"], title="Gi* (FDR 5%)")
        n_hot = int((cells["hotspot"] == "hot").sum())
        st.caption(f"Gi* with queen neighbours on {len(cells):,} cells; {n_hot} hot-spot cells at a "
                   "5% false discovery rate (Benjamini–Hochberg).")
    elif grid_method == "kde":
        layer, scale = maps.grid_layer(cells, value="density_per_km2", name=GRIDS[grid_method],
                                       title="Incidents per km²")
    else:
        layer, scale = maps.grid_layer(cells, value="count", name=GRIDS[grid_method],
                                       title="Incidents per cell")
    layer.add_to(m)
    maps.Legend(scale, position="bottomleft").add_to(m)
if len(result.areas):
    maps.patrol_areas(result.areas).add_to(m)
if len(ds.micro_hotspots):
    maps.area_outlines(ds.micro_hotspots, name="Micro-hotspots", colour="#008837", dash="6 4").add_to(m)
folium.LayerControl(collapsed=True).add_to(m)
common.show_map(m, key="hs-map", download="patrol-areas-map")
if grid_method != "none":
    with st.expander(f"Grid cells ({GRIDS[grid_method]}): download"):
        keep = [c for c in cells.columns if c in ("cell_id", "count", "weighted_count", "value", "density_per_km2",
                                                 "gi_z", "gi_p", "gi_p_adj", "hotspot", "geometry")]
        common.downloads(cells[keep], f"grid-{grid_method}-{int(cell_m)}m-{shape}", key="hs-grid-dl", geo=True)

# PAI: patrol areas found on the previous period, scored on this one
fc = cache.forecast_pai(ds.key, selection, (months[0], months[-1]), float(eps_m), int(min_samples))
if fc is not None and fc.get("pai") is not None:
    p1, p2, p3 = st.columns(3)
    p1.metric("PAI (forecast)", f"{fc['pai']:.1f}",
              help=f"Patrol areas found on {fc['train']} capture {fc['n_test']:,} of {fc['N_test']:,} "
                   f"incidents in {fc['test']} on {100 * fc['area_m2'] / fc['study_area_m2']:.2f}% of the "
                   "area: PAI = (n/N) / (a/A).")
    p2.metric("Share of incidents captured", f"{100 * fc['n_test'] / fc['N_test']:.1f}%" if fc["N_test"] else "n/a")
    p3.metric("Share of area", f"{100 * fc['area_m2'] / fc['study_area_m2']:.2f}%")
else:
    st.caption("PAI: the months before the selected period are not loaded (or give no clusters).")

st.subheader("Ranked patrol areas")
if len(result.areas):
    cols = ["rank", "count", "locations", "area_m2", "density_per_km2", "first_month", "last_month",
            "peak_months", "peak_hours", "peak_weekdays", "description"]
    table = pd.DataFrame(result.areas[[c for c in cols if c in result.areas.columns]])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"rank": "Rank", "count": "Incidents", "locations": "Locations",
                                "area_m2": st.column_config.NumberColumn("Area (m²)", format="%.0f"),
                                "density_per_km2": st.column_config.NumberColumn("Per km²", format="%.0f"),
                                "first_month": "First month", "last_month": "Last month",
                                "peak_months": "Peak months", "peak_hours": "Peak hours",
                                "peak_weekdays": "Peak weekdays", "description": "Description"})
    token = f"{ds.key}|{selection}|{months[0]}|{months[-1]}|{eps_m}|{min_samples}|{days if space_time else ''}"
    dl = st.columns(5)
    dl[0].download_button("CSV", data=exports.csv_bytes(table),
                          file_name="patrol-areas.csv", mime="text/csv", key="hs-csv", on_click="ignore")
    for col, (suffix, label, mime) in zip(dl[1:], ((".geojson", "GeoJSON", "application/geo+json"),
                                                   (".gpkg", "GeoPackage", "application/geopackage+sqlite3"),
                                                   (".kml", "KML", "application/vnd.google-earth.kml+xml"))):
        col.download_button(label, data=lambda s=suffix: cache.patrol_export(result.areas, s, token + s),
                            file_name=f"patrol-areas{suffix}", mime=mime, key=f"hs-{suffix}",
                            on_click="ignore")
else:
    st.caption("No patrol areas for these settings.")
