"""The pack's sections: each section type of a spec turned into headings, paragraphs, tables and
images by the same calls the CLI makes (docs/design.md §5b)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import periods, settings, summaries, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.io import population_files
from hotspot_app.render import formatting
from hotspot_app.render.pack.evaluation_section import evaluation_section
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
    UNITS,
    Spec,
)


# --------------------------------------------------------------------------- the table adapter
def table_section(incidents: gpd.GeoDataFrame, inputs: Inputs, args: dict, key: str = "table") -> Table:
    """THE adapter from a table section (the flags of ``hotspot table``, design §5b) to a table,
    making the same call as the CLI: one `area` with `month` (and no by/within/category/
    population/rows, a named comparison) is the seed-004 table (`areas.partnership_table`);
    every other form is the table engine (`tables.build_table`)."""
    from hotspot_app.core import tables

    kind = str(args.get("kind", "crime"))
    if kind not in ("crime", "asb", "fire"):
        raise InputError(f"'{kind}' is not one of: crime, asb, fire", parameter=f"{key}.kind")
    tax = str(args.get("taxonomy", "auto"))
    if tax not in taxonomy.TABLE_TAXONOMIES:
        raise InputError(f"'{tax}' is not one of: {', '.join(taxonomy.TABLE_TAXONOMIES)}",
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
        _, rows_area, name = pick_areas(inputs, {**args, "area": names[0]}, key)
        table = summaries.partnership_table(incidents, rows_area, args["month"], kind=kind,
                                             compare=compare, taxonomy_name=tax)
        rows, warnings = table
        title = args.get("title") or f"{name} — {periods.describe([args['month']])}"
        disp = formatting.table_display(rows, indent="", previous=True)
        label = {"crime": "Crime", "asb": "Anti-social behaviour", "fire": "Fire"}[kind]
        cols = [tuple(c.split(": ", 1)) if ": " in c else ("", label) for c in disp.columns]
        comp = compare.replace("-", " ")
        caption = (f"Selected month {periods.describe([args['month']])}, the last 6 and last 12 months "
                   f"to it; compared with the {comp}.")
        return Table(title, cols, disp.astype(str).values.tolist(),
                     rows["node"].isin(["group", "total"]).tolist(), [int(v) for v in rows["level"]],
                     formatting.table_sheet(rows, title, warnings=warnings, name=name), caption=caption,
                     document=summaries.table_document(table, name))
    population = population_files.read_population_table(args["population"]) if args.get("population") else None
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
        what = what_label(args["category"])
        what = what[:1].upper() + what[1:]
    cols = doc["columns"]
    span = periods.format_range([cols[0]["from"], cols[-1]["to"]]) if cols else ""
    title = args.get("title") or f"{what}, {span}"
    if args.get("years") and cols and not args.get("title"):
        title = f"{what} by year ({cols[0]['id']} to {cols[-1]['id']})"
    return document_table(doc, title, caption="; ".join(formatting.describe_columns(doc)))


def indicators_section(incidents, inputs, args, key) -> Section:
    """The seed-003 indicator table, as ``hotspot indicators`` makes it (`tables.indicators`)."""
    from hotspot_app.core import tables
    from hotspot_app.render import xlsx

    path = Path(args["spec"])
    if not path.is_file():
        raise InputError("no such indicator spec", file=path, parameter=f"{key}.spec")
    try:
        spec_df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read the indicator spec ({' '.join(str(exc).split())})", file=path) from None
    rows_area, name = None, ""
    if "area" in args:
        _, rows_area, name = pick_areas(inputs, args, key)
    doc = tables.indicators(incidents, spec_df, args["period"], baseline=args.get("baseline"),
                            compare=str(args.get("compare", "same-period-last-year")), area=rows_area,
                            spec_file=str(path))
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
    return Section(title, [table], list(doc["warnings"]), "indicators", doc)


# --------------------------------------------------------------------------- section builders
def summary_section(incidents, inputs, args, key) -> Section:
    _, rows_area, name = pick_areas(inputs, args, key)
    months = int(args.get("months", 12))
    doc = summaries.area_summary(incidents, rows_area, args["to"], months,
                                  place=core_areas.area_label(rows_area), area_name=name)
    return Section(args.get("title") or f"{name}: summary", [doc["text"]], list(doc.get("warnings", [])),
                   "summary", doc)


def concentration_section(incidents, inputs, args, key) -> Section:
    layer_areas, _, _ = pick_areas(inputs, {k: v for k, v in args.items() if k != "area"}, key)
    category = args.get("category") or None
    sel = taxonomy.select(incidents, category)
    months = months_of(args, incidents, sel)
    ranked, warnings = summaries.rank_areas(incidents, layer_areas, category=category, months=months)
    layer = str(layer_areas["layer"].iloc[0]) if len(layer_areas) and "layer" in layer_areas.columns else "area"
    unit = args.get("unit") or UNITS.get(layer, "areas")
    share = summaries.top_share(ranked, int(args.get("top", 3)), what=what_label(category), unit=unit)
    from hotspot_app.render import xlsx

    top_n = max(int(args.get("top", 3)), 10)
    body = ranked[ranked["area_id"] != core_areas.OUTSIDE].head(top_n)
    shown = formatting.rank_display(body)
    title = args.get("title") or f"Where {what_label(category)} concentrates, {periods.describe([months[0], months[-1]])}"
    cols, cells = display_cells(shown)
    sheet = xlsx.sheet_of(body.drop(columns=["area_id"]), title, "Concentration",
                          period=periods.describe([months[0], months[-1]]), notes=warnings)
    table = Table(f"Top {len(body)} {unit} by count", cols, cells, [False] * len(body), [0] * len(body),
                  sheet, caption=f"Share of all {formatting.fmt_int(ranked.attrs.get('total'))} {what_label(category)} "
                                 f"(incidents outside every area included in the total).")
    return Section(title, [share["text"], table], warnings, "concentration", share)


def map_section(incidents, inputs, args, key) -> Section:
    from hotspot_app.render import static_maps

    category = args.get("category") or None
    layer_areas, _, _ = pick_areas(inputs, {k: v for k, v in args.items() if k != "area"}, key)
    sel = taxonomy.select(incidents, category)
    months = months_of(args, incidents, sel)
    span = periods.describe([months[0], months[-1]])
    what = what_label(category)
    if args["type"] == "patrol":
        from hotspot_app.core import clusters

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
        from hotspot_app.render import xlsx

        shown = frame.copy()
        for c in ("Incidents", "Area (m²)", "Per km²"):
            shown[c] = [formatting.fmt_int(v) for v in shown[c]]
        cols, cells = display_cells(shown)
        sec.blocks.append(Table("Patrol areas", cols, cells, [False] * len(frame), [0] * len(frame),
                                xlsx.sheet_of(frame, title, "Patrol areas", period=span)))
        return sec
    ranked, warnings = summaries.rank_areas(incidents, layer_areas, category=category, months=months)
    col = "rate_per_1000" if args.get("metric") == "rate" else "count"
    by_id = ranked.set_index("area_id")[col]
    values = [None if pd.isna(v) else float(v) for v in layer_areas["area_id"].astype(str).map(by_id)]
    legend = "Rate per 1,000" if col == "rate_per_1000" else "Incidents"
    title = args.get("title") or f"{what[:1].upper() + what[1:]} by {UNITS.get(str(layer_areas['layer'].iloc[0]), 'area')[:-1]}, {span}"
    png = static_maps.choropleth_png(layer_areas, values, legend_title=legend)
    return Section(title, [Image(title, png, caption=f"{legend} per area; grey = n/a (not covered).")],
                   warnings, "map")


def chart_section(incidents, inputs, args, key) -> Section:
    from hotspot_app.core import evaluation
    from hotspot_app.render import static_maps

    category = args.get("category") or None
    sel = taxonomy.select(incidents, category)
    months = months_of(args, incidents, sel)
    name = "All areas"
    mask = sel
    if "area" in args:
        _, rows, name = pick_areas(inputs, args, key)
        mask = sel & core_areas.area_mask(incidents, rows)
    cov = periods.Coverage.of(incidents[sel])
    series = evaluation.monthly_counts(incidents, {name: mask}, months, cov)
    title = args.get("title") or f"{what_label(category)[:1].upper() + what_label(category)[1:]} per month: {name}"
    missing = cov.missing(months)
    warnings = [periods.coverage_warning(missing, "chart")] if missing else []
    return Section(title, [Image(title, static_maps.monthly_png(series, title=title), kind="chart")],
                   warnings, "chart")


BUILDERS = {"summary": summary_section, "concentration": concentration_section, "map": map_section,
             "evaluation": evaluation_section, "chart": chart_section, "indicators": indicators_section}


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
             "Tables follow the Home Office hierarchy where the data allow (seed 004 layout); ASB "
             "and fires are never counted in the crime Total."]
    sec.blocks.append("Definitions:")
    sec.blocks.append(("list", defs))
    sec.blocks.append("Warnings:")
    sec.blocks.append(("list", list(dict.fromkeys(warnings)) or ["None."]))
    return sec


