"""The report spec: the YAML a partnership writes (docs/design.md §5b, §5c), validated at the
boundary with one-line errors naming the spec key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotspot_app.core import periods
from hotspot_app.core.errors import InputError
from hotspot_app.core.patrol import PRESETS
from hotspot_app.render.pack.layout import Page, page_of

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}



DEMO_SPEC = Path(__file__).resolve().parent / "report_demo.yaml"



#: Allowed keys per section kind. Table/indicator keys are the CLI flags of docs/design.md §5b.
SECTION_KEYS: dict[str, set[str] | None] = {
    "heading": None, "text": None, "notes": None,
    "table": {"title", "areas", "area", "by", "within", "month", "period", "years", "year_start",
              "compare", "kind", "category", "taxonomy", "population", "no_total", "rows"},
    "indicators": {"title", "spec", "period", "baseline", "compare", "areas", "area"},
    "summary": {"title", "areas", "area", "to", "months"},
    "concentration": {"title", "areas", "layer", "category", "from", "to", "top", "unit", "within", "by",
                      "population", "lsoa_boundaries"},
    "map": {"title", "type", "areas", "layer", "category", "from", "to", "metric", "smooth", "preset", "eps_m",
            "min_samples", "top", "within", "population", "lsoa_boundaries"},
    # the papers' sentences for a table's arguments (docs/design.md §5c): `hotspot table`'s "sentences"
    "sentences": {"title", "areas", "area", "by", "within", "month", "period", "years", "year_start",
                  "compare", "kind", "category", "taxonomy", "population", "no_total", "rows"},
    "chart": {"title", "type", "areas", "area", "category", "from", "to"},
    "evaluation": {"title", "areas", "area", "after", "before", "baseline", "category", "buffer_m",
                   "control", "candidates", "map", "chart", "cell_m"},
    # where next (render/pack/where_next_section.py; the flags of design §5c)
    "emerging": {"title", "category", "from", "to", "cell_m"},
    "backtest": {"title", "category", "from", "to", "cell_m", "area_share", "methods"},
    "near_repeat": {"title", "category", "from", "to", "distance_m", "days", "permutations", "seed"},
    "stability": {"title", "category", "from", "to", "top", "draws", "preset", "eps_m", "min_samples"},
    "hot_streets": {"title", "category", "from", "to", "streets", "max_distance_m", "top"},
    "seasonal": {"title", "areas", "category", "from", "to", "season"},
}



MAP_TYPES = ("choropleth", "patrol")



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
    page: Page = field(default_factory=Page)

    def inputs_paths(self) -> list[Path]:
        return list(self.data) + [a.file for a in self.areas.values() if a.file is not None]



def spec_error(spec_file, key: str, message: str):
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
    except RecursionError:
        raise InputError("nested too deeply to be a report spec (lists or mappings inside each other "
                         "thousands of levels deep)", file=path) from None
    try:
        return parse_spec(raw, base=path.parent, source=str(path))
    except RecursionError:
        raise InputError("nested too deeply to be a report spec", file=path) from None



def spec_month(spec_file, key: str, value) -> str:
    try:
        return periods.parse_month(str(value), key)
    except InputError as exc:
        spec_error(spec_file, key, exc.message)



def spec_range(spec_file, key: str, value) -> list[str]:
    try:
        return periods.parse_range(str(value), key)
    except InputError as exc:
        spec_error(spec_file, key, exc.message)



def spec_str_list(spec_file, key: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    spec_error(spec_file, key, "must be a text or a list of texts")



def parse_spec(raw: Any, base: str | Path = ".", source: str = "spec", loaded: bool = False) -> Spec:
    """Validate a spec already read from YAML (a dict); see the README for the format.
    `loaded`: the data are already in memory (the app), so ``data`` and area files are not
    needed (areas are then names of the in-memory layers)."""
    src = source
    if not isinstance(raw, dict):
        spec_error(src, "(top level)", "a report spec is a mapping with title, data, areas and sections")
    allowed = {"title", "subtitle", "synthetic", "data", "areas", "period", "sections", "page"}
    for key in raw:
        if key not in allowed:
            spec_error(src, str(key), f"unknown key; use {', '.join(sorted(allowed))}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        spec_error(src, "title", "the report needs a title (text)")
    base = Path(base)
    data = [base / p for p in spec_str_list(src, "data", raw.get("data"))]
    if not data and not loaded:
        spec_error(src, "data", "name the incident files, police.uk folders or workspace")
    areas: dict[str, AreaSource] = {}
    raw_areas = raw.get("areas") or {}
    if not isinstance(raw_areas, dict):
        spec_error(src, "areas", "a mapping of names to boundary files, e.g. wards: wards.geojson")
    for name, entry in raw_areas.items():
        key = f"areas.{name}"
        if isinstance(entry, str) or (entry is None and loaded):
            entry = {"file": entry}
        if not isinstance(entry, dict) or (entry.get("file") is None and not loaded):
            spec_error(src, key, "a boundary file, or a mapping with file (and layer, name_field, label)")
        for k in entry:
            if k not in ("file", "layer", "name_field", "label"):
                spec_error(src, f"{key}.{k}", "unknown key; use file, layer, name_field, label")
        file = base / str(entry["file"]) if entry.get("file") is not None else None
        areas[str(name)] = AreaSource(str(name), file, entry.get("layer"),
                                      entry.get("name_field"), str(entry.get("label") or ""))
    period = raw.get("period") or {}
    if not isinstance(period, dict):
        spec_error(src, "period", "a mapping with from and to (YYYY-MM)")
    period = {k: spec_month(src, f"period.{k}", v) for k, v in period.items() if k in ("from", "to")}
    for k in raw.get("period") or {}:
        if k not in ("from", "to"):
            spec_error(src, f"period.{k}", "unknown key; use from and to")
    sections_raw = raw.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        spec_error(src, "sections", "a list of sections (table, summary, concentration, map, chart, "
                               "evaluation, indicators, heading, text, notes)")
    sections = []
    for i, item in enumerate(sections_raw):
        key = f"sections[{i}]"
        if not isinstance(item, dict) or len(item) != 1:
            spec_error(src, key, "each section is one key: " + ", ".join(SECTION_KEYS))
        kind, args = next(iter(item.items()))
        if kind not in SECTION_KEYS:
            spec_error(src, key, f"unknown section '{kind}'; use one of {', '.join(SECTION_KEYS)}")
        key = f"{key}.{kind}"
        sections.append((kind, check_section(src, key, kind, args, areas, period, base), key))
    try:
        page = page_of(raw.get("page"))
    except InputError as exc:
        spec_error(src, exc.parameter or "page", exc.message)
    return Spec(title=title.strip(), subtitle=str(raw.get("subtitle") or ""), page=page,
                synthetic=bool(raw.get("synthetic", False)), source=src, base=base, data=data,
                areas=areas, period=period, sections=sections)



def check_section(src, key: str, kind: str, args, areas: dict, period: dict, base: Path = Path(".")):
    if kind in ("heading", "text"):
        if not isinstance(args, str) or not args.strip():
            spec_error(src, key, "must be text")
        return args
    if kind == "notes":
        return spec_str_list(src, key, args)
    if args is None:
        args = {}
    if not isinstance(args, dict):
        spec_error(src, key, "must be a mapping of the section's options")
    out = dict(args)
    for k in out:
        if k not in SECTION_KEYS[kind]:
            spec_error(src, f"{key}.{k}", f"unknown key; use {', '.join(sorted(SECTION_KEYS[kind]))}")
    if kind == "sentences":  # the table's checks and defaults
        return check_section(src, key, "table", out, areas, period, base)
    if "areas" in SECTION_KEYS[kind]:
        # a table over every incident (no area, by or within) and a chart of everything need no areas
        whole = not any(k in out for k in ("area", "by", "within"))
        needs = not ((kind in ("table", "sentences", "chart", "indicators")) and whole)
        if "areas" in out:
            if str(out["areas"]) not in areas:
                spec_error(src, f"{key}.areas", f"no areas named '{out['areas']}' (areas: "
                      f"{', '.join(areas) or 'none'})")
        elif areas and needs:
            out["areas"] = next(iter(areas))
        elif needs:
            spec_error(src, f"{key}.areas", "the spec has no areas; add an areas: entry")
    for k in ("month", "to", "from"):
        if k in out:
            out[k] = spec_month(src, f"{key}.{k}", out[k])
    for k in ("after", "before", "baseline", "period"):
        if k in out:
            value = spec_range(src, f"{key}.{k}", out[k])
            # tables and indicators keep the CLI's FROM..TO text (their engine parses it)
            out[k] = f"{value[0]}..{value[-1]}" if kind in ("table", "indicators") else value
    if kind == "table" and "compare" in out and ".." in str(out["compare"]):
        out["compare"] = "..".join(spec_range(src, f"{key}.compare", out["compare"])[i] for i in (0, -1))
    for k in ("population", "spec", "streets"):
        if k in out:
            out[k] = str(base / str(out[k]))
    if "lsoa_boundaries" in out:
        out["lsoa_boundaries"] = [str(base / p) for p in spec_str_list(src, f"{key}.lsoa_boundaries",
                                                                        out["lsoa_boundaries"])]
        if "population" not in out:
            spec_error(src, f"{key}.population", "lsoa_boundaries needs population (the LSOA counts)")
    if kind == "table" and isinstance(out.get("area"), list):
        out["area"] = spec_str_list(src, f"{key}.area", out["area"])
    if "category" in out:
        out["category"] = spec_str_list(src, f"{key}.category", out["category"])
    for k in ("months", "top", "min_samples", "year_start"):
        if k in out and (not isinstance(out[k], int) or isinstance(out[k], bool) or out[k] < 1):
            spec_error(src, f"{key}.{k}", "must be a whole number of at least 1")
    for k in ("eps_m", "buffer_m", "cell_m"):
        if k in out and (not isinstance(out[k], (int, float)) or isinstance(out[k], bool) or out[k] < 0):
            spec_error(src, f"{key}.{k}", "must be a number of metres (0 or more)")
    # defaults from the report period
    if kind in ("summary",) and "to" not in out:
        if "to" not in period:
            spec_error(src, f"{key}.to", "give to: YYYY-MM (or a report period)")
        out["to"] = period["to"]
    if kind == "table" and sum(k in out for k in ("month", "period", "years")) > 1:
        spec_error(src, key, "give one of month, period or years")
    if kind == "indicators" and ("spec" not in out or "period" not in out):
        spec_error(src, f"{key}.{'spec' if 'spec' not in out else 'period'}",
              "an indicators section needs spec (the CSV) and period FROM..TO")
    if kind == "table" and not any(k in out for k in ("month", "period", "years")):
        if "to" not in period:
            spec_error(src, f"{key}.month", "give month: YYYY-MM (or a report period)")
        out["month"] = period["to"]
    if kind in ("concentration", "map", "chart", "emerging", "backtest", "near_repeat", "stability",
                "hot_streets"):
        for k in ("from", "to"):
            if k not in out and k in period:
                out[k] = period[k]
    if kind == "map":
        out.setdefault("type", "choropleth")
        if out["type"] not in MAP_TYPES:
            spec_error(src, f"{key}.type", f"use one of {', '.join(MAP_TYPES)} (the before/after pair "
                                      "comes with an evaluation section)")
        if out.get("metric", "count") not in ("count", "rate"):
            spec_error(src, f"{key}.metric", "use count or rate")
        if "preset" in out and out["preset"] not in PRESETS:
            spec_error(src, f"{key}.preset", f"use one of {', '.join(PRESETS)}")
    if kind in ("summary", "evaluation") and "area" not in out:
        spec_error(src, f"{key}.area", "name the area (as in the boundary file)")
    if kind == "evaluation" and "after" not in out:
        spec_error(src, f"{key}.after", "give the after window FROM..TO")
    if kind == "table" and "years" in out:
        text = str(out["years"])
        parts = text.split("..")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts) or int(parts[0]) > int(parts[1]):
            spec_error(src, f"{key}.years", f"'{text}' is not FIRST..LAST (e.g. 2021..2023)")
        out["years"] = f"{int(parts[0])}..{int(parts[1])}"
    return out
