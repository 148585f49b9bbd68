"""Baseline: the plain script for DBSCAN patrol areas from an incidents file, as the issue names
it: read the file, np.unique the coordinates, scikit-learn DBSCAN with sample_weight, dissolve +
concave hull + buffer per cluster, write.

    python plain_clusters.py INCIDENTS(.parquet|.csv) OUT.gpkg EPS MIN_SAMPLES [CATEGORY] [--raw]

--raw: scikit-learn DBSCAN on every raw point (the script most analysts write first; the issue's
"read_csv + sklearn DBSCAN on the raw points" baseline) instead of distinct points + sample_weight.

A .csv needs x,y (metres) and category columns; a .parquet is GeoParquet in EPSG:27700 with a
``category`` column (`hotspot ingest --out`) or police.uk's ``Crime type`` (`plain_ingest.py`).
"""
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.cluster import DBSCAN

raw = "--raw" in sys.argv
argv = [a for a in sys.argv if a != "--raw"]
path, out, eps, min_samples = argv[1], argv[2], float(argv[3]), int(argv[4])
category = argv[5] if len(argv) > 5 else None
if path.endswith(".parquet"):
    df = gpd.read_parquet(path)
    if category:
        df = df[df["category" if "category" in df.columns else "Crime type"] == category]
    xy = shapely.get_coordinates(df.geometry.values)
else:
    df = pd.read_csv(path)
    if category:
        df = df[df["category"] == category]
    xy = df[["x", "y"]].to_numpy(float)
if raw:
    uniq, counts = xy, np.ones(len(xy), dtype=int)
    labels = DBSCAN(eps=eps, min_samples=min_samples).fit(xy).labels_
else:
    uniq, counts = np.unique(xy, axis=0, return_counts=True)
    labels = DBSCAN(eps=eps, min_samples=min_samples).fit(uniq, sample_weight=counts).labels_
keep = labels >= 0
pts = gpd.GeoDataFrame({"label": labels[keep], "count": counts[keep]},
                       geometry=gpd.points_from_xy(uniq[keep, 0], uniq[keep, 1]), crs="EPSG:27700")
polys = pts.dissolve(by="label", aggfunc={"count": "sum"})
polys["geometry"] = polys.geometry.concave_hull(0.5).buffer(eps / 2)
polys.sort_values("count", ascending=False).to_file(out, driver="GPKG")
print(len(polys))
