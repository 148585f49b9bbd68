"""Where next, as people read it: the emerging hot spot classes' colours and legend, and the
tables of the backtest, near repeat, hot streets and snap-point stability as frames (the page and
the pack) and markdown (the CLI). Every figure comes from the answer's JSON document
(`questions.where_next`); nothing is computed here."""

from __future__ import annotations

import pandas as pd

from hotspot_app.core import emerging
from hotspot_app.render import maps
from hotspot_app.render.formatting import NA, fmt_int

#: One colour per emerging class (hot: reds, darker = more established; cold: blues; the rest grey).
CLASS_COLOURS: dict[str, str] = {
    "new": "#fdd49e", "consecutive": "#fdbb84", "intensifying": "#b30000", "persistent": "#e34a33",
    "diminishing": "#fc8d59", "sporadic": "#fee8c8", "oscillating": "#d4b9da", "historical": "#969696",
    "cold-new": "#d0d1e6", "cold-consecutive": "#a6bddb", "cold-intensifying": "#034e7b",
    "cold-persistent": "#0570b0", "cold-diminishing": "#74a9cf", "cold-sporadic": "#ece7f2",
    "cold-oscillating": "#c994c7", "cold-historical": "#bdbdbd",
    "no pattern": "#f0f0f0", "not significant": "#ffffff",
}
#: Classes left off the maps (shown in the tables): nothing to act on.
QUIET = ("no pattern", "not significant")


def _num(v, nd: int = 2) -> str:
    return NA if v is None else f"{float(v):,.{nd}f}"


def class_scale(classes) -> maps.Scale:
    """The categorical scale of the classes present, in legend order."""
    shown = [c for c in emerging.CLASSES if c in set(classes)]
    return maps.categorical_scale(shown, [CLASS_COLOURS[c] for c in shown], "Emerging hot spots")


def emerging_frame(doc: dict) -> pd.DataFrame:
    """Cells per class with each class's meaning (the legend as a table)."""
    counts = doc["classes"]
    leg = emerging.legend(list(counts))
    return pd.DataFrame({"Class": leg["class"], "Cells": [int(counts[c]) for c in leg["class"]],
                         "Meaning": leg["meaning"]})


def emerging_sentence(doc: dict) -> str:
    """'Of 2,228 cells with ASB, 33 are persistent, 1 intensifying ... hot spots (2023-01 to 2024-12).'"""
    p, counts = doc["parameters"], doc["classes"]
    hot = [(c, counts[c]) for c in emerging.HOT_CLASSES if counts.get(c)]
    what = ", ".join(f"{n:,} {c}" for c, n in hot) if hot else "none"
    return (f"Emerging hot spots, {p['from']} to {p['to']} ({p['cell_m']:g} m cells, monthly steps): "
            f"of {doc['n_cells']:,} cells with incidents, hot spot classes: {what}.")


def emerging_markdown(doc: dict, legend: pd.DataFrame | None = None) -> str:
    """`hotspot grid --method emerging` as text: the method line, cells per class, the busiest
    cells of the hot classes."""
    p = doc["parameters"]
    lines = [emerging_sentence(doc), "",
             f"Method: {p['method']}; alpha {p['alpha']:g} ({p['correction']}); "
             f"{p['time_steps']} earlier step(s) in each neighbourhood; {p['spatial_weights']} neighbours.", ""]
    frame = emerging_frame(doc)
    lines.append(frame.to_markdown(index=False, disable_numparse=True))
    hot = [c for c in doc["cells"] if c["class"] in emerging.HOT_CLASSES]
    if hot:
        hot = sorted(hot, key=lambda c: (emerging.CLASSES.index(c["class"]), -c["count"]))[:15]
        lines += ["", "| cell_id | x | y | count | class | trend_p |", "|---|---:|---:|---:|---|---:|"]
        lines += [f"| {c['cell_id']} | {c['x']:.0f} | {c['y']:.0f} | {c['count']:,} | {c['class']} | "
                  f"{c['trend_p']:.3f} |" for c in hot]
    return "\n".join(lines) + "\n"


def backtest_frame(doc: dict) -> pd.DataFrame:
    """One row per method: mean PAI, PEI, RRI over the months, their spread, the months scored."""
    return pd.DataFrame({
        "Method": [m["method"] for m in doc["methods"]],
        "PAI": [m["pai"] for m in doc["methods"]], "PEI": [m["pei"] for m in doc["methods"]],
        "RRI": [m["rri"] for m in doc["methods"]], "Months": [m["months"] for m in doc["methods"]],
        "PAI sd": [m.get("pai_sd") for m in doc["methods"]],
        "PEI sd": [m.get("pei_sd") for m in doc["methods"]],
    })


def backtest_markdown(doc: dict, sentence: str | None) -> str:
    p = doc["parameters"]
    lines = [f"Backtest {p['from']}..{p['to']} ({p['method']}); {p['cell_m']:g} m cells, the top "
             f"{p['area_share']:.0%} of {p['study_area_km2']:,.0f} km² flagged; best by {p['best_by']}.", ""]
    lines.append("| method | PAI | PEI | RRI | months | PAI sd | PEI sd |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for m in doc["methods"]:
        star = " **(best)**" if m["method"] == doc["best"] else ""
        lines.append(f"| {m['method']}{star} | {_num(m['pai'])} | {_num(m['pei'], 3)} | {_num(m['rri'], 3)} | "
                     f"{m['months']} | {_num(m.get('pai_sd'))} | {_num(m.get('pei_sd'), 3)} |")
    lines += ["", sentence or "No month could be scored."]
    cmp_ = p.get("comparison")
    if cmp_:
        pv = NA if cmp_["p_value"] is None else f"{cmp_['p_value']:.3g}"
        lines.append(f"Against the runner-up ({cmp_['runner_up']}): better in {cmp_['months_better']} of "
                     f"{cmp_['months']} months; {cmp_['test']}, p = {pv}.")
    return "\n".join(lines) + "\n"


def near_repeat_frame(doc: dict) -> pd.DataFrame:
    b = doc["bands"]
    return pd.DataFrame({
        "Distance (m)": [f"{r['distance_m'][0]}-{r['distance_m'][1]}" for r in b],
        "Days": [f"{r['days'][0]}-{r['days'][1]}" for r in b],
        "Observed pairs": [r["observed"] for r in b], "Expected": [r["expected"] for r in b],
        "Knox ratio": [r["ratio"] for r in b], "p": [r["p_value"] for r in b],
    })


def near_repeat_markdown(doc: dict) -> str:
    p = doc["parameters"]
    lines = [f"Near repeat: {p['method']}; {p['n_incidents']:,} dated incidents, "
             f"{p['permutations']} permutations (seed {p['seed']}).", "",
             "| distance m | days | observed | expected | ratio | p |", "|---|---|---:|---:|---:|---:|"]
    for r in doc["bands"]:
        lines.append(f"| {r['distance_m'][0]}-{r['distance_m'][1]} | {r['days'][0]}-{r['days'][1]} | "
                     f"{r['observed']:,} | {r['expected']:,.1f} | {_num(r['ratio'])} | {r['p_value']:.3f} |")
    lines.append("")
    lines += doc.get("sentences") or ["No band has significantly more pairs than chance gives."]
    return "\n".join(lines) + "\n"


def streets_frame(doc: dict) -> pd.DataFrame:
    s = doc["segments"]
    return pd.DataFrame({"Rank": [r["rank"] for r in s], "Street": [r["name"] or "(unnamed)" for r in s],
                         "Segment": [r["segment_id"] for r in s], "Length (m)": [r["length_m"] for r in s],
                         "Incidents": [r["count"] for r in s], "Per 100 m": [r["per_100m"] for r in s],
                         "Short": [r["short"] for r in s]})


def streets_sentence(doc: dict) -> str:
    chk = doc["name_check"]
    share = chk.get("share")
    check = (f"{share:.0%} of the {chk['checked']:,} incidents whose police.uk location names a street "
             "were snapped to a segment of that name" if share is not None
             else "the snapping could not be checked against police.uk's street names")
    return (f"{doc['n_snapped']:,} of {doc['n_incidents']:,} incidents snapped to a street segment "
            f"within {doc['parameters']['max_distance_m']:g} m; {check}.")


def streets_markdown(doc: dict) -> str:
    lines = [streets_sentence(doc), "", "| rank | street | segment | length m | incidents | per 100 m |",
             "|---:|---|---|---:|---:|---:|"]
    for r in doc["segments"]:
        lines.append(f"| {r['rank']} | {r['name'] or '(unnamed)'} | {r['segment_id']} | {r['length_m']:,.0f} | "
                     f"{r['count']:,} | {r['per_100m']:.2f}{' (short)' if r['short'] else ''} |")
    return "\n".join(lines) + "\n"


def stability_markdown(doc: dict) -> str:
    p = doc["parameters"]
    lines = [f"Snap-point stability: {p['method']}; {p['draws']} draws (seed {p['seed']}), radius "
             f"{p['radius_rule']}; patrol areas eps {p['eps_m']:g} m, min_samples {p['min_samples']}.", "",
             "| rank | patrol area | incidents | stability | median rank |", "|---:|---|---:|---:|---:|"]
    for r in doc["patrol"]:
        mr = NA if r["median_rank"] is None else f"{r['median_rank']:g}"
        lines.append(f"| {r['rank']} | {r['name']} | {fmt_int(r['count'])} | {r['stability']:.0%} | {mr} |")
    lines += ["", f"| rank | cell ({p['cell_m']:g} m) | x | y | incidents | stability |",
              "|---:|---|---:|---:|---:|---:|"]
    for r in doc["cells"]:
        lines.append(f"| {r['rank']} | {r['cell_id']} | {r['x']:.0f} | {r['y']:.0f} | {fmt_int(r['count'])} | "
                     f"{r['stability']:.0%} |")
    return "\n".join(lines) + "\n"
