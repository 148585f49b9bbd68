"""The demo borough's recipe (the synthetic "Aldwyke" of `io.demo`): its names, streets, crime
mix, seasons, rates, planted clusters and micro-hotspots, and the geometry they are drawn on
(borough outline, Voronoi wards, street points). Invented data only; `io.demo.generate` turns it
into incidents, areas and the planted truth."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, Point, Polygon

from hotspot_app.core import schema, settings

BOROUGH = "Aldwyke"
CENTRE = (452_000.0, 432_000.0)
FIRST_MONTH, LAST_MONTH = "2021-01", "2024-03"

WARD_NAMES = [
    "Brackenfold", "Brannock Hill", "Colliston Rise", "Corvin Park", "Dunmere Vale",
    "Elderwick", "Fennick Park", "Hollinsgarth", "Orrin Vale", "Quillbank",
    "Tollerby Fields", "Aldwyke Central", "Gorsebeck", "Pellow Green", "Sallowmere",
    "Marrowgate", "Thistlebeck", "Kestwick", "Wendle Moor", "Yarrowby",
]
STREET_STEMS = ["Alder", "Birch", "Cedar", "Damson", "Elm", "Fern", "Gorse", "Hazel", "Ivy",
                "Juniper", "Laurel", "Maple", "Nettle", "Oak", "Poplar", "Rowan", "Sorrel",
                "Teasel", "Willow", "Yew", "Bramble", "Clover", "Heather", "Linden", "Mallow",
                "Primrose", "Sedge", "Thorn", "Vetch", "Wren"]
STREET_SUFFIXES = ["Road", "Street", "Lane", "Avenue", "Close", "Grove", "Way", "Crescent",
                   "Drive", "Walk", "Terrace", "Gardens", "Row", "Place", "View"]
TOWN_STREETS = ["High Street", "Market Place", "Bridge Street", "Church Street", "Station Road",
                "Corn Exchange", "Shopping Area", "Nightclub", "Bus Station", "Supermarket"]
PUBLIC_PLACES = ["Parking Area", "Sports/Recreation Area", "Park/Open Space", "Supermarket",
                 "Petrol Station", "Shopping Area"]

# Seasonality by calendar month (Jan..Dec), normalised to mean 1 below.
SEASON = {
    "crime": [0.92, 0.88, 0.97, 0.98, 1.04, 1.05, 1.08, 1.06, 1.02, 1.03, 0.99, 0.98],
    # spring peak (Apr-May) and Halloween / bonfire-night peak (Oct-Nov)
    "asb": [0.80, 0.80, 0.95, 1.20, 1.25, 1.05, 1.00, 0.95, 0.90, 1.25, 1.25, 0.75],
    "deliberate_secondary_fire": [0.55, 0.60, 1.10, 1.75, 1.45, 1.05, 1.00, 0.85, 0.70, 1.25,
                                  1.95, 0.45],
    "deliberate_primary_fire": [0.90, 0.85, 0.95, 1.05, 1.05, 1.00, 1.00, 1.00, 0.95, 1.10,
                                1.25, 0.90],
    "accidental_fire": [1.10, 1.05, 1.00, 0.95, 0.95, 0.95, 1.00, 1.00, 0.95, 1.00, 1.00, 1.10],
}
SEASON = {k: [round(v / float(np.mean(vals)), 4) for v in vals] for k, vals in SEASON.items()}

CRIME_MIX = {  # share of crime by police.uk type: elsewhere, and in the town centre
    "Violence and sexual offences": (0.36, 0.30), "Criminal damage and arson": (0.10, 0.05),
    "Public order": (0.09, 0.12), "Other theft": (0.07, 0.10), "Vehicle crime": (0.07, 0.02),
    "Burglary": (0.07, 0.02), "Shoplifting": (0.06, 0.25), "Drugs": (0.03, 0.05),
    "Other crime": (0.03, 0.015), "Bicycle theft": (0.015, 0.03),
    "Theft from the person": (0.01, 0.04), "Robbery": (0.012, 0.02),
    "Possession of weapons": (0.012, 0.015),
}
OUTCOMES = ["Investigation complete; no suspect identified", "Unable to prosecute suspect",
            "Under investigation", "Awaiting court outcome", "Offender given a caution",
            "Local resolution", "Status update unavailable", "Court result unavailable"]
OUTCOME_P = [0.38, 0.27, 0.10, 0.06, 0.03, 0.04, 0.08, 0.04]
FIRE_PROPERTY = {
    "Deliberate secondary fire": (["Grassland, woodland and crops", "Refuse/rubbish container",
                                   "Loose refuse", "Scrub land", "Derelict building",
                                   "Derelict vehicle"], [0.30, 0.25, 0.22, 0.10, 0.06, 0.07]),
    "Deliberate primary fire": (["Car", "Motorcycle", "Dwelling - house", "Shed", "Garage",
                                 "Non-residential - warehouse"], [0.45, 0.12, 0.15, 0.14, 0.09,
                                                                  0.05]),
    "Accidental primary fire": (["Dwelling - house", "Dwelling - flat", "Car",
                                 "Non-residential - restaurant"], [0.50, 0.25, 0.15, 0.10]),
    "Accidental secondary fire": (["Grassland, woodland and crops", "Loose refuse",
                                   "Refuse/rubbish container"], [0.5, 0.3, 0.2]),
}
FIRE_RATES = {  # mean per month (borough background, before seasonality)
    "Deliberate secondary fire": 40.0, "Deliberate primary fire": 12.0,
    "Accidental primary fire": 7.0, "Accidental secondary fire": 4.0,
}
FIRE_SEASON = {"Deliberate secondary fire": "deliberate_secondary_fire",
               "Deliberate primary fire": "deliberate_primary_fire",
               "Accidental primary fire": "accidental_fire",
               "Accidental secondary fire": "accidental_fire"}
#: Hour-of-day weights (0..23): deliberate fires peak in the evening, accidental ones less so.
HOURS_DELIBERATE = np.array([4, 3, 2, 1.5, 1, 0.7, 0.6, 0.7, 1, 1.2, 1.5, 1.8, 2.2, 2.6, 3, 3.5,
                              4.5, 6, 7.5, 8.5, 9, 8.5, 7, 5.5])
HOURS_ACCIDENTAL = np.array([2, 1.5, 1.2, 1, 1, 1, 1.5, 2.5, 3, 3, 3, 3.5, 4, 3.5, 3, 3, 3.5, 4.5,
                              5, 4.5, 4, 3.5, 3, 2.5])

CRIME_PER_MONTH = 1250.0
ASB_PER_MONTH = 270.0  # background; clusters and micro-hotspots add ~110 more
TREND = {"ward": "Thistlebeck", "crime_annual_factor": 0.89, "asb_annual_factor": 0.75}

# Roles by seed-grid cell (column -2..2, row -1.5..1.5 in 1.5 km x 1.4 km steps).
TOWN_CENTRE = {"name": f"{BOROUGH} Town Centre", "ward": "Aldwyke Central"}
MICRO_HOTSPOTS = [
    {"key": "A", "name": "Thistlebeck Precinct", "ward": "Thistlebeck", "asb_per_month": 48.0,
     "patrol_start": "2023-07-01", "patrol_end": "2023-12-31", "effect": True},
    {"key": "B", "name": "Marrowgate Rec", "ward": "Marrowgate", "asb_per_month": 30.0,
     "patrol_start": "2023-07-01", "patrol_end": "2023-12-31", "effect": False},
    {"key": "C", "name": "Kestwick Shops", "ward": "Kestwick", "asb_per_month": 24.0,
     "patrol_start": "2022-07-01", "patrol_end": "2022-12-31", "effect": False},
]
PATROL = {"reduction": 0.3, "displaced_fraction": 1 / 3, "buffer_m": 250.0,
          "baseline_2021_factor": 1.5}
CLUSTERS = [
    {"name": "Gorsebeck underpass (ASB cluster)", "ward": "Gorsebeck", "kind": "asb",
     "category": "Anti-social behaviour", "group": "asb", "radius_m": 60.0, "n": 320},
    {"name": "Sallowmere parade (ASB cluster)", "ward": "Sallowmere", "kind": "asb",
     "category": "Anti-social behaviour", "group": "asb", "radius_m": 70.0, "n": 260},
    {"name": "Pellow Green park (ASB cluster)", "ward": "Pellow Green", "kind": "asb",
     "category": "Anti-social behaviour", "group": "asb", "radius_m": 50.0, "n": 200},
    {"name": "Wendle Moor scrubland (fire cluster)", "ward": "Wendle Moor", "kind": "fire",
     "category": "Deliberate secondary fire", "group": "deliberate-secondary-fires",
     "radius_m": 80.0, "n": 140},
    {"name": "Yarrowby garages (fire cluster)", "ward": "Yarrowby", "kind": "fire",
     "category": "Deliberate secondary fire", "group": "deliberate-secondary-fires",
     "radius_m": 70.0, "n": 110},
]
# Ward name per seed cell (col index 0..4, row index 0..3 from south to north).
ROLE_CELLS = {
    (2, 2): "Aldwyke Central", (1, 1): "Thistlebeck", (3, 2): "Marrowgate", (4, 1): "Kestwick",
    (0, 2): "Gorsebeck", (2, 0): "Sallowmere", (3, 1): "Pellow Green", (1, 3): "Wendle Moor",
    (4, 3): "Yarrowby",
}

BNG_TO_WGS = Transformer.from_crs(settings.CRS, settings.CRS_WGS84, always_xy=True)
WGS_TO_BNG = Transformer.from_crs(settings.CRS_WGS84, settings.CRS, always_xy=True)



# --------------------------------------------------------------------------- geometry
def borough_polygon(rng: np.random.Generator) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    r = 1 + 0.04 * np.sin(3 * theta + p1) + 0.02 * np.sin(5 * theta + p2)
    x = CENTRE[0] + 4600 * r * np.cos(theta)
    y = CENTRE[1] + 3500 * r * np.sin(theta)
    return Polygon(np.column_stack([np.round(x, 1), np.round(y, 1)]))


def blob(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, n: int = 10) -> Polygon:
    """An irregular convex-ish polygon around (cx, cy) with radii about rx, ry."""
    theta = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(0.85, 1.1, n)
    return Polygon(np.column_stack([np.round(cx + rx * r * np.cos(theta), 1),
                                    np.round(cy + ry * r * np.sin(theta), 1)])).convex_hull


def round_trip_wgs84(x: np.ndarray, y: np.ndarray):
    lon, lat = BNG_TO_WGS.transform(x, y)
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    bx, by = WGS_TO_BNG.transform(lon, lat)
    return np.asarray(bx), np.asarray(by), np.asarray(lon), np.asarray(lat)


def ward_cells(rng: np.random.Generator, borough: Polygon):
    cols, rows = [-3000.0, -1500.0, 0.0, 1500.0, 3000.0], [-2100.0, -700.0, 700.0, 2100.0]
    seeds, cells = [], []
    for j, dy in enumerate(rows):
        for i, dx in enumerate(cols):
            jitter = rng.uniform(-150, 150, 2)
            seeds.append((CENTRE[0] + dx + jitter[0], CENTRE[1] + dy + jitter[1]))
            cells.append((i, j))
    seeds = np.round(np.array(seeds), 1)
    other = iter([n for n in WARD_NAMES if n not in ROLE_CELLS.values()])
    names = [ROLE_CELLS.get(c) or next(other) for c in cells]
    regions = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=borough.buffer(2000))
    polys = []
    for sx, sy in seeds:
        cell = next(g for g in regions.geoms if g.contains(Point(sx, sy)))
        polys.append(shapely.set_precision(cell.intersection(borough), 0.1))
    pops = np.round(rng.triangular(5000, 6500, 15000, len(seeds)) / 10) * 10
    order = np.argsort(names)
    codes = {names[k]: f"X05{n + 1:06d}" for n, k in enumerate(order)}
    raw = gpd.GeoDataFrame(
        {"ward_code": [codes[n] for n in names], "name": names, "population": pops.astype("int64")},
        geometry=polys, crs=settings.CRS)
    raw["code"] = raw["ward_code"]
    raw = raw.iloc[order].reset_index(drop=True)
    wards = schema.make_areas(raw, name="name", layer="ward", area_id="code", population="population")
    return wards, seeds, names


def street_points(rng, borough, wards, seeds, tc_poly, micro_polys, cluster_specs):
    """Fixed 'map points' like police.uk's: a jittered 150 m grid, denser in the town centre,
    a few public places inside each planted cluster and micro-hotspot."""
    minx, miny, maxx, maxy = borough.bounds
    gx = np.arange(minx + 40, maxx, 150.0)
    gy = np.arange(miny + 40, maxy, 150.0)
    xx, yy = np.meshgrid(gx, gy)
    col_idx, row_idx = np.meshgrid(np.arange(len(gx)), np.arange(len(gy)))
    xx = xx.ravel() + rng.uniform(-35, 35, xx.size)
    yy = yy.ravel() + rng.uniform(-35, 35, yy.size)
    inner = borough.buffer(-30)
    keep = shapely.contains_xy(inner, xx, yy)
    xx, yy = xx[keep], yy[keep]
    seg = (row_idx.ravel()[keep] * 1000 + col_idx.ravel()[keep] // 5)
    segments = np.unique(seg)
    combos = [f"{s} {t}" for s in STREET_STEMS for t in STREET_SUFFIXES]
    pick = rng.permutation(len(combos))
    names = {s: combos[pick[k % len(combos)]] for k, s in enumerate(segments)}
    loc = [f"On or near {names[s]}" for s in seg]
    kinds = ["street"] * len(xx)
    pts_x, pts_y = [xx], [yy]

    # Town centre: extra points on a staggered 75 m grid.
    tminx, tminy, tmaxx, tmaxy = tc_poly.bounds
    tx, ty = np.meshgrid(np.arange(tminx + 20, tmaxx, 75.0), np.arange(tminy + 20, tmaxy, 75.0))
    tx = tx.ravel() + rng.uniform(-15, 15, tx.size)
    ty = ty.ravel() + rng.uniform(-15, 15, ty.size)
    inside = shapely.contains_xy(tc_poly.buffer(-10), tx, ty)
    tx, ty = tx[inside], ty[inside]
    pts_x.append(tx), pts_y.append(ty)
    loc += [f"On or near {TOWN_STREETS[k]}" for k in rng.integers(0, len(TOWN_STREETS), len(tx))]
    kinds += ["town_centre"] * len(tx)

    # Micro-hotspots: 6 extra street points each, inside the polygon.
    for poly in micro_polys:
        c = poly.centroid
        ang = rng.uniform(0, 2 * np.pi, 6)
        dist = rng.uniform(20, 100, 6)
        mx, my = c.x + dist * np.cos(ang), c.y + dist * np.sin(ang)
        pts_x.append(mx), pts_y.append(my)
        loc += [f"On or near {PUBLIC_PLACES[k]}" for k in rng.integers(0, len(PUBLIC_PLACES), 6)]
        kinds += ["micro_hotspot"] * 6

    # ASB clusters: 4 public places each within 0.7 radius of the centre.
    for spec in cluster_specs:
        if spec["kind"] != "asb":
            continue
        ang = rng.uniform(0, 2 * np.pi) + np.arange(4) * np.pi / 2
        dist = rng.uniform(0.2, 0.7, 4) * spec["radius_m"]
        pts_x.append(spec["x"] + dist * np.cos(ang)), pts_y.append(spec["y"] + dist * np.sin(ang))
        loc += [f"On or near {PUBLIC_PLACES[k]}" for k in rng.integers(0, len(PUBLIC_PLACES), 4)]
        kinds += ["cluster"] * 4

    x = np.concatenate(pts_x)
    y = np.concatenate(pts_y)
    bx, by, lon, lat = round_trip_wgs84(x, y)
    # ward of each point = nearest seed (the Voronoi cell), LSOA = ward quadrant
    _, wi = cKDTree(seeds).query(np.column_stack([bx, by]))
    quad = (bx > seeds[wi, 0]).astype(int) + 2 * (by > seeds[wi, 1]).astype(int)
    return pd.DataFrame({"x": bx, "y": by, "lon": lon, "lat": lat, "location": loc,
                         "kind": kinds, "seed_index": wi, "quad": quad})
