"""The partnership paper's commands: `hotspot table`, `summary`, `rank`, `indicators` and `report`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from hotspot_app.cli.common import (
    AreaFieldOpt,
    AreasLayerOpt,
    CategoryOpt,
    FromOpt,
    IncidentsArg,
    ToOpt,
    check_choice,
    emit_document,
    pick_area,
    write_out,
    app,
    emit_json,
    guarded,
    load_areas_arg,
    load_incidents_arg,
    load_selected,
    progress,
)
from hotspot_app.core.errors import InputError


@app.command("table")
@guarded
def table_command(
    incidents: IncidentsArg,
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace) with the area."),
    area: Optional[List[str]] = typer.Option(None, "--area", help="Area name (case-insensitive); "
                                             "repeat for one column per area."),
    by: Optional[str] = typer.Option(None, "--by", help="One column per value of this field of "
                                     "AREAS, areas dissolved (e.g. LAD24NM: local authorities), plus Total."),
    within: Optional[str] = typer.Option(None, "--within", help="FIELD=VALUE: only the areas whose "
                                         "FIELD equals VALUE (e.g. LAD24NM=Hartlepool)."),
    month: Optional[str] = typer.Option(None, "--month", help="Selected month YYYY-MM; windows end "
                                        "with it: the month, the last 6 months, the last 12 months."),
    period: Optional[str] = typer.Option(None, "--period", help="FROM..TO: one window (e.g. a quarter "
                                         "2024-04..2024-06)."),
    years: Optional[str] = typer.Option(None, "--years", help="FIRST..LAST: one column per 12-month "
                                        "year starting in --year-start, each against the year before."),
    year_start: Optional[int] = typer.Option(None, "--year-start", help="First month of each --years year "
                                   "(4 = April, financial years; 10 = October-September)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="crime (default), asb, fire or council (a "
                             "council's reports). ASB, fires and council reports are never counted "
                             "in the crime Total."),
    compare: Optional[str] = typer.Option(None, "--compare",
                                help="same-period-last-year (default), previous-period, or a fixed "
                                "reference window FROM..TO."),
    category: CategoryOpt = None,
    taxonomy_name: str = typer.Option("auto", "--taxonomy", help="auto (by the categories "
                                      "present), police-uk or home-office."),
    population: Optional[Path] = typer.Option(None, "--population", help="CSV with a population "
                                              "column and the column areas' names or codes; rates per 1,000."),
    no_total: bool = typer.Option(False, "--no-total", help="No Total column."),
    rows: Optional[str] = typer.Option(None, "--rows", help="Flat rows by this incident column "
                                       "instead of the category hierarchy (e.g. subcategory: fires "
                                       "by property type)."),
    smooth: Optional[str] = typer.Option(None, "--smooth", help="eb: add rate_eb, the Empirical "
                                         "Bayes rate per 1,000 over the area columns, beside rate "
                                         "(with --by or several --area)."),
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("md", "--format", help="md, csv, json or xlsx (xlsx needs --out)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the table to FILE (atomically) "
                                       "instead of stdout."),
) -> None:
    """Partnership tables: counts by category hierarchy with diff, % diff and rates per 1,000,
    for one or more areas or every value of a field, over the selected month / 6 / 12 months (the
    town-centre paper), any range, years, or against a fixed reference window (docs/design.md §5, §5b)."""
    from hotspot_app.io import exports, population_files
    from hotspot_app.questions import selected, table
    from hotspot_app.render import formatting

    check_choice(format, ("md", "csv", "json", "xlsx"), "format")
    if format == "xlsx" and out is None:
        raise InputError("--format xlsx needs --out FILE.xlsx", parameter="out")
    exports.check_outputs_distinct([*incidents, areas, *([population] if population else [])], [out])
    table.check(month=month, period=period, years=years, kind=kind, compare=compare,
                taxonomy_name=taxonomy_name)
    if smooth is not None:
        check_choice(smooth, ("eb",), "smooth")
    all_areas = load_areas_arg(areas, name_field=area_field, source_layer=areas_layer)
    pop_table = population_files.read_population_table(population) if population is not None else None
    progress("loading incidents ...")
    data, whole, _ = load_selected(incidents, selection=selected.table_selection(
        month=month, period=period, years=years, year_start=year_start, compare=compare, kind=kind,
        areas=all_areas, area=area or None, by=by, within=within, category=category or None,
        population=pop_table, rows=rows))
    answer = table.area_table(data, all_areas, area=area or None, by=by, within=within, month=month,
                              period=period, years=years, year_start=year_start, compare=compare,
                              kind=kind, category=category or None, taxonomy_name=taxonomy_name,
                              population=pop_table, total=not no_total, rows=rows, smooth=smooth, whole=whole)

    def write(payload: str | bytes) -> None:
        write_out(out, payload)

    for note in answer.notes:
        progress(f"note: {note}")
    if format == "json":
        emit_document(answer.document, out)
        return
    for w in answer.warnings:
        progress(f"warning: {w}")
    if answer.one_area:  # the town-centre paper's table: its own layout
        frame = exports.neutralise_frame(answer.rows)
        if format == "csv":
            write(formatting.table_csv(frame))
        elif format == "xlsx":
            write(formatting.table_xlsx(frame))
        else:
            write(formatting.table_markdown(answer.rows, title=answer.name, warnings=answer.warnings)
                  + formatting.sentences_markdown(answer.document.get("sentences", [])))
        return
    title = answer.title
    if format == "csv":
        write(formatting.document_csv(answer.document))
    elif format == "xlsx":
        write(formatting.document_xlsx(answer.document, title=title))
    else:
        write(formatting.document_markdown(answer.document, title=title)
              + formatting.sentences_markdown(answer.document.get("sentences", [])))

@app.command("summary")
@guarded
def summary_command(
    incidents: IncidentsArg,
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace) with the area."),
    area: str = typer.Option(..., "--area", help="Area name (case-insensitive)."),
    to: str = typer.Option(..., "--to", help="Last month of the period, YYYY-MM."),
    months: Optional[int] = typer.Option(None, "--months", help="Length of the period in months (default 12)."),
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Area summary: crime and ASB (and deliberate fires when loaded) in the period against the
    same period a year earlier, with the sentence for the paper (docs/design.md §5)."""
    from hotspot_app.core import params, periods
    from hotspot_app.questions import selected, summary
    from hotspot_app.render import formatting

    check_choice(format, ("text", "json"), "format")
    periods.parse_month(to, "to")
    if months is not None:
        params.validate(months=months)
    _, rows_area = pick_area(areas, area, area_field, areas_layer)
    progress("loading incidents ...")
    data, whole, _ = load_selected(incidents, selection=selected.summary_selection(to, months, rows_area))
    doc = summary.area_summary(data, rows_area, to, months, whole=whole)
    if format == "json":
        emit_json(doc)
    else:
        sys.stdout.write(formatting.summary_text(doc))

@app.command("rank")
@guarded
def rank_command(
    incidents: IncidentsArg,
    areas: Path = typer.Option(..., "--areas", help="Boundary file (or workspace), e.g. wards."),
    category: CategoryOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    population: Optional[Path] = typer.Option(None, "--population", help="CSV of population by "
                                              "area code or name (or by LSOA with --lsoa-boundaries)."),
    lsoa_boundaries: Optional[List[Path]] = typer.Option(None, "--lsoa-boundaries", help="Small-area "
                                                         "(LSOA) polygon file(s), repeatable: --population "
                                                         "is then per LSOA and summed to areas by LSOA "
                                                         "centroid; LSOAs without a polygon are placed at "
                                                         "their police.uk incident points when loaded."),
    top: Optional[int] = typer.Option(None, "--top", help="Report the share of the total in the top N "
                                      "areas (default 3)."),
    layer: Optional[str] = typer.Option(None, "--layer", help="Area layer to rank (ward, "
                                        "town_centre, micro_hotspot, patrol, custom); default: "
                                        "ward when present, else every area."),
    area_field: AreaFieldOpt = None,
    areas_layer: AreasLayerOpt = None,
    by: Optional[str] = typer.Option(None, "--by", help="Rank the values of this field, areas "
                                     "dissolved (e.g. LAD24NM: local authorities)."),
    within: Optional[str] = typer.Option(None, "--within", help="FIELD=VALUE: rank only these areas; "
                                         "shares and totals are within them (e.g. LAD24NM=Hartlepool)."),
    smooth: Optional[str] = typer.Option(None, "--smooth", help="eb (global) or eb-spatial "
                                         "(neighbouring areas): add rate_eb, the Empirical Bayes "
                                         "rate per 1,000, beside the raw rate."),
    format: str = typer.Option("md", "--format", help="md, csv or json."),
) -> None:
    """Rank areas by count with share of the total, cumulative share and rate per 1,000
    population; incidents outside every area are listed as 'outside' (docs/design.md §5b)."""
    from hotspot_app.core import params, periods
    from hotspot_app.questions import rank, selected
    from hotspot_app.render import formatting

    check_choice(format, ("md", "csv", "json"), "format")
    if top is not None:
        params.validate(top=top)
    if from_ is not None:
        periods.parse_month(from_, "from")
    if to is not None:
        periods.parse_month(to, "to")
    if smooth is not None:
        check_choice(smooth, ("eb", "eb-spatial"), "smooth")
    if lsoa_boundaries and population is None:
        raise InputError("--lsoa-boundaries needs --population (the LSOA counts)", parameter="population")
    all_areas = load_areas_arg(areas, name_field=area_field, source_layer=areas_layer)
    progress("loading incidents ...")
    if population is None:  # only the selected categories are read (coverage: the whole file)
        data, whole, _ = load_selected(incidents, selection=selected.rank_selection(category))
    else:  # LSOAs without a polygon are placed at the incidents that carry their code: all of them
        data, whole = load_incidents_arg(incidents), None
    ranked, doc = rank.rank(data, all_areas, category=category, period=(from_, to), population=population,
                            lsoa_boundaries=lsoa_boundaries or (), top=top, layer=layer, by=by,
                            within=within, whole=whole, smooth=smooth)
    if format == "json":
        emit_json(doc)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    for n in doc["notes"]:
        progress(f"note: {n}")
    if format == "csv":
        sys.stdout.write(formatting.rank_csv(ranked))
    else:
        sys.stdout.write(formatting.rank_markdown(ranked, title=ranked.attrs["title"],
                                               notes=[*doc["sentences"], *doc["notes"], *doc["warnings"]]))

@app.command("indicators")
@guarded
def indicators_command(
    incidents: IncidentsArg,
    spec: Path = typer.Option(..., "--spec", help="CSV with columns indicator, category (groups or "
                              "categories, ';'-separated), target (reduce, increase, maintain, "
                              "N% reduction, N% increase)."),
    period: str = typer.Option(..., "--period", help="Current period FROM..TO (e.g. a quarter)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Baseline window FROM..TO "
                                           "(e.g. the previous financial year)."),
    compare: Optional[str] = typer.Option(None, "--compare", help="same-period-last-year "
                                          "(default), previous-period, or FROM..TO."),
    areas: Optional[Path] = typer.Option(None, "--areas", help="Boundary file (with --area)."),
    area: Optional[str] = typer.Option(None, "--area", help="Area name (default: every incident)."),
    area_field: AreaFieldOpt = None,
    format: str = typer.Option("md", "--format", help="md, csv, json or xlsx (xlsx needs --out)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to FILE (atomically) instead of stdout."),
) -> None:
    """Performance indicators: baseline, directional target, current period, actual difference
    and % difference against the comparison window, and on track / off track (docs/design.md §5b)."""
    import pandas as pd

    from hotspot_app.core import areas as areas_mod
    from hotspot_app.core import periods, tables
    from hotspot_app.io import exports, indicator_specs
    from hotspot_app.questions import indicators, selected
    from hotspot_app.render import formatting

    check_choice(format, ("md", "csv", "json", "xlsx"), "format")
    if format == "xlsx" and out is None:
        raise InputError("--format xlsx needs --out FILE.xlsx", parameter="out")
    if (areas is None) != (area is None):
        raise InputError("--areas and --area go together", parameter="area")
    periods.parse_range(period, "period")
    if baseline is not None:
        periods.parse_range(baseline, "baseline")
    if compare is not None:
        tables.parse_compare(compare)
    exports.check_outputs_distinct([*incidents, spec, *([areas] if areas else [])], [out])
    spec_df = indicator_specs.read(spec)
    rows_area = None
    if areas is not None:
        all_areas = load_areas_arg(areas, name_field=area_field)
        rows_area = areas_mod.find_area(all_areas, area)
    progress("loading incidents ...")
    data, whole, _ = load_selected(incidents, selection=selected.indicators_selection(
        period, baseline=baseline, compare=compare, area=rows_area))
    doc = indicators.indicators(data, spec_df, period, baseline=baseline, compare=compare,
                                area=rows_area, spec_file=str(spec), whole=whole)

    def write(payload: str | bytes) -> None:
        write_out(out, payload)

    if format == "json":
        emit_document(doc, out)
        return
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    title = "Performance indicators" + (f": {rows_area['name'].iloc[0]}" if rows_area is not None else "")
    if format == "csv":
        write(exports.csv_bytes(pd.DataFrame(doc["rows"])))
    elif format == "xlsx":
        notes = pd.DataFrame({"note": [title] + [f"warning: {w}" for w in doc["warnings"]]})
        write(formatting.xlsx_bytes({"Indicators": exports.neutralise_frame(formatting.indicators_frame(doc)),
                                  "Notes": exports.neutralise_frame(notes)}))
    else:
        write(formatting.indicators_markdown(doc, title=title)
              + formatting.sentences_markdown(doc.get("sentences", [])))


@app.command("report")
@guarded
def report_command(
    spec: Optional[Path] = typer.Argument(None, help="Report spec (YAML): data, areas, period and "
                                          "sections; see the README."),
    out: List[Path] = typer.Option(..., "--out", help="Output file, by extension: .html, .pdf, "
                                   ".docx or .xlsx; repeat for several."),
    demo: bool = typer.Option(False, "--demo", help="The SYNTHETIC demo borough's partnership "
                              "paper (report_demo.yaml over the demo data)."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Report pack (docs/design.md §5b): the partnership paper from a YAML spec as HTML, PDF, DOCX and
    XLSX: tables, sentences, maps, charts and 'About these figures'."""
    from hotspot_app.render import pack as report_pack

    check_choice(format, ("text", "json"), "format")
    if demo == (spec is not None):
        raise InputError("give a SPEC.yaml or --demo (one of them)", parameter="spec")
    report_pack.check_outputs(out)
    the_spec = report_pack.demo_spec() if demo else report_pack.load_spec(spec)
    doc = report_pack.report(the_spec, out, progress=progress)
    for w in doc["warnings"]:
        progress(f"warning: {w}")
    if format == "json":
        emit_json(doc)
        return
    typer.echo(f"Wrote {', '.join(doc['out'])}: {doc['sections']} sections, {doc['tables']} tables, "
               f"{doc['maps']} maps, {len(doc['warnings'])} warnings.")


