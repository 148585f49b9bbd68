"""The pack's inputs: the incidents and areas a spec names, loaded as the CLI loads them."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

from hotspot_app.core.errors import InputError
from hotspot_app.render.pack.spec import Spec


# =========================================================================== inputs
@dataclass
class Inputs:
    """Loaded data: the incidents, the area layers by spec name, and what the About section
    reports about them (files, ingest summary)."""

    incidents: gpd.GeoDataFrame
    areas: dict[str, gpd.GeoDataFrame]
    data_files: list[str] = field(default_factory=list)
    area_files: dict[str, str] = field(default_factory=dict)
    ingest_summary: dict | None = None
    warnings: list[str] = field(default_factory=list)



def load_inputs(spec: Spec) -> Inputs:
    """Incidents and areas as the CLI loads them: one workspace GeoPackage, or incident files
    (every row loaded or listed as rejected); boundary files with the spec's layer, else the one
    a file's name says (`questions.boundaries`: the CLI reads the same file the same way)."""
    from hotspot_app.io import ingest, workspace
    from hotspot_app.questions import boundaries

    for p in spec.data:
        if not p.exists():
            raise InputError("no such file or folder (named under data:)", file=p, parameter="data")
    summary = None
    warnings: list[str] = []
    if len(spec.data) == 1 and workspace.is_workspace(spec.data[0]):
        incidents = workspace.GeopackageWorkspace(spec.data[0]).incidents()
    else:
        result = ingest.read_incidents(spec.data)
        incidents, summary = result.incidents, result.summary
        warnings += list(summary.get("warnings", []))
        if summary.get("rejected"):
            reasons = ", ".join(f"{k}: {v}" for k, v in summary["rejected_by_reason"].items())
            warnings.append(f"{summary['rejected']:,} of {summary['read']:,} rows were not loaded ({reasons})")
    layers: dict[str, gpd.GeoDataFrame] = {}
    files: dict[str, str] = {}
    for key, src in spec.areas.items():
        if not src.file.exists():
            raise InputError("no such boundary file", file=src.file, parameter=f"areas.{key}")
        try:  # the layer: the spec's, else the one rule every face uses (a ward file is wards)
            gdf, notes = boundaries.read_areas(src.file, name_field=src.name_field, layer=src.layer)
        except InputError as exc:
            raise InputError(exc.message, file=exc.file, row=exc.row, column=exc.column,
                             parameter=f"areas.{key}.{exc.parameter}" if exc.parameter else f"areas.{key}") from None
        warnings += notes
        layers[key] = gdf
        files[key] = src.file.name
    return Inputs(incidents, layers, [p.name for p in spec.data], files, summary, warnings)
