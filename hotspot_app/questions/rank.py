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
from hotspot_app.core import hotspots, params, sentences, summaries, tables, taxonomy
from hotspot_app.core.errors import InputError

#: How many areas the share sentence names when a face leaves it out.
TOP: int = 3
#: A map's metrics: the column of the ranking each one shows.
METRICS = {"count": "count", "rate": "rate_per_1000"}
#: The incident columns a ranking without a population file reads (`selected.rank_selection`):
#: the schema's, less the ids, and the provider. Not the ids or a source's extra columns (a
#: national decade's ASB ids alone are 0.8 GiB); with LSOA populations every column is read,
#: since LSOAs without a polygon are placed at the incidents carrying their ``lsoa_code``.
COLUMNS_USED: tuple[str, ...] = ("source", "provider", "occurred", "month", "category", "group", "kind",
                                 "subcategory", "weight", "location")


def rank(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, category=None,
         period: tuple[str | None, str | None] | None = None, population=None,
         lsoa_boundaries: Sequence = (), top: int | None = None, layer: str | None = None,
         by: str | None = None, within: str | None = None, unit: str | None = None,
         whole: pd.DataFrame | None = None, smooth: str | None = None) -> tuple[pd.DataFrame, dict]:
    """The ranking ``(table, document)`` of `summaries.ranking` -- the `hotspot rank` JSON --
    over the areas of `layer` (default: the wards when the areas mix layers), grouped `by` a
    field and/or restricted `within` FIELD=VALUE. `period` is (first, last) month, either end
    open; `unit` names the areas in the sentence (default by their layer: "wards").

    `population`: by area (a Series), or a population file matched to the areas compared (after
    `by`/`within`: `population_files.read_population`, per LSOA with `lsoa_boundaries`); its
    notes go to the document's ``notes``.

    `smooth` (``eb`` or ``eb-spatial``, `where_next.SMOOTH`): ``rate_eb``, the Empirical Bayes
    rate per 1,000, beside ``rate_per_1000`` in every row, and the document's ``smoothing`` (the
    method and its parameters)."""
    top = TOP if top is None else top
    params.validate(top=top)
    refuse_unsplit(whole if whole is not None else incidents, category)
    compared, warnings = tables.group_areas(summaries.ranking_layer(areas, layer), by=by, within=within)
    notes: list[str] = []
    if population is not None and not isinstance(population, pd.Series):
        from hotspot_app.io import population_files

        population, notes = population_files.read_population(population, compared, lsoa_boundaries or (),
                                                             incidents=incidents)
    table, doc = summaries.ranking(incidents, compared, category=category, period=period,
                                   population=population, top=top, notes=list(notes),
                                   restrict=within is not None, area_warnings=warnings, whole=whole,
                                   unit=unit)
    if smooth is not None:
        table, doc = _smoothed(table, doc, compared, smooth)
    layer_name = str(compared["layer"].iloc[0]) if len(compared) and "layer" in compared.columns else None
    unit_ = unit or (core_areas.layer_unit(layer_name) if by is None else "areas")
    doc["sentences"] = sentences.rank_sentences(doc, what=taxonomy.selection_label(category), unit=unit_)
    return table, doc


def _smoothed(table: pd.DataFrame, doc: dict, compared: gpd.GeoDataFrame, smooth: str
              ) -> tuple[pd.DataFrame, dict]:
    """The ranking with ``rate_eb`` beside ``rate_per_1000`` (null for the outside row, areas
    without population, and a period not covered)."""
    from hotspot_app.questions import where_next

    if smooth not in where_next.SMOOTH:
        raise InputError(f"unknown smoothing '{smooth}'; use {' or '.join(where_next.SMOOTH)}",
                         parameter="smooth")
    body = table["area_id"] != core_areas.OUTSIDE
    rate_eb = pd.Series([None] * len(table), index=table.index, dtype=object)
    doc = dict(doc)
    have_pop = table.loc[body, "population"].notna() & (table.loc[body, "population"].fillna(0) > 0)
    if not bool(have_pop.any()):
        raise InputError("--smooth needs a population for the areas (the areas' population field "
                         "or --population)", parameter="smooth")
    if table.loc[body, "count"].notna().all():
        frame = table.loc[body, ["area_id", "name", "count", "population"]].astype(
            {"count": float, "population": float})
        geoms = compared.set_index(compared["area_id"].astype(str)).geometry
        frame = gpd.GeoDataFrame(frame, geometry=geoms.reindex(frame["area_id"].astype(str)).values,
                                 crs=compared.crs)
        answer = where_next.smooth(frame, smooth)
        rate_eb.loc[body] = answer.table["rate_eb"].to_numpy()
        doc["warnings"] = list(doc["warnings"]) + list(answer.warnings)
        doc["smoothing"] = answer.parameters
    else:
        doc["smoothing"] = None
    table = table.copy()
    table.insert(table.columns.get_loc("rate_per_1000") + 1, "rate_eb",
                 pd.array([None if v is None else round(float(v), 2) for v in rate_eb], dtype="Float64"))
    doc["areas"] = [{**rec, "rate_eb": None if v is None else round(float(v), 2)}
                    for rec, v in zip(doc["areas"], rate_eb)]
    return table, doc


def refuse_unsplit(incidents: pd.DataFrame, category) -> None:
    """`InputError` (parameter ``category``) when the selection asks for a category the loaded
    data do not record (`taxonomy.unsplit`): ranking it would say 0 for every area."""
    blind = taxonomy.unsplit(incidents, category)
    if blind:
        raise InputError(f"the loaded data do not record {', '.join(repr(b) for b in blind)} separately "
                         "(police.uk counts it within a coarser category), so every area would read 0; "
                         "choose a category the data record (e.g. 'Violence and sexual offences')",
                         parameter="category")


def area_values(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, category=None,
                months: Sequence[str] | None = None, metric: str = "count",
                population: pd.Series | None = None, smooth: str | None = None
                ) -> tuple[pd.Series, list[str]]:
    """The value of each area (by ``area_id``; null when not available) for a map: its count or
    its rate per 1,000 (`METRICS`) in `months`, and the warnings (uncovered months). `population`
    by ``area_id`` (default the areas' own ``population``). A rate map with `smooth`
    (``eb``/``eb-spatial``, `where_next.SMOOTH`) shows the Empirical Bayes rate."""
    if smooth is not None and metric != "rate":
        raise InputError("smoothing applies to rate maps (metric: rate)", parameter="smooth")
    refuse_unsplit(incidents, category)
    ranked, warnings = summaries.rank_areas(incidents, areas, category=category,
                                            months=list(months) if months is not None else None,
                                            population=population)
    if smooth is not None:
        ranked, doc = _smoothed(ranked, {"areas": [{} for _ in range(len(ranked))], "warnings": []},
                                areas, smooth)
        warnings = list(warnings) + doc["warnings"]
    body = ranked[ranked["area_id"] != core_areas.OUTSIDE].set_index("area_id")
    column = "rate_eb" if smooth is not None else METRICS[metric]
    return body[column].astype("Float64"), warnings


def map_values(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, category=None,
               months: Sequence[str], metric: str = "count", population=None, lsoa_boundaries: Sequence = (),
               smooth: str | None = None) -> tuple[pd.Series, str, dict[str, str], list[str]]:
    """A choropleth's answer: ``(values by area_id, metric shown, why each grey area is grey
    {area_id: reason}, warnings)``. A rate map needs a population (`population`: a file as
    `rank` takes, else the areas' own); with none at all it shows counts and says so, never a
    map of n/a. Grey means 'no population' or 'months not covered', and the reason says which.
    `smooth`: the Empirical Bayes rate (`area_values`)."""
    notes: list[str] = []
    if population is not None and not isinstance(population, pd.Series):
        from hotspot_app.io import population_files

        population, notes = population_files.read_population(population, areas, lsoa_boundaries or (),
                                                             incidents=incidents)
    warnings = list(notes)
    if metric == "rate":
        pop = population if population is not None else (
            pd.to_numeric(areas["population"], errors="coerce").set_axis(areas["area_id"].astype(str))
            if "population" in areas.columns else None)
        if pop is None or pd.Series(pop).notna().sum() == 0:
            warnings.append("the areas carry no population and none was given, so rates per 1,000 cannot "
                            "be worked out: the map shows counts (give population: FILE for rates)")
            metric = "count"
    values, warned = area_values(incidents, areas, category=category, months=months, metric=metric,
                                 population=population if metric == "rate" else None,
                                 smooth=smooth if metric == "rate" else None)
    warnings += warned
    grey: dict[str, str] = {}
    for area_id, v in values.items():
        if pd.isna(v):
            grey[str(area_id)] = "months not covered" if warned else "no population"
    return values, metric, grey, warnings


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
