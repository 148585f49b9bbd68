"""Data: what is loaded; upload incident and boundary files (ingest summary + rejects download);
add them to the workspace by the rules of `questions.load` (each month loaded replaces only that
month of that provider; areas are added to their layer) or, after a confirmation listing what
goes, replace everything; the load history and the coverage grid; draw a micro-hotspot with
intervention dates; edit and delete interventions and areas (each carrying the version shown, so
a record changed or deleted meanwhile is refused) and restore deleted ones. Write controls are
shown to analysts and admins only; the workspace is named by its display form (never a
password)."""

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import folium
import streamlit as st

from hotspot_app.io import exports, workspace
from hotspot_app.render import maps
from hotspot_app.core import patrol, settings, taxonomy
from hotspot_app.core.errors import HotspotError, InputError
from hotspot_app.core.schema import INTERVENTION_TYPES
from hotspot_app.questions import places as places_question
from hotspot_app.ui import cache, common, patrol_calls, signin, source

st.title("Data")
ds = common.dataset()
signin.explain("analyst")  # shared deployments: viewers read, analysts write
writer = signin.can("analyst")
common.banner(ds)
if "dt-flash" in st.session_state:
    st.success(st.session_state.pop("dt-flash"))
target = settings.WORKSPACE
target_shown = source.shown(target)  # the one display form: never a password
target_name = target_shown if workspace.is_url(target) else Path(target).name


def _use(key: str, flash: str | None = None) -> None:
    st.session_state[common.SOURCE] = key
    if flash:
        st.session_state["dt-flash"] = flash
    st.rerun()


# ---------------------------------------------------------------- what is loaded
if ds.workspace is not None and source.is_stale(ds.key):
    st.info("The workspace has changed since these data were opened (another user or a scheduled "
            "load); reload to see the changes.", icon="🔄")
    if st.button("Reload the workspace", key="dt-reload"):
        _use(cache.workspace_key(ds.workspace))
st.subheader("Loaded now")
inc = ds.incidents
cols = st.columns(4)
cols[0].metric("Incidents", f"{len(inc):,}")
cols[1].metric("Months", f"{len(ds.months)}", delta=f"{ds.months[0]} to {ds.months[-1]}" if ds.months else None,
               delta_color="off", delta_arrow="off")
cols[2].metric("Wards / areas", f"{len(ds.wards)} / {len(ds.areas)}")
cols[3].metric("Interventions", f"{len(ds.interventions)}")
by_kind = cache.kind_counts(ds.key)  # 6M rows of a national year: counted once per version
st.dataframe(pd.DataFrame({"kind": [taxonomy.selection_label(k, capital=True) for k in by_kind.index],
                           "incidents": by_kind.to_numpy()}), hide_index=True,
             column_config={"incidents": st.column_config.NumberColumn(format="localized")})
b1, b2 = st.columns(2)
if not ds.is_demo and b1.button("Use the demo data", key="dt-demo"):
    _use(cache.DEMO)
if source.exists(target) and ds.workspace != target_shown and \
        b2.button(f"Use the saved workspace ({target_name})", key="dt-ws"):
    _use(cache.workspace_key(target))

# ---------------------------------------------------------------- history and coverage
if ds.workspace is not None:
    st.subheader("Load history and coverage")
    hist = cache.history(ds.key, ds.workspace)
    if len(hist):
        st.caption(f"{len(hist)} loads, newest first. A republished month replaces only that month "
                   "of that provider; everything else is kept.")
        st.dataframe(hist, hide_index=True, width="stretch", key="dt-history")
    else:
        st.caption("No loads recorded in this workspace yet.")
    grid = cache.coverage(ds.key, ds.workspace)
    if len(grid):
        st.caption("Rows per month by source and provider. An empty (highlighted) cell is a month "
                   "with no rows: not a fall in crime but data not loaded.")
        months = [c for c in grid.columns if c not in ("source", "provider")]
        styled = grid.style.highlight_null(color="#f4c7c3", subset=months).format(
            lambda v: "" if pd.isna(v) else f"{int(v):,}", subset=months)
        st.dataframe(styled, hide_index=True, width="stretch", key="dt-coverage")
        for text in grid.attrs.get("gaps", []):
            st.warning(f"Gap: {text}", icon="⚠️")
        for text in grid.attrs.get("flags", []):
            st.warning(f"Missing locations: {text}", icon="⚠️")

# Everything below writes (or shows the audit): analysts and admins only. A viewer gets no upload,
# drawing, edit or delete control at all (signin.explain above says why).
if not writer:
    st.stop()

# ---------------------------------------------------------------- uploads
st.subheader("Load your own data")
st.caption("police.uk street CSVs (several months, or the zip), fire-service extracts, or generic "
           "CSV / Parquet / GeoJSON / GeoPackage incidents; ward (or other) boundaries as GeoJSON, "
           "GeoPackage or zipped Shapefile. Every row is loaded or rejected with a reason.")
up1, up2 = st.columns(2)
with up1:
    inc_files = st.file_uploader("Incident files", accept_multiple_files=True, key="dt-inc-files",
                                 type=["csv", "zip", "parquet", "geojson", "json", "gpkg"])
    k1, k2 = st.columns(2)
    kind = k1.selectbox("Format", ["auto", "police-uk", "fire", "generic"], key="dt-kind")
    provider = k2.text_input("Provider of generic files", key="dt-provider", placeholder="generic",
                             help="police.uk files name their force and fire extracts their service.")
with up2:
    bnd_file = st.file_uploader("Boundary file", key="dt-bnd-file",
                                type=["geojson", "json", "gpkg", "zip"])
    own = source.geodata_files()
    geo_pick = None
    if own and bnd_file is None:
        # the project's boundary folder: chosen already while there is no saved workspace yet, or
        # the saved one in use has no areas
        none = "(none)"
        first = not source.exists(target) or (ds.workspace == target_shown and len(ds.areas) == 0)
        pick = st.selectbox(f"…or a boundary file in {settings.GEODATA_DIR.name}/", [none, *own],
                            index=1 if first else 0, key="dt-geodata",
                            format_func=lambda p: p if p == none else str(p.relative_to(settings.GEODATA_DIR)))
        geo_pick = None if pick == none else pick
    b_layer = st.selectbox("These boundaries are",
                           ["ward", "local_authority", "town_centre", "micro_hotspot", "patrol", "custom"],
                           key="dt-layer", format_func=lambda s: s.replace("_", " "))
    n1, n2 = st.columns(2)
    name_field = n1.text_input("Name field (blank = detect)", key="dt-name-field")
    pop_field = n2.text_input("Population field (optional)", key="dt-pop-field")

result = boundaries = None
if inc_files:
    paths = cache.save_uploads(inc_files)
    try:
        with st.status("Reading incident files…", expanded=False) as status:
            result = cache.ingest_incidents(tuple(paths), kind, provider.strip() or None)
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
    from hotspot_app.core import fire_summary  # masked fire coordinates: say so at upload

    if fire_summary.precision_note(result.incidents):
        st.warning(fire_summary.precision_note(result.incidents), icon=":material/location_on:")
    if s.get("files"):
        st.dataframe(pd.DataFrame(s["files"]), hide_index=True, width="stretch")
    if len(result.rejects):
        st.download_button("Download rejected rows (CSV)", exports.csv_bytes(result.rejects, index=False),
                           "rejects.csv", "text/csv", key="dt-rejects", on_click="ignore")
bnd_name = bnd_file.name if bnd_file is not None else (geo_pick.name if geo_pick is not None else None)
if bnd_file is not None or geo_pick is not None:
    bpath = cache.save_uploads([bnd_file])[0] if bnd_file is not None else geo_pick
    try:
        boundaries = cache.ingest_boundaries(str(bpath), name_field.strip() or None, b_layer,
                                             pop_field.strip() or None, Path(bpath).stat().st_mtime)
        repaired = getattr(boundaries, "repaired", None)
        n_repaired = 0 if repaired is None else len(repaired)
        st.success(f"{len(boundaries.areas)} areas read from {bnd_name}"
                   + (f"; {n_repaired} invalid polygons repaired" if n_repaired else ""))
        for w in boundaries.warnings:
            st.warning(w)
        if n_repaired:
            st.dataframe(repaired, hide_index=True, width="stretch")
    except InputError as exc:
        st.error(str(exc))
        boundaries = None

if result is not None or boundaries is not None:
    areas_new = boundaries.areas if boundaries is not None else None
    has_rows = source.can_add(result)
    if result is not None and not has_rows:
        st.error("No rows were loaded from these files, so there is nothing to add.")
    can_add = has_rows or (result is None and areas_new is not None and len(areas_new) > 0)
    replace_areas = replace_ok = False
    n_stored = source.layer_size(target, b_layer) if areas_new is not None and len(areas_new) else 0
    if n_stored:
        # areas are added to their layer; replacing the stored ones must be chosen AND confirmed
        replace_areas = st.checkbox(f"Replace the {n_stored} stored {b_layer.replace('_', ' ')} areas instead "
                                    "of adding to them", key="dt-replace-layer")
        if replace_areas:
            replace_ok = st.checkbox(f"Yes, replace them (the {n_stored} areas removed can be restored below)",
                                     key="dt-replace-layer-ok")
            can_add = can_add and replace_ok
    upload_id = (tuple(cache.save_uploads(inc_files)) if inc_files else (), bnd_name)
    if st.session_state.get("dt-added") == (upload_id, ds.key):
        st.info("These files are in the workspace now (see the load history above); upload the next "
                "month's files to add them.")
        can_add = False
    st.caption(f"**Add to workspace** ({target_name}): each month of each provider in these files "
               "replaces the same month already stored (a republished month); boundaries are added "
               "to their layer; every other month, area, intervention and saved run is kept.")
    a1, a2 = st.columns(2)
    if a1.button(f"Add to workspace ({target_name}) and use it", type="primary", key="dt-save",
                 disabled=not can_add or not writer):
        try:
            signin.require("analyst")
            with st.status("Adding to the workspace…") as status:
                key, loaded = source.add_to_workspace(
                    target, result if has_rows else None, areas_new, replace_areas=replace_areas,
                    confirmed=replace_ok, warnings=boundaries.warnings if boundaries is not None else ())
                status.update(label="Workspace written", state="complete")
        except HotspotError as exc:
            st.error(str(exc))
        else:
            answer = source.last_load(target)
            flash = ("Areas added to the workspace." if loaded is None else
                     f"Added {loaded.added:,} rows: the workspace went from {loaded.before:,} to "
                     f"{loaded.after:,} incidents" + (f" ({loaded.replaced:,} rows of "
                                                       f"{', '.join(loaded.months_replaced)} replaced)"
                                                       if loaded.replaced else "") + ".")
            notes = [w for w in (answer.warnings if answer is not None else [])
                     if result is None or w not in result.summary.get("warnings", [])]
            if notes:
                flash += " " + " ".join(notes)
            st.session_state["dt-added"] = (upload_id, key)
            _use(key, flash)
    if has_rows and source.exists(target) and a2.button("Replace everything…", key="dt-replace",
                                                                  disabled=not writer):
        st.session_state["dt-confirm"] = source.workspace_key(target)
    confirm = st.session_state.get("dt-confirm")
    if has_rows and confirm:
        summary, n_loads = source.replace_preview(target)
        with st.container(border=True):
            st.markdown(f"**Replace everything?** This removes every incident now in {target_name} "
                        f"({int(summary['rows'].sum()):,} rows from {n_loads} loads) and keeps only "
                        "these files. Areas, interventions and saved runs are kept; a backup of the "
                        "workspace is made first.")
            st.dataframe(summary, hide_index=True, key="dt-replace-list")
            c1, c2 = st.columns(2)
            if c1.button("Yes, replace everything", type="primary", key="dt-replace-yes"):
                try:
                    signin.require("analyst")
                    key, loaded = source.add_to_workspace(target, result, areas_new, replace_all=True,
                                                          confirmed=True,
                                                          expected_version=source.version_of(confirm))
                except HotspotError as exc:
                    st.session_state.pop("dt-confirm", None)
                    st.error(str(exc))
                else:
                    st.session_state.pop("dt-confirm", None)
                    _use(key, f"Replaced {loaded.replaced:,} rows by {loaded.added:,}.")
            if c2.button("Cancel", key="dt-replace-no"):
                st.session_state.pop("dt-confirm", None)
                st.rerun()

# ---------------------------------------------------------------- draw a micro-hotspot
st.subheader("Draw a micro-hotspot and record an intervention")
st.caption("Draw a polygon or rectangle with the tools on the map, then name it and give the "
           "intervention dates. It is saved to the workspace as a micro-hotspot area and an "
           "intervention, and can be evaluated on the *Before / after* page. The demo is never "
           "written to: drawn on the demo, it starts a new, empty workspace.")
# what to draw around: the incidents of the last 12 months (heat, by location) and the patrol
# areas the Hotspots page shows (its settings, else the app's defaults)
def _draw_map():
    """The map to draw on (no page elements but an error: made once per token, see `common.show_map`)."""
    m = maps.base_map(maps.bounds_of(ds.wards), tiles=common.tiles())
    if len(ds.wards):
        maps.area_outlines(ds.wards, name="Wards", colour="#777777", line_width=1).add_to(m)
    if ds.months:
        recent = tuple(ds.months[-12:])
        locs = cache.locations(ds.key, (), recent)
        if len(locs):
            maps.heat_layer(locs, name=f"Incidents {recent[0]} to {recent[-1]} (heat)").add_to(m)
        cur = st.session_state.get("hs-current")
        with common.answer_or_stop():
            hot = (patrol_calls.patrol_areas(ds.key, tuple(cur["category"]), tuple(cur["period"]), cur["preset"],
                                             cur["eps_m"], cur["min_samples"], None, cur.get("rank_by"),
                                             int(cur["top"]), tuple(cur.get("within") or ()))
                   if cur else  # the Hotspots page's first view (ASB, last 12 months, default preset): one cache
                   patrol_calls.patrol_areas(ds.key, ("asb",) if "asb" in cache.category_options(ds.key) else (),
                                             (recent[0], recent[-1]), patrol.DEFAULT_PRESET,
                                             float(patrol.PRESETS[patrol.DEFAULT_PRESET].eps_m),
                                             int(patrol.PRESETS[patrol.DEFAULT_PRESET].min_samples), None, None,
                                             5, ()))
        if len(hot.areas):
            maps.patrol_area_layer(hot.areas, name="Patrol areas (Hotspots page)",
                                   fields={"rank": "Rank", "name": "Name", "count": "Incidents"}).add_to(m)
            maps.rank_markers(hot.areas).add_to(m)
    if len(ds.micro_hotspots):
        maps.area_outlines(ds.micro_hotspots, name="Micro-hotspots", colour="#008837", dash="6 4").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    maps.draw_control(m)
    # the same map every run: drawing reruns the page, and the map keeps its view and the shape
    maps.stable_ids(m)
    return m


# the Hotspots page's settings the patrol areas come from (none: its first view)
_hot = st.session_state.get("hs-current")
drawn = common.show_map(_draw_map, key="dt-draw-map", height=480, draw=True,  # own block: see show_map
                        token=(ds.key, repr(sorted(_hot.items())) if _hot else None)) or {}
polygon = None
feature = (drawn.get("all_drawings") or [None])[-1]  # the last shape drawn (never a ward clicked)
if feature and feature.get("geometry", {}).get("type") in ("Polygon", "MultiPolygon"):
    polygon = gpd.GeoSeries([shapely.geometry.shape(feature["geometry"])], crs=settings.CRS_WGS84) \
        .to_crs(settings.CRS).iloc[0]
    st.success(f"Polygon drawn: {polygon.area:,.0f} m².")
with st.form("dt-intervention"):
    f1, f2 = st.columns(2)
    iv_name = f1.text_input("Name", key="dt-iv-name", placeholder="e.g. Precinct evening patrols")
    iv_type = f2.selectbox("Type", list(INTERVENTION_TYPES), key="dt-iv-type")
    f3, f4 = st.columns(2)
    last = pd.Timestamp(f"{ds.months[-1]}-01").date() if ds.months else dt.date.today().replace(day=1)
    iv_start = f3.date_input("Start", value=last, key="dt-iv-start",
                             help="The first day of the data's last month unless you choose another.")
    iv_end = f4.date_input("End (blank = ongoing)", value=None, key="dt-iv-end")
    iv_notes = st.text_input("Notes", key="dt-iv-notes")
    submitted = st.form_submit_button("Save the area and intervention", disabled=not writer)
if submitted:
    if polygon is None:
        st.error("Draw a polygon on the map first.")
    elif not iv_name.strip():
        st.error("Give the area a name.")
    elif iv_end is not None and iv_end < iv_start:
        st.error("The end date is before the start date.")
    else:
        try:
            signin.require("analyst")
            key = cache.add_drawn_intervention(ds.key, target, polygon, iv_name.strip(), iv_type,
                                               iv_start, iv_end, iv_notes)
        except HotspotError as exc:
            st.error(str(exc))
        else:
            st.session_state.setdefault("drawn_areas", {})[iv_name.strip()] = polygon.wkt
            _use(key, f"Saved '{iv_name.strip()}' to {target_name} as a micro-hotspot and an "
                      "intervention; evaluate it on the Before / after page.")

# ---------------------------------------------------------------- import micro-hotspots with dates
if ds.workspace is not None:
    st.subheader("Import micro-hotspots with their dates")
    st.caption("A GeoJSON or GeoPackage of patrol areas with a name and `start` / `end` dates (blank "
               "end = ongoing; optional `type` and `notes`): each polygon becomes a micro-hotspot "
               "area and an intervention.")
    mh_file = st.file_uploader("Micro-hotspot file", key="dt-mh-file", type=["geojson", "json", "gpkg"])
    h1, h2, h3 = st.columns(3)
    mh_name = h1.text_input("Name field (blank = detect)", key="dt-mh-name")
    mh_start = h2.text_input("Start date field", value="start", key="dt-mh-start")
    mh_end = h3.text_input("End date field", value="end", key="dt-mh-end")
    if st.button("Import micro-hotspots and interventions", key="dt-mh-import", disabled=mh_file is None or not writer):
        try:
            signin.require("analyst")
            key, n = source.import_micro_hotspots(ds.key, cache.save_uploads([mh_file])[0],
                                                  mh_name.strip() or None, mh_start.strip() or "start",
                                                  mh_end.strip() or "end")
        except HotspotError as exc:
            st.error(str(exc))
        else:
            _use(key, f"Imported {n} micro-hotspots with their interventions from {mh_file.name}.")

# ---------------------------------------------------------------- named places (town centres)
if ds.workspace is not None:
    st.subheader("Named places: town centres from streets or postcodes")
    st.caption("A CSV of `name` and, per row, `street` (the incidents' own 'On or near <street>' "
               "points), `grid_ref`, `easting` and `northing`, or `postcode` (with a postcode file of "
               "`postcode`, `easting`, `northing`), optional `radius_m`: each point becomes a circle, "
               "and the circles of one name one area in the town_centre layer (tables, rankings and "
               "maps use it). A boundary file of town centres loads above with the layer "
               "`town_centre`; one drawn area is named under 'Draw a micro-hotspot'.")
    np1, np2, np3 = st.columns([3, 2, 1])
    places_csv = np1.file_uploader("Places CSV", key="dt-places-csv", type=["csv"])
    postcode_csv = np2.file_uploader("Postcode file (only for postcodes)", key="dt-places-postcodes", type=["csv"])
    places_r = np3.number_input("Radius (m)", min_value=10.0, max_value=2000.0,
                                value=places_question.RADIUS_M, step=10.0, key="dt-places-radius")
    if st.button("Add the named places", key="dt-places-go", disabled=places_csv is None or not writer):
        try:
            signin.require("analyst")
            table = pd.read_csv(cache.save_uploads([places_csv])[0], dtype=str, keep_default_na=False)
            lookup = (pd.read_csv(cache.save_uploads([postcode_csv])[0], dtype=str, keep_default_na=False)
                      if postcode_csv is not None else None)
            made, notes = places_question.named_places(table, radius_m=places_r, incidents=ds.incidents,
                                                       postcodes=lookup)
            key, _ = source.add_to_workspace(source.target_of(ds.key) or target, None, made)
        except HotspotError as exc:
            st.error(str(exc))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            st.error(f"{places_csv.name}: not a readable CSV ({' '.join(str(exc).split())})")
        else:
            _use(key, f"Added {len(made)} named place{'s' if len(made) != 1 else ''} to the town_centre layer: "
                      + ", ".join(made["name"].astype(str)) + "." + ("".join(" " + n for n in notes)))

# ---------------------------------------------------------------- ward population from the Census
if ds.workspace is not None and len(ds.wards) and "ward" in set(ds.areas["layer"].astype(str)):
    st.subheader("Ward population from Census LSOA counts")
    st.caption("The Census 2021 population of each small area (LSOA) goes to the ward containing it "
               "(rates per 1,000 use it), as `hotspot rank --population FILE --lsoa-boundaries ...` does.")
    p1, p2 = st.columns(2)
    pop_csv = p1.file_uploader("Census population CSV (LSOA code, population)", key="dt-pop-csv", type=["csv"])
    lsoa_files = p2.file_uploader("LSOA boundaries", key="dt-lsoa-files", accept_multiple_files=True,
                                  type=["geojson", "json", "gpkg", "zip"])
    if st.button("Set ward population", key="dt-pop-go", disabled=pop_csv is None or not lsoa_files or not writer):
        try:
            signin.require("analyst")
            with st.status("Placing small areas in wards…"):
                key, pop, report = source.population_from_lsoa(ds.key, cache.save_uploads([pop_csv])[0],
                                                                cache.save_uploads(lsoa_files))
        except HotspotError as exc:
            st.error(str(exc))
        else:
            st.session_state["dt-pop-report"] = report
            _use(key, f"Ward population set: {int(pop['population'].sum()):,} residents in "
                      f"{int(pop['population'].notna().sum())} wards.")
    if "dt-pop-report" in st.session_state and len(st.session_state["dt-pop-report"]):
        st.caption("Small areas not placed by their polygon:")
        st.dataframe(st.session_state["dt-pop-report"], hide_index=True)

# ---------------------------------------------------------------- edit and delete
if ds.workspace is not None and (len(ds.interventions) or len(ds.areas)):
    # the record versions this session was shown with these data: what every edit and delete
    # carries (kept per source key, so a reloaded cache cannot swap in newer versions)
    shown_versions = st.session_state.setdefault(f"dt-versions-{ds.key}", dict(ds.versions))
    st.subheader("Edit or delete interventions and areas")
    iv = ds.interventions
    if len(iv):
        choices = cache.intervention_choices(ds.key)
        chosen = st.selectbox("Intervention", list(choices), format_func=choices.get, key="dt-ed-iv")
        row = iv[iv["intervention_id"].astype(str) == chosen].iloc[0]
        with st.form("dt-edit-iv"):
            e1, e2 = st.columns(2)
            e_name = e1.text_input("Name", value=str(row["name"]), key=f"dt-ed-name-{chosen}")
            types = list(INTERVENTION_TYPES)
            e_type = e2.selectbox("Type", types, index=types.index(row["type"]) if row["type"] in types else 0,
                                  key=f"dt-ed-type-{chosen}")
            e3, e4 = st.columns(2)
            e_start = e3.date_input("Start", value=pd.Timestamp(row["start"]).date(), key=f"dt-ed-start-{chosen}")
            e_end = e4.date_input("End (blank = ongoing)",
                                  value=pd.Timestamp(row["end"]).date() if pd.notna(row["end"]) else None,
                                  key=f"dt-ed-end-{chosen}")
            e_notes = st.text_input("Notes", value="" if pd.isna(row["notes"]) else str(row["notes"]),
                                    key=f"dt-ed-notes-{chosen}")
            save_edit = st.form_submit_button("Save changes", disabled=not writer)
        d1, d2 = st.columns([1, 3])
        sure = d2.checkbox("Yes, delete this intervention (it can be restored)", key=f"dt-del-iv-ok-{chosen}")
        seen = shown_versions.get(("intervention", chosen), 1)  # the version shown: edits carry it
        if d1.button("Delete intervention", key="dt-del-iv", disabled=not sure or not writer):
            try:
                signin.require("analyst")
                _use(source.delete_intervention(ds.key, chosen, record_version=seen),
                     f"Deleted '{row['name']}' (it can be restored below).")
            except HotspotError as exc:
                st.error(str(exc))
        if save_edit:
            try:
                signin.require("analyst")
                key = source.update_intervention(ds.key, chosen, record_version=seen,
                                                 name=e_name.strip() or str(row["name"]),
                                                 type=e_type, start=e_start, end=e_end,
                                                 notes=e_notes.strip() or None)
            except HotspotError as exc:
                st.error(str(exc))
            else:
                _use(key, f"Saved the changes to '{e_name.strip() or row['name']}'.")
    areas_all = ds.areas
    if len(areas_all):
        labels = {str(r.area_id): f"{r.name} ({str(r.layer).replace('_', ' ')})"
                  for r in areas_all.itertuples(index=False)}
        a_id = st.selectbox("Area", list(labels), format_func=labels.get, key="dt-del-area-pick")
        sure_a = st.checkbox("Yes, delete this area (it can be restored; interventions keep their own outline)",
                             key=f"dt-del-area-ok-{a_id}")
        if st.button("Delete area", key="dt-del-area", disabled=not sure_a or not writer):
            try:
                signin.require("analyst")
                _use(source.delete_area(ds.key, a_id, record_version=shown_versions.get(("area", a_id), 1)),
                     f"Deleted {labels[a_id]} (it can be restored below).")
            except HotspotError as exc:
                st.error(str(exc))

# ---------------------------------------------------------------- restore what was deleted
if ds.workspace is not None:
    gone = source.deleted(ds.key)
    if len(gone):
        st.subheader("Recently deleted")
        st.caption("Deleted interventions and areas are kept: restore one to put it back as it was.")
        st.dataframe(gone, hide_index=True, width="stretch", key="dt-deleted")
        keys = [f"{k}:{i}" for k, i in zip(gone["kind"], gone["id"])]
        shown_as = {f"{r.kind}:{r.id}": f"{r.name} ({r.kind}, {r.id}; deleted by {r.deleted_by})"
                    for r in gone.itertuples(index=False)}
        pick = st.selectbox("Deleted record", keys, format_func=shown_as.get, key="dt-restore-pick")
        if st.button("Restore", key="dt-restore"):
            kind, _, rid = pick.partition(":")
            try:
                signin.require("analyst")
                key, name = source.restore(ds.key, kind, rid)
            except HotspotError as exc:
                st.error(str(exc))
            else:
                _use(key, f"Restored '{name}'.")

signin.audit_view(ds)  # analysts and admins: who changed the workspace
signin.users_view()  # admins: who may sign in
