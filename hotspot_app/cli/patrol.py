"""Patrol plans: `hotspot patrol-plan`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hotspot_app.cli.common import (
    CategoryOpt,
    EpsOpt,
    MinSamplesOpt,
    PresetOpt,
    FromOpt,
    IncidentsArg,
    ToOpt,
    WithinOpt,
    app,
    emit_json,
    guarded,
    load_areas_arg,
    load_incidents_arg,
    period_arg,
    progress,
)
from hotspot_app.core.errors import InputError


@app.command("patrol-plan")
@guarded
def patrol_plan_command(
    incidents: IncidentsArg,
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    preset: PresetOpt = None,
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file: names the areas "
                                         "the patrol areas lie in and outlines the sheet's map."),
    top: Optional[int] = typer.Option(None, "--top", help="Plan for the N highest-ranked patrol "
                                      "areas (default 5, as the app)."),
    within: WithinOpt = None,
    ranks: Optional[str] = typer.Option(None, "--ranks", help="Plan for these patrol areas, by "
                                        "rank, e.g. 1,3,6 (instead of the top N)."),
    teams: Optional[int] = typer.Option(None, "--teams", help="Teams sharing the areas (default "
                                        "1): no team is asked to be in two places closer in time "
                                        "than a visit plus the travel between them."),
    travel: Optional[str] = typer.Option(None, "--travel", help="How a team gets between areas: "
                                         "walking or driving (default driving)."),
    visits_per_day: Optional[int] = typer.Option(None, "--visits-per-day", help="Visits to each "
                                                 "area on a patrol day (default 2)."),
    minutes: Optional[int] = typer.Option(None, "--minutes", help="Minutes per visit (Koper "
                                          "curve: 10-15; default 15)."),
    days: Optional[int] = typer.Option(None, "--days", help="Length of the plan in days (default 28)."),
    start: Optional[str] = typer.Option(None, "--start", help="First day YYYY-MM-DD (default: "
                                        "next Monday)."),
    hours: Optional[str] = typer.Option(None, "--hours", help="Patrol hours START-END, e.g. 16-23 "
                                        "(default 10-22)."),
    comparison_share: Optional[float] = typer.Option(None, "--comparison-share", help="Share of "
                                                     "days with no planned patrol (comparison "
                                                     "days), 0 to <1 (default 0.5)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed: the same seed gives the "
                                       "same plan (default: a fresh one, printed with the plan)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the schedule CSV."),
    sheet: Optional[Path] = typer.Option(None, "--sheet", help="Write the one-page printable "
                                         "patrol sheet (.html)."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Patrol plan: the top patrol areas (the app's street-level preset unless told otherwise),
    visits per day and minutes per visit, a seeded random schedule with comparison days, as CSV
    and a one-page printable sheet."""
    from hotspot_app.io import exports
    from hotspot_app.questions import patrol_areas, patrol_plan
    from hotspot_app.render import patrol_sheet

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    span = None
    if hours is not None:
        try:
            span = tuple(int(x) for x in hours.split("-"))
        except ValueError:
            span = ()
        if len(span) != 2:
            raise InputError(f"--hours '{hours}' is not START-END (e.g. 10-22)", parameter="hours")
    if sheet is not None and sheet.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"cannot write the sheet as '{sheet.suffix}'; use .html", parameter="sheet")
    exports.check_outputs_distinct([*incidents, *([areas] if areas else [])], [out, sheet])
    patrol_areas.choose(preset, eps_m, min_samples)  # an unknown preset fails before loading
    period = period_arg(from_, to)
    picked = None
    if ranks is not None:
        try:
            picked = [int(r) for r in ranks.split(",") if r.strip()]
        except ValueError:
            raise InputError(f"--ranks '{ranks}' is not ranks separated by commas (e.g. 1,3,6)",
                             parameter="ranks") from None
    area_gdf = load_areas_arg(areas) if areas is not None else None
    data = load_incidents_arg(incidents)
    plan = patrol_plan.patrol_plan(
        data, category=category or None, period=period, preset=preset, eps_m=eps_m,
        min_samples=min_samples, areas=area_gdf, top=top, visits_per_day=visits_per_day,
        minutes=minutes, days=days, start=start, seed=seed, hours=span,
        comparison_share=comparison_share, teams=teams, travel=travel, within=within or None,
        ranks=picked)
    from hotspot_app.questions import evaluation

    power = evaluation.plan_power_for(data, plan, category=category or None, period=period)
    for w in plan.warnings + power.warnings:
        progress(f"warning: {w}")
    if out is not None:
        exports.write_bytes_atomic(out, patrol_sheet.plan_csv(plan))
        progress(f"wrote the schedule ({len(plan.schedule)} rows) to {out}")
    if sheet is not None:
        exports.write_text_atomic(sheet, patrol_sheet.sheet_for(plan, context=area_gdf,
                                                                notes=[power.sentence()]))
        progress(f"wrote the patrol sheet to {sheet}")
    doc = plan.to_dict()
    doc.update(out=str(out) if out else None, sheet=str(sheet) if sheet else None, power=power.to_dict())
    if format == "json":
        emit_json(doc)
        return
    h0, h1 = plan.hours
    typer.echo(f"Patrol plan from {plan.start}, {plan.days} days: {plan.visits_per_day} visits of "
               f"{plan.minutes} minutes on patrol days (hours {h0:02d}:00-{h1:02d}:00, seed "
               f"{plan.seed}, {plan.teams} team{'s' if plan.teams != 1 else ''}, {plan.travel} "
               f"between areas); patrol areas: "
               f"{patrol_areas.choose(preset, eps_m, min_samples).describe()}"
               + (f", within {'; '.join(within)}" if within else "") + ".")
    typer.echo("")
    typer.echo("| # | area | team | grid ref | incidents | patrol days | comparison days | visits | minutes |")
    typer.echo("|---:|---|---:|---|---:|---:|---:|---:|---:|")
    for a in doc["areas"]:
        typer.echo(f"| {a['rank']} | {a['name']} | {a['team']} | {a['grid_ref'] or ''} | {a['count']:,} | "
                   f"{a['patrol_days']} | {a['comparison_days']} | {a['planned_visits']} | "
                   f"{a['planned_minutes']} |")
    typer.echo("")
    typer.echo(f"Power: {power.sentence()}")


