"""`hotspot clusters` end to end, its components, and where the grid method pays (issue 12).

End to end (fresh processes, as a user runs it, in turn with the baseline; wall and CPU
seconds and peak RSS from ``/usr/bin/time -v``): ``hotspot clusters DATA.csv --eps-m 100 --min-samples 15 --out
areas.gpkg --format json`` on a 1,000,000-row generic CSV snapped to 15,000 street points,
against the plain-script baseline in the same run (`BASELINE_SCRIPT`: ``pandas.read_csv`` +
``sklearn.cluster.DBSCAN`` on the raw points, labels written to CSV). Target (issue 24): >= 10x
faster, imports deferred until needed (measured with ``python -X importtime``).

Components (each in a fresh forked process on the same data): generic CSV ingest, labelling
(distinct locations + DBSCAN), building the patrol areas, writing the GeoPackage.

Grid threshold: scikit-learn (distinct locations + sample_weight) against the exact grid method
on growing numbers of distinct (exact) points; `settings.GRID_METHOD_MIN_LOCATIONS` is set from
this table. Both are checked against each other (identical core sets and noise sets).

Data (synthetic, fixed seed): a 40 km x 40 km county; 15,000 street points (75% around 300
centres with a 250 m spread, 25% uniform), each with a Zipf(1.6) popularity (capped at 100);
incidents drawn by popularity. Snapped: incidents sit exactly on their street point. Exact: a
Gaussian 40 m scatter around the street point, so every coordinate is distinct.

Run: ``python benchmarks/clusters.py`` (about 10 minutes on 2 shared cores).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine, measure, write_section  # noqa: E402
from hotspot_app.core import cluster_areas, clusters, locations, selection  # noqa: E402
from hotspot_app.io import geofiles

N = 1_000_000
LOCATIONS = 15_000
EPS_M = 100.0
MIN_SAMPLES = 15
CATEGORIES = ["Anti-social behaviour", "Violence and sexual offences", "Criminal damage and arson",
              "Shoplifting", "Public order", "Vehicle crime", "Burglary", "Other theft"]

#: The named plain-script baseline: what an analyst would write without the tool.
BASELINE_SCRIPT = """\
import sys
import pandas as pd
from sklearn.cluster import DBSCAN
df = pd.read_csv(sys.argv[1])
labels = DBSCAN(eps=100, min_samples=15).fit(df[["easting", "northing"]].to_numpy()).labels_
pd.DataFrame({"label": labels}).to_csv(sys.argv[2], index=False)
print(int(labels.max()) + 1, int((labels == -1).sum()))
"""


def borough(snapped: bool, n: int = N, locations_: int = LOCATIONS, seed: int = 0,
            side: float = 40_000.0, jitter: float = 40.0, cap: int = 100):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, side, (300, 2))
    near = rng.random(locations_) < 0.75
    loc = rng.uniform(0, side, (locations_, 2))
    loc[near] = centres[rng.integers(0, len(centres), near.sum())] + rng.normal(0, 250, (near.sum(), 2))
    loc = np.round(loc, 0)
    pop = np.minimum(rng.zipf(1.6, locations_), cap).astype(float)
    idx = rng.choice(locations_, n, p=pop / pop.sum())
    xy = loc[idx]
    if not snapped:
        xy = xy + rng.normal(0, jitter, xy.shape)
    return xy + (440_000.0, 420_000.0), idx


def write_csv(path: Path) -> int:
    xy, idx = borough(True)
    rng = np.random.default_rng(1)
    months = np.array([f"2024-{m:02d}" for m in range(1, 13)])
    df = pd.DataFrame({
        "category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), len(xy))],
        "month": months[rng.integers(0, 12, len(xy))],
        "easting": xy[:, 0], "northing": xy[:, 1],
        "location": pd.Categorical.from_codes(idx, [f"On or near Street {k}" for k in range(LOCATIONS)]),
    })
    df.to_csv(path, index=False)
    return len(np.unique(xy, axis=0))


def timed(cmd: list[str]) -> dict:
    """Wall seconds, CPU seconds (user + sys), peak RSS MiB and stdout of a command in a fresh
    process, from ``/usr/bin/time -v``."""
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode != 0:
        raise SystemExit(f"{cmd} failed: {res.stderr[-2000:]}")
    err = res.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err).group(1)
    parts = [float(p) for p in wall.split(":")]
    secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    user = float(re.search(r"User time \(seconds\): (\S+)", err).group(1))
    system = float(re.search(r"System time \(seconds\): (\S+)", err).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    return {"wall": secs, "cpu": user + system, "user": user, "sys": system, "rss": rss, "out": res.stdout}


PAIRS = 3


def end_to_end(tmp: Path) -> tuple[list[str], dict]:
    """The command and the baseline in turn (A B A B ...), `PAIRS` times; medians, and the
    ratio pair by pair so a drift in the shared machine's speed hits both sides alike."""
    csv = tmp / "incidents.csv"
    t0 = time.perf_counter()
    distinct = write_csv(csv)
    print(f"wrote {csv} ({csv.stat().st_size / 1e6:.0f} MB, {distinct:,} distinct locations) "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)
    base = tmp / "baseline.py"
    base.write_text(BASELINE_SCRIPT)
    py = sys.executable
    ours_cmd = [py, "-m", "hotspot_app.cli", "clusters", str(csv), "--eps-m", "100",
                "--min-samples", "15", "--out", str(tmp / "areas.gpkg"), "--format", "json"]
    base_cmd = [py, str(base), str(csv), str(tmp / "labels.csv")]
    ours, bases = [], []
    for k in range(PAIRS):
        ours.append(timed(ours_cmd))
        bases.append(timed(base_cmd))
        print(f"pair {k + 1}: ours {ours[-1]['wall']:.1f} s wall {ours[-1]['cpu']:.1f} s cpu; "
              f"baseline {bases[-1]['wall']:.1f} s wall {bases[-1]['cpu']:.1f} s cpu", flush=True)
    nb_clusters, nb_noise = map(int, bases[-1]["out"].split())
    doc = json.loads(ours[-1]["out"])
    same = len(doc["clusters"]) == nb_clusters and doc["n_noise"] == nb_noise
    verdict = (f"{len(doc['clusters']):,} clusters, {doc['n_noise']:,} noise: "
               + ("the same as the baseline" if same else "DIFFERENT from the baseline"))

    def med(runs, key):
        return float(np.median([r[key] for r in runs]))

    wall_ratio = [b["wall"] / o["wall"] for o, b in zip(ours, bases)]
    cpu_ratio = [b["cpu"] / o["cpu"] for o, b in zip(ours, bases)]
    user_ratio = [b["user"] / o["user"] for o, b in zip(ours, bases)]
    rows = [
        "| command | wall s (median) | CPU s (median) | of which user s | of which system s | peak MiB | result |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| baseline script: `pandas.read_csv` + `sklearn.cluster.DBSCAN` on raw points, labels to CSV | "
        f"{med(bases, 'wall'):.1f} | {med(bases, 'cpu'):.1f} | {med(bases, 'user'):.1f} | {med(bases, 'sys'):.1f} | "
        f"{med(bases, 'rss'):,.0f} | {nb_clusters:,} clusters, {nb_noise:,} noise |",
        f"| `hotspot clusters incidents.csv --eps-m 100 --min-samples 15 --out areas.gpkg --format json` | "
        f"{med(ours, 'wall'):.1f} | {med(ours, 'cpu'):.1f} | {med(ours, 'user'):.1f} | {med(ours, 'sys'):.1f} | "
        f"{med(ours, 'rss'):,.0f} | {verdict} |",
        "",
        f"Speed-up (baseline / ours, pair by pair): wall {', '.join(f'{r:.1f}x' for r in wall_ratio)} "
        f"(median {np.median(wall_ratio):.1f}x); CPU {', '.join(f'{r:.1f}x' for r in cpu_ratio)} "
        f"(median {np.median(cpu_ratio):.1f}x); user time alone {', '.join(f'{r:.1f}x' for r in user_ratio)} "
        f"(median {np.median(user_ratio):.1f}x).",
        "",
        "System time is the kernel giving the process fresh memory: the baseline's DBSCAN touches "
        f"{med(bases, 'rss') / 1024:.1f} GiB (its neighbourhood lists), ours {med(ours, 'rss') / 1024:.1f} GiB. "
        "What a page costs varies on this virtual machine from day to day (the same baseline took 12.4 s "
        "wall and 12.7 s of CPU time in all at 00:00 on 2026-12-06), so the wall ratio moves with it; the user-time "
        "ratio is the work alone.",
    ]
    imports = {"ours": import_seconds(ours_cmd), "baseline": import_seconds(base_cmd)}
    return rows, {"csv": csv, "ratio": float(np.median(wall_ratio)),
                  "cpu_ratio": float(np.median(cpu_ratio)), "user_ratio": float(np.median(user_ratio)),
                  "distinct": distinct,
                  "base_wall": med(bases, "wall"), "ours_wall": med(ours, "wall"), "imports": imports}


def import_seconds(cmd: list[str]) -> tuple[float, list[tuple[str, float]]]:
    """Seconds the command spends importing (``python -X importtime``, the same run: the sum of
    the top-level imports' cumulative times) and its five largest top-level imports."""
    res = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    top = []
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if m and not m.group(2).startswith(" "):
            top.append((m.group(2).strip(), int(m.group(1)) / 1e6))
    return sum(t for _, t in top), sorted(top, key=lambda x: -x[1])[:5]


def _ingest(csv):
    from hotspot_app.io import ingest

    inc = ingest.read_incidents([csv]).incidents
    return len(inc)


def _label(xy):
    loc = locations.distinct(xy)
    return clusters.label_locations(loc.xy, loc.weight, EPS_M, MIN_SAMPLES, "auto")


def _areas(sel, labels, loc):
    areas, _, _ = cluster_areas.build(sel, labels, EPS_M, loc=loc)
    return len(areas)


def _export(areas, path):
    geofiles.write_patrol_areas(areas, path)
    return path.stat().st_size


def components(csv: Path, tmp: Path) -> list[str]:
    from hotspot_app.io import ingest

    rows = ["| step | seconds | peak MiB of its process |", "|---|---:|---:|"]
    t, m, n = measure(_ingest, csv)
    rows.append(f"| generic CSV ingest, {n:,} rows ({n / t:,.0f} rows/s) | {t:.2f} | {m:,.0f} |")
    print(rows[-1], flush=True)
    sel = ingest.read_incidents([csv]).incidents
    xy = selection.coordinates(sel)
    t, m, (ul, uc) = measure(_label, xy)
    rows.append(f"| labelling: distinct locations + DBSCAN (auto = sklearn) | {t:.2f} | {m:,.0f} |")
    print(rows[-1], flush=True)
    loc = locations.distinct(xy)
    labels = clusters._renumber(ul)[loc.inverse]
    t, m, k = measure(_areas, sel, labels, loc)
    rows.append(f"| building {k:,} patrol areas (one grouped pass) | {t:.2f} | {m:,.0f} |")
    print(rows[-1], flush=True)
    areas = cluster_areas.build(sel, labels, EPS_M, loc=loc)[0]
    t, m, _ = measure(_export, areas, tmp / "c.gpkg")
    rows.append(f"| writing the GeoPackage | {t:.2f} | {m:,.0f} |")
    print(rows[-1], flush=True)
    return rows


def _method(uxy, uw, method):
    t0 = time.perf_counter()
    out = clusters.label_locations(uxy, uw, EPS_M, MIN_SAMPLES, method)
    return time.perf_counter() - t0, out


def threshold() -> list[str]:
    rows = ["| distinct points | sklearn + sample_weight, s | grid, s | grid / sklearn | same core and noise |",
            "|---:|---:|---:|---:|---|"]
    import sklearn.cluster  # noqa: F401  (imported once: the table times the algorithms)

    for n in (5_000, 15_000, 50_000, 100_000, 200_000, 400_000):
        xy, _ = borough(False, n=n)
        uxy = locations.distinct(xy).xy
        uw = np.ones(len(uxy))
        _, _, (ts, (ls, cs)) = measure(_method, uxy, uw, "sklearn")
        _, _, (tg, (lg, cg)) = measure(_method, uxy, uw, "grid")
        same = bool((cs == cg).all() and ((ls == -1) == (lg == -1)).all())
        rows.append(f"| {len(uxy):,} | {ts:.2f} | {tg:.2f} | {tg / ts:.2f} | {'yes' if same else 'NO'} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        e2e, info = end_to_end(tmp)
        comp = components(info["csv"], tmp)
    thr = threshold()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    md = "\n".join([
        "## clusters: `hotspot clusters` end to end, 1,000,000 snapped rows, eps 100 m, min_samples 15",
        "",
        f"Machine: {machine()}. Load average at the end of the run: {load} (2 cores: timings "
        "scale with the load; both sides of each ratio ran in the same minutes).",
        "",
        f"Data: a generic CSV (category, month, easting, northing, location) of 1,000,000 rows on "
        f"{info['distinct']:,} distinct street points (see `benchmarks/clusters.py`). Each command "
        f"runs {PAIRS} times in fresh processes, in turn with the baseline (A B A B ...); wall and "
        "CPU (user + system) seconds and the maximum resident set size come from "
        "`/usr/bin/time -v`. Result: number of clusters and noise incidents, "
        "compared with the baseline (core and noise sets are identical by construction; tests "
        "check them against scikit-learn).",
        "",
        *e2e,
        "",
        f"Target (issue 24): >= 10x faster than the baseline. Measured (medians of the pairs): "
        f"{info['ratio']:.1f}x wall clock, {info['cpu_ratio']:.1f}x CPU time -- "
        + ((f"**not counted as met**: 10x in wall time, but {info['user_ratio']:.1f}x in user time alone; "
            "the baseline's system time (the machine's cost of fresh pages, see above) made the "
            "difference, and on a day when pages are cheap the same commands give less than 10x."
            if info["user_ratio"] < 10 else "**met**, in wall and in user time.")
           if info["ratio"] >= 10 else
           f"**NOT met**: the baseline takes {info['base_wall']:.1f} s on this data, so 10x means the "
           f"whole command within {info['base_wall'] / 10:.2f} s; it takes {info['ours_wall']:.2f} s."),
        "",
        f"Imports (`python -X importtime`, the same command, sum of its top-level imports): ours "
        f"{info['imports']['ours'][0]:.2f} s ({', '.join(f'{n} {t:.2f}' for n, t in info['imports']['ours'][1])}); "
        f"the baseline's {info['imports']['baseline'][0]:.2f} s "
        f"({', '.join(f'{n} {t:.2f}' for n, t in info['imports']['baseline'][1])}).",
        "",
        "### Components (same data, each in a fresh forked process)",
        "",
        "Before this change, building the patrol areas (one filter of the whole frame per "
        "cluster) took 76 of 90 s of the command on 1M rows (issue 12); it is now one grouped "
        "pass.",
        "",
        *comp,
        "",
        "### Where the grid method pays (`method=\"auto\"`)",
        "",
        "DBSCAN labelling of distinct exact points (the county above with a 40 m scatter, so every "
        "point is distinct), eps 100 m, min_samples 15; seconds inside a fresh forked process. "
        "`settings.GRID_METHOD_MIN_LOCATIONS` is the number of distinct locations above which "
        "`auto` uses the grid method.",
        "",
        *thr,
    ])
    write_section("clusters", md)
    print(md)


if __name__ == "__main__":
    main()
