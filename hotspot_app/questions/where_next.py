"""Where next? The questions of issue 23 (docs/design.md §5c "Emerging hot spots", "Backtest",
"Near repeat", "Smoothed rates"): which cells are emerging or persistent hot spots, which method's
map predicts next month here, whether incidents follow each other close by and soon, which
streets are hot, and whether the top places survive police.uk's snapping -- the one answer
`hotspot grid --method emerging`, `hotspot backtest`, `hotspot near-repeat`, `hotspot
hot-streets`, `hotspot stability`, the Hotspots page's "Where next" section and the report
pack's where-next sections give.

Decided here and nowhere else:

* the grid: `CELL_M` (the app's 250 m cell, `settings.CELL_M`) and the study area (the wards
  loaded when a face passes them, else the incidents' buffered hull);
* emerging hot spots: monthly time steps, one earlier step in each bin's neighbourhood, queen
  neighbours, `ALPHA` for the FDR-corrected Gi* bins and the trend;
* the backtest: the share of the area each map flags (`AREA_SHARE`, 5%), the scoring months when
  none are given (the last `SCORING_MONTHS` months loaded) and that maps may use every month
  loaded before them; "use it": the best method's map for the month after the last one loaded
  (`predict`);
* near repeat: the band edges and permutations (`core.near_repeat` defaults: 0-100-200-400 m,
  0-7-14-28 days, 99 permutations, seed 0);
* smoothed rates: the vocabulary of ``--smooth`` (`SMOOTH`: ``eb`` = global Empirical Bayes,
  ``eb-spatial`` = spatial, queen neighbours) and rates per 1,000;
* snap-point stability: `DRAWS` seeded draws, the app's patrol preset.

Every answer carries its method and parameters (``parameters``) and its warnings.
"""

from __future__ import annotations

from typing import Sequence

import geopandas as gpd
import pandas as pd

from hotspot_app.core import backtest as backtest_mod
from hotspot_app.core import emerging as emerging_mod
from hotspot_app.core import near_repeat as near_repeat_mod
from hotspot_app.core import periods, settings, smoothing, stability as stability_mod, streets as streets_mod
from hotspot_app.core.errors import InputError

#: The grid cell of every where-next map (the app's default cell).
CELL_M: float = float(settings.CELL_M)
#: Significance of the Gi* bins (after the FDR correction) and of the Mann-Kendall trend.
ALPHA: float = 0.05
#: Share of the study area each backtest map flags.
AREA_SHARE: float = 0.05
#: Scoring months of a backtest when none are given: the last this many months loaded.
SCORING_MONTHS: int = 12
#: Snap-point draws.
DRAWS: int = stability_mod.DRAWS
#: ``--smooth`` values and the Empirical Bayes method each one means.
SMOOTH: dict[str, str] = {"eb": "global", "eb-spatial": "spatial"}
METHODS = backtest_mod.METHODS
Emerging = emerging_mod.Emerging
Backtest = backtest_mod.Backtest
NearRepeat = near_repeat_mod.NearRepeat


def _areas(areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    return areas if areas is not None and len(areas) else None


def emerging(incidents: gpd.GeoDataFrame, *, category=None, period=None, cell_m: float | None = None,
             shape: str = "square", period_months: int = 1, time_steps: int = 1, alpha: float | None = None) -> Emerging:
    """Emerging hot spot classes of the grid cells (`core.emerging.emerging_hotspots`) over
    monthly steps of `period` (default every month loaded of the selection), on the cells that
    hold incidents."""
    cell_m = CELL_M if cell_m is None else float(cell_m)
    alpha = ALPHA if alpha is None else float(alpha)
    return emerging_mod.emerging_hotspots(incidents, cell_m, shape, category=category, period=period,
                                          period_months=period_months, time_steps=time_steps,
                                          alpha=alpha)


def scoring_window(incidents: gpd.GeoDataFrame, period=None) -> tuple[str, str]:
    """The backtest's scoring months: `period` (FROM..TO or (from, to), either end open) or the
    last `SCORING_MONTHS` months loaded."""
    cov = periods.Coverage.of(incidents)
    if cov.last is None:
        raise InputError("no incidents loaded", parameter="incidents")
    lo, hi = None, None
    if period is not None:
        if isinstance(period, str):
            months = periods.parse_range(period, "period")
            lo, hi = months[0], months[-1]
        else:
            lo, hi = period
            lo = periods.parse_month(lo, "from") if lo is not None else None
            hi = periods.parse_month(hi, "to") if hi is not None else None
    hi = hi or cov.last
    lo = lo or periods.add_months(hi, -(SCORING_MONTHS - 1))
    periods.month_range(lo, hi)  # checks the order, naming the range
    return lo, hi


def backtest(incidents: gpd.GeoDataFrame, *, category=None, period=None, cell_m: float | None = None,
             area_share: float | None = None, methods: Sequence[str] | None = None,
             areas: gpd.GeoDataFrame | None = None, preset: str | None = None,
             eps_m: float | None = None, min_samples: int | None = None) -> Backtest:
    """Which method's map predicts next month here: the rolling-origin backtest
    (`core.backtest.backtest`) over the scoring months (`scoring_window`), each map flagging
    `area_share` (default `AREA_SHARE`) of the study area, built from every month loaded before
    its month."""
    lo, hi = scoring_window(incidents, period)
    return backtest_mod.backtest(incidents, f"{lo}..{hi}", category=category,
                                 cell_m=CELL_M if cell_m is None else float(cell_m),
                                 area_share=AREA_SHARE if area_share is None else area_share,
                                 methods=methods, areas=_areas(areas), preset=preset, eps_m=eps_m,
                                 min_samples=min_samples)


def predict(incidents: gpd.GeoDataFrame, method: str, *, category=None, to: str | None = None,
            cell_m: float | None = None, area_share: float | None = None,
            areas: gpd.GeoDataFrame | None = None, preset: str | None = None,
            eps_m: float | None = None, min_samples: int | None = None) -> gpd.GeoDataFrame:
    """"Use it": `method`'s map for the month after `to` (default the last month loaded), with
    the cells it flags (`core.backtest.predict`), on the same grid and share as `backtest`."""
    return backtest_mod.predict(incidents, method, to=to, category=category,
                                cell_m=CELL_M if cell_m is None else float(cell_m),
                                area_share=AREA_SHARE if area_share is None else area_share,
                                areas=_areas(areas), preset=preset, eps_m=eps_m,
                                min_samples=min_samples)


def near_repeat(incidents: gpd.GeoDataFrame, *, category=None, period=None,
                distance_m: Sequence[float] | None = None, days: Sequence[float] | None = None,
                permutations: int | None = None, seed: int = 0) -> NearRepeat:
    """The Knox near-repeat test (`core.near_repeat.knox`) with the default bands unless given;
    monthly-only data are refused with an InputError saying that it needs dates."""
    return near_repeat_mod.knox(
        incidents, category=category, period=period,
        distance_m=near_repeat_mod.DISTANCE_M if distance_m is None else distance_m,
        days=near_repeat_mod.DAYS if days is None else days,
        permutations=near_repeat_mod.PERMUTATIONS if permutations is None else permutations,
        seed=seed)


def has_dates(incidents: gpd.GeoDataFrame) -> bool:
    """Whether any incident carries a date (near repeat needs dates; police.uk has months)."""
    return bool(near_repeat_mod.day_numbers(incidents)[1].any())


def smooth(table: pd.DataFrame, smooth: str, *, count: str = "count", population: str = "population",
           name: str | None = "name", neighbours=None) -> smoothing.SmoothedRates:
    """``rate`` and ``rate_eb`` (per 1,000) beside a table of areas (`core.smoothing`), for
    ``--smooth`` `smooth` (`SMOOTH`)."""
    if smooth not in SMOOTH:
        raise InputError(f"unknown smoothing '{smooth}'; use {' or '.join(SMOOTH)}", parameter="smooth")
    return smoothing.smooth_rates(table, count=count, population=population, method=SMOOTH[smooth],
                                  neighbours=neighbours, name=name)


def hot_streets(incidents: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, *, category=None, period=None,
                max_distance_m: float | None = None, rank_by: str | None = None,
                name_field=None) -> streets_mod.HotStreets:
    """Incidents per street segment and per 100 m of street (`core.streets.hot_streets`)."""
    return streets_mod.hot_streets(incidents, streets, category=category, period=period,
                                   max_distance_m=50.0 if max_distance_m is None else max_distance_m,
                                   rank_by=rank_by or "per_100m", name_field=name_field)


def stability(incidents: gpd.GeoDataFrame, *, category=None, period=None, top: int = 5,
              draws: int | None = None, seed: int = 0, preset: str | None = None,
              eps_m: float | None = None, min_samples: int | None = None,
              cell_m: float | None = None, areas: gpd.GeoDataFrame | None = None) -> stability_mod.Stability:
    """The stability share of the top patrol areas and cells under snap-point displacement
    (`core.stability.snap_stability`), with the app's patrol preset unless told otherwise; the
    patrol areas named with `areas` (e.g. the wards) as the patrol-areas question names them."""
    return stability_mod.snap_stability(incidents, category=category, period=period, top=top,
                                        draws=DRAWS if draws is None else draws, seed=seed,
                                        preset=preset, eps_m=eps_m, min_samples=min_samples,
                                        cell_m=CELL_M if cell_m is None else float(cell_m),
                                        areas=_areas(areas))
