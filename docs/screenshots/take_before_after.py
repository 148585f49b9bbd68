"""Takes docs/screenshots/before_after_hemlington.png: the Before/after page on the real police.uk
Cleveland files, the Hemlington micro-hotspot of docs/examples/ stored with a (hypothetical)
patrol intervention from July to December 2024. Run from the repository root:

    .venv/bin/python docs/screenshots/take_before_after.py ../shared/realdata

Builds a workspace in a temporary folder, starts the app on it (tests/app_server.py) and drives
Debian's chromium with Playwright, waiting for what a user sees (the robustness table, the maps).
"""

import os
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from app_server import running_app  # noqa: E402
from hotspot_app.core import settings  # noqa: E402
from hotspot_app.io import ingest, workspace  # noqa: E402
from hotspot_app.io.ingest import boundaries  # noqa: E402

OUT = Path(__file__).with_name("before_after_hemlington.png")


def _trim(path: Path) -> None:
    """Cut the empty space below the page's last element (the viewport is tall so that the
    whole page renders: Streamlit scrolls inside it)."""
    import numpy as np
    from PIL import Image

    im = Image.open(path).convert("RGB")
    a = np.asarray(im)
    rows = np.where((a[:, 320:, :] < 245).any(axis=(1, 2)))[0]
    im.crop((0, 0, a.shape[1], min(a.shape[0], int(rows.max()) + 40))).save(path, optimize=True)


def main(realdata: Path) -> None:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp())
    micro = boundaries.read_boundaries(ROOT / "docs" / "examples" / "cleveland_micro_hotspots.geojson",
                                       layer="micro_hotspot").areas
    wards = boundaries.read_boundaries(realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson",
                                       layer="ward").areas
    hem = micro[micro["name"] == "Hemlington micro-hotspot"].iloc[0]
    iv = gpd.GeoDataFrame({"intervention_id": ["hem-1"], "name": ["Hemlington micro-hotspot patrols"],
                           "type": ["patrols"], "area_id": [hem["area_id"]],
                           "start": pd.to_datetime(["2024-07-01"]).astype("datetime64[ns]"),
                           "end": pd.to_datetime(["2024-12-31"]).astype("datetime64[ns]"),
                           "radius_m": [float("nan")], "notes": ["hypothetical, for the README"]},
                          geometry=[hem.geometry], crs=settings.CRS)
    ws_path = tmp / "workspace.gpkg"
    ws = workspace.GeopackageWorkspace(ws_path)
    ws.write(incidents=ingest.read_incidents([realdata / "police_cleveland"]).incidents,
             areas=[wards, micro], interventions=iv)
    os.environ["HOTSPOT_WORKSPACE"] = str(ws_path)
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1500, "height": 4200})
        page.goto(f"{url}/before_after", timeout=300_000)
        page.get_by_text("Robustness: the effect under each control").wait_for(timeout=600_000)
        page.get_by_text("Placebo test", exact=True).wait_for(timeout=600_000)
        page.locator("iframe").first.wait_for(timeout=600_000)
        for frame in page.frames:
            if "streamlit_folium" in frame.url:
                frame.wait_for_selector("path.leaflet-interactive", timeout=600_000)
        page.screenshot(path=str(OUT), full_page=True)
        browser.close()
    _trim(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
