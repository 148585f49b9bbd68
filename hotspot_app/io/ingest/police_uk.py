"""police.uk street-level crime and ASB CSVs (docs/design.md §7).

Header: ``Crime ID, Month, Reported by, Falls within, Longitude, Latitude, Location, LSOA code,
LSOA name, Crime type, Last outcome category, Context`` (matched case-insensitively, in any order;
the header may sit below a few preamble lines).

Rules, per row (the first that applies is the reject reason):

1. every field empty (a blank line)          -> rejected ``empty row``
2. Month not ``YYYY-MM``                      -> rejected ``bad month`` (column Month)
3. Month before 1990-01 or after next year    -> rejected ``date out of range`` (e.g. ``0000-01``)
4. Crime type empty                           -> rejected ``no category`` (column Crime type)
5. Longitude or Latitude empty                -> rejected ``no location`` (column Longitude)
6. Longitude or Latitude not a number         -> rejected ``bad coordinates``
7. point outside Great Britain (settings)     -> rejected ``outside Great Britain``

Loaded rows: ``occurred`` is NaT (police.uk gives only the month), ``month`` from Month,
``category`` from Crime type (taxonomy: group and kind; ASB is kind ``asb``), ``location`` the
Location text, ``source`` ``police-uk``. Reported by, Falls within, LSOA code, LSOA name, Last
outcome category and Context are kept as ``reported_by``, ``falls_within``, ``lsoa_code``,
``lsoa_name``, ``last_outcome_category``, ``context`` (pandas categoricals: one copy of each
distinct text; note ``value_counts`` on a filtered subset lists unused values with 0).

ASB rows have no Crime ID. They get ``asb-<16 hex digits>``: a 64-bit hash of the row's own
fields (every field except Crime ID, so nothing about the file it came from) combined with the
row's occurrence number among identical rows of its file (police.uk repeats identical ASB rows,
e.g. two reports at the same snap point in the same month). The same download therefore gets the
same ids whether loaded as one file, a folder or the zip, on every run and machine (the hash
is pandas' SipHash with its fixed key). Rows with an empty Crime
ID that are not ASB get ``nid-<16 hex digits>`` the same way.

Speed: columns are read as dictionary-encoded text by pyarrow (multi-threaded); months, crime
types and coordinates are parsed once per distinct value, and each distinct (longitude, latitude)
is reprojected once and becomes one shared shapely Point.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from hotspot_app.core import schema, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import files, geo, incident_ids, rejects as report

SOURCE = "police-uk"
COLUMNS = ["crime id", "month", "reported by", "falls within", "longitude", "latitude", "location",
           "lsoa code", "lsoa name", "crime type", "last outcome category", "context"]
REQUIRED = ["crime id", "month", "longitude", "latitude", "crime type"]
EXTRAS = {"reported by": "reported_by", "falls within": "falls_within", "lsoa code": "lsoa_code",
          "lsoa name": "lsoa_name", "last outcome category": "last_outcome_category",
          "context": "context"}
DICT_COLUMNS = frozenset(c for c in COLUMNS if c != "crime id")
MONTH_RE = r"\d{4}-(0[1-9]|1[0-2])"
_ASB = "Anti-social behaviour"


Part = files.Part


def _lengths(arr: pa.Array) -> np.ndarray:
    """Byte length of each string (nulls count as empty)."""
    n = len(arr)
    if pa.types.is_string(arr.type):
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + n + 1]
        return np.diff(offsets)
    return pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)


def _const(n: int, value) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = value
    return out


def _obj(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype=object, copy=False)


def _categorical(codes: np.ndarray, values: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object))


def _table(source: files.Source, header: files.Header, rep: report.Report,
           file_code: int) -> pa.Table:
    """One file's records with canonical column names (extra columns as `x:<snake name>`)."""
    names = {files.norm(c): c for c in header.columns}
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError("not a police.uk street-level CSV: no column "
                         + ", ".join(f"'{c.title()}'" for c in missing), file=source.label,
                         column=missing[0].title())
    ct = files.read_csv_table(source, header, rep, dict_columns=DICT_COLUMNS)
    rep.add_file(source.label, ct.read)
    rep.reject(ct.rejected)
    t = ct.table
    seen = set()
    new = []
    for c in t.column_names:
        key = c if c == "_row" else files.norm(c) if files.norm(c) in COLUMNS else "x:" + files.snake(c)
        while key in seen:
            key += "_"
        seen.add(key)
        new.append(key)
    t = t.rename_columns(new)
    return t.append_column("_file", pa.array(np.full(t.num_rows, file_code, dtype=np.int32)))


def read(items: list[tuple[files.Source, files.Header]], rep: report.Report,
         places: geo.Places | None = None) -> Part:
    """Read police.uk street CSVs (processed as one batch); rejects and counts go to `rep`.
    `places`: the locations earlier batches of the same load projected (reused, and added to)."""
    labels = [src.label for src, _ in items]

    def load(job):
        i, (src, header) = job
        local = report.Report()
        return _table(src, header, local, i), local

    if len(items) > 1:
        # pyarrow parses without the GIL: small monthly files are read side by side
        with ThreadPoolExecutor(max_workers=min(len(items), os.cpu_count() or 1)) as pool:
            loaded = list(pool.map(load, enumerate(items)))
    else:
        loaded = [load(job) for job in enumerate(items)]
    tables = []
    for table, local in loaded:  # merged in file order: deterministic summary
        rep.merge(local)
        tables.append(table)
    t = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    del tables
    n = t.num_rows
    rows = t.column("_row").to_numpy()
    file_codes = t.column("_file").to_numpy()
    label_arr = np.asarray(labels, dtype=object)

    cv = {k: files.codes_values(t.column(k)) for k in COLUMNS if k in t.column_names and k != "crime id"}
    extra_names = [c for c in t.column_names if c.startswith("x:")]
    cid = t.column("crime id")  # chunked; never copied as a whole except by the final take
    if cid.null_count:
        cid = pc.fill_null(cid, "")
    cid_len = np.concatenate([_lengths(c) for c in cid.chunks]) if n else np.zeros(0, np.int64)
    cid_empty = cid_len == 0

    # 1. empty rows: every field (including extra columns) empty; only rows with an empty Crime
    # ID can be, so the other columns are checked on those rows alone
    cand = np.flatnonzero(cid_empty)
    for k, (codes, values) in cv.items():
        if len(values) and len(cand):
            cand = cand[np.asarray([v == "" for v in values], dtype=bool)[codes[cand]]]
    for c in extra_names:
        if len(cand):
            col = pc.fill_null(t.column(c), "")
            cand = cand[pc.equal(col.take(pa.array(cand)), "").to_numpy(zero_copy_only=False)]
    blank = np.zeros(n, dtype=bool)
    blank[cand] = True

    # 2. months
    m_codes, m_values = cv["month"]
    m_ok = pd.Series(m_values, dtype=object).str.fullmatch(MONTH_RE).fillna(False).to_numpy(bool)
    bad_month = ~m_ok[m_codes]
    far_month = (m_ok & schema.implausible_months(m_values))[m_codes]
    # crime type: an empty one is rejected (never counted as an "Unknown" crime)
    ct_codes0, ct_values0 = cv["crime type"]
    no_category = np.asarray([not str(v).strip() for v in ct_values0], dtype=bool)[ct_codes0] \
        if len(ct_values0) else np.zeros(n, dtype=bool)

    # 3-5. coordinates, parsed once per distinct text
    lon_c, lon_v = cv["longitude"]
    lat_c, lat_v = cv["latitude"]

    def parse(values):
        num = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
        return num, np.asarray([not v.strip() for v in values], dtype=bool)

    lon_num, lon_blank = parse(lon_v)
    lat_num, lat_blank = parse(lat_v)
    no_loc = lon_blank[lon_c] | lat_blank[lat_c]
    lon = lon_num[lon_c]
    lat = lat_num[lat_c]
    bad_xy = ~(np.isfinite(lon) & np.isfinite(lat))
    outside = ~geo.in_gb_wgs84(lon, lat)

    reason = np.zeros(n, dtype=np.int8)  # the first rule that applies: later rules written first
    checks = [blank, bad_month, far_month, no_category, no_loc, bad_xy, outside]
    for code, mask in reversed(list(enumerate(checks, start=1))):
        reason[mask] = code
    _reject(label_arr, file_codes, rows, reason, m_values, m_codes, lon_v, lon_c, lat_v, lat_c, rep)

    keep = reason == 0
    all_kept = bool(keep.all())
    m = int(keep.sum())

    def kept(a):
        return a if all_kept else a[keep]

    # distinct locations -> one reprojection and one Point each
    nlat = max(len(lat_v), 1)
    # (a hash table sized for the distinct texts, not the rows, stays in cache; it grows if needed)
    pcodes, uniq = pd.factorize(kept(lon_c).astype(np.int64) * nlat + kept(lat_c),
                                size_hint=min(m, 2 * max(len(lon_v), nlat)))
    lon_u, lat_u = lon_num[uniq // nlat], lat_num[uniq % nlat]
    points_u = shapely.points(*geo.to_bng(lon_u, lat_u)) if places is None else places.project(lon_u, lat_u)[2]
    geometry = points_u[pcodes] if m else np.empty(0, dtype=object)

    # categories once per distinct crime type
    ct_codes, ct_values = cv["crime type"]
    cls = taxonomy.classify(pd.Series(ct_values, dtype=object), default_kind="crime")
    ct_keep = kept(ct_codes)

    ids, keys = _ids(cid, cid_len, keep, cv, cls, ct_codes, file_codes)

    none = np.empty(m, dtype=object)
    columns = {
        "incident_id": ids.to_pandas() if m else pd.Series([], dtype="str"),
        "source": _obj(_const(m, SOURCE)),
        "occurred": pd.Series(np.full(m, np.iinfo(np.int64).min).view("datetime64[ns]"), copy=False),
        "month": _obj(m_values[kept(m_codes)]),
        "category": _obj(cls["category"].to_numpy(object)[ct_keep]),
        "group": _obj(cls["group"].to_numpy(object)[ct_keep]),
        "kind": _obj(cls["kind"].to_numpy(object)[ct_keep]),
        "subcategory": _obj(none),
        "weight": pd.Series(np.ones(m), copy=False),
        "location": _obj(cv["location"][1][kept(cv["location"][0])]) if "location" in cv else _obj(none),
    }
    for k, out in EXTRAS.items():
        if k in cv:
            columns[out] = _categorical(kept(cv[k][0]), cv[k][1])
    for c in extra_names:
        codes, values = files.codes_values(t.column(c))
        columns[c[2:]] = _categorical(kept(codes), values)
    keys = incident_ids.combine(keys, incident_ids.hash_values(np.array([SOURCE], dtype=object))[0])
    return Part(columns, geometry, keys, labels, kept(file_codes), kept(rows))


def _ids(cid: pa.ChunkedArray, cid_len: np.ndarray, keep: np.ndarray, cv: dict, cls: pd.DataFrame,
         ct_codes: np.ndarray, file_codes: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Incident ids of the kept rows (Crime ID, or the stable generated id) and their keys."""
    cid_empty = cid_len == 0
    gen = keep & cid_empty
    cid_keys = np.concatenate([incident_ids.id_keys(c) for c in cid.chunks]) if len(cid) else np.zeros(0, np.uint64)
    gen_at = np.flatnonzero(gen)
    n_gen = len(gen_at)
    h = np.full(n_gen, np.uint64(0xCBF29CE484222325), dtype=np.uint64)
    if n_gen:
        # content hash of the generated rows: every field but Crime ID, in a fixed order
        for k in COLUMNS[1:]:
            if k in cv:
                codes, values = cv[k]
                col_hash = incident_ids.hash_values(values) if len(values) else np.zeros(1, np.uint64)
                h = incident_ids.combine(h, col_hash[codes[gen_at]])
            else:
                h = incident_ids.combine(h, np.zeros(len(h), np.uint64))
        # occurrence number among identical rows of the same file, folded into the hash
        group = incident_ids.combine(h, file_codes[gen_at].astype(np.uint64))
        occurrence = incident_ids.occurrence(group)
        h = incident_ids.combine(h, occurrence.astype(np.uint64))
    if not n_gen:
        ids = cid if keep.all() else cid.filter(pa.array(keep))
        return ids.combine_chunks(), cid_keys[keep]
    is_asb = cls["category"].to_numpy(object)[ct_codes[gen_at]] == _ASB
    prefix = np.where(is_asb[:, None], np.frombuffer(b"asb-", np.uint8), np.frombuffer(b"nid-", np.uint8))
    generated = np.concatenate([prefix, incident_ids.hex16(h).view(np.uint8).reshape(n_gen, -1)], axis=1)
    keys = cid_keys  # (a fresh array: its own memory can be overwritten)
    keys[gen_at] = h
    keys = keys[keep]
    ids = _fixed_width_ids(cid, cid_len, gen, keep, generated)
    if ids is None:
        # one gather, in row order: kept rows take their Crime ID or their generated id
        # (concatenate, then take: a take on the chunked array is ~3x slower)
        index = np.arange(len(keep), dtype=np.int64)
        index[gen_at] = len(keep) + np.arange(n_gen)
        index = index[keep]
        ids = pa.concat_arrays([c.cast(pa.string()) for c in cid.chunks]
                               + [incident_ids.fixed_strings(generated)]).take(pa.array(index))
    return ids, keys


def _fixed_width_ids(cid: pa.ChunkedArray, cid_len: np.ndarray, gen: np.ndarray, keep: np.ndarray,
                     generated: np.ndarray, block: int = 1 << 15) -> pa.Array | None:
    """The kept rows' ids (Crime ID, or the generated id: rows of `generated`, in order) as one
    string array written in a single pass, when every Crime ID has the same byte length (police.uk:
    64 hex digits): each id is copied straight from the CSV reader's buffers into its place, in
    blocks small enough to stay in cache. None when this does not apply (the caller then
    concatenates and gathers)."""
    chunks = cid.chunks
    if not all(pa.types.is_string(c.type) and not c.null_count for c in chunks):
        return None
    has_id = keep & ~gen  # kept rows with a Crime ID (kept rows without one are `gen`)
    widths = cid_len[has_id]
    width = int(widths[0]) if len(widths) else 1
    if len(widths) and (widths.min() != width or widths.max() != width):
        return None
    gwidth = generated.shape[1]
    kept_len = np.where(gen, gwidth, width)[keep]
    offsets = np.zeros(len(kept_len) + 1, dtype=np.int64)
    np.cumsum(kept_len, out=offsets[1:])
    total = int(offsets[-1])
    if total >= 2 ** 31 - 1 or total < max(width, gwidth):
        return None
    out = np.empty(total, dtype=np.uint8)
    out_of_row = np.full(len(keep), -1, dtype=np.int64)  # output position of each kept row
    out_of_row[keep] = offsets[:-1]
    gen_dst = out_of_row[gen]

    def slots(buf: np.ndarray, w: int) -> np.ndarray:
        """`w`-byte items starting at every byte of `buf` (a view: no copy)."""
        return np.ndarray((len(buf) - w + 1,), dtype=f"V{w}", buffer=buf, strides=(1,))

    slots(out, gwidth)[gen_dst] = np.ascontiguousarray(generated).view(f"V{gwidth}").ravel()
    if len(widths):
        dst = slots(out, width)
        first = 0
        for c in chunks:
            n = len(c)
            rows = np.flatnonzero(has_id[first: first + n])
            if len(rows):
                starts = np.frombuffer(c.buffers()[1], dtype=np.int32)[c.offset: c.offset + n][rows]
                src = slots(np.frombuffer(c.buffers()[2], dtype=np.uint8), width)
                at = out_of_row[first + rows]
                for b in range(0, len(rows), block):
                    dst[at[b: b + block]] = src[starts[b: b + block]]
            first += n
    return pa.Array.from_buffers(pa.string(), len(kept_len),
                                 [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(out)])


def _reject(labels, file_codes, rows, reason, m_values, m_codes, lon_v, lon_c, lat_v, lat_c, rep) -> None:
    idx = np.nonzero(reason)[0]
    if not len(idx):
        return
    r = reason[idx]
    kinds = np.array([None, report.EMPTY_ROW, report.BAD_MONTH, report.DATE_OUT_OF_RANGE,
                      report.NO_CATEGORY, report.NO_LOCATION, report.BAD_COORDINATES,
                      report.OUTSIDE_GB], dtype=object)
    cols = np.array([None, None, "Month", "Month", "Crime type", "Longitude", "Longitude", "Longitude"],
                    dtype=object)
    coord_text = np.char.add(np.char.add(lon_v[lon_c[idx]].astype(str), ","), lat_v[lat_c[idx]].astype(str))
    value = np.where((r == 1) | (r == 4), None,
                     np.where((r == 2) | (r == 3), m_values[m_codes[idx]], coord_text.astype(object)))
    rep.reject(report.rejects_frame(labels[file_codes[idx]], rows[idx], cols[r], kinds[r], value))
