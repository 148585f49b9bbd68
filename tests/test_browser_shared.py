"""Real browser (Debian's chromium driven by Playwright) against the real app: a shared deployment
nobody can break into, and edits that never hit the wrong record (issue 22).

- A viewer signs in to a PostGIS workspace whose URL holds a password; the HTML of every page
  (and of every frame in it) is searched for the password: it is nowhere.
- Served beyond localhost without sign-in, the app shows one line and nothing else.
- A stale delete (the record deleted elsewhere and a new one recorded meanwhile) and a concurrent
  edit (another session saved first) are refused with "changed since you opened it"; the
  deleted intervention is restored from the Data page.

Needs Debian's chromium at /usr/bin/chromium (.ci/run installs it); without it these tests fail.
Screenshots go to test-output/.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from shapely.geometry import box

from app_server import running_app
from hotspot_app.core import schema
from hotspot_app.io import auth, workspace
from test_browser import OUT, browser, idle, offline_page  # noqa: F401

pytestmark = pytest.mark.browser
pytest_plugins = ["pg"]

SECRET = "p@ss:w/rd-xyzzy"
#: (the menu's link, the page's title) of every page; a session moves through the menu (a new URL
#: would be a new session, signed out)
PAGES = [("Overview", "Overview"), ("Hotspots", "Hotspots and patrol areas"), ("Patrol plan", "Patrol plan"),
         ("Before / after", "Before / after"), ("Fires", "Deliberate fires"), ("Area tables", "Area tables"),
         ("Reports", "Reports"), ("Data", "Data")]


def incidents(month: str, n: int):
    data = pd.DataFrame({"incident_id": [f"c{month}-{i}" for i in range(n)], "month": [month] * n,
                         "category": ["Burglary", "Anti-social behaviour"] * (n // 2) + ["Burglary"] * (n % 2),
                         "x": [444000.0 + 15 * (i % 10) for i in range(n)],
                         "y": [518000.0 + 15 * (i // 10) for i in range(n)]})
    return schema.make_incidents(data, source="police-uk").assign(provider="Cleveland Police")


def sign_in(page, url: str, name: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").first.wait_for(timeout=90_000)


def wait_until_run_ends(page) -> None:
    """Wait until the page's script run is over (`test_browser.idle`)."""
    idle(page)


def html_everywhere(page) -> str:
    """The page's HTML and that of every frame in it (maps are iframes)."""
    parts = [page.content()]
    for frame in page.frames:
        try:
            parts.append(frame.content())
        except Exception:  # a frame replaced by a rerun meanwhile
            continue
    return "\n".join(parts)


def test_a_viewer_never_sees_the_database_password(browser, pg_url, tmp_path):  # noqa: F811
    scheme, rest = pg_url.split("://", 1)
    user, host = rest.split("@", 1)
    url = f"{scheme}://{user}:{SECRET}@{host}"  # trust auth: the password is only there to leak
    ws = workspace.open_workspace(url)
    ws.load_incidents(incidents("2024-01", 60), files=["2024-01-cleveland-street.csv"], user="setup")
    ws.add_intervention("Precinct patrols", "patrols", "2024-01-01", geometry=box(444000, 518000, 444150, 518150),
                        user="setup")
    auth.open_users(url).add("vera", "viewer password", "viewer", by="setup")
    OUT.mkdir(exist_ok=True)
    forms = [SECRET, "p%40ss", "rd-xyzzy"]
    with running_app(env={"HOTSPOT_WORKSPACE": url, "HOTSPOT_AUTH": ""}, log=tmp_path / "st.log") as app_url:
        page = offline_page(browser)
        try:
            sign_in(page, app_url, "vera", "viewer password")
            for link, title in PAGES:
                page.get_by_role("link", name=link, exact=True).first.click()
                page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
                # every page names its data in the one display form ...
                page.get_by_text(re.compile(r"^Data: Workspace postgresql://postgres:\*\*\*@")).first.wait_for(
                    timeout=120_000)
                wait_until_run_ends(page)  # ... and is searched once all of it is drawn
                html = html_everywhere(page)
                assert not [f for f in forms if f in html], (link, [f for f in forms if f in html])
        finally:
            page.screenshot(path=str(OUT / "browser-viewer-no-password.png"), full_page=True)
            page.close()
    assert SECRET not in (tmp_path / "st.log").read_text()


def test_served_beyond_localhost_without_sign_in_shows_one_line(browser, tmp_path):  # noqa: F811
    """Started by hand with `streamlit run` (past `make app`'s start check, which refuses to
    start: tests/test_serve.py), every page run still says why and shows no control."""
    with running_app(env={"HOTSPOT_WORKSPACE": str(tmp_path / "ws.gpkg"), "HOTSPOT_AUTH": ""},
                     address="0.0.0.0", log=tmp_path / "st.log", by_hand=True) as app_url:
        page = offline_page(browser)
        page.goto(f"{app_url}/data")
        page.get_by_text(re.compile(r"^The app will not start: serving beyond this machine \(0\.0\.0\.0\) "
                                    "needs sign-in")).wait_for(timeout=90_000)
        assert page.locator("input[type=file]").count() == 0
        assert page.get_by_role("button").filter(has_text=re.compile("Add to workspace|Delete")).count() == 0
        page.close()


@pytest.fixture
def three_interventions(tmp_path):
    path = tmp_path / "partnership.gpkg"
    ws = workspace.open_workspace(path)
    ws.load_incidents(incidents("2024-01", 40), user="setup")
    for name in ("Alpha patrols", "Bravo CCTV", "Charlie lighting"):
        ws.add_intervention(name, "lighting", "2024-01-01", geometry=box(444000, 518000, 444150, 518150),
                            user="setup")
    return path, ws


def open_data_page(browser, app_url: str):  # noqa: F811
    page = offline_page(browser)
    page.set_viewport_size({"width": 1400, "height": 3000})
    page.goto(f"{app_url}/data")
    page.get_by_role("heading", name="Edit or delete interventions and areas").wait_for(timeout=120_000)
    # the drawing map answers once drawn, and Streamlit runs the page again: wait for that too
    page.frame_locator('iframe[src*="streamlit_folium"]').first.locator(".leaflet-container").wait_for(timeout=300_000)
    wait_until_run_ends(page)
    return page


def choose_intervention(page, name: str) -> None:
    box_ = page.locator('[data-testid="stSelectbox"]').filter(has_text="Intervention").first
    option = page.get_by_role("option", name=re.compile(re.escape(name)))
    for attempt in range(3):  # a page run (the drawing map answering) closes an open list: open it again
        wait_until_run_ends(page)
        box_.click()
        try:
            option.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    option.click()
    page.get_by_label("Name", exact=True).last.wait_for(timeout=60_000)
    page.wait_for_function(f"() => [...document.querySelectorAll('input')].some(i => i.value === {name!r})",
                           timeout=60_000)
    wait_until_run_ends(page)


def test_a_stale_delete_is_refused_and_the_deleted_one_is_restored(browser, three_interventions, tmp_path):  # noqa: F811
    path, ws = three_interventions
    OUT.mkdir(exist_ok=True)
    with running_app(env={"HOTSPOT_WORKSPACE": str(path), "HOTSPOT_AUTH": ""}, log=tmp_path / "st.log") as app_url:
        page = open_data_page(browser, app_url)
        try:
            choose_intervention(page, "Charlie lighting")
            delete = page.get_by_role("button", name="Delete intervention")
            for attempt in range(3):  # a tick given while the page runs again can be lost: give it again
                if not page.get_by_role("checkbox", name=re.compile("Yes, delete this intervention")).last.is_checked():
                    page.get_by_text("Yes, delete this intervention").last.click()
                try:
                    expect(delete).to_be_enabled(timeout=20_000)
                    break
                except AssertionError:
                    if attempt == 2:
                        raise
                    wait_until_run_ends(page)
            # meanwhile another user deletes it and records a new one
            ws.delete_intervention("int-3", user="bob")
            ws.add_intervention("Delta youth club", "other", "2024-03-01", geometry=box(444000, 518000, 444100, 518100),
                                user="bob")
            page.get_by_role("button", name="Delete intervention").click()
            page.get_by_text(re.compile(r"'Charlie lighting' \(int-3\) changed since you opened it \(deleted by "
                                        r"bob at .*\); reload and try again")).wait_for(timeout=60_000)
            assert page.get_by_text("Deleted 'Charlie lighting'").count() == 0
            assert workspace.open_workspace(path).interventions()["name"].tolist() == [
                "Alpha patrols", "Bravo CCTV", "Delta youth club"]
            page.get_by_role("button", name="Reload the workspace").click()
            page.get_by_role("heading", name="Recently deleted").wait_for(timeout=60_000)
            page.get_by_role("button", name="Restore").click()
            page.get_by_text("Restored 'Charlie lighting'.").wait_for(timeout=60_000)
        finally:
            page.screenshot(path=str(OUT / "browser-stale-delete.png"), full_page=True)
            page.close()
    assert workspace.open_workspace(path).interventions()["name"].tolist() == [
        "Alpha patrols", "Bravo CCTV", "Delta youth club", "Charlie lighting"]


def test_a_concurrent_edit_is_refused(browser, three_interventions, tmp_path):  # noqa: F811
    path, ws = three_interventions
    with running_app(env={"HOTSPOT_WORKSPACE": str(path), "HOTSPOT_AUTH": ""}, log=tmp_path / "st.log") as app_url:
        first, second = open_data_page(browser, app_url), open_data_page(browser, app_url)
        try:
            for page in (first, second):  # two sessions open the same intervention
                choose_intervention(page, "Bravo CCTV")
            notes = second.get_by_label("Notes").last
            notes.fill("moved to the bus station")
            second.get_by_role("button", name="Save changes").click()
            second.get_by_text("Saved the changes to 'Bravo CCTV'.").wait_for(timeout=60_000)
            first.get_by_label("Notes").last.fill("evenings only")
            first.get_by_role("button", name="Save changes").click()
            first.get_by_text(re.compile(r"'Bravo CCTV' \(int-2\) changed since you opened it \(changed by .*\); "
                                         "reload and try again")).wait_for(timeout=60_000)
        finally:
            first.screenshot(path=str(OUT / "browser-concurrent-edit.png"), full_page=True)
            first.close()
            second.close()
    row = workspace.open_workspace(path).interventions().iloc[1]
    assert (row["name"], row["notes"]) == ("Bravo CCTV", "moved to the bus station")
