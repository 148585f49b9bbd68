"""Near repeat (hotspot_app.core.near_repeat): a planted near-repeat pattern is found in its band
and nowhere else, the band counts on a worked example, seeded permutations, "needs dates"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspot_app.core import schema
from hotspot_app.core import near_repeat
from hotspot_app.core.errors import InputError


def make(x, y, days, category="Burglary", month_only=False):
    occ = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.asarray(days), unit="D")
    df = pd.DataFrame({"category": category, "occurred": occ})
    if month_only:
        df["month"] = df["occurred"].dt.strftime("%Y-%m")
        df["occurred"] = pd.NaT
    return schema.make_incidents(df, x=np.asarray(x, float) + 400_000, y=np.asarray(y, float) + 500_000)


def planted(seed=3):
    """800 burglaries at random over 5 km x 5 km and a year; 150 of them followed by another
    within 90 m and 1-6 days."""
    rng = np.random.default_rng(seed)
    n0, k = 800, 150
    x, y = rng.uniform(0, 5000, n0), rng.uniform(0, 5000, n0)
    day = rng.integers(0, 365, n0)
    r, a = 90 * np.sqrt(rng.uniform(0, 1, k)), rng.uniform(0, 2 * np.pi, k)
    return make(np.r_[x, x[:k] + r * np.cos(a)], np.r_[y, y[:k] + r * np.sin(a)],
                np.r_[day, day[:k] + rng.integers(1, 7, k)])


def test_planted_near_repeats_are_found_in_their_band_only():
    res = near_repeat.knox(planted(), distance_m=[0, 100, 200, 400], days=[0, 7, 14, 28],
                           permutations=199, seed=1)
    b = res.bands
    assert len(b) == 9
    first = b.iloc[0]
    assert (first.distance_from, first.distance_to, first.days_from, first.days_to) == (0, 100, 0, 7)
    assert first.ratio > 1.5 and first.p_value < 0.05
    others = b.iloc[1:]
    assert not ((others["ratio"].astype(float) > 1.5) & (others["p_value"] < 0.05)).any()
    assert (others["p_value"] >= 0.05).all()
    doc = res.to_dict()
    assert doc["bands"][0]["distance_m"] == [0, 100] and doc["bands"][0]["days"] == [0, 7]
    assert set(doc["bands"][0]) == {"distance_m", "days", "observed", "expected", "ratio", "p_value"}
    assert len(res.sentences()) == 1 and res.sentences()[0].startswith("Within 0-100 m and 0-7 days")
    assert res.parameters["permutations"] == 199 and res.parameters["seed"] == 1


def test_same_seed_same_answer_other_seed_same_observed():
    inc = planted()
    a = near_repeat.knox(inc, permutations=49, seed=5).bands
    b = near_repeat.knox(inc, permutations=49, seed=5).bands
    c = near_repeat.knox(inc, permutations=49, seed=6).bands
    pd.testing.assert_frame_equal(a, b)
    assert (a["observed"] == c["observed"]).all() and not np.allclose(a["expected"], c["expected"])


def test_band_counts_on_a_worked_example():
    # A-B: 50 m, 3 days -> [0,100] x [0,7];  A-C: 150 m, 10 days -> (100,200] x (7,14];
    # B-C: 100 m (edge: the first band), 7 days (edge: the first band);  D is 5 km away
    inc = make([0, 50, 150, 5000], [0, 0, 0, 0], [0, 3, 10, 0])
    res = near_repeat.knox(inc, distance_m=[0, 100, 200], days=[0, 7, 14], permutations=9)
    obs = res.bands.set_index(["distance_to", "days_to"])["observed"]
    assert obs[(100, 7)] == 2 and obs[(200, 14)] == 1 and obs.sum() == 3
    assert res.parameters["n_pairs_within"] == 3


def test_month_only_data_are_refused_with_needs_dates():
    inc = make([0, 10, 20], [0, 0, 0], [0, 40, 80], month_only=True)
    with pytest.raises(InputError, match="needs dates") as exc:
        near_repeat.knox(inc)
    assert exc.value.column == "occurred"


def test_partly_dated_data_use_the_dated_and_say_so():
    dated = make([0, 10, 20], [0, 0, 0], [0, 2, 4])
    undated = make([30], [0], [6], month_only=True)
    inc = pd.concat([dated, undated], ignore_index=True)
    res = near_repeat.knox(inc, permutations=9)
    assert res.parameters["n_incidents"] == 3
    assert any("1 of 4 incidents have only a month" in w for w in res.warnings)


@pytest.mark.parametrize("kwargs, param", [
    ({"distance_m": [100, 50]}, "distance_m"), ({"days": [7]}, "days"),
    ({"permutations": 0}, "permutations"), ({"distance_m": "near"}, "distance_m"),
])
def test_bad_bands_are_refused_by_name(kwargs, param):
    with pytest.raises(InputError) as exc:
        near_repeat.knox(planted(), **kwargs)
    assert exc.value.parameter == param
