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

from hotspot_app.core.summaries import top_share
from hotspot_app.core.measures import diff as _diff
from hotspot_app.core.measures import is_missing, join_names, pct_change, round_half_up

__all__ = ["concentration", "fewer", "change_bullet", "change_sentence", "pct_text", "direction",
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
    by = f"by {pct_text(abs(pct), decimals)} ({d:+,} {unit})" if pct is not None else f"by {d:+,} {unit} (from none)"
    return f"{head} {verb} {by} in {place} when compared to {compared_with}."

