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
    from hotspot_app.core import evaluation
    from hotspot_app.render import static_maps

    layer_areas, rows, name = pick_areas(inputs, args, key)
    try:  # the one target/control policy (`hotspot evaluate --areas FILE --area NAME` uses it too)
        regions = evaluation.resolve_regions(str(args["area"]), layer_areas,
                                             control=str(args["control"]) if args.get("control") else None)
    except InputError as exc:
        raise InputError(exc.message, parameter=f"{key}.{exc.parameter or 'area'}") from None
    category = args.get("category") or None
    ev = evaluation.evaluate(incidents, regions, after=args["after"], before=args.get("before"),
                             baseline=args.get("baseline"), category=category,
                             buffer_m=float(args.get("buffer_m", settings.BUFFER_M)), name=name)
    doc = ev.to_dict()
    title = args.get("title") or f"{name}: before and after"
    sec = Section(title, [ev.headline()], list(ev.warnings), "evaluation", doc)
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
                                       percent=["% change"], diff=["Change"], notes=list(ev.warnings)),
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
    if args.get("map", True):
        import shapely

        target = shapely.union_all(rows.geometry.values)
        ring = evaluation.buffer_ring(target, float(args.get("buffer_m", settings.BUFFER_M)))
        # cells: the spec's cell_m, else 50 m or coarser where the locations are spaced further
        cell = float(args["cell_m"]) if args.get("cell_m") else \
            static_maps.pair_cell_m(incidents, months=[*b.months, *a.months], category=category)
        png, advice = static_maps.window_pair(incidents, target, before=b.months, after=a.months,
                                              category=category, ring=ring, cell_m=cell)
        sec.warnings += [w for w in advice if w not in sec.warnings]  # the grid's advice reaches the pack
        sec.blocks.append(Image(f"{name}: before and after", png,
                                caption=f"Incidents per {cell:g} m cell, the same cells and colour scale "
                                        "on both; black outlines: the area and its displacement ring."))
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
