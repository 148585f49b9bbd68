"""Reports: the partnership paper (report pack) built from the same choices as the other pages
(area, month, sections), previewed here and downloaded as HTML, PDF, DOCX or XLSX. Thin: the
spec and the pack come from `report_pack`."""

import pandas as pd
import streamlit as st

from hotspot_app.render import pack as report_pack
from hotspot_app.ui import cache, common

st.title("Reports")
ds = common.dataset()
common.banner(ds)

LAYERS = {"wards": ds.wards, "town_centres": ds.town_centres, "micro_hotspots": ds.micro_hotspots}
LAYERS = {k: v for k, v in LAYERS.items() if len(v)}
area_choices = {f"{key}|{name}": f"{name} ({key.replace('_', ' ')})"
                for key, gdf in LAYERS.items() for name in gdf["name"].astype(str)}
if not area_choices or "wards" not in LAYERS:
    st.info("Load ward boundaries on the Data page to build a report.")
    st.stop()

c1, c2 = st.columns([2, 1])
choice = c1.selectbox("Area", list(area_choices), format_func=area_choices.get, key="rp-area")
month = c2.selectbox("Last month of the report", list(reversed(ds.months)), key="rp-month",
                     format_func=lambda m: pd.Timestamp(f"{m}-01").strftime("%B %Y"))
include = st.multiselect("Sections", list(report_pack.APP_SECTIONS), default=list(report_pack.APP_SECTIONS),
                         format_func=report_pack.APP_SECTIONS.get, key="rp-sections")
category = common.category_picker(ds, "rp-cat", default=["asb"],
                                   label="Categories for concentration and patrol areas")
evaluation = None
if "evaluation" in include:
    options = {}
    for _, row in ds.interventions.iterrows():
        ev = report_pack.intervention_evaluation(row, LAYERS)
        if ev:
            options[str(row["intervention_id"])] = (cache.intervention_choices(ds.key).get(str(row["intervention_id"]), ev["area"]), ev)
    if options:
        iv = st.selectbox("Intervention to evaluate", list(options), format_func=lambda k: options[k][0], key="rp-iv")
        evaluation = options[iv][1]
    else:
        st.caption("No stored intervention names an area: the evaluation section is left out.")

area_key, area_name = choice.split("|", 1)
if st.button("Build report", type="primary", key="rp-build"):
    with common.answer_or_stop():
        with st.status("Building the report…", expanded=False) as status:
            spec = report_pack.app_spec(area_key=area_key, area=area_name, month=month, include=include,
                                        category=category, evaluation=evaluation, synthetic=ds.is_demo)
            inputs = report_pack.Inputs(ds.incidents, LAYERS, data_files=[ds.label],
                                        area_files={k: f"{ds.label} ({k.replace('_', ' ')})" for k in LAYERS})
            pack = report_pack.build(spec, inputs)
            st.session_state["rp-pack"] = {fmt: report_pack.render(pack, fmt) for fmt in ("html", "pdf", "docx", "xlsx")}
            st.session_state["rp-name"] = common.slug(f"report-{area_name}-{month}")
            st.session_state["rp-images"] = [(img.title, img.png) for img in pack.images]
            st.session_state["rp-warnings"] = list(pack.warnings)
            status.update(label=f"Built: {len(pack.sections)} sections, {len(pack.tables)} tables, "
                                f"{len(pack.images)} maps and charts", state="complete")

built = st.session_state.get("rp-pack")
if built:
    common.show_warnings(st.session_state.get("rp-warnings", []))
    name = st.session_state.get("rp-name", "report")
    mimes = {"html": "text/html", "pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    cols = st.columns(4)
    for col, fmt in zip(cols, mimes):
        col.download_button(f"Download {fmt.upper()}", built[fmt], f"{name}.{fmt}", mimes[fmt],
                            key=f"rp-dl-{fmt}", on_click="ignore")
    images = st.session_state.get("rp-images", [])
    for col, (i, (title, png)) in zip(st.columns(max(1, len(images))), enumerate(images)):
        col.download_button(f"PNG: {title}", png, f"{common.slug(title)}.png", "image/png",
                            key=f"rp-png-{i}", on_click="ignore")
    st.iframe(built["html"].decode("utf-8"), height=900)  # the pack's own HTML: user text escaped
