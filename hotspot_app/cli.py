"""The `hotspot` command line (design §5). Thin: parse arguments, call the core, print.

Contract for every command: ``--help``; exit 0 on success; bad input prints a one-line error
naming the problem on stderr and exits 2; ``--format json`` prints exactly one JSON document on
stdout and nothing else on stdout (progress and warnings go to stderr).
"""

from __future__ import annotations

import functools
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer

from .errors import HotspotError, InputError

app = typer.Typer(
    name="hotspot",
    help="Crime, ASB and deliberate-fire hotspots, patrol areas and intervention evaluation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --------------------------------------------------------------------------- shared plumbing
def fail(message: str, code: int = 2) -> None:
    """Print a one-line error to stderr and exit (2 = bad input)."""
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    raise typer.Exit(code)


def guarded(func: Callable) -> Callable:
    """Turn the project's input errors (and unreadable files) into the one-line exit-2 error."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except (HotspotError, FileNotFoundError, IsADirectoryError, PermissionError,
                UnicodeDecodeError, ValueError) as exc:
            fail(str(exc))

    return wrapper


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (never NaN/Infinity)."""
    sys.stdout.write(json.dumps(_jsonable(document), ensure_ascii=False, allow_nan=False) + "\n")


def progress(message: str) -> None:
    """Progress for long work, on stderr so JSON stdout stays clean."""
    typer.echo(message, err=True)


def load_incidents_arg(paths: List[Path], kind: str = "auto"):
    """INCIDENTS argument: incident files, folders of police.uk months, a zip, or a workspace
    GeoPackage (with an `incidents` layer). Returns the incidents GeoDataFrame; warnings and
    rejected-row counts are reported on stderr."""
    from . import ingest, store

    if len(paths) == 1 and store.is_workspace(paths[0]):
        return store.open_workspace(paths[0]).incidents()
    result = ingest.read_incidents(paths, kind=kind)
    if result.summary["rejected"]:
        progress(f"note: {result.summary['rejected']} of {result.summary['read']} rows rejected "
                 f"({', '.join(f'{k}: {v}' for k, v in result.summary['rejected_by_reason'].items())})")
    return result.incidents


def load_areas_arg(path: Path, name_field: Optional[str] = None, layer: str = "custom"):
    """AREAS argument: a boundary file (GeoJSON, GeoPackage, zipped Shapefile) or a workspace."""
    from . import ingest, store

    if store.is_workspace(path):
        return store.open_workspace(path).areas()
    return ingest.read_boundaries(path, name_field=name_field, layer=layer).areas


# ===== command: demo (section owned by its module's author; keep edits inside) =====
@app.command("demo")
@guarded
def demo_command(
    out: Path = typer.Option(..., "--out", help="Folder to write the synthetic demo borough into."),
    if_missing: bool = typer.Option(False, "--if-missing",
                                    help="Do nothing when OUT already holds a complete demo."),
    fmt: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Write the deterministic SYNTHETIC demo borough (police.uk-format CSVs, fires, wards,
    town centre, micro-hotspots, workspace.gpkg, truth.json) into OUT."""
    from . import demo as demo_mod
    from . import settings

    if fmt not in ("text", "json"):
        raise InputError(f"--format must be text or json, got '{fmt}'", parameter="format")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder", parameter="out")
    skipped = bool(if_missing and demo_mod.is_complete(out))
    if skipped:
        files = {name: out / name for name in demo_mod.FILES}
        files["police_uk"] = out / "police_uk"
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    else:
        progress(f"generating the synthetic demo borough into {out} ...")
        data = demo_mod.generate()
        files = demo_mod.write(data, out)
        truth = data.truth
    volumes = truth["volumes"]
    if fmt == "json":
        emit_json({"out": str(out), "skipped": skipped, "label": settings.DEMO_LABEL,
                   "files": {k: str(v) for k, v in files.items()},
                   "months": truth["months"], "volumes": volumes})
        return
    if skipped:
        typer.echo(f"{out} already holds the complete synthetic demo; nothing written.")
        return
    typer.echo(settings.DEMO_LABEL)
    typer.echo(f"Wrote the synthetic demo borough to {out}:")
    for name, path in files.items():
        typer.echo(f"  {path}")
    typer.echo(f"{volumes['rows']:,} incidents ({volumes['crime']:,} crime, {volumes['asb']:,} ASB, "
               f"{volumes['fire']:,} fires) for {truth['months']['from']}..{truth['months']['to']}.")
# ===== end: demo =====

# ===== command: ingest (section owned by its module's author; keep edits inside) =====
@app.command("ingest")
@guarded
def ingest_command(
    incidents: List[Path] = typer.Argument(..., help="Incident files, folders of police.uk monthly "
                                           "files (searched recursively) or a police.uk .zip archive."),
    kind: str = typer.Option("auto", "--kind", help="auto | police-uk | fire | generic "
                             "(auto detects each file from its header)."),
    out: Path = typer.Option(..., "--out", help="Output: .csv (schema columns plus longitude/latitude), "
                             ".parquet (GeoParquet) or .gpkg (workspace)."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write the rejected rows "
                                           "(file, row, column, reason, value) to this .csv."),
    format: str = typer.Option("text", "--format", help="text | json"),
) -> None:
    """Read incident files into one canonical table (EPSG:27700); every row read is loaded or
    rejected with a reason (read = loaded + rejected)."""
    from . import ingest
    from .ingest import output

    if format not in ("text", "json"):
        raise InputError(f"unknown format '{format}'; use text or json", parameter="format")
    if kind not in ingest.KINDS:
        raise InputError(f"unknown kind '{kind}'; use one of {', '.join(ingest.KINDS)}", parameter="kind")
    output.check_incidents_path(out)
    if rejects is not None:
        output.check_rejects_path(rejects)
    result = ingest.read_incidents(incidents, kind=kind)
    output.write_incidents(result.incidents, out)
    if rejects is not None:
        output.write_rejects(result.rejects, rejects)
    s = result.summary
    if format == "json":
        emit_json({k: s[k] for k in ("read", "loaded", "rejected", "rejected_by_reason", "warnings")})
        return
    typer.echo(ingest.format_summary(s))
    typer.echo(f"Wrote {s['loaded']:,} incidents to {out}")
    if rejects is not None:
        typer.echo(f"Wrote {s['rejected']:,} rejected rows to {rejects}")
    elif s["rejected"]:
        typer.echo("Use --rejects FILE.csv to list the rejected rows.")


# ===== end: ingest =====

# ===== command: table (section owned by its module's author; keep edits inside) =====
def _areas_layer_guess(path: Path, area_field: Optional[str]) -> str:
    """Layer for a boundary file given to table/summary/rank: 'ward' when the file or its name
    field says so (e.g. wards_2024.geojson, WD24NM), else 'custom' (a workspace keeps its own)."""
    text = f"{path.name} {area_field or ''}".lower()
    return "ward" if ("ward" in text or (area_field or "").upper().startswith("WD")) else "custom"


def _pick_area(areas_path: Path, area: str, area_field: Optional[str]):
    """(all areas, the rows named `area`) from --areas/--area/--area-field."""
    from . import areas as areas_mod

    all_areas = load_areas_arg(areas_path, name_field=area_field,
                               layer=_areas_layer_guess(areas_path, area_field))
    return all_areas, areas_mod.find_area(all_areas, area)


def _check_choice(value: str, choices, parameter: str) -> None:
    if value not in choices:
        raise InputError(f"'{value}' is not one of: {', '.join(choices)}", parameter=parameter)


@app.command("table")
@guarded
def table_command(
    incidents: List[Path] = typer.Argument(..., help="Incident file(s), a folder of police.uk "
                                           "months, or a workspace."),
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace) with the area."),
    area: str = typer.Option(..., "--area", help="Area name (case-insensitive)."),
    month: str = typer.Option(..., "--month", help="Selected month YYYY-MM; windows end with it: "
                              "the month, the last 6 months, the last 12 months."),
    kind: str = typer.Option("crime", "--kind", help="crime (default), asb or fire. ASB and fires "
                             "are never counted in the crime Total."),
    compare: str = typer.Option("same-period-last-year", "--compare",
                                help="same-period-last-year (default) or previous-period."),
    taxonomy_name: str = typer.Option("auto", "--taxonomy", help="auto (by the categories "
                                      "present), police-uk or home-office."),
    area_field: Optional[str] = typer.Option(None, "--area-field", help="Name field of the "
                                             "boundary file (default: detected)."),
    format: str = typer.Option("md", "--format", help="md, csv or json."),
) -> None:
    """Partnership table (seed 004): counts by category hierarchy for one area, for the selected
    month, last 6 and last 12 months, with diff and % diff against the comparison windows."""
    from . import areas as areas_mod, periods, reports

    _check_choice(format, ("md", "csv", "json"), "format")
    _check_choice(kind, ("crime", "asb", "fire"), "kind")
    _check_choice(compare, periods.COMPARISONS, "compare")
    _check_choice(taxonomy_name, areas_mod.TABLE_TAXONOMIES, "taxonomy")
    month = periods.parse_month(month, "month")
    _, rows_area = _pick_area(areas, area, area_field)
    name = str(rows_area["name"].iloc[0])
    progress("loading incidents ...")
    data = load_incidents_arg(incidents)
    rows, warnings = areas_mod.partnership_table(data, rows_area, month, kind=kind, compare=compare,
                                                 taxonomy_name=taxonomy_name)
    if format == "json":
        emit_json(areas_mod.table_document((rows, warnings), name))
        return
    for w in warnings:
        progress(f"warning: {w}")
    if format == "csv":
        sys.stdout.write(reports.table_csv(rows))
    else:
        sys.stdout.write(reports.table_markdown(rows, title=name, warnings=warnings))
# ===== end: table =====

# ===== command: summary (section owned by its module's author; keep edits inside) =====
@app.command("summary")
@guarded
def summary_command(
    incidents: List[Path] = typer.Argument(..., help="Incident file(s), a folder of police.uk "
                                           "months, or a workspace."),
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace) with the area."),
    area: str = typer.Option(..., "--area", help="Area name (case-insensitive)."),
    to: str = typer.Option(..., "--to", help="Last month of the period, YYYY-MM."),
    months: int = typer.Option(12, "--months", help="Length of the period in months (default 12)."),
    area_field: Optional[str] = typer.Option(None, "--area-field", help="Name field of the "
                                             "boundary file (default: detected)."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Area summary (seed 000): crime and ASB (and deliberate fires when loaded) in the period
    against the same period a year earlier, with the sentence for the paper."""
    from . import areas as areas_mod, periods, reports

    _check_choice(format, ("text", "json"), "format")
    to = periods.parse_month(to, "to")
    if months < 1:
        raise InputError("must be at least 1", parameter="months")
    _, rows_area = _pick_area(areas, area, area_field)
    name = str(rows_area["name"].iloc[0])
    progress("loading incidents ...")
    data = load_incidents_arg(incidents)
    doc = areas_mod.area_summary(data, rows_area, to, months, place=areas_mod.area_label(rows_area),
                                 area_name=name)
    if format == "json":
        emit_json(doc)
    else:
        sys.stdout.write(reports.summary_text(doc))
# ===== end: summary =====

# ===== command: rank (section owned by its module's author; keep edits inside) =====
@app.command("rank")
@guarded
def rank_command(
    incidents: List[Path] = typer.Argument(..., help="Incident file(s), a folder of police.uk "
                                           "months, or a workspace."),
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace), e.g. wards."),
    category: Optional[List[str]] = typer.Option(None, "--category", help="Category, group (crime, "
                                                 "asb, deliberate-fires, neighbourhood-crime, ...) "
                                                 "or taxonomy node; repeat for several (default: all)."),
    from_: Optional[str] = typer.Option(None, "--from", help="First month YYYY-MM (default: first "
                                        "month with data)."),
    to: Optional[str] = typer.Option(None, "--to", help="Last month YYYY-MM (default: last month "
                                     "with data)."),
    population: Optional[Path] = typer.Option(None, "--population", help="CSV of population by "
                                              "area code or name (or by LSOA with --lsoa-boundaries)."),
    lsoa_boundaries: Optional[List[Path]] = typer.Option(None, "--lsoa-boundaries", help="Small-area "
                                                         "(LSOA) polygon file(s), repeatable: --population "
                                                         "is then per LSOA and summed to areas by LSOA "
                                                         "centroid; LSOAs without a polygon are placed at "
                                                         "their police.uk incident points when loaded."),
    top: int = typer.Option(3, "--top", help="Report the share of the total in the top N areas."),
    layer: Optional[str] = typer.Option(None, "--layer", help="Area layer to rank (ward, "
                                        "town_centre, micro_hotspot, patrol, custom); default: "
                                        "ward when present, else every area."),
    area_field: Optional[str] = typer.Option(None, "--area-field", help="Name field of the "
                                             "boundary file (default: detected)."),
    format: str = typer.Option("md", "--format", help="md, csv or json."),
) -> None:
    """Rank areas by count with share of the total, cumulative share and rate per 1,000
    population (seed 001); incidents outside every area are listed as 'outside'."""
    import geopandas as gpd
    import pandas as pd

    from . import areas as areas_mod, periods, reports

    _check_choice(format, ("md", "csv", "json"), "format")
    if top < 1:
        raise InputError("must be at least 1", parameter="top")
    if from_ is not None:
        periods.parse_month(from_, "from")
    if to is not None:
        periods.parse_month(to, "to")
    if lsoa_boundaries and population is None:
        raise InputError("--lsoa-boundaries needs --population (the LSOA counts)", parameter="population")
    all_areas = load_areas_arg(areas, name_field=area_field, layer=_areas_layer_guess(areas, area_field))
    layers = all_areas["layer"].astype(str) if "layer" in all_areas.columns else None
    if layer is not None:
        if layers is None or not layers.eq(layer).any():
            have = ", ".join(sorted(set(layers))) if layers is not None else "none"
            raise InputError(f"no areas in layer '{layer}' (layers: {have})", parameter="layer")
        all_areas = all_areas[layers.eq(layer)].reset_index(drop=True)
    elif layers is not None and layers.eq("ward").any() and layers.nunique() > 1:
        all_areas = all_areas[layers.eq("ward")].reset_index(drop=True)
    progress("loading incidents ...")
    data = load_incidents_arg(incidents)
    from . import taxonomy
    taxonomy.select(data, category)  # unknown names fail here, naming the choices
    months = None
    if from_ is not None or to is not None:
        cov = periods.Coverage.of(data)
        if cov.first is None:
            raise InputError("no incidents loaded", parameter="incidents")
        months = periods.month_range(from_ or cov.first, to or cov.last)
    notes: list[str] = []
    pop = None
    if population is not None:
        table = pd.read_csv(population, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in table.columns:
            converted = pd.to_numeric(table[col].str.replace(",", ""), errors="coerce")
            if converted.notna().all() and len(table):
                table[col] = converted
        if lsoa_boundaries:
            polys = pd.concat([gpd.read_file(p).to_crs(all_areas.crs) for p in lsoa_boundaries],
                              ignore_index=True)
            fallback = data if "lsoa_code" in data.columns else None
            pop, report = areas_mod.population_from_lsoa(table, polys, all_areas, fallback_points=fallback)
            for reason, group in report.groupby("reason", sort=True):
                notes.append(f"{len(group)} LSOA(s) {reason} (population {int(group['population'].sum()):,}): "
                             + ", ".join(group["code"].astype(str).head(20)))
        else:
            pop, warns = areas_mod.population_from_table(table, all_areas)
            notes += warns
    ranked, warnings = areas_mod.rank_areas(data, all_areas, category=category or None, months=months,
                                            population=pop)
    layer = str(all_areas["layer"].iloc[0]) if len(all_areas) else "area"
    unit = {"ward": "wards", "town_centre": "town centres", "micro_hotspot": "micro-hotspots",
            "patrol": "patrol areas"}.get(layer, "areas")
    words = {"asb": "ASB", "crime": "crime", "fire": "fire service incidents",
             "deliberate-fires": "deliberate fires", "deliberate-primary-fires": "deliberate primary fires (F1)",
             "deliberate-secondary-fires": "deliberate secondary fires (F3)",
             "neighbourhood-crime": "neighbourhood crime"}
    what = " and ".join(words.get(c.strip().lower(), c) for c in category) if category else "incidents"
    share = areas_mod.top_share(ranked, top, what=what, unit=unit)
    if months is None:
        months_used = sorted(data.loc[taxonomy.select(data, category), "month"].dropna().astype(str).unique())
    else:
        months_used = months
    if format == "json":
        records = []
        for rec in ranked.to_dict("records"):
            records.append({k: (None if areas_mod._isnan(v) else v) for k, v in rec.items()})
        emit_json({"categories": list(category or []),
                   "from": months_used[0] if months_used else None,
                   "to": months_used[-1] if months_used else None,
                   "total": ranked.attrs.get("total"), "outside": ranked.attrs.get("outside"),
                   "top": share, "areas": records, "notes": notes, "warnings": warnings})
        return
    for w in warnings:
        progress(f"warning: {w}")
    for n in notes:
        progress(f"note: {n}")
    if format == "csv":
        sys.stdout.write(reports.rank_csv(ranked))
    else:
        span = periods.format_range(months_used) if months_used else "no months"
        sys.stdout.write(reports.rank_markdown(ranked, title=f"{what} by {layer}, {span}",
                                               notes=[share["text"], *notes, *warnings]))
# ===== end: rank =====

# ===== command: clusters (section owned by its module's author; keep edits inside) =====
def _period_arg(from_: Optional[str], to: Optional[str]):
    """--from/--to -> a (from, to) period for clusters/hotspots (either end may be open)."""
    from . import periods

    if from_ is None and to is None:
        return None
    a = periods.parse_month(from_, "from") if from_ is not None else None
    b = periods.parse_month(to, "to") if to is not None else None
    if a and b and a > b:
        raise InputError(f"--from {a} is after --to {b}", parameter="from")
    return (a, b)


def _clusters_markdown(doc: dict, message: Optional[str]) -> str:
    p = doc["parameters"]
    lines = [f"Patrol areas (DBSCAN, eps_m {p['eps_m']:g}, min_samples {p['min_samples']}"
             + (f", within {p['days']:g} days" if p.get("days") is not None else "") + "): "
             f"{len(doc['clusters'])} clusters; {doc['n_incidents']:,} incidents selected, "
             f"{doc['n_noise']:,} not in any cluster.", ""]
    if message:
        lines.append(message)
        return "\n".join(lines)
    lines.append("| rank | cluster_id | count | area m² | per km² | months | top categories |")
    lines.append("|---:|---:|---:|---:|---:|---|---|")
    for c in doc["clusters"]:
        top = ", ".join(f"{k} ({v})" for k, v in c["top_categories"].items())
        lines.append(f"| {c['rank']} | {c['cluster_id']} | {c['count']:,} | {c['area_m2']:,.0f} | "
                     f"{c['density_per_km2']:,.0f} | {c['first_month']}..{c['last_month']} | {top} |")
    return "\n".join(lines)


@app.command("clusters")
@guarded
def clusters_command(
    incidents: List[Path] = typer.Argument(..., help="Incident file(s), a folder of police.uk "
                                           "months, or a workspace."),
    category: Optional[List[str]] = typer.Option(None, "--category", help="Category, group (asb, "
                                                 "deliberate-secondary-fires, ...) or taxonomy "
                                                 "node; repeat for several (default: all)."),
    from_: Optional[str] = typer.Option(None, "--from", help="First month YYYY-MM (inclusive)."),
    to: Optional[str] = typer.Option(None, "--to", help="Last month YYYY-MM (inclusive)."),
    eps_m: float = typer.Option(..., "--eps-m", help="DBSCAN radius in metres, e.g. 100."),
    min_samples: int = typer.Option(..., "--min-samples", help="Incidents within eps_m (self "
                                    "included) that make a core incident, e.g. 15."),
    days: Optional[float] = typer.Option(None, "--days", help="Space-time mode: neighbours must "
                                         "also be within this many days."),
    weight: bool = typer.Option(False, "--weight", help="Use the weight column (harm, cost) as "
                                "sample weight."),
    method: str = typer.Option("auto", "--method", help="auto (exact grid), sklearn or hdbscan."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the patrol-area polygons: "
                                       ".geojson, .gpkg or .kml."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """DBSCAN patrol areas: clusters of incidents as ranked polygons (count, area, density,
    months, top categories); says which parameter to change when none is found."""
    from . import clusters

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if out is not None and out.suffix.lower() not in clusters.EXPORT_FORMATS:
        raise InputError(f"cannot write '{out.suffix}'; use .geojson, .gpkg or .kml",
                         parameter="out")
    period = _period_arg(from_, to)
    clusters.validate_params(eps_m=eps_m, min_samples=min_samples, days=days, method=method)
    data = load_incidents_arg(incidents)
    import warnings as _warnings

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        result = clusters.dbscan(data, eps_m, min_samples, category=category or None,
                                 period=period, days=days, weight=weight, method=method)
    for w in caught:
        progress(f"warning: {w.message}")
    progress(f"{len(result.areas)} clusters among {result.n_incidents:,} of {len(data):,} incidents")
    if out is not None:
        clusters.export(result.areas, out)
        progress(f"wrote {len(result.areas)} patrol areas to {out}")
    doc = result.to_dict()
    if result.message and format == "json":
        progress(result.message)
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(_clusters_markdown(doc, result.message))


# ===== end: clusters =====

# ===== command: grid (section owned by its module's author; keep edits inside) =====
@app.command("grid")
@guarded
def grid_command(
    incidents: List[Path] = typer.Argument(..., help="Incident file(s), a folder of police.uk "
                                           "months, or a workspace."),
    cell_m: float = typer.Option(..., "--cell-m", help="Cell size in metres (hexagons have the "
                                 "same area as a square of this side)."),
    method: str = typer.Option("count", "--method", help="count, kde or gistar."),
    shape: str = typer.Option("square", "--shape", help="square or hex."),
    category: Optional[List[str]] = typer.Option(None, "--category", help="Category, group or "
                                                 "taxonomy node; repeat for several."),
    from_: Optional[str] = typer.Option(None, "--from", help="First month YYYY-MM (inclusive)."),
    to: Optional[str] = typer.Option(None, "--to", help="Last month YYYY-MM (inclusive)."),
    bandwidth_m: Optional[float] = typer.Option(None, "--bandwidth-m", help="KDE bandwidth "
                                                "(Gaussian sd) in metres (default: cell size)."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file whose union is the "
                                         "study area (default: the incidents' hull)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Gi* significance after FDR correction."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the cells: .gpkg, .geojson "
                                       "or .csv."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Grid or hex hotspots: counts, kernel density or Getis-Ord Gi* (Benjamini-Hochberg FDR)
    per cell over the study area."""
    from . import hotspots

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if method not in hotspots.METHODS:
        raise InputError(f"unknown method '{method}'; use count, kde or gistar", parameter="method")
    if shape not in hotspots.SHAPES:
        raise InputError(f"unknown shape '{shape}'; use square or hex", parameter="shape")
    if out is not None and out.suffix.lower() not in hotspots.CELL_EXPORTS:
        raise InputError(f"cannot write '{out.suffix}'; use .gpkg, .geojson or .csv",
                         parameter="out")
    period = _period_arg(from_, to)
    area_gdf = load_areas_arg(areas) if areas is not None else None
    data = load_incidents_arg(incidents)
    kwargs = {"areas": area_gdf, "category": category or None, "period": period}
    if method == "kde":
        kwargs["bandwidth_m"] = bandwidth_m
    if method == "gistar":
        kwargs["alpha"] = alpha
    cells = hotspots.hotspot_grid(data, cell_m, method, shape, **kwargs)
    progress(f"{method} on {len(cells):,} {shape} cells of {cell_m:g} m")
    if out is not None:
        hotspots.export_cells(cells, out)
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


# ===== end: grid =====

# ===== command: evaluate (section owned by its module's author; keep edits inside) =====
from . import settings as _eval_settings  # noqa: E402


def _evaluate_region(value: str, areas_gdf, what: str, area_field: Optional[str]):
    """(areas rows, display name, picked-by-name) for --area/--control: a boundary file or a
    name in --areas."""
    from . import areas as areas_mod

    path = Path(value)
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml") and not path.exists():
        raise InputError(f"boundary file not found: {value}", parameter=what)
    if path.suffix and path.exists():
        rows = load_areas_arg(path, name_field=area_field)
        names = list(dict.fromkeys(rows["name"].astype(str))) if "name" in rows.columns else []
        name = names[0] if len(names) == 1 else path.stem
        return rows, name, False
    if areas_gdf is None:
        raise InputError(f"'{value}' is not a boundary file; give --areas FILE to pick an area by "
                         "name", parameter=what)
    try:
        rows = areas_mod.find_area(areas_gdf, value)
    except InputError as exc:
        raise InputError(exc.message, parameter=what) from None
    return rows, str(rows["name"].iloc[0]), True


@app.command("evaluate")
@guarded
def evaluate_command(
    incidents: List[Path] = typer.Argument(..., help="Incident file(s), a folder of police.uk "
                                           "months, or a workspace."),
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
    category: Optional[List[str]] = typer.Option(None, "--category", help="Category, group (asb, "
                                                 "crime, deliberate-fires, ...) or taxonomy node; "
                                                 "repeat for several (default: all incidents)."),
    buffer_m: float = typer.Option(_eval_settings.BUFFER_M, "--buffer-m", help="Displacement ring width, metres "
                                   "(0 = none)."),
    control: Optional[str] = typer.Option(None, "--control", help="Control area: a name in "
                                          "--areas or a boundary file (default: the rest of the "
                                          "area layer outside the target and its ring)."),
    area_field: Optional[str] = typer.Option(None, "--area-field", help="Name field of the "
                                             "boundary files (default: detected)."),
    format: str = typer.Option("md", "--format", help="md or json."),
) -> None:
    """Before/after evaluation of an intervention area with a control, displacement buffer
    (WDQ, total net effect, WDD) and plain-English warnings."""
    from . import evaluation, periods, settings

    if format not in ("md", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    periods.parse_range(after, "after")
    for value, name in ((before, "before"), (baseline, "baseline")):
        if value is not None:
            periods.parse_range(value, name)
    areas_gdf = load_areas_arg(areas, name_field=area_field) if areas is not None else None
    target_rows, target_name, by_name = _evaluate_region(area, areas_gdf, "area", area_field)
    layer = str(target_rows["layer"].iloc[0]) if "layer" in target_rows.columns else None
    context = exclude = None
    control_rows = control_name = None
    if control is not None:
        control_rows, control_name, _ = _evaluate_region(control, areas_gdf, "control", area_field)
    elif areas_gdf is not None:
        same = areas_gdf
        if by_name and "layer" in areas_gdf.columns:
            same = areas_gdf[areas_gdf["layer"].astype(str) == layer]
        if by_name and layer in evaluation.INTERVENTION_LAYERS:
            others = same[~same.index.isin(target_rows.index)]
            exclude = others if len(others) else None
        else:
            context = same
    progress("loading incidents ...")
    data = load_incidents_arg(list(incidents))
    result = evaluation.evaluate(
        data, target_rows, after=after, before=before, baseline=baseline,
        categories=list(category) if category else None, buffer_m=buffer_m,
        control=control_rows, context=context, exclude=exclude, name=target_name,
        layer=layer if layer not in (None, "custom") else None, control_name=control_name,
        small_count=settings.SMALL_COUNT)
    if format == "json":
        emit_json(result.to_dict())
    else:
        typer.echo(result.to_markdown())
# ===== end: evaluate =====


# ===== command: users, audit (shared deployments; section owned by the PostGIS/auth author) =====
users_app = typer.Typer(help="Users and roles of a shared deployment (sign-in): viewer, analyst, admin.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")

_STORE_HELP = ("Users store: a .json file or a postgresql:// URL (default: HOTSPOT_AUTH, else the "
               "PostgreSQL workspace in HOTSPOT_WORKSPACE).")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)


@users_app.command("add")
@guarded
def users_add_command(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -)."),
    role: str = typer.Option("viewer", "--role", help="viewer (read), analyst (load data, draw areas, "
                             "record interventions, save runs) or admin (manage users)."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from the first line of stdin (no prompt)."),
):
    """Add a user with a password (asked for twice, hidden) and a role."""
    from . import auth

    users = auth.open_users(store_)
    auth.check_role(role)
    user = users.add(name, _read_password(password_stdin), role)
    typer.echo(f"Added {user.name} ({user.role}).")


@users_app.command("set-role")
@guarded
def users_set_role_command(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Argument(..., help="viewer, analyst or admin."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
):
    """Change a user's role."""
    from . import auth

    user = auth.open_users(store_).set_role(name, role)
    typer.echo(f"{user.name} is now {user.role}.")


@users_app.command("set-password")
@guarded
def users_set_password_command(
    name: str = typer.Argument(..., help="User name."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
):
    """Set a user's password."""
    from . import auth

    users = auth.open_users(store_)
    users.set_password(name, _read_password(password_stdin))
    typer.echo(f"Password of {name} changed.")


@users_app.command("list")
@guarded
def users_list_command(
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    fmt: str = typer.Option("text", "--format", help="text or json."),
):
    """List users and their roles (never passwords)."""
    from . import auth

    _check_choice(fmt, ("text", "json"), "format")
    table = auth.open_users(store_).list()
    if fmt == "json":
        emit_json({"users": table.to_dict(orient="records")})
    elif len(table):
        typer.echo(table.to_markdown(index=False))
    else:
        typer.echo("No users yet: add the first admin with `hotspot users add NAME --role admin`.")


@app.command("audit")
@guarded
def audit_command(
    workspace: str = typer.Argument(..., help="Workspace: a .gpkg file or a postgresql:// URL."),
    fmt: str = typer.Option("text", "--format", help="text or json."),
):
    """Who changed the workspace, when, and what (loads, replacements, areas, interventions, runs)."""
    from . import store

    _check_choice(fmt, ("text", "json"), "format")
    ws = store.open_workspace(workspace)
    if not hasattr(ws, "audit"):
        fail(f"{workspace}: this workspace has no audit log")
    log = ws.audit()
    if fmt == "json":
        emit_json({"workspace": str(getattr(ws, "where", workspace)), "audit": log.to_dict(orient="records")})
    elif len(log):
        typer.echo(log.to_markdown(index=False))
    else:
        typer.echo("No changes recorded yet.")
# ===== end: users, audit =====


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
