"""The report pack's where-next sections (docs/design.md §5c): ``emerging`` (the classes map with
its legend and the cells per class), ``backtest`` (which method predicted next month best, its
table), ``near_repeat`` (the Knox bands and their sentences), ``stability`` (the stability share
of the top patrol areas and cells) and ``hot_streets`` (the ranked street segments of a network
file). Each section asks `questions.where_next` what the CLI asks for the same arguments and
keeps the CLI's JSON as its ``document``; here it is only laid out. Their keys (the CLI's flags)
are in `spec.SECTION_KEYS`."""

from __future__ import annotations

import pandas as pd

from hotspot_app.core.errors import InputError
from hotspot_app.render import formatting
from hotspot_app.render import where_next as where_next_text
from hotspot_app.render.pack.model import Image, Section, Table, display_cells, what_label

def _relabel(exc: InputError, key: str) -> InputError:
    return InputError(exc.message, file=exc.file, row=exc.row, column=exc.column,
                      parameter=f"{key}.{exc.parameter}" if exc.parameter else key)


def _period(args: dict):
    lo, hi = args.get("from"), args.get("to")
    return None if lo is None and hi is None else (lo, hi)


def _span(lo: str, hi: str) -> str:
    return lo if lo == hi else f"{lo} to {hi}"


def _table(title: str, frame: pd.DataFrame, sheet_name: str, *, caption: str = "", notes=(),
           document: dict | None = None, rate=()) -> Table:
    from hotspot_app.render import xlsx

    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]) or shown[col].dtype == object:
            shown[col] = [formatting.NA if v is None or (isinstance(v, float) and pd.isna(v))
                          else (f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v))
                          for v in shown[col]]
    cols, cells = display_cells(shown)
    sheet = xlsx.Sheet(frame, title, sheet_name, rate=list(rate), notes=list(notes))
    return Table(title, cols, cells, [False] * len(frame), [0] * len(frame), sheet, caption=caption,
                 document=document)


def emerging_section(incidents, inputs, args, key) -> Section:
    """`hotspot grid --method emerging`: the map of the classes with a legend, the sentence, and
    the cells per class with their meaning."""
    from hotspot_app.questions import where_next
    from hotspot_app.render import static_maps

    category = args.get("category") or None
    try:
        answer = where_next.emerging(incidents, category=category, period=_period(args),
                                     cell_m=args.get("cell_m"))
    except InputError as exc:
        raise _relabel(exc, key) from None
    doc = answer.to_dict()
    p = answer.parameters
    title = args.get("title") or f"Emerging hot spots of {what_label(category)}, {_span(p['from'], p['to'])}"
    sec = Section(title, [where_next_text.emerging_sentence(doc)], list(answer.warnings), "emerging", doc)
    active = answer.cells[~answer.cells["class"].isin(where_next_text.QUIET)]
    if len(active):
        scale = where_next_text.class_scale(active["class"])
        context = next(iter(inputs.areas.values()), None) if inputs.areas else None
        png = static_maps.classes_png(active, list(active["class"]), scale, context=context)
        sec.blocks.append(Image(title, png, caption=f"{p['cell_m']:g} m cells with a hot or cold spot "
                                                    "pattern; cells with no pattern are left blank."))
    sec.blocks.append(_table("Cells per class", where_next_text.emerging_frame(doc), "Emerging",
                             caption=f"Method: {p['method']}; {p['trend']}; alpha {p['alpha']:g} "
                                     f"({p['correction']}).", notes=answer.warnings, document=doc))
    return sec


def backtest_section(incidents, inputs, args, key) -> Section:
    """`hotspot backtest`: the sentence naming the best method and the table of every method's
    mean PAI, PEI and RRI."""
    from hotspot_app.questions import where_next

    methods = args.get("methods")
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    category = args.get("category") or None
    try:
        answer = where_next.backtest(incidents, category=category, period=_period(args),
                                     cell_m=args.get("cell_m"), area_share=args.get("area_share"),
                                     methods=methods)
    except InputError as exc:
        raise _relabel(exc, key) from None
    doc = answer.to_dict()
    sentence = answer.sentence()
    doc["sentences"] = [sentence] if sentence else []
    p = answer.parameters
    title = args.get("title") or f"Which map predicts next month? {what_label(category)[:1].upper()}" \
                                 f"{what_label(category)[1:]}, {_span(p['from'], p['to'])}"
    sec = Section(title, [sentence or "No month could be scored."], list(answer.warnings), "backtest", doc)
    cmp_ = p.get("comparison")
    caption = (f"Each month's map built only from the months before it; the top {p['area_share']:.0%} of "
               f"the study area ({p['study_area_km2']:,.0f} km², {p['cell_m']:g} m cells) flagged; means over "
               f"the months. Best by {p['best_by']}.")
    if cmp_ and cmp_.get("p_value") is not None:
        caption += (f" Against the runner-up ({cmp_['runner_up']}): better in {cmp_['months_better']} of "
                    f"{cmp_['months']} months ({cmp_['test']}, p = {cmp_['p_value']:.3g}).")
    sec.blocks.append(_table("Mean scores by method", where_next_text.backtest_frame(doc), "Backtest",
                             caption=caption, notes=answer.warnings, document=doc,
                             rate=["PAI", "PEI", "RRI", "PAI sd", "PEI sd"]))
    return sec


def near_repeat_section(incidents, inputs, args, key) -> Section:
    """`hotspot near-repeat`: the sentences of the bands with more pairs than chance, and every
    band's observed and expected pairs, Knox ratio and p-value. Monthly data: the spec is refused
    with "needs dates", as the CLI refuses them."""
    from hotspot_app.questions import where_next

    category = args.get("category") or None
    try:
        answer = where_next.near_repeat(incidents, category=category, period=_period(args),
                                        distance_m=args.get("distance_m"), days=args.get("days"),
                                        permutations=args.get("permutations"), seed=int(args.get("seed", 0)))
    except InputError as exc:
        raise _relabel(exc, key) from None
    doc = answer.to_dict()
    p = answer.parameters
    title = args.get("title") or f"Near repeats: {what_label(category)}"
    sentences = doc["sentences"] or ["No distance and time band has significantly more pairs of incidents "
                                     "than shuffling the dates gives."]
    sec = Section(title, list(sentences), list(answer.warnings), "near_repeat", doc)
    sec.blocks.append(_table("Pairs by distance and time", where_next_text.near_repeat_frame(doc), "Near repeat",
                             caption=f"Method: {p['method']}; {p['permutations']} permutations (seed "
                                     f"{p['seed']}); {p['n_incidents']:,} dated incidents.",
                             notes=answer.warnings, document=doc))
    return sec


def stability_section(incidents, inputs, args, key) -> Section:
    """`hotspot stability`: the stability share of the top patrol areas and cells (named with the
    spec's first areas, as the patrol map names them)."""
    from hotspot_app.questions import where_next

    category = args.get("category") or None
    try:
        answer = where_next.stability(incidents, category=category, period=_period(args),
                                      top=int(args.get("top", 5)), draws=args.get("draws"),
                                      preset=args.get("preset"), eps_m=args.get("eps_m"),
                                      min_samples=args.get("min_samples"),
                                      areas=next(iter(inputs.areas.values()), None) if inputs.areas else None)
    except InputError as exc:
        raise _relabel(exc, key) from None
    doc = answer.to_dict()
    p = answer.parameters
    title = args.get("title") or f"Do the top places survive police.uk's snapping? {what_label(category)}"
    text = (f"Each incident moved at random within {p['radius_rule']} of its snap point, {p['draws']} times "
            f"(seed {p['seed']}); stability is the share of draws in which a top place stays in the top "
            f"{p['top']} (patrol areas: eps {p['eps_m']:g} m, min samples {p['min_samples']}).")
    sec = Section(title, [text], list(answer.warnings), "stability", doc)
    patrol = answer.patrol.rename(columns={"rank": "Rank", "name": "Patrol area", "count": "Incidents",
                                           "stability": "Stability", "median_rank": "Median rank"})
    cells = answer.cells.rename(columns={"rank": "Rank", "cell_id": "Cell", "count": "Incidents",
                                         "stability": "Stability"}).drop(columns=["x", "y"])
    sec.blocks.append(_table("Patrol areas", patrol, "Stability areas", notes=answer.warnings, document=doc))
    sec.blocks.append(_table(f"{p['cell_m']:g} m cells", cells, "Stability cells"))
    return sec


def hot_streets_section(incidents, inputs, args, key) -> Section:
    """`hotspot hot-streets`: the ranked street segments of the spec's network file."""
    from hotspot_app.io import geofiles
    from hotspot_app.questions import where_next

    if not args.get("streets"):
        raise InputError("give streets: the street network file", parameter=f"{key}.streets")
    category = args.get("category") or None
    top = int(args.get("top", 20))
    try:
        network = geofiles.read_lines(args["streets"])
        answer = where_next.hot_streets(incidents, network, category=category, period=_period(args),
                                        max_distance_m=args.get("max_distance_m"))
    except InputError as exc:
        raise _relabel(exc, key) from None
    doc = answer.to_dict(top=top)
    title = args.get("title") or f"Hot streets: {what_label(category)}"
    sec = Section(title, [where_next_text.streets_sentence(doc)], list(answer.warnings), "hot_streets", doc)
    sec.blocks.append(_table(f"Top {len(doc['segments'])} street segments",
                             where_next_text.streets_frame(doc), "Hot streets", notes=answer.warnings,
                             document=doc))
    return sec


BUILDERS = {"emerging": emerging_section, "backtest": backtest_section, "near_repeat": near_repeat_section,
            "stability": stability_section, "hot_streets": hot_streets_section}
