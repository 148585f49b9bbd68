"""Workspace store and demo: time and peak memory of writing/reading the demo's incidents through
`workspace.GeopackageWorkspace` (atomic, dtype-preserving) against plain `GeoDataFrame.to_file` /
`geopandas.read_file` on the same GeoPackage driver (baseline), plus demo generate/write/load.

Run: .venv/bin/python benchmarks/store.py   (writes its section of benchmarks/RESULTS.md)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import geopandas as gpd  # noqa: E402

from _common import machine, measure, write_section  # noqa: E402
from hotspot_app.io import demo
from hotspot_app.io import workspace  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="bench-store-"))


def plain_write(incidents):
    path = TMP / "plain.gpkg"
    incidents.to_file(path, layer="incidents", driver="GPKG")
    return path.stat().st_size


def plain_read():
    return len(gpd.read_file(TMP / "plain.gpkg", layer="incidents"))


def ws_write(incidents):
    path = TMP / "ws.gpkg"
    workspace.GeopackageWorkspace(path).write_incidents(incidents)
    return path.stat().st_size


def ws_read():
    return len(workspace.GeopackageWorkspace(TMP / "ws.gpkg").incidents())


def ws_write_areas_after_incidents(wards):
    # replacing one small layer copies the whole file first (atomic write)
    workspace.GeopackageWorkspace(TMP / "ws.gpkg").write_areas(wards)
    return 0


def gen():
    return len(demo.generate().incidents)


def gen_write():
    return len(demo.write(demo.generate(), TMP / "demo"))


def load_existing():
    return len(demo.load(TMP / "demo").incidents)


def main() -> None:
    d = demo.generate()
    inc = d.incidents
    n = len(inc)
    rows = []
    for label, func, args in [
        ("plain `to_file` GPKG (baseline)", plain_write, (inc,)),
        ("`Workspace.write_incidents`", ws_write, (inc,)),
        ("plain `read_file` GPKG (baseline)", plain_read, ()),
        ("`Workspace.incidents()`", ws_read, ()),
        ("`Workspace.write_areas` (20 wards) into the full file", ws_write_areas_after_incidents, (d.wards,)),
        ("`demo.generate()`", gen, ()),
        ("`demo.generate()` + `demo.write()`", gen_write, ()),
        ("`demo.load()` of a written demo (no cache)", load_existing, ()),
    ]:
        dt, peak, _ = measure(func, *args)
        rows.append((label, dt, peak))
    base = {"write": rows[0][1], "read": rows[2][1]}
    lines = [
        "## Workspace store and demo (benchmarks/store.py)",
        "",
        f"Machine: {machine()}",
        "",
        f"Demo incidents: {n:,} rows (crime, ASB, fires; 11 schema columns). Each line is a fresh "
        "process; peak RSS includes the interpreter and inputs.",
        "",
        "| operation | seconds | rows/s | peak MiB |",
        "|---|---:|---:|---:|",
    ]
    for label, dt, peak in rows:
        rate = f"{n / dt:,.0f}" if "incidents" in label.lower() or "GPKG" in label else ""
        lines.append(f"| {label} | {dt:.2f} | {rate} | {peak:.0f} |")
    lines += [
        "",
        f"Ratios: workspace write / plain write = {rows[1][1] / base['write']:.2f}; "
        f"workspace read / plain read = {rows[3][1] / base['read']:.2f}; "
        f"demo.load() from disk / demo.generate() = {rows[7][1] / rows[5][1]:.2f}.",
    ]
    write_section("store", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
