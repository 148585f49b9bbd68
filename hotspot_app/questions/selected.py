"""Reading only what a question counts (docs/design.md §9a "Selection"): the one place every
face reads the incidents a question selects, with the selection pushed into the read.

Each question says what it reads -- `table_selection`, `summary_selection`,
`indicators_selection`, `rank_selection`, `clusters_selection`, `patrol_areas_selection` (grid) -- as a
`core.selection.Selection` (kind or categories, months). `read` gives that selection to the
store that can read less: a workspace (its partitioned GeoParquet, or PostGIS) or a GeoParquet
file written by `hotspot ingest`; other files are read whole (the question selects). When only the
selection was read, `Selected.whole` is the summary of everything loaded (source, provider, month,
kind, category, group, rows), and the questions judge on it what is judged on everything loaded
(month coverage, the taxonomy, the categories the data can distinguish), so the answer is the same
whichever way the incidents came (tests/test_workspace_agreement.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd

from hotspot_app.core import indicators as core_indicators
from hotspot_app.core import summaries, tables, taxonomy
from hotspot_app.core.selection import Selection

__all__ = ["Selected", "read", "table_selection", "summary_selection", "indicators_selection",
           "rank_selection", "patrol_areas_selection", "clusters_selection"]


@dataclass(frozen=True)
class Selected:
    """What `read` read: the `incidents` (the selection, or every incident when the input is
    read whole), `whole` (the summary of everything loaded when only the selection was read;
    None when `incidents` are everything), `rows` (incidents loaded), the readers' `warnings`
    and `notes` (e.g. how many rows were rejected)."""

    incidents: gpd.GeoDataFrame
    whole: pd.DataFrame | None
    rows: int
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read(paths: Sequence[str | Path], selection: Selection | None = None, kind: str = "auto") -> Selected:
    """The incidents of `paths` (incident files, folders, a zip, a workspace or a GeoParquet
    file of `hotspot ingest`) a question needs: only `selection` from a workspace or such a
    GeoParquet file, everything from other files."""
    from hotspot_app.io import ingest, workspace
    from hotspot_app.io.ingest import canonical

    paths = list(paths)
    selection = selection or Selection()
    if len(paths) == 1 and workspace.is_workspace(paths[0]):
        ws = workspace.open_workspace(paths[0])
        warnings = list(ws.load_warnings())  # what reading its files said, as reading them again would
        summary = ws.incident_summary()
        rows = int(summary["rows"].sum())
        if selection.rows_everything:
            data = ws.incidents(selection)
            return Selected(data, None, len(data), warnings)
        return Selected(ws.incidents(selection), summary, rows, warnings)
    if len(paths) == 1 and kind in ("auto", "generic"):
        found = canonical.read(paths[0], category=list(selection.category or ()) or None,
                               period=selection.months())
        if found is not None:
            return Selected(found.incidents, found.summary, found.rows)
    result = ingest.read_incidents(paths, kind=kind,
                                   ids=selection.columns is None or "incident_id" in selection.columns)
    notes = []
    # rows not loaded, said once: a repeated id already has its own warning
    reasons = {k: v for k, v in result.summary["rejected_by_reason"].items() if k != "duplicate id"}
    if reasons:
        n = sum(reasons.values())
        notes.append(f"{n:,} of {result.summary['read']:,} rows were not loaded "
                     f"({', '.join(f'{k}: {v:,}' for k, v in reasons.items())}); "
                     "hotspot ingest --rejects FILE lists them")
    return Selected(result.incidents, None, len(result.incidents), list(result.summary["warnings"]), notes)


def _box(area: gpd.GeoDataFrame | None):
    """The bounding box (metres) of an area's rows, None for no area."""
    if area is None or not isinstance(area, gpd.GeoDataFrame) or len(area) == 0:
        return None
    return tuple(float(v) for v in area.total_bounds)


def table_selection(*, month=None, period=None, years=None, year_start: int | None = None,
                    compare: str | None = None, kind: str | None = None, areas=None, area=None,
                    by: str | None = None, within: str | None = None, category=None, population=None,
                    rows: str | None = None) -> Selection:
    """What `table.area_table` counts: its kind (default crime) in its windows and their
    comparisons (`tables.needed_months`); for the one-area month table (`table.one_area`) only
    the incidents in the area's bounding box. The other arguments as `area_table`'s."""
    from hotspot_app.questions import table

    months = tables.needed_months(month=month, period=period, years=years,
                                  year_start=table.YEAR_START if year_start is None else int(year_start),
                                  compare=table.COMPARE if compare is None else compare)
    box = _box(table.one_area(areas, area=area, by=by, within=within, month=month, compare=compare,
                              category=category, population=population, rows=rows))
    return Selection(category=_table_kinds(table.KIND if kind is None else kind, category), period=months,
                     bbox=box)


def _table_kinds(kind: str, category) -> list[str] | None:
    """The kinds a table reads: its kind, and every kind its category selection reaches (a
    selection spanning kinds, ``--category crime --category asb``, is a block per kind); None
    (every kind) when a token is a category of the data only, whose kind is not known here."""
    kinds = {kind}
    for token in taxonomy.category_list(category):
        low = token.strip().lower()
        reached = {low} if low in taxonomy.KINDS else taxonomy.selection_kinds([token])
        if not reached:
            return None
        kinds |= reached
    return sorted(kinds)


def summary_selection(to: str, n_months: int | None = None, area: gpd.GeoDataFrame | None = None) -> Selection:
    """What `summary.area_summary` counts: its months and the months compared with them, in the
    bounding box of `area` (None: everywhere)."""
    from hotspot_app.questions import summary

    return Selection(period=summaries.summary_months(to, summary.N_MONTHS if n_months is None else int(n_months)),
                     bbox=_box(area))


def indicators_selection(period: str, *, baseline: str | None = None, compare: str | None = None,
                         area: gpd.GeoDataFrame | None = None) -> Selection:
    """What `indicators.indicators` counts: the period, its comparison and the baseline, in the
    bounding box of `area` (None: everywhere)."""
    from hotspot_app.questions import indicators

    return Selection(period=core_indicators.needed_months(
        period, baseline=baseline, compare=indicators.COMPARE if compare is None else compare), bbox=_box(area))


def rank_selection(category=None) -> Selection:
    """What `rank.rank` counts: the selected categories (every month: the period is applied
    by the ranking, coverage on everything loaded), and only the columns it reads
    (`rank.COLUMNS_USED`: no ids)."""
    from hotspot_app.questions import rank

    return Selection(category=category or None, columns=rank.COLUMNS_USED)


def patrol_areas_selection(category=None, period=None) -> Selection:
    """What the grid counts: the categories and months."""
    return Selection(category=category or None, period=period)


def clusters_selection(category=None, period=None, rank_by=None) -> Selection:
    """What the patrol areas (`hotspot clusters`) read: the categories and months, and only the
    columns they use (`patrol_areas.columns_used`: no ids)."""
    from hotspot_app.questions import patrol_areas

    return Selection(category=category or None, period=period, columns=patrol_areas.columns_used(rank_by))
