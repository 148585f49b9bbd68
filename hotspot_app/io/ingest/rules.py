"""Rows shared by the CSV readers (generic and fire): text cleaning, date / month / coordinate
parsing, and `build`, which applies the row rules (reject reasons, in order) and makes the loaded
part. One home for these rules: `generic` and `fire` import them from here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hotspot_app.core import schema, settings, taxonomy
from hotspot_app.core.locations import factorize_shared
from hotspot_app.io.ingest import files, geo, incident_ids, rejects as report

_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%y %H:%M", "%d/%m/%y",
                 "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y %H:%M:%S",
                 "%d %b %Y %H:%M", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d-%b-%Y %H:%M:%S",
                 "%d-%b-%y %H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y%m%d")
_MONTH_RE = re.compile(r"^\s*(\d{4})[-/](0?[1-9]|1[0-2])\s*$")


# ----------------------------------------------------------------------------- value parsing
class Coded:
    """A text column as distinct values and one code per row (``values[codes]`` is each row's
    text, stripped; '' for missing). Rules are evaluated once per distinct value and then
    indexed by the codes, so a column of a million rows and a few thousand distinct texts costs a
    few thousand Python operations."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: np.ndarray, values: np.ndarray):
        self.codes = np.asarray(codes)
        self.values = np.asarray(values, dtype=object)

    def __len__(self) -> int:
        return len(self.codes)

    def rows(self) -> np.ndarray:
        """The text of every row (an object array)."""
        return self.values[self.codes]

    def per_row(self, per_value) -> np.ndarray:
        """A per-value array (aligned with `values`) spread to the rows."""
        return np.asarray(per_value)[self.codes]

    def empty(self) -> np.ndarray:
        return self.per_row(np.asarray([v == "" for v in self.values], dtype=bool))

    def with_values(self, values) -> "Coded":
        return Coded(self.codes, values)


def coded(values) -> Coded:
    """Text with surrounding spaces removed ('' for missing) as a `Coded` column: from an Arrow
    (dictionary) column without Python per row, or from any pandas/numpy column."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        codes, uniq = files.codes_values(values)
        codes = codes.astype(np.int32, copy=False)  # (float when the column had nulls)
    else:
        codes, uniq = pd.factorize(pd.Series(values).reset_index(drop=True).astype(object),
                                   use_na_sentinel=True)
        uniq = list(uniq)
        codes = np.where(codes < 0, len(uniq), codes)
        uniq = np.asarray(uniq + [None], dtype=object)
    cleaned = np.array(["" if u is None else str(u).strip() for u in uniq], dtype=object)
    return Coded(codes, cleaned)


def clean(values) -> pd.Series:
    """Text with surrounding spaces removed ('' for missing), computed once per distinct value."""
    return pd.Series(coded(values).rows(), dtype=object)


def values_at(vals, at: np.ndarray) -> np.ndarray:
    """The offending text of rows `at`: `vals` is a `Coded` column, a function of the row
    positions (text built only for the rejected rows), or a per-row array."""
    if isinstance(vals, Coded):
        return vals.values[vals.codes[at]]
    if callable(vals):
        return np.asarray(vals(at), dtype=object)
    return np.asarray(vals, dtype=object)[at]


_TZ_RE = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _parse_iso(s: pd.Series) -> pd.Series:
    """ISO 8601 text -> datetimes at microsecond resolution (any year; NaT when unreadable).
    Values with a UTC offset are converted to UK local time; offsets may be mixed."""
    aware = s.str.contains(_TZ_RE, regex=True).to_numpy(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    if (~aware).any():
        out[~aware] = pd.to_datetime(s[~aware], format="ISO8601", errors="coerce").astype("datetime64[us]")
    if aware.any():
        utc = pd.to_datetime(s[aware], format="ISO8601", errors="coerce", utc=True)
        out[aware] = utc.dt.tz_convert("Europe/London").dt.tz_localize(None).astype("datetime64[us]")
    return out


def to_ns_checked(dates: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(dates as datetime64[ns], out of range) for datetimes of any resolution or time zone:
    dates before `schema.EARLIEST_MONTH` or after `schema.latest_month()` (e.g. ``0024-01-15``,
    which nanoseconds cannot even hold) become NaT and are flagged, so the row is rejected with
    its reason instead of aborting the file."""
    d = pd.Series(dates)
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_convert("Europe/London").dt.tz_localize(None)
    d = d.astype("datetime64[us]")
    months = d.dt.strftime("%Y-%m").where(d.notna(), None)
    far = schema.implausible_months(months.to_numpy(object))
    d = d.where(~far)
    return d.astype("datetime64[ns]").reset_index(drop=True), far


def parse_dates_checked(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(dates, out of range) from text: ISO 8601, then UK day-first forms such as 31/01/2024 or
    01 Jan 2009. Parsed once per distinct value. Blank and unreadable values are NaT (out of
    range False); readable dates outside the plausible months are NaT with out of range True."""
    codes, uniq = pd.factorize(pd.Series(values, dtype=object).fillna("").astype(str).str.strip())
    s = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
    nonblank = s.ne("").to_numpy()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    if nonblank.any():
        out[nonblank] = _parse_iso(s[nonblank])
        for fmt in _DATE_FORMATS:
            rest = (out.isna().to_numpy() & nonblank)
            if not rest.any():
                break
            out[rest] = pd.to_datetime(s[rest], format=fmt, errors="coerce").astype("datetime64[us]")
    ns, far = to_ns_checked(out)
    index = values.index if isinstance(values, pd.Series) else None
    if not len(codes):
        return pd.Series(np.array([], dtype="datetime64[ns]"), index=index), np.zeros(0, dtype=bool)
    return pd.Series(ns.to_numpy()[codes], index=index), far[codes]


def parse_dates(values: pd.Series) -> pd.Series:
    """`parse_dates_checked` without the out-of-range mask (out-of-range dates are NaT)."""
    return parse_dates_checked(values)[0]


def parse_times(values: pd.Series) -> pd.Series:
    """Time-of-day text (HH:MM[:SS]) -> timedelta; blank/unreadable -> NaT."""
    s = pd.Series(values, dtype=object).fillna("").astype(str).str.strip()
    return pd.to_timedelta(s.where(s.str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?"), None).map(
        lambda v: v if v is None or v.count(":") == 2 else v + ":00"), errors="coerce")


def parse_months(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(YYYY-MM strings or None, bad mask) from month text: YYYY-MM, YYYY/MM, or any date.
    Parsed once per distinct value."""
    codes, uniq = pd.factorize(clean(values))
    s = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
    m = s.str.extract(_MONTH_RE)
    out = pd.Series(None, index=s.index, dtype=object)
    ok = m[0].notna()
    out[ok] = m[0][ok] + "-" + m[1][ok].str.zfill(2)
    rest = ~ok & s.ne("")
    if rest.any():
        d = parse_dates(s[rest])
        good = d.notna()
        out[rest[rest].index[good.to_numpy()]] = d[good].dt.strftime("%Y-%m").to_numpy()
    bad = (s.ne("") & out.isna()).to_numpy()
    return pd.Series(out.to_numpy(object)[codes], dtype=object), bad[codes]


def parse_coords(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, precision_m, blank, bad) from coordinate text; masked ``376***`` -> 376500, 1000."""
    s = pd.Series(values, dtype=object).fillna("").astype(str).str.strip()
    blank = s.eq("").to_numpy()
    num = pd.to_numeric(s.where(~s.str.contains(r"\*", regex=False), None), errors="coerce").to_numpy(float, copy=True)
    precision = np.ones(len(s))
    masked = s.str.fullmatch(r"-?\d+\*+").to_numpy(bool)
    if masked.any():
        stars = s[masked].str.count(r"\*").to_numpy()
        digits = pd.to_numeric(s[masked].str.rstrip("*"), errors="coerce").to_numpy(float)
        cell = 10.0 ** stars
        num[masked] = digits * cell + cell / 2
        precision[masked] = cell
    bad = ~blank & ~np.isfinite(num)
    return num, precision, blank, bad


def looks_like_degrees(x: np.ndarray, y: np.ndarray) -> bool:
    """True when every row with both coordinates has |x| <= 180 and |y| <= 90 (and some does)."""
    ok = np.isfinite(x)
    ok &= np.isfinite(y)
    if not ok.any():
        return False
    if not ok.all():
        x, y = x[ok], y[ok]
    # (extremes instead of per-row tests: no arrays the size of the file to allocate)
    return bool(x.min() >= -180 and x.max() <= 180 and y.min() >= -90 and y.max() <= 90)


# ----------------------------------------------------------------------------- shared builder
def blank_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows where every input field is empty."""
    out = np.ones(len(df), dtype=bool)
    for c in df.columns:
        if c != "_row":
            out &= coded(df[c]).empty()
    return out


def _to_bng_distinct(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`geo.to_bng`, computed once per distinct (longitude, latitude)."""
    if not len(lon):
        return geo.to_bng(lon, lat)
    xy = np.ascontiguousarray(np.column_stack([lon, lat]).astype(float)).view(np.complex128).ravel()
    codes, uniq = pd.factorize(xy)
    ux, uy = geo.to_bng(np.real(uniq), np.imag(uniq))
    return ux[codes], uy[codes]


def _rows_of(v, keep: np.ndarray | None = None) -> np.ndarray:
    """A field's per-row values (of the rows in `keep`, when given)."""
    if isinstance(v, Coded):
        return v.values[v.codes if keep is None else v.codes[keep]]
    arr = v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)
    return arr if keep is None else arr[keep]


def _council_rows(kind: np.ndarray, group: np.ndarray, category: np.ndarray):
    """A non-police file none of whose categories is a police or fire category (a council's
    fly-tipping and noise reports) is council reports (kind ``council``): each category is its
    own row of a table (its group is itself), never 'Unknown' crime. A file that holds police
    categories (a force's own export) keeps its unrecognised ones as 'Unknown' crime. Returns
    (kinds, groups, the warning saying so or None)."""
    council = (kind == taxonomy.COUNCIL) & (group == taxonomy.UNKNOWN)
    if not council.any():
        return kind, pd.Series(group, dtype=object), None
    if (group != taxonomy.UNKNOWN).any():  # a police (or fire) export: its odd names are crime
        return np.where(council, "crime", kind).astype(object), pd.Series(group, dtype=object), None
    out = np.where(council & (category != taxonomy.UNKNOWN), category, group)
    names = list(dict.fromkeys(str(c) for c in category[council]))
    n = int(council.sum())
    listed = ", ".join(names[:4]) + (f" and {len(names) - 4:,} more" if len(names) > 4 else "")
    return kind, pd.Series(out, dtype=object), (
        f"{n:,} row{'s' if n != 1 else ''} with categories that are not police or fire categories "
        f"({listed}) {'were' if n != 1 else 'was'} loaded as council reports: their own kind, never "
        "counted in a crime total (a kind column saying 'crime' or 'asb' counts them as such)")


def text_column(values: np.ndarray, codes: np.ndarray) -> pd.Series:
    """Per-row text from distinct `values` (str or None) and row `codes`: an object Series whose
    rows point at the shared distinct strings (8 bytes a row, as the police.uk reader's columns;
    no string is copied or converted per row)."""
    return pd.Series(np.asarray(values, dtype=object)[codes], dtype=object, copy=False)


def _per_value(v, rule) -> np.ndarray:
    """`rule` (text array -> bool array) per row: once per distinct value for a `Coded` field."""
    if isinstance(v, Coded):
        return v.per_row(rule(v.values))
    return rule(pd.Series(v, dtype=object).to_numpy(object))


def _no_category(values: np.ndarray) -> np.ndarray:
    s = pd.Series(values, dtype=object)
    return (s.isna() | s.astype(str).str.strip().eq("")).to_numpy(bool)


def _row_hashes(col) -> np.ndarray:
    """Each row's 64-bit hash of its value's text (``str(value)``; 0 where the value is
    missing), hashed once per distinct value: a `Coded` column by its codes, a categorical by
    its categories, coordinates (floats) and other columns after factorizing them."""
    if isinstance(col, Coded):
        codes, uniq = col.codes, col.values
    elif isinstance(getattr(col, "dtype", None), pd.CategoricalDtype):
        cat = pd.Series(col).array
        codes, uniq = cat.codes, cat.categories.to_numpy(dtype=object)
    elif isinstance(col, np.ndarray) and col.dtype.kind == "f":  # coordinates
        codes, uniq = pd.factorize(col, use_na_sentinel=True)
        uniq = np.asarray(uniq).astype(object)  # Python floats: the same text as before
    else:
        codes, uniq = factorize_shared(col if isinstance(col, pd.Series) and col.dtype == object
                                       else pd.Series(col).astype(object))
    uniq = np.asarray(uniq, dtype=object)
    hashed = incident_ids.hash_values(np.asarray([str(u) for u in uniq], dtype=object))
    hashed[pd.isna(uniq)] = 0
    return np.append(hashed, np.uint64(0))[codes]  # (code -1: missing)


def _generated_ids(content: list, m: int, id_prefix: str) -> pa.Array:
    """Ids for rows without one: ``<id_prefix>-`` and 16 hex digits of a hash of the row's
    content columns in order (each value's text; missing values count as 0), combined with the
    row's occurrence number among rows of equal content, so equal rows get distinct ids and
    the same file gives the same ids on every load."""
    h = np.full(m, np.uint64(0xCBF29CE484222325), dtype=np.uint64)
    for col in content:
        h = incident_ids.combine(h, _row_hashes(col))
    occurrence = incident_ids.occurrence(h)
    h = incident_ids.combine(h, occurrence.astype(np.uint64))
    prefix = np.frombuffer(f"{id_prefix}-".encode(), np.uint8)
    return incident_ids.fixed_strings(np.broadcast_to(prefix, (m, len(prefix))), incident_ids.hex16(h))


def build(label: str, rows: np.ndarray, fields: dict, extras: pd.DataFrame, x: np.ndarray,
          y: np.ndarray, crs: str, rep: report.Report, *, source: str, default_kind: str,
          checks: list, coord_blank: np.ndarray, coord_bad: np.ndarray, coord_text,
          coord_column: str, id_prefix: str = "row", not_point: np.ndarray | None = None,
          kinds=None, month_column: str | None = "month",
          category_column: str | None = "category", make_ids: bool = True) -> files.Part:
    """Validate, reject and build the loaded part for one file.

    `fields`: canonical columns (``incident_id`` may be None, ``occurred``, ``month``,
    ``category``, ``subcategory``, ``location``, ``weight``, ``source``) as arrays/Series, or
    `Coded` text columns (``incident_id`` also as an Arrow string array).
    `checks`: ordered [(mask, reason, column, values)] applied after ``empty row`` and before the
    coordinate checks; values (the offending text) per row, `Coded`, or a function of the row
    positions. `kinds`: per-row kind (or `Coded`) for categories the taxonomy does not know.
    `coord_text` like a check's values.

    After `checks`, two rules hold for every reader: a month outside the plausible range
    (`schema.implausible_months`) is ``date out of range``; an empty category is ``no category``
    (an unrecognised non-empty category is kept, group Unknown).

    Per row only numpy arrays are touched: rules on text run once per distinct value, each
    distinct location becomes one shared shapely Point, and ids stay Arrow strings.

    `make_ids` False (a question that reads no ids, of one file): rows without ids get none; the
    part has no ``incident_id`` column and its keys are the row numbers. Generated ids are unique
    within a file (the occurrence number), so no row is rejected either way.
    """
    n = len(rows)
    reason_at = np.zeros(n, dtype=np.int16)  # 0: kept; k: the k-th rule that applied
    applied: list[tuple] = []

    def apply(mask, why, col, vals):
        mask = np.asarray(mask, dtype=bool) & (reason_at == 0)
        if mask.any():
            applied.append((why, col, vals))
            reason_at[mask] = len(applied)

    apply(fields.pop("_blank", np.zeros(n, bool)), report.EMPTY_ROW, None, None)
    for mask, why, col, vals in checks:
        apply(mask, why, col, vals)
    months = fields["month"]
    apply(_per_value(months, schema.implausible_months), report.DATE_OUT_OF_RANGE, month_column, months)
    apply(_per_value(fields["category"], _no_category), report.NO_CATEGORY, category_column, None)
    if not_point is not None:
        apply(not_point, report.NOT_A_POINT, "geometry", None)
    apply(coord_blank, report.NO_LOCATION, coord_column, None)
    apply(coord_bad | ~(np.isfinite(x) & np.isfinite(y)), report.BAD_COORDINATES, coord_column, coord_text)
    if crs == settings.CRS:
        # longitude/latitude in metre columns: east of Greenwich they would pass as metres and land
        # in the sea by the BNG origin; a file of only degrees was read as WGS84 before this
        apply(geo.in_gb_wgs84(x, y), report.DEGREES_AS_METRES, coord_column, coord_text)
    inside = geo.in_gb_wgs84(x, y) if crs == settings.CRS_WGS84 else geo.in_gb_bng(x, y)
    apply(~inside, report.OUTSIDE_GB, coord_column, coord_text)
    bad = reason_at > 0
    if bad.any():
        at = np.flatnonzero(bad)
        r = reason_at[at] - 1
        whys = np.array([a[0] for a in applied], dtype=object)
        cols = np.array([a[1] for a in applied], dtype=object)
        value = np.full(len(at), None, dtype=object)
        for i, (_, _, vals) in enumerate(applied):
            if vals is not None:
                sel = r == i
                value[sel] = values_at(vals, at[sel])
        rep.reject(report.rejects_frame(label, rows[at], cols[r], whys[r], value))
    keep = ~bad
    all_kept = not bad.any()
    kidx = None if all_kept else keep
    m = int(keep.sum())

    def k(v):
        if v is None:
            return np.full(m, None, dtype=object)
        return _rows_of(v, kidx)

    def k_text(v):
        """A text field of the kept rows (a `Coded` field without Python per row)."""
        if isinstance(v, Coded):
            return text_column(v.values, v.codes if all_kept else v.codes[keep])
        return k(v)

    xk, yk = (x, y) if all_kept else (x[keep], y[keep])
    if crs == settings.CRS_WGS84:
        # each distinct location reprojected once
        bx, by = _to_bng_distinct(xk, yk)
    else:
        bx, by = np.asarray(xk, float), np.asarray(yk, float)
    cat = fields["category"]
    if isinstance(cat, Coded):
        cls_u = taxonomy.classify(pd.Series(cat.values, dtype=object), default_kind=default_kind)
        cat_codes = cat.codes if all_kept else cat.codes[keep]
        cls_rows = {c: text_column(cls_u[c].to_numpy(object), cat_codes) for c in ("category", "group", "kind")}
        cls = {c: cls_u[c].to_numpy(object) for c in ("category", "group", "kind")}
    else:
        cls_f = taxonomy.classify(pd.Series(k(cat), dtype=object), default_kind=default_kind)
        cls_rows = {c: cls_f[c].to_numpy(object) for c in ("category", "group", "kind")}
        cat_codes = None
    kind = cls_rows["kind"]
    if kinds is not None:
        row_kind = k(kinds)
        group = cls_rows["group"] if cat_codes is None else cls["group"][cat_codes]
        kind_rows = np.asarray(kind, dtype=object) if cat_codes is None else cls["kind"][cat_codes]
        unknown = (group == taxonomy.UNKNOWN) & pd.notna(row_kind) & (row_kind != "")
        kind = np.where(unknown, row_kind, kind_rows)
    group_rows = cls_rows["group"]
    if default_kind == taxonomy.COUNCIL:
        kind, group_rows, note = _council_rows(np.asarray(kind, dtype=object),
                                         np.asarray(cls_rows["group"], dtype=object),
                                         np.asarray(cls_rows["category"], dtype=object))
        if note:
            rep.warn(f"{files.shown(label)}: {note}")
    data = {
        "source": k_text(fields["source"]) if fields.get("source") is not None
        else text_column(np.array([source], dtype=object), np.zeros(m, dtype=np.int32)),
        "occurred": pd.Series(k(fields["occurred"])).astype("datetime64[ns]").to_numpy(),
        "month": pd.Series(k(fields["month"]), dtype=object),
        "category": cls_rows["category"],
        "group": group_rows,
        "kind": kind,
        "subcategory": k_text(fields.get("subcategory")),
        "weight": np.asarray(k(fields["weight"]), dtype=float) if fields.get("weight") is not None else np.ones(m),
        "location": k_text(fields.get("location")),
    }
    kept_extras = extras if all_kept or not len(extras.columns) else extras.loc[keep]
    kept_extras = kept_extras.reset_index(drop=True) if len(extras.columns) else pd.DataFrame(index=range(m))
    geometry, uxy, loc_codes = geo.points(bx, by)
    ids = fields.get("incident_id")
    if ids is None and not make_ids:
        ids_arr = None
    elif ids is None:
        def content(name, rows_text):
            """A field of the kept rows as the id reads it: a `Coded` field keeps its codes (its
            distinct texts are hashed once), an absent one is missing on every row."""
            v = fields.get(name)
            if v is None:
                return Coded(np.zeros(m, dtype=np.int32), np.array([None], dtype=object))
            return Coded(v.codes if all_kept else v.codes[keep], v.values) if isinstance(v, Coded) else rows_text
        cols = [content("month", data["month"]),
                Coded(cat_codes, cls["category"]) if cat_codes is not None else data["category"],
                content("subcategory", data["subcategory"]), content("location", data["location"])]
        if (uxy == 0).any():  # (0.0 and -0.0 are one location but two texts: per coordinate)
            cols += [bx, by]
        else:  # each distinct location's easting and northing hashed once
            cols += [Coded(loc_codes, uxy[:, 0].astype(object)), Coded(loc_codes, uxy[:, 1].astype(object))]
        cols += [kept_extras[c] for c in kept_extras.columns]
        ids_arr = _generated_ids(cols, m, id_prefix)
    elif isinstance(ids, (pa.Array, pa.ChunkedArray)):  # (already stripped by the reader)
        ids_arr = ids if all_kept else ids.filter(pa.array(keep))
    else:
        ids_arr = pa.array(pd.Series(k(ids), dtype=object).astype(str).str.strip().to_numpy(object), pa.string())
    if ids_arr is None:  # no ids: the rows' own numbers (never equal)
        keys = np.arange(m, dtype=np.uint64)
    else:
        keys = incident_ids.id_keys(ids_arr)
        src = fields.get("source")
        if src is None:  # every row the reader's source
            s_hash = incident_ids.hash_values(np.array([source], dtype=object))[np.zeros(m, dtype=np.int32)]
        elif isinstance(src, Coded) and not pd.isna(src.values).any():  # each distinct text hashed once
            s_hash = incident_ids.hash_values(src.values)[src.codes if all_kept else src.codes[keep]]
        else:
            s_codes, s_uniq = factorize_shared(pd.Series(data["source"]).astype(object))
            s_hash = incident_ids.hash_values(np.asarray(s_uniq, dtype=object))[s_codes]
        keys = incident_ids.combine(keys, s_hash) if m else keys
    columns = {} if ids_arr is None else {"incident_id": ids_arr.to_pandas() if m else pd.Series([], dtype="str")}
    columns.update(data)
    for c in kept_extras.columns:
        columns[c] = kept_extras[c]
    return files.Part(columns, geometry, keys, [label], np.zeros(m, dtype=np.int32),
                      rows if all_kept else rows[keep])


def extras(df, used: set[str]) -> pd.DataFrame:
    """Extra input columns kept (snake_case names, never clashing with the schema's). `df`: a
    DataFrame or a dict of columns; an Arrow dictionary column is kept as a pandas categorical
    (one copy of each distinct text)."""
    out = {}
    reserved = set(schema.INCIDENT_COLUMNS) | {"x", "y", "location_precision_m"}
    names = list(df.columns) if isinstance(df, pd.DataFrame) else list(df)
    for c in names:
        if c in used or c in ("_row", "geometry") or files.norm(c) in ("group", "source"):
            continue  # group is derived from the taxonomy; source is used as the source
        name = files.snake(c)
        while name in reserved or name in out:
            name += "_in"
        col = df[c]
        if isinstance(col, (pa.Array, pa.ChunkedArray)):
            if isinstance(col, pa.ChunkedArray):
                col = col.unify_dictionaries() if pa.types.is_dictionary(col.type) else col
                col = col.combine_chunks()
            if not pa.types.is_dictionary(col.type):
                col = pc.dictionary_encode(col)
            codes = pc.fill_null(col.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            values = np.asarray(col.dictionary.to_pylist(), dtype=object)  # nulls: code -1
            if len(pd.unique(values)) == len(values):
                out[name] = pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object))
            else:
                out[name] = np.append(values, None)[codes]
        else:
            out[name] = col.to_numpy(object) if col.dtype == object else col.to_numpy()
    if isinstance(df, pd.DataFrame):
        return pd.DataFrame(out, index=df.index)
    return pd.DataFrame(out)


def fill_ids(ids: np.ndarray, empty: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Ids with the empty ones replaced by ``row-<row number>``."""
    out = ids.copy()
    out[empty] = [f"row-{r}" for r in rows[empty]]
    return out


def to_text_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table of text columns as a DataFrame (``_row`` as integers)."""
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if name == "_row":
            cols[name] = col.to_numpy()
        else:
            cols[name] = col.to_pandas()
    return pd.DataFrame(cols)
