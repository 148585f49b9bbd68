"""The monthly cycle (``hotspot monthly CONFIG.yaml``): fetch what police.uk has published since
the last load, add it to the workspace, rebuild the report pack(s), one summary line per step.

CONFIG.yaml (paths relative to its folder)::

    workspace: partnership.gpkg        # a .gpkg file, or a postgresql:// URL
    police_uk:
      force: cleveland                 # police.uk force id; and/or areas: force_area.geojson
      first_month: 2024-01             # used while the workspace holds none of this force
                                       # (default: police.uk's latest month only)
      source: api                      # api (default) or archive (the monthly zip)
      base_url: https://data.police.uk # optional (a mirror, a test server)
    reports:                           # optional
      - spec: paper.yaml               # a report spec (README, "The report pack")
        out: [paper.html, paper.xlsx]

Steps, each printing one line: ``config`` (the file and every report spec are read and checked
before anything is asked of police.uk), ``fetch`` (the months after the last one the workspace
holds for this force, through `police_uk`: resumable, polite), ``load`` (the project's ingest and
the workspace's own load, one atomic step), ``report`` (each pack through `pack.report`; `pack` is the report-pack module the face passes in, so this
question does not depend on the rendering layer above it).

Nothing half-done is left: the packs are built first from a private copy of the workspace with
the new months added (the same load, on the copy), written to temporary files beside their
outputs; only when every pack is built is the load made on the workspace itself (refused if
someone else wrote to it meanwhile) and the packs renamed into place. Any failure before that
leaves the workspace and the old packs as they were; months already fetched wait in the staging
folder and are not fetched again. When nothing is new, nothing is loaded and packs whose files
all exist are left alone.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hotspot_app.core import periods
from hotspot_app.core.errors import HotspotError, InputError

from hotspot_app.io.fetch import police_uk
from hotspot_app.io.fetch.http import ServiceError

KEYS = {"workspace", "police_uk", "reports"}
POLICE_KEYS = {"force", "areas", "first_month", "source", "base_url", "provider"}


class CycleError(HotspotError):
    """A step of the monthly cycle failed; ``step`` names it, ``input`` says whether the cause
    was the configuration or data given (exit 2) rather than a service or the disk (exit 1)."""

    def __init__(self, step: str, message: str, input: bool = False) -> None:
        self.step, self.input = step, input
        super().__init__(f"{step}: {' '.join(str(message).split())}")


@dataclass
class Report:
    spec_file: Path
    spec: object
    outs: list[Path]


@dataclass
class Config:
    file: Path
    workspace: str
    force: str | None
    areas: Path | None
    first_month: str | None
    source: str
    base_url: str | None
    provider: str | None
    reports: list[Report] = field(default_factory=list)


def _bad(file: Path, key: str, message: str):
    raise InputError(message, file=str(file), parameter=key)


def load_config(path: str | Path, pack) -> Config:
    """Read and check CONFIG.yaml and every report spec it names (InputError naming the key)."""
    import yaml

    from hotspot_app.io.workspace import is_url

    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", file=str(path), parameter="config")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError("not valid YAML" + (f" at line {mark.line + 1}" if mark else ""), file=str(path)) from None
    if not isinstance(raw, dict):
        _bad(path, "(top level)", "a mapping with workspace, police_uk and reports")
    for key in raw:
        if key not in KEYS:
            _bad(path, str(key), f"unknown key; use {', '.join(sorted(KEYS))}")
    base = path.parent
    ws = raw.get("workspace")
    if not isinstance(ws, str) or not ws.strip():
        _bad(path, "workspace", "name the workspace: a .gpkg file or a postgresql:// URL")
    workspace = ws.strip() if is_url(ws.strip()) else str(base / ws.strip())
    if not is_url(workspace) and Path(workspace).suffix.lower() != ".gpkg":
        _bad(path, "workspace", "a workspace is a .gpkg file or a postgresql:// URL")
    pol = raw.get("police_uk")
    if not isinstance(pol, dict):
        _bad(path, "police_uk", "a mapping with force (a police.uk force id) and/or areas (a boundary file)")
    for key in pol:
        if key not in POLICE_KEYS:
            _bad(path, f"police_uk.{key}", f"unknown key; use {', '.join(sorted(POLICE_KEYS))}")
    force = pol.get("force")
    if force is not None:
        force = police_uk.check_force_id(str(force))
    areas = base / str(pol["areas"]) if pol.get("areas") is not None else None
    if force is None and areas is None:
        _bad(path, "police_uk", "give force (a police.uk force id) or areas (a boundary file)")
    if areas is not None and not areas.is_file():
        _bad(path, "police_uk.areas", f"no such boundary file {areas}")
    first = pol.get("first_month")
    if first is not None:
        first = periods.parse_month(str(first), "police_uk.first_month")
    source = str(pol.get("source") or "api")
    if source not in police_uk.SOURCES:
        _bad(path, "police_uk.source", "api or archive")
    if source == "archive" and force is None:
        _bad(path, "police_uk.source", "the archive is read by force: give police_uk.force")
    reports = []
    items = raw.get("reports") or []
    if not isinstance(items, list):
        _bad(path, "reports", "a list of {spec: FILE, out: [FILE, ...]}")
    for i, item in enumerate(items):
        key = f"reports[{i}]"
        if not isinstance(item, dict) or set(item) - {"spec", "out"} or "spec" not in item or "out" not in item:
            _bad(path, key, "a mapping with spec (a report spec) and out (a file or a list of files)")
        outs = item["out"] if isinstance(item["out"], list) else [item["out"]]
        spec_file = base / str(item["spec"])
        spec = pack.load_spec(spec_file)
        out_paths = [base / str(o) for o in outs]
        pack.check_outputs(out_paths, spec.inputs_paths() + [spec_file])
        reports.append(Report(spec_file, spec, out_paths))
    return Config(path, workspace, force, areas, first, source,
                  str(pol["base_url"]) if pol.get("base_url") else None,
                  str(pol["provider"]) if pol.get("provider") else None, reports)


def _same_workspace(p, workspace: str) -> bool:
    from hotspot_app.io.workspace import is_url, url_of

    if p is None:
        return False
    if is_url(workspace):
        return url_of(p) == url_of(workspace)
    try:
        return Path(p).resolve() == Path(workspace).resolve()
    except OSError:
        return False


def _reads_workspace(spec, workspace: str) -> bool:
    return any(_same_workspace(p, workspace) for p in list(spec.data) + [a.file for a in spec.areas.values()])


def _copy_workspace(ws, workspace: str, folder: Path):
    """A private copy of the workspace in `folder` (same file name, so the packs name it as
    they would the workspace) and the workspace's version when it was taken."""
    from hotspot_app.io.workspace import GeopackageWorkspace, is_url, url_of

    if is_url(workspace):
        version = ws.version()
        copy = folder / f"{Path(url_of(workspace)).name or 'workspace'}.gpkg"
        target = GeopackageWorkspace(copy)
        incidents = ws.incidents() if ws.coverage()["rows"].sum() else None
        areas = ws.areas() if ws.area_layers() else None
        inter = ws.interventions()
        target.write(incidents=incidents, areas=areas if areas is not None and len(areas) else None,
                     interventions=inter if len(inter) else None)
        return target, version
    src = Path(workspace)
    copy = folder / src.name
    if src.exists():  # the file and its incidents (hard links): a copy of its own to load into
        target = GeopackageWorkspace(src).copy_to(copy)
        return target, target.version()
    return GeopackageWorkspace(copy), "0"


def _pack_on(spec, workspace: str, copy: Path):
    """`spec` with the workspace (as data or as an areas file) replaced by its copy."""
    data = [copy if _same_workspace(p, workspace) else p for p in spec.data]
    areas = {k: dataclasses.replace(a, file=copy) if _same_workspace(a.file, workspace) else a
             for k, a in spec.areas.items()}
    return dataclasses.replace(spec, data=data, areas=areas)


def _temp_out(out: Path, token: str) -> Path:
    return out.with_name(f".{out.stem}.monthly-{token}{out.suffix}")


def _report_line(report: Report, doc: dict) -> str:
    return (f"{report.spec_file.name}: {', '.join(Path(o).name for o in report.outs)} "
            f"({doc['sections']} sections, {doc['tables']} tables, {doc['maps']} maps, "
            f"{len(doc['warnings'])} warnings)")


def run(config: str | Path, pack, emit: Callable[[str], None] = print, progress: Callable | None = None) -> dict:
    """Run the cycle; `emit` gets one summary line per step. Returns ``{"steps": [{"step",
    "summary"}], "months", "incidents", "requests", "workspace", "reports", "warnings"}``.
    Raises `CycleError` (naming the step, saying the workspace is unchanged)."""
    from hotspot_app.io.workspace import is_url

    steps: list[dict] = []

    def say(step: str, text: str) -> None:
        steps.append({"step": step, "summary": text})
        emit(f"{step}: {text}")

    try:
        cfg = load_config(config, pack)
    except InputError as exc:
        raise CycleError("config", str(exc), input=True) from None
    where = police_uk.redact(cfg.workspace)
    unchanged = f"the workspace {where} is unchanged"
    say("config", f"{cfg.file.name}: workspace {where}, police.uk "
        f"{cfg.force or cfg.areas.name} ({cfg.source}), {len(cfg.reports)} report pack(s)")

    # ---- fetch
    try:
        job = police_uk.prepare(force=cfg.force, areas=cfg.areas, first=cfg.first_month, into=cfg.workspace,
                                base_url=cfg.base_url, provider=cfg.provider, since_last_load=True,
                                progress=progress)
    except ServiceError as exc:
        raise CycleError("fetch", f"{exc}; {unchanged}") from None
    except InputError as exc:
        raise CycleError("fetch", f"{exc}; {unchanged}", input=True) from None
    try:
        fetched = police_uk.fetch(job, cfg.source, progress)
    except ServiceError as exc:
        raise CycleError("fetch", police_uk.service_failure(job, exc)) from None
    except InputError as exc:
        raise CycleError("fetch", f"{exc}; {unchanged}", input=True) from None
    warnings = list(job.warnings) + list(fetched.warnings)
    latest = job.available[-1]
    if not job.todo:
        have = police_uk.loaded_months(job.ws, job.target.name)
        say("fetch", f"nothing new: the workspace holds {job.target.name} to {max(have) if have else 'none'}, "
            f"police.uk's latest month is {latest} ({job.client.requests} requests)")
    else:
        reused = len(job.todo) - len(fetched.months)
        say("fetch", f"{len(job.todo)} new month(s) ({periods.months_text(job.todo)}): "
            f"{fetched.incidents:,} incidents fetched in {job.client.requests} requests"
            + (f" ({reused} month(s) fetched by an earlier run)" if reused else ""))

    # ---- nothing new: leave the workspace alone, rebuild only packs that are missing
    docs: list[dict] = []
    if not job.todo:
        say("load", "nothing to load")
        n = police_uk.workspace_rows(job.ws)
        for rep in cfg.reports:
            if all(o.exists() for o in rep.outs):
                say("report", f"{rep.spec_file.name}: up to date (nothing new)")
                continue
            try:
                doc = pack.report(rep.spec, rep.outs, progress=progress)
            except (HotspotError, OSError, ValueError) as exc:
                raise CycleError("report", f"{rep.spec_file.name}: {exc}; {unchanged}",
                                 input=isinstance(exc, InputError)) from None
            docs.append(doc)
            say("report", _report_line(rep, doc))
        return {"steps": steps, "months": [], "incidents": 0, "requests": job.client.requests,
                "workspace": {"before": n, "after": n, "added": 0, "replaced": 0, "months_replaced": []},
                "reports": docs, "warnings": list(dict.fromkeys(warnings))}

    # ---- new months: read them, build the packs on a copy, then load and publish
    try:
        result = police_uk.read_staged(job)
    except (HotspotError, OSError, ValueError) as exc:
        raise CycleError("load", f"reading the fetched months: {exc}; {unchanged}") from None
    warnings += list(result.summary["warnings"])
    files = [str(p) for p in job.files()]
    token = f"{os.getpid()}"
    folder_base = None if is_url(cfg.workspace) else Path(cfg.workspace).parent
    tmp_dir = Path(tempfile.mkdtemp(prefix=".hotspot-monthly-", dir=folder_base))
    temps: list[tuple[Path, Path]] = []
    try:
        # packs that read the workspace are built on a copy with the new months; others as they are
        if any(_reads_workspace(rep.spec, cfg.workspace) for rep in cfg.reports):
            copy, version = _copy_workspace(job.ws, cfg.workspace, tmp_dir)
            copy.load_incidents(result.incidents, files=files, read=result.summary["read"], rejected=result.rejects)
        else:
            copy, version = None, job.ws.version()
        for rep in cfg.reports:
            outs = [_temp_out(o, token) for o in rep.outs]
            temps += list(zip(outs, rep.outs))
            spec = _pack_on(rep.spec, cfg.workspace, copy.path) if copy is not None else rep.spec
            try:
                doc = pack.report(spec, outs, progress=progress)
            except (HotspotError, OSError, ValueError) as exc:
                raise CycleError("report", f"{rep.spec_file.name}: {exc}; nothing was loaded: {unchanged}",
                                 input=isinstance(exc, InputError)) from None
            doc = {**doc, "out": [str(o) for o in rep.outs]}
            docs.append((rep, doc))
        try:
            loaded = job.ws.load_incidents(result.incidents, files=files, read=result.summary["read"],
                                           rejected=result.rejects, expected_version=version)
        except (HotspotError, OSError) as exc:
            raise CycleError("load", f"{exc}; {unchanged}") from None
        say("load", f"{where} {loaded.before:,} -> {loaded.after:,} incidents ({loaded.added:,} added, "
            f"{loaded.replaced:,} replaced; {periods.months_text(job.todo)})")
        police_uk.remove_months(job.folder, job.todo + job.done, job.target.slug)
        for tmp, final in temps:
            try:
                os.replace(tmp, final)
            except OSError as exc:
                raise CycleError("report", f"the new months are loaded, but {final} could not be replaced "
                                 f"({exc.strerror or exc}); run again to rebuild it") from None
        temps = []
        for rep, doc in docs:
            say("report", _report_line(rep, doc))
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return {"steps": steps, "months": list(job.todo), "incidents": int(result.summary["loaded"]),
            "requests": job.client.requests, "workspace": loaded.to_dict(),
            "reports": [doc for _, doc in docs], "warnings": list(dict.fromkeys(warnings))}
