"""The count model behind the matched evaluation: a Poisson regression of a panel of monthly
counts (one target area and its comparison areas) with a level per area and per month, and one
extra term for the target.

    log E[count of area i in month t] = a_i + g_t + b * x_it

``a_i`` absorbs each area's own level (busy and quiet places can be compared), ``g_t`` each
month's common level (seasonality, force-wide shocks), and ``x_it`` is the one term tested:

* ``extra="after"``: x = 1 for the target in the after months (difference-in-differences:
  exp(b) is the target's rate ratio after/before relative to its comparison areas');
* ``extra="trend"``: x = the target's month number, centred (the pre-trend test: exp(b) - 1 is
  the target's extra growth per month).

Overdispersion: crime counts vary more than Poisson chance from month to month. The Pearson
chi-square of the Poisson fit over its residual degrees of freedom estimates that dispersion;
when it exceeds 1 the standard error is multiplied by its square root and the test and interval
use a t distribution on the residual degrees of freedom (quasi-Poisson). Otherwise the Poisson
standard error and the normal distribution are used. Fitted with statsmodels' GLM (IRLS).

Areas with no incidents in any month used, and months with no incidents in any area, carry no
information about b and are left out before fitting.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["PanelFit", "fit"]

_Z95 = 1.959963984540054


@dataclass(frozen=True)
class PanelFit:
    """The target term of a panel fit: coefficient (log scale), its standard error (scaled when
    quasi-Poisson), p value, 95% interval on the log scale, the Pearson dispersion of the
    Poisson fit, residual degrees of freedom, model ("poisson" or "quasi-poisson") and the
    number of comparison areas that entered the fit."""

    coefficient: float
    se: float
    p_value: float
    ci95: tuple[float, float]
    dispersion: float
    df_resid: int
    model: str
    n_controls: int


def fit(target, controls, *, extra: str = "after", after=None,
        dispersion: tuple[float, int] | None = None) -> PanelFit | None:
    """Fit the panel model (module docstring) to `target` (months,) and `controls` (areas x
    months). `after` marks the after months (boolean per month) for ``extra="after"``.

    `dispersion` = (phi, residual df) uses a dispersion estimated elsewhere instead of this
    fit's own: when the controls are one or a few large aggregates (the rest of the force), their
    own month-to-month swings would set the scale for the small target, so the evaluation passes
    the dispersion estimated among places like the target (its matched panel).

    Returns None when the target term cannot be estimated (no comparison area with incidents,
    or the target or the comparison has no incidents on one side of the contrast)."""
    from scipy import stats
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    t = np.asarray(target, dtype=float).ravel()
    c = np.atleast_2d(np.asarray(controls, dtype=float))
    if c.size == 0:
        return None
    c = c[c.sum(axis=1) > 0]
    if len(c) == 0 or t.sum() <= 0:
        return None
    n = t.size
    if extra == "after":
        a = np.asarray(after, dtype=bool).ravel()
        if a.size != n or a.all() or not a.any():
            raise ValueError("after must mark some but not all months")
        for series in (t, c.sum(axis=0)):
            if series[a].sum() <= 0 or series[~a].sum() <= 0:
                return None
        x_t = a.astype(float)
    elif extra == "trend":
        x_t = np.arange(n, dtype=float) - (n - 1) / 2.0
    else:
        raise ValueError(f"unknown extra term {extra!r}")
    y = np.vstack([t[None, :], c])
    used = y.sum(axis=0) > 0
    y, x_t = y[:, used], x_t[used]
    units, m = y.shape
    if extra == "trend" and np.ptp(x_t) == 0:
        return None
    # design: intercept, area levels (first area is the reference), month levels, target term
    X = np.zeros((units * m, 1 + (units - 1) + (m - 1) + 1))
    X[:, 0] = 1.0
    rows = np.arange(units * m)
    unit, month = rows // m, rows % m
    has_u = unit > 0
    X[rows[has_u], unit[has_u]] = 1.0
    has_m = month > 0
    X[rows[has_m], units - 1 + month[has_m]] = 1.0
    X[:, -1] = np.where(unit == 0, x_t[month], 0.0)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # a saturated panel (two units, two months: the 2x2 difference in differences) fits
        # exactly: statsmodels notes "perfect prediction" and divides by 0 residual df; both are
        # expected here (the estimate stands, the dispersion is n/a below), not the user's to read
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = GLM(y.ravel(), X, family=families.Poisson()).fit(maxiter=100)
    b, se = float(result.params[-1]), float(result.bse[-1])
    if not (math.isfinite(b) and math.isfinite(se) and se > 0):
        return None
    dfree = int(result.df_resid)
    disp = float(result.pearson_chi2 / dfree) if dfree > 0 else float("nan")
    if dispersion is not None:
        disp, dfree = float(dispersion[0]), int(dispersion[1])
    if dfree > 0 and disp > 1.0:
        se *= math.sqrt(disp)
        q = float(stats.t.ppf(0.975, dfree))
        p = float(2 * stats.t.sf(abs(b / se), dfree))
        model = "quasi-poisson"
    else:
        q = _Z95
        p = float(2 * stats.norm.sf(abs(b / se)))
        model = "poisson"
    return PanelFit(coefficient=b, se=se, p_value=p, ci95=(b - q * se, b + q * se),
                    dispersion=disp, df_resid=dfree, model=model, n_controls=int(len(c)))
