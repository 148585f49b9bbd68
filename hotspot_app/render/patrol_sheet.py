"""The patrol plan as people carry it: the one-page printable patrol sheet (HTML with print CSS,
its map drawn offline), the schedule CSV, and the patrol-log section of `evaluate`'s text."""

from __future__ import annotations

import base64
import datetime as dt
import html
from typing import Sequence

import geopandas as gpd
import pandas as pd

from hotspot_app.core import settings
from hotspot_app.core.patrol import PatrolPlan, contract_columns
from hotspot_app.io import exports


def plan_csv(plan: PatrolPlan) -> bytes:
    """The schedule as CSV (text neutralised; visits_done/minutes_done empty for the officers)."""
    return exports.csv_bytes(plan.schedule)



# --------------------------------------------------------------------------- the sheet
_SHEET_CSS = """
@page { size: A4 portrait; margin: 9mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 8pt; color: #111; margin: 0; }
h1 { font-size: 13pt; margin: 0 0 1mm 0; }
.meta { font-size: 8pt; color: #333; margin-bottom: 2mm; }
.top { display: flex; gap: 3mm; align-items: flex-start; }
.top img { width: 88mm; height: auto; max-height: 80mm; object-fit: contain; border: 1px solid #999; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 0.4mm 1mm; text-align: left; vertical-align: top; }
th { background: #eee; }
.areas td, .areas th { font-size: 7.5pt; }
.sched { margin-top: 2mm; }
.sched td, .sched th { font-size: 6.8pt; line-height: 1.15; }
.sched td.c { color: #777; text-align: center; }
.num { display: inline-block; min-width: 4.2mm; text-align: center; font-weight: bold; color: #fff;
       background: #c0392b; border-radius: 50%; }
.notes { margin-top: 2mm; font-size: 6.8pt; color: #333; }
.notes li { margin: 0; }
.demo { color: #b00; font-weight: bold; }
@media screen { body { max-width: 200mm; margin: 6mm auto; } }
@media print { .noprint { display: none; } table, tr, img { break-inside: avoid; } }
@media screen and (max-width: 700px) {
  body { font-size: 11pt; margin: 2mm; } .top { flex-direction: column; } .top img { width: 100%; max-height: none; }
  .sched td, .sched th, .areas td, .areas th { font-size: 10pt; }
}
"""



def sheet_html(plan: PatrolPlan, *, title: str = "Patrol sheet", map_png: bytes | None = None,
               period: str | None = None, category: str | None = None,
               notes: Sequence[str] = (), demo: bool = False) -> str:
    """The one-page printable patrol sheet (HTML with print CSS, A4 portrait): the map with the
    numbered areas, the areas (number, name, grid reference, size, incidents), the schedule
    (a row per day, a column per area: visit times, or "–" on comparison days), the period the
    areas come from and the caveats. All user text is HTML-escaped. Fits one page up to
    `SHEET_MAX_DAYS` days and `SHEET_MAX_AREAS` areas."""
    e = html.escape
    a = contract_columns(plan.areas)
    end = (pd.Timestamp(plan.start) + pd.Timedelta(days=plan.days - 1)).strftime("%d %b %Y")
    start = pd.Timestamp(plan.start).strftime("%d %b %Y")
    img = (f'<img alt="Map of the numbered patrol areas" src="data:image/png;base64,'
           f'{base64.b64encode(map_png).decode("ascii")}">' if map_png else "")
    team_of = (dict(zip(plan.schedule["rank"].astype(int), plan.schedule["team"].astype(int)))
               if "team" in plan.schedule.columns else {})
    area_rows = "".join(
        f"<tr><td><span class='num'>{int(r['rank'])}</span></td>"
        f"<td>{team_of.get(int(r['rank']), 1)}</td><td>{e(str(r['name']))}</td>"
        f"<td>{e(str(r['grid_ref'] or ''))}</td><td>{float(r['area_ha']):,.2f} ha</td>"
        f"<td>{int(r['count']):,}</td></tr>" for _, r in a.iterrows())
    ranks = [int(r) for r in a["rank"]]
    grid = plan.schedule.pivot_table(index=["date", "weekday"], columns="rank", values="times",
                                     aggfunc="first", sort=True)
    kinds = plan.schedule.pivot_table(index=["date", "weekday"], columns="rank", values="day_type",
                                      aggfunc="first", sort=True)
    head = "".join(f"<th><span class='num'>{r}</span>"
                   + (f" team {team_of.get(r, 1)}" if plan.teams > 1 else "") + "</th>" for r in ranks)
    body = []
    for (date, wd), row in grid.iterrows():
        cells = []
        for r in ranks:
            if kinds.loc[(date, wd), r] == "comparison":
                cells.append("<td class='c'>–</td>")
            else:
                cells.append(f"<td>{e(str(row[r]))}</td>")
        body.append(f"<tr><td>{e(wd)} {pd.Timestamp(date).strftime('%d %b')}</td>{''.join(cells)}</tr>")
    caveats = [
        f"Visit each area at the times shown for about {plan.minutes} minutes (Koper curve: "
        "10–15 minutes at irregular times); record every visit (date, area, minutes) in the "
        "patrol log.",
        "– = comparison day: no planned patrol in that area (respond to calls as normal). "
        "Comparison days are what let the partnership tell whether the patrols worked.",
        f"Schedule randomised with seed {plan.seed} (give this seed to make the same plan again); "
        f"patrol hours {plan.hours[0]:02d}:00–{plan.hours[1]:02d}:00; {plan.teams} "
        f"team{'s' if plan.teams != 1 else ''}, each with time to get between its areas "
        f"({plan.travel}).",
        *notes, *plan.warnings,
    ]
    meta = [f"{start} – {end} ({plan.days} days)", f"{plan.visits_per_day} visits a patrol day, "
            f"{plan.minutes} minutes each"]
    within = plan.parameters.get("within")
    if within:
        meta.append("in " + "; ".join([within] if isinstance(within, str) else within))
    if period:
        meta.append(f"areas from incidents {period}")
    if category:
        meta.append(category)
    meta.append(f"printed {dt.date.today().strftime('%d %b %Y')}")
    demo_line = (f"<div class='demo'>{e(settings.DEMO_LABEL)}</div>" if demo else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{_SHEET_CSS}</style></head>
<body>
{demo_line}<h1>{e(title)}</h1>
<div class="meta">{e(' · '.join(meta))}</div>
<div class="top">{img}
<table class="areas"><thead><tr><th>#</th><th>Team</th><th>Area</th><th>Grid ref</th><th>Size</th><th>Incidents</th></tr></thead>
<tbody>{area_rows}</tbody></table></div>
<table class="sched"><thead><tr><th>Day</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>
<ul class="notes">{''.join(f'<li>{e(str(c))}</li>' for c in caveats)}</ul>
</body></html>
"""



def sheet_for(plan: PatrolPlan, *, context: gpd.GeoDataFrame | None = None,
              title: str = "Patrol sheet", demo: bool = False, notes: Sequence[str] = ()) -> str:
    """The patrol sheet with its map drawn offline (`static_maps.patrol_png`, numbered by rank,
    over `context` outlines such as wards), the period and categories from the plan."""
    from hotspot_app.render import static_maps

    png = static_maps.patrol_png(plan.areas, context=context, number_field="rank",
                                 title="", size_in=(6.0, 5.4), dpi=110)
    p = plan.parameters
    period = f"{p['from']} to {p['to']}" if p.get("from") and p.get("to") else None
    cat = p.get("category")
    category = ", ".join(cat) if isinstance(cat, (list, tuple)) else cat
    return sheet_html(plan, title=title, map_png=png, period=period, category=category,
                      notes=notes, demo=demo)



def log_report_markdown(report: dict) -> str:
    """The patrol-log section of `evaluate`'s text output."""
    lines = ["", "## Patrol log", ""]
    rows = report["dosage"]
    if rows and "planned_visits" in rows[0]:
        lines += ["| area | planned visits | visits done | % | planned minutes | minutes done | % | "
                  "visits on comparison days |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            f = lambda v, d=0: "n/a" if v is None else f"{v:,.{d}f}"  # noqa: E731
            lines.append(f"| {r['area']} | {f(r['planned_visits'])} | {f(r['visits_done'])} | "
                         f"{f(r['visits_pct'], 1)} | {f(r['planned_minutes'])} | {f(r['minutes_done'])} | "
                         f"{f(r['minutes_pct'], 1)} | {f(r['visits_on_comparison_days'])} |")
    else:
        lines += ["| area | days recorded | visits done | minutes done |", "|---|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['area']} | {r['days_recorded']} | {r['visits_done']:,.0f} | "
                         f"{'n/a' if r['minutes_done'] is None else format(r['minutes_done'], ',.0f')} |")
    d = report["days"]
    if d["incidents_patrol_days"] is not None:
        ratio = "n/a" if d["rate_ratio"] is None else f"{d['rate_ratio']:.2f}"
        lines += ["", f"Patrol days: {d['incidents_patrol_days']:,} incidents on {d['patrol_days']} days "
                      f"({d['per_patrol_day']} a day); comparison days: {d['incidents_comparison_days']:,} "
                      f"on {d['comparison_days']} days ({d['per_comparison_day']} a day); ratio {ratio}."]
    lines += [f"- {w}" for w in report["warnings"]]
    return "\n".join(lines)
