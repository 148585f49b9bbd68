"""The workspace: the partnership's memory of incidents, area layers, interventions, saved cluster
runs, loads and audit (docs/design.md §9, docs/design.md).

`open_workspace` picks the backend from the target: a ``.gpkg`` path gives
`gpkg.GeopackageWorkspace` (single user), a ``postgresql://`` URL `postgis.PostgisWorkspace`
(a shared deployment; psycopg is imported only then). Both implement `base.Workspace`.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from hotspot_app.core.errors import InputError
from hotspot_app.io.workspace.urls import display, is_url, normalise_url, url_of

_LAZY = {
    # the interface and what both backends share
    "Workspace": "base", "LoadResult": "base", "coverage_grid": "base", "contents_summary": "base",
    "interventions_from_areas": "base", "empty_interventions": "base", "ordered_layers": "base",
    "INCIDENTS": "base", "AREA_PREFIX": "base", "META": "base", "BACKUPS_KEPT": "base",
    "LOAD_COLUMNS": "base", "AUDIT_COLUMNS": "base", "COVERAGE_COLUMNS": "base",
    "AUDIT_ACTIONS": "base", "layer_key": "base", "RecordConflict": "base", "DELETED_COLUMNS": "base",
    "RECORD_KINDS": "base", "SUMMARY_COLUMNS": "base", "coverage_from_summary": "base",
    # the backends
    "GeopackageWorkspace": "gpkg", "atomic_path": "gpkg", "PostgisWorkspace": "postgis",
}

__all__ = ["open_workspace", "is_workspace", "display", "is_url", "normalise_url", "url_of", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hotspot_app.io.workspace' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def open_workspace(target: str | os.PathLike, check: bool = True):
    """The workspace at `target`: a ``.gpkg`` path or a ``postgresql://`` URL. With `check`,
    changes made outside this tool (a layer removed in QGIS, a missing state row or audit table)
    are an `InputError` naming them (`Workspace.problems`); ``hotspot audit --verify`` opens
    without it to report them."""
    if is_url(target):
        try:
            from hotspot_app.io.workspace.postgis import PostgisWorkspace
        except ImportError as exc:
            raise InputError(f"a PostgreSQL workspace needs the PostGIS backend and psycopg ({exc})",
                             parameter="workspace") from None
        return PostgisWorkspace(url_of(target), check=check)
    from hotspot_app.io.workspace.gpkg import GeopackageWorkspace

    return GeopackageWorkspace(target, check=check)


def is_workspace(path: str | os.PathLike) -> bool:
    """True when `path` is a PostgreSQL URL, or a GeoPackage workspace holding incidents
    (partitioned beside it, or an ``incidents`` layer written before they were)."""
    if is_url(path):
        return True
    p = Path(path)
    if not p.is_file() or p.suffix.lower() != ".gpkg":
        return False
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:  # partitioned incidents (a manifest named in the state row), or an incidents layer
        try:
            if con.execute("SELECT 1 FROM hotspot_state WHERE key = 'incidents_manifest'").fetchone():
                return True
        except sqlite3.Error:
            pass
        try:
            return con.execute("SELECT 1 FROM gpkg_contents WHERE lower(table_name) = 'incidents'").fetchone() \
                is not None
        except sqlite3.Error:  # not a GeoPackage
            return False
    finally:
        con.close()
