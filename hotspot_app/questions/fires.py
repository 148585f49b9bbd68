"""Where are the deliberate fires? The fire-summary question (docs/design.md §4 deliberate fires,
§7 masked fire coordinates): how precise the locations are, fires by ward and month (the wards
loaded, or the file's own ward column), the total, and the clusters of deliberate secondary fires
-- the Fires page's figures, the same a CLI table or ranking of the same fires gives.

Decided here: the fire groups offered (`GROUPS`), and the secondary-fire clusters' defaults --
never finer than the locations' precision (`CLUSTER_EPS_M` at least), `CLUSTER_MIN_SAMPLES`
fires, the top `CLUSTER_TOP` listed; the seasonal comparison's default season (the bonfire
period, `fire_summary.BONFIRE_MONTHS`) and its months (every month selected).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from hotspot_app.core import fire_summary as core_fires
from hotspot_app.core import taxonomy
from hotspot_app.questions.patrol_areas import PatrolAreas, patrol_areas

#: The fire groups a fire summary offers, the first the default.
GROUPS = ("deliberate-fires", "deliberate-primary-fires", "deliberate-secondary-fires")
#: Secondary-fire clusters: the smallest eps (metres; coarser when locations are masked), the
#: fires that make a core, how many are listed.
CLUSTER_EPS_M: float = 150.0
CLUSTER_MIN_SAMPLES: int = 5
CLUSTER_TOP: int = 10
CLUSTER_GROUP = "deliberate-secondary-fires"


@dataclass(frozen=True)
class FireSummary:
    """Fires by ward and month (a Total column and a Total row), how the ward was found, the
    total (None when a month is not covered), the locations' precision and every warning."""

    ward_month: pd.DataFrame
    how: str
    total: int | None
    precision_m: float | None
    precision_note: str | None
    warnings: list[str] = field(default_factory=list)


def precision(incidents: gpd.GeoDataFrame) -> tuple[float | None, str | None]:
    """The coarsest precision of the fire locations (metres; None when exact) and the sentence
    saying they are masked (None when they are not)."""
    fires = incidents[incidents["kind"].astype(str) == "fire"]
    return core_fires.precision_m(fires), core_fires.precision_note(fires)


def _in_place(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None, within):
    """(the fires of the place `within` and its wards, the months the whole load's fire data
    cover), or the inputs and None for no `within` (`places.within_place`)."""
    if not within:
        return incidents, wards, None
    from hotspot_app.core import periods
    from hotspot_app.questions import places

    inside, chosen = places.within_place(incidents, wards, within)
    fires = incidents[incidents["kind"].astype(str) == "fire"] if "kind" in incidents.columns else incidents
    return inside, chosen, periods.Coverage.of(fires)


def fire_summary(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None = None, *,
                 category: str | tuple[str, ...] = GROUPS[0], months, within=None) -> FireSummary:
    """The fire summary of `category` (one of `GROUPS`, or any selection) over `months`; with
    `within` (``LAD24NM=Hartlepool``, ward names) the place's fires and wards, months judged
    covered on the whole load."""
    incidents, wards, covered = _in_place(incidents, wards, within)
    table, how, warnings = core_fires.ward_month_table(
        incidents, wards=wards if wards is not None and len(wards) else None,
        category=[category] if isinstance(category, str) else list(category), months=list(months),
        coverage=covered)
    total_row = table[table["ward"] == "Total"]
    total = (int(total_row["Total"].iloc[0]) if len(total_row) and pd.notna(total_row["Total"].iloc[0])
             else None)
    if table[[m for m in months if m in table.columns]].isna().any().any():
        total = None  # a month not covered: the total is not known
    p, note = precision(incidents)
    return FireSummary(table, how, total, p, note, list(warnings))


def cluster_defaults(incidents: gpd.GeoDataFrame) -> dict:
    """The secondary-fire clusters' settings when nobody chose: eps never finer than the
    locations' precision, `CLUSTER_MIN_SAMPLES`, `CLUSTER_TOP`."""
    p, _ = precision(incidents)
    return {"eps_m": max(CLUSTER_EPS_M, float(p or 0.0)), "min_samples": CLUSTER_MIN_SAMPLES,
            "top": CLUSTER_TOP}


def _ward_word(name: str) -> str:
    """'ABBEY' -> 'Abbey ward' (fire extracts often write ward names in capitals)."""
    text = str(name).strip()
    text = text.title() if text.isupper() else text
    return text if text.lower().endswith("ward") else f"{text} ward"


def _named_by_file_ward(found: PatrolAreas, incidents: gpd.GeoDataFrame) -> PatrolAreas:
    """Clusters without a location text named by the file's own ward column (the ward most of
    the cluster's fires carry) and their grid reference: 'Near ST 7500 6500 — Abbey ward'."""
    col = core_fires.file_ward_column(incidents)
    areas = found.areas
    if col is None or not len(areas) or areas["location_text"].notna().any():
        return found
    import shapely

    from hotspot_app.core import cluster_areas

    fires_ = incidents[taxonomy.select(incidents, [CLUSTER_GROUP])]
    fires_ = fires_[fires_[col].astype(str).str.strip().ne("")]
    tree = shapely.STRtree(fires_.geometry.values)
    wards = []
    for geom in areas.geometry.values:
        hit = tree.query(geom, predicate="intersects")
        values = fires_[col].iloc[hit].astype(str).str.strip()
        wards.append(_ward_word(values.mode().iloc[0]) if len(values) else None)
    names = [cluster_areas.patrol_name(None, w, int(r), g)
             for w, r, g in zip(wards, areas["rank"], areas["grid_ref"])]
    renamed = areas.assign(area_name=wards,
                           name=cluster_areas.unique_names(names, list(areas["grid_ref"]), areas["rank"]))
    return dataclasses.replace(found, areas=renamed)


def secondary_fire_clusters(incidents: gpd.GeoDataFrame, *, period, eps_m: float | None = None,
                            min_samples: int | None = None, top: int | None = None,
                            wards: gpd.GeoDataFrame | None = None) -> PatrolAreas:
    """Clusters of deliberate secondary fires (the patrol-areas question on that group) with the
    fire defaults of `cluster_defaults` for whatever is left out. Named by the ward boundaries
    loaded (`wards`), else by the file's own ward column, and the grid reference where the fires
    carry no location text."""
    d = cluster_defaults(incidents)
    found = patrol_areas(incidents, category=[CLUSTER_GROUP], period=period,
                         eps_m=d["eps_m"] if eps_m is None else eps_m,
                         min_samples=d["min_samples"] if min_samples is None else min_samples,
                         top=d["top"] if top is None else top,
                         areas=wards if wards is not None and len(wards) else None)
    if wards is None or not len(wards):
        found = _named_by_file_ward(found, incidents)
    return found


def per_ha_meaningful(precision_m: float | None) -> bool:
    """Whether 'fires per hectare' of a cluster means anything: not when locations are masked
    (a cluster's size then comes from the masking grid, not from where fires happen)."""
    return precision_m is None or precision_m < core_fires.MASKED_M


def seasonal(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None = None, *,
             category: str | tuple[str, ...] = GROUPS[0], months=None,
             season=core_fires.BONFIRE_MONTHS, within=None) -> core_fires.Seasonal:
    """Is the season (months of the year; default the bonfire period October-November) busier
    than the rest of the year? Per month, per ward (the wards loaded, or the file's own ward
    column, as `fire_summary`) and overall, with the rate ratio and its 95% interval
    (`fire_summary.seasonal_comparison`). `months`: YYYY-MM list (default every month of the
    selection). `within`: the place's fires and wards (as `fire_summary`). The ward table's
    warnings come first."""
    incidents, wards, covered = _in_place(incidents, wards, within)
    cats = [category] if isinstance(category, str) else list(category)
    table, how, warnings = core_fires.ward_month_table(
        incidents, wards=wards if wards is not None and len(wards) else None, category=cats,
        months=list(months) if months is not None else None, coverage=covered)
    answer = core_fires.seasonal_comparison(table, season)
    return dataclasses.replace(answer, warnings=list(dict.fromkeys([*warnings, *answer.warnings])))
