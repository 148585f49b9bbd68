"""Workspace store: one GeoPackage holding incidents, areas, interventions and saved cluster runs.

The interface is deliberately narrow (the `Workspace` methods below) so that a PostGIS backend can
sit behind the same methods later. Everything is in EPSG:27700.

Layers in the GeoPackage
------------------------
``incidents``
    Canonical incidents (design §3), extra columns kept.
``areas__<layer>``
    One layer per area layer (``ward``, ``town_centre``, ``micro_hotspot``, ``patrol``,
    ``custom``, ...). ``Workspace.areas()`` concatenates them; ``write_areas`` replaces by layer.
``interventions``
    One row per intervention (``schema.INTERVENTION_COLUMNS``); geometry is the area polygon, or
    a point with ``radius_m`` (e.g. a CCTV column), or empty.
``cluster_runs``
    Attribute table: ``run_id``, ``created`` (ISO text), ``name``, ``parameters`` (JSON text).
``patrol_areas``
    Polygons of saved cluster runs, keyed by ``run_id``.
``hotspot_meta``
    Attribute table recording each layer's column order and pandas dtypes, so that re-opening
    returns equal data (datetime resolution, ``object`` vs ``str``, ints, bools).

Atomic writes: every write copies the current file to a temporary file in the same folder,
writes the layer there, and ``os.replace``-s it over the original. A failing write leaves the
old file untouched and removes the temporary file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import settings
from .errors import InputError
from .schema import AREA_LAYERS, INTERVENTION_COLUMNS, INTERVENTION_TYPES

META = "hotspot_meta"
INCIDENTS = "incidents"
INTERVENTIONS = "interventions"
CLUSTER_RUNS = "cluster_runs"
PATROL_AREAS = "patrol_areas"
AREA_PREFIX = "areas__"

__all__ = ["Workspace", "is_workspace", "atomic_path"]


def is_workspace(path: str | os.PathLike) -> bool:
    """True when `path` is a GeoPackage file with an ``incidents`` layer."""
    p = Path(path)
    if not p.is_file() or p.suffix.lower() != ".gpkg":
        return False
    try:
        return INCIDENTS in _layers(p)
    except Exception:  # not a readable GeoPackage
        return False


def _layers(path: Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


@contextmanager
def atomic_path(path: str | os.PathLike, copy_existing: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the same folder as `path`; on success replace `path` with it.

    With `copy_existing`, the temporary file starts as a copy of `path` (so writing one layer
    keeps the others). On any exception the temporary file is removed and `path` is unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if copy_existing and path.exists():
            shutil.copyfile(path, tmp)
        else:
            tmp.unlink()
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _dtype_text(dtype: Any) -> str:
    return str(dtype)


def _restore(df: pd.DataFrame, meta: dict | None) -> pd.DataFrame:
    """Put back column order and dtypes recorded at write time."""
    if not meta:
        return df
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    for col, dtype in meta["dtypes"].items():
        if col not in df.columns or col == geom or dtype == "geometry":
            continue
        current = str(df[col].dtype)
        if current == dtype:
            continue
        try:
            if dtype == "object":
                values = df[col].astype(object)
                df[col] = values.where(df[col].notna(), None)
            elif dtype.startswith("datetime64"):
                df[col] = pd.to_datetime(df[col]).astype(dtype)
            else:
                df[col] = df[col].astype(dtype)
        except (TypeError, ValueError) as exc:
            # Keep the values the file gave (nothing is lost), but say the type differs.
            warnings.warn(f"workspace column '{col}': kept as {current}, could not restore {dtype} ({exc})",
                          stacklevel=2)
    order = [c for c in meta["columns"] if c in df.columns]
    order += [c for c in df.columns if c not in order]
    return df[order]


class Workspace:
    """A workspace GeoPackage. Reading methods return fresh (Geo)DataFrames; writing methods
    replace one layer atomically and never touch the others.

    Parameters
    ----------
    path : str or Path
        The ``.gpkg`` file. It need not exist yet; the first write creates it.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if self.path.suffix.lower() != ".gpkg":
            raise InputError(f"a workspace must be a .gpkg file, got {self.path.name}",
                             parameter="workspace")

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # ----------------------------------------------------------------- low level
    def layers(self) -> list[str]:
        """Layer (table) names in the file; empty when the file does not exist."""
        return _layers(self.path) if self.path.exists() else []

    def _meta(self) -> dict[str, dict]:
        if META not in self.layers():
            return {}
        df = pyogrio.read_dataframe(self.path, layer=META)
        return {str(r.layer): json.loads(r.meta) for r in df.itertuples(index=False)}

    def _read(self, layer: str) -> pd.DataFrame | None:
        if layer not in self.layers():
            return None
        df = pyogrio.read_dataframe(self.path, layer=layer, use_arrow=True)
        if isinstance(df, gpd.GeoDataFrame) and df.crs is None and len(df.columns) and \
                df.geometry.name in df.columns:
            df = df.set_crs(settings.CRS, allow_override=True)
        return _restore(df, self._meta().get(layer))

    def _write_layers(self, frames: dict[str, pd.DataFrame]) -> None:
        """Replace several layers in one atomic step."""
        meta = self._meta()
        with atomic_path(self.path) as tmp:
            for layer, df in frames.items():
                _write_one(tmp, layer, df)
                meta[layer] = {
                    "columns": [str(c) for c in df.columns],
                    "dtypes": {str(c): _dtype_text(t) for c, t in df.dtypes.items()},
                }
            table = pd.DataFrame({"layer": list(meta), "meta": [json.dumps(m) for m in meta.values()]})
            pyogrio.write_dataframe(table, tmp, layer=META, driver="GPKG")

    def write(self, *, incidents: gpd.GeoDataFrame | None = None,
              areas: gpd.GeoDataFrame | list[gpd.GeoDataFrame] | None = None,
              interventions: gpd.GeoDataFrame | None = None) -> None:
        """Replace several layers in ONE atomic step (a consistent snapshot): the incidents, the
        area layers present in `areas` (one table or a list), and/or the interventions."""
        frames: dict[str, pd.DataFrame] = {}
        if incidents is not None:
            _check_geo(incidents, "incidents")
            frames[INCIDENTS] = incidents
        if areas is not None:
            for part in areas if isinstance(areas, list) else [areas]:
                frames.update(_area_frames(part))
        if interventions is not None:
            _check_geo(interventions, "interventions")
            frames[INTERVENTIONS] = interventions
        if frames:
            self._write_layers(frames)

    # ----------------------------------------------------------------- incidents
    def incidents(self) -> gpd.GeoDataFrame:
        """The incidents layer (raises `InputError` when the workspace has none)."""
        df = self._read(INCIDENTS)
        if df is None:
            raise InputError(f"{self.path} has no incidents layer", file=str(self.path))
        return df

    def write_incidents(self, incidents: gpd.GeoDataFrame) -> None:
        """Replace the incidents layer."""
        _check_geo(incidents, "incidents")
        self._write_layers({INCIDENTS: incidents})

    # ----------------------------------------------------------------- areas
    def area_layers(self) -> list[str]:
        """Area layer names present, in the order ward, town_centre, micro_hotspot, patrol,
        custom, then any others alphabetically."""
        names = [name[len(AREA_PREFIX):] for name in self.layers() if name.startswith(AREA_PREFIX)]
        known = [layer for layer in AREA_LAYERS if layer in names]
        return known + sorted(n for n in names if n not in known)

    def areas(self, layer: str | None = None) -> gpd.GeoDataFrame:
        """Areas of one layer, or all area layers concatenated (ward first) when `layer` is None."""
        if layer is not None:
            df = self._read(AREA_PREFIX + _layer_key(layer))
            if df is None:
                raise InputError(f"{self.path} has no '{layer}' areas "
                                 f"(has: {', '.join(self.area_layers()) or 'none'})", parameter="layer")
            return df
        frames = [self._read(AREA_PREFIX + name) for name in self.area_layers()]
        if not frames:
            raise InputError(f"{self.path} has no areas", file=str(self.path))
        if len(frames) == 1:
            return frames[0]
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.CRS)

    def write_areas(self, areas: gpd.GeoDataFrame) -> None:
        """Write areas, replacing each area layer present in ``areas['layer']`` (others kept)."""
        self._write_layers(_area_frames(areas))

    # ----------------------------------------------------------------- interventions
    def interventions(self) -> gpd.GeoDataFrame:
        """Interventions (empty table with the schema columns when none are stored)."""
        df = self._read(INTERVENTIONS)
        if df is None:
            return gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in INTERVENTION_COLUMNS
                                     if c != "geometry"},
                                    geometry=gpd.GeoSeries([], crs=settings.CRS), crs=settings.CRS)
        return df

    def write_interventions(self, interventions: gpd.GeoDataFrame) -> None:
        """Replace the interventions layer."""
        _check_geo(interventions, "interventions")
        self._write_layers({INTERVENTIONS: interventions})

    def add_intervention(self, name: str, type: str, start, end=None, *, area_id: str | None = None,
                         geometry=None, radius_m: float | None = None, notes: str | None = None,
                         intervention_id: str | None = None) -> str:
        """Append one intervention; returns its id. Give `area_id` (an area's polygon) and/or a
        geometry (polygon, or point with `radius_m`)."""
        if type not in INTERVENTION_TYPES:
            raise InputError(f"intervention type must be one of {', '.join(INTERVENTION_TYPES)}, "
                             f"got '{type}'", parameter="type")
        if area_id is None and geometry is None:
            raise InputError("an intervention needs an area_id or a geometry", parameter="area_id")
        current = self.interventions() if INTERVENTIONS in self.layers() else None
        existing_ids = set() if current is None else set(current["intervention_id"].astype(str))
        if intervention_id is None:
            k = len(existing_ids) + 1
            while f"int-{k}" in existing_ids:
                k += 1
            intervention_id = f"int-{k}"
        elif intervention_id in existing_ids:
            raise InputError(f"intervention id '{intervention_id}' already exists",
                             parameter="intervention_id")
        row = gpd.GeoDataFrame(
            {"intervention_id": [intervention_id], "name": [name], "type": [type],
             "area_id": [area_id], "start": [pd.Timestamp(start)],
             "end": [pd.Timestamp(end) if end is not None else pd.NaT],
             "radius_m": [float(radius_m) if radius_m is not None else np.nan], "notes": [notes]},
            geometry=gpd.GeoSeries([geometry], crs=settings.CRS), crs=settings.CRS)
        if current is not None and len(current):
            row = row.astype({c: current[c].dtype for c in ("start", "end") if c in current.columns})
            row = gpd.GeoDataFrame(pd.concat([current, row], ignore_index=True), crs=settings.CRS)
        self._write_layers({INTERVENTIONS: row})
        return intervention_id

    # ----------------------------------------------------------------- cluster runs
    def cluster_runs(self) -> pd.DataFrame:
        """Saved cluster runs: run_id, created, name, parameters (dict), n_polygons."""
        df = self._read(CLUSTER_RUNS)
        if df is None:
            return pd.DataFrame({"run_id": pd.Series([], dtype="int64"),
                                 "created": pd.Series([], dtype=object),
                                 "name": pd.Series([], dtype=object),
                                 "parameters": pd.Series([], dtype=object),
                                 "n_polygons": pd.Series([], dtype="int64")})
        df = pd.DataFrame(df)
        df["parameters"] = df["parameters"].map(json.loads).astype(object)
        return df

    def patrol_areas(self, run_id: int | None = None) -> gpd.GeoDataFrame:
        """Patrol-area polygons of one saved run (all runs when `run_id` is None)."""
        df = self._read(PATROL_AREAS)
        if df is None:
            raise InputError(f"{self.path} has no saved cluster runs", parameter="run_id")
        if run_id is None:
            return df
        out = df[df["run_id"] == int(run_id)].reset_index(drop=True)
        if out.empty and int(run_id) not in set(self.cluster_runs()["run_id"]):
            raise InputError(f"no cluster run {run_id} in {self.path}", parameter="run_id")
        return out

    def save_cluster_run(self, parameters: dict, polygons: gpd.GeoDataFrame,
                         name: str | None = None) -> int:
        """Save a cluster run (parameters as JSON + its patrol-area polygons); returns run_id."""
        _check_geo(polygons, "polygons")
        runs = self.cluster_runs()
        run_id = int(runs["run_id"].max()) + 1 if len(runs) else 1
        new = pd.DataFrame({
            "run_id": [run_id],
            "created": [datetime.now(timezone.utc).isoformat(timespec="seconds")],
            "name": [name if name is not None else f"run {run_id}"],
            "parameters": [json.dumps(parameters, sort_keys=True, default=str)],
            "n_polygons": [len(polygons)],
        })
        stored = runs.assign(parameters=runs["parameters"].map(
            lambda p: json.dumps(p, sort_keys=True, default=str)))
        table = pd.concat([stored, new], ignore_index=True) if len(stored) else new
        table = table.astype({"run_id": "int64", "n_polygons": "int64"})
        polys = polygons.copy()
        polys.insert(0, "run_id", np.int64(run_id))
        previous = self._read(PATROL_AREAS)
        if previous is not None and len(previous):
            polys = gpd.GeoDataFrame(pd.concat([previous, polys], ignore_index=True), crs=settings.CRS)
        self._write_layers({CLUSTER_RUNS: table, PATROL_AREAS: polys})
        return run_id


# --------------------------------------------------------------------------- helpers
def _layer_key(layer: object) -> str:
    key = re.sub(r"[^a-z0-9_]+", "_", str(layer).strip().lower()).strip("_")
    if not key:
        raise InputError(f"invalid area layer name '{layer}'", parameter="layer")
    return key


def _area_frames(areas: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """{layer table name: rows of that area layer} for an areas table."""
    _check_geo(areas, "areas")
    if "layer" not in areas.columns:
        raise InputError("areas need a 'layer' column", column="layer")
    frames = {}
    for value in pd.unique(areas["layer"]):
        frames[AREA_PREFIX + _layer_key(value)] = areas[areas["layer"] == value].reset_index(drop=True)
    return frames


def _check_geo(gdf, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame", parameter=what)
    if gdf.crs is None or not gdf.crs.equals(settings.CRS):
        raise InputError(f"{what} must be in {settings.CRS} (got {gdf.crs})", parameter=what)


def _write_one(path: Path, layer: str, df: pd.DataFrame) -> None:
    """Write (replace) one layer of `path`."""
    seen: dict[str, str] = {}
    for col in map(str, df.columns):
        if col.lower() in seen:
            raise InputError(f"columns '{seen[col.lower()]}' and '{col}' differ only in case; a "
                             f"GeoPackage cannot hold both (layer {layer})", column=col)
        seen[col.lower()] = col
    out = df.copy()
    if isinstance(out, gpd.GeoDataFrame):
        geom_types = set(out.geometry.geom_type.dropna())
        geometry_type = geom_types.pop() if len(geom_types) == 1 else "Unknown"
        if not len(out):
            geometry_type = "Unknown"
        pyogrio.write_dataframe(out, path, layer=layer, driver="GPKG", geometry_type=geometry_type,
                                promote_to_multi=False, use_arrow=True)  # no Python per row
    else:
        pyogrio.write_dataframe(pd.DataFrame(out), path, layer=layer, driver="GPKG")
