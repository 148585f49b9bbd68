"""Loading into a workspace: the one function that decides what a load does (docs/design.md §5b,
§9). `hotspot ingest --into`, the Data page's "Add to workspace" (and anything else that loads)
call `load` and only format what it returns.

The rules, in one place:
- a load that loaded no rows is refused with a line naming the files and why their rows were
  rejected; nothing is written;
- every file read is recorded in the load history (its name, not its path);
- incidents accumulate: each (source, provider, month) loaded replaces the same already stored;
  ``replace_all`` (replacing every incident) must be chosen AND confirmed;
- areas are appended to their layer: an area with the id and name of a stored one updates it, one
  whose id is taken by another area gets a fresh id; replacing a whole layer must be chosen AND
  confirmed (``replace_areas``), and the areas it removes are kept (restorable);
- the demo is never written to;
- `check_targets`, before anything is read: ``--out`` onto an existing workspace is refused,
  pointing to ``--into`` (add) or ``--into ... --replace-all``;
- warnings (the readers', and the load's own) are gathered in one list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import pandas as pd

from hotspot_app.core import settings
from hotspot_app.core.errors import InputError
from hotspot_app.io import workspace

__all__ = ["Loaded", "load", "check_targets", "is_demo"]


def is_demo(target: str | os.PathLike | None) -> bool:
    """True when `target` is the synthetic demo's own workspace (or any file in its folder)."""
    if target is None or workspace.is_url(target):
        return False
    try:
        path = Path(target).resolve()
        demo = Path(settings.DEMO_DIR).resolve()
    except OSError:
        return False
    return path == demo or demo in path.parents


def _refuse_demo(target) -> None:
    if is_demo(target):
        raise InputError("the synthetic demo is read-only: load your data into a workspace of your own "
                         f"(e.g. {settings.DATA_DIR / 'workspace.gpkg'})", parameter="workspace")


def check_targets(*, out: str | os.PathLike | None = None, into: str | None = None,
                  replace_all: bool = False, inputs: Iterable[str | os.PathLike] = (),
                  rejects: str | os.PathLike | None = None) -> None:
    """What a load may write to, checked before any file is read (`InputError` naming the
    parameter): exactly one of `out` (files) and `into` (a workspace); ``replace_all`` only with
    `into`; `out` never an existing workspace (that is `into`'s job, and it never replaces
    silently); `into` never the demo, an input or the rejects file, nor a GeoPackage that is not a
    workspace."""
    from hotspot_app.io import exports

    if (out is None) == (into is None):
        raise InputError("give --out FILE or --into WORKSPACE (one of them)", parameter="out")
    if replace_all and into is None:
        raise InputError("--replace-all needs --into WORKSPACE", parameter="replace-all")
    if out is not None and workspace.is_workspace(out):
        shown = workspace.display(out)
        raise InputError(f"{shown} is a workspace: --out would replace everything in it; use --into {shown} "
                         f"to add these files (each month replaces the same month), or --into {shown} "
                         "--replace-all to replace all its incidents", parameter="out")
    if into is not None:
        _refuse_demo(into)
        if not workspace.is_url(into):
            path = Path(into)
            exports.check_outputs_distinct(inputs, [path, rejects])
            if path.exists() and not workspace.is_workspace(path) and \
                    workspace.META not in workspace.GeopackageWorkspace(path, check=False).layers():
                raise InputError("exists and is not a workspace GeoPackage; choose another --into",
                                 file=str(path), parameter="into")


@dataclass
class Loaded:
    """What a load did. ``result``: the incidents part (`workspace.LoadResult`, None when only
    areas were loaded); ``areas``: per layer, how many areas were added, updated, renumbered,
    replaced; ``warnings``: everything the readers and the load have to say, once each."""

    workspace: str
    files: list[str]
    read: int
    loaded: int
    rejected: int
    result: "workspace.LoadResult | None"
    areas: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON ``workspace`` block of ``hotspot ingest --into`` (design §5b)."""
        return self.result.to_dict() if self.result is not None else {}


def _files(result) -> list[str]:
    return [Path(str(f["file"])).name if os.sep in str(f["file"]) else str(f["file"])
            for f in result.summary.get("files", [])]


def _nothing_loaded(result) -> InputError:
    s = result.summary
    files = ", ".join(_files(result)) or "the files given"
    reasons = "; ".join(f"{reason}: {n:,}" for reason, n in s.get("rejected_by_reason", {}).items())
    return InputError(f"nothing to load: none of the {s.get('read', 0):,} rows read from {files} could be "
                      f"loaded{f' ({reasons})' if reasons else ''}; the workspace is unchanged",
                      parameter="incidents")


def _merge_areas(ws, areas: gpd.GeoDataFrame, replace: bool) -> tuple[gpd.GeoDataFrame, dict, list[str]]:
    """The complete layers to write: each layer of `areas` appended to the stored one (or, with
    `replace`, instead of it), and what that does per layer."""
    frames, notes, warnings = [], {}, []
    stored_layers = set(ws.area_layers())
    used = set(ws.used_ids("area"))
    for layer, new in areas.groupby(areas["layer"].astype(str), sort=False):
        new = new.reset_index(drop=True)
        key = workspace.layer_key(layer)
        old = ws.areas(key) if key in stored_layers else None
        if replace or old is None or not len(old):
            frames.append(new)
            notes[key] = {"added": len(new), "updated": 0, "renumbered": 0,
                          "replaced": 0 if old is None else len(old)}
            continue
        by_id = {str(i): str(n) for i, n in zip(old["area_id"].astype(str), old["name"].astype(str))}
        ids = new["area_id"].astype(str).tolist()
        update = [i in by_id and by_id[i] == str(n) for i, n in zip(ids, new["name"].astype(str))]
        clash = [i in used and not u for i, u in zip(ids, update)]
        if any(clash):
            fresh = iter(_fresh_ids(ws, key, sum(clash)))
            new["area_id"] = [next(fresh) if c else i for i, c in zip(ids, clash)]
            warnings.append(f"{sum(clash)} of the new {layer.replace('_', ' ')} areas had an id already used by "
                            "another area; they were given new ids")
        updated = set(new.loc[update, "area_id"].astype(str))
        kept = old[~old["area_id"].astype(str).isin(updated)]
        merged = pd.concat([kept, new], ignore_index=True)
        frames.append(gpd.GeoDataFrame(merged, geometry=old.geometry.name, crs=settings.CRS))
        notes[key] = {"added": len(new) - len(updated), "updated": len(updated), "renumbered": sum(clash),
                      "replaced": 0}
    out = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.CRS)
    return out, notes, warnings


def _fresh_ids(ws, layer: str, n: int) -> list[str]:
    first = ws.new_area_id(layer, tag="added")
    stem, k = first.rsplit("-", 1)
    return [f"{stem}-{int(k) + i}" for i in range(n)]


def load(into: str | os.PathLike, incidents=None, areas: gpd.GeoDataFrame | None = None, *,
         replace_all: bool = False, replace_areas: bool = False, confirmed: bool = False,
         expected_version: str | None = None, user: str | None = None,
         warnings: Iterable[str] = ()) -> Loaded:
    """Load an ingest result (`incidents`: an `ingest.IngestResult`, or `ingest.IncidentBatches`
    read a batch at a time straight into the workspace) and/or boundary `areas` into the
    workspace `into` in ONE atomic step, by the rules of this module.

    `replace_all` / `replace_areas` (replace every incident / whole area layers) need
    `confirmed`: the CLI's ``--replace-all`` is that confirmation, the Data page asks first.
    `expected_version`: the workspace version the user saw (a `ConflictError` when it changed).
    `warnings`: the readers' warnings (e.g. the boundary file's), gathered with the load's."""
    from hotspot_app.io import ingest

    _refuse_demo(into)
    if (replace_all or replace_areas) and not confirmed:
        raise InputError(f"{'replacing every incident' if replace_all else 'replacing a whole area layer'} "
                         "must be confirmed", parameter="replace-all" if replace_all else "replace-areas")
    has_areas = areas is not None and len(areas) > 0
    if incidents is None and not has_areas:
        raise InputError("nothing to load: no incident rows and no areas", parameter="incidents")
    streamed = isinstance(incidents, ingest.IncidentBatches)
    if incidents is not None and not streamed and int(incidents.summary.get("loaded", 0)) == 0:
        raise _nothing_loaded(incidents)
    ws = workspace.open_workspace(into)
    merged, notes, more = None, {}, []
    if has_areas:
        merged, notes, more = _merge_areas(ws, areas, replace_areas)
    result = None
    if incidents is not None:
        if streamed:
            def batches():
                yield from incidents
                if incidents.summary["loaded"] == 0:  # refused before anything is made current
                    raise _nothing_loaded(incidents)
            frames, files = batches(), lambda: _files(incidents)
        else:
            frames, files = incidents.incidents, _files(incidents)
        result = ws.load_incidents(frames, files=files, read=lambda: incidents.summary["read"],
                                   rejected=lambda: incidents.rejects, replace_all=replace_all, user=user,
                                   expected_version=expected_version, areas=merged,
                                   warnings=lambda: incidents.summary.get("warnings", []))
    else:
        ws.write_areas(merged, user=user, expected_version=expected_version)
    gathered = list(dict.fromkeys([*(incidents.summary.get("warnings", []) if incidents is not None else []),
                                   *warnings]))
    gathered += [w for w in more if w not in gathered]
    for layer, n in notes.items():
        if n["replaced"]:
            gathered.append(f"{n['replaced']} {layer.replace('_', ' ')} areas were replaced by the "
                            f"{n['added']} loaded (the ones removed can be restored on the Data page)")
    s = incidents.summary if incidents is not None else {}
    return Loaded(workspace=workspace.display(into), files=_files(incidents) if incidents is not None else [],
                  read=int(s.get("read", 0)), loaded=int(s.get("loaded", 0)), rejected=int(s.get("rejected", 0)),
                  result=result, areas=notes, warnings=gathered)
