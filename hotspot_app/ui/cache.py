"""The cached calls the pages make into the core (loading, uploads and workspace writes live in
`source`; here they are only wrapped in caches).

Datasets are loaded once per *source key* with ``st.cache_resource`` (shared, never mutated:
the core never mutates its inputs). Computations are ``st.cache_data`` functions keyed on plain
arguments only: the source key (``"demo"`` or ``"workspace:<target>@<version>"``, so every
committed write is a new key) and tuples/strings/numbers for the parameters.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from hotspot_app.render import maps
from hotspot_app.core import periods, settings, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.ui import source
from hotspot_app.ui.source import DEMO, Dataset, workspace_key  # noqa: F401  (the pages' names for them)
from hotspot_app.core import summaries
from hotspot_app.io import geofiles


@st.cache_resource(show_spinner="Loading data…", max_entries=4)
def load(key: str) -> Dataset:
    """The dataset for a source key (`source.dataset`), shared and never mutated."""
    return source.dataset(key)


# ------------------------------------------------------------------------------ selections
def category_options(key: str) -> list[str]:
    """Named groups present in the data, then hierarchy nodes and categories present."""
    return _category_options(key)


@st.cache_data(show_spinner=False, max_entries=16)
def _category_options(key: str) -> list[str]:
    inc = load(key).incidents
    kinds = set(inc["kind"].astype(str))
    named = [g for g in taxonomy.GROUP_LABELS
             if (g in kinds) or (g.startswith(("deliberate", "fire")) and "fire" in kinds)
             or (g == "neighbourhood-crime" and "crime" in kinds)]
    groups = sorted({p for g in inc["group"].dropna().astype(str) for p in g.split("/") if p}
                    & taxonomy.nodes())
    cats = sorted(pd.unique(inc["category"].dropna().astype(str)))
    return list(dict.fromkeys(named + groups + cats))


def selected_mask(inc: pd.DataFrame, selection: tuple[str, ...], months: tuple[str, ...] | None) -> pd.Series:
    mask = taxonomy.select(inc, list(selection) if selection else None)
    if months:
        mask &= inc["month"].isin(list(months))
    return mask


@st.cache_data(show_spinner=False, max_entries=32)
def count_selected(key: str, selection: tuple[str, ...], months: tuple[str, ...] | None) -> int:
    inc = load(key).incidents
    return int(selected_mask(inc, selection, months).sum())


# ------------------------------------------------------------------------------ overview
@st.cache_data(show_spinner="Counting by ward…", max_entries=32)
def ward_ranking(key: str, category: tuple[str, ...], months: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """`areas.rank_areas` for the wards (count, share, rate per 1,000)."""
    ds = load(key)
    return summaries.rank_areas(ds.incidents, ds.wards, category=list(category) or None,
                                 months=list(months))


@st.cache_data(show_spinner="Comparing with a year earlier…", max_entries=32)
def ward_change(key: str, category: tuple[str, ...], months: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """`areas.change_by_area` for the wards: counts in `months`, a year earlier, % change."""
    ds = load(key)
    return summaries.change_by_area(ds.incidents, ds.wards, category=list(category) or None,
                                     months=list(months))


@st.cache_data(show_spinner=False, max_entries=32)
def locations(key: str, selection: tuple[str, ...], months: tuple[str, ...] | None) -> pd.DataFrame:
    """Distinct incident locations of the selection (`maps.locations`), WGS84."""
    inc = load(key).incidents
    return maps.locations(inc[selected_mask(inc, selection, months)])


@st.cache_data(show_spinner=False, max_entries=64)
def area_summary(key: str, area_id: str, to: str, n_months: int) -> dict:
    """The seed-000 summary (`areas.area_summary`) for one area (by area_id), or the whole
    dataset (``"__all__"``)."""
    ds = load(key)
    if area_id == "__all__":
        mask = pd.Series(True, index=ds.incidents.index)
        return summaries.area_summary(ds.incidents, mask, to, n_months, place="whole area loaded",
                                       area_name="All areas")
    area = ds.areas[(ds.areas["area_id"].astype(str) == area_id)]
    return summaries.area_summary(ds.incidents, area, to, n_months)


# ------------------------------------------------------------------------------ tables
@st.cache_data(show_spinner="Building the table…", max_entries=32)
def partnership_table(key: str, area_id: str, month: str, kind: str, compare: str,
                      taxonomy_name: str) -> tuple[pd.DataFrame, list[str]]:
    ds = load(key)
    if area_id == "__all__":
        area = pd.Series(True, index=ds.incidents.index)
    else:
        area = ds.areas[ds.areas["area_id"].astype(str) == area_id]
    table = summaries.partnership_table(ds.incidents, area, month, kind=kind, compare=compare,
                                         taxonomy_name=taxonomy_name)
    return table.rows, list(table.warnings)


@st.cache_data(show_spinner=False, max_entries=32)
def breakdown(key: str, by: str, selection: tuple[str, ...], months: tuple[str, ...] | None) -> pd.DataFrame:
    inc = load(key).incidents
    return summaries.breakdown(inc, by=by, category=list(selection) or None,
                                months=list(months) if months else None)


@st.cache_data(show_spinner=False, max_entries=32)
def monthly(key: str, selection: tuple[str, ...], split: str | None = None) -> pd.DataFrame:
    """Incidents per month (all months loaded, zeros included) of the selection, optionally
    split by a column (e.g. ``category``); columns month, [split], count."""
    ds = load(key)
    inc = ds.incidents[selected_mask(ds.incidents, selection, None)]
    cols = ["month"] + ([split] if split else [])
    out = inc.groupby(cols, observed=True).size().rename("count").reset_index()
    if not split:
        out = out.set_index("month").reindex(ds.months, fill_value=0).rename_axis("month").reset_index()
    return out


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


# ------------------------------------------------------------------------------ clusters
@dataclass(frozen=True)
class ClusterResult:
    """What the Hotspots page shows of a `clusters.Clusters` run (no per-incident copy)."""

    areas: gpd.GeoDataFrame
    parameters: dict
    n_incidents: int
    n_noise: int
    message: str | None
    warnings: list[str]


@st.cache_data(show_spinner=False, max_entries=32)
def clusters(key: str, selection: tuple[str, ...], period: tuple[str, str], eps_m: float,
             min_samples: int, days: float | None = None) -> ClusterResult:
    """`clusters.dbscan` on the selection: ranked patrol-area polygons."""
    import warnings as _warnings

    from hotspot_app.core import clusters as core_clusters

    inc = load(key).incidents
    with _warnings.catch_warnings(record=True):
        _warnings.simplefilter("always")
        res = core_clusters.dbscan(inc, eps_m, int(min_samples), category=list(selection) or None,
                                   period=f"{period[0]}..{period[1]}", days=days)
    return ClusterResult(res.areas, res.parameters, res.n_incidents, res.n_noise, res.message,
                         list(res.warnings))


@st.cache_data(show_spinner=False, max_entries=32)
def eps_suggestion(key: str, selection: tuple[str, ...], period: tuple[str, str], min_samples: int):
    """`clusters.suggest_eps`: eps guidance from the k-distance curve for the selection."""
    from hotspot_app.core import clusters as core_clusters

    return core_clusters.suggest_eps(load(key).incidents, int(min_samples),
                                     category=list(selection) or None,
                                     period=f"{period[0]}..{period[1]}")


@st.cache_data(show_spinner=False, max_entries=16)
def patrol_export(_areas: gpd.GeoDataFrame, suffix: str, token: str) -> bytes:
    """Patrol areas as .geojson / .gpkg / .kml bytes (`clusters.export`)."""

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
    """`questions.evaluation.plan_power_for` of a patrol plan (`token` identifies the plan)."""
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


# ------------------------------------------------------------------------------ grids, PAI
@st.cache_data(show_spinner=False, max_entries=16)
def grid(key: str, selection: tuple[str, ...], period: tuple[str, str], method: str, cell_m: float,
         shape: str) -> gpd.GeoDataFrame:
    """`hotspots.hotspot_grid` (count, kde or gistar) over the wards (or the incidents' hull)."""
    from hotspot_app.core import hotspots

    ds = load(key)
    return hotspots.hotspot_grid(ds.incidents, float(cell_m), method, shape,
                                 areas=ds.wards if len(ds.wards) else None,
                                 category=list(selection) or None, period=f"{period[0]}..{period[1]}")


@st.cache_data(show_spinner=False, max_entries=16)
def forecast_pai(key: str, selection: tuple[str, ...], period: tuple[str, str], eps_m: float,
                 min_samples: int) -> dict | None:
    """PAI/RRI of patrol areas found on the months *before* `period` (same length), scored on
    `period` (`hotspots.forecast_accuracy`, method clusters); None when the earlier months are
    not loaded or give no clusters."""
    from hotspot_app.core import hotspots

    ds = load(key)
    test = periods.month_range(*period)
    train = periods.shift(test, -len(test))
    if not periods.Coverage.of(ds.incidents).covers(train):
        return None
    try:
        out = hotspots.forecast_accuracy(ds.incidents, train, test, method="clusters",
                                         category=list(selection) or None,
                                         areas=ds.wards if len(ds.wards) else None,
                                         eps_m=float(eps_m), min_samples=int(min_samples))
    except InputError:
        return None
    out = {k: v for k, v in out.items() if k not in ("curve", "cells")}
    out.update(train=f"{train[0]}..{train[-1]}", test=f"{test[0]}..{test[-1]}")
    return out
