"""Performance indicators (docs/design.md §5b "Indicators"): per indicator, the counts of its
categories in the current period, the comparison window and a baseline, the actual and % difference,
and whether it is on track for its target (reduce, increase, maintain, N% reduction, N% increase).
Counts use the table engine's rules (`tables`): an uncovered window or a selection the data cannot
distinguish is null (status n/a) with a warning, never 0."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import areas as areas_mod
from hotspot_app.core import coverage as month_coverage
from hotspot_app.core import periods, tables, taxonomy
from hotspot_app.core.errors import InputError
from hotspot_app.core.measures import diff as _diff
from hotspot_app.core.measures import is_missing, pct_change

__all__ = ["indicators", "indicator_status", "parse_target", "TARGETS"]

_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*(reduction|increase)\s*$", re.I)
TARGETS = ("reduce", "increase", "maintain", "N% reduction", "N% increase")


def parse_target(text: str) -> tuple[str, float | None]:
    """``reduce`` / ``increase`` / ``maintain`` / ``N% reduction`` / ``N% increase`` ->
    (rule, N). `InputError` naming the targets for anything else."""
    t = str(text).strip().lower()
    if t in ("reduce", "increase", "maintain"):
        return t, None
    m = _TARGET.match(t)
    if m:
        return m.group(2).lower(), float(m.group(1))
    raise InputError(f"target '{text}' is not one of: {', '.join(TARGETS)}", parameter="target")


def indicator_status(target: str, current, previous) -> str:
    """Status of an indicator (docs/design.md §5b): ``reduce`` on track when diff < 0; ``increase`` when
    diff > 0; ``maintain`` when |pct_diff| <= 5 (or no change from 0); ``N% reduction`` when
    pct_diff <= -N; ``N% increase`` when pct_diff >= N; ``n/a`` when current or previous is null."""
    if is_missing(current) or is_missing(previous):
        return "n/a"
    rule, n = parse_target(target)
    d = _diff(current, previous)
    pct = pct_change(current, previous)
    if rule == "reduce" and n is None:
        ok = d < 0
    elif rule == "increase" and n is None:
        ok = d > 0
    elif rule == "maintain":
        ok = (d == 0) if pct is None else abs(pct) <= 5
    elif rule == "reduction":
        ok = pct is not None and pct <= -n
    else:
        ok = pct is not None and pct >= n
    return "on track" if ok else "off track"


def _blind_selection(incidents: pd.DataFrame, tokens: list[str]) -> list[str]:
    """Tokens of a selection whose every taxonomy leaf the data cannot distinguish (e.g.
    'Burglary Residential' or 'Violence' on police.uk data): their counts are unknown."""
    leaves = tables.leaf_frame()
    out = []
    for token in tokens:
        chosen = leaves[taxonomy.select(leaves, token).to_numpy()]
        if chosen.empty or taxonomy.select(incidents, token).any():
            continue
        blind = []
        for kind, part in chosen.groupby("kind"):
            data_cats = incidents.loc[incidents["kind"].eq(kind).to_numpy(), "category"]
            blind += taxonomy.indistinct(part["category"].tolist(), data_cats, kind) if kind != "fire" else []
        if len(blind) == len(chosen):
            out.append(token)
    return out


def needed_months(period: str, *, baseline: str | None = None,
                  compare: str | list[str] | None = "same-period-last-year") -> list[str]:
    """The months `indicators` counts (the period, its comparison and the baseline, sorted):
    what a store reads for it."""
    cur_w = periods.parse_range(period, "period")
    comp = tables.parse_compare(compare) if isinstance(compare, str) or compare is None else list(compare)
    prev_w = list(comp) if isinstance(comp, list) else periods.comparison_window(cur_w, comp)
    base_w = periods.parse_range(baseline, "baseline") if baseline is not None else []
    return sorted(set(cur_w) | set(prev_w) | set(base_w))


def indicators(incidents: gpd.GeoDataFrame, spec: pd.DataFrame, period: str, *, baseline: str | None = None,
               compare: str | list[str] | None = "same-period-last-year", area=None,
               spec_file: str | None = None, whole: pd.DataFrame | None = None) -> dict:
    """The performance-indicator table of the county-wide paper (docs/design.md §5b).

    `spec` has columns ``indicator`` (label), ``category`` (groups or category names,
    ``;``-separated) and ``target`` (``reduce``, ``increase``, ``maintain``, ``N% reduction``,
    ``N% increase``). `period` and `baseline` are ``FROM..TO``; `compare` as in `build_table`.
    `area`: a polygon, GeoDataFrame of polygons or mask (None: every incident).

    Returns ``{"period": {"from", "to"}, "baseline": {"from", "to"}|null, "comparison": {"from",
    "to"}, "rows": [{"indicator", "target", "baseline", "current", "previous", "diff",
    "pct_diff", "status"}], "warnings"}``. Counts over uncovered windows, and selections the data
    cannot distinguish, are null (status n/a) with a warning.

    `whole`: when `incidents` hold only the months counted (`needed_months`), the summary of
    everything loaded (kind, source, month, category, group): the categories named, month
    coverage and what the data can distinguish are judged on it."""
    cols = {str(c).strip().lower(): c for c in spec.columns}
    for need in ("indicator", "category", "target"):
        if need not in cols:
            raise InputError(f"the indicator spec needs columns indicator, category, target; missing '{need}'",
                             file=spec_file, column=need)
    cur_w = periods.parse_range(period, "period")
    comp = tables.parse_compare(compare) if isinstance(compare, str) or compare is None else list(compare)
    prev_w = list(comp) if isinstance(comp, list) else periods.comparison_window(cur_w, comp)
    base_w = periods.parse_range(baseline, "baseline") if baseline is not None else None
    inside = areas_mod.area_mask(incidents, area).to_numpy() if area is not None else np.ones(len(incidents), bool)
    base = incidents if whole is None else whole
    rows, warnings = [], []
    for i, rec in enumerate(spec.to_dict("records"), start=1):
        label = str(rec[cols["indicator"]]).strip()
        target = str(rec[cols["target"]]).strip()
        try:
            parse_target(target)
        except InputError as exc:
            raise InputError(exc.message, file=spec_file, row=i, column="target") from None
        tokens = [t.strip() for t in str(rec[cols["category"]]).split(";") if t.strip()]
        if not tokens:
            raise InputError("no category given", file=spec_file, row=i, column="category")
        try:
            sel = taxonomy.select(incidents, tokens, known=whole)
            base_sel = sel if whole is None else taxonomy.select(whole, tokens)
        except InputError as exc:
            raise InputError(exc.message, file=spec_file, row=i, column="category") from None
        cov = month_coverage.for_selection(base, base_sel)
        per_month = incidents.loc[sel.to_numpy() & inside, "month"].value_counts()
        blind = _blind_selection(base, tokens)
        absent = sorted(k for k in taxonomy.selection_kinds(tokens) if not month_coverage.kind_loaded(base, k))
        if absent and not base_sel.any():  # its source is not loaded: not known, never 0
            warnings.append(f"{label}: no {' or '.join(taxonomy.kind_label(k).lower() for k in absent)} data "
                            "are loaded; its counts are n/a (null), not 0")
            counts = {"baseline": None, "current": None, "previous": None}
        elif blind:
            warnings.append(f"{label}: the data cannot distinguish {', '.join(blind)}; its counts are n/a (null), not 0")
            counts = {"baseline": None, "current": None, "previous": None}
        else:
            counts = {"baseline": month_coverage.windowed(per_month, base_w, cov) if base_w else None,
                      "current": month_coverage.windowed(per_month, cur_w, cov),
                      "previous": month_coverage.windowed(per_month, prev_w, cov)}
            for side, win in (("baseline", base_w), ("current", cur_w), ("previous", prev_w)):
                if win:
                    text = month_coverage.window_warning(f"{label} {side}", win, cov,
                                                         rows=base.loc[base_sel.to_numpy()])
                    if text:
                        warnings.append(text)
            if tables.asks_finer("police-uk", tokens):
                chosen = set(base.loc[base_sel.to_numpy(), "category"].astype(str))
                warnings += [f"{label}: {c}" for c in taxonomy.caveats(chosen)]
        cur, prev = counts["current"], counts["previous"]
        rows.append({"indicator": label, "target": target, "baseline": counts["baseline"], "current": cur,
                     "previous": prev, "diff": _diff(cur, prev), "pct_diff": pct_change(cur, prev),
                     "status": indicator_status(target, cur, prev)})
    return {"period": {"from": cur_w[0], "to": cur_w[-1]},
            "baseline": {"from": base_w[0], "to": base_w[-1]} if base_w else None,
            "comparison": {"from": prev_w[0], "to": prev_w[-1]},
            "rows": rows, "warnings": warnings}


