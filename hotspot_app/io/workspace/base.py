"""The workspace interface both backends implement (`Workspace`), and what they share: layer and
table names, the load result, coverage, area and intervention helpers.

A workspace is the partnership's memory (docs/design.md §9): incidents, area layers, interventions, saved
cluster runs, the load history and the audit log. `gpkg.GeopackageWorkspace` keeps it in one
GeoPackage file (the single-user default); `postgis.PostgisWorkspace` in PostgreSQL/PostGIS (a
shared deployment). The contract tests (tests/test_workspace_contract.py) run on both.
"""

from __future__ import annotations

import abc
import hashlib
import json
import re
from typing import Any
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import ConflictError, HotspotError, InputError
from hotspot_app.core.schema import AREA_LAYERS, INTERVENTION_COLUMNS, INTERVENTION_TYPES
from hotspot_app.io.workspace import audit as chain


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



#: Audit actions (both backends record the same; user_* come from the users store).
AUDIT_ACTIONS = ("load", "replace_all", "area_added", "area_deleted", "area_restored",
                 "intervention_added", "intervention_edited", "intervention_deleted",
                 "intervention_restored", "cluster_run_saved", "changes_accepted", "user_added",
                 "user_role_set", "user_password_set", "user_removed", "user_disabled", "user_enabled")

#: Per-record bookkeeping (both backends): every intervention and area id ever written, with the
#: version of the record (bumped whenever its content changes), who changed it last, and whether
#: it is deleted now. Ids are never reused: a new id is above every id in this table.
RECORDS = "hotspot_records"
#: Deleted (and replaced-away) interventions and areas, kept whole so they can be restored:
#: kind, id, name, layer, deleted_at, deleted_by, version, data (the row as JSON).
DELETED = "hotspot_deleted"
RECORD_KINDS = {"intervention": "intervention_id", "area": "area_id"}
DELETED_COLUMNS = ["kind", "id", "name", "layer", "deleted_at", "deleted_by", "version"]



LOAD_COLUMNS = ["load_id", "loaded_at", "user", "files", "providers", "read", "loaded", "rejected",
                "added", "replaced", "months", "replace_all"]



AUDIT_COLUMNS = ["at", "user", "action", "detail"]



COVERAGE_COLUMNS = ["source", "provider", "month", "rows"]

#: `Workspace.incident_summary`: rows per distinct (source, provider, month, kind, category,
#: group) of everything stored -- coverage, and what a selection judges on everything loaded.
SUMMARY_COLUMNS = ["source", "provider", "month", "kind", "category", "group", "rows"]



#: police.uk months where more than this share of rows had no location are flagged.
NO_LOCATION_SHARE = 0.05



INTERVENTION_FIELDS = ("name", "type", "area_id", "start", "end", "radius_m", "notes", "geometry")



class RecordConflict(ConflictError):
    """An intervention or area changed (or was deleted) since the user opened it: the edit or
    delete they asked for is refused, nothing is written. One line naming the record, who changed
    it and when."""

    def __init__(self, what: str, by: str | None = None, deleted: bool = False, at: str | None = None):
        self.where = what
        self.by = by or "another user"
        when = f" at {at}" if at else ""
        how = "deleted" if deleted else "changed"
        HotspotError.__init__(self, f"{what} changed since you opened it ({how} by {self.by}{when}); "
                                    "reload and try again")


@dataclass(frozen=True)
class RecordChange:
    """What one write does to one intervention or area: its new content digest (None when it is
    removed), the digest it had before (None when new), and for a removed record its row
    (`payload`) to keep for restoring."""

    kind: str
    id: str
    name: str
    layer: str | None
    digest: str | None
    old_digest: str | None = None
    payload: dict | None = None
    #: {column: dtype} of the table a removed record came from (to restore it as it was)
    dtypes: dict | None = None


def payload(row: pd.Series, geometry: str | None) -> dict:
    """A row as plain JSON values: text, numbers, ISO dates, None, the geometry as WKB hex."""
    import shapely

    out: dict = {}
    for col, value in row.items():
        col = str(col)
        if col == geometry:
            out[col] = None if value is None or (not isinstance(value, str) and pd.isna(value)) \
                else shapely.to_wkb(value, hex=True)
        elif value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
            out[col] = None
        elif isinstance(value, pd.Timestamp):
            out[col] = value.isoformat()
        elif isinstance(value, (np.integer, np.floating, np.bool_)):
            out[col] = value.item()
        else:
            out[col] = value if isinstance(value, (str, int, float, bool)) else str(value)
    return out


def digest(data: dict) -> str:
    """The content digest of a record's `payload` (what a record version follows)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _payloads(frame: pd.DataFrame | None, id_col: str) -> dict[str, tuple[str, dict]]:
    if frame is None or not len(frame) or id_col not in frame.columns:
        return {}
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    out: dict[str, tuple[str, dict]] = {}
    for _, row in frame.iterrows():
        rid = str(row[id_col])
        if rid not in out:
            name = row.get("name")
            out[rid] = ("" if name is None or pd.isna(name) else str(name), payload(row, geom))
    return out


def record_changes(kind: str, old: pd.DataFrame | None, new: pd.DataFrame | None,
                   layer: str | None = None, keep_missing: bool = False) -> list[RecordChange]:
    """The record changes of replacing `old` by `new` (one area layer, or the interventions):
    a digest for every record in `new` (with its digest in `old`), and the rows of `old` whose id
    is not in `new` (kept for restoring) unless `keep_missing`."""
    id_col = RECORD_KINDS[kind]
    before, after = _payloads(old, id_col), _payloads(new, id_col)
    out = [RecordChange(kind, rid, name, layer, digest(data),
                        digest(before[rid][1]) if rid in before else None)
           for rid, (name, data) in after.items()]
    if not keep_missing:
        dtypes = None if old is None else {str(c): str(t) for c, t in old.dtypes.items()}
        out += [RecordChange(kind, rid, name, layer, None, digest(data), data, dtypes)
                for rid, (name, data) in before.items() if rid not in after]
    return out


def apply_record_change(current: dict | None, change: RecordChange) -> int | None:
    """The version a record gets from `change` given its stored row `current` ({version, digest,
    deleted} or None), or None when nothing changes. A record stored before versions were kept
    counts as version 1."""
    if current is None and change.old_digest is not None:
        current = {"version": 1, "digest": change.old_digest, "deleted": False}
    if current is None:
        return 1 if change.digest is not None else None
    if change.digest is None:
        return int(current["version"]) + 1
    if current.get("deleted") or current.get("digest") != change.digest:
        return int(current["version"]) + 1
    return None


#: Keys of a kept row's column order and dtypes in `DELETED` (``data``).
ORDER_KEY, DTYPES_KEY = "__columns__", "__dtypes__"


def kept(change: "RecordChange") -> str:
    """The ``data`` kept in `DELETED` for a removed record: its row, column order and dtypes."""
    return json.dumps({**change.payload, ORDER_KEY: list(change.payload), DTYPES_KEY: change.dtypes or {}})


def frame_of(data: dict, like: pd.DataFrame | None, geometry: str = "geometry") -> gpd.GeoDataFrame:
    """A one-row table rebuilt from a kept row (`kept`): its column order and dtypes as they were,
    else those of `like` (the table it goes back into)."""
    import shapely

    data = dict(data)
    first = data.pop(ORDER_KEY, None) or list(data)  # the column order (jsonb keeps no key order)
    dtypes = data.pop(DTYPES_KEY, None) or {}
    values = {k: [data[k]] for k in first if k in data and k != geometry}
    values.update({k: [v] for k, v in data.items() if k != geometry and k not in values})
    geom = data.get(geometry)
    shape = shapely.from_wkb(geom) if geom else None
    df = gpd.GeoDataFrame(values, geometry=gpd.GeoSeries([shape], crs=settings.CRS), crs=settings.CRS)
    wanted = {} if like is None else {str(c): str(t) for c, t in like.dtypes.items()}
    wanted.update(dtypes)
    for col in df.columns:
        dtype = wanted.get(str(col))
        if dtype is None or col == df.geometry.name or dtype == "geometry":
            continue
        try:
            if dtype.startswith("datetime64"):
                df[col] = pd.to_datetime(df[col]).astype(dtype)
            elif dtype == "object":
                df[col] = df[col].astype(object).where(df[col].notna(), None)
            else:
                df[col] = df[col].astype(dtype)
        except (TypeError, ValueError):
            pass
    if like is not None and len(like.columns):
        order = [c for c in like.columns if c in df.columns] + [c for c in df.columns if c not in like.columns]
        df = df[order]
    return df


def next_number(ids, pattern: str) -> int:
    """One above the largest number in the ids matching `pattern` (a regex with one group)."""
    numbers = [int(m.group(1)) for i in ids if (m := re.fullmatch(pattern, str(i)))]
    return max(numbers, default=0) + 1


def check_record(kind: str, rid: str, seen: int | None, live: pd.DataFrame | None,
                 stored: dict | None, deleted: dict | None) -> None:
    """Refuse an edit or delete of record `rid` that carries the version the user saw (`seen`)
    when the record has changed or was deleted since (`RecordConflict`), or is not there at all
    (`InputError`). `stored`: the record's row of `RECORDS` (version, changed_by, changed_at,
    deleted); `deleted`: its latest entry in `DELETED`."""
    id_col = RECORD_KINDS[kind]
    hit = None if live is None or not len(live) else live[live[id_col].astype(str) == str(rid)]
    present = hit is not None and len(hit) > 0
    label = f"{kind} '{rid}'"
    if present:
        label = f"'{hit['name'].iloc[0]}' ({rid})" if "name" in hit.columns else label
    elif deleted is not None:
        label = f"'{deleted.get('name')}' ({rid})"
    if seen is None:
        if not present:
            raise InputError(f"no {kind} '{rid}'", parameter=id_col)
        return
    if not present:
        if deleted is not None:
            raise RecordConflict(label, deleted.get("deleted_by"), deleted=True, at=deleted.get("deleted_at"))
        raise InputError(f"no {kind} '{rid}'", parameter=id_col)
    current = int(stored["version"]) if stored is not None else 1
    if int(seen) != current:
        raise RecordConflict(label, (stored or {}).get("changed_by"), at=(stored or {}).get("changed_at"))


def audit_missing(where: str, table: str) -> InputError:
    return InputError(f"the audit log is missing: table '{table}' was removed outside hotspot_app; "
                      "restore it from a backup before trusting this workspace", file=where)


@dataclass(frozen=True)
class LoadResult:
    """What one `Workspace.load_incidents` did. ``after == before + added - replaced``.

    ``removed``: {(source, provider, month): rows removed} (for messages); `to_dict` gives the
    JSON ``workspace`` block of ``hotspot ingest --into`` (docs/design.md §5b)."""

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
        df = read(AREA_PREFIX + layer_key(layer))
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



# --------------------------------------------------------------------------- coverage
def load_keys(incidents: pd.DataFrame) -> pd.DataFrame:
    """The (source, provider, month) replacement key of each row, as text."""
    return pd.DataFrame({"source": incidents["source"].astype(object).fillna("").astype(str).to_numpy(),
                         "provider": incidents["provider"].astype(object).fillna("").astype(str).to_numpy(),
                         "month": incidents["month"].astype(object).fillna("").astype(str).to_numpy()})



def with_provider(incidents: pd.DataFrame) -> pd.DataFrame:
    """`incidents` with a complete ``provider`` column (`schema.provider_of`); not mutated."""
    if "provider" in incidents.columns and incidents["provider"].notna().all():
        return incidents
    return incidents.assign(provider=schema.provider_of(incidents))



def coverage_of(incidents: pd.DataFrame) -> pd.DataFrame:
    if not len(incidents):
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "rows" else object)
                             for c in COVERAGE_COLUMNS})
    out = load_keys(incidents).value_counts(sort=False).rename("rows").reset_index()
    out = out.sort_values(["source", "provider", "month"]).reset_index(drop=True)
    out["rows"] = out["rows"].astype("int64")
    return out[COVERAGE_COLUMNS]



def summary_of(table: pd.DataFrame, rows) -> pd.DataFrame:
    """`SUMMARY_COLUMNS` of `table` (any frame with those key columns; `rows` per row, e.g. 1 per
    incident or the rows of a summary): one row per distinct key, sorted, missing keys None."""
    keys = SUMMARY_COLUMNS[:-1]
    data = {c: (table[c].astype(object).where(table[c].notna(), None) if c in table.columns
                else pd.Series([None] * len(table), index=table.index, dtype=object)) for c in keys}
    frame = pd.DataFrame(data)
    frame["rows"] = np.asarray(rows, dtype="int64")
    if not len(frame):
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "rows" else object) for c in SUMMARY_COLUMNS})
    out = frame.fillna("\x00").groupby(keys, sort=True)["rows"].sum().reset_index()
    for c in keys:
        out[c] = out[c].astype(object).where(out[c] != "\x00", None)
    return out.astype({"rows": "int64"})[SUMMARY_COLUMNS]


def coverage_from_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """`COVERAGE_COLUMNS` (rows per source x provider x month) from an incident summary."""
    if not len(summary):
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "rows" else object) for c in COVERAGE_COLUMNS})
    keys = summary[["source", "provider", "month"]].astype(object).fillna("").astype(str)
    out = keys.assign(rows=summary["rows"].to_numpy()).groupby(["source", "provider", "month"], sort=True)[
        "rows"].sum().reset_index()
    out["rows"] = out["rows"].astype("int64")
    return out[COVERAGE_COLUMNS]


def no_location_by_month(rejects: pd.DataFrame) -> dict[str, int]:
    """{YYYY-MM: rows rejected as 'no location'} with the month taken from the file name."""
    if not len(rejects) or "reason" not in rejects.columns:
        return {}
    files = rejects.loc[rejects["reason"].astype(str) == "no location", "file"].astype(object)
    out: dict[str, int] = {}
    for name, n in files.value_counts(dropna=False).items():  # the month read once per file
        found = _LAST_MONTH.search(str(name))
        if found:
            out[found.group(1)] = out.get(found.group(1), 0) + int(n)
    return dict(sorted(out.items()))


#: the last YYYY-MM in a file name
_LAST_MONTH = re.compile(r"(\d{4}-\d{2})(?!.*\d{4}-\d{2})")



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
    from hotspot_app.core import periods

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
def layer_key(layer: object) -> str:
    key = re.sub(r"[^a-z0-9_]+", "_", str(layer).strip().lower()).strip("_")
    if not key:
        raise InputError(f"invalid area layer name '{layer}'", parameter="layer")
    return key



def area_frames(areas: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """{layer table name: rows of that area layer} for an areas table."""
    check_geo(areas, "areas")
    if "layer" not in areas.columns:
        raise InputError("areas need a 'layer' column", column="layer")
    frames = {}
    for value in pd.unique(areas["layer"]):
        frames[AREA_PREFIX + layer_key(value)] = areas[areas["layer"] == value].reset_index(drop=True)
    return frames



def check_geo(gdf, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame", parameter=what)
    if gdf.crs is None or not gdf.crs.equals(settings.CRS):
        raise InputError(f"{what} must be in {settings.CRS} (got {gdf.crs})", parameter=what)



def check_intervention_fields(fields: dict) -> None:
    """`update_intervention` changes only INTERVENTION_FIELDS (both backends)."""
    unknown = sorted(set(fields) - set(INTERVENTION_FIELDS))
    if unknown:
        raise InputError(f"unknown intervention field(s) {', '.join(unknown)}; use "
                         f"{', '.join(INTERVENTION_FIELDS)}", parameter=unknown[0])



def intervention_added_text(row: pd.Series) -> str:
    """The audit detail of an added intervention (both backends)."""
    start, end = pd.Timestamp(row["start"]), row["end"]
    return (f"{row['name']} ({row['type']}, {row['intervention_id']}, from {start:%Y-%m-%d}"
            + (f" to {pd.Timestamp(end):%Y-%m-%d})" if end is not None and not pd.isna(end) else ", ongoing)")
            + (f"; area {row['area_id']}" if row["area_id"] is not None and not pd.isna(row["area_id"]) else ""))



def areas_detail(layer_table: str, areas: pd.DataFrame) -> str:
    names = ", ".join(map(str, areas["name"].head(5)))
    more = f" and {len(areas) - 5} more" if len(areas) > 5 else ""
    return f"{layer_table[len(AREA_PREFIX):]} layer: {len(areas)} areas ({names}{more})"



def removed_text(removed: dict) -> str:
    """'police-uk Cleveland Police 2024-01: 6,561' for the keys a load replaced (first 6)."""
    parts = [f"{s} {p} {m}: {n:,}" for (s, p, m), n in sorted(removed.items())]
    return "; ".join(parts[:6]) + (f"; and {len(parts) - 6} more" if len(parts) > 6 else "")


def dtype_text(dtype: Any) -> str:
    return str(dtype)



def restore_dtypes(df: pd.DataFrame, meta: dict | None) -> pd.DataFrame:
    """Put back column order and dtypes recorded at write time. A column whose values cannot take
    the recorded dtype keeps the values the file gave (nothing is lost), and
    ``attrs['warnings']`` says so."""
    if not meta:
        return df
    notes: list[str] = []
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
            notes.append(f"workspace column '{col}': kept as {current}, could not restore {dtype} ({exc})")
    order = [c for c in meta["columns"] if c in df.columns]
    order += [c for c in df.columns if c not in order]
    out = df[order]
    if notes:
        out.attrs["warnings"] = notes
    return out



class Workspace(abc.ABC):
    """The workspace interface. Reading methods return fresh (Geo)DataFrames; every writing
    method is one locked (GeoPackage) or transactional (PostGIS), version-checked step that
    leaves the previous state intact on any failure and is recorded in the audit log."""

    #: Where the workspace is, as every face shows it (a path, or a URL without its password).
    where: str

    @abc.abstractmethod
    def version(self) -> str:
        """A token that changes on every committed write ("0" before the first write)."""

    @abc.abstractmethod
    def incidents(self, selection=None) -> gpd.GeoDataFrame:
        """The stored incidents a `selection.Selection` keeps (all by default), with the
        selection pushed into the read where the backend can; equal to
        ``selection.apply(all incidents)``. `InputError` when there are none."""

    @abc.abstractmethod
    def incident_summary(self) -> pd.DataFrame:
        """Rows per source, provider, month, kind, category and group of everything stored
        (`SUMMARY_COLUMNS`, sorted): coverage and what is judged on everything loaded."""

    @abc.abstractmethod
    def write(self, *, incidents: gpd.GeoDataFrame | None = None,
              areas: gpd.GeoDataFrame | list[gpd.GeoDataFrame] | None = None,
              interventions: gpd.GeoDataFrame | None = None, user: str | None = None,
              expected_version: str | None = None) -> None:
        """Replace several layers in one atomic step."""

    @abc.abstractmethod
    def load_incidents(self, incidents, *, files=(), read=None, rejected=None, replace_all: bool = False,
                       user: str | None = None, expected_version: str | None = None,
                       areas: gpd.GeoDataFrame | None = None, warnings=()) -> LoadResult:
        """Add a load (docs/design.md §5b): rows of each (source, provider, month) in the load replace the
        stored rows with that key; everything else is kept. `warnings`: what reading the files
        said (kept with the load; `load_warnings`)."""

    @abc.abstractmethod
    def load_warnings(self) -> list[str]:
        """What reading the files said, for every load that still contributes rows (in load
        order, each once): what a command reading the workspace reports, as it would reading the
        files themselves."""

    @abc.abstractmethod
    def loads(self) -> pd.DataFrame:
        """The load history, oldest first (`LOAD_COLUMNS` and ``no_location``)."""

    @abc.abstractmethod
    def coverage(self) -> pd.DataFrame:
        """Rows per source x provider x month of the stored incidents (`COVERAGE_COLUMNS`)."""

    @abc.abstractmethod
    def audit(self) -> pd.DataFrame:
        """Who did what when (`AUDIT_COLUMNS`), oldest first."""

    @abc.abstractmethod
    def area_layers(self) -> list[str]:
        """Area layer names present, in `ordered_layers` order."""

    @abc.abstractmethod
    def areas(self, layer: str | None = None) -> gpd.GeoDataFrame:
        """Areas of one layer, or all layers concatenated when `layer` is None."""

    @abc.abstractmethod
    def write_areas(self, areas: gpd.GeoDataFrame, *, user: str | None = None,
                    expected_version: str | None = None) -> None:
        """Write areas, replacing each area layer present in ``areas['layer']``."""

    @abc.abstractmethod
    def delete_area(self, area_id: str, *, user: str | None = None,
                    expected_version: str | None = None, record_version: int | None = None) -> None:
        """Delete one area (any layer); kept in `deleted` for `restore`. With `record_version`
        (the version the user saw), refused by `RecordConflict` when it changed since."""

    @abc.abstractmethod
    def interventions(self) -> gpd.GeoDataFrame:
        """Interventions (`empty_interventions` when none are stored)."""

    @abc.abstractmethod
    def add_intervention(self, name: str, type: str, start, end=None, *, area_id: str | None = None,
                         geometry=None, radius_m: float | None = None, notes: str | None = None,
                         intervention_id: str | None = None, user: str | None = None) -> str:
        """Append one intervention; returns its id (``int-<n>``, above every id the workspace has
        ever held: ids are never reused)."""

    @abc.abstractmethod
    def used_ids(self, kind: str) -> list[str]:
        """Every intervention or area id the workspace holds or has ever held (deleted included)."""

    def new_area_id(self, layer: str, tag: str = "drawn") -> str:
        """A fresh id for an area drawn or added by hand in `layer` (``<layer>-<tag>-<n>``), above
        every such id the workspace has ever held."""
        key = layer_key(layer)
        n = next_number(self.used_ids("area"), re.escape(f"{key}-{tag}-") + r"(\d+)")
        return f"{key}-{tag}-{n}"

    def new_intervention_ids(self, n: int = 1) -> list[str]:
        """`n` fresh intervention ids (``int-<k>``) above every id the workspace has ever held."""
        k = next_number(self.used_ids("intervention"), r"int-(\d+)")
        return [f"int-{k + i}" for i in range(n)]

    @abc.abstractmethod
    def update_intervention(self, intervention_id: str, *, user: str | None = None,
                            record_version: int | None = None, **fields) -> None:
        """Change fields of one intervention (`INTERVENTION_FIELDS`); with `record_version` (the
        version the user saw), refused by `RecordConflict` when it changed since."""

    @abc.abstractmethod
    def delete_intervention(self, intervention_id: str, *, user: str | None = None,
                            record_version: int | None = None) -> None:
        """Delete one intervention (kept in `deleted` for `restore`); with `record_version`,
        refused by `RecordConflict` when it changed since the user saw it."""

    @abc.abstractmethod
    def save_cluster_run(self, parameters: dict, polygons: gpd.GeoDataFrame, name: str | None = None,
                         user: str | None = None) -> int:
        """Save a cluster run's parameters and polygons; returns its run id."""

    @abc.abstractmethod
    def _read(self, table: str) -> pd.DataFrame | None:
        """One stored table as written (None when absent)."""

    @abc.abstractmethod
    def record_versions(self, kind: str) -> dict[str, int]:
        """{id: version} of the live interventions (`kind` "intervention") or areas ("area"):
        what a face keeps with what it shows, and passes back as `record_version`."""

    @abc.abstractmethod
    def deleted(self) -> pd.DataFrame:
        """Deleted interventions and areas that can be restored (`DELETED_COLUMNS`), newest first."""

    @abc.abstractmethod
    def restore(self, kind: str, record_id: str, *, user: str | None = None) -> str:
        """Put back the last deleted version of an intervention or area; returns its name."""

    @abc.abstractmethod
    def audit_rows(self) -> list[dict]:
        """The stored audit rows with their chain (`audit.CHAIN_COLUMNS`), oldest first
        (`InputError` when the audit table was removed)."""

    @abc.abstractmethod
    def audit_head(self) -> tuple[int, str] | None:
        """(seq, row_hash) of the last audit row as the workspace recorded it (None: not known)."""

    @abc.abstractmethod
    def problems(self) -> list[str]:
        """Changes made outside this tool (layers or tables removed or changed, a missing state
        row or audit table), one sentence each; [] when there are none."""

    @abc.abstractmethod
    def accept_changes(self, *, user: str | None = None) -> list[str]:
        """Accept the `problems` as the new state (audited); returns what was accepted."""

    def check(self) -> None:
        """`InputError` naming the first of `problems()` (called on open)."""
        found = self.problems()
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise InputError(f"{found[0]}{more}; restore a backup, or accept the workspace as it is now "
                             "with `hotspot audit WORKSPACE --accept-changes`", file=self.where)

    def verify_audit(self) -> tuple[int, str | None]:
        """(audit rows checked, the first problem or None): the hash chain and the recorded head."""
        return chain.verify(self.audit_rows(), self.audit_head())

    # ----------------------------------------------------------------- shared by both backends
    def write_incidents(self, incidents: gpd.GeoDataFrame, *, user: str | None = None) -> None:
        """Replace the incidents (a new workspace from one ingest; `load_incidents` is the monthly
        way)."""
        self.write(incidents=incidents, user=user)

    def write_interventions(self, interventions: gpd.GeoDataFrame, *, user: str | None = None) -> None:
        """Replace the interventions."""
        self.write(interventions=interventions, user=user)

    def cluster_runs(self) -> pd.DataFrame:
        """Saved cluster runs: run_id, created, name, parameters (dict), n_polygons."""
        import json

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
            raise InputError(f"{self.where} has no saved cluster runs", parameter="run_id")
        if run_id is None:
            return df
        out = df[df["run_id"] == int(run_id)].reset_index(drop=True)
        if out.empty and int(run_id) not in set(self.cluster_runs()["run_id"]):
            raise InputError(f"no cluster run {run_id} in {self.where}", parameter="run_id")
        return out
