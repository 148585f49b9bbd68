"""What the fire-brigade prevention officer needs that other pages do not: how precise the
fire locations are (services mask coordinates, e.g. to 1 km cells), fires by ward from the
file's own ward column when no boundaries are loaded, and the ward × month table.

Inputs are canonical incidents (see `schema`); nothing is modified.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import periods, taxonomy

__all__ = ["WARD_COLUMNS", "precision_m", "precision_note", "file_ward_column", "ward_month_table"]

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
                     category=None, months: list[str] | None = None) -> tuple[pd.DataFrame, str, list[str]]:
    """Fires by ward (rows) and month (columns), with a Total column and a Total row.

    The ward is the boundary the fire lies in when `wards` are given (fires in none are
    ``outside``), else the file's own ward column (blank = "Not recorded"). Months are `months`
    (default: every month of the selection); a month the fire data do not cover is null in every
    cell (not 0) and named in the warnings. Returns (table, how the ward was found, warnings).
    Rows are sorted by Total, largest first, then "Not recorded"/``outside``; the Total row
    is last.
    """
    sel = incidents[taxonomy.select(incidents, category)]
    fire_months = periods.Coverage.of(incidents[incidents["kind"].astype(str) == "fire"]
                                      if "kind" in incidents.columns else incidents)
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
