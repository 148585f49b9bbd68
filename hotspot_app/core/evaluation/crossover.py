"""Patrol days against comparison days (the crossover design), the next-day carry-over and the
dose-response of delivered minutes.

What is compared
----------------
A patrol plan (`patrol.make_plan`) gives each area patrol days and comparison days, drawn at
random within each weekday (the design of the Home Office's Grip evaluation). Incidents in an
area on its patrol days are compared with incidents in the same area on its comparison days:
the same place, the same weeks, the only systematic difference being the plan. Because the days
were randomised, the contrast is a fair estimate of the patrols' same-day effect (intention to
treat: the plan's days, whatever was delivered).

The models (statsmodels GLM, Poisson family, one row per area and day)
----------------------------------------------------------------------
* **Patrol days**: log E[incidents] = area + weekday + b * patrol day; rate ratio = exp(b),
  e.g. 0.70 = 30% fewer incidents on patrol days than on comparison days.
* **Carry-over**: the same with a term for "the day before was a patrol day in this area":
  exp(that term) compares days straight after a patrol day with days after a comparison day.
  Yesterday's plan is randomised too, so it does not bias the patrol-day contrast.
* **Dose-response** (with a patrol log): log E[incidents] = area + weekday + d * minutes/15
  on the days with recorded minutes (comparison days count as 0 minutes): exp(d) is the rate
  ratio per extra 15 minutes delivered (the Koper-curve visit length). Delivered minutes are not
  randomised (a busy day can cut a visit short), so this is an association, not proof of cause.

Overdispersion: the Pearson chi-square over its degrees of freedom scales the standard errors
when above 1 (quasi-Poisson, t intervals), as in the evaluation's count model. Each interval is
a 95% interval; p values are two-sided.

With monthly data (police.uk publishes the month of each incident, not the day) none of this
can be estimated: the result carries ``reason`` and no figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import patrol, settings, taxonomy, when
from hotspot_app.core.errors import InputError

__all__ = ["MONTHLY_REASON", "DOSE_MINUTES", "RateRatio", "Crossover", "crossover"]

#: Why a crossover cannot be estimated from month-only data.
MONTHLY_REASON = ("The incidents have months only (police.uk publishes the month of each "
                  "incident, not the day), so incidents on patrol days cannot be told from "
                  "incidents on comparison days: the crossover comparison, the next-day "
                  "carry-over and the dose-response need incident data with dates, such as a "
                  "force or fire-service extract.")
#: The dose-response is per this many minutes delivered (a Koper-curve visit).
DOSE_MINUTES: int = 15
_BANDS = ((0, 0, "none"), (1, 15, "1-15 minutes"), (16, 30, "16-30 minutes"), (31, None, "over 30 minutes"))


@dataclass(frozen=True)
class RateRatio:
    """A rate ratio with its 95% interval, two-sided p value and the model (``poisson`` or
    ``quasi-poisson``)."""

    rate_ratio: float
    ci95: tuple[float, float]
    p_value: float
    model: str

    def to_dict(self) -> dict:
        return {"rate_ratio": round(self.rate_ratio, 4),
                "ci95": [round(self.ci95[0], 4), round(self.ci95[1], 4)],
                "p_value": float(f"{self.p_value:.4g}"), "model": self.model}


@dataclass
class Crossover:
    """Patrol days against comparison days (module docstring).

    ``effect``: patrol days vs comparison days; ``carryover``: the day after a patrol day vs the
    day after a comparison day; ``dose``: per `DOSE_MINUTES` minutes delivered (None without a
    patrol log with minutes); ``days``: one row per area and day (area, date, day_type, count,
    minutes); ``dose_table``: days, incidents and incidents per day by delivered-minutes band;
    ``reason``: why nothing could be estimated (monthly data), else None."""

    patrol_days: int
    comparison_days: int
    incidents_patrol_days: int | None
    incidents_comparison_days: int | None
    effect: RateRatio | None
    carryover: RateRatio | None
    dose: RateRatio | None
    days: pd.DataFrame
    dose_table: pd.DataFrame | None
    reason: str | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"patrol_days": self.patrol_days, "comparison_days": self.comparison_days,
                "incidents_patrol_days": self.incidents_patrol_days,
                "incidents_comparison_days": self.incidents_comparison_days,
                "effect": self.effect.to_dict() if self.effect else None,
                "carryover": self.carryover.to_dict() if self.carryover else None,
                "dose": ({**self.dose.to_dict(), "per_minutes": DOSE_MINUTES} if self.dose else None),
                "reason": self.reason, "warnings": list(self.warnings)}


def _key(value: Any) -> str:
    return " ".join(str(value).strip().lower().split())


def _area_polygons(areas: Any, schedule: pd.DataFrame) -> dict[str, BaseGeometry]:
    """schedule area label -> polygon. `areas` is one polygon (the schedule then needs no area
    column, or a single area) or areas with ``name`` (and ``area_id``) matching the schedule."""
    labels = (schedule["area"].astype(str).unique().tolist() if "area" in schedule.columns else ["area"])
    if isinstance(areas, BaseGeometry):
        if len(labels) != 1:
            raise InputError("the schedule names several areas; give their polygons as areas with "
                             "a name column", parameter="areas")
        return {labels[0]: areas}
    if not isinstance(areas, gpd.GeoDataFrame) or len(areas) == 0:
        raise InputError("areas must be a polygon or areas (GeoDataFrame) with names", parameter="areas")
    if areas.crs is not None and not areas.crs.equals(settings.CRS):
        areas = areas.to_crs(settings.CRS)
    lookup: dict[str, BaseGeometry] = {}
    for col in ("area_id", "name", "rank"):
        if col in areas.columns:
            for value, geom in zip(areas[col], areas.geometry):
                lookup.setdefault(_key(value), geom)
    out = {}
    for label in labels:
        if _key(label) not in lookup:
            if len(areas) == 1 and len(labels) == 1:
                return {label: areas.geometry.iloc[0]}
            raise InputError(f"schedule area '{label}' is not among the areas given", column="area")
        out[label] = lookup[_key(label)]
    return out


def _fit(frame: pd.DataFrame, terms: list[str]) -> dict[str, RateRatio] | None:
    """Poisson GLM of count on area and weekday levels plus `terms`; quasi-Poisson scaling when
    the Pearson dispersion exceeds 1. Rate ratios of `terms`; None when it cannot be fitted."""
    from scipy import stats
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    # areas and weekdays without a single incident carry no information on the terms and would
    # send their levels to minus infinity (perfect separation): they are left out
    counts = frame["count"].astype(float)
    frame = frame[counts.groupby(frame["area"].astype(str)).transform("sum").to_numpy() > 0]
    frame = frame[frame["count"].astype(float).groupby(frame["weekday"]).transform("sum").to_numpy() > 0]
    if frame.empty:
        return None
    area = pd.get_dummies(frame["area"].astype(str), prefix="a", drop_first=True, dtype=float)
    weekday = pd.get_dummies(frame["weekday"], prefix="w", drop_first=True, dtype=float)
    X = pd.concat([pd.Series(1.0, index=frame.index, name="const"), area, weekday,
                   frame[terms].astype(float)], axis=1)
    y = frame["count"].astype(float)
    if y.sum() <= 0 or any(frame[t].nunique() < 2 for t in terms):
        return None
    if len(X) <= X.shape[1] or np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        return None  # fewer days than the levels and terms to estimate
    result = GLM(y.to_numpy(), X.to_numpy(), family=families.Poisson()).fit(maxiter=100)
    dfree = int(result.df_resid)
    disp = float(result.pearson_chi2 / dfree) if dfree > 0 else 1.0
    quasi = dfree > 0 and disp > 1.0
    q = float(stats.t.ppf(0.975, dfree)) if quasi else float(stats.norm.ppf(0.975))
    out = {}
    for i, name in enumerate(terms, start=X.shape[1] - len(terms)):
        b, se = float(result.params[i]), float(result.bse[i])
        if quasi:
            se *= math.sqrt(disp)
        if not (math.isfinite(b) and math.isfinite(se) and se > 0):
            return None
        p = float(2 * (stats.t.sf(abs(b / se), dfree) if quasi else stats.norm.sf(abs(b / se))))
        out[name] = RateRatio(math.exp(b), (math.exp(b - q * se), math.exp(b + q * se)), p,
                              "quasi-poisson" if quasi else "poisson")
    return out


def crossover(incidents: gpd.GeoDataFrame, areas: Any, schedule: pd.DataFrame, *,
              category: Any = None, log: Any = None) -> Crossover:
    """Patrol days against comparison days in the planned areas (module docstring).

    incidents : canonical incidents (EPSG:27700) with ``occurred`` dates.
    areas : the patrolled polygon, or areas whose ``name`` (or ``area_id`` / ``rank``) match
        the schedule's ``area`` column.
    schedule : the plan's days: columns date, day_type (``patrol`` | ``comparison``) and, for
        several areas, area (a `patrol.PatrolPlan.schedule` fits).
    category : the incidents counted (`taxonomy.select`; None = all).
    log : a patrol log (`patrol.read_patrol_log`'s input or its `PatrolLog`) with minutes,
        for the dose-response.
    """
    for col in ("date", "day_type"):
        if col not in schedule.columns:
            raise InputError(f"the schedule needs a '{col}' column", column=col)
    sched = schedule.copy()
    sched["date"] = pd.to_datetime(sched["date"], errors="coerce").dt.normalize()
    if sched["date"].isna().any():
        bad = int(np.flatnonzero(sched["date"].isna().to_numpy())[0])
        raise InputError(f"'{schedule['date'].iloc[bad]}' is not a date", row=bad + 1, column="date")
    sched["day_type"] = sched["day_type"].astype(str).str.strip().str.lower()
    wrong = ~sched["day_type"].isin(["patrol", "comparison"])
    if wrong.any():
        bad = int(np.flatnonzero(wrong.to_numpy())[0])
        raise InputError(f"day type '{schedule['day_type'].iloc[bad]}' is not patrol or comparison",
                         row=bad + 1, column="day_type")
    if "area" not in sched.columns:
        sched["area"] = "area"
    sched["area"] = sched["area"].astype(str)
    sched = sched.drop_duplicates(["area", "date"]).sort_values(["area", "date"]).reset_index(drop=True)
    polygons = _area_polygons(areas, sched)
    n_p = int((sched["day_type"] == "patrol").sum())
    n_c = int((sched["day_type"] == "comparison").sum())

    selected = incidents[taxonomy.select(incidents, category).to_numpy()]
    detail = when.time_detail(selected)
    empty = Crossover(n_p, n_c, None, None, None, None, None, sched.assign(count=pd.NA), None, None)
    if not detail.has_dates:
        empty.reason = MONTHLY_REASON
        return empty
    warnings: list[str] = []
    if detail.timed < detail.total:
        warnings.append(f"{detail.total - detail.timed:,} incidents without a date are not counted.")
    occ = pd.to_datetime(selected["occurred"], errors="coerce")
    if getattr(occ.dt, "tz", None) is not None:
        occ = occ.dt.tz_convert("Europe/London").dt.tz_localize(None)
    dated = selected[occ.notna().to_numpy()]
    day = occ[occ.notna()].dt.normalize().to_numpy()
    xy = shapely.get_coordinates(dated.geometry.values)
    counts = []
    for label, geom in polygons.items():
        shapely.prepare(geom)
        inside = shapely.intersects_xy(geom, xy[:, 0], xy[:, 1]) if len(xy) else np.zeros(0, dtype=bool)
        per_day = pd.Series(day[inside]).value_counts()
        rows = sched[sched["area"] == label]
        counts.append(pd.Series(rows["date"].map(per_day).fillna(0).astype(int).to_numpy(), index=rows.index))
    sched["count"] = pd.concat(counts).sort_index()
    sched["weekday"] = sched["date"].dt.day_of_week
    sched["patrol"] = (sched["day_type"] == "patrol").astype(int)
    prev = sched[["area", "date", "patrol"]].assign(date=sched["date"] + pd.Timedelta(days=1))
    sched = sched.merge(prev.rename(columns={"patrol": "after_patrol"}), on=["area", "date"], how="left")
    sched["after_patrol"] = sched["after_patrol"].fillna(0).astype(int)  # no patrols before the plan

    ip = int(sched.loc[sched["patrol"] == 1, "count"].sum())
    ic = int(sched.loc[sched["patrol"] == 0, "count"].sum())
    effect = carry = dose = None
    if n_p and n_c:
        fitted = _fit(sched, ["patrol"])
        effect = fitted["patrol"] if fitted else None
        fitted = _fit(sched, ["patrol", "after_patrol"])
        carry = fitted["after_patrol"] if fitted else None
    else:
        warnings.append("The plan has no " + ("comparison" if not n_c else "patrol") +
                        " days, so patrol days cannot be compared with comparison days.")
    if effect is None and n_p and n_c:
        warnings.append("Too few incidents on the plan's days to estimate the patrol-day effect.")

    dose_table = None
    sched["minutes"] = np.where(sched["patrol"] == 0, 0.0, np.nan)
    if log is not None:
        plog = log if isinstance(log, patrol.PatrolLog) else patrol.read_patrol_log(log)
        v = plog.visits.copy()
        v["key"] = v["area"].map(_key)
        names = {_key(a): a for a in sched["area"].unique()}
        v["area"] = v["key"].map(names)
        unknown = v[v["area"].isna()]
        if len(unknown):
            raise InputError(f"patrol log area '{plog.visits['area'].iloc[unknown.index[0]]}' is not "
                             "in the schedule", file=plog.file, column="area")
        v["date"] = pd.to_datetime(v["date"]).dt.normalize()
        v["minutes"] = pd.to_numeric(v["minutes"], errors="coerce").astype(float)
        logged = v.groupby(["area", "date"], as_index=False)["minutes"].sum(min_count=1)
        sched = sched.merge(logged.rename(columns={"minutes": "logged"}), on=["area", "date"], how="left")
        sched["minutes"] = sched["logged"].where(sched["logged"].notna(), sched["minutes"])
        sched = sched.drop(columns="logged")
        known = sched[sched["minutes"].notna()].copy()
        missing = int(sched["minutes"].isna().sum())
        if missing:
            warnings.append(f"{missing} patrol day(s) have no minutes recorded and are left out of "
                            "the dose-response.")
        known["dose"] = known["minutes"] / DOSE_MINUTES
        if known["dose"].nunique() > 1:
            fitted = _fit(known, ["dose"])
            dose = fitted["dose"] if fitted else None
        rows = []
        for lo, hi, label in _BANDS:
            m = known["minutes"]
            sel = (m >= lo) & ((m <= hi) if hi is not None else True)
            if lo == 0:
                sel = m == 0
            n_days, n_inc = int(sel.sum()), int(known.loc[sel, "count"].sum())
            rows.append({"minutes": label, "days": n_days, "incidents": n_inc,
                         "per_day": round(n_inc / n_days, 3) if n_days else None})
        dose_table = pd.DataFrame(rows)
    days = sched[["area", "date", "day_type", "count", "minutes"]].copy()
    return Crossover(n_p, n_c, ip, ic, effect, carry, dose, days, dose_table, None, warnings)
