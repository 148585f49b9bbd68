"""Pages on a workspace as a partner first has it (incidents loaded, no boundaries yet): each page
says what to load next instead of showing a Python error (found by trying the app on the
police.uk Cleveland files before any wards were loaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hotspot_app.core import schema, settings
from hotspot_app.io import workspace

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.fixture
def incidents_only(tmp_path, monkeypatch):
    n = 40
    data = pd.DataFrame({"incident_id": [f"C-{i}" for i in range(n)],
                         "month": ["2024-08"] * 20 + ["2024-09"] * 20,
                         "category": ["Shoplifting"] * n,
                         "x": 450000.0 + np.arange(n), "y": 515000.0 + np.arange(n),
                         "falls_within": ["Cleveland Police"] * n})
    path = tmp_path / "ws.gpkg"
    workspace.GeopackageWorkspace(path).write_incidents(schema.make_incidents(data, source="police-uk"))
    monkeypatch.setattr(settings, "WORKSPACE_ENV", str(path))
    return path


def test_before_after_without_areas_says_what_to_load(incidents_only):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("hotspot_app/ui/pages/before_after.py").run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []  # was: "'NoneType' object has no attribute 'partition'"
    assert any("Load boundaries or draw a micro-hotspot on the Data page" in i.value for i in at.info)
    assert any("40 incidents" in c.value for c in at.caption), [c.value for c in at.caption]


def test_data_page_counts_by_kind_read_as_words(incidents_only):
    # was: the codes 'asb' / 'crime' and unseparated counts ('50402')
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("hotspot_app/ui/pages/data.py").run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert frame.values.tolist() == [["Crime", 40]]
    assert '"format":"localized"' in at.dataframe[0].proto.columns.replace(" ", "")
