"""The seasonal section of the report pack: the bonfire period (or any months of the year) against
the rest of the year, overall, per month and per ward -- the answer `hotspot seasonal` gives for
the same arguments (`questions.fires.seasonal`), laid out as a sentence, the method and two
tables."""

from __future__ import annotations

import pandas as pd

from hotspot_app.core.errors import InputError
from hotspot_app.render.pack.model import Section, Table, display_cells, months_of, what_label

#: The keys a seasonal section takes (the flags of `hotspot seasonal`).
SEASONAL_KEYS = {"title", "areas", "category", "from", "to", "season"}


def _n(v, places: int = 2) -> str:
    return "n/a" if v is None or pd.isna(v) else f"{v:,.{places}f}"


def seasonal_section(incidents, inputs, args, key) -> Section:
    """`questions.fires.seasonal` for the section's category (default deliberate fires), months
    (``from``/``to``, default every month loaded), season (month numbers, default 10, 11) and
    wards (``areas``: a layer of the spec; default the file's own ward column)."""
    from hotspot_app.questions import fires
    from hotspot_app.render import xlsx

    unknown = set(args) - SEASONAL_KEYS
    if unknown:
        raise InputError(f"unknown key '{sorted(unknown)[0]}' (use {', '.join(sorted(SEASONAL_KEYS))})",
                         parameter=f"{key}.{sorted(unknown)[0]}")
    wards = None
    if args.get("areas"):
        if str(args["areas"]) not in inputs.areas:
            raise InputError(f"'{args['areas']}' is not one of the spec's areas", parameter=f"{key}.areas")
        wards = inputs.areas[str(args["areas"])]
    cat = args.get("category") or [fires.GROUPS[0]]
    cats = [cat] if isinstance(cat, str) else list(cat)
    season = args.get("season")
    if isinstance(season, str):
        season = [s for s in season.split(",") if s.strip()]
    try:
        answer = fires.seasonal(incidents, wards, category=tuple(cats), months=months_of(args, incidents),
                                **({"season": tuple(int(m) for m in season)} if season else {}))
    except (InputError, ValueError) as exc:
        raise InputError(getattr(exc, "message", str(exc)), parameter=f"{key}.season") from None
    what = what_label(cats)
    title = args.get("title") or f"{what[:1].upper() + what[1:]}: {answer.label} against the rest of the year"
    doc = answer.to_dict()
    doc["text"] = answer.sentence(what)
    per_ward = pd.DataFrame({
        "Ward": answer.by_ward["ward"],
        f"A month in {answer.label}": [_n(v) for v in answer.by_ward["season_per_month"]],
        "A month otherwise": [_n(v) for v in answer.by_ward["other_per_month"]],
        "Rate ratio": [_n(v) for v in answer.by_ward["rate_ratio"]],
        "95% CI": ["n/a" if lo is None or pd.isna(lo) else f"{lo:.2f} to {hi:.2f}"
                   for lo, hi in zip(answer.by_ward["ci_low"], answer.by_ward["ci_high"])],
        "Change": ["n/a" if v is None or pd.isna(v) else f"{v:+.0f}%" for v in answer.by_ward["pct_change"]],
    })
    cols, cells = display_cells(per_ward)
    numbers = answer.by_ward.rename(columns={
        "ward": "Ward", "season_months": "Months in season", "other_months": "Other months",
        "season_count": "Incidents in season", "other_count": "Incidents otherwise",
        "season_per_month": "A month in season", "other_per_month": "A month otherwise",
        "rate_ratio": "Rate ratio", "ci_low": "95% CI low", "ci_high": "95% CI high",
        "p_value": "p", "pct_change": "% change", "pct_low": "% change low", "pct_high": "% change high",
        "dispersion": "Dispersion"})
    bold = [w == "Total" for w in answer.by_ward["ward"]]
    ward_table = Table(f"{title}: by ward", cols, cells, bold, [0] * len(cells),
                       xlsx.sheet_of(numbers, f"{title}: by ward", "Seasonal by ward"),
                       caption=answer.method, document=doc)
    months = pd.DataFrame({"Month": answer.by_month["month"],
                           what[:1].upper() + what[1:]: ["n/a" if v is None or pd.isna(v) else f"{int(v):,}"
                                                         for v in answer.by_month["count"]],
                           f"In {answer.label}": ["yes" if s else "" for s in answer.by_month["season"]]})
    mcols, mcells = display_cells(months)
    month_table = Table(f"{title}: by month", mcols, mcells, [False] * len(mcells), [0] * len(mcells),
                        xlsx.sheet_of(answer.by_month, f"{title}: by month", "Seasonal by month"))
    return Section(title, [doc["text"], ward_table, month_table], list(answer.warnings), "seasonal", doc)
