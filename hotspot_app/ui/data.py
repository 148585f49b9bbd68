"""Data: what is loaded; upload incident and boundary files (ingest summary + rejects download);
save them to a workspace and use them; draw a micro-hotspot and save it with intervention dates."""

import datetime as dt

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from hotspot_app import maps, settings
from hotspot_app.errors import InputError
from hotspot_app.schema import INTERVENTION_TYPES
from hotspot_app.ui import cache, common, signin

st.title("Data")
ds = common.dataset()
common.banner(ds)
if "dt-flash" in st.session_state:
    st.success(st.session_state.pop("dt-flash"))

# ---------------------------------------------------------------- what is loaded
st.subheader("Loaded now")
inc = ds.incidents
cols = st.columns(4)
cols[0].metric("Incidents", f"{len(inc):,}")
cols[1].metric("Months", f"{len(ds.months)}", delta=f"{ds.months[0]} to {ds.months[-1]}" if ds.months else None,
               delta_color="off", delta_arrow="off")
cols[2].metric("Wards / areas", f"{len(ds.wards)} / {len(ds.areas)}")
cols[3].metric("Interventions", f"{len(ds.interventions)}")
st.dataframe(inc.groupby("kind").size().rename("incidents").reset_index(), hide_index=True)
b1, b2 = st.columns(2)
if not ds.is_demo and b1.button("Use the demo data", key="dt-demo"):
    st.session_state[common.SOURCE] = cache.DEMO
    st.rerun()
if settings.WORKSPACE.is_file() and ds.workspace != str(settings.WORKSPACE.resolve()) and \
        b2.button(f"Use the saved workspace ({settings.WORKSPACE.name})", key="dt-ws"):
    st.session_state[common.SOURCE] = cache.workspace_key(settings.WORKSPACE)
    st.rerun()

# ---------------------------------------------------------------- uploads
st.subheader("Load your own data")
st.caption("police.uk street CSVs (several months, or the zip), fire-service extracts, or generic "
           "CSV / Parquet / GeoJSON / GeoPackage incidents; ward (or other) boundaries as GeoJSON, "
           "GeoPackage or zipped Shapefile. Every row is loaded or rejected with a reason.")
up1, up2 = st.columns(2)
with up1:
    inc_files = st.file_uploader("Incident files", accept_multiple_files=True, key="dt-inc-files",
                                 type=["csv", "zip", "parquet", "geojson", "json", "gpkg"])
    kind = st.selectbox("Format", ["auto", "police-uk", "fire", "generic"], key="dt-kind")
with up2:
    bnd_file = st.file_uploader("Boundary file", key="dt-bnd-file",
                                type=["geojson", "json", "gpkg", "zip"])
    b_layer = st.selectbox("These boundaries are", ["ward", "town_centre", "micro_hotspot", "custom"],
                           key="dt-layer", format_func=lambda s: s.replace("_", " "))
    n1, n2 = st.columns(2)
    name_field = n1.text_input("Name field (blank = detect)", key="dt-name-field")
    pop_field = n2.text_input("Population field (optional)", key="dt-pop-field")

result = boundaries = None
if inc_files:
    paths = cache.save_uploads(inc_files)
    try:
        with st.status("Reading incident files…", expanded=False) as status:
            result = cache.ingest_incidents(tuple(paths), kind)
            s = result.summary
            status.update(label=f"Read {s['read']:,} rows: {s['loaded']:,} loaded, "
                                f"{s['rejected']:,} rejected", state="complete")
    except InputError as exc:
        st.error(str(exc))
if result is not None:
    s = result.summary
    m1, m2, m3 = st.columns(3)
    m1.metric("Rows read", f"{s['read']:,}")
    m2.metric("Loaded", f"{s['loaded']:,}")
    m3.metric("Rejected", f"{s['rejected']:,}")
    if s.get("rejected_by_reason"):
        st.dataframe(pd.DataFrame({"reason": list(s["rejected_by_reason"]),
                                   "rows": list(s["rejected_by_reason"].values())}), hide_index=True)
    for w in s.get("warnings", []):
        st.warning(w)
    if s.get("files"):
        st.dataframe(pd.DataFrame(s["files"]), hide_index=True, width="stretch")
    if len(result.rejects):
        st.download_button("Download rejected rows (CSV)", result.rejects.to_csv(index=False).encode("utf-8"),
                           "rejects.csv", "text/csv", key="dt-rejects", on_click="ignore")
if bnd_file is not None:
    bpath = cache.save_uploads([bnd_file])[0]
    try:
        boundaries = cache.ingest_boundaries(bpath, name_field.strip() or None, b_layer,
                                             pop_field.strip() or None)
        repaired = getattr(boundaries, "repaired", None)
        n_repaired = 0 if repaired is None else len(repaired)
        st.success(f"{len(boundaries.areas)} areas read from {bnd_file.name}"
                   + (f"; {n_repaired} invalid polygons repaired" if n_repaired else ""))
        for w in boundaries.warnings:
            st.warning(w)
        if n_repaired:
            st.dataframe(repaired, hide_index=True, width="stretch")
    except InputError as exc:
        st.error(str(exc))
        boundaries = None

if result is not None or boundaries is not None:
    target = settings.WORKSPACE
    can_save = result is not None or (boundaries is not None and not ds.is_demo)
    if not can_save:
        st.info("Load incident files too (boundaries alone cannot be added to the demo).")
    signin.explain("analyst")
    if can_save and st.button(f"Save to the workspace ({target.name}) and use these data", type="primary",
                              key="dt-save", disabled=not signin.can("analyst")):
        with st.status("Writing the workspace…") as status:
            incidents = result.incidents if result is not None else ds.incidents
            areas = boundaries.areas if boundaries is not None else (None if ds.is_demo else ds.areas)
            if not cache.is_shared(target):
                target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() and result is not None and not cache.is_shared(target):
                target.unlink()
            key = cache.write_workspace(target, incidents, areas, summary=None if result is None else {
                **result.summary, "files_read": [f.name for f in inc_files or []]})
            status.update(label="Workspace written", state="complete")
        st.session_state[common.SOURCE] = key
        st.rerun()

# ---------------------------------------------------------------- draw a micro-hotspot
st.subheader("Draw a micro-hotspot and record an intervention")
st.caption("Draw a polygon or rectangle with the tools on the map, then name it and give the "
           "intervention dates. It is saved to the workspace as a micro-hotspot area and an "
           "intervention (the demo is copied into the workspace first), and can be evaluated on "
           "the *Before / after* page.")
m = maps.base_map(maps.bounds_of(ds.wards), tiles=common.tiles())
if len(ds.wards):
    maps.area_outlines(ds.wards, name="Wards", colour="#777777", weight=1).add_to(m)
if len(ds.micro_hotspots):
    maps.area_outlines(ds.micro_hotspots, name="Micro-hotspots", colour="#008837", dash="6 4").add_to(m)
maps.draw_control(m)
drawn = common.show_map(m, key="dt-draw-map", height=480, draw=True) or {}
polygon = None
feature = drawn.get("last_active_drawing") or ((drawn.get("all_drawings") or [None])[-1])
if feature and feature.get("geometry", {}).get("type") in ("Polygon", "MultiPolygon"):
    polygon = gpd.GeoSeries([shapely.geometry.shape(feature["geometry"])], crs=settings.CRS_WGS84) \
        .to_crs(settings.CRS).iloc[0]
    st.success(f"Polygon drawn: {polygon.area:,.0f} m².")
with st.form("dt-intervention"):
    f1, f2 = st.columns(2)
    iv_name = f1.text_input("Name", key="dt-iv-name", placeholder="e.g. Precinct evening patrols")
    iv_type = f2.selectbox("Type", list(INTERVENTION_TYPES), key="dt-iv-type")
    f3, f4 = st.columns(2)
    iv_start = f3.date_input("Start", value=dt.date.today().replace(day=1), key="dt-iv-start")
    iv_end = f4.date_input("End (blank = ongoing)", value=None, key="dt-iv-end")
    iv_notes = st.text_input("Notes", key="dt-iv-notes")
    submitted = st.form_submit_button("Save the area and intervention", disabled=not signin.can("analyst"))
if submitted:
    if polygon is None:
        st.error("Draw a polygon on the map first.")
    elif not iv_name.strip():
        st.error("Give the area a name.")
    elif iv_end is not None and iv_end < iv_start:
        st.error("The end date is before the start date.")
    else:
        try:
            key = cache.add_drawn_intervention(ds.key, settings.WORKSPACE, polygon, iv_name.strip(), iv_type,
                                               iv_start, iv_end, iv_notes)
        except InputError as exc:
            st.error(str(exc))
        else:
            st.session_state.setdefault("drawn_areas", {})[iv_name.strip()] = polygon.wkt
            st.session_state[common.SOURCE] = key
            st.session_state["dt-flash"] = (f"Saved '{iv_name.strip()}' to {settings.WORKSPACE.name} as a "
                                            "micro-hotspot and an intervention; evaluate it on the "
                                            "Before / after page.")
            st.rerun()

signin.audit_view(ds)
signin.users_view()
