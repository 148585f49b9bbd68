"""The cached calls the pages make: the questions (`hotspot_app.questions`), the dataset and the
downloads, each only wrapped in a cache (loading, uploads and workspace writes live in `source`).

Datasets are loaded once per *source key* with ``st.cache_resource`` (shared, never mutated:
the core never mutates its inputs). Computations are ``st.cache_data`` functions keyed on plain
arguments only: the source key (``"demo"`` or ``"workspace:<target>@<version>"``, so every
committed write is a new key) and tuples/strings/numbers for the parameters.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from hotspot_app.core import settings, summaries, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.io import geofiles
from hotspot_app.questions import grid as grid_question
from hotspot_app.questions import indicators, places, rank, summary, table, trend
from hotspot_app.render import maps
from hotspot_app.ui import source
from hotspot_app.ui.source import DEMO, Dataset, workspace_key  # noqa: F401  (the pages' names for them)

#: The area id the pages use for "everything loaded".
ALL = "__all__"


@st.cache_resource(show_spinner="Loading data…", max_entries=4)
def load(key: str) -> Dataset:
    """The dataset for a source key (`source.dataset`), shared and never mutated."""
    return source.dataset(key)


@st.cache_resource(show_spinner=False, max_entries=8)
def place(key: str, within: tuple[str, ...] = ()) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(incidents, wards) of the place chosen on a page (`questions.places.within_place`;
    everything loaded for ``()``), shared and never mutated like the dataset."""
    ds = load(key)
    return places.within_place(ds.incidents, ds.wards, list(within) or None)


@st.cache_data(show_spinner=False, max_entries=8)
def kind_counts(key: str) -> pd.Series:
    """Incidents loaded per kind (crime, asb, fire), by kind."""
    return load(key).incidents.groupby("kind").size()


# ------------------------------------------------------------------------------ selections
def category_options(key: str) -> list[str]:
    """Named groups present in the data, then hierarchy nodes and categories present."""
    return _category_options(key)


@st.cache_data(show_spinner=False, max_entries=16)
def _category_options(key: str) -> list[str]:
    return taxonomy.choices_present(load(key).incidents)


def selected_mask(inc: pd.DataFrame, category: tuple[str, ...], months: tuple[str, ...] | None) -> pd.Series:
    mask = taxonomy.select(inc, list(category) if category else None)
    if months:
        mask &= inc["month"].isin(list(months))
    return mask


@st.cache_data(show_spinner=False, max_entries=32)
def count_selected(key: str, category: tuple[str, ...], months: tuple[str, ...] | None,
                   within: tuple[str, ...] = ()) -> int:
    inc = place(key, within)[0]
    return int(selected_mask(inc, category, months).sum())


@st.cache_data(show_spinner=False, max_entries=32)
def locations(key: str, category: tuple[str, ...], months: tuple[str, ...] | None,
              within: tuple[str, ...] = ()) -> pd.DataFrame:
    """Distinct incident locations of the selection (`maps.locations`), WGS84; `within` the place."""
    inc = place(key, within)[0]
    return maps.locations(inc[selected_mask(inc, category, months)])


# ------------------------------------------------------------------------------ the questions
@st.cache_data(show_spinner="Counting by ward…", max_entries=32)
def ward_ranking(key: str, category: tuple[str, ...], months: tuple[str, ...],
                 within: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict]:
    """`questions.rank.rank` of the wards (of the place `within`, as `hotspot rank --within`: its
    incidents, shares and totals; coverage judged on everything loaded): (table, the `hotspot
    rank` document with its ``sentences``)."""
    ds = load(key)
    incidents, wards = place(key, within)
    return rank.rank(incidents, wards, category=list(category) or None, period=(months[0], months[-1]),
                     whole=ds.incidents if within else None)


@st.cache_data(show_spinner="Counting by ward…", max_entries=32)
def ward_values(key: str, category: tuple[str, ...], months: tuple[str, ...],
                metric: str = "count", within: tuple[str, ...] = ()) -> tuple[pd.Series, list[str]]:
    """`questions.rank.area_values` of the wards (of the place `within`; count or rate per 1,000,
    by area_id)."""
    ds = load(key)
    return rank.area_values(ds.incidents, place(key, within)[1], category=list(category) or None,
                            months=list(months), metric=metric)


@st.cache_data(show_spinner="Comparing with a year earlier…", max_entries=32)
def ward_change(key: str, category: tuple[str, ...], months: tuple[str, ...],
                within: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[str]]:
    """`questions.rank.change` of the wards (of the place `within`): counts in `months`, a year
    earlier, % change."""
    ds = load(key)
    return rank.change(ds.incidents, place(key, within)[1], category=list(category) or None, months=list(months))


def area_rows(key: str, area_id: str, within: tuple[str, ...] = ()) -> gpd.GeoDataFrame | None:
    """The rows of the area `area_id` (for ``"__all__"``: None, everything loaded, or the wards of
    the place `within`)."""
    if area_id == ALL:
        return place(key, within)[1] if within else None
    areas = load(key).areas
    return areas[areas["area_id"].astype(str) == area_id]


@st.cache_data(show_spinner=False, max_entries=64)
def area_summary(key: str, area_id: str, to: str, n_months: int, within: tuple[str, ...] = ()) -> dict:
    """`questions.summary.area_summary` for one area (by area_id) or everything (``"__all__"``:
    the place `within` when one is chosen)."""
    from hotspot_app.core import areas as areas_mod

    name = areas_mod.describe_within(list(within)) if area_id == ALL and within else None
    return summary.area_summary(load(key).incidents, area_rows(key, area_id, within), to, n_months, name=name)


@st.cache_data(show_spinner="Building the table…", max_entries=32)
def area_table(key: str, area_id: str | None = None, *, month: str | None = None,
               period: str | None = None, years: str | None = None, year_start: int | None = None,
               by: str | None = None, within: str | None = None, names: tuple[str, ...] = (),
               kind: str | None = None, compare: str | None = None, taxonomy_name: str = "auto",
               rows: str | None = None) -> table.AreaTable:
    """`questions.table.area_table`: one area (`area_id`, ``"__all__"`` = everything), named
    areas, or the areas `by` a field."""
    ds = load(key)
    if area_id is not None:
        chosen = area_rows(key, area_id)
        areas, area = (None, None) if chosen is None else (ds.areas, chosen)
    else:
        areas, area = (ds.areas if (names or by) else None), (list(names) or None)
    return table.area_table(ds.incidents, areas, area=area, by=by, within=within, month=month,
                            period=period, years=years, year_start=year_start, compare=compare,
                            kind=kind, taxonomy_name=taxonomy_name, rows=rows)


@st.cache_data(show_spinner="Computing the indicators…", max_entries=16)
def indicator_table(key: str, spec: tuple, period: str, baseline: str | None, area_id: str) -> dict:
    """`questions.indicators.indicators` for a spec given as rows (indicator, category, target)."""
    frame = pd.DataFrame(list(spec), columns=["indicator", "category", "target"])
    return indicators.indicators(load(key).incidents, frame, period, baseline=baseline,
                                 area=area_rows(key, area_id))


@st.cache_data(show_spinner=False, max_entries=32)
def breakdown(key: str, by: str, category: tuple[str, ...], months: tuple[str, ...] | None,
              within: tuple[str, ...] = ()) -> pd.DataFrame:
    inc = place(key, within)[0]
    return summaries.breakdown(inc, by=by, category=list(category) or None,
                               months=list(months) if months else None)


@st.cache_data(show_spinner=False, max_entries=32)
def monthly(key: str, category: tuple[str, ...], months: tuple[str, ...], split: str | None = None,
            within: tuple[str, ...] = ()):
    """`questions.trend.monthly`: incidents per month of the selection (split by a column), in the
    place `within`."""
    return trend.monthly(place(key, within)[0], category=list(category) or None, months=list(months),
                         split=split)


# ------------------------------------------------------------------------------ downloads
@st.cache_data(show_spinner=False, max_entries=32)
def geo_bytes(_gdf: gpd.GeoDataFrame, fmt: str, token: str) -> bytes:
    """`_gdf` as GeoJSON / GeoPackage / KML bytes (WGS84 for GeoJSON/KML, BNG for GPKG).
    `token` identifies the table for the cache (the frame itself is not hashed)."""
    gdf = _gdf
    for col in gdf.columns:
        if col != gdf.geometry.name and gdf[col].dtype == object:
            gdf = gdf.assign(**{col: gdf[col].map(lambda v: v if v is None or isinstance(v, (str, int, float))
                                                  else str(v))})
    driver = {"geojson": "GeoJSON", "gpkg": "GPKG", "kml": "KML"}[fmt]
    out = gdf if fmt == "gpkg" else gdf.to_crs(settings.CRS_WGS84)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"layer.{fmt}"
        out.to_file(path, driver=driver, engine="pyogrio")
        return path.read_bytes()


@st.cache_data(show_spinner=False, max_entries=16)
def patrol_export(_areas: gpd.GeoDataFrame, suffix: str, token: str) -> bytes:
    """Patrol areas as .geojson / .gpkg / .kml bytes (`geofiles.write_patrol_areas`)."""
    with tempfile.TemporaryDirectory() as tmp:
        return geofiles.write_patrol_areas(_areas, Path(tmp) / f"patrol_areas{suffix}").read_bytes()


# ------------------------------------------------------------------------------ before / after
def intervention_choices(key: str) -> dict[str, str]:
    """intervention_id -> 'name (type, start to end)' of the stored interventions."""
    iv = load(key).interventions
    out = {}
    for row in iv.itertuples(index=False):
        start = pd.Timestamp(row.start).strftime("%b %Y") if pd.notna(row.start) else "?"
        end = pd.Timestamp(row.end).strftime("%b %Y") if pd.notna(row.end) else "ongoing"
        out[str(row.intervention_id)] = f"{row.name} ({row.type}, {start} to {end})"
    return out


def _target(ds: Dataset, target: str):
    """The evaluation question's `area` for a target spec: ``intervention:<id>`` (the stored
    row), ``area:<area_id>`` or ``wkt:<polygon in EPSG:27700>`` (a drawn area)."""
    import shapely

    kind, _, ident = target.partition(":")
    if kind == "intervention":
        iv = ds.interventions
        return iv[iv["intervention_id"].astype(str) == ident].iloc[0]
    if kind == "area":
        return ident
    if kind == "wkt":
        return shapely.from_wkt(ident)
    raise InputError(f"unknown target '{target}'", parameter="area")


@st.cache_data(show_spinner=False, max_entries=32)
def evaluate(key: str, target: str, category: tuple[str, ...], after: tuple[str, ...],
             before: tuple[str, ...] | None, baseline: tuple[str, ...] | None, buffer_m: float,
             control: str | None = None):
    """`questions.evaluation.evaluate` (the answer `hotspot evaluate` and the pack give) for a
    target spec (see `_target`), windows and control (None: the question's default)."""
    from hotspot_app.questions import evaluation

    ds = load(key)
    return evaluation.evaluate(ds.incidents, _target(ds, target), areas=ds.areas, after=list(after),
                               before=list(before) if before else None,
                               baseline=list(baseline) if baseline else None,
                               category=list(category) or None, buffer_m=float(buffer_m),
                               control=control, interventions=ds.interventions,
                               name="drawn area" if target.startswith("wkt:") else None)


@st.cache_data(show_spinner=False, max_entries=32)
def window_locations(key: str, bounds: tuple[float, float, float, float], pad_m: float,
                     category: tuple[str, ...], months: tuple[str, ...]) -> pd.DataFrame:
    """`maps.locations` of the selected incidents in `months` within `bounds` (x0, y0, x1, y1,
    metres) + `pad_m`, for the before/after maps."""
    ds = load(key)
    x0, y0, x1, y1 = bounds
    inc = ds.incidents
    xy = inc.geometry
    near = (xy.x >= x0 - pad_m) & (xy.x <= x1 + pad_m) & (xy.y >= y0 - pad_m) & (xy.y <= y1 + pad_m)
    return maps.locations(inc[near & selected_mask(inc, category, months)])


@st.cache_data(show_spinner=False, max_entries=16)
def plan_power(key: str, selection: tuple[str, ...], period: tuple[str, ...], _plan, token: str):
    """`questions.evaluation.plan_power_for` of a patrol plan (`token` identifies its areas and
    length: the power does not depend on the seed or the visit times)."""
    from hotspot_app.questions import evaluation

    return evaluation.plan_power_for(load(key).incidents, _plan, category=list(selection) or None,
                                     period=period or None)


# ------------------------------------------------------------------------------ uploads
save_uploads = source.save_uploads


@st.cache_data(show_spinner=False, max_entries=8)
def ingest_incidents(paths: tuple[str, ...], kind: str, provider: str | None = None):
    """`source.read_incidents` on saved upload paths (IngestResult)."""
    return source.read_incidents(paths, kind, provider)


@st.cache_data(show_spinner=False, max_entries=8)
def ingest_boundaries(path: str, name_field: str | None, layer: str, population_field: str | None,
                      version: float = 0.0):
    """`source.read_boundaries` on a saved upload path or a file in geodata/ (BoundaryResult);
    `version` (the file's modification time) makes a replaced file read again."""
    return source.read_boundaries(path, name_field, layer, population_field)


@st.cache_data(show_spinner=False, max_entries=16)
def history(key: str, target: str):
    """`source.history` of the workspace at the version in `key`."""
    return source.history(target)


@st.cache_data(show_spinner=False, max_entries=16)
def coverage(key: str, target: str):
    """`source.coverage` of the workspace at the version in `key`."""
    return source.coverage(target)


add_drawn_intervention = source.add_drawn_intervention


# ------------------------------------------------------------------------------ grids
@st.cache_data(show_spinner=False, max_entries=16)
def grid(key: str, category: tuple[str, ...], period: tuple[str, str], method: str, cell_m: float,
         shape: str) -> grid_question.Grid:
    """`questions.grid.grid` (count, kde or gistar) over the wards (or the incidents' hull)."""
    ds = load(key)
    return grid_question.grid(ds.incidents, method=method, cell_m=float(cell_m), shape=shape,
                              areas=ds.wards, category=list(category) or None,
                              period=f"{period[0]}..{period[1]}")


# ------------------------------------------------------------------------------ maps
class MapStore:
    """What `common.show_map` last sent for each map token (the map component's arguments: its
    Leaflet script, header and links), at most `size`, least recently used dropped first. A
    national year's ward map is megabytes of script that folium and streamlit-folium rebuild
    from the same inputs on every visit; a token naming every input lets a visit send it again
    as it was. Shared by all sessions, never mutated once stored."""

    def __init__(self, size: int = 24):
        self.size = size
        self._items: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> dict | None:
        with self._lock:
            hit = self._items.get(token)
            if hit is not None:
                self._items.move_to_end(token)
            return hit

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, token: str, args: dict) -> None:
        with self._lock:
            self._items[token] = args
            self._items.move_to_end(token)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def map_store() -> MapStore:
    """The process's `MapStore` (one for all sessions)."""
    return MapStore()
