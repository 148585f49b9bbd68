"""The pack's sections: each section type of a spec turned into headings, paragraphs, tables and
images. Every figure comes from the question the CLI asks for the same arguments
(`hotspot_app.questions`; docs/design.md §5b, §5c); here it is only laid out."""

from __future__ import annotations


import geopandas as gpd
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import periods, settings, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.io import population_files
from hotspot_app.render import formatting
from hotspot_app.render.pack.evaluation_section import evaluation_section
from hotspot_app.render.pack.where_next_section import BUILDERS as WHERE_NEXT_BUILDERS
from hotspot_app.render.pack.fires_section import seasonal_section
from hotspot_app.render.pack.inputs import Inputs
from hotspot_app.render.pack.model import (
    Image,
    Section,
    Table,
    display_cells,
    document_table,
    months_of,
    pick_areas,
    what_label,
)
from hotspot_app.render.pack.spec import (
    GROUP_DEFINITIONS,
    POLICE_UK_COARSE,
    POLICE_UK_NOTE,
    Spec,
)


# --------------------------------------------------------------------------- the table adapter
def _relabel(exc: InputError, key: str) -> InputError:
    """A question's error with the spec key in front of its parameter (``sections[3].table.kind``)."""
    return InputError(exc.message, file=exc.file, row=exc.row, column=exc.column,
                      parameter=f"{key}.{exc.parameter}" if exc.parameter else key)


def table_section(incidents: gpd.GeoDataFrame, inputs: Inputs, args: dict, key: str = "table") -> Table:
    """THE adapter from a table section (the flags of ``hotspot table``, docs/design.md §5b) to a table:
    the area-table question (`questions.table.area_table`) decides the form, as for the CLI."""
    from hotspot_app.questions import table as table_question

    area = args.get("area")
    names = [area] if isinstance(area, str) else list(area or [])
    layer = inputs.areas.get(args["areas"]) if "areas" in args else None
    population = population_files.read_population_table(args["population"]) if args.get("population") else None
    try:
        answer = table_question.area_table(
            incidents, layer, area=names or None, by=args.get("by"), within=args.get("within"),
            month=args.get("month"), period=args.get("period"), years=args.get("years"),
            year_start=args.get("year_start"), compare=args.get("compare"), kind=args.get("kind"),
            category=args.get("category") or None, taxonomy_name=str(args.get("taxonomy", "auto")),
            population=population, total=not args.get("no_total", False), rows=args.get("rows"))
    except InputError as exc:
        raise _relabel(exc, key) from None
    kind = answer.kind
    if answer.one_area:
        rows, month = answer.rows, answer.document["month"]
        title = args.get("title") or f"{answer.name} — {periods.describe([month])}"
        disp = formatting.table_display(rows, indent="", previous=True)
        label = taxonomy.kind_label(kind)
        cols = [tuple(c.split(": ", 1)) if ": " in c else ("", label) for c in disp.columns]
        comp = answer.document["comparison"].replace("-", " ")
        caption = (f"Selected month {periods.describe([month])}, the last 6 and last 12 months "
                   f"to it; compared with the {comp}.")
        return Table(title, cols, disp.astype(str).values.tolist(),
                     rows["node"].isin(["group", "total"]).tolist(), [int(v) for v in rows["level"]],
                     formatting.table_sheet(rows, title, warnings=answer.warnings, name=answer.name),
                     caption=caption, document=answer.document)
    doc = answer.document
    what = answer.title
    if args.get("category") and not answer.kinds:
        what = what_label(args["category"])
        what = what[:1].upper() + what[1:]
    cols = doc["columns"]
    span = periods.describe([cols[0]["from"], cols[-1]["to"]]) if cols else ""
    where = f" in {str(args['within']).split('=', 1)[1]}" if args.get("within") else ""
    title = args.get("title") or f"{what}{where}, {span}"
    if args.get("years") and cols and not args.get("title"):
        title = f"{what} by year ({cols[0]['id']} to {cols[-1]['id']})"
    force = answer.force if any(c["area"] == "Total" for c in cols) else None
    return document_table(doc, title, caption="; ".join(formatting.describe_columns(doc)), total_name=force)


def indicators_section(incidents, inputs, args, key) -> Section:
    """The performance-indicator table, as ``hotspot indicators`` makes it (`questions.indicators`)."""
    from hotspot_app.io import indicator_specs
    from hotspot_app.questions import indicators
    from hotspot_app.render import xlsx

    spec_df = indicator_specs.read(args["spec"], parameter=f"{key}.spec")
    rows_area, name = None, ""
    if "area" in args:
        _, rows_area, name = pick_areas(inputs, args, key)
    try:
        doc = indicators.indicators(incidents, spec_df, args["period"], baseline=args.get("baseline"),
                                    compare=args.get("compare"), area=rows_area, spec_file=str(args["spec"]))
    except InputError as exc:
        raise _relabel(exc, key) from None
    shown = formatting.indicators_frame(doc)
    numbers = shown.copy()
    for j, col in enumerate(shown.columns):
        keyname = ["indicator", "baseline", "target", "current", "previous", "diff", "pct_diff", "status"][j]
        numbers[col] = [r[keyname] for r in doc["rows"]]
    title = args.get("title") or "Performance indicators" + (f": {name}" if name else "")
    cols, cells = display_cells(shown)
    sheet = xlsx.Sheet(numbers, title, "Indicators", percent=["% difference"], diff=["Actual difference"],
                       notes=list(doc["warnings"]))
    table = Table(title, cols, cells, [False] * len(cells), [0] * len(cells), sheet, document=doc)
    return Section(title, [table, ("list", list(doc.get("sentences", [])))], list(doc["warnings"]),
                   "indicators", doc)


# --------------------------------------------------------------------------- section builders
def summary_section(incidents, inputs, args, key) -> Section:
    """The area summary, as ``hotspot summary`` makes it (`questions.summary`)."""
    from hotspot_app.questions import summary

    _, rows_area, name = pick_areas(inputs, args, key)
    doc = summary.area_summary(incidents, rows_area, args["to"], args.get("months"))
    return Section(args.get("title") or f"{name}: summary", [doc["text"]], list(doc.get("warnings", [])),
                   "summary", doc)


def concentration_section(incidents, inputs, args, key) -> Section:
    """Where it concentrates, as ``hotspot rank`` says it (`questions.rank.rank`): the top-N
    sentence and the busiest areas."""
    from hotspot_app.questions import rank
    from hotspot_app.render import xlsx

    layer_areas, _, _ = pick_areas(inputs, {k: v for k, v in args.items() if k != "area"}, key)
    category = args.get("category") or None
    try:
        ranked, doc = rank.rank(incidents, layer_areas, category=category,
                                period=(args.get("from"), args.get("to")), top=args.get("top"),
                                within=args.get("within"), by=args.get("by"), unit=args.get("unit"),
                                population=args.get("population"),
                                lsoa_boundaries=args.get("lsoa_boundaries") or ())
    except InputError as exc:
        raise _relabel(exc, key) from None
    share, warnings = doc["top"], list(doc["warnings"]) + list(doc["notes"])
    span = periods.describe([doc["from"], doc["to"]]) if doc["from"] else ""
    unit = args.get("unit") or ("areas" if args.get("by") else core_areas.layer_unit(
        str(layer_areas["layer"].iloc[0]) if len(layer_areas) and "layer" in layer_areas.columns else None))
    top_n = max(int(share["top"]), 10)
    body = ranked[ranked["area_id"] != core_areas.OUTSIDE].head(top_n)
    shown = formatting.rank_display(body)
    where = f" in {str(args['within']).split('=', 1)[1]}" if args.get("within") else ""
    title = args.get("title") or f"Where {what_label(category)} concentrates{where}, {span}"
    cols, cells = display_cells(shown)
    sheet = xlsx.sheet_of(body.drop(columns=["area_id"]), title, "Concentration", period=span, notes=warnings)
    table = Table(f"Top {len(body)} {unit} by count", cols, cells, [False] * len(body), [0] * len(body),
                  sheet, caption=f"Share of all {formatting.fmt_int(ranked.attrs.get('total'))} {what_label(category)}"
                                 f"{where} (incidents outside every area included in the total).",
                  document=doc)
    return Section(title, [*doc["sentences"], table], warnings, "concentration", doc)


def sentences_section(incidents, inputs, args, key) -> Section:
    """The papers' sentences for a table's arguments: the "sentences" of ``hotspot table`` for
    the same flags (`questions.table.area_table`, `core.sentences.table_sentences`)."""
    table = table_section(incidents, inputs, {k: v for k, v in args.items() if k != "title"}, key)
    doc = table.document or {}
    title = args.get("title") or f"In words: {table.title}"
    return Section(title, [("list", list(doc.get("sentences", [])))], list(doc.get("warnings", [])),
                   "sentences", doc)


def patrol_map_section(incidents, inputs, args, key) -> Section:
    """The patrol-areas map, as ``hotspot clusters`` finds them (`questions.patrol_areas`): the
    app's default preset unless the spec names one, the top `patrol_areas.SHOWN` unless `top`;
    with `within` (``LAD24NM=Hartlepool`` or ward names, as ``--within``) only the incidents of
    that place, drawn over its areas."""
    from hotspot_app.questions import patrol_areas
    from hotspot_app.render import static_maps, xlsx

    category = args.get("category") or None
    layer_areas, _, _ = pick_areas(inputs, {k: v for k, v in args.items() if k != "area"}, key)
    sel = taxonomy.select(incidents, category)
    months = months_of(args, incidents, sel)
    span = periods.describe([months[0], months[-1]])
    try:
        found = patrol_areas.patrol_areas(incidents, category=category, period=f"{months[0]}..{months[-1]}",
                                          preset=args.get("preset"), eps_m=args.get("eps_m"),
                                          min_samples=args.get("min_samples"), areas=layer_areas,
                                          top=args.get("top", patrol_areas.PAPER_SHOWN),
                                          within=args.get("within") or None)
        context = core_areas.pick(layer_areas, args["within"]) if args.get("within") else layer_areas
    except InputError as exc:
        raise _relabel(exc, key) from None
    where = f" in {core_areas.describe_within(args['within'])}" if args.get("within") else ""
    title = args.get("title") or f"Patrol areas{where}: {what_label(category)}, {span}"
    sec = Section(title, [], list(found.warnings), "map", found.to_dict())
    sec.blocks.append(found.sentence())
    if not len(found.areas):
        return sec
    shown = found.areas.sort_values("rank")
    sec.blocks.append(Image(title, static_maps.patrol_png(shown, context=context),
                            caption="Numbered by rank (1 = most incidents); a number set beside its area "
                                    "is joined to it by a line. Outlines: "
                                    f"{inputs.area_files.get(args['areas'], 'areas')}."))
    frame = pd.DataFrame({"Rank": shown["rank"].astype(int).tolist(),
                          "Place": [str(v) for v in column_or(shown, "location_text", shown["name"])],
                          "Ward": [("" if pd.isna(v) else str(v)) for v in column_or(shown, "area_name", "")],
                          "Grid reference": [("" if pd.isna(v) else str(v)) for v in column_or(shown, "grid_ref", "")],
                          "Incidents": shown["count"].astype(int).tolist(),
                          "Area (ha)": [round(float(v) / 10_000, 2) for v in shown["area_m2"]],
                          "Months": [f"{a} to {b}" for a, b in zip(shown["first_month"], shown["last_month"])]})
    frame = frame[[c for c in frame.columns if c not in ("Ward", "Grid reference") or frame[c].ne("").any()]]
    table = frame.copy()
    table["Incidents"] = [formatting.fmt_int(v) for v in table["Incidents"]]
    table["Area (ha)"] = [f"{v:.2f}" for v in table["Area (ha)"]]
    cols, cells = display_cells(table)
    sec.blocks.append(Table(f"The {len(frame)} patrol areas on the map", cols, cells, [False] * len(frame),
                            [0] * len(frame),
                            xlsx.sheet_of(frame, title, "Patrol areas", period=span,
                                          notes=[found.sentence(), *found.warnings])))
    return sec


def column_or(frame: pd.DataFrame, column: str, default):
    """`frame[column]`, or `default` for every row when the column is absent."""
    if column in frame.columns:
        return frame[column].tolist()
    return list(default) if isinstance(default, pd.Series) else [default] * len(frame)


def map_section(incidents, inputs, args, key) -> Section:
    """A map: the patrol areas (`patrol_map_section`), or a choropleth of counts or rates per
    1,000 by area (`questions.rank.area_values`)."""
    from hotspot_app.questions import rank
    from hotspot_app.render import static_maps

    if args["type"] == "patrol":
        return patrol_map_section(incidents, inputs, args, key)
    category = args.get("category") or None
    layer_areas, _, _ = pick_areas(inputs, {k: v for k, v in args.items() if k != "area"}, key)
    sel = taxonomy.select(incidents, category)
    months = months_of(args, incidents, sel)
    span = periods.describe([months[0], months[-1]])
    what = what_label(category)
    if args.get("within"):
        from hotspot_app.core import tables as core_tables

        layer_areas, _ = core_tables.group_areas(layer_areas, within=args["within"])
    try:
        by_id, metric, grey, warnings = rank.map_values(
            incidents, layer_areas, category=category, months=months, metric=args.get("metric", "count"),
            population=args.get("population"), lsoa_boundaries=args.get("lsoa_boundaries") or (),
            smooth=args.get("smooth"))
    except InputError as exc:
        raise _relabel(exc, key) from None
    values = [None if pd.isna(v) else float(v) for v in layer_areas["area_id"].astype(str).map(by_id)]
    legend = ("Rate per 1,000" + (" (Empirical Bayes)" if args.get("smooth") else "")) if metric == "rate" \
        else "Incidents"
    reasons = sorted(set(grey.values()))
    layer = str(layer_areas["layer"].iloc[0]) if len(layer_areas) and "layer" in layer_areas.columns else None
    where = f" in {str(args['within']).split('=', 1)[1]}" if args.get("within") else ""
    per = " per 1,000 people" if metric == "rate" else ""
    title = args.get("title") or (f"{what[:1].upper() + what[1:]}{per} by {core_areas.layer_unit(layer)[:-1]}"
                                  f"{where}, {span}")
    png = static_maps.choropleth_png(layer_areas, values, legend_title=legend,
                                     na_label=f"n/a ({' or '.join(reasons)})" if grey else None)
    grey_text = (f" Grey: n/a ({' or '.join(reasons)}; {len(grey)} of {len(layer_areas)} areas)." if grey
                 else "")
    return Section(title, [Image(title, png, caption=f"{legend} per area.{grey_text}")], warnings, "map")


def chart_section(incidents, inputs, args, key) -> Section:
    """Incidents per month in an area or everywhere (`questions.trend.monthly`)."""
    from hotspot_app.questions import trend
    from hotspot_app.render import static_maps

    category = args.get("category") or None
    sel = taxonomy.select(incidents, category)
    months = months_of(args, incidents, sel)
    rows, name = None, None
    if "area" in args:
        _, rows, name = pick_areas(inputs, args, key)
    series, warnings = trend.monthly(incidents, category=category, months=months, area=rows, name=name)
    label = name or trend.EVERYWHERE
    what = what_label(category)
    title = args.get("title") or f"{what[:1].upper() + what[1:]} per month: {label}"
    return Section(title, [Image(title, static_maps.monthly_png(series, title=title), kind="chart")],
                   warnings, "chart")


BUILDERS = {"summary": summary_section, "concentration": concentration_section, "map": map_section,
             "sentences": sentences_section,
             "evaluation": evaluation_section, "chart": chart_section, "indicators": indicators_section,
             "seasonal": seasonal_section, **WHERE_NEXT_BUILDERS}


def about_section(spec: Spec, inputs: Inputs, warnings: list[str], categories: set[str]) -> Section:
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
             "Tables follow the Home Office hierarchy where the data allow (the town-centre paper's layout); ASB "
             "and fires are never counted in the crime Total."]
    sec.blocks.append("Definitions:")
    sec.blocks.append(("list", defs))
    sec.blocks.append("Warnings:")
    sec.blocks.append(("list", list(dict.fromkeys(warnings)) or ["None."]))
    return sec


