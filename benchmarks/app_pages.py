"""App pages benchmark: every page of the app, in a real browser (Debian chromium, network
closed), on the real Cleveland police.uk data — all 35 months (about 269,000 incidents) loaded
into a workspace with the May 2024 wards — as a partnership would use it.

For each page: one warm-up visit (Streamlit's caches fill: the first visit of a page computes),
then RUNS timed visits, each a fresh navigation to the page's URL; timed until the page has
settled — Streamlit's "running" status gone and, on pages with maps, every map frame's Leaflet
layers drawn. Baseline in the same run: the same navigation to a bare Streamlit app with one
title (the floor any Streamlit page pays here).

Target (issue 12): every page interactive <= 3 s after warm-up.
Run: `.venv/bin/python benchmarks/app_pages.py` (writes the "app_pages" section of RESULTS.md).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, write_section  # noqa: E402
from app_server import running_app  # noqa: E402

REAL = (ROOT / ".." / "shared" / "realdata").resolve()
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
RUNS = 3
PAGES = [("", "Overview"), ("hotspots", "Hotspots"), ("patrol_plan", "Patrol plan"),
         ("before_after", "Before / after"), ("fires", "Fires"), ("tables", "Area tables"),
         ("reports", "Reports"), ("data", "Data")]


def workspace(folder: Path, national: bool = False) -> tuple[Path, int]:
    """All Cleveland months + the May 2024 wards (or, `national`, the national year of
    benchmarks/e2e.py + its 7,000 wards), loaded with the CLI as a user would."""
    path = folder / ("national.gpkg" if national else "cleveland.gpkg")
    if national:
        import e2e

        data, wards = e2e.national(6_000_000), e2e.wards()
    else:
        data, wards = REAL / "police_cleveland", REAL / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    cmd = [sys.executable, "-m", "hotspot_app.cli", "ingest", str(data), "--into", str(path),
           "--format", "json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    import json

    from hotspot_app.io import ingest
    from hotspot_app.io import workspace

    workspace.GeopackageWorkspace(path).write_areas(ingest.read_boundaries(wards, layer="ward").areas)
    return path, json.loads(out.stdout)["loaded"]


def settle(page, t0: float, timeout: float = 180.0) -> float:
    """Seconds from t0 until the app is idle and every map frame has drawn its layers.

    Idle is the app's own script state (``stApp``'s ``data-test-script-state`` is
    ``notRunning``): the status widget this waited for before 2026-12-05 is never shown with
    ``toolbarMode = "minimal"``, so the wait ended at the first text on the page (the title and
    data line), before the page's analyses had run or any map frame existed."""
    while True:
        try:
            state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state", timeout=1000)
            running = state != "notRunning"
            frames = [f for f in page.frames if "streamlit_folium" in f.url]
            in_page = page.evaluate("() => [...document.querySelectorAll('iframe')]"
                                    ".filter(f => (f.src || '').includes('streamlit_folium')).length")
            maps_ok = len(frames) >= in_page and all(
                f.evaluate("() => typeof window.L === 'object' && "
                           "document.querySelectorAll('.leaflet-pane path, .leaflet-marker-icon, "
                           "canvas').length > 0") for f in frames)
            body = page.locator('[data-testid="stMain"]').inner_text(timeout=1000)
            ready = not running and maps_ok and len(body) > 40
        except Exception:
            ready = False
        if ready:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"{page.url} not settled within {timeout:.0f} s")
        page.wait_for_timeout(50)


def time_pages(url: str, pages: list[tuple[str, str]]) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                   else r.abort())
        for slug, title in pages:
            page.goto(f"{url}/{slug}")
            settle(page, time.perf_counter())  # warm-up: caches fill
            page.wait_for_timeout(500)
            runs = []
            for _ in range(RUNS):
                page.goto("about:blank")
                t0 = time.perf_counter()
                page.goto(f"{url}/{slug}")
                page.wait_for_timeout(300)  # let the status widget appear for the new run
                runs.append(settle(page, t0))
            times[title] = runs
        b.close()
    return times


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--national", action="store_true", help="a national year (6M rows, 7,000 wards) instead "
                    "of the real Cleveland files")
    args = ap.parse_args()
    if not args.national and not (REAL / "police_cleveland").is_dir():
        raise SystemExit("../shared/realdata is not available")
    load = os.getloadavg()[0]
    (Path(__file__).resolve().parent / "_data").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent / "_data") as tmp:
        t0 = time.perf_counter()
        ws, n = workspace(Path(tmp), national=args.national)
        loaded_in = time.perf_counter() - t0
        with running_app(env={"HOTSPOT_WORKSPACE": str(ws)}) as url:
            ours = time_pages(url, PAGES)
        bare = Path(tmp) / "bare.py"
        bare.write_text("import streamlit as st\nst.title('Bare page')\nst.write('x' * 60)\n")
        with running_app(script=bare) as url:
            base = time_pages(url, [("", "bare")])["bare"]
    what = (f"A national year ({n:,} incidents, the synthetic national generator of benchmarks/e2e.py) and its "
            "7,000 wards" if args.national else
            f"Real Cleveland police.uk street data, all 35 months ({n:,} incidents), May 2024 wards")
    title = ("a national-year workspace (benchmarks/app_pages.py --national)" if args.national
             else "real data (benchmarks/app_pages.py)")
    lines = [f"## App pages on {title}", "",
             f"Machine: {machine()}; load average at start {load:.1f}, at the end {os.getloadavg()[0]:.1f}.", "",
             f"{what}, loaded with `hotspot ingest --into` ({loaded_in:.0f} s with the wards); each page visited "
             f"once to warm the caches, then timed over {RUNS} fresh navigations until the app is idle and every "
             "map has drawn. Baseline: a bare Streamlit page with a title, same browser, same navigation.", "",
             "| page | median s | best s | worst s | <= 3 s |", "|---|---:|---:|---:|---|"]
    for title, runs in ours.items():
        lines.append(f"| {title} | {statistics.median(runs):.2f} | {min(runs):.2f} | {max(runs):.2f} | "
                     f"{'yes' if statistics.median(runs) <= 3 else 'NO'} |")
    lines.append(f"| bare Streamlit page (baseline) | {statistics.median(base):.2f} | {min(base):.2f} | "
                 f"{max(base):.2f} | |")
    text = "\n".join(lines)
    print(text)
    write_section("app_pages_national" if args.national else "app_pages", text)


if __name__ == "__main__":
    main()
