"""Where does it concentrate? The ranking question (docs/design.md §5b "Rankings", §6
"Concentration"): areas ranked by count with shares, cumulative shares and rates per 1,000, the
share of the total in the top N with its sentence ("almost half (48%) of ASB occurred in just 3
wards; ..."), counts by area for a map, change on a year earlier, and the concentration curves of
wards and grid cells -- the one answer `hotspot rank`, the report pack's concentration and map
sections, and the Overview, Hotspots and Fires pages give.

Decided here: the top N when none is given (`TOP`), which areas are compared (the wards when the
areas mix layers: `summaries.ranking_layer`; ``by``/``within``; same-named areas dissolved, with a
warning), the period's open ends (the first/last month loaded), and which values a map shows
(count or rate per 1,000).
"""

from __future__ import annotations

from typing import Sequence

import geopandas as gpd
import pandas as pd

from hotspot_app.core import areas as core_areas
from hotspot_app.core import concentration as concentration_rules
from hotspot_app.core import hotspots, params, summaries, tables, taxonomy

#: How many areas the share sentence names when a face leaves it out.
TOP: int = 3
#: A map's metrics: the column of the ranking each one shows.
METRICS = {"count": "count", "rate": "rate_per_1000"}


def rank(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, category=None,
         period: tuple[str | None, str | None] | None = None, population=None,
         lsoa_boundaries: Sequence = (), top: int | None = None, layer: str | None = None,
         by: str | None = None, within: str | None = None, unit: str | None = None,
         whole: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """The ranking ``(table, document)`` of `summaries.ranking` -- the `hotspot rank` JSON --
    over the areas of `layer` (default: the wards when the areas mix layers), grouped `by` a
    field and/or restricted `within` FIELD=VALUE. `period` is (first, last) month, either end
    open; `unit` names the areas in the sentence (default by their layer: "wards").

    `population`: by area (a Series), or a population file matched to the areas compared (after
    `by`/`within`: `population_files.read_population`, per LSOA with `lsoa_boundaries`); its
    notes go to the document's ``notes``."""
    top = TOP if top is None else top
    params.validate(top=top)
    compared, warnings = tables.group_areas(summaries.ranking_layer(areas, layer), by=by, within=within)
    notes: list[str] = []
    if population is not None and not isinstance(population, pd.Series):
        from hotspot_app.io import population_files

        population, notes = population_files.read_population(population, compared, lsoa_boundaries or (),
                                                             incidents=incidents)
    return summaries.ranking(incidents, compared, category=category, period=period,
                             population=population, top=top, notes=list(notes),
                             restrict=within is not None, area_warnings=warnings, whole=whole,
                             unit=unit)


def area_values(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, category=None,
                months: Sequence[str] | None = None, metric: str = "count") -> tuple[pd.Series, list[str]]:
    """The value of each area (by ``area_id``; null when not available) for a map: its count or
    its rate per 1,000 (`METRICS`) in `months`, and the warnings (uncovered months)."""
    ranked, warnings = summaries.rank_areas(incidents, areas, category=category,
                                            months=list(months) if months is not None else None)
    body = ranked[ranked["area_id"] != core_areas.OUTSIDE].set_index("area_id")
    return body[METRICS[metric]].astype("Float64"), warnings


def change(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, category=None,
           months: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Counts per area in `months` and in the same months a year earlier, with % change
    (`summaries.change_by_area`)."""
    return summaries.change_by_area(incidents, areas, category=category, months=list(months))


def concentration(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None, *, category=None,
                  months: Sequence[str], cell_m: float, top: int | None = None
                  ) -> tuple[pd.DataFrame | None, list[str]]:
    """How many places hold the incidents: the concentration curves (`concentration.curve`)
    over the wards and over `cell_m` grid cells, stacked with a ``places`` column (each starting
    at 0, 0), and the sentence for the top `top` of each (`concentration.sentence`). (None, [])
    when nothing is selected."""
    top = TOP if top is None else top
    what = taxonomy.selection_label(category)
    layers = []
    if wards is not None and len(wards):
        counts, _ = area_values(incidents, wards, category=category, months=months)
        values = wards["area_id"].astype(str).map(counts).fillna(0).astype(float)
        layers.append(("wards", values, wards.geometry.area, wards["name"].astype(str)))
    cells = hotspots.hotspot_grid(incidents, float(cell_m), "count", "square",
                                  areas=wards if wards is not None and len(wards) else None,
                                  category=category, period=list(months))
    layers.append((f"{cell_m:g} m grid cells", cells["count"].astype(float), cells.geometry.area,
                   cells["cell_id"].astype(str)))
    frames, sentences = [], []
    for label, values, area, names in layers:
        if float(values.sum()) <= 0:
            continue
        c = concentration_rules.curve(values.to_numpy(), area.to_numpy(), names.to_numpy())
        frames.append(pd.concat([pd.DataFrame({"n": [0], "value_share": [0.0], "area_share": [0.0]}),
                                 c[["n", "value_share", "area_share"]]]).assign(places=label))
        sentences.append(concentration_rules.sentence(values.to_numpy(), area.to_numpy(), int(top), what=what,
                                                      places="grid cells" if "grid" in label else label))
    if not frames:
        return None, []
    return pd.concat(frames, ignore_index=True), sentences
