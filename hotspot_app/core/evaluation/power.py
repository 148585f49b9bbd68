"""Power before launch: can the planned trial answer the question?

For the chosen areas' counts before the trial and a planned length, this gives the smallest
effect the evaluation would detect with 80% power at the 5% level, and for a target effect the
weeks needed. Partnerships can then fund trials long enough to answer, or choose busier areas.

What is assumed (said with every answer, `Power.assumptions`)
-------------------------------------------------------------
* The evaluation compares the trial's weeks ("after") with as many weeks before it, in the
  chosen areas together, against comparison areas over the same weeks (a difference in
  differences); without comparison counts, against the areas' own before weeks only.
* Without the trial the areas keep their recent weekly rate (the mean of the counts given), and
  so do the comparison areas; the effect multiplies the areas' rate during the trial.
* Counts vary like Poisson counts times a dispersion phi: estimated from the counts given as
  their variance over their mean (at least 1; trend and seasonality in the counts make it
  larger, so the answer errs on the side of caution), or given.
* The test is the two-sided Wald test at level alpha on the log rate ratio, whose variance is
  phi * (1/E[Tb] + 1/E[Ta]) + phi_c * (1/E[Cb] + 1/E[Ca]) with E[.] the expected counts of the
  areas (T) and the comparison (C) before (b) and after (a).

Power(RR) = Phi(|log RR| / SE - z) + Phi(-|log RR| / SE - z), z = the 1 - alpha/2 normal
quantile. The minimum detectable effect is the fall (rate ratio below 1) at which the power is
the target power (solved with scipy's brentq); the weeks needed are the shortest trial length at
which the target effect reaches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hotspot_app.core.errors import InputError

__all__ = ["WEEKS_PER", "Power", "weekly_rate", "dispersion_of", "power_of", "minimum_effect",
           "weeks_needed", "plan_power"]

#: Weeks in one period of the counts given.
WEEKS_PER = {"day": 1 / 7, "week": 1.0, "month": 365.25 / 12 / 7}


def _counts(counts: Any, what: str) -> np.ndarray:
    a = np.asarray(counts, dtype=float)
    if a.ndim == 2:  # several chosen areas: the trial pools them
        a = a.sum(axis=0)
    a = a.ravel()
    if a.size == 0 or not np.isfinite(a).all() or (a < 0).any():
        raise InputError(f"{what} must be counts >= 0, one per period", parameter=what)
    return a


def _weeks_of(counts: Any, period: str) -> np.ndarray:
    """Weeks covered by each period: calendar days / 7 when `counts` is a Series indexed by
    months (YYYY-MM), else `WEEKS_PER[period]`."""
    if isinstance(counts, pd.Series) and period == "month":
        try:
            days = [pd.Period(str(m), freq="M").days_in_month for m in counts.index]
            return np.asarray(days, dtype=float) / 7.0
        except (ValueError, TypeError):
            pass
    if period not in WEEKS_PER:
        raise InputError(f"period must be one of {', '.join(WEEKS_PER)}", parameter="period")
    n = len(counts.columns) if isinstance(counts, pd.DataFrame) else np.asarray(counts).shape[-1]
    return np.full(n, WEEKS_PER[period])


def weekly_rate(counts: Any, period: str = "month") -> float:
    """The mean weekly rate of `counts` (one count per period; a 2-D array is areas x periods,
    summed over the areas)."""
    c = _counts(counts, "counts")
    return float(c.sum() / _weeks_of(counts, period).sum())


def dispersion_of(counts: Any) -> float:
    """The counts' variance over their mean (Pearson chi-square / (n - 1)), at least 1."""
    c = _counts(counts, "counts")
    if c.size < 2 or c.mean() <= 0:
        return 1.0
    return max(1.0, float(((c - c.mean()) ** 2).sum() / c.mean() / (c.size - 1)))


def _variance(rr: float, weeks: float, rate: float, control_rate: float | None, phi: float,
              phi_c: float) -> float:
    v = phi * (1.0 / (rate * weeks) + 1.0 / (rate * weeks * rr))
    if control_rate is not None:
        v += phi_c * 2.0 / (control_rate * weeks)
    return v


def power_of(rr: float, weeks: float, rate: float, control_rate: float | None = None,
             phi: float = 1.0, phi_c: float = 1.0, alpha: float = 0.05) -> float:
    """Power of the two-sided Wald test to detect rate ratio `rr` in a trial of `weeks` weeks
    (module docstring)."""
    from scipy import stats

    if rr <= 0 or weeks <= 0 or rate <= 0:
        return float("nan")
    se = math.sqrt(_variance(rr, weeks, rate, control_rate, phi, phi_c))
    z = float(stats.norm.ppf(1 - alpha / 2))
    d = abs(math.log(rr)) / se
    return float(stats.norm.cdf(d - z) + stats.norm.cdf(-d - z))


def minimum_effect(weeks: float, rate: float, control_rate: float | None = None, phi: float = 1.0,
                   phi_c: float = 1.0, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """The smallest fall (the rate ratio below 1 closest to 1) detected with `power` in `weeks`
    weeks; None when no fall is (too few incidents). Very large falls leave so few incidents
    after that the power drops again, so the search walks down from no change to the first
    rate ratio reaching `power` (a grid, then brentq inside the crossing step)."""
    from scipy.optimize import brentq

    def gap(log_rr: float) -> float:
        return power_of(math.exp(log_rr), weeks, rate, control_rate, phi, phi_c, alpha) - power

    grid = np.linspace(-1e-9, math.log(1e-3), 400)
    gaps = np.array([gap(v) for v in grid])
    hit = np.flatnonzero(gaps >= 0)
    if hit.size == 0:
        return None
    k = int(hit[0])
    if k == 0:
        return float(math.exp(grid[0]))
    return float(math.exp(brentq(gap, grid[k], grid[k - 1], xtol=1e-12)))


def weeks_needed(effect: float, rate: float, control_rate: float | None = None, phi: float = 1.0,
                 phi_c: float = 1.0, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Weeks of trial (and as many before) for rate ratio `effect` to be detected with
    `power`; None for no effect (1)."""
    from scipy.optimize import brentq

    if not (effect > 0) or abs(math.log(effect)) < 1e-12:
        return None

    def gap(weeks: float) -> float:
        return power_of(effect, weeks, rate, control_rate, phi, phi_c, alpha) - power

    hi = 1.0
    while gap(hi) < 0:
        hi *= 2
        if hi > 1e7:
            return None
    lo = hi / 2 if hi > 1.0 else 1e-6
    return float(brentq(gap, lo, hi, xtol=1e-8))


@dataclass
class Power:
    """The answer of `plan_power`: the minimum detectable effect for the planned weeks (as a rate
    ratio and as a % fall), the weeks needed for the target effect, the rates and dispersions
    used, the assumptions in plain words, and warnings."""

    weeks: float | None
    alpha: float
    power: float
    rate_per_week: float
    control_rate_per_week: float | None
    dispersion: float
    control_dispersion: float | None
    minimum_effect: float | None
    target_effect: float | None
    weeks_needed: float | None
    assumptions: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def minimum_fall_pct(self) -> float | None:
        return None if self.minimum_effect is None else 100.0 * (1.0 - self.minimum_effect)

    def sentence(self) -> str:
        parts = []
        if self.weeks is not None:
            if self.minimum_effect is None:
                parts.append(f"A {self.weeks:g}-week trial cannot detect even a large fall with "
                             f"{self.power:.0%} power: too few incidents for how much they vary "
                             f"(counts vary {self.dispersion:.1f} times as much as chance alone).")
            else:
                parts.append(f"A {self.weeks:g}-week trial can detect a fall of "
                             f"{self.minimum_fall_pct:.0f}% or more (rate ratio "
                             f"{self.minimum_effect:.2f}) with {self.power:.0%} power at the "
                             f"{self.alpha:.0%} level.")
        if self.target_effect is not None:
            if self.weeks_needed is None:
                parts.append("No trial length detects no change.")
            else:
                parts.append(f"To detect a {100 * (1 - self.target_effect):.0f}% fall it needs "
                             f"about {math.ceil(self.weeks_needed):d} weeks.")
        return " ".join(parts)

    def to_dict(self) -> dict:
        return {"weeks": self.weeks, "alpha": self.alpha, "power": self.power,
                "rate_per_week": round(self.rate_per_week, 3),
                "control_rate_per_week": (None if self.control_rate_per_week is None
                                          else round(self.control_rate_per_week, 3)),
                "dispersion": round(self.dispersion, 3),
                "minimum_effect": None if self.minimum_effect is None else round(self.minimum_effect, 4),
                "target_effect": self.target_effect,
                "weeks_needed": None if self.weeks_needed is None else math.ceil(self.weeks_needed),
                "sentence": self.sentence(), "assumptions": list(self.assumptions),
                "warnings": list(self.warnings)}


def plan_power(counts: Any, *, weeks: float | None = None, effect: float | None = None,
               control_counts: Any = None, period: str = "month", dispersion: float | None = None,
               alpha: float = 0.05, power: float = 0.8) -> Power:
    """Power of a planned trial in the chosen areas (module docstring).

    counts : the chosen areas' counts per period before the trial (1-D, or areas x periods;
        a Series indexed by months uses each month's days).
    weeks : the planned trial length in weeks (gives the minimum detectable effect).
    effect : a target rate ratio, e.g. 0.8 for a 20% fall (gives the weeks needed).
    control_counts : the comparison areas' counts over the same periods (None: a before-after
        comparison of the areas alone).
    period : what one count covers ("day", "week" or "month").
    dispersion : phi; default estimated from `counts` (`dispersion_of`).
    """
    if weeks is None and effect is None:
        raise InputError("give the planned weeks, a target effect, or both", parameter="weeks")
    if weeks is not None and not (weeks > 0 and math.isfinite(weeks)):
        raise InputError("weeks must be a positive number", parameter="weeks")
    if effect is not None and not (0 < effect and math.isfinite(effect)):
        raise InputError("effect must be a rate ratio above 0, e.g. 0.8 for a 20% fall", parameter="effect")
    if not (0 < alpha < 1) or not (0 < power < 1):
        raise InputError("alpha and power must lie between 0 and 1", parameter="power")
    rate = weekly_rate(counts, period)
    warnings: list[str] = []
    if rate <= 0:
        raise InputError("the chosen areas had no incidents before the trial: no effect can be "
                         "detected", parameter="counts")
    phi = float(dispersion) if dispersion is not None else dispersion_of(counts)
    c_rate = phi_c = None
    if control_counts is not None:
        c_rate = weekly_rate(control_counts, period)
        phi_c = float(dispersion) if dispersion is not None else dispersion_of(control_counts)
        if c_rate <= 0:
            warnings.append("The comparison areas had no incidents: the power assumes a before-after "
                            "comparison of the chosen areas alone.")
            c_rate = phi_c = None
    mde = minimum_effect(weeks, rate, c_rate, phi, phi_c or 1.0, alpha, power) if weeks else None
    need = weeks_needed(effect, rate, c_rate, phi, phi_c or 1.0, alpha, power) if effect else None
    assumptions = [
        "The trial's weeks are compared with as many weeks before it"
        + (", against comparison areas over the same weeks (difference in differences)."
           if c_rate is not None else ", in the chosen areas alone (no comparison areas given)."),
        f"Without the trial the chosen areas keep their recent rate of {rate:.1f} incidents a week"
        + (f" and the comparison areas theirs of {c_rate:.1f}." if c_rate is not None else "."),
        f"Counts vary {phi:.2f} times as much as Poisson counts"
        + (" (given)." if dispersion is not None else
           " (their variance over their mean; trend and seasonality make this cautious)."),
        f"The test is two-sided at the {alpha:.0%} level on the log rate ratio, with "
        f"{power:.0%} power.",
    ]
    if weeks is not None and mde is None:
        warnings.append(f"Too few incidents for how much they vary: a {weeks:g}-week trial cannot detect "
                        "even a 99.9% fall; choose busier or more areas, or a longer trial.")
    return Power(weeks=weeks, alpha=alpha, power=power, rate_per_week=rate, control_rate_per_week=c_rate,
                 dispersion=phi, control_dispersion=phi_c, minimum_effect=mde, target_effect=effect,
                 weeks_needed=need, assumptions=assumptions, warnings=warnings)
