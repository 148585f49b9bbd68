"""Did it work: `hotspot evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hotspot_app.cli.common import (
    AreaFieldOpt,
    AreasLayerOpt,
    CategoryOpt,
    IncidentsArg,
    app,
    emit_json,
    guarded,
    load_areas_arg,
    load_incidents_arg,
    progress,
)
from hotspot_app.core import settings
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
                                         "--area/--control names come from; its layer is the "
                                         "default control."),
    after: str = typer.Option(..., "--after", help="After window FROM..TO (YYYY-MM, inclusive)."),
    before: Optional[str] = typer.Option(None, "--before", help="Before window FROM..TO "
                                         "(default: the same months one year earlier)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Baseline window FROM..TO, "
                                           "e.g. 2021-01..2021-12 (compared per month if its "
                                           "length differs)."),
    category: CategoryOpt = None,
    buffer_m: float = typer.Option(settings.BUFFER_M, "--buffer-m", help="Displacement ring width, metres "
                                   "(0 = none)."),
    control: Optional[str] = typer.Option(None, "--control", help="Control area: a name in "
                                          "--areas or a boundary file (default: the rest of the "
                                          "area layer outside the target and its ring)."),
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("md", "--format", help="md or json."),
    patrol_log: Optional[Path] = typer.Option(None, "--patrol-log", help="Patrol log CSV (date, "
                                              "area, minutes; or the patrol-plan CSV filled "
                                              "in): delivered dosage against the plan, and "
                                              "patrol days against comparison days."),
) -> None:
    """Before/after evaluation of an intervention area with a control, displacement buffer
    (WDQ, total net effect, WDD) and plain-English warnings."""
    from hotspot_app.render import patrol_sheet
    from hotspot_app.core import evaluation, periods
    from hotspot_app.render import formatting

    if format not in ("md", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    periods.parse_range(after, "after")
    from hotspot_app.core import params
    params.validate(buffer_m=buffer_m)
    for value, name in ((before, "before"), (baseline, "baseline")):
        if value is not None:
            periods.parse_range(value, name)
    areas_gdf = load_areas_arg(areas, name_field=area_field, source_layer=areas_layer) if areas is not None else None
    regions = evaluation.resolve_regions(_region_arg(area, area_field, "area"), areas_gdf,
                                         control=_region_arg(control, area_field, "control"))
    progress("loading incidents ...")
    data = load_incidents_arg(list(incidents))
    result = evaluation.evaluate(data, regions, after=after, before=before, baseline=baseline,
                                 category=category or None, buffer_m=buffer_m)
    patrol_doc = None
    if patrol_log is not None:
        from hotspot_app.core import patrol

        patrol_doc = patrol.log_report(patrol_log, data, regions.target, name=regions.name,
                                       category=list(category) if category else None)
        for w in patrol_doc["warnings"]:
            progress(f"warning: {w}")
    if format == "json":
        doc = result.to_dict()
        if patrol_doc is not None:
            doc["patrol"] = patrol_doc
            doc["warnings"] = list(doc.get("warnings", [])) + patrol_doc["warnings"]
        emit_json(doc)
    else:
        typer.echo(formatting.evaluation_markdown(result))
        if patrol_doc is not None:
            typer.echo(patrol_sheet.log_report_markdown(patrol_doc))

