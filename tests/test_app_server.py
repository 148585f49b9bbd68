"""`make app` serves the demo: a headless `streamlit run` answers its health endpoint, the page,
and serves the Leaflet assets locally (design §8)."""

from __future__ import annotations

import pytest
import requests

from app_server import running_app
from hotspot_app.render import map_assets, maps


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with running_app(log=log) as url:
        yield url


def test_health_endpoint_and_page(app_url):
    r = requests.get(f"{app_url}/_stcore/health", timeout=10)
    assert r.status_code == 200 and r.text.strip() == "ok"
    page = requests.get(f"{app_url}/", timeout=10)
    assert page.status_code == 200
    assert '<div id="root">' in page.text
    overview = requests.get(f"{app_url}/overview", timeout=10)
    assert overview.status_code == 200


def test_leaflet_and_plugins_served_locally_as_javascript(app_url):
    m = maps.overview_map(maps.gpd.GeoDataFrame(columns=["area_id", "name", "geometry"], geometry="geometry",
                                                crs=maps.settings.CRS), None, maps.pd.DataFrame(
        {"lat": [54.5], "lon": [-1.2], "count": [1], "weight": [1.0], "top_category": ["x"], "location": [""]}))
    maps.draw_control(m)
    links = map_assets.linked_assets(m)
    assert links and not map_assets.external_assets(m)
    for link in links:
        r = requests.get(f"{app_url}{link}", timeout=10)
        assert r.status_code == 200, link
        want = "javascript" if link.endswith(".js") else "css"
        assert want in r.headers["content-type"], (link, r.headers["content-type"])
    img = requests.get(f"{app_url}{map_assets.STATIC_URL}/leaflet/dist/images/layers.png", timeout=10)
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
