"""Which areas are these? The boundary-kind question: a boundary file given to the CLI or named in
a report spec is read with ONE rule for its layer, so a ward file reads as wards everywhere (the
summary says "the Hemlington ward area", patrol areas are named "... — Central ward", rankings
say "3 wards") whichever face read it.

Decided here: the layer of a boundary file (`layer_of`: ``ward`` when the file's name or its name
field says so -- ``wards_2024.geojson``, ``WD24NM`` -- else ``custom``; a spec or the app may name
the layer itself), and that a workspace keeps the layers it stored (`read_areas`).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from hotspot_app.core.errors import InputError


def layer_of(path: str | os.PathLike, name_field: str | None = None) -> str:
    """``ward`` when the file's name or its name field says so, else ``custom``."""
    text = f"{Path(path).name} {name_field or ''}".lower()
    return "ward" if ("ward" in text or (name_field or "").upper().startswith("WD")) else "custom"


def read_areas(path: str | os.PathLike, *, name_field: str | None = None, layer: str | None = None,
               source_layer: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The areas of a boundary file or a workspace, and the reader's warnings (repaired or dropped
    polygons, CRS, shared names). A file's layer is `layer`, else `layer_of`; a workspace keeps
    its own layers (`layer` then keeps only that one); `source_layer` picks the layer of a
    multi-layer GeoPackage of boundaries."""
    from hotspot_app.io import ingest, workspace

    if source_layer is None and workspace.is_workspace(path):
        areas = workspace.open_workspace(path).areas()
        if layer:
            areas = areas[areas["layer"].astype(str) == layer].reset_index(drop=True)
            if not len(areas):
                raise InputError(f"the workspace has no '{layer}' areas", file=path, parameter="layer")
        return areas, []
    result = ingest.read_boundaries(path, name_field=name_field, layer=layer or layer_of(path, name_field),
                                    source_layer=source_layer)
    return result.areas, list(result.warnings)
