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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hotspot_app.core import schema, settings, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import files, geo, rejects as report, rules
from hotspot_app.io import incident_arrow

SPATIAL_SUFFIXES = {".parquet", ".geoparquet", ".geojson", ".json", ".gpkg"}
SOURCE = "generic"


def _rows(n: int) -> str:
    """'1 row', '2 rows', '1,200 rows'."""
    return f"{n:,} row{'s' if n != 1 else ''}"


# ----------------------------------------------------------------------------- generic files
_CANON = ("incident_id", "occurred", "month", "category", "subcategory", "longitude", "latitude",
          "easting", "northing", "weight", "location", "kind")


def read_frame(label: str, df, rows: np.ndarray, rep: report.Report,
               geometry=None, crs=None, blank: np.ndarray | None = None, ids: bool = True) -> files.Part:
    """Shared by CSV and spatial files: `df` holds the attribute columns, a DataFrame (any
    dtypes) or a dict of Arrow columns (the CSV reader's: dictionary-encoded text, the id column
    plain text). Every rule on text runs once per distinct value (`rules.Coded`). `ids` False:
    no generated ids for a file without an id column (`rules.build`)."""
    cols = [c for c in df.columns if c not in ("_row", "geometry")] if isinstance(df, pd.DataFrame) \
        else [c for c in df if c not in ("_row", "geometry")]
    found = {f: schema.find_column(cols, f) for f in _CANON}
    if found["category"] is None:
        raise InputError("no category column (looked for: " + ", ".join(schema.ALIASES["category"][:6])
                         + ", ...)", file=label, column="category")
    if found["occurred"] is None and found["month"] is None:
        raise InputError("no date or month column (looked for: date, occurred, month, ...)",
                         file=label, column="date")
    n = len(rows)
    cache: dict[str, rules.Coded] = {}

    def text_of(c: str) -> rules.Coded:
        if c not in cache:
            cache[c] = rules.coded(df[c])
        return cache[c]

    text = {f: text_of(c) for f, c in found.items() if c is not None and f != "incident_id"}
    checks = []
    # dates and months (per distinct text)
    occurred = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    month = None
    if found["occurred"] is not None:
        raw = df[found["occurred"]]
        oc = text["occurred"]
        if not isinstance(raw, (pa.Array, pa.ChunkedArray)) and pd.api.types.is_datetime64_any_dtype(raw):
            # typed dates (Parquet, GeoPackage)
            # checked once per distinct datetime (police.uk months read back: all NaT)
            dcodes, duniq = pd.factorize(pd.Series(raw).reset_index(drop=True), use_na_sentinel=True)
            dcodes = np.where(dcodes < 0, len(duniq), dcodes)
            occ_u, far_u = rules.to_ns_checked(pd.Series(duniq).reset_index(drop=True))
            occ_u = np.append(occ_u.to_numpy(), np.datetime64("NaT", "ns"))
            far_u = np.append(far_u, False)
            occurred = occ_u[dcodes]
            month = rules.Coded(dcodes, schema.month_of(pd.Series(occ_u)).to_numpy(object))
            checks.append((far_u[dcodes], report.DATE_OUT_OF_RANGE, found["occurred"], oc))
        else:
            occ_u, far_u = rules.parse_dates_checked(pd.Series(oc.values, dtype=object))
            occ_u = occ_u.reset_index(drop=True)
            bad_u = (oc.values != "") & occ_u.isna().to_numpy() & ~far_u
            occurred = occ_u.to_numpy()[oc.codes]
            month = oc.with_values(schema.month_of(occ_u).to_numpy(object))
            checks.append((oc.per_row(far_u), report.DATE_OUT_OF_RANGE, found["occurred"], oc))
            checks.append((oc.per_row(bad_u), report.BAD_DATE, found["occurred"], oc))
    if found["month"] is not None:
        mc = text["month"]
        mvals, bad_month = rules.parse_months(pd.Series(mc.values, dtype=object))
        mvals = mvals.to_numpy(object)
        checks.append((mc.per_row(bad_month), report.BAD_MONTH, found["month"], mc))
        if month is None:
            month = mc.with_values(mvals)
        else:  # the date's month, else the month column's
            missing = month.per_row(pd.isna(month.values))
            month = rules.Coded(np.where(missing, len(month.values) + mc.codes, month.codes),
                                np.concatenate([month.values, mvals]))
    checks.append((month.per_row(pd.isna(month.values)), report.NO_DATE,
                   found["occurred"] or found["month"], None))
    month_column = found["month"] or found["occurred"]
    kinds = None
    if found["kind"] is not None:
        kc = text["kind"]
        lower = np.array([v.lower() for v in kc.values], dtype=object)
        bad_kind = (lower != "") & ~np.isin(lower, taxonomy.KINDS)
        checks.append((kc.per_row(bad_kind), report.BAD_KIND, found["kind"], kc))
        kinds = kc.with_values(lower)
    weight = None
    if found["weight"] is not None:
        wc = text["weight"]
        wv = pd.Series(wc.values, dtype=object)
        w = pd.to_numeric(wv.where(wv.ne(""), "1"), errors="coerce").to_numpy(float)
        checks.append((wc.per_row(~np.isfinite(w)), report.BAD_WEIGHT, found["weight"], wc))
        checks.append((wc.per_row(w < 0), report.NEGATIVE_WEIGHT, found["weight"], wc))
        weight = wc.per_row(np.where(np.isfinite(w), w, 1.0))
    # coordinates
    precision = np.ones(n)
    not_point = None
    if geometry is not None:
        import shapely

        # geometry: per row, or (codes, distinct geometries): tested once per distinct geometry
        if isinstance(geometry, tuple):
            gcodes, geoms = geometry
        else:
            gcodes, geoms = np.arange(n), np.asarray(geometry, dtype=object)
        gtype = shapely.get_type_id(geoms)
        is_empty = pd.isna(pd.Series(geoms, dtype=object)).to_numpy() | shapely.is_empty(geoms)
        not_point = (~is_empty & (gtype != 0))[gcodes]
        pts = np.where(gtype == 0, geoms, None)
        x = shapely.get_x(pts).astype(float)[gcodes]
        y = shapely.get_y(pts).astype(float)[gcodes]
        coord_blank = is_empty[gcodes]
        coord_bad = np.zeros(n, bool)
        coord_column = "geometry"

        def coord_text(at, x=x, y=y):
            return [f"{a},{b}" for a, b in zip(x[at], y[at])]

        crs_s = crs
        if crs_s is None:  # no CRS in the file: decide by the values
            crs_s = settings.CRS_WGS84 if rules.looks_like_degrees(x, y) else settings.CRS
            rep.warn(f"{files.shown(label)}: no CRS given; coordinates look like "
                     f"{'longitude/latitude (WGS84)' if crs_s == settings.CRS_WGS84 else 'British National Grid metres'}")
    else:
        pair = None
        if found["longitude"] is not None and found["latitude"] is not None:
            pair = ("longitude", "latitude", settings.CRS_WGS84)
        if found["easting"] is not None and found["northing"] is not None:
            if pair is None or (text["longitude"].empty().sum() > text["easting"].empty().sum()):
                pair = ("easting", "northing", settings.CRS)
        if pair is None:
            raise InputError("no coordinate columns (need longitude + latitude, or easting + northing)",
                             file=label, column="longitude" if found["longitude"] is None else "latitude")
        xa, ya, crs_s = pair
        xc, yc = text[xa], text[ya]
        xu, pxu, bxu, badxu = rules.parse_coords(pd.Series(xc.values, dtype=object))
        yu, pyu, byu, badyu = rules.parse_coords(pd.Series(yc.values, dtype=object))
        x, y = xc.per_row(xu), yc.per_row(yu)
        if (pxu != 1).any() or (pyu != 1).any():
            precision = np.maximum(xc.per_row(pxu), yc.per_row(pyu))
        coord_blank = xc.per_row(bxu) | yc.per_row(byu)
        coord_bad = xc.per_row(badxu) | yc.per_row(badyu)
        coord_column = found[xa]

        def coord_text(at, xc=xc, yc=yc):
            return xc.values[xc.codes[at]] + "," + yc.values[yc.codes[at]]

        degrees = rules.looks_like_degrees(x, y)
        if crs_s == settings.CRS_WGS84 and not degrees and np.isfinite(x).any():
            rep.warn(f"{files.shown(label)}: columns {found[xa]}/{found[ya]} hold metres, not degrees; read as "
                     "British National Grid easting/northing")
            crs_s = settings.CRS
        elif crs_s == settings.CRS and degrees:
            rep.warn(f"{files.shown(label)}: columns {found[xa]}/{found[ya]} hold degrees, not metres; read as "
                     "WGS84 longitude/latitude")
            crs_s = settings.CRS_WGS84
        if crs_s == settings.CRS_WGS84:
            swapped = (~geo.in_gb_wgs84(x, y)) & geo.in_gb_wgs84(y, x)
            if swapped.any():
                x, y = np.where(swapped, y, x), np.where(swapped, x, y)
                rep.warn(f"{files.shown(label)}: {_rows(int(swapped.sum()))} had longitude and latitude swapped "
                         f"(latitude values looked like longitudes); fixed")
        else:
            swapped = (~geo.in_gb_bng(x, y)) & geo.in_gb_bng(y, x)
            if swapped.any():
                x, y = np.where(swapped, y, x), np.where(swapped, x, y)
                rep.warn(f"{files.shown(label)}: {_rows(int(swapped.sum()))} had easting and northing swapped; fixed")
    used = {c for c in found.values() if c is not None}
    extras = rules.extras(df, used)
    source_col = next((c for c in cols if files.norm(c) == "source"), None)
    if (precision != 1).any():
        extras["location_precision_m"] = precision

    def none_if_empty(c: rules.Coded) -> rules.Coded:
        return c.with_values(np.where(c.values == "", None, c.values))

    fields = {
        "_blank": blank if blank is not None else np.zeros(n, bool),
        "incident_id": None,
        "occurred": occurred, "month": month,
        "category": text["category"],
        "subcategory": none_if_empty(text["subcategory"]) if found["subcategory"] is not None else None,
        "location": none_if_empty(text["location"]) if found["location"] is not None else None,
        "weight": weight,
    }
    if source_col is not None:
        sc = text_of(source_col)
        fields["source"] = sc.with_values(np.where(sc.values == "", SOURCE, sc.values))
    if found["incident_id"] is not None:
        ids = _id_strings(df[found["incident_id"]])
        empty = pc.equal(ids, "").to_numpy(zero_copy_only=False)
        if empty.any():
            rep.warn(f"{files.shown(label)}: {_rows(int(empty.sum()))} without an id got generated ids")
            at = np.flatnonzero(empty)
            index = np.arange(n, dtype=np.int64)
            index[at] = n + np.arange(len(at))
            fill = pa.array([f"row-{r}" for r in rows[at]], ids.type)
            ids = pa.chunked_array(list(_chunks(ids)) + [fill]).take(pa.array(index))
        fields["incident_id"] = ids
    elif ids:
        rep.warn(f"{files.shown(label)}: no id column; each row was given an id made from its fields")
    return rules.build(label, rows, fields, extras, np.asarray(x, float), np.asarray(y, float), crs_s, rep,
                       source=SOURCE, default_kind=taxonomy.COUNCIL, checks=checks, coord_blank=coord_blank,
                       make_ids=ids,
                       coord_bad=coord_bad, coord_text=coord_text, coord_column=coord_column,
                       not_point=not_point, kinds=kinds, month_column=month_column,
                       category_column=found["category"])


def _chunks(arr) -> list:
    return arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]


def _id_strings(col):
    """The id column as Arrow strings with surrounding spaces removed ('' for missing); copied
    only when some id has spaces to remove (an id column is as large as the file's text)."""
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        if col.null_count:
            col = pc.fill_null(col, "")
        if pa.types.is_large_string(col.type) and all(c.nbytes < 2**31 - 1 for c in _chunks(col)):
            col = col.cast(pa.string())  # (the id keys are read from 32-bit offsets)
        if pc.any(pc.match_substring_regex(col, r"^\s|\s$")).as_py():
            col = pc.utf8_trim_whitespace(col)
        return col
    return pa.array(rules.coded(col).rows(), pa.string())


def read_csv(source: files.Source, header: files.Header, rep: report.Report, ids: bool = True) -> files.Part:
    """A generic CSV file (see the module docstring). Read by pyarrow's multi-threaded reader
    with every column but the id dictionary-encoded: rules run once per distinct text. With
    `ids` False a file without an id column gets no generated ids (`rules.build`)."""
    if not header.columns:
        raise InputError("no header row found", file=source.label)
    id_col = schema.find_column(list(header.columns), "incident_id")
    dict_columns = frozenset(files.norm(c) for c in header.columns if c != id_col)
    ct = files.read_csv_table(source, header, rep, dict_columns=dict_columns)
    rep.add_file(source.label, ct.read)
    rep.reject(ct.rejected)
    t = ct.table
    rows = t.column("_row").to_numpy()
    # (a repeated header name keeps its last column, as before)
    columns = {name: t.column(i) for i, name in enumerate(t.column_names) if name != "_row"}
    return read_frame(source.label, columns, rows, rep, blank=_blank(columns, len(rows)), ids=ids)


def _blank(columns: dict, n: int) -> np.ndarray:
    """Rows where every field is empty: Arrow text columns compared without Python per row."""
    blank = np.ones(n, dtype=bool)
    for col in columns.values():
        if not blank.any():
            break
        if isinstance(col, (pa.Array, pa.ChunkedArray)) and not pa.types.is_dictionary(col.type) \
                and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            # empty or only spaces, tested in place (no copy of the column)
            empty = pc.or_kleene(pc.equal(pc.binary_length(col), 0), pc.utf8_is_space(col))
            blank &= pc.fill_null(empty, True).to_numpy(zero_copy_only=False)
        else:
            blank &= rules.coded(col).empty()
    return blank


def _read_geoparquet(path: str, label: str, rep: report.Report):
    """A (Geo)Parquet file read by pyarrow: text columns stay Arrow (rules run per distinct
    text), and each distinct WKB geometry is decoded (and reprojected) once, so police.uk points
    that share snap points cost memory per location, not per row. Returns (columns, rows read,
    (codes, distinct geometries) or None, crs), or None for files this path does not handle
    (then geopandas reads them)."""
    import json

    import pyarrow.parquet as pq

    schema_ = pq.read_schema(path)
    id_col = schema.find_column([str(c) for c in schema_.names], "incident_id")
    # text columns (but the id) decoded straight into dictionary arrays: one copy per distinct text
    wanted = [f.name for f in schema_ if f.name != id_col
              and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))]
    table = pq.read_table(path, read_dictionary=wanted)
    meta = table.schema.metadata or {}
    geom_col, crs, geometry = None, None, None
    if b"geo" in meta:
        geo_meta = json.loads(meta[b"geo"])
        geom_col = geo_meta.get("primary_column")
        info = geo_meta.get("columns", {}).get(geom_col)
        if info is None or str(info.get("encoding", "WKB")).upper() != "WKB" \
                or geom_col not in table.column_names or len(geo_meta.get("columns", {})) != 1:
            return None
        crs = info["crs"] if "crs" in info else "OGC:CRS84"  # the GeoParquet default
    skip = {geom_col}
    if b"pandas" in meta:  # a stored pandas index is not data
        skip |= {c for c in json.loads(meta[b"pandas"]).get("index_columns", []) if isinstance(c, str)}
    columns = {}
    for name in table.column_names:
        if name in skip:
            continue
        col = table.column(name)
        text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type) \
            or (pa.types.is_dictionary(col.type) and pa.types.is_string(col.type.value_type))
        columns[name] = col if text else col.to_pandas()
    n = table.num_rows
    if geom_col is not None:
        import geopandas as gpd

        wkb = table.column(geom_col)
        del table
        codes, distinct = incident_arrow.decode_wkb(wkb)
        del wkb
        if crs is not None:
            gdf = gpd.GeoDataFrame(geometry=gpd.GeoSeries(distinct, crs=crs))
            gdf = _trust_crs(gdf, label, rep).to_crs(settings.CRS)
            distinct = np.asarray(gdf.geometry.values, dtype=object)
            crs = settings.CRS
        geometry = (codes, distinct)
    return columns, n, geometry, crs


def spatial_layers(source: files.Source, layer: str | None = None) -> tuple[list[str | None], list[str]]:
    """(layers to read, layers skipped) of a spatial incident file: `layer` when given (an
    `InputError` lists the layers if it is not there); for a multi-layer GeoPackage every layer
    that has a category column and a date or month column (never just the first), the others
    skipped; else ([None], [])."""
    if source.suffix != ".gpkg":
        if layer is not None:
            raise InputError(f"--layer applies to GeoPackage files, not '{source.suffix}'",
                             file=source.label, parameter="layer")
        return [None], []
    import pyogrio

    try:
        names = [str(n) for n, _ in pyogrio.list_layers(str(source.path))]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(f"cannot read file: {' '.join(str(exc).split())}", file=source.label) from exc
    if layer is not None:
        if layer not in names:
            raise InputError(f"no layer '{layer}' (layers: {', '.join(names)})", file=source.label,
                             parameter="layer")
        return [layer], []
    if len(names) <= 1:
        return [None], []
    holding = []
    for name in names:
        info = pyogrio.read_info(str(source.path), layer=name)
        fields = [str(f) for f in info["fields"]]
        dated = schema.find_column(fields, "occurred") or schema.find_column(fields, "month")
        named = schema.find_column(fields, "category")
        if named and dated:
            holding.append(name)
        elif (named or dated) and int(info.get("features") or 0) > 0:
            # half an incident layer: never skipped quietly (its rows would go unread)
            missing = "date or month column" if named else "category column"
            raise InputError(f"layer '{name}' ({int(info['features']):,} rows) looks like incidents but has no "
                             f"{missing}, so its rows cannot be loaded; fix the layer, or read the other "
                             "layers one by one with --layer NAME", file=source.label, parameter="layer")
    if not holding:
        raise InputError(f"none of its {len(names)} layers ({', '.join(names)}) has a category and a "
                         "date or month column; choose one with --layer NAME", file=source.label,
                         parameter="layer")
    return holding, [n for n in names if n not in holding]


def read_spatial(source: files.Source, rep: report.Report, layer: str | None = None,
                 label: str | None = None) -> files.Part:
    """GeoJSON / GeoPackage / (Geo)Parquet incident files (one layer of a GeoPackage: `layer`,
    counted under `label`)."""
    import geopandas as gpd

    label = label or source.label
    path = str(source.path)
    fast = None
    try:
        if source.suffix in (".parquet", ".geoparquet"):
            fast = _read_geoparquet(path, label, rep)
            if fast is None:
                try:
                    gdf = gpd.read_parquet(path)
                except (ValueError, KeyError):
                    gdf = pd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except InputError:
        raise
    except Exception as exc:  # pyogrio/pyarrow raise many types for unreadable files
        raise InputError(f"cannot read file: {' '.join(str(exc).split())}", file=label) from exc
    if fast is not None:
        columns, n, geometry, crs = fast
        rep.add_file(label, n)
        blank = _blank(columns, n)
        if geometry is not None:
            codes, distinct = geometry
            blank &= pd.isna(pd.Series(distinct, dtype=object)).to_numpy()[codes]
        return read_frame(label, columns, np.arange(1, n + 1), rep, geometry=geometry, crs=crs, blank=blank)
    n = len(gdf)
    rep.add_file(label, n)
    rows = np.arange(1, n + 1)
    df = pd.DataFrame(gdf.drop(columns=[gdf.geometry.name]) if isinstance(gdf, gpd.GeoDataFrame) else gdf)
    df = df.reset_index(drop=True)
    blank = rules.blank_rows(df)
    if isinstance(gdf, gpd.GeoDataFrame):
        crs = None
        if gdf.crs is not None:
            gdf = _trust_crs(gdf, label, rep)
            gdf = gdf.to_crs(settings.CRS)
            crs = settings.CRS
        geoms = gdf.geometry.values
        blank = blank & (pd.isna(pd.Series(np.asarray(geoms, dtype=object))).to_numpy())
        return read_frame(label, df, rows, rep, geometry=np.asarray(geoms, dtype=object), crs=crs,
                          blank=blank)
    return read_frame(label, df, rows, rep, blank=blank)


def _trust_crs(gdf, label: str, rep: report.Report):
    """A declared CRS that every point contradicts (BNG metres declared as degrees, or degrees
    declared as EPSG:27700) is replaced by the one the values fit, with a warning."""
    import shapely

    pts = np.asarray(gdf.geometry.values, dtype=object)
    pts = pts[(shapely.get_type_id(pts) == 0) & ~shapely.is_empty(pts)] if len(pts) else pts
    if not len(pts):
        return gdf
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    if gdf.crs.is_geographic and geo.in_gb_bng(x, y).all() and ((np.abs(x) > 180) | (np.abs(y) > 90)).all():
        rep.warn(f"{files.shown(label)}: declares {gdf.crs.to_string()} (degrees) but its coordinates are British "
                 "National Grid metres; read as EPSG:27700")
        return gdf.set_crs(settings.CRS, allow_override=True)
    if gdf.crs.is_projected and geo.in_gb_wgs84(x, y).all():
        rep.warn(f"{files.shown(label)}: declares {gdf.crs.to_string()} (metres) but its coordinates are "
                 "longitude/latitude degrees; read as WGS84 (EPSG:4326)")
        return gdf.set_crs(settings.CRS_WGS84, allow_override=True)
    return gdf
