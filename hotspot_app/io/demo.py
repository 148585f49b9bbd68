"""Deterministic SYNTHETIC demo borough ("Aldwyke") with planted, known truth.

Everything here is invented by this module's own code from a fixed seed (numpy ``Generator``
``SEED``): the same tables on every run and machine. Nothing is a real incident, a real place or
a real ward; every file written says so (``settings.DEMO_LABEL``, README.txt, metadata).

The borough
-----------
A fictional borough of ~50 km2 centred on E 452000 N 432000 (British National Grid, a rural
stretch of the Vale of York chosen so it overlaps none of the real data the project is tested
against). 20 wards (Voronoi cells of a perturbed 5 x 4 grid of seeds, clipped to the borough
outline) with invented names, codes ``X05000001``..``X05000020`` and populations 5,000-15,000;
one town centre polygon (``Aldwyke Town Centre``); three micro-hotspot polygons (~300 m across)
with patrol dates. Months 2021-01..2024-03 (39 months).

Incidents (canonical schema, EPSG:27700): police.uk-style crime (the 14 police.uk types minus
ASB, ~1,220 a month, more shoplifting/violence in the town centre), ASB (~385 a month) and
fires (deliberate primary/secondary ~58 a month plus ~11 accidental fires; with date AND time;
evening-heavy, with extra fires on 30-31 October and 4-6 November). ~65,000 rows in all.
Crime and ASB are snapped, like police.uk, to ~2,300 fixed street points, each with an
"On or near <Street>" location, so distinct locations << rows; their ``occurred`` is NaT (police.uk
gives only the month). Fire coordinates are whole metres near a street point (not snapped).
Ids: crimes carry a 64-hex police.uk-style Crime ID (also in the CSVs); ASB rows have an empty
Crime ID in the CSVs (as police.uk) and ids ``demo-asb-YYYY-MM-NNNNN`` in the demo tables (ingest
of the CSVs generates its own stable ASB ids); fires ``SDFyyyymmddNNNNN`` (fires.csv
``incident_number``).

Coordinates: street points are generated in BNG, converted to WGS84, rounded to 6 decimals (as
written to the police.uk-format CSVs) and converted back; the canonical BNG coordinates ARE those
round-tripped values, so ingesting the CSVs reproduces the demo's coordinates (to < 1 mm).

Known truth (``Demo.truth``, also ``truth.json``)
-------------------------------------------------
::

    {
      "synthetic": True, "label": DEMO_LABEL, "seed": SEED, "version": VERSION,
      "borough": "Aldwyke",
      "crs": "EPSG:27700", "months": {"from": "2021-01", "to": "2024-03"},
      "n_street_points": int,
      "volumes": {"crime": n, "asb": n, "fire": n, "deliberate_fires": n, "rows": n,
                  "per_month": {"crime": mean, "asb": mean, "deliberate_fires": mean}},
      "clusters": [   # 3 ASB + 2 deliberate secondary fire discs, >= 1 km from each other
        {"name": str, "kind": "asb"|"fire", "category": "Anti-social behaviour"|
         "Deliberate secondary fire", "group": "asb"|"deliberate-secondary-fires",
         "ward": str, "x": float, "y": float, "radius_m": float,
         "n": planted count (all months), "n_within_radius": count of that category within
         radius_m of (x, y) in the whole data set (planted + background),
         "background_per_km2": that category's density elsewhere in the borough (all months)}],
      "micro_hotspots": [{"name", "area_id", "ward", "asb_per_month" (planted mean rate before
         seasonality), "patrol_start", "patrol_end", "effect": bool}],
      "patrol_effect": {
         "area": name, "area_id": id, "ward": str, "category": "Anti-social behaviour",
         "start": "2023-07-01", "end": "2023-12-31",
         "effect_months": ["2023-07", ..., "2023-12"],  # the rate is cut in these months only
         "reduction": 0.3,                # planted ASB rate x 0.7 inside the polygon
         "displaced_fraction": 1/3,       # of the removed ASB, added to the buffer ring
         "buffer_m": 250.0,               # ring = polygon.buffer(250) minus polygon
         "baseline_2021_factor": 1.5,     # the area's planted rate in 2021 was 1.5x later years
         "observed": {"area": {RANGE: n}, "buffer": {RANGE: n}}  # ASB counts (intersects), for
             # RANGE in "2021-07..2021-12", "2022-07..2022-12", "2023-07..2023-12",
             # "2022-01..2022-06", "2023-01..2023-06"
      },
      "trend": {"ward": "Thistlebeck", "crime_annual_factor": 0.89, "asb_annual_factor": 0.75},
      "town_centre": {"name", "area_id"},
      "seasonality": {"crime": [12], "asb": [12], "deliberate_secondary_fire": [12],
                      "deliberate_primary_fire": [12], "accidental_fire": [12]}
    }

Only micro-hotspot A (``Thistlebeck Precinct``) has a patrol effect; B and C have patrol dates
but no planted effect (use them as controls). Micro-hotspots are themselves ASB concentrations
(that is why they were chosen), so DBSCAN on ASB finds them as well as the planted ASB clusters;
the town centre is a dense crime area. The ward ``Thistlebeck`` (containing A) has a planted
downward trend in background crime (x0.89 a year) and ASB (x0.75 a year); other wards are flat.

API: `generate()` -> `Demo` in memory; `write(demo, out_dir)` -> {name: Path} (the police.uk
CSVs and fires.csv come from the generator's raw rows; a `Demo` read back by `load` is written by
regenerating them, which gives the same files); `load(dir=None)` reads ``workspace.gpkg`` from
`dir` (default ``settings.DEMO_DIR``), generating and writing the demo first when the folder is
not complete (`is_complete`); cached per folder in-process (treat the tables as read-only).
CLI: ``hotspot demo --out DIR [--geodata DIR] [--if-missing] [--format json]`` (``make demo``:
incident data in data/demo/, boundary files in geodata/demo/).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Point

from hotspot_app.core import periods, schema, settings
from hotspot_app.io.demo_recipe import (
    ASB_PER_MONTH,
    BOROUGH,
    CENTRE,
    CLUSTERS,
    CRIME_MIX,
    CRIME_PER_MONTH,
    FIRE_PROPERTY,
    FIRE_RATES,
    FIRE_SEASON,
    FIRST_MONTH,
    HOURS_ACCIDENTAL,
    HOURS_DELIBERATE,
    LAST_MONTH,
    MICRO_HOTSPOTS,
    OUTCOME_P,
    OUTCOMES,
    PATROL,
    SEASON,
    TOWN_CENTRE,
    TREND,
    blob,
    borough_polygon,
    street_points,
    ward_cells,
)
from hotspot_app.io.workspace.gpkg import GeopackageWorkspace, atomic_path

__all__ = ["Demo", "generate", "write", "load", "is_complete", "file_paths", "SEED", "VERSION", "FILES",
           "BOUNDARY_FILES", "POLICE_UK_HEADER"]

SEED = 20240331
#: Bumped whenever the generator's output changes: a folder written by another version is not
#: "complete", so `load()` and ``hotspot demo --if-missing`` regenerate it.
VERSION = 3
FORCE = "Synthetic Demo Constabulary"
FIRE_SERVICE = "Synthetic Demo Fire and Rescue Service"
POLICE_UK_HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                    "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
                    "Context"]
#: Files a complete demo folder holds (police.uk monthly CSVs are checked separately).
FILES = ["README.txt", "truth.json", "workspace.gpkg", "fires.csv", "wards.geojson",
         "town_centres.geojson", "micro_hotspots.geojson", "population.csv", "interventions.csv"]
#: The boundary files among FILES: written into the geodata folder when one is given (the
#: project's layout: boundaries in geodata/demo/, incident data in data/demo/).
BOUNDARY_FILES = ["wards.geojson", "town_centres.geojson", "micro_hotspots.geojson"]


def file_paths(out_dir: str | Path, geodata_dir: str | Path | None = None) -> dict[str, Path]:
    """Where each of FILES lives: boundary files in `geodata_dir` when given, the rest (and the
    ``police_uk`` folder) in `out_dir`."""
    out = Path(out_dir)
    geo = Path(geodata_dir) if geodata_dir is not None else out
    paths = {name: (geo if name in BOUNDARY_FILES else out) / name for name in FILES}
    paths["police_uk"] = out / "police_uk"
    return paths


@dataclass
class Demo:
    """The synthetic demo borough. All tables in EPSG:27700.

    Attributes
    ----------
    incidents : GeoDataFrame
        Crime + ASB + fires, canonical incident schema.
    wards, town_centres, micro_hotspots : GeoDataFrame
        Areas (``schema.AREA_COLUMNS``); wards have ``population`` and ``ward_code``;
        micro-hotspots have ``patrol_start``/``patrol_end`` (datetime) and ``ward``.
    interventions : GeoDataFrame
        ``schema.INTERVENTION_COLUMNS`` (patrols per micro-hotspot, one CCTV point + radius).
    truth : dict
        The planted truth (module docstring).
    dir : Path or None
        Folder of the written files (None for an in-memory `generate()`).
    """

    incidents: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    town_centres: gpd.GeoDataFrame
    micro_hotspots: gpd.GeoDataFrame
    interventions: gpd.GeoDataFrame
    truth: dict
    dir: Path | None = None
    label: str = field(default=settings.DEMO_LABEL)

    @property
    def areas(self) -> gpd.GeoDataFrame:
        """Wards, town centre and micro-hotspots in one areas table (schema columns only)."""
        cols = schema.AREA_COLUMNS
        return gpd.GeoDataFrame(
            pd.concat([self.wards[cols], self.town_centres[cols], self.micro_hotspots[cols]],
                      ignore_index=True), crs=settings.CRS)

    @property
    def borough(self):
        """The borough outline (union of the wards)."""
        return shapely.union_all(self.wards.geometry.values)


# --------------------------------------------------------------------------- generation
def _month_days(month: str) -> int:
    return pd.Period(month, "M").days_in_month


def _fire_times(rng, months_idx, months, category):
    """Timestamps within each month: evening-heavy hours, extra on Halloween / bonfire night."""
    n = len(months_idx)
    hours_w = HOURS_DELIBERATE if category.startswith("Deliberate") else HOURS_ACCIDENTAL
    hours = rng.choice(24, size=n, p=hours_w / hours_w.sum())
    minutes = rng.integers(0, 60, n)
    seconds = rng.integers(0, 60, n)
    days = np.empty(n, dtype=int)
    u = rng.random(n)
    for k in range(n):
        month = months[months_idx[k]]
        ndays = _month_days(month)
        mm = int(month[5:7])
        if category == "Deliberate secondary fire" and mm == 11 and u[k] < 0.35:
            days[k] = 4 + int(u[k] / 0.35 * 3)          # 4-6 November
        elif category.startswith("Deliberate") and mm == 10 and u[k] < 0.2:
            days[k] = 30 + int(u[k] / 0.2 * 2)          # 30-31 October
        else:
            days[k] = 1 + int(rng.integers(0, ndays))
    base = pd.to_datetime([months[i] + "-01" for i in months_idx]).values.astype("datetime64[s]")
    return (base + ((days - 1) * 86400 + hours * 3600 + minutes * 60 + seconds).astype("timedelta64[s]"))


def generate() -> Demo:
    """Build the whole demo in memory (deterministic: same result on every call)."""
    rng = np.random.default_rng(SEED)
    months = periods.month_range(FIRST_MONTH, LAST_MONTH)
    nm = len(months)
    cal = np.array([int(m[5:7]) - 1 for m in months])
    t_years = np.arange(nm) / 12.0
    season = {k: np.asarray(v)[cal] for k, v in SEASON.items()}

    borough = borough_polygon(rng)
    wards, seeds, seed_names = ward_cells(rng, borough)
    seed_of = {name: seeds[k] for k, name in enumerate(seed_names)}

    tcx, tcy = seed_of[TOWN_CENTRE["ward"]]
    tc_poly = blob(rng, tcx, tcy, 450, 350, 12)
    micro_polys = []
    for spec in MICRO_HOTSPOTS:
        sx, sy = seed_of[spec["ward"]]
        micro_polys.append(blob(rng, sx + 60, sy - 40, 150, 140, 9))
    clusters = []
    for spec in CLUSTERS:
        sx, sy = seed_of[spec["ward"]]
        off = rng.uniform(-120, 120, 2)
        clusters.append({**spec, "x": round(float(sx + off[0]), 1), "y": round(float(sy + off[1]), 1)})

    pts = street_points(rng, borough, wards, seeds, tc_poly, micro_polys, clusters)
    npts = len(pts)
    px, py = pts["x"].to_numpy(), pts["y"].to_numpy()
    in_tc = shapely.contains_xy(tc_poly, px, py)
    ward_name = np.array(seed_names)[pts["seed_index"].to_numpy()]
    ward_row = wards.set_index("name")
    area_km2 = ward_row.geometry.area / 1e6
    density = (ward_row["population"] / area_km2)
    dens = (density / density.mean()).reindex(ward_name).to_numpy()
    dist = np.hypot(px - CENTRE[0], py - CENTRE[1])
    in_trend = ward_name == TREND["ward"]
    pattern = pts["kind"].to_numpy()
    ordinary = np.isin(pattern, ["street", "town_centre"])  # background only at ordinary points

    def poisson_matrix(weights, per_month, season_k, trend_factor=None):
        w = np.where(ordinary, weights, 0.0)
        lam = per_month * np.outer(season_k, w / w.sum())
        if trend_factor is not None:
            lam[:, in_trend] *= (trend_factor ** t_years)[:, None]
        return rng.poisson(lam)

    # ---- police.uk-style crime and ASB (snapped)
    crime_counts = poisson_matrix(dens * (1 + 4.0 * in_tc), CRIME_PER_MONTH, season["crime"],
                                  TREND["crime_annual_factor"])
    asb_counts = poisson_matrix(dens * (1 + 1.5 * in_tc), ASB_PER_MONTH, season["asb"],
                                TREND["asb_annual_factor"])

    mi, pi = np.nonzero(crime_counts)
    reps = crime_counts[mi, pi]
    c_month, c_point = np.repeat(mi, reps), np.repeat(pi, reps)
    cats = np.array(list(CRIME_MIX))
    p_gen = np.array([v[0] for v in CRIME_MIX.values()])
    p_tc = np.array([v[1] for v in CRIME_MIX.values()])
    c_cat = np.where(in_tc[c_point],
                     rng.choice(cats, size=len(c_point), p=p_tc / p_tc.sum()),
                     rng.choice(cats, size=len(c_point), p=p_gen / p_gen.sum()))

    mi, pi = np.nonzero(asb_counts)
    reps = asb_counts[mi, pi]
    a_month, a_point = [np.repeat(mi, reps)], [np.repeat(pi, reps)]
    a_tag = [np.full(reps.sum(), "background", dtype=object)]
    # planted ASB clusters
    for k, cl in enumerate(clusters):
        if cl["kind"] != "asb":
            continue
        own = np.nonzero((pattern == "cluster") &
                         (np.hypot(px - cl["x"], py - cl["y"]) <= cl["radius_m"]))[0]
        s = season["asb"] / season["asb"].sum()
        a_month.append(rng.choice(nm, size=cl["n"], p=s))
        a_point.append(rng.choice(own, size=cl["n"]))
        a_tag.append(np.full(cl["n"], f"cluster-{k}", dtype=object))
    # micro-hotspots and the patrol effect
    effect_months = None
    for spec, poly in zip(MICRO_HOTSPOTS, micro_polys):
        own = np.nonzero(shapely.contains_xy(poly, px, py))[0]
        level = np.ones(nm)
        effect = np.ones(nm)
        if spec["effect"]:
            level[np.array([m < "2022-01" for m in months])] = PATROL["baseline_2021_factor"]
            effect_months = periods.month_range(spec["patrol_start"][:7], spec["patrol_end"][:7])
            in_effect = np.isin(months, effect_months)
            effect[in_effect] = 1 - PATROL["reduction"]
        lam = spec["asb_per_month"] * season["asb"] * level
        counts = rng.poisson(lam * effect)
        a_month.append(np.repeat(np.arange(nm), counts))
        a_point.append(rng.choice(own, size=counts.sum()))
        a_tag.append(np.full(counts.sum(), f"micro-{spec['key']}", dtype=object))
        if spec["effect"]:
            ring = poly.buffer(PATROL["buffer_m"]).difference(poly)
            ring_pts = np.nonzero(shapely.contains_xy(ring, px, py) & ordinary)[0]
            disp = rng.poisson(lam * (1 - effect) * PATROL["displaced_fraction"])
            a_month.append(np.repeat(np.arange(nm), disp))
            a_point.append(rng.choice(ring_pts, size=disp.sum()))
            a_tag.append(np.full(disp.sum(), "displaced", dtype=object))
    a_month, a_point = np.concatenate(a_month), np.concatenate(a_point)
    order = np.lexsort((a_point, a_month))
    a_month, a_point = a_month[order], a_point[order]

    police = pd.DataFrame({
        "month_idx": np.concatenate([c_month, a_month]),
        "point": np.concatenate([c_point, a_point]),
        "category": np.concatenate([c_cat, np.full(len(a_month), "Anti-social behaviour")]),
    })
    police = police.sort_values(["month_idx", "category", "point"], kind="mergesort",
                                ignore_index=True)
    police["month"] = np.array(months)[police["month_idx"].to_numpy()]
    is_crime = police["category"].to_numpy() != "Anti-social behaviour"
    seq = police.groupby("month").cumcount().to_numpy() + 1
    police["crime_id"] = [
        hashlib.sha256(f"{SEED}:{m}:{s}".encode()).hexdigest() if c else ""
        for m, s, c in zip(police["month"], seq, is_crime)]
    police["incident_id"] = np.where(is_crime, police["crime_id"],
                                     [f"demo-asb-{m}-{s:05d}" for m, s in zip(police["month"], seq)])
    outcome = rng.choice(len(OUTCOMES), size=len(police), p=OUTCOME_P)
    police["outcome"] = np.where(is_crime, np.array(OUTCOMES)[outcome], "")
    p_idx = police["point"].to_numpy()
    police["x"], police["y"] = px[p_idx], py[p_idx]
    police["lon"], police["lat"] = pts["lon"].to_numpy()[p_idx], pts["lat"].to_numpy()[p_idx]
    police["location"] = pts["location"].to_numpy()[p_idx]
    wi = pts["seed_index"].to_numpy()[p_idx]
    code_of = dict(zip(wards["name"], wards["area_id"]))
    ward_num = np.array([int(code_of[seed_names[i]][3:]) for i in range(len(seed_names))])
    police["lsoa_code"] = [f"X01{ward_num[w] * 4 + q:06d}" for w, q in
                           zip(wi, pts["quad"].to_numpy()[p_idx])]
    police["lsoa_name"] = [f"{BOROUGH} {ward_num[w]:03d}{'ABCD'[q]}" for w, q in
                           zip(wi, pts["quad"].to_numpy()[p_idx])]

    # ---- fires (timestamps; whole-metre coordinates near a street point; not snapped)
    fire_frames = []
    fw = np.where(ordinary, 0.5 + dist / dist.max(), 0.0)
    for cat, rate in FIRE_RATES.items():
        s = season[FIRE_SEASON[cat]]
        counts = rng.poisson(rate * s)
        f_month = np.repeat(np.arange(nm), counts)
        f_point = rng.choice(npts, size=len(f_month), p=fw / fw.sum())
        fx = np.round(px[f_point] + rng.uniform(-25, 25, len(f_point)))
        fy = np.round(py[f_point] + rng.uniform(-25, 25, len(f_point)))
        fire_frames.append(pd.DataFrame({"month_idx": f_month, "category": cat, "x": fx, "y": fy}))
    for cl in clusters:
        if cl["kind"] != "fire":
            continue
        s = season["deliberate_secondary_fire"]
        f_month = rng.choice(nm, size=cl["n"], p=s / s.sum())
        r = (cl["radius_m"] - 1.5) * np.sqrt(rng.random(cl["n"]))
        ang = rng.uniform(0, 2 * np.pi, cl["n"])
        fire_frames.append(pd.DataFrame({"month_idx": f_month, "category": cl["category"],
                                         "x": np.round(cl["x"] + r * np.cos(ang)),
                                         "y": np.round(cl["y"] + r * np.sin(ang))}))
    fires = pd.concat(fire_frames, ignore_index=True)
    occurred = np.empty(len(fires), dtype="datetime64[s]")
    for cat in FIRE_RATES:
        sel = np.nonzero(fires["category"].to_numpy() == cat)[0]
        occurred[sel] = _fire_times(rng, fires["month_idx"].to_numpy()[sel], months, cat)
    fires["occurred"] = occurred
    fires = fires.sort_values("occurred", kind="mergesort", ignore_index=True)
    fires["month"] = np.array(months)[fires["month_idx"].to_numpy()]
    fires["incident_id"] = [f"SDF{o.astype('datetime64[D]').astype(str).replace('-', '')}{k:05d}"
                            for k, o in enumerate(fires["occurred"].to_numpy(), start=1)]
    prop = np.empty(len(fires), dtype=object)
    for cat, (types, p) in FIRE_PROPERTY.items():
        sel = np.nonzero(fires["category"].to_numpy() == cat)[0]
        prop[sel] = rng.choice(types, size=len(sel), p=np.array(p) / sum(p))
    fires["subcategory"] = prop
    _, near = cKDTree(np.column_stack([px, py])).query(fires[["x", "y"]].to_numpy())
    fires["location"] = [s.replace("On or near ", "Near ") for s in pts["location"].to_numpy()[near]]

    # ---- canonical incidents
    police_canon = pd.DataFrame({
        "incident_id": police["incident_id"], "source": "police-uk",
        "occurred": pd.Series(pd.NaT, index=police.index, dtype="datetime64[ns]"),
        "month": police["month"].astype(object), "category": police["category"],
        "subcategory": None, "location": police["location"],
        "x": police["x"], "y": police["y"]})
    fire_canon = pd.DataFrame({
        "incident_id": fires["incident_id"], "source": "fire",
        "occurred": fires["occurred"].astype("datetime64[ns]"),
        "month": fires["month"].astype(object), "category": fires["category"],
        "subcategory": fires["subcategory"], "location": fires["location"],
        "x": fires["x"].astype(float), "y": fires["y"].astype(float)})
    both = pd.concat([police_canon, fire_canon], ignore_index=True)
    both = both.sort_values("month", kind="mergesort", ignore_index=True)
    incidents = schema.make_incidents(both, x="x", y="y")
    for col in ("incident_id", "source", "category", "group", "kind", "location", "subcategory"):
        incidents[col] = incidents[col].astype(object)
        incidents[col] = incidents[col].where(incidents[col].notna(), None)
    incidents["occurred"] = incidents["occurred"].astype("datetime64[ns]")
    # who "published" each row says SYNTHETIC wherever it goes (coverage grid, load history, exports)
    incidents["provider"] = np.where(incidents["source"].to_numpy() == "fire", FIRE_SERVICE, FORCE).astype(object)

    # ---- areas and interventions
    town_centres = schema.make_areas(
        gpd.GeoDataFrame({"name": [TOWN_CENTRE["name"]], "ward": [TOWN_CENTRE["ward"]]},
                         geometry=[tc_poly], crs=settings.CRS),
        name="name", layer="town_centre")
    micro = schema.make_areas(
        gpd.GeoDataFrame({
            "name": [m["name"] for m in MICRO_HOTSPOTS], "ward": [m["ward"] for m in MICRO_HOTSPOTS],
            "patrol_start": pd.to_datetime([m["patrol_start"] for m in MICRO_HOTSPOTS]).astype("datetime64[ns]"),
            "patrol_end": pd.to_datetime([m["patrol_end"] for m in MICRO_HOTSPOTS]).astype("datetime64[ns]"),
        }, geometry=micro_polys, crs=settings.CRS),
        name="name", layer="micro_hotspot")
    for gdf in (town_centres, micro):
        for col in ("area_id", "name", "layer", "ward"):
            gdf[col] = gdf[col].astype(object)
    for col in ("area_id", "name", "layer", "ward_code"):
        wards[col] = wards[col].astype(object)
    wards["population"] = wards["population"].astype("int64")

    cctv_point = Point(tcx + 40, tcy + 30)
    interventions = gpd.GeoDataFrame({
        "intervention_id": ["int-1", "int-2", "int-3", "int-4"],
        "name": [f"Micro-hotspot patrols: {m['name']}" for m in MICRO_HOTSPOTS] + ["Town centre CCTV column"],
        "type": ["patrols", "patrols", "patrols", "cctv"],
        "area_id": list(micro["area_id"]) + [None],
        "start": pd.to_datetime([m["patrol_start"] for m in MICRO_HOTSPOTS] + ["2022-09-01"]).astype("datetime64[ns]"),
        "end": pd.to_datetime([m["patrol_end"] for m in MICRO_HOTSPOTS] + [None]).astype("datetime64[ns]"),
        "radius_m": [np.nan, np.nan, np.nan, 100.0],
        "notes": ["Synthetic: planted ASB reduction of 30%, a third displaced into the 250 m ring",
                  "Synthetic: no planted effect", "Synthetic: no planted effect",
                  "Synthetic: no planted effect"],
    }, geometry=list(micro_polys) + [cctv_point], crs=settings.CRS)
    for col in ("intervention_id", "name", "type", "area_id", "notes"):
        interventions[col] = interventions[col].astype(object)
        interventions[col] = interventions[col].where(interventions[col].notna(), None)

    truth = _truth(incidents, wards, town_centres, micro, clusters, micro_polys, months,
                   effect_months, borough, npts)
    # Make the in-memory tables carry the police.uk file fields needed by write().
    demo = Demo(incidents=incidents, wards=wards, town_centres=town_centres,
                micro_hotspots=micro, interventions=interventions, truth=truth, dir=None)
    demo._police_rows = police  # type: ignore[attr-defined]
    demo._fire_rows = fires  # type: ignore[attr-defined]
    return demo


def _truth(incidents, wards, town_centres, micro, clusters, micro_polys, months, effect_months,
           borough, npts) -> dict:
    xs, ys = incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()
    kind = incidents["kind"].to_numpy()
    cat = incidents["category"].to_numpy()
    month = incidents["month"].to_numpy()
    n_months = len(months)
    out_clusters = []
    for cl in clusters:
        sel = cat == cl["category"]
        d = np.hypot(xs[sel] - cl["x"], ys[sel] - cl["y"])
        n_in = int((d <= cl["radius_m"]).sum())
        far = d > 500
        bg_area_km2 = (borough.area - np.pi * 500 ** 2) / 1e6
        out_clusters.append({
            "name": cl["name"], "kind": cl["kind"], "category": cl["category"],
            "group": cl["group"], "ward": cl["ward"], "x": cl["x"], "y": cl["y"],
            "radius_m": cl["radius_m"], "n": cl["n"], "n_within_radius": n_in,
            "background_per_km2": round(float(far.sum()) / bg_area_km2, 2),
        })
    a = micro.iloc[[i for i, m in enumerate(MICRO_HOTSPOTS) if m["effect"]][0]]
    poly = a.geometry
    ring = poly.buffer(PATROL["buffer_m"]).difference(poly)
    is_asb = kind == "asb"
    in_area = shapely.intersects_xy(poly, xs, ys) & is_asb
    in_ring = shapely.intersects_xy(ring, xs, ys) & is_asb
    ranges = ["2021-07..2021-12", "2022-07..2022-12", "2023-07..2023-12",
              "2022-01..2022-06", "2023-01..2023-06"]
    observed = {"area": {}, "buffer": {}}
    for rg in ranges:
        win = np.isin(month, periods.parse_range(rg))
        observed["area"][rg] = int((in_area & win).sum())
        observed["buffer"][rg] = int((in_ring & win).sum())
    spec_a = next(m for m in MICRO_HOTSPOTS if m["effect"])
    n_deliberate = int(np.isin(cat, ["Deliberate primary fire", "Deliberate secondary fire"]).sum())
    return {
        "synthetic": True,
        "label": settings.DEMO_LABEL,
        "seed": SEED,
        "version": VERSION,
        "borough": BOROUGH,
        "crs": settings.CRS,
        "months": {"from": months[0], "to": months[-1]},
        "n_street_points": int(npts),
        "volumes": {
            "crime": int((kind == "crime").sum()), "asb": int(is_asb.sum()),
            "fire": int((kind == "fire").sum()), "deliberate_fires": n_deliberate,
            "rows": int(len(incidents)),
            "per_month": {"crime": round((kind == "crime").sum() / n_months, 1),
                          "asb": round(is_asb.sum() / n_months, 1),
                          "deliberate_fires": round(n_deliberate / n_months, 1)},
        },
        "clusters": out_clusters,
        "micro_hotspots": [
            {"name": m["name"], "area_id": str(aid), "ward": m["ward"],
             "asb_per_month": m["asb_per_month"], "patrol_start": m["patrol_start"],
             "patrol_end": m["patrol_end"], "effect": m["effect"]}
            for m, aid in zip(MICRO_HOTSPOTS, micro["area_id"])],
        "patrol_effect": {
            "area": str(a["name"]), "area_id": str(a["area_id"]), "ward": spec_a["ward"],
            "category": "Anti-social behaviour", "start": spec_a["patrol_start"],
            "end": spec_a["patrol_end"], "effect_months": effect_months,
            "reduction": PATROL["reduction"], "displaced_fraction": PATROL["displaced_fraction"],
            "buffer_m": PATROL["buffer_m"], "baseline_2021_factor": PATROL["baseline_2021_factor"],
            "asb_per_month": spec_a["asb_per_month"], "observed": observed,
        },
        "trend": dict(TREND),
        "town_centre": {"name": str(town_centres["name"].iloc[0]),
                        "area_id": str(town_centres["area_id"].iloc[0])},
        "seasonality": {k: list(v) for k, v in SEASON.items()},
    }


# --------------------------------------------------------------------------- files
README = f"""{settings.DEMO_LABEL}

This folder holds the SYNTHETIC demo borough "{BOROUGH}" generated by hotspot_app/demo.py
(numpy seed {SEED}; identical on every run). Every incident, place, ward, street and figure here is
invented. Ward codes start with X05, LSOA codes with X01; the police force is "{FORCE}" and the
fire service "{FIRE_SERVICE}".

Files
  police_uk/YYYY-MM/YYYY-MM-demo-street.csv  police.uk street-level format (crime and ASB; month only)
  fires.csv                 fire-service style extract (date and time, easting/northing in metres)
  wards.geojson             20 synthetic wards with population (EPSG:27700)
  town_centres.geojson      the synthetic town centre (EPSG:27700)
  micro_hotspots.geojson    3 synthetic micro-hotspots with patrol dates (EPSG:27700)
  population.csv            synthetic ward populations
  interventions.csv         patrols and a CCTV column (geometry as WKT, EPSG:27700)
  workspace.gpkg            all of the above as one workspace (hotspot_app.store)
  truth.json                the planted truth: clusters, the patrol effect, trends, seasonality
"""


def write(demo: Demo, out_dir: str | Path, geodata_dir: str | Path | None = None) -> dict[str, Path]:
    """Write the demo's files into `out_dir` (the boundary files into `geodata_dir` when given);
    returns {name: path} (``police_uk`` is the folder).

    truth.json is written last, so a folder with truth.json and the other FILES is complete.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    places = file_paths(out, geodata_dir)
    places["wards.geojson"].parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    police = getattr(demo, "_police_rows", None)
    fires = getattr(demo, "_fire_rows", None)
    if police is None or fires is None:
        demo = _with_rows(demo)
        police, fires = demo._police_rows, demo._fire_rows  # type: ignore[attr-defined]

    readme = out / "README.txt"
    readme.write_text(README, encoding="utf-8")
    written["README.txt"] = readme

    police_dir = out / "police_uk"
    table = pd.DataFrame({
        "Crime ID": police["crime_id"], "Month": police["month"], "Reported by": FORCE,
        "Falls within": FORCE, "Longitude": police["lon"].map("{:.6f}".format),
        "Latitude": police["lat"].map("{:.6f}".format), "Location": police["location"],
        "LSOA code": police["lsoa_code"], "LSOA name": police["lsoa_name"],
        "Crime type": police["category"], "Last outcome category": police["outcome"],
        "Context": "",
    })[POLICE_UK_HEADER]
    for month, part in table.groupby("Month", sort=True):
        folder = police_dir / month
        folder.mkdir(parents=True, exist_ok=True)
        part.to_csv(folder / f"{month}-demo-street.csv", index=False, lineterminator="\n")
    written["police_uk"] = police_dir

    fire_table = pd.DataFrame({
        "incident_number": fires["incident_id"],
        "datetime": pd.to_datetime(fires["occurred"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "category": fires["category"], "property_type": fires["subcategory"],
        "easting": fires["x"].astype(int), "northing": fires["y"].astype(int),
        "location": fires["location"], "fire_service": FIRE_SERVICE,
    })
    path = out / "fires.csv"
    fire_table.to_csv(path, index=False, lineterminator="\n")
    written["fires.csv"] = path

    for name, gdf in (("wards.geojson", demo.wards), ("town_centres.geojson", demo.town_centres),
                      ("micro_hotspots.geojson", demo.micro_hotspots)):
        path = places[name]
        g = gdf.copy()
        for col in g.columns:
            if str(g[col].dtype).startswith("datetime64"):
                g[col] = g[col].dt.strftime("%Y-%m-%d")
        g["synthetic"] = True
        with atomic_path(path, copy_existing=False) as tmp:
            g.to_file(tmp, driver="GeoJSON", layer=f"{BOROUGH.lower()}_{name[:-8]}_synthetic")
        written[name] = path

    path = out / "population.csv"
    demo.wards[["area_id", "name", "population"]].rename(
        columns={"area_id": "ward_code", "name": "ward_name"}).assign(
        year=2021, note="synthetic").to_csv(path, index=False, lineterminator="\n")
    written["population.csv"] = path

    path = out / "interventions.csv"
    iv = pd.DataFrame(demo.interventions.drop(columns="geometry"))
    iv["start"] = iv["start"].dt.strftime("%Y-%m-%d")
    iv["end"] = iv["end"].dt.strftime("%Y-%m-%d")
    iv["geometry_wkt"] = demo.interventions.geometry.to_wkt().to_numpy()
    iv.to_csv(path, index=False, lineterminator="\n")
    written["interventions.csv"] = path

    path = out / "workspace.gpkg"
    with atomic_path(path, copy_existing=False) as tmp:
        GeopackageWorkspace(tmp).write(incidents=demo.incidents, interventions=demo.interventions,
                             areas=[demo.wards, demo.town_centres, demo.micro_hotspots])
    written["workspace.gpkg"] = path

    path = out / "truth.json"
    with atomic_path(path, copy_existing=False) as tmp:
        tmp.write_text(json.dumps(demo.truth, indent=2) + "\n", encoding="utf-8")
    written["truth.json"] = path
    return written


def _with_rows(demo: Demo) -> Demo:
    """A Demo read from disk has no police.uk file fields; regenerate them (deterministic)."""
    return generate()


def is_complete(out_dir: str | Path, geodata_dir: str | Path | None = None) -> bool:
    """True when `out_dir` (and `geodata_dir` for the boundary files, when given) holds every
    demo file (and the police.uk months of truth.json), written by this `VERSION` of the
    generator."""
    out = Path(out_dir)
    if not all(path.is_file() for name, path in file_paths(out, geodata_dir).items() if name != "police_uk"):
        return False
    try:
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
        months = periods.month_range(truth["months"]["from"], truth["months"]["to"])
    except (ValueError, KeyError, OSError, TypeError):
        return False
    if truth.get("version") != VERSION:
        return False
    return all((out / "police_uk" / m / f"{m}-demo-street.csv").is_file() for m in months)


_CACHE: dict[Path, Demo] = {}
_LOCK = threading.Lock()


def load(dir: str | Path | None = None) -> Demo:
    """The demo read from `dir` (default ``settings.DEMO_DIR``, with its boundary files in
    ``settings.DEMO_GEODATA_DIR``), generated and written there first when it is not complete.
    Cached per folder in this process; callers must not mutate the returned tables (copy them)."""
    out = Path(dir) if dir is not None else settings.DEMO_DIR
    geodata = None if dir is not None else settings.DEMO_GEODATA_DIR
    key = out.resolve()
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if not is_complete(out, geodata):
            write(generate(), out, geodata)
        ws = GeopackageWorkspace(out / "workspace.gpkg")
        demo = Demo(incidents=ws.incidents(), wards=ws.areas("ward"),
                    town_centres=ws.areas("town_centre"), micro_hotspots=ws.areas("micro_hotspot"),
                    interventions=ws.interventions(),
                    truth=json.loads((out / "truth.json").read_text(encoding="utf-8")), dir=out)
        _CACHE[key] = demo
        return demo
