"""The contract a newcomer reads first: ONE question, ONE answer (docs/design.md §2 "Decisions and
their homes").

A partnership asks the tool a handful of questions. Each is answered by one function of
`hotspot_app.questions`; the `hotspot` CLI, the report pack (its XLSX sheets and its HTML) and the
app's pages (Streamlit AppTest) only format that answer. Here, for each question, the faces are
asked the same thing and must give the same numbers -- on the synthetic demo borough and, when
``../shared/realdata`` is present, on the real police.uk Cleveland files (``realdata`` marker).

The first cases are the disagreements found in issue 18:

* patrol-area defaults: `hotspot clusters` demanded --eps-m/--min-samples, the pack used
  100 m / 15, the app the street-level preset (75 m / 25) -> every face uses the app's preset and
  names it;
* the Reports page's patrol map differed from the Hotspots page's;
* boundary kind: the CLI read a ward file as wards, the pack as custom areas ("the Thistlebeck
  area" against "the Thistlebeck ward area");
* the table engine was chosen in the CLI and again in the pack.

How to read a case: ``cli_*`` asks the CLI (its JSON), ``pack_*`` builds a report pack from a spec
with the same arguments (its XLSX workbook and its HTML), ``page`` opens an app page on the same
data; the assertion is equality of the figures the user reads.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from hotspot_app.cli import app as cli_app
from hotspot_app.core import patrol, periods, settings
from hotspot_app.render import formatting
from hotspot_app.render import pack as report_pack

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
runner = CliRunner()

#: The demo's months are 2021-01..2024-03; the app's default period is the last 12 months.
DEMO_FROM, DEMO_TO = "2023-04", "2024-03"


# =========================================================================== the three faces
def cli(*args) -> dict:
    """The CLI's JSON for `args` (``--format json`` added)."""
    res = runner.invoke(cli_app, [str(a) for a in args] + ["--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def pack(spec: dict, base: Path) -> tuple[report_pack.Pack, bytes, str]:
    """The pack of a spec (paths relative to `base`): (pack, XLSX bytes, HTML text)."""
    built = report_pack.build(report_pack.parse_spec(spec, base=base, source="agreement"))
    return built, report_pack.render_xlsx(built), report_pack.render_html(built)


def page(name: str, workspace: Path | None = None, monkeypatch=None) -> AppTest:
    """An app page, on the demo or on `workspace` (as HOTSPOT_WORKSPACE would open it)."""
    if workspace is not None:
        monkeypatch.setattr(settings, "WORKSPACE_ENV", str(workspace))
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(f"hotspot_app/ui/pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def xlsx_rows(data: bytes, sheet: str, first: str) -> list[dict]:
    """The rows of a pack sheet under its header row (the row whose first cell is `first`)."""
    ws = openpyxl.load_workbook(io.BytesIO(data))[sheet]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r and r[0] == first)
    out = []
    for r in rows[at + 1:]:
        if r[0] is None:
            break
        out.append(dict(zip(rows[at], r)))
    return out


class _Tables(HTMLParser):
    """Every <table> of an HTML page as rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_tables(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def html_text(html: str) -> str:
    return " ".join(html.replace("&#39;", "'").replace("&amp;", "&").split())


def areas_of(doc: dict) -> list[tuple]:
    """(rank, name, incidents, m²) of the patrol areas of a `hotspot clusters` document."""
    return [(c["rank"], c["name"], c["count"], round(c["area_m2"])) for c in doc["clusters"]]


# =========================================================================== data
@pytest.fixture(scope="module")
def demo_files(demo):
    """The demo borough's files, as a partnership would have them on disk."""
    d = demo.dir
    return {"dir": d, "ws": d / "workspace.gpkg", "wards": d / "wards.geojson",
            "town_centres": d / "town_centres.geojson"}


@pytest.fixture(scope="module")
def cleveland(realdata, tmp_path_factory):
    """Cleveland police.uk street records 2023-01..2024-12 and the May 2024 wards in a workspace
    GeoPackage (the app opens it; the CLI and the pack read it too), and the wards file."""
    from hotspot_app.io import ingest, workspace

    files = sorted((realdata / "police_cleveland").glob("202[34]-*-cleveland-street.csv"))
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if len(files) < 24 or not wards.exists():
        pytest.skip("Cleveland 2023-2024 files or May 2024 wards missing from ../shared/realdata")
    folder = tmp_path_factory.mktemp("cleveland")
    ws = workspace.GeopackageWorkspace(folder / "cleveland.gpkg")
    ws.write_incidents(ingest.read_incidents(files, kind="police-uk").incidents)
    ws.write_areas(ingest.read_boundaries(wards, layer="ward").areas)
    return {"dir": folder, "ws": folder / "cleveland.gpkg", "wards": wards, "from": "2024-01", "to": "2024-12"}


# =========================================================================== patrol areas
def _patrol_spec(files: dict, frm: str, to: str) -> dict:
    return {"title": "Patrol areas", "data": files["ws"].name,
            "areas": {"wards": str(files["wards"])},  # no layer named: the file's name says wards
            "sections": [{"map": {"type": "patrol", "areas": "wards", "category": ["asb"],
                                  "from": frm, "to": to}}]}


def _patrol_areas_agree(files: dict, frm: str, to: str, at: AppTest) -> list[tuple]:
    # the CLI with no DBSCAN parameter: the app's default preset, named
    doc = cli("clusters", files["ws"], "--category", "asb", "--from", frm, "--to", to,
              "--areas", files["wards"], "--top", 5)
    assert (doc["preset"], doc["eps_m"], doc["min_samples"]) == (patrol.DEFAULT_PRESET, 75.0, 25)
    expected = areas_of(doc)
    assert len(expected) == 5
    # the pack (the paper shows the top 10, the page the top 5: the same first five): its document,
    # its XLSX sheet, its HTML table (place and ward, as the CLI names them) and its sentence
    built, xlsx, html = pack(_patrol_spec(files, frm, to), files["dir"])
    section = next(s for s in built.sections if s.kind == "map")
    assert areas_of(section.document)[:5] == expected
    sheet = xlsx_rows(xlsx, "Patrol areas", "Rank")
    named = [(r["Rank"], f"{r['Place']} — {r['Ward']}" if r.get("Ward") else r["Place"], r["Incidents"],
              round(r["Area (ha)"] * 10_000)) for r in sheet]
    assert [(a, n, c) for a, n, c, _ in named[:5]] == [(a, n, c) for a, n, c, _ in expected]
    assert all(abs(m - e[3]) <= 50 for (_, _, _, m), e in zip(named, expected))  # ha to 2 decimals
    table = next(t for t in html_tables(html) if t[0][:2] == ["Rank", "Place"])
    assert [r[0] for r in table[1:]] == [str(a) for a, _, _, _ in named]
    assert "street-level preset: incidents within 75 m, at least 25 of them" in html_text(html)
    # the app's Hotspots page, as it opens: ASB, the last 12 months, the default preset, top 5
    shown = at.dataframe[0].value
    assert list(zip(shown["rank"], shown["name"], shown["count"], shown["area_m2"])) == expected
    five = _patrol_spec(files, frm, to)
    five["sections"][0]["map"]["top"] = 5  # the page's five, asked of the paper
    sentence = next(s for s in pack(five, files["dir"])[0].sections if s.kind == "map").blocks[0]
    assert any(sentence in m.value for m in at.markdown), sentence
    return expected


def test_default_patrol_areas_agree_on_the_demo(demo_files):
    """The issue's first disagreement: `hotspot clusters` without parameters, the pack's patrol map
    without eps_m/min_samples and the Hotspots page as it opens give the same five areas."""
    at = page("hotspots")
    _patrol_areas_agree(demo_files, DEMO_FROM, DEMO_TO, at)


@pytest.mark.realdata
def test_default_patrol_areas_agree_on_cleveland(cleveland, monkeypatch):
    at = page("hotspots", cleveland["ws"], monkeypatch)
    expected = _patrol_areas_agree(cleveland, cleveland["from"], cleveland["to"], at)
    # named with the ward and, the wards spanning four authorities, the authority (issue 21)
    assert all(n.startswith("On or near ") and re.search(r" ward, [A-Z]", n) for _, n, _, _ in expected)


def test_reports_page_patrol_map_is_the_hotspots_page(demo_files):
    """The Reports page's pack and the Hotspots page show the same patrol areas for the same
    choices (ASB, the 12 months to the last month, the default preset, the top 5)."""
    hotspots = page("hotspots").dataframe[0].value
    at = page("reports")
    at.multiselect(key="rp-sections").set_value(["patrol"]).run()
    at.button(key="rp-build").click().run()
    assert not at.exception, at.exception
    sheet = xlsx_rows(at.session_state["rp-pack"]["xlsx"], "Patrol areas", "Rank")
    named = [(r["Rank"], f"{r['Place']} — {r['Ward']}" if r.get("Ward") else r["Place"], r["Incidents"])
             for r in sheet]
    assert named[:5] == list(zip(hotspots["rank"], hotspots["name"], hotspots["count"]))
    assert len(sheet) == min(10, len(named))  # the paper's ten


def test_demo_paper_note_agrees_with_its_map(demo_files):
    """The demo paper's note named 100 m / 15 beside a 75 m / 25 map: now both say street-level."""
    spec = report_pack.demo_spec(demo_files["dir"])
    built = report_pack.build(spec)
    patrol_map = next(s for s in built.sections if s.kind == "map" and s.document)
    notes = " ".join(b for s in built.sections if s.kind == "text" for blk in s.blocks
                     for b in (blk[1] if isinstance(blk, tuple) else [blk]))
    assert patrol_map.document["preset"] == "street-level"
    assert "street-level preset" in patrol_map.blocks[0] and "street-level preset" in notes
    assert "75 m, at least 25" in notes and "100 m" not in notes


def test_patrol_plan_agrees_with_the_patrol_plan_page(demo_files):
    """`hotspot patrol-plan` and the Patrol plan page (opened first, so with its defaults) plan
    the same areas with the same days, visits and minutes."""
    at = page("patrol_plan")
    start = at.date_input(key="pp-start").value.isoformat()
    doc = cli("patrol-plan", demo_files["ws"], "--category", "asb", "--from", DEMO_FROM, "--to", DEMO_TO,
              "--areas", demo_files["wards"], "--start", start)
    assert doc["parameters"]["preset"] == "street-level"
    shown = at.dataframe[0].value
    assert shown[["rank", "area", "patrol_days", "comparison_days", "planned_visits", "planned_minutes"]
                 ].values.tolist() == [[a["rank"], a["name"], a["patrol_days"], a["comparison_days"],
                                        a["planned_visits"], a["planned_minutes"]] for a in doc["areas"]]


# =========================================================================== boundary kind
def _summary_agrees(files: dict, area: str, to: str, at: AppTest | None) -> str:
    doc = cli("summary", files["ws"], "--areas", files["wards"], "--area", area, "--to", to)
    built, xlsx, html = pack({"title": "Summary", "data": files["ws"].name,
                              "areas": {"wards": str(files["wards"])},
                              "sections": [{"summary": {"areas": "wards", "area": area, "to": to}}]},
                             files["dir"])
    section = next(s for s in built.sections if s.kind == "summary")
    assert section.document == doc
    assert doc["text"] in html_text(html)
    assert doc["text"] in [r["Text"] for r in xlsx_rows(xlsx, "Summary", "Section")]
    if at is not None:
        assert any(m.value == f"> {doc['text']}" for m in at.markdown), [m.value for m in at.markdown]
    return doc["text"]


def test_boundary_kind_agrees_on_the_demo(demo_files, demo):
    """A ward file is wards for the CLI and the pack alike ("the Thistlebeck ward area"), as on
    the Overview page."""
    at = page("overview")
    ward = demo.wards[demo.wards["name"] == "Thistlebeck"].iloc[0]
    at.selectbox(key="ov-area").set_value(str(ward["area_id"])).run()
    text = _summary_agrees(demo_files, "Thistlebeck", DEMO_TO, at)
    assert "recorded in the Thistlebeck ward area" in text


@pytest.mark.realdata
def test_boundary_kind_agrees_on_cleveland(cleveland, monkeypatch):
    from hotspot_app.io import workspace

    at = page("overview", cleveland["ws"], monkeypatch)
    wards = workspace.GeopackageWorkspace(cleveland["ws"]).areas()
    hemlington = str(wards.loc[wards["name"] == "Hemlington", "area_id"].iloc[0])
    at.selectbox(key="ov-area").set_value(hemlington).run()
    text = _summary_agrees(cleveland, "Hemlington", cleveland["to"], at)
    assert "recorded in the Hemlington ward area" in text


# =========================================================================== the table engine
def _one_area_table_agrees(files: dict, areas: Path, area: str, month: str) -> dict:
    """The month / 6 / 12 months table of one area: the CLI's §5 JSON is the pack's document, its
    XLSX numbers and its HTML cells."""
    doc = cli("table", files["ws"], "--areas", areas, "--area", area, "--month", month)
    built, xlsx, html = pack({"title": "Table", "data": files["ws"].name, "areas": {"a": str(areas)},
                              "sections": [{"table": {"areas": "a", "area": area, "month": month}}]},
                             files["dir"])
    table = built.tables[0]
    assert table.document == doc
    total = doc["rows"][-1]
    assert total["category"] == "Total"
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))[built.tables[0].sheet.name]
    xrow = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Total")
    w = total["last_12_months"]
    assert list(xrow[-4:-1]) == [w["current"], w["previous"], w["diff"]]
    hrow = next(r for t in html_tables(html) for r in t if r and r[0] == "Total")
    assert hrow[-4:] == [formatting.fmt_int(w["current"]), formatting.fmt_int(w["previous"]),
                         formatting.fmt_int(w["diff"], signed=True), formatting.fmt_pct(w["pct_diff"])]
    return doc


def test_one_area_table_agrees_on_the_demo(demo_files, demo):
    doc = _one_area_table_agrees(demo_files, demo_files["town_centres"], "Aldwyke Town Centre", DEMO_TO)
    # the Area tables page's town-centre table for the same area and month
    at = page("area_tables")
    centre = demo.town_centres[demo.town_centres["name"] == "Aldwyke Town Centre"].iloc[0]
    at.selectbox(key="tb-area").set_value(str(centre["area_id"])).run()
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    total = shown[shown.iloc[:, 0].astype(str).str.strip().str.strip("*") == "Total"].iloc[0]
    w = doc["rows"][-1]["last_12_months"]
    assert total["Last 12 months: Current"] == formatting.fmt_int(w["current"])
    assert total["Last 12 months: % Diff"] == formatting.fmt_pct(w["pct_diff"])


def _engine_table_agrees(files: dict, args: list, section: dict) -> dict:
    doc = cli("table", files["ws"], "--areas", files["wards"], *args)
    built, xlsx, html = pack({"title": "Table", "data": files["ws"].name,
                              "areas": {"wards": str(files["wards"])},
                              "sections": [{"table": {"areas": "wards", **section}}]}, files["dir"])
    assert built.tables[0].document == doc
    first = doc["columns"][0]["id"]
    total = next(r for r in doc["rows"] if r["category"] == "Total")
    hrow = next(r for t in html_tables(html) for r in t if r and r[0] == "Total")
    assert hrow[1] == formatting.fmt_int(total["cells"][first]["current"])
    return doc


def test_engine_table_agrees_on_the_demo(demo_files):
    """Every other form is the table engine's §5b document, in the CLI, the pack and the page
    (each ward, the 12 months to the last month: the Area tables page's 'Categories by area')."""
    span = f"{DEMO_FROM}..{DEMO_TO}"
    doc = _engine_table_agrees(demo_files, ["--by", "name", "--within", "layer=ward", "--period", span],
                               {"by": "name", "within": "layer=ward", "period": span})
    at = page("area_tables")
    at.selectbox(key="tb-preset").set_value("areas").run()
    assert not at.exception, at.exception
    assert at.dataframe[0].value.equals(formatting.display_frame(doc, previous=False))


@pytest.mark.realdata
def test_tables_agree_on_cleveland(cleveland, monkeypatch):
    _one_area_table_agrees(cleveland, cleveland["wards"], "Stockton Town Centre", cleveland["to"])
    span = f"{cleveland['from']}..{cleveland['to']}"
    doc = _engine_table_agrees(cleveland, ["--by", "LAD24NM", "--period", span],
                               {"by": "LAD24NM", "period": span})
    assert [c["id"] for c in doc["columns"]] == ["Hartlepool", "Middlesbrough", "Redcar and Cleveland",
                                                 "Stockton-on-Tees", "Total"]
    at = page("area_tables", cleveland["ws"], monkeypatch)
    at.selectbox(key="tb-preset").set_value("areas").run()
    at.selectbox(key="tb-group").set_value("by:LAD24NM").run()
    assert not at.exception, at.exception
    page_doc = cli("table", cleveland["ws"], "--areas", cleveland["ws"], "--by", "LAD24NM",
                   "--within", "layer=ward", "--period", span)
    assert at.dataframe[0].value.equals(formatting.display_frame(page_doc, previous=False))
    assert formatting.display_frame(page_doc, previous=False).equals(formatting.display_frame(doc, previous=False))
    # the papers' sentences of the same table, under it on the page (issue 20)
    assert page_doc["sentences"] and any(all(x in m.value for x in page_doc["sentences"]) for m in at.markdown)


# =========================================================================== rank and concentration
def test_concentration_agrees_on_the_demo(demo_files):
    """`hotspot rank`'s top-3 sentence (its "sentences", with the counts and "n of N") is the
    pack's concentration sentence and the Overview's."""
    doc = cli("rank", demo_files["ws"], "--areas", demo_files["wards"], "--category", "asb",
              "--from", DEMO_FROM, "--to", DEMO_TO)
    built, xlsx, html = pack({"title": "Concentration", "data": demo_files["ws"].name,
                              "areas": {"wards": str(demo_files["wards"])},
                              "sections": [{"concentration": {"areas": "wards", "category": ["asb"],
                                                              "from": DEMO_FROM, "to": DEMO_TO}}]},
                             demo_files["dir"])
    section = next(s for s in built.sections if s.kind == "concentration")
    assert section.document == doc and section.blocks[0] == doc["sentences"][0]
    assert doc["sentences"][0] in html_text(html)
    sheet = xlsx_rows(xlsx, "Concentration", "Rank")
    assert [(r["Area"], r["Count"]) for r in sheet[:3]] == \
        [(a["name"], a["count"]) for a in doc["areas"][:3]]
    at = page("overview")
    at.multiselect(key="ov-cat").set_value(["asb"]).run()
    assert any(m.value == doc["sentences"][0] for m in at.markdown)  # the same sentence, with its counts


@pytest.mark.realdata
def test_concentration_and_sentences_within_hartlepool_agree_on_cleveland(cleveland):
    """Issue 20: `hotspot rank --within LAD24NM=Hartlepool` and the pack's concentration section
    with `within` say the same sentence (47%; the three wards and their counts), and `hotspot
    table`'s "sentences" are the pack's sentences section for the same flags."""
    doc = cli("rank", cleveland["ws"], "--areas", cleveland["wards"], "--category", "asb",
              "--from", "2024-01", "--to", "2024-12", "--within", "LAD24NM=Hartlepool")
    table_doc = cli("table", cleveland["ws"], "--areas", cleveland["wards"], "--by", "LAD24NM",
                    "--within", "LAD24NM=Hartlepool", "--period", "2024-01..2024-12", "--kind", "asb")
    built, xlsx, html = pack({"title": "Hartlepool", "data": cleveland["ws"].name,
                              "areas": {"wards": str(cleveland["wards"])},
                              "sections": [{"concentration": {"areas": "wards", "category": ["asb"],
                                                              "from": "2024-01", "to": "2024-12",
                                                              "within": "LAD24NM=Hartlepool"}},
                                           {"sentences": {"areas": "wards", "by": "LAD24NM",
                                                          "within": "LAD24NM=Hartlepool",
                                                          "period": "2024-01..2024-12", "kind": "asb"}}]},
                             cleveland["dir"])
    conc = next(s for s in built.sections if s.kind == "concentration")
    said = next(s for s in built.sections if s.kind == "sentences")
    assert doc["sentences"][0].startswith("Almost half (47%; 1,226 of the 2,632 incidents) of ASB")
    assert conc.blocks[0] == doc["sentences"][0] and doc["sentences"][0] in html_text(html)
    assert said.blocks[0][1] == table_doc["sentences"]
    summary = xlsx_rows(xlsx, "Summary", "Section")
    assert [r["Text"] for r in summary] == [doc["sentences"][0], *table_doc["sentences"]]


@pytest.mark.realdata
def test_concentration_within_hartlepool_on_the_overview_is_the_clis_on_cleveland(cleveland, monkeypatch):
    """Issue 20 in the app: the Overview's wards, within Hartlepool, for ASB in 2024, say the
    `hotspot rank --within LAD24NM=Hartlepool` sentence (47%; the three wards and their counts)."""
    doc = cli("rank", cleveland["ws"], "--areas", cleveland["ws"], "--category", "asb",
              "--from", "2024-01", "--to", "2024-12", "--within", "LAD24NM=Hartlepool")
    assert doc["sentences"] == ["Almost half (47%; 1,226 of the 2,632 incidents) of ASB occurred in just "
                                "3 wards; Victoria (484), Burn Valley (390) and Headland & Harbour (352)."]
    at = page("overview", cleveland["ws"], monkeypatch)
    at.multiselect(key="ov-cat").set_value(["asb"]).run()
    at.select_slider(key="ov-period").set_value(("2024-01", "2024-12")).run()
    at.selectbox(key="ov-place-la").set_value("Hartlepool").run()  # the page's place (the whole page)
    assert not at.exception, at.exception
    assert any(m.value == doc["sentences"][0] for m in at.markdown)
    shown = at.dataframe[-1].value
    assert shown["Area"].tolist()[:3] == ["Victoria", "Burn Valley", "Headland & Harbour"]
    # no machine path or hash in what the page says (issue 20): the workspace by its name only
    said = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning, *at.info])
    assert str(cleveland["dir"]) not in said and "/tmp/" not in said and "/work/" not in said
    assert not __import__("re").search(r"\b[0-9a-fA-F]{40,}\b", said)


# =========================================================================== grid / Gi*
def test_gistar_hot_cells_agree_on_the_demo(demo_files):
    """`hotspot grid --method gistar` over the wards and the Hotspots page's Gi* layer flag the
    same number of hot cells (the app's default cell size, 250 m, is the CLI's)."""
    doc = cli("grid", demo_files["ws"], "--category", "asb", "--from", DEMO_FROM, "--to", DEMO_TO,
              "--areas", demo_files["wards"], "--method", "gistar")
    assert doc["parameters"]["cell_m"] == settings.CELL_M
    hot = sum(c["hotspot"] == "hot" for c in doc["cells"])
    at = page("hotspots")
    at.radio(key="hs-grid").set_value("gistar").run()
    assert not at.exception, at.exception
    assert [c.value for c in at.caption if "hot-spot cells" in c.value] == [
        f"Gi* with queen neighbours on {doc['n_cells']:,} cells; {hot} hot-spot cells at a 5% false "
        "discovery rate (Benjamini–Hochberg)."]


# =========================================================================== indicators
def test_indicators_agree_on_the_demo(demo_files, tmp_path):
    """The Area tables page's default indicators, `hotspot indicators` and the pack's section."""
    at = page("area_tables")
    at.selectbox(key="tb-preset").set_value("indicators").run()
    assert not at.exception, at.exception
    # the page's default spec and periods: a quarter to the last month, the year before as baseline
    rows = [("All recorded crime", "crime", "reduce"), ("Shoplifting", "Shoplifting", "reduce"),
            ("Anti-social behaviour incidents", "asb", "5% reduction"),
            ("Deliberate fires", "deliberate-fires", "reduce")]
    csv = tmp_path / "indicators.csv"
    csv.write_text("indicator,category,target\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    quarter = periods.window(DEMO_TO, 3)
    baseline = periods.format_range(periods.window(periods.add_months(quarter[0], -1), 12))
    doc = cli("indicators", demo_files["ws"], "--spec", csv, "--period", periods.format_range(quarter),
              "--baseline", baseline)
    assert [tuple(r) for r in at.dataframe[0].value.values.tolist()] == rows  # the spec editor
    assert at.dataframe[1].value.equals(formatting.indicators_frame(doc))
    built, _, html = pack({"title": "Indicators", "data": demo_files["ws"].name,
                           "sections": [{"indicators": {"spec": str(csv), "period": periods.format_range(quarter),
                                                        "baseline": baseline}}]}, demo_files["dir"])
    assert built.sections[0].document == doc


# =========================================================================== fire summary
def test_fire_summary_agrees_on_the_demo(demo_files):
    """The Fires page's total of deliberate fires is the one `hotspot rank` counts."""
    doc = cli("rank", demo_files["ws"], "--areas", demo_files["wards"], "--category", "deliberate-fires",
              "--from", DEMO_FROM, "--to", DEMO_TO)
    at = page("fires")
    assert [m.value for m in at.metric if m.label.startswith("Deliberate fires")] == [f"{doc['total']:,}"]


# --- evaluation (issue 19) ---
# The evaluation cases (the README's Thistlebeck Precinct example, a Hemlington micro-hotspot on
# the real files) go here: `hotspot evaluate`, the pack's evaluation section and the Before/after
# page give the same rate ratio, control counts and WDQ, from `questions.evaluation`.


# =========================================================================== where next (issue 23)
def _frame_with(at: AppTest, column: str):
    """The page's table that has `column` (the where-next tables have their own headings)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _where_next_spec(files: dict, frm: str, to: str) -> dict:
    return {"title": "Where next", "data": files["ws"].name, "areas": {"wards": str(files["wards"])},
            "sections": [{"emerging": {"category": ["asb"], "from": frm, "to": to}},
                         {"backtest": {"category": ["asb"], "from": frm, "to": to}}]}


def _where_next_agrees(files: dict, frm: str, to: str, at: AppTest) -> tuple[dict, dict]:
    """`hotspot grid --method emerging` and `hotspot backtest` (ASB, the page's 12 months), the
    pack's emerging and backtest sections (document, XLSX, HTML) and the Hotspots page's where next
    (opened on demand) give the same classes, the same scores and the same best method, named the
    same way."""
    from hotspot_app.render import where_next as where_next_text

    em = cli("grid", files["ws"], "--method", "emerging", "--category", "asb", "--from", frm, "--to", to)
    bt = cli("backtest", files["ws"], "--category", "asb", "--from", frm, "--to", to)
    assert em["parameters"]["cell_m"] == settings.CELL_M and bt["parameters"]["cell_m"] == settings.CELL_M
    assert (bt["parameters"]["from"], bt["parameters"]["to"], bt["area_share"]) == (frm, to, 0.05)
    built, xlsx, html = pack(_where_next_spec(files, frm, to), files["dir"])
    em_sec = next(s for s in built.sections if s.kind == "emerging")
    bt_sec = next(s for s in built.sections if s.kind == "backtest")
    assert json.loads(formatting.json_text(em_sec.document)) == em
    assert json.loads(formatting.json_text(bt_sec.document)) == bt
    assert [(r["Class"], r["Cells"]) for r in xlsx_rows(xlsx, "Emerging", "Class")] == list(em["classes"].items())
    assert [(r["Method"], r["PAI"], r["PEI"]) for r in xlsx_rows(xlsx, "Backtest", "Method")] == \
        [(m["method"], m["pai"], m["pei"]) for m in bt["methods"]]
    text = html_text(html)
    assert where_next_text.emerging_sentence(em) in text and bt["sentences"][0] in text
    # the Hotspots page opens with the map and the ranked table only (first paint); where next
    # is computed when the user opens it
    assert not [d for d in at.dataframe if "PAI" in d.value.columns or "Class" in d.value.columns]
    at.toggle(key="hs-where-next").set_value(True).run()
    assert not at.exception, at.exception
    # the Hotspots page: the same sentence naming the best method, the same table and classes
    said = [m.value for m in at.markdown]
    assert f"**{bt['sentences'][0]}**" in said
    assert f"**{where_next_text.emerging_sentence(em)}**" in said
    assert _frame_with(at, "PAI").equals(where_next_text.backtest_frame(bt))
    assert _frame_with(at, "Class").equals(where_next_text.emerging_frame(em))
    # the stability share sits beside the page's own ranking: the same areas, names and counts
    patrol = at.dataframe[0].value
    stab = _frame_with(at, "Patrol area")
    assert list(zip(stab["Rank"], stab["Patrol area"], stab["Incidents"])) == \
        list(zip(patrol["rank"], patrol["name"], patrol["count"]))
    return em, bt


def test_where_next_agrees_on_the_demo(demo_files):
    at = page("hotspots")
    em, bt = _where_next_agrees(demo_files, DEMO_FROM, DEMO_TO, at)
    assert bt["best"] in [m["method"] for m in bt["methods"]]
    assert sum(em["classes"].values()) == em["n_cells"]
    # smoothed rates: `hotspot rank --smooth eb` and the page's table of raw and EB rates
    doc = cli("rank", demo_files["ws"], "--areas", demo_files["wards"], "--category", "asb",
              "--from", DEMO_FROM, "--to", DEMO_TO, "--smooth", "eb")
    shown = _frame_with(at, "EB rate per 1,000")
    by_name = {a["name"]: (a["rate_per_1000"], a["rate_eb"]) for a in doc["areas"] if a["area_id"] != "outside"}
    assert {n: (float(r), float(e)) for n, r, e in zip(shown["Ward"], shown["Rate per 1,000"],
                                                      shown["EB rate per 1,000"])} == by_name


@pytest.mark.realdata
def test_where_next_agrees_on_cleveland(cleveland, monkeypatch):
    """On the real files (ASB, 2024 scored from 2023 onwards): the benchmark's table, the page's."""
    at = page("hotspots", cleveland["ws"], monkeypatch)
    _, bt = _where_next_agrees(cleveland, cleveland["from"], cleveland["to"], at)
    assert bt["best"] == "last-12-months"
    best = next(m for m in bt["methods"] if m["method"] == bt["best"])
    assert (round(best["pai"], 2), round(best["pei"], 3), best["months"]) == (14.36, 0.759, 12)
