"""The app's data source: what is loaded (the demo or a workspace), uploads, and every write to
the workspace. No Streamlit here: `cache` wraps the reads in Streamlit caches and the Data page
calls the writes.

A source key is ``"demo"`` or ``"workspace:<shown>@<version>"`` (`workspace_key`), where
``<shown>`` is the workspace's display form (`workspace.display`: a ``.gpkg`` path, or a
``postgresql://`` URL WITHOUT its password) and the version is ``Workspace.version()``: every
committed write gives a new key, so cached results never outlive the data they were computed
from. The real target (a URL may hold a password) never leaves this module: `target_of` maps
the shown form back to it. Every workspace goes through `workspace.open_workspace`; the
workspace the app writes to is `settings.WORKSPACE` (``HOTSPOT_WORKSPACE``).

Loads go through `questions.load` (the one set of rules for what a load does). Writes never
delete before they write: an upload is *added*; "Replace everything" is `replace_all` with the
version the user confirmed (a `ConflictError` when the workspace changed since). Edits and
deletes of interventions and areas carry the record version the user saw (`Dataset.versions`;
`workspace.RecordConflict` when it changed since); deleted records can be restored. The demo is
never written to: drawing while the demo is shown starts a new, empty workspace.
"""

from __future__ import annotations

import hashlib
import functools
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from hotspot_app.core import settings
from hotspot_app.io import workspace
from hotspot_app.core.errors import InputError
from hotspot_app.core import population

DEMO = "demo"
PREFIX = "workspace:"
#: Largest uploaded file, MB (also Streamlit's server.maxUploadSize in .streamlit/config.toml).
UPLOAD_MAX_MB = 200
#: Uploads older than this are removed (each upload is read when it arrives; a later rerun
#: saves it again).
UPLOAD_KEEP_HOURS = 24.0

#: {shown form: real target}: the workspaces this process has opened (passwords stay here).
_TARGETS: dict[str, str] = {}


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
    #: the workspace as shown (`workspace.display`: never a password); None for the demo
    workspace: str | None = None
    #: every area layer of the workspace (ward, local authority, town centre, patrol, custom, ...)
    all_areas: gpd.GeoDataFrame | None = None
    #: {("intervention" | "area", id): version} when the data were read: what an edit or delete
    #: carries so that a record changed since is refused
    versions: dict = field(default_factory=dict)

    @property
    def areas(self) -> gpd.GeoDataFrame:
        """All area layers together (wards first)."""
        if self.all_areas is not None and len(self.all_areas):
            return self.all_areas
        frames = [a for a in (self.wards, self.town_centres, self.micro_hotspots) if len(a)]
        if not frames:
            return empty_areas()
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.CRS)

    @functools.cached_property
    def _months(self) -> tuple[str, ...]:
        return tuple(sorted({str(m) for m in pd.unique(self.incidents["month"].dropna())}))

    @property
    def months(self) -> list[str]:
        """The months loaded, sorted (found once per dataset: the incidents never change)."""
        return list(self._months)

    @functools.cached_property
    def _last_months(self) -> dict[str, str]:
        rows = pd.DataFrame(self.incidents[["kind", "month"]]).dropna()
        return {str(k): str(m) for k, m in rows.groupby(rows["kind"].astype(str))["month"].max().items()}

    def last_month(self, kind: str | None = None) -> str | None:
        """The last month with incidents of `kind` (any kind for None); None when none are loaded.
        A fire extract often ends months before the police.uk files loaded beside it."""
        if kind is None:
            return self._months[-1] if self._months else None
        return self._last_months.get(kind)

    @functools.cached_property
    def kind_sources(self) -> pd.DataFrame:
        """The distinct (kind, source) pairs loaded: what `coverage.kind_loaded` asks of the
        incidents, in a few rows (once per dataset)."""
        cols = [c for c in ("kind", "source") if c in self.incidents.columns]
        return pd.DataFrame(self.incidents[cols]).drop_duplicates().reset_index(drop=True)

    @functools.cached_property
    def kinds(self) -> frozenset[str]:
        """The kinds of incident loaded (crime, asb, fire, ...)."""
        return frozenset(str(k) for k in pd.unique(self.incidents["kind"].dropna()))


def empty_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_id": pd.Series([], dtype=object), "name": pd.Series([], dtype=object),
                             "layer": pd.Series([], dtype=object), "population": pd.Series([], dtype=float)},
                            geometry=gpd.GeoSeries([], crs=settings.CRS), crs=settings.CRS)


def target_text(target: str | os.PathLike) -> str:
    """A workspace target as text: a URL (a shown one mapped back to the real one), a path made
    absolute."""
    text = os.fspath(target) if isinstance(target, os.PathLike) else str(target)
    if text in _TARGETS:
        return _TARGETS[text]
    if workspace.is_url(target):
        url = workspace.url_of(target)
        if url == workspace.display(url) and url in _TARGETS:  # a shown form: the real one
            return _TARGETS[url]
        return url
    return str(Path(target).resolve())


def shown(target: str | os.PathLike) -> str:
    """The display form of a workspace target (remembered, so `target_text` can map it back)."""
    real = target_text(target)
    text = workspace.display(real)
    _TARGETS[text] = real
    return text


def workspace_key(target: str | os.PathLike) -> str:
    """Source key of a workspace (changes on every committed write; never holds a password)."""
    text = shown(target)
    return f"{PREFIX}{text}@{workspace.open_workspace(target_text(target)).version()}"


def target_of(key: str) -> str | None:
    """The workspace target of a source key (None for the demo): the real one, for opening."""
    if not key.startswith(PREFIX):
        return None
    return target_text(key[len(PREFIX):].rsplit("@", 1)[0])


def shown_of(key: str) -> str | None:
    """The workspace of a source key as shown (None for the demo)."""
    return key[len(PREFIX):].rsplit("@", 1)[0] if key.startswith(PREFIX) else None


def version_of(key: str) -> str | None:
    """The workspace version a source key was made from (None for the demo)."""
    return key.rsplit("@", 1)[1] if key.startswith(PREFIX) else None


def is_stale(key: str) -> bool:
    """True when the workspace of `key` has had a write committed since the key was made."""
    target = target_of(key)
    return target is not None and exists(target) and \
        workspace.open_workspace(target).version() != version_of(key)


def default_key() -> str:
    """The demo, unless ``HOTSPOT_WORKSPACE`` names a workspace (a URL, or a file that exists)."""
    env = settings.WORKSPACE_ENV
    if env and (workspace.is_url(env) or Path(env).is_file()):
        return workspace_key(env)
    return DEMO


def exists(target: str | os.PathLike) -> bool:
    """True when the workspace holds anything (a URL is taken to exist)."""
    real = target_text(target)
    return workspace.is_url(real) or Path(real).is_file()


def _layer(all_areas: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if len(all_areas) == 0 or "layer" not in all_areas.columns:
        return empty_areas()
    return all_areas[all_areas["layer"].astype(str) == layer].reset_index(drop=True)


def dataset(key: str) -> Dataset:
    """The dataset for a source key (``"demo"`` or a `workspace_key`)."""
    if key == DEMO:
        from hotspot_app.io import demo

        d = demo.load()
        return Dataset(key=key, label="Synthetic demo borough", is_demo=True, incidents=d.incidents,
                       wards=d.wards, town_centres=d.town_centres, micro_hotspots=d.micro_hotspots,
                       interventions=d.interventions, truth=dict(getattr(d, "truth", {}) or {}))
    target = target_of(key)
    if target is None:
        raise InputError(f"unknown data source '{key}'", parameter="source")
    ws = workspace.open_workspace(target)
    versions = {(kind, rid): v for kind in ("intervention", "area")
                for rid, v in ws.record_versions(kind).items()}
    try:
        incidents = ws.incidents()
    except InputError:  # areas only so far
        from hotspot_app.core import schema

        incidents = schema.empty_incidents()
    try:
        all_areas = ws.areas()
    except InputError:
        all_areas = empty_areas()
    wards = _layer(all_areas, "ward")
    if len(wards) == 0 and len(all_areas):
        wards = all_areas[~all_areas["layer"].isin(["town_centre", "micro_hotspot", "patrol"])].reset_index(drop=True)
    name = shown(target) if workspace.is_url(target) else Path(target).name
    return Dataset(key=key, label=f"Workspace {name}", is_demo=False, incidents=incidents,
                   wards=wards, town_centres=_layer(all_areas, "town_centre"),
                   micro_hotspots=_layer(all_areas, "micro_hotspot"),
                   interventions=ws.interventions(), workspace=shown(target), all_areas=all_areas,
                   versions=versions)


# ------------------------------------------------------------------------------ uploads
def save_uploads(files, folder: Path | None = None, now: float | None = None) -> list[str]:
    """Write uploaded files (objects with ``name`` and ``getvalue()``) under
    ``data/uploads/<content hash>/``; returns their paths (same content -> same paths). A file
    over `UPLOAD_MAX_MB` is refused (`InputError` naming it); uploads older than
    `UPLOAD_KEEP_HOURS` are removed first (`prune_uploads`)."""
    from hotspot_app.io.exports import write_bytes_atomic

    base = folder or settings.DATA_DIR / "uploads"
    prune_uploads(base, now=now)
    digest = hashlib.sha1()
    blobs = []
    for f in files:
        size = getattr(f, "size", None)
        data = f.getvalue() if size is None or size <= UPLOAD_MAX_MB * 1024 * 1024 else b""
        if (size if size is not None else len(data)) > UPLOAD_MAX_MB * 1024 * 1024:
            raise InputError(f"the file is larger than {UPLOAD_MAX_MB} MB; split it (e.g. one file per "
                             "month) or load it with `hotspot ingest FILE --into WORKSPACE`", file=Path(f.name).name)
        digest.update(f.name.encode("utf-8") + b"\0" + data)
        blobs.append((Path(f.name).name, data))
    root = base / digest.hexdigest()[:16]
    out = []
    for name, data in blobs:
        path = root / name
        if not path.exists() or path.stat().st_size != len(data):
            write_bytes_atomic(path, data)
        out.append(str(path))
    if root.exists():
        os.utime(root)  # in use now: not pruned for another UPLOAD_KEEP_HOURS
    return out


def prune_uploads(folder: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove upload folders not used for `UPLOAD_KEEP_HOURS`; returns those removed."""
    base = Path(folder or settings.DATA_DIR / "uploads")
    if not base.is_dir():
        return []
    limit = (time.time() if now is None else now) - UPLOAD_KEEP_HOURS * 3600
    gone = []
    for sub in base.iterdir():
        try:
            if sub.is_dir() and sub.stat().st_mtime < limit:
                shutil.rmtree(sub, ignore_errors=True)
                gone.append(sub)
        except OSError:
            continue
    return gone


def forget_uploads(paths) -> None:
    """Remove the saved copies of uploads once they are in the workspace."""
    for folder in {Path(p).parent for p in paths}:
        shutil.rmtree(folder, ignore_errors=True)


def read_incidents(paths: tuple[str, ...], kind: str, provider: str | None = None):
    """`ingest.read_incidents` on saved upload paths (IngestResult)."""
    from hotspot_app.io import ingest

    return ingest.read_incidents(list(paths), kind=kind, provider=provider or None)


def read_boundaries(path: str, name_field: str | None, layer: str, population_field: str | None):
    """`ingest.read_boundaries` on a saved upload path (BoundaryResult)."""
    from hotspot_app.io import ingest

    return ingest.read_boundaries(path, name_field=name_field or None, layer=layer,
                                  population_field=population_field or None)


def can_add(result) -> bool:
    """An upload can be added only when it loaded at least one row (never a 0-row save)."""
    return result is not None and int(result.summary.get("loaded", 0)) > 0


# ------------------------------------------------------------------------------ writes
def add_to_workspace(target: str | os.PathLike, result=None, areas: gpd.GeoDataFrame | None = None, *,
                     replace_all: bool = False, replace_areas: bool = False, confirmed: bool = False,
                     expected_version: str | None = None, user: str | None = None,
                     warnings=()) -> tuple[str, "workspace.LoadResult | None"]:
    """Add an ingest result (and boundary areas) to the workspace in ONE atomic step by the rules
    of `questions.load.load`; returns the new source key and the `LoadResult` (None when only
    areas were written). The full answer (warnings, areas added) is `last_load`."""
    from hotspot_app.questions import load as load_question

    real = target_text(target)
    answer = load_question.load(real, result, areas, replace_all=replace_all, replace_areas=replace_areas,
                                confirmed=confirmed or not (replace_all or replace_areas),
                                expected_version=expected_version, user=user, warnings=warnings)
    _LAST[real] = answer
    return workspace_key(real), answer.result


_LAST: dict = {}


def last_load(target: str | os.PathLike):
    """The `questions.load.Loaded` answer of the last load into `target` in this process."""
    return _LAST.get(target_text(target))


def layer_size(target: str | os.PathLike, layer: str) -> int:
    """How many areas the workspace holds in `layer` (0 when it has none or does not exist)."""
    if not exists(target):
        return 0
    ws = workspace.open_workspace(target_text(target))
    key = workspace.layer_key(layer)
    return len(ws.areas(key)) if key in ws.area_layers() else 0


def replace_preview(target: str | os.PathLike) -> tuple[pd.DataFrame, int]:
    """What "Replace everything" removes: rows per source/provider with their month range
    (`workspace.contents_summary`), and the number of loads recorded."""
    if not exists(target):
        return workspace.contents_summary(pd.DataFrame(columns=workspace.COVERAGE_COLUMNS)), 0
    ws = workspace.open_workspace(target_text(target))
    return workspace.contents_summary(ws.coverage()), len(ws.loads())


def history(target: str | os.PathLike) -> pd.DataFrame:
    """The load history as shown (newest first), lists joined as text."""
    ws = workspace.open_workspace(target_text(target))
    loads = ws.loads()
    out = pd.DataFrame({
        "load": loads["load_id"], "when (UTC)": loads["loaded_at"].str.replace("T", " ").str.rstrip("Z"),
        "user": loads["user"], "files": loads["files"].map(", ".join),
        "providers": loads["providers"].map(", ".join),
        "months": loads["months"].map(lambda m: m[0] if len(m) == 1 else f"{m[0]} to {m[-1]} ({len(m)})"
                                      if m else ""),
        "read": loads["read"], "loaded": loads["loaded"], "rejected": loads["rejected"],
        "added": loads["added"], "replaced": loads["replaced"],
        "replace all": loads["replace_all"].map({True: "yes", False: ""}),
    })
    return out.iloc[::-1].reset_index(drop=True)


def audit(key: str) -> pd.DataFrame:
    """The audit log of the workspace of `key` (`InputError` when its audit table is missing)."""
    return workspace.open_workspace(target_of(key)).audit()


def coverage(target: str | os.PathLike) -> pd.DataFrame:
    """`workspace.coverage_grid` of the workspace (gaps and location flags in ``attrs``)."""
    ws = workspace.open_workspace(target_text(target))
    return workspace.coverage_grid(ws.coverage(), ws.loads())


def _writable(key: str, target: str | os.PathLike) -> str:
    """The workspace a drawing goes to. The demo is never written to: viewing the demo with no
    workspace yet, the drawing starts a new, empty workspace (`target`); viewing the demo while a
    workspace holding data exists, it is refused (switch to the workspace first)."""
    from hotspot_app.questions import load as load_question

    current = target_of(key)
    if current is not None:
        load_question.check_targets(into=current)
        return current
    real = target_text(target)
    load_question.check_targets(into=real)
    if exists(real) and _holds_anything(workspace.open_workspace(real)):
        raise InputError(f"you are viewing the demo data; switch to the workspace ({shown(real)}) "
                         "on the Data page first (the demo is never written to)", parameter="source")
    return real


def _holds_anything(ws) -> bool:
    return bool(len(ws.coverage()) or ws.area_layers() or len(ws.interventions()))


def add_drawn_intervention(key: str, target: str | os.PathLike, geometry, name: str, type_: str,
                           start, end, notes: str | None) -> str:
    """Save a drawn polygon (EPSG:27700) as a micro-hotspot area and an intervention with dates;
    returns the source key of the workspace written (see `_writable` for the demo)."""
    from hotspot_app.core import schema

    schema.check_intervention(type_, start, end)  # before the area is written: never one without the other
    where = _writable(key, target)
    ws = workspace.open_workspace(where)
    version = ws.version()
    existing = ws.areas("micro_hotspot") if "micro_hotspot" in ws.area_layers() else None
    area_id = ws.new_area_id("micro_hotspot")
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
    ws.write_areas(row, expected_version=version)
    ws.add_intervention(name, type_, start, end, area_id=area_id, geometry=geometry, notes=notes or None)
    return workspace_key(where)


def update_intervention(key: str, intervention_id: str, record_version: int | None = None, **fields) -> str:
    """Edit an intervention, carrying the version the user saw (refused when it changed since)."""
    where = target_of(key)
    workspace.open_workspace(where).update_intervention(intervention_id, record_version=record_version,
                                                        **fields)
    return workspace_key(where)


def delete_intervention(key: str, intervention_id: str, record_version: int | None = None) -> str:
    """Delete an intervention (kept, restorable), carrying the version the user saw."""
    where = target_of(key)
    workspace.open_workspace(where).delete_intervention(intervention_id, record_version=record_version)
    return workspace_key(where)


def delete_area(key: str, area_id: str, record_version: int | None = None) -> str:
    """Delete an area (kept, restorable), carrying the version the user saw."""
    where = target_of(key)
    workspace.open_workspace(where).delete_area(area_id, record_version=record_version)
    return workspace_key(where)


def deleted(key: str) -> pd.DataFrame:
    """The deleted interventions and areas of the workspace of `key` that can be restored."""
    where = target_of(key)
    return workspace.open_workspace(where).deleted()


def restore(key: str, kind: str, record_id: str) -> tuple[str, str]:
    """Restore a deleted intervention or area; returns the new source key and its name."""
    where = target_of(key)
    name = workspace.open_workspace(where).restore(kind, record_id)
    return workspace_key(where), name


def import_micro_hotspots(key: str, path: str, name_field: str | None = None, start: str = "start",
                          end: str = "end") -> tuple[str, int]:
    """Add the polygons of a micro-hotspot file with dates (GeoJSON / GeoPackage with name,
    start, end columns) to the workspace as micro-hotspot areas AND interventions, in one
    atomic step; returns the new source key and the number imported."""
    from hotspot_app.io import ingest

    where = target_of(key)
    if where is None:
        raise InputError("switch to a workspace first (the demo is read-only)", parameter="source")
    ws = workspace.open_workspace(where)
    version = ws.version()
    new = ingest.read_boundaries(path, name_field=name_field or None, layer="micro_hotspot").areas
    stem = workspace.layer_key(Path(path).stem)
    new["area_id"] = [f"micro_hotspot-{stem}-{i + 1}" for i in range(len(new))]
    ivs = workspace.interventions_from_areas(new, start=start, end=end, file=Path(path).name)
    existing = ws.areas("micro_hotspot") if "micro_hotspot" in ws.area_layers() else None
    if set(ws.used_ids("area")) & set(new["area_id"]):
        raise InputError(f"{Path(path).name} was imported before (its area ids are in the workspace, or "
                         "were and were deleted: restore them on the Data page)", file=path)
    current = ws.interventions()
    ivs["intervention_id"] = ws.new_intervention_ids(len(ivs))
    areas = new if existing is None else gpd.GeoDataFrame(pd.concat([existing, new], ignore_index=True),
                                                          crs=settings.CRS)
    if len(current):
        ivs = ivs.astype({c: current[c].dtype for c in ("start", "end")})
        ivs = gpd.GeoDataFrame(pd.concat([current, ivs], ignore_index=True), crs=settings.CRS)
    ws.write(areas=areas, interventions=ivs, expected_version=version)
    return workspace_key(where), len(new)


def population_from_lsoa(key: str, population_csv: str, lsoa_boundaries: list[str],
                         layer: str = "ward") -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """Fill the population of the workspace's `layer` areas from Census small-area (LSOA)
    counts, as ``hotspot rank --population FILE --lsoa-boundaries ...`` does
    (`population.population_from_lsoa`; LSOAs without a polygon placed by the incidents naming them).
    Returns the new source key, the areas' population, and the report of LSOAs not placed."""
    from hotspot_app.io import ingest

    where = target_of(key)
    if where is None:
        raise InputError("switch to a workspace first (the demo is read-only)", parameter="source")
    ws = workspace.open_workspace(where)
    version = ws.version()
    target_areas = ws.areas(layer)
    table = pd.read_csv(population_csv, encoding="utf-8-sig", thousands=",")
    polys = pd.concat([ingest.read_boundaries(p, layer="custom").areas for p in lsoa_boundaries],
                      ignore_index=True)
    polys = gpd.GeoDataFrame(polys.rename(columns={"area_id": "lsoa_area_id"}), crs=settings.CRS)
    polys["area_code"] = polys["lsoa_area_id"].astype(str)
    try:
        incidents = ws.incidents()
    except InputError:
        incidents = None
    fallback = incidents if incidents is not None and "lsoa_code" in incidents.columns else None
    pop, report = population.population_from_lsoa(table, polys, target_areas, area_code="area_code",
                                                  fallback_points=fallback)
    updated = target_areas.assign(population=target_areas["area_id"].map(pop).astype(float))
    ws.write_areas(updated, expected_version=version)
    return workspace_key(where), updated[["area_id", "name", "population"]], report


#: Boundary files the Data page offers from the project's `geodata/` folder.
GEODATA_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")


def geodata_files(folder: Path | None = None) -> list[Path]:
    """The user's own boundary files in `geodata/` (any depth), the demo's folder left out:
    what the Data page offers to load without an upload."""
    root = Path(folder or settings.GEODATA_DIR)
    if not root.is_dir():
        return []
    demo = Path(settings.DEMO_GEODATA_DIR).resolve()
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in GEODATA_SUFFIXES
             and demo not in p.resolve().parents]
    return sorted(found)
