"""Emerging hot spots (hotspot_app.core.emerging): planted persistent, intensifying and new hot
spots found as such, the class rules of ArcGIS Pro one by one (hot and cold), the space-time Gi*
against esda, and refusals."""

from __future__ import annotations

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest

from hotspot_app.core import periods, schema
from hotspot_app.core import emerging
from hotspot_app.core.errors import InputError

X0, Y0, CELL = 400_000.0, 500_000.0, 250.0
MONTHS = periods.month_range("2023-01", "2023-12")


def planted(seed: int = 7) -> pd.DataFrame:
    """A 20 x 20 grid of 250 m cells, background Poisson(2) a cell a month for 12 months, plus
    a persistent spot at (row 4, col 4) (60 a month), an intensifying one at (4, 15) (60, 70,
    ..., 170) and a new one at (15, 4) (150 in the final month only)."""
    rng = np.random.default_rng(seed)
    rows = []

    def add(r, c, n, m):
        x = rng.uniform(c * CELL, (c + 1) * CELL, n) + X0
        y = rng.uniform(r * CELL, (r + 1) * CELL, n) + Y0
        rows.extend(zip(x, y, [m] * n))

    for t, m in enumerate(MONTHS):
        for r in range(20):
            for c in range(20):
                add(r, c, rng.poisson(2), m)
        add(4, 4, 60, m)
        add(4, 15, 60 + 10 * t, m)
        if t == 11:
            add(15, 4, 150, m)
    df = pd.DataFrame(rows, columns=["x", "y", "month"])
    df["category"] = "Anti-social behaviour"
    return df


@pytest.fixture(scope="module")
def result():
    return emerging.emerging_hotspots(schema.make_incidents(planted()), CELL)


def block(cells, r, c) -> set[str]:
    """Cell ids of the 3 x 3 block centred on grid cell (r, c) of the planted layout."""
    want = {(X0 + (c + dc + 0.5) * CELL, Y0 + (r + dr + 0.5) * CELL)
            for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
    return set(cells.loc[[(x, y) in want for x, y in zip(cells["x"], cells["y"])], "cell_id"])


def cell_at(cells, r, c) -> pd.Series:
    hit = (cells["x"] == X0 + (c + .5) * CELL) & (cells["y"] == Y0 + (r + .5) * CELL)
    assert hit.sum() == 1
    return cells[hit].iloc[0]


def test_planted_spots_are_classified_as_planted(result):
    cells = result.cells
    by_class = {k: set(g["cell_id"]) for k, g in cells.groupby("class")}
    # Gi* is a neighbourhood statistic: the spot and its 8 queen neighbours share its class
    assert by_class["persistent"] == block(cells, 4, 4)
    assert by_class["intensifying"] == block(cells, 4, 15)
    assert by_class["new"] == block(cells, 15, 4)
    assert set(by_class) == {"persistent", "intensifying", "new", "not significant"}
    quiet = cells[cells["cell_id"].isin(block(cells, 15, 15))]
    assert (quiet["class"] == "not significant").all() and (quiet["n_hot"] == 0).all()
    assert result.counts_by_class() == {"intensifying": 9, "persistent": 9, "new": 9,
                                        "not significant": 400 - 27}


def test_trend_is_on_the_gi_z_scores_and_named(result):
    inten, pers = cell_at(result.cells, 4, 15), cell_at(result.cells, 4, 4)
    assert inten["trend_z"] > 3 and inten["trend_p"] < 0.01
    assert pers["trend_p"] > 0.05 and pers["n_hot"] >= 11
    assert result.parameters["trend"] == "Mann-Kendall on the Gi* z-scores"
    assert result.parameters["correction"] == "fdr_bh over all bins"
    assert result.steps == MONTHS and result.warnings == []
    doc = result.to_dict()
    assert len(doc["cells"]) == 400 and {"class", "trend_p"} <= set(doc["cells"][0])
    assert all(c["class"] in emerging.CLASSES for c in doc["cells"])


def test_space_time_gi_star_matches_esda_on_the_cube():
    df = planted(3)
    df = df[df["month"] <= "2023-03"]
    res = emerging.emerging_hotspots(schema.make_incidents(df), CELL, time_steps=1)
    from hotspot_app.core import hotspots

    T, n = 3, len(res.cells)
    W = emerging.space_time_weights(hotspots.neighbours(res.cells, "queen"), T, 1)
    counts = np.zeros((n, T))
    inc = schema.make_incidents(df)
    pos = hotspots.cell_of_points(res.cells, np.column_stack([inc.geometry.x, inc.geometry.y]))
    t = inc["month"].map({m: i for i, m in enumerate(MONTHS[:3])}).to_numpy()
    np.add.at(counts, (pos, t), 1)
    nb = {i: [int(j) for j in W[i].indices if j != i] for i in range(n * T)}
    w = libpysal.weights.W(nb, silence_warnings=True)
    ref = esda.G_Local(counts.T.ravel(), w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(res.z.T.ravel(), ref.Zs, rtol=1e-9, atol=1e-9)


def series(pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """'H' hot, 'C' cold, '.' not significant -> (hot, cold) rows."""
    hot = np.array([[ch == "H" for ch in pattern]])
    cold = np.array([[ch == "C" for ch in pattern]])
    return hot, cold


@pytest.mark.parametrize("pattern, trend, expected", [
    (".........H", 0, "new"),
    ("......HHHH", 0, "consecutive"),
    ("HHHHHHHHHH", +1, "intensifying"),
    ("HHHHHHHHHH", 0, "persistent"),
    ("H.HHHHHHHH", 0, "persistent"),          # 9 of 10 = 90%
    ("HHHHHHHHHH", -1, "diminishing"),
    ("..H....H.H", 0, "sporadic"),
    ("H........H", 0, "sporadic"),
    ("..C......H", 0, "oscillating"),
    ("HHHHHHHHH.", 0, "historical"),
    (".........C", 0, "cold-new"),
    ("........CC", 0, "cold-consecutive"),
    ("CCCCCCCCCC", -1, "cold-intensifying"),
    ("CCCCCCCCCC", 0, "cold-persistent"),
    ("CCCCCCCCCC", +1, "cold-diminishing"),
    ("C...C....C", 0, "cold-sporadic"),
    ("H........C", 0, "cold-oscillating"),
    ("CCCCCCCCC.", 0, "cold-historical"),
    ("HHHH......", 0, "no pattern"),          # hot for a while, not since: ArcGIS's no pattern
    ("HHHHHHHH..", 0, "no pattern"),
    ("..........", 0, "not significant"),
    ("HHHHHHHH.H", 0, "persistent"),          # 9 of 10 hot, the final one too
    ("HHHHHHH..H", 0, "sporadic"),            # 8 of 10: below 90%
])
def test_class_rules(pattern, trend, expected):
    hot, cold = series(pattern)
    tz = np.array([3.0 * trend])
    tp = np.array([0.001 if trend else 0.5])
    assert emerging.classify(hot, cold, tz, tp)[0] == expected


def test_final_step_pattern_wins_over_historical():
    hot, cold = series("HHHHHHHHHC")   # 90% hot, final cold: cold-oscillating, not historical
    assert emerging.classify(hot, cold, np.array([0.0]), np.array([0.5]))[0] == "cold-oscillating"


def test_every_class_has_a_legend_entry():
    leg = emerging.legend()
    assert list(leg["class"]) == list(emerging.CLASSES) and leg["meaning"].str.len().min() > 10
    assert emerging.DESCRIPTIONS["cold-intensifying"].startswith("cold spot")


def test_months_without_data_are_refused_not_read_as_cold():
    df = planted()
    df = df[df["month"] != "2023-06"]
    with pytest.raises(InputError, match="2023-06") as exc:
        emerging.emerging_hotspots(schema.make_incidents(df), CELL)
    assert exc.value.parameter == "period"


def test_quarterly_steps_end_with_the_last_month_and_few_steps_warn():
    df = planted()
    df = df[df["month"] >= "2023-02"]           # 11 months: 3 quarters + 2 months left out
    res = emerging.emerging_hotspots(schema.make_incidents(df), CELL, period_months=3)
    assert res.steps == ["2023-04..2023-06", "2023-07..2023-09", "2023-10..2023-12"]
    assert any("2023-02, 2023-03 left out" in w for w in res.warnings)
    assert any("only 3 time steps" in w for w in res.warnings)


def test_bad_parameters_name_themselves():
    inc = schema.make_incidents(planted())
    with pytest.raises(InputError) as exc:
        emerging.emerging_hotspots(inc, CELL, time_steps=-1)
    assert exc.value.parameter == "time_steps"
    with pytest.raises(InputError) as exc:
        emerging.emerging_hotspots(inc, CELL, period="2023-01..2023-01")
    assert exc.value.parameter == "period"


def test_mann_kendall_known_values():
    z, p = emerging.mann_kendall(np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [1, 1, 1, 1, 1]]))
    # S = 10, Var S = 5*4*15/18 = 16.667, z = 9/sqrt(16.667) = 2.2045
    assert z[0] == pytest.approx(2.2045, abs=1e-4) and z[1] == pytest.approx(-2.2045, abs=1e-4)
    assert z[2] == 0 and p[2] == 1
    assert p[0] == pytest.approx(0.0275, abs=1e-3)
