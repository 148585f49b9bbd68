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
    (every row loaded or listed as rejected); boundary files with the spec's layer."""
    from hotspot_app.io import ingest, workspace

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
        if workspace.is_workspace(src.file):
            gdf = workspace.GeopackageWorkspace(src.file).areas()
            if src.layer:
                gdf = gdf[gdf["layer"].astype(str) == src.layer].reset_index(drop=True)
                if not len(gdf):
                    raise InputError(f"the workspace has no '{src.layer}' areas", file=src.file,
                                     parameter=f"areas.{key}.layer")
        else:
            res = ingest.read_boundaries(src.file, name_field=src.name_field, layer=src.layer or "custom")
            gdf = res.areas
            warnings += list(getattr(res, "warnings", []) or [])
        layers[key] = gdf
        files[key] = src.file.name
    return Inputs(incidents, layers, [p.name for p in spec.data], files, summary, warnings)
