"""Join benchmark: incidents to ward polygons, the project's join (`areas.join`) against plain
`geopandas.sjoin` on the same data in the same run; and a partnership table over 36 months.

Data (synthetic, seeded):
- 8,500 ward polygons: a Voronoi tessellation of random seeds over a 100 km square (a large
  force area with many small wards), clipped to the square.
- snapped: 1,000,000 incidents drawn from 15,000 distinct locations (police.uk-style snap
  points, rounded to 1 m) with a Zipf-like popularity, some outside the square.
- snapped, shared points: the same incidents with one Point object per distinct location, as
  the ingest builds them (`hotspot_app.ingest.geo.points`); the separate-objects case above is
  what a GeoPackage/Parquet read gives.
- unsnapped: 1,000,000 distinct random points.
- table: ~270,000 police.uk-category incidents over 36 months (a force's three years), one
  area (the union of the wards around the centre), `summaries.partnership_table`.

Each measurement runs in a fresh (forked) process (`_common.measure`): seconds of the call only,
and the peak RSS of that process (baseline interpreter + inputs included, the same for both
methods). The two methods alternate run by run; best and median of five runs are reported. Joins
are timed in two set-ups, identical for both methods: the incidents built in the timed process
before the clock starts (as when the CLI or app joins data it has loaded), and the incidents
inherited from the parent through the fork (the first pass over 1M inherited geometry objects is
then much slower for both methods: a fork artifact, reported for comparison with earlier runs).

Run: `.venv/bin/python benchmarks/joins.py` (writes the "joins" section of RESULTS.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from _common import machine, measure, write_section  # noqa: E402
from hotspot_app.core import areas, periods, schema  # noqa: E402
from hotspot_app.core import summaries

W = 100_000.0
N_WARDS = 8_500
N_INCIDENTS = 1_000_000
N_LOCATIONS = 15_000
REPEATS = 5


def make_wards(seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    seeds = shapely.points(rng.uniform(0, W, size=(N_WARDS, 2)))
    frame = shapely.box(0, 0, W, W)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    polys = shapely.intersection(cells, frame)
    return gpd.GeoDataFrame({"area_id": [f"W{i:05d}" for i in range(len(polys))],
                             "name": [f"Ward {i}" for i in range(len(polys))], "layer": "ward"},
                            geometry=polys, crs="EPSG:27700")


def snapped_points(seed: int = 2) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    locs = np.round(rng.uniform(-1_000, W + 1_000, size=(N_LOCATIONS, 2)))
    p = 1.0 / np.arange(1, N_LOCATIONS + 1) ** 0.8
    xy = locs[rng.choice(N_LOCATIONS, size=N_INCIDENTS, p=p / p.sum())]
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700")


def shared_snapped_points(seed: int = 2) -> gpd.GeoDataFrame:
    """The snapped incidents with one shared Point per distinct location (as loaded by the ingest)."""
    from hotspot_app.io.ingest import geo

    xy = shapely.get_coordinates(snapped_points(seed).geometry.values)
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(geo.points(xy[:, 0], xy[:, 1]), crs="EPSG:27700"))


def unsnapped_points(seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-1_000, W + 1_000, size=(N_INCIDENTS, 2))
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700")


def project_join(incidents, wards):
    """The timed call: the area label of every incident."""
    areas.join(incidents, wards)


def plain_sjoin(incidents, wards):
    """The baseline timed call: what an analyst writes with geopandas."""
    gpd.sjoin(incidents, wards[["area_id", "geometry"]], how="left", predicate="intersects")


def same_counts(incidents, wards) -> bool:
    """Untimed check that both give the same per-ward counts under the same rule (first area by
    row order per incident, 'outside' kept)."""
    ours = areas.join(incidents, wards).value_counts().sort_index()
    sj = gpd.sjoin(incidents, wards[["area_id", "geometry"]], how="left", predicate="intersects")
    sj = sj.reset_index().sort_values(["index", "index_right"]).drop_duplicates("index")
    labels = sj["area_id"].astype(object).where(sj["area_id"].notna(), areas.OUTSIDE)
    return ours.equals(labels.value_counts().sort_index())


def table_incidents(seed: int = 4, n_locations: int = 15_000) -> tuple[gpd.GeoDataFrame, object]:
    rng = np.random.default_rng(seed)
    months = periods.month_range("2022-01", "2024-12")
    cats = ["Anti-social behaviour", "Violence and sexual offences", "Shoplifting", "Criminal damage and arson",
            "Public order", "Other theft", "Vehicle crime", "Burglary", "Drugs", "Other crime",
            "Possession of weapons", "Robbery", "Theft from the person", "Bicycle theft"]
    weights = np.array([18, 33, 9, 10, 9, 7, 5, 4, 2, 2, 1, 0.7, 0.6, 0.7])
    n = 270_000
    locs = np.round(rng.uniform(0, 40_000, size=(n_locations, 2)))
    xy = locs[rng.integers(0, n_locations, size=n)]
    df = pd.DataFrame({"category": np.asarray(cats, dtype=object)[rng.choice(len(cats), size=n, p=weights / weights.sum())],
                       "month": np.asarray(months, dtype=object)[rng.integers(0, len(months), size=n)],
                       "x": xy[:, 0], "y": xy[:, 1]})
    inc = schema.make_incidents(df, source="police-uk")
    area = shapely.box(15_000, 15_000, 25_000, 25_000)
    return inc, area


def run_table(inc, area):
    rows, warnings = summaries.partnership_table(inc, area, "2024-12")
    return int(rows.loc[rows["category"] == "Total", "last_12_months_current"].iloc[0]), len(warnings)


def best(func, *args):
    runs = [measure(func, *args) for _ in range(REPEATS)]
    t = min(r[0] for r in runs)
    mem = max(r[1] for r in runs)
    return t, mem, runs[0][2]


def built_here(make, method, wards) -> float:
    """In the timed (forked) process: build the incidents there (untimed), then time the call."""
    import time

    inc = make()
    t0 = time.perf_counter()
    method(inc, wards)
    return time.perf_counter() - t0


def compare(make, inc, wards) -> dict:
    """Both methods, each run in a fresh process, alternating (ours, sjoin, ours, sjoin, ...) so
    both see the same machine load, in two set-ups: inputs built in the timed process, and inputs
    inherited from this process. Per (method, set-up): best and median seconds, largest peak."""
    runs: dict = {}
    for _ in range(REPEATS):
        for method in (project_join, plain_sjoin):
            dt, peak, _ = measure(method, inc, wards)
            runs.setdefault((method, "inherited"), []).append((dt, peak))
        for method in (project_join, plain_sjoin):
            _, peak, dt = measure(built_here, make, method, wards)
            runs.setdefault((method, "built"), []).append((dt, peak))
    return {k: (min(t for t, _ in v), float(np.median([t for t, _ in v])), max(m for _, m in v))
            for k, v in runs.items()}


def main() -> None:
    wards = make_wards()
    lines = ["## Joins: incidents to 8,500 ward polygons", "",
             f"Machine: {machine()}; load average at start {os.getloadavg()[0]:.1f} (shared machine: "
             "timings vary run to run)", "",
             f"Synthetic: {len(wards):,} Voronoi wards over a 100 km square; 1,000,000 incidents. "
             f"Each time: best (median) of {REPEATS} runs per method, each in a fresh (forked) process, the two "
             "methods alternating run by run; speed-up = sjoin time / `areas.join` time. Both methods apply "
             "the same rule (first area by row order; 'outside' kept) and the per-ward counts are checked "
             "to be identical (untimed). Timed: `areas.join(incidents, wards)` (a label per incident) vs "
             "`geopandas.sjoin(incidents, wards, predicate='intersects')`. Two set-ups, the same for both "
             "methods: the incidents **built in the timed process** before the clock starts (like the CLI "
             "or app, which join data they loaded themselves), and the incidents **inherited from the "
             "parent** through the fork (the set-up of earlier versions of this section): there the "
             "first pass over the 1M inherited geometry objects is much slower for both methods (a "
             "fork artifact; see the note below the table). Peak = max RSS of the inherited-input "
             "process (inputs included).", "",
             "| data | method | built in the timed process: s best (median) | speed-up vs sjoin | "
             "inherited from the parent: s best (median) | speed-up vs sjoin | peak MiB |",
             "|---|---|---:|---:|---:|---:|---:|"]
    results = {}
    cases = (("snapped (15,000 locations), a Point object per incident", snapped_points),
             ("snapped, one shared Point per location (as ingested)", shared_snapped_points),
             ("unsnapped (1M distinct)", unsnapped_points))
    for label, make in cases:
        inc = make()
        n_distinct = len(areas.unique_points(inc)[0]) if label.startswith("snapped") else len(inc)
        r = compare(make, inc, wards)
        same = same_counts(inc, wards)
        if not same:
            raise SystemExit(f"{label}: project join and sjoin disagree")
        results[label] = {mode: (r[project_join, mode][0], r[plain_sjoin, mode][0],
                                 r[plain_sjoin, mode][1] / r[project_join, mode][1]) for mode in ("built", "inherited")}
        for method, name in ((project_join, "`areas.join`"), (plain_sjoin, "`geopandas.sjoin` (baseline)")):
            cells = []
            for mode in ("built", "inherited"):
                best_s, med_s, _ = r[method, mode]
                sj_best, sj_med, _ = r[plain_sjoin, mode]
                cells.append(f"{best_s:.3f} ({med_s:.3f}) | {sj_best / best_s:.1f}x ({sj_med / med_s:.1f}x)")
            what = f"{label}; {n_distinct:,} distinct" if method is project_join else label
            lines.append(f"| {what} | {name} | {cells[0]} | {cells[1]} | {r[method, 'inherited'][2]:,.0f} |")
        print(label, {k[1] + ("-ours" if k[0] is project_join else "-sjoin"): v for k, v in r.items()},
              f"identical={same}", flush=True)
    inc, area = table_incidents()
    t_tab, m_tab, (total, n_warn) = best(run_table, inc, area)
    print(f"table {t_tab:.3f}s total {total}", flush=True)
    snapped, shared = results[cases[0][0]], results[cases[1][0]]
    unsnapped = results[cases[2][0]]

    def verdict(r, mode):
        ours, sj, med = r[mode]
        ok = ours <= 0.2 and sj / ours >= 6
        return f"{ours:.3f} s, {sj / ours:.1f}x, median {med:.1f}x ({'met' if ok else 'NOT met'})"

    def faster(r, mode):
        ours, sj, med = r[mode]
        return f"{sj / ours:.2f}x, median {med:.2f}x ({'met' if ours <= sj else 'NOT met'})"

    extra = [1000 * (snapped["inherited"][k] - snapped["built"][k]) for k in (0, 1)]
    lines += ["",
              f"Inherited inputs (snapped, a Point per incident, best runs): `areas.join` {extra[0]:+.0f} ms, "
              f"sjoin {extra[1]:+.0f} ms against inputs built in the timed process.",
              "",
              f"Partnership table (`summaries.partnership_table`, 3 windows x 2 comparisons, police.uk "
              f"hierarchy) for one 10 km x 10 km area over {len(inc):,} incidents in 36 months: "
              f"**{t_tab:.3f} s**, peak {m_tab:,.0f} MiB (last-12-months Total {total:,}; {n_warn} warnings).",
              "",
              "Targets (best runs): snapped <= 0.2 s and >= 6x sjoin -- a Point per incident: "
              f"{verdict(snapped, 'built')} built in the process, {verdict(snapped, 'inherited')} inherited; "
              f"shared Points: {verdict(shared, 'built')} built, {verdict(shared, 'inherited')} inherited. "
              f"Unsnapped no slower than sjoin: {faster(unsnapped, 'built')} built, "
              f"{faster(unsnapped, 'inherited')} inherited. "
              f"Table <= 1 s: {t_tab:.3f} s ({'met' if t_tab <= 1 else 'NOT met'}).",
              "",
              "How: police.uk points repeat, so the join factorises the coordinates, runs the "
              "point-in-polygon query once per distinct location and maps back. Incidents loaded by "
              "the ingest share one Point object per location: then the distinct objects are found "
              "from their identities (the object array's pointers, no coordinate read) and only their "
              "coordinates are read. When a sample shows the points are mostly distinct it skips "
              "the unique step and queries the points directly: the areas' spatial index gives the "
              "bounding-box candidates and the exact test runs against prepared copies of the "
              "polygons (sjoin runs the index's predicate query, which tests against unprepared "
              "polygons), without building a joined frame."]
    write_section("joins", "\n".join(lines))


if __name__ == "__main__":
    main()
