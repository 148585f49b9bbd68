"""The evaluation section: before/after of an area or intervention, with its pair map and chart."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from hotspot_app.core import periods, settings
from hotspot_app.core.errors import InputError
from hotspot_app.render import formatting
from hotspot_app.render.pack.model import (
    Image,
    Section,
    Table,
    display_cells,
    pick_areas,
    what_label,
)


def evaluation_section(incidents, inputs, args, key) -> Section:
    """The evaluation question's answer (`questions.evaluation.evaluate`, the one `hotspot
    evaluate` gives for the same arguments) as the pack shows it: the headline and effect
    sentences, the counts table, the matched areas beside the target, the robustness table, the
    placebo histogram, the before/after pair map and the monthly chart."""
    from hotspot_app.questions import evaluation
    from hotspot_app.render import static_maps

    layer_areas, _, name = pick_areas(inputs, args, key)
    candidates = None
    if args.get("candidates"):
        if str(args["candidates"]) not in inputs.areas:
            raise InputError(f"'{args['candidates']}' is not one of the spec's areas",
                             parameter=f"{key}.candidates")
        candidates = inputs.areas[str(args["candidates"])]
    category = args.get("category") or None
    try:
        answer = evaluation.evaluate(incidents, str(args["area"]), areas=layer_areas, after=args["after"],
                                     before=args.get("before"), baseline=args.get("baseline"),
                                     category=category,
                                     buffer_m=float(args.get("buffer_m", settings.BUFFER_M)),
                                     control=str(args["control"]) if args.get("control") else None,
                                     candidates=candidates,
                                     cell_m=float(args["cell_m"]) if args.get("cell_m") else None)
    except InputError as exc:
        raise InputError(exc.message, parameter=f"{key}.{exc.parameter or 'area'}") from None
    ev = answer.evaluation
    doc = answer.to_dict()
    title = args.get("title") or f"{name}: before and after"
    sentences = answer.sentences()
    sec = Section(title, [sentences[0], sentences[1]], list(answer.warnings), "evaluation", doc)
    b, a = ev.before, ev.after
    rows_ = ev.region_counts()
    from hotspot_app.core import measures
    from hotspot_app.render import xlsx

    before_h = f"Before ({periods.format_range(b.months)})"
    after_h = f"After ({periods.format_range(a.months)})"
    frame = pd.DataFrame({"Area": [r[0] for r in rows_], before_h: [r[1] for r in rows_],
                          after_h: [r[2] for r in rows_],
                          "Change": [measures.diff(r[2], r[1]) for r in rows_],
                          "% change": [measures.pct_change(r[2], r[1]) for r in rows_]})
    shown = pd.DataFrame({"Area": frame["Area"], before_h: [formatting.fmt_int(v) for v in frame[before_h]],
                          after_h: [formatting.fmt_int(v) for v in frame[after_h]],
                          "Change": [formatting.fmt_int(v, signed=True) for v in frame["Change"]],
                          "% change": [formatting.fmt_pct(v) for v in frame["% change"]]})
    cols, cells = display_cells(shown)
    sec.blocks.append(Table("Counts before and after", cols, cells, [False] * len(frame), [0] * len(frame),
                            xlsx.Sheet(frame, title, "Evaluation", period=f"{before_h}; {after_h}",
                                       percent=["% change"], diff=["Change"], notes=list(answer.warnings)),
                            caption=f"Control: {ev.control_description}.", document=doc))
    if ev.baseline is not None:
        bp = ev.baseline_pct_change
        sec.blocks.append(f"Baseline {periods.format_range(ev.baseline.months)}: "
                          f"{formatting.fmt_int(ev.baseline.count)} (after compared with the baseline: "
                          f"{'n/a' if bp is None else f'{bp:+.1f}%'}).")
    if ev.effect is not None:
        e = ev.effect
        sec.blocks.append(f"Control-adjusted rate ratio {e.rate_ratio:.2f} (95% CI {e.ci95[0]:.2f} to "
                          f"{e.ci95[1]:.2f}, p = {e.p_value:.3g}; {e.model} model).")
    if ev.wdq_text:
        sec.blocks.append(f"Displacement: {ev.wdq_text}")
    if len(answer.control_polygons):
        fit = answer.pre_fit
        fit_text = ("" if fit is None or fit.p_value is None else
                    f" Pre-trend test over {fit.months[0]} to {fit.months[-1]}: p = {fit.p_value:.3g}.")
        pool = None
        if answer.method == "matched" and len(answer.matched.candidates):
            pool = answer.matched.candidates[~answer.matched.candidates["chosen"]][["name", "geometry"]]
        sec.blocks.append(Image(f"{name}: the comparison areas",
                                static_maps.matched_areas_png(answer.target, answer.ring, answer.control_polygons,
                                                              candidates=pool),
                                caption=f"Red: {name}; dashed: its {ev.buffer_m:g} m ring; blue, numbered: "
                                        f"{answer.control_text()} ({answer.method}).{fit_text}"))
    if len(answer.robustness):
        table = answer.robustness_table()
        cols_r, cells_r = display_cells(table)
        sheet = xlsx.Sheet(_robustness_numbers(answer), f"{title}: robustness", "Robustness",
                           notes=[sentences[2]])
        sec.blocks.append(Table("The effect under each control", cols_r, cells_r, [False] * len(table),
                                [0] * len(table), sheet, caption=sentences[2], document=doc))
    if answer.placebo is not None and answer.placebo.n:
        p = answer.placebo
        sec.blocks.append(Image(f"{name}: placebo test",
                                static_maps.placebo_png(p.effects["rate_ratio"].tolist(),
                                                        ev.effect.rate_ratio if ev.effect is not None else None),
                                caption=(f"Each of {p.n} candidate areas treated as if it had been the target; "
                                         + (f"the target ranks {p.rank} of {p.n + 1}, placebo p = {p.p_value:.2f}."
                                            if p.p_value is not None else "no target effect to rank.")),
                                kind="chart"))
    if args.get("map", True):
        png, advice = static_maps.window_pair(incidents, answer.target, before=b.months, after=a.months,
                                              category=category, ring=answer.ring, cell_m=answer.cell_m)
        sec.warnings += [w for w in advice if w not in sec.warnings]  # the grid's advice reaches the pack
        sec.blocks.append(Image(f"{name}: before and after", png,
                                caption=f"Incidents per {answer.cell_m:g} m cell, the same cells and colour "
                                        "scale on both; black outlines: the area and its displacement ring."))
    if args.get("chart", True) and len(ev.series):
        shown_s = ev.series[ev.series["series"].isin(["target", "buffer"])].copy()
        shown_s["series"] = shown_s["series"].map({"target": name, "buffer": f"{ev.buffer_m:g} m ring"})
        marks = [(b.start, b.end, "before"), (a.start, a.end, "after")]
        if ev.baseline is not None:
            marks.append((ev.baseline.start, ev.baseline.end, "baseline"))
        sec.blocks.append(Image(f"{name}: incidents per month",
                                static_maps.monthly_png(shown_s, title=f"{name}: {what_label(category)} per month",
                                                        marks=marks), kind="chart"))
    return sec


def _robustness_numbers(answer) -> pd.DataFrame:
    """The robustness table with numbers (for the XLSX)."""
    rows = []
    for r in answer.robustness:
        e = r.effect
        rows.append({"Control": r.control, "Made of": r.description,
                     "Rate ratio": None if e is None else round(e.rate_ratio, 4),
                     "CI low": None if e is None else round(e.ci95[0], 4),
                     "CI high": None if e is None else round(e.ci95[1], 4),
                     "p value": None if e is None else float(f"{e.p_value:.4g}")})
    return pd.DataFrame(rows)



def intervention_evaluation(intervention, areas_by_key: dict[str, gpd.GeoDataFrame]) -> dict | None:
    """Evaluation-section options for a stored intervention that names an area: its area and
    layer key, the after window (start..end months), ASB for patrols (else crime), and a
    baseline two years before. None when it refers to no stored area."""
    from hotspot_app.core import evaluation

    area_id = intervention.get("area_id")
    if area_id is None or pd.isna(area_id) or pd.isna(intervention.get("end")):
        return None
    for key, gdf in areas_by_key.items():
        hit = gdf[gdf["area_id"].astype(str) == str(area_id)]
        if len(hit):
            name, _ = evaluation.intervention_place(intervention, gdf)
            start = pd.Timestamp(intervention["start"]).strftime("%Y-%m")
            end = pd.Timestamp(intervention["end"]).strftime("%Y-%m")
            return {"areas": key, "area": name, "after": f"{start}..{end}",
                    "category": ["asb"] if intervention.get("type") == "patrols" else ["crime"]}
    return None
