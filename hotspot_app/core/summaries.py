"""Area summaries built on the table engine (`tables`): the town-centre area table
(`partnership_table`, `table_document`), the ward summary sentence (`area_summary`,
`summary_sentence`), rankings and shares (`rank_areas`, `top_share`, `share_phrase`, `ranking`),
years (`year_on_year`), breakdowns (`breakdown`) and change by area (`change_by_area`).

% change and rates come from `measures`; coverage from `coverage` (a window with a month the
loaded data do not cover is null with a warning, never zero).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import coverage as month_coverage
from hotspot_app.core import params, periods, taxonomy
from hotspot_app.core.areas import (
    OUTSIDE,
    area_label,
    area_mask,
    display_name,
    join,
    layer_unit,
)
from hotspot_app.core.measures import (
    a_or_an,
    change_block,
    is_missing,
    join_names,
    pct_change,
    rate_per_1000,
    round_half_up,
    share_pct,
)
from hotspot_app.core.errors import InputError


# =========================================================================== numbers
def _isnan(value) -> bool:
    return is_missing(value)


def diff_block(current, previous) -> dict:
    return change_block(current, previous)


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
    whole: pd.DataFrame | None = None,
) -> AreaTable:
    """the town-centre partnership table for one area and selected month.

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
    whole : when `incidents` hold only the months and kind the table counts, the summary of
        everything loaded, on which coverage and the taxonomy are judged (`tables.compute`).

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
    from hotspot_app.core import tables  # the one table engine (tables.py); this is its town-centre view

    month = periods.parse_month(month)
    if compare not in periods.COMPARISONS:
        raise InputError(f"unknown comparison '{compare}'; use one of: {', '.join(periods.COMPARISONS)}",
                         parameter="compare")
    inside = area_mask(incidents, area)
    _cols, nodes, warnings, notes, meta = tables.compute(
        incidents, None, month=month, compare=compare, kind=kind, taxonomy_name=taxonomy_name,
        coverage=coverage, mask=inside, whole=whole)
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
    """The `hotspot table` JSON document (docs/design.md §5) for a partnership table."""
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


def summary_sentence(what: str, current, previous, to: str, n_months: int | None = None,
                     place: str = "area", compare: str = "same-period-last-year") -> str:
    """the micro-hotspot sentence, e.g. 'In the 12 months up to March 2024 there were 1,331 crimes
    recorded in the Hemlington ward area, this figure represents an 11.2% (-168 crimes) reduction
    in comparison to the same time period in the previous 12-months.'

    `what` is ``crime``, ``asb`` or ``fires``. Handles increases, no change, n/a (previous 0)
    and unknown figures (uncovered months).
    """
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


def summary_months(to: str, n_months: int = 12, compare: str = "same-period-last-year") -> list[str]:
    """The months `area_summary` counts (its window and the one it is compared with, sorted):
    what a store reads for it."""
    current_w = periods.window(periods.parse_month(to, "to"), int(n_months))
    if compare == "same-period-last-year" and int(n_months) > 12:
        compare = "previous-period"
    return sorted(set(current_w) | set(periods.comparison_window(current_w, compare)))


def area_summary(
    incidents: gpd.GeoDataFrame,
    area,
    to: str,
    n_months: int = 12,
    place: str | None = None,
    compare: str = "same-period-last-year",
    area_name: str | None = None,
    whole: pd.DataFrame | None = None,
) -> dict:
    """the micro-hotspot summary for one area: crime and ASB (and deliberate fires when fire data are
    loaded) over the `n_months` months up to `to`, against the same window a year earlier
    (default; for 12 months that is the previous 12 months; windows longer than 12 months are
    compared with the previous `n_months` months so they do not overlap) or the previous period.

    Returns the `hotspot summary` JSON document (docs/design.md §5): ``{"area", "to", "months",
    "crime": {"current", "previous", "diff", "pct_diff"}, "asb": {...}, ["fires": {...},]
    "text", "warnings"}``. `place` is the area as written in the sentence (default for areas:
    `area_label`, e.g. 'Hemlington ward area'), `area_name` the JSON "area" (default:
    `display_name`). Counts over windows with uncovered months are null, with warnings.
    `whole`: when `incidents` hold only the months counted (`summary_months`), the summary of
    everything loaded (kind, source, month, category, group), on which what is loaded and month
    coverage are judged.
    """
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
    base = incidents if whole is None else whole
    if base["kind"].eq("fire").any():
        parts.append(("fires", taxonomy.select(incidents, "deliberate-fires"), "fire"))
    for key, mask, kind in parts:
        if not month_coverage.kind_loaded(base, kind):  # never a false zero for data not loaded
            doc[key] = diff_block(None, None)
            plural = _KIND_WORDS[key][0]
            held = ", ".join(sorted(pd.unique(base["kind"].astype(str)))) or "no"
            warnings.append(f"no {plural} are loaded (the data hold only {held} incidents); "
                            f"{key} is shown as null, not zero")
            sentences.append(f"No {plural} are loaded, so the number of {plural} in the {place} is not known.")
            continue
        cov = month_coverage.for_kind(base, kind)
        per_month = incidents.loc[inside & mask, "month"].value_counts()
        cur = month_coverage.windowed(per_month, current_w, cov)
        prev = month_coverage.windowed(per_month, previous_w, cov)
        doc[key] = diff_block(cur, prev)
        for side, win in (("current", current_w), ("previous", previous_w)):
            text = month_coverage.window_warning(f"{key} {side}", win, cov,
                                                 rows=base[base["kind"].eq(kind).to_numpy()])
            if text:
                warnings.append(text)
        sentences.append(summary_sentence(key, cur, prev, to, int(months), place, compare))
    doc["text"] = " ".join(sentences)
    doc["warnings"] = warnings
    doc["sentences"] = list(sentences)
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
        cov = coverage if coverage is not None else month_coverage.for_selection(incidents, sel)
        text = month_coverage.window_warning("ranking period", months, cov)
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
    table["share_pct"] = [share_pct(c, total) for c in table["count"]]
    table["cumulative_share_pct"] = [share_pct(c, total) for c in table["count"].cumsum()]
    table["rate_per_1000"] = [rate_per_1000(c, p) for c, p in zip(table["count"], table["population"])]
    out_row = pd.DataFrame({"rank": [None], "area_id": [OUTSIDE], "name": [OUTSIDE], "count": [outside],
                            "population": [np.nan],
                            "share_pct": [share_pct(outside, total)],
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
    """Words for a share in partnership style: 'almost half (48%)', 'more than half (55%)'
    (`pct` a whole %, `measures.share_pct(..., places=0)`)."""
    p = int(round_half_up(float(pct)))
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
    if total is not None:  # an area with no incidents is never named as where they occurred
        body = body[body["count"].fillna(0).astype(int) > 0]
    if total is None:
        return {"top": int(top), "count": None, "total": None, "share_pct": None,
                "areas": body["name"].tolist(), "text": "not available: the period is not fully covered"}
    count = int(body["count"].sum())
    pct = share_pct(count, total)
    names = body["name"].tolist()
    if pct is None:
        text = f"no {what} recorded"
    else:
        just = "just " if len(names) < max(1, (ranked["area_id"] != OUTSIDE).sum()) / 2 else ""
        unit_ = unit if len(names) != 1 else unit.rstrip("s")
        text = (f"{share_phrase(share_pct(count, total, places=0))} of {what} occurred in {just}{len(names)} {unit_}; "
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
    before (the assessment paper Table 4). A year with uncovered months is null, with a warning.

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
    cov = month_coverage.for_selection(incidents, sel)
    if by == "area":
        keys = join(sub, areas)
        index = pd.Index(list(areas["area_id"].astype(str)) + [OUTSIDE], name="area_id")
    else:
        keys = sub["category"].astype(str)
        index = pd.Index(sorted(keys.unique(), key=lambda c: (taxonomy.TABLE_ORDER.index(c) if c in taxonomy.TABLE_ORDER
                                                                 else len(taxonomy.TABLE_ORDER), c)),
                         name="category")
    out = pd.DataFrame(index=index)
    warnings, labels = [], []
    for year in years:
        win = periods.financial_year(int(year), start_month)
        label = periods.year_label(int(year), start_month)
        labels.append(label)
        text = month_coverage.window_warning(label, win, cov)
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
    out["share_pct"] = [share_pct(c, total) for c in out["count"]] if total else []
    return out


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
    unit: str | None = None,
) -> tuple[pd.DataFrame, dict]:
    """`rank_areas` with everything ``hotspot rank`` reports: ``(table, document)``.

    `areas` as prepared by `tables.group_areas` (``--by``/``--within``); `restrict` counts only
    the incidents inside them (a ``--within`` ranking, see `summaries.rank`); `area_warnings` (from
    `group_areas`) come first among the document's warnings.

    `period` is (first, last) month, either end open (default: the first/last month with data).
    The document is the ``hotspot rank`` JSON: ``{"categories", "from", "to", "total",
    "outside", "top" (see `top_share`), "areas" (the table's rows, nulls for missing), "notes",
    "warnings"}``; ``table.attrs["title"]`` is the printed table's title ('ASB by ward, ...').

    `whole`: when `incidents` holds only the selected categories (a GeoParquet file read back
    by `ingest.canonical`), its summary of everything loaded -- one row per distinct source,
    kind, category, group and month -- on which coverage and the period's open ends are judged.
    `unit` names the areas in the top-N sentence (default by their layer, `areas.layer_unit`).
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

    table, warnings = rank(incidents, areas, category=tokens or None, months=months,
                                  population=population, restrict=restrict, whole=whole)
    warnings = list(area_warnings or []) + warnings
    layer = str(areas["layer"].iloc[0]) if len(areas) and "layer" in areas.columns else "area"
    what = taxonomy.selection_label(tokens)
    share = top_share(table, top, what=what, unit=unit or layer_unit(layer))
    used = months if months is not None else sorted(
        incidents.loc[selected, "month"].dropna().astype(str).unique())
    span = periods.format_range(used) if used else "no months"
    records = [{k: (None if is_missing(v) else v) for k, v in rec.items()} for rec in table.to_dict("records")]
    doc = {"categories": tokens, "from": used[0] if used else None, "to": used[-1] if used else None,
           "total": table.attrs.get("total"), "outside": table.attrs.get("outside"), "top": share,
           "areas": records, "notes": list(notes or []), "warnings": warnings}
    table.attrs["title"] = f"{what} by {layer}, {span}"
    return table, doc


# =========================================================================== rankings
def rank(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, category=None, months=None,
         population=None, restrict: bool = False, whole: pd.DataFrame | None = None
         ) -> tuple[pd.DataFrame, list[str]]:
    """`areas.rank_areas` over areas prepared by `group_areas` (``by``/``within``). With
    `restrict` (a `within` was given) only incidents inside those areas are counted, so shares,
    totals and the top-N sentence are within them ("almost half (48%) of ASB in just 3 wards" of
    one authority); coverage is still judged on the whole load (`whole`, its summary, when
    `incidents` holds only the selected categories: see `areas.ranking`)."""
    base = whole if whole is not None else incidents
    cov = None
    if restrict or whole is not None:
        cov = month_coverage.for_selection(base, taxonomy.select(base, category))
    if not restrict:
        return rank_areas(incidents, areas, category=category, months=months,
                                    population=population, coverage=cov)
    inside = area_mask(incidents, areas)
    return rank_areas(incidents[inside.to_numpy()], areas, category=category, months=months,
                                population=population, coverage=cov)


# =========================================================================== area summary
_KIND_WORDS = {
    "crime": ("crimes", "crime", "crimes"),
    "asb": ("anti-social behaviour incidents", "anti-social behaviour incident", "incidents"),
    "fires": ("deliberate fires", "deliberate fire", "fires"),
}
