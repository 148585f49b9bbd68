"""What a pack is made of: sections of headings, paragraphs, tables and images."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Sequence

import geopandas as gpd
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import periods, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.render import formatting
from hotspot_app.render.pack.inputs import Inputs
from hotspot_app.render.pack.layout import Page, Part, plan


# =========================================================================== the pack
@dataclass
class Table:
    """A table as shown: `columns` are ``(group, label)`` pairs, `cells` display strings,
    `sheet` the same table with numbers for the XLSX."""

    title: str
    columns: list[tuple[str, str]]
    cells: list[list[str]]
    bold: list[bool]
    indent: list[int]
    sheet: Any
    caption: str = ""
    document: dict | None = None  # the CLI's JSON for the same arguments

    @property
    def grouped(self) -> bool:
        return any(g for g, _ in self.columns)

    @property
    def text_columns(self) -> set[int]:
        """Columns holding text (aligned left); the others hold numbers, '%' or 'n/a'."""
        import re

        number = re.compile(r"^([+\-]?[\d,]+(\.\d+)?%?|n/a|)$")
        return {j for j in range(len(self.columns))
                if j == 0 or any(not number.match(row[j].strip()) for row in self.cells)}

    def layout(self, page: Page) -> list[tuple[Part, "Table"]]:
        """The printed parts of this table on `page` (`layout.plan`): each with the table of its
        columns, the row labels repeated in every part."""
        return [(part, self.part(part))
                for part in plan(self.columns, self.cells, self.indent, page, self.text_columns)]

    def part(self, part: Part) -> "Table":
        if part.parts == 1:
            return self
        cols = list(part.columns)
        return Table(self.title, [self.columns[j] for j in cols], [[row[j] for j in cols] for row in self.cells],
                     self.bold, self.indent, self.sheet,
                     caption=self.caption if part.index == part.parts - 1 else "", document=self.document)

    def header_groups(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for g, _ in self.columns:
            if out and out[-1][0] == g:
                out[-1] = (g, out[-1][1] + 1)
            else:
                out.append((g, 1))
        return out



@dataclass
class Image:
    title: str
    png: bytes
    caption: str = ""
    kind: str = "map"  # map | chart

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")



@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)  # str (paragraph) | Table | Image | ("list", [str])
    warnings: list[str] = field(default_factory=list)
    kind: str = "text"
    document: dict | None = None  # the CLI's JSON for the same arguments (summary, evaluate, rank)

    def orientation(self, page: Page) -> str:
        """The page orientation the section is printed on: turned (with its heading and text)
        when one of its tables needs the turned page (`layout.plan`)."""
        turned = any(part.orientation != page.orientation for b in self.blocks if isinstance(b, Table)
                     for part, _ in b.layout(page))
        return page.turned if turned else page.orientation



@dataclass
class Pack:
    title: str
    subtitle: str
    label: str
    sections: list[Section]
    about: Section
    warnings: list[str]
    generated: str = ""
    page: Page = field(default_factory=Page)

    @property
    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    @property
    def images(self) -> list[Image]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]



def pick_areas(inputs: Inputs, args: dict, key: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """(layer areas, the named area's rows, its name) for a section's areas/area."""
    layer = inputs.areas[args["areas"]]
    if args.get("layer"):
        layer = layer[layer["layer"].astype(str) == str(args["layer"])].reset_index(drop=True)
    if "area" not in args:
        return layer, layer, ""
    try:
        rows = core_areas.find_area(layer, str(args["area"]))
    except InputError as exc:
        raise InputError(exc.message, parameter=f"{key}.area") from None
    return layer, rows, str(rows["name"].iloc[0])



def months_of(args: dict, incidents: pd.DataFrame, selected: pd.Series | None = None) -> list[str]:
    cov = periods.Coverage.of(incidents if selected is None else incidents[selected])
    lo, hi = args.get("from") or cov.first, args.get("to") or cov.last
    if lo is None:
        raise InputError("no incidents loaded", parameter="data")
    return periods.month_range(lo, hi)



def what_label(category: Sequence[str] | None) -> str:
    return taxonomy.selection_label(category)  # the one set of group labels



def display_cells(df: pd.DataFrame) -> tuple[list[tuple[str, str]], list[list[str]]]:
    cols = [c if isinstance(c, tuple) else ("", str(c)) for c in df.columns]
    cells = [[("" if v is None else str(v)) for v in row] for row in df.astype(object).itertuples(index=False)]
    return cols, cells



def sheet_name(title: str, limit: int = 31) -> str:
    """A workbook sheet name a reader knows the table by: its title, cut at a word within Excel's
    31 characters ('Crime by year (2023/24 to' ...), without the characters Excel refuses."""
    text = "".join("-" if ch in "/\\" else ch for ch in str(title) if ch not in "[]:*?").strip()
    if len(text) <= limit:
        return text or "Table"
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;-—(")
    return cut or text[:limit]


def document_table(document: dict, title: str, caption: str = "", total_name: str | None = None) -> Table:
    """A design-§5b table document (the table engine's ``{"columns", "rows", "warnings"}``) as a
    pack table: the same layout and numbers as its XLSX sheet (`formatting.document_sheet`)."""
    measures = formatting.document_measures(document)
    fmt = {"current": formatting.fmt_int, "previous": formatting.fmt_int,
           "diff": lambda v: formatting.fmt_int(v, signed=True), "pct_diff": formatting.fmt_pct,
           "rate": formatting.fmt_rate, "rate_eb": formatting.fmt_rate}
    cols = [("", "Category")] + [(cid, head) for cid, _, head in measures]
    cells = [[str(r["category"])] + [fmt[key](r["cells"][cid].get(key)) for cid, key, _ in measures]
             for r in document["rows"]]
    sheet = formatting.document_sheet(document, title, name=sheet_name(title), total_name=total_name)
    if total_name:  # the whole-force column named as the papers name it ('Cleveland'), not 'Total'
        cols = [(total_name if g == "Total" else g, lab) for g, lab in cols]
        caption = caption.replace("Total: ", f"{total_name}: ")
    return Table(title, cols, cells, formatting.document_groups(document),
                 [int(r["level"]) for r in document["rows"]], sheet, caption=caption, document=document)
