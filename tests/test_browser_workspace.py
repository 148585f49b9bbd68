"""Real browser (Debian's chromium driven by Playwright), the monthly cycle of issue 9 on the Data
page: load month 1 (with the wards), record an intervention by drawing it, load month 2, load
month 1 again as police.uk republished it -> the history shows 3 loads, the workspace holds
exactly the republished month 1 and month 2, the intervention is kept.

Needs Debian's chromium at /usr/bin/chromium (.ci/run installs it); without it this fails.
Screenshots go to test-output/.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from app_server import running_app

from hotspot_app.io import workspace

pytestmark = pytest.mark.browser

# test_browser fails (never skips) when chromium is missing; one browser set-up for all tests
from test_browser import ARGS, CHROMIUM, OUT, idle as browser_idle  # noqa: E402

from playwright.sync_api import Error as PlaywrightError  # noqa: E402

from playwright.sync_api import sync_playwright  # noqa: E402

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")


def street_csv(path: Path, month: str, n: int, tag: str) -> Path:
    rows = [HEADER] + [f"{tag}{i},{month},Cleveland Police,Cleveland Police,{-1.2300 + (i % 10) / 2000:.5f},"
                       f"{54.5700 + (i // 10) / 2000:.5f},On or near High Street,E01,Mbro 001A,Shoplifting,,"
                       for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


def local_only(page) -> None:
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")) else r.abort())


#: The Data page's uploaders, by the label the user reads (and the widget key that holds it).
UPLOADERS = {"Incident files": "dt-inc-files", "Boundary file": "dt-bnd-file"}


def upload(page, label: str, path: Path) -> None:
    """Give `path` to the uploader labelled `label` (never "the n-th uploader": while the page is
    redrawn, the n-th element on it can be another one)."""
    box = page.locator(f".st-key-{UPLOADERS[label]}")
    box.get_by_text(label).first.wait_for(timeout=300_000)
    box.locator("input[type=file]").set_input_files(str(path))


def idle(page, timeout: float = 300_000) -> None:
    """Wait until the app has finished running the page (`test_browser.idle`)."""
    browser_idle(page, timeout)


def map_frame(page, timeout: float = 300_000):
    """The Data page's map (the folium component's frame) once the page has finished running and
    the map's areas are drawn -- as a user sees it before drawing on it. A locator of the frame,
    so a rerun that replaces the frame is followed, never raced."""
    idle(page, timeout)
    frame = page.frame_locator('iframe[src*="streamlit_folium"]').first
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=timeout)
    idle(page, timeout)
    return frame


def draw_rectangle(page, attempts: int = 5) -> None:
    """Draw a rectangle on the Data page's map, as a user does, until the page says "Polygon
    drawn:". The map's frame is reloaded when the component redraws it after a rerun; a drawing
    started on the frame being replaced is lost (Playwright: "element handle from a different
    document"), and the user draws again on the map now shown."""
    for _ in range(attempts):
        frame = map_frame(page)
        try:
            frame.locator(".leaflet-draw-draw-rectangle").click()
            box = frame.locator(".leaflet-container").bounding_box()
            x0, y0 = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45
            page.mouse.move(x0, y0)
            page.mouse.down()
            page.mouse.move(x0 + 40, y0 + 30, steps=5)
            page.mouse.move(x0 + 80, y0 + 60, steps=5)
            page.mouse.up()
            page.get_by_text("Polygon drawn:").wait_for(timeout=60_000)
            return
        except PlaywrightError:
            continue  # the frame was replaced under the pointer (or the drawing lost with it)
    raise AssertionError(f"no polygon drawn after {attempts} attempts on the Data page's map")


def open_data_page(page, url: str) -> None:
    """The Data page, once it has finished running: a file given to an uploader while the page is
    still being drawn can be lost in the rerun."""
    page.goto(f"{url}/data")
    page.get_by_text("Load your own data", exact=True).wait_for(timeout=300_000)
    idle(page)
    # the map component answers once drawn, and Streamlit runs the page again: wait for that too
    page.frame_locator('iframe[src*="streamlit_folium"]').first.locator(".leaflet-container").wait_for(timeout=300_000)
    idle(page)


def add_to_workspace(page, expect: str) -> None:
    page.get_by_text("Rows read").first.wait_for(timeout=300_000)
    idle(page)
    button = page.get_by_role("button", name="Add to workspace")
    button.wait_for(timeout=300_000)
    assert button.is_enabled()
    button.click()
    page.get_by_text(expect).first.wait_for(timeout=300_000)
    idle(page)


def test_monthly_cycle_in_the_browser(tmp_path):
    OUT.mkdir(exist_ok=True)
    ws_path = tmp_path / "partnership.gpkg"
    jan = street_csv(tmp_path / "2024-01-cleveland-street.csv", "2024-01", 40, "jan")
    feb = street_csv(tmp_path / "2024-02-cleveland-street.csv", "2024-02", 30, "feb")
    (tmp_path / "republished").mkdir()
    jan_again = street_csv(tmp_path / "republished" / "2024-01-cleveland-street.csv", "2024-01", 42, "jan-r")
    wards = tmp_path / "wards.geojson"
    wards.write_text(gpd.GeoDataFrame({"WD24NM": ["High ward", "Park ward"]},
                                      geometry=[shapely.box(-1.240, 54.560, -1.224, 54.585),
                                                shapely.box(-1.224, 54.560, -1.205, 54.585)],
                                      crs="EPSG:4326").to_json())
    with running_app(env={"HOTSPOT_WORKSPACE": str(ws_path)}, log=tmp_path / "st.log") as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        local_only(page)
        try:
            # 1. month 1 with the wards, added in one step
            open_data_page(page, url)
            upload(page, "Incident files", jan)
            # one file at a time, as a user does: the rerun the first upload starts replaces the
            # page's widgets, and a file given to the second uploader meanwhile can be lost
            page.get_by_text("Read 40 rows: 40 loaded, 0 rejected").wait_for(timeout=300_000)
            idle(page)
            upload(page, "Boundary file", wards)
            page.get_by_text("2 areas read from wards.geojson").wait_for(timeout=300_000)
            add_to_workspace(page, "from 0 to 40 incidents")

            # 2. record an intervention: draw a rectangle on the Data page's map
            draw_rectangle(page)
            idle(page)
            form = page.locator('[data-testid="stForm"]').first
            form.get_by_label("Name", exact=True).fill("Precinct evening patrols")
            form.get_by_role("button", name="Save the area and intervention").click()
            page.get_by_text("Saved 'Precinct evening patrols'").wait_for(timeout=300_000)

            # 3. month 2 (a new session: the app opens on the workspace)
            open_data_page(page, url)
            upload(page, "Incident files", feb)
            add_to_workspace(page, "from 40 to 70 incidents")

            # 4. month 1 republished by police.uk
            open_data_page(page, url)
            upload(page, "Incident files", jan_again)
            add_to_workspace(page, "from 70 to 72 incidents (40 rows of 2024-01 replaced)")
            page.get_by_text("3 loads, newest first").wait_for(timeout=300_000)
            idle(page)
        finally:
            page.screenshot(path=str(OUT / "browser-monthly-cycle.png"), full_page=True)
            browser.close()
    ws = workspace.GeopackageWorkspace(ws_path)
    assert len(ws.loads()) == 3
    assert ws.loads()["replaced"].tolist() == [0, 0, 40]
    inc = ws.incidents()
    assert sorted(inc["incident_id"]) == sorted([f"feb{i}" for i in range(30)] + [f"jan-r{i}" for i in range(42)])
    assert inc.groupby("month").size().to_dict() == {"2024-01": 42, "2024-02": 30}
    assert ws.interventions()["name"].tolist() == ["Precinct evening patrols"]
    assert ws.areas("ward")["name"].tolist() == ["High ward", "Park ward"]
    assert ws.areas("micro_hotspot")["name"].tolist() == ["Precinct evening patrols"]
