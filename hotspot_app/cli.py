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
        return store.Workspace(paths[0]).incidents()
    result = ingest.read_incidents(paths, kind=kind)
    if result.summary["rejected"]:
        progress(f"note: {result.summary['rejected']} of {result.summary['read']} rows rejected "
                 f"({', '.join(f'{k}: {v}' for k, v in result.summary['rejected_by_reason'].items())})")
    return result.incidents


def load_areas_arg(path: Path, name_field: Optional[str] = None, layer: str = "custom"):
    """AREAS argument: a boundary file (GeoJSON, GeoPackage, zipped Shapefile) or a workspace."""
    from . import ingest, store

    if store.is_workspace(path):
        return store.Workspace(path).areas()
    return ingest.read_boundaries(path, name_field=name_field, layer=layer).areas


# ===== command: demo (section owned by its module's author; keep edits inside) =====
# ===== end: demo =====

# ===== command: ingest (section owned by its module's author; keep edits inside) =====
# ===== end: ingest =====

# ===== command: table (section owned by its module's author; keep edits inside) =====
# ===== end: table =====

# ===== command: summary (section owned by its module's author; keep edits inside) =====
# ===== end: summary =====

# ===== command: rank (section owned by its module's author; keep edits inside) =====
# ===== end: rank =====

# ===== command: clusters (section owned by its module's author; keep edits inside) =====
# ===== end: clusters =====

# ===== command: grid (section owned by its module's author; keep edits inside) =====
# ===== end: grid =====

# ===== command: evaluate (section owned by its module's author; keep edits inside) =====
# ===== end: evaluate =====


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
