"""Rows shared by the CSV readers (generic and fire): text cleaning, date / month / coordinate
parsing, and `build`, which applies the row rules (reject reasons, in order) and makes the loaded
part. One home for these rules: `generic` and `fire` import them from here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import schema, settings, taxonomy
from . import files, geo, incident_ids, report

_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%y %H:%M", "%d/%m/%y",
                 "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y %H:%M:%S",
                 "%d %b %Y %H:%M", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d-%b-%Y %H:%M:%S",
                 "%d-%b-%y %H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y%m%d")
_MONTH_RE = re.compile(r"^\s*(\d{4})[-/](0?[1-9]|1[0-2])\s*$")


# ----------------------------------------------------------------------------- value parsing
def clean(values) -> pd.Series:
    """Text with surrounding spaces removed ('' for missing), computed once per distinct value."""
    s = pd.Series(values).reset_index(drop=True)
    codes, uniq = pd.factorize(s.astype(object), use_na_sentinel=True)
    cleaned = np.array(["" if u is None else str(u).strip() for u in uniq] + [""], dtype=object)
    return pd.Series(cleaned[codes], dtype=object)


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
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return False
    return bool((np.abs(x[ok]) <= 180).all() and (np.abs(y[ok]) <= 90).all())


# ----------------------------------------------------------------------------- shared builder
def blank_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows where every input field is empty."""
    out = np.ones(len(df), dtype=bool)
    for c in df.columns:
        if c != "_row":
            out &= clean(df[c]).eq("").to_numpy()
    return out


def build(label: str, rows: np.ndarray, fields: dict, extras: pd.DataFrame, x: np.ndarray,
          y: np.ndarray, crs: str, rep: report.Report, *, source: str, default_kind: str,
          checks: list, coord_blank: np.ndarray, coord_bad: np.ndarray, coord_text: np.ndarray,
          coord_column: str, id_prefix: str = "row", not_point: np.ndarray | None = None,
          kinds: np.ndarray | None = None, month_column: str | None = "month",
          category_column: str | None = "category") -> files.Part:
    """Validate, reject and build the loaded part for one file.

    `fields`: canonical columns (``incident_id`` may be None, ``occurred``, ``month``,
    ``category``, ``subcategory``, ``location``, ``weight``, ``source``) as arrays/Series.
    `checks`: ordered [(mask, reason, column, values)] applied after ``empty row`` and before the
    coordinate checks. `kinds`: per-row kind for categories the taxonomy does not know.

    After `checks`, two rules hold for every reader: a month outside the plausible range
    (`schema.implausible_months`) is ``date out of range``; an empty category is ``no category``
    (an unrecognised non-empty category is kept, group Unknown).
    """
    n = len(rows)
    reason = np.full(n, None, dtype=object)
    column = np.full(n, None, dtype=object)
    value = np.full(n, None, dtype=object)

    def apply(mask, why, col, vals):
        mask = np.asarray(mask, dtype=bool) & (reason == None)  # noqa: E711
        reason[mask] = why
        column[mask] = col
        if vals is not None:
            value[mask] = np.asarray(vals, dtype=object)[mask]

    apply(fields.pop("_blank", np.zeros(n, bool)), report.EMPTY_ROW, None, None)
    for mask, why, col, vals in checks:
        apply(mask, why, col, vals)
    months = pd.Series(fields["month"], dtype=object).to_numpy(object)
    apply(schema.implausible_months(months), report.DATE_OUT_OF_RANGE, month_column, months)
    cats_in = pd.Series(fields["category"], dtype=object)
    apply((cats_in.isna() | cats_in.astype(str).str.strip().eq("")).to_numpy(bool), report.NO_CATEGORY,
          category_column, None)
    if not_point is not None:
        apply(not_point, report.NOT_A_POINT, "geometry", None)
    apply(coord_blank, report.NO_LOCATION, coord_column, None)
    apply(coord_bad | ~(np.isfinite(x) & np.isfinite(y)), report.BAD_COORDINATES, coord_column, coord_text)
    inside = geo.in_gb_wgs84(x, y) if crs == settings.CRS_WGS84 else geo.in_gb_bng(x, y)
    apply(~inside, report.OUTSIDE_GB, coord_column, coord_text)
    bad = reason != None  # noqa: E711
    if bad.any():
        rep.reject(report.rejects_frame(label, rows[bad], column[bad], reason[bad], value[bad]))
    keep = ~bad
    m = int(keep.sum())

    def k(v):
        if v is None:
            return np.full(m, None, dtype=object)
        arr = v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)
        return arr[keep]

    if crs == settings.CRS_WGS84:
        bx, by = geo.to_bng(x[keep], y[keep])
    else:
        bx, by = x[keep], y[keep]
    cats = pd.Series(k(fields["category"]), dtype=object)
    cls = taxonomy.classify(cats, default_kind=default_kind)
    kind = cls["kind"].to_numpy(object)
    if kinds is not None:
        row_kind = k(kinds)
        unknown = (cls["group"].to_numpy(object) == taxonomy.UNKNOWN) & pd.notna(row_kind) & (row_kind != "")
        kind = np.where(unknown, row_kind, kind)
    data = {
        "category": cls["category"].to_numpy(object),
        "group": cls["group"].to_numpy(object),
        "kind": kind,
        "occurred": pd.Series(k(fields["occurred"])).astype("datetime64[ns]").to_numpy(),
        "month": k(fields["month"]),
        "subcategory": k(fields.get("subcategory")),
        "location": k(fields.get("location")),
        "weight": np.asarray(k(fields["weight"]), dtype=float) if fields.get("weight") is not None else np.ones(m),
        "source": k(fields["source"]) if fields.get("source") is not None else np.full(m, source, dtype=object),
    }
    kept_extras = extras.loc[keep].reset_index(drop=True) if len(extras.columns) else pd.DataFrame(index=range(m))
    ids = fields.get("incident_id")
    if ids is None:
        content = [data["month"], data["category"], data["subcategory"], data["location"],
                   bx, by] + [kept_extras[c].to_numpy(object) for c in kept_extras.columns]
        h = np.full(m, np.uint64(0xCBF29CE484222325), dtype=np.uint64)
        for col in content:
            codes, uniq = pd.factorize(pd.Series(col).astype(object), use_na_sentinel=True)
            hashed = np.append(incident_ids.hash_values(np.asarray([str(u) for u in uniq], dtype=object)),
                               np.uint64(0))
            h = incident_ids.combine(h, hashed[codes])
        occurrence = incident_ids.occurrence(h)
        h = incident_ids.combine(h, occurrence.astype(np.uint64))
        ids_arr = np.array([f"{id_prefix}-{v}" for v in incident_ids.hex16(h).astype(str)], dtype=object)
    else:
        ids_arr = pd.Series(k(ids), dtype=object).astype(str).str.strip().to_numpy(object)
    frame = pd.DataFrame({"incident_id": ids_arr, **data,
                          "x": bx, "y": by})
    for c in kept_extras.columns:
        frame[c] = kept_extras[c].to_numpy()
    gdf = schema.make_incidents(frame, x="x", y="y", crs=settings.CRS, source=source,
                                default_kind=default_kind)
    keys = incident_ids.hash_values(gdf["incident_id"].astype(object).to_numpy(object))
    keys = incident_ids.combine(keys, incident_ids.hash_values(gdf["source"].astype(object).to_numpy(object)))
    columns = {c: gdf[c].reset_index(drop=True) for c in gdf.columns if c != "geometry"}
    return files.Part(columns, np.asarray(gdf.geometry.values, dtype=object), keys, [label],
                      np.zeros(m, dtype=np.int32), rows[keep])


def extras(df: pd.DataFrame, used: set[str]) -> pd.DataFrame:
    """Extra input columns kept (snake_case names, never clashing with the schema's)."""
    out = {}
    reserved = set(schema.INCIDENT_COLUMNS) | {"x", "y", "location_precision_m"}
    for c in df.columns:
        if c in used or c in ("_row", "geometry") or files.norm(c) in ("group", "source"):
            continue  # group is derived from the taxonomy; source is used as the source
        name = files.snake(c)
        while name in reserved or name in out:
            name += "_in"
        out[name] = df[c].to_numpy(object) if df[c].dtype == object else df[c].to_numpy()
    return pd.DataFrame(out, index=df.index)


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
