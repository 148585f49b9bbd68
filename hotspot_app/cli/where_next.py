"""Where next: `hotspot backtest`, `near-repeat`, `hot-streets` and `stability` (docs/design.md
§5c). Each calls its question in `questions.where_next` and only prints; `grid --method
emerging` is in `hotspots`, `--smooth eb` on `rank` and `table` in `paper`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hotspot_app.cli.common import (
    CategoryOpt,
    EpsOpt,
    FromOpt,
    IncidentsArg,
    MinSamplesOpt,
    PresetOpt,
    ToOpt,
    app,
    check_choice,
    emit_json,
    guarded,
    load_areas_arg,
    load_incidents_arg,
    load_selected,
    period_arg,
    progress,
)
from hotspot_app.core.errors import InputError


def _numbers(text: str, parameter: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"'{text}' is not a comma-separated list of numbers, e.g. 0,100,200,400",
                         parameter=parameter) from None


def backtest_document(answer) -> dict:
    """The §5c JSON of a backtest with its sentence (the one the page and the pack print)."""
    doc = answer.to_dict()
    sentence = answer.sentence()
    doc["sentences"] = [sentence] if sentence else []
    return doc


@app.command("backtest")
@guarded
def backtest_command(
    incidents: IncidentsArg,
    category: CategoryOpt = None,
    cell_m: Optional[float] = typer.Option(None, "--cell-m", help="Cell size in metres (default "
                                           "250, the app's)."),
    area_share: Optional[float] = typer.Option(None, "--area-share", help="Share of the study area "
                                               "each method's map flags (default 0.05: 5%)."),
    from_: FromOpt = None,
    to: ToOpt = None,
    methods: Optional[str] = typer.Option(None, "--methods", help="Comma-separated methods "
                                          "(default all): last-month, last-3-months, last-12-months, "
                                          "kde, gistar, dbscan, seasonal."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file whose union is the "
                                         "study area (default: the incidents' buffered hull)."),
    preset: PresetOpt = None,
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Which method predicts next month here: for each month from --from to --to (default the
    last 12 months loaded), each method's map is built only from the months before it, flags the
    top cells covering --area-share of the study area, and is scored on that month by PAI, PEI
    and RRI; means over the months, the best method named (docs/design.md §5c)."""
    from hotspot_app.questions import where_next
    from hotspot_app.render import where_next as where_next_text

    check_choice(format, ("md", "text", "json"), "format")
    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    period = period_arg(from_, to)
    area_gdf = load_areas_arg(areas) if areas is not None else None
    data = load_incidents_arg(incidents)  # all rows: coverage is judged on every row loaded
    answer = where_next.backtest(data, category=category or None, period=period, cell_m=cell_m,
                                 area_share=area_share, methods=chosen, areas=area_gdf,
                                 preset=preset, eps_m=eps_m, min_samples=min_samples)
    for w in answer.warnings:
        progress(f"warning: {w}")
    doc = backtest_document(answer)
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(where_next_text.backtest_markdown(doc, answer.sentence()))


@app.command("near-repeat")
@guarded
def near_repeat_command(
    incidents: IncidentsArg,
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    distance_m: str = typer.Option("0,100,200,400", "--distance-m", help="Distance band edges in "
                                   "metres."),
    days: str = typer.Option("0,7,14,28", "--days", help="Time band edges in days."),
    permutations: Optional[int] = typer.Option(None, "--permutations", help="Monte Carlo "
                                               "permutations of the dates (default 99)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the permutations."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Near repeats (Knox test): pairs of incidents close in space and time against what
    shuffling the dates gives, per distance x time band. Needs dated incidents: police.uk's
    monthly data are refused (docs/design.md §5c)."""
    from hotspot_app.questions import where_next
    from hotspot_app.render import where_next as where_next_text

    check_choice(format, ("md", "text", "json"), "format")
    d_edges, t_edges = _numbers(distance_m, "distance_m"), _numbers(days, "days")
    period = period_arg(from_, to)
    data, _, _ = load_selected(incidents, category=category or None, period=period)
    answer = where_next.near_repeat(data, category=category or None, period=period,
                                    distance_m=d_edges, days=t_edges, permutations=permutations,
                                    seed=seed)
    for w in answer.warnings:
        progress(f"warning: {w}")
    doc = answer.to_dict()
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(where_next_text.near_repeat_markdown(doc))


@app.command("hot-streets")
@guarded
def hot_streets_command(
    incidents: IncidentsArg,
    streets: Path = typer.Option(..., "--streets", help="Street network: a line file in EPSG:27700 "
                                 "(e.g. OS Open Roads RoadLink from its GeoPackage)."),
    streets_layer: Optional[str] = typer.Option(None, "--streets-layer", help="Layer of a "
                                                "GeoPackage street file (e.g. road_link)."),
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    max_distance_m: Optional[float] = typer.Option(None, "--max-distance-m", help="Incidents farther "
                                                   "than this from every segment are not counted "
                                                   "(default 50)."),
    rank_by: str = typer.Option("per_100m", "--rank-by", help="per_100m (default) or count."),
    top: int = typer.Option(20, "--top", help="Segments listed."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the ranked segments: .gpkg, "
                                       ".geojson or .csv."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Hot streets: incidents snapped to their nearest street segment, per segment and per 100 m
    of street, ranked; police.uk's 'On or near <street>' text checks the snapping."""
    from hotspot_app.core import params
    from hotspot_app.io import geofiles
    from hotspot_app.questions import where_next
    from hotspot_app.render import where_next as where_next_text

    check_choice(format, ("md", "text", "json"), "format")
    params.validate(top=top)
    if out is not None and out.suffix.lower() not in geofiles.CELL_EXPORTS:
        raise InputError(f"cannot write '{out.suffix}'; use .gpkg, .geojson or .csv", parameter="out")
    network = geofiles.read_lines(streets, layer=streets_layer)
    period = period_arg(from_, to)
    data, _, _ = load_selected(incidents, category=category or None, period=period)
    answer = where_next.hot_streets(data, network, category=category or None, period=period,
                                    max_distance_m=max_distance_m, rank_by=rank_by)
    for w in answer.warnings:
        progress(f"warning: {w}")
    if out is not None:
        geofiles.write_cells(answer.segments, out)
        progress(f"wrote {len(answer.segments)} segments to {out}")
    doc = answer.to_dict(top=top)
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(where_next_text.streets_markdown(doc))


@app.command("stability")
@guarded
def stability_command(
    incidents: IncidentsArg,
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    top: int = typer.Option(5, "--top", help="Patrol areas and cells ranked (default 5, as the app shows)."),
    draws: Optional[int] = typer.Option(None, "--draws", help="Random displacements (default 20)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the draws."),
    preset: PresetOpt = None,
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    cell_m: Optional[float] = typer.Option(None, "--cell-m", help="Cell size of the hot cells "
                                           "(default 250)."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file: name each patrol "
                                         "area with the area (ward) it lies in, as `clusters` does."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Snap-point sensitivity: the share of draws in which each top patrol area and top cell
    stays in the top when police.uk's snapped points are moved within their anonymisation
    radius."""
    from hotspot_app.questions import where_next
    from hotspot_app.render import where_next as where_next_text

    check_choice(format, ("md", "text", "json"), "format")
    period = period_arg(from_, to)
    area_gdf = load_areas_arg(areas) if areas is not None else None
    data, _, _ = load_selected(incidents, category=category or None, period=period)
    answer = where_next.stability(data, category=category or None, period=period, top=top, draws=draws,
                                  seed=seed, preset=preset, eps_m=eps_m, min_samples=min_samples,
                                  cell_m=cell_m, areas=area_gdf)
    for w in answer.warnings:
        progress(f"warning: {w}")
    doc = answer.to_dict()
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(where_next_text.stability_markdown(doc))
