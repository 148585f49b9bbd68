"""The paper people take to the meeting (issue 20): on the real Cleveland files, a pack with every
section type prints every table column on a page of the PDF (the visible text of each page read
back with pypdfium2, clipped to the page) and in the Word file, on the same page size (A4 by
default); wide tables are turned, shrunk or split into column groups that repeat the row labels."""

from __future__ import annotations

import io
import json

import docx
import pypdfium2 as pdfium
import pytest

from hotspot_app.cli import app
from hotspot_app.core import sentences as words
from hotspot_app.core.errors import InputError
from hotspot_app.render import pack as report_pack
from hotspot_app.render.pack import layout


def squash(text: str) -> str:
    """Text without whitespace; pdfium reads a hyphen a line was broken at as \\x02."""
    return "".join(text.replace("\x02", "-").split())


def visible_pages(pdf_bytes: bytes) -> list[tuple[tuple[float, float], str]]:
    """((width, height) in points, the text drawn inside the page) of each PDF page."""
    pdf = pdfium.PdfDocument(pdf_bytes)
    out = []
    for page in pdf:
        w, h = page.get_size()
        out.append(((round(w), round(h)), page.get_textpage().get_text_bounded(0, 0, w, h)))
    return out


def columns_of(table) -> list[tuple[str, str, str]]:
    """(group, header, last row's cell) of each numeric column: what a reader must find."""
    last = table.cells[-1]
    return [(g, lab, last[j]) for j, (g, lab) in enumerate(table.columns) if j > 0]


# ----------------------------------------------------------------------------- the layout rule
def wide_columns(groups: int, per: int = 4):
    cols = [("", "Category")] + [(f"Area {g}", h) for g in range(groups)
                                 for h in ("Current", "Previous", "Diff", "% Diff")[:per]]
    cells = [["Violence and sexual offences"] + ["12,345", "11,111", "+1,234", "11.1%"][:per] * groups,
             ["Total"] + ["19,225", "19,000", "+225", "1.2%"][:per] * groups]
    return cols, cells


def test_a_table_that_fits_stays_on_the_portrait_page_at_the_normal_size():
    cols, cells = wide_columns(2)
    assert layout.plan(cols, cells, [0, 0], layout.Page()) == [layout.Part(tuple(range(9)), "portrait", 8.0)]


def test_a_wider_table_is_turned_then_shrunk_then_split_with_the_row_labels_repeated():
    cols, cells = wide_columns(3)  # 13 columns: turned at the normal size
    (part,) = layout.plan(cols, cells, [0, 0], layout.Page())
    assert part.orientation == "landscape" and part.font_pt == 8.0 and len(part.columns) == 13
    cols, cells = wide_columns(4)  # 17 columns: turned and shrunk half a point
    (part,) = layout.plan(cols, cells, [0, 0], layout.Page())
    assert part.orientation == "landscape" and part.font_pt == 7.5 and len(part.columns) == 17
    cols, cells = wide_columns(9)  # 37 columns: split, each part a whole number of area groups
    parts = layout.plan(cols, cells, [0, 0], layout.Page())
    assert len(parts) >= 2 and all(p.orientation == "landscape" and p.columns[0] == 0 for p in parts)
    assert sorted(j for p in parts for j in p.columns[1:]) == list(range(1, 37))
    assert all((len(p.columns) - 1) % 4 == 0 for p in parts)
    assert all(p.font_pt >= layout.FLOOR_PT for p in parts)
    sizes = [len(p.columns) for p in parts]
    assert max(sizes) - min(sizes) <= 4  # as even as whole groups allow


def test_a_landscape_page_is_kept_and_a_page_size_is_configurable():
    cols, cells = wide_columns(4)
    (part,) = layout.plan(cols, cells, [0, 0], layout.page_of("A3"))
    assert part.orientation == "portrait"  # A3 portrait is as wide as A4 landscape
    assert layout.page_of("Letter landscape") == layout.Page("Letter", "landscape")
    assert layout.page_of({"size": "a4", "orientation": "Landscape"}) == layout.Page("A4", "landscape")
    with pytest.raises(InputError, match="not a page size; use A4, A3, Letter"):
        layout.page_of("B5")
    with pytest.raises(InputError) as err:
        report_pack.parse_spec({"title": "T", "data": "x.csv", "page": "A4 sideways",
                                "sections": [{"text": "x"}]})
    assert err.value.parameter == "page.orientation"


def test_pdf_and_docx_use_the_same_page_and_split_a_table_wider_than_the_page():
    cols, cells = wide_columns(9)
    table = report_pack.Table("Wide", cols, cells, [False, True], [0, 0], None)
    pack = report_pack.Pack("P", "", "", [report_pack.Section("Wide table", [table])],
                            report_pack.Section("About these figures", ["About."], kind="about"), [])
    pages = visible_pages(report_pack.render_pdf(pack))
    # the title page A4 portrait, the table's section turned, the About section portrait again
    assert [size for size, _ in pages] == [(595, 842), (842, 595), (595, 842)]
    seen = squash(" ".join(text for _, text in pages))
    for g in range(9):
        assert squash(f"Area {g}") in seen
    assert seen.count("19,225") == 9 and seen.count("Total") >= 2  # every column, labels repeated
    word = docx.Document(io.BytesIO(report_pack.render_docx(pack)))
    assert [(round(s.page_width.mm), round(s.page_height.mm)) for s in word.sections] == \
        [(210, 297), (297, 210), (210, 297)]
    cells_seen = [c.text for t in word.tables for row in t.rows for c in row.cells]
    assert cells_seen.count("19,225") == 9 and len(word.tables) >= 2


# ----------------------------------------------------------------------------- the real paper
SPEC = """title: Cleveland community safety paper
subtitle: Crime and anti-social behaviour, police.uk
data: {police}
areas:
  wards: {{file: {wards}, layer: ward, label: "wards, May 2024"}}
period: {{from: 2024-01, to: 2024-12}}
sections:
  - heading: Summary
  - text: Every section type on the real Cleveland files.
  - map: {{type: choropleth, areas: wards, category: [crime], metric: rate}}
  - summary: {{areas: wards, area: Hemlington, to: 2024-12, months: 12}}
  - table: {{areas: wards, area: Stockton Town Centre, month: 2024-09}}
  - table: {{areas: wards, by: LAD24NM, period: 2024-01..2024-12, compare: same-period-last-year}}
  - concentration: {{areas: wards, category: [asb], top: 3}}
  - concentration: {{areas: wards, category: [asb], top: 3, within: LAD24NM=Hartlepool}}
  - sentences: {{areas: wards, by: LAD24NM, period: 2024-01..2024-12, compare: same-period-last-year}}
  - sentences: {{areas: wards, by: LAD24NM, within: LAD24NM=Hartlepool, period: 2024-01..2024-12, kind: asb}}
  - map: {{type: patrol, areas: wards, category: [asb]}}
  - chart: {{type: monthly, category: [asb]}}
  - evaluation: {{areas: wards, area: Hemlington, after: 2024-07..2024-12, category: [asb]}}
  - indicators: {{spec: {indicators}, period: 2024-04..2024-06, baseline: 2023-04..2024-03}}
  - table: {{years: 2023..2024, year_start: 4, category: [crime]}}
  - notes: [Figures for the latest month may change when police.uk republishes it.]
"""


@pytest.fixture(scope="module")
def real_paper(realdata, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real_paper")
    indicators = tmp / "indicators.csv"
    indicators.write_text("indicator,category,target\n"
                          "Anti-social behaviour,asb,5% reduction\nShoplifting,Shoplifting,reduce\n", encoding="utf-8")
    spec_file = tmp / "paper.yaml"
    spec_file.write_text(SPEC.format(police=realdata / "police_cleveland", indicators=indicators,
                                     wards=realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"),
                         encoding="utf-8")
    spec = report_pack.load_spec(spec_file)
    pack = report_pack.build(spec)
    return {"pack": pack, "pdf": report_pack.render_pdf(pack), "docx": report_pack.render_docx(pack),
            "html": report_pack.render_html(pack), "xlsx": report_pack.render_xlsx(pack)}


@pytest.mark.realdata
def test_every_table_column_of_the_real_paper_is_on_a_pdf_page_and_in_the_docx(real_paper):
    pack = real_paper["pack"]
    kinds = {s.kind for s in pack.sections}
    assert {"heading", "text", "map", "summary", "table", "concentration", "chart", "evaluation",
            "indicators"} <= kinds
    pages = visible_pages(real_paper["pdf"])
    assert {size for size, _ in pages} <= {(595, 842), (842, 595)}  # A4, portrait or turned
    seen = squash(" ".join(text for _, text in pages))
    word = docx.Document(io.BytesIO(real_paper["docx"]))
    assert all((round(s.page_width.mm), round(s.page_height.mm)) in {(210, 297), (297, 210)}
               for s in word.sections)
    word_cells = [[c.text for c in row.cells] for t in word.tables for row in t.rows]
    word_text = squash(" ".join(" ".join(r) for r in word_cells))
    assert len(pack.tables) >= 6
    for table in pack.tables:
        for group, label, last in columns_of(table):
            for text in (group, label, last):
                assert squash(text) in seen, (table.title, group, label, text)
                assert squash(text) in word_text, (table.title, group, label, text)
    by_lad = next(t for t in pack.tables if t.columns[1][0] == "Hartlepool")
    total_col = [g for g, _ in by_lad.columns][-1]
    assert squash(total_col) in seen and "Stockton-on-Tees" in " ".join(t for _, t in pages)


# ----------------------------------------------------------------------------- the papers' sentences
def cli_json(*args) -> dict:
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, [str(a) for a in args] + ["--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def real_files(realdata):
    return {"police": realdata / "police_cleveland",
            "wards": realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"}


@pytest.mark.realdata
def test_concentration_within_hartlepool_2024_is_the_assessment_papers_47_percent(real_files, real_paper):
    doc = cli_json("rank", real_files["police"], "--areas", real_files["wards"], "--category", "asb",
                   "--from", "2024-01", "--to", "2024-12", "--within", "LAD24NM=Hartlepool")
    top3 = [(a["name"], a["count"]) for a in doc["areas"][:3]]
    assert top3 == [("Victoria", 484), ("Burn Valley", 390), ("Headland & Harbour", 352)]
    assert doc["total"] == 2632 and doc["top"]["share_pct"] == 46.6  # 1,226 / 2,632
    assert doc["sentences"] == ["Almost half (47%; 1,226 of the 2,632 incidents) of ASB occurred in just "
                                "3 wards; Victoria (484), Burn Valley (390) and Headland & Harbour (352)."]
    section = next(s for s in real_paper["pack"].sections
                   if s.kind == "concentration" and "Hartlepool" in s.title)
    assert section.blocks[0] == doc["sentences"][0]
    pdf = squash(" ".join(t for _, t in visible_pages(real_paper["pdf"])))
    assert squash(doc["sentences"][0]) in pdf


@pytest.mark.realdata
def test_table_sentences_say_the_numbers_of_the_same_table(real_files, real_paper):
    doc = cli_json("table", real_files["police"], "--areas", real_files["wards"], "--by", "LAD24NM",
                   "--period", "2024-01..2024-12")
    total = doc["rows"][-1]["cells"]
    hp = total["Hartlepool"]
    assert (hp["current"], hp["previous"]) == (13282, 14024)
    said = doc["sentences"]
    # the assessment paper's "Recorded crime during the period increased by 11% (+1,471 offences) ..."
    assert (f"Recorded crime during the period reduced by {words.pct_text(abs(hp['pct_diff']))} "
            f"({hp['diff']:+,} offences) in Hartlepool when compared to the previous 12 months.") in said
    assert "Recorded crime during the period reduced by 5% (-742 offences) in Hartlepool when compared " \
           "to the previous 12 months." in said
    # the force column is named by its provider, as the papers do
    force = total["Total"]
    assert (f"Recorded crime during the period reduced by 8% ({force['diff']:+,} offences) in Cleveland "
            "when compared to the previous 12 months.") in said
    # category bullets "(+315; 5%)" from the same rows: Hartlepool's shoplifting rose 294 (15%)
    shop = next(r for r in doc["rows"] if r["category"] == "Shoplifting")["cells"]["Hartlepool"]
    assert (shop["diff"], words.pct_text(shop["pct_diff"])) == (294, "15%")
    ups = next(x for x in said if x.startswith("Increases in Hartlepool were experienced in "))
    assert ups.count("(+") == 3  # the three largest rises of the first-level rows
    rises = sorted(((r["cells"]["Hartlepool"]["diff"], r["category"]) for r in doc["rows"]
                    if r["level"] == 1 and (r["cells"]["Hartlepool"]["diff"] or 0) > 0), reverse=True)[:3]
    for d, cat in rises:
        assert f"{cat.lower()} (+{d:,}; " in ups
    # the monthly average of the same count
    assert (f"An average of {round(hp['current'] / 12):,} offences were recorded each month in Hartlepool, "
            f"compared to {round(hp['previous'] / 12):,} in the previous 12 months.") in said
    # the pack's sentences section prints the same list
    pack_said = next(s for s in real_paper["pack"].sections if s.kind == "sentences").blocks[0][1]
    assert pack_said == said
    pdf = squash(" ".join(t for _, t in visible_pages(real_paper["pdf"])))
    assert all(squash(x) in pdf for x in said)


@pytest.mark.realdata
def test_asb_sentences_give_the_monthly_average_and_the_peak_month(real_files, real_paper):
    doc = cli_json("table", real_files["police"], "--areas", real_files["wards"], "--by", "LAD24NM",
                   "--within", "LAD24NM=Hartlepool", "--period", "2024-01..2024-12", "--kind", "asb")
    cell = doc["rows"][-1]["cells"]["Hartlepool"]
    assert (cell["current"], cell["previous"], cell["diff"]) == (2632, 3133, -501)
    assert doc["sentences"] == [
        "Anti-social behaviour incidents during the period reduced by 16% (-501 incidents) in Hartlepool "
        "when compared to the previous 12 months.",
        "An average of 219 incidents were recorded each month in Hartlepool, compared to 261 in the "
        "previous 12 months.",
        "Levels in Hartlepool were greatest in June 2024 (309 incidents)."]
    monthly = cli_json("rank", real_files["police"], "--areas", real_files["wards"], "--category", "asb",
                       "--from", "2024-06", "--to", "2024-06", "--within", "LAD24NM=Hartlepool")
    assert monthly["total"] == 309  # the peak month's count, from the ranking of that month
    pack_said = [s for s in real_paper["pack"].sections if s.kind == "sentences"][1].blocks[0][1]
    assert pack_said == doc["sentences"]


@pytest.mark.realdata
def test_summary_and_indicator_sentences_are_in_their_json(real_files, tmp_path):
    doc = cli_json("summary", real_files["police"], "--areas", real_files["wards"], "--area", "Hemlington",
                   "--to", "2024-12")
    assert " ".join(doc["sentences"]) == doc["text"] and len(doc["sentences"]) == 2
    assert doc["sentences"][1].startswith(f"In the 12 months up to December 2024 there were {doc['asb']['current']:,} ")
    spec = tmp_path / "ind.csv"
    spec.write_text("indicator,category,target\nAnti-social behaviour,asb,5% reduction\n", encoding="utf-8")
    ind = cli_json("indicators", real_files["police"], "--spec", spec, "--period", "2024-04..2024-06")
    (row,) = ind["rows"]
    assert ind["sentences"] == [
        f"Anti-social behaviour: {words.direction(row['current'], row['previous']).lower()} "
        f"({row['diff']:+,}; {row['current']:,} against {row['previous']:,}), {row['status']} for the "
        "target '5% reduction'."]


@pytest.mark.realdata
def test_the_patrol_section_lists_ten_named_areas_with_ward_and_grid_reference(real_paper):
    section = next(s for s in real_paper["pack"].sections if s.kind == "map" and s.title.startswith("Patrol areas"))
    table = next(b for b in section.blocks if isinstance(b, report_pack.Table))
    assert [lab for _, lab in table.columns] == ["Rank", "Place", "Ward", "Grid reference", "Incidents",
                                                 "Area (ha)", "Months"]
    assert [row[0] for row in table.cells] == [str(i) for i in range(1, 11)]
    # the wards span four authorities: each ward is named with its authority
    assert table.cells[0][:5] == ["1", "On or near Homerton Road", "Berwick Hills & Pallister ward, Middlesbrough",
                                  "NZ 5202 1889", "210"]
    assert all(row[1].startswith("On or near ") and " ward, " in row[2] and row[3].startswith("NZ ")
               for row in table.cells)
    assert section.document["clusters"][0]["count"] == 210 and len(section.document["clusters"]) == 10


def test_numbered_labels_never_overlap_and_keep_rank_one_in_place():
    from hotspot_app.render import static_maps

    anchors = [(0.0, 0.0), (10.0, 0.0), (5.0, 5.0), (3000.0, 3000.0)]
    spots = static_maps.label_positions(anchors, (-2000.0, -2000.0, 4000.0, 4000.0), (6.0, 6.0))
    gap = 0.24 * 1000.0  # a label's diameter at 1,000 m per inch
    assert spots[0] == anchors[0] and spots[3] == anchors[3]  # free labels stay on their areas
    for i in range(len(spots)):
        for j in range(i):
            assert ((spots[i][0] - spots[j][0]) ** 2 + (spots[i][1] - spots[j][1]) ** 2) ** 0.5 >= gap


@pytest.mark.realdata
def test_a_table_of_crime_and_asb_shows_both_blocks_and_counts_nothing_twice(real_files):
    doc = cli_json("table", real_files["police"], "--areas", real_files["wards"], "--by", "LAD24NM",
                   "--period", "2024-01..2024-12", "--category", "crime", "--category", "asb")
    rows = {r["category"]: r for r in doc["rows"]}
    crime, asb, total = rows["Crime total"], rows["Anti-social behaviour"], doc["rows"][-1]
    assert (crime["kind"], crime["subtotal"], asb["kind"], asb["subtotal"]) == ("crime", True, "asb", True)
    assert [r["category"] for r in doc["rows"]].count("Anti-social behaviour") == 1  # said once
    hp = {k: r["cells"]["Hartlepool"]["current"] for k, r in (("crime", crime), ("asb", asb), ("total", total))}
    assert hp == {"crime": 13282, "asb": 2632, "total": 15914}  # the grand total adds the blocks
    for c in doc["columns"]:
        assert total["cells"][c["id"]]["current"] == crime["cells"][c["id"]]["current"] + asb["cells"][c["id"]]["current"]
    assert total["category"] == "Total" and total["cells"]["Total"]["previous"] == \
        crime["cells"]["Total"]["previous"] + asb["cells"]["Total"]["previous"] == 79580 + 17433
    assert any(s.startswith("Recorded crime during the period") for s in doc["sentences"])
    assert any(s.startswith("Anti-social behaviour incidents during the period") for s in doc["sentences"])
    from typer.testing import CliRunner

    md = CliRunner().invoke(app, [str(a) for a in ("table", real_files["police"], "--areas", real_files["wards"],
                                                    "--by", "LAD24NM", "--period", "2024-01..2024-12",
                                                    "--category", "crime", "--category", "asb")]).stdout
    assert md.startswith("### Crime and anti-social behaviour") and "| Anti-social behaviour " in md
