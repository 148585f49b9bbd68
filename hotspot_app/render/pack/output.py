"""Rendering a pack: HTML (Jinja2 templates), PDF (WeasyPrint), Word (python-docx) and Excel
(the one `xlsx.workbook`), and writing the files atomically, never over an input."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from hotspot_app.core.errors import InputError
from hotspot_app.io import exports
from hotspot_app.render.pack import layout
from hotspot_app.render.pack.model import Image, Pack, Table
from hotspot_app.render.pack.spec import FORMATS


# =========================================================================== renderers
def css_string(value) -> str:
    """`value` as a quoted CSS string with every non-alphanumeric character escaped (user text
    inside a <style> block can neither close the string nor the element)."""
    from markupsafe import Markup

    body = "".join(c if (c.isalnum() and c.isascii()) or c == " " else f"\\{ord(c):x} " for c in str(value))
    return Markup(f'"{body}"')



def template_env():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("hotspot_app.render.pack", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    return env



def render_html(pack: Pack) -> str:
    """A standalone HTML page (images inline; user text escaped by Jinja2's autoescape)."""
    tmpl = template_env().get_template("report.html.j2")
    return tmpl.render(pack=pack, sections=pack.sections + [pack.about], Table=Table, Image=Image)



def render_pdf(pack: Pack) -> bytes:
    """PDF of the HTML (WeasyPrint; the pack's page, A4 by default; page numbers, the title on every
    page; wide tables laid out by `layout.plan`)."""
    from weasyprint import HTML

    return HTML(string=render_html(pack), base_url=str(Path(__file__).parent)).write_pdf()



def _x(text) -> str:
    """Text a Word file can hold (`exports.xml_text`: control characters shown as U+FFFD)."""
    return exports.xml_text(text)


def _docx_page(sect, page, orientation: str) -> None:
    """Give a Word section the pack's page size in `orientation`, with the PDF's margins."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    w, h = page.dimensions_mm(orientation)
    sect.orientation = WD_ORIENT.LANDSCAPE if orientation == "landscape" else WD_ORIENT.PORTRAIT
    sect.page_width, sect.page_height = Mm(w), Mm(h)
    sect.left_margin = sect.right_margin = Mm(layout.MARGIN_SIDE_MM)
    sect.top_margin, sect.bottom_margin = Mm(layout.MARGIN_TOP_MM), Mm(layout.MARGIN_BOTTOM_MM)


def render_docx(pack: Pack) -> bytes:
    """Word document: headings, paragraphs, tables with (grouped) headers, images; the PDF's page
    (size, orientation, margins) and its table layout (`layout.plan`: a wide table on a turned
    page, shrunk or split into column groups repeating the row labels)."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.shared import Pt, RGBColor

    doc = Document()
    page = pack.page
    sect = doc.sections[0]
    _docx_page(sect, page, page.orientation)
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(_x(pack.title), level=0)
    if pack.subtitle:
        doc.add_paragraph(_x(pack.subtitle))
    if pack.label:
        p = doc.add_paragraph()
        run = p.add_run(_x(pack.label))
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x30, 0x00)
    sect.header.paragraphs[0].text = _x(pack.title + (f" — {pack.label}" if pack.label else ""))
    state = {"orientation": page.orientation}

    def turn(orientation: str) -> None:
        if state["orientation"] != orientation:
            _docx_page(doc.add_section(WD_SECTION.NEW_PAGE), page, orientation)
            state["orientation"] = orientation

    for s in pack.sections + [pack.about]:
        turn(s.orientation(page))
        if s.title:
            doc.add_heading(_x(s.title), level=1)
        for w in s.warnings:
            p = doc.add_paragraph()
            r = p.add_run(_x(f"Warning: {w}"))
            r.italic = True
            r.font.color.rgb = RGBColor(0x8A, 0x4B, 0x00)
        for b in s.blocks:
            if isinstance(b, str):
                doc.add_paragraph(_x(b))
            elif isinstance(b, tuple) and b[0] == "list":
                for item in b[1]:
                    doc.add_paragraph(_x(item), style="List Bullet")
            elif isinstance(b, Image):
                width = Pt(page.text_width_pt(state["orientation"]))
                doc.add_picture(io.BytesIO(b.png), width=width)
                if b.caption:
                    c = doc.add_paragraph(_x(b.caption))
                    c.runs[0].italic = True
            elif isinstance(b, Table):
                for part, t in b.layout(page):
                    if part.parts > 1:
                        c = doc.add_paragraph(_x(f"{b.title}: columns, part {part.index + 1} of {part.parts}"))
                        c.runs[0].italic = True
                    docx_table(doc, t, part.font_pt, page.text_width_pt(part.orientation))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()



def docx_table(doc, t: Table, font_pt: float = layout.TABLE_PT, width_pt: float | None = None) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    head_rows = 2 if t.grouped else 1
    text_cols = t.text_columns
    table = doc.add_table(rows=head_rows + len(t.cells), cols=len(t.columns))
    table.style = "Table Grid"
    table.autofit = False
    if width_pt:  # columns as wide as their text needs, scaled to the text width
        chars = layout.column_chars(t.columns, t.cells, t.indent, text_cols)
        need = [layout.width_pt([c], font_pt) for c in chars]
        scale = width_pt / sum(need)
        for j, column in enumerate(table.columns):
            column.width = Pt(need[j] * scale)
            for cell in column.cells:
                cell.width = Pt(need[j] * scale)
    if t.grouped:
        j = 0
        for group, span in t.header_groups():
            cell = table.cell(0, j)
            if span > 1:
                cell = cell.merge(table.cell(0, j + span - 1))
            cell.text = _x(group)
            j += span
    for j, (_, label) in enumerate(t.columns):
        table.cell(head_rows - 1, j).text = _x(label)
    for r in range(head_rows):  # header rows repeat on every page
        table.rows[r]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for r in range(head_rows):
        for j, cell in enumerate(table.rows[r].cells):
            for p in cell.paragraphs:
                if j not in text_cols and r == head_rows - 1:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                for run in p.runs:
                    run.bold = True
                    run.font.size = Pt(font_pt)
    for i, row in enumerate(t.cells):
        for j, value in enumerate(row):
            cell = table.cell(head_rows + i, j)
            text = ("   " * t.indent[i] + value) if j == 0 else value
            cell.text = _x(text)
            p = cell.paragraphs[0]
            if j not in text_cols:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for run in p.runs:
                run.font.size = Pt(font_pt)
                run.bold = bool(t.bold[i])
    if t.caption:
        c = doc.add_paragraph(_x(t.caption))
        c.runs[0].italic = True



def render_xlsx(pack: Pack) -> bytes:
    """Workbook: one formatted sheet per table (`xlsx.workbook`), sentences on a Summary sheet,
    and the Notes sheet with the About section and every warning."""
    from hotspot_app.render import xlsx

    sheets = []
    sentences = [(s.title, text) for s in pack.sections if s.kind in ("summary", "concentration", "evaluation",
                                                                       "sentences")
                 for b in s.blocks for text in ([b] if isinstance(b, str) else
                                                list(b[1]) if isinstance(b, tuple) else [])]
    if sentences:
        sheets.append(xlsx.Sheet(pd.DataFrame({"Section": [t for t, _ in sentences],
                                               "Text": [b for _, b in sentences]}),
                                 pack.title, "Summary", period=pack.subtitle, source=pack.label))
    for t in pack.tables:
        sheets.append(t.sheet)
    defs = []
    caveats = ([pack.label] if pack.label else [])
    for b in pack.about.blocks:
        if isinstance(b, str):
            caveats.append(b)
        elif isinstance(b, tuple):
            caveats.extend(b[1])
    return xlsx.workbook(sheets, definitions=defs, caveats=caveats, title=f"Notes: {pack.title}")



RENDERERS = {"html": lambda p: render_html(p).encode("utf-8"), "pdf": render_pdf,
             "docx": render_docx, "xlsx": render_xlsx}



def render(pack: Pack, fmt: str) -> bytes:
    """Bytes of the pack in `fmt` (html, pdf, docx or xlsx)."""
    if fmt not in RENDERERS:
        raise InputError(f"unknown format '{fmt}'; use html, pdf, docx or xlsx", parameter="format")
    return RENDERERS[fmt](pack)



def check_outputs(outs: Sequence[str | Path], inputs: Iterable[str | Path] = ()) -> list[Path]:
    """Validate --out paths: a known extension each, none equal to an input or repeated."""
    if not outs:
        raise InputError("give at least one --out FILE (.html, .pdf, .docx or .xlsx)", parameter="out")
    paths = [Path(o) for o in outs]
    for p in paths:
        if p.suffix.lower() not in FORMATS:
            raise InputError(f"cannot write '{p.suffix or p.name}'; use .html, .pdf, .docx or .xlsx",
                             parameter="out")
        if p.exists() and p.is_dir():
            raise InputError(f"{p} is a folder", parameter="out")
    exports.check_outputs_distinct(list(inputs), paths)
    return paths



def write(pack: Pack, outs: Sequence[str | Path]) -> list[Path]:
    """Render every output first, then write each atomically (a failure leaves old files)."""
    paths = [Path(o) for o in outs]
    blobs = [(p, render(pack, FORMATS[p.suffix.lower()])) for p in paths]
    return [exports.write_bytes_atomic(p, data) for p, data in blobs]
