"""A place chosen on every page (issue 21 item 1): Overview and Fires take the same authority /
ward picker as Hotspots and Patrol plan (`common.place_picker`), and then show only that place:
its wards on the map and in the tables, its incidents in the counts. On the demo borough with an
authority column planted (seven wards labelled Hartlepool), and on the real Cleveland files
(LAD24NM=Hartlepool)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hotspot_app.core import areas, periods, settings, taxonomy
from hotspot_app.io import demo, workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
#: The demo wards labelled Hartlepool (the other 13 "Redcar and Cleveland").
HARTLEPOOL = ["Aldwyke Central", "Brackenfold", "Brannock Hill", "Colliston Rise", "Corvin Park",
              "Dunmere Vale", "Elderwick"]


@pytest.fixture(scope="module")
def demo_with_authority(tmp_path_factory):
    """The demo's incidents and wards in a workspace, the wards with a LAD24NM column."""
    d = demo.load()
    folder = tmp_path_factory.mktemp("places")
    ws = workspace.GeopackageWorkspace(folder / "demo.gpkg")
    ws.write_incidents(d.incidents)
    wards = d.wards.copy()
    wards["LAD24NM"] = ["Hartlepool" if n in HARTLEPOOL else "Redcar and Cleveland" for n in wards["name"]]
    ws.write_areas(wards)
    wards.to_file(folder / "wards.geojson", driver="GeoJSON", engine="pyogrio")
    return folder / "demo.gpkg", d.incidents, wards


def open_page(page: str, gpkg: Path, monkeypatch) -> AppTest:
    monkeypatch.setattr(settings, "WORKSPACE_ENV", str(gpkg))
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    if page != "overview":
        at.switch_page(f"hotspot_app/ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def map_ward_names(at: AppTest) -> set[str]:
    """The names of the wards drawn as the choropleth of the page's first map."""
    script = json.loads(at.get("component_instance")[0].proto.json_args)["script"]
    return {html.unescape(json.loads(p)["_name"]) for p in re.findall(r'"properties": (\{[^{}]*"_value"[^{}]*\})', script)}


def table_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def pick(at: AppTest, key: str, authority: str) -> None:
    assert at.selectbox(key=f"{key}-la").options[0] == "All authorities"
    at.selectbox(key=f"{key}-la").set_value(authority).run()
    assert not at.exception, at.exception


def test_overview_shows_only_the_chosen_authority(demo_with_authority, monkeypatch):
    gpkg, inc, wards = demo_with_authority
    at = open_page("overview", gpkg, monkeypatch)
    assert len(map_ward_names(at)) == 20
    pick(at, "ov-place", "Hartlepool")
    window = periods.window(inc["month"].max(), 12)
    inside = areas.area_mask(inc, wards[wards["LAD24NM"] == "Hartlepool"])
    crime = taxonomy.select(inc, "crime") & inc["month"].isin(window)
    # the map and the ward table: the seven Hartlepool wards, nothing else (no other ward, and the
    # table's "outside" row holds none of the place's incidents)
    assert map_ward_names(at) == set(HARTLEPOOL)
    table = table_with(at, "Area")
    assert sorted(table["Area"][table["Rank"] != ""]) == HARTLEPOOL
    assert int(table["Count"][table["Rank"] != ""].str.replace(",", "").astype(int).sum()) == \
        int((crime & inside).sum()) == 6_783
    # the counts and the summary are the place's: 6,783 of the borough's 14,613 crimes
    assert int(crime.sum()) == 14_613
    assert any(c.value.startswith("6,783 incidents selected in Hartlepool at") for c in at.caption)
    assert at.selectbox(key="ov-area").options[0] == "All of Hartlepool"
    assert [m.value for m in at.metric if m.label.startswith("Crimes")] == ["6,783"]
    # the area list holds the place's wards only; the choice stays in the address
    assert sorted(at.selectbox(key="ov-area").options[1:]) == HARTLEPOOL
    assert at.query_params["ov-place-la"] == "Hartlepool"
    # a ward of the place, by name
    at.multiselect(key="ov-place-wards").set_value(["Brackenfold", "Elderwick"]).run()
    assert not at.exception, at.exception
    assert map_ward_names(at) == {"Brackenfold", "Elderwick"}


def test_fires_shows_only_the_chosen_authority(demo_with_authority, monkeypatch):
    gpkg, inc, wards = demo_with_authority
    at = open_page("fires", gpkg, monkeypatch)
    whole = [m.value for m in at.metric][0]
    pick(at, "fi-place", "Hartlepool")
    window = periods.window(inc["month"].max(), 12)
    inside = areas.area_mask(inc, wards[wards["LAD24NM"] == "Hartlepool"])
    fires = taxonomy.select(inc, "deliberate-fires") & inc["month"].isin(window)
    assert (whole, int(fires.sum()), int((fires & inside).sum())) == ("688", 688, 216)
    assert [(m.label, m.value) for m in at.metric] == [("Deliberate fires in Hartlepool, 12 months", "216")]
    assert map_ward_names(at) == set(HARTLEPOOL)
    by_ward = table_with(at, "Area")
    assert sorted(by_ward["Area"][by_ward["Rank"] != ""]) == HARTLEPOOL
    ward_month = table_with(at, "ward")
    assert sorted(set(ward_month["ward"]) - {"Total"}) <= HARTLEPOOL
    assert int(ward_month.loc[ward_month["ward"] == "Total", "Total"].iloc[0]) == 216
    # every secondary-fire cluster listed lies in the place
    clusters = table_with(at, "area_name")
    assert list(zip(clusters["area_name"], clusters["count"])) == [
        ("Aldwyke Central ward", 7), ("Aldwyke Central ward", 5), ("Elderwick ward", 5)]
    assert at.query_params["fi-place-la"] == "Hartlepool"


@pytest.mark.realdata
def test_overview_on_cleveland_shows_the_hartlepool_wards(realdata, tmp_path, monkeypatch):
    """The real files (2024): LAD24NM=Hartlepool leaves its 12 wards of the force's 83, and its
    13,282 of the force's 73,582 crimes."""
    from hotspot_app.io import ingest

    files = sorted((realdata / "police_cleveland").glob("2024-*-cleveland-street.csv"))
    ward_file = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if len(files) < 12 or not ward_file.exists():
        pytest.skip("Cleveland 2024 files or May 2024 wards missing from ../shared/realdata")
    ws = workspace.GeopackageWorkspace(tmp_path / "cleveland.gpkg")
    ws.write_incidents(ingest.read_incidents(files, kind="police-uk").incidents)
    ws.write_areas(ingest.read_boundaries(ward_file, layer="ward").areas)
    at = open_page("overview", tmp_path / "cleveland.gpkg", monkeypatch)
    assert len(map_ward_names(at)) == 83
    assert any(c.value.startswith("73,582 incidents selected at") for c in at.caption)
    pick(at, "ov-place", "Hartlepool")
    names = ["Burn Valley", "De Bruce", "Fens & Greatham", "Foggy Furze", "Hart", "Headland & Harbour",
             "Manor House", "Rossmere", "Rural West", "Seaton", "Throston", "Victoria"]
    assert map_ward_names(at) == set(names)
    table = table_with(at, "Area")
    assert sorted(table["Area"][table["Rank"] != ""]) == names
    assert any(c.value.startswith("13,282 incidents selected in Hartlepool at") for c in at.caption)
    assert [m.value for m in at.metric if m.label.startswith("Crimes")] == ["13,282"]


def test_pack_patrol_map_within_agrees_with_the_cli_and_the_page(demo_with_authority, monkeypatch):
    """The pack's patrol map takes `within` like its other sections: the same Hartlepool areas as
    `hotspot clusters --within LAD24NM=Hartlepool` and the Hotspots page with Hartlepool chosen."""
    from typer.testing import CliRunner

    from hotspot_app.cli import app as cli_app
    from hotspot_app.render import pack as report_pack

    gpkg, inc, wards = demo_with_authority
    last = inc["month"].max()
    frm, to = periods.window(last, 12)[0], last
    res = CliRunner().invoke(cli_app, ["clusters", str(gpkg), "--category", "asb", "--from", frm, "--to", to,
                                       "--areas", str(gpkg.parent / "wards.geojson"), "--top", "5",
                                       "--within", "LAD24NM=Hartlepool", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    expected = [(c["rank"], c["name"], c["count"]) for c in doc["clusters"]]
    # four patrol areas (the default street-level preset) lie in the Hartlepool wards, named with
    # the authority (the wards span two)
    assert expected == [(1, "On or near Market Place — Aldwyke Central ward, Hartlepool", 61),
                        (2, "On or near Bridge Street — Aldwyke Central ward, Hartlepool", 49),
                        (3, "On or near Supermarket — Aldwyke Central ward, Hartlepool", 30),
                        (4, "On or near Bus Station — Aldwyke Central ward, Hartlepool", 29)]
    spec = {"title": "Hartlepool patrol areas", "data": gpkg.name, "areas": {"wards": "wards.geojson"},
            "sections": [{"map": {"type": "patrol", "areas": "wards", "category": ["asb"], "from": frm, "to": to,
                                  "top": 5, "within": "LAD24NM=Hartlepool"}}]}
    built = report_pack.build(report_pack.parse_spec(spec, base=gpkg.parent, source="test"))
    section = next(s for s in built.sections if s.kind == "map")
    assert section.title.startswith("Patrol areas in Hartlepool: ")
    assert [(c["rank"], c["name"], c["count"]) for c in section.document["clusters"]] == expected
    assert section.document["parameters"]["within"] == "LAD24NM=Hartlepool"
    # the Hotspots page, Hartlepool chosen: the same four
    at = open_page("hotspots", gpkg, monkeypatch)
    pick(at, "hs-place", "Hartlepool")
    shown = at.dataframe[0].value
    assert list(zip(shown["rank"], shown["name"], shown["count"])) == expected


def test_a_place_without_fires_in_a_month_counts_0_not_blank(demo_with_authority):
    """The fire data cover a month when the fire service has rows anywhere that month: a place with
    none of them that month has 0 fires (not 'not covered')."""
    from hotspot_app.questions import fires

    _, inc, wards = demo_with_authority
    months = periods.window(inc["month"].max(), 12)
    inside = areas.area_mask(inc, wards[wards["LAD24NM"] == "Hartlepool"])
    quiet = inc[~(inside & inc["kind"].eq("fire") & inc["month"].eq(months[0]))]  # no Hartlepool fire that month
    summary = fires.fire_summary(quiet, wards, category="deliberate-fires", months=months,
                                 within="LAD24NM=Hartlepool")
    total = summary.ward_month.set_index("ward").loc["Total"]
    assert total[months[0]] == 0 and summary.warnings == []
    assert set(summary.ward_month["ward"]) - {"Total"} <= set(HARTLEPOOL)
    assert summary.total == int((taxonomy.select(quiet, "deliberate-fires") & quiet["month"].isin(months)
                                 & areas.area_mask(quiet, wards[wards["LAD24NM"] == "Hartlepool"])).sum())
    season = fires.seasonal(quiet, wards, category="deliberate-fires", months=months, within="LAD24NM=Hartlepool")
    assert not any("do not cover" in w for w in season.warnings)
