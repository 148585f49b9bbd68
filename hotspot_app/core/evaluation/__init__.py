"""Did it work? Intervention evaluation: before/after counts, controls, effects, displacement,
comparison areas matched on the pre-period, the placebo test, the robustness table, patrol days
against comparison days, and power before launch (design §6; docs/design.md §5c for the JSON).

Modules (one concern each):

- `regions`: the target, its displacement ring and the control region of the default policy.
- `windows`: after/before/baseline months and their defaults.
- `effects`: the single-region rate ratio, WDQ, total net effect, excess counts, WDD.
- `result`: `Evaluation`, its sentences and the `hotspot evaluate` JSON of design §5.
- `before_after`: `evaluate` (one target against one control region, with every warning).
- `comparison`: candidate comparison areas (a file, the layer, equal-size hexagons), the match
  on pre-period level, trend and place, the pre-trend test.
- `panel`: the quasi-Poisson count model of a target and its comparison areas.
- `did`: difference-in-differences against comparison areas, the placebo-in-space test, the
  robustness sentence.
- `matched`: `evaluate_matched`, one target against every control that can be formed.
- `crossover`: patrol days against comparison days, next-day carry-over, dose-response.
- `power`: the smallest effect a planned trial detects, and the weeks a target effect needs.
- `dosage`: patrol hours against incidents (Spearman).

Which control an answer leads with, and every default, is decided once by the evaluation question
(`hotspot_app.questions.evaluation`), which the CLI, the app and the report pack call.
"""

from hotspot_app.core.evaluation import (  # noqa: F401 - submodules are part of the API
    comparison,
    crossover,
    did,
    matched,
    panel,
    power,
)
from hotspot_app.core.evaluation.before_after import (
    PEAK_FACTOR,
    SERIES,
    default_category,
    evaluate,
    evaluate_intervention,
    monthly_counts,
)
from hotspot_app.core.evaluation.dosage import Dosage, dosage, patrol_log
from hotspot_app.core.evaluation.effects import (
    WDD,
    Effect,
    excess_from_effect,
    rate_ratio,
    significance,
    tne,
    tne_interpretation,
    wdd,
    wdq,
    wdq_interpretation,
)
from hotspot_app.core.evaluation.matched import MatchedEvaluation, evaluate_matched
from hotspot_app.core.evaluation.regions import (
    buffer_ring,
    default_control,
    geometry_of,
    intervention_area,
    intervention_place,
    target_and_ring,
)
from hotspot_app.core.evaluation.result import Evaluation, WindowCount
from hotspot_app.core.evaluation.windows import (
    default_baseline,
    same_months_before,
    window_months,
    windows_around,
)

__all__ = [
    "Effect", "WDD", "WindowCount", "Evaluation", "Dosage", "MatchedEvaluation",
    "SERIES", "PEAK_FACTOR",
    "intervention_area", "intervention_place", "buffer_ring", "default_control", "geometry_of",
    "target_and_ring",
    "window_months", "windows_around", "same_months_before", "default_baseline",
    "rate_ratio", "excess_from_effect", "significance", "wdq", "wdq_interpretation", "tne",
    "tne_interpretation", "wdd",
    "evaluate", "evaluate_intervention", "monthly_counts", "default_category",
    "evaluate_matched", "patrol_log", "dosage",
    "comparison", "panel", "did", "matched", "crossover", "power",
]
