"""Generic incident files: CSV, Parquet/GeoParquet, GeoJSON, GeoPackage.

Columns are found by the case-insensitive aliases of `schema.ALIASES`:

- required: ``category``; ``date`` (or another ``occurred`` alias) and/or ``month``; a location,
  either a point geometry (spatial files) or ``longitude`` + ``latitude`` or ``easting`` +
  ``northing`` (``x``/``y`` also accepted). A missing required column is an `InputError` naming
  the file and the column.
- optional: ``id`` (when the column is absent, ids are generated from a hash of the row's own
  fields, as for police.uk ASB: ``row-<16 hex>``; a row with an empty id gets
  ``row-<row number>``, with a warning), ``subcategory``, ``location``, ``weight``, ``kind``
  (crime | asb | fire; used for categories the taxonomy does not know), ``source``.

Coordinates: longitude/latitude are WGS84 degrees and easting/northing BNG metres, unless the values
say otherwise (degrees in easting/northing columns, or metres in longitude/latitude columns),
which is then used and reported in a warning. Rows whose longitude/latitude are swapped (the
latitude looks like a British longitude and vice versa) are fixed and counted in a warning.
Masked coordinates such as ``376***`` are placed at the centre of their cell (376500) and the
cell size is recorded in ``location_precision_m``.

Rows are rejected (one reason each, first that applies): ``empty row``, ``bad date`` /
``bad month`` (a value that cannot be read; an empty date with a month is fine), ``bad kind``,
``bad weight``, ``no location``, ``bad coordinates``, ``not a point geometry``, ``outside Great
Britain``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import schema, settings, taxonomy
from ..errors import InputError
from . import files, geo, report

SPATIAL_SUFFIXES = {".parquet", ".geoparquet", ".geojson", ".json", ".gpkg"}
SOURCE = "generic"

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
            hashed = np.append(geo.hash_values(np.asarray([str(u) for u in uniq], dtype=object)),
                               np.uint64(0))
            h = geo.combine(h, hashed[codes])
        occurrence = geo.occurrence(h)
        h = geo.combine(h, occurrence.astype(np.uint64))
        ids_arr = np.array([f"{id_prefix}-{v}" for v in geo.hex16(h).astype(str)], dtype=object)
    else:
        ids_arr = pd.Series(k(ids), dtype=object).astype(str).str.strip().to_numpy(object)
    frame = pd.DataFrame({"incident_id": ids_arr, **data,
                          "x": bx, "y": by})
    for c in kept_extras.columns:
        frame[c] = kept_extras[c].to_numpy()
    gdf = schema.make_incidents(frame, x="x", y="y", crs=settings.CRS, source=source,
                                default_kind=default_kind)
    keys = geo.hash_values(gdf["incident_id"].astype(object).to_numpy(object))
    keys = geo.combine(keys, geo.hash_values(gdf["source"].astype(object).to_numpy(object)))
    columns = {c: gdf[c].reset_index(drop=True) for c in gdf.columns if c != "geometry"}
    return files.Part(columns, np.asarray(gdf.geometry.values, dtype=object), keys, [label],
                      np.zeros(m, dtype=np.int32), rows[keep])


# ----------------------------------------------------------------------------- generic files
_CANON = ("incident_id", "occurred", "month", "category", "subcategory", "longitude", "latitude",
          "easting", "northing", "weight", "location", "kind")


def _extras(df: pd.DataFrame, used: set[str]) -> pd.DataFrame:
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


def read_frame(label: str, df: pd.DataFrame, rows: np.ndarray, rep: report.Report,
               geometry=None, crs=None, blank: np.ndarray | None = None) -> files.Part:
    """Shared by CSV and spatial files: `df` holds the attribute columns (any dtypes)."""
    cols = [c for c in df.columns if c not in ("_row", "geometry")]
    found = {f: schema.find_column(cols, f) for f in _CANON}
    if found["category"] is None:
        raise InputError("no category column (looked for: " + ", ".join(schema.ALIASES["category"][:6])
                         + ", ...)", file=label, column="category")
    if found["occurred"] is None and found["month"] is None:
        raise InputError("no date or month column (looked for: date, occurred, month, ...)",
                         file=label, column="date")
    n = len(df)
    text = {f: clean(df[c]) for f, c in found.items() if c is not None}
    checks = []
    # dates and months
    occurred = pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    month = pd.Series(None, index=range(n), dtype=object)
    if found["occurred"] is not None:
        raw = df[found["occurred"]]
        if pd.api.types.is_datetime64_any_dtype(raw):  # typed dates (Parquet, GeoPackage)
            if getattr(raw.dt, "tz", None) is not None:
                raw = raw.dt.tz_convert("Europe/London").dt.tz_localize(None)
            occurred = raw.astype("datetime64[ns]").reset_index(drop=True)
            bad_date = np.zeros(n, dtype=bool)
        else:
            occurred = parse_dates(text["occurred"]).reset_index(drop=True)
            bad_date = (text["occurred"].ne("").to_numpy() & occurred.isna().to_numpy())
        checks.append((bad_date, report.BAD_DATE, found["occurred"], text["occurred"].to_numpy(object)))
        month = pd.Series(schema.month_of(occurred).to_numpy(object), dtype=object)
    if found["month"] is not None:
        mvals, bad_month = parse_months(text["month"].reset_index(drop=True))
        checks.append((bad_month, report.BAD_MONTH, found["month"], text["month"].to_numpy(object)))
        month = month.where(month.notna(), mvals)
    checks.append((month.isna().to_numpy(), report.NO_DATE, found["occurred"] or found["month"], None))
    kinds = None
    if found["kind"] is not None:
        kinds = text["kind"].str.lower().to_numpy(object)
        bad_kind = (kinds != "") & ~np.isin(kinds, taxonomy.KINDS)
        checks.append((bad_kind, report.BAD_KIND, found["kind"], text["kind"].to_numpy(object)))
    weight = None
    if found["weight"] is not None:
        w = pd.to_numeric(text["weight"].where(text["weight"].ne(""), "1"), errors="coerce").to_numpy(float)
        checks.append((~np.isfinite(w), report.BAD_WEIGHT, found["weight"], text["weight"].to_numpy(object)))
        weight = np.where(np.isfinite(w), w, 1.0)
    # coordinates
    precision = np.ones(n)
    not_point = None
    if geometry is not None:
        geoms = np.asarray(geometry, dtype=object)
        import shapely

        gtype = shapely.get_type_id(geoms)
        is_empty = pd.isna(pd.Series(geoms, dtype=object)).to_numpy() | shapely.is_empty(geoms)
        not_point = ~is_empty & (gtype != 0)
        pts = np.where(gtype == 0, geoms, None)
        x = shapely.get_x(pts).astype(float)
        y = shapely.get_y(pts).astype(float)
        coord_blank = is_empty
        coord_bad = np.zeros(n, bool)
        coord_column = "geometry"
        coord_text = np.array([f"{a},{b}" for a, b in zip(x, y)], dtype=object)
        crs_s = crs
        if crs_s is None:  # no CRS in the file: decide by the values
            crs_s = settings.CRS_WGS84 if looks_like_degrees(x, y) else settings.CRS
            rep.warn(f"{label}: no CRS given; coordinates look like "
                     f"{'longitude/latitude (WGS84)' if crs_s == settings.CRS_WGS84 else 'British National Grid metres'}")
    else:
        pair = None
        if found["longitude"] is not None and found["latitude"] is not None:
            pair = ("longitude", "latitude", settings.CRS_WGS84)
        if found["easting"] is not None and found["northing"] is not None:
            if pair is None or (text["longitude"].eq("").sum() > text["easting"].eq("").sum()):
                pair = ("easting", "northing", settings.CRS)
        if pair is None:
            raise InputError("no coordinate columns (need longitude + latitude, or easting + northing)",
                             file=label, column="longitude" if found["longitude"] is None else "latitude")
        xa, ya, crs_s = pair
        x, px, bx_, badx = parse_coords(text[xa])
        y, py, by_, bady = parse_coords(text[ya])
        precision = np.maximum(px, py)
        coord_blank = bx_ | by_
        coord_bad = badx | bady
        coord_column = found[xa]
        coord_text = (text[xa] + "," + text[ya]).to_numpy(object)
        degrees = looks_like_degrees(x, y)
        if crs_s == settings.CRS_WGS84 and not degrees and np.isfinite(x).any():
            rep.warn(f"{label}: columns {found[xa]}/{found[ya]} hold metres, not degrees; read as "
                     "British National Grid easting/northing")
            crs_s = settings.CRS
        elif crs_s == settings.CRS and degrees:
            rep.warn(f"{label}: columns {found[xa]}/{found[ya]} hold degrees, not metres; read as "
                     "WGS84 longitude/latitude")
            crs_s = settings.CRS_WGS84
        if crs_s == settings.CRS_WGS84:
            x0, y0, x1, y1 = settings.GB_BOUNDS_WGS84
            swapped = (~geo.in_gb_wgs84(x, y)) & geo.in_gb_wgs84(y, x)
            if swapped.any():
                x, y = np.where(swapped, y, x), np.where(swapped, x, y)
                rep.warn(f"{label}: {int(swapped.sum())} rows had longitude and latitude swapped "
                         f"(latitude values looked like longitudes); fixed")
        else:
            swapped = (~geo.in_gb_bng(x, y)) & geo.in_gb_bng(y, x)
            if swapped.any():
                x, y = np.where(swapped, y, x), np.where(swapped, x, y)
                rep.warn(f"{label}: {int(swapped.sum())} rows had easting and northing swapped; fixed")
    used = {c for c in found.values() if c is not None}
    extras = _extras(df, used)
    source_col = next((c for c in cols if files.norm(c) == "source"), None)
    if (precision != 1).any():
        extras["location_precision_m"] = precision
    fields = {
        "_blank": blank if blank is not None else np.zeros(n, bool),
        "incident_id": text["incident_id"] if found["incident_id"] is not None else None,
        "occurred": occurred, "month": month,
        "category": text["category"].to_numpy(object),
        "subcategory": text["subcategory"].where(text["subcategory"].ne(""), None).to_numpy(object)
        if found["subcategory"] is not None else None,
        "location": text["location"].where(text["location"].ne(""), None).to_numpy(object)
        if found["location"] is not None else None,
        "weight": weight,
    }
    if source_col is not None:
        src_text = clean(df[source_col])
        fields["source"] = src_text.where(src_text.ne(""), SOURCE).to_numpy(object)
    if found["incident_id"] is not None:
        empty_id = text["incident_id"].eq("").to_numpy()
        if empty_id.any():
            rep.warn(f"{label}: {int(empty_id.sum())} rows without an id got generated ids")
            fields["incident_id"] = _fill_ids(text["incident_id"].to_numpy(object), empty_id, rows)
    else:
        rep.warn(f"{label}: no id column; ids generated from each row's fields (row-<hash>)")
    return build(label, rows, fields, extras, np.asarray(x, float), np.asarray(y, float), crs_s, rep,
                 source=SOURCE, default_kind="crime", checks=checks, coord_blank=coord_blank,
                 coord_bad=coord_bad, coord_text=coord_text, coord_column=coord_column,
                 not_point=not_point, kinds=kinds)


def _fill_ids(ids: np.ndarray, empty: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = ids.copy()
    out[empty] = [f"row-{r}" for r in rows[empty]]
    return out


def read_csv(source: files.Source, header: files.Header, rep: report.Report) -> files.Part:
    """A generic CSV file (see the module docstring)."""
    if not header.columns:
        raise InputError("no header row found", file=source.label)
    ct = files.read_csv_table(source, header, rep)
    rep.add_file(source.label, ct.read)
    rep.reject(ct.rejected)
    df = _to_text_frame(ct.table)
    rows = df.pop("_row").to_numpy()
    return read_frame(source.label, df, rows, rep, blank=blank_rows(df))


def _to_text_frame(table: pa.Table) -> pd.DataFrame:
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if name == "_row":
            cols[name] = col.to_numpy()
        else:
            cols[name] = col.to_pandas()
    return pd.DataFrame(cols)


def read_spatial(source: files.Source, rep: report.Report) -> files.Part:
    """GeoJSON / GeoPackage / (Geo)Parquet incident files."""
    import geopandas as gpd

    path = str(source.path)
    try:
        if source.suffix in (".parquet", ".geoparquet"):
            try:
                gdf = gpd.read_parquet(path)
            except (ValueError, KeyError):
                gdf = pd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, engine="pyogrio")
    except InputError:
        raise
    except Exception as exc:  # pyogrio/pyarrow raise many types for unreadable files
        raise InputError(f"cannot read file: {' '.join(str(exc).split())}", file=source.label) from exc
    n = len(gdf)
    rep.add_file(source.label, n)
    rows = np.arange(1, n + 1)
    df = pd.DataFrame(gdf.drop(columns=[gdf.geometry.name]) if isinstance(gdf, gpd.GeoDataFrame) else gdf)
    df = df.reset_index(drop=True)
    blank = blank_rows(df)
    if isinstance(gdf, gpd.GeoDataFrame):
        crs = None
        if gdf.crs is not None:
            gdf = gdf.to_crs(settings.CRS)
            crs = settings.CRS
        geoms = gdf.geometry.values
        blank = blank & (pd.isna(pd.Series(np.asarray(geoms, dtype=object))).to_numpy())
        return read_frame(source.label, df, rows, rep, geometry=np.asarray(geoms, dtype=object), crs=crs,
                          blank=blank)
    return read_frame(source.label, df, rows, rep, blank=blank)
