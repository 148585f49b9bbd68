"""Where next on the command line (docs/design.md §5c): `hotspot grid --method emerging`,
`hotspot backtest`, `hotspot near-repeat` (and its "needs dates" refusal), `hotspot hot-streets`,
`hotspot stability` and `--smooth eb` on `rank` and `table --by`. The data are the planted ones of
the core tests, stored in a workspace as a partnership's would be; each JSON is the §5c shape and
the question's own answer, with its method and parameters named."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotspot_app.cli import app as cli_app
from hotspot_app.core import emerging, schema
from hotspot_app.questions import where_next

runner = CliRunner()


def run(*args) -> tuple[int, str, str]:
    res = runner.invoke(cli_app, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr


def cli_json(*args) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def stored(incidents: gpd.GeoDataFrame, path) -> str:
    from hotspot_app.io import workspace

    workspace.GeopackageWorkspace(path).write_incidents(incidents)
    return str(path)


@pytest.fixture(scope="module")
def planted_emerging(tmp_path_factory):
    from test_emerging import planted

    inc = schema.make_incidents(planted())
    return inc, stored(inc, tmp_path_factory.mktemp("em") / "ws.gpkg")


@pytest.fixture(scope="module")
def stable(tmp_path_factory):
    from test_backtest import stable_hot_cells

    inc = stable_hot_cells()
    return inc, stored(inc, tmp_path_factory.mktemp("bt") / "ws.gpkg")


def test_grid_emerging_classifies_the_planted_spots(planted_emerging):
    inc, ws = planted_emerging
    doc = cli_json("grid", ws, "--method", "emerging")
    assert doc["classes"] == {"new": 9, "intensifying": 9, "persistent": 9, "not significant": 373}
    assert len(doc["cells"]) == 400
    assert all(c["class"] in emerging.CLASSES and 0 <= c["trend_p"] <= 1 for c in doc["cells"])
    p = doc["parameters"]
    assert p["method"].startswith("emerging hot spots (space-time Gi*") and p["cell_m"] == 250.0
    assert (p["from"], p["to"], p["alpha"], p["correction"]) == ("2023-01", "2023-12", 0.05,
                                                                   "fdr_bh over all bins")
    # the question's own answer, nothing added by the face
    assert doc == json.loads(json.dumps(where_next.emerging(inc).to_dict()))
    code, out, _ = run("grid", ws, "--method", "emerging")
    assert code == 0 and "hot spot classes: 9 new, 9 intensifying, 9 persistent" in out


def test_grid_emerging_refuses_what_it_does_not_use(planted_emerging):
    _, ws = planted_emerging
    code, _, err = run("grid", ws, "--method", "emerging", "--bandwidth-m", "100")
    assert code == 2 and "bandwidth_m" in err
    code, _, err = run("grid", ws, "--method", "emerging", "--from", "2023-12", "--to", "2023-12")
    assert code == 2 and "at least 2 time steps" in err


def test_backtest_json_is_the_contract_and_names_the_best(stable):
    inc, ws = stable
    doc = cli_json("backtest", ws, "--cell-m", 100, "--area-share", 0.05, "--from", "2024-01",
                   "--to", "2024-12")
    assert {"area_share", "methods", "best", "warnings"} <= set(doc)
    assert doc["area_share"] == 0.05
    assert [m["method"] for m in doc["methods"]] == list(where_next.METHODS)
    assert all({"method", "pai", "pei", "rri", "months"} <= set(m) for m in doc["methods"])
    assert all(m["months"] == 12 for m in doc["methods"])
    best = next(m for m in doc["methods"] if m["method"] == doc["best"])
    assert best["pai"] > 5 and best["pai"] == max(m["pai"] for m in doc["methods"])
    answer = where_next.backtest(inc, period="2024-01..2024-12", cell_m=100)
    assert doc["sentences"] == [answer.sentence()]
    assert doc["parameters"]["from"] == "2024-01" and doc["parameters"]["best_by"] == "mean PAI (ties: PEI)"
    # md: the table and the sentence
    code, out, _ = run("backtest", ws, "--cell-m", 100, "--from", "2024-01", "--to", "2024-12",
                       "--methods", "last-month,last-12-months")
    assert code == 0 and "| last-12-months" in out and "kde" not in out.split("| method")[1].split("Over")[0]


def test_backtest_default_window_is_the_last_12_months_loaded(stable):
    _, ws = stable
    doc = cli_json("backtest", ws, "--cell-m", 100, "--methods", "last-month")
    assert (doc["parameters"]["from"], doc["parameters"]["to"]) == ("2024-01", "2024-12")
    code, _, err = run("backtest", ws, "--methods", "crystal-ball")
    assert code == 2 and "methods" in err and "crystal-ball" in err


def test_use_it_predicts_next_month_with_the_share_asked(stable):
    inc, _ = stable
    cells = where_next.predict(inc, "last-12-months", cell_m=100)
    assert cells["flagged"].sum() == pytest.approx(0.05 * len(cells))
    assert cells.attrs["parameters"]["for"] == "2025-01" and cells.attrs["parameters"]["to"] == "2024-12"
    # the flagged cells are the 20 planted hot cells' busiest (the 12-month counts)
    top = cells.sort_values("score", ascending=False).head(20)
    assert (top["count"] > 12 * 10).all()


def test_near_repeat_json_and_the_needs_dates_refusal(tmp_path):
    from test_near_repeat import make, planted

    ws = stored(planted(), tmp_path / "burglary.gpkg")
    doc = cli_json("near-repeat", ws, "--category", "burglary", "--distance-m", "0,100,200,400",
                   "--days", "0,7,14,28", "--permutations", 199, "--seed", 1)
    assert len(doc["bands"]) == 9
    assert set(doc["bands"][0]) == {"distance_m", "days", "observed", "expected", "ratio", "p_value"}
    first = doc["bands"][0]
    assert first["distance_m"] == [0, 100] and first["days"] == [0, 7]
    assert first["ratio"] > 1.5 and first["p_value"] < 0.05
    assert all(not (b["ratio"] > 1.5 and b["p_value"] < 0.05) for b in doc["bands"][1:])
    assert doc["parameters"]["permutations"] == 199 and doc["parameters"]["method"].startswith("Knox test")
    monthly = make([0, 10], [0, 10], [0, 3], month_only=True)
    ws2 = stored(monthly, tmp_path / "monthly.gpkg")
    code, out, err = run("near-repeat", ws2, "--format", "json")
    assert code == 2 and out == "" and "needs dates" in err


def test_hot_streets_from_a_network_file(tmp_path):
    from test_streets import incidents, network

    ws = stored(incidents(), tmp_path / "inc.gpkg")
    net = tmp_path / "roads.gpkg"
    network().to_file(net, layer="road_link", driver="GPKG")
    doc = cli_json("hot-streets", ws, "--streets", net)
    seg = {s["segment_id"]: s["count"] for s in doc["segments"]}
    assert seg == {"hs": 6, "ml": 4, "u": 1, "a": 4}
    assert doc["parameters"]["max_distance_m"] == 50.0 and doc["n_snapped"] == 15
    code, _, err = run("hot-streets", ws, "--streets", tmp_path / "missing.gpkg")
    assert code == 2 and "missing.gpkg" in err


def test_stability_json_names_its_draws(tmp_path):
    from test_stability import make

    # 300 incidents at one snap point, 100 at another: the busiest stays first in every draw
    ws = stored(make([(1125, 1125, 300), (2125, 2125, 100)]), tmp_path / "inc.gpkg")
    doc = cli_json("stability", ws, "--draws", 5, "--top", 1, "--eps-m", 50, "--min-samples", 10)
    p = doc["parameters"]
    assert (p["draws"], p["eps_m"], p["min_samples"], p["radius_m"]) == (5, 50.0, 10, "auto")
    assert [(r["rank"], r["count"], r["stability"]) for r in doc["patrol"]] == [(1, 300, 1.0)]
    assert [(r["rank"], r["stability"]) for r in doc["cells"]] == [(1, 1.0)]


def test_smooth_eb_adds_rate_eb_beside_rate_in_rank_and_table(demo):
    d = demo.dir
    doc = cli_json("rank", d / "workspace.gpkg", "--areas", d / "wards.geojson", "--category", "asb",
                   "--smooth", "eb")
    rows = [a for a in doc["areas"] if a["area_id"] != "outside"]
    assert all("rate_eb" in a and "rate_per_1000" in a for a in doc["areas"])
    assert doc["smoothing"]["method"].startswith("Empirical Bayes (global")
    from hotspot_app.core import smoothing

    frame = pd.DataFrame({"count": [a["count"] for a in rows], "population": [a["population"] for a in rows]})
    ref = smoothing.empirical_bayes(frame["count"], frame["population"]) * 1000
    assert [a["rate_eb"] for a in rows] == [round(float(v), 2) for v in ref]
    plain = cli_json("rank", d / "workspace.gpkg", "--areas", d / "wards.geojson", "--category", "asb")
    assert "rate_eb" not in plain["areas"][0] and [a["rate_per_1000"] for a in plain["areas"]] == \
        [a["rate_per_1000"] for a in doc["areas"]]
    table = cli_json("table", d / "workspace.gpkg", "--areas", d / "wards.geojson", "--by", "name",
                     "--period", "2024-01..2024-03", "--smooth", "eb")
    total = table["rows"][-1]
    cols = [c for c in table["columns"] if c["id"] != "Total"]
    ref = smoothing.empirical_bayes([total["cells"][c["id"]]["current"] for c in cols],
                                    [c["population"] for c in cols]) * 1000
    assert [total["cells"][c["id"]]["rate_eb"] for c in cols] == [round(float(v), 2) for v in ref]
    assert total["cells"]["Total"]["rate_eb"] is None and "rate" in total["cells"]["Total"]
    code, _, err = run("table", d / "workspace.gpkg", "--areas", d / "wards.geojson", "--by", "name",
                       "--period", "2024-01..2024-03", "--smooth", "magic")
    assert code == 2 and "smooth" in err


def test_smoothed_rate_is_printed_in_markdown_csv_and_xlsx(demo, tmp_path):
    """`table --smooth eb` prints the smoothed rate wherever the table is shown, labelled 'Rate per
    1,000 (smoothed)', with the JSON's figures (1 decimal as the papers print rates)."""
    import openpyxl

    from hotspot_app.render.formatting import fmt_rate

    d = demo.dir
    args = ("table", d / "workspace.gpkg", "--areas", d / "wards.geojson", "--by", "name",
            "--period", "2024-01..2024-03", "--smooth", "eb")
    doc = cli_json(*args)
    total = doc["rows"][-1]
    first = doc["columns"][0]["id"]
    eb = total["cells"][first]["rate_eb"]
    assert eb is not None
    code, md, err = run(*args, "--format", "md")
    assert code == 0, err
    header = next(line for line in md.splitlines() if line.startswith("| Category"))
    heads = [h.strip() for h in header.strip("|").split("|")]
    col = heads.index(f"{first}: Rate per 1,000 (smoothed)")
    last = [line for line in md.splitlines() if line.startswith("| **Total**")][0]
    assert [v.strip() for v in last.strip("|").split("|")][col] == fmt_rate(eb)
    assert heads.count("Total: Rate per 1,000 (smoothed)") == 1  # the Total column's is n/a
    code, csv_text, err = run(*args, "--format", "csv")
    frame = pd.read_csv(__import__("io").StringIO(csv_text))
    assert frame[f"{first}_rate_eb"].iloc[-1] == eb and frame["Total_rate_eb"].isna().all()
    out = tmp_path / "t.xlsx"
    code, _, err = run(*args, "--format", "xlsx", "--out", out)
    assert code == 0, err
    ws = openpyxl.load_workbook(out).worksheets[0]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert any(v == "Rate per 1,000 (smoothed)" for row in values for v in row)
    assert any(row[0] == "Total" and eb in row for row in values)
