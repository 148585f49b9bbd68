"""The Patrol plan on a phone and on paper (issue 21: the Why's "Phone" and "Printing" bullets), in
a real browser on the demo, offline (every request off this machine refused):

* at 390 x 844 the page never scrolls sideways (a wide table scrolls inside its own box), each
  visit has an OpenStreetMap link (works on any browser) beside a ``geo:`` link (the phone's maps
  app), and the map draws the ward outlines from the loaded boundaries (no basemap offline);
* printed (A4), the map is one fixed-size frame centred on the page and the patrol areas are
  centred in it; the PDF is saved for a person to look at.

Screenshots go to test-output/ (HOTSPOT_SCREENSHOTS=docs/screenshots refreshes the docs' copy).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from app_server import running_app

pytestmark = pytest.mark.browser

from test_browser import OUT, browser, map_frames, wait_for_maps  # noqa: E402,F401 (browser: fixture)

SHOTS = Path(os.environ.get("HOTSPOT_SCREENSHOTS") or OUT).resolve()
PHONE = {"width": 390, "height": 844}
#: The wards' outline colour on the Patrol plan map (`maps.area_outlines(..., colour="#777777")`).
WARD_STROKE = "#777777"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    with running_app(log=tmp_path_factory.mktemp("phone-print") / "streamlit.log") as url:
        yield url


def _offline(page):
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")) else r.abort())
    return page


def test_patrol_plan_on_a_phone(browser, demo_app):
    phone = _offline(browser.new_page(viewport=PHONE, is_mobile=True, device_scale_factor=2))
    phone.goto(f"{demo_app}/patrol_plan")
    phone.get_by_text("visits at").first.wait_for(timeout=120_000)
    wait_for_maps(phone, 1, min_paths=5, timeout=120)
    page = phone.evaluate("""() => {
        const boxes = [...document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"], .phone-table')]
            .filter(t => t.offsetParent !== null)
            .map(t => ({kind: t.className.includes('phone-table') ? 'html' : 'grid', right: t.getBoundingClientRect().right,
                        scroll: t.scrollWidth, client: t.clientWidth, overflow: getComputedStyle(t).overflowX,
                        headings: [...t.querySelectorAll('th')].map(th => th.innerText.trim())}));
        return {width: document.documentElement.scrollWidth, main: document.querySelector('[data-testid="stMain"]').scrollWidth,
                boxes: boxes,
                geo: [...document.querySelectorAll('a[href^="geo:"]')].map(a => a.getAttribute('href')),
                osm: [...document.querySelectorAll('a[href^="https://www.openstreetmap.org/"]')].map(a => a.getAttribute('href'))};
    }""")
    # nothing wider than the phone: the page does not scroll sideways, and every table fits its box
    assert page["width"] <= PHONE["width"] and page["main"] <= PHONE["width"], page
    assert page["boxes"] and all(b["right"] <= PHONE["width"] + 1 for b in page["boxes"]), page["boxes"]
    assert all(b["scroll"] <= b["client"] + 1 or b["overflow"] in ("auto", "scroll") for b in page["boxes"]), page["boxes"]
    # the plan's table: every column there, the box scrolling sideways to reach them
    plan = [b for b in page["boxes"] if b["kind"] == "html"]
    assert len(plan) == 1 and plan[0]["headings"] == ["#", "Team", "Area", "Patrol days", "Comparison days",
                                                       "Visits", "Minutes"], page["boxes"]
    assert plan[0]["scroll"] > plan[0]["client"] and plan[0]["overflow"] == "auto", plan
    # each visit: an OpenStreetMap link and, beside it, the same place as a geo: link
    assert len(page["geo"]) == len(page["osm"]) >= 5
    for geo, osm in zip(page["geo"], page["osm"]):
        lat, lon = geo[len("geo:"):].split("?")[0].split(",")
        assert f"mlat={lat}&mlon={lon}" in osm
    # offline there is no basemap: the wards are drawn from the loaded boundary layer
    frame = map_frames(phone)[0]
    assert frame.evaluate(f"() => document.querySelectorAll('path[stroke=\"{WARD_STROKE}\"]').length") >= 5
    # what the phone shows: the first screen (the day's visits), then the map and the plan's table
    # scrolled into view (the phone's own size throughout: resizing would redraw the map)
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "patrol-plan-phone-390.png"))
    phone.locator(".phone-table").first.scroll_into_view_if_needed()
    phone.locator('iframe[src*="streamlit_folium"]').first.scroll_into_view_if_needed()
    frame.wait_for_function(f"() => [...document.querySelectorAll('path[stroke=\"{WARD_STROKE}\"]')]"
                            ".filter(p => p.getBoundingClientRect().width > 0).length >= 5", timeout=30_000)
    phone.screenshot(path=str(SHOTS / "patrol-plan-phone-390-map.png"))
    phone.close()


def test_printed_patrol_map_is_centred(browser, demo_app):
    from pypdf import PdfReader

    page = _offline(browser.new_page(viewport={"width": 1400, "height": 1000}))
    page.goto(f"{demo_app}/patrol_plan")
    page.get_by_text("visits at").first.wait_for(timeout=120_000)
    wait_for_maps(page, 1, min_paths=5, timeout=120)
    page.emulate_media(media="print")
    frame = map_frames(page)[0]
    # the map has taken its paper size and fitted the patrol areas again (maps.PrintFit)
    frame.wait_for_function("() => { const m = document.querySelector('.leaflet-container');"
                            " return m && Math.abs(m.clientWidth - window.innerWidth) < 2; }", timeout=30_000)
    box = page.evaluate("""() => {
        const f = [...document.querySelectorAll('iframe')].find(f => (f.src || '').includes('streamlit_folium'));
        const r = f.getBoundingClientRect(), main = document.querySelector('[data-testid="stMain"]').getBoundingClientRect();
        return {left: r.left - main.left, right: main.right - r.right, width: r.width};
    }""")
    # one fixed width (180 mm = 680 px), centred: the same margin each side
    assert abs(box["width"] - 680) <= 2 and abs(box["left"] - box["right"]) <= 2, box
    areas = frame.evaluate("""() => {
        const c = document.querySelector('.leaflet-container').getBoundingClientRect();
        const ps = [...document.querySelectorAll('path.leaflet-interactive')]
            .filter(p => p.getAttribute('stroke') !== '#777777').map(p => p.getBoundingClientRect());
        const x0 = Math.min(...ps.map(r => r.left)), x1 = Math.max(...ps.map(r => r.right));
        const y0 = Math.min(...ps.map(r => r.top)), y1 = Math.max(...ps.map(r => r.bottom));
        return {n: ps.length, dx: (x0 + x1) / 2 - (c.left + c.width / 2), dy: (y0 + y1) / 2 - (c.top + c.height / 2),
                w: c.width, h: c.height, inside: x0 >= c.left && x1 <= c.right && y0 >= c.top && y1 <= c.bottom};
    }""")
    # the patrol areas sit in the middle of the printed map, all of them on it
    assert areas["n"] >= 5 and areas["inside"], areas
    assert abs(areas["dx"]) <= 0.05 * areas["w"] and abs(areas["dy"]) <= 0.05 * areas["h"], areas
    pdf = page.pdf(format="A4", print_background=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "patrol-plan-print.pdf").write_bytes(pdf)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Patrol plan from" in text
    page.close()
