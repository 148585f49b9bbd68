"""Is it going up or down? The trend question: incidents per month of a selection, in one area or
everywhere, zeros included and null for a month the data do not cover -- the figures of the report
pack's chart sections and of the pages' monthly charts.

Decided here: a month is judged covered on the sources of the selected incidents
(`periods.Coverage` of the selection), and the series is named by the area ("All areas" when
none).
"""

from __future__ import annotations

from typing import Sequence

import geopandas as gpd
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import evaluation, periods, taxonomy

#: The series' name when no area is chosen.
EVERYWHERE = "All areas"


def monthly(incidents: gpd.GeoDataFrame, *, category=None, months: Sequence[str],
            area: gpd.GeoDataFrame | None = None, name: str | None = None,
            split: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Counts per month: columns month, series (the area's `name`), count (null when the month
    is not covered), covered; or, with `split` (an incident column such as ``category``), month,
    <split>, count. Returns the table and the warnings (months not covered)."""
    sel = taxonomy.select(incidents, category)
    cov = periods.Coverage.of(incidents[sel])
    missing = cov.missing(list(months))
    warnings = [periods.coverage_warning(missing, "chart")] if missing else []
    if split:
        part = incidents[sel & incidents["month"].isin(list(months))]
        out = part.groupby(["month", split], observed=True).size().rename("count").reset_index()
        return out, warnings
    mask = sel if area is None else sel & core_areas.area_mask(incidents, area)
    label = name or (EVERYWHERE if area is None else core_areas.display_name(area))
    return evaluation.monthly_counts(incidents, {label: mask}, list(months), cov), warnings
