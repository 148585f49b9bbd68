"""The sentences the partnership papers use, written from the same numbers as the tables.

The area summary sentence of the micro-hotspot paper ("In the 12 months up to March 2024 there
were 1,331 crimes recorded in the Hemlington ward area, ...") is `summaries.summary_sentence`.

- `concentration` — the assessment paper: "Almost half (48%) of ASB occurred in just 3 wards;
  Headland and Harbour (486), Victoria (400) and Burn Valley (330)." from a ranking
  (`summaries.rank_areas`).
- `fewer` — the micro-hotspot paper's operation summary: "57 fewer arson offences and 74 fewer
  crime and anti-social behaviour incidents".
- `change_bullet` — the assessment paper: "violence against the person offences (+315; 5%)",
  "Residential Burglary (-83; -12%)".
- `change_sentence` — the assessment paper: "Recorded crime during the period increased by 11%
  (+1,471 offences) in Hartlepool when compared to the previous assessment period."
- `pct_text` — whole-number or 1-decimal percentages as the paper asks (half away from zero).

Unknown numbers (null: months not covered, rows the data cannot distinguish) are never written
as 0: the sentence says the figure is not available.
"""

from __future__ import annotations

import pandas as pd

from hotspot_app.core.measures import diff as _diff
from hotspot_app.core.measures import is_missing, join_names, pct_change, round_half_up, share_pct
from hotspot_app.core.summaries import share_phrase, top_share

__all__ = ["concentration", "fewer", "change_bullet", "change_sentence", "pct_text", "direction",
           "table_sentences", "rank_sentences", "indicator_sentences", "compared_words", "month_name",
           "span_text",
           "PERIOD_WORDS"]

#: How a paper names the comparison window.
PERIOD_WORDS = {
    "assessment": "the previous assessment period",
    "same-period-last-year": "the same time period in the previous year",
    "previous-period": "the previous period",
}

def pct_text(value, decimals: int = 0, signed: bool = False) -> str:
    """'12%' (decimals 0) or '11.5%' (decimals 1), rounded half away from zero; '+12%' when
    `signed` and positive; 'n/a' when unknown."""
    if is_missing(value):
        return "n/a"
    q = round_half_up(value, decimals) + 0.0  # + 0.0: no '-0%'
    text = f"{q:.{decimals}f}%"
    return f"+{text}" if signed and q > 0 else text


def direction(current, previous, decimals: int = 1) -> str:
    """The county-wide paper's 'Quarterly Year on Year Comparison' cell: 'Reduced by 2.2%', 'Increased by
    20.4%', 'No change'; 'n/a' when unknown or previous is 0."""
    d = _diff(current, previous)
    pct = pct_change(current, previous)
    if d is None or pct is None:
        return "n/a"
    if d == 0:
        return "No change"
    return f"{'Increased' if d > 0 else 'Reduced'} by {pct_text(abs(pct), decimals)}"


def concentration(ranked: pd.DataFrame, top: int = 3, what: str = "ASB", unit: str = "wards",
                  counts: bool = True) -> dict:
    """The concentration sentence from a ranking (`tables.rank` / `areas.rank_areas`): the
    `areas.top_share` document with ``text`` naming the areas, with their counts when `counts`:
    'Almost half (48%) of ASB occurred in just 3 wards; Victoria (484), Burn Valley (390) and
    Headland & Harbour (352).'"""
    doc = top_share(ranked, top, what=what, unit=unit)
    if counts and doc["count"] is not None and doc["total"]:
        body = ranked[ranked["area_id"] != "outside"].head(top)
        named = [f"{n} ({int(c):,})" for n, c in zip(body["name"], body["count"])]
        head = doc["text"].split(";")[0]
        doc = {**doc, "text": f"{head}; {join_names(named)}."}
    return doc


def fewer(items: list[tuple[str, object, object]]) -> str:
    """'57 fewer arson offences and 74 fewer crime and anti-social behaviour incidents' from
    (noun, current, previous) triples; 'more' for increases, 'no change in' for none, and
    'an unknown number of' for an unknown count."""
    parts = []
    for noun, current, previous in items:
        d = _diff(current, previous)
        if d is None:
            parts.append(f"an unknown number of {noun} (not all months covered)")
        elif d == 0:
            parts.append(f"no change in {noun}")
        else:
            parts.append(f"{abs(d):,} {'fewer' if d < 0 else 'more'} {noun}")
    return join_names(parts)


def change_bullet(label: str, current, previous, decimals: int = 0, signed_pct: bool = False) -> str:
    """'Shoplifting (+722; 66%)' / 'Residential Burglary (-83; -12%)' (the assessment paper); with
    `signed_pct` '(+722; +66%)'. Unknown: 'Shoplifting (n/a)'; previous 0: '(+5; n/a)'. The
    assessment paper's bullets."""
    d = _diff(current, previous)
    if d is None:
        return f"{label} (n/a)"
    return f"{label} ({d:+,}; {pct_text(pct_change(current, previous), decimals, signed_pct)})"


def change_sentence(what: str, current, previous, place: str, unit: str = "offences",
                    compared_with: str = PERIOD_WORDS["assessment"], decimals: int = 0,
                    during: str = "during the period") -> str:
    """'Recorded crime during the period increased by 11% (+1,471 offences) in Hartlepool when
    compared to the previous assessment period.' (the assessment paper); 'reduced by' for falls, 'did not
    change' for none; a not-available sentence for unknown counts, never a false 0."""
    head = f"{what[0].upper()}{what[1:]} {during}" if what else during
    if is_missing(current) or is_missing(previous):
        return (f"{head} in {place} cannot be compared with {compared_with}: the data do not cover "
                "both periods.")
    d = _diff(current, previous)
    pct = pct_change(current, previous)
    if d == 0:
        return f"{head} did not change in {place} when compared to {compared_with} ({current:,} {unit})."
    verb = "increased" if d > 0 else "reduced"
    if pct is not None and round_half_up(abs(pct), decimals) == 0:
        decimals = max(decimals, 1)  # a change smaller than 1% is not 'reduced by 0%'
    by = f"by {pct_text(abs(pct), decimals)} ({d:+,} {unit})" if pct is not None else f"by {d:+,} {unit} (from none)"
    return f"{head} {verb} {by} in {place} when compared to {compared_with}."



# =========================================================================== from documents
# The `sentences` lists of the CLI's JSON (docs/design.md §5c): written here, from the numbers of
# the same document, for the table, rank and indicators answers (the summary's are its own
# sentences; the evaluation's are `questions.evaluation`'s).

#: (what, unit) by kind, as the assessment paper writes them.
KIND_WORDS = {
    "crime": ("Recorded crime", "offences"),
    "asb": ("Anti-social behaviour incidents", "incidents"),
    "fire": ("Fires", "fires"),
    "council": ("Council reports", "reports"),
}

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


def month_name(month: str) -> str:
    """'2023-03' -> 'March 2023'."""
    year, m = str(month).split("-")[:2]
    return f"{MONTH_NAMES[int(m) - 1]} {year}"


def span_text(first: str, last: str) -> str:
    """'September 2024', 'April to September 2024', 'October 2023 to September 2024'."""
    if first == last:
        return month_name(first)
    a, b = month_name(first), month_name(last)
    return f"{a.split()[0]} to {b}" if a.split()[1] == b.split()[1] else f"{a} to {b}"


def _n_months(first: str, last: str) -> int:
    (y1, m1), (y2, m2) = (map(int, str(first).split("-")[:2]), map(int, str(last).split("-")[:2]))
    return (y2 - y1) * 12 + (m2 - m1) + 1


def compared_words(column: dict) -> str | None:
    """How a column's comparison window is named: 'the previous 12 months' (the window just
    before, the assessment paper's wording), 'the same period in the previous year', or its months."""
    cf, ct, f, t = column.get("compare_from"), column.get("compare_to"), column["from"], column["to"]
    if cf is None or ct is None:
        return None
    n = _n_months(f, t)
    if _n_months(cf, ct) == n and _n_months(ct, f) == 2:  # the months just before
        return f"the previous {n} months" if n > 1 else "the previous month"
    if _n_months(cf, f) == 13 and _n_months(ct, t) == 13:
        return "the same period in the previous year"
    return span_text(cf, ct)


def _lower(label: str) -> str:
    """'Theft Offences' -> 'theft offences'; 'ASB' stays."""
    return " ".join(w if w[1:2].isupper() else w[:1].lower() + w[1:] for w in str(label).split(" "))


def _headline_rows(rows: list[dict]) -> list[dict]:
    """The rows a paper's category bullets name: the first level under the groups (police.uk:
    'Violence and sexual offences', 'Theft Offences', ...; a flat table: its rows)."""
    body = [r for r in rows if r["category"] not in ("Total", "Unknown")]
    levels = sorted({int(r["level"]) for r in body})
    level = 1 if 1 in levels and len(body) > 1 else (levels[0] if levels else 0)
    return [r for r in body if int(r["level"]) == level]


def table_sentences(document: dict, kind: str = "crime", what: str | None = None,
                    total_name: str = "all areas", monthly: dict | None = None) -> list[str]:
    """The assessment paper's sentences from a table-engine document (docs/design.md §5b): for
    each column, the change sentence of its Total ('Recorded crime during the period increased by
    11% (+1,471 offences) in Hartlepool when compared to the previous 12 months.'), the category
    bullets ('Increases were experienced in ... (+315; 5%), ...'; 'Reductions were seen in ...'),
    the monthly average ('An average of 266 incidents were recorded each month in Hartlepool,
    compared to 281 in the previous 12 months.') and, where `monthly` gives a column's counts per
    month ({column id: {month: count}}), its peak months. Unknown counts are said to be unknown.
    `what` names a category selection; `total_name` the Total column ('Cleveland')."""
    head, unit = KIND_WORDS.get(kind, ("Incidents", "incidents"))
    if what:
        head, unit = what[:1].upper() + what[1:], unit
    rows = document.get("rows", [])
    total = next((r for r in reversed(rows) if r["category"] == "Total"), None)
    if total is None:
        return []
    out: list[str] = []
    several = len(document["columns"]) > 1
    windows = len({(c["from"], c["to"]) for c in document["columns"]}) > 1
    for col in document["columns"]:
        cid = col["id"]
        place = total_name if col["area"] in ("Total", "All areas") else str(col["area"])
        compared = compared_words(col)
        cell = total["cells"][cid]
        span = span_text(col["from"], col["to"])
        label = f"{place} ({span})" if windows else place
        if compared is None:
            if not is_missing(cell["current"]):
                out.append(f"{head} in {label}: {int(cell['current']):,} {unit}.")
            continue
        out.append(change_sentence(head, cell["current"], cell["previous"], place, unit=unit,
                                   compared_with=compared, during=f"during {span}" if windows else "during the period"))
        ups, downs = [], []
        headline = _headline_rows(rows)
        for r in headline:
            c = r["cells"][cid]
            if is_missing(c["diff"]) or c["diff"] == 0:
                continue
            (ups if c["diff"] > 0 else downs).append(
                (abs(c["diff"]), change_bullet(_lower(r["category"]), c["current"], c["previous"])))
        if ups and len(headline) > 1:
            out.append(f"Increases in {label} were experienced in "
                       f"{join_names([b for _, b in sorted(ups, key=lambda x: -x[0])[:3]])}.")
        if downs and len(headline) > 1:
            out.append(f"Reductions in {label} were seen in "
                       f"{join_names([b for _, b in sorted(downs, key=lambda x: -x[0])[:3]])}.")
        n = _n_months(col["from"], col["to"])
        if n > 1 and not is_missing(cell["current"]):
            avg = round_half_up(cell["current"] / n)
            text = f"An average of {int(avg):,} {unit} were recorded each month in {label}"
            if not is_missing(cell["previous"]) and col.get("compare_from"):
                prev_avg = round_half_up(cell["previous"] / _n_months(col["compare_from"], col["compare_to"]))
                text += f", compared to {int(prev_avg):,} in {compared}"
            out.append(text + ".")
        counts = (monthly or {}).get(cid)
        if counts:
            top = max(counts.values())
            peak = [m for m in sorted(counts) if counts[m] == top]
            out.append(f"Levels in {label} were greatest in {join_names([month_name(m) for m in peak])} "
                       f"({int(top):,} {unit}{' each' if len(peak) > 1 else ''}).")
    return out


def rank_sentences(document: dict, what: str = "incidents", unit: str = "wards") -> list[str]:
    """The share sentence of a ranking (`summaries.ranking`'s document) with the counts and the
    'n of N' of the assessment paper: 'Almost half (47%; 1,226 of the 2,632 incidents) of ASB
    occurred in just 3 wards; Victoria (484), Burn Valley (390) and Headland & Harbour (352).'
    Areas with no incidents are never named; an unknown total says it is not available."""
    top = document["top"]
    if top["count"] is None or not top["total"]:
        return [f"Where {what} concentrates is not available: {top['text']}."
                if top["count"] is None else f"No {what} recorded."]
    named = [a for a in document["areas"] if a["area_id"] != "outside" and a["count"]][: int(top["top"])]
    count = sum(int(a["count"]) for a in named)
    total = int(top["total"])
    shown = share_phrase(share_pct(count, total, places=0))
    phrase = shown.replace("%)", f"%; {count:,} of the {total:,} incidents)") if "(" in shown \
        else f"{shown} ({count:,} of the {total:,} incidents)"
    n_areas = sum(1 for a in document["areas"] if a["area_id"] != "outside")
    just = "just " if len(named) < n_areas / 2 else ""
    unit_ = unit if len(named) != 1 else unit.rstrip("s")
    names = [f"{a['name']} ({int(a['count']):,})" for a in named]
    text = f"{phrase} of {what} occurred in {just}{len(named)} {unit_}; {join_names(names)}."
    return [text[0].upper() + text[1:]]


def indicator_sentences(document: dict) -> list[str]:
    """One sentence per indicator, the county-wide paper's comparison cell in words: 'Anti-social
    behaviour: reduced by 2.2% (-57; 2,500 against 2,557), on track for a 5% reduction.'"""
    out = []
    for r in document.get("rows", []):
        cur, prev = r.get("current"), r.get("previous")
        words = direction(cur, prev)
        if words == "n/a":
            out.append(f"{r['indicator']}: not available (the data do not cover both periods, or "
                       "cannot give this indicator).")
            continue
        status = r.get("status") or "n/a"
        out.append(f"{r['indicator']}: {words[:1].lower() + words[1:]} ({_diff(cur, prev):+,}; "
                   f"{int(cur):,} against {int(prev):,}), {status} for the target '{r.get('target')}'.")
    return out
