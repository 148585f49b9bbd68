"""Writes docs/examples/cleveland_micro_hotspots.geojson: two micro-hotspots on the real police.uk
Cleveland files, each a 200 m circle round the busiest ASB map point of July-December 2023 in
Hemlington ward (Middlesbrough) and in Hartlepool. Used by the README's worked example and the
evaluation agreement tests. Run from the repository root:

    .venv/bin/python docs/examples/make_cleveland_micro_hotspots.py ../shared/realdata
"""

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core import settings
from hotspot_app.io import ingest
from hotspot_app.io.ingest import boundaries

OUT = Path(__file__).with_name("cleveland_micro_hotspots.geojson")
RADIUS_M = 200.0


def busiest(asb: gpd.GeoDataFrame, where) -> shapely.Point:
    xy = shapely.get_coordinates(asb.geometry.values)
    inside = shapely.intersects_xy(where, xy[:, 0], xy[:, 1])
    return shapely.Point(*pd.DataFrame(xy[inside], columns=["x", "y"]).value_counts().index[0])


def main(realdata: Path) -> None:
    inc = ingest.read_incidents([realdata / "police_cleveland"]).incidents
    wards = boundaries.read_boundaries(realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson",
                                       layer="ward").areas
    asb = inc[(inc["kind"] == "asb") & inc["month"].between("2023-07", "2023-12")]
    places = {"Hemlington micro-hotspot": wards.loc[wards["name"] == "Hemlington", "geometry"].iloc[0],
              "Hartlepool micro-hotspot": shapely.union_all(np.asarray(
                  wards.loc[wards["LAD24NM"] == "Hartlepool", "geometry"].values))}
    rows = [(name, busiest(asb, where).buffer(RADIUS_M, quad_segs=16)) for name, where in places.items()]
    out = gpd.GeoDataFrame({"name": [n for n, _ in rows]}, geometry=[g for _, g in rows], crs=settings.CRS)
    out.to_crs(settings.CRS_WGS84).to_file(OUT, driver="GeoJSON", COORDINATE_PRECISION=7)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
