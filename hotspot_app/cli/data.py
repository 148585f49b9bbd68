"""`hotspot demo`, `hotspot ingest` and `hotspot places`: the synthetic demo, loading files (into a
workspace), and named places (town centres) as an area layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from hotspot_app.cli.common import (
    app,
    emit_json,
    guarded,
    input_warning,
    load_incidents_arg,
    progress,
)
from hotspot_app.core.errors import InputError


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
    from hotspot_app.core import settings
    from hotspot_app.io import demo as demo_mod

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
    rejected with a reason (read = loaded + rejected). INCIDENTS may also be a workspace (.gpkg
    or postgresql:// URL): its incidents are exported to --out."""
    from hotspot_app.io import auth, exports, ingest, workspace
    from hotspot_app.io.ingest import output
    from hotspot_app.questions import load as load_question

    if format not in ("text", "json"):
        raise InputError(f"unknown format '{format}'; use text or json", parameter="format")
    if kind not in ingest.KINDS:
        raise InputError(f"unknown kind '{kind}'; use one of {', '.join(ingest.KINDS)}", parameter="kind")
    load_question.check_targets(out=out, into=into, replace_all=replace_all, inputs=incidents, rejects=rejects)
    if out is not None:
        output.check_incidents_path(out)
    if rejects is not None:
        output.check_rejects_path(rejects)
    exports.check_outputs_distinct([p for p in incidents if not workspace.is_url(p)], [out, rejects])
    who = None
    if into is not None:
        store = auth.auth_target() or (into if workspace.is_url(into) else None)
        from hotspot_app.cli.admin import acting  # (imported here: admin registers its commands last)

        who = acting(auth.cli_identity("analyst", store=store))
    if len(incidents) == 1 and (workspace.is_url(incidents[0]) or (
            workspace.is_workspace(incidents[0])
            and workspace.META in workspace.GeopackageWorkspace(incidents[0], check=False).layers())):
        result = ingest.read_workspace(incidents[0])  # a workspace written by this tool: export it
    elif into is not None:  # a batch of files at a time, each written to the workspace as it comes
        result = ingest.IncidentBatches(incidents, kind=kind, layer=layer, provider=provider)
    else:
        result = ingest.read_incidents(incidents, kind=kind, layer=layer, provider=provider)
    loaded = None
    if into is not None:
        loaded = load_question.load(into, result, replace_all=replace_all, confirmed=replace_all, user=who)
        if rejects is not None:
            output.write_rejects(result.rejects, rejects)
    else:  # --out and --rejects written atomically together
        output.write_outputs(result.incidents, out, result.rejects, rejects)
    s = result.summary
    if format == "json":
        doc = {k: s[k] for k in ("read", "loaded", "rejected", "rejected_by_reason")}
        doc["warnings"] = loaded.warnings if loaded is not None else s["warnings"]
        if loaded is not None:
            doc["workspace"] = loaded.to_dict()
        emit_json(doc)
        return
    typer.echo(ingest.format_summary(s))
    if loaded is not None:
        typer.echo(_workspace_text(loaded.result, loaded.workspace))
        for w in loaded.warnings:
            if w not in s["warnings"]:
                typer.echo(f"Warning: {w}")
    else:
        typer.echo(f"Wrote {s['loaded']:,} incidents to {out}")
    if rejects is not None:
        typer.echo(f"Wrote {s['rejected']:,} rejected rows to {rejects}")
    elif s["rejected"]:
        typer.echo("Use --rejects FILE.csv to list the rejected rows.")


def _workspace_text(loaded, where: str) -> str:
    """Text lines of a workspace load (`where`: its display form): counts, and what a replacement
    removed."""
    lines = [f"Workspace {where}: {loaded.before:,} -> {loaded.after:,} incidents "
             f"({loaded.added:,} added, {loaded.replaced:,} replaced)"]
    for (source, provider, month), n in sorted(loaded.removed.items()):
        lines.append(f"  replaced {n:,} rows of {source} {provider} {month}")
    return "\n".join(lines)


@app.command("places")
@guarded
def places_command(
    places: Path = typer.Argument(..., help="CSV of named places: a name column and, per row, grid_ref, "
                                  "easting and northing, street (an 'On or near' street of the incidents) or "
                                  "postcode (with --postcodes); optional radius_m."),
    incidents: Optional[List[Path]] = typer.Option(None, "--incidents", help="Incident files or a workspace "
                                                   "whose 'On or near <street>' locations give the streets' "
                                                   "points (repeatable)."),
    postcodes: Optional[Path] = typer.Option(None, "--postcodes", help="CSV of postcode, easting, northing "
                                             "(e.g. OS Code-Point Open) for places given by postcode."),
    radius_m: Optional[float] = typer.Option(None, "--radius-m", help="Metres round each point "
                                             "(default 150; a row's radius_m wins)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the areas: .geojson or .gpkg."),
    into: Optional[str] = typer.Option(None, "--into", help="Add the areas to a workspace's town_centre layer."),
    format: str = typer.Option("text", "--format", help="text | json"),
) -> None:
    """Town centres and other named places as areas of the town_centre layer: the circles round
    each place's points joined, one area per name (docs/design.md §5c)."""
    import pandas as pd

    from hotspot_app.io import auth, geofiles, workspace
    from hotspot_app.questions import load as load_question
    from hotspot_app.questions import places as places_question

    if format not in ("text", "json"):
        raise InputError(f"unknown format '{format}'; use text or json", parameter="format")
    if out is None and into is None:
        raise InputError("give --out FILE (.geojson or .gpkg) or --into WORKSPACE", parameter="out")
    if out is not None and out.suffix.lower() not in geofiles.AREA_EXPORTS:
        raise InputError(f"cannot write '{out.suffix}'; use .geojson or .gpkg", parameter="out")

    def csv(path: Path) -> pd.DataFrame:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise InputError("no such file", file=path.name) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"not a readable CSV ({' '.join(str(exc).split())})", file=path.name) from None

    rows = load_incidents_arg(list(incidents)) if incidents else None
    made, warnings = places_question.named_places(csv(places), radius_m=radius_m, incidents=rows,
                                                  postcodes=csv(postcodes) if postcodes is not None else None)
    for w in warnings:
        input_warning(w)
    loaded = None
    if out is not None:
        geofiles.write_areas(made, out)
    if into is not None:
        from hotspot_app.cli.admin import acting

        store = auth.auth_target() or (into if workspace.is_url(into) else None)
        who = acting(auth.cli_identity("analyst", store=store))
        loaded = load_question.load(into, None, made, user=who, warnings=warnings)
    areas = [{"name": str(n), "area_m2": round(float(g.area)), "pieces": len(getattr(g, "geoms", [g]))}
             for n, g in zip(made["name"], made.geometry)]
    if format == "json":
        emit_json({"layer": places_question.LAYER, "areas": areas, "out": str(out) if out else None,
                   "workspace": loaded.workspace if loaded is not None else None,
                   "warnings": loaded.warnings if loaded is not None else warnings})
        return
    for a in areas:
        typer.echo(f"{a['name']}: {a['area_m2'] / 1e6:,.3f} km²" + (f" in {a['pieces']} pieces" if a["pieces"] > 1 else ""))
    typer.echo(f"{len(areas)} named place{'s' if len(areas) != 1 else ''} in the {places_question.LAYER} layer"
               + (f", written to {out}" if out else "") + (f", added to {loaded.workspace}" if loaded else ""))
