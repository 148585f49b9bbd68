"""Incident and area schemas (docs/design.md §3), column aliases, and the constructors every ingest path
and every test uses to build canonical tables.

Incidents: GeoDataFrame in EPSG:27700 with columns `INCIDENT_COLUMNS` first, extra input
columns after them. Areas: GeoDataFrame in EPSG:27700 with `AREA_COLUMNS`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import settings, taxonomy
from hotspot_app.core.errors import InputError

INCIDENT_COLUMNS: list[str] = [
    "incident_id", "source", "occurred", "month", "category", "group", "kind",
    "subcategory", "weight", "location", "geometry",
]
AREA_COLUMNS: list[str] = ["area_id", "name", "layer", "population", "geometry"]
AREA_LAYERS = ("ward", "local_authority", "town_centre", "micro_hotspot", "patrol", "custom")
INTERVENTION_COLUMNS: list[str] = [
    "intervention_id", "name", "type", "area_id", "start", "end", "radius_m", "notes", "geometry",
]
INTERVENTION_TYPES = ("patrols", "cctv", "lighting", "closure", "other")

#: Case-insensitive aliases of input columns, per canonical field (generic ingest uses these).
ALIASES: dict[str, list[str]] = {
    "incident_id": ["id", "incident_id", "incident id", "crime id", "crime_id", "crime reference",
                    "reference", "ref", "incident number", "incidentnumber", "occurrence id"],
    "occurred": ["occurred", "date", "datetime", "date_time", "occurred_at", "date of offence",
                 "committed", "incident date", "dateofcall", "date of call", "reported date"],
    "month": ["month", "yyyy-mm", "period"],
    "category": ["category", "crime type", "crime_type", "offence", "offence type",
                 "offence_type", "type", "incident type", "classification"],
    "subcategory": ["subcategory", "sub_category", "sub category", "subtype", "offence subgroup",
                    "property type", "propertytype"],
    "longitude": ["longitude", "lon", "long", "lng", "x_wgs84"],
    "latitude": ["latitude", "lat", "y_wgs84"],
    "easting": ["easting", "x", "east", "eastings", "x coordinate", "x_coordinate", "easting_m",
                "bng_x"],
    "northing": ["northing", "y", "north", "northings", "y coordinate", "y_coordinate",
                 "northing_m", "bng_y"],
    "weight": ["weight", "harm", "cost", "harm_score"],
    "location": ["location", "address", "street", "place"],
    "kind": ["kind"],
}


#: Provider of each source when the file does not say: police.uk's force is in `falls_within`.
PROVIDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "police-uk": ("falls_within", "reported_by"),
    "fire": ("fire_service", "fire_and_rescue_service", "frs", "service", "brigade"),
}
PROVIDER_DEFAULTS: dict[str, str] = {"police-uk": "police.uk", "fire": "fire service"}
#: Provider of generic files unless ``--provider NAME`` says otherwise.
GENERIC_PROVIDER = "generic"


def provider_of(incidents: pd.DataFrame, generic: str | None = None) -> pd.Series:
    """Who published each incident (docs/design.md §5b): police.uk's ``Falls within`` force (e.g.
    "Cleveland Police"), the fire service named in a fire extract (else "fire service"), or
    `generic` (``--provider NAME``, default "generic") for other sources. A ``provider`` value
    already present in the table is kept. Workspace loads replace rows by (source, provider,
    month), so this is the ONE place that decides it."""
    n = len(incidents)
    if "source" in incidents.columns:  # compared once per distinct source text
        s_codes, s_text, s_known = _stripped_codes(incidents["source"])
    else:
        s_codes, s_text, s_known = np.zeros(n, dtype=np.int64), np.array([None], dtype=object), np.zeros(1, bool)

    def of(source: str) -> np.ndarray:
        return (s_known & (s_text == source))[s_codes]

    out, known = (_stripped(incidents["provider"]) if "provider" in incidents.columns
                  else (np.full(n, None, dtype=object), np.zeros(n, bool)))
    for source, columns in PROVIDER_COLUMNS.items():
        of_source = of(source)
        rows = of_source & ~known
        for col in columns:
            if not rows.any() or col not in incidents.columns:
                continue
            val, val_known = _stripped(incidents[col])
            take = rows & val_known
            out[take] = val[take]
            known |= take
            rows = of_source & ~known
    for source, default in PROVIDER_DEFAULTS.items():
        rows = of(source) & ~known
        out[rows] = default
        known |= rows
    out[~known] = (generic or "").strip() or GENERIC_PROVIDER
    return pd.Series(out, index=incidents.index, dtype=object)


def _stripped(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(text with surrounding spaces removed, True where there is any): None for missing or
    blank, each distinct value handled once (a national year has millions of rows and a
    handful of forces)."""
    codes, text, known = _stripped_codes(values)
    return text[codes], known[codes]


def _stripped_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_stripped` per distinct value: (each row's code, the stripped text of each code or None,
    True where there is any text)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniq = values.cat.codes.to_numpy(), values.cat.categories
    else:
        from hotspot_app.core.locations import factorize_shared

        codes, uniq = factorize_shared(values.astype(object))
    text = [str(v).strip() for v in uniq]
    clean = np.array([t or None for t in text] + [None], dtype=object)
    codes = np.where(codes < 0, len(text), codes)
    return codes, clean, np.array([bool(t) for t in text] + [False], dtype=bool)


def find_column(columns: Iterable[str], field: str) -> str | None:
    """The input column matching `field`'s aliases (case- and space-insensitive), or None."""
    norm = {" ".join(str(c).strip().lower().replace("_", " ").split()): c for c in columns}
    for alias in ALIASES[field]:
        key = " ".join(alias.lower().replace("_", " ").split())
        if key in norm:
            return norm[key]
    return None


#: The earliest month an incident may fall in; earlier dates (``0024-01-15``, month ``0000-01``)
#: are typing errors and are rejected as ``date out of range``, as are months after December of
#: next year (`latest_month`).
EARLIEST_MONTH: str = "1990-01"


def latest_month(today: _dt.date | None = None) -> str:
    """The last plausible month: December of next year (``YYYY-12``)."""
    return f"{(today or _dt.date.today()).year + 1:04d}-12"


def implausible_months(months) -> np.ndarray:
    """True where a ``YYYY-MM`` month (text) is before `EARLIEST_MONTH` or after `latest_month`;
    missing values are False (they are a different problem)."""
    s = pd.Series(months, dtype=object)
    known = s.notna().to_numpy() & s.astype(str).str.fullmatch(r"\d{4}-\d{2}").to_numpy(bool)
    text = s.astype(str).to_numpy(object)
    out = np.zeros(len(s), dtype=bool)
    out[known] = (text[known] < EARLIEST_MONTH) | (text[known] > latest_month())
    return out


def month_of(occurred: pd.Series) -> pd.Series:
    """YYYY-MM strings for a datetime series (None where NaT)."""
    out = occurred.dt.strftime("%Y-%m")
    return out.where(occurred.notna(), None)


def make_incidents(
    data: pd.DataFrame | dict,
    *,
    x: str | np.ndarray = "x",
    y: str | np.ndarray = "y",
    crs: str = settings.CRS,
    source: str = "generic",
    default_kind: str = "crime",
) -> gpd.GeoDataFrame:
    """Build a canonical incidents GeoDataFrame (EPSG:27700) from plain columns.

    `data` needs `category` and either `occurred` (datetime-like) or `month` (YYYY-MM); `x`/`y`
    name coordinate columns (or are arrays) in `crs`. Missing optional columns get defaults:
    `incident_id` = source-rownumber, `weight` = 1, `subcategory`/`location` = None.
    `category` is canonicalised and `group`/`kind` derived from the taxonomy, unless `group` and
    `kind` are given. Other columns are kept after the schema columns. The input is not mutated.
    """
    df = pd.DataFrame(data).copy()
    n = len(df)
    xs = np.asarray(df[x] if isinstance(x, str) else x, dtype=float)
    ys = np.asarray(df[y] if isinstance(y, str) else y, dtype=float)
    df = df.drop(columns=[c for c in (x, y) if isinstance(c, str) and c in df.columns])
    if "category" not in df.columns:
        raise InputError("incidents need a 'category' column", column="category")
    if "occurred" in df.columns:
        df["occurred"] = pd.to_datetime(df["occurred"])
    else:
        df["occurred"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if "month" not in df.columns:
        if df["occurred"].isna().any():
            raise InputError("incidents need 'occurred' dates or a 'month' column", column="month")
        df["month"] = month_of(df["occurred"])
    df["month"] = df["month"].astype(object)
    if "incident_id" not in df.columns:
        df["incident_id"] = [f"{source}-{i + 1}" for i in range(n)]
    df["incident_id"] = df["incident_id"].astype(str)
    if "source" not in df.columns:
        df["source"] = source
    if "group" not in df.columns or "kind" not in df.columns:
        cls = taxonomy.classify(df["category"], default_kind=default_kind)
        df["category"], df["group"], df["kind"] = cls["category"], cls["group"], cls["kind"]
    for col, default in (("subcategory", None), ("location", None)):
        if col not in df.columns:
            df[col] = default
    df["weight"] = pd.to_numeric(df["weight"], errors="raise").astype(float) if "weight" in df.columns else 1.0
    geometry = gpd.points_from_xy(xs, ys, crs=crs)
    gdf = gpd.GeoDataFrame(df.drop(columns=["geometry"], errors="ignore"), geometry=geometry, crs=crs)
    if gdf.crs is not None and not gdf.crs.equals(settings.CRS):
        gdf = gdf.to_crs(settings.CRS)
    return order_columns(gdf)


def order_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Schema columns first, in schema order, then any extra columns."""
    extra = [c for c in gdf.columns if c not in INCIDENT_COLUMNS]
    return gdf[[c for c in INCIDENT_COLUMNS if c in gdf.columns] + extra]


def empty_incidents() -> gpd.GeoDataFrame:
    """A zero-row incidents table with the schema's columns and dtypes."""
    return make_incidents(pd.DataFrame({"category": pd.Series([], dtype=object),
                                        "month": pd.Series([], dtype=object)}),
                          x=np.array([]), y=np.array([]))


def validate_incidents(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check a table is canonical incidents; raise `InputError` listing every problem at once."""
    problems = []
    missing = [c for c in INCIDENT_COLUMNS if c not in gdf.columns]
    if missing:
        problems.append("missing columns " + ", ".join(missing))
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None or not gdf.crs.equals(settings.CRS):
        problems.append(f"CRS must be {settings.CRS}")
    if "kind" in gdf.columns:
        bad = set(gdf["kind"].dropna().unique()) - set(taxonomy.KINDS)
        if bad:
            problems.append("unknown kind values " + ", ".join(sorted(map(str, bad))))
    if "month" in gdf.columns:
        bad_month = ~gdf["month"].astype(str).str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")
        if bad_month.any():
            problems.append(f"{int(bad_month.sum())} rows with month not YYYY-MM")
        far = implausible_months(gdf["month"])
        if far.any():
            problems.append(f"{int(far.sum())} rows with a month before {EARLIEST_MONTH} or after "
                            f"{latest_month()}")
    if "weight" in gdf.columns:
        negative = pd.to_numeric(gdf["weight"], errors="coerce").lt(0)
        if negative.any():
            problems.append(f"{int(negative.sum())} rows with a negative weight")
    if problems:
        raise InputError("not a valid incidents table: " + "; ".join(problems))
    return gdf


def make_areas(
    data: gpd.GeoDataFrame,
    *,
    name: str = "name",
    layer: str = "custom",
    area_id: str | None = None,
    population: str | None = None,
) -> gpd.GeoDataFrame:
    """Build a canonical areas GeoDataFrame (EPSG:27700) from polygons with a name column.

    `layer` is a fixed layer name or the name of a column holding it. Extra columns are kept.
    """
    if data.crs is None:
        raise InputError("area polygons have no CRS", parameter="areas")
    gdf = data.to_crs(settings.CRS).copy()
    if name not in gdf.columns:
        raise InputError(f"no name column '{name}' in areas (columns: {', '.join(map(str, gdf.columns))})",
                         column=name)
    out = gpd.GeoDataFrame(
        {
            "area_id": (gdf[area_id].astype(str) if area_id else
                        pd.Series([f"{layer}-{i + 1}" for i in range(len(gdf))], index=gdf.index)),
            "name": gdf[name].astype(str),
            "layer": gdf[layer] if layer in gdf.columns else layer,
            "population": pd.to_numeric(gdf[population], errors="coerce") if population else np.nan,
        },
        geometry=gdf.geometry.values,
        crs=settings.CRS,
        index=gdf.index,
    )
    extra = gdf.drop(columns=[c for c in gdf.columns if c in out.columns or c == gdf.geometry.name])
    extra = extra.drop(columns=[c for c in (name, area_id, population) if c and c in extra.columns])
    return pd.concat([out, extra], axis=1).reset_index(drop=True)


def check_intervention(type: str, start, end) -> None:
    """An intervention's type is one of INTERVENTION_TYPES, it has a start date and does not end
    before it starts (InputError naming the parameter otherwise)."""
    if type not in INTERVENTION_TYPES:
        raise InputError(f"intervention type must be one of {', '.join(INTERVENTION_TYPES)}, "
                         f"got '{type}'", parameter="type")
    if start is None or pd.isna(start):
        raise InputError("an intervention needs a start date", parameter="start")
    if end is not None and not pd.isna(end) and pd.Timestamp(end) < pd.Timestamp(start):
        raise InputError(f"the end date {pd.Timestamp(end):%Y-%m-%d} is before the start date "
                         f"{pd.Timestamp(start):%Y-%m-%d}", parameter="end")


def new_intervention(current: pd.DataFrame | None, name: str, type: str, start, end=None, *,
                     area_id: str | None = None, geometry=None, radius_m: float | None = None,
                     notes: str | None = None, intervention_id: str | None = None) -> gpd.GeoDataFrame:
    """The one-row table of a new intervention, to append to `current` (the stored interventions,
    None when there are none): checked (`check_intervention`; an `area_id` or a `geometry` is
    needed), its id ``int-<n>`` (the first unused) unless given (a given id must be new), and its
    start/end with the stored table's datetime resolution. Both workspace backends use it."""
    check_intervention(type, start, end)
    if area_id is None and geometry is None:
        raise InputError("an intervention needs an area_id or a geometry", parameter="area_id")
    ids = set() if current is None else set(current["intervention_id"].astype(str))
    if intervention_id is None:
        k = len(ids) + 1
        while f"int-{k}" in ids:
            k += 1
        intervention_id = f"int-{k}"
    elif str(intervention_id) in ids:
        raise InputError(f"intervention id '{intervention_id}' already exists", parameter="intervention_id")
    row = gpd.GeoDataFrame(
        {"intervention_id": [str(intervention_id)], "name": [name], "type": [type],
         "area_id": [area_id], "start": [pd.Timestamp(start)],
         "end": [pd.Timestamp(end) if end is not None and not pd.isna(end) else pd.NaT],
         "radius_m": [float(radius_m) if radius_m is not None else np.nan], "notes": [notes]},
        geometry=gpd.GeoSeries([geometry], crs=settings.CRS), crs=settings.CRS)
    if current is not None and len(current):
        row = row.astype({c: current[c].dtype for c in ("start", "end") if c in current.columns})
    return row
