"""How do we patrol them? The patrol-plan question (docs/design.md §6 "Patrol dosage"): the top
patrol areas of the patrol-areas question (same preset, same names, same warnings) and a seeded
schedule with comparison days -- the one plan `hotspot patrol-plan` and the Patrol plan page give.

Decided here: which areas are planned for (the patrol-areas question's top `patrol_areas.SHOWN`
unless `top` says otherwise), that finding none is an error naming ``eps_m``, and the plan's
defaults (`patrol.VISITS_PER_DAY`, `patrol.KOPER_MINUTES`, `patrol.DAYS`, `patrol.HOURS`,
`patrol.COMPARISON_SHARE`, `patrol.TEAMS`, `patrol.TRAVEL`, the next Monday) when a face passes
None, and a fresh random seed for every plan that is not given one (`fresh_seed`): visit times
offenders cannot learn from week to week, the seed recorded in the plan so `--seed` reproduces it.
The areas are the top N, or the ones picked by hand (`ranks`); `within` limits them to a place.
"""

from __future__ import annotations

import datetime as dt
import secrets

import geopandas as gpd

from hotspot_app.core import patrol
from hotspot_app.core.errors import InputError
from hotspot_app.questions.patrol_areas import SHOWN, PatrolAreas, patrol_areas

#: The plan's settings when a face leaves them out (None).
DEFAULTS: dict = {"visits_per_day": patrol.VISITS_PER_DAY, "minutes": patrol.KOPER_MINUTES,
                  "days": patrol.DAYS, "hours": patrol.HOURS,
                  "comparison_share": patrol.COMPARISON_SHARE, "teams": patrol.TEAMS,
                  "travel": patrol.TRAVEL}


def fresh_seed() -> int:
    """A new random seed for a plan (within the parameter table's seed range)."""
    return secrets.randbelow(1_000_000)


def patrol_plan(incidents: gpd.GeoDataFrame, *, category=None, period=None,
                preset: str | None = None, eps_m: float | None = None,
                min_samples: int | None = None, rank_by: str | None = None,
                areas: gpd.GeoDataFrame | None = None, top: int | None = None,
                visits_per_day: int | None = None, minutes: int | None = None,
                days: int | None = None, start: str | dt.date | None = None,
                seed: int | None = None, hours: tuple[int, int] | None = None,
                comparison_share: float | None = None, teams: int | None = None,
                travel: str | None = None, within=None,
                ranks: list[int] | None = None) -> patrol.PatrolPlan:
    """The patrol plan for the top `top` patrol areas of the selection (see
    `patrol_areas.patrol_areas` for the selection and DBSCAN arguments, `patrol.make_plan` for
    the schedule). The patrol areas' warnings come first in the plan's warnings; the plan's
    ``parameters`` are theirs (preset included) plus ``n_incidents`` and ``n_areas_found``.
    `within` (see `patrol_areas`) plans for a place's own top areas; `ranks` picks the areas by
    their rank among the place's patrol areas instead of the top `top` (an unknown rank is an
    `InputError` naming ``ranks``). `seed` None draws a fresh one (`fresh_seed`)."""
    found = patrol_areas(incidents, category=category, period=period, preset=preset, eps_m=eps_m,
                         min_samples=min_samples, rank_by=rank_by, areas=areas,
                         top=None if ranks else (SHOWN if top is None else top), within=within)
    return plan_for(found, top=top, ranks=ranks, visits_per_day=visits_per_day, minutes=minutes,
                    days=days, start=start, seed=seed, hours=hours, comparison_share=comparison_share,
                    teams=teams, travel=travel)


def plan_for(found: PatrolAreas, *, top: int | None = None, ranks: list[int] | None = None,
             visits_per_day: int | None = None, minutes: int | None = None, days: int | None = None,
             start: str | dt.date | None = None, seed: int | None = None,
             hours: tuple[int, int] | None = None, comparison_share: float | None = None,
             teams: int | None = None, travel: str | None = None) -> patrol.PatrolPlan:
    """The plan's schedule for patrol areas already found (the `patrol_areas` answer that
    `patrol_plan` asks for: ``top=None`` when `ranks` are given, else the top `top`), so a page
    that shows the areas first plans on them without finding them again (a new plan, with its
    fresh seed, is a new schedule, not a new search)."""
    top = SHOWN if top is None else top
    if len(found.areas) == 0:
        raise InputError(found.message or "no patrol areas found", parameter="eps_m")
    chosen = found.areas
    if ranks:
        wanted = [int(r) for r in ranks]
        unknown = [r for r in wanted if r not in set(chosen["rank"].astype(int))]
        if unknown:
            raise InputError(f"there is no patrol area #{unknown[0]} (areas #1-#{len(chosen)})",
                             parameter="ranks")
        chosen = chosen[chosen["rank"].astype(int).isin(wanted)]
        top = None
    given = {"visits_per_day": visits_per_day, "minutes": minutes, "days": days, "hours": hours,
             "comparison_share": comparison_share, "teams": teams, "travel": travel}
    settings_ = {k: (DEFAULTS[k] if v is None else v) for k, v in given.items()}
    plan = patrol.make_plan(chosen, top=top, start=start, eps_m=found.choice.eps_m,
                            seed=fresh_seed() if seed is None else seed, **settings_)
    plan.warnings = list(dict.fromkeys([*found.warnings, *plan.warnings]))
    plan.parameters = {**found.parameters, "n_incidents": found.n_incidents,
                       "n_areas_found": found.n_found}
    return plan


def log_window(log: patrol.PatrolLog, plan: patrol.PatrolPlan) -> tuple[str, int] | None:
    """Which plan a patrol log is checked against: the log's own plan when it is a filled-in plan
    CSV, else `plan` when their dates overlap (None), else the plan for the log's dates -- (first
    day, days) of the log, at least the plan's length (a month's log read against last month's
    plan, not next month's)."""
    if log.plan is not None or not len(log.visits):
        return None
    first, last = log.visits["date"].min(), log.visits["date"].max()
    p_first = dt.date.fromisoformat(plan.start)
    p_last = p_first + dt.timedelta(days=plan.days - 1)
    if first.date() <= p_last and last.date() >= p_first:
        return None
    return first.date().isoformat(), max(plan.days, (last - first).days + 1)
