"""The months an evaluation compares: windows given as 'FROM..TO' or lists, the same months a
year earlier, the default baseline (the same months of an earlier covered year) and equal-length
windows round an intervention's start."""

from __future__ import annotations

from typing import Sequence


from hotspot_app.core import periods
from hotspot_app.core.errors import InputError


# --------------------------------------------------------------------------- windows
def window_months(value: str | Sequence[str] | None, parameter: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return periods.parse_range(value, parameter)
    months = [periods.parse_month(m, parameter) for m in value]
    if not months:
        raise InputError("a window needs at least one month", parameter=parameter)
    return months



def same_months_before(after: str | Sequence[str]) -> list[str]:
    """The same months one year earlier (2023-11..2024-02 -> 2022-11..2023-02)."""
    return periods.comparison_window(window_months(after, "after"), "same-period-last-year")



def default_baseline(after: str | Sequence[str], available: Sequence[str]) -> list[str] | None:
    """The baseline a user is offered first: the same months as the after window in the latest
    year before the comparison year (two or more years earlier) that the `available` months
    cover; None when no earlier year is covered. Same months, so seasonality cancels."""
    after_w = window_months(after, "after")
    have = set(available)
    years = 2
    while have and periods.add_months(after_w[0], -12 * years) >= min(have):
        candidate = periods.shift(after_w, -12 * years)
        if set(candidate) <= have:
            return candidate
        years += 1
    return None



def windows_around(start: str, n_months: int | None = None, gap: int = 0) -> tuple[list[str], list[str]]:
    """Equal-length (before, after) windows around an intervention starting in month `start`.

    After = `start` and the following ``n_months - 1`` months; before = the `n_months` months
    ending ``gap + 1`` months before `start` (``gap`` months left out, e.g. a set-up period).
    """
    if n_months is None:
        raise InputError("give the window length n_months", parameter="n_months")
    months = int(n_months)
    start = periods.parse_month(start, "start")
    if months < 1 or gap < 0:
        raise InputError("months must be >= 1 and gap >= 0", parameter="months")
    after = [periods.add_months(start, k) for k in range(months)]
    before = periods.window(periods.add_months(start, -1 - gap), months)
    return before, after
