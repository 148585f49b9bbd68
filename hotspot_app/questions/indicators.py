"""Are we on track? The indicators question (docs/design.md §5b "Indicators"): the performance
indicators of a spec over a period, against the comparison window and a baseline -- the one
answer `hotspot indicators`, the report pack's indicator sections and the Area tables page give.

Decided here: the comparison when none is given (the same period a year earlier), the area (one
area, or every incident loaded), and the spec's file name in errors.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from hotspot_app.core import indicators as core_indicators
from hotspot_app.core import periods, sentences, tables

#: The comparison when a face leaves it out.
COMPARE: str = "same-period-last-year"


def indicators(incidents: gpd.GeoDataFrame, spec: pd.DataFrame, period: str, *,
               baseline: str | None = None, compare: str | None = None,
               area: gpd.GeoDataFrame | None = None, spec_file: str | None = None,
               whole: pd.DataFrame | None = None) -> dict:
    """The `hotspot indicators` document (`core.indicators.indicators`) for the rows of `area`
    (None: every incident). `whole`: when `incidents` are only the months counted
    (`selected.indicators_selection`), the summary of everything loaded."""
    compare = COMPARE if compare is None else compare
    periods.parse_range(period, "period")
    if baseline is not None:
        periods.parse_range(baseline, "baseline")
    tables.parse_compare(compare)
    doc = core_indicators.indicators(incidents, spec, period, baseline=baseline, compare=compare,
                                     area=area, spec_file=spec_file, whole=whole)
    doc["sentences"] = sentences.indicator_sentences(doc)
    return doc
