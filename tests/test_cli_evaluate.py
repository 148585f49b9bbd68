"""`hotspot evaluate` (design §5): exit codes, one-line errors, the exact JSON document and a
readable markdown summary; real police.uk data when ../shared/realdata is present."""

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from hotspot_app import periods, settings
from hotspot_app.cli import app

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "realdata"
runner = CliRunner()

KEYS = ["area", "categories", "after", "before", "diff", "pct_change", "baseline", "buffer",
        "control", "wdq", "effect", "warnings"]


def invoke(*args):
    return runner.invoke(app, ["evaluate", *map(str, args)])


def test_bad_arguments_exit_2_with_one_line_error(tmp_path):
    r = invoke(tmp_path / "x.csv", "--area", "Somewhere", "--after", "2023-07..2023-12")
    assert r.exit_code == 2
    assert "--areas" in r.output and "parameter 'area'" in r.output
    r = invoke(tmp_path / "x.csv", "--area", "A", "--after", "2023-7..2023-12")
    assert r.exit_code == 2 and "parameter 'after'" in r.output
    r = invoke(tmp_path / "x.csv", "--area", "A", "--after", "2023-07..2023-12", "--format", "xml")
    assert r.exit_code == 2 and "parameter 'format'" in r.output
    for res in (r,):
        assert len(res.output.strip().splitlines()) == 1
