"""The cached calls the Hotspots, Patrol plan and Fires pages make: the patrol-areas, patrol-plan,
concentration and fire questions (`hotspot_app.questions`), when-tables, and the patrol sheet and
map images -- each only wrapped in a cache, on plain arguments (as in `cache`)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from hotspot_app.core import patrol, when
from hotspot_app.questions import fires, patrol_areas as patrol_question, patrol_plan, rank
from hotspot_app.render import patrol_sheet
from hotspot_app.ui import cache


@st.cache_data(show_spinner=False, max_entries=32)
def patrol_areas(key: str, category: tuple[str, ...], period: tuple[str, str], preset: str | None,
                 eps_m: float | None = None, min_samples: int | None = None,
                 days: float | None = None, rank_by: str | None = None,
                 top: int | None = None, within: tuple[str, ...] = ()) -> patrol_question.PatrolAreas:
    """`questions.patrol_areas.patrol_areas` on the selection, named with the wards; `within`
    the place chosen (`common.place_picker`)."""
    ds = cache.load(key)
    return patrol_question.patrol_areas(
        ds.incidents, category=list(category) or None, period=f"{period[0]}..{period[1]}",
        preset=preset, eps_m=eps_m, min_samples=min_samples, days=days, rank_by=rank_by,
        areas=ds.wards if len(ds.wards) else None, top=top, within=list(within) or None)


@st.cache_data(show_spinner=False, max_entries=32)
def eps_guidance(key: str, category: tuple[str, ...], period: tuple[str, str], min_samples: int):
    """`questions.patrol_areas.eps_guidance`: (suggestion, sentence) for the selection."""
    return patrol_question.eps_guidance(cache.load(key).incidents, int(min_samples),
                                        category=list(category) or None,
                                        period=f"{period[0]}..{period[1]}")


@st.cache_data(show_spinner=False, max_entries=16)
def forecast(key: str, category: tuple[str, ...], period: tuple[str, str], preset: str | None,
             eps_m: float | None, min_samples: int | None) -> dict | None:
    """`questions.patrol_areas.forecast`: PAI/RRI of last period's patrol areas, or None."""
    ds = cache.load(key)
    return patrol_question.forecast(ds.incidents, category=list(category) or None, period=period,
                                    preset=preset, eps_m=eps_m, min_samples=min_samples,
                                    areas=ds.wards if len(ds.wards) else None)


@st.cache_data(show_spinner=False, max_entries=32)
def selected(key: str, category: tuple[str, ...], months: tuple[str, ...],
             within: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    inc = cache.place(key, within)[0]
    return inc[cache.selected_mask(inc, category, months)]


@st.cache_data(show_spinner=False, max_entries=32)
def when_tables(key: str, category: tuple[str, ...], months: tuple[str, ...], within: tuple[str, ...] = ()):
    """(`when.TimeDetail`, day × hour table or None, peak times or None) of the selection (in the
    place `within`)."""
    sel = selected(key, category, months, within)
    return when.time_detail(sel), when.day_hour_table(sel), when.peak_times(sel)


@st.cache_data(show_spinner="Planning patrols…", max_entries=16)
def plan(key: str, category: tuple[str, ...], period: tuple[str, str], preset: str | None,
         eps_m: float | None, min_samples: int | None, top: int, visits: int, minutes: int,
         days: int, start: str, seed: int, hours: tuple[int, int], share: float,
         rank_by: str | None = None, within: tuple[str, ...] = (), ranks: tuple[int, ...] = (),
         teams: int | None = None, travel: str | None = None) -> patrol.PatrolPlan:
    """`questions.patrol_plan.patrol_plan` for these settings (areas named with the wards; `within`
    the place, `ranks` the areas picked by hand): its `plan_for` on the cached patrol areas the
    question asks for, so a new seed (each new session draws one) plans without a new search."""
    found = patrol_areas(key, category, period, preset, eps_m, min_samples, None, rank_by,
                         None if ranks else top, within)
    return patrol_plan.plan_for(found, top=top, ranks=list(ranks) or None, visits_per_day=visits,
                                minutes=minutes, days=days, start=start, seed=seed, hours=hours,
                                comparison_share=share, teams=teams, travel=travel)


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

    from hotspot_app.core import settings

    ds = cache.load(key)
    label = settings.DEMO_LABEL if ds.is_demo else ds.label
    return static_maps.patrol_png(_areas, context=ds.wards if len(ds.wards) else None,
                                  number_field="rank", title=title,
                                  source=f"Source: {label}. Ward boundaries as loaded. British National Grid.")


@st.cache_data(show_spinner="Measuring concentration…", max_entries=16)
def concentration(key: str, category: tuple[str, ...], months: tuple[str, ...], cell_m: float,
                  n: int) -> tuple[pd.DataFrame | None, list[str]]:
    """`questions.rank.concentration` over the wards and `cell_m` grid cells."""
    ds = cache.load(key)
    return rank.concentration(ds.incidents, ds.wards, category=list(category) or None,
                              months=list(months), cell_m=float(cell_m), top=int(n))


@st.cache_data(show_spinner="Measuring concentration…", max_entries=16)
def concentration_shown(key: str, category: tuple[str, ...], months: tuple[str, ...], cell_m: float,
                        n: int) -> tuple[pd.DataFrame | None, list[str], int]:
    """What the page shows of `concentration`: (the points of each curve to draw,
    `charts.thin_curve`; the sentences; how many points the whole curves have). A national
    year's curves have a point per grid cell: read back from the cache and thinned on every
    visit they took a second; the whole curves are for the download (`concentration`)."""
    from hotspot_app.render import charts

    curves, sentences = concentration(key, category, months, cell_m, n)
    if curves is None:
        return None, sentences, 0
    return charts.thin_curve(curves, group="places"), sentences, len(curves)


@st.cache_data(show_spinner=False, max_entries=16)
def fire_summary(key: str, group: str, months: tuple[str, ...], within: tuple[str, ...] = ()) -> fires.FireSummary:
    """`questions.fires.fire_summary` with the loaded wards (or the file's own ward column), in
    the place `within` (its fires and wards)."""
    ds = cache.load(key)
    return fires.fire_summary(ds.incidents, ds.wards, category=group, months=list(months),
                              within=list(within) or None)


@st.cache_data(show_spinner=False, max_entries=16)
def fire_defaults(key: str) -> dict:
    """`questions.fires.cluster_defaults` of the loaded fires."""
    return fires.cluster_defaults(cache.load(key).incidents)


@st.cache_data(show_spinner=False, max_entries=16)
def fire_clusters(key: str, period: tuple[str, str], eps_m: float, min_samples: int,
                  top: int, within: tuple[str, ...] = ()) -> patrol_question.PatrolAreas:
    """`questions.fires.secondary_fire_clusters`, named with the wards loaded (or the file's own),
    of the fires in the place `within`."""
    incidents, wards = cache.place(key, within)
    return fires.secondary_fire_clusters(incidents, period=f"{period[0]}..{period[1]}",
                                         eps_m=float(eps_m), min_samples=int(min_samples), top=int(top),
                                         wards=wards if wards is not None and len(wards) else None)


@st.cache_data(show_spinner=False, max_entries=16)
def seasonal(key: str, group: str, months: tuple[str, ...], season: tuple[int, ...],
             within: tuple[str, ...] = ()):
    """`questions.fires.seasonal` with the loaded wards (or the file's own ward column), in the
    place `within`."""
    ds = cache.load(key)
    return fires.seasonal(ds.incidents, ds.wards, category=group, months=list(months), season=season,
                          within=list(within) or None)
