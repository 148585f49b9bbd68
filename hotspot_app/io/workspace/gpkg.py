"""Workspace store: one GeoPackage holding incidents, areas, interventions, saved cluster runs,
the load history and the audit log.

It implements `base.Workspace`, the interface the PostGIS backend (`postgis.PostgisWorkspace`)
implements too: same method names, arguments and return shapes.
Everything is in EPSG:27700.

Layers in the GeoPackage
------------------------
``incidents``
    Canonical incidents (docs/design.md §3), extra columns kept, plus ``provider`` (`schema.provider_of`).
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
``hotspot_loads``, ``hotspot_audit``, ``hotspot_state`` (plain SQLite tables)
    The load history (`Workspace.loads`), the audit log of every write (`Workspace.audit`) and
    the version token (`Workspace.version`, a new one on every committed write).

Writes that never lose (docs/design.md §9)
----------------------------------
Every write takes an exclusive lock (``fcntl.flock`` on the hidden sidecar ``.<name>.lock``),
checks the version it was given (`errors.ConflictError` when another writer committed since),
copies the current file to a temporary file in the same folder, changes the copy, fsyncs it and
``os.replace``-s it over the original: the old state is intact until the new one is complete. A
write that removes anything (a republished month, ``replace_all``, a deleted area or
intervention, a replaced area layer) first keeps the old file as a timestamped backup beside it
(``<stem>.backup-<UTC time>.gpkg``, the last `BACKUPS_KEPT`). Temporary files of a killed write
are removed by the next writer (and on open, when nobody holds the lock). Any I/O failure is an
`errors.OutputError` naming the path.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import ConflictError, InputError, OutputError
from hotspot_app.io.exports import file_mode
from hotspot_app.io.workspace.base import (
    AREA_PREFIX,
    AUDIT,
    AUDIT_COLUMNS,
    BACKUPS_KEPT,
    CLUSTER_RUNS,
    COVERAGE_COLUMNS,
    INCIDENTS,
    INTERVENTIONS,
    LOADS,
    LOAD_COLUMNS,
    LoadResult,
    META,
    PATROL_AREAS,
    STATE,
    Workspace,
    area_frames,
    areas_detail,
    check_geo,
    check_intervention_fields,
    coverage_of,
    dtype_text,
    empty_interventions,
    intervention_added_text,
    load_keys,
    no_location_by_month,
    ordered_layers,
    read_areas,
    removed_text,
    restore_dtypes,
    with_provider,
)
from hotspot_app.io.identity import current_user


#: Seconds a writer waits for another writer's lock before giving up with ConflictError.
LOCK_TIMEOUT_S = 120.0

__all__ = ["GeopackageWorkspace", "atomic_path"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")






def _layers(path: Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


@contextmanager
def atomic_path(path: str | os.PathLike, copy_existing: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the same folder as `path`; on success fsync it and replace
    `path` with it.

    With `copy_existing`, the temporary file starts as a copy of `path` (so writing one layer
    keeps the others). On any exception the temporary file is removed and `path` is unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if copy_existing and path.exists():
            shutil.copyfile(path, tmp)
        else:
            tmp.unlink()
        yield tmp
        os.chmod(tmp, _mode_for(path))
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        _remove_temp(tmp)
        raise


# The file mode a replacement keeps (the existing file's, else the umask's default, not mkstemp's
# private 0600): exports.file_mode is the one home of that rule.
_mode_for = file_mode


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_temp(tmp: Path) -> None:
    for p in (tmp, *tmp.parent.glob(tmp.name + "-*")):  # SQLite's -journal / -wal / -shm
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass


@dataclass
class _Commit:
    """What one locked write puts into the temporary copy."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    audit: list[tuple[str, str]] = field(default_factory=list)
    load: dict | None = None
    backup: bool = False
    #: (layer, keys): rows of `layer` whose (source, provider, month) is in keys are deleted in
    #: place, then `append` rows are appended (a monthly load without rewriting every row)
    delete_keys: tuple[str, list[tuple]] | None = None
    append: dict[str, pd.DataFrame] = field(default_factory=dict)


class GeopackageWorkspace(Workspace):
    """A workspace GeoPackage. Reading methods return fresh (Geo)DataFrames; every writing
    method is one locked, version-checked, atomic step (see the module docstring).

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
        self._clean_if_idle()

    def __repr__(self) -> str:
        return f"GeopackageWorkspace({str(self.path)!r})"

    @property
    def where(self) -> str:
        """The file, as every face shows it."""
        return str(self.path)

    # ----------------------------------------------------------------- low level
    def layers(self) -> list[str]:
        """Layer (table) names in the file; empty when the file does not exist."""
        return _layers(self.path) if self.path.exists() else []

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(f".{self.path.name}.lock")

    def _sql(self, query: str, params: tuple = ()) -> list[tuple] | None:
        """Rows of a read-only query on the file; None when the file or table is missing."""
        if not self.path.exists():
            return None
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        except sqlite3.Error:
            return None
        try:
            return con.execute(query, params).fetchall()
        except sqlite3.OperationalError:
            return None
        finally:
            con.close()

    def version(self) -> str:
        """A token that changes on every committed write ("0" before the first write)."""
        if not self.path.exists():
            return "0"
        rows = self._sql(f"SELECT value FROM {STATE} WHERE key = 'version'")
        if rows:
            return str(rows[0][0])
        st = self.path.stat()  # a workspace written before versions were recorded
        return f"file-{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"

    def _last_writer(self) -> str | None:
        rows = self._sql(f"SELECT user FROM {AUDIT} ORDER BY rowid DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    def _temps(self) -> list[Path]:
        return sorted(self.path.parent.glob(_temp_prefix(self.path) + "*"))

    def _clean_if_idle(self) -> None:
        """Remove temporary files of killed writes when no writer holds the lock now."""
        if not self._temps():
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return  # a writer is at work: its temporary file is not stale
        try:
            for tmp in self._temps():
                _remove_temp(tmp)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the workspace's exclusive write lock; temporary files left by killed writers
        are removed once it is held."""
        if re.match(r"^\..+\.tmp-[^.]+", self.path.name):
            # the temporary file of an `atomic_path` (e.g. a demo being written): private to its
            # writer, nobody else can open it, so no lock file is left beside it
            yield
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write here ({exc.strerror or exc}); the workspace is unchanged",
                              file=str(self.path)) from None
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ConflictError(self.path, "another process still writing") from None
                    time.sleep(0.05)
            for tmp in self._temps():
                _remove_temp(tmp)
            yield
        finally:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _check_version(self, expected_version: str | None) -> None:
        if expected_version is not None and str(expected_version) != self.version():
            raise ConflictError(self.path, self._last_writer())

    def _commit(self, commit: _Commit, user: str | None) -> None:
        """Apply `commit` to a temporary copy and replace the file with it (lock held)."""
        user = current_user(user)
        try:
            meta = self._meta()
            with atomic_path(self.path) as tmp:
                if commit.delete_keys is not None:
                    _delete_keys(tmp, *commit.delete_keys)
                for layer, df in commit.append.items():
                    if len(df):
                        _write_one(tmp, layer, df, append=True)
                for layer, df in commit.frames.items():
                    _write_one(tmp, layer, df)
                    meta[layer] = {
                        "columns": [str(c) for c in df.columns],
                        "dtypes": {str(c): dtype_text(t) for c, t in df.dtypes.items()},
                    }
                for layer in commit.drop:
                    meta.pop(layer, None)
                table = pd.DataFrame({"layer": list(meta), "meta": [json.dumps(m) for m in meta.values()]})
                pyogrio.write_dataframe(table, tmp, layer=META, driver="GPKG")
                _write_records(tmp, commit, user)
                if commit.backup and self.path.exists():
                    self._backup()
        except (InputError, ConflictError):
            raise
        except (OSError, sqlite3.Error, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
            reason = getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__
            raise OutputError(f"could not write the workspace ({reason}); it is unchanged",
                              file=str(self.path)) from None

    def _backup(self) -> Path:
        """Keep the current file as ``<stem>.backup-<UTC time>.gpkg`` (the last BACKUPS_KEPT)."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.stem}.backup-{stamp}.gpkg")
        try:
            os.link(self.path, target)  # the original is never changed in place: a link suffices
        except OSError:
            shutil.copyfile(self.path, target)
        for old in self.backups()[:-BACKUPS_KEPT]:
            old.unlink(missing_ok=True)
        return target

    def backups(self) -> list[Path]:
        """Backups beside the workspace, oldest first."""
        return sorted(self.path.parent.glob(f"{self.path.stem}.backup-*.gpkg"))

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
        return restore_dtypes(df, self._meta().get(layer))

    def _write(self, commit: _Commit, user: str | None = None, expected_version: str | None = None) -> None:
        with self._locked():
            self._check_version(expected_version)
            self._commit(commit, user)

    def write(self, *, incidents: gpd.GeoDataFrame | None = None,
              areas: gpd.GeoDataFrame | list[gpd.GeoDataFrame] | None = None,
              interventions: gpd.GeoDataFrame | None = None, user: str | None = None,
              expected_version: str | None = None) -> None:
        """Replace several layers in ONE atomic step (a consistent snapshot): the incidents, the
        area layers present in `areas` (one table or a list), and/or the interventions."""
        commit = _Commit()
        if incidents is not None:
            check_geo(incidents, "incidents")
            commit.frames[INCIDENTS] = incidents
            commit.audit.append(("replace_all", f"incidents layer written: {len(incidents):,} rows"))
        if areas is not None:
            for part in areas if isinstance(areas, list) else [areas]:
                frames = area_frames(part)
                commit.frames.update(frames)
                commit.audit += [("area_added", areas_detail(k, v)) for k, v in frames.items()]
        if interventions is not None:
            check_geo(interventions, "interventions")
            commit.frames[INTERVENTIONS] = interventions
            commit.audit.append(("intervention_added", f"interventions layer written: "
                                 f"{len(interventions)} interventions"))
        if commit.frames:
            with self._locked():
                self._check_version(expected_version)
                existing = set(self.layers())
                commit.backup = any(k in existing for k in commit.frames)
                self._commit(commit, user)

    # ----------------------------------------------------------------- incidents
    def incidents(self) -> gpd.GeoDataFrame:
        """The incidents layer (raises `InputError` when the workspace has none)."""
        df = self._read(INCIDENTS)
        if df is None:
            raise InputError(f"{self.path} has no incidents layer", file=str(self.path))
        return df


    def load_incidents(self, incidents: gpd.GeoDataFrame, *, files=(), read: int | None = None,
                       rejected: int | pd.DataFrame | None = None, replace_all: bool = False,
                       user: str | None = None, expected_version: str | None = None,
                       areas: gpd.GeoDataFrame | None = None) -> LoadResult:
        """Add a load to the workspace (docs/design.md §5b): for every (source, provider, month) in
        `incidents`, the stored rows with that key are replaced by the load's; other keys,
        areas, interventions and cluster runs are untouched (the same file twice changes
        nothing). ``replace_all`` removes all incidents first. A backup is kept before anything
        is removed; the load is recorded in `loads` and `audit`.

        `rejected` is the number of rejected rows or the rejects table (``file, row, column,
        reason, value``), from which "no location" rejects are counted per month (the month in
        the file name, as police.uk names its files) for `coverage_grid`. `areas` (optional):
        area layers written in the same atomic step (each layer present replaced).
        """
        check_geo(incidents, "incidents")
        new = with_provider(incidents)
        files = [str(Path(f).name) if not isinstance(f, str) or os.sep in f else str(f) for f in files]
        no_location = no_location_by_month(rejected) if isinstance(rejected, pd.DataFrame) else {}
        n_rejected = (len(rejected) if isinstance(rejected, pd.DataFrame)
                      else int(rejected) if rejected is not None else 0)
        n_read = int(read) if read is not None else len(new) + n_rejected
        user = current_user(user)
        with self._locked():
            self._check_version(expected_version)
            fast = not replace_all and len(new) > 0 and self._can_append(new)
            old = None if fast else (self._read(INCIDENTS) if INCIDENTS in self.layers() else None)
            before = self._count() if fast else (0 if old is None else len(old))
            if fast:
                removed_rows = kept = None
            elif old is not None and len(old):
                old = with_provider(old)
                if replace_all:
                    gone = np.ones(len(old), dtype=bool)
                else:
                    keys = pd.MultiIndex.from_frame(load_keys(new)).unique()
                    gone = pd.MultiIndex.from_frame(load_keys(old)).isin(keys)
                removed_rows = old[gone]
                kept = old[~gone]
            else:
                removed_rows = kept = None
            keys = sorted(set(map(tuple, load_keys(new).itertuples(index=False, name=None))))
            if fast:
                removed = self._count_keys(keys)
            else:
                removed = ({} if removed_rows is None or not len(removed_rows) else
                           {tuple(k): int(v) for k, v in load_keys(removed_rows).value_counts(sort=False).items()})
            replaced = sum(removed.values())
            if fast:
                table = None
            elif kept is None or not len(kept):
                table = new
            elif not len(new):
                table = kept
            else:
                table = gpd.GeoDataFrame(pd.concat([kept, new], ignore_index=True), geometry=new.geometry.name,
                                         crs=settings.CRS)
            if table is not None:
                table = schema.order_columns(table.reset_index(drop=True))
            months_replaced = sorted({str(k[2]) for k in removed})
            loads = self.loads()
            load_id = int(loads["load_id"].max()) + 1 if len(loads) else 1
            months = sorted(pd.unique(new["month"].dropna().astype(str)))
            providers = sorted(pd.unique(new["provider"].astype(str)))
            record = {"load_id": load_id, "loaded_at": _now(), "user": user,
                      "files": json.dumps(files), "providers": json.dumps(providers),
                      "read": n_read, "loaded": len(new), "rejected": n_rejected, "added": len(new),
                      "replaced": replaced, "months": json.dumps(months), "replace_all": int(bool(replace_all)),
                      "no_location": json.dumps(no_location)}
            detail = (f"load {load_id}: {', '.join(files) or 'incidents'}; {len(new):,} rows added"
                      + (f", {replaced:,} removed ({removed_text(removed)})" if replaced else ""))
            commit = _Commit(load=record, backup=replaced > 0,
                             audit=[("replace_all" if replace_all else "load", detail)])
            if fast:
                commit.delete_keys = (INCIDENTS, keys) if replaced else None
                commit.append[INCIDENTS] = new
            else:
                commit.frames[INCIDENTS] = table
            if areas is not None and len(areas):
                frames = area_frames(areas)
                commit.frames.update(frames)
                commit.audit += [("area_added", areas_detail(k, v)) for k, v in frames.items()]
                commit.backup = commit.backup or any(k in self.layers() for k in frames)
            self._commit(commit, user)
        return LoadResult(before=before, after=before + len(new) - replaced, added=len(new), replaced=replaced,
                          months_replaced=months_replaced, load_id=load_id, removed=removed)

    def _can_append(self, new: pd.DataFrame) -> bool:
        """A load can be appended in place when the stored incidents already have every column
        of the load (and the provider column); otherwise the layer is rewritten."""
        if INCIDENTS not in self.layers():
            return False
        fields = set(_columns(self.path, INCIDENTS))
        cols = {str(c) for c in new.columns if c != new.geometry.name}
        meta = self._meta().get(INCIDENTS, {}).get("dtypes", {})
        same_types = all(str(new[c].dtype) == meta.get(c, str(new[c].dtype)) or new[c].isna().all()
                         for c in new.columns if c != new.geometry.name)
        return "provider" in fields and cols <= fields and same_types

    def _count(self) -> int:
        rows = self._sql(f"SELECT COUNT(*) FROM {_q(INCIDENTS)}")
        return int(rows[0][0]) if rows else 0

    def _count_keys(self, keys: list[tuple]) -> dict:
        """{(source, provider, month): stored rows} for the keys given (those with rows)."""
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            _key_table(con, keys)
            rows = con.execute(
                f"SELECT k.source, k.provider, k.month, COUNT(*) FROM {_q(INCIDENTS)} i JOIN temp.load_keys k "
                "ON COALESCE(i.source, '') = k.source AND COALESCE(i.provider, '') = k.provider "
                "AND COALESCE(i.month, '') = k.month GROUP BY 1, 2, 3").fetchall()
        finally:
            con.close()
        return {(str(a), str(b), str(c)): int(n) for a, b, c, n in sorted(rows)}

    def loads(self) -> pd.DataFrame:
        """The load history, oldest first: load_id, loaded_at (ISO 8601 UTC), user, files,
        providers, months (lists), read, loaded, rejected, added, replaced (ints), replace_all
        (bool), and no_location ({month: rows rejected for having no location})."""
        rows = self._sql(f"SELECT {', '.join(_q(c) for c in LOAD_COLUMNS + ['no_location'])} "
                         f"FROM {LOADS} ORDER BY load_id")
        df = pd.DataFrame(rows or [], columns=LOAD_COLUMNS + ["no_location"])
        for col in ("files", "providers", "months", "no_location"):
            df[col] = df[col].map(json.loads).astype(object)
        for col in ("load_id", "read", "loaded", "rejected", "added", "replaced"):
            df[col] = df[col].astype("int64")
        df["replace_all"] = df["replace_all"].astype(bool)
        return df

    def coverage(self) -> pd.DataFrame:
        """Rows per source x provider x month of the stored incidents."""
        if INCIDENTS not in self.layers():
            return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "rows" else object)
                                 for c in COVERAGE_COLUMNS})
        inc = with_provider(pd.DataFrame(pyogrio.read_dataframe(
            self.path, layer=INCIDENTS, read_geometry=False, use_arrow=True,
            columns=[c for c in ("source", "month", "provider", "falls_within", "reported_by", "frs",
                                 "fire_service", "fire_and_rescue_service", "service", "brigade")
                     if c in _columns(self.path, INCIDENTS)])))
        return coverage_of(inc)

    # ----------------------------------------------------------------- areas
    def area_layers(self) -> list[str]:
        """Area layer names present, in the order ward, town_centre, micro_hotspot, patrol,
        custom, then any others alphabetically."""
        return ordered_layers(name[len(AREA_PREFIX):] for name in self.layers() if name.startswith(AREA_PREFIX))

    def areas(self, layer: str | None = None) -> gpd.GeoDataFrame:
        """Areas of one layer, or all area layers concatenated (ward first) when `layer` is None."""
        return read_areas(str(self.path), layer, self._read, self.area_layers())

    def write_areas(self, areas: gpd.GeoDataFrame, *, user: str | None = None,
                    expected_version: str | None = None) -> None:
        """Write areas, replacing each area layer present in ``areas['layer']`` (others kept)."""
        self.write(areas=areas, user=user, expected_version=expected_version)

    def delete_area(self, area_id: str, *, user: str | None = None,
                    expected_version: str | None = None) -> None:
        """Delete one area (any layer); interventions recorded on it keep their own geometry."""
        with self._locked():
            self._check_version(expected_version)
            for layer in self.area_layers():
                df = self._read(AREA_PREFIX + layer)
                hit = df["area_id"].astype(str) == str(area_id)
                if hit.any():
                    name = str(df.loc[hit, "name"].iloc[0])
                    commit = _Commit(backup=True,
                                     audit=[("area_deleted", f"{name} ({layer}, {area_id})")])
                    rest = df[~hit].reset_index(drop=True)
                    if len(rest):
                        commit.frames[AREA_PREFIX + layer] = rest
                    else:
                        commit.drop.append(AREA_PREFIX + layer)
                    self._commit(commit, user)
                    return
        raise InputError(f"no area '{area_id}' in {self.path}", parameter="area_id")

    # ----------------------------------------------------------------- interventions
    def interventions(self) -> gpd.GeoDataFrame:
        """Interventions (empty table with the schema columns when none are stored)."""
        df = self._read(INTERVENTIONS)
        return empty_interventions() if df is None else df


    def add_intervention(self, name: str, type: str, start, end=None, *, area_id: str | None = None,
                         geometry=None, radius_m: float | None = None, notes: str | None = None,
                         intervention_id: str | None = None, user: str | None = None) -> str:
        """Append one intervention; returns its id. Give `area_id` (an area's polygon) and/or a
        geometry (polygon, or point with `radius_m`)."""
        with self._locked():
            current = self.interventions() if INTERVENTIONS in self.layers() else None
            row = schema.new_intervention(current, name, type, start, end, area_id=area_id,
                                          geometry=geometry, radius_m=radius_m, notes=notes,
                                          intervention_id=intervention_id)
            intervention_id = row["intervention_id"].iloc[0]
            if current is not None and len(current):
                row = gpd.GeoDataFrame(pd.concat([current, row], ignore_index=True), crs=settings.CRS)
            self._commit(_Commit(frames={INTERVENTIONS: row}, audit=[(
                "intervention_added", intervention_added_text(row.iloc[-1]))]), user)
        return intervention_id

    def _intervention(self, intervention_id: str) -> tuple[gpd.GeoDataFrame, pd.Series]:
        """The interventions and the mask of `intervention_id` (InputError when absent)."""
        df = self.interventions()
        hit = df["intervention_id"].astype(str) == str(intervention_id)
        if not hit.any():
            raise InputError(f"no intervention '{intervention_id}' in {self.path}", parameter="intervention_id")
        return df, hit

    def update_intervention(self, intervention_id: str, *, user: str | None = None, **fields) -> None:
        """Change fields of one intervention (name, type, area_id, start, end, radius_m, notes,
        geometry)."""
        check_intervention_fields(fields)
        with self._locked():
            df, hit = self._intervention(intervention_id)
            i = df.index[hit][0]
            row = df.loc[i]
            _check_intervention(fields.get("type", row["type"]), fields.get("start", row["start"]),
                                fields.get("end", row["end"]))
            df = df.copy()
            for key, value in fields.items():
                if key in ("start", "end"):
                    value = pd.Timestamp(value) if value is not None and not pd.isna(value) else pd.NaT
                elif key == "radius_m":
                    value = float(value) if value is not None else np.nan
                if key == "geometry":
                    df.loc[i, df.geometry.name] = value
                else:
                    df.at[i, key] = value
            self._commit(_Commit(frames={INTERVENTIONS: df}, audit=[(
                "intervention_edited", f"{row['name']} ({intervention_id}): {', '.join(sorted(fields))} changed")]),
                user)

    def delete_intervention(self, intervention_id: str, *, user: str | None = None) -> None:
        """Delete one intervention (a backup is kept first)."""
        with self._locked():
            df, hit = self._intervention(intervention_id)
            name = str(df.loc[hit, "name"].iloc[0])
            self._commit(_Commit(frames={INTERVENTIONS: df[~hit].reset_index(drop=True)}, backup=True,
                                 audit=[("intervention_deleted", f"{name} ({intervention_id})")]), user)

    # ----------------------------------------------------------------- cluster runs

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
                         name: str | None = None, user: str | None = None) -> int:
        """Save a cluster run (parameters as JSON + its patrol-area polygons); returns run_id."""
        check_geo(polygons, "polygons")
        with self._locked():
            runs = self.cluster_runs()
            run_id = int(runs["run_id"].max()) + 1 if len(runs) else 1
            name = name if name is not None else f"run {run_id}"
            new = pd.DataFrame({
                "run_id": [run_id],
                "created": [datetime.now(timezone.utc).isoformat(timespec="seconds")],
                "name": [name],
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
            self._commit(_Commit(frames={CLUSTER_RUNS: table, PATROL_AREAS: polys}, audit=[(
                "cluster_run_saved", f"{name} (run {run_id}, {len(polygons)} polygons)")]), user)
        return run_id

    # ----------------------------------------------------------------- audit
    def audit(self) -> pd.DataFrame:
        """Every write, oldest first: at (ISO 8601 UTC), user, action, detail."""
        rows = self._sql(f"SELECT at, user, action, detail FROM {AUDIT} ORDER BY rowid")
        return pd.DataFrame(rows or [], columns=AUDIT_COLUMNS).astype(object)


def _write_one(path: Path, layer: str, df: pd.DataFrame, append: bool = False) -> None:
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
                                promote_to_multi=False, append=append, use_arrow=True)  # no Python per row
    else:
        pyogrio.write_dataframe(pd.DataFrame(out), path, layer=layer, driver="GPKG")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(path: Path, layer: str) -> list[str]:
    return [str(c) for c in pyogrio.read_info(path, layer=layer)["fields"]]


_check_intervention = schema.check_intervention


def _write_records(path: Path, commit: _Commit, user: str) -> None:
    """Version token, audit rows, drops and the load record, in the temporary copy."""
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (key TEXT PRIMARY KEY, value TEXT)")
            con.execute(f"CREATE TABLE IF NOT EXISTS {AUDIT} (at TEXT, user TEXT, action TEXT, detail TEXT)")
            con.execute(f"CREATE TABLE IF NOT EXISTS {LOADS} (load_id INTEGER PRIMARY KEY, loaded_at TEXT, "
                        "user TEXT, files TEXT, providers TEXT, read INTEGER, loaded INTEGER, "
                        "rejected INTEGER, added INTEGER, replaced INTEGER, months TEXT, "
                        "replace_all INTEGER, no_location TEXT)")
            for layer in commit.drop:
                _drop_layer(con, layer)
            at = _now()
            con.executemany(f"INSERT INTO {AUDIT} VALUES (?, ?, ?, ?)",
                            [(at, user, action, detail) for action, detail in commit.audit])
            if commit.load is not None:
                cols = list(commit.load)
                con.execute(f"INSERT INTO {LOADS} ({', '.join(_q(c) for c in cols)}) VALUES "
                            f"({', '.join('?' for _ in cols)})", [commit.load[c] for c in cols])
            con.execute(f"INSERT OR REPLACE INTO {STATE} VALUES ('version', ?)", (uuid.uuid4().hex,))
    finally:
        con.close()


def _drop_layer(con: sqlite3.Connection, layer: str) -> None:
    """Remove a GeoPackage layer: its table, spatial index and registrations."""
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
                               (f"rtree_{layer}_%",)).fetchall():
        con.execute(f"DROP TABLE IF EXISTS {_q(name)}")
    con.execute(f"DROP TABLE IF EXISTS {_q(layer)}")
    for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents"):
        try:
            con.execute(f"DELETE FROM {table} WHERE lower(table_name) = lower(?)", (layer,))
        except sqlite3.OperationalError:
            pass


def _key_table(con: sqlite3.Connection, keys: list[tuple]) -> None:
    con.execute("CREATE TEMP TABLE IF NOT EXISTS load_keys (source TEXT, provider TEXT, month TEXT)")
    con.execute("DELETE FROM temp.load_keys")
    con.executemany("INSERT INTO temp.load_keys VALUES (?, ?, ?)", keys)


def _delete_keys(path: Path, layer: str, keys: list[tuple]) -> None:
    """Delete, in place, the rows of `layer` whose (source, provider, month) is in `keys`."""
    con = sqlite3.connect(path)
    try:
        with con:
            _key_table(con, keys)
            con.execute(f"DELETE FROM {_q(layer)} WHERE EXISTS (SELECT 1 FROM temp.load_keys k WHERE "
                        f"COALESCE({_q(layer)}.source, '') = k.source AND COALESCE({_q(layer)}.provider, '') = "
                        f"k.provider AND COALESCE({_q(layer)}.month, '') = k.month)")
    finally:
        con.close()
