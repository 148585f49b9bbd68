"""Number formatting and table downloads (markdown, CSV, JSON, XLSX bytes)."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import shapely

from hotspot_app.core import periods, schema
from hotspot_app.render import formatting
from hotspot_app.core import summaries


def test_number_and_percent_formats():
    assert formatting.fmt_int(1331) == "1,331"
    assert formatting.fmt_int(-168, signed=True) == "-168" and formatting.fmt_int(12, signed=True) == "+12"
    assert formatting.fmt_int(None) == "n/a" and formatting.fmt_int(pd.NA) == "n/a"
    assert formatting.fmt_pct(11.2) == "11.2%" and formatting.fmt_pct(-28.5) == "-28.5%"
    assert formatting.fmt_pct(None) == "n/a" and formatting.fmt_pct(float("inf")) == "n/a"
    assert formatting.fmt_rate(7.5234) == "7.52"


def small_table():
    months = periods.month_range("2023-01", "2024-03")
    df = pd.DataFrame({"category": ["Drugs"] * len(months) + ["Shoplifting"] * 3 + ["Shoplifting"],
                       "month": months + ["2024-03"] * 3 + ["2023-03"],
                       "x": [500.0] * len(months) + [5.0] * 4, "y": [500.0] * len(months) + [5.0] * 4})
    return summaries.partnership_table(schema.make_incidents(df), shapely.box(0, 0, 10, 10), "2024-03",
                                   include_empty=False)


def test_table_markdown_csv_json_xlsx():
    rows, warnings = small_table()
    md = formatting.table_markdown(rows, "Town centre", warnings)
    assert "| **Victim Based Crime**" in md
    assert "&nbsp;&nbsp;&nbsp;&nbsp;Shoplifting |" in md.replace("  ", " ").replace(" |", " |")
    assert "200.0%" in md and "Infinity" not in md
    # the last-6-months comparison is uncovered (2022-10..2023-03 starts before the data) -> n/a
    assert "n/a" in md and "> warning: last 6 months previous" in md
    csv_text = formatting.table_csv(rows)
    head = csv_text.splitlines()[0].split(",")
    assert head[:4] == ["category", "parent", "level", "node"] and "last_12_months_pct_diff" in head
    total = pd.read_csv(io.StringIO(csv_text)).set_index("category").loc["Total"]
    assert total["selected_month_current"] == 3 and total["selected_month_pct_diff"] == 200.0
    doc = json.loads(formatting.json_text(summaries.table_document((rows, warnings), "Town centre")))
    assert doc["rows"][-1]["selected_month"] == {"current": 3, "previous": 1, "diff": 2, "pct_diff": 200.0}
    assert doc["rows"][-1]["last_6_months"]["previous"] is None
    wb = openpyxl.load_workbook(io.BytesIO(formatting.table_xlsx(rows)))  # formatted: see test_xlsx.py
    values = [[c.value for c in r] for r in wb["Table"].iter_rows()]
    header = values[4]
    assert header[:5] == ["Crime", "Current", "Previous", "Diff", "% Diff"]
    last = next(r for r in values if r[0] == "Total")
    assert last[1] == 3 and last[4] == 2.0  # 200% stored as an Excel percentage
    assert last[6] == "n/a"  # last 6 months previous: not covered, never 0
    # the same table on screen / in the pack: differences carry their sign, like the XLSX's
    shown = formatting.table_display(rows).set_index("Crime").loc["Total"]
    assert shown["Selected month: Diff"] == "+2" and shown["Selected month: Current"] == "3"
    assert xlsx_number_format(wb["Table"], "Total", 3).startswith("+")


def xlsx_number_format(sheet, row_label: str, col: int) -> str:
    row = next(r for r in sheet.iter_rows() if r[0].value == row_label)
    return row[col].number_format


def test_rank_markdown_shows_na_rates():
    inc = schema.make_incidents(pd.DataFrame({"category": ["Drugs"] * 3, "month": ["2024-01"] * 3,
                                              "x": [1.0, 2.0, 50.0], "y": [1.0, 2.0, 50.0]}))
    import geopandas as gpd
    wards = schema.make_areas(gpd.GeoDataFrame({"name": ["A"], "population": [2000]},
                                               geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:27700"),
                              population="population", layer="ward")
    table, _ = summaries.rank_areas(inc, wards)
    md = formatting.rank_markdown(table, "Drugs", ["note"])
    assert "| A " in md and "66.7%" in md and "1.00" in md and "- note" in md
    assert "outside" in md
