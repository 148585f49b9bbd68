"""Patrol-area polygons of labelled incidents (docs/design.md §5b "Clusters grow"): one ranked,
named polygon per cluster, built in one grouped pass (`build`), with the columns the app pages,
the patrol plan and the exports read (`CONTRACT_COLUMNS`).

Each cluster becomes a polygon: the concave hull (``shapely.concave_hull``, ratio 0.3) of its
distinct member locations buffered by ``eps_m / 2`` (a cluster at one location is a circle of
radius ``eps_m / 2``), so every member lies inside its patrol area. Areas are built in one
grouped pass over the member rows (sorted by cluster once; no per-cluster filtering), holding
coordinates once per distinct location and per-row data as integer codes.

Each area is *named* by its most frequent location text (police.uk's "On or near ..."; other
texts get that prefix) and, with ``areas``, the area its centre lies in ("On or near Market
Street — Central ward"). Its centre (``centroid_easting``/``centroid_northing``, OS grid
reference, longitude/latitude) is the incident-weighted mean of its member locations. Names are
in proper case ("St Paul's Street", not police.uk's "St Paul'S Street"), told apart by the grid
reference where two are the same, and name the authority when the areas span several; without
a location text an area is named by its grid reference and the ward. Areas are ranked by
incident count, or by summed weight (ties: higher density first, then the lowest member
coordinate), and ``cluster_id`` is the rank: the same data give the same ids, whatever
the row order.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core import locations, settings
from hotspot_app.core.areas import authority_column
from hotspot_app.core.errors import InputError
from hotspot_app.core.selection import coordinates

CONCAVE_RATIO = 0.3
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

#: Columns of the patrol-areas GeoDataFrame: the contract the app pages and the patrol plan use
#: (`CONTRACT_COLUMNS`), then older columns kept for existing pages and exports.
CONTRACT_COLUMNS = [
    "rank", "cluster_id", "name", "location_text", "area_name", "count", "weight", "area_m2",
    "area_ha", "incidents_per_ha", "centroid_easting", "centroid_northing", "longitude",
    "latitude", "grid_ref", "first_month", "last_month", "top_categories", "walkable", "geometry",
]
EXTRA_COLUMNS = ["area_id", "layer", "locations", "density_per_km2", "peak_months", "peak_hours",
                 "peak_weekdays", "description"]
AREA_COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS
NEAR_PREFIXES = ("on or near ", "near ")


def polygon(member_xy: np.ndarray, eps_m: float):
    """Patrol polygon of a cluster's distinct member locations: concave hull (ratio 0.3)
    buffered by eps_m/2 (a circle of radius eps_m/2 for one location)."""
    pts = np.unique(np.asarray(member_xy, dtype=float), axis=0)
    return _polygons(pts, np.zeros(len(pts), dtype=np.int64), eps_m)[0]


def _polygons(pts: np.ndarray, group: np.ndarray, eps_m: float) -> np.ndarray:
    """One patrol polygon per group of distinct points (`group` sorted, 0..k-1), vectorised."""
    k = int(group[-1]) + 1 if len(group) else 0
    n = np.bincount(group, minlength=k)
    out = np.empty(k, dtype=object)
    single = n == 1
    first = np.r_[0, np.cumsum(n)[:-1]]
    if single.any():
        out[single] = shapely.buffer(shapely.points(pts[first[single]]), eps_m / 2.0, quad_segs=16)
    if (~single).any():
        many = ~single[group]
        mp = shapely.multipoints(pts[many], indices=np.unique(group[many], return_inverse=True)[1])
        hull = shapely.concave_hull(mp, ratio=CONCAVE_RATIO)
        out[~single] = shapely.buffer(hull, eps_m / 2.0, quad_segs=8)
    return out


def _top_k(group: np.ndarray, codes: np.ndarray, k: int):
    """The `k` most frequent codes per group (ties: lower code first; -1 codes ignored):
    arrays (group, code, count), sorted by group then rank. Counted (in an array when there are
    few possible pairs, else hashed), then only the distinct (group, code) pairs are sorted."""
    ok = codes >= 0
    if not ok.any():
        e = np.empty(0, dtype=np.int64)
        return e, e, e
    ncodes = int(codes.max()) + 1
    key = group[ok].astype(np.int64) * ncodes + codes[ok]
    if int(key.max()) < 4 * len(key):  # few possible pairs (categories, months): counted in place
        every = np.bincount(key)
        uniq = np.flatnonzero(every)
        cnt = every[uniq]
    else:
        kc, uniq = pd.factorize(key, size_hint=locations.distinct_hint(key))
        cnt = np.bincount(kc)
    g, c = uniq // ncodes, uniq % ncodes
    order = np.lexsort((c, -cnt, g))
    g, c, cnt = g[order], c[order], cnt[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    pos = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    keep = pos < k
    return g[keep], c[keep], cnt[keep]


def _codes(column: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted integer codes (-1 for missing) of a column at the boolean `rows`, and the values
    they stand for. Factorises the column's own storage (Arrow strings, categoricals) once."""
    codes, uniques = locations.factorize_shared(column, sort=True)
    return np.asarray(codes)[rows].astype(np.int64), np.asarray(uniques, dtype=object)


def _per_group(g: np.ndarray, items: list, n: int) -> list[list]:
    out: list[list] = [[] for _ in range(n)]
    for gi, item in zip(g.tolist(), items):
        out[gi].append(item)
    return out


def proper_case(text: str) -> str:
    """Text with the capital police.uk puts after an apostrophe undone: "St Paul'S Street" ->
    "St Paul's Street" (other letters unchanged)."""
    return re.sub(r"(?<=[A-Za-z])['’]S\b", lambda m: m.group(0)[0] + "s", text)


def patrol_name(location_text: str | None, area_name: str | None, rank: int,
                grid_ref: str | None = None) -> str:
    """"On or near Market Street — Central ward": the location text in proper case (police.uk's
    already says "On or near"; others get it), then the area when known; without a text, "Near"
    the grid reference ("Near NZ 4905 1905 — Central ward"), else "Patrol area N"."""
    text = proper_case((location_text or "").strip())
    if not text:
        base = f"Near {grid_ref}" if grid_ref else f"Patrol area {rank}"
    elif text.lower().startswith(NEAR_PREFIXES):
        base = text
    else:
        base = f"On or near {text}"
    return f"{base} — {area_name}" if area_name else base


def unique_names(names: list[str], grid_refs: list[str | None], ranks) -> list[str]:
    """Names that repeat told apart by their grid reference ("... (NZ 4441 1870)"), else by
    their rank; names that do not repeat unchanged."""
    seen = pd.Series(names).duplicated(keep=False).to_numpy()
    out = [f"{n} ({g or f'#{int(r)}'})" if d else n
           for n, g, r, d in zip(names, grid_refs, ranks, seen)]
    again = pd.Series(out).duplicated(keep=False).to_numpy()
    return [f"{n} #{int(r)}" if d else n for n, r, d in zip(out, ranks, again)]


def _area_names(areas: gpd.GeoDataFrame | None, xy: np.ndarray) -> list[str | None]:
    """Name of the area each point lies in (None outside every area); ward names gain " ward";
    when the areas span more than one local authority (`areas.authority_column`), the name gains
    its authority ("Central ward, Middlesbrough") so a name never reads as another place."""
    if areas is None or len(areas) == 0 or len(xy) == 0:
        return [None] * len(xy)
    if areas.crs is None or not areas.crs.equals(settings.CRS):
        raise InputError(f"areas must be in {settings.CRS} (got {areas.crs})", parameter="areas")
    if "name" not in areas.columns:
        raise InputError("areas have no 'name' column", column="name", parameter="areas")
    names = areas["name"].astype(object).where(areas["name"].notna(), None).to_numpy()
    if "layer" in areas.columns:
        ward = (areas["layer"].astype(str) == "ward").to_numpy()
        names = np.array([f"{n} ward" if w and n and not str(n).lower().endswith("ward") else n
                          for n, w in zip(names, ward)], dtype=object)
    auth = authority_column(areas)
    if auth is not None:
        la = areas[auth].astype(object).where(areas[auth].notna(), None).to_numpy()
        if len({a for a in la if a}) > 1 or areas["name"].astype(str).duplicated().any():
            names = np.array([f"{n}, {a}" if n and a else n for n, a in zip(names, la)], dtype=object)
    tree = shapely.STRtree(areas.geometry.values)
    pi, ai = tree.query(shapely.points(xy), predicate="within")
    out: list[str | None] = [None] * len(xy)
    for p, a in zip(pi[::-1].tolist(), ai[::-1].tolist()):   # first area wins
        out[p] = names[a]
    return out


def empty_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in AREA_COLUMNS if c != "geometry"},
                            geometry=gpd.GeoSeries([], crs=settings.CRS), crs=settings.CRS)[AREA_COLUMNS]


def build(sel: gpd.GeoDataFrame, labels: np.ndarray, eps_m: float, *,
                 loc: locations.Locations | None = None, weights: np.ndarray | None = None,
                 areas: gpd.GeoDataFrame | None = None):
    """Ranked, named patrol areas of labelled incidents, in one grouped pass.

    `labels` (one per row of `sel`, clusters 0..k-1, -1 noise); `loc` the distinct locations of
    `sel` (computed when not given); `weights` per-row weights for ranking (None: counts).
    Returns (areas GeoDataFrame with `AREA_COLUMNS`, rank of each cluster, cluster_id ->
    {category: count} of its three most frequent categories)."""
    nclu = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    if nclu == 0:
        return empty_areas(), np.empty(0, dtype=np.int64), {}
    if loc is None:
        loc = locations.distinct(coordinates(sel))
    members = labels >= 0
    lab = labels[members].astype(np.int64)
    nloc = len(loc.xy)
    # distinct (cluster, location) pairs with their incident counts
    pair_key = lab * nloc + loc.inverse[members]
    pk, pairs = pd.factorize(pair_key, size_hint=locations.distinct_hint(pair_key))
    pcount = np.bincount(pk).astype(float)
    pg, pl = pairs // nloc, pairs % nloc
    pxy = loc.xy[pl]
    order = np.lexsort((pxy[:, 1], pxy[:, 0], pg))
    pg, pxy, pcount = pg[order], pxy[order], pcount[order]
    nlocs = np.bincount(pg, minlength=nclu)
    first = np.r_[0, np.cumsum(nlocs)[:-1]]
    geoms = _polygons(pxy, pg, eps_m)
    area = shapely.area(geoms)
    count = np.bincount(pg, weights=pcount, minlength=nclu)
    cx = np.bincount(pg, weights=pxy[:, 0] * pcount, minlength=nclu) / count
    cy = np.bincount(pg, weights=pxy[:, 1] * pcount, minlength=nclu) / count
    wsum = (count if weights is None else
            np.bincount(lab, weights=np.nan_to_num(np.asarray(weights, float)[members]), minlength=nclu))
    density = count / (area / 1e6)
    lowest = pxy[first]
    # rank: value (count or summed weight) desc, density desc, lowest member coordinate asc
    order = np.lexsort((lowest[:, 1], lowest[:, 0], -density, -wsum))
    rank_of = np.empty(nclu, dtype=np.int64)
    rank_of[order] = np.arange(1, nclu + 1)
    # months, categories, location texts, times: integer codes, counted per cluster
    mcodes, mcats = _codes(sel["month"], members)
    lo = np.full(nclu, np.iinfo(np.int64).max)
    hi = np.full(nclu, np.iinfo(np.int64).min)
    np.minimum.at(lo, lab, mcodes)  # (every cluster has members)
    np.maximum.at(hi, lab, mcodes)
    firstm, lastm = np.asarray(mcats)[lo], np.asarray(mcats)[hi]
    ccodes, ccats = _codes(sel["category"], members)
    g, c, n = _top_k(lab, ccodes, 3)
    tops = _per_group(g, list(zip(map(str, ccats[c].tolist()), n.tolist())), nclu)
    loc_text: list = [None] * nclu
    if "location" in sel.columns:
        lcodes, lcats = _codes(sel["location"], members)
        blank = np.flatnonzero(pd.Series(np.asarray(lcats, dtype=object)).astype(str).str.strip() == "")
        if len(blank):
            lcodes = np.where(np.isin(lcodes, blank), -1, lcodes)
        g, c, _ = _top_k(lab, lcodes, 1)
        for gi, ci in zip(g.tolist(), c.tolist()):
            loc_text[gi] = str(lcats[ci])
    moy = np.array([int(m[5:7]) - 1 for m in mcats], dtype=np.int64)[mcodes]
    g, c, _ = _top_k(lab, moy, 3)
    peak_months = _per_group(g, [MONTH_NAMES[ci] for ci in c], nclu)
    peak_hours = peak_days = [None] * nclu
    if "occurred" in sel.columns:
        occ = pd.to_datetime(sel["occurred"]).iloc[np.flatnonzero(members)]
        timed = occ.notna() & (occ.dt.hour.ne(0) | occ.dt.minute.ne(0))
        if timed.any():
            hrs = np.where(occ.notna(), occ.dt.hour.fillna(-1), -1).astype(np.int64)
            dow = np.where(occ.notna(), occ.dt.day_of_week.fillna(-1), -1).astype(np.int64)
            g, c, _ = _top_k(lab, hrs, 3)
            peak_hours = [", ".join(v) or None for v in _per_group(g, [f"{h:02d}:00" for h in c], nclu)]
            g, c, _ = _top_k(lab, dow, 3)
            peak_days = [", ".join(v) or None for v in _per_group(g, [WEEKDAY_NAMES[d] for d in c], nclu)]
    area_names = _area_names(areas, np.column_stack([cx, cy]))
    lonlat = locations.lonlat(np.column_stack([cx, cy]))
    refs = [locations.grid_ref(x, y) for x, y in zip(cx, cy)]
    top_text = ["; ".join(f"{k} ({v})" for k, v in t) for t in tops]
    names = unique_names([patrol_name(loc_text[k], area_names[k], int(rank_of[k]), refs[k])
                          for k in range(nclu)], refs, rank_of)
    area_ha = area / 1e4
    desc = [f"#{int(rank_of[k])} {names[k]}: {int(count[k])} incidents, {firstm[k]} to {lastm[k]}; "
            f"{top_text[k]}; {area_ha[k]:,.2f} ha; grid ref {refs[k]}"
            + (f"; peak months {', '.join(peak_months[k])}" if peak_months[k] else "")
            + (f"; peak hours {peak_hours[k]}; peak days {peak_days[k]}" if peak_hours[k] else "")
            for k in range(nclu)]
    table = pd.DataFrame({
        "rank": rank_of, "cluster_id": rank_of, "name": names,
        "location_text": pd.Series(loc_text, dtype=object),
        "area_name": pd.Series(area_names, dtype=object), "count": count.astype(np.int64), "weight": wsum.astype(float),
        "area_m2": area, "area_ha": np.round(area_ha, 2),
        "incidents_per_ha": np.round(count / area_ha, 1),
        "centroid_easting": cx, "centroid_northing": cy,
        "longitude": lonlat[:, 0], "latitude": lonlat[:, 1], "grid_ref": refs,
        "first_month": firstm.astype(str), "last_month": lastm.astype(str),
        "top_categories": top_text, "walkable": area <= settings.WALKABLE_MAX_M2,
        "area_id": [f"patrol-{r}" for r in rank_of], "layer": "patrol", "locations": nlocs,
        "density_per_km2": density, "peak_months": [", ".join(p) or None for p in peak_months],
        "peak_hours": peak_hours, "peak_weekdays": peak_days, "description": desc,
    })
    out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=settings.CRS), crs=settings.CRS)
    out = out.iloc[order].reset_index(drop=True)[AREA_COLUMNS]
    top_dict = {int(rank_of[k]): dict(tops[k]) for k in range(nclu)}
    return out, rank_of, top_dict


def top_categories_text(v) -> str:
    """Top categories as text for tables and tooltips: 'Anti-social behaviour (40); ...' (the first
    three), from the dict or its JSON text."""
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return v
    if isinstance(v, dict):
        return "; ".join(f"{k} ({n})" for k, n in list(v.items())[:3])
    return "" if v is None else str(v)


def document_rows(areas: gpd.GeoDataFrame, top_categories: dict, weighted: bool = False) -> list[dict]:
    """One JSON entry per patrol area (docs/design.md §5 ``clusters`` and §5b "Clusters grow"): id,
    count, size, density, months, top categories, rank, name, centre; ``weight`` (the summed
    weight that ranked it) when `weighted`."""
    def col(name, kind):  # a column as Python values, read once (not a row object per area)
        return areas[name].to_numpy(kind).tolist()

    ints = {c: col(c, np.int64) for c in ("cluster_id", "count", "rank")}
    floats = {c: col(c, float) for c in ("area_m2", "density_per_km2", "centroid_easting",
                                         "centroid_northing", "longitude", "latitude", "weight")
              if c != "weight" or weighted}
    texts = {c: col(c, object) for c in ("first_month", "last_month", "name")}
    rows = []
    for i, cid in enumerate(ints["cluster_id"]):
        d = {
            "cluster_id": cid,
            "count": ints["count"][i],
            "area_m2": round(floats["area_m2"][i], 1),
            "density_per_km2": round(floats["density_per_km2"][i], 1),
            "first_month": texts["first_month"][i],
            "last_month": texts["last_month"][i],
            "top_categories": top_categories.get(cid, {}),
            "rank": ints["rank"][i],
            "name": texts["name"][i],
            "centroid": {"easting": round(floats["centroid_easting"][i], 1),
                         "northing": round(floats["centroid_northing"][i], 1),
                         "longitude": round(floats["longitude"][i], 6),
                         "latitude": round(floats["latitude"][i], 6)},
        }
        if weighted:
            d["weight"] = round(floats["weight"][i], 3)
        rows.append(d)
    return rows
