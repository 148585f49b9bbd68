"""Months, windows, comparisons and data coverage.

Months are ``YYYY-MM`` strings; ranges ``FROM..TO`` are inclusive. A *window* is an ordered list
of months. Coverage rule (docs/design.md §5): a month is covered when the loaded data have any rows in
it (anywhere, not only in the area being counted); a count over a window with an uncovered month
is null, never zero and never partial, and the caller reports the missing months as a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd

from hotspot_app.core.errors import InputError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
COMPARISONS = ("same-period-last-year", "previous-period")


def parse_month(text: str, parameter: str = "month") -> str:
    """Validate a ``YYYY-MM`` month; raise `InputError` naming `parameter` otherwise."""
    value = str(text).strip()
    if not _MONTH.match(value):
        raise InputError(f"'{text}' is not a month; use YYYY-MM, e.g. 2024-03", parameter=parameter)
    return value


def add_months(month: str, n: int) -> str:
    """`month` shifted by `n` months (negative goes back)."""
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + (m - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def month_range(start: str, end: str) -> list[str]:
    """Inclusive list of months from `start` to `end`."""
    a, b = parse_month(start, "from"), parse_month(end, "to")
    if a > b:
        raise InputError(f"range starts ({a}) after it ends ({b})", parameter="range")
    out, cur = [], a
    while cur <= b:
        out.append(cur)
        cur = add_months(cur, 1)
    return out


def parse_range(text: str, parameter: str = "range") -> list[str]:
    """``YYYY-MM..YYYY-MM`` (or a single ``YYYY-MM``) as an inclusive list of months."""
    value = str(text).strip()
    if ".." in value:
        start, _, end = value.partition("..")
        try:
            return month_range(start.strip(), end.strip())
        except InputError as exc:
            raise InputError(f"'{text}': {exc.message}; use YYYY-MM..YYYY-MM",
                             parameter=parameter) from None
    return [parse_month(value, parameter)]


def window(end: str, months: int) -> list[str]:
    """The `months` months ending with (and including) `end`."""
    if months < 1:
        raise InputError("a window needs at least one month", parameter="months")
    end = parse_month(end)
    return [add_months(end, -k) for k in range(months - 1, -1, -1)]


def shift(window_: Sequence[str], n: int) -> list[str]:
    """Every month of a window shifted by `n` months."""
    return [add_months(m, n) for m in window_]


def comparison_window(window_: Sequence[str], compare: str = "same-period-last-year") -> list[str]:
    """The window a current window is compared with.

    ``same-period-last-year``: the same months one year earlier (the default; removes
    seasonality). ``previous-period``: the immediately preceding window of the same length.
    """
    if compare == "same-period-last-year":
        return shift(window_, -12)
    if compare == "previous-period":
        return shift(window_, -len(window_))
    raise InputError(f"unknown comparison '{compare}'; use one of: {', '.join(COMPARISONS)}",
                     parameter="compare")


def financial_year(year: int, start_month: int = 4) -> list[str]:
    """A 12-month year starting in `start_month` of `year`: April (financial year, default) or
    e.g. October for an October–September assessment year. ``financial_year(2023)`` is
    2023-04..2024-03."""
    if not 1 <= start_month <= 12:
        raise InputError("start month must be 1..12", parameter="start_month")
    return window(add_months(f"{year:04d}-{start_month:02d}", 11), 12)


@dataclass(frozen=True)
class Coverage:
    """The set of months the loaded data cover."""

    months: frozenset[str]

    @classmethod
    def of(cls, incidents: pd.DataFrame) -> "Coverage":
        return cls(frozenset(pd.unique(incidents["month"].dropna().astype(str))))

    def missing(self, window_: Iterable[str]) -> list[str]:
        return [m for m in window_ if m not in self.months]

    def covers(self, window_: Iterable[str]) -> bool:
        return not self.missing(window_)

    @property
    def first(self) -> str | None:
        return min(self.months) if self.months else None

    @property
    def last(self) -> str | None:
        return max(self.months) if self.months else None


def describe(window_: Sequence[str]) -> str:
    """Human text for a window: 'March 2024' or 'April 2023 to March 2024'."""
    def name(m: str) -> str:
        return pd.Timestamp(f"{m}-01").strftime("%B %Y")
    if not window_:
        return "no months"
    if len(window_) == 1:
        return name(window_[0])
    return f"{name(window_[0])} to {name(window_[-1])}"


def coverage_warning(missing: Sequence[str], what: str = "window") -> str:
    """The standard warning text naming uncovered months."""
    return (f"{what}: no data loaded for {', '.join(missing)}; its count is shown as null "
            "(not zero) because those months are not covered")


def count_in_window(
    incidents: pd.DataFrame, window_: Sequence[str], coverage: Coverage, mask: pd.Series | None = None,
    weighted: bool = False,
) -> int | float | None:
    """Count of incidents in a window (with `weighted`, the sum of their ``weight`` column), or
    None when a month is uncovered."""
    if not coverage.covers(window_):
        return None
    sel = incidents["month"].isin(list(window_))
    if mask is not None:
        sel &= mask
    if weighted:
        return float(incidents.loc[sel, "weight"].sum())
    return int(sel.sum())


#: The partnership-table windows (docs/design.md §5): name -> length in months, ending at the selected month.
TABLE_WINDOWS: tuple[tuple[str, int], ...] = (
    ("selected_month", 1), ("last_6_months", 6), ("last_12_months", 12),
)


def table_windows(month: str) -> dict[str, list[str]]:
    """The three windows of a partnership table ending with `month`: the month itself, the last 6
    months and the last 12 months (each including `month`)."""
    month = parse_month(month)
    return {name: window(month, n) for name, n in TABLE_WINDOWS}


def year_label(year: int, start_month: int = 4) -> str:
    """Short label of a 12-month year: ``2023/24`` for a financial year (April start), ``Oct 22 –
    Sep 23`` for other starts, ``2023`` for a calendar year."""
    months = financial_year(year, start_month)
    if start_month == 1:
        return f"{year}"
    if start_month == 4:
        return f"{year}/{(year + 1) % 100:02d}"
    a, b = (pd.Timestamp(f"{m}-01") for m in (months[0], months[-1]))
    return f"{a:%b} {a:%y} \u2013 {b:%b} {b:%y}"


def format_range(window_: Sequence[str]) -> str:
    """``FROM..TO`` text of a window (a single month as itself)."""
    if not window_:
        return ""
    return window_[0] if len(window_) == 1 else f"{window_[0]}..{window_[-1]}"


def span_text(window: Sequence[str]) -> str:
    """'July–December 2023', 'November 2023–February 2024', '2021', 'March 2024'."""
    a, b = pd.Timestamp(f"{window[0]}-01"), pd.Timestamp(f"{window[-1]}-01")
    if len(window) == 1:
        return a.strftime("%B %Y")
    if a.year == b.year and a.month == 1 and b.month == 12 and len(window) == 12:
        return str(a.year)
    if a.year == b.year:
        return f"{a.strftime('%B')}–{b.strftime('%B %Y')}"
    return f"{a.strftime('%B %Y')}–{b.strftime('%B %Y')}"


def months_text(months: list[str]) -> str:
    """Months as text: a run of three or more consecutive months as ``FROM..TO``, else listed."""
    months = sorted(months)
    if len(months) > 2 and month_range(months[0], months[-1]) == months:
        return f"{months[0]}..{months[-1]}"
    return ", ".join(months)
