"""One % change rule everywhere (design §6): the table, summary and evaluation figures agree."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from hotspot_app.core import evaluation, measures
from hotspot_app.io.exports import csv_bytes, neutralise, neutralise_frame
from hotspot_app.core import summaries


@pytest.mark.parametrize("current,previous,expected", [
    (401, 400, 0.3),      # 0.25 rounds half away from zero (float round() gave 0.2)
    (399, 400, -0.3),
    (50, 100, -50.0),
    (1331, 1499, -11.2),  # the micro-hotspot paper: Hemlington, down 11.2%
    (5, 0, None),         # never Infinity
    (None, 3, None),
    (3, float("nan"), None),
])
def test_pct_change_rule(current, previous, expected):
    assert measures.pct_change(current, previous) == expected


def test_rate_per_1000():
    assert measures.rate_per_1000(25, 10_000) == 2.5
    assert measures.rate_per_1000(1, 3) == 333.33
    assert measures.rate_per_1000(5, 0) is None
    assert measures.rate_per_1000(5, None) is None


def test_every_pct_change_in_the_product_agrees():
    """400 -> 401 incidents: the area table block, the summary block and the evaluation all say
    +0.3% (they used to say 0.3 and 0.2)."""
    assert summaries.diff_block(401, 400)["pct_diff"] == 0.3
    months_b = [f"2023-{m:02d}" for m in range(1, 7)]
    months_a = [f"2024-{m:02d}" for m in range(1, 7)]
    rows = []
    for window, total in ((months_b, 400), (months_a, 401)):
        for i in range(total):
            rows.append({"incident_id": f"{window[0]}-{i}", "source": "police-uk",
                         "month": window[i % 6], "category": "Anti-social behaviour",
                         "kind": "asb", "geometry": Point(50, 50)})
    for m in [f"2023-{k:02d}" for k in range(7, 13)]:  # the gap months are covered too
        rows.append({"incident_id": f"gap-{m}", "source": "police-uk", "month": m,
                     "category": "Anti-social behaviour", "kind": "asb", "geometry": Point(500, 500)})
    inc = gpd.GeoDataFrame(pd.DataFrame(rows), crs="EPSG:27700")
    ev = evaluation.evaluate(inc, box(0, 0, 100, 100), after=months_a, before=months_b,
                             category="asb", buffer_m=0)
    assert ev.before.count == 400 and ev.after.count == 401
    assert ev.pct_change == 0.3
    assert ev.to_dict()["pct_change"] == 0.3


def test_neutralise_text_not_numbers():
    assert neutralise("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for bad in ("+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-2+3", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("Hemlington") == "Hemlington"
    assert neutralise(-5) == -5
    df = pd.DataFrame({"name": ["=1+1", "ok", None], "count": [-1, 2, 3]})
    out = neutralise_frame(df)
    assert out["name"].tolist()[:2] == ["'=1+1", "ok"] and out["name"].isna().iloc[2]
    assert out["count"].tolist() == [-1, 2, 3]
    assert df["name"].iloc[0] == "=1+1"  # input not mutated
    assert csv_bytes(df).decode().splitlines() == ["name,count", "'=1+1,-1", "ok,2", ",3"]


def test_whole_percent_in_sentences_rounds_like_the_tables():
    # headline "rose 37%" must agree with the table's +36.5% (Python's round() says 36)
    assert measures.round_half_up(36.5) == 37 and measures.round_half_up(-36.5) == -37
    assert measures.round_half_up(0.25, 1) == 0.3
    months_b = [f"2022-{m:02d}" for m in range(1, 13)]
    months_a = [f"2023-{m:02d}" for m in range(1, 13)]
    rows = [{"incident_id": f"{w[0]}-{i}", "source": "police-uk", "month": w[i % 12],
             "category": "Anti-social behaviour", "kind": "asb", "geometry": Point(50, 50)}
            for w, total in ((months_b, 200), (months_a, 273)) for i in range(total)]
    inc = gpd.GeoDataFrame(pd.DataFrame(rows), crs="EPSG:27700")
    ev = evaluation.evaluate(inc, box(0, 0, 100, 100), after=months_a, category="asb", buffer_m=0)
    assert ev.pct_change == 36.5
    assert " rose 37% in 2023 " in ev.headline()


def test_summary_and_year_on_year_pct_change_agree_with_the_rule():
    """400 -> 401 in the summary block and in the year-on-year table: +0.3% (one rule)."""
    months_1 = [f"2022-{m:02d}" for m in range(4, 13)] + [f"2023-{m:02d}" for m in range(1, 4)]
    months_2 = [f"2023-{m:02d}" for m in range(4, 13)] + [f"2024-{m:02d}" for m in range(1, 4)]
    rows = [{"incident_id": f"{w[0]}-{i}", "source": "police-uk", "month": w[i % 12],
             "category": "Shoplifting", "kind": "crime", "geometry": Point(50, 50)}
            for w, total in ((months_1, 400), (months_2, 401)) for i in range(total)]
    inc = gpd.GeoDataFrame(pd.DataFrame(rows), crs="EPSG:27700")
    ward = gpd.GeoDataFrame({"area_id": ["w"], "name": ["Ward"], "layer": ["ward"]},
                            geometry=[box(0, 0, 100, 100)], crs="EPSG:27700")
    doc = summaries.area_summary(inc, ward, "2024-03", 12)
    assert doc["crime"] == {"current": 401, "previous": 400, "diff": 1, "pct_diff": 0.3}
    assert "represents a 0.3% (+1 crimes) increase" in doc["text"]
    yoy, _ = summaries.year_on_year(inc, [2022, 2023], areas=ward)
    assert yoy.loc[yoy["area_id"] == "w", "pct_change"].iloc[0] == 0.3
    assert yoy.loc[yoy["area_id"] == "Total", "pct_change"].iloc[0] == 0.3


def test_atomic_writes_keep_normal_permissions(tmp_path):
    """Outputs are readable by colleagues as a plain write would leave them (not mkstemp's 0600),
    and a replaced file keeps its mode."""
    import os
    import stat

    from hotspot_app.io.exports import write_bytes_atomic

    old = os.umask(0o022)
    try:
        new = write_bytes_atomic(tmp_path / "paper.pdf", b"x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        os.chmod(new, 0o640)
        write_bytes_atomic(new, b"y")
        assert stat.S_IMODE(new.stat().st_mode) == 0o640 and new.read_bytes() == b"y"
    finally:
        os.umask(old)
