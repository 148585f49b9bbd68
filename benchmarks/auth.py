"""Sign-in cost and the cost of record versions (issue 22).

1. One password check (Argon2id verify) at argon2-cffi's default parameters (t=3, m=64 MiB,
   p=4: what the app used before) and at the app's `auth.HASH_PARAMETERS` (t=2, m=19 MiB, p=1):
   CPU seconds and peak memory of the process, each in a fresh process.
2. A burst of 8 sign-ins at once through `JsonUsers.verify` (at most `auth.VERIFY_SLOTS` checks
   run together): wall time and peak memory.
3. Writing an area layer of 2,000 polygons to a GeoPackage workspace, first write and a rewrite
   with one area changed: the time of the record versions and kept rows (`record_changes`) is
   measured on its own and the whole write beside it.

Run: .venv/bin/python benchmarks/auth.py   (writes its section of benchmarks/RESULTS.md)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, measure, write_section  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="bench-auth-"))


def one_check(params: dict) -> float:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(**params)
    stored = hasher.hash("correct horse battery")
    t0 = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(5):
        try:
            hasher.verify(stored, "wrong guess")
        except Exception:
            pass
    t1 = resource.getrusage(resource.RUSAGE_SELF)
    return ((t1.ru_utime + t1.ru_stime) - (t0.ru_utime + t0.ru_stime)) / 5


def burst(n: int, before: bool = False) -> float:
    from hotspot_app.io import auth

    if before:  # what the app did before: argon2-cffi's defaults, every check at once
        auth.HASH_PARAMETERS = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4}
        auth._SLOTS = threading.BoundedSemaphore(n)
    users = auth.open_users(TMP / f"users-{n}-{before}.json")
    users.add("ann", "correct horse battery", "analyst", by="bench")
    threads = [threading.Thread(target=users.verify, args=("ann", "wrong guess")) for _ in range(n)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t0


def layer(n: int):
    import geopandas as gpd
    from shapely.geometry import box

    from hotspot_app.core import schema, settings

    raw = gpd.GeoDataFrame({"name": [f"Area {i}" for i in range(n)], "pop": [1000 + i for i in range(n)]},
                           geometry=[box(440000 + 150 * (i % 50), 510000 + 150 * (i // 50),
                                         440000 + 150 * (i % 50) + 140, 510000 + 150 * (i // 50) + 140)
                                     for i in range(n)], crs=settings.CRS)
    return schema.make_areas(raw, name="name", layer="custom", population="pop")


def record_cost(n: int) -> float:
    from hotspot_app.io.workspace import base

    areas = layer(n)
    changed = areas.copy()
    changed.loc[0, "population"] = 1.0
    t0 = time.perf_counter()
    base.record_changes("area", areas, changed, "custom")
    return time.perf_counter() - t0


def write_twice(n: int) -> tuple[float, float]:
    from hotspot_app.io import workspace

    areas = layer(n)
    ws = workspace.open_workspace(TMP / f"areas-{n}.gpkg")
    t0 = time.perf_counter()
    ws.write_areas(areas, user="bench")
    first = time.perf_counter() - t0
    changed = ws.areas("custom")
    changed.loc[0, "population"] = 1.0
    t0 = time.perf_counter()
    ws.write_areas(changed, user="bench")
    return first, time.perf_counter() - t0


def main() -> None:
    from hotspot_app.io import auth

    default = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4}
    rows = []
    for label, params in (("argon2-cffi default (before)", default), ("auth.HASH_PARAMETERS (now)", auth.HASH_PARAMETERS)):
        _, peak, cpu = measure(one_check, params)
        rows.append(f"| {label}: t={params['time_cost']}, m={params['memory_cost'] // 1024} MiB, "
                    f"p={params['parallelism']} | {cpu:.3f} | {peak:.0f} |")
    wall, peak_b, _ = measure(burst, 8)
    wall_0, peak_0, _ = measure(burst, 8, True)
    _, base_peak, _ = measure(lambda: __import__("hotspot_app.io.auth") and 0)
    rec = min(measure(record_cost, 2000)[2] for _ in range(3))
    _, _, (first, again) = measure(write_twice, 2000)
    md = f"""## Sign-in cost and record versions (benchmarks/auth.py, issue 22)

Machine: {machine()}

One password check (a wrong guess; Argon2id verify), CPU seconds per check (mean of 5) and peak
RSS of a fresh process (interpreter and imports included):

| parameters | CPU s per check | peak MiB |
|---|---:|---:|
{chr(10).join(rows)}

A burst of 8 wrong sign-ins at once (`JsonUsers.verify` in 8 threads; the process with the app's
modules imported and nothing checked: {base_peak:.0f} MiB):

| set-up | wall s | peak MiB |
|---|---:|---:|
| before: default parameters, all 8 at once | {wall_0:.2f} | {peak_0:.0f} |
| now: `HASH_PARAMETERS`, at most {auth.VERIFY_SLOTS} at once | {wall:.2f} | {peak_b:.0f} |

Record versions: `record_changes` for a 2,000-polygon area layer with one area changed (digest of
every row, the rows removed kept whole): {rec:.3f} s (best of 3). The whole `write_areas` of that
layer to a GeoPackage workspace: {first:.2f} s the first time, {again:.2f} s rewriting it with one
area changed (lock, copy, write, audit chain, record versions, snapshot of the layers).
"""
    write_section("auth", md)
    print(md)


if __name__ == "__main__":
    main()
