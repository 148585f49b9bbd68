"""The cached calls the Hotspots, Patrol plan and Fires pages make into the core (patrol areas
with the contract columns, when-tables, patrol plans and sheets, concentration, harm, fires).
Plain arguments only, as in `cache`; the pages stay thin."""

from __future__ import annotations

import inspect
import warnings as _warnings
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from hotspot_app.core import concentration as concentration_rules
from hotspot_app.core import fire_summary, harm, patrol, taxonomy, when
from hotspot_app.core.errors import InputError
from hotspot_app.ui import cache
from hotspot_app.render import patrol_sheet


@dataclass(frozen=True)
class Areas:
    """Patrol areas as the pages show them: every contract column present, ranked."""

    areas: gpd.GeoDataFrame          # all areas found (contract columns)
    incidents: pd.DataFrame          # the selected incidents' cluster_id and category (no geometry)
    parameters: dict
    n_incidents: int
    n_noise: int
    message: str | None
    warnings: list[str]


def _dbscan_kwargs(weight: str | None, with_areas: bool, wards) -> dict:
    from hotspot_app.core import clusters

    accepted = inspect.signature(clusters.dbscan).parameters
    kw = {}
    if weight and "weight" in accepted:
        kw["weight"] = weight
    if with_areas and wards is not None and len(wards) and "areas" in accepted:
        kw["areas"] = wards
    return kw


@st.cache_data(show_spinner=False, max_entries=32)
def patrol_areas(key: str, selection: tuple[str, ...], period: tuple[str, str], eps_m: float,
                 min_samples: int, days: float | None = None, weight: str | None = None) -> Areas:
    """`clusters.dbscan` on the selection (names from the wards when the clusters module takes
    them; `weight` "harm" when it supports it), areas filled to the column contract, and every
    warning clusters gives (the not-walkable one is clusters.area_warnings')."""
    from hotspot_app.core import clusters

    ds = cache.load(key)
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        res = clusters.dbscan(ds.incidents, float(eps_m), int(min_samples),
                              category=list(selection) or None, period=f"{period[0]}..{period[1]}",
                              days=days, **_dbscan_kwargs(weight, True, ds.wards))
    notes = [*res.warnings, *(str(w.message) for w in caught)]  # clusters' warnings (walkable size, ...)
    inc = pd.DataFrame(res.incidents[["cluster_id", "category"]])
    return Areas(patrol.contract_columns(res.areas), inc, res.parameters, res.n_incidents,
                 res.n_noise, res.message, list(dict.fromkeys(notes)))


@st.cache_data(show_spinner=False, max_entries=32)
def selected(key: str, selection: tuple[str, ...], months: tuple[str, ...]) -> gpd.GeoDataFrame:
    inc = cache.load(key).incidents
    return inc[cache.selected_mask(inc, selection, months)]


@st.cache_data(show_spinner=False, max_entries=32)
def when_tables(key: str, selection: tuple[str, ...], months: tuple[str, ...]):
    """(`when.TimeDetail`, day × hour table or None, peak times or None) of the selection."""
    sel = selected(key, selection, months)
    return when.time_detail(sel), when.day_hour_table(sel), when.peak_times(sel)


@st.cache_data(show_spinner="Planning patrols…", max_entries=16)
def plan(key: str, selection: tuple[str, ...], period: tuple[str, str], eps_m: float, min_samples: int,
         top: int, visits: int, minutes: int, days: int, start: str, seed: int, hours: tuple[int, int],
         share: float, weight: str | None = None) -> patrol.PatrolPlan:
    """`patrol.make_plan` on the patrol areas of these settings."""
    found = patrol_areas(key, selection, period, eps_m, min_samples, None, weight)
    if len(found.areas) == 0:
        raise InputError(found.message or "no patrol areas for these settings", parameter="eps_m")
    p = patrol.make_plan(found.areas, top=top, visits_per_day=visits, minutes=minutes, days=days,
                         start=start, seed=seed, hours=hours, comparison_share=share)
    p.warnings = list(dict.fromkeys([*found.warnings, *p.warnings]))
    p.parameters = {**found.parameters, "from": period[0], "to": period[1]}
    return p


@st.cache_data(show_spinner="Drawing the patrol sheet…", max_entries=16)
def sheet(key: str, _plan: patrol.PatrolPlan, token: str, title: str) -> str:
    """The one-page patrol sheet HTML (`patrol_sheet.sheet_for`, wards as context). `token` keys the
    cache (the plan's settings)."""
    ds = cache.load(key)
    return patrol_sheet.sheet_for(_plan, context=ds.wards if len(ds.wards) else None, title=title,
                            demo=ds.is_demo)


@st.cache_data(show_spinner="Drawing the map image…", max_entries=16)
def patrol_png(key: str, _areas: gpd.GeoDataFrame, token: str, title: str) -> bytes:
    """Numbered patrol areas as a PNG (`static_maps.patrol_png`, wards as context)."""
    from hotspot_app.render import static_maps

    ds = cache.load(key)
    return static_maps.patrol_png(_areas, context=ds.wards if len(ds.wards) else None,
                                  number_field="rank", title=title)


def what_label(selection: tuple[str, ...]) -> str:
    """How sentences name the selection: "ASB", "crime and deliberate fires", or "incidents"
    (`taxonomy.selection_label`, the one set of group labels)."""
    return taxonomy.selection_label(selection)


@st.cache_data(show_spinner="Measuring concentration…", max_entries=16)
def concentration(key: str, selection: tuple[str, ...], months: tuple[str, ...], cell_m: float,
                  n: int) -> tuple[pd.DataFrame | None, list[str]]:
    """The concentration curves (`concentration.curve`) over wards and over grid cells of
    `cell_m`, stacked with a ``places`` column, and the sentence for the top `n` of each
    (`concentration.sentence`). (None, []) when nothing is selected."""
    ds = cache.load(key)
    what = what_label(selection)
    layers = []
    if len(ds.wards):
        ranking, _ = cache.ward_ranking(key, selection, months)
        counts = ranking.set_index("area_id")["count"]
        wards = ds.wards.assign(value=ds.wards["area_id"].map(counts).fillna(0).astype(float))
        layers.append(("wards", wards["value"], wards.geometry.area, wards["name"].astype(str)))
    cells = cache.grid(key, selection, (months[0], months[-1]), "count", float(cell_m), "square")
    layers.append((f"{cell_m:g} m grid cells", cells["count"].astype(float), cells.geometry.area,
                   cells["cell_id"].astype(str) if "cell_id" in cells.columns else None))
    frames, sentences = [], []
    for label, values, area, names in layers:
        if float(values.sum()) <= 0:
            continue
        c = concentration_rules.curve(values.to_numpy(), area.to_numpy(), None if names is None else names.to_numpy())
        frames.append(pd.concat([pd.DataFrame({"n": [0], "value_share": [0.0], "area_share": [0.0]}),
                                 c[["n", "value_share", "area_share"]]]).assign(places=label))
        sentences.append(concentration_rules.sentence(values.to_numpy(), area.to_numpy(), int(n), what=what,
                                      places="grid cells" if "grid" in label else label))
    if not frames:
        return None, []
    return pd.concat(frames, ignore_index=True), sentences


@st.cache_data(show_spinner=False, max_entries=16)
def harm_check(key: str, selection: tuple[str, ...], period: tuple[str, str], eps_m: float,
               min_samples: int, days: float | None, top: int) -> dict | None:
    """`harm.rank_check` on the harm-ranked patrol areas: does the top N change between the
    low and high weights?"""
    found = patrol_areas(key, selection, period, eps_m, min_samples, days, "harm")
    return harm.rank_check(found.incidents, by="cluster_id", top=int(top))


@st.cache_data(show_spinner=False, max_entries=16)
def fires_ward_month(key: str, selection: tuple[str, ...], months: tuple[str, ...]):
    """`fire_summary.ward_month_table` with the loaded wards (or the file's own ward column)."""
    ds = cache.load(key)
    return fire_summary.ward_month_table(ds.incidents, wards=ds.wards if len(ds.wards) else None,
                                         category=list(selection) or None, months=list(months))


@st.cache_data(show_spinner=False, max_entries=16)
def fire_precision(key: str) -> tuple[float | None, str | None]:
    inc = cache.load(key).incidents
    fires = inc[inc["kind"].astype(str) == "fire"]
    return fire_summary.precision_m(fires), fire_summary.precision_note(fires)


def geo_downloads_token(areas: gpd.GeoDataFrame, *parts) -> str:
    return "|".join(map(str, parts)) + f"|{len(areas)}|{areas.total_bounds.round(1).tolist() if len(areas) else ''}"



GEO_FORMATS = ((".geojson", "GeoJSON", "application/geo+json"),
               (".gpkg", "GeoPackage", "application/geopackage+sqlite3"),
               (".kml", "KML", "application/vnd.google-earth.kml+xml"))


def download_row(key: str, shown: gpd.GeoDataFrame, table: pd.DataFrame, token: str, *, stem: str,
                 widget_key: str, png_title: str, png_name: str | None = None) -> None:
    """The row of downloads under a table of patrol areas/clusters: the table as CSV, the areas as
    GeoJSON/GeoPackage/KML (built on click) and the map as PNG -- one layout for every page."""
    from hotspot_app.io import exports
    dl = st.columns(5)
    dl[0].download_button("CSV", data=exports.csv_bytes(table), file_name=f"{stem}.csv",
                          mime="text/csv", key=f"{widget_key}-csv", on_click="ignore")
    for col, (suffix, label, mime) in zip(dl[1:4], GEO_FORMATS):
        col.download_button(label, data=lambda s=suffix: cache.patrol_export(shown, s, token + s),
                            file_name=f"{stem}{suffix}", mime=mime, key=f"{widget_key}-{suffix}",
                            on_click="ignore")
    dl[4].download_button("Map (PNG)", data=lambda: patrol_png(key, shown, token, png_title),
                          file_name=png_name or f"{stem}.png", mime="image/png",
                          key=f"{widget_key}-png", on_click="ignore")


def md(text: str) -> str:
    """User text made literal in st.markdown (Markdown punctuation and angle brackets escaped)."""
    import re

    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", str(text))


def when_section(key: str, selection: tuple[str, ...], months: tuple[str, ...], *, widget_key: str,
                 name: str, value_title: str = "Incidents") -> None:
    """The "When?" block of a page: the day × hour heat table and the busiest hours where the
    incidents have times; otherwise the one sentence saying why not."""
    from hotspot_app.render import charts
    from hotspot_app.ui import common

    st.subheader("When?")
    detail, dh, peaks = when_tables(key, selection, months)
    if dh is None:
        st.info(detail.reason)
        return
    if detail.reason:
        st.caption(detail.reason)
    st.markdown(peaks["text"])
    st.altair_chart(charts.day_hour_heat(dh, value_title=value_title), width="stretch")
    common.downloads(dh.reset_index(), name, key=widget_key)
