"""Baseline: the plain script for a Gi* hot-spot grid from a CSV of points: read, bin to square
cells, esda G_Local (star) with queen contiguity on the occupied cells' lattice, write.

    python plain_grid.py INCIDENTS.csv OUT.gpkg CELL_M
"""
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
from esda.getisord import G_Local
from libpysal.weights import lat2W
from shapely.geometry import box

path, out, cell = sys.argv[1], sys.argv[2], float(sys.argv[3])
df = pd.read_csv(path)
ix = np.floor(df["x"].to_numpy() / cell).astype(np.int64)
iy = np.floor(df["y"].to_numpy() / cell).astype(np.int64)
x0, y0 = ix.min(), iy.min()
nx, ny = ix.max() - x0 + 1, iy.max() - y0 + 1
grid = np.zeros((ny, nx))
np.add.at(grid, (iy - y0, ix - x0), 1)
w = lat2W(ny, nx, rook=False)
g = G_Local(grid.ravel(), w, star=True, permutations=0)
rows, cols = np.divmod(np.arange(nx * ny), nx)
cells = gpd.GeoDataFrame({"count": grid.ravel(), "z": g.Zs},
                         geometry=[box((x0 + c) * cell, (y0 + r) * cell, (x0 + c + 1) * cell, (y0 + r + 1) * cell)
                                   for r, c in zip(rows, cols)], crs="EPSG:27700")
cells[cells["count"] > 0].to_file(out, driver="GPKG")
print(int((cells["z"] > 1.96).sum()))
