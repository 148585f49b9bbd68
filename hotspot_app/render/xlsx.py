"""Formatted Excel workbooks: the ONE function behind every XLSX the tool writes (`workbook`).

Analysts paste these tables into partnership papers (docs/design.md §10), so a workbook is laid out as a
paper table, not a data dump:

- a title, the period and the source above the table;
- grouped headers (columns given as ``(group, label)`` pairs become a merged group row over a
  label row, e.g. "Last 12 months" over "Current | Previous | Diff | % Diff");
- numbers stored as numbers with formats: counts ``#,##0``, differences ``+#,##0``, percentages
  as Excel percentages (the value 11.2 meaning 11.2% is stored as 0.112 with ``0.0%``), rates
  ``0.00``; a missing value (not covered, previous 0) is the text ``n/a``, never 0 or blank;
- bold rows (groups, totals), indented names, a frozen header, column widths to fit;
- a ``Notes`` sheet with definitions, caveats and every warning.

Every text cell goes through `exports.neutralise` (formula-injection safety). Nothing is written
to disk here: `workbook` returns bytes (the CLI writes them with `exports.write_bytes_atomic`,
the app offers them as a download).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from hotspot_app.io.exports import neutralise, xml_text
from hotspot_app.core.measures import is_missing

__all__ = ["Sheet", "workbook", "sheet_of", "header_label", "NA"]

NA = "n/a"
INT_FORMAT = "#,##0"
DIFF_FORMAT = "+#,##0;-#,##0;0"
PCT_FORMAT = "0.0%"
RATE_FORMAT = "#,##0.00"
DECIMAL_FORMAT = "#,##0.0"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
GROUP_FILL = PatternFill("solid", fgColor="B8CCE4")
THIN = Side(style="thin", color="8EA9C1")
MAX_WIDTH = 60

# Column headings users read instead of raw field names (generic tables).
_LABELS = {"area_id": "Area code", "name": "Area", "count": "Count", "share_pct": "Share",
           "cumulative_share_pct": "Cumulative share", "rate_per_1000": "Rate per 1,000",
           "population": "Population", "pct_change": "% change", "pct_diff": "% Diff",
           "diff": "Diff", "current": "Current", "previous": "Previous", "rank": "Rank",
           "category": "Category", "month": "Month", "series": "Series", "covered": "Covered"}


def header_label(column: str) -> str:
    """A readable heading for a field name: 'share_pct' -> 'Share', 'first_month' -> 'First month'."""
    text = str(column)
    if text in _LABELS:
        return _LABELS[text]
    text = text.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass
class Sheet:
    """One table of a workbook.

    frame : the numbers (ints, floats) and texts. Columns are labels, or ``(group, label)``
        pairs for grouped headers (a group of ``""`` leaves the label alone).
    percent : columns holding percentages in percent units (11.2 = 11.2%).
    rate : columns holding rates or other 2-decimal values.
    diff : columns holding signed differences (shown +12 / -5).
    bold : per row, True to bold it (groups, totals).
    indent : per row, the indent level of the first column (hierarchy).
    """

    frame: pd.DataFrame
    title: str
    name: str = "Table"
    period: str = ""
    source: str = ""
    percent: Sequence = ()
    rate: Sequence = ()
    diff: Sequence = ()
    bold: Sequence[bool] | None = None
    indent: Sequence[int] | None = None
    notes: Sequence[str] = field(default_factory=list)


def sheet_of(df: pd.DataFrame, title: str, name: str = "Table", **kwargs) -> Sheet:
    """A `Sheet` for any table: headings made readable (`header_label`), percentage columns
    (names with ``pct``/``share``) and rate columns (``rate``) detected from the names, a row
    named ``Total`` in bold."""
    frame = df.copy()
    percent = [c for c in frame.columns if "pct" in str(c) or "share" in str(c)]
    rate = [c for c in frame.columns if "rate" in str(c)]
    diff = [c for c in frame.columns if str(c) in ("diff", "change") or str(c).endswith("_diff")]
    labels = {c: header_label(c) for c in frame.columns}
    if "pct_change" in labels and "change" in labels:
        labels["change"] = "Change"
    frame = frame.rename(columns=labels)
    bold = [any(str(v) == "Total" for v in row) for row in frame.astype(object).itertuples(index=False)]
    kwargs.setdefault("bold", bold)
    return Sheet(frame, title, name, percent=[labels[c] for c in percent], rate=[labels[c] for c in rate],
                 diff=[labels[c] for c in diff], **kwargs)


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in xml_text(name) if ch not in '[]:*?/\\\ufffd')[:31] or "Table"
    out, n = base, 2
    while out.lower() in used:
        suffix = f" ({n})"
        out, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(out.lower())
    return out


def _text(value) -> str:
    return xml_text(neutralise(str(value)))


def _write_table(ws, sheet: Sheet) -> None:
    row = 1
    ws.cell(row, 1, _text(sheet.title)).font = Font(bold=True, size=14)
    row += 1
    for line, italic in ((sheet.period, True), (sheet.source, False)):
        if line:
            ws.cell(row, 1, _text(line)).font = Font(italic=italic, color="444444")
            row += 1
    row += 1
    cols = list(sheet.frame.columns)
    grouped = any(isinstance(c, tuple) for c in cols)
    groups = [c[0] if isinstance(c, tuple) else "" for c in cols]
    labels = [c[1] if isinstance(c, tuple) else c for c in cols]
    if grouped:
        start = 0
        while start < len(cols):
            end = start
            while end + 1 < len(cols) and groups[end + 1] == groups[start]:
                end += 1
            cell = ws.cell(row, start + 1, _text(groups[start]) if groups[start] else None)
            cell.font, cell.fill = Font(bold=True), GROUP_FILL
            cell.alignment = Alignment(horizontal="center")
            if end > start and groups[start]:
                ws.merge_cells(start_row=row, start_column=start + 1, end_row=row, end_column=end + 1)
            for j in range(start, end + 1):
                ws.cell(row, j + 1).fill = GROUP_FILL
            start = end + 1
        row += 1
    for j, label in enumerate(labels):
        cell = ws.cell(row, j + 1, _text(label))
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(horizontal="left" if j == 0 else "right", wrap_text=True)
        cell.border = Border(bottom=THIN)
    header_row = row
    row += 1
    percent, rate, diff = set(sheet.percent), set(sheet.rate), set(sheet.diff)
    widths = [len(str(lab)) for lab in labels]
    for i, values in enumerate(sheet.frame.itertuples(index=False)):
        bold = bool(sheet.bold[i]) if sheet.bold is not None else False
        for j, (col, value) in enumerate(zip(cols, values)):
            cell = ws.cell(row, j + 1)
            shown = value
            if is_missing(value):
                cell.value = NA
                cell.alignment = Alignment(horizontal="right")
                shown = NA
            elif isinstance(value, bool):
                cell.value = "yes" if value else "no"
            elif isinstance(value, (int, float)) or hasattr(value, "item"):
                number = value.item() if hasattr(value, "item") else value
                if col in percent:
                    cell.value, cell.number_format = round(float(number) / 100.0, 10), PCT_FORMAT
                    shown = f"{float(number):.1f}%"
                elif col in rate:
                    cell.value, cell.number_format = float(number), RATE_FORMAT
                    shown = f"{float(number):,.2f}"
                elif col in diff:
                    cell.value, cell.number_format = number, DIFF_FORMAT
                    shown = f"{number:+,}"
                elif isinstance(number, float) and not float(number).is_integer():
                    cell.value, cell.number_format = number, DECIMAL_FORMAT
                    shown = f"{number:,.1f}"
                else:
                    cell.value, cell.number_format = number, INT_FORMAT
                    shown = f"{number:,.0f}"
            else:
                cell.value = _text(value)
                if len(str(value)) > MAX_WIDTH:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            if j == 0 and sheet.indent is not None:
                cell.alignment = Alignment(indent=int(sheet.indent[i]))
            if bold:
                cell.font = Font(bold=True)
            extra = 2 * int(sheet.indent[i]) if (j == 0 and sheet.indent is not None) else 0
            widths[j] = max(widths[j], len(str(shown)) + extra)
        row += 1
    if sheet.notes:
        row += 1
        for note in sheet.notes:
            ws.cell(row, 1, _text(note)).font = Font(italic=True, color="7F3F00")
            row += 1
    for j, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(j + 1)].width = min(MAX_WIDTH, max(8, w + 2))
    ws.freeze_panes = ws.cell(header_row + 1, 2)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def workbook(sheets: Sequence[Sheet], definitions: Sequence[tuple[str, str]] = (),
             caveats: Sequence[str] = (), title: str = "Notes") -> bytes:
    """XLSX bytes: one formatted sheet per `Sheet`, then a ``Notes`` sheet listing
    `definitions` (term, definition), `caveats` and every sheet's notes (warnings)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for sheet in sheets:
        ws = wb.create_sheet(_sheet_name(sheet.name, used))
        _write_table(ws, sheet)
    ws = wb.create_sheet(_sheet_name("Notes", used))
    ws.cell(1, 1, _text(title)).font = Font(bold=True, size=14)
    row = 3
    defaults = [("% change / % Diff", "100 × (current − previous) / previous, 1 decimal; n/a when "
                 "previous is 0 or a window is not covered."),
                ("Rate per 1,000", "1,000 × count / population."),
                ("n/a", "Not available: months not covered by the loaded data, or no comparison "
                 "possible. Never a zero."),
                ("Coverage", "A month is covered when the loaded data of that source have rows in "
                 "it; a window with an uncovered month is n/a, never a partial count.")]
    terms = list(definitions) + [d for d in defaults if d[0] not in {t for t, _ in definitions}]
    ws.cell(row, 1, "Definitions").font = Font(bold=True, size=12)
    row += 1
    for term, text in terms:
        ws.cell(row, 1, _text(term)).font = Font(bold=True)
        c = ws.cell(row, 2, _text(text))
        c.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    notes = list(caveats) + [n for s in sheets for n in s.notes]
    row += 1
    ws.cell(row, 1, "Caveats and warnings").font = Font(bold=True, size=12)
    row += 1
    if not notes:
        ws.cell(row, 1, "None.")
    for note in dict.fromkeys(notes):
        c = ws.cell(row, 1, _text(note))
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        ws.row_dimensions[row].height = 15 * max(1, len(note) // 110 + 1)
        row += 1
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
