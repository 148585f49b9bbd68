"""Join benchmark: incidents to ward polygons, the project's join (`areas.join`) against plain
`geopandas.sjoin` on the same data in the same run; and a partnership table over 36 months.

Data (synthetic, seeded):
- 8,500 ward polygons: a Voronoi tessellation of random seeds over a 100 km square (a large
  force area with many small wards), clipped to the square.
- snapped: 1,000,000 incidents drawn from 15,000 distinct locations (police.uk-style snap
  points, rounded to 1 m) with a Zipf-like popularity, some outside the square.
- unsnapped: 1,000,000 distinct random points.
- table: ~270,000 police.uk-category incidents over 36 months (a force's three years), one
  area (the union of the wards around the centre), `areas.partnership_table`.

Each measurement runs in a fresh process (`_common.measure`): seconds of the call only, and
the peak RSS of that process (baseline interpreter + inputs included, the same for both methods).
Best of five runs (alternating the two methods) is reported for times, to damp the noise of a
shared machine.

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
from hotspot_app import areas, periods, schema  # noqa: E402

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
    rows, warnings = areas.partnership_table(inc, area, "2024-12")
    return int(rows.loc[rows["category"] == "Total", "last_12_months_current"].iloc[0]), len(warnings)


def best(func, *args):
    runs = [measure(func, *args) for _ in range(REPEATS)]
    t = min(r[0] for r in runs)
    mem = max(r[1] for r in runs)
    return t, mem, runs[0][2]


def best_pair(a, b):
    """Alternate runs of two calls (a, b, a, b, ...) so both see the same machine load; best
    time and largest peak of each."""
    runs = {0: [], 1: []}
    for _ in range(REPEATS):
        for k, (func, *args) in enumerate((a, b)):
            runs[k].append(measure(func, *args))
    return tuple((min(r[0] for r in runs[k]), max(r[1] for r in runs[k]), runs[k][0][2]) for k in (0, 1))


def main() -> None:
    wards = make_wards()
    lines = ["## Joins: incidents to 8,500 ward polygons", "",
             f"Machine: {machine()}; load average at start {os.getloadavg()[0]:.1f} (shared machine: "
             "timings vary run to run, e.g. a run at load ~3 gave 5.1x on snapped data)", "",
             f"Synthetic: {len(wards):,} Voronoi wards over a 100 km square; 1,000,000 incidents. "
             f"Best of {REPEATS} fresh-process runs, alternating the two methods; peak = RSS of that process (inputs included). "
             "Both methods apply the same rule (first area by row order; 'outside' kept) and the "
             "per-ward counts are checked to be identical (untimed). Timed: `areas.join(incidents, wards)` "
             "(a label per incident) vs `geopandas.sjoin(incidents, wards, predicate='intersects')`.", "",
             "| data | method | seconds | peak MiB | speed-up vs sjoin |",
             "|---|---|---:|---:|---:|"]
    results = {}
    for label, make in (("snapped (15,000 locations)", snapped_points), ("unsnapped (1M distinct)", unsnapped_points)):
        inc = make()
        n_distinct = len(areas.unique_points(inc)[0]) if label.startswith("snapped") else len(inc)
        (t_ours, m_ours, _), (t_sj, m_sj, _) = best_pair((project_join, inc, wards), (plain_sjoin, inc, wards))
        same = same_counts(inc, wards)
        if not same:
            raise SystemExit(f"{label}: project join and sjoin disagree")
        results[label] = (t_ours, t_sj)
        lines.append(f"| {label}; {n_distinct:,} distinct | `areas.join` | {t_ours:.3f} | {m_ours:,.0f} | {t_sj / t_ours:.1f}x |")
        lines.append(f"| {label} | `geopandas.sjoin` (baseline) | {t_sj:.3f} | {m_sj:,.0f} | 1.0x |")
        print(label, f"ours {t_ours:.3f}s sjoin {t_sj:.3f}s ({t_sj / t_ours:.1f}x) identical={same}", flush=True)
    inc, area = table_incidents()
    t_tab, m_tab, (total, n_warn) = best(run_table, inc, area)
    print(f"table {t_tab:.3f}s total {total}", flush=True)
    snapped, unsnapped = results["snapped (15,000 locations)"], results["unsnapped (1M distinct)"]
    lines += ["",
              f"Partnership table (`areas.partnership_table`, 3 windows x 2 comparisons, police.uk "
              f"hierarchy) for one 10 km x 10 km area over {len(inc):,} incidents in 36 months: "
              f"**{t_tab:.3f} s**, peak {m_tab:,.0f} MiB (last-12-months Total {total:,}; {n_warn} warnings).",
              "",
              f"Targets: snapped <= 0.2 s and >= 6x sjoin: {snapped[0]:.3f} s, {snapped[1] / snapped[0]:.1f}x "
              f"({'met' if snapped[0] <= 0.2 and snapped[1] / snapped[0] >= 6 else 'NOT met'}); "
              f"unsnapped no slower than sjoin: {unsnapped[1] / unsnapped[0]:.2f}x "
              f"({'met' if unsnapped[0] <= unsnapped[1] else 'NOT met'}); "
              f"table <= 1 s: {t_tab:.3f} s ({'met' if t_tab <= 1 else 'NOT met'}).",
              "",
              "How: police.uk points repeat, so the join factorises the coordinates, runs the "
              "point-in-polygon query once per distinct location and maps back. When a sample "
              "shows the points are mostly distinct it skips that step and queries the points "
              "directly (same STRtree query as sjoin, without building a joined frame)."]
    write_section("joins", "\n".join(lines))


if __name__ == "__main__":
    main()
