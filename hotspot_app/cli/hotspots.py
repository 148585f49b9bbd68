"""Where incidents concentrate: `hotspot clusters` (patrol areas) and `hotspot grid`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hotspot_app.cli.common import (
    AreasLayerOpt,
    CategoryOpt,
    FromOpt,
    IncidentsArg,
    ToOpt,
    app,
    emit_json,
    guarded,
    load_areas_arg,
    load_selected,
    period_arg,
    progress,
)
from hotspot_app.core.errors import InputError


def _clusters_markdown(doc: dict, message: Optional[str], n_found: Optional[int] = None) -> str:
    """Markdown of a clusters document; `n_found` = clusters found when --top shows fewer."""
    p = doc["parameters"]
    shown = len(doc["clusters"])
    found = (f"{n_found:,} clusters, the top {shown} shown" if n_found is not None and n_found > shown
             else f"{shown} clusters")
    weighted = bool(p.get("weight"))
    lines = [f"Patrol areas (DBSCAN, eps_m {p['eps_m']:g}, min_samples {p['min_samples']}"
             + (f", within {p['days']:g} days" if p.get("days") is not None else "")
             + (f", ranked by {p['weight']}" if weighted else "") + "): "
             f"{found}; {doc['n_incidents']:,} incidents selected, "
             f"{doc['n_noise']:,} not in any cluster.", ""]
    if message:
        lines.append(message)
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
    eps_m: float = typer.Option(..., "--eps-m", help="DBSCAN radius in metres, e.g. 100."),
    min_samples: int = typer.Option(..., "--min-samples", help="Incidents within eps_m (self "
                                    "included) that make a core incident, e.g. 15."),
    days: Optional[float] = typer.Option(None, "--days", help="Space-time mode: neighbours must "
                                         "also be within this many days."),
    weight: Optional[str] = typer.Option(None, "--weight", help="Rank areas by summed weight: "
                                         "'harm' (the documented harm table, hotspot_app/core/harm.csv) "
                                         "or a numeric column of the incidents."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file: name each area "
                                         "with the area (ward) it lies in."),
    areas_layer: AreasLayerOpt = None,
    top: Optional[int] = typer.Option(None, "--top", help="Keep the top N patrol areas."),
    method: str = typer.Option("auto", "--method", help="auto (sklearn; the exact grid method "
                               "for very many distinct locations), sklearn, grid or hdbscan."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the patrol-area polygons: "
                                       ".geojson, .gpkg or .kml."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """DBSCAN patrol areas: clusters of incidents as ranked, named polygons (count, area,
    density, months, top categories, centre); warns about areas too large to walk and says which
    parameter to change when none is found."""
    from hotspot_app.core import clusters, harm
    from hotspot_app.io import exports, geofiles

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if out is not None and out.suffix.lower() not in geofiles.EXPORT_FORMATS:
        raise InputError(f"cannot write '{out.suffix}'; use .geojson, .gpkg or .kml",
                         parameter="out")
    exports.check_outputs_distinct([*incidents, *([areas] if areas else [])], [out])
    period = period_arg(from_, to)
    clusters.validate_params(eps_m=eps_m, min_samples=min_samples, days=days, method=method,
                             top=top)
    area_gdf = load_areas_arg(areas, source_layer=areas_layer) if areas is not None else None
    data, _, total = load_selected(incidents, category=category or None, period=period)
    result = clusters.dbscan(data, eps_m, min_samples, category=category or None,
                             period=period, days=days, weight=weight, method=method,
                             areas=area_gdf, top=top)
    for w in result.warnings:  # the core returns its warnings (one channel)
        progress(f"warning: {w}")
    progress(f"{result.n_clusters} clusters among {result.n_incidents:,} of {total:,} incidents"
             + (f"; the top {len(result.areas)} shown" if top is not None else ""))
    if weight == "harm" and result.n_clusters:
        progress(f"note: harm weights from {harm.SOURCE}")
        check = harm.rank_check(result.selection.assign(cluster_id=result.labels), "cluster_id",
                                top or 5)
        progress(f"note: {check['text']}")
    if out is not None:
        geofiles.write_patrol_areas(result.areas, out)
        progress(f"wrote {len(result.areas)} patrol areas to {out}")
    doc = result.to_dict()
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(_clusters_markdown(doc, result.message, result.n_clusters))


@app.command("grid")
@guarded
def grid_command(
    incidents: IncidentsArg,
    cell_m: float = typer.Option(..., "--cell-m", help="Cell size in metres (hexagons have the "
                                 "same area as a square of this side)."),
    method: str = typer.Option("count", "--method", help="count, kde or gistar."),
    shape: str = typer.Option("square", "--shape", help="square or hex."),
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    bandwidth_m: Optional[float] = typer.Option(None, "--bandwidth-m", help="KDE bandwidth "
                                                "(Gaussian sd) in metres (default: cell size)."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file whose union is the "
                                         "study area (default: the incidents' hull)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Gi* significance after FDR correction."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the cells: .gpkg, .geojson "
                                       "or .csv."),
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Grid or hex hotspots: counts, kernel density or Getis-Ord Gi* (Benjamini-Hochberg FDR)
    per cell over the study area."""
    from hotspot_app.core import hotspots
    from hotspot_app.io import geofiles

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if method not in hotspots.METHODS:
        raise InputError(f"unknown method '{method}'; use count, kde or gistar", parameter="method")
    if shape not in hotspots.SHAPES:
        raise InputError(f"unknown shape '{shape}'; use square or hex", parameter="shape")
    if out is not None and out.suffix.lower() not in geofiles.CELL_EXPORTS:
        raise InputError(f"cannot write '{out.suffix}'; use .gpkg, .geojson or .csv",
                         parameter="out")
    period = period_arg(from_, to)
    from hotspot_app.core import params
    params.validate(cell_m=cell_m, alpha=alpha, **({"bandwidth_m": bandwidth_m} if bandwidth_m is not None else {}))
    area_gdf = load_areas_arg(areas, source_layer=areas_layer) if areas is not None else None
    data, _, _ = load_selected(incidents, category=category or None, period=period)
    kwargs = {"areas": area_gdf, "category": category or None, "period": period}
    if method == "kde":
        kwargs["bandwidth_m"] = bandwidth_m
    if method == "gistar":
        kwargs["alpha"] = alpha
    cells = hotspots.hotspot_grid(data, cell_m, method, shape, **kwargs)
    for w in dict.fromkeys(cells.attrs.get("warnings", [])):  # the core returns its warnings
        progress(f"warning: {w}")
    progress(f"{method} on {len(cells):,} {shape} cells of {cell_m:g} m")
    if out is not None:
        geofiles.write_cells(cells, out)
        progress(f"wrote {len(cells)} cells to {out}")
    doc = hotspots.cells_to_dict(cells, method)
    if format == "json":
        emit_json(doc)
        return
    typer.echo(f"{len(cells):,} {shape} cells of {cell_m:g} m; {doc['n_incidents']:,} incidents "
               f"({doc['n_outside']:,} outside the study area).")
    key = {"count": "count", "kde": "density_per_km2", "gistar": "gi_z"}[method]
    top = sorted(doc["cells"], key=lambda c: -c[key])[:10]
    typer.echo("")
    typer.echo(f"| cell_id | x | y | count | {key} |" + (" hotspot |" if method == "gistar" else ""))
    typer.echo("|---|---:|---:|---:|---:|" + ("---|" if method == "gistar" else ""))
    for c in top:
        typer.echo(f"| {c['cell_id']} | {c['x']:.0f} | {c['y']:.0f} | {c['count']} | {c[key]:,.2f} |"
                   + (f" {c['hotspot']} |" if method == "gistar" else ""))


