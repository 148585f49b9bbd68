"""How are we doing in this area? The area-summary question (docs/design.md §5 `hotspot summary`):
crime and ASB (and deliberate fires when loaded) in the months up to a month against the same
months a year earlier, with the partnership paper's sentences -- the one answer `hotspot
summary`, the report pack's summary sections and the Overview page's cards give.

Decided here: the period length when none is given (`N_MONTHS`), how the area is named in the
sentence (`areas.area_label`: "the Hemlington ward area" for a ward, from the boundary kind the
`boundaries` question decided), and the whole load's wording when no area is chosen.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from hotspot_app.core import summaries

#: The summary period when a face leaves it out: 12 months.
N_MONTHS: int = 12
#: How the whole load is named when no area is chosen.
WHOLE = ("whole area loaded", "All areas")


def area_summary(incidents: gpd.GeoDataFrame, area: gpd.GeoDataFrame | None, to: str,
                 n_months: int | None = None, whole: pd.DataFrame | None = None,
                 name: str | None = None) -> dict:
    """The `hotspot summary` document for the rows of `area` (one area, or several rows of one
    name), or for everything loaded when `area` is None: ``{"area", "to", "months", "crime",
    "asb", ["fires",] "text", "warnings"}`` (`summaries.area_summary`). `whole`: when
    `incidents` are only the months counted (`selected.summary_selection`), the summary of
    everything loaded. `name`: how a place of several areas is named (e.g. 'Hartlepool', the
    wards of an authority chosen with ``within``)."""
    n = N_MONTHS if n_months is None else int(n_months)
    if area is None:
        place, name = WHOLE
        doc = summaries.area_summary(incidents, pd.Series(True, index=incidents.index), to, n,
                                     place=place, area_name=name, whole=whole)
    else:
        doc = summaries.area_summary(incidents, area, to, n, whole=whole, place=name, area_name=name)
    return doc
