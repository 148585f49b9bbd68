"""What happened in this area? The area-table question (docs/design.md §5 `hotspot table`, §5b
"Tables with area or period columns"): the partnership tables, the one answer `hotspot table`,
the report pack's table sections and the Area tables page give.

Decided here and nowhere else:

* which form answers: ONE area with a selected ``month`` (no by/within/category/population/rows,
  a named comparison) is the month / last 6 / last 12 months table of the town-centre paper,
  whose JSON is §5's (`summaries.partnership_table`); every other form is the table engine's
  §5b document (`tables.build_table`);
* the checks every face shares: the kind, the row taxonomy, the comparison, exactly one of
  month / period / years;
* the defaults: kind ``crime``, the same period a year earlier, rows as in the data, financial
  years (April), a Total column.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import coverage, periods, sentences, summaries, tables, taxonomy
from hotspot_app.core.errors import InputError

#: The defaults of a table when a face leaves them out.
KIND: str = "crime"
COMPARE: str = "same-period-last-year"
YEAR_START: int = 4
#: The name of the one column over every incident loaded (no area chosen).
ALL_AREAS: str = "All areas loaded"


@dataclass(frozen=True)
class AreaTable:
    """The answer: the JSON `document` (§5 for the one-area month form, §5b otherwise) and, for
    the one-area month form, its `rows` frame (hierarchy rows, ``<window>_<measure>`` columns)
    and the area's `name`. Warnings are the document's; `notes` are the caveats of coarse
    categories (said beside the table, outside the §5 JSON)."""

    document: dict
    kind: str
    rows: pd.DataFrame | None = None
    name: str | None = None
    kinds: tuple[str, ...] = ()  # a table of several kinds: each kind's block, in order
    force: str | None = None  # the force the counted rows are from (names the Total column), or None

    @property
    def title(self) -> str:
        """What the table counts: 'Crime', or 'Crime and anti-social behaviour'."""
        labels = [taxonomy.kind_label(k) for k in (self.kinds or (self.kind,))]
        text = " and ".join([labels[0]] + [x[:1].lower() + x[1:] for x in labels[1:]])
        return text

    @property
    def one_area(self) -> bool:
        return self.rows is not None

    @property
    def warnings(self) -> list[str]:
        return list(self.document.get("warnings", []))

    @property
    def notes(self) -> list[str]:
        return list(self.rows.attrs.get("notes", [])) if self.rows is not None else []


def check(*, month=None, period=None, years=None, kind: str | None = None,
          compare: str | None = None, taxonomy_name: str = "auto") -> str | None:
    """The checks every face makes before loading anything; returns the parsed month."""
    kind = KIND if kind is None else kind
    compare = COMPARE if compare is None else compare
    if kind not in taxonomy.KINDS:
        raise InputError(f"'{kind}' is not one of: {', '.join(taxonomy.KINDS)}", parameter="kind")
    if taxonomy_name not in taxonomy.TABLE_TAXONOMIES:
        raise InputError(f"'{taxonomy_name}' is not one of: {', '.join(taxonomy.TABLE_TAXONOMIES)}",
                         parameter="taxonomy")
    tables.parse_compare(compare)
    if sum(x is not None for x in (month, period, years)) != 1:
        raise InputError("give exactly one of --month, --period or --years", parameter="month")
    return periods.parse_month(month, "month") if month is not None else None


def _form(areas, area, by, within, month, compare, category, population, rows):
    """(one-area month form?, the chosen rows of `areas` or None, the names asked for, no area
    at all?): which table answers (see the module's docstring)."""
    chosen = area if isinstance(area, gpd.GeoDataFrame) else None
    names = [] if chosen is not None or area is None else ([area] if isinstance(area, str) else list(area))
    all_areas = area is None and by is None and areas is None
    one_area = (month is not None and (chosen is not None or len(names) == 1 or all_areas)
                and by is None and within is None and not category and population is None
                and rows is None and compare in periods.COMPARISONS)
    return one_area, chosen, names, all_areas


def one_area(areas: gpd.GeoDataFrame | None = None, *, area=None, by: str | None = None,
             within: str | None = None, month: str | None = None, compare: str | None = None,
             category=None, population=None, rows: str | None = None) -> gpd.GeoDataFrame | None:
    """The rows of the one area the town-centre month table counts in (the incidents outside it
    are counted nowhere), or None when the table is another form or covers every incident."""
    compare = COMPARE if compare is None else compare
    form, chosen, names, all_areas = _form(areas, area, by, within, month, compare, category,
                                           population, rows)
    if not form or all_areas:
        return None
    return chosen if chosen is not None else core_areas.find_area(areas, names[0])


def area_table(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None = None, *,
               area=None, by: str | None = None, within: str | None = None,
               month: str | None = None, period: str | None = None, years: str | None = None,
               year_start: int | None = None, compare: str | None = None, kind: str | None = None,
               category=None, taxonomy_name: str = "auto", population=None, total: bool = True,
               rows: str | None = None, smooth: str | None = None,
               whole: pd.DataFrame | None = None) -> AreaTable:
    """The table for these choices (the flags of ``hotspot table``, docs/design.md §5b).

    `area` is a name, a list of names (one column each), or the chosen rows of `areas` (a
    GeoDataFrame); no `area`, `by` or `areas` means one column over every incident loaded.
    `kind`, `compare` and `year_start` left out (None) are `KIND`, `COMPARE`, `YEAR_START`.
    `smooth` (``eb``): each cell of an area column gains ``rate_eb`` beside ``rate``, the global
    Empirical Bayes rate per 1,000 of the row's current count over the area columns
    (`where_next.smooth`; the Total column's is null), and the document ``smoothing``.

    `whole`: when `incidents` are only what the table counts (`selected.table_selection`), the
    summary of everything loaded (`selected.Selected.whole`).
    """
    if smooth is not None and smooth != "eb":
        raise InputError(f"a table smooths with 'eb' (global Empirical Bayes over its area columns; "
                         f"got '{smooth}')", parameter="smooth")
    if smooth is not None and (years is not None or (by is None and not area)):
        raise InputError("--smooth eb needs area columns: --by FIELD or several --area",
                         parameter="smooth")
    kind = KIND if kind is None else kind
    compare = COMPARE if compare is None else compare
    year_start = YEAR_START if year_start is None else int(year_start)
    month = check(month=month, period=period, years=years, kind=kind, compare=compare,
                  taxonomy_name=taxonomy_name)
    one_area, chosen, names, all_areas = _form(areas, area, by, within, month, compare, category,
                                               population, rows)
    if one_area:
        if all_areas:
            rows_area, name = pd.Series(True, index=incidents.index), ALL_AREAS
        else:
            rows_area = chosen if chosen is not None else core_areas.find_area(areas, names[0])
            name = str(rows_area["name"].iloc[0])
        table = summaries.partnership_table(incidents, rows_area, month, kind=kind, compare=compare,
                                            taxonomy_name=taxonomy_name, whole=whole)
        document = summaries.table_document(table, name)
        document["sentences"] = sentences.table_sentences(window_columns(document, table.rows), kind,
                                                          total_name=force_or(incidents, ALL_AREAS, [kind]))
        return AreaTable(document, kind, table.rows, name, force=force_of(incidents, [kind]))
    if chosen is not None:
        names = [str(n) for n in chosen["area_id"]]
    blocks = kind_blocks(incidents, category) if rows is None else []
    if len(blocks) > 1:  # several kinds asked for: a block per kind, each with its subtotal
        docs = [(k, tables.build_table(incidents, areas, area=names or None, by=by, within=within, month=month,
                                       period=period, years=years, year_start=year_start, compare=compare,
                                       kind=k, category=cat, taxonomy_name=taxonomy_name,
                                       population=population, total=total, whole=whole))
                for k, cat in blocks]
        document = combine_kinds(docs)
        document["sentences"] = [x for k, d in docs for x in sentences.table_sentences(
            d, k, total_name=force_or(incidents, "all areas", [k]))]
        kinds = tuple(k for k, _ in blocks)
        return AreaTable(document, blocks[0][0], kinds=kinds, force=force_of(incidents, kinds))
    document = tables.build_table(incidents, areas, area=names or None, by=by, within=within,
                                  month=month, period=period, years=years, year_start=year_start,
                                  compare=compare, kind=kind, category=category,
                                  taxonomy_name=taxonomy_name, population=population, total=total,
                                  rows=rows, whole=whole)
    if smooth is not None:
        document = _smoothed(document, smooth, total and len(document["columns"]) > 1)
    what = taxonomy.selection_label(category) if category else None
    document["sentences"] = sentences.table_sentences(
        document, kind, what=what, total_name=force_or(incidents, "all areas", [kind]),
        monthly=peak_counts(incidents, areas, document, names=names, by=by, within=within, kind=kind,
                            category=category) if rows is None else None)
    return AreaTable(document, kind, force=force_of(incidents, [kind]))


def force_of(incidents: gpd.GeoDataFrame, kinds) -> str | None:
    """The force ('Cleveland') when the rows of the table's `kinds` are one police force's, else
    None. Judged on those kinds' rows only, so a table read narrowed to its kind
    (`selected.table_selection`) and one given everything loaded name it alike."""
    if "kind" in incidents.columns:
        incidents = incidents[incidents["kind"].astype(str).isin(list(kinds)).to_numpy()]
    return coverage.provider_name(incidents) if len(incidents) else None


def force_or(incidents: gpd.GeoDataFrame, default: str, kinds) -> str:
    """How the whole-data column is named in sentences: `force_of`, else `default`."""
    return force_of(incidents, kinds) or default


def window_columns(document: dict, rows: pd.DataFrame) -> dict:
    """The one-area month table (§5 JSON) as a table-engine document (a column per window) for
    `sentences.table_sentences`."""
    wins, prev = rows.attrs.get("windows", {}), rows.attrs.get("previous_windows", {})
    columns = [{"id": w, "area": document["area"], "from": wins[w][0],
                "to": wins[w][-1], "compare_from": prev[w][0] if prev.get(w) else None,
                "compare_to": prev[w][-1] if prev.get(w) else None}
               for w, _ in periods.TABLE_WINDOWS if w in wins]
    return {"columns": columns, "rows": [{**r, "cells": {c["id"]: r[c["id"]] for c in columns}}
                                         for r in document["rows"]]}


def peak_counts(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, document: dict, *,
                names: list[str], by: str | None, within: str | None, kind: str,
                category) -> dict[str, dict[str, int]]:
    """Counts per month of the last column (the Total, or the only area) over its current
    window, for the sentences' peak months: {column id: {month: count}}; {} when the window is
    not covered (its months are then not known)."""
    if not document["columns"]:
        return {}
    col = document["columns"][-1]
    months = periods.month_range(col["from"], col["to"])
    if len(months) < 2 or not coverage.for_kind(incidents, kind).covers(months):
        return {}
    sel = incidents["kind"].eq(kind) & incidents["month"].astype(str).isin(months)
    if category:
        sel &= taxonomy.select(incidents, category)
    sub = incidents[sel.to_numpy()]
    if areas is not None and len(sub):
        if by is not None or not names:
            pool, _ = tables.group_areas(areas, within=within) if within is not None else (areas, [])
        else:
            pool = pd.concat([core_areas.find_area(areas, n) for n in names])
        sub = sub[core_areas.area_mask(sub, gpd.GeoDataFrame(pool, geometry="geometry", crs=areas.crs)).to_numpy()]
    counts = sub["month"].astype(str).value_counts()
    return {col["id"]: {m: int(counts.get(m, 0)) for m in months}}


def kind_blocks(incidents: gpd.GeoDataFrame, category) -> list[tuple[str, list[str] | None]]:
    """The kinds a category selection spans, each with the part of the selection of that kind
    (None: the whole kind, e.g. ``--category crime``): [("crime", None), ("asb", None)] for
    ``--category crime --category asb``; one entry (or none) when the selection is of one kind."""
    tokens = taxonomy.category_list(category)
    if not tokens:
        return []
    leaves = tables.leaf_frame()
    out: dict[str, list[str] | None] = {}
    for token in tokens:
        if token.strip().lower() in taxonomy.KINDS:
            out[token.strip().lower()] = None
            continue
        kinds = set(leaves.loc[taxonomy.select(leaves, [token]).to_numpy(), "kind"])
        if not kinds:  # a category of the data only
            sel = taxonomy.select(incidents, [token])
            kinds = set(incidents.loc[sel.to_numpy(), "kind"].astype(str))
        for k in sorted(kinds):
            if k in out and out[k] is None:
                continue
            out.setdefault(k, [])
            out[k].append(token)
    return [(k, v) for k, v in out.items()]


def combine_kinds(docs: list[tuple[str, dict]]) -> dict:
    """One table of several kinds' documents (the same columns): each kind's rows, its Total
    renamed as the kind's subtotal ('Crime total'; a kind of one row, ASB, is that row), then a
    ``Total`` adding the subtotals (the kinds never overlap, so no incident is counted twice).
    Each row carries its ``kind``; subtotals ``"subtotal": true``."""
    from hotspot_app.core.measures import diff, pct_change, rate_per_1000

    columns = docs[0][1]["columns"]
    rows: list[dict] = []
    warnings: list[str] = []
    subtotals = []
    for kind, doc in docs:
        body = doc["rows"][:-1]
        total_row = doc["rows"][-1]
        if len(body) == 1:  # one row (ASB): the row is its kind's subtotal, said once
            sub = {**total_row, "category": body[0]["category"], "kind": kind, "subtotal": True}
        else:
            rows += [{**r, "kind": kind} for r in body]
            sub = {**total_row, "category": f"{taxonomy.kind_label(kind)} total", "kind": kind, "subtotal": True}
        rows.append(sub)
        subtotals.append(sub)
        warnings += [w for w in doc.get("warnings", []) if w not in warnings]
    cells = {}
    for c in columns:
        cid = c["id"]

        def add(key: str):
            vals = [s["cells"][cid][key] for s in subtotals]
            return None if any(v is None for v in vals) else int(sum(vals))

        cur, prev = add("current"), add("previous")
        cells[cid] = {"current": cur, "previous": prev, "diff": diff(cur, prev),
                      "pct_diff": pct_change(cur, prev), "rate": rate_per_1000(cur, c.get("population"))}
    rows.append({"category": tables.TOTAL, "parent": None, "level": 0, "kind": None, "cells": cells})
    return {"columns": columns, "rows": rows, "warnings": warnings}


def _smoothed(document: dict, smooth: str, has_total: bool) -> dict:
    """The table document with ``rate_eb`` in every cell: per row, Empirical Bayes over the area
    columns (current counts, column populations); null for the Total column, for rows or
    columns without a count or population, and when no column has a population."""
    from hotspot_app.questions import where_next

    cols = document["columns"]
    area_cols = [c for c in (cols[:-1] if has_total else cols)]
    pops = [c.get("population") for c in area_cols]
    if not any(p is not None and p > 0 for p in pops):
        raise InputError("--smooth eb needs a population for the area columns (the areas' "
                         "population field or --population)", parameter="smooth")
    warnings: list[str] = []
    params = None
    rows = []
    for r in document["rows"]:
        cells = {cid: dict(cell, rate_eb=None) for cid, cell in r["cells"].items()}
        counts = [r["cells"][c["id"]]["current"] for c in area_cols]
        if all(v is not None for v in counts) and sum(counts) > 0:
            frame = pd.DataFrame({"name": [c["area"] for c in area_cols], "count": counts,
                                  "population": [float("nan") if p is None else p for p in pops]})
            answer = where_next.smooth(frame, smooth)
            params = answer.parameters
            warnings.extend(w for w in answer.warnings if w not in warnings)
            for c, v in zip(area_cols, answer.table["rate_eb"]):
                cells[c["id"]]["rate_eb"] = None if v is None else round(float(v), 2)
        rows.append({**r, "cells": cells})
    return {**document, "rows": rows, "smoothing": params,
            "warnings": list(document.get("warnings", [])) + warnings}
