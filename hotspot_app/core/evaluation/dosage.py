"""Patrol hours against incident counts per area and week (or month): the delivered-dosage
correlation read from a patrol log (`patrol.read_patrol_log`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import geopandas as gpd
import pandas as pd

from hotspot_app.core import areas as _areas
from hotspot_app.core import taxonomy
from hotspot_app.core.errors import InputError


# --------------------------------------------------------------------------- patrol dosage
@dataclass(frozen=True)
class Dosage:
    """Patrol hours against incident counts per area and period (week or month)."""

    table: pd.DataFrame  # area, period, hours, count
    rho: float | None    # Spearman correlation of hours and count
    p_value: float | None
    unit: str            # "week" or "month"

    def text(self) -> str:
        if self.rho is None:
            return "Not enough patrol-log periods to relate patrol hours to incidents."
        direction = "fewer" if self.rho < 0 else "more"
        return (f"Spearman correlation of patrol hours and incidents per {self.unit}: "
                f"{self.rho:.2f} (p = {self.p_value:.3g}, {len(self.table)} area-{self.unit}s); "
                f"{'weeks' if self.unit == 'week' else 'months'} with more patrol hours had {direction} "
                "incidents. Correlation is not proof of cause.")



def patrol_log(df: pd.DataFrame) -> pd.DataFrame:
    """A patrol log (columns area, week start, hours; names case-insensitive) as columns area
    (str), week_start (Timestamp), hours (float), one row per area and date. Read by the one
    patrol-log reader, `patrol.read_patrol_log` (its column vocabulary; errors name the row and
    column); hours are required here."""
    from hotspot_app.core import patrol

    log = patrol.read_patrol_log(df)
    v = log.visits
    if v["minutes"].isna().any():
        first = v[v["minutes"].isna()].iloc[0]
        raise InputError(f"patrol log has no hours for '{first['area']}' on "
                         f"{pd.Timestamp(first['date']):%Y-%m-%d} (columns: "
                         f"{', '.join(map(str, df.columns))})", column="hours")
    return pd.DataFrame({"area": v["area"].astype(str).to_numpy(), "week_start": v["date"].to_numpy(),
                         "hours": (v["minutes"].astype(float) / 60.0).to_numpy()})



def dosage(log: pd.DataFrame, incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
           category: str | Sequence[str] | None = None) -> Dosage:
    """Relate patrol hours to incident counts in the patrolled areas.

    `log` is a patrol log (see `patrol_log`); its ``area`` matches `areas` by name or area_id.
    Weekly (Monday-start weeks containing the logged week start) when the selected incidents
    have dates, otherwise monthly (hours summed per month; police.uk data have months only).
    Returns the table and the Spearman correlation of hours and counts.
    """
    from scipy import stats

    log = patrol_log(log)
    sel = incidents[taxonomy.select(incidents, category)]
    key = {str(v).strip().lower(): str(aid) for aid, v in zip(areas["area_id"], areas["name"])}
    key.update({str(a).strip().lower(): str(a) for a in areas["area_id"]})
    log["area_id"] = log["area"].str.lower().map(key)
    unknown = log.loc[log["area_id"].isna(), "area"]
    if len(unknown):
        raise InputError(f"patrol log area '{unknown.iloc[0]}' is not among the areas", column="area")
    labels = _areas.join(sel, areas)
    weekly = len(sel) > 0 and sel["occurred"].notna().all()
    if weekly:
        period = sel["occurred"].dt.to_period("W-SUN").dt.start_time
        log["period"] = log["week_start"].dt.to_period("W-SUN").dt.start_time
        unit = "week"
    else:
        period = sel["month"].astype(object)
        log["period"] = log["week_start"].dt.strftime("%Y-%m")
        unit = "month"
    counted = pd.DataFrame({"area_id": labels.to_numpy(), "period": period.to_numpy()})
    per = counted.groupby(["area_id", "period"]).size()
    table = log.groupby(["area_id", "period"], as_index=False)["hours"].sum()
    table["count"] = [int(per.get((a, p), 0)) for a, p in zip(table["area_id"], table["period"])]
    names = dict(zip(areas["area_id"].astype(str), areas["name"].astype(str)))
    table.insert(0, "area", table["area_id"].map(names))
    rho = p = None
    if len(table) >= 3 and table["hours"].nunique() > 1 and table["count"].nunique() > 1:
        res = stats.spearmanr(table["hours"], table["count"])
        rho, p = float(res.statistic), float(res.pvalue)
    return Dosage(table=table, rho=rho, p_value=p, unit=unit)
