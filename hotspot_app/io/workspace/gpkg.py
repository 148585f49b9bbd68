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
from concurrent.futures import ThreadPoolExecutor
import os
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
from hotspot_app.io.workspace import audit as chain
from hotspot_app.io.workspace.base import (
    AREA_PREFIX,
    AUDIT,
    DELETED,
    DELETED_COLUMNS,
    RECORD_KINDS,
    RECORDS,
    RecordChange,
    apply_record_change,
    audit_missing,
    check_record,
    frame_of,
    kept,
    record_changes,
    AUDIT_COLUMNS,
    BACKUPS_KEPT,
    CLUSTER_RUNS,
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
    dtype_text,
    empty_interventions,
    intervention_added_text,
    layer_key,
    no_location_by_month,
    ordered_layers,
    read_areas,
    removed_text,
    restore_dtypes,
    with_provider,
    SUMMARY_COLUMNS,
    coverage_from_summary,
    summary_of,
)
from hotspot_app.core.selection import Selection
from hotspot_app.io.identity import current_user
from hotspot_app.io.workspace import partitioned
from hotspot_app.io.workspace.partitioned import IncidentStore, Manifest, fsync_path


#: Seconds a writer waits for another writer's lock before giving up with ConflictError.
LOCK_TIMEOUT_S = 120.0

__all__ = ["GeopackageWorkspace", "atomic_path"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")






def _layers(path: Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.tmp-[^.]+(?P<suffix>\.[^.]+)?$")


def target_of(path: Path) -> Path:
    """The workspace file a temporary file of `atomic_path` becomes (`path` itself otherwise)."""
    found = _TEMP_NAME.match(path.name)
    return path.with_name(found.group("name")) if found else path


_BACKUP_NAME = re.compile(r"^(?P<stem>.+)\.backup-\d{8}T\d+Z$")


def owner_of(path: str | os.PathLike) -> Path:
    """The workspace file whose incidents folder `path` uses: itself, the file a temporary file
    of `atomic_path` becomes, or the workspace a backup (``<stem>.backup-<time>.gpkg``) was
    taken of."""
    target = target_of(Path(path))
    found = _BACKUP_NAME.match(target.stem)
    return target.with_name(found.group("stem") + target.suffix) if found else target


def sidecar_of(path: str | os.PathLike) -> Path:
    """The folder beside a workspace GeoPackage holding its partitioned incidents
    (``<stem>.incidents``), shared by its backups and temporary files (`owner_of`), so a restored
    backup or a renamed temporary file finds its incidents."""
    owner = owner_of(path)
    return owner.with_name(f"{owner.stem}.incidents")


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
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)
    except BaseException:
        _remove_temp(tmp)
        raise


# The file mode a replacement keeps (the existing file's, else the umask's default, not mkstemp's
# private 0600): exports.file_mode is the one home of that rule.
_mode_for = file_mode


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
    #: interventions and areas written or removed (their versions; removed rows kept)
    records: list[RecordChange] = field(default_factory=list)
    #: (kind, id) put back by `restore`
    restored: list[tuple[str, str]] = field(default_factory=list)
    #: `accept_changes`: start a new audit chain when the old one was removed outside
    restart_audit: bool = False
    #: the incidents' manifest this write makes current (its files and itself already written)
    manifest: Manifest | None = None


class GeopackageWorkspace(Workspace):
    """A workspace GeoPackage. Reading methods return fresh (Geo)DataFrames; every writing
    method is one locked, version-checked, atomic step (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The ``.gpkg`` file. It need not exist yet; the first write creates it.
    """

    def __init__(self, path: str | os.PathLike, check: bool = True):
        self.path = Path(path)
        if self.path.suffix.lower() != ".gpkg":
            raise InputError(f"a workspace must be a .gpkg file, got {self.path.name}",
                             parameter="workspace")
        self._clean_if_idle()
        if check:
            self.check()

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

    def _stale_writes(self) -> bool:
        """True when a killed write left files behind: a temporary copy of the file, or the
        marker a load of incidents keeps while it writes (`IncidentStore.pending`)."""
        return bool(self._temps()) or bool(self.store.pending())

    def _clean_if_idle(self) -> None:
        """Remove what killed writes left (temporary files, incidents files no manifest names)
        when no writer holds the lock now."""
        if not self._stale_writes():
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
            self._clean_stale()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _clean_stale(self) -> None:
        """With the lock held: every temporary file and pending incidents write is a killed
        writer's (writers hold the lock while they write)."""
        for tmp in self._temps():
            _remove_temp(tmp)
        if self.store.pending():
            self._collect()
            self.store.clear_pending()

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
            self._clean_stale()
            try:
                yield
            except BaseException:
                self._collect()  # incidents files of a failed write are not left behind
                self.store.clear_pending()
                raise
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
        if commit.manifest is not None or commit.backup:
            self._collect()
        self.store.clear_pending()

    # ----------------------------------------------------------------- partitioned incidents
    @property
    def store(self) -> IncidentStore:
        """The partitioned incidents beside the file (`partitioned.IncidentStore`)."""
        if getattr(self, "_store", None) is None:
            self._store = IncidentStore(sidecar_of(self.path))
        return self._store

    def _manifest_id(self, path: Path | None = None) -> str | None:
        """The id of the incidents' manifest `path` (default: this file) makes current; None when
        its incidents are not partitioned (none yet, or an incidents layer written before)."""
        path = self.path if path is None else path
        if not path.exists():
            return None
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error:
            return None
        try:
            row = con.execute(f"SELECT value FROM {STATE} WHERE key = 'incidents_manifest'").fetchone()
        except sqlite3.Error:
            row = None
        finally:
            con.close()
        return str(row[0]) if row else None

    def _manifest(self) -> Manifest | None:
        mid = self._manifest_id()
        return None if mid is None else self.store.manifest(mid)

    def _collect(self) -> None:
        """Remove incidents files and manifests that no file sharing the incidents folder names
        (the workspace, its backups, temporary files of writes; lock held). Never fails a write."""
        root = sidecar_of(self.path)
        if not root.is_dir():
            return
        owner = owner_of(self.path)
        sharers = {self.path, owner, *GeopackageWorkspace.backups_of(owner),
                   *owner.parent.glob(_temp_prefix(owner) + "*")}
        keep = {m for f in sharers if (m := self._manifest_id(f))}
        try:
            self.store.collect(keep)
        except OSError:
            pass

    def copy_to(self, path: str | os.PathLike) -> "GeopackageWorkspace":
        """A private copy of this workspace at `path` (its file, and its incidents' files as hard
        links where the file system allows): writes to the copy never touch this workspace."""
        path = Path(path)
        with self._locked():
            shutil.copyfile(self.path, path)
            manifest = self._manifest()
            if manifest is not None:
                self.store.copy_into(IncidentStore(sidecar_of(path)), manifest)
        return GeopackageWorkspace(path)

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
        return GeopackageWorkspace.backups_of(self.path)

    @staticmethod
    def backups_of(path: Path) -> list[Path]:
        return sorted(path.parent.glob(f"{path.stem}.backup-*.gpkg"))

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
            _check_case(incidents, INCIDENTS)
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
        if commit.frames or incidents is not None:
            with self._locked():
                self._check_version(expected_version)
                existing = set(self.layers())
                commit.backup = any(k in existing for k in commit.frames) or (
                    incidents is not None and (INCIDENTS in existing or self._manifest_id() is not None))
                commit.records = self._record_changes(commit.frames)
                if incidents is not None:
                    self.store.begin()
                    parts = self.store.write_parts(incidents, provider=schema.provider_of(incidents)
                                                   if len(incidents) else None)
                    base = self._manifest() or partitioned.empty_manifest()
                    commit.manifest = self.store.save(base.replacing(None, parts, partitioned.meta_of(incidents)))
                    if INCIDENTS in existing:
                        commit.drop.append(INCIDENTS)
                self._commit(commit, user)

    def _record_changes(self, frames: dict[str, pd.DataFrame]) -> list[RecordChange]:
        """Record changes of writing `frames` (area layers and interventions replaced whole)."""
        out: list[RecordChange] = []
        for table, frame in frames.items():
            if table.startswith(AREA_PREFIX):
                out += record_changes("area", self._read(table), frame, table[len(AREA_PREFIX):])
            elif table == INTERVENTIONS:
                out += record_changes("intervention", self._read(INTERVENTIONS), frame)
        return out

    # ----------------------------------------------------------------- incidents
    def incidents(self, selection: Selection | None = None) -> gpd.GeoDataFrame:
        """The stored incidents `selection` keeps (all of them by default; `Selection`), read
        from the partitioned files with the selection pushed into the read. `InputError` when the
        workspace holds no incidents."""
        manifest = self._manifest()
        if manifest is not None:
            return self.store.read(manifest, selection)
        df = self._read(INCIDENTS)  # written before incidents were partitioned
        if df is None:
            raise InputError(f"{self.path} has no incidents loaded yet", file=str(self.path))
        return df if selection is None or selection.everything else selection.apply(df)

    def incident_summary(self) -> pd.DataFrame:
        """Rows per source, provider, month, kind, category and group of everything stored
        (`SUMMARY_COLUMNS`): from the manifest, without reading a row."""
        manifest = self._manifest()
        if manifest is not None:
            summary = manifest.summary()
            return summary_of(summary, summary["rows"].to_numpy())
        if INCIDENTS not in self.layers():
            return summary_of(pd.DataFrame({c: [] for c in SUMMARY_COLUMNS[:-1]}), np.zeros(0, dtype="int64"))
        cols = [c for c in SUMMARY_COLUMNS[:-1] if c in _columns(self.path, INCIDENTS)] + \
            [c for c in ("falls_within", "reported_by", "frs", "fire_service", "fire_and_rescue_service",
                         "service", "brigade") if c in _columns(self.path, INCIDENTS)]
        inc = with_provider(pd.DataFrame(pyogrio.read_dataframe(
            self.path, layer=INCIDENTS, read_geometry=False, use_arrow=True, columns=cols)))
        return summary_of(inc, np.ones(len(inc), dtype="int64"))

    def _legacy_manifest(self) -> Manifest:
        """Incidents written before they were partitioned (an ``incidents`` layer), moved into
        partitioned files now: the manifest of their rows (made current by the caller's commit,
        which drops the layer)."""
        old = self._read(INCIDENTS)
        old = with_provider(old)
        parts = self.store.write_parts(old)
        return self.store.save(partitioned.empty_manifest().replacing(None, parts, partitioned.meta_of(old)))

    def load_incidents(self, incidents, *, files=(), read=None, rejected=None, replace_all: bool = False,
                       user: str | None = None, expected_version: str | None = None,
                       areas: gpd.GeoDataFrame | None = None, warnings=()) -> LoadResult:
        """Add a load to the workspace (docs/design.md §5b): for every (source, provider, month) in
        `incidents`, the stored rows with that key are replaced by the load's; other keys,
        areas, interventions and cluster runs are untouched (the same file twice changes
        nothing). ``replace_all`` removes all incidents first. A backup is kept before anything
        is removed; the load is recorded in `loads` and `audit`.

        `incidents`: a GeoDataFrame, or an iterable of them (batches, e.g. month by month: each is
        written to its partition files as it comes, so memory holds one batch). `files`, `read`
        and `rejected` may then be callables, asked once the batches are consumed. `rejected` is
        the number of rejected rows or the rejects table (``file, row, column, reason, value``),
        from which "no location" rejects are counted per month (the month in the file name, as
        police.uk names its files) for `coverage_grid`. `areas` (optional): area layers written
        in the same atomic step (each layer present replaced). The switch to the new incidents
        is the GeoPackage's one rename (its state row names the new manifest): a failure or a
        kill before it leaves the workspace as it was.
        """
        batches = [incidents] if isinstance(incidents, pd.DataFrame) else incidents
        user = current_user(user)
        with self._locked():
            self._check_version(expected_version)
            existing = set(self.layers())
            base = self._manifest()
            legacy = base is None and INCIDENTS in existing
            self.store.begin()
            if legacy:
                base = self._legacy_manifest()
            base = base or partitioned.empty_manifest()
            loads = self.loads()
            load_id = int(loads["load_id"].max()) + 1 if len(loads) else 1
            new_parts: list = []
            added = 0
            months: set[str] = set()
            providers: set[str] = set()
            meta = None
            # each batch's files are written by a second thread while the next batch is read
            # (Parquet encoding runs without the GIL); at most one batch waits to be written
            writing: list = []
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotspot-write") as writer:
                for batch in batches:
                    check_geo(batch, "incidents")
                    _check_case(batch, INCIDENTS)
                    new = with_provider(batch)
                    meta = partitioned.meta_of(new) if meta is None else meta
                    if not len(new):
                        continue
                    if writing and not writing[-1].done():
                        writing[-1].result()
                    writing.append(writer.submit(self.store.write_parts, new, None, load_id))
                    added += len(new)
                    del new, batch
                new_parts = [p for f in writing for p in f.result()]
            # the load's months and providers: those of the files written (the writer found
            # them; reading them again from every row cost a national year 0.6-0.8 s)
            months.update(str(p.month) for p in new_parts if p.month is not None and not pd.isna(p.month))
            providers.update(str(p.provider) for p in new_parts)
            files = files() if callable(files) else files
            files = [str(Path(f).name) if not isinstance(f, str) or os.sep in f else str(f) for f in files]
            read = read() if callable(read) else read
            rejected = rejected() if callable(rejected) else rejected
            no_location = no_location_by_month(rejected) if isinstance(rejected, pd.DataFrame) else {}
            n_rejected = (len(rejected) if isinstance(rejected, pd.DataFrame)
                          else int(rejected) if rejected is not None else 0)
            n_read = int(read) if read is not None else added + n_rejected
            keys = {p.key for p in new_parts}
            removed: dict = {}
            for part in base.parts:
                if replace_all or part.key in keys:
                    removed[part.key] = removed.get(part.key, 0) + part.rows
            replaced = sum(removed.values())
            before = base.rows
            manifest = self.store.save(base.replacing(None if replace_all else keys, new_parts, meta))
            months_replaced = sorted({str(k[2]) for k in removed})
            warnings = list(warnings() if callable(warnings) else warnings)
            record = {"load_id": load_id, "loaded_at": _now(), "user": user,
                      "files": json.dumps(files), "providers": json.dumps(sorted(providers)),
                      "read": n_read, "loaded": added, "rejected": n_rejected, "added": added,
                      "replaced": replaced, "months": json.dumps(sorted(months)),
                      "replace_all": int(bool(replace_all)), "no_location": json.dumps(no_location),
                      "warnings": json.dumps(warnings)}
            detail = (f"load {load_id}: {', '.join(files) or 'incidents'}; {added:,} rows added"
                      + (f", {replaced:,} removed ({removed_text(removed)})" if replaced else ""))
            commit = _Commit(load=record, backup=replaced > 0 or legacy, manifest=manifest,
                             drop=[INCIDENTS] if legacy else [],
                             audit=[("replace_all" if replace_all else "load", detail)])
            if areas is not None and len(areas):
                frames = area_frames(areas)
                commit.frames.update(frames)
                commit.audit += [("area_added", areas_detail(k, v)) for k, v in frames.items()]
                commit.backup = commit.backup or any(k in existing for k in frames)
                commit.records = self._record_changes(frames)
            self._commit(commit, user)
        return LoadResult(before=before, after=before + added - replaced, added=added, replaced=replaced,
                          months_replaced=months_replaced, load_id=load_id, removed=removed)

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
        return coverage_from_summary(self.incident_summary())

    def load_warnings(self) -> list[str]:
        """What reading the files said, for every load whose files still hold rows."""
        manifest = self._manifest()
        ids = sorted({p.load for p in manifest.parts if p.load is not None}) if manifest is not None else []
        if not ids:
            return []
        rows = self._sql(f"SELECT warnings FROM {LOADS} WHERE load_id IN ({', '.join('?' for _ in ids)}) "
                         "ORDER BY load_id", tuple(ids)) or []
        return list(dict.fromkeys(w for (text,) in rows if text for w in json.loads(text)))

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
                    expected_version: str | None = None, record_version: int | None = None) -> None:
        """Delete one area (any layer); it is kept in `deleted` (and a backup of the file is made)
        so it can be restored; interventions recorded on it keep their own geometry. With
        `record_version` (the version the user saw) a changed or deleted area is refused."""
        with self._locked():
            self._check_version(expected_version)
            for layer in self.area_layers():
                df = self._read(AREA_PREFIX + layer)
                hit = df["area_id"].astype(str) == str(area_id)
                if hit.any():
                    check_record("area", str(area_id), record_version, df,
                                 self._record_row("area", area_id), self._deleted_entry("area", area_id))
                    name = str(df.loc[hit, "name"].iloc[0])
                    commit = _Commit(backup=True,
                                     audit=[("area_deleted", f"{name} ({layer}, {area_id})")])
                    rest = df[~hit].reset_index(drop=True)
                    if len(rest):
                        commit.frames[AREA_PREFIX + layer] = rest
                    else:
                        commit.drop.append(AREA_PREFIX + layer)
                    commit.records = record_changes("area", df[hit], None, layer)
                    self._commit(commit, user)
                    return
            check_record("area", str(area_id), record_version, None, self._record_row("area", area_id),
                         self._deleted_entry("area", area_id))
        raise InputError(f"no area '{area_id}' in {self.path}", parameter="area_id")

    def used_ids(self, kind: str) -> list[str]:
        """Every intervention or area id held now or ever (deleted included)."""
        id_col = RECORD_KINDS[kind]
        ids = self._record_ids(kind)
        tables = [INTERVENTIONS] if kind == "intervention" else [AREA_PREFIX + n for n in self.area_layers()]
        for table in tables:
            df = self._read(table) if table in self.layers() else None
            if df is not None and id_col in df.columns:
                ids += df[id_col].astype(str).tolist()
        return ids

    # ----------------------------------------------------------------- interventions
    def interventions(self) -> gpd.GeoDataFrame:
        """Interventions (empty table with the schema columns when none are stored)."""
        df = self._read(INTERVENTIONS)
        return empty_interventions() if df is None else df

    def add_intervention(self, name: str, type: str, start, end=None, *, area_id: str | None = None,
                         geometry=None, radius_m: float | None = None, notes: str | None = None,
                         intervention_id: str | None = None, user: str | None = None) -> str:
        """Append one intervention; returns its id (``int-<n>`` above every id this workspace has
        ever held, so a stale page can never act on a new record). Give `area_id` (an area's
        polygon) and/or a geometry (polygon, or point with `radius_m`)."""
        with self._locked():
            current = self.interventions() if INTERVENTIONS in self.layers() else None
            if intervention_id is None:
                intervention_id = self.new_intervention_ids(1)[0]
            elif str(intervention_id) in self._record_ids("intervention"):
                raise InputError(f"intervention id '{intervention_id}' was used before; ids are never "
                                 "reused", parameter="intervention_id")
            row = schema.new_intervention(current, name, type, start, end, area_id=area_id,
                                          geometry=geometry, radius_m=radius_m, notes=notes,
                                          intervention_id=intervention_id)
            intervention_id = row["intervention_id"].iloc[0]
            if current is not None and len(current):
                row = gpd.GeoDataFrame(pd.concat([current, row], ignore_index=True), crs=settings.CRS)
            self._commit(_Commit(frames={INTERVENTIONS: row}, audit=[(
                "intervention_added", intervention_added_text(row.iloc[-1]))],
                records=record_changes("intervention", current, row)), user)
        return intervention_id

    def _intervention(self, intervention_id: str, record_version: int | None = None
                      ) -> tuple[gpd.GeoDataFrame, pd.Series]:
        """The interventions and the mask of `intervention_id`; `check_record` first (InputError
        when absent, RecordConflict when it changed since `record_version`)."""
        df = self.interventions()
        check_record("intervention", str(intervention_id), record_version, df,
                     self._record_row("intervention", intervention_id),
                     self._deleted_entry("intervention", intervention_id))
        return df, df["intervention_id"].astype(str) == str(intervention_id)

    def update_intervention(self, intervention_id: str, *, user: str | None = None,
                            record_version: int | None = None, **fields) -> None:
        """Change fields of one intervention (name, type, area_id, start, end, radius_m, notes,
        geometry); with `record_version` (the version the user saw) refused when it changed."""
        check_intervention_fields(fields)
        with self._locked():
            df, hit = self._intervention(intervention_id, record_version)
            i = df.index[hit][0]
            row = df.loc[i]
            _check_intervention(fields.get("type", row["type"]), fields.get("start", row["start"]),
                                fields.get("end", row["end"]))
            old = df
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
                "intervention_edited", f"{row['name']} ({intervention_id}): {', '.join(sorted(fields))} changed")],
                records=record_changes("intervention", old, df)), user)

    def delete_intervention(self, intervention_id: str, *, user: str | None = None,
                            record_version: int | None = None) -> None:
        """Delete one intervention: kept in `deleted` (and a backup of the file is made) so it
        can be restored; with `record_version`, refused when it changed since the user saw it."""
        with self._locked():
            df, hit = self._intervention(intervention_id, record_version)
            name = str(df.loc[hit, "name"].iloc[0])
            self._commit(_Commit(frames={INTERVENTIONS: df[~hit].reset_index(drop=True)}, backup=True,
                                 audit=[("intervention_deleted", f"{name} ({intervention_id})")],
                                 records=record_changes("intervention", df[hit], None)), user)

    # ----------------------------------------------------------------- records, deletes, restores
    def _record_row(self, kind: str, record_id: str) -> dict | None:
        rows = self._sql(f"SELECT version, digest, changed_by, changed_at, deleted FROM {RECORDS} "
                         "WHERE kind = ? AND id = ?", (kind, str(record_id)))
        if not rows:
            return None
        v, d, by, at, deleted = rows[0]
        return {"version": int(v), "digest": d, "changed_by": by, "changed_at": at, "deleted": bool(deleted)}

    def _deleted_entry(self, kind: str, record_id: str) -> dict | None:
        rows = self._sql(f"SELECT n, name, layer, deleted_at, deleted_by, version, data FROM {DELETED} "
                         "WHERE kind = ? AND id = ? AND restored_at IS NULL ORDER BY n DESC LIMIT 1",
                         (kind, str(record_id)))
        if not rows:
            return None
        n, name, layer, at, by, version, data = rows[0]
        return {"n": n, "name": name, "layer": layer, "deleted_at": at, "deleted_by": by,
                "version": version, "data": json.loads(data)}

    def _record_ids(self, kind: str) -> list[str]:
        rows = self._sql(f"SELECT id FROM {RECORDS} WHERE kind = ?", (kind,)) or []
        return [str(r[0]) for r in rows]

    def record_versions(self, kind: str) -> dict[str, int]:
        """{id: version} of the live interventions or areas (version 1 for a record stored before
        versions were kept)."""
        if kind not in RECORD_KINDS:
            raise InputError(f"kind must be one of {', '.join(RECORD_KINDS)}", parameter="kind")
        id_col = RECORD_KINDS[kind]
        if kind == "intervention":
            live = self.interventions()[id_col].astype(str).tolist()
        else:
            live = [i for name in self.area_layers()
                    for i in self._read(AREA_PREFIX + name)[id_col].astype(str).tolist()]
        stored = {str(i): int(v) for i, v in (self._sql(
            f"SELECT id, version FROM {RECORDS} WHERE kind = ? AND deleted = 0", (kind,)) or [])}
        return {i: stored.get(i, 1) for i in live}

    def deleted(self) -> pd.DataFrame:
        """Deleted interventions and areas not restored since, newest first."""
        rows = self._sql(f"SELECT kind, id, name, layer, deleted_at, deleted_by, version FROM {DELETED} d "
                         "WHERE restored_at IS NULL AND n = (SELECT max(n) FROM "
                         f"{DELETED} e WHERE e.kind = d.kind AND e.id = d.id) ORDER BY n DESC") or []
        return pd.DataFrame(rows, columns=DELETED_COLUMNS).astype(object)

    def restore(self, kind: str, record_id: str, *, user: str | None = None) -> str:
        """Put back the last deleted version of an intervention or area (into its layer); returns
        its name. Refused when a record with that id is live."""
        with self._locked():
            entry = self._deleted_entry(kind, record_id)
            if entry is None:
                raise InputError(f"no deleted {kind} '{record_id}' to restore", parameter="id")
            if kind == "intervention":
                table = INTERVENTIONS
            else:
                table = AREA_PREFIX + layer_key(entry["layer"] or "custom")
            current = self._read(table) if table in self.layers() else None
            id_col = RECORD_KINDS[kind]
            if current is not None and (current[id_col].astype(str) == str(record_id)).any():
                raise InputError(f"{kind} '{record_id}' is in the workspace already", parameter="id")
            geom = current.geometry.name if isinstance(current, gpd.GeoDataFrame) else "geometry"
            row = frame_of(entry["data"], current, geometry=geom)
            table_new = row if current is None or not len(current) else gpd.GeoDataFrame(
                pd.concat([current, row[[c for c in current.columns if c in row.columns]
                                        + [c for c in row.columns if c not in current.columns]]],
                          ignore_index=True), crs=settings.CRS)
            commit = _Commit(frames={table: table_new}, restored=[(kind, str(record_id))],
                             audit=[(f"{kind}_restored", f"{entry['name']} ({record_id}) restored, deleted "
                                     f"by {entry['deleted_by']} at {entry['deleted_at']}")],
                             records=record_changes(kind, current, table_new, entry["layer"], keep_missing=True))
            self._commit(commit, user)
        return str(entry["name"])

    # ----------------------------------------------------------------- integrity
    def _state(self) -> dict[str, str]:
        rows = self._sql(f"SELECT key, value FROM {STATE}")
        return {str(k): str(v) for k, v in (rows or [])}

    def problems(self) -> list[str]:
        """Layers removed, added or changed outside this tool since its last write (GeoPackage
        contents and row counts against what it recorded), and a removed audit table. Read over
        ONE connection: a writer replacing the file meanwhile cannot mix two states."""
        if not self.path.exists():
            return []
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        except sqlite3.Error:
            return []
        try:
            try:
                state = {str(k): str(v) for k, v in con.execute(f"SELECT key, value FROM {STATE}")}
            except sqlite3.OperationalError:  # never written by this version: nothing recorded
                return []
            now = _snapshot_of(self.path, con) if "layers" in state else {}
            try:
                con.execute(f"SELECT 1 FROM {AUDIT} LIMIT 1").fetchall()
                audit_there = True
            except sqlite3.OperationalError:
                audit_there = False
        finally:
            con.close()
        out: list[str] = []
        recorded = json.loads(state["layers"]) if "layers" in state else {}
        for name, (count, changed) in recorded.items():
            if name not in now:
                out.append(f"layer '{name}' ({count:,} rows) was removed outside hotspot_app"
                           if count is not None else f"layer '{name}' was removed outside hotspot_app")
            elif count is not None and now[name][0] is not None and now[name][0] != count:
                out.append(f"layer '{name}' has {now[name][0]:,} rows, {count:,} when hotspot_app last "
                           "wrote it: it was changed outside hotspot_app")
            elif changed and now[name][1] and now[name][1] != changed:
                out.append(f"layer '{name}' was changed outside hotspot_app (at {now[name][1]})")
        for name in now:
            if name not in recorded and (name.startswith(AREA_PREFIX) or name in (INCIDENTS, INTERVENTIONS)):
                out.append(f"layer '{name}' was added outside hotspot_app")
        if "audit_head" in state and not audit_there:
            out.append(f"the audit log (table '{AUDIT}') was removed outside hotspot_app")
        mid = state.get("incidents_manifest")
        if mid:
            try:
                out += self.store.problems(self.store.manifest(mid))
            except InputError as exc:
                out.append(str(exc).split(" (file:")[0])
        return out

    def accept_changes(self, *, user: str | None = None) -> list[str]:
        """Accept changes made outside this tool: record the layers as they are now, start a new
        audit chain if the old one was removed; audited (``changes_accepted``)."""
        with self._locked():
            found = self.problems()
            if not found:
                return []
            present = set(self.layers())
            gone = [name for name in self._meta() if name not in present]
            audit_gone = self._sql(f"SELECT 1 FROM {AUDIT} LIMIT 1") is None and "audit_head" in self._state()
            commit = _Commit(drop=gone, restart_audit=audit_gone, audit=[("changes_accepted", "; ".join(found))])
            mid = self._manifest_id()
            if mid is not None:  # incidents files removed or changed: keep the ones that are intact
                try:
                    manifest = self.store.manifest(mid)
                    bad = {p for p in manifest.parts if self.store.problems(replace(manifest, parts=(p,)))}
                    if bad:
                        commit.manifest = self.store.save(replace(
                            manifest, id=uuid.uuid4().hex, parts=tuple(p for p in manifest.parts if p not in bad)))
                except InputError:  # the manifest itself is gone: no incidents
                    commit.manifest = self.store.save(partitioned.empty_manifest())
            self._commit(commit, user)
        return found

    # ----------------------------------------------------------------- cluster runs


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
        """Every write, oldest first: at (ISO 8601 UTC), user, action, detail. `InputError` when
        the audit table was removed outside this tool (never an empty log)."""
        rows = [[_seconds(r["at"]), r["user"], r["action"], r["detail"]] for r in self.audit_rows()]
        return pd.DataFrame(rows, columns=AUDIT_COLUMNS).astype(object)

    def audit_rows(self) -> list[dict]:
        """The audit rows with their hash chain (`audit.CHAIN_COLUMNS`), oldest first."""
        if not self.path.exists():
            return []
        cols = self._sql(f"SELECT name FROM pragma_table_info('{AUDIT}')")
        if not cols:
            if "audit_head" in self._state() or "version" in self._state():
                raise audit_missing(str(self.path), AUDIT)
            return []
        names = {str(c[0]) for c in cols}
        if "seq" not in names:  # written before the chain: no hashes yet
            rows = self._sql(f"SELECT rowid, at, user, action, detail FROM {AUDIT} ORDER BY rowid") or []
            return [{"seq": int(r[0]), "at": r[1], "user": r[2], "action": r[3], "detail": r[4],
                     "prev_hash": None, "row_hash": None} for r in rows]
        rows = self._sql(f"SELECT {', '.join(_q(c) for c in chain.CHAIN_COLUMNS)} FROM {AUDIT} "
                         "ORDER BY seq") or []
        return [dict(zip(chain.CHAIN_COLUMNS, r)) for r in rows]

    def audit_head(self) -> tuple[int, str] | None:
        head = self._state().get("audit_head")
        if not head:
            return None
        seq, h = json.loads(head)
        return int(seq), str(h)


def _check_case(df: pd.DataFrame, layer: str) -> None:
    """Columns differing only in case are refused (a GeoPackage cannot hold both, and the
    workspace's incidents export to one)."""
    seen: dict[str, str] = {}
    for col in map(str, df.columns):
        if col.lower() in seen:
            raise InputError(f"columns '{seen[col.lower()]}' and '{col}' differ only in case; a "
                             f"GeoPackage cannot hold both (layer {layer})", column=col)
        seen[col.lower()] = col


def _write_one(path: Path, layer: str, df: pd.DataFrame, append: bool = False) -> None:
    """Write (replace) one layer of `path`."""
    _check_case(df, layer)
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


def _seconds(at) -> str:
    """An audit time as shown: ISO 8601 UTC to the second."""
    text = str(at)
    return text[:19] + "Z" if len(text) > 20 and text.endswith("Z") else text


def _snapshot_of(path: Path, con: sqlite3.Connection | None = None) -> dict[str, list]:
    """{table: [rows, last_change]} of the GeoPackage's registered layers and tables (row counts
    from ``gpkg_ogr_contents``, which GDAL keeps with triggers)."""
    own = con is None
    if own:
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error:
            return {}
    try:
        try:
            contents = con.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall()
        except sqlite3.OperationalError:
            return {}
        try:
            counts = {str(t).lower(): n for t, n in con.execute(
                "SELECT table_name, feature_count FROM gpkg_ogr_contents").fetchall()}
        except sqlite3.OperationalError:
            counts = {}
        return {str(t): [None if counts.get(str(t).lower()) is None else int(counts[str(t).lower()]),
                         str(changed) if changed else None] for t, changed in contents}
    finally:
        if own:
            con.close()


def _audit_table(con: sqlite3.Connection) -> None:
    """The audit table with its hash chain; a table written before the chain gets the columns
    and its rows are chained in order (once)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {AUDIT} (seq INTEGER PRIMARY KEY, at TEXT, user TEXT, "
                "action TEXT, detail TEXT, prev_hash TEXT, row_hash TEXT)")
    names = {r[1] for r in con.execute(f"PRAGMA table_info({AUDIT})")}
    if "seq" in names:
        return
    old = con.execute(f"SELECT at, user, action, detail FROM {AUDIT} ORDER BY rowid").fetchall()
    con.execute(f"DROP TABLE {AUDIT}")
    con.execute(f"CREATE TABLE {AUDIT} (seq INTEGER PRIMARY KEY, at TEXT, user TEXT, action TEXT, "
                "detail TEXT, prev_hash TEXT, row_hash TEXT)")
    prev = chain.GENESIS
    for seq, (at, who, action, detail) in enumerate(old, start=1):
        h = chain.row_hash(prev, seq, at, who, action, detail)
        con.execute(f"INSERT INTO {AUDIT} VALUES (?, ?, ?, ?, ?, ?, ?)", (seq, at, who, action, detail, prev, h))
        prev = h


def _apply_records(con: sqlite3.Connection, commit: _Commit, user: str, at: str) -> None:
    for ch in commit.records:
        row = con.execute(f"SELECT version, digest, deleted FROM {RECORDS} WHERE kind = ? AND id = ?",
                          (ch.kind, ch.id)).fetchone()
        current = None if row is None else {"version": row[0], "digest": row[1], "deleted": bool(row[2])}
        version = apply_record_change(current, ch)
        if version is None:
            continue
        con.execute(f"INSERT OR REPLACE INTO {RECORDS} VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (ch.kind, ch.id, version, ch.digest, user, at, int(ch.digest is None)))
        if ch.digest is None:
            con.execute(f"INSERT INTO {DELETED} (kind, id, name, layer, deleted_at, deleted_by, version, data) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (ch.kind, ch.id, ch.name, ch.layer, at, user, version, kept(ch)))
    for kind, rid in commit.restored:
        con.execute(f"UPDATE {DELETED} SET restored_at = ?, restored_by = ? WHERE n = (SELECT max(n) FROM "
                    f"{DELETED} WHERE kind = ? AND id = ? AND restored_at IS NULL)", (at, user, kind, rid))


def _write_records(path: Path, commit: _Commit, user: str) -> None:
    """Version token, audit rows (chained), record versions and deleted rows, drops, the load
    record and the snapshot of the layers, in the temporary copy."""
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (key TEXT PRIMARY KEY, value TEXT)")
            if commit.restart_audit:
                con.execute(f"DROP TABLE IF EXISTS {AUDIT}")
                con.execute(f"DELETE FROM {STATE} WHERE key = 'audit_head'")
            _audit_table(con)
            con.execute(f"CREATE TABLE IF NOT EXISTS {LOADS} (load_id INTEGER PRIMARY KEY, loaded_at TEXT, "
                        "user TEXT, files TEXT, providers TEXT, read INTEGER, loaded INTEGER, "
                        "rejected INTEGER, added INTEGER, replaced INTEGER, months TEXT, "
                        "replace_all INTEGER, no_location TEXT, warnings TEXT)")
            if "warnings" not in {r[1] for r in con.execute(f"PRAGMA table_info({LOADS})")}:
                con.execute(f"ALTER TABLE {LOADS} ADD COLUMN warnings TEXT")  # kept since issue 24
            con.execute(f"CREATE TABLE IF NOT EXISTS {RECORDS} (kind TEXT, id TEXT, version INTEGER NOT NULL, "
                        "digest TEXT, changed_by TEXT, changed_at TEXT, deleted INTEGER NOT NULL DEFAULT 0, "
                        "PRIMARY KEY (kind, id))")
            con.execute(f"CREATE TABLE IF NOT EXISTS {DELETED} (n INTEGER PRIMARY KEY, kind TEXT, id TEXT, "
                        "name TEXT, layer TEXT, deleted_at TEXT, deleted_by TEXT, version INTEGER, data TEXT, "
                        "restored_at TEXT, restored_by TEXT)")
            for layer in commit.drop:
                _drop_layer(con, layer)
            at = chain.now_text()
            _apply_records(con, commit, user, at)
            last = con.execute(f"SELECT seq, row_hash FROM {AUDIT} ORDER BY seq DESC LIMIT 1").fetchone()
            entries = chain.chain(last[0] if last else 0, last[1] if last else chain.GENESIS,
                                  [(user, action, detail) for action, detail in commit.audit], at=at)
            con.executemany(f"INSERT INTO {AUDIT} VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(e.seq, e.at, e.user, e.action, e.detail, e.prev_hash, e.row_hash) for e in entries])
            if commit.load is not None:
                cols = list(commit.load)
                con.execute(f"INSERT INTO {LOADS} ({', '.join(_q(c) for c in cols)}) VALUES "
                            f"({', '.join('?' for _ in cols)})", [commit.load[c] for c in cols])
            head = entries[-1] if entries else None
            if head is not None or last is not None:
                seq, h = (head.seq, head.row_hash) if head is not None else (last[0], last[1])
                con.execute(f"INSERT OR REPLACE INTO {STATE} VALUES ('audit_head', ?)", (json.dumps([seq, h]),))
            if commit.manifest is not None:
                con.execute(f"INSERT OR REPLACE INTO {STATE} VALUES ('incidents_manifest', ?)", (commit.manifest.id,))
            con.execute(f"INSERT OR REPLACE INTO {STATE} VALUES ('version', ?)", (uuid.uuid4().hex,))
        with con:
            con.execute(f"INSERT OR REPLACE INTO {STATE} VALUES ('layers', ?)",
                        (json.dumps(_snapshot_of(path, con)),))
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
