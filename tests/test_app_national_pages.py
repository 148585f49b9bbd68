"""What keeps the app's pages quick on a national year without changing what they show: maps
made once per token and sent again as they were, concentration curves drawn through at most
`charts.CURVE_MAX_POINTS` points a line, and printed/phone table copies cut at
`common.PRINT_MAX_ROWS` rows with a sentence saying so (benchmarks/app_pages.py --national)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from hotspot_app.render import charts, maps
from hotspot_app.ui import cache

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def _curve(n: int, name: str) -> pd.DataFrame:
    """A concentration curve of `n` places with x evenly spaced (1/n, 2/n, ..., 1)."""
    values = np.arange(n, 0, -1, dtype=float)  # busiest first
    return pd.DataFrame({"places": name, "value_share": np.cumsum(values) / values.sum(),
                         "area_share": np.arange(1, n + 1) / n})


def test_thin_curve_keeps_small_lines_whole_and_thins_long_ones_to_the_same_line():
    wards, cells = _curve(40, "wards"), _curve(10_000, "cells")
    both = pd.concat([wards, cells], ignore_index=True)
    thin = charts.thin_curve(both, group="places", max_points=500)
    # the 40-point line whole; the 10,000-point one: its first 250 points (the busiest places),
    # the first point at or after each of 250 evenly spaced area shares (7 of them fall among
    # the first 250: 0, 40, ..., 240) and its last point (the last mark) -> 250 + 243
    assert thin[thin["places"] == "wards"].equals(wards)
    drawn = thin[thin["places"] == "cells"]
    assert len(drawn) == 493
    assert drawn.index.is_monotonic_increasing and drawn.index[0] == 40 and drawn.index[-1] == len(both) - 1
    assert drawn["area_share"].iloc[:250].tolist() == cells["area_share"].iloc[:250].tolist()
    # the line through the kept points is the whole curve to within 0.01 percentage points
    between = np.interp(cells["area_share"], drawn["area_share"], drawn["value_share"])
    assert np.abs(between - cells["value_share"]).max() < 1e-4
    assert both.shape == (10_040, 3)  # the input is not changed
    short = _curve(300, "wards")
    assert charts.thin_curve(short, group="places") is short  # nothing to thin: the same frame
    chart = charts.concentration_curve(both, y="value_share", group="places").to_dict()
    assert sum(len(v) for v in chart["datasets"].values()) == 40 + 493 + 2  # + the even-spread diagonal


def _map_args(at: AppTest) -> str:
    return at.get("component_instance")[0].proto.json_args


def test_a_map_is_made_once_per_token_and_sent_again_as_it_was(monkeypatch):
    cache.map_store().clear()
    made = []
    real = maps.overview_map
    monkeypatch.setattr(maps, "overview_map", lambda *a, **k: made.append(k["metric_title"]) or real(*a, **k))
    first = AppTest.from_file(APP, default_timeout=180).run()
    assert not first.exception, first.exception
    again = AppTest.from_file(APP, default_timeout=180).run()  # another visit (a new session)
    assert not again.exception, again.exception
    assert made == ["Incidents"] and _map_args(again) == _map_args(first)
    # another metric is another map, made once; the count map is still the one sent before
    again.radio(key="ov-metric").set_value("rate").run()
    assert made == ["Incidents", "Rate per 1,000"] and _map_args(again) != _map_args(first)
    assert '"_value"' in json.loads(_map_args(again))["script"]
    again.radio(key="ov-metric").set_value("count").run()
    assert made == ["Incidents", "Rate per 1,000"] and _map_args(again) == _map_args(first)
    assert len(cache.map_store()) == 2


def test_the_printed_copy_of_a_long_table_stops_at_1000_rows_and_says_so():
    def script():
        import pandas as pd

        from hotspot_app.ui import common

        common.table(pd.DataFrame({"ward": [f"W{i}" for i in range(1_200)], "n": range(1_200)}), hide_index=True)
        common.table(pd.DataFrame({"ward": ["A", "B"], "n": [1, 2]}), hide_index=True)

    at = AppTest.from_function(script).run()
    assert not at.exception, at.exception
    long, short = [m.value for m in at.markdown if "print-table" in m.value]
    assert long.count("<tr>") == 1_000 and "<td>W999</td>" in long and "W1000" not in long
    assert "The first 1,000 of 1,200 rows; the CSV and XLSX downloads hold every row." in long
    assert short.count("<tr>") == 2 and "rows;" not in short
    assert len(at.dataframe[0].value) == 1_200  # the table on screen keeps every row


def test_the_overview_map_draws_thousands_of_wards_on_a_canvas_and_a_few_as_svg():
    import geopandas as gpd
    import shapely

    from hotspot_app.core import settings

    def grid(n: int) -> gpd.GeoDataFrame:
        side = int(np.ceil(np.sqrt(n)))
        boxes = [shapely.box(450_000 + 200 * (i % side), 510_000 + 200 * (i // side),
                             450_200 + 200 * (i % side), 510_200 + 200 * (i // side)) for i in range(n)]
        return gpd.GeoDataFrame({"area_id": [f"W{i}" for i in range(n)], "name": [f"Ward {i}" for i in range(n)]},
                                geometry=boxes, crs=settings.CRS)

    none = pd.DataFrame({"lat": [], "lon": [], "count": []})
    for n, canvas in ((maps.CANVAS_MIN_AREAS, False), (maps.CANVAS_MIN_AREAS + 1, True)):
        wards = grid(n)
        m = maps.overview_map(wards, pd.Series(1.0, index=wards["area_id"]), none)
        html = m.get_root().render()
        assert f'"preferCanvas": {str(canvas).lower()}' in html
        assert html.count('"_name": "Ward ') == n  # every ward drawn, named
