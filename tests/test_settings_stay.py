"""Settings that stay (issue 21 item 4): a page's choices survive a visit to another page, travel
in the address so a view can be shared, and a changed Hotspots page never silently changes the
areas the Patrol plan page had picked."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def _open(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"hotspot_app/ui/pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def test_hotspots_settings_survive_the_patrol_plan_page_and_reach_its_plan():
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _open(at, "hotspots")
    at.radio(key="hs-preset").set_value("neighbourhood").run()
    at.number_input(key="hs-top").set_value(7).run()
    assert not at.exception, at.exception
    assert at.query_params["hs-top"] == "7" and at.query_params["hs-preset"] == "neighbourhood"
    _open(at, "patrol_plan")
    assert len(at.multiselect(key="pp-pick").value) == 7
    assert any(c.value.startswith("Top 7 patrol areas for ASB") and "neighbourhood preset" in c.value
               for c in at.caption), [c.value for c in at.caption]
    # pick areas by hand on the plan page
    picked = at.multiselect(key="pp-pick").value
    at.multiselect(key="pp-pick").set_value(picked[:2] + picked[3:4]).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 3
    _open(at, "hotspots")
    assert at.number_input(key="hs-top").value == 7
    assert at.radio(key="hs-preset").value == "neighbourhood"
    # back on the plan: the hand-picked areas are still the plan's
    _open(at, "patrol_plan")
    assert at.multiselect(key="pp-pick").value == picked[:2] + picked[3:4]
    # the Hotspots page changes its preset: the plan says it starts again from the new top areas
    _open(at, "hotspots")
    at.radio(key="hs-preset").set_value("street-level").run()
    _open(at, "patrol_plan")
    assert any("The patrol areas changed" in i.value for i in at.info)
    assert len(at.multiselect(key="pp-pick").value) == 7


def test_a_shared_address_opens_the_same_view():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["hs-top"] = "3"
    at.query_params["hs-preset"] = "neighbourhood"
    at.query_params["hs-cat"] = "crime~nonsense"
    at.run()
    _open(at, "hotspots")
    assert at.number_input(key="hs-top").value == 3
    assert at.radio(key="hs-preset").value == "neighbourhood"
    assert at.multiselect(key="hs-cat").value == ["crime"]  # what the data lack is dropped
