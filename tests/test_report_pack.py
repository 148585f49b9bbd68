"""The report pack (`hotspot report`, design §5b/§10): the demo paper in all four formats, whose
numbers are the ones `hotspot table`, `summary`, `rank` and `evaluate` print for the same
arguments (read back from the PDF with pypdf and the DOCX with python-docx); the spec validated
at the boundary with one-line errors naming the key; outputs never over an input; user text
escaped in HTML and neutralised in XLSX; exact numbers on constructed data."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import geopandas as gpd
import openpyxl
import pandas as pd
import pypdf
import pytest
import shapely
from typer.testing import CliRunner

from hotspot_app.core import periods, schema, settings
from hotspot_app.render import pack as report_pack, formatting
from hotspot_app.cli import app
from hotspot_app.core.errors import InputError

runner = CliRunner()


def cli_json(*args) -> dict:
    res = runner.invoke(app, [str(a) for a in args] + ["--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def paper(demo, tmp_path_factory):
    """`hotspot report --demo` with all four outputs, over the session's demo folder."""
    out = tmp_path_factory.mktemp("paper")
    mp = pytest.MonkeyPatch()
    mp.setattr(settings, "DEMO_DIR", demo.dir)
    try:
        files = [out / f"paper.{ext}" for ext in ("pdf", "docx", "xlsx", "html")]
        args = ["report", "--demo"] + [x for f in files for x in ("--out", str(f))] + ["--format", "json"]
        res = runner.invoke(app, args)
    finally:
        mp.undo()
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    pdf_text = flat(" ".join(p.extract_text() for p in pypdf.PdfReader(files[0]).pages))
    word = docx.Document(files[1])
    return {"doc": doc, "files": files, "pdf": pdf_text, "docx": word,
            "docx_text": flat(" ".join(p.text for p in word.paragraphs)), "dir": demo.dir}


def test_demo_report_writes_every_format_with_the_json_contract(paper):
    doc, files = paper["doc"], paper["files"]
    # the before/after map's cells fit the locations' spacing (150 m: the demo's locations are a
    # median 135 m apart), so there is no grid advice to give (test below for a spec's own cells);
    # the warnings are the evaluation's own (`hotspot evaluate` gives the same, test below)
    ev = cli_json("evaluate", paper["dir"] / "workspace.gpkg", "--areas", paper["dir"] / "micro_hotspots.geojson",
                  "--area", "Thistlebeck Precinct", "--after", "2023-07..2023-12", "--baseline",
                  "2021-07..2021-12", "--category", "asb", "--buffer-m", "250")
    title = "Thistlebeck Precinct patrols, July to December 2023"
    # tables: + the robustness table; maps: + the comparison areas beside the target
    assert doc == {"out": [str(f) for f in files], "sections": 10, "tables": 6, "maps": 4,
                   "warnings": [f"{title}: {w}" for w in ev["warnings"]]}
    assert files[0].read_bytes().startswith(b"%PDF")
    html = files[3].read_text(encoding="utf-8")
    assert settings.DEMO_LABEL in html and "About these figures" in html
    # choropleth, patrol, comparison areas, placebo histogram, before/after pair, chart
    assert html.count("data:image/png;base64,") == 6
    assert settings.DEMO_LABEL in paper["pdf"] and settings.DEMO_LABEL in paper["docx_text"]


def test_before_after_cells_fit_the_location_spacing_unless_the_spec_gives_them(paper):
    html = paper["files"][3].read_text(encoding="utf-8")
    assert "Incidents per 150 m cell" in html
    spec = report_pack.demo_spec(paper["dir"])
    spec.sections = [(k, {**a, "cell_m": 50} if k == "evaluation" else a, key) for k, a, key in spec.sections]
    pack = report_pack.build(spec)
    images = [b for sec in pack.sections for b in sec.blocks if isinstance(b, report_pack.Image)]
    assert any(i.caption.startswith("Incidents per 50 m cell") for i in images)
    # 50 m cells are finer than the demo's locations: the pack says so, with the size to use
    assert ("Thistlebeck Precinct patrols, July to December 2023: grid cells of 50 m are finer than the "
            "spacing of the incident locations (median 135 m to the nearest other location): most "
            "occupied cells hold a single location; use cells >= 150 m") in pack.warnings


def test_pack_table_numbers_are_the_ones_hotspot_table_prints(paper):
    d = paper["dir"]
    table = cli_json("table", d / "workspace.gpkg", "--areas", d / "town_centres.geojson",
                     "--area", "Aldwyke Town Centre", "--month", "2024-03")
    total = table["rows"][-1]
    assert total["category"] == "Total"
    cells = ["Total"]
    for w in ("selected_month", "last_6_months", "last_12_months"):
        b = total[w]
        cells += [formatting.fmt_int(b["current"]), formatting.fmt_int(b["previous"]),
                  formatting.fmt_int(b["diff"]), formatting.fmt_pct(b["pct_diff"])]
    assert " ".join(cells) in paper["pdf"]
    word_rows = [[c.text for c in r.cells] for t in paper["docx"].tables for r in t.rows]
    assert cells in word_rows
    # every category row of the CLI table is in the Word table with the same current counts
    for row in table["rows"]:
        assert any(r[0].strip() == row["category"] and r[1] == formatting.fmt_int(row["selected_month"]["current"])
                   for r in word_rows), row["category"]


def test_pack_sentences_are_the_ones_summary_and_rank_print(paper):
    d = paper["dir"]
    summary = cli_json("summary", d / "workspace.gpkg", "--areas", d / "wards.geojson",
                       "--area", "Thistlebeck", "--to", "2024-03")
    assert summary["text"].startswith("In the 12 months up to March 2024 there were ")
    assert flat(summary["text"]) in paper["pdf"] and flat(summary["text"]) in paper["docx_text"]
    rank = cli_json("rank", d / "workspace.gpkg", "--areas", d / "wards.geojson", "--category", "asb",
                    "--from", "2023-04", "--to", "2024-03", "--top", "3")
    assert rank["top"]["text"].endswith("in just 3 wards; " + ", ".join(rank["top"]["areas"][:2])
                                        + " and " + rank["top"]["areas"][2] + ".")
    assert flat(rank["top"]["text"]) in paper["pdf"] and flat(rank["top"]["text"]) in paper["docx_text"]


def test_pack_evaluation_is_the_one_hotspot_evaluate_prints(paper):
    d = paper["dir"]
    ev = cli_json("evaluate", d / "workspace.gpkg", "--areas", d / "workspace.gpkg", "--area",
                  "Thistlebeck Precinct", "--after", "2023-07..2023-12", "--baseline", "2021-07..2021-12",
                  "--category", "asb", "--buffer-m", "250")
    spec = report_pack.demo_spec(d)
    section = next(args for kind, args, _ in spec.sections if kind == "evaluation")
    assert section["after"] == periods.parse_range(ev["after"]["from"] + ".." + ev["after"]["to"])
    row = ["Target area", formatting.fmt_int(ev["before"]["count"]), formatting.fmt_int(ev["after"]["count"]),
           formatting.fmt_int(ev["diff"], signed=True), formatting.fmt_pct(ev["pct_change"])]
    word_rows = [[c.text for c in r.cells] for t in paper["docx"].tables for r in t.rows]
    assert row in word_rows
    assert " ".join(row) in paper["pdf"]
    ring = [r for r in word_rows if r[0] == "Buffer ring (250 m)"]
    assert ring and ring[0][1:3] == [formatting.fmt_int(ev["buffer"]["before"]), formatting.fmt_int(ev["buffer"]["after"])]
    # the planted truth of the demo: the observed ASB counts in the area
    truth = json.loads((d / "truth.json").read_text())["patrol_effect"]["observed"]["area"]
    assert (ev["before"]["count"], ev["after"]["count"]) == (truth["2022-07..2022-12"], truth["2023-07..2023-12"])


def test_pack_xlsx_is_formatted_with_a_notes_sheet(paper):
    wb = openpyxl.load_workbook(paper["files"][2])
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-1] == "Notes"
    ws = wb["Aldwyke Town Centre"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "Aldwyke Town Centre — March 2024" and ws["A1"].font.bold
    header = rows.index(next(r for r in rows if r[:2] == ["Crime", "Current"]))
    assert all(c.font.bold for c in ws[header + 1] if c.value)
    assert rows[header - 1][1] == "Selected month"
    total = header + [r[0] for r in rows[header:]].index("Total") + 1
    assert ws.cell(total, 5).number_format == "0.0%" and ws.cell(total, 1).font.bold
    assert [ws.cell(total, j).value for j in (2, 3, 4)] == [220, 232, -12]
    assert ws.cell(total, 5).value == pytest.approx(-0.052)
    notes = " ".join(str(v) for r in wb["Notes"].iter_rows(values_only=True) for v in r if v)
    assert "police.uk locations are anonymised" in notes and settings.DEMO_LABEL in notes
    volumes = json.loads((paper["dir"] / "truth.json").read_text())["volumes"]
    # the demo's rows name their synthetic provider wherever they go (issue 22)
    assert (f"police-uk (Synthetic Demo Constabulary): {volumes['crime'] + volumes['asb']:,} incidents; 39 "
            "months loaded, 2021-01 to 2024-03; no months missing") in notes
    assert (f"fire (Synthetic Demo Fire and Rescue Service): {volumes['fire']:,} incidents; 39 months loaded"
            in notes)


# --------------------------------------------------------------------------- constructed data
def small_inputs(area_name: str = "Town"):
    months = periods.month_range("2023-01", "2024-03")
    df = pd.DataFrame({"category": ["Drugs"] * len(months) + ["Shoplifting"] * 4,
                       "month": months + ["2024-03"] * 3 + ["2023-03"],
                       "x": [500.0] * len(months) + [5.0] * 4, "y": [500.0] * len(months) + [5.0] * 4})
    inc = schema.make_incidents(df)
    areas = schema.make_areas(gpd.GeoDataFrame({"name": [area_name, "Far"], "population": [2000, 1000]},
                                               geometry=[shapely.box(0, 0, 10, 10), shapely.box(400, 400, 600, 600)],
                                               crs="EPSG:27700"), population="population", layer="ward")
    return report_pack.Inputs(inc, {"wards": areas}, ["constructed.csv"], {"wards": "wards.geojson"})


def small_spec(title="Paper", area="Town", text="Intro."):
    return report_pack.parse_spec({"title": title, "areas": {"wards": None}, "sections": [
        {"text": text},
        {"table": {"areas": "wards", "area": area, "month": "2024-03"}},
        {"summary": {"area": area, "to": "2024-03", "months": 1}}]}, source="test", loaded=True)


def test_constructed_pack_has_exact_numbers_in_html_docx_and_xlsx():
    pack = report_pack.build(small_spec(), small_inputs())
    html = report_pack.render_html(pack)
    # Total: selected month 3 against 1 a year earlier: +2, 200.0%; the last-6-months comparison
    # window (2022-10..2023-03) is not covered -> n/a with a warning, never 0
    assert "<td>3</td><td>1</td><td>+2</td><td>200.0%</td><td>3</td><td>n/a</td>" in html.replace("\n", "")
    assert "last 6 months previous (2022-10..2023-03): no data loaded for 2022-10" in html
    assert "In March 2024 there were 3 crimes recorded in the Town ward area" in html
    word = docx.Document(io.BytesIO(report_pack.render_docx(pack)))
    total = [c.text for c in word.tables[0].rows[-1].cells]
    assert total[:9] == ["Total", "3", "1", "+2", "200.0%", "3", "n/a", "n/a", "n/a"]
    wb = openpyxl.load_workbook(io.BytesIO(report_pack.render_xlsx(pack)))
    summary = [list(r) for r in wb["Summary"].iter_rows(values_only=True)]
    assert any(r[1] and str(r[1]).startswith("In March 2024 there were 3 crimes") for r in summary)


def test_user_text_is_escaped_in_html_and_neutralised_in_xlsx():
    spec = small_spec(title="<script>window.__xss=1</script>", area="=Town", text="<b>bold</b> & =1+1")
    pack = report_pack.build(spec, small_inputs("=Town"))
    html = report_pack.render_html(pack)
    assert "<script>window.__xss" not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; =1+1" in html
    wb = openpyxl.load_workbook(io.BytesIO(report_pack.render_xlsx(pack)))
    sheet = wb[[n for n in wb.sheetnames if "Town" in n][0]]
    assert sheet["A1"].value == "'=Town — March 2024"
    assert report_pack.render_pdf(pack).startswith(b"%PDF")


@pytest.mark.parametrize("raw, key", [
    ({"areas": {"wards": None}, "sections": [{"text": "x"}]}, "parameter 'title'"),
    ({"title": "t", "areas": {"wards": None}, "sections": [{"table": {"area": "Town", "month": "2024-13"}}]},
     "parameter 'sections[0].table.month'"),
    ({"title": "t", "areas": {"wards": None}, "sections": [{"table": {"area": "Town", "colour": "red"}}]},
     "parameter 'sections[0].table.colour'"),
    ({"title": "t", "areas": {"wards": None}, "sections": [{"pie": {}}]}, "parameter 'sections[0]'"),
    ({"title": "t", "areas": {"wards": None}, "sections": [{"summary": {"areas": "lsoa", "area": "A", "to": "2024-01"}}]},
     "parameter 'sections[0].summary.areas'"),
    ({"title": "t", "areas": {"wards": None}, "sections": [{"evaluation": {"area": "A", "after": "2024-03..2024-01"}}]},
     "parameter 'sections[0].evaluation.after'"),
    ({"title": "t", "areas": {"wards": None}, "sections": [{"map": {"type": "heat"}}]},
     "parameter 'sections[0].map.type'"),
    ({"title": "t", "areas": {"wards": None}, "sections": [{"table": {"years": "2023..2021"}}]},
     "parameter 'sections[0].table.years'"),
])
def test_spec_errors_name_the_key(raw, key):
    with pytest.raises(InputError) as info:
        report_pack.parse_spec(raw, source="spec.yaml", loaded=True)
    text = str(info.value)
    assert text.startswith("spec.yaml, " + key) and "\n" not in text


def test_engine_table_by_field_has_a_column_per_area_and_a_total():
    spec = report_pack.parse_spec({"title": "t", "areas": {"wards": None}, "sections": [
        {"table": {"areas": "wards", "by": "name", "period": "2024-03..2024-03"}}]}, loaded=True)
    table = report_pack.build(spec, small_inputs()).tables[0]
    assert [g for g, _ in table.columns[1::5]] == ["Town", "Far", "Total"]
    assert [m for _, m in table.columns[1:6]] == ["Current", "Previous", "Diff", "% Diff", "Per 1,000"]
    rows = {r[0]: r for r in table.cells}
    # March 2024 against March 2023: Town (population 2,000) 3 shoplifting vs 1; Far 1 drugs vs 1
    assert rows["Shoplifting"][1:6] == ["3", "1", "+2", "200.0%", "1.50"]
    assert rows["Total"][6:10] == ["1", "1", "0", "0.0%"] and rows["Total"][11:16] == ["4", "2", "+2", "100.0%", "1.33"]
    assert table.document["columns"][-1]["id"] == "Total"


def test_indicators_section_is_the_seed_003_table(tmp_path):
    (tmp_path / "indicators.csv").write_text("indicator,category,target\nShop theft,Shoplifting,reduce\n"
                                             "Drugs,Drugs,maintain\n", encoding="utf-8")
    spec = report_pack.parse_spec({"title": "t", "areas": {"wards": None}, "sections": [
        {"indicators": {"spec": "indicators.csv", "period": "2024-03..2024-03",
                        "baseline": "2023-04..2024-03"}}]}, base=tmp_path, loaded=True)
    pack = report_pack.build(spec, small_inputs())
    table = pack.tables[0]
    assert [lab for _, lab in table.columns][0] == "Indicator"
    # shoplifting: 3 in March 2024 against 1 in March 2023 -> +2, 200%: off track for "reduce";
    # drugs one a month: 1 against 1, no change: on track for "maintain"; baselines 3 and 12
    assert table.cells[0] == ["Shop theft", "3", "reduce", "3", "1", "+2", "200.0%", "off track"]
    assert table.cells[1] == ["Drugs", "12", "maintain", "1", "1", "0", "0.0%", "on track"]
    ws = openpyxl.load_workbook(io.BytesIO(report_pack.render_xlsx(pack)))["Indicators"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert ["Shop theft", 3, "reduce", 3, 1, 2, 2.0, "off track"] in values


def test_spec_refuses_two_windows_for_one_table():
    with pytest.raises(InputError, match=r"parameter 'sections\[0\]\.table': give one of month, period or years"):
        report_pack.parse_spec({"title": "t", "areas": {"wards": None}, "sections": [
            {"table": {"area": "A", "month": "2024-03", "period": "2024-01..2024-03"}}]}, loaded=True)


def test_area_not_found_names_the_section():
    spec = small_spec(area="Nowhere")
    with pytest.raises(InputError, match=r"sections\[1\]\.table\.area"):
        report_pack.build(spec, small_inputs())


def test_cli_refuses_bad_specs_and_outputs_over_inputs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: [unclosed\n", encoding="utf-8")
    res = runner.invoke(app, ["report", str(bad), "--out", str(tmp_path / "p.html")])
    assert res.exit_code == 2 and "bad.yaml: not valid YAML at line" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    data = tmp_path / "paper.html"
    data.write_text("precious", encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text("title: T\ndata: paper.html\nsections:\n  - text: hi\n", encoding="utf-8")
    res = runner.invoke(app, ["report", str(spec), "--out", str(data)])
    assert res.exit_code == 2 and "is an input; choose another output path" in res.stderr
    assert data.read_text(encoding="utf-8") == "precious"
    res = runner.invoke(app, ["report", str(spec), "--out", str(tmp_path / "paper.txt")])
    assert res.exit_code == 2 and "use .html, .pdf, .docx or .xlsx" in res.stderr
    res = runner.invoke(app, ["report", str(spec), "--demo", "--out", str(tmp_path / "p.pdf")])
    assert res.exit_code == 2 and "give a SPEC.yaml or --demo" in res.stderr
    assert not (tmp_path / "p.pdf").exists()


def test_the_readme_spec_example_is_valid():
    import re

    import yaml

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    spec = report_pack.parse_spec(yaml.safe_load(example), base="/data", source="README")
    assert [k for k, _, _ in spec.sections] == ["heading", "text", "table", "table", "table", "indicators",
                                                "summary", "concentration", "map", "map", "evaluation",
                                                "chart", "notes"]
    assert spec.data == [Path("/data/police"), Path("/data/fires.csv")]
    table = spec.sections[2][1]
    assert table["month"] == "2024-09" and table["area"] == "Stockton Town Centre"
    assert spec.sections[3][1]["years"] == "2021..2023" and "areas" not in spec.sections[3][1]
    assert spec.sections[4][1]["population"] == "/data/lad_population.csv"
    assert spec.sections[5][1]["spec"] == "/data/indicators.csv"
    assert spec.sections[8][1]["from"] == "2023-10" and spec.sections[8][1]["to"] == "2024-09"


def test_years_table_counts_crime_by_year_and_never_a_false_zero():
    spec = report_pack.parse_spec({"title": "t", "sections": [
        {"table": {"years": "2022..2023", "year_start": 4}}]}, loaded=True)
    pack = report_pack.build(spec, small_inputs())
    table = pack.tables[0]
    assert [g for g, _ in table.columns if g][:1] == ["2022/23"] and ("2023/24", "Current") in table.columns
    rows = {r[0]: r for r in table.cells}
    # April 2023 - March 2024: 12 drugs offences (one a month) and 3 shoplifting; 2022/23 is not
    # covered by the data (they start in January 2023): n/a, never 0
    j = table.columns.index(("2023/24", "Current"))
    assert rows["Drugs"][j] == "12" and rows["Shoplifting"][j] == "3" and rows["Total"][j] == "15"
    assert rows["Total"][table.columns.index(("2022/23", "Current"))] == "n/a"
    assert rows["Total"][table.columns.index(("2023/24", "Previous"))] == "n/a"
    assert any("2022-04" in w for w in pack.warnings)
    ws = openpyxl.load_workbook(io.BytesIO(report_pack.render_xlsx(pack)))["Table"]
    total = next(list(r) for r in ws.iter_rows(values_only=True) if r[0] == "Total")
    assert total[j] == 15


@pytest.mark.realdata
def test_real_cleveland_pack_matches_hotspot_table_and_seed_004(realdata, tmp_path):
    police = realdata / "police_cleveland"
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    spec_file = tmp_path / "stockton.yaml"
    spec_file.write_text(f"""title: Stockton Town Centre briefing
data: {police}
areas:
  wards: {{file: {wards}, layer: ward, label: "wards, May 2024"}}
sections:
  - table: {{area: Stockton Town Centre, month: 2024-09}}
""", encoding="utf-8")
    out = tmp_path / "briefing.html"
    doc = report_pack.report(spec_file, [out])
    assert doc["out"] == [str(out)] and doc["tables"] == 1 and doc["maps"] == 0
    cli = cli_json("table", police, "--areas", wards, "--area", "Stockton Town Centre", "--month", "2024-09")
    spec = report_pack.load_spec(spec_file)
    pack = report_pack.build(spec)
    # the same JSON hotspot table prints; the CLI puts the input (ingest) warnings first in its
    # document, the pack lists them once for the whole paper (and in "About these figures")
    inputs_warned = [w for w in cli["warnings"] if w in pack.warnings and w not in pack.tables[0].document["warnings"]]
    assert pack.tables[0].document == {**cli, "warnings": [w for w in cli["warnings"] if w not in inputs_warned]}
    about_warnings = pack.about.blocks[-1][1]  # every warning, each section's under its title
    assert all(any(a.endswith(w) for a in about_warnings) for w in cli["warnings"])
    total = pack.tables[0].cells[-1]
    # the town-centre paper (force system: 345 / 2,073 / 4,043); police.uk gives these for the same windows
    assert total[0] == "Total" and [total[1], total[5], total[9]] == ["341", "2,089", "4,074"]
    html = out.read_text(encoding="utf-8")
    assert "35 months loaded, 2023-01 to 2025-11" in html and "wards, May 2024" in html
    assert "last 12 months previous (2022-10..2023-09): no data loaded for 2022-10, 2022-11, 2022-12" in html


def test_a_table_engine_document_renders_in_the_pack():
    from test_xlsx import engine_document

    table = report_pack.document_table(engine_document(), "Theft by ward")
    assert table.columns[:3] == [("", "Category"), ("Ash", "Current"), ("Ash", "Previous")]
    assert table.cells[0] == ["Theft Offences", "3", "2", "+1", "50.0%", "1.50", "4", "n/a", "n/a", "n/a", "n/a"]
    assert table.bold == [True, False, True] and table.indent == [1, 2, 0]
    pack = report_pack.Pack("P", "", "", [report_pack.Section("Theft", [table])],
                            report_pack.Section("About these figures"), [])
    word = docx.Document(io.BytesIO(report_pack.render_docx(pack)))
    assert [c.text for c in word.tables[0].rows[2].cells][:6] == ["   Theft Offences", "3", "2", "+1", "50.0%", "1.50"]
    assert '<th class="group" colspan="5">Ash</th>' in report_pack.render_html(pack)
