"""The numbers every table, sentence and evaluation shares: one home for each rule.

- `pct_change(current, previous)`: 100 * (current - previous) / previous, rounded to 1 decimal
  half away from zero; None when previous is 0 or either value is unknown (docs/design.md §6: never
  Infinity, never a false zero).
- `diff(current, previous)`: current - previous as an int; None when either is unknown.
- `change_block(current, previous)`: ``{"current", "previous", "diff", "pct_diff"}`` as the JSON
  contracts (docs/design.md §5) spell it.
- `share_pct(part, whole)`: share of a total in %, half away from zero (1 decimal in tables,
  whole in sentences); None when the total is 0. Every share of a total uses it.
- `rate_per_1000(count, population)`: 1000 * count / population, 2 decimals; None without a
  positive population.
- `a_or_an(number_text)`: the article a number takes when read aloud ("an 18%", "a 71%");
  `join_names(names)`: 'A', 'A and B', 'A, B and C' for lists in sentences.

Argument order is always (current, previous): the later value first, as in "current vs previous".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

__all__ = ["pct_change", "share_pct", "diff", "change_block", "rate_per_1000", "is_missing", "a_or_an",
           "round_half_up", "join_names"]


def is_missing(value) -> bool:
    """True for None, NaN, NaT and pandas NA (and nothing else)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def pct_change(current, previous) -> float | None:
    """100 * (current - previous) / previous rounded to 1 decimal (half away from zero); None when
    previous is 0 or either value is unknown."""
    if is_missing(current) or is_missing(previous) or previous == 0:
        return None
    value = (Decimal(str(current)) - Decimal(str(previous))) * 100 / Decimal(str(previous))
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def share_pct(part, whole, places: int = 1) -> float | None:
    """THE share-of-total rule: 100 * part / whole rounded half away from zero to `places`
    decimals (1 in tables and rankings, 0 in sentences); None when whole is 0 or either value
    is unknown."""
    if is_missing(part) or is_missing(whole) or float(whole) == 0:
        return None
    value = Decimal(str(float(part))) * 100 / Decimal(str(float(whole)))
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def round_half_up(value: float, places: int = 0) -> float:
    """`value` rounded half away from zero (the rule of `pct_change`), e.g. for a % shown whole
    in a sentence: 37.5 -> 38, 36.5 -> 37 (Python's round() gives 36)."""
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def diff(current, previous) -> int | None:
    """current - previous (ints); None when either is unknown."""
    if is_missing(current) or is_missing(previous):
        return None
    return int(current) - int(previous)


def change_block(current, previous) -> dict:
    """``{"current", "previous", "diff", "pct_diff"}`` for one cell of a table."""
    return {"current": None if is_missing(current) else current,
            "previous": None if is_missing(previous) else previous,
            "diff": diff(current, previous), "pct_diff": pct_change(current, previous)}


def rate_per_1000(count, population) -> float | None:
    """1000 * count / population, rounded to 2 decimals; None when population is unknown or <= 0."""
    if is_missing(count) or is_missing(population) or population <= 0:
        return None
    return round(1000.0 * float(count) / float(population), 2)


def a_or_an(number_text: str) -> str:
    """'an' when the number as read aloud starts with a vowel sound (eight, eleven, eighteen:
    "an 8%", "an 11.2%", "an 18%", "an 80%", "an 800", "an 11,000"), else 'a' ("a 71%")."""
    digits = str(number_text).strip().lstrip("+-−").split(".")[0]
    if not digits[:1].isdigit():
        return "a"
    lead = digits.split(",")[0] if "," in digits else digits[:len(digits) % 3 or 3]
    return "an" if digits.startswith("8") or lead in ("11", "18") else "a"


def join_names(names) -> str:
    """'A', 'A and B', 'A, B and C': a list as written in a sentence ('' when empty)."""
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
