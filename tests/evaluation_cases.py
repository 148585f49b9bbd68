"""The constructed case of issue 19, shared by the evaluation tests.

A 20 km x 10 km study area whose western half is flat and whose eastern half rises 3.5% a month
(every month, from January 2021); 41 micro-hotspots (circles of 100 m radius) in one layer:
the target and 20 others in the west, 20 in the east. Monthly counts per hotspot are Poisson
around a level drawn between 40 and 80 a month, times a common seasonal wave, times a small
month-to-month shock (gamma, CV 10%: extra-Poisson variation). Background incidents are spread
over the whole area with the same west/east trends. The intervention starts in July 2022: after
= 2022-07..2022-12, before = the same months of 2021, pre-period 2021-07..2022-06. A planted
effect multiplies the target's after months.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box

from hotspot_app.core import periods, schema, settings

X0, Y0 = 440_000.0, 510_000.0
WIDTH, HEIGHT = 20_000.0, 10_000.0
STUDY = box(X0, Y0, X0 + WIDTH, Y0 + HEIGHT)
MONTHS = periods.month_range("2021-01", "2022-12")
BEFORE, AFTER = ("2021-07", "2021-12"), ("2022-07", "2022-12")
PRE = periods.month_range("2021-07", "2022-06")
GROWTH = 1.035
RADIUS = 100.0


def hotspot_centres() -> tuple[np.ndarray, np.ndarray]:
    """(xy of 41 hotspots, is_west); the target is row 0 (west, middle row)."""
    west = [(X0 + 1_000 + 1_300 * i, Y0 + 2_000 + 3_000 * j) for j in range(3) for i in range(7)]
    east = [(X0 + 11_000 + 1_300 * i, Y0 + 2_000 + 3_000 * j) for j in range(3) for i in range(7)][:20]
    target = west.pop(10)  # (X0 + 4900, Y0 + 5000)
    xy = np.array([target] + west + east)
    is_west = np.r_[np.ones(21, dtype=bool), np.zeros(20, dtype=bool)]
    return xy, is_west


def layer() -> gpd.GeoDataFrame:
    """The micro-hotspot layer: the target ('Target') and 40 others."""
    xy, is_west = hotspot_centres()
    names = ["Target"] + [f"{'West' if w else 'East'} {i}" for i, w in enumerate(is_west[1:], start=1)]
    return gpd.GeoDataFrame({"area_id": [f"mh{i}" for i in range(len(xy))], "name": names,
                             "layer": "micro_hotspot"},
                            geometry=[Point(x, y).buffer(RADIUS) for x, y in xy], crs=settings.CRS)


def trend(is_west: np.ndarray, months: int = len(MONTHS)) -> np.ndarray:
    """Multiplier per area and month: 1 in the west, 1.035^month in the east."""
    k = np.arange(months)
    return np.where(is_west[:, None], 1.0, GROWTH ** k[None, :])


def simulate_counts(rng: np.random.Generator, effect: float = 1.0, target_growth: float = 1.0,
                    is_west: np.ndarray | None = None) -> np.ndarray:
    """Monthly counts (41 areas x 24 months): row 0 the target. `effect` multiplies the target's
    after months; `target_growth` gives the target its own growth per month."""
    if is_west is None:
        is_west = hotspot_centres()[1]
    n, m = len(is_west), len(MONTHS)
    level = rng.uniform(40, 80, size=n)
    season = 1 + 0.15 * np.sin(2 * np.pi * np.arange(m) / 12)
    shock = rng.gamma(100.0, 1 / 100.0, size=(n, m))
    mu = level[:, None] * trend(is_west, m) * season[None, :] * shock
    mu[0] *= target_growth ** np.arange(m)
    after = np.isin(MONTHS, periods.month_range(*AFTER))
    mu[0, after] *= effect
    return rng.poisson(mu)


def incidents(seed: int = 1, effect: float = 1.0, target_growth: float = 1.0,
              background_per_month: int = 600) -> gpd.GeoDataFrame:
    """Canonical ASB incidents of the constructed case (hotspots and background)."""
    rng = np.random.default_rng(seed)
    xy, is_west = hotspot_centres()
    counts = simulate_counts(rng, effect, target_growth, is_west)
    area_i, month_i = np.nonzero(counts)
    reps = counts[area_i, month_i]
    area_r, month_r = np.repeat(area_i, reps), np.repeat(month_i, reps)
    r = RADIUS * 0.9 * np.sqrt(rng.uniform(size=len(area_r)))
    a = rng.uniform(0, 2 * np.pi, size=len(area_r))
    x = xy[area_r, 0] + r * np.cos(a)
    y = xy[area_r, 1] + r * np.sin(a)
    # background: uniform over the area, east rising like the eastern hotspots
    bx, by, bm = [], [], []
    for k in range(len(MONTHS)):
        n_w = rng.poisson(background_per_month / 2)
        n_e = rng.poisson(background_per_month / 2 * GROWTH ** k)
        bx.append(np.r_[rng.uniform(X0, X0 + WIDTH / 2, n_w), rng.uniform(X0 + WIDTH / 2, X0 + WIDTH, n_e)])
        by.append(rng.uniform(Y0, Y0 + HEIGHT, n_w + n_e))
        bm.append(np.full(n_w + n_e, k))
    x = np.r_[x, np.concatenate(bx)]
    y = np.r_[y, np.concatenate(by)]
    months = np.array(MONTHS)[np.r_[month_r, np.concatenate(bm)]]
    # locations snapped to a 10 m lattice, as police.uk snaps to map points
    frame = pd.DataFrame({"month": months, "category": "Anti-social behaviour",
                          "x": np.round(x, -1), "y": np.round(y, -1)})
    return schema.make_incidents(frame, source="police-uk")


def target_geometry() -> shapely.Geometry:
    return layer().geometry.iloc[0]
