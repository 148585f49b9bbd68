"""The one formatted-workbook function (xlsx.workbook) behind every XLSX: title and period above
the table, grouped headers, numbers as numbers with count / signed / % formats, 'n/a' (never 0
or blank) for missing values, bold totals, indented hierarchy, frozen header, formula text
neutralised, and a Notes sheet with definitions and warnings."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import shapely

from hotspot_app.core import periods, schema
from hotspot_app.render import formatting, xlsx
from hotspot_app.core import summaries


def _load(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_grouped_headers_formats_bold_totals_and_na():
    frame = pd.DataFrame({("", "Area"): ["North", "=HYPERLINK(\"http://x\")", "Total"],
                          ("2024", "Count"): [1331, 7, 1338],
                          ("2024", "Diff"): [-168, None, -168],
                          ("2024", "% Diff"): [-11.2, None, -11.2]})
    sheet = xlsx.Sheet(frame, "Crime by area", "Areas", period="April 2023 to March 2024",
                       source="police.uk", percent=[("2024", "% Diff")], diff=[("2024", "Diff")],
                       bold=[False, False, True], indent=[0, 1, 0], notes=["a window is not covered"])
    wb = _load(xlsx.workbook([sheet], definitions=[("Total", "all areas")], caveats=["synthetic"]))
    assert wb.sheetnames == ["Areas", "Notes"]
    ws = wb["Areas"]
    rows = _rows(ws)
    assert rows[0][0] == "Crime by area" and ws["A1"].font.bold
    assert rows[1][0] == "April 2023 to March 2024" and rows[2][0] == "police.uk"
    # grouped header: '2024' merged over Count/Diff/% Diff, labels on the next row, bold
    assert rows[4][1] == "2024" and "B5:D5" in {str(r) for r in ws.merged_cells.ranges}
    assert rows[5] == ["Area", "Count", "Diff", "% Diff"] and all(c.font.bold for c in ws[6])
    assert ws.freeze_panes == "B7"
    north, injected, total = rows[6], rows[7], rows[8]
    assert north == ["North", 1331, -168, -0.112]
    assert ws["B7"].number_format == "#,##0" and ws["C7"].number_format == "+#,##0;-#,##0;0"
    assert ws["D7"].number_format == "0.0%"
    assert injected == ["'=HYPERLINK(\"http://x\")", 7, "n/a", "n/a"]  # text neutralised; null is n/a
    assert ws["A8"].alignment.indent == 1
    assert total[0] == "Total" and all(c.font.bold for c in ws[9])
    notes = [v for r in _rows(wb["Notes"]) for v in r if v]
    assert "Total" in notes and "all areas" in notes
    assert "synthetic" in notes and "a window is not covered" in notes
    assert any(str(v).startswith("100 × (current − previous)") for v in notes)


def test_sheet_of_makes_headings_readable_and_detects_percentages():
    df = pd.DataFrame({"name": ["A", "Total"], "count": [3, 4], "share_pct": [75.0, 100.0],
                       "rate_per_1000": [1.234, None]})
    ws = _load(formatting.xlsx_bytes(df, sheet="Wards", title="Wards by count"))["Wards"]
    rows = _rows(ws)
    assert rows[0][0] == "Wards by count"
    assert rows[2] == ["Area", "Count", "Share", "Rate per 1,000"]
    assert rows[3] == ["A", 3, 0.75, 1.234] and ws["C4"].number_format == "0.0%"
    assert ws["D4"].number_format == "#,##0.0" and rows[4][3] == "n/a"
    assert ws["A5"].font.bold and not ws["A4"].font.bold


def test_partnership_table_xlsx_has_window_groups_and_the_numbers():
    months = periods.month_range("2023-01", "2024-03")
    df = pd.DataFrame({"category": ["Drugs"] * len(months) + ["Shoplifting"] * 4,
                       "month": months + ["2024-03"] * 3 + ["2023-03"],
                       "x": [500.0] * len(months) + [5.0] * 4, "y": [500.0] * len(months) + [5.0] * 4})
    rows, warnings = summaries.partnership_table(schema.make_incidents(df), shapely.box(0, 0, 10, 10),
                                             "2024-03", include_empty=False)
    wb = _load(formatting.table_xlsx(rows, title="Town centre", warnings=warnings))
    ws = wb["Table"]
    table = _rows(ws)
    assert table[0][0] == "Town centre"
    assert table[1][0] == "Selected month March 2024; compared with the same period last year."
    assert table[3][1] == "Selected month" and table[3][5] == "Last 6 months" and table[3][9] == "Last 12 months"
    assert table[4][:5] == ["Crime", "Current", "Previous", "Diff", "% Diff"]
    total = next(r for r in table if r[0] == "Total")
    # selected month 3 against 1: +2, 200%; the last-6-months comparison is not covered -> n/a
    assert total[1:5] == [3, 1, 2, 2.0] and total[6:9] == ["n/a", "n/a", "n/a"]
    r = [i for i, row in enumerate(table) if row[0] == "Total"][0] + 1
    assert ws.cell(r, 5).number_format == "0.0%" and ws.cell(r, 1).font.bold
    shop = [i for i, row in enumerate(table) if row[0] == "Shoplifting"][0] + 1
    assert ws.cell(shop, 1).alignment.indent == 2 and not ws.cell(shop, 1).font.bold
    notes = [v for row in _rows(wb["Notes"]) for v in row if v]
    assert any(str(n).startswith("last 6 months previous (2022-10..2023-03)") for n in notes)


def engine_document():
    """A design-§5b table document (`hotspot table --by FIELD --period ...` JSON), by hand."""
    def cell(cur, prev, rate):
        return {"current": cur, "previous": prev, "diff": None if prev is None else cur - prev,
                "pct_diff": None if not prev else round(100 * (cur - prev) / prev, 1), "rate": rate}
    return {"columns": [
        {"id": "Ash", "area": "Ash", "from": "2024-04", "to": "2024-06", "compare_from": "2023-04",
         "compare_to": "2023-06", "population": 2000},
        {"id": "Total", "area": "Total", "from": "2024-04", "to": "2024-06", "compare_from": "2023-04",
         "compare_to": "2023-06", "population": None}],
        "rows": [
            {"category": "Theft Offences", "parent": "Victim Based Crime", "level": 1,
             "cells": {"Ash": cell(3, 2, 1.5), "Total": cell(4, None, None)}},
            {"category": "Shoplifting", "parent": "Theft Offences", "level": 2,
             "cells": {"Ash": cell(3, 2, 1.5), "Total": cell(4, None, None)}},
            {"category": "Total", "parent": None, "level": 0,
             "cells": {"Ash": cell(3, 2, 1.5), "Total": cell(4, None, None)}}],
        "warnings": ["Total previous (2023-04..2023-06): not covered"]}


def test_a_table_engine_document_is_one_formatted_sheet():
    doc = engine_document()
    wb = _load(xlsx.workbook([formatting.document_sheet(doc, "Theft by ward")]))
    ws = wb["Table"]
    rows = _rows(ws)
    assert rows[0][0] == "Theft by ward"
    assert rows[1][0] == "Ash: 2024-04..2024-06 compared with 2023-04..2023-06; population 2,000"  # not "Ash: Ash"
    assert rows[3][1] == "Ash" and rows[3][6] == "Total"
    assert rows[4] == ["Category", "Current", "Previous", "Diff", "% Diff", "Per 1,000",
                       "Current", "Previous", "Diff", "% Diff", "Per 1,000"]
    assert rows[5] == ["Theft Offences", 3, 2, 1, 0.5, 1.5, 4, "n/a", "n/a", "n/a", "n/a"]
    assert ws["A6"].font.bold and not ws["A7"].font.bold and ws["A8"].font.bold
    assert ws["A7"].alignment.indent == 2
    assert ws["E6"].number_format == "0.0%" and ws["F6"].number_format == "#,##0.0"
    notes = [v for r in _rows(wb["Notes"]) for v in r if v]
    assert "Total previous (2023-04..2023-06): not covered" in notes
