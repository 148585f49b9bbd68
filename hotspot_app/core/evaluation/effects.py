"""The effect measures of an evaluation (design §6): the control-adjusted rate ratio of one
control region, WDQ, total net effect, excess counts read off a rate ratio, WDD, and the one
significance statement of each.

Rate ratio (`rate_ratio`): (Ta/Tb) / (Ca/Cb), from a log-linear model fitted with statsmodels to
the monthly counts of target and control in the before and after windows::

    log E[count] = b0 + b1*target + b2*after + b3*target*after + s[month in window],
    rate ratio = exp(b3)

``s`` (only when the windows have equal lengths) is shared by target and control, so the
seasonality of paired months (each July with the July a year earlier) is not mistaken for
overdispersion. With factors only the model is collapsible: the Poisson estimate and interval
equal those of the 2x2 table of window totals. The model is Poisson unless the monthly counts
are overdispersed: when the Poisson fit's Pearson chi-square exceeds the 95th percentile of
chi-square on its residual degrees of freedom, a negative-binomial (NB2) model with
ML-estimated alpha is fitted instead (quasi-Poisson if that fit fails). The 95% interval is
exp(b3 +/- 1.96 SE) (Wald) and the p-value is the two-sided Wald test of b3 = 0. With totals only
(no monthly detail) the model is the saturated Poisson 2x2 and SE = sqrt(1/Tb + 1/Ta + 1/Cb +
1/Ca). Null when any of the four totals is zero. (The evaluation question uses the panel model of
`did` against the chosen control's units instead; this is the single-region estimator.)

WDQ (Bowers & Johnson 2003) = (Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb). > 0: diffusion of benefits;
0 to -1: some displacement, less than the gain; < -1: displacement exceeds the gain. Undefined
(null) when the control has no incidents in either window or the target showed no change
relative to the control.

TNE (total net effect) = [Rb*(Ca/Cb) - Ra] + [Db*(Ca/Cb) - Da]: incidents prevented (positive)
or added (negative) in target and buffer together, against the control's trend.

Excess (target, ring) = E * (RR - 1) with E = before * (Ca/Cb), the count the control's trend
predicts, and RR that region's control-adjusted rate ratio; its 95% interval is E * (lo - 1) to
E * (hi - 1). One test per effect: the excess is significant exactly when its rate ratio is.

WDD (Wheeler & Ratcliffe 2018) = (Ta - Tb) - (Ca - Cb) + (Da - Db) - (DCa - DCb), variance =
the sum of the eight counts, Z = WDD / SE. It assumes a control of comparable size, so it is
computed for a named control area (with its own ring as DC) only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np



# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Effect:
    """Control-adjusted rate ratio (Ta/Tb)/(Ca/Cb) with its 95% interval.

    `model` is ``poisson``, ``negative-binomial`` or ``quasi-poisson``; `dispersion` the Poisson
    fit's Pearson chi-square / df (None when there are no residual degrees of freedom).
    """

    rate_ratio: float
    ci95: tuple[float, float]
    p_value: float
    model: str
    dispersion: float | None = None

    @property
    def pct_change(self) -> float:
        """The control-adjusted change in %, 100 * (rate ratio - 1)."""
        return 100.0 * (self.rate_ratio - 1.0)

    def to_dict(self) -> dict:
        return {"rate_ratio": round(self.rate_ratio, 4),
                "ci95": [round(self.ci95[0], 4), round(self.ci95[1], 4)],
                "p_value": float(f"{self.p_value:.4g}")}



def rate_ratio(
    target_before: int | Sequence[int], target_after: int | Sequence[int],
    control_before: int | Sequence[int], control_after: int | Sequence[int],
) -> Effect | None:
    """Control-adjusted rate ratio (Ta/Tb)/(Ca/Cb) from a log-linear model (statsmodels).

    Each argument is a window total or the window's monthly counts. When all four windows have
    the same number of months, a month-in-window factor shared by target and control absorbs
    seasonality (paired months, e.g. each July with the July a year earlier); with factors only
    this log-linear model ([group x period][month]) is collapsible, so the Poisson estimate and
    interval equal those of the 2x2 table of totals. The Poisson fit is then checked for
    overdispersion (Pearson chi-square above the 95th percentile of chi-square on its residual
    df) and a negative-binomial (NB2) model is used when it is. Returns None when any of the
    four totals is zero (the ratio is undefined).
    """
    from scipy import stats

    parts = [np.atleast_1d(np.asarray(v, dtype=float)) for v in
             (target_before, target_after, control_before, control_after)]
    if any(p.size == 0 or not np.isfinite(p).all() or p.sum() <= 0 for p in parts):
        return None
    tb, ta, cb, ca = (float(p.sum()) for p in parts)
    # The Poisson fit in closed form (the model is collapsible): the cross ratio of the totals
    # and the Wald SE of the 2x2 table.
    b = math.log((ta / tb) / (ca / cb))
    se = math.sqrt(1 / tb + 1 / ta + 1 / cb + 1 / ca)
    n = parts[0].size
    paired = n > 1 and all(p.size == n for p in parts)
    if paired:
        # month-in-window effects shared by target and control: the fitted counts of the
        # log-linear model [series][month] are the independence model of the 4 x n table
        table = np.vstack(parts)
        fitted = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        y, mu = table.ravel(), fitted.ravel()
        dof = 3 * (n - 1)
    else:  # one level per series
        y = np.concatenate(parts)
        mu = np.concatenate([np.full(p.size, p.mean()) for p in parts])
        dof = y.size - 4
    dispersion = None
    model = "poisson"
    if dof > 0:
        used = mu > 0
        pearson = float((((y - mu) ** 2)[used] / mu[used]).sum())
        dispersion = pearson / dof
        if pearson > stats.chi2.ppf(0.95, dof):
            model, b, se = _negative_binomial(parts, paired, b, se, dispersion)
    z = b / se
    return Effect(rate_ratio=math.exp(b), ci95=(math.exp(b - 1.959964 * se), math.exp(b + 1.959964 * se)),
                  p_value=float(2 * stats.norm.sf(abs(z))), model=model, dispersion=dispersion)



def _negative_binomial(parts: list[np.ndarray], paired: bool, b: float, se: float, dispersion: float
                       ) -> tuple[str, float, float]:
    """The target-after term of an NB2 model (statsmodels, ML alpha) on the same design as the
    Poisson fit: target, after, target x after and month-in-window factors. Falls back to the
    Poisson estimate with its SE scaled by sqrt(dispersion) (quasi-Poisson) when the fit fails."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    sizes = [p.size for p in parts]
    y = np.concatenate(parts)
    is_target = np.repeat([1.0, 1.0, 0.0, 0.0], sizes)
    is_after = np.repeat([0.0, 1.0, 0.0, 1.0], sizes)
    X = np.column_stack([np.ones_like(y), is_target, is_after, is_target * is_after])
    if paired:
        pos = np.concatenate([np.arange(k) for k in sizes])
        X = np.column_stack([X] + [(pos == k).astype(float) for k in range(1, sizes[0])])
    try:
        nb = NegativeBinomial(y, X, loglike_method="nb2").fit(disp=0, maxiter=500)
        b_nb, se_nb = float(nb.params[3]), float(nb.bse[3])
        if np.isfinite(b_nb) and np.isfinite(se_nb) and se_nb > 0:
            return "negative-binomial", b_nb, se_nb
    except (ValueError, np.linalg.LinAlgError):
        pass
    return "quasi-poisson", b, se * math.sqrt(dispersion)


def wdq(rb: float, ra: float, db: float, da: float, cb: float, ca: float) -> float | None:
    """Weighted displacement quotient (Bowers & Johnson 2003).

    ``(Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb)``; None when a control count is zero or the target
    showed no change relative to the control (denominator 0).
    """
    if any(v is None for v in (rb, ra, db, da, cb, ca)) or cb == 0 or ca == 0:
        return None
    success = ra / ca - rb / cb
    if abs(success) < 1e-12:
        return None
    return (da / ca - db / cb) / success



def wdq_interpretation(value: float | None, rb=None, ra=None, cb=None, ca=None) -> str:
    """Plain-English reading of a WDQ (design §6)."""
    if value is None:
        if cb == 0 or ca == 0:
            return "WDQ undefined: the control area had no incidents in one of the windows."
        return ("WDQ undefined: the target area showed no change relative to the control "
                "(or counts are missing).")
    if None not in (rb, ra, cb, ca) and cb and ca and ra / ca - rb / cb > 0:
        return (f"WDQ {value:.2f} is not a displacement measure here: the target area did not fall "
                "relative to the control.")
    if value > 1e-9:
        return (f"WDQ {value:.2f} > 0: diffusion of benefits — the buffer also improved relative to "
                "the control.")
    if abs(value) <= 1e-9:
        return "WDQ 0: no displacement to the buffer and no diffusion of benefits."
    if abs(value + 1) <= 1e-9:
        return "WDQ -1: displacement to the buffer equals the gain in the target (no net effect)."
    if value > -1:
        return (f"WDQ {value:.2f} (between 0 and -1): some displacement to the buffer, less than the "
                "gain in the target.")
    return f"WDQ {value:.2f} < -1: displacement to the buffer exceeds the gain in the target."



def tne(rb: float, ra: float, db: float, da: float, cb: float, ca: float) -> float | None:
    """Total net effect ``[Rb*(Ca/Cb) - Ra] + [Db*(Ca/Cb) - Da]``: incidents prevented (> 0) or
    added (< 0) in target and buffer together against the control's trend; None if Cb = 0."""
    if any(v is None for v in (rb, ra, db, da, cb, ca)) or cb == 0:
        return None
    k = ca / cb
    return (rb * k - ra) + (db * k - da)



def tne_interpretation(value: float | None) -> str:
    """The TNE in words. TNE counts incidents *prevented*, so a positive TNE is fewer incidents
    and a negative one more; the text says 'fewer'/'more' and names the sign's meaning."""
    if value is None:
        return "Total net effect undefined (no control incidents before, or counts missing)."
    n = abs(round(value))
    if n == 0:
        return "Total net effect 0: no net change in target and buffer together, given the control trend."
    word, meaning = ("fewer", "prevented") if value > 0 else ("more", "added")
    return (f"About {n:,} {word} incidents in the target and buffer together than the control "
            f"area's trend predicts (total net effect {value:+.1f}: incidents {meaning}).")



def excess_from_effect(expected: float | None, effect: Effect | None
                       ) -> tuple[float, tuple[float, float]] | None:
    """Incidents above (> 0) or below (< 0) what the control's trend predicts, with its 95%
    interval, read off the control-adjusted rate ratio RR of the same area: with `expected` =
    ``before * (Ca/Cb)`` (the count the control's trend predicts), the excess is
    ``expected * (RR - 1)`` (= ``after - before * (Ca/Cb)`` for the Poisson model) and its
    interval is ``expected * (lo - 1)`` to ``expected * (hi - 1)``. So the excess is
    statistically significant exactly when the rate ratio is: one test per effect.

    For the buffer ring (with the buffer's rate ratio) this is the number displaced into it
    (> 0) or the diffusion of benefits (< 0); for the target, minus the incidents prevented.
    None when the expected count or the rate ratio is missing.
    """
    if expected is None or effect is None:
        return None
    lo, hi = effect.ci95
    return (float(expected) * (effect.rate_ratio - 1.0),
            (float(expected) * (lo - 1.0), float(expected) * (hi - 1.0)))



def significance(effect: Effect | WDD | None) -> str:
    """The one significance statement of an effect, from its 95% interval (rate ratios) or its
    two-sided Z test (WDD) at the 5% level."""
    if effect is None:
        return "not tested"
    if isinstance(effect, WDD):
        return ("statistically significant at the 5% level" if effect.p_value < 0.05
                else "not statistically significant at the 5% level")
    lo, hi = effect.ci95
    return ("not statistically significant at the 5% level (the 95% interval includes no change)"
            if lo <= 1 <= hi else "statistically significant at the 5% level")



@dataclass(frozen=True)
class WDD:
    """Weighted displacement difference (Wheeler & Ratcliffe 2018)."""

    wdd: float
    variance: float
    se: float
    z: float
    p_value: float

    def to_dict(self) -> dict:
        return {"wdd": self.wdd, "se": round(self.se, 2), "z": round(self.z, 2),
                "p_value": float(f"{self.p_value:.4g}")}



def wdd(treated_before: float, treated_after: float, control_before: float, control_after: float,
        displacement_before: float = 0, displacement_after: float = 0,
        displacement_control_before: float = 0, displacement_control_after: float = 0) -> WDD | None:
    """WDD = (Ta - Tb) - (Ca - Cb) + (Da - Db) - (DCa - DCb); variance = sum of the eight counts,
    SE = sqrt(variance), Z = WDD / SE (two-sided normal p-value). None when a count is missing
    or all are zero."""
    from scipy import stats

    counts = [treated_before, treated_after, control_before, control_after, displacement_before,
              displacement_after, displacement_control_before, displacement_control_after]
    if any(c is None for c in counts):
        return None
    tb, ta, cb, ca, db, da, dcb, dca = (float(c) for c in counts)
    value = (ta - tb) - (ca - cb) + (da - db) - (dca - dcb)
    var = float(sum(counts))
    if var <= 0:
        return None
    se = math.sqrt(var)
    z = value / se
    return WDD(wdd=value, variance=var, se=se, z=z, p_value=float(2 * stats.norm.sf(abs(z))))
