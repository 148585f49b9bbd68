"""Did it work: `hotspot evaluate`, and power before launch: `hotspot power`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from hotspot_app.cli.common import (
    AreaFieldOpt,
    AreasLayerOpt,
    CategoryOpt,
    FromOpt,
    IncidentsArg,
    ToOpt,
    app,
    emit_json,
    guarded,
    load_areas_arg,
    load_incidents_arg,
    period_arg,
    progress,
)
from hotspot_app.core import periods, settings
from hotspot_app.core.errors import InputError


def _region_arg(value: Optional[str], area_field: Optional[str], parameter: str):
    """--area/--control: the polygons of a boundary file, or the name itself (looked up in
    --areas by the core)."""
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml") and not path.exists():
        raise InputError(f"boundary file not found: {value}", parameter=parameter)
    if path.suffix and path.exists():
        from hotspot_app.core import areas as areas_mod

        rows = load_areas_arg(path, name_field=area_field)
        return rows.assign(name=areas_mod.display_name(rows, fallback=path.stem))
    return value


@app.command("evaluate")
@guarded
def evaluate_command(
    incidents: IncidentsArg,
    area: str = typer.Option(..., "--area", help="The intervention area: a name in --areas "
                             "(case-insensitive) or a boundary file (its polygons are merged)."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file (or workspace) the "
                                         "--area/--control names come from; the target's layer "
                                         "is the default candidate pool and the 'layer' control."),
    after: str = typer.Option(..., "--after", help="After window FROM..TO (YYYY-MM, inclusive)."),
    before: Optional[str] = typer.Option(None, "--before", help="Before window FROM..TO "
                                         "(default: the same months one year earlier)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Baseline window FROM..TO, "
                                           "e.g. 2021-01..2021-12 (compared per month if its "
                                           "length differs)."),
    category: CategoryOpt = None,
    buffer_m: float = typer.Option(settings.BUFFER_M, "--buffer-m", help="Displacement ring width, metres "
                                   "(0 = none)."),
    control: Optional[str] = typer.Option(None, "--control", help="matched (default where "
                                          "candidate areas exist: comparison areas matched on the "
                                          "pre-period), layer (the other areas of the target's "
                                          "layer), rest (every other incident), an area name in "
                                          "--areas, or a boundary file."),
    candidates: Optional[Path] = typer.Option(None, "--candidates", help="Boundary file of the "
                                              "candidate comparison areas to match from (default: "
                                              "the other areas of --areas, else equal-size "
                                              "hexagons over the study area)."),
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("md", "--format", help="md or json."),
    patrol_log: Optional[Path] = typer.Option(None, "--patrol-log", help="Patrol log CSV (date, "
                                              "area, minutes; or the patrol-plan CSV filled "
                                              "in): delivered dosage against the plan, and "
                                              "patrol days against comparison days."),
) -> None:
    """Did it work? The intervention area against matched comparison areas (or the control
    chosen): rate ratio with its interval, placebo test, robustness across controls,
    displacement (WDQ, total net effect, WDD) and plain-English warnings."""
    from hotspot_app.core import params, periods
    from hotspot_app.questions import evaluation
    from hotspot_app.render import formatting, patrol_sheet

    if format not in ("md", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    periods.parse_range(after, "after")
    params.validate(buffer_m=buffer_m)
    for value, name in ((before, "before"), (baseline, "baseline")):
        if value is not None:
            periods.parse_range(value, name)
    areas_gdf = load_areas_arg(areas, name_field=area_field, source_layer=areas_layer) if areas is not None else None
    pool = load_areas_arg(candidates, name_field=area_field) if candidates is not None else None
    target = _region_arg(area, area_field, "area")
    chosen_control = control if control is None or control.lower() in evaluation.CONTROLS else \
        _region_arg(control, area_field, "control")
    evaluation.check_arguments(target, areas_gdf, chosen_control, buffer_m)
    progress("loading incidents ...")
    data = load_incidents_arg(list(incidents))
    progress("matching comparison areas and running the placebo test ...")
    answer = evaluation.evaluate(data, target, areas=areas_gdf, after=after, before=before,
                                 baseline=baseline, category=category or None, buffer_m=buffer_m,
                                 control=chosen_control, candidates=pool, patrol_log=patrol_log)
    for w in answer.warnings:
        progress(f"warning: {w}")
    if format == "json":
        emit_json(answer.to_dict())
    else:
        typer.echo(formatting.evaluation_markdown(answer))
        if answer.patrol is not None:
            typer.echo(patrol_sheet.log_report_markdown(answer.patrol))


@app.command("power")
@guarded
def power_command(
    incidents: IncidentsArg,
    area: List[str] = typer.Option(..., "--area", help="A chosen area: a name in --areas or a "
                                   "boundary file; repeat for several (the trial pools them)."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file (or workspace) the "
                                         "--area names come from."),
    weeks: Optional[float] = typer.Option(None, "--weeks", help="Planned trial length in weeks: "
                                          "gives the smallest fall detected with 80% power."),
    effect: Optional[float] = typer.Option(None, "--effect", help="A target rate ratio, e.g. 0.8 "
                                           "for a 20% fall: gives the weeks needed."),
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("md", "--format", help="md or json."),
) -> None:
    """Power before launch: for the chosen areas and a planned length, the smallest effect a
    trial detects with 80% power at the 5% level, and the weeks a target effect needs. History:
    --from/--to (default the last 12 months loaded)."""
    import geopandas as gpd
    import pandas as pd

    from hotspot_app.core import areas as areas_mod
    from hotspot_app.questions import evaluation

    if format not in ("md", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    areas_gdf = load_areas_arg(areas, name_field=area_field, source_layer=areas_layer) if areas is not None else None
    parts = []
    for value in area:
        region = _region_arg(value, area_field, "area")
        if isinstance(region, str):
            if areas_gdf is None:
                raise InputError(f"'{value}' is not a boundary file; give --areas FILE to pick an area "
                                 "by name", parameter="area")
            region = areas_mod.find_area(areas_gdf, region)
        parts.append(region[["name", "geometry"]] if "name" in region.columns else region[["geometry"]])
    chosen = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    history = None
    if from_ or to:
        if not (from_ and to):
            raise InputError("give both --from and --to for the history (or neither: the last 12 "
                             "months loaded)", parameter="from" if not from_ else "to")
        period = period_arg(from_, to)
        history = periods.month_range(period[0], period[1])
    data = load_incidents_arg(list(incidents))
    answer = evaluation.plan_power(data, chosen, weeks=weeks, effect=effect, category=category or None,
                                   history=history)
    for w in answer.warnings:
        progress(f"warning: {w}")
    if format == "json":
        emit_json(answer.to_dict())
        return
    typer.echo(f"## Power before launch: {', '.join(answer.areas)}")
    typer.echo("")
    typer.echo(f"**{answer.sentence()}**")
    typer.echo("")
    typer.echo(f"History: {answer.months[0]} to {answer.months[-1]}, "
               f"{answer.power.rate_per_week:.1f} incidents a week in the chosen areas.")
    typer.echo("")
    typer.echo("Assumptions:")
    for line in answer.power.assumptions:
        typer.echo(f"- {line}")
