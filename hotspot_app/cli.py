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
from typing import Annotated, Any, Callable, List, Optional

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
        _INPUT_WARNINGS.clear()
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
    if value is None or type(value) in (str, int, bool):  # most values: nothing to do
        return value
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


#: Warnings of the inputs this command read (ingest and boundary readers); each was printed on
#: stderr when it arose, and `emit_json` adds them to a document's ``warnings`` list.
_INPUT_WARNINGS: list[str] = []


def input_warning(message: str) -> None:
    """Report a warning about an input: stderr now, and the JSON ``warnings`` later."""
    if message not in _INPUT_WARNINGS:
        _INPUT_WARNINGS.append(message)
        progress(f"warning: {message}")


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (never NaN/Infinity). A document with a
    ``warnings`` list gets the input warnings first (every warning reaches the user)."""
    if isinstance(document, dict) and isinstance(document.get("warnings"), list) and _INPUT_WARNINGS:
        document = {**document, "warnings": _INPUT_WARNINGS
                    + [w for w in document["warnings"] if w not in _INPUT_WARNINGS]}
    sys.stdout.write(json.dumps(_jsonable(document), ensure_ascii=False, allow_nan=False) + "\n")


def progress(message: str) -> None:
    """Progress for long work, on stderr so JSON stdout stays clean."""
    typer.echo(message, err=True)


def load_incidents_arg(paths: List[Path], kind: str = "auto"):
    """INCIDENTS argument: incident files, folders of police.uk months, a zip, or a workspace
    GeoPackage (with an `incidents` layer). Returns the incidents GeoDataFrame; warnings and
    rejected-row counts are reported on stderr."""
    from . import ingest, store
    from .ingest import canonical

    if len(paths) == 1 and store.is_workspace(paths[0]):
        return store.open_workspace(paths[0]).incidents()
    if len(paths) == 1 and kind in ("auto", "generic"):
        found = canonical.read(paths[0])
        if found is not None:
            return found.incidents
    result = ingest.read_incidents(paths, kind=kind)
    for w in result.summary["warnings"]:
        input_warning(w)
    if result.summary["rejected"]:
        progress(f"note: {result.summary['rejected']} of {result.summary['read']} rows rejected "
                 f"({', '.join(f'{k}: {v}' for k, v in result.summary['rejected_by_reason'].items())})")
    return result.incidents


def load_selected(paths: List[Path], category=None, period=None):
    """INCIDENTS for a command that only uses the selected ones: ``(incidents, summary, rows)``.

    A GeoParquet file written by `hotspot ingest` is read back with only the selected rows
    (`ingest.canonical`); ``summary`` then has one row per distinct (source, kind, category,
    group, month) of the whole file, for what is judged on everything loaded (coverage), and
    ``rows`` counts the file's rows. Other inputs are read whole (`load_incidents_arg`; the
    command selects): ``summary`` None, ``rows`` their number."""
    from . import store
    from .ingest import canonical

    if len(paths) == 1 and not store.is_workspace(paths[0]):
        found = canonical.read(paths[0], category=category, period=period)
        if found is not None:
            return found.incidents, found.summary, found.rows
    data = load_incidents_arg(paths)
    return data, None, len(data)


def load_areas_arg(path: Path, name_field: Optional[str] = None, layer: str = "custom",
                   source_layer: Optional[str] = None):
    """AREAS argument: a boundary file (GeoJSON, GeoPackage, zipped Shapefile) or a workspace.
    The boundary reader's warnings (repaired or dropped polygons, CRS, shared names) reach the
    user (`input_warning`); `source_layer` picks the layer of a multi-layer GeoPackage."""
    from . import ingest, store

    if source_layer is None and store.is_workspace(path):
        return store.open_workspace(path).areas()
    result = ingest.read_boundaries(path, name_field=name_field, layer=layer, source_layer=source_layer)
    for w in result.warnings:
        input_warning(w)
    return result.areas


# ===== command: demo (section owned by its module's author; keep edits inside) =====
@app.command("demo")
@guarded
def demo_command(
    out: Path = typer.Option(..., "--out", help="Folder to write the synthetic demo borough into."),
    geodata: Optional[Path] = typer.Option(None, "--geodata", help="Folder for its boundary files "
                                           "(wards, town centre, micro-hotspots); default: OUT."),
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
    skipped = bool(if_missing and demo_mod.is_complete(out, geodata))
    if skipped:
        files = demo_mod.file_paths(out, geodata)
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    else:
        progress(f"generating the synthetic demo borough into {out} ...")
        data = demo_mod.generate()
        files = demo_mod.write(data, out, geodata)
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
    out: Optional[Path] = typer.Option(None, "--out", help="Output: .csv (schema columns plus longitude/latitude), "
                             ".parquet (GeoParquet) or .gpkg (workspace)."),
    into: Optional[str] = typer.Option(None, "--into", help="Add the rows to a workspace (.gpkg path or "
                                       "postgresql:// URL): each (source, provider, month) loaded "
                                       "replaces the same in the workspace; everything else is kept."),
    replace_all: bool = typer.Option(False, "--replace-all", help="With --into: remove ALL incidents "
                                     "first (areas, interventions and saved runs are kept)."),
    provider: Optional[str] = typer.Option(None, "--provider", help="Provider of generic files "
                                           "(default 'generic'); police.uk and fire files name their own."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write the rejected rows "
                                           "(file, row, column, reason, value) to this .csv."),
    layer: Optional[str] = typer.Option(None, "--layer", help="GeoPackage layer to read (default: "
                                        "every layer holding incidents)."),
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
    from . import exports

    if (out is None) == (into is None):
        raise InputError("give --out FILE or --into WORKSPACE (one of them)", parameter="out")
    if replace_all and into is None:
        raise InputError("--replace-all needs --into WORKSPACE", parameter="replace-all")
    if out is not None:
        output.check_incidents_path(out)
    if rejects is not None:
        output.check_rejects_path(rejects)
    exports.check_outputs_distinct(incidents, [out, rejects])
    ws = _into_workspace(into, incidents, rejects) if into is not None else None
    result = ingest.read_incidents(incidents, kind=kind, layer=layer, provider=provider)
    loaded = None
    if ws is not None:
        loaded = ws.load_incidents(result.incidents, files=[str(p) for p in incidents],
                                   read=result.summary["read"], rejected=result.rejects,
                                   replace_all=replace_all)
        if rejects is not None:
            output.write_rejects(result.rejects, rejects)
    else:  # --out and --rejects written atomically together
        output.write_outputs(result.incidents, out, result.rejects, rejects)
    s = result.summary
    if format == "json":
        doc = {k: s[k] for k in ("read", "loaded", "rejected", "rejected_by_reason", "warnings")}
        if loaded is not None:
            doc["workspace"] = loaded.to_dict()
        emit_json(doc)
        return
    typer.echo(ingest.format_summary(s))
    if loaded is not None:
        typer.echo(_workspace_text(loaded, into))
    else:
        typer.echo(f"Wrote {s['loaded']:,} incidents to {out}")
    if rejects is not None:
        typer.echo(f"Wrote {s['rejected']:,} rejected rows to {rejects}")
    elif s["rejected"]:
        typer.echo("Use --rejects FILE.csv to list the rejected rows.")


def _into_workspace(into: str, inputs: List[Path], rejects: Optional[Path]):
    """The workspace of ``ingest --into`` (refused when it is one of the inputs or the rejects)."""
    from . import exports, store

    if not store.is_workspace(into):
        path = Path(into)
        exports.check_outputs_distinct(inputs, [path, rejects])
        if path.exists() and store.META not in store.Workspace(path).layers():
            raise InputError("exists and is not a workspace GeoPackage; choose another --into",
                             file=str(path), parameter="into")
    return store.open_workspace(into)


def _workspace_text(loaded, into: str) -> str:
    """Text lines of a workspace load: counts, and what a replacement removed."""
    lines = [f"Workspace {into}: {loaded.before:,} -> {loaded.after:,} incidents "
             f"({loaded.added:,} added, {loaded.replaced:,} replaced)"]
    for (source, provider, month), n in sorted(loaded.removed.items()):
        lines.append(f"  replaced {n:,} rows of {source} {provider} {month}")
    return "\n".join(lines)


# ===== end: ingest =====

# ===== command: table (section owned by its module's author; keep edits inside) =====
def _areas_layer_guess(path: Path, area_field: Optional[str]) -> str:
    """Layer for a boundary file given to table/summary/rank: 'ward' when the file or its name
    field says so (e.g. wards_2024.geojson, WD24NM), else 'custom' (a workspace keeps its own)."""
    text = f"{path.name} {area_field or ''}".lower()
    return "ward" if ("ward" in text or (area_field or "").upper().startswith("WD")) else "custom"


def _pick_area(areas_path: Path, area: str, area_field: Optional[str], areas_layer: Optional[str] = None):
    """(all areas, the rows named `area`) from --areas/--area/--area-field/--areas-layer."""
    from . import areas as areas_mod

    all_areas = load_areas_arg(areas_path, name_field=area_field,
                               layer=_areas_layer_guess(areas_path, area_field), source_layer=areas_layer)
    return all_areas, areas_mod.find_area(all_areas, area)


# The options several commands share, declared once (same flag, type and help everywhere).
IncidentsArg = Annotated[List[Path], typer.Argument(
    help="Incident file(s), a folder of police.uk months, or a workspace.")]
AreaFieldOpt = Annotated[Optional[str], typer.Option(
    "--area-field", help="Name field of the boundary file(s) (default: detected).")]
AreasLayerOpt = Annotated[Optional[str], typer.Option(
    "--areas-layer", help="Layer of a multi-layer GeoPackage AREAS file to read.")]
CategoryOpt = Annotated[Optional[List[str]], typer.Option(
    "--category", help="Category, group (crime, asb, deliberate-fires, deliberate-secondary-fires, "
    "neighbourhood-crime, ...) or taxonomy node; repeat for several (default: all incidents).")]
FromOpt = Annotated[Optional[str], typer.Option(
    "--from", help="First month YYYY-MM, inclusive (default: the first month with data).")]
ToOpt = Annotated[Optional[str], typer.Option(
    "--to", help="Last month YYYY-MM, inclusive (default: the last month with data).")]


def _check_choice(value: str, choices, parameter: str) -> None:
    if value not in choices:
        raise InputError(f"'{value}' is not one of: {', '.join(choices)}", parameter=parameter)


def _write_out(out: Optional[Path], payload: "str | bytes") -> None:
    """Write a command's output to --out atomically (naming the path on failure) or to stdout."""
    from . import exports

    if out is not None:
        exports.write_bytes_atomic(out, payload if isinstance(payload, bytes) else payload.encode("utf-8"))
        progress(f"wrote {out}")
    else:
        sys.stdout.write(payload if isinstance(payload, str) else payload.decode("utf-8"))


def _emit_document(doc: dict, out: Optional[Path]) -> None:
    """The one JSON document: on stdout, or written to --out."""
    if out is None:
        emit_json(doc)
    else:
        _write_out(out, json.dumps(_jsonable(doc), ensure_ascii=False, allow_nan=False) + "\n")


@app.command("table")
@guarded
def table_command(
    incidents: IncidentsArg,
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace) with the area."),
    area: Optional[List[str]] = typer.Option(None, "--area", help="Area name (case-insensitive); "
                                             "repeat for one column per area."),
    by: Optional[str] = typer.Option(None, "--by", help="One column per value of this field of "
                                     "AREAS, areas dissolved (e.g. LAD24NM: local authorities), plus Total."),
    within: Optional[str] = typer.Option(None, "--within", help="FIELD=VALUE: only the areas whose "
                                         "FIELD equals VALUE (e.g. LAD24NM=Hartlepool)."),
    month: Optional[str] = typer.Option(None, "--month", help="Selected month YYYY-MM; windows end "
                                        "with it: the month, the last 6 months, the last 12 months."),
    period: Optional[str] = typer.Option(None, "--period", help="FROM..TO: one window (e.g. a quarter "
                                         "2024-04..2024-06)."),
    years: Optional[str] = typer.Option(None, "--years", help="FIRST..LAST: one column per 12-month "
                                        "year starting in --year-start, each against the year before."),
    year_start: int = typer.Option(4, "--year-start", help="First month of each --years year "
                                   "(4 = April, financial years; 10 = October-September)."),
    kind: str = typer.Option("crime", "--kind", help="crime (default), asb or fire. ASB and fires "
                             "are never counted in the crime Total."),
    compare: str = typer.Option("same-period-last-year", "--compare",
                                help="same-period-last-year (default), previous-period, or a fixed "
                                "reference window FROM..TO."),
    category: CategoryOpt = None,
    taxonomy_name: str = typer.Option("auto", "--taxonomy", help="auto (by the categories "
                                      "present), police-uk or home-office."),
    population: Optional[Path] = typer.Option(None, "--population", help="CSV with a population "
                                              "column and the column areas' names or codes; rates per 1,000."),
    no_total: bool = typer.Option(False, "--no-total", help="No Total column."),
    rows: Optional[str] = typer.Option(None, "--rows", help="Flat rows by this incident column "
                                       "instead of the category hierarchy (e.g. subcategory: fires "
                                       "by property type)."),
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("md", "--format", help="md, csv, json or xlsx (xlsx needs --out)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the table to FILE (atomically) "
                                       "instead of stdout."),
) -> None:
    """Partnership tables (seed 004; seed 001 Tables 2-5; seed 003): counts by category hierarchy
    with diff, % diff and rates per 1,000, for one or more areas or every value of a field, over
    the selected month / 6 / 12 months, any range, years, or against a fixed reference window."""
    from . import areas as areas_mod, exports, periods, reports, tables

    _check_choice(format, ("md", "csv", "json", "xlsx"), "format")
    _check_choice(kind, ("crime", "asb", "fire"), "kind")
    _check_choice(taxonomy_name, areas_mod.TABLE_TAXONOMIES, "taxonomy")
    if format == "xlsx" and out is None:
        raise InputError("--format xlsx needs --out FILE.xlsx", parameter="out")
    exports.check_outputs_distinct([*incidents, areas, *([population] if population else [])], [out])
    tables.parse_compare(compare)
    if sum(x is not None for x in (month, period, years)) != 1:
        raise InputError("give exactly one of --month, --period or --years", parameter="month")
    if month is not None:
        month = periods.parse_month(month, "month")
    seed004 = (area is not None and len(area) == 1 and month is not None and by is None and within is None
               and not category and population is None and compare in periods.COMPARISONS and rows is None)
    all_areas = load_areas_arg(areas, name_field=area_field, layer=_areas_layer_guess(areas, area_field),
                               source_layer=areas_layer)
    pop_table = tables.read_population(population) if population is not None else None
    progress("loading incidents ...")
    data = load_incidents_arg(incidents)

    def write(payload: str | bytes) -> None:
        _write_out(out, payload)

    if seed004:  # the section-5 contract, unchanged
        rows_area = areas_mod.find_area(all_areas, area[0])
        name = str(rows_area["name"].iloc[0])
        rows, warnings = areas_mod.partnership_table(data, rows_area, month, kind=kind, compare=compare,
                                                     taxonomy_name=taxonomy_name)
        for note in rows.attrs.get("notes", []):
            progress(f"note: {note}")
        if format == "json":
            _emit_document(areas_mod.table_document((rows, warnings), name), out)
            return
        for w in warnings:
            progress(f"warning: {w}")
        if format == "csv":
            write(reports.table_csv(exports.neutralise_frame(rows)))
        elif format == "xlsx":
            write(reports.table_xlsx(exports.neutralise_frame(rows)))
        else:
            write(reports.table_markdown(rows, title=name, warnings=warnings))
        return
    doc = tables.build_table(data, all_areas, area=area or None, by=by, within=within, month=month,
                             period=period, years=years, year_start=year_start, compare=compare,
                             kind=kind, category=category or None, taxonomy_name=taxonomy_name,
                             population=pop_table, total=not no_total, rows=rows)
    if format == "json":
        _emit_document(doc, out)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    title = {"crime": "Crime", "asb": "Anti-social behaviour", "fire": "Fire service incidents"}[kind]
    if format == "csv":
        write(tables.document_csv(doc))
    elif format == "xlsx":
        write(tables.document_xlsx(doc, title=title))
    else:
        write(tables.document_markdown(doc, title=title))
# ===== end: table =====

# ===== command: summary (section owned by its module's author; keep edits inside) =====
@app.command("summary")
@guarded
def summary_command(
    incidents: IncidentsArg,
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace) with the area."),
    area: str = typer.Option(..., "--area", help="Area name (case-insensitive)."),
    to: str = typer.Option(..., "--to", help="Last month of the period, YYYY-MM."),
    months: int = typer.Option(12, "--months", help="Length of the period in months (default 12)."),
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Area summary (seed 000): crime and ASB (and deliberate fires when loaded) in the period
    against the same period a year earlier, with the sentence for the paper."""
    from . import areas as areas_mod, params, periods, reports

    _check_choice(format, ("text", "json"), "format")
    periods.parse_month(to, "to")
    params.validate(months=months)
    _, rows_area = _pick_area(areas, area, area_field, areas_layer)
    progress("loading incidents ...")
    data = load_incidents_arg(incidents)
    doc = areas_mod.area_summary(data, rows_area, to, months)
    if format == "json":
        emit_json(doc)
    else:
        sys.stdout.write(reports.summary_text(doc))
# ===== end: summary =====

# ===== command: rank (section owned by its module's author; keep edits inside) =====
@app.command("rank")
@guarded
def rank_command(
    incidents: IncidentsArg,
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace), e.g. wards."),
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
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
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    by: Optional[str] = typer.Option(None, "--by", help="Rank the values of this field, areas "
                                     "dissolved (e.g. LAD24NM: local authorities)."),
    within: Optional[str] = typer.Option(None, "--within", help="FIELD=VALUE: rank only these areas; "
                                         "shares and totals are within them (e.g. LAD24NM=Hartlepool)."),
    format: str = typer.Option("md", "--format", help="md, csv or json."),
) -> None:
    """Rank areas by count with share of the total, cumulative share and rate per 1,000
    population (seed 001); incidents outside every area are listed as 'outside'."""
    from . import areas as areas_mod, periods, reports

    _check_choice(format, ("md", "csv", "json"), "format")
    from . import params
    params.validate(top=top)
    if from_ is not None:
        periods.parse_month(from_, "from")
    if to is not None:
        periods.parse_month(to, "to")
    if lsoa_boundaries and population is None:
        raise InputError("--lsoa-boundaries needs --population (the LSOA counts)", parameter="population")
    from . import tables

    all_areas, area_warnings = tables.group_areas(areas_mod.ranking_layer(
        load_areas_arg(areas, name_field=area_field, layer=_areas_layer_guess(areas, area_field),
                       source_layer=areas_layer), layer), by=by, within=within)
    progress("loading incidents ...")
    if population is None:  # only the selected categories are read (coverage: the whole file)
        data, whole, _ = load_selected(incidents, category=category or None)
    else:  # LSOAs without a polygon are placed at the incidents that carry their code: all of them
        data, whole = load_incidents_arg(incidents), None
    pop, notes = (areas_mod.read_population(population, all_areas, lsoa_boundaries or (), incidents=data)
                  if population is not None else (None, []))
    ranked, doc = areas_mod.ranking(data, all_areas, category=category, period=(from_, to),
                                    population=pop, top=top, notes=notes, restrict=within is not None,
                                    area_warnings=area_warnings, whole=whole)
    if format == "json":
        emit_json(doc)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    for n in doc["notes"]:
        progress(f"note: {n}")
    if format == "csv":
        sys.stdout.write(reports.rank_csv(ranked))
    else:
        sys.stdout.write(reports.rank_markdown(ranked, title=ranked.attrs["title"],
                                               notes=[doc["top"]["text"], *doc["notes"], *doc["warnings"]]))
# ===== end: rank =====

# ===== command: indicators (section owned by its module's author; keep edits inside) =====
@app.command("indicators")
@guarded
def indicators_command(
    incidents: IncidentsArg,
    spec: Path = typer.Option(..., "--spec", help="CSV with columns indicator, category (groups or "
                              "categories, ';'-separated), target (reduce, increase, maintain, "
                              "N% reduction, N% increase)."),
    period: str = typer.Option(..., "--period", help="Current period FROM..TO (e.g. a quarter)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Baseline window FROM..TO "
                                           "(e.g. the previous financial year)."),
    compare: str = typer.Option("same-period-last-year", "--compare", help="same-period-last-year "
                                "(default), previous-period, or FROM..TO."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file (with --area)."),
    area: Optional[str] = typer.Option(None, "--area", help="Area name (default: every incident)."),
    area_field: AreaFieldOpt = None,
    format: str = typer.Option("md", "--format", help="md, csv, json or xlsx (xlsx needs --out)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to FILE (atomically) instead of stdout."),
) -> None:
    """Performance indicators (seed 003): baseline, directional target, current period, actual
    difference and % difference against the comparison window, and on track / off track."""
    import pandas as pd

    from . import areas as areas_mod, exports, periods, reports, tables

    _check_choice(format, ("md", "csv", "json", "xlsx"), "format")
    if format == "xlsx" and out is None:
        raise InputError("--format xlsx needs --out FILE.xlsx", parameter="out")
    if (areas is None) != (area is None):
        raise InputError("--areas and --area go together", parameter="area")
    periods.parse_range(period, "period")
    if baseline is not None:
        periods.parse_range(baseline, "baseline")
    tables.parse_compare(compare)
    exports.check_outputs_distinct([*incidents, spec, *([areas] if areas else [])], [out])
    try:
        spec_df = pd.read_csv(spec, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read the indicator spec ({' '.join(str(exc).split())})", file=spec) from None
    rows_area = None
    if areas is not None:
        all_areas = load_areas_arg(areas, name_field=area_field, layer=_areas_layer_guess(areas, area_field))
        rows_area = areas_mod.find_area(all_areas, area)
    progress("loading incidents ...")
    data = load_incidents_arg(incidents)
    doc = tables.indicators(data, spec_df, period, baseline=baseline, compare=compare, area=rows_area,
                            spec_file=str(spec))

    def write(payload: str | bytes) -> None:
        _write_out(out, payload)

    if format == "json":
        _emit_document(doc, out)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    title = "Performance indicators" + (f": {rows_area['name'].iloc[0]}" if rows_area is not None else "")
    if format == "csv":
        write(exports.csv_bytes(pd.DataFrame(doc["rows"])))
    elif format == "xlsx":
        notes = pd.DataFrame({"note": [title] + [f"warning: {w}" for w in doc["warnings"]]})
        write(reports.xlsx_bytes({"Indicators": exports.neutralise_frame(tables.indicators_frame(doc)),
                                  "Notes": exports.neutralise_frame(notes)}))
    else:
        write(tables.indicators_markdown(doc, title=title))
# ===== end: indicators =====

# ===== command: clusters (section owned by its module's author; keep edits inside) =====
def _period_arg(from_: Optional[str], to: Optional[str]):
    """--from/--to -> a (from, to) period for clusters/hotspots (either end may be open); each
    month and their order are checked by the one rule, `selection.parse_period`."""
    from . import selection

    if from_ is None and to is None:
        return None
    months = selection.parse_period((from_, to))
    return (months[0], months[-1]) if from_ is not None and to is not None else tuple(months)


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
                                         "'harm' (the documented harm table, hotspot_app/harm.csv) "
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
    from . import clusters, exports, harm

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    if out is not None and out.suffix.lower() not in clusters.EXPORT_FORMATS:
        raise InputError(f"cannot write '{out.suffix}'; use .geojson, .gpkg or .kml",
                         parameter="out")
    exports.check_outputs_distinct([*incidents, *([areas] if areas else [])], [out])
    period = _period_arg(from_, to)
    clusters.validate_params(eps_m=eps_m, min_samples=min_samples, days=days, method=method,
                             top=top)
    area_gdf = load_areas_arg(areas, source_layer=areas_layer) if areas is not None else None
    data, _, total = load_selected(incidents, category=category or None, period=period)
    import warnings as _warnings

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        result = clusters.dbscan(data, eps_m, min_samples, category=category or None,
                                 period=period, days=days, weight=weight, method=method,
                                 areas=area_gdf, top=top)
    for w in caught:
        progress(f"warning: {w.message}")
    progress(f"{result.n_clusters} clusters among {result.n_incidents:,} of {total:,} incidents"
             + (f"; the top {len(result.areas)} shown" if top is not None else ""))
    if weight == "harm" and result.n_clusters:
        progress(f"note: harm weights from {harm.SOURCE}")
        check = harm.rank_check(result.selection.assign(cluster_id=result.labels), "cluster_id",
                                top or 5)
        progress(f"note: {check['text']}")
    if out is not None:
        clusters.export(result.areas, out)
        progress(f"wrote {len(result.areas)} patrol areas to {out}")
    doc = result.to_dict()
    if format == "json":
        emit_json(doc)
    else:
        typer.echo(_clusters_markdown(doc, result.message, result.n_clusters))


# ===== end: clusters =====

# ===== command: grid (section owned by its module's author; keep edits inside) =====
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
    from . import params
    params.validate(cell_m=cell_m, alpha=alpha, **({"bandwidth_m": bandwidth_m} if bandwidth_m is not None else {}))
    area_gdf = load_areas_arg(areas, source_layer=areas_layer) if areas is not None else None
    data, _, _ = load_selected(incidents, category=category or None, period=period)
    kwargs = {"areas": area_gdf, "category": category or None, "period": period}
    if method == "kde":
        kwargs["bandwidth_m"] = bandwidth_m
    if method == "gistar":
        kwargs["alpha"] = alpha
    import warnings as _warnings

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        cells = hotspots.hotspot_grid(data, cell_m, method, shape, **kwargs)
    for w in dict.fromkeys(str(w.message) for w in caught):
        progress(f"warning: {w}")
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


def _region_arg(value: Optional[str], area_field: Optional[str], parameter: str):
    """--area/--control: the polygons of a boundary file, or the name itself (looked up in
    --areas by the core)."""
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml") and not path.exists():
        raise InputError(f"boundary file not found: {value}", parameter=parameter)
    if path.suffix and path.exists():
        from . import areas as areas_mod

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
    buffer_m: float = typer.Option(_eval_settings.BUFFER_M, "--buffer-m", help="Displacement ring width, metres "
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
    from . import evaluation, periods

    if format not in ("md", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    periods.parse_range(after, "after")
    from . import params
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
        from . import patrol

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
        typer.echo(result.to_markdown())
        if patrol_doc is not None:
            typer.echo(patrol.log_report_markdown(patrol_doc))
# ===== end: evaluate =====

# ===== command: report (section owned by its module's author; keep edits inside) =====
@app.command("report")
@guarded
def report_command(
    spec: Optional[Path] = typer.Argument(None, help="Report spec (YAML): data, areas, period and "
                                          "sections; see the README."),
    out: List[Path] = typer.Option(..., "--out", help="Output file, by extension: .html, .pdf, "
                                   ".docx or .xlsx; repeat for several."),
    demo: bool = typer.Option(False, "--demo", help="The SYNTHETIC demo borough's partnership "
                              "paper (report_demo.yaml over the demo data)."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Report pack (design §5b): the partnership paper from a YAML spec as HTML, PDF, DOCX and
    XLSX: tables, sentences, maps, charts and 'About these figures'."""
    from . import report_pack

    _check_choice(format, ("text", "json"), "format")
    if demo == (spec is not None):
        raise InputError("give a SPEC.yaml or --demo (one of them)", parameter="spec")
    report_pack.check_outputs(out)
    the_spec = report_pack.demo_spec() if demo else report_pack.load_spec(spec)
    doc = report_pack.report(the_spec, out, progress=progress)
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    if format == "json":
        emit_json(doc)
        return
    typer.echo(f"Wrote {', '.join(doc['out'])}: {doc['sections']} sections, {doc['tables']} tables, "
               f"{doc['maps']} maps, {len(doc['warnings'])} warnings.")
# ===== end: report =====


# ===== command: patrol-plan (section owned by its module's author; keep edits inside) =====
@app.command("patrol-plan")
@guarded
def patrol_plan_command(
    incidents: IncidentsArg,
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    preset: Optional[str] = typer.Option(None, "--preset", help="street-level (default) or "
                                         "neighbourhood; --eps-m/--min-samples override it."),
    eps_m: Optional[float] = typer.Option(None, "--eps-m", help="DBSCAN radius in metres."),
    min_samples: Optional[int] = typer.Option(None, "--min-samples", help="Incidents within "
                                              "eps_m that make a core incident."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file: names the areas "
                                         "the patrol areas lie in and outlines the sheet's map."),
    top: int = typer.Option(5, "--top", help="Plan for the N highest-ranked patrol areas."),
    visits_per_day: int = typer.Option(2, "--visits-per-day", help="Visits to each area on a "
                                       "patrol day."),
    minutes: int = typer.Option(15, "--minutes", help="Minutes per visit (Koper curve: 10-15)."),
    days: int = typer.Option(28, "--days", help="Length of the plan in days."),
    start: Optional[str] = typer.Option(None, "--start", help="First day YYYY-MM-DD (default: "
                                        "next Monday)."),
    hours: str = typer.Option("10-22", "--hours", help="Patrol hours START-END, e.g. 16-23."),
    comparison_share: float = typer.Option(0.5, "--comparison-share", help="Share of days with "
                                           "no planned patrol (comparison days), 0 to <1."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same plan."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the schedule CSV."),
    sheet: Optional[Path] = typer.Option(None, "--sheet", help="Write the one-page printable "
                                         "patrol sheet (.html)."),
    format: str = typer.Option("md", "--format", help="md (text) or json."),
) -> None:
    """Patrol plan: the top patrol areas, visits per day and minutes per visit, a seeded random
    schedule with comparison days, as CSV and a one-page printable sheet."""
    from . import exports, patrol

    if format not in ("md", "text", "json"):
        raise InputError(f"unknown format '{format}'; use md or json", parameter="format")
    try:
        h0, h1 = (int(x) for x in hours.split("-"))
    except ValueError:
        raise InputError(f"--hours '{hours}' is not START-END (e.g. 10-22)", parameter="hours") from None
    if sheet is not None and sheet.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"cannot write the sheet as '{sheet.suffix}'; use .html", parameter="sheet")
    exports.check_outputs_distinct([*incidents, *([areas] if areas else [])], [out, sheet])
    if preset is not None:
        patrol.preset(preset)
    period = _period_arg(from_, to)
    area_gdf = load_areas_arg(areas) if areas is not None else None
    data = load_incidents_arg(incidents)
    plan = patrol.plan_from_incidents(
        data, category=category or None, period=period, preset_name=preset, eps_m=eps_m,
        min_samples=min_samples, areas=area_gdf, top=top, visits_per_day=visits_per_day,
        minutes=minutes, days=days, start=start, seed=seed, hours=(h0, h1),
        comparison_share=comparison_share)
    for w in plan.warnings:
        progress(f"warning: {w}")
    if out is not None:
        exports.write_bytes_atomic(out, patrol.plan_csv(plan))
        progress(f"wrote the schedule ({len(plan.schedule)} rows) to {out}")
    if sheet is not None:
        exports.write_text_atomic(sheet, patrol.sheet_for(plan, context=area_gdf))
        progress(f"wrote the patrol sheet to {sheet}")
    doc = plan.to_dict()
    doc.update(out=str(out) if out else None, sheet=str(sheet) if sheet else None)
    if format == "json":
        emit_json(doc)
        return
    typer.echo(f"Patrol plan from {plan.start}, {plan.days} days: {plan.visits_per_day} visits of "
               f"{plan.minutes} minutes on patrol days (hours {h0:02d}:00-{h1:02d}:00, seed {seed}).")
    typer.echo("")
    typer.echo("| # | area | grid ref | incidents | patrol days | comparison days | visits | minutes |")
    typer.echo("|---:|---|---|---:|---:|---:|---:|---:|")
    for a in doc["areas"]:
        typer.echo(f"| {a['rank']} | {a['name']} | {a['grid_ref'] or ''} | {a['count']:,} | "
                   f"{a['patrol_days']} | {a['comparison_days']} | {a['planned_visits']} | "
                   f"{a['planned_minutes']} |")
# ===== end: patrol-plan =====


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


# ===== command: fetch, monthly (issue 24; the commands live in cli_fetch.py) =====
from .cli_fetch import fetch_app, monthly_command  # noqa: E402 - uses the plumbing above

app.add_typer(fetch_app, name="fetch")
app.command("monthly")(monthly_command)
# ===== end: fetch, monthly =====


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
