"""App benchmark: in a real browser (Debian chromium, network closed), the time from navigation
to the Overview map's layers drawn, on the demo and on a police force-year (Cleveland 2024 street
crime + ASB, ~90k incidents, with the May 2024 wards), and the size of the Overview map's HTML.

Baselines measured in the same run:
* time: (a) the Streamlit page shell (title rendered) on the same navigation; (b) a bare
  Streamlit app with only a title and one st_folium map (same local assets, one heat point) —
  the floor any Streamlit + folium page pays on this machine;
* size: the naive folium map a first version would build — a `HeatMap` of every incident plus
  unsimplified ward polygons — against ours (heat over distinct locations, simplified wards).

Targets (issue 6): <= 3 s to the drawn map on the demo; map HTML <= 3 MB for the force-year.
Run: `.venv/bin/python benchmarks/app.py` (writes the "app" section of RESULTS.md).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import folium
import folium.plugins as plugins
import geopandas as gpd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from _common import machine, write_section  # noqa: E402
from app_server import running_app  # noqa: E402

from hotspot_app.core import periods, schema, settings
from hotspot_app.io import demo
from hotspot_app.render import map_assets, maps
from hotspot_app.io import workspace  # noqa: E402
from hotspot_app.core import summaries

REAL = (ROOT / ".." / "shared" / "realdata").resolve()
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
RUNS = 3


def read_wards(path: Path) -> gpd.GeoDataFrame:
    from hotspot_app.io import ingest

    try:
        res = ingest.read_boundaries(path, layer="ward")
        if res is not None:
            return res.areas
    except Exception:  # boundary ingest not available: plain read
        pass
    gdf = gpd.read_file(path)
    return schema.make_areas(gdf, name="WD24NM", layer="ward", area_id="WD24CD")


def force_year_workspace(folder: Path) -> tuple[Path, int, int] | None:
    """Cleveland 2024 (12 monthly files) + May 2024 wards in a workspace; None when absent."""
    files = sorted((REAL / "police_cleveland").glob("2024-*-cleveland-street.csv"))
    wards_file = REAL / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if len(files) < 12 or not wards_file.exists():
        return None
    from hotspot_app.io import ingest

    res = ingest.read_incidents([str(f) for f in files])
    wards = read_wards(wards_file)
    path = folder / "cleveland-2024.gpkg"
    ws = workspace.GeopackageWorkspace(path)
    ws.write_incidents(res.incidents)
    ws.write_areas(wards)
    return path, len(res.incidents), len(wards)


def overview_html_sizes(incidents, wards) -> tuple[int, int, int]:
    """(ours, naive, distinct locations) for the Overview defaults: crime, last 12 months."""
    months = periods.window(incidents["month"].max(), 12)
    mask = incidents["kind"].eq("crime") & incidents["month"].isin(months)
    ranked, _ = summaries.rank_areas(incidents, wards, category=["crime"], months=months)
    values = ranked.set_index("area_id")["count"].astype(float)
    locs = maps.locations(incidents[mask])
    ours = maps.overview_map(wards, values, locs)
    size = len(map_assets.map_html(ours, inline=False).encode("utf-8"))
    # naive: every incident in a HeatMap + full-resolution wards
    naive = folium.Map(location=[54.55, -1.2], zoom_start=11)
    folium.GeoJson(wards.to_crs(settings.CRS_WGS84)[["name", "geometry"]].to_json()).add_to(naive)
    pts = incidents[mask].to_crs(settings.CRS_WGS84).geometry
    plugins.HeatMap(list(zip(pts.y.tolist(), pts.x.tolist()))).add_to(naive)
    naive_size = len(naive.get_root().render().encode("utf-8"))
    return size, naive_size, len(locs)


def time_overview(url: str, min_paths: int) -> tuple[float, float]:
    """(seconds to page title, seconds to map layers drawn) for one fresh navigation."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                   else r.abort())
        t0 = time.perf_counter()
        page.goto(f"{url}/")
        page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
        t_shell = time.perf_counter() - t0
        while True:
            frames = [f for f in page.frames if "streamlit_folium" in f.url]
            try:
                ok = frames and frames[0].evaluate(
                    "n => typeof window.L === 'object' && "
                    "document.querySelectorAll('path.leaflet-interactive').length >= n && "
                    "document.querySelectorAll('canvas.leaflet-heatmap-layer').length > 0", min_paths)
            except Exception:
                ok = False
            if ok:
                break
            if time.perf_counter() - t0 > 180:
                raise RuntimeError("map not drawn within 180 s")
            page.wait_for_timeout(50)
        t_map = time.perf_counter() - t0
        b.close()
    return t_shell, t_map


BARE_APP = """import sys
sys.path.insert(0, {root!r})
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium
from hotspot_app.render import maps
st.title("Overview")
m = maps.base_map([[54.5, -1.3], [54.6, -1.1]])
maps.heat_layer(pd.DataFrame({{"lat": [54.55], "lon": [-1.2], "count": [3]}})).add_to(m)
maps.area_outlines(maps.gpd.GeoDataFrame({{"name": ["box"]}}, geometry=[maps.shapely.box(445000, 520000, 450000, 525000)],
                   crs=maps.settings.CRS), name="box").add_to(m)
st_folium(m, returned_objects=[], key="m")
"""


def bench_bare() -> dict:
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "app.py").write_text(BARE_APP.format(root=str(ROOT)))
        shutil.copytree(ROOT / ".streamlit", folder / ".streamlit")
        (folder / "static").symlink_to(ROOT / "static")
        with running_app(script=folder / "app.py", log=folder / "st.log") as url:
            time_overview(url, 1)
            runs = [time_overview(url, 1) for _ in range(RUNS)]
    return {"label": "bare app: title + one st_folium map (baseline)", "shell": statistics.median(r[0] for r in runs),
            "map": statistics.median(r[1] for r in runs), "runs": runs}


def bench(label: str, env: dict, min_paths: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, running_app(env=env, log=Path(tmp) / "st.log") as url:
        time_overview(url, min_paths)  # warm-up: loads data and fills the server's caches
        runs = [time_overview(url, min_paths) for _ in range(RUNS)]
    shell = statistics.median(r[0] for r in runs)
    drawn = statistics.median(r[1] for r in runs)
    return {"label": label, "shell": shell, "map": drawn, "runs": runs}


def main() -> None:
    rows, sizes, notes = [], [], []
    load_before = os.getloadavg()[0]
    rows.append(bench_bare())
    d = demo.load()
    rows.append(bench(f"demo ({len(d.incidents):,} incidents, {len(d.wards)} wards)", {}, len(d.wards)))
    s, naive, nloc = overview_html_sizes(d.incidents, d.wards)
    sizes.append(("demo", s, naive, nloc))
    with tempfile.TemporaryDirectory() as tmp:
        fy = force_year_workspace(Path(tmp))
        if fy is None:
            notes.append("force-year: ../shared/realdata not available, not measured")
        else:
            path, n_inc, n_wards = fy
            rows.append(bench(f"Cleveland 2024 ({n_inc:,} incidents, {n_wards} wards)",
                              {"HOTSPOT_WORKSPACE": str(path)}, n_wards))
            ws = workspace.GeopackageWorkspace(path)
            s, naive, nloc = overview_html_sizes(ws.incidents(), ws.areas("ward"))
            sizes.append(("Cleveland 2024", s, naive, nloc))

    load_after = os.getloadavg()[0]
    lines = ["## app (issue 6): Overview map in a real browser", "",
             f"Machine: {machine()}; load average {load_before:.1f} before / {load_after:.1f} after "
             "the run (the machine is shared: timings scale with it)", "",
             "Debian chromium via Playwright, network closed except localhost; fresh browser per run, "
             f"server caches warm (one warm-up navigation), median of {RUNS} runs. Baseline: the "
             "page shell (the 'Overview' title rendered) on the same navigation.", "",
             "| data | shell (baseline) | map layers drawn | map / shell | map / bare app's map | target |",
             "|---|---:|---:|---:|---:|---|"]
    bare = rows[0]["map"]
    for r in rows:
        target = "≤ 3 s" if r["label"].startswith("demo") else "—"
        lines.append(f"| {r['label']} | {r['shell']:.2f} s | {r['map']:.2f} s | "
                     f"{r['map'] / r['shell']:.1f}× | {r['map'] / bare:.1f}× | {target} |")
    lines += ["", "Overview map HTML (defaults: crime, last 12 months, count; as sent to the browser, "
              "assets linked not inlined). Baseline: naive folium (HeatMap of every incident, "
              "unsimplified wards).", "",
              "| data | distinct locations | ours | naive baseline | naive / ours | target |",
              "|---|---:|---:|---:|---:|---|"]
    for label, s, naive, nloc in sizes:
        target = "≤ 3 MB" if label != "demo" else "—"
        lines.append(f"| {label} | {nloc:,} | {s / 1e6:.2f} MB | {naive / 1e6:.2f} MB | "
                     f"{naive / s:.1f}× | {target} |")
    lines += [""] + [f"- {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    write_section("app", text)
    print(text)


if __name__ == "__main__":
    main()
