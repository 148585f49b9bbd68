"""Baseline: the plain script for "which wards have most ASB": read incidents, sjoin to wards,
count, sort, print JSON.

    python plain_rank.py INCIDENTS.parquet WARDS.gpkg CATEGORY

INCIDENTS: GeoParquet with a ``category`` column (`hotspot ingest --out`) or police.uk's
``Crime type`` (`plain_ingest.py`).
"""
import json
import sys

import geopandas as gpd

inc = gpd.read_parquet(sys.argv[1])
inc = inc[inc["category" if "category" in inc.columns else "Crime type"] == sys.argv[3]]
wards = gpd.read_file(sys.argv[2])
joined = gpd.sjoin(inc[["geometry"]], wards[["name", "geometry"]], predicate="intersects")
counts = joined.groupby("name").size().sort_values(ascending=False)
print(json.dumps({"rows": [{"name": k, "count": int(v)} for k, v in counts.head(10).items()]}))
