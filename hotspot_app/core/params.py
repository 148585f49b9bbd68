"""Numeric parameters of the analysis commands: one table of their limits and one validator
(scikit-learn style `_parameter_constraints`). Every face (CLI, app, core functions) checks its
parameters here, so a limit is written once.

Each rule is ``(type, low, high, closed)``: ``closed`` says which ends are allowed ("left",
"right", "both", "neither"); ``None`` is no limit on that side. A tuple of strings is a choice.
Upper limits stop requests that would run for hours (``--months 100000`` ran for 4 minutes and
more) or that no patrol area or map could use.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from hotspot_app.core.errors import InputError

__all__ = ["CONSTRAINTS", "WIDGETS", "validate", "widget"]

#: name -> (type, low, high, closed). Units: metres (_m), days, months, incidents.
CONSTRAINTS: dict[str, tuple] = {
    "eps_m": (Real, 0.0, 10_000.0, "right"),           # DBSCAN radius: up to 10 km
    "min_samples": (Integral, 1, 1_000_000, "both"),
    "days": (Real, 0.0, 3_650.0, "both"),               # space-time window: up to 10 years
    "bandwidth_m": (Real, 0.0, 50_000.0, "right"),      # KDE bandwidth
    "cell_m": (Real, 0.0, 50_000.0, "right"),           # grid cell side
    "buffer_m": (Real, 0.0, 10_000.0, "both"),          # displacement ring (0 = none)
    "months": (Integral, 1, 120, "both"),               # summary period: up to 10 years
    "top": (Integral, 1, 1_000, "both"),                # top-N areas for the share sentence
    "alpha": (Real, 0.0, 1.0, "neither"),               # Gi* significance level
    # patrol plans (`patrol.make_plan`)
    "visits_per_day": (Integral, 1, 24, "both"),
    "minutes": (Integral, 1, 240, "both"),              # minutes per visit
    "plan_days": (Integral, 1, 366, "both"),            # length of a plan (its `days`)
    "seed": (Integral, 0, None, "both"),
    "comparison_share": (Real, 0.0, 1.0, "left"),       # share of comparison days, below 1
}

#: What the app's inputs offer: (min, max, step), inside `CONSTRAINTS` (tested), narrower where a
#: page would otherwise offer values no patrol area, map or plan can use.
WIDGETS: dict[str, tuple] = {
    "eps_m": (5.0, 5000.0, 5.0),
    "min_samples": (1, 10_000, 1),
    "days": (1.0, 365.0, 1.0),
    "top": (1, 50, 1),
    "cell_m": (25.0, 2000.0, 25.0),
    "buffer_m": (0.0, 2000.0, 50.0),
    "visits_per_day": (1, 12, 1),
    "minutes": (5, 120, 5),
    "plan_days": (7, 92, 1),
    "seed": (0, 1_000_000, 1),
    "comparison_share": (0.0, 0.9, 0.05),
}


def widget(name: str) -> dict:
    """Keyword arguments of a Streamlit number input for parameter `name` (`WIDGETS`)."""
    lo, hi, step = WIDGETS[name]
    return {"min_value": lo, "max_value": hi, "step": step}


def validate(table: dict[str, tuple] | None = None, **params) -> None:
    """Check parameters against `table` (default `CONSTRAINTS`); raise one `InputError` listing
    every problem, naming the first bad parameter. ``None`` is accepted for ``days``."""
    table = CONSTRAINTS if table is None else table
    problems: list[tuple[str, str]] = []
    for name, value in params.items():
        rule = table[name]
        if value is None and name in ("days",):
            continue
        if isinstance(rule[0], str):
            if value not in rule:
                problems.append((name, f"{name} must be one of {', '.join(rule)} (got {value!r})"))
            continue
        kind, lo, hi, closed = rule
        ok_type = isinstance(value, kind) and not isinstance(value, bool)
        if kind is Real and isinstance(value, Integral) and not isinstance(value, bool):
            ok_type = True
        if not ok_type or (isinstance(value, float) and not math.isfinite(value)):
            what = "a whole number" if kind is Integral else "a number"
            problems.append((name, f"{name} must be {what} (got {value!r})"))
            continue
        if lo is not None and (value < lo or (value == lo and closed in ("neither", "right"))):
            op = ">=" if closed in ("left", "both") else ">"
            problems.append((name, f"{name} must be {op} {lo:g} (got {value!r})"))
        if hi is not None and (value > hi or (value == hi and closed in ("neither", "left"))):
            op = "<=" if closed in ("right", "both") else "<"
            problems.append((name, f"{name} must be {op} {hi:g} (got {value!r})"))
    if problems:
        raise InputError("; ".join(p for _, p in problems), parameter=problems[0][0])
