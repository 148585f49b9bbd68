"""Ingest: incident files and boundary files -> canonical tables (docs/design.md §1, §3).

`read_incidents(paths, kind="auto")` reads police.uk street CSVs, fire-service extracts and
generic CSV / Parquet / GeoJSON / GeoPackage files (one file, several, folders searched
recursively, or a zip of police.uk monthly files) into one canonical incidents GeoDataFrame in
EPSG:27700, plus a rejects table and a summary. Nothing is dropped silently: every row read is
loaded or rejected with a reason, per file (``read == loaded + rejected``, checked).

`read_boundaries(path, ...)` reads GeoJSON, GeoPackage or zipped Shapefile polygons into the areas
schema, detecting the name field and repairing invalid polygons.

Duplicate ids: within one ``source`` (police-uk, fire, generic), an ``incident_id`` seen before
keeps its first row (in file order); later rows are rejected as ``duplicate id`` and a warning
gives the count and examples. Generated ASB ids are unique within a file by construction, so they
only collide when the same rows are loaded twice (e.g. a month both as a file and inside the zip).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import files, fire, generic, geo, police_uk, rejects as report
from hotspot_app.io.ingest.boundaries import BoundaryResult, read_boundaries
from hotspot_app.io.ingest.rejects import format_summary

KINDS = ("auto", "police-uk", "fire", "generic")

__all__ = ["read_incidents", "read_boundaries", "read_workspace", "IngestResult", "BoundaryResult",
           "IncidentBatches", "KINDS", "format_summary"]


@dataclass
class IngestResult:
    """Incidents (canonical, EPSG:27700), the rejects table and the summary.

    ``rejects``: one row per rejected input row, columns ``file, row, column, reason, value``
    (``row`` is the 1-based data row number; ``value`` the offending text, when there is one).
    ``summary``: ``read``, ``loaded``, ``rejected``, ``rejected_by_reason`` {reason: n},
    ``warnings`` [str] and ``files`` [{file, read, loaded, rejected}].
    """

    incidents: gpd.GeoDataFrame
    rejects: pd.DataFrame
    summary: dict = field(default_factory=dict)


def read_workspace(target) -> IngestResult:
    """The incidents of a workspace (a ``.gpkg`` or a ``postgresql://`` URL) as an ingest result:
    what ``hotspot ingest WORKSPACE --out FILE`` exports (read = loaded, nothing rejected)."""
    from hotspot_app.io import workspace

    incidents = workspace.open_workspace(target).incidents()
    n = len(incidents)
    label = workspace.display(target)
    summary = {"read": n, "loaded": n, "rejected": 0, "rejected_by_reason": {}, "warnings": [],
               "files": [{"file": label, "read": n, "loaded": n, "rejected": 0}]}
    return IngestResult(incidents, report.empty_rejects(), summary)


_SKIPPED = {"police-uk-outcomes": "police.uk outcomes file, not street-level crime",
            "police-uk-stop-search": "police.uk stop-and-search file, not street-level crime"}


def read_incidents(paths: str | Path | Iterable[str | Path], kind: str = "auto",
                   layer: str | None = None, provider: str | None = None, ids: bool = True) -> IngestResult:
    """Read incident files into canonical incidents, a rejects table and a summary.

    Parameters
    ----------
    paths : path or list of paths
        Files, folders (searched recursively) and ``.zip`` archives of CSVs.
    kind : {"auto", "police-uk", "fire", "generic"}
        File format; ``auto`` detects it per file from the header row.
    layer : str, optional
        The GeoPackage layer to read; by default every layer holding incidents is read (each
        counted as ``FILE:LAYER``) and the others are named in a warning.
    provider : str, optional
        Provider of generic files (``--provider NAME``); police.uk and fire files name their own
        (`schema.provider_of` fills the ``provider`` column).
    ids : bool
        False when the caller reads no ids (e.g. the patrol areas): one generic CSV without an
        id column then gets none (no ``incident_id`` column; the rows loaded are the same, as
        generated ids never repeat within a file). Files with ids, and several files (whose
        generated ids may repeat across them), are read as always.

    Raises
    ------
    InputError
        A file cannot be read at all (missing, empty, not a table, a required column missing);
        the message names the file (and column).
    """
    rep = report.Report()
    plan = _plan(paths, kind, layer, rep)
    lone = not ids and len(plan) == 1 and plan[0][0] == "generic"
    parts = [_read_item(item, rep, ids=not lone) for item in plan]
    incidents = _assemble(parts, rep)
    incidents["provider"] = schema.provider_of(incidents, generic=provider)
    summary = rep.summary(len(incidents))
    return IngestResult(incidents, rep.rejects_table(), summary)


def _plan(paths, kind: str, layer: str | None, rep: report.Report) -> list[tuple]:
    """What to read, in order: ("police-uk", [(Source, Header), ...]) for all police.uk files
    (one batch, placed where the first of them appears), ("spatial", Source, layer),
    ("fire" | "generic", Source, Header). Files skipped are named in `rep`'s warnings."""
    if kind not in KINDS:
        raise InputError(f"unknown kind '{kind}'; use one of {', '.join(KINDS)}", parameter="kind")
    sources = files.discover(paths)
    for src in sources:
        if src.label.endswith(")") and " (copy " in src.label:
            rep.warn(f"{src.shown}: the archive holds more than one member named {src.member}; "
                     "each is read")
    multi = len(sources) > 1
    plan: list = []
    police: list = []
    for src in sources:
        if src.suffix in generic.SPATIAL_SUFFIXES:
            if kind in ("police-uk", "fire"):
                raise InputError(f"a {src.suffix} file cannot be read as kind '{kind}'", file=src.label)
            names, skipped = generic.spatial_layers(src, layer)
            if skipped:
                rep.warn(f"{src.shown}: layers without incidents (no category and date or month "
                         f"column) not read: {', '.join(skipped)}")
            for name in names:
                plan.append(("spatial", src, name, name is not None and layer is None))
            continue
        header = files.sniff(src.head(), src.label)
        use = header.kind if kind == "auto" else kind
        if kind == "auto" and header.kind in _SKIPPED:
            if not multi:
                raise InputError(_SKIPPED[header.kind], file=src.label)
            rep.warn(f"skipped {src.shown}: {_SKIPPED[header.kind]}")
            continue
        if kind == "auto" and header.kind is None and not src.explicit and multi:
            # e.g. a lookup table next to the monthly files; a named file would be an error
            rep.warn(f"skipped {src.shown}: not an incident file (no category with a date or month)")
            continue
        if use == "police-uk":
            if not police:
                plan.append(("police-uk", police))
            police.append((src, header))
        else:
            plan.append((use if use == "fire" else "generic", src, header))
    return plan


def _read_item(item: tuple, rep: report.Report, places: geo.Places | None = None, ids: bool = True) -> files.Part:
    """Read one item of `_plan` (rows, counts, rejects and warnings into `rep`; `places`: the
    locations a batched load projected so far; `ids` False: a generic CSV without an id column
    gets no generated ids)."""
    what = item[0]
    if what == "police-uk":
        return police_uk.read(item[1], rep, places)
    if what == "spatial":
        _, src, src_layer, multi_layer = item
        return generic.read_spatial(src, rep, layer=src_layer,
                                    label=f"{src.label}:{src_layer}" if multi_layer else None)
    _, src, header = item
    if what == "fire":
        return fire.read(src, header, rep)
    return generic.read_csv(src, header, rep, ids=ids)


def _assemble(parts: list[files.Part], rep: report.Report, earlier: "_Earlier | None" = None
              ) -> gpd.GeoDataFrame:
    """One GeoDataFrame from the parts; later repeats of an id within a source are rejected
    (with `earlier`, also repeats of ids an earlier batch loaded; the warning is then left to
    the caller, once for all batches)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return schema.empty_incidents()
    if len(parts) == 1:
        frame, geometry, keys = parts[0].frame(), parts[0].geometry, parts[0].keys
    else:
        frame = pd.concat([p.frame() for p in parts], ignore_index=True)
        geometry = np.concatenate([p.geometry for p in parts])
        keys = np.concatenate([p.keys for p in parts])
    dup = np.zeros(len(frame), dtype=bool)
    sorted_keys = np.sort(keys)  # (equal neighbours: a repeated key; also what `earlier` keeps)
    if len(sorted_keys) > 1 and bool((sorted_keys[1:] == sorted_keys[:-1]).any()):
        candidates = pd.Series(keys).duplicated(keep=False).to_numpy()
        pos = np.nonzero(candidates)[0]
        sub = frame.iloc[pos][["source", "incident_id"]].astype(object)
        dup[pos[sub.duplicated(keep="first").to_numpy()]] = True
    if earlier is not None:
        dup |= earlier.seen(keys, frame)
    if dup.any():
        dup_pos = np.flatnonzero(dup)
        files_all = np.concatenate([np.asarray(p.files, dtype=object)[p.file_codes] for p in parts])
        rows_all = np.concatenate([p.rows for p in parts])
        dup_ids = frame["incident_id"].iloc[dup_pos].astype(object).to_numpy()
        rep.reject(report.rejects_frame(files_all[dup_pos], rows_all[dup_pos], "incident_id",
                                        report.DUPLICATE_ID, dup_ids))
        if earlier is None:
            rep.warn(_duplicate_warning(len(dup_pos), pd.unique(dup_ids)[:3]))
        else:
            earlier.count(len(dup_pos), dup_ids)
        keep = ~dup
        frame = frame.loc[keep].reset_index(drop=True)
        geometry = geometry[keep]
        keys = keys[keep]
        sorted_keys = np.sort(keys)
    if earlier is not None:
        earlier.add(sorted_keys)
    at = sum(c in frame.columns for c in schema.INCIDENT_COLUMNS[: schema.INCIDENT_COLUMNS.index("geometry")])
    frame.insert(at, "geometry", gpd.array.GeometryArray(geometry, crs=settings.CRS))
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", copy=False)
    if list(gdf.columns[: len(schema.INCIDENT_COLUMNS)]) != schema.INCIDENT_COLUMNS:
        gdf = schema.order_columns(gdf)
    return gdf


def _duplicate_warning(n: int, examples) -> str:
    """Said for people: how many rows repeated an id, not the ids (police.uk's are 64-character
    hashes; the rejects file lists every row)."""
    del examples
    rows = f"{n:,} row{'s' if n != 1 else ''}"
    return (f"{rows} repeat{'s' if n == 1 else ''} an incident ID already loaded from the same source; "
            f"the first was kept and {'the others were' if n != 1 else 'the repeat was'} not loaded "
            f"(listed as 'duplicate id' in the rejects)")


class _Earlier:
    """The ids earlier batches loaded, for the duplicate rule across batches. Each batch keeps
    its 64-bit id keys, sorted (8 bytes a row); a bitmap over the keys' top bits (about 16
    bits a key loaded, from 1 MiB up to 128 MiB, rebuilt from the stored keys as it grows)
    answers "certainly new" for almost every row of a new batch, so only the few others are
    searched for in the batches' keys (in key order: each search starts where the last ended).
    A key found there is checked exactly against that batch's ids, read again (keys are fast,
    not unique: equal ids have equal keys). The bitmap grows with the load: a fixed 128 MiB one
    cost a national year 0.75 s of first-touched pages. (One merged array of all the keys would
    search once, but copying it at every batch touched about 1 GiB more: slower, not faster.)"""

    MIN_BITS, MAX_BITS = 23, 30

    def __init__(self):
        self.bitmap: np.ndarray | None = None
        self.bits = self.MIN_BITS
        self.batches: list[tuple[np.ndarray, object]] = []
        self.reread = None  # set by the reader before each batch: how to read it again
        self.n = 0
        self.examples: list = []
        self.rows = 0

    def _slots(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = (keys >> np.uint64(64 - self.bits)).astype(np.int64)
        return top >> 3, (np.uint8(1) << (top & 7).astype(np.uint8))

    def _set(self, sorted_keys: np.ndarray) -> None:
        """Set the bits of `sorted_keys` (sorted, so their bytes come in order: the bits of each
        byte are OR-ed together first and every byte is written once; setting them a bit value
        at a time made eight passes over the keys)."""
        if not len(sorted_keys):
            return
        byte, bit = self._slots(sorted_keys)
        starts = np.flatnonzero(np.concatenate(([True], byte[1:] != byte[:-1])))
        self.bitmap[byte[starts]] |= np.bitwise_or.reduceat(bit, starts)

    def _fit(self, rows: int) -> bool:
        """A bitmap of about 16 bits a key for `rows` keys (few false "maybe"s): True when a
        new one was built (from the stored keys)."""
        bits = min(max(self.MIN_BITS, int(np.ceil(np.log2(max(rows, 1) * 16)))), self.MAX_BITS)
        if self.bitmap is not None and bits <= self.bits:
            return False
        self.bits = bits
        self.bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
        for stored, _ in self.batches:
            self._set(stored)
        return True

    def seen(self, keys: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
        hit = np.zeros(len(keys), dtype=bool)
        if self.bitmap is None or not len(keys):
            return hit
        byte, bit = self._slots(keys)
        pos = np.flatnonzero(self.bitmap[byte] & bit)
        if not len(pos):
            return hit
        pos = pos[np.argsort(keys[pos], kind="stable")]  # searched in key order
        wanted = keys[pos]
        for stored, reread in self.batches:
            at = np.searchsorted(stored, wanted)
            found = pos[(at < len(stored)) & (stored[np.minimum(at, len(stored) - 1)] == wanted)]
            if not len(found):
                continue
            # rare: a real repeat, or two ids sharing a key: compare the ids themselves
            old = reread()
            pairs = pd.MultiIndex.from_frame(old[["source", "incident_id"]].astype(object))
            mine = pd.MultiIndex.from_frame(frame.iloc[found][["source", "incident_id"]].astype(object))
            hit[found[mine.isin(pairs)]] = True
        return hit

    def add(self, sorted_keys: np.ndarray) -> None:
        """Keep a batch's keys (sorted)."""
        self.rows += len(sorted_keys)
        self.batches.append((sorted_keys, self.reread))
        if not self._fit(self.rows):  # (a new bitmap is built from all the stored keys)
            self._set(sorted_keys)

    def count(self, n: int, ids) -> None:
        self.n += n
        for i in pd.unique(np.asarray(ids, dtype=object)):
            if len(self.examples) < 3 and i not in self.examples:
                self.examples.append(i)


class IncidentBatches:
    """`read_incidents`, a batch of files at a time: iterate to get each batch's incidents (a
    canonical GeoDataFrame with ``provider``), in the order `read_incidents` gives them; once
    exhausted, `summary` and `rejects` are those `read_incidents` gives for the same files.
    police.uk files are read in batches of about `batch_bytes` of CSV (a whole file each: the
    ids generated for ASB rows do not depend on the batch), every other file as one batch. An
    id repeated in a later batch is rejected as in one read (`_Earlier`), so memory holds one
    batch plus 8 bytes a row. `hotspot ingest --into` loads a workspace this way (a decade of
    national data in the memory of a few months)."""

    def __init__(self, paths, kind: str = "auto", layer: str | None = None, provider: str | None = None,
                 batch_bytes: int | None = None):
        self.rep = report.Report()
        self._plan = _plan(paths, kind, layer, self.rep)
        self._provider = provider
        self._batch_bytes = int(batch_bytes or settings.INGEST_BATCH_BYTES)
        self.loaded = 0
        self._summary: dict | None = None
        self._rejects: pd.DataFrame | None = None

    def batches(self) -> list[list[tuple]]:
        """The plan's items grouped into batches (police.uk files by size, in order)."""
        out: list[list[tuple]] = []
        for item in self._plan:
            if item[0] != "police-uk":
                out.append([item])
                continue
            group, size = [], 0
            for job in item[1]:
                if group and size + _size(job[0]) > self._batch_bytes:
                    out.append([("police-uk", group)])
                    group, size = [], 0
                group.append(job)
                size += _size(job[0])
            if group:
                out.append([("police-uk", group)])
        return out

    def __iter__(self):
        if self._summary is not None:
            raise RuntimeError("the batches were read already")
        from concurrent.futures import ThreadPoolExecutor

        earlier = _Earlier()
        batches = self.batches()

        places = geo.Places()  # (used by the one reading thread)

        def read(items):
            local = report.Report()
            return [_read_item(item, local, places) for item in items], local

        # the next batch is read (pyarrow parses without the GIL) while this one is handed on
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotspot-read")
        try:
            pending = pool.submit(read, batches[0]) if batches else None
            for k, items in enumerate(batches):
                parts, local = pending.result()
                pending = pool.submit(read, batches[k + 1]) if k + 1 < len(batches) else None
                self.rep.merge(local)  # in file order, as one read gives them
                earlier.reread = lambda items=items: _assemble([_read_item(i, report.Report()) for i in items],
                                                               report.Report())
                frame = _assemble(parts, self.rep, earlier)
                del parts
                frame["provider"] = schema.provider_of(frame, generic=self._provider)
                self.loaded += len(frame)
                yield frame
                del frame
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if earlier.n:
            self.rep.warn(_duplicate_warning(earlier.n, earlier.examples))
        self._summary = self.rep.summary(self.loaded)
        self._rejects = self.rep.rejects_table()

    @property
    def summary(self) -> dict:
        """The summary of `read_incidents` (once every batch was read)."""
        if self._summary is None:
            raise RuntimeError("the summary is known once every batch was read")
        return self._summary

    @property
    def rejects(self) -> pd.DataFrame:
        if self._rejects is None:
            raise RuntimeError("the rejects are known once every batch was read")
        return self._rejects


def _size(src: files.Source) -> int:
    """Bytes of a file (a zip member's uncompressed size), for batching."""
    try:
        if src.member is None:
            return src.path.stat().st_size
        import zipfile

        with zipfile.ZipFile(src.path) as zf:
            return int(zf.infolist()[src.chain[0]].file_size) if len(src.chain) == 1 else 1 << 26
    except (OSError, IndexError, ValueError):
        return 1 << 26
