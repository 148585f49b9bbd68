"""Where should we patrol? The patrol-areas question (docs/design.md §5b "Clusters grow", §5c
"Presets everywhere"): DBSCAN patrol areas with the preset the app uses by default, named, ranked
by count or harm, with every warning in one list -- the one answer `hotspot clusters`, the
Hotspots page, the Patrol plan page and the report pack's patrol map give.

Decided here and nowhere else:

* the parameters: a named preset (`patrol.PRESETS`; `patrol.DEFAULT_PRESET` when none is
  chosen), ``eps_m``/``min_samples`` overriding it; the result names the preset when the
  parameters used are exactly the preset's, else ``preset`` is None ("own settings");
* how many areas a page or a paper shows when nobody chose (`SHOWN`; the CLI lists them all
  unless ``--top``);
* ranking by harm: the harm table's source and whether the top N changes between its low and
  high weights, said with the areas' names;
* the words: `PatrolAreas.describe` and `PatrolAreas.sentence`.

`forecast` answers "how well would last period's patrol areas have predicted this one?" (PAI,
RRI) and `eps_guidance` "how large should eps be?" for the same choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

from hotspot_app.core import areas as areas_mod, cluster_areas, clusters, eps_guide, forecast as forecast_mod, harm, patrol, periods, taxonomy
from hotspot_app.core.errors import InputError

#: How many patrol areas a page shows when the user has not chosen.
SHOWN: int = 5
#: How many a paper (the report pack's patrol map and its table) shows when the spec has no `top`:
#: the ten a partnership reads in the paper, each named with its ward and grid reference.
PAPER_SHOWN: int = 10

#: The incident columns the patrol areas read besides any `rank_by` column: every canonical one
#: but the ids (64 bytes a row on police.uk: 0.8 GiB of a decade's ASB, never used here), and
#: the precision of coarse locations (which widens the areas drawn).
COLUMNS_USED: tuple[str, ...] = ("source", "occurred", "month", "category", "group", "kind", "subcategory",
                                 "weight", "location", "location_precision_m")


def columns_used(rank_by=None) -> tuple[str, ...]:
    """The columns `patrol_areas` reads with this `rank_by` (a numeric column ranks by itself)."""
    extra = (str(rank_by),) if rank_by is not None and rank_by != "harm" else ()
    return COLUMNS_USED + extra


@dataclass(frozen=True)
class Choice:
    """The DBSCAN parameters of a patrol-areas question: ``preset`` is the preset's name when
    `eps_m` and `min_samples` are exactly its own, else None (own settings)."""

    preset: str | None
    eps_m: float
    min_samples: int

    def describe(self) -> str:
        """'street-level preset: incidents within 75 m, at least 25 of them' or 'own settings: ...'."""
        what = f"incidents within {self.eps_m:g} m, at least {self.min_samples} of them"
        return f"{self.preset} preset: {what}" if self.preset else f"own settings: {what}"


def choose(preset: str | None = None, eps_m: float | None = None,
           min_samples: int | None = None) -> Choice:
    """The parameters used: `preset` (default `patrol.DEFAULT_PRESET`), `eps_m` and
    `min_samples` overriding it. `InputError` naming ``preset`` for an unknown preset."""
    name = preset or patrol.DEFAULT_PRESET
    eps, ms = patrol.cluster_parameters(name, eps_m, min_samples)
    p = patrol.PRESETS[name]
    return Choice(name if (eps, ms) == (p.eps_m, p.min_samples) else None, eps, ms)


@dataclass(frozen=True)
class PatrolAreas:
    """The answer: the shown patrol areas (ranked, every contract column), what was chosen, the
    counts, and every warning (``warnings``; ``message`` is the one saying which parameter to
    change when none was found)."""

    areas: gpd.GeoDataFrame
    choice: Choice
    parameters: dict
    n_incidents: int
    n_noise: int
    n_found: int
    top_categories: dict
    what: str
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    harm_check: dict | None = None

    @property
    def preset(self) -> str | None:
        return self.choice.preset

    def describe(self) -> str:
        return self.choice.describe()

    def sentence(self) -> str:
        """'Top 5 of 12 patrol areas (street-level preset: ...) hold 1,234 of 5,678 incidents
        (ASB).' -- the same words on the Hotspots page and in the report pack."""
        if not len(self.areas):
            return self.message or "No patrol areas found."
        held = int(self.areas["count"].sum())
        which = (f"Top {len(self.areas)} of {self.n_found:,} patrol areas" if len(self.areas) < self.n_found
                 else f"{self.n_found:,} patrol area{'s' if self.n_found != 1 else ''}")
        verb = "holds" if len(self.areas) == 1 else "hold"
        what = f" ({self.what})" if self.what != "incidents" else ""
        return f"{which} ({self.describe()}) {verb} {held:,} of {self.n_incidents:,} incidents{what}."

    def to_dict(self) -> dict:
        """The `hotspot clusters` JSON document (docs/design.md §5, §5b, §5c): parameters, counts, one
        entry per shown area, and the preset and parameters used."""
        rows = cluster_areas.document_rows(self.areas, self.top_categories,
                                           bool(self.parameters.get("weight")))
        return {"parameters": dict(self.parameters), "n_incidents": self.n_incidents,
                "n_noise": self.n_noise, "clusters": rows, "preset": self.choice.preset,
                "eps_m": self.choice.eps_m, "min_samples": self.choice.min_samples}


def _harm_text(check: dict, names: dict[int, str]) -> str:
    """`harm.rank_check`'s finding with the areas named ("#1 On or near ...")."""
    if not check["changes"]:
        return check["text"]

    def named(ids):
        return ", ".join(names.get(int(c), f"#{int(c)}") for c in ids)

    high, low = check["only_high"], check["only_low"]
    return (f"The top {check['top']} by harm changes between the low and high weights: "
            f"{named(high)} {'is' if len(high) == 1 else 'are'} in it only with the high weights, "
            f"{named(low)} only with the low.")


def patrol_areas(incidents: gpd.GeoDataFrame, *, category=None, period=None,
                 preset: str | None = None, eps_m: float | None = None,
                 min_samples: int | None = None, days: float | None = None,
                 rank_by: str | None = None, method: str = "auto",
                 areas: gpd.GeoDataFrame | None = None, top: int | None = None,
                 within=None) -> PatrolAreas:
    """Patrol areas of the selected incidents.

    Parameters
    ----------
    incidents : canonical incidents (EPSG:27700); not modified.
    category, period : the selection (`selection.select`); period ``FROM..TO`` or (from, to),
        either end open.
    preset, eps_m, min_samples : see `choose`.
    days : space-time mode (neighbours also within `days` days).
    rank_by : None (count), ``"harm"`` or a numeric column: what ranks the areas.
    method : DBSCAN method (``auto``, ``sklearn``, ``grid``, ``hdbscan``).
    areas : boundaries (wards) naming each patrol area with the area its centre lies in.
    top : how many areas to keep (None: all).
    within : the place chosen (`areas.pick`: ``"LAD24NM=Hartlepool"``, ``"Victoria,Headland"``
        or a list of such): only incidents inside those of `areas` are clustered, so the top
        areas are the place's own; the names still come from all of `areas`.
    """
    choice = choose(preset, eps_m, min_samples)
    if within:
        incidents = incidents[areas_mod.area_mask(incidents, areas_mod.pick(areas, within))]
    found = clusters.dbscan(incidents, choice.eps_m, choice.min_samples, category=category,
                            period=period, days=days, rank_by=rank_by, method=method,
                            areas=areas, top=top)
    shown = patrol.contract_columns(found.areas)
    notes = list(found.warnings)
    check = None
    if rank_by == "harm" and found.n_clusters:
        labelled = found.selection[["category"]].assign(cluster_id=found.labels)
        check = harm.rank_check(labelled, "cluster_id", top or SHOWN)
        names = {int(r): f"#{int(r)} {n}" for r, n in zip(shown["rank"], shown["name"])}
        check = {**check, "text": _harm_text(check, names)}
    parameters = {"preset": choice.preset, **found.parameters}
    if within:
        parameters["within"] = within if isinstance(within, str) else list(within)
    return PatrolAreas(shown, choice, parameters, found.n_incidents, found.n_noise,
                       found.n_clusters, found.top_categories, taxonomy.selection_label(category),
                       found.message, list(dict.fromkeys(notes)), check)


def forecast(incidents: gpd.GeoDataFrame, *, category=None, period, preset: str | None = None,
             eps_m: float | None = None, min_samples: int | None = None,
             areas: gpd.GeoDataFrame | None = None) -> dict | None:
    """How well would the patrol areas of the months before `period` (the same number of
    months) have predicted where the incidents of `period` happened? PAI and RRI
    (`forecast.forecast_accuracy`, method clusters) with the sentence saying it. None when the
    earlier months are not loaded or give no patrol areas."""
    choice = choose(preset, eps_m, min_samples)
    test = periods.month_range(*period) if isinstance(period, tuple) else periods.parse_range(period)
    train = periods.shift(test, -len(test))
    if not periods.Coverage.of(incidents).covers(train):
        return None
    try:
        out = forecast_mod.forecast_accuracy(incidents, train, test, method="clusters", category=category,
                                         areas=areas, eps_m=choice.eps_m, min_samples=choice.min_samples)
    except InputError:
        return None
    out = {k: v for k, v in out.items() if k not in ("curve", "cells")}
    out.update(train=f"{train[0]}..{train[-1]}", test=f"{test[0]}..{test[-1]}", text=None)
    if out.get("pai") is not None:
        share_n = 100 * out["n_test"] / out["N_test"] if out["N_test"] else None
        share_a = 100 * out["area_m2"] / out["study_area_m2"]
        out["text"] = (
            f"Patrol areas found on **{out['train']}** held **{out['n_test']:,} of {out['N_test']:,}** "
            f"incidents of **{out['test']}** ({share_n:.1f}%) on **{share_a:.2f}%** of the area. The "
            "Predictive Accuracy Index is the share of incidents over the share of area: "
            f"**PAI = {out['pai']:.1f}** — last period's areas caught {out['pai']:.1f} times the "
            "incidents an equal area picked at random would (1 = no better than chance).")
    return out


def eps_guidance(incidents: gpd.GeoDataFrame, min_samples: int, *, category=None,
                 period=None) -> tuple[eps_guide.EpsSuggestion, str]:
    """The k-distance suggestion for `eps_m` at `min_samples` (`eps_guide.suggest_eps`) and the
    sentence that offers it as a guide, not a rule."""
    guide = eps_guide.suggest_eps(incidents, int(min_samples), category=category, period=period)
    text = (f"For **{int(min_samples)}** min samples the k-distance curve bends at about "
            f"**{guide.eps_m:,.0f} m**: a guide, not a rule — patrol areas should stay walkable, "
            "so prefer the smaller of this and a few streets.")
    return guide, text
