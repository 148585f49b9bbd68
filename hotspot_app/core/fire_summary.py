"""What the fire-brigade prevention officer needs that other pages do not: how precise the
fire locations are (services mask coordinates, e.g. to 1 km cells), fires by ward from the
file's own ward column when no boundaries are loaded, the ward × month table, and the seasonal
comparison (the bonfire period, or any months of the year, against the rest of the year).

Inputs are canonical incidents (see `schema`); nothing is modified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import periods, taxonomy
from hotspot_app.core.errors import InputError

__all__ = ["WARD_COLUMNS", "precision_m", "precision_note", "file_ward_column", "ward_month_table",
           "BONFIRE_MONTHS", "Seasonal", "seasonal_comparison", "season_label"]

#: The bonfire period: October and November (Halloween, Bonfire Night).
BONFIRE_MONTHS: tuple[int, ...] = (10, 11)
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")

#: Ward columns fire-service extracts carry (snake_case as ingest keeps them), most specific first.
WARD_COLUMNS = ("ward", "ward_name", "incgeo_wardnamenew", "incgeo_wardname", "wardname")
#: Coarser than this (metres) and the locations are called masked.
MASKED_M = 100.0
NOT_RECORDED = "Not recorded"


def precision_m(incidents: pd.DataFrame) -> float | None:
    """The coarsest recorded location precision (``location_precision_m``), None when the
    column is absent or empty (exact coordinates)."""
    if "location_precision_m" not in incidents.columns:
        return None
    p = pd.to_numeric(incidents["location_precision_m"], errors="coerce").dropna()
    return float(p.max()) if len(p) else None


def precision_note(incidents: pd.DataFrame) -> str | None:
    """One sentence when locations are masked to more than `MASKED_M` metres, else None."""
    p = precision_m(incidents)
    if p is None or p <= MASKED_M:
        return None
    col = pd.to_numeric(incidents["location_precision_m"], errors="coerce")
    n = int((col > MASKED_M).sum())
    size = f"{p / 1000:g} km" if p >= 1000 else f"{p:,.0f} m"
    return (f"{n:,} of {len(incidents):,} fire locations are only precise to about {size} (the "
            f"service masked the coordinates): maps show {size} squares, not addresses; ward counts "
            f"near boundaries may be in the neighbouring ward; clusters need eps of at least {p:,.0f} m "
            "(or count by ward).")


def file_ward_column(incidents: pd.DataFrame) -> str | None:
    """The file's own ward column (first of `WARD_COLUMNS` with any value), or None."""
    for col in WARD_COLUMNS:
        if col in incidents.columns and incidents[col].astype(str).str.strip().replace(
                {"": np.nan, "nan": np.nan, "None": np.nan}).notna().any():
            return col
    return None


def ward_month_table(incidents: gpd.GeoDataFrame, *, wards: gpd.GeoDataFrame | None = None,
                     category=None, months: list[str] | None = None,
                     coverage: periods.Coverage | None = None) -> tuple[pd.DataFrame, str, list[str]]:
    """Fires by ward (rows) and month (columns), with a Total column and a Total row.

    The ward is the boundary the fire lies in when `wards` are given (fires in none are
    ``outside``), else the file's own ward column (blank = "Not recorded"). Months are `months`
    (default: every month of the selection); a month the fire data do not cover is null in every
    cell (not 0) and named in the warnings. Returns (table, how the ward was found, warnings).
    Rows are sorted by Total, largest first, then "Not recorded"/``outside``; the Total row
    is last. `coverage`: the months the fire data cover, when `incidents` are only part of the
    load (a place's): a month with no fire in the place is then 0, not blank.
    """
    sel = incidents[taxonomy.select(incidents, category)]
    fire_months = coverage if coverage is not None else periods.Coverage.of(
        incidents[incidents["kind"].astype(str) == "fire"] if "kind" in incidents.columns else incidents)
    months = list(months) if months is not None else sorted(pd.unique(sel["month"].astype(str)))
    sel = sel[sel["month"].astype(str).isin(months)]
    if wards is not None and len(wards):
        ward = core_areas.join(sel, wards, field="name") if len(sel) else pd.Series([], dtype=object)
        how = "ward boundaries loaded"
    else:
        col = file_ward_column(sel) or file_ward_column(incidents)
        if col is None:
            ward = pd.Series(NOT_RECORDED, index=sel.index)
            how = "no ward boundaries and no ward column in the file"
        else:
            ward = sel[col].astype(str).str.strip().replace({"": NOT_RECORDED, "nan": NOT_RECORDED,
                                                             "None": NOT_RECORDED})
            how = f"the file's own ward column ('{col}')"
    counts = pd.crosstab(ward.to_numpy(), sel["month"].astype(str).to_numpy())
    table = counts.reindex(columns=months, fill_value=0).astype("Int64")
    missing = fire_months.missing(months)
    for m in missing:
        table[m] = pd.NA
    table["Total"] = table[[m for m in months if m not in missing]].sum(axis=1).astype("Int64")
    table = table.sort_values("Total", ascending=False, kind="stable")
    last = [w for w in (NOT_RECORDED, core_areas.OUTSIDE) if w in table.index]
    table = table.loc[[w for w in table.index if w not in last] + last]
    total = table.sum(axis=0, min_count=1).astype("Int64")
    for m in missing:
        total[m] = pd.NA
    table.loc["Total"] = total
    table.index.name = "ward"
    table.columns.name = None
    warnings = []
    if missing:
        warnings.append(f"the fire data do not cover {', '.join(missing)}: those months are blank, "
                        "not zero")
    return table.reset_index(), how, warnings


# =========================================================================== seasonal comparison
def season_label(season) -> str:
    """'October–November' (consecutive), 'June, August' (otherwise)."""
    ms = sorted({int(m) for m in season})
    if len(ms) > 1 and ms == list(range(ms[0], ms[-1] + 1)):
        return f"{MONTH_NAMES[ms[0] - 1]}–{MONTH_NAMES[ms[-1] - 1]}"
    return ", ".join(MONTH_NAMES[m - 1] for m in ms)


def _rate_ratio(season_counts: np.ndarray, other_counts: np.ndarray) -> dict:
    """Rate ratio of the season's monthly counts to the other months' with its 95% interval.

    The quasi-Poisson regression of the monthly counts on a season indicator, in its closed form
    (two groups): rate ratio = season mean ÷ other mean; var(log RR) = φ (1/S + 1/O) with S, O
    the two sides' incidents and φ = Pearson χ² / (months − 2), never below 1 (months that vary
    more than chance widen the interval, fewer never narrow it below Poisson); the interval and
    p from Student's t on months − 2 degrees of freedom (statsmodels' GLM with ``scale="X2"``
    gives the same estimate and standard error). None where the data cannot support it: no
    month on either side, no incident on either side, or fewer than 3 months in all."""
    from scipy import stats

    out = {"rate_ratio": None, "ci_low": None, "ci_high": None, "p_value": None, "pct_change": None,
           "pct_low": None, "pct_high": None, "dispersion": None}
    n_s, n_o = len(season_counts), len(other_counts)
    S, O = float(np.sum(season_counts)), float(np.sum(other_counts))
    if n_s == 0 or n_o == 0 or n_s + n_o < 3 or S == 0 or O == 0:
        return out
    m_s, m_o = S / n_s, O / n_o
    x2 = float(np.sum((season_counts - m_s) ** 2) / m_s + np.sum((other_counts - m_o) ** 2) / m_o)
    df = n_s + n_o - 2
    phi = max(1.0, x2 / df) if df > 0 else 1.0
    se = math.sqrt(phi * (1.0 / S + 1.0 / O))
    b = math.log(m_s / m_o)
    q = float(stats.t.ppf(0.975, df)) if df > 0 else float("nan")
    if not math.isfinite(q):
        return out
    rr, lo, hi = math.exp(b), math.exp(b - q * se), math.exp(b + q * se)
    out.update(rate_ratio=round(rr, 3), ci_low=round(lo, 3), ci_high=round(hi, 3),
               p_value=float(2 * stats.t.sf(abs(b / se), df)), pct_change=round(100 * (rr - 1), 1),
               pct_low=round(100 * (lo - 1), 1), pct_high=round(100 * (hi - 1), 1),
               dispersion=round(phi, 3))
    return out


@dataclass(frozen=True)
class Seasonal:
    """The season (months of the year) against the rest of the year.

    ``by_month``: month (YYYY-MM), count (null when the data do not cover it), season (bool).
    ``overall``: months and incidents on each side, per month on each side, the rate ratio
    (season per month ÷ other months per month) with its 95% interval, the % change and p.
    ``by_ward``: the same per ward (rows as the ward × month table, Total last).
    """

    season: tuple[int, ...]
    label: str
    by_month: pd.DataFrame
    overall: dict
    by_ward: pd.DataFrame
    method: str
    warnings: list = field(default_factory=list)

    def sentence(self, what: str = "incidents") -> str:
        o = self.overall
        if o["season_months"] == 0 or o["other_months"] == 0:
            side = "the season" if o["season_months"] == 0 else "the rest of the year"
            return (f"The months chosen hold no month of {side}, so {self.label} cannot be compared "
                    "with the rest of the year.")
        base = (f"In {self.label}, {what} averaged {o['season_per_month']:,.1f} a month "
                f"({o['season_count']:,} in {o['season_months']} months) against "
                f"{o['other_per_month']:,.1f} a month in the rest of the year "
                f"({o['other_count']:,} in {o['other_months']} months)")
        if o["rate_ratio"] is None:
            return base + "; too few months or incidents for a rate ratio with an interval."
        direction = "more" if o["rate_ratio"] > 1 else "fewer"
        sig = ("statistically significant at the 5% level" if o["ci_low"] > 1 or o["ci_high"] < 1
               else "not statistically significant: the interval includes no change")
        return (base + f": {abs(o['pct_change']):.0f}% {direction} a month in {self.label} "
                f"(rate ratio {o['rate_ratio']:.2f}, 95% CI {o['ci_low']:.2f} to {o['ci_high']:.2f}; "
                f"{sig}).")

    def to_dict(self) -> dict:
        def plain(df):
            return df.astype(object).where(df.notna(), None).to_dict("records")
        return {"season": list(self.season), "label": self.label, "overall": dict(self.overall),
                "by_month": plain(self.by_month), "by_ward": plain(self.by_ward), "method": self.method,
                "text": self.sentence(), "warnings": list(self.warnings)}


SEASONAL_METHOD = ("Rate ratio = incidents per month in the season ÷ incidents per month in the other "
                   "months, from a quasi-Poisson regression of the monthly counts on a season "
                   "indicator (dispersion from the Pearson chi-square, never below 1; t interval), "
                   "with its 95% interval; months the data do not cover are left out; n/a where a "
                   "side has no month or no incident.")


def seasonal_comparison(table: pd.DataFrame, season=BONFIRE_MONTHS) -> Seasonal:
    """The season's months (numbers 1-12) against the other months of `table` (the ward × month
    table of `ward_month_table`: a ward column, one column per YYYY-MM, Total, a Total row).
    Months not covered (null) are left out of both sides."""
    season = tuple(sorted({int(m) for m in season}))
    if not season or any(m < 1 or m > 12 for m in season):
        raise InputError(f"season months must be numbers 1-12 (got {list(season)})", parameter="season")
    if len(season) == 12:
        raise InputError("the season cannot be every month: nothing is left to compare with",
                         parameter="season")
    months = [c for c in table.columns if isinstance(c, str) and len(c) == 7 and c[4] == "-"]
    in_season = {m: int(m[5:7]) in season for m in months}
    total = table[table["ward"] == "Total"]
    counts = total[months].iloc[0] if len(total) else pd.Series(pd.NA, index=months)
    by_month = pd.DataFrame({"month": months, "count": [None if pd.isna(v) else int(v) for v in counts],
                             "season": [in_season[m] for m in months]})

    def one(row) -> dict:
        covered = [m for m in months if not pd.isna(row[m])]
        s = np.array([int(row[m]) for m in covered if in_season[m]], dtype=float)
        o = np.array([int(row[m]) for m in covered if not in_season[m]], dtype=float)
        out = {"season_months": len(s), "other_months": len(o), "season_count": int(s.sum()),
               "other_count": int(o.sum()),
               "season_per_month": round(float(s.mean()), 2) if len(s) else None,
               "other_per_month": round(float(o.mean()), 2) if len(o) else None}
        out.update(_rate_ratio(s, o))
        return out

    wards = [{"ward": str(r["ward"]), **one(r)} for _, r in table.iterrows()]
    by_ward = pd.DataFrame(wards)
    overall = next((w for w in wards if w["ward"] == "Total"), one(pd.Series(pd.NA, index=months)))
    overall = {k: v for k, v in overall.items() if k != "ward"}
    label = season_label(season)
    notes = []
    if overall["season_months"] and overall["other_months"] and \
            min(overall["season_months"], overall["other_months"]) < 3:
        notes.append(f"only {min(overall['season_months'], overall['other_months'])} month(s) on one "
                     f"side of the comparison: choose a longer period for a steadier answer")
    return Seasonal(season, label, by_month, overall, by_ward, SEASONAL_METHOD, notes)
