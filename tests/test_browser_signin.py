"""Real browser against the real app on a real PostGIS workspace: sign-in and roles.

A wrong password is refused; a viewer can read but gets no upload, save or draw control at all
(nothing reaches the database); an analyst loads a month and records an intervention, and the
audit (in the database and on the Data page) lists those writes with the analyst's name.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pytest

from app_server import running_app
from hotspot_app.io import auth
from hotspot_app.core import settings
from hotspot_app.io import workspace
from test_browser import OUT, browser, idle, map_frames, offline_page, wait_for_maps  # noqa: F401
from test_browser_shared import wait_until_run_ends

pytestmark = pytest.mark.browser
pytest_plugins = ["pg"]

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")


@pytest.fixture
def shared(pg_url, demo, tmp_path):
    """A PostGIS workspace holding the demo wards, a viewer and an analyst, a police.uk month
    file inside the borough, and the app running against it."""
    ws = workspace.open_workspace(pg_url)
    ws.write_areas(demo.wards, user="setup")
    users = auth.open_users(pg_url)
    users.add("vera", "viewer password", "viewer", by="setup")
    users.add("alan", "analyst password", "analyst", by="setup")
    centre = gpd.GeoSeries([demo.wards.union_all().centroid], crs=settings.CRS).to_crs(settings.CRS_WGS84).iloc[0]
    lines = [HEADER] + [f"c{i},2024-03,Cleveland Police,Cleveland Police,{centre.x + 0.0003 * i:.5f},"
                        f"{centre.y:.5f},On or near High Street,E01,X 001A,Burglary,,"
                        for i in range(7)]
    month = tmp_path / "2024-03-cleveland-street.csv"
    month.write_text("\n".join(lines) + "\n")
    env = {"HOTSPOT_WORKSPACE": pg_url, "HOTSPOT_AUTH": ""}
    with running_app(env=env, log=tmp_path / "streamlit.log") as url:
        yield url, ws, month


def sign_in(page, url: str, name: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def upload(page, path) -> None:
    """Open the Data page and upload `path` once the page has finished drawing (a file given to
    the uploader while the page's first run is still going can be lost under load)."""
    page.get_by_role("link", name="Data").click()
    page.get_by_text("Load your own data", exact=True).wait_for(timeout=90_000)
    # the drawing map answers once drawn, and Streamlit runs the page again: wait for that too
    page.frame_locator('iframe[src*="streamlit_folium"]').first.locator(".leaflet-container").wait_for(timeout=300_000)
    wait_until_run_ends(page)
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.get_by_text("Rows read").first.wait_for(timeout=90_000)


def draw_rectangle(page, attempts: int = 3) -> None:
    """Draw a rectangle with Leaflet.draw in the Data page's map (as test_browser does); the map
    frame is re-created when the page reruns after a save, so retry on a detached frame."""
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            for f in map_frames(page):  # a map below the fold may not start Leaflet until seen
                f.frame_element().scroll_into_view_if_needed()
            wait_for_maps(page, 1, min_paths=20)
            frame = map_frames(page)[0]
            frame.locator(".leaflet-container").scroll_into_view_if_needed()
            frame.locator(".leaflet-draw-draw-rectangle").click(timeout=15_000)
            box = frame.locator(".leaflet-container").bounding_box()
            if box is None:  # the frame was detached by a rerun between the click and now
                raise Error("map frame detached")
            x0, y0 = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45
            page.mouse.move(x0, y0)
            page.mouse.down()
            page.mouse.move(x0 + 40, y0 + 30, steps=5)
            page.mouse.move(x0 + 80, y0 + 60, steps=5)
            page.mouse.up()
            page.get_by_text("Polygon drawn:").wait_for(timeout=30_000)
            return
        except Error:
            if attempt == attempts - 1:
                raise
            idle(page)  # the page ran again under the drawing: draw once it is still


def test_wrong_password_viewer_and_analyst(browser, shared):  # noqa: F811
    url, ws, month = shared
    OUT.mkdir(exist_ok=True)

    # A wrong password is refused and shows nothing of the data.
    page = offline_page(browser)
    sign_in(page, url, "alan", "not his password")
    page.get_by_text("Wrong user name or password.").wait_for(timeout=30_000)
    assert page.get_by_text("Signed in as").count() == 0
    assert page.get_by_role("link", name="Data").count() == 0
    page.close()

    # A viewer reads the pages but gets no control to load data or save an area.
    page = offline_page(browser)
    sign_in(page, url, "vera", "viewer password")
    page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Data").click()
    page.get_by_text("Signed in as a viewer").first.wait_for(timeout=60_000)
    page.get_by_text("Load history and coverage").first.wait_for(timeout=60_000)
    assert page.locator("input[type=file]").count() == 0
    assert page.get_by_role("button", name=re.compile("Add to workspace|Save the area and intervention")).count() == 0
    page.screenshot(path=str(OUT / "browser-signin-viewer.png"), full_page=True)
    page.close()
    assert len(ws.coverage()) == 0
    assert ws.audit()[["user", "action"]].values.tolist() == [
        ["setup", "area_added"], ["setup", "user_added"], ["setup", "user_added"]]

    # An analyst loads the month and records an intervention on a drawn area.
    page = offline_page(browser)
    sign_in(page, url, "alan", "analyst password")
    page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
    upload(page, month)
    page.get_by_role("button", name=re.compile("Save to the workspace|Add to workspace")).click()
    page.get_by_role("heading", name="Audit").wait_for(timeout=60_000)
    draw_rectangle(page)
    page.get_by_label("Name", exact=True).fill("Precinct patrols")
    page.get_by_role("button", name="Save the area and intervention").click()
    try:
        page.get_by_text("Saved 'Precinct patrols'").wait_for(timeout=60_000)
        # in the Audit view (a data grid: cells are in the DOM, drawn on a canvas)
        page.get_by_text(re.compile(r"Precinct patrols \(patrols, int-1, from ")).first.wait_for(state="attached", timeout=30_000)
    finally:
        page.screenshot(path=str(OUT / "browser-signin-analyst.png"), full_page=True)
    page.close()

    assert {(r.source, r.provider, r.month): r.rows for r in ws.coverage().itertuples()} == {
        ("police-uk", "Cleveland Police", "2024-03"): 7}
    log = ws.audit()
    log = log[~log["action"].str.startswith("user_")].reset_index(drop=True)  # the users' own audit rows
    assert log[["user", "action"]].values.tolist() == [
        ["setup", "area_added"], ["alan", "load"], ["alan", "area_added"], ["alan", "intervention_added"]]
    assert log["detail"][1].startswith("load 1: 2024-03-cleveland-street.csv; 7 rows added")
    assert ws.interventions()["name"].tolist() == ["Precinct patrols"]
    assert ws.loads()["user"].tolist() == ["alan"]
