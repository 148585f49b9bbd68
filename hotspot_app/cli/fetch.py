"""``hotspot fetch police-uk|boundaries|population`` and ``hotspot monthly`` (docs/design.md §5c "Fetch").

Thin: parse the arguments, call `hotspot_app.io.fetch`, print. A service that is down or
refuses is a one-line error and exit 1; bad input (flags, files, the config) exit 2, as
everywhere in the CLI. ``--format json`` prints exactly one JSON document on stdout; progress
goes to stderr.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, List, Optional

import typer

from hotspot_app.cli.common import app, check_choice, emit_json, fail, guarded, progress

fetch_app = typer.Typer(help="Fetch public data: police.uk crimes and ASB, ONS ward and LSOA boundaries, "
                             "Census 2021 LSOA population.", no_args_is_help=True)


def service_guarded(func: Callable) -> Callable:
    """The CLI's `guarded` (input errors: one line, exit 2), plus: a service that is down (or a
    failed monthly step) is a one-line error with exit 1 (exit 2 when the cause is the input)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from hotspot_app.io.fetch.http import ServiceError
        from hotspot_app.questions.monthly import CycleError

        @guarded
        def run():
            try:
                return func(*args, **kwargs)
            except CycleError as exc:
                fail(str(exc), code=2 if exc.input else 1)
            except ServiceError as exc:
                fail(str(exc), code=1)

        return run()

    return wrapper


@fetch_app.command("police-uk")
@service_guarded
def fetch_police_uk_command(
    force: Optional[str] = typer.Option(None, "--force", help="police.uk force id, e.g. cleveland "
                                        "(https://data.police.uk/api/forces); its area is the union of "
                                        "its neighbourhoods unless --areas is given."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file whose area is fetched "
                                         "(instead of, or with, the force's)."),
    from_: str = typer.Option(..., "--from", help="First month, YYYY-MM."),
    to: str = typer.Option(..., "--to", help="Last month, YYYY-MM."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for police.uk-format files "
                                       "YYYY-MM/YYYY-MM-<force>-street.csv (months already there are skipped)."),
    into: Optional[str] = typer.Option(None, "--into", help="Workspace (.gpkg or postgresql:// URL) to add "
                                       "the months to (months it holds for this force are skipped)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="police.uk site root "
                                           "(default https://data.police.uk; a mirror or a test server)."),
    source: str = typer.Option("api", "--source", help="api (crimes by polygon) or archive (the monthly "
                               "zip, read by range requests)."),
    refresh: bool = typer.Option(False, "--refresh", help="Fetch months again even when complete "
                                 "(police.uk republishes months); a load replaces them."),
    provider: Optional[str] = typer.Option(None, "--provider", help="'Falls within' for the rows "
                                           "(default: the force's name)."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Street-level crimes and ASB from police.uk for a range of months, written as police.uk
    CSVs (--out) or loaded into a workspace (--into, one atomic load; nothing is loaded when a
    month fails). Polite: rate-limited, retries 429/5xx honouring Retry-After."""
    from hotspot_app.core import periods
    from hotspot_app.io.fetch import police_uk

    check_choice(format, ("text", "json"), "format")
    check_choice(source, police_uk.SOURCES, "source")
    doc = police_uk.run(force=force, areas=areas, first=from_, last=to, out=out, into=into,
                        base_url=base_url, source=source, refresh=refresh, provider=provider,
                        progress=progress)
    if format == "json":
        emit_json(doc)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    months = doc["months"]
    if months:
        typer.echo(f"Fetched {len(months)} month(s) ({periods.months_text(months)}): "
                   f"{doc['incidents']:,} incidents in {doc['requests']:,} requests.")
    else:
        typer.echo(f"Nothing to fetch: every month asked for is complete or not available "
                   f"({doc['requests']:,} requests).")
    ws = doc["workspace"]
    if ws is not None:
        typer.echo(f"Workspace {police_uk.redact(into)}: {ws['before']:,} -> {ws['after']:,} incidents "
                   f"({ws['added']:,} added, {ws['replaced']:,} replaced)")
    elif months:
        typer.echo(f"Wrote {len(months)} file(s) to {out}")


@fetch_app.command("boundaries")
@service_guarded
def fetch_boundaries_command(
    lad: List[str] = typer.Option(..., "--lad", help="Local authority code (e.g. E06000001); repeat, "
                                  "or separate with commas."),
    out: Path = typer.Option(..., "--out", help="Output .geojson (WGS84) or .gpkg (EPSG:27700); the "
                             "licence is written beside it as OUT.licence.txt."),
    level: str = typer.Option("ward", "--level", help="ward (May 2024 wards) or lsoa (2021 LSOAs)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="ArcGIS services root of the ONS "
                                           "Open Geography Portal (default: the ONS's)."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Ward or LSOA boundaries of given local authorities from the ONS Open Geography Portal,
    with WD24CD/WD24NM (or LSOA21CD/LSOA21NM) and LAD24CD/LAD24NM."""
    from hotspot_app.io.fetch import ons

    check_choice(format, ("text", "json"), "format")
    check_choice(level, tuple(ons.LEVELS), "level")
    doc = ons.run_boundaries(lad, out, level=level, base_url=base_url, progress=progress)
    if format == "json":
        emit_json(doc)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    typer.echo(f"Wrote {doc['areas']:,} {level} boundaries of {', '.join(doc['lads'])} to {doc['out']} "
               f"({doc['requests']} requests); licence in {doc['licence']}")


@fetch_app.command("population")
@service_guarded
def fetch_population_command(
    lad: List[str] = typer.Option(..., "--lad", help="Local authority code (e.g. E06000001); repeat, "
                                  "or separate with commas."),
    out: Path = typer.Option(..., "--out", help="Output .csv: lsoa21_code, lsoa21_name, lad_code, "
                             "lad_name, population; the licence is written beside it."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Nomis API root (default "
                                           "https://www.nomisweb.co.uk/api/v01)."),
    geography_url: Optional[str] = typer.Option(None, "--geography-url", help="ArcGIS services root of "
                                                "the ONS Open Geography Portal (the LSOAs of each authority)."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Census 2021 usual residents (TS001) of every LSOA of given local authorities, from Nomis."""
    from hotspot_app.io.fetch import ons

    check_choice(format, ("text", "json"), "format")
    doc = ons.run_population(lad, out, base_url=base_url, geography_url=geography_url, progress=progress)
    if format == "json":
        emit_json(doc)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    typer.echo(f"Wrote the Census 2021 population of {doc['lsoas']:,} LSOAs ({doc['population']:,} usual "
               f"residents) to {doc['out']} ({doc['requests']} requests); licence in {doc['licence']}")


@app.command("monthly")
@service_guarded
def monthly_command(
    config: Path = typer.Argument(..., help="CONFIG.yaml: workspace, police_uk (force, first_month, "
                                  "source, base_url) and reports (spec, out); see the README."),
    format: str = typer.Option("text", "--format", help="text (one line per step) or json."),
) -> None:
    """The monthly cycle: fetch what police.uk published since the last load, add it to the
    workspace, rebuild the report pack(s); one line per step. Any failure exits non-zero with
    the reason and leaves the workspace (and the old packs) as they were."""
    from hotspot_app.questions import monthly
    from hotspot_app.render import pack as report_pack

    check_choice(format, ("text", "json"), "format")
    emit = typer.echo if format == "text" else progress
    doc = monthly.run(config, report_pack, emit=emit, progress=progress)
    if format == "json":
        emit_json(doc)

    else:
        for w in doc["warnings"]:
            progress(f"warning: {w}")


app.add_typer(fetch_app, name="fetch")

__all__ = ["fetch_app", "monthly_command"]
