"""The result of an evaluation (`Evaluation`): window counts, effects, displacement and their
sentences in the partnership's style; `to_dict` is the `hotspot evaluate` JSON of design §5."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hotspot_app.core import periods, settings, taxonomy
from hotspot_app.core.evaluation.effects import WDD, Effect, significance
from hotspot_app.core.measures import a_or_an, pct_change, round_half_up


def _fewer_more(value: float) -> str:
    """'67 fewer', '23 more', '0' (incidents against the control's trend)."""
    n = abs(round(value))
    if n == 0:
        return "0"
    return f"{n:,} {'fewer' if value < 0 else 'more'}"



def _against_trend(value: float) -> str:
    """'about 67 fewer incidents than the control's trend predicts' / 'as many incidents as ...'."""
    if abs(round(value)) == 0:
        return "as many incidents as the control's trend predicts"
    return f"about {_fewer_more(value)} incidents than the control's trend predicts"



# --------------------------------------------------------------------------- result
def _excess_dict(value) -> dict | None:
    if value is None:
        return None
    return {"count": round(value[0], 1), "ci95": [round(value[1][0], 1), round(value[1][1], 1)]}



@dataclass(frozen=True)
class WindowCount:
    """A window (inclusive months) and its count (None when a month is not covered)."""

    months: tuple[str, ...]
    count: int | None

    @property
    def start(self) -> str:
        return self.months[0]

    @property
    def end(self) -> str:
        return self.months[-1]

    def to_dict(self) -> dict:
        return {"from": self.start, "to": self.end, "count": self.count}



@dataclass
class Evaluation:
    """The result of `evaluate`. `to_dict()` is the ``hotspot evaluate`` JSON (design §5) plus
    one extra key ``details`` (WDD, TNE, model, interpretation texts, regions)."""

    area: str
    categories: list[str]
    after: WindowCount
    before: WindowCount
    baseline: WindowCount | None
    buffer: dict | None
    control: dict | None
    wdq: float | None
    effect: Effect | None
    warnings: list[str]
    layer: str | None = None
    buffer_m: float = settings.BUFFER_M
    control_description: str = ""
    wdq_text: str = ""
    tne: float | None = None
    tne_text: str = ""
    wdd: WDD | None = None
    wdd_note: str = ""
    buffer_effect: Effect | None = None
    buffer_excess: tuple[float, tuple[float, float]] | None = None
    target_excess: tuple[float, tuple[float, float]] | None = None
    series: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    intervention: tuple[str, str] | None = None

    # ---- figures
    @property
    def diff(self) -> int | None:
        if self.before.count is None or self.after.count is None:
            return None
        return int(self.after.count - self.before.count)

    @property
    def pct_change(self) -> float | None:
        return pct_change(self.after.count, self.before.count)

    @property
    def baseline_pct_change(self) -> float | None:
        """After vs baseline; per month when the windows differ in length."""
        if self.baseline is None or self.baseline.count is None or self.after.count is None:
            return None
        nb, na = len(self.baseline.months), len(self.after.months)
        return pct_change(self.after.count / na, self.baseline.count / nb)

    def to_dict(self) -> dict:
        """Exactly the ``hotspot evaluate`` JSON of design §5 (+ ``details``)."""
        baseline = None
        if self.baseline is not None:
            baseline = {**self.baseline.to_dict(), "pct_change": self.baseline_pct_change}
        details = {
            "buffer_m": self.buffer_m,
            "control_area": self.control_description,
            "effect_model": self.effect.model if self.effect else None,
            "effect_pct_change": round(self.effect.pct_change, 1) if self.effect else None,
            "buffer_effect": self.buffer_effect.to_dict() if self.buffer_effect else None,
            "target_excess": _excess_dict(self.target_excess),
            "buffer_excess": _excess_dict(self.buffer_excess),
            "wdq_interpretation": self.wdq_text,
            "tne": None if self.tne is None else round(self.tne, 2),
            "tne_interpretation": self.tne_text,
            "wdd": self.wdd.to_dict() if self.wdd else None,
            "wdd_note": self.wdd_note,
            "intervention": list(self.intervention) if self.intervention else None,
            "baseline_per_month": (self.baseline is not None
                                   and len(self.baseline.months) != len(self.after.months)),
        }
        return {
            "area": self.area,
            "categories": list(self.categories),
            "after": self.after.to_dict(),
            "before": self.before.to_dict(),
            "diff": self.diff,
            "pct_change": self.pct_change,
            "baseline": baseline,
            "buffer": self.buffer,
            "control": self.control,
            "wdq": None if self.wdq is None else round(self.wdq, 4),
            "effect": self.effect.to_dict() if self.effect else None,
            "warnings": list(self.warnings),
            "details": details,
        }

    # ---- text
    def _what(self) -> str:
        return taxonomy.selection_label(self.categories, everything="recorded incidents", capital=True)

    def _where(self) -> str:
        name = self.area
        low = name.lower()
        if self.layer == "micro_hotspot":
            return f"the {name} micro hotspot" if "hotspot" not in low else \
                (name if low.startswith("the ") else f"the {name}")
        if self.layer == "ward" and "ward" not in low:
            return f"the {name} ward"
        if self.layer == "town_centre" and "centre" not in low:
            return f"{name} town centre"
        return name if low.startswith("the ") else f"the {name} area"

    def headline(self) -> str:
        """One sentence in the partnership's style (seed 000)."""
        after, before = self.after, self.before
        when = periods.span_text(after.months)
        if list(before.months) == periods.shift(after.months, -12):
            if before.months[0][:4] == before.months[-1][:4]:
                against = f"the same months of {before.months[0][:4]}"
            else:
                against = f"the same months a year earlier ({periods.span_text(before.months)})"
        else:
            against = periods.span_text(before.months)
        head = f"{self._what()} in {self._where()}"
        pct = self.pct_change
        if after.count is None or before.count is None:
            text = (f"{head} in {when} could not be compared with {against}: "
                    "some months are not covered by the data")
        elif pct is None:
            text = f"{head} rose from 0 to {after.count:,} in {when} compared with {against}"
        elif round_half_up(pct) == 0:
            text = f"{head} did not change ({before.count:,} to {after.count:,}) in {when} compared with {against}"
        else:
            verb = "fell" if pct < 0 else "rose"
            text = f"{head} {verb} {round_half_up(abs(pct)):.0f}% in {when} compared with {against}"
        if self.baseline is not None and self.baseline_pct_change is not None:
            bp = self.baseline_pct_change
            word = "reduction" if bp < 0 else "increase"
            per = "" if len(self.baseline.months) == len(after.months) else " (per month)"
            if round_half_up(bp) == 0:
                text += f", no change on the {periods.span_text(self.baseline.months)} baseline{per}"
            else:
                shown = f"{round_half_up(abs(bp)):.0f}"
                text += (f", {a_or_an(shown)} {shown}% {word} on the {periods.span_text(self.baseline.months)} "
                         f"baseline{per}")
        return text + "."

    def effect_text(self) -> str:
        """The target's control-adjusted effect, with its one significance statement: the rate
        ratio and the incidents above/below the control's trend share one interval."""
        if self.effect is None or self.target_excess is None:
            return "**Target area, control-adjusted:** not available (a count is zero or missing)."
        e = self.effect
        v, (lo, hi) = self.target_excess
        shown = f"{round_half_up(abs(e.pct_change)):.0f}"
        change = (f"{a_or_an(shown)} {shown}% {'reduction' if e.rate_ratio < 1 else 'increase'}"
                  if round_half_up(e.pct_change) != 0 else "no change")
        return (f"**Target area, control-adjusted:** {_against_trend(v)} "
                f"(95% CI {_fewer_more(lo)} to {_fewer_more(hi)}); rate ratio "
                f"{e.rate_ratio:.2f} (95% CI {e.ci95[0]:.2f}–{e.ci95[1]:.2f}, p = {e.p_value:.3g}; "
                f"{e.model} model), {change} relative to the control; {significance(e)}.")

    def buffer_text(self) -> str:
        """The displacement ring: WDQ, and the ring's control-adjusted change with its one
        significance statement (displacement when significantly more, diffusion when fewer)."""
        lines = [f"**Displacement:** {self.wdq_text}"]
        if self.buffer_effect is not None and self.buffer_excess is not None:
            e = self.buffer_effect
            v, (lo, hi) = self.buffer_excess
            sig = significance(e)
            reading = ""
            if not (e.ci95[0] <= 1 <= e.ci95[1]):
                reading = (": incidents were displaced into the ring" if e.rate_ratio > 1
                           else ": the ring shared the benefit (diffusion of benefits)")
            lines.append(f"Buffer ring ({self.buffer_m:g} m), control-adjusted: {_against_trend(v)} "
                         f"(95% CI {_fewer_more(lo)} to {_fewer_more(hi)}); rate ratio {e.rate_ratio:.2f} (95% CI "
                         f"{e.ci95[0]:.2f}–{e.ci95[1]:.2f}); {sig}{reading}.")
        return "\n".join(lines)

    def net_text(self) -> str:
        """Target and ring together: the total net effect, tested by the WDD when there is a
        named control (one significance statement), said to be untested otherwise."""
        lines = [f"**Net effect, target and ring together:** {self.tne_text}"]
        if self.wdd is not None:
            w = self.wdd
            lines.append(f"WDD {w.wdd:+.0f} ({_fewer_more(w.wdd)} incidents against the control's "
                         f"change; SE {w.se:.1f}, Z {w.z:.2f}, p = {w.p_value:.3g}): "
                         f"{significance(w)}.")
        elif self.wdd_note:
            lines.append(self.wdd_note + " The net effect is not tested.")
        return "\n".join(lines)

    def region_counts(self) -> list[tuple[str, int | None, int | None]]:
        """(label, before, after) of the target, the buffer ring (when there is one) and the
        control: the rows every counts table shows."""
        regions = [("Target area", self.before.count, self.after.count)]
        if self.buffer is not None:
            regions.append((f"Buffer ring ({self.buffer_m:g} m)", self.buffer["before"], self.buffer["after"]))
        if self.control is not None:
            regions.append(("Control", self.control["before"], self.control["after"]))
        return regions

    def counts_table(self) -> pd.DataFrame:
        """Before, after, change and % change of target, ring and control, as display text."""
        b, a = self.before, self.after
        rows = []
        for label, vb, va in self.region_counts():
            p = pct_change(va, vb)
            rows.append({"": label, f"Before ({periods.span_text(b.months)})": vb, f"After ({periods.span_text(a.months)})": va,
                         "Change": None if vb is None or va is None else f"{va - vb:+,}",
                         "% change": None if p is None else f"{p:+.1f}%"})
        out = pd.DataFrame(rows)
        for col in out.columns[1:3]:
            out[col] = pd.array(out[col].tolist(), dtype="Int64")
        return out
