"""Streamlit AppTest for every page on the demo: runs without exceptions, the demo banner and the
key widgets are there, figures match the core / the demo's planted truth, and changing a
parameter changes the result."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from hotspot_app.core import periods, settings, taxonomy
from hotspot_app.io import demo
from hotspot_app.render import formatting
from hotspot_app.core import summaries

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture(scope="module")
def the_demo():
    return demo.load()


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if page:
        at.switch_page(f"hotspot_app/ui/pages/{page}.py")
        at.run()
    assert not at.exception, at.exception
    return at


def banner_shown(at: AppTest) -> bool:
    return any(settings.DEMO_LABEL in w.value for w in at.warning)


def metric(at: AppTest, starts: str) -> str:
    hits = [m.value for m in at.metric if m.label.startswith(starts)]
    assert hits, f"no metric '{starts}' in {[m.label for m in at.metric]}"
    return hits[0]


def ward_values(at: AppTest) -> dict[str, tuple[str, ...]]:
    """Ward name -> (value, extra columns...) of the choropleth in the page's map."""
    import json
    import re

    script = json.loads(at.get("component_instance")[0].proto.json_args)["script"]
    out = {}
    for props in re.findall(r'"properties": (\{[^{}]*"_value"[^{}]*\})', script):
        p = json.loads(props)
        out[p["_name"]] = (p["_value"], *[p[k] for k in sorted(p) if k.startswith("_x")])
    return out


def grid_values(at: AppTest) -> list[tuple[str, str | None]]:
    """(value, class) of every grid cell drawn on the page's map."""
    import json
    import re

    script = json.loads(at.get("component_instance")[0].proto.json_args)["script"]
    return [(p["_v"], p.get("_k")) for p in map(json.loads, re.findall(r'"properties": (\{[^{}]*"_v"[^{}]*\})', script))]


def test_overview_kpis_match_the_core_and_filters_change_the_table(the_demo):
    at = open_page()
    assert banner_shown(at)
    at.select_slider(key="ov-period")  # key widgets present (KeyError otherwise)
    at.selectbox(key="ov-area")
    assert at.radio(key="ov-metric").options == ["count", "rate", "change"] or \
        len(at.radio(key="ov-metric").options) == 3
    assert at.multiselect(key="ov-cat").value == ["crime"]
    last = the_demo.incidents["month"].max()
    window = periods.window(last, 12)
    crime = the_demo.incidents["kind"].eq("crime") & the_demo.incidents["month"].isin(window)
    assert metric(at, "Crimes") == f"{int(crime.sum()):,}"

    # a ward's summary: the KPI equals summaries.area_summary for that ward
    ward = the_demo.wards.iloc[0]
    at.selectbox(key="ov-area").set_value(str(ward["area_id"])).run()
    assert not at.exception
    doc = summaries.area_summary(the_demo.incidents, the_demo.wards.iloc[[0]], last, 12)
    assert metric(at, "Crimes") == formatting.fmt_int(doc["crime"]["current"])
    assert metric(at, "ASB") == formatting.fmt_int(doc["asb"]["current"])

    crime_table = at.dataframe[0].value.copy()
    at.multiselect(key="ov-cat").set_value(["asb"]).run()
    assert not at.exception
    asb_table = at.dataframe[0].value
    assert not crime_table.equals(asb_table)
    # top ward of the ASB ranking has the count the core gives
    ranked, _ = summaries.rank_areas(the_demo.incidents, the_demo.wards, category=["asb"], months=window)
    assert asb_table["Count"].iloc[0] == f"{int(ranked['count'].iloc[0]):,}"

    # the choropleth's values are the core's, ward by ward (read from the map sent to the page)
    at.radio(key="ov-metric").set_value("change").run()
    assert not at.exception
    change, _ = summaries.change_by_area(the_demo.incidents, the_demo.wards, category=["asb"], months=window)
    expected = {n: (f"{p:+.1f}%", f"{c:,}", f"{q:,}") for n, c, q, p in
                zip(change["name"], change["count"], change["previous"], change["pct_change"]) if n != "outside"}
    assert ward_values(at) == expected
    at.radio(key="ov-metric").set_value("rate").run()
    assert not at.exception
    rates = ranked[ranked["area_id"] != "outside"]
    assert {n: v[0] for n, v in ward_values(at).items()} == {
        n: f"{r:,.1f}" for n, r in zip(rates["name"], rates["rate_per_1000"])}


def test_hotspots_patrol_areas_follow_eps(the_demo):
    from hotspot_app.core import clusters, patrol

    at = open_page("hotspots")
    assert banner_shown(at)
    street = patrol.PRESETS["street-level"]
    assert at.radio(key="hs-preset").value == "street-level"
    assert at.number_input(key="hs-eps").value == street.eps_m
    assert at.number_input(key="hs-min").value == street.min_samples
    assert len(at.dataframe[0].value) == 5  # the top 5 by default

    def found() -> str:
        return [s.label for s in at.status if "patrol areas from" in s.label][0]

    def core(eps_m: float, min_samples: int) -> str:  # the status the page must show
        window = periods.window(the_demo.incidents["month"].max(), 12)
        res = clusters.dbscan(the_demo.incidents, eps_m, min_samples, category=["asb"],
                              period=f"{window[0]}..{window[-1]}")
        return (f"{len(res.areas)} patrol areas from {res.n_incidents:,} incidents "
                f"({res.n_noise:,} not in any area)")

    assert found() == core(street.eps_m, street.min_samples)
    at.number_input(key="hs-eps").set_value(30.0).run()
    assert not at.exception
    assert found() == core(30.0, street.min_samples) != core(street.eps_m, street.min_samples)
    at.radio(key="hs-preset").set_value("neighbourhood").run()
    assert not at.exception
    assert at.number_input(key="hs-eps").value == patrol.PRESETS["neighbourhood"].eps_m
    assert at.number_input(key="hs-min").value == patrol.PRESETS["neighbourhood"].min_samples


def test_hotspots_offers_eps_guidance_from_the_k_distance_curve(the_demo):
    from hotspot_app.core import eps_guide

    at = open_page("hotspots")
    last = the_demo.incidents["month"].max()
    window = periods.window(last, 12)

    def shown() -> str:
        texts = [m.value for m in at.markdown if "k-distance curve bends at about" in m.value]
        assert texts, "no eps guidance on the Hotspots page"
        return texts[0]

    for min_samples in (15, 5):
        at.number_input(key="hs-min").set_value(min_samples).run()
        assert not at.exception
        guide = eps_guide.suggest_eps(the_demo.incidents, min_samples, category=["asb"],
                                     period=f"{window[0]}..{window[-1]}")
        assert f"**{guide.eps_m:,.0f} m**" in shown()
        assert f"**{min_samples}** min samples" in shown()


def test_hotspots_grid_layers_and_pai(the_demo):
    from hotspot_app.core import forecast, hotspots, patrol

    at = open_page("hotspots")
    inc = the_demo.incidents
    test = periods.window(inc["month"].max(), 12)
    train = periods.shift(test, -12)
    street = patrol.PRESETS["street-level"]
    fc = forecast.forecast_accuracy(inc, train, test, method="clusters", category=["asb"],
                                    areas=the_demo.wards, eps_m=street.eps_m,
                                    min_samples=street.min_samples)
    assert any(f"**PAI = {fc['pai']:.1f}**" in m.value for m in at.markdown)
    area = hotspots.hotspot_grid(inc, settings.CELL_M, "gistar", "square", areas=the_demo.wards,
                                 category=["asb"], period=f"{test[0]}..{test[-1]}")
    n_hot = int((area["hotspot"] == "hot").sum())
    assert n_hot > 0  # the planted clusters are hot spots
    for method, label in (("count", "Counts per cell"), ("kde", "Kernel density (KDE)"),
                          ("gistar", "Gi* hot and cold spots (FDR-corrected)")):
        at.radio(key="hs-grid").set_value(method).run()
        assert not at.exception, (method, at.exception)
        # the layer's cells are offered for download under the method's name
        assert any(e.label.startswith(f"Grid cells ({label})") for e in at.expander), method
        if method == "count":  # the map's cells are the core's non-empty cells, with their counts
            core = hotspots.hotspot_grid(inc, settings.CELL_M, "count", "square", areas=the_demo.wards,
                                         category=["asb"], period=f"{test[0]}..{test[-1]}")
            counts = core.loc[core["count"] > 0, "count"]
            assert sorted(v for v, _ in grid_values(at)) == sorted(f"{int(c):,}" for c in counts)
        if method == "gistar":  # only significant cells are drawn; the hot ones are the core's
            assert sum(k == "hot" for _, k in grid_values(at)) == n_hot
    assert [c.value for c in at.caption if "hot-spot cells" in c.value] == [
        f"Gi* with queen neighbours on {len(area):,} cells; {n_hot} hot-spot cells at a 5% false "
        "discovery rate (Benjamini–Hochberg)."]


def test_before_after_recovers_the_planted_patrol_effect(the_demo):
    at = open_page("before_after")
    assert banner_shown(at)
    truth = the_demo.truth["patrol_effect"]["observed"]
    assert at.selectbox(key="ba-iv").value == "int-1"
    assert at.multiselect(key="ba-cat").value == ["asb"]
    # after = Jul-Dec 2023, before = the same months of 2022 (planted counts)
    assert metric(at, "After") == f"{truth['area']['2023-07..2023-12']:,}"
    expected = 100 * (truth["area"]["2023-07..2023-12"] - truth["area"]["2022-07..2022-12"]) \
        / truth["area"]["2022-07..2022-12"]
    assert metric(at, "Change on before") == formatting.fmt_pct(round(expected, 1))
    wdq_250 = metric(at, "WDQ")
    assert wdq_250 != "n/a"
    at.number_input(key="ba-buffer").set_value(0.0).run()
    assert not at.exception
    assert metric(at, "WDQ") == "n/a"  # no ring: displacement not assessed
    # the baseline: by default the same months two years earlier (Jul-Dec 2021), not another season
    at.number_input(key="ba-buffer").set_value(250.0).run()
    at.checkbox(key="ba-base-on").check().run()
    assert not at.exception, at.exception
    base = [s for s in at.select_slider if s.key.startswith("ba-baseline")][0]
    assert base.value == ("2021-07", "2021-12")
    from hotspot_app.questions import evaluation

    row = the_demo.interventions.iloc[0]
    expected = evaluation.evaluate(the_demo.incidents, row, areas=the_demo.areas,
                                   interventions=the_demo.interventions, after="2023-07..2023-12",
                                   baseline="2021-07..2021-12", category="asb", placebo=False).evaluation
    assert metric(at, "Change on baseline") == formatting.fmt_pct(expected.baseline_pct_change)
    # any area and dates: the last 6 months loaded, the first area offered (the picked
    # categories are kept when switching)
    at.radio(key="ba-mode").set_value("Area and dates").run()
    assert not at.exception
    months = sorted(the_demo.incidents["month"].unique())
    first = the_demo.areas.iloc[0]
    r = evaluation.evaluate(the_demo.incidents, str(first["area_id"]), areas=the_demo.areas,
                            after=months[-6:], category=at.multiselect(key="ba-cat").value,
                            placebo=False).evaluation
    assert metric(at, "After") == f"{r.after.count:,}"
    assert metric(at, "Change on before") == formatting.fmt_pct(r.pct_change)


def test_fires_totals_and_group_switch(the_demo):
    at = open_page("fires")
    assert banner_shown(at)
    inc = the_demo.incidents
    window = periods.window(inc["month"].max(), 12)
    for group in ("deliberate-fires", "deliberate-secondary-fires"):
        at.selectbox(key="fi-group").set_value(group).run()
        assert not at.exception
        expected = int((taxonomy.select(inc, group) & inc["month"].isin(window)).sum())
        assert metric(at, "") == f"{expected:,}"
    assert at.number_input(key="fi-eps").value == 150.0


def test_area_table_total_matches_counts_and_month_changes_it(the_demo):
    at = open_page("area_tables")
    assert banner_shown(at)
    inc = the_demo.incidents
    month = inc["month"].max()
    table = at.dataframe[0].value
    total = table[table["Crime"].str.strip() == "Total"]
    expected = int((inc["kind"].eq("crime") & inc["month"].eq(month)).sum())
    assert total["Selected month: Current"].iloc[0] == f"{expected:,}"
    at.selectbox(key="tb-month").set_value(periods.add_months(month, -1)).run()
    assert not at.exception
    assert not at.dataframe[0].value.equals(table)
    at.selectbox(key="tb-kind").set_value("asb").run()
    assert not at.exception


POLICE_CSV = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
    "abc1,2024-01,Cleveland Police,Cleveland Police,-1.2345,54.5678,On or near High Street,E01,X,"
    "Shoplifting,Under investigation,\n"
    ",2024-01,Cleveland Police,Cleveland Police,-1.2350,54.5680,On or near Park Road,E01,X,"
    "Anti-social behaviour,,\n"
    "abc3,2024-02,Cleveland Police,Cleveland Police,,,No Location,,,Burglary,Under investigation,\n"
)


def test_data_page_upload_summary_rejects_and_switch(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "WORKSPACE", tmp_path / "workspace.gpkg")
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    at = open_page("data")
    assert banner_shown(at)
    assert metric(at, "Incidents") == f"{len(demo.load().incidents):,}"
    at.file_uploader(key="dt-inc-files").set_value(
        [("2024-01-test-street.csv", POLICE_CSV.encode(), "text/csv")]).run()
    assert not at.exception, at.exception
    assert metric(at, "Rows read") == "3"
    assert metric(at, "Loaded") == "2"
    assert metric(at, "Rejected") == "1"
    assert at.get("download_button") and any(b.label == "Download rejected rows (CSV)"
                                             for b in at.get("download_button"))
    wards = gpd.GeoDataFrame({"WD24NM": ["High ward", "Park ward"]},
                             geometry=[shapely.box(-1.24, 54.56, -1.234, 54.57),
                                       shapely.box(-1.234, 54.56, -1.22, 54.57)], crs="EPSG:4326")
    at.file_uploader(key="dt-bnd-file").set_value(("wards.geojson", wards.to_json().encode(),
                                                    "application/geo+json")).run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("2 areas read from wards.geojson") for s in at.success)
    at.button(key="dt-save").click().run()
    assert not at.exception, at.exception
    assert (tmp_path / "workspace.gpkg").is_file()
    assert not banner_shown(at)
    assert metric(at, "Incidents") == "2"
    assert metric(at, "Wards / areas") == "2 / 2"
    # the other pages run on the uploaded data (no wards loaded)
    for page in ("overview", "hotspots", "area_tables"):
        at.switch_page(f"hotspot_app/ui/pages/{page}.py").run()
        assert not at.exception, (page, at.exception)


def test_drawn_micro_hotspot_is_saved_with_dates_and_evaluated(tmp_path, monkeypatch, the_demo):
    """The Data page's save step: drawn on the demo, the polygon starts a new, EMPTY workspace
    (the demo's synthetic rows never leave it, issue 22); drawn on a workspace holding data, it is
    stored as a micro-hotspot area and an intervention, and Before/after evaluates it."""
    import shapely

    from hotspot_app.io import workspace
    from hotspot_app.ui import cache, source

    planted = the_demo.micro_hotspots.iloc[0]
    polygon = planted.geometry  # "drawn" exactly over the planted patrol area
    fresh = tmp_path / "fresh.gpkg"
    cache.add_drawn_intervention(cache.DEMO, fresh, polygon, "Drawn on the demo", "patrols",
                                 "2023-07-01", "2023-12-31", None)
    ws = workspace.GeopackageWorkspace(fresh)
    assert ws.coverage().empty and ws.area_layers() == ["micro_hotspot"]
    assert ws.interventions()["name"].tolist() == ["Drawn on the demo"]

    target = tmp_path / "workspace.gpkg"
    workspace.GeopackageWorkspace(target).write(
        incidents=the_demo.incidents, interventions=the_demo.interventions,
        areas=[the_demo.wards, the_demo.town_centres, the_demo.micro_hotspots])
    key = cache.add_drawn_intervention(source.workspace_key(target), target, polygon, "Drawn precinct <b>",
                                       "patrols", "2023-07-01", "2023-12-31", "drawn in a test")
    ws = workspace.GeopackageWorkspace(target)
    assert len(ws.incidents()) == len(the_demo.incidents)
    hot = ws.areas("micro_hotspot")
    assert len(hot) == len(the_demo.micro_hotspots) + 1
    assert hot["name"].iloc[-1] == "Drawn precinct <b>"
    assert shapely.equals_exact(hot.geometry.iloc[-1], polygon, 1e-6)
    iv = ws.interventions()
    assert len(iv) == len(the_demo.interventions) + 1
    new = iv.iloc[-1]
    assert (new["name"], new["type"]) == ("Drawn precinct <b>", "patrols")
    assert pd.Timestamp(new["start"]) == pd.Timestamp("2023-07-01")
    assert pd.Timestamp(new["end"]) == pd.Timestamp("2023-12-31")

    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["source"] = key
    at.run()
    at.switch_page("hotspot_app/ui/pages/before_after.py").run()
    assert not at.exception, at.exception
    assert not banner_shown(at)  # a workspace, not the demo
    at.selectbox(key="ba-iv").set_value(str(new["intervention_id"])).run()
    assert not at.exception, at.exception
    truth = the_demo.truth["patrol_effect"]["observed"]["area"]
    assert metric(at, "After") == f"{truth['2023-07..2023-12']:,}"


@pytest.mark.realdata
def test_real_cleveland_upload_gives_real_clusters_and_tables(realdata, tmp_path, monkeypatch):
    """Done-when of issue 6: upload the police.uk Cleveland 2024 files and the May 2024 wards on
    the Data page, then see real clusters and tables."""
    files = sorted((realdata / "police_cleveland").glob("2024-*-cleveland-street.csv"))
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if len(files) < 12 or not wards.exists():
        pytest.skip("Cleveland 2024 files or May 2024 wards missing from ../shared/realdata")
    monkeypatch.setattr(settings, "WORKSPACE", tmp_path / "workspace.gpkg")
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    rows = sum(max(0, len(f.read_text(encoding="utf-8-sig").splitlines()) - 1) for f in files)

    at = open_page("data")
    at.file_uploader(key="dt-inc-files").set_value([(f.name, f.read_bytes(), "text/csv") for f in files]).run()
    assert not at.exception, at.exception
    read = int(metric(at, "Rows read").replace(",", ""))
    loaded = int(metric(at, "Loaded").replace(",", ""))
    rejected = int(metric(at, "Rejected").replace(",", ""))
    assert read == rows and read == loaded + rejected
    at.file_uploader(key="dt-bnd-file").set_value((wards.name, wards.read_bytes(), "application/geo+json")).run()
    assert not at.exception, at.exception
    assert any("areas read from" in s.value for s in at.success)
    at.button(key="dt-save").click().run()
    assert not at.exception, at.exception
    assert metric(at, "Incidents") == f"{loaded:,}"
    assert metric(at, "Wards / areas").startswith("83 /")

    at.switch_page("hotspot_app/ui/pages/hotspots.py").run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) >= 5  # real ASB patrol areas in Cleveland
    at.switch_page("hotspot_app/ui/pages/area_tables.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert (table["Crime"].str.strip() == "Total").any()


def test_data_page_offers_the_users_own_boundaries_in_geodata(tmp_path, monkeypatch):
    """A ward file dropped into geodata/ is offered on the Data page (chosen already while the
    workspace has no areas); one click adds it. The demo's own boundary folder is not offered."""
    geo = tmp_path / "geodata"
    (geo / "demo").mkdir(parents=True)
    wards = gpd.GeoDataFrame({"WD24NM": ["High ward", "Park ward"]},
                             geometry=[shapely.box(-1.24, 54.56, -1.234, 54.57),
                                       shapely.box(-1.234, 54.56, -1.22, 54.57)], crs="EPSG:4326")
    wards.to_file(geo / "wards_2024.geojson", driver="GeoJSON")
    wards.to_file(geo / "demo" / "wards.geojson", driver="GeoJSON")
    monkeypatch.setattr(settings, "GEODATA_DIR", geo)
    monkeypatch.setattr(settings, "DEMO_GEODATA_DIR", geo / "demo")
    monkeypatch.setattr(settings, "WORKSPACE", tmp_path / "workspace.gpkg")
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    at = open_page("data")
    pick = at.selectbox(key="dt-geodata")
    assert [str(o) for o in pick.options] == ["(none)", "wards_2024.geojson"]
    assert any(s.value.startswith("2 areas read from wards_2024.geojson") for s in at.success)
    at.button(key="dt-save").click().run()
    assert not at.exception, at.exception
    assert metric(at, "Wards / areas") == "2 / 2"
    # once the workspace has areas, nothing is read unless asked
    at = open_page("data")
    assert at.selectbox(key="dt-geodata").value == "(none)"
    assert not any("areas read from" in s.value for s in at.success)
