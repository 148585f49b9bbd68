"""The report pack (docs/design.md §5b, §10): a YAML spec -> the partnership paper as HTML, PDF, DOCX and
XLSX, built from the same core calls the CLI makes, so every number in the pack is the one
``hotspot table`` / ``summary`` / ``rank`` / ``evaluate`` prints for the same arguments.

The flow is spec -> `load_spec` (validated at the boundary: one-line errors naming the spec key)
-> `load_inputs` (incidents and areas, as the CLI loads them) -> `build` (a `Pack`: sections of
headings, paragraphs, tables and images, plus "About these figures") -> renderers
(`render_html` via the Jinja2 templates in ``hotspot_app/render/templates``, `render_pdf` via WeasyPrint,
`render_docx` via python-docx, `render_xlsx` via `xlsx.workbook`) -> `write` (atomic, never over
an input). `report` does all of it for the CLI; `report_demo.yaml` is the demo borough's paper.

Table and indicator sections take the keys of the CLI forms of docs/design.md §5b (``area``, ``by``,
``within``, ``month``, ``period``, ``years``, ``year_start``, ``compare``, ``kind``, ``category``,
``taxonomy``, ``population``, ``no_total``, ``rows``; ``spec``, ``period``, ``baseline``): the ONE
adapter `table_section` makes the call ``hotspot table`` makes for them (the town-centre table for
one area and month, the table engine `tables.build_table` otherwise), and `indicators_section` the call
of ``hotspot indicators`` (`questions.indicators`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from hotspot_app.core import settings
from hotspot_app.render.pack.app_specs import APP_SECTIONS, app_spec, demo_spec
from hotspot_app.render.pack.evaluation_section import intervention_evaluation
from hotspot_app.render.pack.inputs import Inputs, load_inputs
from hotspot_app.render.pack.model import Image, Pack, Section, Table, document_table
from hotspot_app.render.pack.output import (
    RENDERERS,
    check_outputs,
    css_string,
    render,
    render_docx,
    render_html,
    render_pdf,
    render_xlsx,
    write,
)
from hotspot_app.render.pack.sections import BUILDERS, about_section, table_section
from hotspot_app.render.pack.spec import (
    DEMO_SPEC,
    FORMATS,
    SECTION_KEYS,
    Spec,
    load_spec,
    parse_spec,
)

__all__ = ["FORMATS", "SECTION_KEYS", "Spec", "Inputs", "Pack", "Table", "Image", "Section",
           "load_spec", "parse_spec", "load_inputs", "build", "table_section", "render_html",
           "render_pdf", "render_docx", "render_xlsx", "render", "write", "report", "demo_spec",
           "DEMO_SPEC", "APP_SECTIONS", "app_spec", "intervention_evaluation", "check_outputs",
           "css_string", "document_table", "RENDERERS"]



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
            sec = BUILDERS[kind](inc, inputs, args, key)
        sections.append(sec)
        current = None
        warnings += [f"{sec.title}: {w}" for w in sec.warnings]
    about = about_section(spec, inputs, warnings, categories)
    label = settings.DEMO_LABEL if spec.synthetic else ""
    return Pack(spec.title, spec.subtitle, label, sections, about, list(dict.fromkeys(warnings)),
                generated=pd.Timestamp.now(tz="UTC").strftime("%d %B %Y"))



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
