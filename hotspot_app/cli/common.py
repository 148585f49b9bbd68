"""What every `hotspot` command shares: the Typer app, the one-line error and JSON plumbing, reading
the INCIDENTS and AREAS arguments, and the options several commands take.

Contract for every command: ``--help``; exit 0 on success; bad input prints a one-line error
naming the problem on stderr and exits 2; ``--format json`` prints exactly one JSON document on
stdout and nothing else on stdout (progress and warnings go to stderr).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, List, Optional

import typer

from hotspot_app.core.errors import HotspotError, InputError

class _OneLineErrors(typer.core.TyperGroup):
    """The `hotspot` group: a bad command line (an unknown option, ``--eps-m abc``) is the same
    one-line ``error: ...`` (exit 2) as every other bad input, not Typer's boxed usage message."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except Exception as exc:  # click's exceptions (vendored by Typer as typer._click): by duck type
            if type(exc).__name__ == "NoArgsIsHelpError":  # no arguments: the help text
                exc.show()
                sys.exit(exc.exit_code)
            if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
                typer.echo("error: " + " ".join(exc.format_message().split()), err=True)
                sys.exit(exc.exit_code)
            if type(exc).__name__ == "Abort":
                typer.echo("error: aborted", err=True)
                sys.exit(1)
            raise
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="hotspot",
    help="Crime, ASB and deliberate-fire hotspots, patrol areas and intervention evaluation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_OneLineErrors,
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


#: Warnings of the inputs this command read (ingest and boundary readers); each was printed on
#: stderr when it arose, and `emit_json` adds them to a document's ``warnings`` list.
_INPUT_WARNINGS: list[str] = []


def input_warning(message: str) -> None:
    """Report a warning about an input: stderr now, and the JSON ``warnings`` later."""
    if message not in _INPUT_WARNINGS:
        _INPUT_WARNINGS.append(message)
        progress(f"warning: {message}")


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (`formatting.json_text`: never NaN/Infinity).
    A document with a ``warnings`` list gets the input warnings first (every warning reaches the
    user)."""
    from hotspot_app.render import formatting

    if isinstance(document, dict) and isinstance(document.get("warnings"), list) and _INPUT_WARNINGS:
        document = {**document, "warnings": _INPUT_WARNINGS
                    + [w for w in document["warnings"] if w not in _INPUT_WARNINGS]}
    sys.stdout.write(formatting.json_text(document) + "\n")


def progress(message: str) -> None:
    """Progress for long work, on stderr so JSON stdout stays clean."""
    typer.echo(message, err=True)


def load_incidents_arg(paths: List[Path], kind: str = "auto"):
    """INCIDENTS argument: incident files, folders of police.uk months, a zip, or a workspace
    GeoPackage (with an `incidents` layer). Returns every incident (`questions.selected.read`);
    warnings and rejected-row counts are reported on stderr."""
    from hotspot_app.questions import selected

    found = selected.read(paths, None, kind=kind)
    for w in found.warnings:
        input_warning(w)
    for n in found.notes:
        progress(f"note: {n}")
    return found.incidents


def load_selected(paths: List[Path], category=None, period=None, selection=None):
    """INCIDENTS for a command that only uses a selection of them: ``(incidents, whole, rows)``
    (`questions.selected.read`: the selection -- `selection`, or `category` and `period` -- is
    pushed into the read of a workspace or a GeoParquet file written by `hotspot ingest`;
    ``whole`` is then the summary of everything loaded, judged for coverage, else None; ``rows``
    the incidents loaded). What reading the files said goes to stderr."""
    from hotspot_app.core.selection import Selection
    from hotspot_app.questions import selected

    if selection is None:
        selection = Selection(category=category, period=period)
    found = selected.read(paths, selection)
    for w in found.warnings:
        input_warning(w)
    for n in found.notes:
        progress(f"note: {n}")
    return found.incidents, found.whole, found.rows


def load_areas_arg(path: Path, name_field: Optional[str] = None, source_layer: Optional[str] = None):
    """AREAS argument: a boundary file (GeoJSON, GeoPackage, zipped Shapefile) or a workspace,
    its layer decided by `questions.boundaries` (a ward file reads as wards). The boundary
    reader's warnings (repaired or dropped polygons, CRS, shared names) reach the user
    (`input_warning`); `source_layer` picks the layer of a multi-layer GeoPackage."""
    from hotspot_app.questions import boundaries

    areas, warnings = boundaries.read_areas(path, name_field=name_field, source_layer=source_layer)
    for w in warnings:
        input_warning(w)
    return areas


def pick_area(areas_path: Path, area: str, area_field: Optional[str], areas_layer: Optional[str] = None):
    """(all areas, the rows named `area`) from --areas/--area/--area-field/--areas-layer."""
    from hotspot_app.core import areas as areas_mod

    all_areas = load_areas_arg(areas_path, name_field=area_field, source_layer=areas_layer)
    return all_areas, areas_mod.find_area(all_areas, area)


# The options several commands share, declared once (same flag, type and help everywhere).
IncidentsArg = Annotated[List[Path], typer.Argument(
    help="Incident file(s), a folder of police.uk months, or a workspace.")]
AreaFieldOpt = Annotated[Optional[str], typer.Option(
    "--area-field", help="Name field of the boundary file(s) (default: detected).")]
AreasLayerOpt = Annotated[Optional[str], typer.Option(
    "--areas-layer", help="Layer of a multi-layer GeoPackage AREAS file to read.")]
WithinOpt = Annotated[Optional[List[str]], typer.Option(
    "--within", help="Only this place of the --areas layer: FIELD=VALUE[,VALUE] (e.g. "
    "LAD24NM=Hartlepool) or area names separated by commas (e.g. 'Victoria,Headland'); repeat "
    "to combine.")]
CategoryOpt = Annotated[Optional[List[str]], typer.Option(
    "--category", help="Category, group (crime, asb, deliberate-fires, deliberate-secondary-fires, "
    "neighbourhood-crime, ...) or taxonomy node; repeat for several (default: all incidents).")]
FromOpt = Annotated[Optional[str], typer.Option(
    "--from", help="First month YYYY-MM, inclusive (default: the first month with data).")]
ToOpt = Annotated[Optional[str], typer.Option(
    "--to", help="Last month YYYY-MM, inclusive (default: the last month with data).")]

PresetOpt = Annotated[Optional[str], typer.Option(
    "--preset", help="street-level (the app's default) or neighbourhood; --eps-m/--min-samples "
    "override it.")]
EpsOpt = Annotated[Optional[float], typer.Option(
    "--eps-m", help="DBSCAN radius in metres (default: the preset's).")]
MinSamplesOpt = Annotated[Optional[int], typer.Option(
    "--min-samples", help="Incidents within eps_m (self included) that make a core incident "
    "(default: the preset's).")]


def check_choice(value: str, choices, parameter: str) -> None:
    if value not in choices:
        raise InputError(f"'{value}' is not one of: {', '.join(choices)}", parameter=parameter)


def write_out(out: Optional[Path], payload: "str | bytes") -> None:
    """Write a command's output to --out atomically (naming the path on failure) or to stdout."""
    from hotspot_app.io import exports

    if out is not None:
        exports.write_bytes_atomic(out, payload if isinstance(payload, bytes) else payload.encode("utf-8"))
        progress(f"wrote {out}")
    else:
        sys.stdout.write(payload if isinstance(payload, str) else payload.decode("utf-8"))


def emit_document(doc: dict, out: Optional[Path]) -> None:
    """The one JSON document: on stdout, or written to --out."""
    from hotspot_app.render import formatting

    if out is None:
        emit_json(doc)
    else:
        write_out(out, formatting.json_text(doc) + "\n")


def period_arg(from_: Optional[str], to: Optional[str]):
    """--from/--to -> a (from, to) period for clusters/hotspots (either end may be open); each
    month and their order are checked by the one rule, `selection.parse_period`."""
    from hotspot_app.core import selection

    if from_ is None and to is None:
        return None
    months = selection.parse_period((from_, to))
    return (months[0], months[-1]) if from_ is not None and to is not None else tuple(months)
