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


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
