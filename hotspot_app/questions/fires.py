"""Where are the deliberate fires? The fire-summary question (docs/design.md §4 deliberate fires,
§7 masked fire coordinates): how precise the locations are, fires by ward and month (the wards
loaded, or the file's own ward column), the total, and the clusters of deliberate secondary fires
-- the Fires page's figures, the same a CLI table or ranking of the same fires gives.

Decided here: the fire groups offered (`GROUPS`), and the secondary-fire clusters' defaults --
never finer than the locations' precision (`CLUSTER_EPS_M` at least), `CLUSTER_MIN_SAMPLES`
fires, the top `CLUSTER_TOP` listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from hotspot_app.core import fire_summary as core_fires
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


def fire_summary(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None = None, *,
                 category: str | tuple[str, ...] = GROUPS[0], months) -> FireSummary:
    """The fire summary of `category` (one of `GROUPS`, or any selection) over `months`."""
    table, how, warnings = core_fires.ward_month_table(
        incidents, wards=wards if wards is not None and len(wards) else None,
        category=[category] if isinstance(category, str) else list(category), months=list(months))
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


def secondary_fire_clusters(incidents: gpd.GeoDataFrame, *, period, eps_m: float | None = None,
                            min_samples: int | None = None, top: int | None = None) -> PatrolAreas:
    """Clusters of deliberate secondary fires (the patrol-areas question on that group) with the
    fire defaults of `cluster_defaults` for whatever is left out."""
    d = cluster_defaults(incidents)
    return patrol_areas(incidents, category=[CLUSTER_GROUP], period=period,
                        eps_m=d["eps_m"] if eps_m is None else eps_m,
                        min_samples=d["min_samples"] if min_samples is None else min_samples,
                        top=d["top"] if top is None else top)
