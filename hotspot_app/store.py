"""Workspace store: one GeoPackage holding incidents, areas, interventions, saved cluster runs,
the load history and the audit log.

The interface (`open_workspace`, the `Workspace` methods, `LoadResult`) is shared with the
PostGIS backend (`store_pg.PostgisWorkspace`): same method names, arguments and return shapes.
Everything is in EPSG:27700.

Layers in the GeoPackage
------------------------
``incidents``
    Canonical incidents (design §3), extra columns kept, plus ``provider`` (`schema.provider_of`).
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

Writes that never lose (design §9)
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
import getpass
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import schema, settings
from .errors import ConflictError, InputError, OutputError
from .exports import file_mode
from .schema import AREA_LAYERS, INTERVENTION_COLUMNS, INTERVENTION_TYPES

META = "hotspot_meta"
INCIDENTS = "incidents"
INTERVENTIONS = "interventions"
CLUSTER_RUNS = "cluster_runs"
PATROL_AREAS = "patrol_areas"
AREA_PREFIX = "areas__"
LOADS = "hotspot_loads"
AUDIT = "hotspot_audit"
STATE = "hotspot_state"

#: Backups kept beside a workspace (older ones are removed after a new one is made).
BACKUPS_KEPT = 5
#: Seconds a writer waits for another writer's lock before giving up with ConflictError.
LOCK_TIMEOUT_S = 120.0
#: Audit actions (the PostGIS backend records the same).
AUDIT_ACTIONS = ("load", "replace_all", "area_added", "area_deleted", "intervention_added",
                 "intervention_edited", "intervention_deleted", "cluster_run_saved")
LOAD_COLUMNS = ["load_id", "loaded_at", "user", "files", "providers", "read", "loaded", "rejected",
                "added", "replaced", "months", "replace_all"]
AUDIT_COLUMNS = ["at", "user", "action", "detail"]
COVERAGE_COLUMNS = ["source", "provider", "month", "rows"]
#: police.uk months where more than this share of rows had no location are flagged.
NO_LOCATION_SHARE = 0.05
POSTGRES_PREFIXES = ("postgresql://", "postgres://")
INTERVENTION_FIELDS = ("name", "type", "area_id", "start", "end", "radius_m", "notes", "geometry")

__all__ = ["Workspace", "LoadResult", "open_workspace", "is_workspace", "atomic_path",
           "coverage_grid", "current_user"]


def current_user(user: str | None = None) -> str:
    """Who is writing, for the load history and the audit: `user`, else the user signed in to the
    app (`auth.acting_user`, shared deployments), else the OS user."""
    if user:
        return str(user)
    from .auth import acting_user

    if acting_user():
        return str(acting_user())
    try:
        return getpass.getuser()
    except Exception:  # no login name (e.g. a container without passwd entry)
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _url(target: object) -> str | None:
    """The PostgreSQL URL `target` names (also when a Path collapsed its ``//``), else None."""
    text = os.fspath(target) if isinstance(target, (str, os.PathLike)) else ""
    m = re.match(r"(?i)^postgres(?:ql)?(?:\+psycopg)?:/+(.*)$", str(text))
    return f"postgresql://{m.group(1)}" if m else None


def _is_url(target: object) -> bool:
    return _url(target) is not None


def open_workspace(target: str | os.PathLike):
    """The workspace at `target`: a ``.gpkg`` path gives a `Workspace`; a ``postgresql://`` URL
    gives `store_pg.PostgisWorkspace` (imported only then, so psycopg is needed only then)."""
    if _is_url(target):
        try:
            from . import store_pg
        except ImportError as exc:
            raise InputError(f"a PostgreSQL workspace needs the PostGIS backend and psycopg ({exc})",
                             parameter="workspace") from None
        return store_pg.PostgisWorkspace(_url(target))
    return Workspace(target)


def is_workspace(path: str | os.PathLike) -> bool:
    """True when `path` is a PostgreSQL URL, or a GeoPackage file with an ``incidents`` layer."""
    if _is_url(path):
        return True
    p = Path(path)
    if not p.is_file() or p.suffix.lower() != ".gpkg":
        return False
    try:
        return INCIDENTS in _layers(p)
    except Exception:  # not a readable GeoPackage
        return False


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



@dataclass(frozen=True)
class LoadResult:
    """What one `Workspace.load_incidents` did. ``after == before + added - replaced``.

    ``removed``: {(source, provider, month): rows removed} (for messages); `to_dict` gives the
    JSON ``workspace`` block of ``hotspot ingest --into`` (design §5b)."""

    before: int
    after: int
    added: int
    replaced: int
    months_replaced: list[str]
    load_id: int
    removed: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "added": self.added,
                "replaced": self.replaced, "months_replaced": list(self.months_replaced)}


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



def ordered_layers(names) -> list[str]:
    """Area layer names in the order ward, town_centre, micro_hotspot, patrol, custom (schema's
    AREA_LAYERS), then any others alphabetically: one rule for both backends."""
    names = list(names)
    known = [layer for layer in AREA_LAYERS if layer in names]
    return known + sorted(n for n in names if n not in known)


def empty_interventions() -> gpd.GeoDataFrame:
    """An interventions table with the schema columns and no rows (both backends)."""
    return gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in INTERVENTION_COLUMNS if c != "geometry"},
                            geometry=gpd.GeoSeries([], crs=settings.CRS), crs=settings.CRS)


def read_areas(where: str, layer: str | None, read, layers: list[str]) -> gpd.GeoDataFrame:
    """Areas of one layer (`read` of its table), or all `layers` concatenated in order when
    `layer` is None; a missing layer or no areas is a one-line error naming `where`. Shared by
    the GeoPackage and PostGIS workspaces."""
    if layer is not None:
        df = read(AREA_PREFIX + _layer_key(layer))
        if df is None:
            raise InputError(f"{where} has no '{layer}' areas (has: {', '.join(layers) or 'none'})",
                             parameter="layer")
        return df
    frames = [read(AREA_PREFIX + name) for name in layers]
    if not frames:
        raise InputError(f"{where} has no areas", file=where)
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.CRS)


class Workspace:
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
        return f"Workspace({str(self.path)!r})"

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
                        "dtypes": {str(c): _dtype_text(t) for c, t in df.dtypes.items()},
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
        return _restore(df, self._meta().get(layer))

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
            _check_geo(incidents, "incidents")
            commit.frames[INCIDENTS] = incidents
            commit.audit.append(("replace_all", f"incidents layer written: {len(incidents):,} rows"))
        if areas is not None:
            for part in areas if isinstance(areas, list) else [areas]:
                frames = _area_frames(part)
                commit.frames.update(frames)
                commit.audit += [("area_added", _areas_detail(k, v)) for k, v in frames.items()]
        if interventions is not None:
            _check_geo(interventions, "interventions")
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

    def write_incidents(self, incidents: gpd.GeoDataFrame, *, user: str | None = None) -> None:
        """Replace the incidents layer (a new workspace from one ingest; `load_incidents` is the
        monthly way)."""
        self.write(incidents=incidents, user=user)

    def load_incidents(self, incidents: gpd.GeoDataFrame, *, files=(), read: int | None = None,
                       rejected: int | pd.DataFrame | None = None, replace_all: bool = False,
                       user: str | None = None, expected_version: str | None = None,
                       areas: gpd.GeoDataFrame | None = None) -> LoadResult:
        """Add a load to the workspace (design §5b): for every (source, provider, month) in
        `incidents`, the stored rows with that key are replaced by the load's; other keys,
        areas, interventions and cluster runs are untouched (the same file twice changes
        nothing). ``replace_all`` removes all incidents first. A backup is kept before anything
        is removed; the load is recorded in `loads` and `audit`.

        `rejected` is the number of rejected rows or the rejects table (``file, row, column,
        reason, value``), from which "no location" rejects are counted per month (the month in
        the file name, as police.uk names its files) for `coverage_grid`. `areas` (optional):
        area layers written in the same atomic step (each layer present replaced).
        """
        _check_geo(incidents, "incidents")
        new = _with_provider(incidents)
        files = [str(Path(f).name) if not isinstance(f, str) or os.sep in f else str(f) for f in files]
        no_location = _no_location_by_month(rejected) if isinstance(rejected, pd.DataFrame) else {}
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
                old = _with_provider(old)
                if replace_all:
                    gone = np.ones(len(old), dtype=bool)
                else:
                    keys = pd.MultiIndex.from_frame(_keys(new)).unique()
                    gone = pd.MultiIndex.from_frame(_keys(old)).isin(keys)
                removed_rows = old[gone]
                kept = old[~gone]
            else:
                removed_rows = kept = None
            keys = sorted(set(map(tuple, _keys(new).itertuples(index=False, name=None))))
            if fast:
                removed = self._count_keys(keys)
            else:
                removed = ({} if removed_rows is None or not len(removed_rows) else
                           {tuple(k): int(v) for k, v in _keys(removed_rows).value_counts(sort=False).items()})
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
                      + (f", {replaced:,} removed ({_removed_text(removed)})" if replaced else ""))
            commit = _Commit(load=record, backup=replaced > 0,
                             audit=[("replace_all" if replace_all else "load", detail)])
            if fast:
                commit.delete_keys = (INCIDENTS, keys) if replaced else None
                commit.append[INCIDENTS] = new
            else:
                commit.frames[INCIDENTS] = table
            if areas is not None and len(areas):
                frames = _area_frames(areas)
                commit.frames.update(frames)
                commit.audit += [("area_added", _areas_detail(k, v)) for k, v in frames.items()]
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
        inc = _with_provider(pd.DataFrame(pyogrio.read_dataframe(
            self.path, layer=INCIDENTS, read_geometry=False, use_arrow=True,
            columns=[c for c in ("source", "month", "provider", "falls_within", "reported_by", "frs",
                                 "fire_service", "fire_and_rescue_service", "service", "brigade")
                     if c in _columns(self.path, INCIDENTS)])))
        return _coverage_of(inc)

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

    def write_interventions(self, interventions: gpd.GeoDataFrame, *, user: str | None = None) -> None:
        """Replace the interventions layer."""
        self.write(interventions=interventions, user=user)

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
                "intervention_added", _intervention_added_text(row.iloc[-1]))]), user)
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
        _check_intervention_fields(fields)
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
                         name: str | None = None, user: str | None = None) -> int:
        """Save a cluster run (parameters as JSON + its patrol-area polygons); returns run_id."""
        _check_geo(polygons, "polygons")
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


# --------------------------------------------------------------------------- coverage
def _keys(incidents: pd.DataFrame) -> pd.DataFrame:
    """The (source, provider, month) replacement key of each row, as text."""
    return pd.DataFrame({"source": incidents["source"].astype(object).fillna("").astype(str).to_numpy(),
                         "provider": incidents["provider"].astype(object).fillna("").astype(str).to_numpy(),
                         "month": incidents["month"].astype(object).fillna("").astype(str).to_numpy()})


def _with_provider(incidents: pd.DataFrame) -> pd.DataFrame:
    """`incidents` with a complete ``provider`` column (`schema.provider_of`); not mutated."""
    if "provider" in incidents.columns and incidents["provider"].notna().all():
        return incidents
    return incidents.assign(provider=schema.provider_of(incidents))


def _coverage_of(incidents: pd.DataFrame) -> pd.DataFrame:
    if not len(incidents):
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "rows" else object)
                             for c in COVERAGE_COLUMNS})
    out = _keys(incidents).value_counts(sort=False).rename("rows").reset_index()
    out = out.sort_values(["source", "provider", "month"]).reset_index(drop=True)
    out["rows"] = out["rows"].astype("int64")
    return out[COVERAGE_COLUMNS]


def _no_location_by_month(rejects: pd.DataFrame) -> dict[str, int]:
    """{YYYY-MM: rows rejected as 'no location'} with the month taken from the file name."""
    if not len(rejects) or "reason" not in rejects.columns:
        return {}
    rows = rejects[rejects["reason"].astype(str) == "no location"]
    months = rows["file"].astype(str).str.extract(r"(\d{4}-\d{2})(?!.*\d{4}-\d{2})")[0]
    counts = months.dropna().value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def interventions_from_areas(areas: gpd.GeoDataFrame, *, start: str = "start", end: str = "end",
                             type: str = "type", notes: str = "notes", default_type: str = "patrols",
                             file: str | None = None) -> gpd.GeoDataFrame:
    """One intervention per area of a micro-hotspot file with dates (e.g. a GeoJSON of patrol
    areas with ``name``, ``start``, ``end`` columns): area_id, name, the polygon, start and end
    (blank end = ongoing), type (column `type` when present, else `default_type`), notes.
    Column names are matched case-insensitively. A missing or unreadable start date, an end
    before the start or an unknown type is an `InputError` naming the file, row and column."""
    cols = {str(c).lower(): c for c in areas.columns}
    start_col, end_col = cols.get(start.lower()), cols.get(end.lower())
    if start_col is None:
        raise InputError(f"no '{start}' column with the start dates (columns: "
                         f"{', '.join(map(str, areas.columns))})", file=file, column=start)
    starts = pd.to_datetime(areas[start_col], errors="coerce", dayfirst=False)
    ends = (pd.to_datetime(areas[end_col], errors="coerce") if end_col is not None
            else pd.Series(pd.NaT, index=areas.index))
    types = (areas[cols[type.lower()]].astype(object) if type.lower() in cols
             else pd.Series(default_type, index=areas.index, dtype=object))
    types = types.where(types.notna() & (types.astype(str).str.strip() != ""), default_type).astype(str)
    for i, (s_, e_, t_) in enumerate(zip(starts, ends, types)):
        raw_end = areas[end_col].iloc[i] if end_col is not None else None
        if pd.isna(s_):
            raise InputError(f"no readable start date ('{areas[start_col].iloc[i]}')", file=file, row=i + 1,
                             column=str(start_col))
        if pd.isna(e_) and raw_end is not None and not pd.isna(raw_end) and str(raw_end).strip():
            raise InputError(f"unreadable end date '{raw_end}' (leave it blank when ongoing)", file=file,
                             row=i + 1, column=str(end_col))
        if pd.notna(e_) and e_ < s_:
            raise InputError(f"the end date {e_:%Y-%m-%d} is before the start date {s_:%Y-%m-%d}",
                             file=file, row=i + 1, column=str(end_col))
        if t_ not in INTERVENTION_TYPES:
            raise InputError(f"intervention type must be one of {', '.join(INTERVENTION_TYPES)}, got '{t_}'",
                             file=file, row=i + 1, column=str(cols.get(type.lower(), type)))
    note_values = (areas[cols[notes.lower()]].astype(object).where(areas[cols[notes.lower()]].notna(), None)
                   if notes.lower() in cols else pd.Series([None] * len(areas), index=areas.index, dtype=object))
    return gpd.GeoDataFrame({
        "intervention_id": [None] * len(areas), "name": areas["name"].astype(str).to_numpy(),
        "type": types.to_numpy(), "area_id": areas["area_id"].astype(str).to_numpy(),
        "start": starts.astype("datetime64[ns]").to_numpy(), "end": ends.astype("datetime64[ns]").to_numpy(),
        "radius_m": np.full(len(areas), np.nan), "notes": note_values.to_numpy(),
    }, geometry=gpd.GeoSeries(areas.geometry.values, crs=settings.CRS), crs=settings.CRS)


def contents_summary(coverage: pd.DataFrame) -> pd.DataFrame:
    """What the incidents of a workspace are, per source and provider: first and last month,
    months with rows, rows -- the list "Replace everything" shows before it removes them."""
    if not len(coverage):
        return pd.DataFrame({"source": [], "provider": [], "from": [], "to": [], "months": [], "rows": []})
    g = coverage.groupby(["source", "provider"], sort=True)
    out = pd.DataFrame({"from": g["month"].min(), "to": g["month"].max(), "months": g["month"].nunique(),
                        "rows": g["rows"].sum()}).reset_index()
    return out.astype({"months": "int64", "rows": "int64"})


def coverage_grid(coverage: pd.DataFrame, loads: pd.DataFrame | None = None,
                  share: float = NO_LOCATION_SHARE) -> pd.DataFrame:
    """The coverage grid the Data page shows: one row per (source, provider), one column per
    month from the first to the last month stored, cells = rows (null = a gap: no rows that
    month). With the load history, ``no_location`` gives per (month) the police.uk rows rejected
    for having no location, and ``flags`` lists "<provider> <month>: <n> of <m> rows (x%) had
    no location" for police.uk months above `share` (a month that would read as a fall in crime).

    Returns a DataFrame with columns source, provider, then months; ``attrs['gaps']`` lists
    "<source> <provider>: <months>" for each series with missing months, ``attrs['flags']`` the
    location flags."""
    from . import periods

    if not len(coverage):
        out = pd.DataFrame({"source": [], "provider": []})
        out.attrs.update(gaps=[], flags=[])
        return out
    months = periods.month_range(coverage["month"].min(), coverage["month"].max())
    grid = coverage.pivot_table(index=["source", "provider"], columns="month", values="rows",
                                aggfunc="sum").reindex(columns=months)
    gaps = []
    for (source, provider), row in grid.iterrows():
        present = row.dropna().index
        inside = row.loc[present.min():present.max()]
        missing = [m for m, v in inside.items() if pd.isna(v)]
        if missing:
            gaps.append(f"{source} {provider}: no rows in {', '.join(missing)}")
    flags = []
    if loads is not None and len(loads):
        latest: dict[str, int] = {}
        for rec in loads.itertuples(index=False):
            if rec.replace_all:
                latest = {}
            latest.update({str(m): int(n) for m, n in (rec.no_location or {}).items()})
        police = coverage[coverage["source"] == "police-uk"].groupby("month")["rows"].sum()
        for month, n in sorted(latest.items()):
            loaded = int(police.get(month, 0))
            if n and loaded + n and n / (loaded + n) > share:
                flags.append(f"police.uk {month}: {n:,} of {loaded + n:,} rows "
                             f"({100 * n / (loaded + n):.1f}%) had no location and are not mapped")
    out = grid.astype("Int64").reset_index()
    out.columns = [str(c) for c in out.columns]
    out.attrs.update(gaps=gaps, flags=flags)
    return out


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


def _check_intervention_fields(fields: dict) -> None:
    """`update_intervention` changes only INTERVENTION_FIELDS (both backends)."""
    unknown = sorted(set(fields) - set(INTERVENTION_FIELDS))
    if unknown:
        raise InputError(f"unknown intervention field(s) {', '.join(unknown)}; use "
                         f"{', '.join(INTERVENTION_FIELDS)}", parameter=unknown[0])


def _intervention_added_text(row: pd.Series) -> str:
    """The audit detail of an added intervention (both backends)."""
    start, end = pd.Timestamp(row["start"]), row["end"]
    return (f"{row['name']} ({row['type']}, {row['intervention_id']}, from {start:%Y-%m-%d}"
            + (f" to {pd.Timestamp(end):%Y-%m-%d})" if end is not None and not pd.isna(end) else ", ongoing)")
            + (f"; area {row['area_id']}" if row["area_id"] is not None and not pd.isna(row["area_id"]) else ""))


def _areas_detail(layer_table: str, areas: pd.DataFrame) -> str:
    names = ", ".join(map(str, areas["name"].head(5)))
    more = f" and {len(areas) - 5} more" if len(areas) > 5 else ""
    return f"{layer_table[len(AREA_PREFIX):]} layer: {len(areas)} areas ({names}{more})"


def _removed_text(removed: dict) -> str:
    """'police-uk Cleveland Police 2024-01: 6,561' for the keys a load replaced (first 6)."""
    parts = [f"{s} {p} {m}: {n:,}" for (s, p, m), n in sorted(removed.items())]
    return "; ".join(parts[:6]) + (f"; and {len(parts) - 6} more" if len(parts) > 6 else "")


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
