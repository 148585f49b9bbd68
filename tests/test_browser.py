"""Real browser (Debian's chromium driven by Playwright): the app's maps render with the network
closed (only localhost allowed), on Overview and on Before/after (two maps), and user strings with
HTML/JS in them are shown as text and never executed.

Needs Debian's chromium at /usr/bin/chromium (.ci/run installs it); without it these tests fail.
Screenshots go to test-output/.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from app_server import ROOT, running_app
from hotspot_app.core import schema, settings
from hotspot_app.io import workspace

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
OUT = ROOT / "test-output"

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    # Never skipped: a skipped browser test proves nothing about the maps users see.
    pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; "
                ".ci/run does this) to run the browser tests", pytrace=False)

from playwright.sync_api import sync_playwright  # noqa: E402

FOLIUM = "streamlit_folium"


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:"))


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def offline_page(browser):
    """A page whose requests to anything but localhost are aborted (and recorded)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.blocked = []  # (resource type, url)
    page.dialogs = []

    def route(r):
        if _local(r.request.url):
            r.continue_()
        else:
            page.blocked.append((r.request.resource_type, r.request.url))
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def map_frames(page):
    return [f for f in page.frames if FOLIUM in f.url and not f.is_detached()]


def frame_state(frame) -> dict:
    return frame.evaluate("""() => ({
        leaflet: typeof window.L === 'object' && typeof window.L.map === 'function',
        paths: document.querySelectorAll('path.leaflet-interactive').length,
        heat: document.querySelectorAll('canvas.leaflet-heatmap-layer').length,
        legend: document.querySelectorAll('.hotspot-legend').length,
        xss: window.__xss === undefined ? null : window.__xss,
    })""")


#: How long a browser test waits for what a user sees. Generous: CI machines are shared, and a
#: test that fails under load is a defect (the suite runs beside a second copy of itself).
WAIT_MS = 300_000


def idle(page, timeout: float = WAIT_MS) -> None:
    """Wait until the app has finished running the page, as a user sees it: Streamlit's own
    script state is ``notRunning`` (the status widget is never shown with the minimal toolbar)
    and no element is greyed out as stale (a run started again, e.g. after a save)."""
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return !!app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-stale=\"true\"]'); }", timeout=timeout)


def wait_for_maps(page, n: int, min_paths: int = 1, timeout: float = 90.0) -> list[dict]:
    """Wait until `n` folium component frames have Leaflet loaded and vector layers drawn."""
    deadline = time.monotonic() + timeout
    last = []
    while time.monotonic() < deadline:
        try:
            last = [frame_state(f) for f in map_frames(page)]
        except Exception:  # frame navigated/detached while evaluating: try again
            last = []
        if len(last) >= n and all(s["leaflet"] and s["paths"] >= min_paths for s in last[:n]):
            return last
        page.wait_for_timeout(250)
    raise AssertionError(f"maps not drawn within {timeout:.0f} s: {last}")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    log = tmp_path_factory.mktemp("browser") / "streamlit.log"
    with running_app(log=log) as url:
        yield url


def test_overview_and_before_after_maps_render_offline(browser, demo_app):
    OUT.mkdir(exist_ok=True)
    page = offline_page(browser)
    page.goto(f"{demo_app}/")
    states = wait_for_maps(page, 1, min_paths=20)
    ov = states[0]
    assert ov["leaflet"]
    assert ov["paths"] >= 20 + 1 + 3  # 20 wards, the town centre, 3 micro-hotspots
    assert ov["heat"] == 1
    assert ov["legend"] == 1
    page.get_by_text(settings.DEMO_LABEL).first.wait_for()
    idle(page)
    page.screenshot(path=str(OUT / "browser-overview.png"), full_page=True)
    # the map as a PNG for a paper: drawn offline when clicked, a real image
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Download map (PNG)").first.click()
    png = open(info.value.path(), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, png[:200]

    page.get_by_role("link", name="Before / after").click()
    page.get_by_text("Control-adjusted effect").first.wait_for(timeout=60_000)
    states = wait_for_maps(page, 3, min_paths=2)
    # first the target beside its 10 matched comparison areas, then the before and after maps
    assert states[0]["leaflet"] and states[0]["paths"] >= 2 + 10
    for s in states[1:3]:
        assert s["leaflet"] and s["paths"] >= 2  # evaluated area + buffer ring at least
        assert s["legend"] == 1
    idle(page)
    page.screenshot(path=str(OUT / "browser-before-after.png"), full_page=True)

    # nothing but basemap tiles (images) was requested from outside: Leaflet, plugins and CSS
    # all came from the app itself
    assert all(kind == "image" for kind, _ in page.blocked), page.blocked
    assert page.dialogs == []
    page.close()


EVIL_WARD = '<img src=x onerror="window.top.__xss=1;alert(1)">Evil ward'
EVIL_CAT = "<script>window.top.__xss=2;alert(2)</script>"
EVIL_LOC = "`${window.top.__xss=3}` <b>bold</b>"


@pytest.fixture(scope="module")
def evil_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evil")
    n = 40
    xs = 450000.0 + 20.0 * (np.arange(n) % 5)
    ys = 520000.0 + 20.0 * (np.arange(n) // 5)
    inc = schema.make_incidents(pd.DataFrame({"category": [EVIL_CAT] * n, "month": "2024-01",
                                              "location": EVIL_LOC}), x=xs, y=ys)
    ward = schema.make_areas(gpd.GeoDataFrame({"name": [EVIL_WARD], "population": [1000]},
                                              geometry=[shapely.box(449900, 519900, 450300, 520300)],
                                              crs=settings.CRS),
                             name="name", layer="ward", population="population")
    path = folder / "evil.gpkg"
    ws = workspace.GeopackageWorkspace(path)
    ws.write_incidents(inc)
    ws.write_areas(ward)
    with running_app(env={"HOTSPOT_WORKSPACE": str(path)}, log=folder / "streamlit.log") as url:
        yield url


def test_html_in_user_strings_is_shown_as_text_not_run(browser, evil_app):
    OUT.mkdir(exist_ok=True)
    page = offline_page(browser)
    page.goto(f"{evil_app}/")
    wait_for_maps(page, 1, min_paths=1)
    frame = map_frames(page)[0]
    frame.locator("path.leaflet-interactive").first.hover()
    tip = frame.locator(".leaflet-tooltip").first
    tip.wait_for(timeout=10_000)
    text = tip.inner_text()
    assert EVIL_WARD in text  # the raw string, displayed as text
    assert frame.locator(".leaflet-tooltip img").count() == 0
    page.screenshot(path=str(OUT / "browser-injection.png"), full_page=True)
    # the ward table on the page shows it as text too
    assert page.get_by_text("Evil ward").count() >= 1
    assert page.evaluate("() => window.__xss === undefined")
    assert frame_state(frame)["xss"] is None
    assert page.dialogs == []
    page.close()


def test_draw_a_micro_hotspot_and_save_it(browser, tmp_path):
    """Data page: draw a rectangle with Leaflet.draw in the map frame, name it, give dates and
    save; the workspace then holds the area and the intervention."""
    ws_path = tmp_path / "drawn.gpkg"
    with running_app(env={"HOTSPOT_WORKSPACE": str(ws_path)}, log=tmp_path / "st.log") as url:
        page = offline_page(browser)
        page.goto(f"{url}/data")
        wait_for_maps(page, 1, min_paths=20)
        frame = map_frames(page)[0]
        frame.locator(".leaflet-draw-draw-rectangle").click()
        box = frame.locator(".leaflet-container").bounding_box()
        x0, y0 = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x0 + 40, y0 + 30, steps=5)
        page.mouse.move(x0 + 80, y0 + 60, steps=5)
        page.mouse.up()
        page.get_by_text("Polygon drawn:").wait_for(timeout=30_000)
        page.get_by_label("Name", exact=True).fill("Drawn by the browser test")
        page.get_by_role("button", name="Save the area and intervention").click()
        try:
            page.get_by_text("Saved 'Drawn by the browser test'").wait_for(timeout=60_000)
        finally:
            page.screenshot(path=str(OUT / "browser-draw.png"), full_page=True)
        page.close()
    ws = workspace.GeopackageWorkspace(ws_path)
    hot = ws.areas("micro_hotspot")
    assert hot["name"].iloc[-1] == "Drawn by the browser test"
    assert 1_000 < hot.geometry.iloc[-1].area < 5_000_000  # a rectangle of some streets, in m²
    assert ws.interventions()["name"].iloc[-1] == "Drawn by the browser test"
