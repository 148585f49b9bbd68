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


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates from text (ISO 8601, then UK day-first forms such as 31/01/2024 or 01 Jan 2009).

    Parsed once per distinct value. Blank and unreadable values are NaT.
    """
    codes, uniq = pd.factorize(pd.Series(values, dtype=object).fillna("").astype(str).str.strip())
    s = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
    nonblank = s.ne("").to_numpy()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if nonblank.any():
        iso = pd.to_datetime(s[nonblank], format="ISO8601", errors="coerce")
        if getattr(iso.dt, "tz", None) is not None:
            iso = iso.dt.tz_convert("Europe/London").dt.tz_localize(None)
        out[nonblank] = iso.astype("datetime64[ns]")
        for fmt in _DATE_FORMATS:
            rest = (out.isna().to_numpy() & nonblank)
            if not rest.any():
                break
            out[rest] = pd.to_datetime(s[rest], format=fmt, errors="coerce").astype("datetime64[ns]")
    res = out.to_numpy()[codes] if len(codes) else np.array([], dtype="datetime64[ns]")
    return pd.Series(res, index=values.index if isinstance(values, pd.Series) else None)


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
          kinds: np.ndarray | None = None) -> files.Part:
    """Validate, reject and build the loaded part for one file.

    `fields`: canonical columns (``incident_id`` may be None, ``occurred``, ``month``,
    ``category``, ``subcategory``, ``location``, ``weight``, ``source``) as arrays/Series.
    `checks`: ordered [(mask, reason, column, values)] applied after ``empty row`` and before the
    coordinate checks. `kinds`: per-row kind for categories the taxonomy does not know.
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
