"""The report pack (design §5b, §10): a YAML spec -> the partnership paper as HTML, PDF, DOCX and
XLSX, built from the same core calls the CLI makes, so every number in the pack is the one
``hotspot table`` / ``summary`` / ``rank`` / ``evaluate`` prints for the same arguments.

The flow is spec -> `load_spec` (validated at the boundary: one-line errors naming the spec key)
-> `load_inputs` (incidents and areas, as the CLI loads them) -> `build` (a `Pack`: sections of
headings, paragraphs, tables and images, plus "About these figures") -> renderers
(`render_html` via the Jinja2 templates in ``hotspot_app/templates``, `render_pdf` via WeasyPrint,
`render_docx` via python-docx, `render_xlsx` via `xlsx.workbook`) -> `write` (atomic, never over
an input). `report` does all of it for the CLI; `report_demo.yaml` is the demo borough's paper.

Table and indicator sections take the keys of the CLI forms of design §5b (``area``, ``by``,
``within``, ``month``, ``period``, ``years``, ``year_start``, ``compare``, ``kind``, ``category``,
``taxonomy``, ``population``, ``no_total``, ``rows``; ``spec``, ``period``, ``baseline``): the ONE
adapter `table_section` makes the call ``hotspot table`` makes for them (the seed-004 table for
one area and month, the table engine `tables.build_table` otherwise), and `_indicators` the call
of ``hotspot indicators`` (`tables.indicators`).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import geopandas as gpd
import pandas as pd

from . import areas as core_areas
from . import exports, periods, reports, settings, taxonomy
from .errors import InputError

__all__ = ["FORMATS", "SECTION_KEYS", "Spec", "Inputs", "Pack", "Table", "Image", "Section",
           "load_spec", "parse_spec", "load_inputs", "build", "table_section", "render_html",
           "render_pdf", "render_docx", "render_xlsx", "render", "write", "report", "demo_spec",
           "DEMO_SPEC"]

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}
DEMO_SPEC = Path(__file__).resolve().parent / "report_demo.yaml"

_AREA_KEYS = {"areas", "area"}
#: Allowed keys per section kind. Table/indicator keys are the CLI flags of design §5b.
SECTION_KEYS: dict[str, set[str] | None] = {
    "heading": None, "text": None, "notes": None,
    "table": {"title", "areas", "area", "by", "within", "month", "period", "years", "year_start",
              "compare", "kind", "category", "taxonomy", "population", "no_total", "rows"},
    "indicators": {"title", "spec", "period", "baseline", "compare", "areas", "area"},
    "summary": {"title", "areas", "area", "to", "months"},
    "concentration": {"title", "areas", "layer", "category", "from", "to", "top", "unit"},
    "map": {"title", "type", "areas", "layer", "category", "from", "to", "metric", "eps_m",
            "min_samples"},
    "chart": {"title", "type", "areas", "area", "category", "from", "to"},
    "evaluation": {"title", "areas", "area", "after", "before", "baseline", "category", "buffer_m",
                   "control", "map", "chart", "cell_m"},
}
MAP_TYPES = ("choropleth", "patrol")
#: Words for a selection in sentences (as `hotspot rank` prints them).
UNITS = {"ward": "wards", "town_centre": "town centres", "micro_hotspot": "micro-hotspots",
         "patrol": "patrol areas"}

POLICE_UK_NOTE = ("police.uk locations are anonymised: each crime and ASB incident is snapped to "
                  "the nearest of a fixed set of map points (street centres, public places), so "
                  "many incidents share one point and a point near a boundary can fall in the "
                  "neighbouring area. Only the month is published, not the date. ASB comes from "
                  "incident logs, not recorded crime, and is never counted in the crime Total.")
POLICE_UK_COARSE = ("police.uk categories are coarser than the Home Office ones: 'Burglary' "
                    "includes business burglary, 'Robbery' includes business robbery, 'Violence "
                    "and sexual offences' and 'Criminal damage and arson' are single categories; "
                    "so police.uk neighbourhood crime over-counts the national measure, and a Home "
                    "Office row police.uk cannot fill is n/a, not zero.")
GROUP_DEFINITIONS = {
    "crime": "all recorded crime types (ASB and fires excluded)",
    "asb": "anti-social behaviour incidents (police.uk 'Anti-social behaviour', AS21-AS23)",
    "deliberate-fires": "deliberate primary (F1) and secondary (F3) fires, including those "
                        "thought or suspected to be deliberate",
    "deliberate-primary-fires": "F1: buildings, vehicles, outdoor structures, or casualties/rescues "
                                "or five or more appliances",
    "deliberate-secondary-fires": "F3: grassland, refuse, derelict buildings, ... four or fewer "
                                  "appliances",
    "neighbourhood-crime": "residential burglary, personal robbery, theft from the person and "
                           "vehicle offences (police.uk over-counts it: see the caveat)",
}


# =========================================================================== spec
@dataclass
class AreaSource:
    key: str
    file: Path | None
    layer: str | None = None
    name_field: str | None = None
    label: str = ""


@dataclass
class Spec:
    """A validated report spec. `sections` are ``(kind, args, key)`` with `key` the spec path
    (``sections[3].table``) used in error messages."""

    title: str
    subtitle: str = ""
    synthetic: bool = False
    source: str = "spec"
    base: Path = Path(".")
    data: list[Path] = field(default_factory=list)
    areas: dict[str, AreaSource] = field(default_factory=dict)
    period: dict = field(default_factory=dict)
    sections: list[tuple[str, Any, str]] = field(default_factory=list)

    def inputs_paths(self) -> list[Path]:
        return list(self.data) + [a.file for a in self.areas.values() if a.file is not None]


def _fail(spec_file, key: str, message: str):
    raise InputError(message, file=spec_file, parameter=key)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a YAML report spec (paths in it are relative to its folder)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputError("no such report spec", file=path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path) from None
    return parse_spec(raw, base=path.parent, source=str(path))


def _month(spec_file, key: str, value) -> str:
    try:
        return periods.parse_month(str(value), key)
    except InputError as exc:
        _fail(spec_file, key, exc.message)


def _range(spec_file, key: str, value) -> list[str]:
    try:
        return periods.parse_range(str(value), key)
    except InputError as exc:
        _fail(spec_file, key, exc.message)


def _str_list(spec_file, key: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    _fail(spec_file, key, "must be a text or a list of texts")


def parse_spec(raw: Any, base: str | Path = ".", source: str = "spec", loaded: bool = False) -> Spec:
    """Validate a spec already read from YAML (a dict); see the README for the format.
    `loaded`: the data are already in memory (the app), so ``data`` and area files are not
    needed (areas are then names of the in-memory layers)."""
    src = source
    if not isinstance(raw, dict):
        _fail(src, "(top level)", "a report spec is a mapping with title, data, areas and sections")
    allowed = {"title", "subtitle", "synthetic", "data", "areas", "period", "sections"}
    for key in raw:
        if key not in allowed:
            _fail(src, str(key), f"unknown key; use {', '.join(sorted(allowed))}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        _fail(src, "title", "the report needs a title (text)")
    base = Path(base)
    data = [base / p for p in _str_list(src, "data", raw.get("data"))]
    if not data and not loaded:
        _fail(src, "data", "name the incident files, police.uk folders or workspace")
    areas: dict[str, AreaSource] = {}
    raw_areas = raw.get("areas") or {}
    if not isinstance(raw_areas, dict):
        _fail(src, "areas", "a mapping of names to boundary files, e.g. wards: wards.geojson")
    for name, entry in raw_areas.items():
        key = f"areas.{name}"
        if isinstance(entry, str) or (entry is None and loaded):
            entry = {"file": entry}
        if not isinstance(entry, dict) or (entry.get("file") is None and not loaded):
            _fail(src, key, "a boundary file, or a mapping with file (and layer, name_field, label)")
        for k in entry:
            if k not in ("file", "layer", "name_field", "label"):
                _fail(src, f"{key}.{k}", "unknown key; use file, layer, name_field, label")
        file = base / str(entry["file"]) if entry.get("file") is not None else None
        areas[str(name)] = AreaSource(str(name), file, entry.get("layer"),
                                      entry.get("name_field"), str(entry.get("label") or ""))
    period = raw.get("period") or {}
    if not isinstance(period, dict):
        _fail(src, "period", "a mapping with from and to (YYYY-MM)")
    period = {k: _month(src, f"period.{k}", v) for k, v in period.items() if k in ("from", "to")}
    for k in raw.get("period") or {}:
        if k not in ("from", "to"):
            _fail(src, f"period.{k}", "unknown key; use from and to")
    sections_raw = raw.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        _fail(src, "sections", "a list of sections (table, summary, concentration, map, chart, "
                               "evaluation, indicators, heading, text, notes)")
    sections = []
    for i, item in enumerate(sections_raw):
        key = f"sections[{i}]"
        if not isinstance(item, dict) or len(item) != 1:
            _fail(src, key, "each section is one key: " + ", ".join(SECTION_KEYS))
        kind, args = next(iter(item.items()))
        if kind not in SECTION_KEYS:
            _fail(src, key, f"unknown section '{kind}'; use one of {', '.join(SECTION_KEYS)}")
        key = f"{key}.{kind}"
        sections.append((kind, _check_section(src, key, kind, args, areas, period, base), key))
    return Spec(title=title.strip(), subtitle=str(raw.get("subtitle") or ""),
                synthetic=bool(raw.get("synthetic", False)), source=src, base=base, data=data,
                areas=areas, period=period, sections=sections)


def _check_section(src, key: str, kind: str, args, areas: dict, period: dict, base: Path = Path(".")):
    if kind in ("heading", "text"):
        if not isinstance(args, str) or not args.strip():
            _fail(src, key, "must be text")
        return args
    if kind == "notes":
        return _str_list(src, key, args)
    if args is None:
        args = {}
    if not isinstance(args, dict):
        _fail(src, key, "must be a mapping of the section's options")
    out = dict(args)
    for k in out:
        if k not in SECTION_KEYS[kind]:
            _fail(src, f"{key}.{k}", f"unknown key; use {', '.join(sorted(SECTION_KEYS[kind]))}")
    if "areas" in SECTION_KEYS[kind]:
        # a table over every incident (no area, by or within) and a chart of everything need no areas
        whole = not any(k in out for k in ("area", "by", "within"))
        needs = not ((kind in ("table", "chart", "indicators")) and whole)
        if "areas" in out:
            if str(out["areas"]) not in areas:
                _fail(src, f"{key}.areas", f"no areas named '{out['areas']}' (areas: "
                      f"{', '.join(areas) or 'none'})")
        elif areas and needs:
            out["areas"] = next(iter(areas))
        elif needs:
            _fail(src, f"{key}.areas", "the spec has no areas; add an areas: entry")
    for k in ("month", "to", "from"):
        if k in out:
            out[k] = _month(src, f"{key}.{k}", out[k])
    for k in ("after", "before", "baseline", "period"):
        if k in out:
            value = _range(src, f"{key}.{k}", out[k])
            # tables and indicators keep the CLI's FROM..TO text (their engine parses it)
            out[k] = f"{value[0]}..{value[-1]}" if kind in ("table", "indicators") else value
    if kind == "table" and "compare" in out and ".." in str(out["compare"]):
        out["compare"] = "..".join(_range(src, f"{key}.compare", out["compare"])[i] for i in (0, -1))
    for k in ("population", "spec"):
        if k in out:
            out[k] = str(base / str(out[k]))
    if kind == "table" and isinstance(out.get("area"), list):
        out["area"] = _str_list(src, f"{key}.area", out["area"])
    if "category" in out:
        out["category"] = _str_list(src, f"{key}.category", out["category"])
    for k in ("months", "top", "min_samples", "year_start"):
        if k in out and (not isinstance(out[k], int) or isinstance(out[k], bool) or out[k] < 1):
            _fail(src, f"{key}.{k}", "must be a whole number of at least 1")
    for k in ("eps_m", "buffer_m", "cell_m"):
        if k in out and (not isinstance(out[k], (int, float)) or isinstance(out[k], bool) or out[k] < 0):
            _fail(src, f"{key}.{k}", "must be a number of metres (0 or more)")
    # defaults from the report period
    if kind in ("summary",) and "to" not in out:
        if "to" not in period:
            _fail(src, f"{key}.to", "give to: YYYY-MM (or a report period)")
        out["to"] = period["to"]
    if kind == "table" and sum(k in out for k in ("month", "period", "years")) > 1:
        _fail(src, key, "give one of month, period or years")
    if kind == "indicators" and ("spec" not in out or "period" not in out):
        _fail(src, f"{key}.{'spec' if 'spec' not in out else 'period'}",
              "an indicators section needs spec (the CSV) and period FROM..TO")
    if kind == "table" and not any(k in out for k in ("month", "period", "years")):
        if "to" not in period:
            _fail(src, f"{key}.month", "give month: YYYY-MM (or a report period)")
        out["month"] = period["to"]
    if kind in ("concentration", "map", "chart"):
        for k in ("from", "to"):
            if k not in out and k in period:
                out[k] = period[k]
    if kind == "map":
        out.setdefault("type", "choropleth")
        if out["type"] not in MAP_TYPES:
            _fail(src, f"{key}.type", f"use one of {', '.join(MAP_TYPES)} (the before/after pair "
                                      "comes with an evaluation section)")
        if out.get("metric", "count") not in ("count", "rate"):
            _fail(src, f"{key}.metric", "use count or rate")
    if kind in ("summary", "evaluation") and "area" not in out:
        _fail(src, f"{key}.area", "name the area (as in the boundary file)")
    if kind == "evaluation" and "after" not in out:
        _fail(src, f"{key}.after", "give the after window FROM..TO")
    if kind == "table" and "years" in out:
        text = str(out["years"])
        parts = text.split("..")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts) or int(parts[0]) > int(parts[1]):
            _fail(src, f"{key}.years", f"'{text}' is not FIRST..LAST (e.g. 2021..2023)")
        out["years"] = f"{int(parts[0])}..{int(parts[1])}"
    return out


# =========================================================================== inputs
@dataclass
class Inputs:
    """Loaded data: the incidents, the area layers by spec name, and what the About section
    reports about them (files, ingest summary)."""

    incidents: gpd.GeoDataFrame
    areas: dict[str, gpd.GeoDataFrame]
    data_files: list[str] = field(default_factory=list)
    area_files: dict[str, str] = field(default_factory=dict)
    ingest_summary: dict | None = None
    warnings: list[str] = field(default_factory=list)


def load_inputs(spec: Spec) -> Inputs:
    """Incidents and areas as the CLI loads them: one workspace GeoPackage, or incident files
    (every row loaded or listed as rejected); boundary files with the spec's layer."""
    from . import ingest, store

    for p in spec.data:
        if not p.exists():
            raise InputError("no such file or folder (named under data:)", file=p, parameter="data")
    summary = None
    warnings: list[str] = []
    if len(spec.data) == 1 and store.is_workspace(spec.data[0]):
        incidents = store.Workspace(spec.data[0]).incidents()
    else:
        result = ingest.read_incidents(spec.data)
        incidents, summary = result.incidents, result.summary
        warnings += list(summary.get("warnings", []))
        if summary.get("rejected"):
            reasons = ", ".join(f"{k}: {v}" for k, v in summary["rejected_by_reason"].items())
            warnings.append(f"{summary['rejected']:,} of {summary['read']:,} rows were not loaded ({reasons})")
    layers: dict[str, gpd.GeoDataFrame] = {}
    files: dict[str, str] = {}
    for key, src in spec.areas.items():
        if not src.file.exists():
            raise InputError("no such boundary file", file=src.file, parameter=f"areas.{key}")
        if store.is_workspace(src.file):
            gdf = store.Workspace(src.file).areas()
            if src.layer:
                gdf = gdf[gdf["layer"].astype(str) == src.layer].reset_index(drop=True)
                if not len(gdf):
                    raise InputError(f"the workspace has no '{src.layer}' areas", file=src.file,
                                     parameter=f"areas.{key}.layer")
        else:
            res = ingest.read_boundaries(src.file, name_field=src.name_field, layer=src.layer or "custom")
            gdf = res.areas
            warnings += list(getattr(res, "warnings", []) or [])
        layers[key] = gdf
        files[key] = src.file.name
    return Inputs(incidents, layers, [p.name for p in spec.data], files, summary, warnings)


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


@dataclass
class Pack:
    title: str
    subtitle: str
    label: str
    sections: list[Section]
    about: Section
    warnings: list[str]
    generated: str = ""

    @property
    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    @property
    def images(self) -> list[Image]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]


def _pick(inputs: Inputs, args: dict, key: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
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


def _months(args: dict, incidents: pd.DataFrame, selected: pd.Series | None = None) -> list[str]:
    cov = periods.Coverage.of(incidents if selected is None else incidents[selected])
    lo, hi = args.get("from") or cov.first, args.get("to") or cov.last
    if lo is None:
        raise InputError("no incidents loaded", parameter="data")
    return periods.month_range(lo, hi)


def _what(category: Sequence[str] | None) -> str:
    return taxonomy.selection_label(category)  # the one set of group labels


def _display_frame(df: pd.DataFrame) -> tuple[list[tuple[str, str]], list[list[str]]]:
    cols = [c if isinstance(c, tuple) else ("", str(c)) for c in df.columns]
    cells = [[("" if v is None else str(v)) for v in row] for row in df.astype(object).itertuples(index=False)]
    return cols, cells


def document_table(document: dict, title: str, caption: str = "") -> Table:
    """A design-§5b table document (the table engine's ``{"columns", "rows", "warnings"}``) as a
    pack table: the same layout and numbers as its XLSX sheet (`reports.document_sheet`)."""
    measures = reports.document_measures(document)
    fmt = {"current": reports.fmt_int, "previous": reports.fmt_int,
           "diff": lambda v: reports.fmt_int(v, signed=True), "pct_diff": reports.fmt_pct,
           "rate": reports.fmt_rate}
    cols = [("", "Category")] + [(cid, head) for cid, _, head in measures]
    cells = [[str(r["category"])] + [fmt[key](r["cells"][cid][key]) for cid, key, _ in measures]
             for r in document["rows"]]
    return Table(title, cols, cells, reports.document_groups(document),
                 [int(r["level"]) for r in document["rows"]], reports.document_sheet(document, title),
                 caption=caption, document=document)


# --------------------------------------------------------------------------- the table adapter
def table_section(incidents: gpd.GeoDataFrame, inputs: Inputs, args: dict, key: str = "table") -> Table:
    """THE adapter from a table section (the flags of ``hotspot table``, design §5b) to a table,
    making the same call as the CLI: one `area` with `month` (and no by/within/category/
    population/rows, a named comparison) is the seed-004 table (`areas.partnership_table`);
    every other form is the table engine (`tables.build_table`)."""
    from . import tables

    kind = str(args.get("kind", "crime"))
    if kind not in ("crime", "asb", "fire"):
        raise InputError(f"'{kind}' is not one of: crime, asb, fire", parameter=f"{key}.kind")
    tax = str(args.get("taxonomy", "auto"))
    if tax not in core_areas.TABLE_TAXONOMIES:
        raise InputError(f"'{tax}' is not one of: {', '.join(core_areas.TABLE_TAXONOMIES)}",
                         parameter=f"{key}.taxonomy")
    compare = str(args.get("compare", "same-period-last-year"))
    try:
        tables.parse_compare(compare)
    except InputError as exc:
        raise InputError(exc.message, parameter=f"{key}.compare") from None
    area = args.get("area")
    names = [area] if isinstance(area, str) else list(area or [])
    seed004 = (len(names) == 1 and "month" in args and not any(args.get(k) for k in (
        "by", "within", "category", "population", "rows")) and compare in periods.COMPARISONS)
    layer = inputs.areas.get(args["areas"]) if "areas" in args else None
    if seed004:
        _, rows_area, name = _pick(inputs, {**args, "area": names[0]}, key)
        table = core_areas.partnership_table(incidents, rows_area, args["month"], kind=kind,
                                             compare=compare, taxonomy_name=tax)
        rows, warnings = table
        title = args.get("title") or f"{name} — {periods.describe([args['month']])}"
        disp = reports.table_display(rows, indent="", previous=True)
        label = {"crime": "Crime", "asb": "Anti-social behaviour", "fire": "Fire"}[kind]
        cols = [tuple(c.split(": ", 1)) if ": " in c else ("", label) for c in disp.columns]
        comp = compare.replace("-", " ")
        caption = (f"Selected month {periods.describe([args['month']])}, the last 6 and last 12 months "
                   f"to it; compared with the {comp}.")
        return Table(title, cols, disp.astype(str).values.tolist(),
                     rows["node"].isin(["group", "total"]).tolist(), [int(v) for v in rows["level"]],
                     reports.table_sheet(rows, title, warnings=warnings, name=name), caption=caption,
                     document=core_areas.table_document(table, name))
    population = tables.read_population(args["population"]) if args.get("population") else None
    try:
        doc = tables.build_table(incidents, layer, area=names or None, by=args.get("by"),
                                 within=args.get("within"), month=args.get("month"),
                                 period=args.get("period"), years=args.get("years"),
                                 year_start=int(args.get("year_start", 4)), compare=compare, kind=kind,
                                 category=args.get("category") or None, taxonomy_name=tax,
                                 population=population, total=not args.get("no_total", False),
                                 rows=args.get("rows"))
    except InputError as exc:
        raise InputError(exc.message, file=exc.file, row=exc.row, column=exc.column,
                         parameter=f"{key}.{exc.parameter}" if exc.parameter else key) from None
    what = {"crime": "Crime", "asb": "Anti-social behaviour", "fire": "Fire service incidents"}[kind]
    if args.get("category"):
        what = _what(args["category"])
        what = what[:1].upper() + what[1:]
    cols = doc["columns"]
    span = periods.format_range([cols[0]["from"], cols[-1]["to"]]) if cols else ""
    title = args.get("title") or f"{what}, {span}"
    if args.get("years") and cols and not args.get("title"):
        title = f"{what} by year ({cols[0]['id']} to {cols[-1]['id']})"
    return document_table(doc, title, caption="; ".join(tables.describe_columns(doc)))


def _indicators(incidents, inputs, args, key) -> Section:
    """The seed-003 indicator table, as ``hotspot indicators`` makes it (`tables.indicators`)."""
    from . import tables, xlsx

    path = Path(args["spec"])
    if not path.is_file():
        raise InputError("no such indicator spec", file=path, parameter=f"{key}.spec")
    try:
        spec_df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read the indicator spec ({' '.join(str(exc).split())})", file=path) from None
    rows_area, name = None, ""
    if "area" in args:
        _, rows_area, name = _pick(inputs, args, key)
    doc = tables.indicators(incidents, spec_df, args["period"], baseline=args.get("baseline"),
                            compare=str(args.get("compare", "same-period-last-year")), area=rows_area,
                            spec_file=str(path))
    shown = tables.indicators_frame(doc)
    numbers = shown.copy()
    for j, col in enumerate(shown.columns):
        keyname = ["indicator", "baseline", "target", "current", "previous", "diff", "pct_diff", "status"][j]
        numbers[col] = [r[keyname] for r in doc["rows"]]
    title = args.get("title") or "Performance indicators" + (f": {name}" if name else "")
    cols, cells = _display_frame(shown)
    sheet = xlsx.Sheet(numbers, title, "Indicators", percent=["% difference"], diff=["Actual difference"],
                       notes=list(doc["warnings"]))
    table = Table(title, cols, cells, [False] * len(cells), [0] * len(cells), sheet, document=doc)
    return Section(title, [table], list(doc["warnings"]), "indicators", doc)


# --------------------------------------------------------------------------- section builders
def _summary(incidents, inputs, args, key) -> Section:
    _, rows_area, name = _pick(inputs, args, key)
    months = int(args.get("months", 12))
    doc = core_areas.area_summary(incidents, rows_area, args["to"], months,
                                  place=core_areas.area_label(rows_area), area_name=name)
    return Section(args.get("title") or f"{name}: summary", [doc["text"]], list(doc.get("warnings", [])),
                   "summary", doc)


def _concentration(incidents, inputs, args, key) -> Section:
    layer_areas, _, _ = _pick(inputs, {k: v for k, v in args.items() if k != "area"}, key)
    category = args.get("category") or None
    sel = taxonomy.select(incidents, category)
    months = _months(args, incidents, sel)
    ranked, warnings = core_areas.rank_areas(incidents, layer_areas, category=category, months=months)
    layer = str(layer_areas["layer"].iloc[0]) if len(layer_areas) and "layer" in layer_areas.columns else "area"
    unit = args.get("unit") or UNITS.get(layer, "areas")
    share = core_areas.top_share(ranked, int(args.get("top", 3)), what=_what(category), unit=unit)
    from . import xlsx

    top_n = max(int(args.get("top", 3)), 10)
    body = ranked[ranked["area_id"] != core_areas.OUTSIDE].head(top_n)
    shown = reports.rank_display(body)
    title = args.get("title") or f"Where {_what(category)} concentrates, {periods.describe([months[0], months[-1]])}"
    cols, cells = _display_frame(shown)
    sheet = xlsx.sheet_of(body.drop(columns=["area_id"]), title, "Concentration",
                          period=periods.describe([months[0], months[-1]]), notes=warnings)
    table = Table(f"Top {len(body)} {unit} by count", cols, cells, [False] * len(body), [0] * len(body),
                  sheet, caption=f"Share of all {reports.fmt_int(ranked.attrs.get('total'))} {_what(category)} "
                                 f"(incidents outside every area included in the total).")
    return Section(title, [share["text"], table], warnings, "concentration", share)


def _map(incidents, inputs, args, key) -> Section:
    from . import static_maps

    category = args.get("category") or None
    layer_areas, _, _ = _pick(inputs, {k: v for k, v in args.items() if k != "area"}, key)
    sel = taxonomy.select(incidents, category)
    months = _months(args, incidents, sel)
    span = periods.describe([months[0], months[-1]])
    what = _what(category)
    if args["type"] == "patrol":
        from . import clusters

        eps_m = float(args.get("eps_m", settings.EPS_M))
        min_samples = int(args.get("min_samples", settings.MIN_SAMPLES))
        res = clusters.dbscan(incidents, eps_m, min_samples, category=category,
                              period=f"{months[0]}..{months[-1]}")
        title = args.get("title") or f"Patrol areas: {what}, {span}"
        sec = Section(title, [], list(res.warnings), "map")
        if res.message or not len(res.areas):
            sec.blocks.append(res.message or "No patrol areas found.")
            return sec
        doc = res.to_dict()
        sec.blocks.append(f"{len(doc['clusters'])} patrol areas (DBSCAN, eps {eps_m:g} m, min_samples "
                          f"{min_samples}) hold {sum(c['count'] for c in doc['clusters']):,} of "
                          f"{doc['n_incidents']:,} {what}.")
        sec.blocks.append(Image(title, static_maps.patrol_png(res.areas, context=layer_areas),
                                caption="Numbered by rank (1 = most incidents); outlines: "
                                        f"{inputs.area_files.get(args['areas'], 'areas')}."))
        frame = pd.DataFrame({"Rank": [c["rank"] for c in doc["clusters"]],
                              "Incidents": [c["count"] for c in doc["clusters"]],
                              "Area (m²)": [round(c["area_m2"]) for c in doc["clusters"]],
                              "Per km²": [round(c["density_per_km2"]) for c in doc["clusters"]],
                              "Months": [f"{c['first_month']} to {c['last_month']}" for c in doc["clusters"]]})
        from . import xlsx

        shown = frame.copy()
        for c in ("Incidents", "Area (m²)", "Per km²"):
            shown[c] = [reports.fmt_int(v) for v in shown[c]]
        cols, cells = _display_frame(shown)
        sec.blocks.append(Table("Patrol areas", cols, cells, [False] * len(frame), [0] * len(frame),
                                xlsx.sheet_of(frame, title, "Patrol areas", period=span)))
        return sec
    ranked, warnings = core_areas.rank_areas(incidents, layer_areas, category=category, months=months)
    col = "rate_per_1000" if args.get("metric") == "rate" else "count"
    by_id = ranked.set_index("area_id")[col]
    values = [None if pd.isna(v) else float(v) for v in layer_areas["area_id"].astype(str).map(by_id)]
    legend = "Rate per 1,000" if col == "rate_per_1000" else "Incidents"
    title = args.get("title") or f"{what[:1].upper() + what[1:]} by {UNITS.get(str(layer_areas['layer'].iloc[0]), 'area')[:-1]}, {span}"
    png = static_maps.choropleth_png(layer_areas, values, legend_title=legend)
    return Section(title, [Image(title, png, caption=f"{legend} per area; grey = n/a (not covered).")],
                   warnings, "map")


def _evaluation(incidents, inputs, args, key) -> Section:
    from . import evaluation, static_maps

    layer_areas, rows, name = _pick(inputs, args, key)
    try:  # the one target/control policy (`hotspot evaluate --areas FILE --area NAME` uses it too)
        regions = evaluation.resolve_regions(str(args["area"]), layer_areas,
                                             control=str(args["control"]) if args.get("control") else None)
    except InputError as exc:
        raise InputError(exc.message, parameter=f"{key}.{exc.parameter or 'area'}") from None
    category = args.get("category") or None
    ev = evaluation.evaluate(incidents, regions, after=args["after"], before=args.get("before"),
                             baseline=args.get("baseline"), category=category,
                             buffer_m=float(args.get("buffer_m", settings.BUFFER_M)), name=name)
    doc = ev.to_dict()
    title = args.get("title") or f"{name}: before and after"
    sec = Section(title, [ev.headline()], list(ev.warnings), "evaluation", doc)
    b, a = ev.before, ev.after
    rows_ = ev.region_counts()
    from . import measures, xlsx

    before_h = f"Before ({periods.format_range(b.months)})"
    after_h = f"After ({periods.format_range(a.months)})"
    frame = pd.DataFrame({"Area": [r[0] for r in rows_], before_h: [r[1] for r in rows_],
                          after_h: [r[2] for r in rows_],
                          "Change": [measures.diff(r[2], r[1]) for r in rows_],
                          "% change": [measures.pct_change(r[2], r[1]) for r in rows_]})
    shown = pd.DataFrame({"Area": frame["Area"], before_h: [reports.fmt_int(v) for v in frame[before_h]],
                          after_h: [reports.fmt_int(v) for v in frame[after_h]],
                          "Change": [reports.fmt_int(v, signed=True) for v in frame["Change"]],
                          "% change": [reports.fmt_pct(v) for v in frame["% change"]]})
    cols, cells = _display_frame(shown)
    sec.blocks.append(Table("Counts before and after", cols, cells, [False] * len(frame), [0] * len(frame),
                            xlsx.Sheet(frame, title, "Evaluation", period=f"{before_h}; {after_h}",
                                       percent=["% change"], diff=["Change"], notes=list(ev.warnings)),
                            caption=f"Control: {ev.control_description}.", document=doc))
    if ev.baseline is not None:
        bp = ev.baseline_pct_change
        sec.blocks.append(f"Baseline {periods.format_range(ev.baseline.months)}: "
                          f"{reports.fmt_int(ev.baseline.count)} (after compared with the baseline: "
                          f"{'n/a' if bp is None else f'{bp:+.1f}%'}).")
    if ev.effect is not None:
        e = ev.effect
        sec.blocks.append(f"Control-adjusted rate ratio {e.rate_ratio:.2f} (95% CI {e.ci95[0]:.2f} to "
                          f"{e.ci95[1]:.2f}, p = {e.p_value:.3g}; {e.model} model).")
    if ev.wdq_text:
        sec.blocks.append(f"Displacement: {ev.wdq_text}")
    if args.get("map", True):
        import shapely

        target = shapely.union_all(rows.geometry.values)
        ring = evaluation.buffer_ring(target, float(args.get("buffer_m", settings.BUFFER_M)))
        import warnings as py_warnings

        # cells: the spec's cell_m, else 50 m or coarser where the locations are spaced further
        cell = float(args["cell_m"]) if args.get("cell_m") else \
            static_maps.pair_cell_m(incidents, months=[*b.months, *a.months], category=category)
        with py_warnings.catch_warnings(record=True) as caught:  # the grid's advice reaches the pack
            py_warnings.simplefilter("always")
            png = static_maps.window_pair_png(incidents, target, before=b.months, after=a.months,
                                              category=category, ring=ring, cell_m=cell)
        # before and after give the same advice (with their own median spacing): say it once
        sec.warnings += [str(w.message) for w in caught[:1] if str(w.message) not in sec.warnings]
        sec.blocks.append(Image(f"{name}: before and after", png,
                                caption=f"Incidents per {cell:g} m cell, the same cells and colour scale "
                                        "on both; black outlines: the area and its displacement ring."))
    if args.get("chart", True) and len(ev.series):
        shown_s = ev.series[ev.series["series"].isin(["target", "buffer"])].copy()
        shown_s["series"] = shown_s["series"].map({"target": name, "buffer": f"{ev.buffer_m:g} m ring"})
        marks = [(b.start, b.end, "before"), (a.start, a.end, "after")]
        if ev.baseline is not None:
            marks.append((ev.baseline.start, ev.baseline.end, "baseline"))
        sec.blocks.append(Image(f"{name}: incidents per month",
                                static_maps.monthly_png(shown_s, title=f"{name}: {_what(category)} per month",
                                                        marks=marks), kind="chart"))
    return sec


def _chart(incidents, inputs, args, key) -> Section:
    from . import evaluation, static_maps

    category = args.get("category") or None
    sel = taxonomy.select(incidents, category)
    months = _months(args, incidents, sel)
    name = "All areas"
    mask = sel
    if "area" in args:
        _, rows, name = _pick(inputs, args, key)
        mask = sel & core_areas.area_mask(incidents, rows)
    cov = periods.Coverage.of(incidents[sel])
    series = evaluation.monthly_counts(incidents, {name: mask}, months, cov)
    title = args.get("title") or f"{_what(category)[:1].upper() + _what(category)[1:]} per month: {name}"
    missing = cov.missing(months)
    warnings = [periods.coverage_warning(missing, "chart")] if missing else []
    return Section(title, [Image(title, static_maps.monthly_png(series, title=title), kind="chart")],
                   warnings, "chart")


_BUILDERS = {"summary": _summary, "concentration": _concentration, "map": _map,
             "evaluation": _evaluation, "chart": _chart, "indicators": _indicators}


def _about(spec: Spec, inputs: Inputs, warnings: list[str], categories: set[str]) -> Section:
    inc = inputs.incidents
    sec = Section("About these figures", [], [], "about")
    if spec.synthetic:
        sec.blocks.append(f"{settings.DEMO_LABEL}: every incident, place and figure in this paper is "
                          "invented by the tool's own demo generator.")
    src_lines = []
    for source, part in inc.groupby("source", sort=True):
        months = sorted(part["month"].dropna().astype(str).unique())
        span = periods.month_range(months[0], months[-1]) if months else []
        gaps = [m for m in span if m not in set(months)]
        providers = ""
        for col in ("provider", "falls_within", "fire_service"):
            if col in part.columns and part[col].notna().any():
                providers = ", ".join(sorted(part[col].dropna().astype(str).unique())[:3])
                break
        line = (f"{source}{f' ({providers})' if providers else ''}: {len(part):,} incidents; "
                f"{len(months)} months loaded, {months[0]} to {months[-1]}" if months else f"{source}: no months")
        line += f"; months missing: {', '.join(gaps)}" if gaps else "; no months missing"
        src_lines.append(line)
    sec.blocks.append("Sources and coverage (months loaded per source; a window with a month not "
                      "loaded is shown as n/a, never as a partial count or zero):")
    sec.blocks.append(("list", src_lines + [f"Data files: {', '.join(inputs.data_files)}"]))
    if inputs.ingest_summary:
        s = inputs.ingest_summary
        sec.blocks.append(f"Rows read {s['read']:,}: loaded {s['loaded']:,}, not loaded {s['rejected']:,} "
                          "(each listed with its reason by hotspot ingest --rejects).")
    bounds = [f"{key}: {inputs.area_files.get(key, '')} — {len(gdf)} area{'s' if len(gdf) != 1 else ''}"
              + (f", layer {', '.join(sorted(set(gdf['layer'].astype(str))))}" if "layer" in gdf.columns else "")
              + (f" ({spec.areas[key].label})" if key in spec.areas and spec.areas[key].label else "")
              for key, gdf in inputs.areas.items()]
    sec.blocks.append("Boundaries (the versions used; incidents are joined to areas by location, a "
                      "point on a shared edge counts once):")
    sec.blocks.append(("list", bounds))
    if inc["source"].astype(str).eq("police-uk").any():
        sec.blocks.append(POLICE_UK_NOTE)
        sec.blocks.append(POLICE_UK_COARSE)
    defs = [f"{g}: {GROUP_DEFINITIONS[g]}" for g in sorted(categories) if g in GROUP_DEFINITIONS]
    defs += ["% change = 100 × (current − previous) / previous, 1 decimal; n/a when previous is 0.",
             "Rate per 1,000 = 1,000 × count / population.",
             "Tables follow the Home Office hierarchy where the data allow (seed 004 layout); ASB "
             "and fires are never counted in the crime Total."]
    sec.blocks.append("Definitions:")
    sec.blocks.append(("list", defs))
    sec.blocks.append("Warnings:")
    sec.blocks.append(("list", list(dict.fromkeys(warnings)) or ["None."]))
    return sec


def build(spec: Spec, inputs: Inputs | None = None, progress=None) -> Pack:
    """The pack for `spec` (loading its inputs unless given). Raises `InputError` naming the
    spec key of the first section that cannot be built."""
    inputs = inputs or load_inputs(spec)
    inc = inputs.incidents
    sections: list[Section] = []
    warnings: list[str] = list(inputs.warnings)
    categories: set[str] = set()
    current: Section | None = None
    for kind, args, key in spec.sections:
        if progress:
            progress(f"building {key} ...")
        if kind == "heading":
            current = Section(args, [], [], "heading")
            sections.append(current)
            continue
        if kind in ("text", "notes"):
            block = args if kind == "text" else ("list", list(args))
            if current is None or current.kind not in ("heading", "text"):
                current = Section("Notes" if kind == "notes" else "", [], [], "text")
                sections.append(current)
            current.blocks.append(block)
            continue
        categories.update(c.lower() for c in (args.get("category") or []))
        if kind == "table":
            table = table_section(inc, inputs, args, key)
            categories.add(str(args.get("kind", "crime")))
            warned = (table.document or {}).get("warnings", table.sheet.notes)
            sec = Section(table.title, [table], list(warned), "table")
        else:
            if kind == "summary":
                categories.update({"crime", "asb"})
            sec = _BUILDERS[kind](inc, inputs, args, key)
        sections.append(sec)
        current = None
        warnings += [f"{sec.title}: {w}" for w in sec.warnings]
    about = _about(spec, inputs, warnings, categories)
    label = settings.DEMO_LABEL if spec.synthetic else ""
    return Pack(spec.title, spec.subtitle, label, sections, about, list(dict.fromkeys(warnings)),
                generated=pd.Timestamp.now(tz="UTC").strftime("%d %B %Y"))


# =========================================================================== renderers
def css_string(value) -> str:
    """`value` as a quoted CSS string with every non-alphanumeric character escaped (user text
    inside a <style> block can neither close the string nor the element)."""
    from markupsafe import Markup

    body = "".join(c if (c.isalnum() and c.isascii()) or c == " " else f"\\{ord(c):x} " for c in str(value))
    return Markup(f'"{body}"')


def _env():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("hotspot_app", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    return env


def render_html(pack: Pack) -> str:
    """A standalone HTML page (images inline; user text escaped by Jinja2's autoescape)."""
    tmpl = _env().get_template("report.html.j2")
    return tmpl.render(pack=pack, sections=pack.sections + [pack.about], Table=Table, Image=Image)


def render_pdf(pack: Pack) -> bytes:
    """PDF of the HTML (WeasyPrint; A4, page numbers, the title on every page)."""
    from weasyprint import HTML

    return HTML(string=render_html(pack), base_url=str(Path(__file__).parent)).write_pdf()


def render_docx(pack: Pack) -> bytes:
    """Word document: headings, paragraphs, tables with (grouped) headers, images."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    sect = doc.sections[0]
    sect.orientation = WD_ORIENT.LANDSCAPE
    sect.page_width, sect.page_height = sect.page_height, sect.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sect, side, Cm(1.6))
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(pack.title, level=0)
    if pack.subtitle:
        doc.add_paragraph(pack.subtitle)
    if pack.label:
        p = doc.add_paragraph()
        run = p.add_run(pack.label)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x30, 0x00)
    sect.header.paragraphs[0].text = pack.title + (f" — {pack.label}" if pack.label else "")
    width = sect.page_width - sect.left_margin - sect.right_margin
    for s in pack.sections + [pack.about]:
        if s.title:
            doc.add_heading(s.title, level=1)
        for w in s.warnings:
            p = doc.add_paragraph()
            r = p.add_run(f"Warning: {w}")
            r.italic = True
            r.font.color.rgb = RGBColor(0x8A, 0x4B, 0x00)
        for b in s.blocks:
            if isinstance(b, str):
                doc.add_paragraph(b)
            elif isinstance(b, tuple) and b[0] == "list":
                for item in b[1]:
                    doc.add_paragraph(item, style="List Bullet")
            elif isinstance(b, Image):
                doc.add_picture(io.BytesIO(b.png), width=min(width, Cm(24) if b.kind == "map" else Cm(22)))
                if b.caption:
                    c = doc.add_paragraph(b.caption)
                    c.runs[0].italic = True
            elif isinstance(b, Table):
                _docx_table(doc, b)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_table(doc, t: Table) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    head_rows = 2 if t.grouped else 1
    text_cols = t.text_columns
    table = doc.add_table(rows=head_rows + len(t.cells), cols=len(t.columns))
    table.style = "Table Grid"
    if t.grouped:
        j = 0
        for group, span in t.header_groups():
            cell = table.cell(0, j)
            if span > 1:
                cell = cell.merge(table.cell(0, j + span - 1))
            cell.text = group
            j += span
    for j, (_, label) in enumerate(t.columns):
        table.cell(head_rows - 1, j).text = label
    from docx.oxml import OxmlElement

    for r in range(head_rows):  # header rows repeat on every page
        table.rows[r]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for r in range(head_rows):
        for cell in table.rows[r].cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.bold = True
    for i, row in enumerate(t.cells):
        for j, value in enumerate(row):
            cell = table.cell(head_rows + i, j)
            text = ("   " * t.indent[i] + value) if j == 0 else value
            cell.text = text
            p = cell.paragraphs[0]
            if j not in text_cols:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for run in p.runs:
                run.font.size = Pt(8)
                run.bold = bool(t.bold[i])
    if t.caption:
        c = doc.add_paragraph(t.caption)
        c.runs[0].italic = True


def render_xlsx(pack: Pack) -> bytes:
    """Workbook: one formatted sheet per table (`xlsx.workbook`), sentences on a Summary sheet,
    and the Notes sheet with the About section and every warning."""
    from . import xlsx

    sheets = []
    sentences = [(s.title, b) for s in pack.sections for b in s.blocks if isinstance(b, str)
                 and s.kind in ("summary", "concentration", "evaluation")]
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


#: Sections the app's Reports page offers, in the order they appear in the pack.
APP_SECTIONS = {"ward_map": "Ward map (rate per 1,000)", "table": "Area table (seed-004 layout)",
                "summary": "Area summary sentence", "concentration": "Where it concentrates (top 3 wards)",
                "patrol": "Patrol areas map", "evaluation": "Before/after evaluation"}


def app_spec(*, area_key: str, area: str, month: str, include: Sequence[str],
             category: Sequence[str] = ("asb",), evaluation: dict | None = None,
             wards_key: str = "wards", title: str = "", synthetic: bool = False) -> Spec:
    """The spec the Reports page builds from its choices: the `include`d `APP_SECTIONS` for one
    area (`area` in layer `area_key`) and the 12 months to `month`; `evaluation` is an
    evaluation section's options (see `intervention_evaluation`)."""
    frm = periods.add_months(month, -11)
    sections: list[dict] = []
    pick = list(category) or None
    if "ward_map" in include:
        sections.append({"map": {"type": "choropleth", "areas": wards_key, "category": ["crime"], "metric": "rate"}})
    if "summary" in include:
        sections.append({"summary": {"areas": area_key, "area": area, "to": month, "months": 12}})
    if "table" in include:
        sections.append({"table": {"areas": area_key, "area": area, "month": month}})
    if "concentration" in include:
        sections.append({"concentration": {"areas": wards_key, "category": pick, "top": 3}})
    if "patrol" in include:
        sections.append({"map": {"type": "patrol", "areas": wards_key, "category": pick}})
    if "evaluation" in include and evaluation:
        sections.append({"evaluation": dict(evaluation)})
    if not sections:
        sections.append({"text": "No sections chosen."})
    raw = {"title": title or f"{area}: community safety report to {periods.describe([month])}",
           "subtitle": f"The 12 months {periods.describe([frm, month])}", "synthetic": synthetic,
           "areas": {k: None for k in dict.fromkeys([wards_key, area_key] + ([evaluation["areas"]] if evaluation else []))},
           "period": {"from": frm, "to": month}, "sections": sections}
    return parse_spec(raw, source="Reports page", loaded=True)


def intervention_evaluation(intervention, areas_by_key: dict[str, gpd.GeoDataFrame]) -> dict | None:
    """Evaluation-section options for a stored intervention that names an area: its area and
    layer key, the after window (start..end months), ASB for patrols (else crime), and a
    baseline two years before. None when it refers to no stored area."""
    from . import evaluation

    area_id = intervention.get("area_id")
    if area_id is None or pd.isna(area_id) or pd.isna(intervention.get("end")):
        return None
    for key, gdf in areas_by_key.items():
        hit = gdf[gdf["area_id"].astype(str) == str(area_id)]
        if len(hit):
            name, _ = evaluation.intervention_place(intervention, gdf)
            start = pd.Timestamp(intervention["start"]).strftime("%Y-%m")
            end = pd.Timestamp(intervention["end"]).strftime("%Y-%m")
            return {"areas": key, "area": name, "after": f"{start}..{end}",
                    "category": ["asb"] if intervention.get("type") == "patrols" else ["crime"]}
    return None


def demo_spec(dir: str | Path | None = None) -> Spec:
    """The demo borough's paper (`report_demo.yaml`) over the demo folder (written when missing)."""
    import yaml

    from . import demo

    folder = Path(dir) if dir is not None else settings.DEMO_DIR
    if not demo.is_complete(folder):
        demo.write(demo.generate(), folder)
    raw = yaml.safe_load(DEMO_SPEC.read_text(encoding="utf-8"))
    return parse_spec(raw, base=folder, source=str(DEMO_SPEC.name))


def report(spec: Spec | str | Path, outs: Sequence[str | Path], progress=None) -> dict:
    """Build and write the pack; returns the CLI's JSON document ``{"out", "sections",
    "tables", "maps", "warnings"}``."""
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    inputs_ = spec.inputs_paths() + ([Path(spec.source)] if Path(spec.source).is_file() else [])
    paths = check_outputs(outs, inputs_)
    pack = build(spec, progress=progress)
    written = write(pack, paths)
    return {"out": [str(p) for p in written], "sections": len(pack.sections) + 1,
            "tables": len(pack.tables), "maps": sum(1 for i in pack.images if i.kind == "map"),
            "warnings": list(pack.warnings)}
