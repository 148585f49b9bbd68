"""Baseline: the plain script an analyst would write to turn police.uk monthly CSVs into a
GeoParquet file. No validation, no rejects report, no ids, no taxonomy.

    python plain_ingest.py FOLDER OUT.parquet
"""
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

folder, out = Path(sys.argv[1]), sys.argv[2]
df = pd.concat([pd.read_csv(f) for f in sorted(folder.rglob("*.csv"))], ignore_index=True)
df = df[df["Longitude"].notna() & df["Latitude"].notna()]
gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["Longitude"], df["Latitude"]),
                       crs="EPSG:4326").to_crs("EPSG:27700")
gdf.to_parquet(out)
print(len(gdf))
