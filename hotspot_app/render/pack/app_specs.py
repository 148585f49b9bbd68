"""The pack the app's Reports page asks for, and the demo borough's paper."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from hotspot_app.core import periods, settings
from hotspot_app.render.pack.spec import DEMO_SPEC, Spec, parse_spec

#: Sections the app's Reports page offers, in the order they appear in the pack.
APP_SECTIONS = {"ward_map": "Ward map (rate per 1,000)", "table": "Area table (the town-centre layout)",
                "summary": "Area summary sentence", "concentration": "Where it concentrates (top 3 wards)",
                "patrol": "Patrol areas map", "evaluation": "Before/after evaluation"}



def app_spec(*, area_key: str, area: str, month: str, include: Sequence[str],
             category: Sequence[str] = ("asb",), evaluation: dict | None = None,
             wards_key: str = "wards", title: str = "", synthetic: bool = False) -> Spec:
    """The spec the Reports page builds from its choices: the `include`d `APP_SECTIONS` for one
    area (`area` in layer `area_key`) and the 12 months to `month`; `evaluation` is an
    evaluation section's options (see `intervention_evaluation`)."""
    frm = periods.add_months(month, -11)
    sections: list[dict] = []
    pick = list(category) or None
    if "ward_map" in include:
        sections.append({"map": {"type": "choropleth", "areas": wards_key, "category": ["crime"], "metric": "rate"}})
    if "summary" in include:
        sections.append({"summary": {"areas": area_key, "area": area, "to": month, "months": 12}})
    if "table" in include:
        sections.append({"table": {"areas": area_key, "area": area, "month": month}})
    if "concentration" in include:
        sections.append({"concentration": {"areas": wards_key, "category": pick, "top": 3}})
    if "patrol" in include:
        sections.append({"map": {"type": "patrol", "areas": wards_key, "category": pick}})
    if "evaluation" in include and evaluation:
        sections.append({"evaluation": dict(evaluation)})
    if not sections:
        sections.append({"text": "No sections chosen."})
    raw = {"title": title or f"{area}: community safety report to {periods.describe([month])}",
           "subtitle": f"The 12 months {periods.describe([frm, month])}", "synthetic": synthetic,
           "areas": {k: None for k in dict.fromkeys([wards_key, area_key] + ([evaluation["areas"]] if evaluation else []))},
           "period": {"from": frm, "to": month}, "sections": sections}
    return parse_spec(raw, source="Reports page", loaded=True)



def demo_spec(dir: str | Path | None = None) -> Spec:
    """The demo borough's paper (`report_demo.yaml`) over the demo folder (written when missing)."""
    import yaml

    from hotspot_app.io import demo

    folder = Path(dir) if dir is not None else settings.DEMO_DIR
    if not demo.is_complete(folder):
        demo.write(demo.generate(), folder)
    raw = yaml.safe_load(DEMO_SPEC.read_text(encoding="utf-8"))
    return parse_spec(raw, base=folder, source=str(DEMO_SPEC.name))
