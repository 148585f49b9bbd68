"""Did it work? The evaluation question: THE function `hotspot evaluate`, the app's Before/after
page and the report pack's evaluation section call, so the same arguments give the same figures
on all three (docs/design.md §5c; the "one question, one answer" issue).

Decided here, once:

- **The target** (`evaluate`'s `area`): a name or area_id in `areas` (the target's *layer* is
  the areas of its ``layer`` value, or all of `areas` when they have none), a boundary file's or
  a drawn polygon (its layer is then the wards of `areas`, else all of them), or a stored
  intervention (the area it names, else its own polygon or point + radius).
- **Other treated places**, kept out of every comparison: the other areas of the target's layer
  when it is a layer of patrol-sized places (every area at most `settings.WALKABLE_MAX_M2`: the
  micro-hotspots, whatever the file is called) too few to be the comparison pool themselves
  (fewer than `comparison.MIN_CANDIDATES` clear of the target: hexagons stand in for them), and
  for an intervention without an area, the other stored interventions. Decided on the polygons, not on the layer's name, so a micro-hotspot file
  read by the CLI and the same areas stored in a workspace give one answer.
- **The control** (`control`): ``matched`` (the default wherever candidates exist: comparison
  areas matched on the pre-period level, trend and place, `core.evaluation.comparison`),
  ``layer`` (the other areas of the target's layer, clear of its ring), ``rest`` (every incident
  outside the target, its ring and other treated places), a name in `areas` or polygons (a named
  area, with its own ring for the WDD). Without candidates the default falls back to ``layer``,
  else ``rest``, and says so.
- **The candidate pool**: `candidates` (a file's areas), else the other areas of the target's
  layer when the target was picked from it and at least `comparison.MIN_CANDIDATES` lie clear of
  its ring, else equal-size hexagon cells of the target's area laid over the study area: the
  hull of the selected incidents (the same rows give the same cells, whichever face loaded them).
- **The windows**: before = the same months a year earlier unless given; no baseline unless
  given (`default_baseline` is the one the page offers first); the pre-period of the match: the
  `comparison.PRE_MONTHS` months before the after window that the data cover.
- **The pair map's cell size** (`pair_cell_m`): 50 m, or coarser where the incident locations
  are spaced further apart.
- **Every warning**, in one list (`Answer.warnings`).

The effect, the ring's effect, WDQ, TNE and the counts all use the chosen control; the effect is
the panel difference-in-differences model of `core.evaluation.did` against the control's units
(with one unit for ``rest`` and a named area). `Answer.to_dict` is the JSON of §5c.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot_app.core import areas as core_areas
from hotspot_app.core import hotspots, locations, periods, selection, settings, taxonomy
from hotspot_app.core import evaluation as core
from hotspot_app.core.errors import InputError
from hotspot_app.core.evaluation import comparison, crossover, power

__all__ = ["CONTROLS", "METHODS", "Answer", "evaluate", "check_arguments", "default_baseline",
           "pair_cell_m", "plan_power", "plan_power_for", "PowerAnswer", "PLAN_TARGET_EFFECT"]

#: The control choices besides a named area or a file.
CONTROLS = ("matched", "layer", "rest")
#: ``control.method`` in the JSON: the three above, or "area" for a named area.
METHODS = CONTROLS + ("area",)
#: The pair map's finest cell (metres).
PAIR_CELL_M: float = 50.0


@dataclass
class Answer:
    """The answer to "did it work?".

    ``evaluation``: counts, effects, WDQ, TNE, WDD and sentences against the chosen control
    (`core.evaluation.Evaluation`); ``method`` ("matched" | "layer" | "rest" | "area") and
    ``control`` (its row in the robustness table: "matched", "layer", "rest" or the area's
    name); ``control_areas``: the names of the areas the control is made of, and
    ``control_polygons`` those areas (name, geometry; empty for ``rest``) for the maps;
    ``matched``: the matched evaluation (pool, match, pre-period fit, placebo, robustness);
    ``target``, ``ring``: the polygons; ``cell_m``: the pair map's cell size; ``patrol``: what a
    patrol log adds (dosage, patrol days against comparison days, crossover); ``warnings``:
    every warning, once."""

    evaluation: core.Evaluation
    method: str
    control: str
    control_areas: list[str]
    control_polygons: gpd.GeoDataFrame
    matched: core.MatchedEvaluation
    target: BaseGeometry
    ring: BaseGeometry
    cell_m: float
    warnings: list[str]
    patrol: dict | None = None

    # ---- figures
    @property
    def effect(self):
        return self.evaluation.effect

    @property
    def placebo(self):
        return self.matched.placebo

    @property
    def robustness(self) -> list:
        return self.matched.robustness

    @property
    def pre_fit(self):
        return self.matched.pre_fit if self.method == "matched" else None

    def control_text(self) -> str:
        """What the effect was measured against, in words."""
        row = next((r for r in self.robustness if r.control == self.control), None)
        return row.description if row is not None else self.evaluation.control_description

    # ---- sentences
    def effect_sentence(self) -> str:
        """The headline's second sentence: the effect against the chosen control, with its one
        significance statement and the placebo test."""
        e = self.effect
        what = taxonomy.selection_label(self.evaluation.categories, everything="recorded incidents")
        if e is None:
            return (f"Against {self.control_text()}, the effect could not be estimated (a window is "
                    "not covered or has no incidents).")
        lo, hi = e.ci95
        sig = ("statistically significant at the 5% level" if not (lo <= 1 <= hi)
               else "not statistically significant at the 5% level (the 95% interval includes no change)")
        text = (f"Against {self.control_text()}, the change in {what} was {100 * (e.rate_ratio - 1):+.0f}% "
                f"(rate ratio {e.rate_ratio:.2f}, 95% CI {lo:.2f}–{hi:.2f}, p = {e.p_value:.3g}): {sig}.")
        p = self.placebo
        if p is not None and p.p_value is not None:
            text += (f" Placebo test: {p.rank} of {p.n + 1} places, p = {p.p_value:.2f} (the target's "
                     f"effect ranked among {p.n} places like it treated as if they had been the target).")
        return text

    def sentences(self) -> list[str]:
        """The sentences every face prints: the headline, the effect with its significance and
        the placebo test, the robustness sentence."""
        return [self.evaluation.headline(), self.effect_sentence(), self.matched.robustness_text]

    def robustness_table(self) -> pd.DataFrame:
        """One row per control: Control, Made of, Rate ratio, 95% CI, p value, Conclusion (text,
        as every face shows it)."""
        words = {"fall": "significant fall", "rise": "significant rise", "no clear change": "no clear change"}
        rows = []
        for r in self.robustness:
            e = r.effect
            rows.append({"Control": r.control + (" (used)" if r.control == self.control else ""),
                         "Made of": r.description,
                         "Rate ratio": "n/a" if e is None else f"{e.rate_ratio:.2f}",
                         "95% CI": "n/a" if e is None else f"{e.ci95[0]:.2f}–{e.ci95[1]:.2f}",
                         "p value": "n/a" if e is None else f"{e.p_value:.3g}",
                         "Conclusion": "n/a" if e is None else words[core.did.conclusion(e)]})
        return pd.DataFrame(rows, columns=["Control", "Made of", "Rate ratio", "95% CI", "p value", "Conclusion"])

    def placebo_effects(self) -> pd.DataFrame:
        """The placebo pseudo-targets' rate ratios (candidate_id, name, rate_ratio, z) for the
        histogram; empty without a placebo test."""
        p = self.placebo
        return p.effects.copy() if p is not None else pd.DataFrame(columns=["candidate_id", "name", "rate_ratio", "z"])

    # ---- the JSON of docs/design.md §5c
    def to_dict(self) -> dict:
        doc = self.evaluation.to_dict()
        control = dict(doc["control"] or {})
        control.update({"method": self.method, "areas": list(self.control_areas),
                        "pre_fit": self.pre_fit.to_dict() if self.pre_fit is not None else None})
        doc["control"] = control
        p = self.placebo
        doc["placebo"] = ({"n": p.n, "p_value": None if p.p_value is None else round(p.p_value, 4)}
                          if p is not None else {"n": 0, "p_value": None})
        doc["robustness"] = [r.to_dict() for r in self.robustness]
        doc["sentences"] = self.sentences()
        doc["warnings"] = list(self.warnings)
        details = doc.setdefault("details", {})
        details.update({"control_method": self.method, "control_row": self.control,
                        "pool": self.matched.pool, "candidates": int(len(self.matched.candidates)),
                        "placebo_rank": p.rank if p is not None else None,
                        "robustness_text": self.matched.robustness_text,
                        "effect_model": self.effect.model if self.effect is not None else None,
                        "pair_map_cell_m": self.cell_m})
        if self.patrol is not None:
            doc["patrol"] = self.patrol
        return doc


# --------------------------------------------------------------------------- the policy
@dataclass
class _Target:
    geometry: BaseGeometry
    name: str
    layer: str | None            # for the sentences ("the X micro hotspot")
    layer_areas: gpd.GeoDataFrame | None   # the "layer" control (and pool when from_layer)
    from_layer: bool
    exclude: BaseGeometry | None
    warnings: list[str] = field(default_factory=list)


def _patrol_sized(areas: gpd.GeoDataFrame) -> bool:
    return len(areas) > 0 and bool((areas.geometry.area <= settings.WALKABLE_MAX_M2).all())


def _same_layer(areas: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "layer" not in areas.columns:
        return areas
    layer = str(rows["layer"].iloc[0])
    return areas[areas["layer"].astype(str) == layer]


def _text_layer(layer: str | None, layer_areas: gpd.GeoDataFrame | None) -> str | None:
    known = ("ward", "town_centre", "micro_hotspot", "patrol")
    if layer in known:
        return layer
    if layer_areas is not None and _patrol_sized(layer_areas):
        return "micro_hotspot"
    return None


def _containing(areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if areas is None or len(areas) == 0:
        return None
    if "layer" in areas.columns and areas["layer"].astype(str).eq("ward").any():
        return areas[areas["layer"].astype(str) == "ward"]
    return areas


def _union(frame) -> BaseGeometry | None:
    if frame is None or len(frame) == 0:
        return None
    return shapely.union_all(np.asarray(frame.geometry.values))


def _target(area, areas: gpd.GeoDataFrame | None, interventions: pd.DataFrame | None,
            name: str | None, buffer_m: float) -> _Target:
    """The target, its layer and the other treated places (module docstring)."""
    if areas is not None and len(areas) and areas.crs is not None and not areas.crs.equals(settings.CRS):
        areas = areas.to_crs(settings.CRS)
    if isinstance(area, (Mapping, pd.Series)) and not isinstance(area, gpd.GeoDataFrame):
        area_id = area.get("area_id")
        if areas is not None and area_id is not None and not pd.isna(area_id) and \
                (areas["area_id"].astype(str) == str(area_id)).any():
            shown, _ = core.intervention_place(area, areas)
            return _target(str(area_id), areas, None, name or shown, buffer_m)
        geom = core.intervention_area(area, areas)
        shown, layer = core.intervention_place(area, areas)
        rest = []
        if interventions is not None:
            ident = str(area.get("intervention_id"))
            rest = [core.intervention_area(r, areas) for _, r in interventions.iterrows()
                    if str(r["intervention_id"]) != ident]
        return _Target(geom, name or shown, layer, _containing(areas), False,
                       shapely.union_all(rest) if rest else None)
    if isinstance(area, str):
        if areas is None:
            raise InputError(f"'{area}' is not a boundary file; give --areas FILE to pick an area by "
                             "name", parameter="area")
        rows = core_areas.find_area(areas, area)
        same = _same_layer(areas, rows)
        others = same[~same.index.isin(rows.index)]
        layer = str(rows["layer"].iloc[0]) if "layer" in rows.columns else None
        if len(others) == 0 and len(same) < len(areas):
            # a lone place in its layer (a micro-hotspot drawn and saved on the Data page): like a
            # drawn polygon, it is compared within the wards (else the other layers' areas)
            outer = _containing(areas[~areas.index.isin(same.index)])
            return _Target(_union(rows), name or core_areas.display_name(rows), _text_layer(layer, same),
                           outer, False, None)
        exclude = None
        if _patrol_sized(same) and len(others):
            # enough of them clear of the target: they are the comparison pool (the places not
            # funded); too few: hexagons stand in and these places are kept out as treated
            zone = comparison.exclusion_zone(_union(rows), buffer_m)
            clear = ~shapely.intersects(zone, np.asarray(others.geometry.values))
            if int(clear.sum()) < comparison.MIN_CANDIDATES:
                n_clear = int(clear.sum())
                note = (f"Only {n_clear} other {'area' if n_clear == 1 else 'areas'} of the target's layer "
                        f"{'lies' if n_clear == 1 else 'lie'} clear of it (at least "
                        f"{comparison.MIN_CANDIDATES} are needed for matching and a placebo test), so "
                        "equal-size hexagon cells of the target's area are the candidate comparison "
                        f"areas; the layer's other {len(others)} "
                        f"{'area is' if len(others) == 1 else 'areas are'} kept out of every "
                        f"comparison as {'a place' if len(others) == 1 else 'places'} treated like the target.")
                return _Target(_union(rows), name or core_areas.display_name(rows), _text_layer(layer, same),
                               same, False, _union(others), [note])
        return _Target(_union(rows), name or core_areas.display_name(rows), _text_layer(layer, same),
                       same, True, exclude)
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if len(area) == 0:
            raise InputError("the area has no polygons", parameter="area")
        frame = area.to_crs(settings.CRS) if area.crs is not None and not area.crs.equals(settings.CRS) else area
        shown = (core_areas.display_name(frame) if isinstance(frame, gpd.GeoDataFrame) else "the area")
        return _Target(_union(frame), name or shown, None, _containing(areas), False, None)
    if isinstance(area, BaseGeometry):
        return _Target(area, name or "drawn area", None, _containing(areas), False, None)
    raise InputError("the area must be a name, a boundary file's polygons, a drawn polygon or a "
                     "stored intervention", parameter="area")


def _named_control(control, areas: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, str] | None:
    if control is None or (isinstance(control, str) and control.lower() in CONTROLS):
        return None
    if isinstance(control, str):
        if areas is None:
            raise InputError(f"'{control}' is not matched, layer, rest or a boundary file; give "
                             "--areas FILE to pick a control area by name", parameter="control")
        try:
            rows = core_areas.find_area(areas, control)
        except InputError as exc:
            raise InputError(exc.message, parameter="control") from None
        return rows, core_areas.display_name(rows, fallback="the control area")
    if isinstance(control, gpd.GeoDataFrame):
        if len(control) == 0:
            raise InputError("the control has no polygons", parameter="control")
        frame = control.to_crs(settings.CRS) if control.crs is not None and not control.crs.equals(settings.CRS) else control
        return frame, core_areas.display_name(frame, fallback="the control area")
    raise InputError("the control must be matched, layer, rest, an area name or polygons",
                     parameter="control")


def check_arguments(area: Any, areas: gpd.GeoDataFrame | None = None, control=None,
                    buffer_m: float = settings.BUFFER_M) -> None:
    """Raise the `InputError` `evaluate` would raise for the target and the control, before any
    incident is loaded (a face checks its arguments first)."""
    _target(area, areas, None, None, float(buffer_m))
    _named_control(control, areas)


def default_baseline(after: str | Sequence[str], months: Sequence[str]) -> list[str] | None:
    """The baseline offered first: the same months as the after window in the latest earlier
    year (two or more years back) the data cover (`core.evaluation.default_baseline`)."""
    return core.default_baseline(after, months)


def pair_cell_m(incidents: gpd.GeoDataFrame, *, months: Sequence[str], category=None,
                minimum: float = PAIR_CELL_M) -> float:
    """The before/after pair map's cell size: `minimum` (50 m), or coarser when the selected
    incidents' locations are spaced further apart (`hotspots.fitting_cell_m`), so that a cell is
    not just one snap point."""
    sel = selection.select(incidents, category, list(months))
    uxy = locations.distinct(selection.coordinates(sel)).xy
    return hotspots.fitting_cell_m(hotspots.location_spacing(uxy), minimum)


def _control_polygons(names: Sequence[str], units: Sequence[BaseGeometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": list(names)}, geometry=list(units), crs=settings.CRS)


def evaluate(
    incidents: gpd.GeoDataFrame,
    area: Any,
    *,
    after: str | Sequence[str],
    areas: gpd.GeoDataFrame | None = None,
    before: str | Sequence[str] | None = None,
    baseline: str | Sequence[str] | None = None,
    category: str | Sequence[str] | None = None,
    buffer_m: float = settings.BUFFER_M,
    control: str | gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    interventions: pd.DataFrame | None = None,
    name: str | None = None,
    cell_m: float | None = None,
    placebo: bool = True,
    patrol_log: Any = None,
) -> Answer:
    """Did it work? (module docstring for every decision).

    incidents : canonical incidents (EPSG:27700).
    area : a name or area_id in `areas`, a boundary file's polygons (GeoDataFrame), a drawn
        polygon, or a stored intervention row.
    after, before, baseline : windows 'FROM..TO' or lists of months; before defaults to the same
        months a year earlier; no baseline unless given.
    control : None or "matched" (default), "layer", "rest", an area name in `areas`, or polygons.
    candidates : the pool for matching (a file's areas).
    interventions : the stored interventions (for a stored intervention's other places).
    cell_m : the pair map's cell size (default `pair_cell_m`).
    placebo : run the placebo-in-space test.
    patrol_log : a patrol log (CSV path or DataFrame): delivered dosage, patrol days against
        comparison days and, with dated incidents, the crossover model.
    """
    if buffer_m is None or not math.isfinite(float(buffer_m)) or buffer_m < 0:
        raise InputError("buffer_m must be a distance in metres >= 0", parameter="buffer_m")
    buffer_m = float(buffer_m)
    if incidents.crs is not None and not incidents.crs.equals(settings.CRS):
        raise InputError(f"incidents must be in {settings.CRS}", parameter="incidents")
    after_w = core.window_months(after, "after")
    before_w = core.window_months(before, "before") or core.same_months_before(after_w)
    base_w = core.window_months(baseline, "baseline")
    if set(before_w) & set(after_w) or before_w[-1] >= after_w[0]:
        raise InputError(f"the before window ({before_w[0]}..{before_w[-1]}) must end before the after "
                         f"window ({after_w[0]}..{after_w[-1]}) starts", parameter="before")
    wanted = control.lower() if isinstance(control, str) and control.lower() in CONTROLS else None
    tgt = _target(area, areas, interventions, name, buffer_m)
    if tgt.geometry is None or tgt.geometry.is_empty or tgt.geometry.area <= 0:
        raise InputError("the target area is empty (no polygon area)", parameter="area")
    named = _named_control(control, areas)
    if wanted == "layer" and tgt.layer_areas is None:
        raise InputError("--control layer needs --areas: the layer the target is compared within",
                         parameter="control")
    sel = taxonomy.select(incidents, category)
    chosen = incidents[sel.to_numpy()]
    if len(chosen) == 0:
        raise InputError("no incidents of the chosen categories are loaded", parameter="category")
    study = hotspots.study_area(chosen)

    m = core.evaluate_matched(
        incidents, tgt.geometry, before=(before_w[0], before_w[-1]), after=(after_w[0], after_w[-1]),
        category=category,
        areas=tgt.layer_areas, candidates=candidates, study_area=study,
        control_area=named[0] if named else None, control_name=named[1] if named else None,
        exclude=tgt.exclude, name=tgt.name, buffer_m=buffer_m, run_placebo=placebo,
        pool_from_areas=tgt.from_layer)
    rows = {r.control: r for r in m.robustness}
    warnings: list[str] = list(tgt.warnings)
    if named:
        label, method = named[1], "area"
    elif wanted in ("layer", "rest"):
        label = method = wanted
    elif m.method == "matched":
        label = method = "matched"
    else:  # no candidates: the matched evaluation fell back (and says so)
        label = method = m.method
    if rows and label not in rows:
        raise InputError(f"the {label} control cannot be formed here (no areas of the target's layer "
                         "lie outside its ring); use --control matched or rest", parameter="control")
    row = rows.get(label)

    ev_control = None
    units = False
    control_name = None
    exclude = None
    if row is not None and method in ("matched", "layer"):
        ev_control = _control_polygons(row.names, row.units)
        units, control_name = True, row.description
    elif named:
        ev_control, control_name = named
    else:  # rest: everything outside the target, its ring and other treated places
        exclude = tgt.exclude
    effects = (row.effect, row.ring_effect) if row is not None else (None, None)
    ev = core.evaluate(incidents, tgt.geometry, after=after_w, before=before_w, baseline=base_w,
                       category=category, buffer_m=buffer_m, control=ev_control, exclude=exclude,
                       name=tgt.name, layer=tgt.layer, control_name=control_name,
                       control_units=units, effects=effects)
    warnings += ev.warnings
    own = set(ev.warnings)
    for w in m.warnings:  # the coverage of the windows is said once, by the counts
        if w in own or (w.startswith(("The before window ", "The after window "))
                        and "no data loaded" in w):
            continue
        warnings.append(w)

    if method == "matched" and row is not None:
        polygons = _control_polygons(row.names, row.units)
    elif row is not None and row.units:
        polygons = _control_polygons(row.names, row.units)
    else:
        polygons = _control_polygons([], [])
    control_areas = list(row.names) if row is not None else []
    if cell_m is None:
        cell_m = pair_cell_m(incidents, months=[*before_w, *after_w], category=category)

    patrol_doc = None
    if patrol_log is not None:
        patrol_doc = _patrol(patrol_log, incidents, tgt, category)
        warnings += [w for w in patrol_doc["warnings"] if w not in warnings]
    return Answer(evaluation=ev, method=method, control=label, control_areas=control_areas,
                  control_polygons=polygons, matched=m, target=tgt.geometry,
                  ring=core.buffer_ring(tgt.geometry, buffer_m), cell_m=float(cell_m),
                  warnings=list(dict.fromkeys(warnings)), patrol=patrol_doc)


def _patrol(log_source, incidents, tgt: _Target, category) -> dict:
    """What a patrol log adds: the log report (`patrol.log_report`: delivered dosage, incidents
    on patrol days against comparison days) and the crossover model of the planned days
    (`crossover.crossover`: a rate ratio with its interval, next-day carry-over, dose-response;
    with month-only incidents, the reason it cannot be estimated)."""
    from hotspot_app.core import patrol

    log = patrol.read_patrol_log(log_source)
    doc = patrol.log_report(log, incidents, tgt.geometry, name=tgt.name,
                            category=list(taxonomy.category_list(category)) if category else None)
    key = " ".join(tgt.name.strip().lower().split())
    if log.plan is not None:
        mine = log.plan[log.plan["area"].map(lambda a: " ".join(str(a).strip().lower().split())) == key]
        days = (mine if len(mine) else log.plan)[["date", "day_type"]].drop_duplicates("date")
    else:
        v = log.visits
        span = pd.date_range(v["date"].min(), v["date"].max(), freq="D")
        visited = set(v.loc[v["visits"].fillna(0) > 0, "date"])
        days = pd.DataFrame({"date": span, "day_type": ["patrol" if d in visited else "comparison"
                                                         for d in span]})
    schedule = days.assign(area=tgt.name)
    visits = log.visits
    named = visits["area"].map(lambda a: " ".join(str(a).strip().lower().split())) == key
    visits = (visits[named] if named.any() else visits).assign(area=tgt.name)
    own_log = patrol.PatrolLog(visits=visits, plan=None, file=log.file)
    result = crossover.crossover(incidents, tgt.geometry, schedule, category=category, log=own_log)
    doc["crossover"] = result.to_dict()
    doc["warnings"] = list(dict.fromkeys(list(doc["warnings"]) + list(result.warnings)
                                         + ([result.reason] if result.reason else [])))
    return doc


# --------------------------------------------------------------------------- power
@dataclass
class PowerAnswer:
    """Power before launch for the chosen areas: the `power.Power` answer, the months of history
    it rests on, and the comparison assumed."""

    power: power.Power
    months: list[str]
    areas: list[str]
    warnings: list[str]

    def to_dict(self) -> dict:
        return {**self.power.to_dict(), "history": [self.months[0], self.months[-1]] if self.months else None,
                "areas": list(self.areas), "warnings": list(self.warnings)}

    def sentence(self) -> str:
        return self.power.sentence()


def plan_power(incidents: gpd.GeoDataFrame, chosen: gpd.GeoDataFrame | BaseGeometry, *,
               weeks: float | None = None, effect: float | None = None, category=None,
               history: Sequence[str] | None = None, n_months: int = 12) -> PowerAnswer:
    """Can a planned trial in the chosen areas answer "did it work"? The smallest fall detected
    with 80% power in `weeks` weeks, and the weeks a target `effect` (a rate ratio, e.g. 0.8)
    needs (`core.evaluation.power`).

    The history is `history` (months) or the `n_months` covered months up to the last one
    loaded. The evaluation compares the areas with `comparison.N_MATCHES` matched comparison
    areas; the power assumes them as busy as the chosen areas together and as variable, and says
    so."""
    sel = taxonomy.select(incidents, category)
    chosen_inc = incidents[sel.to_numpy()]
    cov = comparison.coverage_of(incidents, sel)
    months = list(history) if history else sorted(cov.months)[-n_months:]
    if not months:
        raise InputError("no months of the chosen categories are loaded", parameter="history")
    missing = cov.missing(months)
    warnings = []
    if missing:
        warnings.append(periods.coverage_warning(missing, f"history {months[0]}..{months[-1]}"))
        months = [m for m in months if m not in missing]
    if isinstance(chosen, BaseGeometry):
        polys, names = [chosen], ["the chosen area"]
    else:
        frame = chosen.to_crs(settings.CRS) if chosen.crs is not None and not chosen.crs.equals(settings.CRS) else chosen
        polys = list(frame.geometry.values)
        names = [str(n) for n in frame["name"]] if "name" in frame.columns else [f"area {i + 1}" for i in range(len(frame))]
    counts = comparison.monthly_matrix(chosen_inc, polys, months).sum(axis=0)
    series = pd.Series(counts, index=months, dtype=float)
    answer = power.plan_power(series, weeks=weeks, effect=effect, period="month",
                              control_counts=series * comparison.N_MATCHES)
    answer.assumptions.append(f"The comparison is {comparison.N_MATCHES} matched areas together "
                              f"{comparison.N_MATCHES} times as busy as the chosen areas and as "
                              "variable (the evaluation's default matched comparison).")
    return PowerAnswer(answer, months, names, warnings + list(answer.warnings))


#: The target effect the patrol plan's power is stated for: a 20% fall.
PLAN_TARGET_EFFECT: float = 0.8


def plan_power_for(incidents: gpd.GeoDataFrame, plan, *, category=None, period=None,
                   effect: float = PLAN_TARGET_EFFECT) -> PowerAnswer:
    """`plan_power` for a patrol plan (`patrol.PatrolPlan`): its areas, its length in weeks, the
    months its areas were found on (`period`, default the last 12 loaded) and a 20% fall as the
    target effect, for `hotspot patrol-plan` and the Patrol plan page."""
    history = periods.month_range(period[0], period[-1]) if period else None
    return plan_power(incidents, plan.areas, weeks=plan.days / 7.0, effect=effect, category=category,
                      history=history)
