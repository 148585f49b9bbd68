"""Population of areas: from a table of codes or names (`population_from_table`), or from Census
small-area (LSOA) counts summed to the areas by representative point (`population_from_lsoa`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core.errors import InputError
from hotspot_app.core.areas import check_crs, locate, settings


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
    vals = check_values(table, value)
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
    check_crs(areas, "areas")
    polys = lsoa_areas.to_crs(settings.CRS) if not lsoa_areas.crs.equals(settings.CRS) else lsoa_areas
    geom = shapely.make_valid(polys.geometry.values)
    reps = pd.Series(list(shapely.point_on_surface(geom)), index=polys[area_code].astype(str).to_numpy())
    reps = reps[~reps.index.duplicated()]
    codes = lsoa_population[code].astype(str).str.strip()
    vals = check_values(lsoa_population, value).fillna(0).to_numpy()
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


# =========================================================================== population
POP_FIELDS = ("population", "total_usual_residents", "usual_residents", "all_usual_residents",
               "pop", "total", "residents", "count")


def check_values(table: pd.DataFrame, value: str) -> pd.Series:
    """The population column as numbers, each a whole number of people of 0 or more (thousands
    commas allowed; an empty cell is unknown). `InputError` naming the first row (1 = the first
    data row) and the column otherwise: -500, 0.4 or 'abc' is never used or dropped silently."""
    raw = table[value]
    text = raw.astype(str).str.strip().str.replace(",", "", regex=False)
    empty = raw.isna() | text.eq("") | text.str.lower().isin(("nan", "none"))
    nums = pd.to_numeric(text.where(~empty), errors="coerce")
    for i, (t, n, e) in enumerate(zip(text, nums, empty), start=1):
        if e:
            continue
        if pd.isna(n):
            raise InputError(f"population '{t}' is not a number of people", row=i, column=str(value),
                             parameter="population")
        if n < 0 or float(n) != int(n):
            raise InputError(f"population {t} is not a whole number of people (0 or more)", row=i,
                             column=str(value), parameter="population")
    return nums.astype(float)


def _pick_value_column(table: pd.DataFrame, value: str | None) -> str:
    if value is not None:
        if value not in table.columns:
            raise InputError(f"population table has no column '{value}'", column=value)
        return value
    lower = {str(c).strip().lower(): c for c in table.columns}
    for name in POP_FIELDS:
        if name in lower:
            return lower[name]
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    if len(numeric) == 1:
        return numeric[0]
    raise InputError("cannot tell which column holds population; name it (e.g. 'population')",
                     parameter="population")
