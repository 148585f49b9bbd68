"""Table formatting and downloads: numbers as papers print them ("1,331", "11.2%", "n/a"),
partnership tables as markdown / CSV / XLSX bytes, rankings as markdown / CSV, and every JSON
document as text (`json_text`: null, never NaN).

Everything here turns computed tables (from `areas`) into text or bytes; nothing is computed
and nothing is written to disk (the app offers the bytes as downloads, the CLI prints the text).
Every CSV and XLSX text cell is neutralised (`exports.neutralise_frame`): an area or category
named ``=HYPERLINK(...)`` is shown as text, never run as a formula.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable

import pandas as pd

from hotspot_app.io import exports
from hotspot_app.core import periods, tables, taxonomy

NA = "n/a"
WINDOW_TITLES = {"selected_month": "Selected month", "last_6_months": "Last 6 months",
                 "last_12_months": "Last 12 months"}


from hotspot_app.core.measures import is_missing as _missing  # noqa: E402 (one rule for "missing")


def fmt_int(value, signed: bool = False) -> str:
    """'1,331'; '-168' / '+12' when `signed`; 'n/a' for a missing value."""
    if _missing(value):
        return NA
    n = int(value)
    return f"{n:+,}" if signed and n != 0 else f"{n:,}"


def fmt_pct(value, decimals: int = 1) -> str:
    """'11.2%' (or '-11.2%'); 'n/a' when missing or not finite (never 'Infinity')."""
    if _missing(value) or not math.isfinite(float(value)):
        return NA
    return f"{float(value):.{decimals}f}%"


def change_text(diff, pct_diff) -> str | None:
    """A change with its sign, as the cards show it: '+12 (+5.0%)', '-3 (n/a)' when the % is
    undefined; None when the change itself is not known."""
    if _missing(diff):
        return None
    pct = "n/a" if _missing(pct_diff) else f"{float(pct_diff):+.1f}%"
    return f"{int(diff):+,} ({pct})"


def fmt_rate(value, decimals: int = 1) -> str:
    """Rate per 1,000 with one decimal as the papers print it ('7.5'; `decimals` when asked);
    'n/a' when missing."""
    if _missing(value) or not math.isfinite(float(value)):
        return NA
    return f"{float(value):,.{decimals}f}"


# --------------------------------------------------------------------------- partnership table
def table_display(rows: pd.DataFrame, indent: str = "\u00a0\u00a0", previous: bool = False) -> pd.DataFrame:
    """Partnership table as display strings: 'Crime' (indented by level), then per window
    'Current', ['Previous',] 'Diff', '% Diff' as in the town-centre paper (headers prefixed by the window
    title). Differences carry their sign (+12 / -5), as in every other table of the report pack
    and in the XLSX sheet of the same table."""
    out = {"Crime": [indent * int(lv) + str(c) for c, lv in zip(rows["category"], rows["level"])]}
    for w, title in WINDOW_TITLES.items():
        out[f"{title}: Current"] = [fmt_int(v) for v in rows[f"{w}_current"]]
        if previous:
            out[f"{title}: Previous"] = [fmt_int(v) for v in rows[f"{w}_previous"]]
        out[f"{title}: Diff"] = [fmt_int(v, signed=True) for v in rows[f"{w}_diff"]]
        out[f"{title}: % Diff"] = [fmt_pct(v) for v in rows[f"{w}_pct_diff"]]
    return pd.DataFrame(out)


def table_markdown(rows: pd.DataFrame, title: str | None = None, warnings: Iterable[str] = (),
                   previous: bool = False) -> str:
    """Markdown of a partnership table; groups and Total in bold, levels indented, warnings listed
    under the table. Columns as in the town-centre paper (Current, Diff, % Diff per window; `previous` adds
    the comparison counts)."""
    disp = table_display(rows, previous=previous)
    bold = rows["node"].isin(["group", "total"]).to_numpy()
    disp["Crime"] = ["&nbsp;&nbsp;" * int(lv) + (f"**{c}**" if b else str(c))
                     for c, b, lv in zip(rows["category"], bold, rows["level"])]
    lines = []
    if title:
        lines += [f"### {title}", ""]
        attrs = rows.attrs
        if attrs.get("month"):
            comp = attrs.get("comparison", "same-period-last-year").replace("-", " ")
            lines += [f"Selected month {periods.describe([attrs['month']])}; compared with the {comp}.", ""]
    label = taxonomy.kind_label(rows.attrs.get("kind"))
    disp = disp.rename(columns={"Crime": label})
    lines.append(disp.to_markdown(index=False, disable_numparse=True,
                                  colalign=["left"] + ["right"] * (disp.shape[1] - 1)))
    warns = list(warnings)
    if warns:
        lines += [""] + [f"> warning: {w}" for w in warns]
    return "\n".join(lines) + "\n"


def table_csv(rows: pd.DataFrame) -> str:
    """CSV of a partnership table: machine-readable (empty cell = null), one column per number."""
    cols = ["category", "parent", "level", "node"] + [
        f"{w}_{k}" for w, _ in periods.TABLE_WINDOWS for k in ("current", "previous", "diff", "pct_diff")]
    return exports.neutralise_frame(rows[cols]).to_csv(index=False, lineterminator="\n")


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf/NA become null, numpy scalars Python numbers, dates text."""
    if value is None or type(value) in (str, int, bool):  # most values: nothing to do
        return value
    if type(value) is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)  # dates, paths: as text


def json_text(document: Any) -> str:
    """THE way a JSON document is written (the CLI's stdout and --out, the app's downloads): one
    line, UTF-8 text, null for every missing number (never NaN or Infinity)."""
    return json.dumps(jsonable(document), ensure_ascii=False, allow_nan=False)


def xlsx_bytes(sheets: dict[str, pd.DataFrame] | pd.DataFrame, sheet: str = "Table",
               title: str | None = None, period: str = "", notes: Iterable[str] = ()) -> bytes:
    """A formatted .xlsx workbook (`xlsx.workbook`: title, readable headings, % formats, bold
    totals, frozen header, a Notes sheet) of one or more tables, as bytes for a download button.
    Missing numbers are shown as 'n/a'."""
    from hotspot_app.render import xlsx

    if isinstance(sheets, pd.DataFrame):
        sheets = {sheet: sheets}
    built = [xlsx.sheet_of(df, title or str(name), str(name), period=period) for name, df in sheets.items()]
    return xlsx.workbook(built, caveats=list(notes))


def table_sheet(rows: pd.DataFrame, title: str, period: str = "", source: str = "",
                warnings: Iterable[str] = (), name: str = "Table"):
    """A partnership table as an `xlsx.Sheet`: the category names indented by level, grouped
    headers per window (Current, Previous, Diff, % Diff), groups and Total in bold."""
    from hotspot_app.render import xlsx

    label = taxonomy.kind_label(rows.attrs.get("kind"))
    data = {("", label): rows["category"].astype(str).tolist()}
    for w, wtitle in WINDOW_TITLES.items():
        for key, head in (("current", "Current"), ("previous", "Previous"), ("diff", "Diff"),
                          ("pct_diff", "% Diff")):
            data[(wtitle, head)] = rows[f"{w}_{key}"].astype(object).tolist()
    frame = pd.DataFrame(data)
    frame.columns = list(data)
    if not period and rows.attrs.get("month"):
        comp = rows.attrs.get("comparison", "same-period-last-year").replace("-", " ")
        period = f"Selected month {periods.describe([rows.attrs['month']])}; compared with the {comp}."
    return xlsx.Sheet(frame, title, name, period=period, source=source,
                      percent=[c for c in frame.columns if c[1] == "% Diff"],
                      diff=[c for c in frame.columns if c[1] == "Diff"],
                      bold=rows["node"].isin(["group", "total"]).tolist(),
                      indent=[int(v) for v in rows["level"]], notes=list(warnings))


DOCUMENT_MEASURES = (("current", "Current"), ("previous", "Previous"), ("diff", "Diff"),
                     ("pct_diff", "% Diff"), ("rate", "Per 1,000"), ("rate_eb", "Rate per 1,000 (smoothed)"))
SMOOTHED_HEAD = "Rate per 1,000 (smoothed)"


def _has_smoothed(document: dict) -> bool:
    """True when the table was asked for smoothed rates (`--smooth eb`: every cell has ``rate_eb``)."""
    return any("rate_eb" in c for r in document["rows"] for c in r["cells"].values())


def document_measures(document: dict) -> list[tuple[str, str, str]]:
    """(column id, measure key, heading) for every number column of a design-§5b table
    document (``{"columns", "rows", "warnings"}``): Current, and Previous / Diff / % Diff when the
    column has a comparison, Per 1,000 when any cell has a rate and 'Rate per 1,000 (smoothed)'
    when the table was smoothed (``rate_eb``)."""
    rates = any(c.get("rate") is not None for r in document["rows"] for c in r["cells"].values())
    smoothed = _has_smoothed(document)
    out = []
    for col in document["columns"]:
        for key, head in DOCUMENT_MEASURES:
            if key in ("previous", "diff", "pct_diff") and col.get("compare_from") is None:
                continue
            if (key == "rate" and not rates) or (key == "rate_eb" and not smoothed):
                continue
            out.append((col["id"], key, head))
    return out


def document_groups(document: dict) -> list[bool]:
    """Per row of a §5b document: True for groups (rows that are some row's parent), a kind's
    subtotal (a table of several kinds) and Total."""
    parents = {r["parent"] for r in document["rows"] if r.get("parent")}
    return [r["category"] in parents or r["category"] == "Total"
            or bool(r.get("subtotal")) for r in document["rows"]]


def document_sheet(document: dict, title: str, period: str = "", source: str = "", name: str = "Table",
                   total_name: str | None = None):
    """A design-§5b table document (`hotspot table --by/--period/--years` JSON) as an
    `xlsx.Sheet`: categories indented by level, a header group per column id over its measures,
    groups and Total in bold, % Diff as percentages, rates with 1 decimal; the columns' windows
    and the warnings in the notes."""
    from hotspot_app.render import xlsx

    measures = document_measures(document)
    data = {("", "Category"): [str(r["category"]) for r in document["rows"]]}
    for cid, key, head in measures:  # `total_name` heads the Total column ('Cleveland')
        data[(total_name if total_name and cid == "Total" else cid, head)] = [r["cells"][cid].get(key)
                                                                             for r in document["rows"]]
    frame = pd.DataFrame(data)
    frame.columns = list(data)
    described = [f"{total_name}: {d.split(': ', 1)[1]}" if total_name and d.startswith("Total: ") else d
                 for d in describe_columns(document)]
    return xlsx.Sheet(frame, title, name, period=period or "; ".join(described[:1]), source=source,
                      percent=[c for c in frame.columns if c[1] == "% Diff"],
                      rate=[c for c in frame.columns if c[1] in ("Per 1,000", SMOOTHED_HEAD)],
                      diff=[c for c in frame.columns if c[1] == "Diff"],
                      bold=document_groups(document), indent=[int(r["level"]) for r in document["rows"]],
                      notes=described + list(document.get("warnings", [])))


def table_xlsx(rows: pd.DataFrame, sheet: str = "Table", title: str | None = None,
               warnings: Iterable[str] = ()) -> bytes:
    """XLSX bytes of a partnership table (`table_sheet`): numbers as numbers, grouped headers,
    % formats, bold groups and Total, indented names, a Notes sheet with the warnings."""
    from hotspot_app.render import xlsx

    return xlsx.workbook([table_sheet(rows, title or "Partnership table", warnings=warnings, name=sheet)])


# --------------------------------------------------------------------------- rankings, summaries
def rank_display(table: pd.DataFrame) -> pd.DataFrame:
    """A `rank_areas` table as display strings (with ``rate_eb``: the smoothed rate beside the
    raw one)."""
    shown = pd.DataFrame({
        "Rank": [fmt_int(v) if not _missing(v) else "" for v in table["rank"]],
        "Area": table["name"].astype(str),
        "Count": [fmt_int(v) for v in table["count"]],
        "Share": [fmt_pct(v) for v in table["share_pct"]],
        "Cumulative share": ["" if a == "outside" else fmt_pct(v)
                             for a, v in zip(table["area_id"], table["cumulative_share_pct"])],
        "Population": [fmt_int(v) if not _missing(v) else NA for v in table["population"]],
        "Rate per 1,000": [fmt_rate(v) for v in table["rate_per_1000"]],
    })
    if "rate_eb" in table.columns:
        shown["EB rate per 1,000"] = [fmt_rate(v) for v in table["rate_eb"]]
    return shown


def rank_markdown(table: pd.DataFrame, title: str | None = None, notes: Iterable[str] = ()) -> str:
    """Markdown of a ranking, with notes (e.g. the top-N sentence and warnings) under it."""
    disp = rank_display(table)
    lines = [f"### {title}", ""] if title else []
    lines.append(disp.to_markdown(index=False, disable_numparse=True,
                                  colalign=["right", "left"] + ["right"] * (len(disp.columns) - 2)))
    notes = list(notes)
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def rank_csv(table: pd.DataFrame) -> str:
    """CSV of a ranking (empty cell = null; text neutralised)."""
    return exports.neutralise_frame(table).to_csv(index=False, lineterminator="\n")


def frame_markdown(df: pd.DataFrame) -> str:
    """Any small table as markdown, missing values shown as 'n/a' and integers with commas."""
    shown = df.copy()
    for col in shown.columns:
        if pd.api.types.is_integer_dtype(shown[col]):
            shown[col] = [fmt_int(v) for v in shown[col]]
        elif pd.api.types.is_float_dtype(shown[col]):
            shown[col] = [NA if _missing(v) else f"{float(v):,.1f}" for v in shown[col]]
        else:
            shown[col] = [NA if _missing(v) else str(v) for v in shown[col]]
    return shown.to_markdown(index=False, disable_numparse=True) + "\n"


def summary_text(document: dict) -> str:
    """Plain-text rendering of a `hotspot summary` document: the sentences, then warnings."""
    lines = [document["text"]]
    lines += [f"warning: {w}" for w in document.get("warnings", [])]
    return "\n".join(lines) + "\n"


# =========================================================================== rendering
def _has_rates(document: dict) -> bool:
    return any(c.get("population") is not None for c in document["columns"])



def display_frame(document: dict, previous: bool = True, indent: str = "\u00a0\u00a0") -> pd.DataFrame:
    """A table document as display strings ('1,331', '-11.2%', 'n/a'): the category indented by
    level, then per column 'Current', ['Previous',] 'Diff', '% Diff' and, with populations,
    'Per 1,000'; headers are '<column id>: <measure>'."""
    from hotspot_app.render.formatting import fmt_int, fmt_pct, fmt_rate

    rows = document["rows"]
    out = {"Category": [indent * int(r["level"]) + str(r["category"]) for r in rows]}
    rates = _has_rates(document)
    for col in document["columns"]:
        cid = col["id"]
        cells = [r["cells"][cid] for r in rows]
        out[f"{cid}: Current"] = [fmt_int(c["current"]) for c in cells]
        if col.get("compare_from") is not None:
            if previous:
                out[f"{cid}: Previous"] = [fmt_int(c["previous"]) for c in cells]
            out[f"{cid}: Diff"] = [fmt_int(c["diff"], signed=True) for c in cells]
            out[f"{cid}: % Diff"] = [fmt_pct(c["pct_diff"]) for c in cells]
        if rates:
            out[f"{cid}: Per 1,000"] = [fmt_rate(c["rate"]) for c in cells]
        if _has_smoothed(document):
            out[f"{cid}: {SMOOTHED_HEAD}"] = [fmt_rate(c.get("rate_eb")) for c in cells]
    return pd.DataFrame(out)



def document_markdown(document: dict, title: str | None = None) -> str:
    """Markdown of a table document: groups and Total in bold, the columns described, the
    warnings listed under the table."""
    disp = display_frame(document)
    kinds = tables.node_kinds(document["rows"])
    disp["Category"] = ["&nbsp;&nbsp;" * int(r["level"]) + (f"**{r['category']}**" if k in ("group", "total")
                                                            else str(r["category"]))
                        for r, k in zip(document["rows"], kinds)]
    lines = [f"### {title}", ""] if title else []
    lines += [f"- {t}" for t in describe_columns(document)] + [""]
    lines.append(disp.to_markdown(index=False, disable_numparse=True,
                                  colalign=["left"] + ["right"] * (disp.shape[1] - 1)))
    if document.get("warnings"):
        lines += [""] + [f"> warning: {w}" for w in document["warnings"]]
    return "\n".join(lines) + "\n"



def document_csv(document: dict) -> bytes:
    """Machine-readable CSV of a table document (`to_frame`; empty cell = null), text neutralised."""
    from hotspot_app.io.exports import csv_bytes

    return csv_bytes(tables.to_frame(document))



def document_xlsx(document: dict, title: str | None = None) -> bytes:
    """Formatted XLSX of a table document (`reports.document_sheet` through `xlsx.workbook`, the
    one workbook of every XLSX): a header group per column over its measures, % formats, bold
    groups and Total, text neutralised; the columns' windows and the warnings on the Notes sheet."""
    from hotspot_app.render import xlsx
    from hotspot_app.render.formatting import document_sheet

    return xlsx.workbook([document_sheet(document, title or "Table")])



def indicators_frame(document: dict) -> pd.DataFrame:
    """An indicators document as display strings with the performance headings."""
    from hotspot_app.render.formatting import fmt_int, fmt_pct

    span = lambda w: periods.describe([w["from"], w["to"]]) if w["from"] != w["to"] else periods.describe([w["from"]])  # noqa: E731
    base = f"Baseline {span(document['baseline'])}" if document.get("baseline") else "Baseline"
    return pd.DataFrame({
        "Indicator": [r["indicator"] for r in document["rows"]],
        base: [fmt_int(r["baseline"]) for r in document["rows"]],
        "Target": [r["target"] for r in document["rows"]],
        f"Current {span(document['period'])}": [fmt_int(r["current"]) for r in document["rows"]],
        f"Previous {span(document['comparison'])}": [fmt_int(r["previous"]) for r in document["rows"]],
        "Actual difference": [fmt_int(r["diff"], signed=True) for r in document["rows"]],
        "% difference": [fmt_pct(r["pct_diff"]) for r in document["rows"]],
        "Status": [r["status"] for r in document["rows"]],
    })



def indicators_markdown(document: dict, title: str | None = None) -> str:
    lines = [f"### {title}", ""] if title else []
    disp = indicators_frame(document)
    lines.append(disp.to_markdown(index=False, disable_numparse=True,
                                  colalign=["left"] + ["right"] * (disp.shape[1] - 2) + ["left"]))
    if document.get("warnings"):
        lines += [""] + [f"> warning: {w}" for w in document["warnings"]]
    return "\n".join(lines) + "\n"


def describe_columns(document: dict) -> list[str]:
    """One line per column: its area, window and comparison window (and population)."""
    lines = []
    for c in document["columns"]:
        span = periods.format_range([c["from"], c["to"]] if c["from"] != c["to"] else [c["from"]])
        text = f"{c['id']}: {c['area']}, {span}" if c["area"] != c["id"] else f"{c['id']}: {span}"
        if c.get("compare_from"):
            comp = [c["compare_from"], c["compare_to"]] if c["compare_from"] != c["compare_to"] else [c["compare_from"]]
            text += f" compared with {periods.format_range(comp)}"
        if c.get("population") is not None:
            text += f"; population {c['population']:,.0f}"
        lines.append(text)
    return lines


def evaluation_markdown(answer) -> str:
    """A readable summary of the evaluation question's answer (`questions.evaluation.Answer`):
    headline and effect sentence, warnings, counts table, the control and its pre-period fit,
    effect, displacement, the robustness table and the placebo test."""
    full = hasattr(answer, "evaluation")  # the question's answer, or a core `Evaluation` alone
    ev = answer.evaluation if full else answer

    def n(v):
        return "n/a" if v is None else f"{v:,}"

    sentences = answer.sentences() if full else [ev.headline()]
    lines = [f"## {ev.area}: intervention evaluation", "", f"**{sentences[0]}**", ""]
    if full:
        lines += [sentences[1], ""]
    warnings = answer.warnings
    if warnings:
        lines.append("**Warnings**")
        lines.append("")
        lines.extend(f"- ⚠ {w}" for w in warnings)
        lines.append("")
    a = ev.after
    lines.append(frame_markdown(ev.counts_table()))
    if ev.baseline is not None:
        bp = ev.baseline_pct_change
        per = "" if len(ev.baseline.months) == len(a.months) else " per month"
        lines.append(f"Baseline {periods.span_text(ev.baseline.months)}: {n(ev.baseline.count)} "
                     f"(after vs baseline{per}: {'n/a' if bp is None else f'{bp:+.1f}%'}).")
        lines.append("")
    lines.append(f"Control: {ev.control_description}.")
    if full and answer.method == "matched" and answer.control_areas:
        lines.append("")
        lines.append("Matched comparison areas (nearest first in pre-period level, trend and place): "
                     + "; ".join(answer.control_areas) + ".")
    fit = answer.pre_fit if full else None
    if fit is not None:
        lines.append("")
        lines.append(f"Pre-period fit ({fit.months[0]} to {fit.months[-1]}): pre-trend test p = "
                     f"{'n/a' if fit.p_value is None else f'{fit.p_value:.3g}'}; mean monthly gap "
                     f"{'n/a' if fit.gap is None else f'{fit.gap:.0f}%'} of the target's mean.")
    lines.append("")
    lines.append(ev.effect_text())
    lines.append("")
    lines.append(ev.buffer_text())
    lines.append("")
    lines.append(ev.net_text())
    lines.append("")
    if full and len(answer.robustness):
        lines.append("### Robustness: the effect under each control")
        lines.append("")
        lines.append(frame_markdown(answer.robustness_table()))
        lines.append(sentences[2])
        lines.append("")
    p = answer.placebo if full else None
    if p is not None:
        lines.append(f"Placebo test: {p.n} candidate areas each treated as if it had been the target; "
                     + (f"the target ranks {p.rank} of {p.n + 1} by |log rate ratio| / SE, empirical "
                        f"p = {p.p_value:.3f}." if p.p_value is not None else "no p value (no effect)."))
        lines.append("")
    lines.append("_Method: counts of incidents (not weights); % change = 100 × (after − before) / "
                 "before; rate ratio: the target's after/before change relative to its control's, "
                 "from a quasi-Poisson model of the monthly counts with a level per area and per "
                 "month (difference in differences); comparison areas matched on the pre-period "
                 "level, trend and distance; placebo-in-space test; WDQ (Bowers & Johnson 2003), WDD "
                 "(Wheeler & Ratcliffe 2018)._")
    return "\n".join(lines) + "\n"


def sentences_markdown(sentences: Iterable[str], title: str = "In words") -> str:
    """The papers' sentences (a document's ``sentences``) as a markdown list under `title`;
    '' when there are none."""
    items = [str(x) for x in sentences]
    if not items:
        return ""
    return "\n".join(["", f"**{title}**", ""] + [f"- {x}" for x in items]) + "\n"
