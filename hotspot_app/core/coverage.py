"""Coverage: which months the loaded data cover, judged per kind, and what a window over months
not covered gives (null and a warning naming the months; never zero, never a partial count).

A month is covered for a kind when the data sources that supply that kind (police.uk months for
crime and ASB, fire-service months for fires) have rows in that month, anywhere in the data, not
only in the area counted (docs/design.md §5).
"""

from __future__ import annotations

import pandas as pd

from hotspot_app.core import periods


def windowed(monthly: pd.Series, window_: list[str], coverage: periods.Coverage):
    """Sum of a per-month count series over a window; None when the window is not covered."""
    if not coverage.covers(window_):
        return None
    return int(monthly.reindex(window_, fill_value=0).sum())



def for_kind(incidents: pd.DataFrame, kind: str | None) -> periods.Coverage:
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



def for_selection(incidents: pd.DataFrame, selected: pd.Series) -> periods.Coverage:
    """Like `for_kind`, for an arbitrary selection: months with rows from the sources that
    supply the selected incidents."""
    if "source" not in incidents.columns or not selected.any():
        return periods.Coverage.of(incidents)
    sources = pd.unique(incidents.loc[selected, "source"].astype(str))
    return periods.Coverage.of(incidents[incidents["source"].astype(str).isin(sources)])



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



def window_warning(label: str, window_: list[str], coverage: periods.Coverage) -> str | None:
    missing = coverage.missing(window_)
    if not missing:
        return None
    return periods.coverage_warning(missing, f"{label} ({periods.format_range(window_)})")


#: Sources whose files carry a kind even in a month with no rows of it (police.uk street files
#: hold crime and ASB): their presence means that kind is loaded.
KIND_SOURCES: dict[str, tuple[str, ...]] = {"crime": ("police-uk",), "asb": ("police-uk",)}
