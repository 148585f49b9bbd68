"""Baseline: the plain script for one ward's crime table (the town-centre paper's month / last 6 /
last 12 months against a year earlier): read the incidents, keep the crimes inside the ward
(sjoin), count by crime type per window, print JSON.

    python plain_table.py INCIDENTS.parquet WARDS.gpkg WARD_NAME YYYY-MM

INCIDENTS: the GeoParquet `plain_ingest.py` writes (police.uk's ``Crime type`` and ``Month``).
"""
import json
import sys

import geopandas as gpd
import pandas as pd

inc = gpd.read_parquet(sys.argv[1])
wards = gpd.read_file(sys.argv[2])
ward = wards[wards["name"] == sys.argv[3]]
month = pd.Period(sys.argv[4], "M")
inc = inc[inc["Crime type"] != "Anti-social behaviour"]
inside = gpd.sjoin(inc[["Month", "Crime type", "geometry"]], ward[["geometry"]], predicate="intersects")
months = pd.PeriodIndex(inside["Month"], freq="M")
rows = {}
for label, n in (("selected_month", 1), ("last_6_months", 6), ("last_12_months", 12)):
    now = (months > month - n) & (months <= month)
    before = (months > month - 12 - n) & (months <= month - 12)
    cur = inside[now].groupby("Crime type").size()
    prev = inside[before].groupby("Crime type").size()
    rows[label] = {k: {"current": int(cur.get(k, 0)), "previous": int(prev.get(k, 0))}
                   for k in sorted(set(cur.index) | set(prev.index))}
print(json.dumps({"area": sys.argv[3], "month": sys.argv[4], "rows": rows}))
