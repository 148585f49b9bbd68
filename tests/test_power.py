"""Power before launch (issue 19): the minimum detectable effect and the weeks needed agree with
a brute-force simulation of the evaluation's test, behave monotonically, and state their
assumptions."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspot_app.core.evaluation import power as pw
from hotspot_app.core.errors import InputError

Z = stats.norm.ppf(0.975)


def simulated_power(rr, weeks, rate, control_rate=None, phi=1.0, n=40_000, seed=1):
    """Share of simulated trials in which the two-sided 5% Wald test on the log rate ratio
    rejects: window totals are Poisson (phi = 1) or negative binomial with variance phi x mean;
    the test uses the observed counts and the same phi."""
    rng = np.random.default_rng(seed)

    def draw(mean):
        if phi == 1.0:
            return rng.poisson(mean, n)
        return rng.negative_binomial(mean / (phi - 1.0), 1.0 / phi, n)

    tb, ta = draw(rate * weeks), draw(rate * weeks * rr)
    var = phi * (1 / tb + 1 / ta)
    log_rr = np.log(ta / tb)
    if control_rate is not None:
        cb, ca = draw(control_rate * weeks), draw(control_rate * weeks)
        var = var + phi * (1 / cb + 1 / ca)
        log_rr = log_rr - np.log(ca / cb)
    ok = np.isfinite(var) & np.isfinite(log_rr)
    return float(np.mean(np.abs(log_rr[ok]) / np.sqrt(var[ok]) > Z))


def test_rates_and_dispersion_from_monthly_counts():
    counts = pd.Series([31, 28, 31, 30], index=["2025-01", "2025-02", "2025-03", "2025-04"])
    # one incident a day: 120 incidents over 120 days = 7 a week
    assert pw.weekly_rate(counts) == pytest.approx(7.0)
    assert pw.weekly_rate([10, 20], period="week") == pytest.approx(15.0)
    assert pw.dispersion_of([10, 10, 10]) == 1.0
    # variance 50 (sample) over mean 20 = 2.5
    assert pw.dispersion_of([15, 25, 10, 30]) == pytest.approx((25 + 25 + 100 + 100) / 3 / 20)
    # several chosen areas pool: 2 areas x 3 months
    assert pw.weekly_rate(np.array([[4, 4, 4], [2, 2, 2]]), period="week") == pytest.approx(6.0)


@pytest.mark.parametrize("rate,control_rate,phi,weeks", [
    (10.0, None, 1.0, 8), (6.0, 60.0, 1.0, 12), (15.0, 100.0, 2.0, 8)])
def test_minimum_detectable_effect_agrees_with_simulation(rate, control_rate, phi, weeks):
    mde = pw.minimum_effect(weeks, rate, control_rate, phi, phi)
    assert 0 < mde < 1
    assert pw.power_of(mde, weeks, rate, control_rate, phi, phi) == pytest.approx(0.8, abs=1e-6)
    assert simulated_power(mde, weeks, rate, control_rate, phi) == pytest.approx(0.8, abs=0.02)


@pytest.mark.parametrize("effect,rate,control_rate,phi", [
    (0.8, 10.0, 80.0, 1.0), (0.7, 5.0, None, 1.5)])
def test_weeks_needed_agrees_with_simulation(effect, rate, control_rate, phi):
    weeks = pw.weeks_needed(effect, rate, control_rate, phi, phi)
    assert simulated_power(effect, weeks, rate, control_rate, phi, seed=2) == pytest.approx(0.8, abs=0.02)
    # a trial 40% shorter falls clearly short of 80% power
    assert simulated_power(effect, 0.6 * weeks, rate, control_rate, phi, seed=3) < 0.7


def test_worked_example_closed_form():
    # no control, phi 1, 10 a week for 10 weeks: SE^2 = 1/100 + 1/(100 RR); ignoring the far
    # tail, |log RR| = (z_0.975 + z_0.8) * SE at the MDE
    mde = pw.minimum_effect(10, 10.0)
    se = math.sqrt(1 / 100 + 1 / (100 * mde))
    assert abs(math.log(mde)) == pytest.approx((Z + stats.norm.ppf(0.8)) * se, rel=1e-4)
    assert mde == pytest.approx(0.6384, abs=1e-4)  # |log 0.6384| = 0.4488 = 2.8016 x 0.1602


def test_more_weeks_detect_smaller_effects_and_bigger_effects_need_fewer_weeks():
    mdes = [pw.minimum_effect(w, 8.0, 50.0, 1.3, 1.3) for w in (4, 8, 12, 26, 52)]
    assert all(a < b for a, b in zip(mdes, mdes[1:]))  # closer to 1 = a smaller fall
    weeks = [pw.weeks_needed(e, 8.0, 50.0, 1.3, 1.3) for e in (0.6, 0.7, 0.8, 0.9)]
    assert all(a < b for a, b in zip(weeks, weeks[1:]))
    busier = pw.minimum_effect(8, 16.0, 50.0)
    assert busier > pw.minimum_effect(8, 8.0, 50.0)  # busier areas: smaller detectable fall


def test_plan_power_answer_says_its_assumptions():
    counts = pd.Series([40, 44, 38, 45, 41, 39], index=[f"2024-{m:02d}" for m in range(1, 7)])
    control = pd.Series([400, 410, 390, 420, 405, 395], index=counts.index)
    p = pw.plan_power(counts, weeks=8, effect=0.8, control_counts=control)
    assert p.rate_per_week == pytest.approx(247 / (182 / 7))
    assert p.dispersion == 1.0  # these counts vary less than Poisson counts
    assert p.minimum_effect == pytest.approx(pw.minimum_effect(8, p.rate_per_week, p.control_rate_per_week))
    assert p.weeks_needed == pytest.approx(pw.weeks_needed(0.8, p.rate_per_week, p.control_rate_per_week))
    text = p.sentence()
    assert text.startswith(f"A 8-week trial can detect a fall of {p.minimum_fall_pct:.0f}% or more")
    assert f"about {math.ceil(p.weeks_needed)} weeks" in text
    assert any("difference in differences" in a for a in p.assumptions)
    assert any("9.5 incidents a week" in a for a in p.assumptions)
    doc = p.to_dict()
    assert doc["weeks_needed"] == math.ceil(p.weeks_needed) and doc["sentence"] == text
    tiny = pw.plan_power([0, 1, 0], weeks=2, period="week")
    assert tiny.minimum_effect is None and "Too few incidents" in tiny.warnings[0]
    with pytest.raises(InputError, match="parameter 'weeks'"):
        pw.plan_power(counts)
    with pytest.raises(InputError, match="parameter 'effect'"):
        pw.plan_power(counts, effect=0)
