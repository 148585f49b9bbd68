"""Takes docs/screenshots/where_next_cleveland.png: the Hotspots page's "Where next" section on the
real police.uk Cleveland files (2023-01..2024-12 with the May 2024 wards), as it opens (ASB, the
last 12 months): the emerging hot spots map with its legend, the sentence naming the method that
predicted next month best and its table. Run from the repository root:

    .venv/bin/python docs/screenshots/take_where_next.py ../shared/realdata

Builds a workspace in a temporary folder, starts the app on it (tests/app_server.py) and drives
Debian's chromium with Playwright, waiting for what a user sees (the sentence, the map's cells).
"""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from app_server import running_app  # noqa: E402
from hotspot_app.io import ingest, workspace  # noqa: E402
from hotspot_app.io.ingest import boundaries  # noqa: E402

OUT = Path(__file__).with_name("where_next_cleveland.png")


def main(realdata: Path) -> None:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp())
    files = sorted((realdata / "police_cleveland").glob("202[34]-*-cleveland-street.csv"))
    wards = boundaries.read_boundaries(realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson",
                                       layer="ward").areas
    ws_path = tmp / "workspace.gpkg"
    ws = workspace.GeopackageWorkspace(ws_path)
    ws.write(incidents=ingest.read_incidents(files, kind="police-uk").incidents, areas=[wards])
    os.environ["HOTSPOT_WORKSPACE"] = str(ws_path)
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 9000})
        page.goto(f"{url}/hotspots?hs-where-next=1", timeout=300_000)  # where next opens on demand
        page.get_by_text("predicted the next month best").wait_for(timeout=600_000)
        page.get_by_text("Do the top places survive police.uk's snapping?").wait_for(timeout=600_000)
        page.get_by_text("Hot streets", exact=True).wait_for(timeout=600_000)
        for frame in page.frames:
            if "streamlit_folium" in frame.url:
                frame.wait_for_selector("path.leaflet-interactive", state="attached", timeout=600_000)
        top = page.get_by_role("heading", name="Where next").bounding_box()
        end = page.get_by_text("Hot streets", exact=True).bounding_box()
        page.screenshot(path=str(OUT), clip={"x": 0, "y": top["y"] - 20, "width": 1400,
                                             "height": end["y"] - top["y"] + 10})
        browser.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
