"""The fire officer's seasonal comparison (issue 21 item 5): the bonfire period (or any months)
against the rest of the year, per month, per ward and overall, with the rate ratio and its 95%
interval -- the same figures from the question, `hotspot seasonal`, the report pack and the Fires
page; and fire clusters named by ward and grid reference when the records carry no street."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotspot_app.cli import app as cli_app
from hotspot_app.core import fire_summary
from hotspot_app.core.errors import InputError
from hotspot_app.questions import fires

runner = CliRunner()
MONTHS = [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)]


def table(counts: dict[str, list[int]]) -> pd.DataFrame:
    rows = [{"ward": w, **dict(zip(MONTHS, c))} for w, c in counts.items()]
    total = {"ward": "Total", **{m: sum(c[i] for c in counts.values()) for i, m in enumerate(MONTHS)}}
    return pd.DataFrame(rows + [total])


def test_worked_example_rate_ratio_and_interval():
    # Ward A: 30 a month in October and November, 10 otherwise, exactly: no extra variation
    a = [30 if int(m[5:]) in (10, 11) else 10 for m in MONTHS]
    b = [0] * 24
    b[9] = 2  # Ward B: 2 fires in October 2022, none otherwise
    answer = fire_summary.seasonal_comparison(table({"A": a, "B": b}))
    o = answer.overall
    assert (o["season_months"], o["other_months"], o["season_count"], o["other_count"]) == (4, 20, 122, 200)
    assert (o["season_per_month"], o["other_per_month"]) == (30.5, 10.0)
    # RR = 30.5 / 10; Pearson X2 below its df, so the dispersion is 1 (Poisson); t on 22 df
    se = math.sqrt(1 / 122 + 1 / 200)
    from scipy import stats
    q = stats.t.ppf(0.975, 22)
    assert o["rate_ratio"] == 3.05 and o["dispersion"] == 1.0
    assert o["ci_low"] == round(3.05 * math.exp(-q * se), 3) and o["ci_high"] == round(3.05 * math.exp(q * se), 3)
    assert o["pct_change"] == 205.0
    wards = answer.by_ward.set_index("ward")
    assert wards.loc["A", "rate_ratio"] == 3.0
    assert wards.loc["B", "rate_ratio"] is None or pd.isna(wards.loc["B", "rate_ratio"])  # no fire otherwise: n/a, not 0
    assert answer.label == "October–November"
    assert answer.by_month["season"].sum() == 4 and answer.by_month["count"].iloc[9] == 32
    assert answer.sentence("deliberate fires") == (
        "In October–November, deliberate fires averaged 30.5 a month (122 in 4 months) against 10.0 a "
        "month in the rest of the year (200 in 20 months): 205% more a month in October–November (rate "
        f"ratio 3.05, 95% CI {o['ci_low']:.2f} to {o['ci_high']:.2f}; statistically significant at the "
        "5% level).")


def test_overdispersed_months_agree_with_statsmodels_quasi_poisson():
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    a = [int(rng.negative_binomial(3, 3 / (3 + (40 if int(m[5:]) in (10, 11) else 20)))) for m in MONTHS]
    answer = fire_summary.seasonal_comparison(table({"A": a}))
    x = sm.add_constant(np.array([1.0 if int(m[5:]) in (10, 11) else 0.0 for m in MONTHS]))
    fit = sm.GLM(np.array(a, float), x, family=sm.families.Poisson()).fit(scale="X2")
    assert fit.scale > 1  # overdispersed: the interval widens
    o = answer.overall
    assert o["rate_ratio"] == round(float(np.exp(fit.params[1])), 3)
    assert o["dispersion"] == round(float(fit.scale), 3)
    from scipy import stats
    q = stats.t.ppf(0.975, 22)
    assert o["ci_low"] == round(float(np.exp(fit.params[1] - q * fit.bse[1])), 3)


def test_uncovered_months_are_left_out_and_bad_seasons_name_the_parameter():
    a = [5] * 24
    t = table({"A": a})
    t["2022-10"] = pd.array([pd.NA] * len(t), dtype="Int64")
    answer = fire_summary.seasonal_comparison(t, season=(10,))
    assert answer.overall["season_months"] == 1 and answer.label == "October"
    assert pd.isna(answer.by_month.set_index("month").loc["2022-10", "count"])
    assert answer.to_dict()["by_month"][9]["count"] is None  # null in JSON, never 0
    assert any("only 1 month" in w for w in answer.warnings)
    assert fire_summary.season_label((6, 8)) == "June, August"
    for bad in ((13,), tuple(range(1, 13)), ()):
        with pytest.raises(InputError) as e:
            fire_summary.seasonal_comparison(t, season=bad)
        assert e.value.parameter == "season"


def test_cli_pack_and_question_agree_on_the_demo(demo):
    from hotspot_app.io import workspace
    from hotspot_app.render import pack as report_pack

    d = demo.dir
    inc = workspace.open_workspace(d / "workspace.gpkg").incidents()
    from hotspot_app.questions import boundaries
    wards, _ = boundaries.read_areas(d / "wards.geojson")
    months = sorted(inc.loc[inc["kind"] == "fire", "month"].astype(str).unique())
    q = fires.seasonal(inc, wards, months=months)
    r = runner.invoke(cli_app, ["seasonal", str(d / "workspace.gpkg"), "--areas", str(d / "wards.geojson"),
                                "--from", months[0], "--to", months[-1], "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["overall"] == json.loads(json.dumps(q.overall))
    assert doc["overall"]["rate_ratio"] > 1 and doc["overall"]["ci_low"] > 1  # the demo plants a bonfire peak
    assert doc["season"] == [10, 11] and len(doc["by_ward"]) == len(q.by_ward)
    spec = {"title": "Fires", "data": "workspace.gpkg", "areas": {"wards": "wards.geojson"},
            "sections": [{"seasonal": {"areas": "wards", "from": months[0], "to": months[-1]}}]}
    built = report_pack.build(report_pack.parse_spec(spec, base=d, source="test"))
    section = next(s for s in built.sections if s.kind == "seasonal")
    assert section.document["overall"] == doc["overall"]
    assert section.blocks[0] == doc["text"]
    html = report_pack.render_html(built)
    assert "Bonfire" not in section.title and "October–November against the rest of the year" in section.title
    assert doc["text"].split(":")[0] in html.replace("&#x27;", "'")
    bad = {**spec, "sections": [{"seasonal": {"season": "13"}}]}
    with pytest.raises(InputError) as e:
        report_pack.build(report_pack.parse_spec(bad, base=d, source="test"))
    assert "season" in str(e.value.parameter)


def test_clusters_without_street_are_named_by_the_files_ward_and_grid_ref():
    from hotspot_app.core import schema

    x0, y0 = 375_500.0, 165_500.0
    xy = np.array([(x0, y0)] * 8 + [(x0 + 3000, y0)] * 6)
    inc = schema.make_incidents(pd.DataFrame({
        "category": ["Deliberate secondary fire"] * 14, "month": ["2014-07"] * 14,
        "ward": ["ABBEY"] * 7 + ["KINGSMEAD"] + ["WIDCOMBE"] * 6}), x=xy[:, 0], y=xy[:, 1])
    inc["kind"] = "fire"
    found = fires.secondary_fire_clusters(inc, period=None, eps_m=150, min_samples=5)
    assert found.areas["name"].tolist() == ["Near ST 7550 6550 — Abbey ward", "Near ST 7850 6550 — Widcombe ward"]
    assert fires.per_ha_meaningful(None) and not fires.per_ha_meaningful(1000.0)


def test_fires_page_shows_the_same_comparison_and_takes_other_months():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "streamlit_app.py"), default_timeout=240)
    at.run()
    at.switch_page("hotspot_app/ui/pages/fires.py").run()
    assert not at.exception, at.exception
    said = [m.value for m in at.markdown if "October–November" in m.value and "rate ratio" in m.value]
    assert len(said) == 1 and "statistically significant" in said[0]
    at.multiselect(key="fi-season").set_value([6, 7, 8]).run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("**In June–August,") for m in at.markdown)
    assert at.query_params["fi-season"] == "6~7~8"
