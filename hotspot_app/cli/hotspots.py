"""Where incidents concentrate: `hotspot clusters` (patrol areas) and `hotspot grid`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hotspot_app.cli.common import (
    AreasLayerOpt,
    WithinOpt,
    CategoryOpt,
    EpsOpt,
    MinSamplesOpt,
    PresetOpt,
    FromOpt,
    IncidentsArg,
    ToOpt,
    app,
    emit_json,
    guarded,
    load_areas_arg,
    load_incidents_arg,
    load_selected,
    period_arg,
    progress,
)
from hotspot_app.core.errors import InputError


def _clusters_markdown(found) -> str:
    """Markdown of a patrol-areas answer: the preset and parameters, the counts, one row per area."""
    doc = found.to_dict()
    p = doc["parameters"]
    shown = len(doc["clusters"])
    counted = (f"{found.n_found:,} clusters, the top {shown} shown" if found.n_found > shown
               else f"{shown} clusters")
    weighted = bool(p.get("weight"))
    lines = [f"Patrol areas (DBSCAN, {found.describe()}"
             + (f", within {p['days']:g} days" if p.get("days") is not None else "")
             + (f", ranked by {p['weight']}" if weighted else "") + "): "
             f"{counted}; {doc['n_incidents']:,} incidents selected, "
             f"{doc['n_noise']:,} not in any cluster.", ""]
    if found.message:
        lines.append(found.message)
        return "\n".join(lines)
    lines.append("| rank | cluster_id | name | count | " + ("weight | " if weighted else "")
                 + "area m² | per km² | months | top categories |")
    lines.append("|---:|---:|---|---:|" + ("---:|" if weighted else "") + "---:|---:|---|---|")
    for c in doc["clusters"]:
        top = ", ".join(f"{k} ({v})" for k, v in c["top_categories"].items())
        lines.append(f"| {c['rank']} | {c['cluster_id']} | {c['name']} | {c['count']:,} | "
                     + (f"{c['weight']:,.1f} | " if weighted else "")
                     + f"{c['area_m2']:,.0f} | {c['density_per_km2']:,.0f} | "
                     f"{c['first_month']}..{c['last_month']} | {top} |")
    return "\n".join(lines)


@app.command("clusters")
@guarded
def clusters_command(
    incidents: IncidentsArg,
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    preset: PresetOpt = None,
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    days: Optional[float] = typer.Option(None, "--days", help="Space-time mode: neighbours must "
                                         "also be within this many days."),
    rank_by: Optional[str] = typer.Option(None, "--rank-by", "--weight", help="Rank areas by "
                                          "summed 'harm' (the documented harm table, "
                                          "hotspot_app/core/harm.csv) or a numeric column of the "
                                          "incidents (default: by count)."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file: name each area "
                                         "with the area (ward) it lies in."),
    areas_layer: AreasLayerOpt = None,
    top: Optional[int] = typer.Option(None, "--top", help="Keep the top N patrol areas."),
    within: WithinOpt = None,
    method: str = typer.Option("auto", "--method", help="auto (sklearn; the exact grid method "
                               "for very many distinct locations), sklearn, grid or hdbscan."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the patrol-area polygons: "
                                       ".geojson, .gpkg or .kml."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """DBSCAN patrol areas: clusters of incidents as ranked, named polygons (count, area,
    density, months, top categories, centre), with the app's street-level preset unless told
    otherwise; warns about areas too large to walk and says which parameter to change when none
    is found."""
    from hotspot_app.core import harm, selection
    from hotspot_app.io import exports, geofiles
    from hotspot_app.questions import patrol_areas, selected

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if out is not None and out.suffix.lower() not in geofiles.EXPORT_FORMATS:
        raise InputError(f"cannot write '{out.suffix}'; use .geojson, .gpkg or .kml",
                         parameter="out")
    exports.check_outputs_distinct([*incidents, *([areas] if areas else [])], [out])
    period = period_arg(from_, to)
    choice = patrol_areas.choose(preset, eps_m, min_samples)
    selection.validate_params(eps_m=choice.eps_m, min_samples=choice.min_samples, days=days,
                              method=method, top=top)
    area_gdf = load_areas_arg(areas, source_layer=areas_layer) if areas is not None else None
    data, _, total = load_selected(incidents, selection=selected.clusters_selection(category, period, rank_by))
    found = patrol_areas.patrol_areas(data, category=category or None, period=period, preset=preset,
                                      eps_m=eps_m, min_samples=min_samples, days=days,
                                      rank_by=rank_by, method=method, areas=area_gdf, top=top,
                                      within=within or None)
    for w in found.warnings:
        progress(f"warning: {w}")
    progress(f"{found.n_found} clusters among {found.n_incidents:,} of {total:,} incidents"
             + (f"; the top {len(found.areas)} shown" if top is not None else ""))
    if found.harm_check is not None:
        progress(f"note: harm weights from {harm.SOURCE}")
        progress(f"note: {found.harm_check['text']}")
    if out is not None:
        geofiles.write_patrol_areas(found.areas, out)
        progress(f"wrote {len(found.areas)} patrol areas to {out}")
    if format == "json":
        emit_json(found.to_dict())
    else:
        typer.echo(_clusters_markdown(found))


@app.command("grid")
@guarded
def grid_command(
    incidents: IncidentsArg,
    cell_m: Optional[float] = typer.Option(None, "--cell-m", help="Cell size in metres (hexagons "
                                           "have the same area as a square of this side; default "
                                           "250, the app's)."),
    method: str = typer.Option("count", "--method", help="count, kde, gistar or emerging "
                               "(emerging hot spots: space-time Gi* per month, Mann-Kendall trend, "
                               "each cell's class)."),
    shape: str = typer.Option("square", "--shape", help="square or hex."),
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    bandwidth_m: Optional[float] = typer.Option(None, "--bandwidth-m", help="KDE bandwidth "
                                                "(Gaussian sd) in metres (default: cell size)."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file whose union is the "
                                         "study area (default: the incidents' hull)."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Gi* significance after FDR "
                                          "correction (default 0.05)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the cells: .gpkg, .geojson "
                                       "or .csv."),
    areas_layer: AreasLayerOpt = None,
    within: WithinOpt = None,
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Grid or hex hotspots: counts, kernel density or Getis-Ord Gi* (Benjamini-Hochberg FDR)
    per cell over the study area; or emerging hot spots (new, intensifying, persistent, ...
    per cell, docs/design.md §5c)."""
    from hotspot_app.io import geofiles
    from hotspot_app.questions import grid, selected

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if out is not None and out.suffix.lower() not in geofiles.CELL_EXPORTS:
        raise InputError(f"cannot write '{out.suffix}'; use .gpkg, .geojson or .csv",
                         parameter="out")
    period = period_arg(from_, to)
    if method == "emerging":
        _emerging(incidents, cell_m=cell_m, shape=shape, category=category or None, period=period,
                  alpha=alpha, out=out, format=format, other=(bandwidth_m, areas))
        return
    area_gdf = load_areas_arg(areas, source_layer=areas_layer) if areas is not None else None
    data, _, _ = load_selected(incidents, selection=selected.patrol_areas_selection(category, period))
    answer = grid.grid(data, method=method, cell_m=cell_m, shape=shape, category=category or None,
                       period=period, areas=area_gdf, bandwidth_m=bandwidth_m, alpha=alpha,
                       within=within or None)
    for w in answer.warnings:
        progress(f"warning: {w}")
    cells = answer.cells
    progress(f"{method} on {len(cells):,} {shape} cells of {answer.cell_m:g} m")
    if out is not None:
        geofiles.write_cells(cells, out)
        progress(f"wrote {len(cells)} cells to {out}")
    doc = answer.to_dict()
    if format == "json":
        emit_json(doc)
        return
    typer.echo(answer.sentence())
    key = {"count": "count", "kde": "density_per_km2", "gistar": "gi_z"}[method]
    top = sorted(doc["cells"], key=lambda c: -c[key])[:10]
    typer.echo("")
    typer.echo(f"| cell_id | x | y | count | {key} |" + (" hotspot |" if method == "gistar" else ""))
    typer.echo("|---|---:|---:|---:|---:|" + ("---|" if method == "gistar" else ""))
    for c in top:
        typer.echo(f"| {c['cell_id']} | {c['x']:.0f} | {c['y']:.0f} | {c['count']} | {c[key]:,.2f} |"
                   + (f" {c['hotspot']} |" if method == "gistar" else ""))


def _emerging(incidents, *, cell_m, shape, category, period, alpha, out, format, other) -> None:
    """`hotspot grid --method emerging`: `questions.where_next.emerging`, every analysed cell with
    its ``class`` and ``trend_p``."""
    from hotspot_app.core import emerging
    from hotspot_app.io import geofiles
    from hotspot_app.questions import where_next
    from hotspot_app.render import where_next as where_next_text

    if other[0] is not None:
        raise InputError("--bandwidth-m is for --method kde", parameter="bandwidth_m")
    if other[1] is not None:
        raise InputError("emerging hot spots analyse the cells that hold incidents; --areas is "
                         "not used", parameter="areas")
    data = load_incidents_arg(incidents)  # coverage is judged on every row loaded
    answer = where_next.emerging(data, category=category, period=period, cell_m=cell_m, shape=shape,
                                 alpha=alpha)
    for w in answer.warnings:
        progress(f"warning: {w}")
    p = answer.parameters
    progress(f"emerging hot spots on {len(answer.cells):,} {shape} cells of {p['cell_m']:g} m, "
             f"{len(answer.steps)} monthly steps {p['from']}..{p['to']}")
    if out is not None:
        geofiles.write_cells(answer.cells, out)
        progress(f"wrote {len(answer.cells)} cells to {out}")
    doc = answer.to_dict()
    if format == "json":
        emit_json(doc)
        return
    typer.echo(where_next_text.emerging_markdown(doc, emerging.legend(list(doc["classes"]))))
