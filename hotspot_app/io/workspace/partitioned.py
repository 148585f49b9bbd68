"""The workspace's incidents as GeoParquet partitioned by month and provider, read through
pyarrow.dataset with the selection pushed into the read (docs/design.md §9).

Layout: a folder (the GeoPackage workspace keeps it beside its file, ``<stem>.incidents/``)::

    month=2024-01/provider=Cleveland%20Police/police-uk-<uuid>.parquet
    month=2024-02/provider=Cleveland%20Police/police-uk-<uuid>.parquet
    _manifests/<manifest id>.json

* **One file per (source, provider, month) of one load**, hive layout: the month and the
  provider are in the path (URI-encoded, as Hive, Spark, DuckDB and pyarrow read them), not in
  the file; the source is a column. Each file is GeoParquet 1.1: WKB points in EPSG:27700 and a
  ``bbox`` covering column (xmin, ymin, xmax, ymax), so a reader can filter by place without
  decoding geometry; text columns are dictionary-encoded. Files are written once and never
  changed.
* **A manifest** (JSON, immutable, named by its id) lists the files that make up the incidents
  at one version: for each its path, source, provider, month, rows, size, bbox and summary (rows
  per kind, category and group), plus the column order and pandas dtypes to read back. The
  summary answers coverage and plans a selection without opening a file.
* **The switch is one rename elsewhere**: the owner (the GeoPackage's state row) names the
  current manifest, so a load writes its files and its manifest beside the old ones and the
  owner's atomic replace makes them current; a kill at any point leaves the old manifest current
  and its files untouched. `collect` removes files and manifests no kept manifest names (run by
  the owner under its write lock).

Reading (`read`): the manifest prunes files by month, category (via the summary: the selection
rule `selection.mask` applied once per file and kind/category/group) and bbox; pyarrow.dataset
scans only those files, only the columns asked for, with the remaining row filter (category
triples, the bbox on the covering column) evaluated batch by batch, so memory holds the selected
rows only. The result equals `Selection.apply` on the whole table, row for row.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import selection as selection_rules, settings
from hotspot_app.core.errors import InputError, OutputError

__all__ = ["Part", "Manifest", "IncidentStore", "MANIFESTS", "FORMAT"]

#: The folder of manifests inside the store.
MANIFESTS = "_manifests"
#: What a manifest says it is.
FORMAT = {"format": "hotspot_app partitioned incidents", "version": 1}
#: Partition columns: in the path, not in the file.
PARTITION_COLUMNS = ("month", "provider")
#: pyarrow's (and Hive's) name for a missing partition value.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: The GeoParquet 1.1 covering column of each file.
BBOX = "bbox"
#: A row's place in its write, in the files of a write whose keys were interleaved.
SEQ = "_seq"
_SUMMARY_KEYS = ("kind", "category", "group")


# --------------------------------------------------------------------------- dtypes of loads
def degrade_dtype(dtype: str) -> str:
    """The dtype of a column that also holds missing values (rows written without it)."""
    if dtype.startswith(("int", "uint")):
        return "float64"
    if dtype == "bool":
        return "object"
    return dtype


def merge_dtype(old: str, new: str) -> str:
    """One dtype for a column holding rows of both dtypes."""
    if old == new:
        return old
    numeric = ("int", "uint", "float")
    if old.startswith(numeric) and new.startswith(numeric):
        return "float64"
    if old.startswith("datetime64") and new.startswith("datetime64"):
        return "datetime64[ns]"
    return "object"


def merged_meta(metas: list[dict]) -> dict:
    """Column order and dtypes of the rows of several writes together: columns in order of first
    appearance, dtypes merged, and degraded where some write lacks the column."""
    columns: list[str] = []
    dtypes: dict[str, str] = {}
    for meta in metas:
        for col in meta["columns"]:
            dtype = meta["dtypes"][col]
            if col not in dtypes:
                columns.append(col)
                dtypes[col] = dtype
            else:
                dtypes[col] = merge_dtype(dtypes[col], dtype)
    if len(metas) > 1:
        for col in columns:
            if any(col not in m["dtypes"] for m in metas):
                dtypes[col] = degrade_dtype(dtypes[col])
    return {"columns": columns, "dtypes": dtypes}


def meta_of(frame: pd.DataFrame) -> dict:
    return {"columns": [str(c) for c in frame.columns],
            "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()}}


# --------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class Part:
    """One file: its path under the store, the (source, provider, month) of its rows, how many,
    its size in bytes, the bbox of its points (None: no point), rows per (kind, category, group),
    and the column order and dtypes of the write it came from."""

    path: str
    source: str | None
    provider: str | None
    month: str | None
    rows: int
    bytes: int
    bbox: tuple[float, float, float, float] | None
    summary: tuple[tuple[str | None, str | None, str | None, int], ...]
    meta: dict = field(hash=False, compare=False, default_factory=dict)
    #: the write (`IncidentStore.write_parts` call) the file came from
    write: str = ""
    #: True when that write's files were interleaved (police.uk files mix crime and ASB rows):
    #: its files carry ``_seq`` (the row's place in the write), so reading puts the write's rows
    #: back in their order; `first` and `last` are this file's first and last ``_seq``
    seq: bool = False
    first: int = 0
    last: int = 0
    #: the workspace load that wrote the file (None: written whole, or before loads were kept)
    load: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The accumulate key (design §5b) as text ('' for a missing value, as `base.load_keys`)."""
        return (self.source or "", self.provider or "", self.month or "")

    def to_json(self) -> dict:
        return {"path": self.path, "source": self.source, "provider": self.provider, "month": self.month,
                "rows": self.rows, "bytes": self.bytes, "bbox": None if self.bbox is None else list(self.bbox),
                "summary": [list(s) for s in self.summary], "meta": self.meta, "write": self.write,
                "seq": self.seq, "first": self.first, "last": self.last, "load": self.load}

    @classmethod
    def from_json(cls, d: dict) -> "Part":
        return cls(path=str(d["path"]), source=d["source"], provider=d["provider"], month=d["month"],
                   rows=int(d["rows"]), bytes=int(d["bytes"]),
                   bbox=None if d.get("bbox") is None else tuple(float(v) for v in d["bbox"]),
                   summary=tuple((s[0], s[1], s[2], int(s[3])) for s in d["summary"]), meta=d["meta"],
                   write=str(d.get("write", "")), seq=bool(d.get("seq", False)),
                   first=int(d.get("first", 0)), last=int(d.get("last", 0)),
                   load=None if d.get("load") is None else int(d["load"]))


@dataclass(frozen=True)
class Manifest:
    """The files that make up the incidents at one version, and how to read them back."""

    id: str
    parts: tuple[Part, ...]
    #: column order and dtypes of the incidents (`merged_meta` of the parts; of the last write
    #: when there are no rows)
    meta: dict

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    def to_json(self) -> dict:
        return {**FORMAT, "id": self.id, "meta": self.meta, "parts": [p.to_json() for p in self.parts]}

    @classmethod
    def from_json(cls, d: dict) -> "Manifest":
        if d.get("format") != FORMAT["format"] or int(d.get("version", 0)) > FORMAT["version"]:
            raise ValueError("not a manifest this version of hotspot_app reads")
        return cls(id=str(d["id"]), parts=tuple(Part.from_json(p) for p in d["parts"]), meta=d["meta"])

    def summary(self) -> pd.DataFrame:
        """One row per file and (kind, category, group): ``part`` (its index), source, provider,
        month, kind, category, group, rows. What coverage and selection planning read."""
        rows = [(i, p.source, p.provider, p.month, k, c, g, n)
                for i, p in enumerate(self.parts) for (k, c, g, n) in p.summary]
        df = pd.DataFrame(rows, columns=["part", "source", "provider", "month", *_SUMMARY_KEYS, "rows"])
        for col in ("source", "provider", "month", *_SUMMARY_KEYS):
            df[col] = df[col].astype(object)
        return df.astype({"part": "int64", "rows": "int64"})

    def replacing(self, keys: set[tuple[str, str, str]] | None, new: list[Part], meta: dict | None = None
                  ) -> "Manifest":
        """A new manifest: these parts without those whose key is in `keys` (all of them when
        `keys` is None), then `new`. `meta`: of the write, for a store left without rows."""
        kept = [p for p in self.parts if keys is not None and p.key not in keys]
        parts = tuple(kept + list(new))
        if parts:
            merged = merged_meta(_distinct_metas(parts))
        else:
            merged = meta if meta is not None else self.meta
        return Manifest(id=uuid.uuid4().hex, parts=parts, meta=merged)


def _distinct_metas(parts) -> list[dict]:
    seen, out = set(), []
    for p in parts:
        key = json.dumps(p.meta, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(p.meta)
    return out


def empty_manifest(meta: dict | None = None) -> Manifest:
    return Manifest(id=uuid.uuid4().hex, parts=(), meta=meta or {"columns": [], "dtypes": {}})


# --------------------------------------------------------------------------- the store
def _segment(value) -> str:
    return NULL_PARTITION if value is None or value == "" else quote(str(value), safe="")


def _slug(value) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(value or "none")).strip("-").lower()[:40] or "none"


def fsync_path(path: Path) -> None:
    """Flush a file or folder to disk (best effort: a file system that cannot is not an error)."""
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


class IncidentStore:
    """The partitioned incidents under `root` (see the module docstring). Writing methods never
    change a file that exists; the owner decides which manifest is current."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._syncs: list = []
        self._pool = None

    def __repr__(self) -> str:
        return f"IncidentStore({str(self.root)!r})"

    # ----------------------------------------------------------------- writing
    def begin(self) -> None:
        """Mark that files are being written (removed by `clear_pending` once the write is
        committed or given up): a marker left by a killed writer tells the next one to collect
        the files no manifest names."""
        folder = self.root / MANIFESTS
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f".pending-{os.getpid()}-{uuid.uuid4().hex}").touch()
        except OSError as exc:
            raise OutputError(f"cannot write here ({exc.strerror or exc}); the workspace is unchanged",
                              file=str(folder)) from None

    def pending(self) -> list[Path]:
        folder = self.root / MANIFESTS
        return sorted(folder.glob(".pending-*")) if folder.is_dir() else []

    def clear_pending(self) -> None:
        for marker in self.pending():
            marker.unlink(missing_ok=True)

    def write_parts(self, incidents: gpd.GeoDataFrame, provider=None, load: int | None = None) -> list[Part]:
        """Write `incidents` as new files, one per (source, provider, month) in order of first
        appearance (rows keep their order within each, and reading gives them back in the order
        written even when the keys were interleaved); returns their `Part`s. `provider`: the
        provider of each row when the frame has no complete ``provider`` column
        (`schema.provider_of`); `load`: the workspace load writing them. Nothing is current until a
        manifest naming them is."""
        import pyarrow as pa

        if not len(incidents):
            return []
        gname = incidents.geometry.name
        n = len(incidents)
        source = incidents["source"] if "source" in incidents.columns else pd.Series([None] * n)
        prov = incidents["provider"] if provider is None else np.asarray(provider, dtype=object)
        kind = incidents["kind"] if "kind" in incidents.columns else pd.Series([None] * n)
        # one file per (source, provider, month) and kind: a selection of crime or ASB reads whole
        # files (police.uk files mix both kinds: such a write carries each row's place in it)
        from hotspot_app.core.locations import factorize_shared

        factorized: dict[str, tuple] = {}  # each text column factorized once: for the file keys,
                                           # the kinds' summaries and the file's dictionary columns

        def fz(col):
            if not isinstance(col, str):
                return factorize_shared(np.asarray(col, dtype=object))
            if col not in factorized:
                factorized[col] = factorize_shared(np.asarray(incidents[col], dtype=object))
            return factorized[col]

        codes, keys = _combined([fz("source" if "source" in incidents.columns else source),
                                 fz("provider" if provider is None else prov), fz("month"),
                                 fz("kind" if "kind" in incidents.columns else kind)], factorized=True)
        table = _arrow_table(incidents, drop=[c for c in PARTITION_COLUMNS if c in incidents.columns],
                             factorized=fz)
        starts = np.flatnonzero(np.diff(codes, prepend=-1) != 0)
        interleaved = len(starts) > len(keys)
        seq = None
        if interleaved:
            seq = np.arange(n, dtype=np.int64)
            order = np.argsort(codes, kind="stable")
            table = table.append_column(SEQ, pa.array(seq)).take(pa.array(order))
            codes, seq = codes[order], seq[order]
            starts = np.flatnonzero(np.diff(codes, prepend=-1) != 0)
        else:
            order = None
        kcodes, kinds = _combined([fz(c) for c in _SUMMARY_KEYS], factorized=True)
        if order is not None:
            kcodes = kcodes[order]
        meta = meta_of(incidents)
        write = uuid.uuid4().hex
        parts: list[Part] = []
        for k, (s, p, m, _) in enumerate(keys):
            start = int(starts[k])
            stop = int(starts[k + 1]) if k + 1 < len(starts) else n
            sub = table if len(keys) == 1 else table.slice(start, stop - start)
            counts = np.bincount(kcodes[start:stop], minlength=len(kinds))
            summary = tuple((*kinds[j], int(counts[j])) for j in np.flatnonzero(counts))
            rel = f"month={_segment(m)}/provider={_segment(p)}/{_slug(s)}-{uuid.uuid4().hex}.parquet"
            bbox = _write_file(sub, self.root / rel, gname)
            self._sync_later(self.root / rel)
            parts.append(Part(path=rel, source=s, provider=p, month=m, rows=sub.num_rows,
                              bytes=(self.root / rel).stat().st_size, bbox=bbox, summary=summary, meta=meta,
                              write=write, seq=interleaved,
                              first=int(seq[start]) if interleaved else 0,
                              last=int(seq[stop - 1]) if interleaved else 0, load=load))
        return parts

    def _sync_later(self, path: Path) -> None:
        """fsync a written file on a thread of its own: the disk works while the next file is
        made; `flush` waits for them all."""
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotspot-fsync")
        self._syncs.append((path, self._pool.submit(fsync_path, path)))

    def flush(self) -> None:
        """Wait until every file written so far is on disk (and the folders naming them)."""
        folders = set()
        for path, done in self._syncs:
            done.result()
            folders.update({path.parent, path.parent.parent})
        for folder in sorted(folders):
            fsync_path(folder)
        self._syncs = []
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def save(self, manifest: Manifest) -> Manifest:
        """Write `manifest` (temp file, fsync, rename) once every file written by this store is on
        disk (`flush`): it can be made current afterwards."""
        self.flush()
        folder = self.root / MANIFESTS
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{manifest.id}.tmp"
            tmp.write_text(json.dumps(manifest.to_json()), encoding="utf-8")
            fsync_path(tmp)
            os.replace(tmp, folder / f"{manifest.id}.json")
            fsync_path(folder)
        except OSError as exc:
            raise OutputError(f"could not write the incidents' manifest ({exc.strerror or exc}); the "
                              "workspace is unchanged", file=str(folder)) from None
        return manifest

    def manifest(self, manifest_id: str) -> Manifest:
        """The manifest `manifest_id` (`InputError` naming it when missing or unreadable)."""
        path = self.root / MANIFESTS / f"{manifest_id}.json"
        try:
            return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise InputError(f"the incidents' manifest {manifest_id} is missing: the folder was changed "
                             "outside hotspot_app", file=str(path)) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"the incidents' manifest cannot be read ({exc})", file=str(path)) from None

    def manifest_ids(self) -> list[str]:
        folder = self.root / MANIFESTS
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    def collect(self, keep: set[str]) -> int:
        """Remove every file and manifest that no manifest in `keep` names (and empty folders);
        returns the files removed. Run by the owner with its write lock held."""
        wanted: set[str] = set()
        for mid in keep:
            try:
                wanted.update(p.path for p in self.manifest(mid).parts)
            except InputError:
                continue
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.rglob("*"):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and rel.startswith(MANIFESTS + "/"):
                if path.name.startswith(".pending-"):
                    continue  # the owner clears its markers
                stem = path.name[:-len(".json")] if path.name.endswith(".json") else None
                if stem is None or stem not in keep:
                    path.unlink(missing_ok=True)
            elif path.is_file() and rel not in wanted:
                path.unlink(missing_ok=True)
                removed += 1
        for folder in sorted((p for p in self.root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                pass
        return removed

    def copy_into(self, other: "IncidentStore", manifest: Manifest) -> Manifest:
        """The files of `manifest` in `other` (hard links where the file system allows, else
        copies) and the manifest saved there: a private copy that `other`'s owner can change."""
        import shutil

        for part in manifest.parts:
            target = other.root / part.path
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(self.root / part.path, target)
            except OSError:
                shutil.copyfile(self.root / part.path, target)
        return other.save(manifest)

    def problems(self, manifest: Manifest) -> list[str]:
        """Files of `manifest` missing or changed (size) outside hotspot_app, one sentence each."""
        out = []
        for part in manifest.parts:
            path = self.root / part.path
            try:
                size = path.stat().st_size
            except OSError:
                out.append(f"incidents file {part.path} ({part.rows:,} rows of {part.source} "
                           f"{part.provider} {part.month}) was removed outside hotspot_app")
                continue
            if size != part.bytes:
                out.append(f"incidents file {part.path} was changed outside hotspot_app")
        return out

    # ----------------------------------------------------------------- reading
    def plan(self, manifest: Manifest, selection: "selection_rules.Selection | None" = None):
        """(indices of the parts to scan, the row filter or None): files pruned by month,
        category and bbox from the manifest alone; the filter keeps the rows of the chosen
        (kind, category, group) when a file holds others, and the points inside the bbox."""
        import pyarrow.dataset as ds

        sel = selection or selection_rules.Selection()
        n = len(manifest.parts)
        if sel.rows_everything:
            return list(range(n)), None
        summary = manifest.summary()
        ok = selection_rules.mask(summary, sel.category, sel.months()) if len(summary) else np.zeros(0, bool)
        per_part_ok = np.bincount(summary["part"].to_numpy(), weights=ok, minlength=n) > 0
        per_part_all = np.ones(n, dtype=bool)
        if len(summary):
            np.logical_and.at(per_part_all, summary["part"].to_numpy(), ok)
        keep = []
        for i, part in enumerate(manifest.parts):
            if not per_part_ok[i] and part.rows:
                continue
            if not part.rows:
                continue
            if sel.bbox is not None and (part.bbox is None or not _intersects(part.bbox, sel.bbox)):
                continue
            keep.append(i)
        expr = None
        if keep and not per_part_all[keep].all():
            chosen = summary[ok & summary["part"].isin(keep).to_numpy()]
            triples = chosen[list(_SUMMARY_KEYS)].drop_duplicates()
            others = summary[~ok & summary["part"].isin(keep).to_numpy()]
            if not set(others["category"]) & set(triples["category"]):
                expr = ds.field("category").isin(sorted(str(c) for c in triples["category"].dropna()))
                if triples["category"].isna().any():
                    expr = expr | ds.field("category").is_null()
            else:
                for row in triples.itertuples(index=False):
                    term = None
                    for name in _SUMMARY_KEYS:
                        value = getattr(row, name)
                        t = ds.field(name).is_null() if value is None or pd.isna(value) else ds.field(name) == value
                        term = t if term is None else term & t
                    expr = term if expr is None else expr | term
        if sel.bbox is not None and keep:
            x0, y0, x1, y1 = sel.bbox
            box = ((ds.field(BBOX, "xmin") <= x1) & (ds.field(BBOX, "xmax") >= x0)
                   & (ds.field(BBOX, "ymin") <= y1) & (ds.field(BBOX, "ymax") >= y0))
            expr = box if expr is None else expr & box
        return keep, expr

    def read(self, manifest: Manifest, selection: "selection_rules.Selection | None" = None
             ) -> gpd.GeoDataFrame:
        """The incidents `selection` keeps (all of them by default), as `Selection.apply` gives
        them from the whole table: same rows in the same order, same columns and dtypes (a
        categorical column's categories are those of the rows read)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        from hotspot_app.io import incident_arrow

        sel = selection or selection_rules.Selection()
        meta = manifest.meta
        gname = "geometry"
        columns = sel.kept_columns(meta["columns"], gname)
        keep, expr = self.plan(manifest, sel)
        if not keep:
            return _empty(meta, columns)
        parts = [manifest.parts[i] for i in keep]
        paths = [str(self.root / p.path) for p in parts]
        try:
            schemas = [pq.read_schema(p) for p in _distinct_schema_files(paths, parts)]
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"an incidents file cannot be read ({exc}); restore a backup",
                             file=str(self.root)) from None
        dictionary = pa.dictionary(pa.int32(), pa.string())
        months = sorted({p.month for p in parts if p.month is not None})
        providers = sorted({p.provider for p in parts if p.provider is not None})
        partitioning = ds.HivePartitioning(
            pa.schema([("month", dictionary), ("provider", dictionary)]),
            dictionaries={"month": pa.array(months or [""], pa.string()),
                          "provider": pa.array(providers or [""], pa.string())},
            null_fallback=NULL_PARTITION)
        schema = pa.unify_schemas([*schemas, pa.schema([("month", dictionary), ("provider", dictionary)])],
                                  promote_options="permissive")
        dataset = ds.dataset(paths, schema=schema, format="parquet", partitioning=partitioning,
                             partition_base_dir=str(self.root))
        present = set(schema.names)
        # the points come from the bbox covering column (every file of the store has one): no
        # WKB read or decoded
        scan = [c if c != gname else BBOX for c in columns if c in present]
        if BBOX not in scan:
            scan.append(BBOX)
        try:
            tables = []
            for start, stop, seq in _segments(parts):
                if stop - start == len(parts):
                    part_set = dataset
                else:
                    part_set = ds.dataset(paths[start:stop], schema=schema, format="parquet",
                                          partitioning=partitioning, partition_base_dir=str(self.root))
                t = part_set.to_table(columns=scan + ([SEQ] if seq else []), filter=expr, use_threads=True)
                if seq:  # one write whose keys were interleaved: its rows back in their order
                    t = t.take(pc.sort_indices(t.column(SEQ))).drop_columns([SEQ])
                tables.append(t)
            table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"an incidents file cannot be read ({exc}); restore a backup",
                             file=str(self.root)) from None
        if table.num_rows == 0:
            return _empty(meta, columns)
        frame = incident_arrow.frame_of_table(table)
        for col in columns:
            if col not in frame.columns:  # a column no file read holds: missing in every row
                frame[col] = pd.Series([None] * len(frame), dtype=object)
        frame = frame[columns]
        from hotspot_app.io.workspace.base import restore_dtypes

        out = restore_dtypes(frame, {"columns": columns, "dtypes": {c: meta["dtypes"][c] for c in columns
                                                                      if c in meta["dtypes"]}})
        out.attrs.pop("warnings", None)
        return gpd.GeoDataFrame(out, geometry=gname, crs=settings.CRS)


def _segments(parts: list[Part]) -> list[tuple[int, int, bool]]:
    """(start, stop, sort) runs of `parts` read in one scan: files read in turn keep their rows'
    order; the files of one write whose rows were interleaved (their ``_seq`` ranges overlap, e.g.
    a month's crime and ASB) are read together and sorted back by ``_seq``."""
    groups: list[list[int]] = []
    for i, part in enumerate(parts):
        if groups and part.seq and parts[groups[-1][0]].seq and parts[groups[-1][0]].write == part.write:
            groups[-1].append(i)
        else:
            groups.append([i])
    out: list[list] = []
    for g in groups:
        sort = len(g) > 1 and any(parts[b].first < parts[a].last for a, b in zip(g, g[1:]))
        if out and not sort and not out[-1][2]:
            out[-1][1] = g[-1] + 1
        else:
            out.append([g[0], g[-1] + 1, sort])
    return [tuple(o) for o in out]


def _distinct_schema_files(paths: list[str], parts: list[Part]) -> list[str]:
    """One file per distinct write meta and ``_seq`` (files alike in both share a schema)."""
    seen, out = set(), []
    for path, part in zip(paths, parts):
        key = (json.dumps(part.meta, sort_keys=True), part.seq)
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def _reason(exc: OSError) -> str:
    """The system's words for an I/O error (Arrow wraps them: "... [errno 27] ...")."""
    found = re.search(r"\[errno (\d+)\]", str(exc))
    return os.strerror(int(found.group(1))) if found else (exc.strerror or str(exc))


def _intersects(a, b) -> bool:
    return a[0] <= b[2] and a[2] >= b[0] and a[1] <= b[3] and a[3] >= b[1]


def _combined(columns, factorized: bool = False) -> tuple[np.ndarray, list[tuple]]:
    """(codes, distinct tuples) of rows over several text columns, in order of first
    appearance; a missing value is None. Each column is factorized by identity first (the
    ingest's columns share one object per distinct text), so no row is hashed as a tuple.
    `factorized`: the columns are given as `factorize_shared`'s (codes, values) already."""
    from hotspot_app.core.locations import factorize_shared

    per = []
    for col in columns:
        c, values = col if factorized else factorize_shared(np.asarray(col, dtype=object))
        values = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
        per.append((np.where(c < 0, len(values), c).astype(np.int64), values + [None]))
    key = np.zeros(len(per[0][0]) if per else 0, dtype=np.int64)
    for c, values in per:
        key = key * len(values) + c
    codes, uniq = pd.factorize(key)
    tuples = []
    for u in np.asarray(uniq, dtype=np.int64):
        parts = []
        for c, values in reversed(per):
            parts.append(values[int(u % len(values))])
            u //= len(values)
        tuples.append(tuple(reversed(parts)))
    return np.asarray(codes, dtype=np.int64), tuples


def _empty(meta: dict, columns: list[str]) -> gpd.GeoDataFrame:
    data = {}
    for col in columns:
        if col == "geometry":
            continue
        dtype = meta["dtypes"].get(col, "object")
        try:
            data[col] = pd.Series([], dtype=dtype)
        except (TypeError, ValueError):
            data[col] = pd.Series([], dtype=object)
    frame = pd.DataFrame(data)
    at = columns.index("geometry") if "geometry" in columns else len(frame.columns)
    frame.insert(at, "geometry", gpd.GeoSeries([], crs=settings.CRS).values)
    return gpd.GeoDataFrame(frame[columns] if "geometry" in columns else frame, geometry="geometry",
                            crs=settings.CRS)


def _arrow_table(incidents: gpd.GeoDataFrame, drop: list[str], factorized=None):
    """The file columns of `incidents`: attribute columns as `output` writes them (text as
    dictionary columns), WKB geometry and the bbox covering column, each distinct point encoded
    once. `factorized(name)`: a text column's (codes, values), when the caller has them."""
    import pyarrow as pa
    import shapely

    from hotspot_app.io import incident_arrow as output

    gname = incidents.geometry.name
    codes, points = output.distinct_objects(incidents.geometry.values)
    xy = output.point_xy(points)
    arrays, names = [], []
    for name in incidents.columns:
        if name in drop:
            continue
        if name == gname:
            arrays.append(output.wkb_column(codes, points, xy))
        else:
            col = incidents[name]
            arrays.append(output.arrow_column(col, factorized(name) if factorized is not None
                                              and col.dtype == object else None))
        names.append(str(name))
    b = (np.column_stack([*xy, *xy]) if xy is not None  # NaN for a missing point
         else shapely.bounds(np.asarray(points, dtype=object)))
    missing = np.isnan(b[:, 0])
    idx = pa.array(codes)
    fields = [pa.array(b[:, i], mask=missing).take(idx) for i in range(4)]
    arrays.append(pa.StructArray.from_arrays(fields, names=["xmin", "ymin", "xmax", "ymax"],
                                             mask=pa.array(missing).take(idx)))
    names.append(BBOX)
    return pa.table([_normalised(a, n) for a, n in zip(arrays, names)], names=names)


def _normalised(array, name: str):
    """One Arrow type per kind of column whatever pandas dtype it came from, so every file of the
    store unifies: text as dictionary<int32, string> (the incident id, unique per row, as string)."""
    import pyarrow as pa

    t = array.type
    text = pa.types.is_string(t) or pa.types.is_large_string(t)
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        if name == "incident_id":
            return array.cast(pa.string())
        return array if t == pa.dictionary(pa.int32(), pa.string()) else array.cast(pa.dictionary(pa.int32(), pa.string()))
    if text:
        return array.cast(pa.string()) if name == "incident_id" else array.cast(pa.string()).dictionary_encode()
    return array


def _write_file(table, path: Path, gname: str) -> tuple | None:
    """Write one partition file (GeoParquet 1.1 metadata, the bbox covering column); returns the
    bbox of its points. Not fsynced here: the store's `flush` (before any manifest names it)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from pyproj import CRS

    from hotspot_app.io.incident_arrow import PARQUET_MARK, PARQUET_MARK_VALUE

    bb = table.column(BBOX)
    xmin = pc.min(pc.struct_field(bb, "xmin")).as_py()
    bbox = None if xmin is None else (float(xmin), float(pc.min(pc.struct_field(bb, "ymin")).as_py()),
                                      float(pc.max(pc.struct_field(bb, "xmax")).as_py()),
                                      float(pc.max(pc.struct_field(bb, "ymax")).as_py()))
    column = {"encoding": "WKB", "crs": CRS.from_user_input(settings.CRS).to_json_dict(),
              "geometry_types": ["Point"] if bbox is not None else [],
              "covering": {"bbox": {k: [BBOX, k] for k in ("xmin", "ymin", "xmax", "ymax")}}}
    if bbox is not None:
        column["bbox"] = list(bbox)
    geo = {"version": "1.1.0", "primary_column": gname, "columns": {gname: column}}
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode(),
                                           PARQUET_MARK: json.dumps(PARQUET_MARK_VALUE).encode()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # ids are unique per row (police.uk's are random hex): no dictionary to try, nothing for
        # compression to find, no min/max worth keeping. The bbox's doubles repeat as the points
        # do (snap points): a dictionary writes them 25% faster (Parquet falls back to plain
        # pages by itself where they are distinct)
        plain = ("incident_id", SEQ)
        dictionary = [c for c in table.column_names if c not in plain]
        stats = [c for c in table.column_names if c not in ("incident_id", gname)]
        compression = {c: ("none" if c == "incident_id" else "snappy") for c in table.column_names}
        pq.write_table(table, str(path), use_dictionary=dictionary, write_statistics=stats,
                       compression=compression)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise OutputError(f"could not write the workspace's incidents ({_reason(exc)}); it is unchanged",
                          file=str(path)) from None
    return bbox
