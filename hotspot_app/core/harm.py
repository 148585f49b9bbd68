"""Harm weights per category (docs/design.md §6, issue 11 item 4): a documented table, ``harm.csv``.

Columns of ``harm.csv``: ``category`` (a police.uk category, a Home Office leaf or a fire
category of ``taxonomy.csv``), ``weight`` (the central weight), ``low`` and ``high`` (the range
within which the category's average weight plausibly lies: police.uk categories mix offences of
very different severity, e.g. "Violence and sexual offences" runs from common assault to rape),
``source``, ``year`` and ``note``.

**What the numbers are.** The scale is that of the ONS Crime Severity Score (experimental
statistics; methodology published by ONS on 29 November 2016: an offence's weight is the average
sentence its offenders receive, in days of custody equivalent; murder and other homicide about
7,800, possession of cannabis 3). The per-category values in ``harm.csv`` are *indicative*,
rounded to that scale for police.uk's broad categories — not the official per-offence ONS
weights, which should replace them (same columns) before harm rankings inform deployment. That
is why every harm-ranked output names this table (`SOURCE`) and `rank_check` shows whether the
top N depends on where in the low-high range the truth lies.

ASB is not a crime: weight 1 (ASB ranks by count). Deliberate fires are weighted as arson.
Non-offence fire service incidents have no weight: they add nothing to harm, with a warning.
Count ranking stays the default everywhere; harm is opt-in (``weight="harm"``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_app.core.errors import InputError

TABLE_PATH = Path(__file__).with_name("harm.csv")
#: Named in every harm-ranked output.
SOURCE = ("hotspot_app/core/harm.csv: indicative weights on the ONS Crime Severity Score scale "
          "(methodology of 29 Nov 2016), with low/high ranges; not the official ONS weights")
COLUMNS = ["category", "weight", "low", "high", "source", "year", "note"]
WHICH = ("weight", "low", "high")


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    t = pd.read_csv(TABLE_PATH, dtype={"category": str})
    if list(t.columns) != COLUMNS:
        raise InputError(f"harm table must have columns {', '.join(COLUMNS)}", file=str(TABLE_PATH))
    if t["category"].duplicated().any():
        dup = t.loc[t["category"].duplicated(), "category"].iloc[0]
        raise InputError(f"harm table lists {dup!r} twice", file=str(TABLE_PATH), column="category")
    return t


def table() -> pd.DataFrame:
    """The harm table (a copy)."""
    return _table().copy()


def weights(incidents: pd.DataFrame, which: str = "weight") -> tuple[np.ndarray, list[str]]:
    """Harm weight of each incident from its ``category``: the central ``weight``, or the
    ``low`` / ``high`` end of its range. Returns (weights, warnings): incidents whose category has
    no weight get NaN (they add nothing to summed harm) and one warning names those categories
    with their counts."""
    if which not in WHICH:
        raise InputError(f"which must be one of {', '.join(WHICH)} (got {which!r})", parameter="which")
    if "category" not in incidents.columns:
        raise InputError("incidents have no 'category' column", column="category")
    t = _table().set_index("category")[which]
    cat = incidents["category"].astype(str)
    w = cat.map(t).to_numpy(dtype=float)
    missing = np.isnan(w)
    notes = []
    if missing.any():
        vc = cat[missing].value_counts()
        listed = ", ".join(f"{c} ({n:,})" for c, n in vc.items())
        notes.append(f"harm weights: {int(missing.sum()):,} incidents in categories without a harm "
                     f"weight add nothing to the harm: {listed}")
    return w, notes


def rank_check(incidents: pd.DataFrame, by: str = "cluster_id", top: int = 5,
               noise=-1) -> dict:
    """Does the top `top` by summed harm change between the low and the high weights?

    `incidents` have ``category`` and the grouping column `by` (e.g. ``cluster_id`` from
    `clusters.Clusters.incidents`, or a ward name); rows whose group is `noise` (or missing) are
    left out. Groups are ranked by summed harm, ties by group value. Returns ``{"top": n,
    "central": [...], "low": [...], "high": [...], "changes": bool, "only_low": [...],
    "only_high": [...], "text": str}`` (group values in rank order; ``only_low`` are in the low
    top N but not the high one, and so on)."""
    if by not in incidents.columns:
        raise InputError(f"incidents have no {by!r} column", column=by)
    keep = incidents[by].notna() & (incidents[by] != noise)
    sub = incidents.loc[keep]
    tops = {}
    for which in WHICH:
        w, _ = weights(sub, which)
        s = pd.Series(np.nan_to_num(w), index=sub.index).groupby(sub[by].to_numpy()).sum()
        s = s.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
        tops[which] = [v.item() if hasattr(v, "item") else v for v in s.index[:top]]
    only_low = [g for g in tops["low"] if g not in tops["high"]]
    only_high = [g for g in tops["high"] if g not in tops["low"]]
    changes = bool(only_low or only_high)
    if changes:
        # name the groups by their column ("cluster_id 5, 4"): bare numbers read as ranks
        text = (f"The top {top} by harm changes between the low and high weights: "
                f"{by} {', '.join(map(str, only_high))} {'is' if len(only_high) == 1 else 'are'} in it "
                f"only with the high weights, {', '.join(map(str, only_low))} only with the low.")
    else:
        text = f"The top {top} by harm is the same with the low and the high weights."
    return {"top": int(top), "central": tops["weight"], "low": tops["low"], "high": tops["high"],
            "changes": changes, "only_low": only_low, "only_high": only_high, "text": text}
