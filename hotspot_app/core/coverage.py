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
    """Coverage used for counts of `kind`: the months in which EVERY provider (police force,
    fire service) of the sources that supply that kind has rows of that kind, anywhere in the
    data. A police.uk month without ASB rows is not covered for ASB (its ASB is not known, not
    0); with Cleveland loaded for January to March and a second force for January and February,
    March is not covered (the second force's March is not known). Police.uk months do not make
    fire months look covered when the fire data (source ``fire``) stop earlier."""
    if kind is None or "kind" not in incidents.columns or "source" not in incidents.columns:
        return periods.Coverage.of(incidents)
    of_kind = incidents["kind"].eq(kind).to_numpy()
    if not of_kind.any():
        return periods.Coverage.of(incidents)
    # only the columns coverage reads: taking every column of a force's rows costs more than the rest
    cols = [c for c in ("provider", "falls_within", "month") if c in incidents.columns]
    return by_provider(incidents.loc[of_kind, cols])


def provider_column(incidents: pd.DataFrame) -> str | None:
    """The column naming each row's provider (force or service), when the data carry one."""
    for col in ("provider", "falls_within"):
        if col in incidents.columns and incidents[col].notna().any():
            return col
    return None


def by_provider(rows: pd.DataFrame) -> periods.Coverage:
    """The months every provider of `rows` has rows in (one provider: its months)."""
    col = provider_column(rows)
    if col is None:
        return periods.Coverage.of(rows)
    # the distinct (provider, month) pairs first: a few hundred, not a row per incident
    pairs = pd.DataFrame({"provider": rows[col].to_numpy(dtype=object), "month": rows["month"].to_numpy(dtype=object)}
                         ).dropna(subset=["month"]).drop_duplicates()
    pairs["provider"] = pairs["provider"].fillna("").astype(str)
    months = None
    for _, part in pairs.groupby("provider", sort=False):
        have = set(part["month"].astype(str))
        months = have if months is None else months & have
    return periods.Coverage(frozenset(months or ()))


def gaps_by_provider(rows: pd.DataFrame | None, missing: list[str]) -> list[str]:
    """'Durham has no data for 2024-03' for each provider (force, fire service) of `rows` without
    rows in a month of `missing` that another provider of `rows` has: the warning names who is
    missing. Empty with one provider (its gap is the month not loaded at all) or none."""
    col = provider_column(rows) if rows is not None and "month" in rows.columns else None
    if col is None:
        return []
    have = {name: set(pd.unique(part["month"].dropna().astype(str)))
            for name, part in rows.groupby(rows[col].fillna("").astype(str), sort=True)}
    if len(have) < 2:
        return []
    out = []
    for name, months in have.items():
        gone = [m for m in missing if m not in months and any(m in other for n, other in have.items() if n != name)]
        if gone:
            out.append(f"{short_provider(name) or 'an unnamed provider'} has no data for {', '.join(gone)}")
    return out


def for_selection(incidents: pd.DataFrame, selected: pd.Series) -> periods.Coverage:
    """Like `for_kind`, for an arbitrary selection: the months every provider of each kind the
    selection holds has rows of that kind."""
    if "source" not in incidents.columns or not selected.any():
        return periods.Coverage.of(incidents)
    if "kind" not in incidents.columns:
        sources = pd.unique(incidents.loc[selected, "source"].astype(str))
        return periods.Coverage.of(incidents[incidents["source"].astype(str).isin(sources)])
    months = None
    for kind in pd.unique(incidents.loc[selected, "kind"].astype(str)):
        have = set(for_kind(incidents, kind).months)
        months = have if months is None else months & have
    return periods.Coverage(frozenset(months or ()))



def kind_loaded(incidents: pd.DataFrame, kind: str) -> bool:
    """Whether data of `kind` (crime, asb, fire, council) are loaded at all: rows of that kind, or rows
    from a source that always supplies it. When not, its counts are null ("not loaded"), never 0
    (a fire extract alone says nothing about crime)."""
    if "kind" not in incidents.columns:
        return True
    if incidents["kind"].eq(kind).any():
        return True
    sources = KIND_SOURCES.get(kind, ())
    return bool(sources) and "source" in incidents.columns and incidents["source"].isin(sources).any()



def window_warning(label: str, window_: list[str], coverage: periods.Coverage,
                   rows: pd.DataFrame | None = None) -> str | None:
    """The warning for a window with months not covered, or None. With `rows` (the rows of the
    kind counted, or the workspace's summary of them), a month one force has and another has not
    names the force that is missing ('Durham has no data for 2024-03'; `gaps_by_provider`)."""
    missing = coverage.missing(window_)
    if not missing:
        return None
    what = f"{label} ({periods.format_range(window_)})"
    named = gaps_by_provider(rows, missing)
    if not named:
        return periods.coverage_warning(missing, what)
    return (f"{'; '.join(named)}: {what} is shown as null (not zero) because not every force or "
            "service that supplies it has data for those months")


#: Sources whose files carry a kind even in a month with no rows of it (police.uk street files
#: hold crime and ASB): their presence means that kind is loaded.
KIND_SOURCES: dict[str, tuple[str, ...]] = {"crime": ("police-uk",), "asb": ("police-uk",)}


def provider_name(incidents: pd.DataFrame) -> str | None:
    """The force the data are from when they are one police force's ('Cleveland' for police.uk
    rows of 'Cleveland Police'), as the papers name the whole-force column; None otherwise."""
    for col in ("provider", "falls_within"):
        if col in incidents.columns:
            police = incidents["source"].astype(str).eq("police-uk") if "source" in incidents.columns \
                else pd.Series(True, index=incidents.index)
            names = pd.unique(incidents.loc[police.to_numpy(), col].dropna().astype(str))
            if len(names) == 1 and police.all():
                return short_provider(names[0])
            return None
    return None


def short_provider(name) -> str | None:
    """A force as the papers name it: 'Cleveland Police' -> 'Cleveland', 'Durham Constabulary'
    -> 'Durham'; a fire service's name as given."""
    name = str(name or "").strip()
    for tail in (" Police Service", " Police", " Constabulary"):
        if name.endswith(tail):
            name = name[: -len(tail)]
    return name or None
