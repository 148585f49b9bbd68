"""One table engine behind every partnership table (docs/design.md §5b).

Rows are a category hierarchy (police.uk, the Home Office hierarchy of the partnership papers,
ASB incident codes, fire categories; `taxonomy.csv`), columns are areas (named areas, or every
value of a field such as ``LAD24NM`` with the areas holding it dissolved, plus a ``Total``) and/or
periods (the selected month with the last 6 and 12 months, any ``FROM..TO`` range such as a
quarter, 12-month years starting in any month, each compared with the same window a year
earlier, the previous window, or a fixed reference window). Every cell holds ``current``,
``previous``, ``diff``, ``pct_diff`` and ``rate`` (per 1,000 population); `to_frame` adds each
cell's ``share`` of its column's Total.

Public functions
----------------
`build_table` -> the §5b JSON document ``{"columns", "rows", "warnings"}``; `compute` -> the
same numbers before they become a document (the one-area month table of `summaries` reads them);
`to_frame` -> the same numbers as a flat DataFrame (one row per category, ``<column id>_<measure>``
columns, ``node`` = group|leaf|unknown|total); `area_columns` (areas by name, ``by`` and
``within``); `group_areas` (areas dissolved by a field, or by duplicated names); `parse_years`,
`parse_within`, `parse_compare`. ``rows=FIELD`` gives flat rows by an incident column (fires by
property type) instead of the hierarchy. Which form answers a question is decided by
`questions.table`; the performance indicators are `indicators`.

Rules (one home each, shared by the CLI, the app and the report pack)
--------------------------------------------------------------------
- % change and rates: `measures.pct_change`, `measures.rate_per_1000`.
- Coverage: a window with a month the loaded data (of the sources supplying the kind counted)
  have no rows in is null, with a warning naming the months; never 0, never partial.
- Never a false zero: a row the data's own taxonomy cannot distinguish (police.uk has no
  'Violence With Injury', no 'Arson' apart from criminal damage, no residential burglary) is
  null, with a warning naming the rows (`taxonomy.indistinct`).
- Caveats: a police.uk category coarser than the measure (``Burglary`` includes business
  burglary, ...) adds its taxonomy.csv caveat to the warnings (`taxonomy.caveats`).
- Incidents outside every column's area are not in any column (nor in Total): a warning counts
  them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core import areas as areas_mod
from hotspot_app.core import periods, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.core.measures import diff as _diff
from hotspot_app.core.measures import is_missing, pct_change, rate_per_1000, share_pct
from hotspot_app.core import coverage as month_coverage
from hotspot_app.core.population import population_from_table

__all__ = ["build_table", "to_frame", "area_columns", "group_areas", "parse_years", "parse_within",
           "parse_compare", "leaf_frame", "asks_finer", "TOTAL", "MEASURES"]

TOTAL = "Total"
NOT_RECORDED = "Not recorded"
MEASURES = ("current", "previous", "diff", "pct_diff", "rate")
_YEARS = re.compile(r"^\s*(\d{4})\s*\.\.\s*(\d{4})\s*$")


# =========================================================================== arguments
def parse_years(text: str) -> list[int]:
    """``"2020..2022"`` -> ``[2020, 2021, 2022]`` (or a single ``"2022"``)."""
    text = str(text).strip()
    if re.fullmatch(r"\d{4}", text):
        return [int(text)]
    m = _YEARS.match(text)
    if not m or int(m.group(1)) > int(m.group(2)):
        raise InputError(f"'{text}' is not FIRST..LAST years (e.g. 2020..2022)", parameter="years")
    return list(range(int(m.group(1)), int(m.group(2)) + 1))


def parse_within(text: str | None) -> tuple[str, str] | None:
    """``"LAD24NM=Hartlepool"`` -> ``("LAD24NM", "Hartlepool")``."""
    if text is None:
        return None
    field, sep, value = str(text).partition("=")
    if not sep or not field.strip() or not value.strip():
        raise InputError(f"'{text}' is not FIELD=VALUE (e.g. LAD24NM=Hartlepool)", parameter="within")
    return field.strip(), value.strip()


def parse_compare(compare: str | None) -> str | list[str]:
    """A comparison name (`periods.COMPARISONS`) or a fixed reference window ``FROM..TO``."""
    if compare is None:
        return "same-period-last-year"
    if compare in periods.COMPARISONS:
        return compare
    if ".." in str(compare):
        return periods.parse_range(compare, "compare")
    raise InputError(f"'{compare}' is not one of: {', '.join(periods.COMPARISONS)}, or FROM..TO",
                     parameter="compare")


# =========================================================================== periods
@dataclass(frozen=True)
class Window:
    """A current window and the window it is compared with (None: no comparison)."""

    id: str
    months: tuple[str, ...]
    compare: tuple[str, ...] | None


def _year_id(year: int, start_month: int) -> str:
    return str(year) if start_month == 1 else f"{year}/{(year + 1) % 100:02d}"


def windows(month: str | None = None, period: str | None = None, years=None, year_start: int = 4,
            compare: str | list[str] | None = "same-period-last-year") -> list[Window]:
    """The period columns: exactly one of `month` (selected month, last 6, last 12 months),
    `period` (``FROM..TO``) or `years` (``FIRST..LAST`` or a list of ints; 12-month years starting
    in `year_start`, each compared with the year before unless `compare` is a fixed window)."""
    given = [x is not None for x in (month, period, years)]
    if sum(given) != 1:
        raise InputError("give exactly one of month, period or years", parameter="period")
    comp = parse_compare(compare) if isinstance(compare, str) or compare is None else list(compare)

    def against(win: list[str]) -> tuple[str, ...]:
        return tuple(comp) if isinstance(comp, list) else tuple(periods.comparison_window(win, comp))

    if month is not None:
        return [Window(name, tuple(win), against(win))
                for name, win in periods.table_windows(periods.parse_month(month, "month")).items()]
    if period is not None:
        win = periods.parse_range(period, "period")
        return [Window("period", tuple(win), against(win))]
    if not 1 <= int(year_start) <= 12:
        raise InputError("must be 1..12", parameter="year-start")
    ys = parse_years(years) if isinstance(years, str) else [int(y) for y in years]
    out = []
    for y in ys:
        win = periods.financial_year(y, int(year_start))
        prev = tuple(comp) if isinstance(comp, list) else tuple(periods.shift(win, -12))
        out.append(Window(_year_id(y, int(year_start)), tuple(win), prev))
    return out


def needed_months(month: str | None = None, period: str | None = None, years=None, year_start: int = 4,
                  compare: str | list[str] | None = "same-period-last-year") -> list[str]:
    """Every month a table of these `windows` counts (its windows and their comparisons,
    sorted): what a store reads for it (`compute` counts nothing else)."""
    wins = windows(month=month, period=period, years=years, year_start=year_start, compare=compare)
    return sorted({m for w in wins for m in w.months} | {m for w in wins for m in (w.compare or ())})


# =========================================================================== areas
def _field(areas: gpd.GeoDataFrame, field: str, parameter: str) -> str:
    for col in areas.columns:
        if str(col).lower() == str(field).lower() and col != areas.geometry.name:
            return col
    # the boundary reader renames the file's name and code fields (e.g. WD24NM, WD24CD) to
    # `name` and `area_id`: an ONS-style name/code field that is no longer there is one of them
    if re.fullmatch(r"[A-Za-z]{2,6}\d{2}NM", str(field), re.I):
        return "name"
    if re.fullmatch(r"[A-Za-z]{2,6}\d{2}CD", str(field), re.I):
        return "area_id"
    fields = ", ".join(str(c) for c in areas.columns if c != areas.geometry.name)
    raise InputError(f"the areas have no field '{field}'; fields: {fields}", parameter=parameter)


def _dissolve(areas: gpd.GeoDataFrame, values: pd.Series) -> gpd.GeoDataFrame:
    """Areas dissolved by `values` (one polygon per distinct value, first-seen order); the value
    becomes ``area_id`` and ``name``; ``population`` is summed (null when any part lacks it)."""
    keys = values.astype(str).str.strip().to_numpy()
    order = list(dict.fromkeys(keys))
    geoms, pops = [], []
    has_pop = "population" in areas.columns
    for k in order:
        part = areas[keys == k]
        geoms.append(shapely.union_all(np.asarray(part.geometry.values)))
        if has_pop:
            p = pd.to_numeric(part["population"], errors="coerce")
            pops.append(float(p.sum()) if p.notna().all() else np.nan)
    out = gpd.GeoDataFrame({"area_id": order, "name": order,
                            "layer": "custom", "population": pops if has_pop else np.nan},
                           geometry=geoms, crs=areas.crs)
    out.attrs["parts"] = {k: int((keys == k).sum()) for k in order}
    return out


def group_areas(areas: gpd.GeoDataFrame, by: str | None = None,
                within: str | tuple[str, str] | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The areas a table or ranking is over: `within` (``FIELD=VALUE``) keeps the areas whose
    FIELD equals VALUE (case-insensitive); `by` dissolves them by a field (e.g. ``LAD24NM`` turns
    wards into local authorities). Without `by`, areas sharing a name (e.g. ``--area-field
    LAD24NM`` on a ward file) are dissolved by name, with a warning naming them, so no area is
    counted once per part. Returns ``(areas, warnings)``."""
    warnings: list[str] = []
    out = areas
    if within is not None:
        field, value = parse_within(within) if isinstance(within, str) else within
        col = _field(out, field, "within")
        vals = out[col].astype(str).str.strip()
        keep = vals.str.lower().eq(value.lower())
        if not keep.any():
            choices = ", ".join(sorted(vals.unique())[:40])
            raise InputError(f"no area has {col} = '{value}'; values: {choices}", parameter="within")
        out = out[keep.to_numpy()].reset_index(drop=True)
    if by is not None:
        col = _field(out, by, "by")
        return _dissolve(out, out[col]), warnings
    names = out["name"].astype(str).str.strip()
    dup = names[names.duplicated(keep=False)]
    if len(dup):
        counts = dup.value_counts(sort=False)
        listed = ", ".join(f"{n} ({c} parts)" for n, c in counts.items())
        warnings.append(f"{len(dup)} areas share {len(counts)} name(s) and were dissolved into one area "
                        f"per name (each counted once): {listed}")
        out = _dissolve(out, names)
    return out, warnings


@dataclass
class _AreaColumn:
    name: str
    mask: np.ndarray          # over the incidents given to the engine
    population: float | None


def area_columns(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, area=None, by=None,
                 within=None, total: bool = True,
                 population: pd.Series | pd.DataFrame | None = None) -> tuple[list[_AreaColumn], list[str]]:
    """The area columns: each named `area` (a name or list of names; same-named parts are one
    area), or every value of `by`, optionally `within` FIELD=VALUE, plus ``Total`` (when more
    than one column and `total`). No areas: one column 'All areas' over every incident.

    `population`: a Series by area name, or a table (`read_population`) matched to the column
    areas by code or name (`areas.population_from_table`); default the areas' ``population``."""
    warnings: list[str] = []
    n = len(incidents)
    if areas is None:
        return [_AreaColumn("All areas", np.ones(n, dtype=bool), None)], warnings
    names = [area] if isinstance(area, str) else list(area or [])
    if names and by is not None:
        raise InputError("give --area names or --by FIELD, not both", parameter="by")
    if not names and by is None:
        raise InputError("give --area NAME (repeatable) or --by FIELD", parameter="area")
    cols: list[_AreaColumn] = []
    if by is not None:
        # population is matched before `within` so rows for the other values are not 'unmatched'
        everything, warns = group_areas(areas, by=by)
        grouped, warns2 = group_areas(areas, by=by, within=within)
        warnings += warns + warns2
        pop = _population(everything, population, warnings)
        labels = areas_mod.join(incidents, grouped, field="area_id").to_numpy() if n else np.array([], dtype=object)
        for name in grouped["name"]:
            cols.append(_AreaColumn(str(name), labels == name, pop.get(str(name))))
        union = labels != areas_mod.OUTSIDE
    else:
        pool, warns = (group_areas(areas, within=within) if within is not None else (areas, []))
        warnings += warns
        union = np.zeros(n, dtype=bool)
        chosen = []
        for name in names:
            rows = areas_mod.find_area(pool, name)
            label = str(rows["name"].iloc[0])
            mask = areas_mod.area_mask(incidents, rows).to_numpy() if n else np.zeros(0, dtype=bool)
            union |= mask
            chosen.append((label, mask))
        named, _same = group_areas(pool)  # keeps area codes unless names repeat
        pop = _population(named, population, warnings)
        for label, mask in chosen:
            cols.append(_AreaColumn(label, mask, pop.get(label.strip())))
    if total and len(cols) > 1:
        pops = [c.population for c in cols]
        tpop = None if any(p is None for p in pops) else float(sum(pops))
        cols.append(_AreaColumn(TOTAL, union, tpop))
    return cols, warnings


def _population(grouped: gpd.GeoDataFrame, population, warnings: list[str]) -> dict[str, float | None]:
    """Population by area name for the column areas."""
    if population is None:
        if "population" not in grouped.columns:
            return {}
        vals = pd.to_numeric(grouped["population"], errors="coerce")
        return {str(k): (None if is_missing(v) else float(v)) for k, v in zip(grouped["name"], vals)}
    if isinstance(population, pd.Series):
        s = population.rename(index=str)
        return {str(k): (None if is_missing(s.get(str(k))) else float(s.get(str(k)))) for k in grouped["name"]}
    pop, warns = population_from_table(population, grouped)
    warnings += warns
    by_id = dict(zip(grouped["area_id"].astype(str), grouped["name"].astype(str)))
    return {by_id[str(k)]: (None if is_missing(v) else float(v)) for k, v in pop.items()}


# =========================================================================== rows
def leaf_frame() -> pd.DataFrame:
    """Every taxonomy leaf as an incident-like row (category, group, kind) for `taxonomy.select`."""
    tax = taxonomy.load()
    return pd.DataFrame({"category": tax["category"].to_numpy(),
                         "group": [p or c for p, c in zip(tax["parent"], tax["category"])],
                         "kind": tax["kind"].to_numpy()}).drop_duplicates(["category", "group"])


def _rows(kind: str, tax_name: str, pairs: pd.DataFrame, category) -> list[dict]:
    """Hierarchy nodes of the table (depth first), restricted to the selected categories."""
    nodes = taxonomy.tree(kind, tax_name, pairs)
    present = set(pairs["category"]) if len(pairs) else set()
    optional = taxonomy.if_present()
    present_keys = {taxonomy.normalise(c) for c in present}
    # a taxonomy leaf spelled differently from the one the data use ('Theft From The Person' vs
    # police.uk 'Theft from the person') is the same node: listed once, as the data spell it
    keep_leaf = {n["category"] for n in nodes if n["node"] == "leaf"
                 and (n["category"] not in optional or n["category"] in present)
                 and (n["category"] in present or taxonomy.normalise(n["category"]) not in present_keys)}
    if category is not None:
        leaves = leaf_frame()
        leaves = pd.concat([leaves, pairs.assign(kind=kind)], ignore_index=True).drop_duplicates(["category", "group"])
        chosen = set(leaves.loc[taxonomy.select(leaves, category).to_numpy(), "category"])
        keep_leaf &= chosen
    out = []
    for node in nodes:
        if node["node"] == "leaf" and node["category"] not in keep_leaf:
            continue
        out.append(node)
    # drop groups left without leaves
    kept_paths = {(n["path"] or "") for n in out if n["node"] == "leaf"}
    return [n for n in out if n["node"] == "leaf"
            or any(p == n["path"] or p.startswith(n["path"] + "/") for p in kept_paths)]


# =========================================================================== the engine
def asks_finer(tax_name: str, category) -> bool:
    """True when the measure asked for is finer than police.uk's categories: Home Office rows,
    or a named group / Home Office category (e.g. ``neighbourhood-crime``, ``Burglary
    Residential``) in the selection. Then coarse police.uk categories carry their caveats."""
    if tax_name == "home-office":
        return True
    tokens = [category] if isinstance(category, str) else list(category or [])
    tokens = [t for tok in tokens for t in str(tok).split(",") if t.strip()]
    kinds = {taxonomy.normalise(k) for k in taxonomy.KIND_GROUPS}
    groups = {taxonomy.normalise(g) for g in taxonomy.named_groups()} - kinds
    lookup = taxonomy.lookup()
    for t in tokens:
        key = taxonomy.normalise(t)
        if key in groups:
            return True
        if key in lookup and "police-uk" not in taxonomy.taxonomy_of(lookup[key][0]):
            return True
    return False


def _pairs_of_whole(whole, kind, needed, category, pair_cat, pair_grp, pair_codes):
    """The (category, group) pairs of `whole` (the summary of everything loaded) of `kind` in
    the `needed` months (and `category`), with the codes of the rows read (`pair_codes`, into
    `pair_cat`/`pair_grp`) moved onto them; a pair of the rows the summary lacks is kept."""
    keep = whole["kind"].eq(kind).to_numpy() & whole["month"].isin(needed).to_numpy()
    if "rows" in whole.columns:
        keep &= whole["rows"].to_numpy() > 0
    part = whole[keep]
    if category is not None:
        part = part[taxonomy.select(part, category, known=whole).to_numpy()]
    universe = list(dict.fromkeys(zip(part["category"].astype(str), part["group"].astype(str))))
    index = {pair: i for i, pair in enumerate(universe)}
    moved = np.empty(len(pair_cat), dtype=np.int64)
    for i, pair in enumerate(zip(pair_cat, pair_grp)):
        if pair not in index:
            index[pair] = len(universe)
            universe.append(pair)
        moved[i] = index[pair]
    cats = np.array([c for c, _ in universe], dtype=object)
    grps = np.array([g for _, g in universe], dtype=object)
    return cats, grps, moved[pair_codes] if len(pair_codes) else pair_codes


def compute(incidents, areas, *, area=None, by=None, within=None, month=None, period=None,
             years=None, year_start=4, compare="same-period-last-year", kind="crime", category=None,
             taxonomy_name="auto", population=None, total=True, coverage=None, mask=None,
             mask_name="area", row_field=None, whole=None):
    """Shared core of `build_table`: (columns, rows with node/path, warnings, notes, meta).
    `mask` (boolean, aligned with `incidents`) replaces the area columns by one column.
    `whole`: when `incidents` hold only the months and kind the table reads (a selection pushed
    into the read), what is judged on everything loaded -- the taxonomy, month coverage and the
    categories the data can distinguish -- is judged on `whole` (rows with kind, source, month,
    category, group: the workspace's summary)."""
    if kind not in taxonomy.KINDS:
        raise InputError(f"unknown kind '{kind}'; use one of: {', '.join(taxonomy.KINDS)}", parameter="kind")
    wins = windows(month=month, period=period, years=years, year_start=year_start, compare=compare)
    base = incidents if whole is None else whole
    tax_name = taxonomy.resolve_taxonomy(base, kind, taxonomy_name)
    cov = coverage if coverage is not None else month_coverage.for_kind(base, kind)
    needed = sorted({m for w in wins for m in w.months} | {m for w in wins for m in (w.compare or ())})  # needed_months
    of_kind = incidents["kind"].eq(kind).to_numpy()
    if category is not None:
        of_kind = of_kind & taxonomy.select(incidents, category, known=whole).to_numpy()
    sel = of_kind & incidents["month"].isin(needed).to_numpy()
    sub = incidents[sel]
    if mask is not None:
        acols, warnings = [_AreaColumn(mask_name, np.asarray(mask, dtype=bool)[sel], None)], []
    else:
        acols, warnings = area_columns(sub, areas, area=area, by=by, within=within, total=total,
                                       population=population)
    notes: list[str] = []

    if row_field is not None:  # flat rows: the values of a column (e.g. fires by property type)
        if row_field not in incidents.columns:
            raise InputError(f"incidents have no column '{row_field}'", parameter="rows")
        vals = sub[row_field].astype(object)
        cats = np.array([NOT_RECORDED if is_missing(v) or str(v).strip() == "" else str(v) for v in vals],
                        dtype=object)
        grps = cats
    else:
        cats = sub["category"].astype(str).to_numpy()
        grps = sub["group"].astype(str).to_numpy()
    pair_df = pd.DataFrame({"category": cats, "group": grps})
    pair_codes = pair_df.groupby(["category", "group"], sort=False).ngroup().to_numpy()
    firsts = pair_df.drop_duplicates()  # first-appearance order = ngroup(sort=False) order
    pair_cat = firsts["category"].to_numpy(dtype=object)
    pair_grp = firsts["group"].to_numpy(dtype=object)
    if whole is not None and row_field is None:
        # the rows are judged on the (category, group) pairs of everything loaded of this kind in
        # these months (what `sub` holds when read whole), not on those of the rows read: a read
        # narrowed to an area's box may lack some (the same rows, counted the same)
        pair_cat, pair_grp, pair_codes = _pairs_of_whole(whole, kind, needed, category, pair_cat,
                                                         pair_grp, pair_codes)
    pair_uniques = pair_cat
    month_index = {m: i for i, m in enumerate(needed)}
    month_codes = sub["month"].astype(str).map(month_index).to_numpy()
    npairs, nmonths = len(pair_uniques), len(needed)
    cubes = []
    for col in acols:
        flat = pair_codes[col.mask] * nmonths + month_codes[col.mask]
        cubes.append(np.bincount(flat.astype(np.int64), minlength=npairs * nmonths).reshape(npairs, nmonths))

    pairs = pd.DataFrame({"category": pair_cat, "group": pair_grp})
    if row_field is not None:
        totals = sum(c[:, [month_index[m] for w in wins for m in w.months]].sum(axis=1) for c in cubes) \
            if cubes and npairs else np.zeros(npairs)
        order = sorted(range(npairs), key=lambda i: (-int(np.asarray(totals)[i]), str(pair_cat[i])))
        nodes = [{"category": pair_cat[i], "parent": None, "level": 0, "node": "leaf", "path": ""} for i in order]
    else:
        nodes = _rows(kind, tax_name, pairs, category)
    if category is not None and not nodes and row_field is None:
        raise InputError(f"the categories {category} select no row of kind '{kind}'", parameter="category")
    data_cats = base.loc[base["kind"].eq(kind).to_numpy(), "category"]
    blind = set(taxonomy.indistinct([n["category"] for n in nodes if n["node"] == "leaf"], data_cats, kind)) \
        if kind != "fire" and row_field is None else set()
    leaf_paths = [(n["category"], n["path"] or n["category"]) for n in nodes if n["node"] == "leaf"]
    specs = []
    for node in nodes:
        if node["node"] == "leaf":
            g = node["path"] or node["category"]
            mask = (pair_cat == node["category"]) & (pair_grp == g)
            unknown_count = node["category"] in blind
        else:
            p = node["path"]
            mask = np.array([g == p or g.startswith(p + "/") for g in pair_grp], dtype=bool)
            under = [c for c, g in leaf_paths if g == p or g.startswith(p + "/")]
            unknown_count = bool(under) and all(c in blind for c in under)
        specs.append((dict(node), mask, unknown_count))
    unknown = pair_grp == taxonomy.UNKNOWN
    if unknown.any() and row_field is None:
        specs.append(({"category": taxonomy.UNKNOWN, "parent": None, "level": 0, "node": "unknown",
                       "path": taxonomy.UNKNOWN}, unknown, False))
    specs.append(({"category": TOTAL, "parent": None, "level": 0, "node": "total", "path": ""},
                  np.ones(npairs, dtype=bool), False))

    columns = []
    for col in acols:
        for w in wins:
            named = len(wins) > 1 or period is None  # month windows and years keep their labels
            if len(acols) == 1:
                cid = w.id if named else col.name
            else:
                cid = f"{col.name}: {w.id}" if named else col.name
            columns.append({"id": cid, "area": col.name, "from": w.months[0], "to": w.months[-1],
                            "compare_from": w.compare[0] if w.compare else None,
                            "compare_to": w.compare[-1] if w.compare else None,
                            "population": col.population, "_win": w, "_cube": cubes[acols.index(col)]})

    def count(cube, mask, months_) -> int | None:
        if not cov.covers(months_):
            return None
        idx = [month_index[m] for m in months_]
        return int(cube[mask][:, idx].sum()) if len(idx) and mask.any() else 0

    rows = []
    for node, mask, blind_row in specs:
        cells = {}
        for c in columns:
            w = c["_win"]
            if blind_row:
                cur = prev = None
            else:
                cur = count(c["_cube"], mask, w.months)
                prev = count(c["_cube"], mask, w.compare) if w.compare else None
            cells[c["id"]] = {"current": cur, "previous": prev, "diff": _diff(cur, prev),
                              "pct_diff": pct_change(cur, prev), "rate": rate_per_1000(cur, c["population"])}
        rows.append({**node, "cells": cells})

    # warnings: coverage (once per window, naming a force that is missing), rows the data cannot
    # distinguish, caveats, outside
    kind_rows = base[base["kind"].eq(kind).to_numpy()] if "kind" in base.columns else base
    for w in wins:
        for side, months_ in (("current", w.months), ("previous", w.compare)):
            if months_:
                text = month_coverage.window_warning(f"{w.id.replace('_', ' ')} {side}", list(months_), cov,
                                                     rows=kind_rows)
                if text and text not in warnings:
                    warnings.append(text)
    blind_rows = [n["category"] for n, _m, b in specs if b]
    if blind_rows:
        data_tax = taxonomy.detect(data_cats) if kind == "crime" else "police-uk"
        warnings.append(f"the data ({data_tax} categories) cannot distinguish {', '.join(blind_rows)}: "
                        "these rows are n/a (null), not 0")
    counted = {n["category"] for n, m, b in specs if n["node"] == "leaf" and not b
               and any(c["_cube"][m].sum() for c in columns)}
    if row_field is None and asks_finer(tax_name, category):
        notes += taxonomy.caveats(counted)
    if areas is not None:
        window_months = {m for w in wins for m in w.months}
        in_window = sub["month"].isin(window_months).to_numpy()
        covered = acols[-1].mask if acols[-1].name == TOTAL else np.logical_or.reduce([c.mask for c in acols])
        outside = int((in_window & ~covered).sum())
        if outside and by is not None and within is None:  # with `within`, the rest lie outside by choice
            notes.append(f"{outside:,} incident{'s' if outside != 1 else ''} in the current windows "
                         f"lie{'s' if outside == 1 else ''} outside every area and "
                         f"{'are' if outside != 1 else 'is'} in no column (nor in Total)")
    for c in columns:
        c.pop("_win"), c.pop("_cube")
    meta = {"kind": kind, "taxonomy": tax_name, "windows": wins}
    return columns, rows, warnings, notes, meta


def build_table(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None = None, *, area=None,
                by: str | None = None, within: str | None = None, month: str | None = None,
                period: str | None = None, years=None, year_start: int = 4,
                compare: str | list[str] | None = "same-period-last-year", kind: str = "crime",
                category=None, taxonomy_name: str = "auto", population=None, total: bool = True,
                coverage: periods.Coverage | None = None, rows: str | None = None,
                whole: pd.DataFrame | None = None) -> dict:
    """The table engine: the §5b document ``{"columns", "rows", "warnings"}``.

    Parameters
    ----------
    incidents : canonical incidents (all of them: coverage is judged on the whole load).
    areas : boundary areas (None: one column over every incident).
    area : a name or list of names, one column each (same-named parts are one area).
    by : a field of `areas`; one column per value, areas dissolved (``LAD24NM``: local authorities).
    within : ``FIELD=VALUE``: only the areas whose FIELD equals VALUE.
    month, period, years : exactly one: ``YYYY-MM`` (selected month, last 6, last 12 months),
        ``FROM..TO`` (any range, e.g. a quarter) or ``FIRST..LAST`` years from `year_start`
        (10 = October–September); each year compared with the year before.
    compare : ``same-period-last-year`` (default), ``previous-period`` or ``FROM..TO`` (a fixed
        reference window for every column, the national-measure paper).
    kind : ``crime`` (default; ASB and fires never in the crime Total), ``asb`` or ``fire``.
    category : groups, nodes or categories (`taxonomy.select`): only their rows.
    taxonomy_name : ``auto``, ``police-uk`` or ``home-office`` rows.
    population : by area name (Series) or a population table (`read_population`); default the
        areas' ``population`` field. ``Total`` uses the summed population.
    total : add a ``Total`` column when there is more than one area column.
    rows : a column of the incidents (e.g. ``subcategory``: fires by property type) for flat rows
        instead of the taxonomy hierarchy, largest first; missing values are 'Not recorded'.
    whole : when `incidents` hold only what the table reads (`needed`), the summary of everything
        loaded (kind, source, month, category, group) for coverage and the taxonomy (`compute`).

    Returns
    -------
    dict: ``columns`` [{id, area, from, to, compare_from, compare_to, population}], ``rows``
    [{category, parent, level, cells: {column id: {current, previous, diff, pct_diff, rate}}}]
    in hierarchy order ending with ``Total``, and ``warnings`` (coverage, rows the data cannot
    distinguish, caveats of coarse categories, incidents outside every area).
    """
    columns, rows, warnings, notes, _meta = compute(
        incidents, areas, area=area, by=by, within=within, month=month, period=period, years=years,
        year_start=year_start, compare=compare, kind=kind, category=category,
        taxonomy_name=taxonomy_name, population=population, total=total, coverage=coverage, row_field=rows,
        whole=whole)
    return {"columns": columns,
            "rows": [{"category": r["category"], "parent": r["parent"], "level": int(r["level"]),
                      "cells": r["cells"]} for r in rows],
            "warnings": warnings + notes}


def node_kinds(rows: list[dict]) -> list[str]:
    """group|leaf|unknown|total for each row of a document, from the order (a row followed by a
    deeper one is a group)."""
    out = []
    for i, r in enumerate(rows):
        if r["level"] == 0 and r["category"] == TOTAL and i == len(rows) - 1:
            out.append("total")
        elif r["level"] == 0 and r["category"] == taxonomy.UNKNOWN and r["parent"] is None:
            out.append("unknown")
        elif i + 1 < len(rows) and rows[i + 1]["level"] > r["level"]:
            out.append("group")
        else:
            out.append("leaf")
    return out


def to_frame(document: dict) -> pd.DataFrame:
    """A table document as a DataFrame: ``category``, ``parent``, ``level``, ``node``, then per
    column id ``<id>_current``, ``_previous``, ``_diff`` (Int64), ``_pct_diff``, ``_rate``,
    (``_rate_eb`` when smoothed), ``_share`` (Float64; share = % of the column's Total current, 1 decimal)."""
    rows = document["rows"]
    data: dict[str, list] = {"category": [r["category"] for r in rows],
                             "parent": [r["parent"] for r in rows],
                             "level": [int(r["level"]) for r in rows], "node": node_kinds(rows)}
    out = pd.DataFrame(data)
    total_row = next((r for r in reversed(rows) if r["category"] == TOTAL), None)
    for col in document["columns"]:
        cid = col["id"]
        for key in ("current", "previous", "diff"):
            out[f"{cid}_{key}"] = pd.array([r["cells"][cid][key] for r in rows], dtype="Int64")
        for key in ("pct_diff", "rate"):
            out[f"{cid}_{key}"] = pd.array([r["cells"][cid][key] for r in rows], dtype="Float64")
        if any("rate_eb" in r["cells"][cid] for r in rows):  # `--smooth eb`: the smoothed rate
            out[f"{cid}_rate_eb"] = pd.array([r["cells"][cid].get("rate_eb") for r in rows], dtype="Float64")
        tot = total_row["cells"][cid]["current"] if total_row else None
        out[f"{cid}_share"] = pd.array(
            [None if (tot in (None, 0) or r["cells"][cid]["current"] is None)
             else share_pct(r["cells"][cid]["current"], tot) for r in rows], dtype="Float64")
    out.attrs["columns"] = [dict(c) for c in document["columns"]]
    out.attrs["warnings"] = list(document.get("warnings", []))
    return out
