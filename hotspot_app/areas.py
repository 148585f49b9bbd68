"""Joins of incidents to areas (wards, town centres, micro-hotspots, patrol areas), counts,
rates, partnership tables and summaries.

Join rule
---------
A point belongs to an area when it *intersects* the polygon, so a point exactly on the edge is
inside. Within one layer each incident is counted **once**: a point on a boundary shared by two
areas (or inside two overlapping areas of the same layer) goes to the area that comes first in
the layer's row order. Different layers are independent: a point counts in its ward and in the
micro-hotspot inside it. Incidents in no area are labelled ``OUTSIDE`` — never dropped.

police.uk locations are snapped to a limited set of map points, so incidents repeat
coordinates heavily; the join runs on the unique coordinates once and maps back (identical
result, several times faster than joining every row). Incidents loaded by the ingest share one
Point object per location, so the distinct objects are found from their identities without
reading every coordinate. When a sample shows the points are mostly distinct the join queries
them directly instead, testing the index's candidates against prepared copies of the polygons
(benchmarks/joins.py).

Statistics
----------
`partnership_table` (seed 004: category hierarchy x selected month / last 6 / last 12 months,
with diff and % diff against the same windows a year earlier or the previous windows),
`table_document` (its `hotspot table` JSON), `area_summary` + `summary_sentence` (seed 000),
`rank_areas` + `top_share` + `share_phrase` (seed 001: counts, shares and rates per 1,000 by
ward, "almost half (48%) ... in just 3 wards"), `year_on_year` (financial or e.g. Oct–Sep
years), `breakdown` (e.g. fires by property type), `population_from_table` and
`population_from_lsoa` (Census LSOA counts to wards by representative point) and
`read_population` (either, from a file), `ranking_layer` + `ranking` (everything `hotspot rank`
reports), `change_by_area` (on the same months a year earlier), `area_mask`.

Names: `display_name` is the one way an area (one or several polygons) is named ('A', 'A and B',
'A, B and C', '<n> areas'); `area_label` the place in a sentence ('Hemlington ward area');
`layer_unit` the plural noun of a layer ('wards'); `new_area_id` the id of an area drawn by hand.
% change and rates come from `measures` (re-exported here as `pct_change`, `rate_per_1000`).

Coverage (design §5): a window with a month in which the loaded data have no rows is null, never
zero or a partial count, and a warning names the missing months. Months are judged on the data
sources that supply the kind counted (police.uk months for crime and ASB, fire-service months for
fires), anywhere in the data, not only in the area.

Percentages: 100 * (current - previous) / previous, rounded half away from zero to 1 decimal;
null ("n/a") when previous is 0 — never Infinity.
"""

from __future__ import annotations

import warnings as warnings_module

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import locations, params, periods, settings, taxonomy
from .errors import InputError
from .measures import a_or_an, change_block, is_missing, join_names, pct_change, rate_per_1000  # noqa: F401 (re-exported)

OUTSIDE = "outside"


def _check_crs(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None or not gdf.crs.equals(settings.CRS):
        raise InputError(f"{what} must be in {settings.CRS} (got {gdf.crs})", parameter=what)


def unique_points(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Distinct coordinates and, for each incident, the index of its distinct coordinate.

    Exact (no rounding): coordinates are factorised on their float values.
    """
    xy = shapely.get_coordinates(incidents.geometry.values)
    if len(xy) != len(incidents):
        raise InputError("incident geometries must all be single points", parameter="incidents")
    return _unique_xy(xy)


# Distinct locations are decided in locations.factorize_xy (same hash pass, same size hint).
_unique_xy = locations.factorize_xy


def locate(xy: np.ndarray, areas: gpd.GeoDataFrame, points: np.ndarray | None = None) -> np.ndarray:
    """Row position in `areas` of the area each point falls in (first by row order), -1 if none.

    `points` optionally passes the point geometries of `xy` (saves building them again).
    """
    n = len(xy)
    if n == 0 or len(areas) == 0:
        return np.full(n, -1, dtype=np.int64)
    # geopandas caches the spatial index on the areas frame: repeated joins to the same layer
    # (the app, tables over several windows) build the tree once.
    pts = shapely.points(xy) if points is None else points
    ip, hit = areas.sindex.query(pts, predicate="intersects")
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, ip, hit)
    out[out == np.iinfo(np.int64).max] = -1
    return out


def _locate_many(points: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """`locate` for many (mostly distinct) point geometries, same result: the areas' cached
    index gives the bounding-box candidates, then the exact test runs against prepared copies of
    the polygons (the caller's polygons are left unprepared), which is faster than the index's
    own predicate query when there are many points."""
    n = len(points)
    if n == 0 or len(areas) == 0:
        return np.full(n, -1, dtype=np.int64)
    ip, hit = areas.sindex.query(points)
    polygons = shapely.from_wkb(shapely.to_wkb(np.asarray(areas.geometry.values)))
    shapely.prepare(polygons)
    inside = shapely.intersects(polygons[hit], points[ip])
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, ip[inside], hit[inside])
    out[out == np.iinfo(np.int64).max] = -1
    return out


def _xy_of_points(geoms: np.ndarray) -> np.ndarray | None:
    """(n, 2) coordinates when every geometry is a non-empty 2D/3D point with finite x, y; None
    otherwise (the caller then takes the general path, with its errors)."""
    xy = np.empty((len(geoms), 2), dtype=np.float64)
    try:
        shapely.get_x(geoms, out=xy[:, 0])  # NaN for None and non-point geometries
        shapely.get_y(geoms, out=xy[:, 1])
    except shapely.errors.GEOSException:  # e.g. an empty point
        return None
    return xy if np.isfinite(xy).all() else None


def _all_coordinates(geoms: np.ndarray) -> np.ndarray:
    """Coordinates of every geometry; `InputError` unless there is exactly one per incident."""
    xy = shapely.get_coordinates(geoms)
    if len(xy) != len(geoms):
        raise InputError("incident geometries must all be single points", parameter="incidents")
    return xy


def _labels_by_object(labels: np.ndarray, areas: gpd.GeoDataFrame, codes: np.ndarray,
                      objects: np.ndarray) -> np.ndarray | None:
    """Labels when incidents share Point objects (the ingest makes one Point per distinct
    location; `locations.factorize_objects` found them from their identities without reading
    every coordinate): each distinct coordinate is located once and labels map back. None when
    the distinct objects are not all plain points."""
    xy = _xy_of_points(objects)
    if xy is None:
        return None
    uniq, inverse = _unique_xy(xy)  # different objects may share coordinates
    return labels[locate(uniq, areas)][inverse][codes]


def join(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, field: str = "area_id") -> pd.Series:
    """The area (`field` value, default ``area_id``) of each incident; ``OUTSIDE`` when in none.

    Returns a Series aligned with `incidents`. Neither input is modified.
    """
    _check_crs(incidents, "incidents")
    _check_crs(areas, "areas")
    if field not in areas.columns:
        raise InputError(f"areas have no column '{field}'", parameter="field")
    if len(incidents) == 0:
        return pd.Series([], index=incidents.index, dtype=object, name=field)
    geoms = np.ascontiguousarray(incidents.geometry.values, dtype=object)
    labels = np.append(np.asarray(areas[field].astype(str).to_numpy(), dtype=object), OUTSIDE)
    values = None
    ids = locations.object_ids(geoms)
    step = max(1, len(ids) // 50_000)
    hint = min(len(ids), max(1024, 4 * len(pd.unique(ids[::step]))))
    found = locations.factorize_objects(geoms, size_hint=hint)
    if found is not None:  # repeated Point objects: work per distinct object
        values = _labels_by_object(labels, areas, *found)
    if values is None:
        xy = None
        step = max(1, len(geoms) // 50_000)
        part = _xy_of_points(geoms[::step][:50_000])
        if part is None:  # not all plain points: the general path (and its error)
            xy = _all_coordinates(geoms)
            part = xy[::step][:50_000]
        size, distinct = len(part), len(pd.unique(np.ascontiguousarray(part).view(np.complex128).ravel()))
        if len(geoms) > size and distinct > 0.5 * size:
            # mostly distinct: query the points directly (their coordinates are not needed, only
            # the check that every geometry is one point)
            if xy is None and int(shapely.get_num_coordinates(geoms).sum()) != len(geoms):
                raise InputError("incident geometries must all be single points", parameter="incidents")
            values = labels[_locate_many(geoms, areas)]  # -1 picks the trailing OUTSIDE
        else:
            if xy is None:
                xy = _xy_of_points(geoms)
                if xy is None:
                    xy = _all_coordinates(geoms)
            uniq, inverse = _unique_xy(xy, size_hint=min(len(xy), max(1024, 4 * distinct)))
            values = labels[locate(uniq, areas)][inverse]
    return pd.Series(values, index=incidents.index, dtype=object, name=field, copy=False)


def within(incidents: gpd.GeoDataFrame, geometry) -> pd.Series:
    """Boolean mask of incidents intersecting one (multi)polygon (edge counts as inside)."""
    if len(incidents) == 0:
        return pd.Series([], index=incidents.index, dtype=bool)
    uniq, inverse = unique_points(incidents)
    shapely.prepare(geometry)
    inside = shapely.intersects_xy(geometry, uniq[:, 0], uniq[:, 1])
    return pd.Series(inside[inverse], index=incidents.index)


def counts(
    incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, mask: pd.Series | None = None,
) -> pd.DataFrame:
    """Incidents per area: columns area_id, name, count; every area listed (zeros included) and
    a final ``outside`` row, so the counts add up to the number of incidents selected."""
    sel = incidents if mask is None else incidents[mask]
    labels = join(sel, areas)
    per = labels.value_counts()
    out = pd.DataFrame({"area_id": areas["area_id"].astype(str).to_numpy(),
                        "name": areas["name"].astype(str).to_numpy()})
    out["count"] = out["area_id"].map(per).fillna(0).astype(int)
    outside = pd.DataFrame({"area_id": [OUTSIDE], "name": [OUTSIDE], "count": [int(per.get(OUTSIDE, 0))]})
    return pd.concat([out, outside], ignore_index=True)


def find_area(areas: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """The area(s) called `name` (case-insensitive); `InputError` naming the choices otherwise."""
    hit = areas[areas["name"].astype(str).str.strip().str.lower() == str(name).strip().lower()]
    if hit.empty and "area_id" in areas.columns:  # an area_id picks one of several same-named areas
        hit = areas[areas["area_id"].astype(str).str.strip() == str(name).strip()]
    if hit.empty:
        choices = ", ".join(sorted(areas["name"].astype(str).unique())[:40])
        raise InputError(f"no area named '{name}'; areas are: {choices}", parameter="area")
    if "area_id" in hit.columns and hit["area_id"].astype(str).nunique() > 1:
        # never merge different areas that share a name (491 crimes reported against 134)
        ids = hit["area_id"].astype(str)
        layers = hit["layer"].astype(str) if "layer" in hit.columns else pd.Series("", index=hit.index)
        candidates = ", ".join(dict.fromkeys(f"{a} ({n}{', ' + lay if lay else ''})" for a, n, lay
                                             in zip(ids, hit["name"].astype(str), layers)))
        raise InputError(f"{ids.nunique()} different areas are named '{name}'; give the area_id of "
                         f"one: {candidates}", parameter="area")
    return hit


# =========================================================================== area selection
def area_mask(incidents: gpd.GeoDataFrame, area) -> pd.Series:
    """Boolean mask of the incidents in `area`.

    `area` is a boolean mask aligned with `incidents` (used as is), a shapely (multi)polygon, or
    a GeoDataFrame/GeoSeries of polygons (their union: a point in any of them is in the area).
    """
    if isinstance(area, pd.Series) and area.dtype == bool:
        if not area.index.equals(incidents.index):
            raise InputError("area mask is not aligned with the incidents", parameter="area")
        return area
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if area.crs is not None and not area.crs.equals(settings.CRS):
            area = area.to_crs(settings.CRS)
        geoms = area.geometry.values if isinstance(area, gpd.GeoDataFrame) else area.values
        if len(geoms) == 0:
            raise InputError("no area polygons given", parameter="area")
        geometry = shapely.union_all(np.asarray(geoms)) if len(geoms) > 1 else geoms[0]
        return within(incidents, geometry)
    if isinstance(area, shapely.Geometry):
        return within(incidents, area)
    raise InputError("area must be a mask, a polygon or a GeoDataFrame of polygons", parameter="area")


#: How each area layer is named in sentences (plural), e.g. "in just 3 wards".
LAYER_UNITS: dict[str, str] = {"ward": "wards", "town_centre": "town centres",
                               "micro_hotspot": "micro-hotspots", "patrol": "patrol areas"}


def layer_unit(layer: str | None) -> str:
    """The plural noun for areas of `layer` ('wards', 'micro-hotspots'; 'areas' otherwise)."""
    return LAYER_UNITS.get(str(layer), "areas")


def display_name(areas: gpd.GeoDataFrame | gpd.GeoSeries | None, fallback: str | None = None,
                 most: int = 3) -> str:
    """The one way an area (one or several polygons) is named: its distinct names in order,
    'A', 'A and B', 'A, B and C'; more than `most` names read '<n> areas' (or `fallback`, e.g.
    the file's stem, when given); `fallback` (default 'area') when there are no names."""
    names = []
    if isinstance(areas, gpd.GeoDataFrame) and "name" in areas.columns:
        names = list(dict.fromkeys(str(n) for n in areas["name"] if not is_missing(n) and str(n).strip()))
    if not names:
        return fallback or "area"
    if len(names) > most:
        return fallback or f"{len(names)} areas"
    return join_names(names)


def new_area_id(existing, layer: str, tag: str = "drawn") -> str:
    """A fresh area id for an area drawn or added by hand: ``<layer>-<tag>-<k>`` with the
    smallest k above the number of `existing` ids that none of them uses."""
    ids = {str(i) for i in existing}
    k = len(ids) + 1
    while f"{layer}-{tag}-{k}" in ids:
        k += 1
    return f"{layer}-{tag}-{k}"


def area_label(areas: gpd.GeoDataFrame) -> str:
    """Text naming an area in sentences: 'Hemlington ward area' for a ward, else 'X area'."""
    name = display_name(areas)
    layers = set(areas["layer"].astype(str)) if "layer" in areas.columns else set()
    if layers == {"ward"}:
        several = areas["name"].astype(str).nunique() > 1 if "name" in areas.columns else False
        return f"{name} wards area" if several else f"{name} ward area"
    return f"{name} area"


# =========================================================================== numbers
def _isnan(value) -> bool:
    return is_missing(value)


def _diff_block(current, previous) -> dict:
    return change_block(current, previous)


def _windowed(monthly: pd.Series, window_: list[str], coverage: periods.Coverage):
    """Sum of a per-month count series over a window; None when the window is not covered."""
    if not coverage.covers(window_):
        return None
    return int(monthly.reindex(window_, fill_value=0).sum())


def _coverage_for(incidents: pd.DataFrame, kind: str | None) -> periods.Coverage:
    """Coverage used for counts of `kind`: the months in which the loaded data (anywhere) have
    rows from the sources that supply that kind. A police.uk month with no ASB rows in it is
    still covered for ASB, but police.uk months do not make fire months look covered when the
    fire data (source ``fire``) stop earlier."""
    if kind is None or "kind" not in incidents.columns or "source" not in incidents.columns:
        return periods.Coverage.of(incidents)
    sources = pd.unique(incidents.loc[incidents["kind"].eq(kind), "source"].astype(str))
    if len(sources) == 0:
        return periods.Coverage.of(incidents)
    return periods.Coverage.of(incidents[incidents["source"].astype(str).isin(sources)])


def _coverage_for_selection(incidents: pd.DataFrame, selected: pd.Series) -> periods.Coverage:
    """Like `_coverage_for`, for an arbitrary selection: months with rows from the sources that
    supply the selected incidents."""
    if "source" not in incidents.columns or not selected.any():
        return periods.Coverage.of(incidents)
    sources = pd.unique(incidents.loc[selected, "source"].astype(str))
    return periods.Coverage.of(incidents[incidents["source"].astype(str).isin(sources)])


#: Sources whose files carry a kind even in a month with no rows of it (police.uk street files
#: hold crime and ASB): their presence means that kind is loaded.
KIND_SOURCES: dict[str, tuple[str, ...]] = {"crime": ("police-uk",), "asb": ("police-uk",)}


def kind_loaded(incidents: pd.DataFrame, kind: str) -> bool:
    """Whether data of `kind` (crime, asb, fire) are loaded at all: rows of that kind, or rows
    from a source that always supplies it. When not, its counts are null ("not loaded"), never 0
    (a fire extract alone says nothing about crime)."""
    if "kind" not in incidents.columns:
        return True
    if incidents["kind"].eq(kind).any():
        return True
    sources = KIND_SOURCES.get(kind, ())
    return bool(sources) and "source" in incidents.columns and incidents["source"].isin(sources).any()


def _window_warning(label: str, window_: list[str], coverage: periods.Coverage) -> str | None:
    missing = coverage.missing(window_)
    if not missing:
        return None
    return periods.coverage_warning(missing, f"{label} ({periods.format_range(window_)})")


# =========================================================================== hierarchy
#: Sibling order of the partnership-table hierarchy (seed 004), for both crime taxonomies.
#: Names not listed keep taxonomy.csv order after the listed ones.
TABLE_ORDER: tuple[str, ...] = (
    "Victim Based Crime", "Violence", "Violence and sexual offences", "Violence Without Injury",
    "Violence With Injury", "Stalking and Harassment",
    "Death or serious injury caused by illegal driving", "Homicide", "Theft Offences",
    "Shoplifting", "All Other Theft Offences", "Other theft", "Vehicle Offences", "Vehicle crime",
    "Burglary Residential", "Burglary Business and Community", "Burglary", "Theft From The Person",
    "Theft from the person", "Bicycle Theft", "Bicycle theft", "Criminal Damage & Arson",
    "Criminal Damage", "Arson", "Criminal damage and arson", "Sexual Offences", "Robbery",
    "Non victim based", "Public Order Offences", "Public order", "Drug Offences", "Drugs",
    "Misc Crimes Against Society", "Other crime", "Weapons Possession Offences",
    "Possession of weapons",
    "Anti-social behaviour", "ASB Personal", "ASB Nuisance", "ASB Environmental",
    "Fires", "Deliberate", "Deliberate primary fire", "Deliberate secondary fire", "Accidental",
    "Accidental primary fire", "Accidental secondary fire", "Fire (cause not known)",
    "Other fire service incidents", "False alarm", "Special service",
)
TABLE_TAXONOMIES = ("auto", "police-uk", "home-office")


def resolve_taxonomy(incidents: pd.DataFrame, kind: str = "crime", taxonomy_name: str = "auto") -> str:
    """The taxonomy a table uses: ``police-uk`` or ``home-office`` for crime and ASB (``auto``
    picks by the categories present, `taxonomy.detect`), always ``fire`` for fires."""
    if taxonomy_name not in TABLE_TAXONOMIES:
        raise InputError(f"unknown taxonomy '{taxonomy_name}'; use one of: {', '.join(TABLE_TAXONOMIES)}",
                         parameter="taxonomy")
    if kind not in taxonomy.KINDS:
        raise InputError(f"unknown kind '{kind}'; use one of: {', '.join(taxonomy.KINDS)}", parameter="kind")
    if kind == "fire":
        return "fire"
    if taxonomy_name != "auto":
        return taxonomy_name
    cats = incidents.loc[incidents["kind"].eq(kind), "category"]
    if kind == "crime":
        return taxonomy.detect(cats)
    ho = set(taxonomy.load().query("taxonomy == 'home-office' and kind == 'asb'")["category"])
    return "home-office" if cats.isin(ho).any() else "police-uk"


def _tree(kind: str, taxonomy_name: str, present: pd.DataFrame) -> list[dict]:
    """Ordered nodes (depth first): dicts with category, parent, level, node, path.

    Leaves are the taxonomy's categories of `kind` plus any recognised category present in the
    data (`present`: columns category, group) that the chosen taxonomy lacks, under its own group.
    """
    tax = taxonomy.load()
    leaves: dict[tuple[str, str], None] = {}
    for row in tax[(tax["taxonomy"] == taxonomy_name) & (tax["kind"] == kind)].itertuples():
        leaves[(row.category, row.parent)] = None
    for row in present.itertuples(index=False):
        if row.group == taxonomy.UNKNOWN:
            continue
        parent = "" if row.group == row.category else row.group
        if (row.category, parent) not in leaves:
            leaves[(row.category, parent)] = None
    csv_pos = {name: i for i, name in enumerate(
        dict.fromkeys([p for par in tax["parent"] for p in par.split("/") if p] + list(tax["category"])))}
    order = {name: i for i, name in enumerate(TABLE_ORDER)}

    def rank(name: str) -> tuple[int, int]:
        return (order.get(name, len(order)), csv_pos.get(name, len(csv_pos)))

    children: dict[str, list[tuple[str, str, str]]] = {}  # parent path -> [(kind, name, path)]
    for category, parent in leaves:
        parts = [p for p in parent.split("/") if p]
        for depth in range(len(parts)):
            up = "/".join(parts[:depth])
            path = "/".join(parts[:depth + 1])
            entry = ("group", parts[depth], path)
            if entry not in children.setdefault(up, []):
                children[up].append(entry)
        children.setdefault(parent, []).append(("leaf", category, parent))

    out: list[dict] = []

    def walk(path: str, level: int, parent_name: str | None) -> None:
        for node, name, npath in sorted(children.get(path, []), key=lambda e: rank(e[1])):
            out.append({"category": name, "parent": parent_name, "level": level, "node": node,
                        "path": npath})
            if node == "group":
                walk(npath, level + 1, name)

    walk("", 0, None)
    return out


# =========================================================================== partnership table
class AreaTable(tuple):
    """``(rows, warnings)`` of a partnership table; unpacks as a pair."""

    def __new__(cls, rows: pd.DataFrame, warnings: list[str]):
        return super().__new__(cls, (rows, warnings))

    @property
    def rows(self) -> pd.DataFrame:
        return self[0]

    @property
    def warnings(self) -> list[str]:
        return self[1]


def partnership_table(
    incidents: gpd.GeoDataFrame,
    area,
    month: str,
    kind: str = "crime",
    compare: str = "same-period-last-year",
    taxonomy_name: str = "auto",
    include_empty: bool = True,
    coverage: periods.Coverage | None = None,
) -> AreaTable:
    """The seed-004 partnership table for one area and selected month.

    Parameters
    ----------
    incidents : canonical incidents (all of them: coverage is judged on the whole load).
    area : the area — a polygon, a GeoDataFrame of polygons (their union) or a boolean mask.
    month : ``YYYY-MM``, the selected month; windows end with it: the month, the last 6 months
        and the last 12 months.
    kind : ``crime`` (default), ``asb`` or ``fire``. Only incidents of this kind are counted, so
        ASB and fires are never in the crime Total.
    compare : ``same-period-last-year`` (default) or ``previous-period``.
    taxonomy_name : ``auto`` (by the categories present), ``police-uk`` or ``home-office``.
    include_empty : list every node of the taxonomy even when all its counts are 0 (default),
        so the shape is stable; False keeps only rows with a non-zero count (as printed papers).
    coverage : months counted as covered; default: months in which the sources supplying
        incidents of `kind` (e.g. police-uk for crime and ASB, fire for fires) have any rows.

    Returns
    -------
    AreaTable ``(rows, warnings)``. `rows` has one row per node in hierarchy order — groups with
    subtotals, leaves, ``Unknown`` (when present) and ``Total`` — with columns ``category``,
    ``parent``, ``level``, ``node`` (group|leaf|unknown|total), ``path`` and, per window
    (``selected_month``, ``last_6_months``, ``last_12_months``), ``<window>_current``,
    ``_previous``, ``_diff`` (nullable integers) and ``_pct_diff`` (1 decimal; null when previous
    is 0 or a window is not covered). A window with an uncovered month gives null (never zero or
    a partial count) and a warning naming the missing months. ``rows.attrs`` holds month,
    comparison, kind, taxonomy and the windows.
    """
    from . import tables  # the one table engine (tables.py); this is its seed-004 view

    month = periods.parse_month(month)
    if compare not in periods.COMPARISONS:
        raise InputError(f"unknown comparison '{compare}'; use one of: {', '.join(periods.COMPARISONS)}",
                         parameter="compare")
    inside = area_mask(incidents, area)
    _cols, nodes, warnings, notes, meta = tables._compute(
        incidents, None, month=month, compare=compare, kind=kind, taxonomy_name=taxonomy_name,
        coverage=coverage, mask=inside)
    wins = periods.table_windows(month)
    records = []
    for node in nodes:
        rec = {k: node[k] for k in ("category", "parent", "level", "node", "path")}
        for w in wins:
            for key in ("current", "previous", "diff", "pct_diff"):
                rec[f"{w}_{key}"] = node["cells"][w][key]
        records.append(rec)
    out = pd.DataFrame(records)
    for w in wins:
        for key in ("current", "previous", "diff"):
            out[f"{w}_{key}"] = pd.array(out[f"{w}_{key}"].tolist(), dtype="Int64")
        out[f"{w}_pct_diff"] = pd.array(out[f"{w}_pct_diff"].tolist(), dtype="Float64")
    if not include_empty:
        count_cols = [f"{w}_{k}" for w in wins for k in ("current", "previous")]
        nonzero = out[count_cols].fillna(0).ne(0).any(axis=1) | out["node"].eq("total")
        out = out[nonzero].reset_index(drop=True)
    out.attrs.update({"month": month, "comparison": compare, "kind": kind, "taxonomy": meta["taxonomy"],
                      "windows": wins, "notes": notes,
                      "previous_windows": {w: periods.comparison_window(m, compare) for w, m in wins.items()}})
    return AreaTable(out, warnings)


def table_document(table: AreaTable | pd.DataFrame, area: str, warnings: list[str] | None = None) -> dict:
    """The `hotspot table` JSON document (design §5) for a partnership table."""
    rows, warns = (table if isinstance(table, tuple) else (table, warnings or []))
    if warnings is not None:
        warns = warnings
    out_rows = []
    for rec in rows.to_dict("records"):
        item = {"category": rec["category"],
                "parent": None if _isnan(rec["parent"]) else rec["parent"],
                "level": int(rec["level"])}
        for w, _ in periods.TABLE_WINDOWS:
            item[w] = {k: _plain(rec[f"{w}_{k}"]) for k in ("current", "previous", "diff", "pct_diff")}
        out_rows.append(item)
    return {"area": area, "month": rows.attrs.get("month"), "comparison": rows.attrs.get("comparison"),
            "rows": out_rows, "warnings": list(warns)}


def _plain(value):
    if value is None or _isnan(value):
        return None
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value


# =========================================================================== area summary
_KIND_WORDS = {
    "crime": ("crimes", "crime", "crimes"),
    "asb": ("anti-social behaviour incidents", "anti-social behaviour incident", "incidents"),
    "fires": ("deliberate fires", "deliberate fire", "fires"),
}


def summary_sentence(what: str, current, previous, to: str, n_months: int | None = None,
                     place: str = "area", compare: str = "same-period-last-year", *,
                     months: int | None = None) -> str:
    """The seed-000 sentence, e.g. 'In the 12 months up to March 2024 there were 1,331 crimes
    recorded in the Hemlington ward area, this figure represents an 11.2% (-168 crimes) reduction
    in comparison to the same time period in the previous 12-months.'

    `what` is ``crime``, ``asb`` or ``fires``. Handles increases, no change, n/a (previous 0)
    and unknown figures (uncovered months).
    """
    if months is not None:
        warnings_module.warn("summary_sentence(months=...) is now n_months=...", DeprecationWarning,
                             stacklevel=2)
        n_months = months
    months = int(n_months if n_months is not None else 12)
    plural, singular, unit = _KIND_WORDS[what]
    span = f"In the {months} months up to {periods.describe([to])}" if months != 1 else \
        f"In {periods.describe([to])}"
    if compare == "previous-period":
        reference = f"the previous {months} months"
    elif months == 12:
        reference = "the same time period in the previous 12-months"
    else:
        reference = "the same time period in the previous year"
    if current is None:
        return f"{span} the number of {plural} recorded in the {place} is not available (no data loaded for part of the period)."
    noun = singular if current == 1 else plural
    verb = "was" if current == 1 else "were"
    head = f"{span} there {verb} {current:,} {noun} recorded in the {place}"
    if previous is None:
        return f"{head}; no comparison is possible because the data do not cover {reference}."
    diff = current - previous
    pct = pct_change(current, previous)
    if pct is None:
        return (f"{head}, compared with none in {reference} (percentage change n/a, "
                f"+{diff:,} {unit}).")
    if diff == 0:
        return f"{head}, this figure represents no change (0 {unit}) in comparison to {reference}."
    direction = "reduction" if diff < 0 else "increase"
    sign = "-" if diff < 0 else "+"
    shown = f"{abs(pct):.1f}"
    return (f"{head}, this figure represents {a_or_an(shown)} {shown}% ({sign}{abs(diff):,} {unit}) "
            f"{direction} in comparison to {reference}.")


def area_summary(
    incidents: gpd.GeoDataFrame,
    area,
    to: str,
    n_months: int = 12,
    place: str | None = None,
    compare: str = "same-period-last-year",
    area_name: str | None = None,
    *,
    months: int | None = None,
) -> dict:
    """The seed-000 summary for one area: crime and ASB (and deliberate fires when fire data are
    loaded) over the `n_months` months up to `to`, against the same window a year earlier
    (default; for 12 months that is the previous 12 months; windows longer than 12 months are
    compared with the previous `n_months` months so they do not overlap) or the previous period.

    Returns the `hotspot summary` JSON document (design §5): ``{"area", "to", "months",
    "crime": {"current", "previous", "diff", "pct_diff"}, "asb": {...}, ["fires": {...},]
    "text", "warnings"}``. `place` is the area as written in the sentence (default for areas:
    `area_label`, e.g. 'Hemlington ward area'), `area_name` the JSON "area" (default:
    `display_name`). Counts over windows with uncovered months are null, with warnings.
    ``months=`` (an int) is the old name of `n_months` and still accepted, with a warning.
    """
    if months is not None:  # the old keyword (an int, where `months` elsewhere is a list)
        warnings_module.warn("area_summary(months=...) is now n_months=...", DeprecationWarning,
                             stacklevel=2)
        n_months = months
    months = int(n_months)
    to = periods.parse_month(to, "to")
    params.validate(months=months)
    if isinstance(area, gpd.GeoDataFrame):
        place = place if place is not None else area_label(area)
        area_name = area_name if area_name is not None else display_name(area)
    place = place if place is not None else "area"
    current_w = periods.window(to, int(months))
    if compare == "same-period-last-year" and int(months) > 12:
        compare = "previous-period"  # a year back would overlap; compare with the previous N months
    previous_w = periods.comparison_window(current_w, compare)
    inside = area_mask(incidents, area)
    doc: dict = {"area": area_name if area_name is not None else place, "to": to, "months": int(months)}
    sentences, warnings = [], []
    parts = [("crime", incidents["kind"].eq("crime"), "crime"), ("asb", incidents["kind"].eq("asb"), "asb")]
    if incidents["kind"].eq("fire").any():
        parts.append(("fires", taxonomy.select(incidents, "deliberate-fires"), "fire"))
    for key, mask, kind in parts:
        if not kind_loaded(incidents, kind):  # never a false zero for data not loaded
            doc[key] = _diff_block(None, None)
            plural = _KIND_WORDS[key][0]
            held = ", ".join(sorted(pd.unique(incidents["kind"].astype(str)))) or "no"
            warnings.append(f"no {plural} are loaded (the data hold only {held} incidents); "
                            f"{key} is shown as null, not zero")
            sentences.append(f"No {plural} are loaded, so the number of {plural} in the {place} is not known.")
            continue
        cov = _coverage_for(incidents, kind)
        per_month = incidents.loc[inside & mask, "month"].value_counts()
        cur = _windowed(per_month, current_w, cov)
        prev = _windowed(per_month, previous_w, cov)
        doc[key] = _diff_block(cur, prev)
        for side, win in (("current", current_w), ("previous", previous_w)):
            text = _window_warning(f"{key} {side}", win, cov)
            if text:
                warnings.append(text)
        sentences.append(summary_sentence(key, cur, prev, to, int(months), place, compare))
    doc["text"] = " ".join(sentences)
    doc["warnings"] = warnings
    return doc


# =========================================================================== rankings and rates
def rank_areas(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    category=None,
    months: list[str] | None = None,
    population: pd.Series | None = None,
    coverage: periods.Coverage | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Counts, shares and rates per 1,000 population by area, highest count first.

    Parameters
    ----------
    category : named groups, hierarchy nodes or categories (`taxonomy.select`); None = all.
    months : the months counted (e.g. `periods.financial_year(2022, 10)`); None = every month
        with data.
    population : population by ``area_id`` (e.g. from `population_from_table` or
        `population_from_lsoa`); default the areas' ``population`` column.

    Returns
    -------
    ``(table, warnings)``: columns ``rank``, ``area_id``, ``name``, ``count``, ``share_pct``
    (of all selected incidents, outside included), ``cumulative_share_pct``, ``population``,
    ``rate_per_1000``; a final ``outside`` row (rank null) so counts add up to the number
    selected. With an uncovered month in `months` every count is null and a warning names the
    missing months (never a partial count).
    """
    sel = taxonomy.select(incidents, category)
    warnings: list[str] = []
    if months is not None:
        months = list(months)
        cov = coverage if coverage is not None else _coverage_for_selection(incidents, sel)
        text = _window_warning("ranking period", months, cov)
        if text:
            warnings.append(text)
        sel &= incidents["month"].isin(months)
    labels = join(incidents[sel], areas)
    per = labels.value_counts()
    table = pd.DataFrame({"area_id": areas["area_id"].astype(str).to_numpy(),
                          "name": areas["name"].astype(str).to_numpy()})
    table["count"] = table["area_id"].map(per).fillna(0).astype(int)
    if population is None:
        pop = pd.to_numeric(areas["population"], errors="coerce").to_numpy() if "population" in areas.columns \
            else np.full(len(areas), np.nan)
    else:
        pop = table["area_id"].map(pd.Series(population).rename(index=str)).to_numpy(dtype=float)
    table["population"] = pop
    table = table.sort_values(["count", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)
    outside = int(per.get(OUTSIDE, 0))
    total = int(table["count"].sum()) + outside
    table["rank"] = table["count"].rank(method="min", ascending=False).astype(int)
    table["share_pct"] = [round(100.0 * c / total, 1) if total else None for c in table["count"]]
    table["cumulative_share_pct"] = [round(100.0 * c / total, 1) if total else None
                                     for c in table["count"].cumsum()]
    table["rate_per_1000"] = [rate_per_1000(c, p) for c, p in zip(table["count"], table["population"])]
    out_row = pd.DataFrame({"rank": [None], "area_id": [OUTSIDE], "name": [OUTSIDE], "count": [outside],
                            "population": [np.nan],
                            "share_pct": [round(100.0 * outside / total, 1) if total else None],
                            "cumulative_share_pct": [None], "rate_per_1000": [None]})
    table = pd.concat([table, out_row], ignore_index=True)
    table["rank"] = pd.array(table["rank"].tolist(), dtype="Int64")
    for col in ("share_pct", "cumulative_share_pct", "rate_per_1000", "population"):
        table[col] = pd.array([None if _isnan(v) else float(v) for v in table[col]], dtype="Float64")
    table = table[["rank", "area_id", "name", "count", "share_pct", "cumulative_share_pct",
                   "population", "rate_per_1000"]]
    if warnings:
        table["count"] = pd.array([None] * len(table), dtype="Int64")
        for col in ("share_pct", "cumulative_share_pct", "rate_per_1000"):
            table[col] = pd.array([None] * len(table), dtype="Float64")
        table["rank"] = pd.array([None] * len(table), dtype="Int64")
    table.attrs.update({"total": None if warnings else total, "outside": None if warnings else outside})
    return table, warnings


def change_by_area(
    incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, category=None, months: list[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Counts per area in `months` and in the same months a year earlier, with % change
    (`measures.pct_change`: null when the earlier count is 0 or its months are not covered).
    Columns area_id, name, count, previous, pct_change (``outside`` row included); the warnings
    of both windows."""
    now, w1 = rank_areas(incidents, areas, category=category, months=months)
    before, w2 = rank_areas(incidents, areas, category=category,
                            months=periods.shift(months, -12) if months is not None else None)
    out = now[["area_id", "name", "count"]].copy()
    out["previous"] = pd.array(out["area_id"].map(before.set_index("area_id")["count"]).tolist(), dtype="Int64")
    out["pct_change"] = pd.array([pct_change(None if is_missing(c) else int(c), None if is_missing(p) else int(p))
                                  for c, p in zip(out["count"], out["previous"])], dtype="Float64")
    return out, w1 + w2


def share_phrase(pct: float) -> str:
    """Words for a share in partnership style: 'almost half (48%)', 'more than half (55%)'."""
    p = int(float(pct) + 0.5)
    bands = [(100, 100, "all"), (90, 99, "almost all"), (67, 89, "more than two thirds"),
             (60, 66, "almost two thirds"), (51, 59, "more than half"), (50, 50, "half"),
             (45, 49, "almost half"), (34, 44, "more than one third"), (30, 33, "almost one third"),
             (26, 29, "more than one quarter"), (25, 25, "one quarter"), (20, 24, "almost one quarter")]
    for lo, hi, words in bands:
        if lo <= p <= hi:
            return f"{words} ({p}%)"
    return f"{p}%"


def top_share(ranked: pd.DataFrame, top: int = 3, what: str = "incidents", unit: str = "wards") -> dict:
    """Share of the total in the top-`top` areas of a `rank_areas` table, with the sentence:
    'almost half (48%) of ASB occurred in just 3 wards; Headland & Harbour, Victoria and Burn
    Valley.' Ties at the cut-off are not broken beyond the table's order (count, then name)."""
    params.validate(top=top)
    total = ranked.attrs.get("total")
    body = ranked[ranked["area_id"] != OUTSIDE].head(top)
    if total is None:
        return {"top": int(top), "count": None, "total": None, "share_pct": None,
                "areas": body["name"].tolist(), "text": "not available: the period is not fully covered"}
    count = int(body["count"].sum())
    pct = round(100.0 * count / total, 1) if total else None
    names = body["name"].tolist()
    if pct is None:
        text = f"no {what} recorded"
    else:
        just = "just " if len(names) < max(1, (ranked["area_id"] != OUTSIDE).sum()) / 2 else ""
        unit_ = unit if len(names) != 1 else unit.rstrip("s")
        text = (f"{share_phrase(100.0 * count / total)} of {what} occurred in {just}{len(names)} {unit_}; "
                f"{join_names(names)}.")
        text = text[0].upper() + text[1:]
    return {"top": int(top), "count": count, "total": int(total), "share_pct": pct, "areas": names,
            "text": text}


def year_on_year(
    incidents: gpd.GeoDataFrame,
    years: list[int],
    start_month: int = 4,
    category=None,
    areas: gpd.GeoDataFrame | None = None,
    by: str = "area",
) -> tuple[pd.DataFrame, list[str]]:
    """Counts per 12-month year (financial April–March by default; e.g. ``start_month=10`` for
    October–September assessment years), by area (`areas` given, plus ``outside``) or by
    category (``by="category"``), with the change and % change of the last year from the one
    before (seed 001 Table 4). A year with uncovered months is null, with a warning.

    Columns: ``area_id``/``name`` (or ``category``), one column per year labelled by
    `periods.year_label`, ``change``, ``pct_change``. A final ``Total`` row sums the rows.
    """
    if not years:
        raise InputError("give at least one year", parameter="years")
    if by not in ("area", "category"):
        raise InputError("by must be 'area' or 'category'", parameter="by")
    if by == "area" and areas is None:
        raise InputError("areas are needed for a year-on-year table by area", parameter="areas")
    sel = taxonomy.select(incidents, category)
    sub = incidents[sel]
    cov = _coverage_for_selection(incidents, sel)
    if by == "area":
        keys = join(sub, areas)
        index = pd.Index(list(areas["area_id"].astype(str)) + [OUTSIDE], name="area_id")
    else:
        keys = sub["category"].astype(str)
        index = pd.Index(sorted(keys.unique(), key=lambda c: (TABLE_ORDER.index(c) if c in TABLE_ORDER
                                                                 else len(TABLE_ORDER), c)),
                         name="category")
    out = pd.DataFrame(index=index)
    warnings, labels = [], []
    for year in years:
        win = periods.financial_year(int(year), start_month)
        label = periods.year_label(int(year), start_month)
        labels.append(label)
        text = _window_warning(label, win, cov)
        in_year = sub["month"].isin(win)
        col = keys[in_year].value_counts().reindex(index, fill_value=0)
        if text:
            warnings.append(text)
            out[label] = pd.array([None] * len(index), dtype="Int64")
        else:
            out[label] = pd.array(col.to_numpy(), dtype="Int64")
    total = {lab: (None if out[lab].isna().any() else int(out[lab].sum())) for lab in labels}
    out = pd.concat([out, pd.DataFrame([total], index=pd.Index(["Total"], name=index.name))])
    for lab in labels:
        out[lab] = pd.array(out[lab].tolist(), dtype="Int64")
    if len(labels) >= 2:
        a, b = labels[-2], labels[-1]
        out["change"] = out[b] - out[a]
        out["pct_change"] = pd.array([pct_change(None if pd.isna(y) else int(y), None if pd.isna(x) else int(x))
                                      for x, y in zip(out[a], out[b])], dtype="Float64")
    out = out.reset_index()
    if by == "area":
        names = dict(zip(areas["area_id"].astype(str), areas["name"].astype(str)))
        names.update({OUTSIDE: OUTSIDE, "Total": "Total"})
        out.insert(1, "name", out["area_id"].map(names))
    return out, warnings


def breakdown(
    incidents: pd.DataFrame, by: str = "subcategory", category=None, months: list[str] | None = None,
    mask: pd.Series | None = None,
) -> pd.DataFrame:
    """Counts and shares by a column (default ``subcategory``: e.g. fires by property type),
    largest first; missing values are counted as 'Not recorded' (never dropped)."""
    if by not in incidents.columns:
        raise InputError(f"incidents have no column '{by}'", parameter="by")
    sel = taxonomy.select(incidents, category)
    if months is not None:
        sel &= incidents["month"].isin(list(months))
    if mask is not None:
        sel &= mask
    values = incidents.loc[sel, by].astype(object).where(incidents.loc[sel, by].notna(), "Not recorded")
    values = values.map(lambda v: "Not recorded" if str(v).strip() == "" else str(v))
    counts_ = values.value_counts()
    total = int(counts_.sum())
    out = pd.DataFrame({by: counts_.index.astype(str), "count": counts_.to_numpy().astype(int)})
    out = out.sort_values(["count", by], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["share_pct"] = [round(100.0 * c / total, 1) for c in out["count"]] if total else []
    return out


# =========================================================================== population
_POP_FIELDS = ("population", "total_usual_residents", "usual_residents", "all_usual_residents",
               "pop", "total", "residents", "count")


def _pick_value_column(table: pd.DataFrame, value: str | None) -> str:
    if value is not None:
        if value not in table.columns:
            raise InputError(f"population table has no column '{value}'", column=value)
        return value
    lower = {str(c).strip().lower(): c for c in table.columns}
    for name in _POP_FIELDS:
        if name in lower:
            return lower[name]
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    if len(numeric) == 1:
        return numeric[0]
    raise InputError("cannot tell which column holds population; name it (e.g. 'population')",
                     parameter="population")


def population_from_table(
    table: pd.DataFrame, areas: gpd.GeoDataFrame, code: str | None = None, value: str | None = None,
) -> tuple[pd.Series, list[str]]:
    """Population by ``area_id`` from a table joined by area code (or, failing that, by name).

    `code` names the table's key column (default: the column whose values match the most area
    ids, else names). Returns ``(Series indexed by area_id, warnings)``; areas without a
    population get NaN and a warning naming them, and table rows matching no area are named too.
    """
    value = _pick_value_column(table, value)
    ids = areas["area_id"].astype(str)
    names = areas["name"].astype(str).str.strip().str.lower()
    best, how = None, None
    candidates = [code] if code is not None else [c for c in table.columns if c != value]
    if code is not None and code not in table.columns:
        raise InputError(f"population table has no column '{code}'", column=code)
    score = -1
    for col in candidates:
        keys = table[col].astype(str).str.strip()
        by_id = keys.isin(set(ids)).sum()
        by_name = keys.str.lower().isin(set(names)).sum()
        for s, h in ((by_id, "id"), (by_name, "name")):
            if s > score:
                best, how, score = col, h, s
    if score <= 0:
        raise InputError("no row of the population table matches an area code or name",
                         parameter="population")
    vals = pd.to_numeric(table[value], errors="coerce")
    keys = table[best].astype(str).str.strip()
    if how == "name":
        keys = keys.str.lower()
        lookup = vals.groupby(keys).sum(min_count=1)
        pop = pd.Series(names.map(lookup).to_numpy(dtype=float), index=ids.to_numpy())
        matched = keys.isin(set(names))
    else:
        lookup = vals.groupby(keys).sum(min_count=1)
        pop = pd.Series(ids.map(lookup).to_numpy(dtype=float), index=ids.to_numpy())
        matched = keys.isin(set(ids))
    warnings = []
    missing = areas.loc[pop.isna().to_numpy(), "name"].astype(str).tolist()
    if missing:
        warnings.append(f"no population for {len(missing)} area(s): {', '.join(missing)}; their rates are n/a")
    unmatched = table.loc[~matched.to_numpy(), best].astype(str).tolist()
    if unmatched:
        warnings.append(f"{len(unmatched)} population row(s) match no area: {', '.join(unmatched[:20])}"
                        + (" ..." if len(unmatched) > 20 else ""))
    pop.index.name = "area_id"
    return pop.rename("population"), warnings


def population_from_lsoa(
    lsoa_population: pd.DataFrame,
    lsoa_areas: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    code: str | None = None,
    value: str | None = None,
    area_code: str | None = None,
    fallback_points: gpd.GeoDataFrame | None = None,
    fallback_code: str = "lsoa_code",
) -> tuple[pd.Series, pd.DataFrame]:
    """Population by area from small-area (e.g. Census 2021 LSOA) counts, each small area given
    wholly to the area containing its representative point (a point inside the polygon; a
    'centroid' that cannot fall outside a concave polygon).

    `lsoa_areas` are the small-area polygons with their code in column `area_code` (default: the
    column sharing the most codes with the table's `code` column, both detected). LSOA codes in the population table with no polygon (e.g. 2021 LSOAs
    against 2011 polygons) are placed at the median of `fallback_points` carrying that code
    (e.g. police.uk incidents, whose rows name their LSOA) when given.

    Returns ``(population by area_id, report)``; `report` lists every small area that did not
    reach an area, with ``code``, ``population`` and ``reason`` ('no polygon', 'outside every
    area') — nothing is silently dropped. Limitation: a small area split by an area boundary is
    not shared out; it all goes to the area holding its representative point.
    """
    value = _pick_value_column(lsoa_population, value)
    if code is not None and code not in lsoa_population.columns:
        raise InputError(f"population table has no column '{code}'", column=code)
    if area_code is not None and area_code not in lsoa_areas.columns:
        raise InputError(f"small-area polygons have no column '{area_code}'", parameter="lsoa_areas")
    if code is None or area_code is None:
        # the (table column, polygon column) pair sharing the most codes
        tcols = [code] if code is not None else [c for c in lsoa_population.columns if c != value]
        pcols = [area_code] if area_code is not None else [
            c for c in lsoa_areas.columns if c != lsoa_areas.geometry.name]
        tvals = {c: set(lsoa_population[c].astype(str).str.strip()) for c in tcols}
        pvals = {c: set(lsoa_areas[c].astype(str).str.strip()) for c in pcols}
        score, code, area_code = max(((len(tvals[t] & pvals[q]), t, q) for t in tcols for q in pcols),
                                     key=lambda item: item[0])
        if score == 0:
            raise InputError("no small-area code in the population table matches the small-area "
                             "polygons", parameter="population")
    _check_crs(areas, "areas")
    polys = lsoa_areas.to_crs(settings.CRS) if not lsoa_areas.crs.equals(settings.CRS) else lsoa_areas
    geom = shapely.make_valid(polys.geometry.values)
    reps = pd.Series(list(shapely.point_on_surface(geom)), index=polys[area_code].astype(str).to_numpy())
    reps = reps[~reps.index.duplicated()]
    codes = lsoa_population[code].astype(str).str.strip()
    vals = pd.to_numeric(lsoa_population[value], errors="coerce").fillna(0).to_numpy()
    points = codes.map(reps)
    source = np.where(points.notna(), "polygon", "none").astype(object)
    if fallback_points is not None and points.isna().any():
        fb = fallback_points[fallback_points[fallback_code].astype(str).isin(set(codes[points.isna()]))]
        if len(fb):
            xy = shapely.get_coordinates(fb.geometry.values)
            med = pd.DataFrame({"c": fb[fallback_code].astype(str).to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})
            med = med.groupby("c")[["x", "y"]].median()
            fill = codes.map(pd.Series(list(shapely.points(med.to_numpy())), index=med.index))
            use = points.isna() & fill.notna()
            points = points.where(~use, fill)
            source = np.where(use.to_numpy(), "incident points", source)
    has_point = points.notna().to_numpy()
    pos = np.full(len(codes), -1, dtype=np.int64)
    if has_point.any():
        xy = shapely.get_coordinates(np.asarray(points[has_point].tolist(), dtype=object))
        pos[has_point] = locate(xy, areas)
    ids = np.asarray(areas["area_id"].astype(str).to_numpy(), dtype=object)
    assigned = pd.Series(np.where(pos >= 0, ids[np.clip(pos, 0, None)], None), index=codes.index, dtype=object)
    pop = pd.Series(vals, index=codes.index).groupby(assigned).sum()
    pop = pd.Series(ids).map(pop).astype(float).set_axis(ids).rename("population")
    pop.index.name = "area_id"
    by_points = source == "incident points"
    reason = np.where(~has_point, "no polygon",
                      np.where(pos < 0, "outside every area",
                               np.where(by_points, "no polygon; placed at the median of its incident points", "")))
    report = pd.DataFrame({"code": codes.to_numpy(), "population": vals, "reason": reason,
                           "area_id": pd.Series(assigned.to_numpy(), dtype=object)})
    report = report[report["reason"] != ""].reset_index(drop=True)
    return pop, report


def read_population(path, areas: gpd.GeoDataFrame, lsoa_boundaries=(),
                    incidents: gpd.GeoDataFrame | None = None) -> tuple[pd.Series, list[str]]:
    """Population by ``area_id`` from a CSV file (``--population FILE``): a population column
    and a column of area codes or names (`population_from_table`), or, with `lsoa_boundaries`
    (small-area polygon files), a population per LSOA summed to the areas by representative
    point (`population_from_lsoa`; LSOAs without a polygon placed at the `incidents` carrying
    their ``lsoa_code``). Returns ``(population, notes)``; the notes name every area without a
    population and every small area that reached none."""
    from .tables import read_population as read_table  # the one population-CSV reader

    table = read_table(path)
    if not lsoa_boundaries:
        return population_from_table(table, areas)
    polys = pd.concat([gpd.read_file(p).to_crs(areas.crs) for p in lsoa_boundaries], ignore_index=True)
    fallback = incidents if incidents is not None and "lsoa_code" in incidents.columns else None
    pop, report = population_from_lsoa(table, polys, areas, fallback_points=fallback)
    notes = [f"{len(group)} LSOA(s) {reason} (population {int(group['population'].sum()):,}): "
             + ", ".join(group["code"].astype(str).head(20))
             for reason, group in report.groupby("reason", sort=True)]
    return pop, notes


def ranking_layer(areas: gpd.GeoDataFrame, layer: str | None = None) -> gpd.GeoDataFrame:
    """The areas a ranking compares: those of `layer` (InputError naming the layers present when
    there are none), by default the wards when the areas mix wards with other layers, else all."""
    layers = areas["layer"].astype(str) if "layer" in areas.columns else None
    if layer is not None:
        if layers is None or not layers.eq(layer).any():
            have = ", ".join(sorted(set(layers))) if layers is not None else "none"
            raise InputError(f"no areas in layer '{layer}' (layers: {have})", parameter="layer")
        return areas[layers.eq(layer)].reset_index(drop=True)
    if layers is not None and layers.eq("ward").any() and layers.nunique() > 1:
        return areas[layers.eq("ward")].reset_index(drop=True)
    return areas


def ranking(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    category=None,
    period: tuple[str | None, str | None] | None = None,
    population: pd.Series | None = None,
    top: int = 3,
    notes: list[str] | None = None,
    restrict: bool = False,
    area_warnings: list[str] | None = None,
    whole: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict]:
    """`rank_areas` with everything ``hotspot rank`` reports: ``(table, document)``.

    `areas` as prepared by `tables.group_areas` (``--by``/``--within``); `restrict` counts only
    the incidents inside them (a ``--within`` ranking, see `tables.rank`); `area_warnings` (from
    `group_areas`) come first among the document's warnings.

    `period` is (first, last) month, either end open (default: the first/last month with data).
    The document is the ``hotspot rank`` JSON: ``{"categories", "from", "to", "total",
    "outside", "top" (see `top_share`), "areas" (the table's rows, nulls for missing), "notes",
    "warnings"}``; ``table.attrs["title"]`` is the printed table's title ('ASB by ward, ...').

    `whole`: when `incidents` holds only the selected categories (a GeoParquet file read back
    by `ingest.canonical`), its summary of everything loaded -- one row per distinct source,
    kind, category, group and month -- on which coverage and the period's open ends are judged.
    """
    params.validate(top=top)
    tokens = taxonomy.category_list(category)
    selected = taxonomy.select(incidents, tokens or None)  # unknown names fail here, naming the choices
    months = None
    first, last = period if period is not None else (None, None)
    first = periods.parse_month(first, "from") if first is not None else None
    last = periods.parse_month(last, "to") if last is not None else None
    if first is not None or last is not None:
        cov = periods.Coverage.of(whole if whole is not None else incidents)
        if cov.first is None:
            raise InputError("no incidents loaded", parameter="incidents")
        months = periods.month_range(first or cov.first, last or cov.last)
    from . import tables  # the table engine ranks (it restricts to --within areas)

    table, warnings = tables.rank(incidents, areas, category=tokens or None, months=months,
                                  population=population, restrict=restrict, whole=whole)
    warnings = list(area_warnings or []) + warnings
    layer = str(areas["layer"].iloc[0]) if len(areas) and "layer" in areas.columns else "area"
    what = taxonomy.selection_label(tokens)
    share = top_share(table, top, what=what, unit=layer_unit(layer))
    used = months if months is not None else sorted(
        incidents.loc[selected, "month"].dropna().astype(str).unique())
    span = periods.format_range(used) if used else "no months"
    records = [{k: (None if is_missing(v) else v) for k, v in rec.items()} for rec in table.to_dict("records")]
    doc = {"categories": tokens, "from": used[0] if used else None, "to": used[-1] if used else None,
           "total": table.attrs.get("total"), "outside": table.attrs.get("outside"), "top": share,
           "areas": records, "notes": list(notes or []), "warnings": warnings}
    table.attrs["title"] = f"{what} by {layer}, {span}"
    return table, doc
