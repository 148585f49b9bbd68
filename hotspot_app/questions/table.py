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
from hotspot_app.core import periods, summaries, tables, taxonomy
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
               rows: str | None = None, whole: pd.DataFrame | None = None) -> AreaTable:
    """The table for these choices (the flags of ``hotspot table``, docs/design.md §5b).

    `area` is a name, a list of names (one column each), or the chosen rows of `areas` (a
    GeoDataFrame); no `area`, `by` or `areas` means one column over every incident loaded.
    `kind`, `compare` and `year_start` left out (None) are `KIND`, `COMPARE`, `YEAR_START`.
    `whole`: when `incidents` are only what the table counts (`selected.table_selection`), the
    summary of everything loaded (`selected.Selected.whole`).
    """
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
        return AreaTable(summaries.table_document(table, name), kind, table.rows, name)
    if chosen is not None:
        names = [str(n) for n in chosen["area_id"]]
    document = tables.build_table(incidents, areas, area=names or None, by=by, within=within,
                                  month=month, period=period, years=years, year_start=year_start,
                                  compare=compare, kind=kind, category=category,
                                  taxonomy_name=taxonomy_name, population=population, total=total,
                                  rows=rows, whole=whole)
    return AreaTable(document, kind)
