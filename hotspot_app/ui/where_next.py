"""The Hotspots page's "Where next" section: emerging hot spots on a map with a legend, which
method predicted next month best here (and its map for next month when asked), near repeats where
incidents carry dates, the stability of the top patrol areas and cells under police.uk's
snapping, rates per 1,000 by ward with their Empirical Bayes smoothing, and hot streets when a
street network is uploaded. Opened on demand (the Hotspots page's toggle imports this
module only then: its questions' imports alone take seconds). Each figure is the answer of
`questions.where_next` (the one `hotspot grid --method emerging`, `backtest`, `near-repeat`,
`stability` and `hot-streets` print), cached on plain arguments; here it is only laid out."""

from __future__ import annotations

import tempfile
from pathlib import Path

import folium
import pandas as pd
import streamlit as st

from hotspot_app.core import backtest as backtest_rules
from hotspot_app.io import geofiles
from hotspot_app.questions import rank, where_next
from hotspot_app.render import maps
from hotspot_app.render import where_next as where_next_text
from hotspot_app.ui import cache, common


# ------------------------------------------------------------------------------ cached calls
def _cats(category: tuple[str, ...]):
    return list(category) or None


@st.cache_data(show_spinner="Emerging hot spots…", max_entries=16)
def emerging(key: str, category: tuple[str, ...], period: tuple[str, str]) -> where_next.Emerging:
    ds = cache.load(key)
    return where_next.emerging(ds.incidents, category=_cats(category), period=f"{period[0]}..{period[1]}")


@st.cache_data(show_spinner="Scoring each method on the months it had not seen…", max_entries=16)
def backtest(key: str, category: tuple[str, ...], period: tuple[str, str]) -> where_next.Backtest:
    ds = cache.load(key)
    return where_next.backtest(ds.incidents, category=_cats(category), period=period)


@st.cache_data(show_spinner="Drawing next month's map…", max_entries=16)
def predict(key: str, category: tuple[str, ...], method: str, to: str):
    ds = cache.load(key)
    return where_next.predict(ds.incidents, method, category=_cats(category), to=to)


@st.cache_data(show_spinner=False, max_entries=32)
def dated(key: str, category: tuple[str, ...], months: tuple[str, ...]) -> bool:
    inc = cache.load(key).incidents
    return where_next.has_dates(inc[cache.selected_mask(inc, category, months)])


@st.cache_data(show_spinner="Near-repeat test (permutations)…", max_entries=16)
def near_repeat(key: str, category: tuple[str, ...], period: tuple[str, str]) -> where_next.NearRepeat:
    ds = cache.load(key)
    return where_next.near_repeat(ds.incidents, category=_cats(category), period=f"{period[0]}..{period[1]}")


@st.cache_data(show_spinner="Moving the snap points (seeded draws)…", max_entries=16)
def stability(key: str, category: tuple[str, ...], period: tuple[str, str], preset: str | None,
              eps_m: float, min_samples: int, top: int):
    ds = cache.load(key)
    return where_next.stability(ds.incidents, category=_cats(category), period=f"{period[0]}..{period[1]}",
                                top=top, preset=preset, eps_m=eps_m, min_samples=min_samples, areas=ds.wards)


@st.cache_data(show_spinner="Rates by ward…", max_entries=16)
def smoothed_rates(key: str, category: tuple[str, ...], period: tuple[str, str]):
    """`questions.rank.rank` of the wards with ``smooth="eb"`` (the `hotspot rank --smooth eb` answer)."""
    ds = cache.load(key)
    return rank.rank(ds.incidents, ds.wards, category=_cats(category), period=period, smooth="eb")


@st.cache_data(show_spinner="Snapping incidents to streets…", max_entries=8)
def hot_streets(key: str, category: tuple[str, ...], period: tuple[str, str], data: bytes, name: str):
    ds = cache.load(key)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        network = geofiles.read_lines(path)
    return where_next.hot_streets(ds.incidents, network, category=_cats(category),
                                  period=f"{period[0]}..{period[1]}")


# ------------------------------------------------------------------------------ the section
def _cells_map(cells, wards, layer_name: str, *, classes: bool) -> folium.Map:
    m = maps.base_map(maps.bounds_of(cells, pad_m=250.0) or None, tiles=common.tiles())
    if len(wards):
        maps.area_outlines(wards, name="Wards", colour="#777777", line_width=1).add_to(m)
    if classes:
        scale = where_next_text.class_scale([c for c in cells["class"] if c not in where_next_text.QUIET])
        layer, _ = maps.grid_layer(cells, value="count", category="class", name=layer_name, scale=scale,
                                   hide=list(where_next_text.QUIET), title="Incidents")
    else:
        scale = maps.categorical_scale(["flagged for next month"], ["#d7301f"], "Next month's map")
        layer, _ = maps.grid_layer(cells.assign(flag="flagged for next month"), value="count",
                                   category="flag", name=layer_name, scale=scale, title="Incidents (history)")
    layer.add_to(m)
    maps.Legend(scale, position="bottomleft").add_to(m)
    return m


def section(ds, category: tuple[str, ...], months: tuple[str, ...], *, preset: str | None, eps_m: float,
            min_samples: int, top: int, ranked_by_harm: bool = False) -> None:
    """The "Where next" section for the page's selection (categories, months, patrol preset), under
    the page's "Where next" heading and toggle."""
    period = (months[0], months[-1])

    # -------------------------------------------------- emerging hot spots
    st.subheader("Emerging hot spots")
    with common.answer_or_stop():
        em = emerging(ds.key, category, period)
    doc = em.to_dict()
    common.show_warnings(em.warnings)
    st.markdown(f"**{where_next_text.emerging_sentence(doc)}**")
    p = em.parameters
    st.caption(f"Method: {p['method']}: Gi* per cell and month with the cell's neighbours this month and "
               f"last, significant at a {p['alpha']:.0%} false discovery rate (Benjamini–Hochberg over "
               f"all cells and months), then a {p['trend']} test per cell.")
    active = em.cells[~em.cells["class"].isin(where_next_text.QUIET)]
    if len(active):
        common.show_map(_cells_map(active, ds.wards, "Emerging hot spots", classes=True),
                        key="wn-emerging-map", download="emerging-hot-spots", height=460)
    else:
        st.caption("No cell is a significant hot or cold spot pattern in this period.")
    st.dataframe(where_next_text.emerging_frame(doc), hide_index=True, width="stretch", key="wn-em-table")
    keep = [c for c in ("cell_id", "count", "n_hot", "n_cold", "gi_z_last", "trend_z", "trend_p", "class",
                        "geometry") if c in em.cells.columns]
    with st.expander("Emerging hot spot cells: download"):
        common.downloads(em.cells[keep], "emerging-hot-spots", key="wn-em-dl", geo=True)

    # -------------------------------------------------- which method predicts next month
    st.subheader("Which map predicts next month here?")
    with common.answer_or_stop():
        bt = backtest(ds.key, category, period)
    common.show_warnings(bt.warnings)
    sentence = bt.sentence()
    if sentence is None:
        st.info("No month of this period could be scored: each method needs the 12 months before a "
                "month loaded. Choose a later period.")
    else:
        st.markdown(f"**{sentence}**")
        bp = bt.parameters
        st.caption(f"Each month from {bp['from']} to {bp['to']}, every method's map was built only from the "
                   f"months before it; the top {bp['area_share']:.0%} of the study area "
                   f"({bp['study_area_km2']:,.0f} km², {bp['cell_m']:g} m cells) it flagged was scored on the "
                   "month: PAI = share of the month's incidents caught / share of the area flagged; PEI = "
                   "incidents caught / the most any map of that size could catch; RRI = share caught / the "
                   "same cells' share of the incidents the map was built from.")
        frame = where_next_text.backtest_frame(bt.to_dict())
        st.dataframe(frame, hide_index=True, width="stretch", key="wn-bt-table",
                     column_config={"PAI": st.column_config.NumberColumn(format="%.2f"),
                                    "PEI": st.column_config.NumberColumn(format="%.3f"),
                                    "RRI": st.column_config.NumberColumn(format="%.3f"),
                                    "PAI sd": st.column_config.NumberColumn(format="%.2f"),
                                    "PEI sd": st.column_config.NumberColumn(format="%.3f")})
        common.downloads(frame, "backtest", key="wn-bt-dl")
        if st.toggle(f"Use it: map next month with the {backtest_rules.label(bt.best)} method", key="wn-use"):
            with common.answer_or_stop():
                cells = predict(ds.key, category, bt.best, months[-1])
            flagged = cells[cells["flagged"] > 0]
            pp = cells.attrs["parameters"]
            st.markdown(f"**{len(flagged):,} cells ({pp['area_share']:.0%} of the study area) flagged for "
                        f"{pd.Timestamp(pp['for'] + '-01'):%B %Y} by the {pp['label']} map, built from "
                        f"{pp['from']} to {pp['to']}.**")
            common.show_map(_cells_map(flagged, ds.wards, "Next month's map", classes=False),
                            key="wn-next-map", download="next-month-map", height=420)
            common.downloads(flagged[["cell_id", "score", "count", "flagged", "geometry"]],
                             f"next-month-{bt.best}", key="wn-next-dl", geo=True)

    # -------------------------------------------------- near repeat
    st.subheader("Near repeats")
    if not dated(ds.key, category, months):
        st.info("Near-repeat analysis needs dates: these incidents have only a month (police.uk publishes "
                "months, not dates). Load the force's or the fire service's own extract, with dates.")
    else:
        with common.answer_or_stop():
            nr = near_repeat(ds.key, category, period)
        common.show_warnings(nr.warnings)
        for s in nr.sentences() or ["No distance and time band has significantly more pairs of incidents "
                                    "than shuffling the dates gives."]:
            st.markdown(f"**{s}**")
        st.caption(f"Method: {nr.parameters['method']}; {nr.parameters['permutations']} permutations "
                   f"(seed {nr.parameters['seed']}), {nr.parameters['n_incidents']:,} dated incidents.")
        st.dataframe(where_next_text.near_repeat_frame(nr.to_dict()), hide_index=True, width="stretch",
                     key="wn-nr-table")

    # -------------------------------------------------- stability under snapping
    st.subheader("Do the top places survive police.uk's snapping?")
    with common.answer_or_stop():
        stab = stability(ds.key, category, period, preset, float(eps_m), int(min_samples), int(top))
    common.show_warnings(stab.warnings)
    sp = stab.parameters
    st.caption(f"Each incident moved at random within {sp['radius_rule']} of its snap point, "
               f"{sp['draws']} times (seed {sp['seed']}); the share of draws in which each of the top "
               f"{sp['top']} patrol areas (eps {sp['eps_m']:g} m, min samples {sp['min_samples']}"
               + (", ranked by incidents, not harm" if ranked_by_harm else "")
               + f") and {sp['cell_m']:g} m cells stays in the top.")
    pcol, ccol = st.columns(2)
    shown = stab.patrol.rename(columns={"rank": "Rank", "name": "Patrol area", "count": "Incidents",
                                        "stability": "Stability", "median_rank": "Median rank"})
    pcol.dataframe(shown, hide_index=True, width="stretch", key="wn-st-patrol",
                   column_config={"Stability": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                                               max_value=1)})
    cells_shown = stab.cells.rename(columns={"rank": "Rank", "cell_id": "Cell", "count": "Incidents",
                                             "stability": "Stability"}).drop(columns=["x", "y"])
    ccol.dataframe(cells_shown, hide_index=True, width="stretch", key="wn-st-cells",
                   column_config={"Stability": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                                               max_value=1)})

    # -------------------------------------------------- stable small-area rates
    st.subheader("Rates per 1,000 by ward: raw and smoothed")
    pops = pd.to_numeric(ds.wards["population"], errors="coerce") if "population" in ds.wards.columns else None
    if not len(ds.wards) or pops is None or not bool((pops > 0).any()):
        st.caption("Rates need the wards' population (add it on the Data page).")
    else:
        with common.answer_or_stop():
            ranked, rdoc = smoothed_rates(ds.key, category, period)
        common.show_warnings(rdoc["warnings"])
        body = ranked[ranked["area_id"] != "outside"]
        rates = pd.DataFrame({"Ward": body["name"], "Incidents": body["count"], "Population": body["population"],
                              "Rate per 1,000": body["rate_per_1000"], "EB rate per 1,000": body["rate_eb"]}
                             ).sort_values("EB rate per 1,000", ascending=False, kind="stable")
        if rdoc.get("smoothing"):
            st.caption(f"{rdoc['smoothing']['method']}: each ward's rate is pulled towards the rate of all "
                       "wards by how small its population is, so a small ward does not top the list on a few "
                       "incidents; the raw rate is beside it.")
        st.dataframe(rates, hide_index=True, width="stretch", key="wn-eb-table",
                     column_config={"Rate per 1,000": st.column_config.NumberColumn(format="%.2f"),
                                    "EB rate per 1,000": st.column_config.NumberColumn(format="%.2f")})

    # -------------------------------------------------- hot streets
    st.subheader("Hot streets")
    upload = st.file_uploader("Street network (GeoPackage or GeoJSON of street lines, e.g. OS Open Roads)",
                              type=["gpkg", "geojson", "json"], key="wn-streets")
    if upload is None:
        st.caption("Upload a street network to count incidents per street segment and per 100 m of street.")
        return
    with common.answer_or_stop():
        hs = hot_streets(ds.key, category, period, upload.getvalue(), upload.name)
    common.show_warnings(hs.warnings)
    sdoc = hs.to_dict(top=20)
    st.markdown(f"**{where_next_text.streets_sentence(sdoc)}**")
    top_segments = hs.segments.head(20)
    if len(top_segments):
        m = maps.base_map(maps.bounds_of(top_segments, pad_m=200.0), tiles=common.tiles())
        folium.GeoJson(maps.to_wgs84(top_segments[["geometry"]]).__geo_interface__, name="Hot streets",
                       style_function=lambda f: {"color": "#d7301f", "weight": 5}).add_to(m)
        common.show_map(m, key="wn-streets-map", height=420)
    st.dataframe(where_next_text.streets_frame(sdoc), hide_index=True, width="stretch", key="wn-hs-table")
    common.downloads(hs.segments, "hot-streets", key="wn-hs-dl", geo=True)

