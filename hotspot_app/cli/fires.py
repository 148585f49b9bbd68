"""Fires: `hotspot seasonal` (the bonfire period, or any months, against the rest of the year)."""

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
    load_incidents_arg,
    progress,
)
from hotspot_app.core.errors import InputError


def season_arg(text: Optional[str]) -> tuple[int, ...] | None:
    """--season '10,11' (month numbers) -> (10, 11); None for the default (the bonfire period)."""
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InputError(f"--season '{text}' is not month numbers separated by commas (e.g. 10,11)",
                         parameter="season") from None


def _n(v, places: int = 2) -> str:
    return "n/a" if v is None else f"{v:,.{places}f}"


def seasonal_markdown(answer, what: str) -> str:
    lines = [answer.sentence(what), "", f"Method: {answer.method}", "",
             f"| month | {what} | in {answer.label} |", "|---|---:|---|"]
    for r in answer.by_month.itertuples():
        lines.append(f"| {r.month} | {'n/a' if r.count is None else f'{r.count:,}'} | "
                     f"{'yes' if r.season else ''} |")
    lines += ["", f"| ward | per month in {answer.label} | per month otherwise | rate ratio | 95% CI | change |",
              "|---|---:|---:|---:|---|---:|"]
    for r in answer.by_ward.to_dict("records"):
        ci = "n/a" if r["ci_low"] is None else f"{r['ci_low']:.2f} to {r['ci_high']:.2f}"
        change = "n/a" if r["pct_change"] is None else f"{r['pct_change']:+.0f}%"
        lines.append(f"| {r['ward']} | {_n(r['season_per_month'])} | {_n(r['other_per_month'])} | "
                     f"{_n(r['rate_ratio'])} | {ci} | {change} |")
    return "\n".join(lines)


@app.command("seasonal")
@guarded
def seasonal_command(
    incidents: IncidentsArg,
    category: CategoryOpt = None,
    season: Optional[str] = typer.Option(None, "--season", help="Months of the year compared with "
                                         "the rest, as numbers: e.g. 10,11 (default: the bonfire "
                                         "period, October-November)."),
    from_: FromOpt = None,
    to: ToOpt = None,
    areas: Optional[Path] = typer.Option(None, "--areas", help="Ward boundaries (default: the "
                                         "file's own ward column)."),
    areas_layer: AreasLayerOpt = None,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the per-ward table (.csv or .xlsx)."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Seasonal comparison: incidents a month in the chosen months of the year (default the
    bonfire period, October-November) against the other months, overall, per month and per ward,
    with the rate ratio and its 95% interval. Default category: deliberate fires."""
    from hotspot_app.core import periods, taxonomy
    from hotspot_app.io import exports
    from hotspot_app.questions import fires
    from hotspot_app.render import formatting

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"cannot write '{out.suffix}'; use .csv or .xlsx", parameter="out")
    chosen = season_arg(season)
    exports.check_outputs_distinct([*incidents, *([areas] if areas else [])], [out])
    area_gdf = load_areas_arg(areas, source_layer=areas_layer) if areas is not None else None
    data = load_incidents_arg(incidents)
    cats = tuple(category) if category else (fires.GROUPS[0],)
    have = sorted(data["month"].dropna().astype(str).unique())
    if not have:
        raise InputError("no incidents loaded", parameter="incidents")
    months = periods.month_range(from_ or have[0], to or have[-1])
    answer = fires.seasonal(data, area_gdf, category=cats, months=months,
                            **({"season": chosen} if chosen is not None else {}))
    for w in answer.warnings:
        progress(f"warning: {w}")
    what = taxonomy.selection_label(list(cats))
    if out is not None:
        table = answer.by_ward
        if out.suffix.lower() == ".csv":
            exports.write_bytes_atomic(out, exports.csv_bytes(table))
        else:
            exports.write_bytes_atomic(out, formatting.xlsx_bytes(table, title=f"{what}: {answer.label} against the rest of the year"))
        progress(f"wrote the per-ward table ({len(table)} rows) to {out}")
    doc = answer.to_dict()
    doc.update(category=list(cats), months=[months[0], months[-1]], text=answer.sentence(what))
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(seasonal_markdown(answer, what))
