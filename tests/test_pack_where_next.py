"""The report pack's where-next sections (render/pack/where_next_section.py) and the where-next
question's own defaults (questions/where_next.py): each section is the CLI's answer for the same
keys (its document), laid out as sentences, tables (XLSX sheets) and the emerging map; refusals
name the spec key."""

from __future__ import annotations

import io

import openpyxl
import pytest

from hotspot_app.core import schema
from hotspot_app.core.errors import InputError
from hotspot_app.questions import where_next
from hotspot_app.render import pack as report_pack


def stored(incidents, path):
    from hotspot_app.io import workspace

    workspace.GeopackageWorkspace(path).write_incidents(incidents)
    return path


def build(spec: dict, base):
    return report_pack.build(report_pack.parse_spec(spec, base=base, source="spec.yaml"))


def test_scoring_window_defaults_to_the_last_12_months_loaded():
    from test_backtest import stable_hot_cells

    inc = stable_hot_cells()
    assert where_next.scoring_window(inc) == ("2024-01", "2024-12")
    assert where_next.scoring_window(inc, (None, "2024-06")) == ("2023-07", "2024-06")
    assert where_next.scoring_window(inc, "2024-03..2024-05") == ("2024-03", "2024-05")
    with pytest.raises(InputError) as exc:
        where_next.scoring_window(inc, ("2024-05", "2024-03"))
    assert "2024-05" in str(exc.value)


def test_next_months_map_needs_its_history():
    from test_backtest import stable_hot_cells

    inc = stable_hot_cells()
    cells = where_next.predict(inc, "last-month", cell_m=100, to="2023-01")
    assert cells.attrs["parameters"]["for"] == "2023-02"
    with pytest.raises(InputError) as exc:
        where_next.predict(inc, "last-12-months", cell_m=100, to="2023-06")
    assert exc.value.parameter == "to" and "12 months" in str(exc.value)
    with pytest.raises(InputError) as exc:
        where_next.predict(inc, "tea-leaves")
    assert exc.value.parameter == "method"


def test_emerging_and_backtest_sections_are_the_cli_answers(tmp_path):
    from test_emerging import planted

    inc = schema.make_incidents(planted())
    stored(inc, tmp_path / "ws.gpkg")
    built = build({"title": "Where next", "data": "ws.gpkg",
                   "sections": [{"emerging": {}},
                                {"backtest": {"cell_m": 250, "from": "2023-12", "to": "2023-12",
                                              "methods": "last-month,last-3-months"}}]}, tmp_path)
    em, bt = built.sections
    assert em.kind == "emerging" and em.document["classes"] == {"new": 9, "intensifying": 9, "persistent": 9,
                                                                "not significant": 373}
    assert em.blocks[0].startswith("Emerging hot spots, 2023-01 to 2023-12 (250 m cells")
    assert [type(b).__name__ for b in em.blocks] == ["str", "Image", "Table"]
    assert bt.kind == "backtest" and [m["method"] for m in bt.document["methods"]] == ["last-month",
                                                                                       "last-3-months"]
    assert bt.document["sentences"] == [bt.blocks[0]]
    wb = openpyxl.load_workbook(io.BytesIO(report_pack.render_xlsx(built)))
    assert {"Emerging", "Backtest"} <= set(wb.sheetnames)


def test_near_repeat_section_and_its_needs_dates_refusal(tmp_path):
    from test_near_repeat import make, planted

    stored(planted(), tmp_path / "dated.gpkg")
    built = build({"title": "Near repeat", "data": "dated.gpkg",
                   "sections": [{"near_repeat": {"category": ["burglary"], "permutations": 199, "seed": 1}}]},
                  tmp_path)
    sec = built.sections[0]
    assert sec.blocks[0].startswith("Within 0-100 m and 0-7 days")
    assert sec.document["parameters"]["permutations"] == 199
    stored(make([0, 10, 20], [0, 10, 20], [0, 3, 40], month_only=True), tmp_path / "monthly.gpkg")
    with pytest.raises(InputError) as exc:
        build({"title": "Near repeat", "data": "monthly.gpkg", "sections": [{"near_repeat": {}}]}, tmp_path)
    assert "needs dates" in str(exc.value) and exc.value.parameter == "sections[0].near_repeat"


def test_hot_streets_and_stability_sections(tmp_path):
    from test_streets import incidents, network

    stored(incidents(), tmp_path / "inc.gpkg")
    network().to_file(tmp_path / "roads.gpkg", layer="road_link", driver="GPKG")
    built = build({"title": "Streets", "data": "inc.gpkg",
                   "sections": [{"hot_streets": {"streets": "roads.gpkg", "top": 2}},
                                {"stability": {"top": 1, "draws": 3, "eps_m": 50, "min_samples": 3}}]},
                  tmp_path)
    streets, stab = built.sections
    assert [s["segment_id"] for s in streets.document["segments"]] == ["hs", "u"]
    assert streets.blocks[0].startswith("15 of 16 incidents snapped to a street segment within 50 m")
    assert stab.document["parameters"]["draws"] == 3 and len(stab.document["patrol"]) == 1


def test_unknown_keys_are_refused_by_name(tmp_path):
    with pytest.raises(InputError) as exc:
        report_pack.parse_spec({"title": "x", "data": "x.gpkg", "sections": [{"backtest": {"share": 0.1}}]},
                               base=tmp_path, source="spec.yaml")
    assert exc.value.parameter == "sections[0].backtest.share"


def test_rate_maps_smooth_as_rank_does(demo):
    """A rate map with smooth: eb shows the rank's rate_eb for each area (one function)."""
    from hotspot_app.questions import rank

    wards = demo.wards
    _, doc = rank.rank(demo.incidents, wards, category="asb", smooth="eb")
    values, _ = rank.area_values(demo.incidents, wards, category="asb", metric="rate", smooth="eb")
    expected = {a["area_id"]: a["rate_eb"] for a in doc["areas"] if a["area_id"] != "outside"}
    assert {k: round(float(v), 2) for k, v in values.items()} == expected
    with pytest.raises(InputError) as exc:
        rank.area_values(demo.incidents, wards, category="asb", metric="count", smooth="eb")
    assert exc.value.parameter == "smooth"
    built = build({"title": "Rates", "data": str(demo.dir / "workspace.gpkg"),
                   "areas": {"wards": str(demo.dir / "wards.geojson")},
                   "sections": [{"map": {"category": ["asb"], "metric": "rate", "smooth": "eb"}}]}, demo.dir)
    assert built.sections[0].blocks[0].caption.startswith("Rate per 1,000 (Empirical Bayes) per area")
