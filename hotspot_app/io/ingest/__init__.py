"""Ingest: incident files and boundary files -> canonical tables (docs/design.md §1, §3).

`read_incidents(paths, kind="auto")` reads police.uk street CSVs, fire-service extracts and
generic CSV / Parquet / GeoJSON / GeoPackage files (one file, several, folders searched
recursively, or a zip of police.uk monthly files) into one canonical incidents GeoDataFrame in
EPSG:27700, plus a rejects table and a summary. Nothing is dropped silently: every row read is
loaded or rejected with a reason, per file (``read == loaded + rejected``, checked).

`read_boundaries(path, ...)` reads GeoJSON, GeoPackage or zipped Shapefile polygons into the areas
schema, detecting the name field and repairing invalid polygons.

Duplicate ids: within one ``source`` (police-uk, fire, generic), an ``incident_id`` seen before
keeps its first row (in file order); later rows are rejected as ``duplicate id`` and a warning
gives the count and examples. Generated ASB ids are unique within a file by construction, so they
only collide when the same rows are loaded twice (e.g. a month both as a file and inside the zip).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import files, fire, generic, police_uk, rejects as report
from hotspot_app.io.ingest.boundaries import BoundaryResult, read_boundaries
from hotspot_app.io.ingest.rejects import format_summary

KINDS = ("auto", "police-uk", "fire", "generic")

__all__ = ["read_incidents", "read_boundaries", "read_workspace", "IngestResult", "BoundaryResult",
           "KINDS", "format_summary"]


@dataclass
class IngestResult:
    """Incidents (canonical, EPSG:27700), the rejects table and the summary.

    ``rejects``: one row per rejected input row, columns ``file, row, column, reason, value``
    (``row`` is the 1-based data row number; ``value`` the offending text, when there is one).
    ``summary``: ``read``, ``loaded``, ``rejected``, ``rejected_by_reason`` {reason: n},
    ``warnings`` [str] and ``files`` [{file, read, loaded, rejected}].
    """

    incidents: gpd.GeoDataFrame
    rejects: pd.DataFrame
    summary: dict = field(default_factory=dict)


def read_workspace(target) -> IngestResult:
    """The incidents of a workspace (a ``.gpkg`` or a ``postgresql://`` URL) as an ingest result:
    what ``hotspot ingest WORKSPACE --out FILE`` exports (read = loaded, nothing rejected)."""
    from hotspot_app.io import workspace

    incidents = workspace.open_workspace(target).incidents()
    n = len(incidents)
    label = workspace.display(target)
    summary = {"read": n, "loaded": n, "rejected": 0, "rejected_by_reason": {}, "warnings": [],
               "files": [{"file": label, "read": n, "loaded": n, "rejected": 0}]}
    return IngestResult(incidents, report.empty_rejects(), summary)


_SKIPPED = {"police-uk-outcomes": "police.uk outcomes file, not street-level crime",
            "police-uk-stop-search": "police.uk stop-and-search file, not street-level crime"}


def read_incidents(paths: str | Path | Iterable[str | Path], kind: str = "auto",
                   layer: str | None = None, provider: str | None = None) -> IngestResult:
    """Read incident files into canonical incidents, a rejects table and a summary.

    Parameters
    ----------
    paths : path or list of paths
        Files, folders (searched recursively) and ``.zip`` archives of CSVs.
    kind : {"auto", "police-uk", "fire", "generic"}
        File format; ``auto`` detects it per file from the header row.
    layer : str, optional
        The GeoPackage layer to read; by default every layer holding incidents is read (each
        counted as ``FILE:LAYER``) and the others are named in a warning.
    provider : str, optional
        Provider of generic files (``--provider NAME``); police.uk and fire files name their own
        (`schema.provider_of` fills the ``provider`` column).

    Raises
    ------
    InputError
        A file cannot be read at all (missing, empty, not a table, a required column missing);
        the message names the file (and column).
    """
    if kind not in KINDS:
        raise InputError(f"unknown kind '{kind}'; use one of {', '.join(KINDS)}", parameter="kind")
    sources = files.discover(paths)
    rep = report.Report()
    for src in sources:
        if src.label.endswith(")") and " (copy " in src.label:
            rep.warn(f"{src.label}: the archive holds more than one member named {src.member}; "
                     "each is read")
    multi = len(sources) > 1
    # police.uk files are read as one batch (placed where the first of them appears)
    plan: list = []
    police: list = []
    for src in sources:
        if src.suffix in generic.SPATIAL_SUFFIXES:
            if kind in ("police-uk", "fire"):
                raise InputError(f"a {src.suffix} file cannot be read as kind '{kind}'", file=src.label)
            names, skipped = generic.spatial_layers(src, layer)
            if skipped:
                rep.warn(f"{src.label}: layers without incidents (no category and date or month "
                         f"column) not read: {', '.join(skipped)}")
            for name in names:
                plan.append(("spatial", src, None, name))
            continue
        header = files.sniff(src.head(), src.label)
        use = header.kind if kind == "auto" else kind
        if kind == "auto" and header.kind in _SKIPPED:
            if not multi:
                raise InputError(_SKIPPED[header.kind], file=src.label)
            rep.warn(f"skipped {src.label}: {_SKIPPED[header.kind]}")
            continue
        if kind == "auto" and header.kind is None and not src.explicit and multi:
            # e.g. a lookup table next to the monthly files; a named file would be an error
            rep.warn(f"skipped {src.label}: not an incident file (no category with a date or month)")
            continue
        if use == "police-uk":
            if not police:
                plan.append(("police-uk", None, None, None))
            police.append((src, header))
        else:
            plan.append((use if use == "fire" else "generic", src, header, None))
    parts: list[files.Part] = []
    for what, src, header, src_layer in plan:
        if what == "police-uk":
            parts.append(police_uk.read(police, rep))
            police = []
        elif what == "spatial":
            multi_layer = src_layer is not None and layer is None
            parts.append(generic.read_spatial(src, rep, layer=src_layer,
                                              label=f"{src.label}:{src_layer}" if multi_layer else None))
        elif what == "fire":
            parts.append(fire.read(src, header, rep))
        else:
            parts.append(generic.read_csv(src, header, rep))
    incidents = _assemble(parts, rep)
    incidents["provider"] = schema.provider_of(incidents, generic=provider)
    summary = rep.summary(len(incidents))
    return IngestResult(incidents, rep.rejects_table(), summary)


def _assemble(parts: list[files.Part], rep: report.Report) -> gpd.GeoDataFrame:
    """One GeoDataFrame from the parts; later repeats of an id within a source are rejected."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return schema.empty_incidents()
    if len(parts) == 1:
        frame, geometry, keys = parts[0].frame(), parts[0].geometry, parts[0].keys
    else:
        frame = pd.concat([p.frame() for p in parts], ignore_index=True)
        geometry = np.concatenate([p.geometry for p in parts])
        keys = np.concatenate([p.keys for p in parts])
    if len(pd.unique(keys)) < len(keys):
        candidates = pd.Series(keys).duplicated(keep=False).to_numpy()
        pos = np.nonzero(candidates)[0]
        sub = frame.iloc[pos][["source", "incident_id"]].astype(object)
        dup_pos = pos[sub.duplicated(keep="first").to_numpy()]
        if len(dup_pos):
            files_all = np.concatenate([np.asarray(p.files, dtype=object)[p.file_codes] for p in parts])
            rows_all = np.concatenate([p.rows for p in parts])
            dup_ids = frame["incident_id"].iloc[dup_pos].astype(object).to_numpy()
            rep.reject(report.rejects_frame(files_all[dup_pos], rows_all[dup_pos], "incident_id",
                                            report.DUPLICATE_ID, dup_ids))
            examples = ", ".join(map(str, pd.unique(dup_ids)[:3]))
            rep.warn(f"{len(dup_pos)} rows repeat an incident_id already loaded from the same "
                     f"source (first row kept, the others rejected as 'duplicate id'), e.g. {examples}")
            keep = np.ones(len(frame), dtype=bool)
            keep[dup_pos] = False
            frame = frame.loc[keep].reset_index(drop=True)
            geometry = geometry[keep]
    at = sum(c in frame.columns for c in schema.INCIDENT_COLUMNS[: schema.INCIDENT_COLUMNS.index("geometry")])
    frame.insert(at, "geometry", gpd.array.GeometryArray(geometry, crs=settings.CRS))
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", copy=False)
    if list(gdf.columns[: len(schema.INCIDENT_COLUMNS)]) != schema.INCIDENT_COLUMNS:
        gdf = schema.order_columns(gdf)
    return gdf
