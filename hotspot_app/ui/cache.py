"""The cached calls the pages make into the core.

Datasets are loaded once per *source key* with ``st.cache_resource`` (shared, never mutated:
the core never mutates its inputs). Computations are ``st.cache_data`` functions keyed on plain
arguments only: the source key (``"demo"`` or ``"workspace:<path>@<mtime>"``, so a changed
workspace file is a new key) and tuples/strings/numbers for the parameters.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from .. import areas as core_areas
from .. import maps, periods, settings, taxonomy
from ..errors import InputError

DEMO = "demo"


@dataclass(frozen=True)
class Dataset:
    """Everything a page shows: canonical incidents and area layers (EPSG:27700)."""

    key: str
    label: str
    is_demo: bool
    incidents: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    town_centres: gpd.GeoDataFrame
    micro_hotspots: gpd.GeoDataFrame
    interventions: pd.DataFrame
    truth: dict = field(default_factory=dict)
    workspace: str | None = None

    @property
    def areas(self) -> gpd.GeoDataFrame:
        """All area layers together (wards first)."""
        frames = [a for a in (self.wards, self.town_centres, self.micro_hotspots) if len(a)]
        if not frames:
            return _empty_areas()
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.CRS)

    @property
    def months(self) -> list[str]:
        return sorted(pd.unique(self.incidents["month"].dropna().astype(str)))


def _empty_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_id": pd.Series([], dtype=object), "name": pd.Series([], dtype=object),
                             "layer": pd.Series([], dtype=object), "population": pd.Series([], dtype=float)},
                            geometry=gpd.GeoSeries([], crs=settings.CRS), crs=settings.CRS)


def is_shared(path) -> bool:
    """Is `path` a PostgreSQL workspace URL (a shared deployment)?"""
    from ..store_pg import is_postgres_url

    return is_postgres_url(path)


def has_incidents(path) -> bool:
    """Does the (PostgreSQL) workspace hold any incidents yet?"""
    from .. import store

    return len(store.open_workspace(path).coverage()) > 0


def workspace_key(path: str | os.PathLike) -> str:
    """Source key of a workspace file (changes when the file changes)."""
    if is_shared(path):
        from .. import store

        ws = store.open_workspace(path)
        return f"workspace:{ws.url}@{ws.version()}"
    p = Path(path).resolve()
    return f"workspace:{p}@{p.stat().st_mtime_ns if p.exists() else 0}"


def _layer(all_areas: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if len(all_areas) == 0 or "layer" not in all_areas.columns:
        return _empty_areas()
    return all_areas[all_areas["layer"].astype(str) == layer].reset_index(drop=True)


@st.cache_resource(show_spinner="Loading data…", max_entries=4)
def load(key: str) -> Dataset:
    """The dataset for a source key (``"demo"`` or a `workspace_key`)."""
    if key == DEMO:
        from .. import demo

        d = demo.load()
        return Dataset(key=key, label="Synthetic demo borough", is_demo=True, incidents=d.incidents,
                       wards=d.wards, town_centres=d.town_centres, micro_hotspots=d.micro_hotspots,
                       interventions=d.interventions, truth=dict(getattr(d, "truth", {}) or {}))
    if key.startswith("workspace:"):
        from .. import store

        path = key[len("workspace:"):].rsplit("@", 1)[0]
        ws = store.open_workspace(path)
        incidents = ws.incidents()
        try:
            all_areas = ws.areas()
        except InputError:
            all_areas = _empty_areas()
        wards = _layer(all_areas, "ward")
        if len(wards) == 0 and len(all_areas):
            wards = all_areas[~all_areas["layer"].isin(["town_centre", "micro_hotspot", "patrol"])].reset_index(drop=True)
        return Dataset(key=key, label=f"Workspace {getattr(ws, 'where', Path(path).name)}", is_demo=False,
                       incidents=incidents,
                       wards=wards, town_centres=_layer(all_areas, "town_centre"),
                       micro_hotspots=_layer(all_areas, "micro_hotspot"),
                       interventions=ws.interventions(), workspace=path)
    raise InputError(f"unknown data source '{key}'", parameter="source")


# ------------------------------------------------------------------------------ selections
def category_options(key: str) -> list[str]:
    """Named groups present in the data, then hierarchy nodes and categories present."""
    return _category_options(key)


@st.cache_data(show_spinner=False, max_entries=16)
def _category_options(key: str) -> list[str]:
    inc = load(key).incidents
    kinds = set(inc["kind"].astype(str))
    named = [g for g in ("crime", "asb", "neighbourhood-crime", "deliberate-fires",
                         "deliberate-primary-fires", "deliberate-secondary-fires", "fire")
             if (g in kinds) or (g.startswith(("deliberate", "fire")) and "fire" in kinds)
             or (g == "neighbourhood-crime" and "crime" in kinds)]
    groups = sorted({p for g in inc["group"].dropna().astype(str) for p in g.split("/") if p}
                    & taxonomy.nodes())
    cats = sorted(pd.unique(inc["category"].dropna().astype(str)))
    return list(dict.fromkeys(named + groups + cats))


def _mask(inc: pd.DataFrame, selection: tuple[str, ...], months: tuple[str, ...] | None) -> pd.Series:
    mask = taxonomy.select(inc, list(selection) if selection else None)
    if months:
        mask &= inc["month"].isin(list(months))
    return mask


@st.cache_data(show_spinner=False, max_entries=32)
def count_selected(key: str, selection: tuple[str, ...], months: tuple[str, ...] | None) -> int:
    inc = load(key).incidents
    return int(_mask(inc, selection, months).sum())


# ------------------------------------------------------------------------------ overview
@st.cache_data(show_spinner="Counting by ward…", max_entries=32)
def ward_ranking(key: str, selection: tuple[str, ...], months: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """`areas.rank_areas` for the wards (count, share, rate per 1,000)."""
    ds = load(key)
    return core_areas.rank_areas(ds.incidents, ds.wards, category=list(selection) or None,
                                 months=list(months))


@st.cache_data(show_spinner="Comparing with a year earlier…", max_entries=32)
def ward_change(key: str, selection: tuple[str, ...], months: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Ward counts in `months` and in the same months a year earlier, with % change
    (`areas.pct_change`: null when the earlier count is 0 or not covered)."""
    now, w1 = ward_ranking(key, selection, months)
    before, w2 = ward_ranking(key, selection, tuple(periods.shift(months, -12)))
    prev = before.set_index("area_id")["count"]
    out = now[["area_id", "name", "count"]].copy()
    out["previous"] = out["area_id"].map(prev)
    out["pct_change"] = [core_areas.pct_change(None if pd.isna(c) else int(c), None if pd.isna(p) else int(p))
                         for c, p in zip(out["count"], out["previous"])]
    return out, w1 + w2


@st.cache_data(show_spinner=False, max_entries=32)
def locations(key: str, selection: tuple[str, ...], months: tuple[str, ...] | None) -> pd.DataFrame:
    """Distinct incident locations of the selection (`maps.locations`), WGS84."""
    inc = load(key).incidents
    return maps.locations(inc[_mask(inc, selection, months)])


@st.cache_data(show_spinner=False, max_entries=64)
def area_summary(key: str, layer: str, area_id: str, to: str, months: int) -> dict:
    """The seed-000 summary (`areas.area_summary`) for one area, or the whole dataset."""
    ds = load(key)
    if area_id == "__all__":
        mask = pd.Series(True, index=ds.incidents.index)
        return core_areas.area_summary(ds.incidents, mask, to, months, place="whole area loaded",
                                       area_name="All areas")
    area = ds.areas[(ds.areas["area_id"].astype(str) == area_id)]
    return core_areas.area_summary(ds.incidents, area, to, months, place=core_areas.area_label(area),
                                   area_name=str(area["name"].iloc[0]))


# ------------------------------------------------------------------------------ tables
@st.cache_data(show_spinner="Building the table…", max_entries=32)
def partnership_table(key: str, area_id: str, month: str, kind: str, compare: str,
                      taxonomy_name: str) -> tuple[pd.DataFrame, list[str]]:
    ds = load(key)
    if area_id == "__all__":
        area = pd.Series(True, index=ds.incidents.index)
    else:
        area = ds.areas[ds.areas["area_id"].astype(str) == area_id]
    table = core_areas.partnership_table(ds.incidents, area, month, kind=kind, compare=compare,
                                         taxonomy_name=taxonomy_name)
    return table.rows, list(table.warnings)


@st.cache_data(show_spinner=False, max_entries=32)
def breakdown(key: str, by: str, selection: tuple[str, ...], months: tuple[str, ...] | None) -> pd.DataFrame:
    inc = load(key).incidents
    return core_areas.breakdown(inc, by=by, category=list(selection) or None,
                                months=list(months) if months else None)


@st.cache_data(show_spinner=False, max_entries=32)
def monthly(key: str, selection: tuple[str, ...], split: str | None = None) -> pd.DataFrame:
    """Incidents per month (all months loaded, zeros included) of the selection, optionally
    split by a column (e.g. ``category``); columns month, [split], count."""
    ds = load(key)
    inc = ds.incidents[_mask(ds.incidents, selection, None)]
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

    from .. import clusters as core_clusters

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
    from .. import clusters as core_clusters

    return core_clusters.suggest_eps(load(key).incidents, int(min_samples),
                                     category=list(selection) or None,
                                     period=f"{period[0]}..{period[1]}")


@st.cache_data(show_spinner=False, max_entries=16)
def patrol_export(_areas: gpd.GeoDataFrame, suffix: str, token: str) -> bytes:
    """Patrol areas as .geojson / .gpkg / .kml bytes (`clusters.export`)."""
    from .. import clusters as core_clusters

    with tempfile.TemporaryDirectory() as tmp:
        return core_clusters.export(_areas, Path(tmp) / f"patrol_areas{suffix}").read_bytes()


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
    """(target polygon or areas, context, exclude, name, layer) for a target spec:
    ``intervention:<id>``, ``area:<area_id>`` or ``wkt:<polygon in EPSG:27700>``."""
    import shapely

    from .. import evaluation

    kind, _, ident = target.partition(":")
    if kind == "intervention":
        iv = ds.interventions
        row = iv[iv["intervention_id"].astype(str) == ident].iloc[0]
        geom = evaluation.intervention_area(row, ds.areas)
        others = [evaluation.intervention_area(r, ds.areas) for _, r in iv.iterrows()
                  if str(r["intervention_id"]) != ident]
        exclude = shapely.union_all(others) if others else None
        name, layer = evaluation.intervention_place(row, ds.areas)
        return geom, None, exclude, name, layer
    if kind == "area":
        all_areas = ds.areas
        rows = all_areas[all_areas["area_id"].astype(str) == ident]
        layer = str(rows["layer"].iloc[0])
        same = all_areas[all_areas["layer"].astype(str) == layer]
        if layer in evaluation.INTERVENTION_LAYERS:
            others = same[~same.index.isin(rows.index)]
            return rows, None, (others if len(others) else None), str(rows["name"].iloc[0]), layer
        return rows, same, None, str(rows["name"].iloc[0]), layer
    if kind == "wkt":
        return shapely.from_wkt(ident), (ds.wards if len(ds.wards) else None), None, "drawn area", None
    raise InputError(f"unknown target '{target}'", parameter="area")


@st.cache_data(show_spinner=False, max_entries=32)
def evaluate(key: str, target: str, selection: tuple[str, ...], after: tuple[str, ...],
             before: tuple[str, ...] | None, baseline: tuple[str, ...] | None, buffer_m: float):
    """`evaluation.evaluate` for a target spec (see `_target`) and windows."""
    from .. import evaluation

    ds = load(key)
    geom, context, exclude, name, layer = _target(ds, target)
    return evaluation.evaluate(ds.incidents, geom, after=list(after),
                               before=list(before) if before else None,
                               baseline=list(baseline) if baseline else None,
                               categories=list(selection) or None, buffer_m=float(buffer_m),
                               context=context, exclude=exclude, name=name,
                               layer=layer if layer not in (None, "custom") else None,
                               small_count=settings.SMALL_COUNT)


@st.cache_data(show_spinner=False, max_entries=32)
def target_layers(key: str, target: str, buffer_m: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The target polygon and its displacement ring as one-row GeoDataFrames (for maps)."""
    import shapely

    from .. import evaluation

    ds = load(key)
    geom, _, _, name, _ = _target(ds, target)
    if isinstance(geom, gpd.GeoDataFrame):
        geom = shapely.union_all(geom.geometry.values)
    ring = evaluation.buffer_ring(geom, buffer_m)
    area = gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=settings.CRS)
    buf = gpd.GeoDataFrame({"name": [f"{buffer_m:g} m buffer ring"]}, geometry=[ring], crs=settings.CRS)
    return area, buf[~buf.geometry.is_empty]


@st.cache_data(show_spinner=False, max_entries=32)
def window_locations(key: str, target: str, buffer_m: float, pad_m: float, selection: tuple[str, ...],
                     months: tuple[str, ...]) -> pd.DataFrame:
    """`maps.locations` of the selected incidents in `months` within the map extent (target +
    ring + `pad_m`), for the before/after maps."""
    ds = load(key)
    area, buf = target_layers(key, target, buffer_m)
    x0, y0, x1, y1 = pd.concat([area, buf]).total_bounds
    inc = ds.incidents
    xy = inc.geometry
    near = (xy.x >= x0 - pad_m) & (xy.x <= x1 + pad_m) & (xy.y >= y0 - pad_m) & (xy.y <= y1 + pad_m)
    return maps.locations(inc[near & _mask(inc, selection, months)])


# ------------------------------------------------------------------------------ uploads
def save_uploads(files, folder: Path | None = None) -> list[str]:
    """Write uploaded files (objects with ``name`` and ``getvalue()``) under
    ``data/uploads/<content hash>/``; returns their paths (same content -> same paths)."""
    import hashlib

    digest = hashlib.sha1()
    blobs = []
    for f in files:
        data = f.getvalue()
        digest.update(f.name.encode("utf-8") + b"\0" + data)
        blobs.append((Path(f.name).name, data))
    root = (folder or settings.DATA_DIR / "uploads") / digest.hexdigest()[:16]
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in blobs:
        path = root / name
        if not path.exists() or path.stat().st_size != len(data):
            path.write_bytes(data)
        out.append(str(path))
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def ingest_incidents(paths: tuple[str, ...], kind: str):
    """`ingest.read_incidents` on saved upload paths (IngestResult)."""
    from .. import ingest

    return ingest.read_incidents(list(paths), kind=kind)


@st.cache_data(show_spinner=False, max_entries=8)
def ingest_boundaries(path: str, name_field: str | None, layer: str, population_field: str | None):
    """`ingest.read_boundaries` on a saved upload path (BoundaryResult)."""
    from .. import ingest

    return ingest.read_boundaries(path, name_field=name_field or None, layer=layer,
                                  population_field=population_field or None)


def write_workspace(path: str | os.PathLike, incidents: gpd.GeoDataFrame | None,
                    areas: gpd.GeoDataFrame | None, interventions: pd.DataFrame | None = None,
                    summary: dict | None = None) -> str:
    """Write incidents / areas / interventions to a workspace GeoPackage (`store.Workspace`);
    returns the new source key."""
    from .. import store

    ws = store.open_workspace(path)
    if is_shared(path):  # PostgreSQL: a load that accumulates by month (audited: auth.acting_user)
        if incidents is not None:
            s = summary or {}
            ws.load_incidents(incidents, files=s.get("files_read", ()), read=s.get("read"),
                              rejected=s.get("rejected"))
        stored = set(ws.areas()["area_id"]) if ws.area_layers() else set()
        if areas is not None and len(areas) and set(areas["area_id"]) != stored:
            ws.write_areas(areas)
        return workspace_key(path)
    if incidents is not None:
        ws.write_incidents(incidents)
    if areas is not None and len(areas):
        ws.write_areas(areas)
    if interventions is not None and len(interventions):
        ws.write_interventions(gpd.GeoDataFrame(interventions, crs=settings.CRS))
    return workspace_key(path)


def add_drawn_intervention(key: str, path: str | os.PathLike, geometry, name: str, type_: str,
                           start, end, notes: str | None) -> str:
    """Save a drawn polygon (EPSG:27700) as a micro-hotspot area and an intervention with dates.

    The demo is read-only: when `key` is the demo, its data are first copied into the workspace
    at `path`. Returns the source key of the workspace written."""
    from .. import schema, store

    ds = load(key)
    target = ds.workspace if ds.workspace and is_shared(ds.workspace) else \
        Path(ds.workspace) if ds.workspace else path if is_shared(path) else Path(path)
    if ds.workspace is None:
        write_workspace(target, ds.incidents, ds.areas, ds.interventions)
    ws = store.open_workspace(target)
    existing = ws.areas("micro_hotspot") if "micro_hotspot" in ws.area_layers() else None
    k = (len(existing) if existing is not None else 0) + 1
    ids = set(existing["area_id"].astype(str)) if existing is not None else set()
    while f"micro_hotspot-drawn-{k}" in ids:
        k += 1
    area_id = f"micro_hotspot-drawn-{k}"
    row = schema.make_areas(gpd.GeoDataFrame({"name": [name], "id": [area_id]}, geometry=[geometry],
                                             crs=settings.CRS), name="name", layer="micro_hotspot",
                            area_id="id")
    row["patrol_start"] = pd.Timestamp(start)
    row["patrol_end"] = pd.Timestamp(end) if end is not None else pd.NaT
    if existing is not None:
        for col in ("patrol_start", "patrol_end"):
            if col in existing.columns:
                row[col] = row[col].astype(existing[col].dtype)
        row = gpd.GeoDataFrame(pd.concat([existing, row], ignore_index=True), crs=settings.CRS)
    ws.write_areas(row)
    ws.add_intervention(name, type_, start, end, area_id=area_id, geometry=geometry, notes=notes or None)
    return workspace_key(target)


# ------------------------------------------------------------------------------ grids, PAI
@st.cache_data(show_spinner=False, max_entries=16)
def grid(key: str, selection: tuple[str, ...], period: tuple[str, str], method: str, cell_m: float,
         shape: str) -> gpd.GeoDataFrame:
    """`hotspots.hotspot_grid` (count, kde or gistar) over the wards (or the incidents' hull)."""
    from .. import hotspots

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
    from .. import hotspots

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
