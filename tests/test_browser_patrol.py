"""Real browser (Debian's chromium + Playwright): the patrol sheet prints on ONE A4 page with the
area names; the Hotspots, Patrol plan (phone width) and Fires pages show named, numbered patrol
areas and their warnings on the demo and on real data (Cleveland ASB 2024 with the May 2024
wards; the real fire extract with coordinates masked to 1 km). Screenshots go to test-output/.
"""

from __future__ import annotations

import glob
import io
import re

import pytest

from app_server import running_app
from hotspot_app.io import ingest
from hotspot_app.io import workspace

pytestmark = pytest.mark.browser

# test_browser fails (never skips) when chromium is missing; its helpers drive the same browser
from test_browser import OUT, browser, idle, map_frames, offline_page, wait_for_maps  # noqa: E402,F401 (browser: fixture)
from pypdf import PdfReader  # noqa: E402
from hotspot_app.render import patrol_sheet
from hotspot_app.questions import patrol_plan as questions_plan


def test_patrol_sheet_prints_on_one_page_with_the_area_names(browser, demo, tmp_path):
    plan = questions_plan.patrol_plan(demo.incidents, category="asb", period=("2023-01", "2023-12"),
                                      preset="street-level", top=5, start="2025-03-03", seed=1)
    names = [str(n) for n in plan.areas["name"]]
    html = patrol_sheet.sheet_for(plan, context=demo.wards, demo=True)
    sheet = tmp_path / "sheet.html"
    sheet.write_text(html, encoding="utf-8")
    page = browser.new_page()
    page.goto(sheet.as_uri())
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "patrol-sheet.pdf").write_bytes(pdf)
    page.screenshot(path=str(OUT / "patrol-sheet.png"), full_page=True)
    page.close()
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for name in names:
        assert name in text, (name, text[:500])
    for ref in plan.areas["grid_ref"]:
        assert ref in text
    assert "03 Mar 2025 – 30 Mar 2025 (28 days)" in text
    assert "comparison day" in text


def _tall_shot(page, name: str, height: int = 4200) -> None:
    """Screenshot of the whole app page (Streamlit scrolls inside its main block, so the
    viewport is made tall enough rather than using full_page)."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    idle(page)  # a taller viewport draws more of the page: wait for the run and two frames
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.screenshot(path=str(OUT / name))
    page.set_viewport_size(size)


def _ranks(page) -> int:
    return sum(f.locator(".hotspot-rank").count() for f in map_frames(page))


def _hotspots(page, url: str, shot: str, expect_ranks: int = 5) -> str:
    page.goto(f"{url}/hotspots")
    page.get_by_text("patrol areas from").first.wait_for(timeout=120_000)
    wait_for_maps(page, 1, min_paths=1, timeout=120)
    page.get_by_text("Click a row to zoom").first.wait_for(timeout=60_000)
    deadline = 60
    while _ranks(page) < expect_ranks and deadline:
        page.wait_for_timeout(500)
        deadline -= 1
    idle(page)
    _tall_shot(page, shot)
    assert _ranks(page) == expect_ranks
    return page.inner_text("body")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    with running_app(log=tmp_path_factory.mktemp("patrol-demo") / "streamlit.log") as url:
        yield url


def test_demo_hotspots_patrol_and_fires_pages(browser, demo_app):
    OUT.mkdir(exist_ok=True)
    page = offline_page(browser)
    body = _hotspots(page, demo_app, "patrol-hotspots-demo.png")
    assert "Top 5 of" in body and "Patrol areas (number = rank)" in " ".join(
        f.inner_text("body") for f in map_frames(page))
    assert "police.uk publishes months only" in body
    # clicking the first row of the table zooms the map to that area
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(grid["x"] + 15, grid["y"] + 35 + 17)  # the row-selection cell of row 1
    page.get_by_text("Map zoomed to #1").first.wait_for(timeout=60_000)
    wait_for_maps(page, 1, min_paths=1, timeout=120)

    page.goto(f"{demo_app}/fires")
    page.get_by_text("Clusters of deliberate secondary fires").first.wait_for(timeout=120_000)
    wait_for_maps(page, 1, min_paths=1, timeout=120)
    page.get_by_text("Busiest 3 hours").first.wait_for(timeout=60_000)
    idle(page)
    _tall_shot(page, "patrol-fires-demo.png", 6000)
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
    phone.goto(f"{demo_app}/patrol_plan")
    phone.get_by_text("visits at").first.wait_for(timeout=120_000)
    idle(phone)  # the run is over: nothing above the visits (a spinner, a stale block) moves them
    phone.screenshot(path=str(OUT / "patrol-plan-phone.png"))
    # the day's areas start on the first screen, above the map (whether the first is a patrol or a
    # comparison day depends on the plan's fresh seed: the first area, not the first visit)
    first = phone.get_by_text(re.compile(r"^#\d+ ")).first.bounding_box()
    assert first["y"] < 844
    phone.close()


@pytest.fixture(scope="module")
def cleveland_app(realdata, tmp_path_factory):
    files = sorted((realdata / "police_cleveland").glob("2024-*-cleveland-street.csv"))
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if len(files) < 12 or not wards.exists():
        pytest.skip("Cleveland 2024 files or May 2024 wards missing from ../shared/realdata")
    folder = tmp_path_factory.mktemp("cleveland")
    ws = workspace.GeopackageWorkspace(folder / "cleveland.gpkg")
    ws.write_incidents(ingest.read_incidents(files, kind="police-uk").incidents)
    ws.write_areas(ingest.read_boundaries(wards, layer="ward").areas)
    with running_app(env={"HOTSPOT_WORKSPACE": str(folder / "cleveland.gpkg")}, log=folder / "st.log") as url:
        yield url


def test_real_cleveland_asb_hotspots(browser, cleveland_app):
    OUT.mkdir(exist_ok=True)
    page = offline_page(browser)
    body = _hotspots(page, cleveland_app, "patrol-hotspots-cleveland.png")
    assert "Top 5 of" in body
    page.close()


@pytest.fixture(scope="module")
def fire_app(realdata, tmp_path_factory):
    files = glob.glob(str(realdata / "fire" / "afrs_*.csv"))
    if not files:
        pytest.skip("the real fire extract is missing from ../shared/realdata/fire")
    folder = tmp_path_factory.mktemp("fire")
    workspace.GeopackageWorkspace(folder / "fire.gpkg").write_incidents(ingest.read_incidents(files, kind="auto").incidents)
    with running_app(env={"HOTSPOT_WORKSPACE": str(folder / "fire.gpkg")}, log=folder / "st.log") as url:
        yield url


def test_real_fire_extract_fires_page(browser, fire_app):
    OUT.mkdir(exist_ok=True)
    page = offline_page(browser)
    page.goto(f"{fire_app}/fires")
    page.get_by_text("Clusters of deliberate secondary fires").first.wait_for(timeout=120_000)
    page.get_by_text("Ward × month").first.wait_for(timeout=60_000)
    wait_for_maps(page, 1, min_paths=1, timeout=120)
    idle(page)
    _tall_shot(page, "patrol-fires-real.png", 6000)
    body = page.inner_text("body")
    assert "only precise to about 1 km" in body
    assert "the file's own ward column ('ward')" in body
    page.close()
