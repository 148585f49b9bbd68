"""Patrol plans people can act on: presets, the chosen areas, a randomised daily schedule with
comparison days, the one-page patrol sheet, and the patrol log read back as delivered dosage.

Evidence the defaults follow
----------------------------
* **Koper curve** (Koper 1995; College of Policing hot spots guidance): visits of about 10–15
  minutes, repeated at irregular, unpredictable times, are the evidence-based dose. Default 15
  minutes (`KOPER_MINUTES`), 2 visits per patrol day, at random times inside the patrol hours.
* **Comparison days** (the crossover design of the Home Office's Grip evaluation): each area
  has patrol days and non-patrol ("comparison") days, chosen at random, so incidents on patrol
  days can be compared with the same place on days without the patrol. Days are randomised
  within each weekday (a 28-day plan gives each area 2 patrol and 2 comparison Mondays, ...), so
  weekday patterns cannot masquerade as a patrol effect.

The schedule is seeded (`seed`): the same areas, start, days and seed give the same schedule.

Patrol areas come from `clusters.dbscan` (``.areas``). This module reads the columns of the
patrol-areas contract (rank, cluster_id, name, location_text, area_name, count, weight,
area_m2, area_ha, incidents_per_ha, centroid_easting, centroid_northing, longitude, latitude,
grid_ref, first_month, last_month, top_categories, walkable, geometry) and fills any that an
older clusters result lacks from what it has (`contract_columns`), never overwriting.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import cluster_areas, locations, measures, params, settings, when
from hotspot_app.core.errors import InputError

__all__ = [
    "Preset", "PRESETS", "DEFAULT_PRESET", "cluster_parameters", "KOPER_MINUTES",
    "contract_columns", "display_table", "PatrolPlan", "make_plan", "PatrolLog", "read_patrol_log",
    "delivered_dosage", "outside_plan", "plan_area_lookup", "DOSAGE_HEADINGS", "TEAMS", "TRAVEL",
    "TRAVEL_M_PER_MIN", "travel_minutes", "schedule_conflicts", "patrol_day_comparison", "log_report",
]

#: Minutes per visit by default (Koper curve: 10–15 minutes).
KOPER_MINUTES: int = 15
#: Default plan: visits per patrol day, days, share of comparison days, patrol hours.
VISITS_PER_DAY: int = 2
DAYS: int = 28
COMPARISON_SHARE: float = 0.5
HOURS: tuple[int, int] = (10, 22)
#: Teams by default: one team visits every area.
TEAMS: int = 1
#: Travel between areas: metres per minute at each speed (walking 4.8 km/h; driving 24 km/h, an
#: urban average with stops), applied to the straight-line distance between the areas' centres
#: times `ROUTE_FACTOR` (streets are not straight lines).
TRAVEL_M_PER_MIN: dict[str, float] = {"walking": 80.0, "driving": 400.0}
TRAVEL: str = "driving"
ROUTE_FACTOR: float = 1.3
#: The sheet fits one A4 page up to this many days and areas.
SHEET_MAX_DAYS, SHEET_MAX_AREAS = 31, 8


@dataclass(frozen=True)
class Preset:
    """Named DBSCAN settings in plain words (eps in metres, min samples in incidents)."""

    name: str
    eps_m: float
    min_samples: int
    text: str


#: "street-level" is the default: walkable areas of a street or two. Measured on Cleveland ASB
#: 2024 (16,309 incidents): 89 areas, the top 5 between 0.4 and 2 ha.
PRESETS: dict[str, Preset] = {
    "street-level": Preset("street-level", 75.0, 25,
                           "a street or two: incidents within 75 m, at least 25 of them"),
    "neighbourhood": Preset("neighbourhood", 150.0, 60,
                            "a few streets: incidents within 150 m, at least 60 of them "
                            "(areas can exceed a walkable size)"),
}


#: The preset used when none is chosen (the patrol plan, the app's first view).
DEFAULT_PRESET: str = "street-level"


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise InputError(f"unknown preset '{name}'; use {' or '.join(PRESETS)}", parameter="preset")
    return PRESETS[name]


# --------------------------------------------------------------------------- areas
def contract_columns(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of patrol areas with every contract column present: columns the clusters result
    already has are kept as they are; missing ones are derived (sizes from the polygon, the
    centroid as the polygon's representative point, the grid reference, ``walkable`` =
    area <= `settings.WALKABLE_MAX_M2`); ``location_text``/``area_name`` stay null when unknown."""
    out = areas.copy()
    n = len(out)
    if "rank" not in out.columns:
        out["rank"] = np.arange(1, n + 1)
    if "cluster_id" not in out.columns:
        out["cluster_id"] = out["rank"]
    if "name" not in out.columns:
        out["name"] = [f"Patrol area {int(r)}" for r in out["rank"]]
    for col in ("location_text", "area_name"):
        if col not in out.columns:
            out[col] = pd.Series([None] * n, index=out.index, dtype=object)
    if "area_m2" not in out.columns:
        out["area_m2"] = out.geometry.area
    if "area_ha" not in out.columns:
        out["area_ha"] = out["area_m2"].astype(float) / 10_000.0
    if "incidents_per_ha" not in out.columns:
        out["incidents_per_ha"] = out["count"].astype(float) / out["area_ha"].where(out["area_ha"] > 0)
    if "weight" not in out.columns:
        out["weight"] = out["weighted_count"] if "weighted_count" in out.columns else out["count"].astype(float)
    if "centroid_easting" not in out.columns or "centroid_northing" not in out.columns:
        pts = out.geometry.representative_point()
        out["centroid_easting"], out["centroid_northing"] = pts.x.to_numpy(), pts.y.to_numpy()
    if "longitude" not in out.columns or "latitude" not in out.columns:
        ll = gpd.GeoSeries(gpd.points_from_xy(out["centroid_easting"], out["centroid_northing"]),
                           crs=out.crs or settings.CRS).to_crs(settings.CRS_WGS84)
        out["longitude"], out["latitude"] = ll.x.round(6).to_numpy(), ll.y.round(6).to_numpy()
    if "grid_ref" not in out.columns:
        out["grid_ref"] = [locations.grid_ref(e, nn) for e, nn in zip(out["centroid_easting"], out["centroid_northing"])]
    if "walkable" not in out.columns:
        out["walkable"] = out["area_m2"].astype(float) <= settings.WALKABLE_MAX_M2
    return out


#: Display labels of the readable patrol-area table (column -> heading), in order.
DISPLAY = {"rank": "Rank", "name": "Name", "area_name": "Area", "count": "Incidents",
           "weight": "Harm weight", "area_m2": "Size (m²)", "area_ha": "Size (ha)",
           "incidents_per_ha": "Incidents per ha", "grid_ref": "Grid ref", "latitude": "Latitude",
           "longitude": "Longitude", "walkable": "Walkable", "first_month": "First month",
           "last_month": "Last month", "top_categories": "Top categories"}


def display_table(areas: gpd.GeoDataFrame, weighted: bool = False, per_ha: bool = True) -> pd.DataFrame:
    """The patrol areas as a readable table (no geometry): sizes rounded (m² whole, ha 2
    decimals, per ha 2 decimals), top categories as text; ``weight`` only when `weighted`;
    incidents per ha only when `per_ha` (not for masked locations); area_name/grid_ref left out
    when empty."""
    a = contract_columns(areas)
    cols = [c for c in DISPLAY if c in a.columns and (weighted or c != "weight")
            and (per_ha or c != "incidents_per_ha")]
    out = pd.DataFrame(a[cols]).reset_index(drop=True)
    out["area_m2"] = out["area_m2"].astype(float).round(0).astype("Int64")
    out["area_ha"] = out["area_ha"].astype(float).round(2)
    if "incidents_per_ha" in out.columns:
        out["incidents_per_ha"] = out["incidents_per_ha"].astype(float).round(2)
    for col in ("area_name", "grid_ref"):  # show what exists: no empty column
        if col in out.columns and out[col].isna().all():
            out = out.drop(columns=col)
    if "top_categories" in out.columns:
        out["top_categories"] = out["top_categories"].map(cluster_areas.top_categories_text)  # JSON (older) or text
    return out


# --------------------------------------------------------------------------- the plan
@dataclass
class PatrolPlan:
    """A patrol plan: the chosen areas and one schedule row per (date, area).

    ``schedule`` columns: date (YYYY-MM-DD), weekday, team (1..teams), rank, area (the area's
    name), grid_ref, day_type (``patrol`` | ``comparison``), planned_visits, minutes_per_visit, planned_minutes,
    times (start times of the visits, ``"10:35, 17:20"``; empty on comparison days), and the
    officers' columns visits_done and minutes_done (empty: filled in and read back as the
    patrol log).
    """

    areas: gpd.GeoDataFrame
    schedule: pd.DataFrame
    start: str
    days: int
    visits_per_day: int
    minutes: int
    seed: int
    hours: tuple[int, int]
    comparison_share: float
    warnings: list[str] = field(default_factory=list)
    teams: int = 1
    travel: str = TRAVEL
    #: How the areas were found (eps_m, min_samples, category, from, to, ...), when known.
    parameters: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Per area (and its team): patrol days, comparison days, planned visits and minutes."""
        s = self.schedule
        g = s.groupby(["rank", "team", "area"] if "team" in s.columns else ["rank", "area"], sort=True)
        out = pd.DataFrame({
            "patrol_days": g["day_type"].apply(lambda d: int((d == "patrol").sum())),
            "comparison_days": g["day_type"].apply(lambda d: int((d == "comparison").sum())),
            "planned_visits": g["planned_visits"].sum().astype(int),
            "planned_minutes": g["planned_minutes"].sum().astype(int),
        }).reset_index()
        return out

    def to_dict(self) -> dict:
        a = contract_columns(self.areas)
        team_of = dict(zip(self.schedule["rank"].astype(int), self.schedule["team"].astype(int)))
        areas = [{"rank": int(r["rank"]), "name": str(r["name"]), "team": team_of.get(int(r["rank"])),
                  "grid_ref": r["grid_ref"],
                  "longitude": float(r["longitude"]), "latitude": float(r["latitude"]),
                  "count": int(r["count"]), "area_ha": round(float(r["area_ha"]), 2),
                  "walkable": bool(r["walkable"])} for _, r in a.iterrows()]
        summ = self.summary().set_index("rank")
        for item in areas:
            row = summ.loc[item["rank"]]
            item.update({k: int(row[k]) for k in ("patrol_days", "comparison_days", "planned_visits",
                                                  "planned_minutes")})
        return {"parameters": dict(self.parameters), "start": self.start, "days": self.days, "visits_per_day": self.visits_per_day,
                "minutes_per_visit": self.minutes, "seed": self.seed,
                "hours": f"{self.hours[0]:02d}:00-{self.hours[1]:02d}:00",
                "comparison_share": self.comparison_share, "teams": self.teams,
                "travel": self.travel, "conflicts": len(self.conflicts()), "areas": areas,
                "warnings": list(self.warnings)}

    def conflicts(self) -> list[dict]:
        """Pairs of visits of one team that start closer together than the first visit plus the
        travel to the second area (`travel_minutes`): none in a plan `make_plan` made. Each
        ``{"date", "team", "first", "second", "gap_minutes", "needed_minutes"}``."""
        return schedule_conflicts(self.schedule, self.areas, self.minutes, self.travel)


def _comparison_days(dates: pd.DatetimeIndex, n_comparison: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of comparison days: `n_comparison` of `dates`, spread over weekdays in
    proportion (each weekday gets floor(share × its days); the remainder goes to weekdays drawn
    at random), the days within a weekday drawn at random."""
    days = len(dates)
    share = n_comparison / days if days else 0.0
    mask = np.zeros(days, dtype=bool)
    strata = [np.flatnonzero(dates.day_of_week == d) for d in range(7)]
    quota = np.array([int(math.floor(len(s) * share + 1e-9)) for s in strata])
    rest = n_comparison - int(quota.sum())
    if rest > 0:
        frac = np.array([len(s) * share - q for s, q in zip(strata, quota)])
        eligible = np.flatnonzero((quota < np.array([len(s) for s in strata])) & (frac > 1e-9))
        if len(eligible) < rest:
            eligible = np.flatnonzero(quota < np.array([len(s) for s in strata]))
        quota[rng.choice(eligible, size=rest, replace=False)] += 1
    for s, q in zip(strata, quota):
        if q:
            mask[rng.choice(s, size=int(q), replace=False)] = True
    return mask


def travel_minutes(a_xy, b_xy, travel: str = TRAVEL) -> float:
    """Minutes to get from one area's centre to another's at `travel` speed
    (`TRAVEL_M_PER_MIN`), on streets `ROUTE_FACTOR` longer than the straight line."""
    d = math.hypot(float(a_xy[0]) - float(b_xy[0]), float(a_xy[1]) - float(b_xy[1]))
    return d * ROUTE_FACTOR / TRAVEL_M_PER_MIN[travel]


def _team_day(visits: list[list[int]], xy: dict[int, tuple[float, float]], minutes: int,
              hours: tuple[int, int], travel: str, rng: np.random.Generator) -> dict[int, list[int]]:
    """Start minutes of one team's visits on one day: ``visits[r]`` the areas (ranks) of round r.
    The patrol hours are cut into one part per round; inside its part a round's areas are
    visited in a random order, the free time spread at random between the visits (5-minute
    marks), each visit starting no earlier than the previous visit's end plus the travel to it.
    Returns rank -> its start minutes. `InputError` naming ``teams`` when a round does not fit."""
    lo, hi = hours[0] * 12, hours[1] * 12            # 5-minute units
    n_rounds = len(visits)
    bounds = [lo + ((hi - lo) * r) // n_rounds for r in range(n_rounds + 1)]
    dur = -(-minutes // 5)
    out: dict[int, list[int]] = {}
    prev = None
    for r, ranks in enumerate(visits):
        order = [ranks[i] for i in rng.permutation(len(ranks))]
        if prev is not None and len(order) > 1 and order[0] == prev:
            order[0], order[-1] = order[-1], order[0]
        legs = [math.ceil(travel_minutes(xy[a], xy[b], travel) / 5) if a is not None and a != b else 0
                for a, b in zip([prev, *order[:-1]], order)]
        need = len(order) * dur + sum(legs)
        slack = bounds[r + 1] - bounds[r] - need
        if slack < 0:
            h = (need * 5) / 60
            raise InputError(f"one team cannot fit {len(order)} visits of {minutes} minutes and the "
                             f"{travel} between the areas ({h:.1f} h) into "
                             f"{(bounds[r + 1] - bounds[r]) * 5 / 60:.1f} h of patrol hours; add a "
                             "team, plan fewer areas or visits, or give longer hours",
                             parameter="teams")
        cuts = np.sort(rng.integers(0, slack + 1, size=len(order)))
        gaps = np.diff(np.r_[0, cuts])
        t = bounds[r]
        for a, leg, gap in zip(order, legs, gaps):
            t += leg + int(gap)
            out.setdefault(a, []).append(t * 5)
            t += dur
        prev = order[-1]
    return out


def schedule_conflicts(schedule: pd.DataFrame, areas: gpd.GeoDataFrame, minutes: int,
                       travel: str = TRAVEL) -> list[dict]:
    """Visits of one team on one day that start less than the visit plus the travel between the
    two areas apart (see `PatrolPlan.conflicts`)."""
    a = contract_columns(areas)
    xy = {int(r): (e, n) for r, e, n in zip(a["rank"], a["centroid_easting"], a["centroid_northing"])}
    team = schedule["team"] if "team" in schedule.columns else pd.Series(1, index=schedule.index)
    out = []
    rows = schedule.assign(team=team)[schedule["times"].astype(str) != ""]
    for (date, tm), day in rows.groupby(["date", "team"], sort=True):
        visits = sorted((int(t[:2]) * 60 + int(t[3:]), int(r)) for r, times in zip(day["rank"], day["times"])
                        for t in str(times).split(", "))
        for (t1, r1), (t2, r2) in zip(visits, visits[1:]):
            need = minutes + (travel_minutes(xy[r1], xy[r2], travel) if r1 != r2 else 0)
            if t2 - t1 < need:
                out.append({"date": date, "team": int(tm), "first": r1, "second": r2,
                            "gap_minutes": t2 - t1, "needed_minutes": round(need, 1)})
    return out


def _every_day_patrolled(masks: np.ndarray, dates: pd.DatetimeIndex, rng: np.random.Generator) -> None:
    """Move comparison days (in place, per area, within a weekday, keeping each area's counts)
    so that no day has every area of the team on a comparison day, where that is possible."""
    if masks.shape[0] < 2:
        return
    wd = dates.day_of_week.to_numpy()
    for d in np.flatnonzero(masks.all(axis=0)):
        for a in rng.permutation(masks.shape[0]):
            # a day of the same weekday where area `a` patrols and another area patrols too
            swap = [e for e in np.flatnonzero((wd == wd[d]) & ~masks[a])
                    if (~masks[:, e]).sum() >= 2]
            swap = swap or [e for e in np.flatnonzero(~masks[a]) if (~masks[:, e]).sum() >= 2]
            if swap:
                e = swap[int(rng.integers(0, len(swap)))]
                masks[a, d], masks[a, e] = False, True
                break


def next_monday(today: dt.date | None = None) -> dt.date:
    """The default first day of a plan: the Monday after `today` (a week on, on a Monday)."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)


def make_plan(areas: gpd.GeoDataFrame, *, top: int | None = 5, visits_per_day: int = VISITS_PER_DAY,
              minutes: int = KOPER_MINUTES, days: int = DAYS, start: str | dt.date | None = None,
              seed: int = 1, hours: tuple[int, int] = HOURS,
              comparison_share: float = COMPARISON_SHARE, eps_m: float | None = None,
              teams: int = TEAMS, travel: str = TRAVEL) -> PatrolPlan:
    """A randomised daily patrol schedule for the `top` highest-ranked patrol areas.

    The plan's warnings include clusters' not-walkable warnings for the chosen areas (`eps_m`, the
    DBSCAN radius they came from, makes the advice name it).

    Each area gets exactly ``round(days × comparison_share)`` comparison days (no patrol) and
    the other days as patrol days, balanced across weekdays; each patrol day has
    `visits_per_day` visits of `minutes` minutes at random times within `hours` (start, end
    hour). `start` is the first day (default: next Monday). Same inputs and `seed` -> same plan.

    `teams` teams share the areas (area i, in rank order, goes to team ``(i mod teams) + 1``);
    a team's visits on a day never overlap and leave time to get from one area to the next at
    `travel` speed (``walking`` or ``driving``, `travel_minutes`): `PatrolPlan.conflicts` is
    empty. No day has all of a team's areas (two or more) on comparison days: comparison days
    are moved within their weekday where needed, so every day has patrol visits.
    """
    if areas is None or len(areas) == 0:
        raise InputError("no patrol areas to plan for: find patrol areas first (try the "
                         "street-level preset or a smaller min_samples)", parameter="areas")
    # the limits of the one parameter table (`params.CONSTRAINTS`); a plan's length is `days`
    table = {**params.CONSTRAINTS, "days": params.CONSTRAINTS["plan_days"]}
    params.validate(table, visits_per_day=visits_per_day, minutes=minutes, days=days, seed=seed,
                    comparison_share=comparison_share, **({"top": top} if top is not None else {}))
    visits_per_day, minutes, days, seed = int(visits_per_day), int(minutes), int(days), int(seed)
    if travel not in TRAVEL_M_PER_MIN:
        raise InputError(f"unknown travel '{travel}'; use {' or '.join(TRAVEL_M_PER_MIN)}",
                         parameter="travel")
    try:
        teams = int(teams)
    except (TypeError, ValueError):
        raise InputError(f"teams '{teams}' is not a whole number", parameter="teams") from None
    if not 1 <= teams <= 50:
        raise InputError(f"teams must be 1 to 50 (got {teams})", parameter="teams")
    h0, h1 = (int(hours[0]), int(hours[1]))
    if not (0 <= h0 < h1 <= 24):
        raise InputError(f"hours must be two hours 0-24, the first earlier (got {h0}-{h1})",
                         parameter="hours")
    if (h1 - h0) * 60 / visits_per_day < minutes:
        raise InputError(f"{visits_per_day} visits of {minutes} minutes do not fit in "
                         f"{h0:02d}:00-{h1:02d}:00; give fewer visits or longer hours",
                         parameter="visits_per_day")
    if start is None:
        start_d = next_monday()
    else:
        try:
            start_d = pd.Timestamp(start).date()
        except (ValueError, TypeError):
            raise InputError(f"start '{start}' is not a date (YYYY-MM-DD)", parameter="start") from None
    chosen = contract_columns(areas).sort_values("rank", kind="stable")
    if top is not None:
        chosen = chosen.head(top)
    chosen = chosen.reset_index(drop=True)
    dates = pd.date_range(start_d, periods=days, freq="D")
    n_comp = int(round(days * comparison_share))
    rng = np.random.default_rng(seed)
    ranks = chosen["rank"].astype(int).tolist()
    team_of = {r: i % teams + 1 for i, r in enumerate(ranks)}
    xy = {r: (e, n) for r, e, n in zip(ranks, chosen["centroid_easting"], chosen["centroid_northing"])}
    masks = np.array([_comparison_days(dates, n_comp, rng) for _ in ranks]).reshape(len(ranks), days)
    for t in range(1, teams + 1):
        rows_t = [i for i, r in enumerate(ranks) if team_of[r] == t]
        sub = masks[rows_t]
        _every_day_patrolled(sub, dates, rng)
        masks[rows_t] = sub
    times: dict[tuple[int, int], list[int]] = {}
    for k in range(days):
        for t in range(1, teams + 1):
            on = [r for i, r in enumerate(ranks) if team_of[r] == t and not masks[i, k]]
            if on:
                got = _team_day([on] * visits_per_day, xy, minutes, (h0, h1), travel, rng)
                times.update({(k, r): v for r, v in got.items()})
    rows = []
    for i, area in chosen.iterrows():
        r = int(area["rank"])
        for k, (day, is_comp) in enumerate(zip(dates, masks[i])):
            ts = sorted(times.get((k, r), []))
            rows.append({
                "date": day.strftime("%Y-%m-%d"), "weekday": day.strftime("%a"), "team": team_of[r],
                "rank": r, "area": str(area["name"]), "grid_ref": area["grid_ref"],
                "day_type": "comparison" if is_comp else "patrol",
                "planned_visits": 0 if is_comp else visits_per_day, "minutes_per_visit": minutes,
                "planned_minutes": 0 if is_comp else visits_per_day * minutes,
                "times": ", ".join(f"{t // 60:02d}:{t % 60:02d}" for t in ts),
                "visits_done": pd.NA, "minutes_done": pd.NA,
            })
    schedule = pd.DataFrame(rows)
    notes = []
    if n_comp == 0:
        notes.append("no comparison days: without days when the areas are not patrolled the "
                     "effect of the patrols cannot be estimated")
    from hotspot_app.core.clusters import walkable_warnings
    notes.extend(walkable_warnings(chosen, eps_m))
    if days > SHEET_MAX_DAYS or len(chosen) > SHEET_MAX_AREAS:
        notes.append(f"the patrol sheet fits one page for up to {SHEET_MAX_DAYS} days and "
                     f"{SHEET_MAX_AREAS} areas; this plan prints on more than one page")
    if teams > len(chosen):
        notes.append(f"{teams} teams for {len(chosen)} areas: teams {len(chosen) + 1}-{teams} have "
                     "no area")
    idle = [d.strftime("%Y-%m-%d") for k, d in enumerate(dates) if masks[:, k].all()]
    if idle and len(chosen) > 1:
        notes.append(f"{len(idle)} day(s) have no patrol in any area (first {idle[0]}): every area "
                     "has a comparison day then")
    return PatrolPlan(areas=chosen, schedule=schedule, start=dates[0].strftime("%Y-%m-%d"),
                      days=days, visits_per_day=visits_per_day, minutes=minutes, seed=seed,
                      hours=(h0, h1), comparison_share=float(comparison_share), warnings=notes,
                      teams=teams, travel=travel)


# --------------------------------------------------------------------------- the patrol log
_ALIASES = {
    "date": ("date", "day", "visit date", "patrol date", "week start", "week commencing", "week"),
    "area": ("area", "patrol area", "name", "area name", "area id", "rank", "hotspot"),
    "visits": ("visits done", "visits", "visit"),
    "minutes": ("minutes done", "minutes", "duration minutes", "duration"),
    "hours": ("hours", "patrol hours", "hours patrolled"),
    "day_type": ("day type",),
    "planned_visits": ("planned visits",),
    "planned_minutes": ("planned minutes",),
}


@dataclass
class PatrolLog:
    """A patrol log read back: ``visits`` has one row per (date, area) with ``visits`` and
    ``minutes`` (null = not recorded, never 0); ``plan`` is the plan's schedule when the log is
    a filled-in plan CSV (else None). `file` names the source for messages."""

    visits: pd.DataFrame
    plan: pd.DataFrame | None
    file: str | None = None
    warnings: list[str] = field(default_factory=list)


def _norm(c) -> str:
    return " ".join(re.sub(r"[_\-]+", " ", str(c)).strip().lower().split())


def read_patrol_log(source, name: str | None = None) -> PatrolLog:
    """Read a patrol log: a CSV (or DataFrame) either of visits (columns date and area, optional
    minutes and visits; each row one visit unless a visits column says how many) or the plan
    CSV with visits_done / minutes_done filled in (then the plan travels with it). Dates are
    ISO (2025-03-01) or UK day-first (01/03/2025). A blank visits_done on a filled-in plan is
    "not recorded", never zero. A log of hours (area, week start, hours: `evaluation.dosage`'s
    weekly log) reads as minutes = hours × 60. The one reader of a patrol log: its column names
    (`_ALIASES`) are the one vocabulary. Errors name the file (`name`, e.g. an upload's, else the
    path), row (1 = first data row) and column. `source`: a DataFrame, a path or a file object."""
    file = name
    if not isinstance(source, pd.DataFrame):
        file = name or str(source)
        try:
            df = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"cannot read the patrol log ({exc})", file=file) from None
    else:
        df = source.copy()
    norm = {_norm(c): c for c in df.columns}
    cols = {k: next((norm[a] for a in al if a in norm), None) for k, al in _ALIASES.items()}
    for need in ("date", "area"):
        if cols[need] is None:
            raise InputError(f"patrol log needs a '{need}' column (columns: "
                             f"{', '.join(map(str, df.columns))})", file=file, column=need)
    is_plan = cols["day_type"] is not None and cols["planned_visits"] is not None

    def text(col):
        return df[col].astype(str).str.strip().replace({"nan": "", "<NA>": "", "None": ""})

    raw = text(cols["date"])
    date = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    if date.isna().any():
        date = date.fillna(pd.to_datetime(raw.where(date.isna()), errors="coerce", dayfirst=True,
                                          format="mixed"))
    bad = np.flatnonzero(date.isna().to_numpy())
    if bad.size:
        raise InputError(f"'{raw.iloc[bad[0]]}' is not a date", file=file, row=int(bad[0]) + 1,
                         column=str(cols["date"]))
    area = text(cols["area"])
    bad = np.flatnonzero((area == "").to_numpy())
    if bad.size:
        raise InputError("no area given", file=file, row=int(bad[0]) + 1, column=str(cols["area"]))

    def number(key, default):
        if cols[key] is None:
            return pd.Series(default, index=df.index, dtype="Float64")
        t = text(cols[key])
        v = pd.to_numeric(t, errors="coerce").astype("Float64")
        wrong = np.flatnonzero(((t != "") & (v.isna() | (v < 0))).to_numpy(dtype=bool))
        if wrong.size:
            raise InputError(f"'{t.iloc[wrong[0]]}' is not a number >= 0", file=file,
                             row=int(wrong[0]) + 1, column=str(cols[key]))
        return v

    visits = number("visits", pd.NA if is_plan else 1.0)
    minutes = number("minutes", pd.NA)
    if cols["minutes"] is None and cols["hours"] is not None:  # a log of hours (weekly dosage logs)
        minutes = number("hours", pd.NA) * 60
    out = pd.DataFrame({"date": date.dt.normalize().to_numpy(), "area": area.to_numpy(),
                        "visits": visits.to_numpy(), "minutes": minutes.to_numpy()})
    plan = None
    if is_plan:
        plan = pd.DataFrame({"date": out["date"], "area": out["area"],
                             "day_type": text(cols["day_type"]).str.lower().to_numpy(),
                             "planned_visits": number("planned_visits", 0).to_numpy(),
                             "planned_minutes": number("planned_minutes", pd.NA).to_numpy()})
        if "rank" in norm and cols["area"] != norm["rank"]:
            plan["rank"] = text(norm["rank"]).to_numpy()
        bad = np.flatnonzero(~plan["day_type"].isin(["patrol", "comparison"]).to_numpy())
        if bad.size:
            raise InputError(f"day type '{plan['day_type'].iloc[bad[0]]}' is not patrol or comparison",
                             file=file, row=int(bad[0]) + 1, column=str(cols["day_type"]))
        out = out[out["visits"].notna() | out["minutes"].notna()].reset_index(drop=True)
    else:
        out = out.groupby(["date", "area"], as_index=False, sort=True).agg(
            visits=("visits", "sum"), minutes=("minutes", lambda s: s.sum() if s.notna().all() else pd.NA))
    return PatrolLog(visits=out, plan=plan, file=file)


def _key(value: str) -> str:
    return str(value).strip().lower()


def _grid_key(value) -> str:
    return re.sub(r"\s+", "", str(value)).upper()


def _street(name: str) -> str:
    """'On or near Murray Street — Victoria ward, Hartlepool (NZ ...)' -> 'murray street'."""
    text = str(name).split(" — ")[0].strip()
    for prefix in ("on or near ", "near "):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    return _key(text)


def plan_area_lookup(schedule: pd.DataFrame) -> dict[str, str]:
    """How a log may name a plan's area -> the area's name in the plan: its name, its rank ('3'
    or '#3'), its grid reference (spaces ignored) and, when no other area shares it, its street
    ('Murray Street'), all case-insensitive."""
    names: dict[str, str] = {}
    areas = schedule["area"].astype(str)
    for name in areas.unique():
        names[_key(name)] = name
    if "rank" in schedule.columns:
        for r, name in zip(schedule["rank"].astype(str), areas):
            names.setdefault(_key(r), name)
            names.setdefault("#" + _key(r), name)
    if "grid_ref" in schedule.columns:
        for g, name in zip(schedule["grid_ref"], areas):
            if g is not None and not pd.isna(g) and str(g).strip():
                names.setdefault("grid:" + _grid_key(g), name)
    streets = pd.Series(areas.unique()).map(_street)
    for street, name in zip(streets, areas.unique()):
        if street and (streets == street).sum() == 1:
            names.setdefault(street, name)
    return names


def _lookup(names: dict[str, str], value) -> str | None:
    return names.get(_key(value)) or names.get("grid:" + _grid_key(value)) or names.get(_street(value))


#: Readable headings of the delivered-dosage table (column -> heading), in order.
DOSAGE_HEADINGS = {
    "area": "Area", "patrol_days": "Patrol days", "comparison_days": "Comparison days",
    "planned_visits": "Visits planned", "planned_minutes": "Minutes planned",
    "days_recorded": "Days with visits logged", "visits_done": "Visits done",
    "minutes_done": "Minutes done", "visits_pct": "Visits done (% of planned)",
    "minutes_pct": "Minutes done (% of planned)",
    "visits_on_comparison_days": "Visits on comparison days",
    "visits_outside_plan": "Visits outside the plan"}


def outside_plan(log: PatrolLog, plan: PatrolPlan | pd.DataFrame | None = None) -> pd.DataFrame:
    """The log's visits the plan does not cover, each with the reason in words: an area the plan
    does not have (matched as `plan_area_lookup` says), a date before the plan starts or after it
    ends. Columns date (YYYY-MM-DD), area (as logged), visits, minutes, reason; empty when every
    visit is in the plan (or there is no plan)."""
    sched = plan.schedule if isinstance(plan, PatrolPlan) else plan
    if sched is None and log.plan is not None:
        sched = log.plan
    cols = ["date", "area", "visits", "minutes", "reason"]
    if sched is None or not len(log.visits):
        return pd.DataFrame(columns=cols)
    dates = pd.to_datetime(sched["date"]).dt.normalize()
    first, last = dates.min(), dates.max()
    span = f"the plan runs {first:%d %b %Y} to {last:%d %b %Y}"
    names = plan_area_lookup(sched)
    rows = []
    for _, v in log.visits.iterrows():
        area = _lookup(names, v["area"])
        if area is None:
            reason = (f"'{v['area']}' is not one of the plan's areas (give its name, rank or grid "
                      "reference)")
        elif v["date"] < first:
            reason = f"before the plan starts: {span}"
        elif v["date"] > last:
            reason = f"after the plan ends: {span}"
        else:
            continue
        rows.append({"date": pd.Timestamp(v["date"]).strftime("%Y-%m-%d"), "area": v["area"],
                     "visits": v["visits"], "minutes": v["minutes"], "reason": reason})
    return pd.DataFrame(rows, columns=cols)


def delivered_dosage(log: PatrolLog, plan: PatrolPlan | pd.DataFrame | None = None) -> pd.DataFrame:
    """Delivered dosage per area against the plan.

    The plan is `plan` (a `PatrolPlan` or its schedule), else the plan inside a filled-in plan
    log, else none (then only delivered figures). Log areas match the plan's areas by name, rank
    or grid reference (`plan_area_lookup`); visits to other areas or on other dates count in
    ``visits_outside_plan`` and are listed with their reason by `outside_plan`.

    Columns: area, patrol_days, comparison_days, planned_visits, planned_minutes, days_recorded,
    visits_done, minutes_done, visits_pct (done / planned × 100, 1 decimal), minutes_pct,
    visits_on_comparison_days, visits_outside_plan (dates the plan does not cover). Figures that
    were not recorded are null, never 0.
    """
    sched = plan.schedule if isinstance(plan, PatrolPlan) else plan
    if sched is None and log.plan is not None:
        sched = log.plan
    v = log.visits.copy()
    if sched is None:
        g = v.groupby("area", sort=True)
        out = pd.DataFrame({"days_recorded": g.size(), "visits_done": g["visits"].sum(),
                            "minutes_done": g["minutes"].apply(lambda s: s.sum() if s.notna().all() else pd.NA)})
        return out.reset_index()
    s = sched.copy()
    s["date"] = pd.to_datetime(s["date"]).dt.normalize()
    names = plan_area_lookup(s)
    v["plan_area"] = v["area"].map(lambda a: _lookup(names, a))
    merged = v.merge(s[["date", "area", "day_type"]].rename(columns={"area": "plan_area"}),
                     on=["date", "plan_area"], how="left")
    rows = []
    for name in s["area"].astype(str).unique():
        ps = s[s["area"].astype(str) == name]
        lv = merged[merged["plan_area"] == name]
        in_plan = lv[lv["day_type"].notna()]
        done_v = in_plan["visits"].sum() if len(in_plan) else None
        done_m = (in_plan["minutes"].sum() if len(in_plan) and in_plan["minutes"].notna().all() else None)
        planned_v = int(ps["planned_visits"].sum())
        planned_m = ps["planned_minutes"].sum() if ps["planned_minutes"].notna().all() else None
        rows.append({
            "area": name,
            "patrol_days": int((ps["day_type"] == "patrol").sum()),
            "comparison_days": int((ps["day_type"] == "comparison").sum()),
            "planned_visits": planned_v,
            "planned_minutes": None if planned_m is None else int(planned_m),
            "days_recorded": int(in_plan["date"].nunique()),
            "visits_done": None if done_v is None else float(done_v),
            "minutes_done": None if done_m is None else float(done_m),
            "visits_pct": measures.share_pct(done_v, planned_v),
            "minutes_pct": measures.share_pct(done_m, planned_m),
            "visits_on_comparison_days": float(in_plan.loc[in_plan["day_type"] == "comparison", "visits"].sum()),
            "visits_outside_plan": float(lv.loc[lv["day_type"].isna(), "visits"].sum()),
        })
    return pd.DataFrame(rows)


def patrol_day_comparison(incidents: gpd.GeoDataFrame, area, days: pd.DataFrame,
                          name: str | None = None) -> dict:
    """Incidents in `area` (a polygon or GeoDataFrame) on patrol days against comparison days.

    `days`: columns date and day_type (``patrol`` | ``comparison``) for this area (the plan's
    days: intention to treat). Needs incidents with dates (`when.time_detail`); with months only
    the counts are null and ``reason`` says why. Returns ``{"area", "patrol_days",
    "comparison_days", "incidents_patrol_days", "incidents_comparison_days",
    "per_patrol_day", "per_comparison_day", "rate_ratio", "reason"}`` (rate_ratio = per patrol
    day / per comparison day, 2 decimals; null when there are no comparison-day incidents)."""
    import shapely

    d = days.copy()
    d["date"] = pd.to_datetime(d["date"]).dt.normalize()
    d = d.drop_duplicates("date")
    n_p = int((d["day_type"] == "patrol").sum())
    n_c = int((d["day_type"] == "comparison").sum())
    out = {"area": name, "patrol_days": n_p, "comparison_days": n_c, "incidents_patrol_days": None,
           "incidents_comparison_days": None, "per_patrol_day": None, "per_comparison_day": None,
           "rate_ratio": None, "reason": None}
    detail = when.time_detail(incidents)
    if not detail.has_dates:
        out["reason"] = ("Incidents have months only, so patrol days cannot be compared with "
                         "comparison days.")
        return out
    geom = shapely.union_all(area.geometry.values) if isinstance(area, gpd.GeoDataFrame) else area
    inside = incidents[incidents.geometry.within(geom) | incidents.geometry.touches(geom)]
    occ = pd.to_datetime(inside["occurred"]).dropna().dt.normalize()
    kind = occ.map(dict(zip(d["date"], d["day_type"])))
    ip, ic = int((kind == "patrol").sum()), int((kind == "comparison").sum())
    out.update(incidents_patrol_days=ip, incidents_comparison_days=ic,
               per_patrol_day=round(ip / n_p, 3) if n_p else None,
               per_comparison_day=round(ic / n_c, 3) if n_c else None)
    if n_p and n_c and ic:
        out["rate_ratio"] = round((ip / n_p) / (ic / n_c), 2)
    if detail.timed < detail.total:
        out["reason"] = f"{detail.total - detail.timed:,} incidents without a date are not counted."
    return out


# --------------------------------------------------------------------------- one call
def cluster_parameters(preset_name: str | None = None, eps_m: float | None = None,
                       min_samples: int | None = None) -> tuple[float, int]:
    """eps_m and min_samples from a preset, overridden by explicit values; the street-level
    preset when neither is given."""
    p = preset(preset_name or DEFAULT_PRESET)
    return (float(eps_m) if eps_m is not None else p.eps_m,
            int(min_samples) if min_samples is not None else p.min_samples)


def log_report(log: PatrolLog | str | Path, incidents: gpd.GeoDataFrame, area, *,
               name: str | None = None, category=None) -> dict:
    """What `hotspot evaluate --patrol-log` adds: delivered dosage per area (`delivered_dosage`,
    against the plan when the log is a filled-in plan) and, for the evaluated `area`, incidents
    on patrol days against comparison days (`patrol_day_comparison`).

    The evaluated area's days are the plan's rows for the area called `name` (case-insensitive);
    without a plan, its patrol days are the days with logged visits and its comparison days the
    other days between the first and last logged day. A log that names no such area is used
    whole (any area visited = a patrol day), with a warning.

    Returns ``{"log": file, "dosage": [rows], "days": {...}, "warnings": [str]}``.
    """
    from hotspot_app.core import taxonomy

    if not isinstance(log, PatrolLog):
        log = read_patrol_log(log)
    notes: list[str] = []
    dosage = delivered_dosage(log)
    key = _key(name) if name else None
    if log.plan is not None:
        mine = log.plan[log.plan["area"].map(_key) == key] if key else log.plan.iloc[0:0]
        if mine.empty:
            notes.append(f"the patrol log's plan has no area called '{name}'; a day counts as a "
                         "patrol day when any area in the plan was to be patrolled")
            per_day = log.plan.groupby("date")["day_type"].apply(
                lambda d: "patrol" if (d == "patrol").any() else "comparison")
            days = per_day.rename("day_type").reset_index()
        else:
            days = mine[["date", "day_type"]]
        notes.append("patrol days are the planned days (intention to treat), whether or not each "
                     "visit was delivered")
    else:
        v = log.visits
        mine = v[v["area"].map(_key) == key] if key else v.iloc[0:0]
        if mine.empty:
            notes.append(f"the patrol log names no area '{name}'; a day counts as a patrol day "
                         "when any area was visited")
            mine = v
        span = pd.date_range(v["date"].min(), v["date"].max(), freq="D")
        visited = set(mine.loc[mine["visits"].fillna(0) > 0, "date"])
        days = pd.DataFrame({"date": span, "day_type": ["patrol" if d in visited else "comparison"
                                                         for d in span]})
    sel = incidents[taxonomy.select(incidents, category)] if category else incidents
    compared = patrol_day_comparison(sel, area, days, name=name)
    if compared["reason"]:
        notes.append(compared["reason"])
    records = dosage.astype(object).where(dosage.notna(), None).to_dict("records")
    return {"log": log.file, "dosage": records, "days": compared, "warnings": notes}


