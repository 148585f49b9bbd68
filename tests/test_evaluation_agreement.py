"""One question, one answer: "did it work?" (issues 18 and 19). `hotspot evaluate --format json`,
the report pack's evaluation section (its XLSX and HTML) and the app's Before/after page (AppTest)
give the same figures for the same arguments: on the demo (the README's example, Thistlebeck
Precinct) and on the real police.uk Cleveland files (the Hemlington and Hartlepool micro-hotspots
of docs/examples/cleveland_micro_hotspots.geojson).

The figures compared: the window counts of the target, its ring and its control; the effect (rate
ratio, interval, p value) against the chosen control and how that control is made (method,
areas, pre-period fit); WDQ; the placebo test; the robustness table; the sentences."""

from __future__ import annotations

import html as html_mod
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from hotspot_app.cli import app
from hotspot_app.core import settings
from hotspot_app.render import formatting
from hotspot_app.render import pack as report_pack

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MICRO = ROOT / "docs" / "examples" / "cleveland_micro_hotspots.geojson"
runner = CliRunner()

#: The README's example (design §5c): Thistlebeck Precinct, ASB, after Jul-Dec 2023, baseline
#: Jul-Dec 2021, 250 m ring.
README = ["--area", "Thistlebeck Precinct", "--after", "2023-07..2023-12", "--baseline", "2021-07..2021-12",
          "--category", "asb", "--buffer-m", "250"]
#: The keys whose values every face must share.
FIGURES = ["area", "categories", "after", "before", "diff", "pct_change", "baseline", "buffer", "control",
           "wdq", "effect", "placebo", "robustness", "sentences"]


def cli(*args) -> dict:
    r = runner.invoke(app, ["evaluate", *map(str, args), "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def figures(doc: dict) -> dict:
    return {k: doc[k] for k in FIGURES}


def flat(text: str) -> str:
    return " ".join(html_mod.unescape(text).split())


def pct(rate_ratio: float) -> str:
    """The Before/after page's 'Control-adjusted effect' card."""
    return f"{100 * (rate_ratio - 1):+.1f}%"


def robustness_cells(doc: dict) -> list[list[str]]:
    """The robustness table as every face prints it, from the JSON."""
    used = doc["details"]["control_row"]
    return [[r["control"] + (" (used)" if r["control"] == used else ""),
             f"{r['rate_ratio']:.2f}", f"{r['ci95'][0]:.2f}–{r['ci95'][1]:.2f}"]
            for r in doc["robustness"]]


def page_figures(at: AppTest) -> dict:
    """What the Before/after page shows: the cards, the sentences, the robustness table."""
    metrics = {m.label.split(" (")[0]: m.value for m in at.metric}
    table = at.dataframe[0].value
    return {"metrics": metrics, "markdown": [m.value for m in at.markdown],
            "robustness": table[["Control", "Rate ratio", "95% CI"]].values.tolist()}


def check_page(at: AppTest, doc: dict, loading: list[str] = ()) -> None:
    """The page against the CLI's JSON; `loading` are the CLI's warnings about reading the files
    (the page read them when the workspace was loaded, on the Data page)."""
    assert not at.exception, at.exception
    shown = page_figures(at)
    assert shown["metrics"]["After"] == formatting.fmt_int(doc["after"]["count"])
    assert shown["metrics"]["Change on before"] == formatting.fmt_pct(doc["pct_change"])
    assert shown["metrics"]["Control-adjusted effect"] == pct(doc["effect"]["rate_ratio"])
    assert shown["metrics"]["WDQ"] == ("n/a" if doc["wdq"] is None else f"{doc['wdq']:.2f}")
    assert f"**{doc['sentences'][0]}**" in shown["markdown"]
    assert doc["sentences"][1] in shown["markdown"]
    assert shown["robustness"] == [[c[0], c[1], c[2]] for c in robustness_cells(doc)]
    warnings = [w.value for w in at.warning]
    assert all(w in warnings for w in doc["warnings"] if w not in loading)


def check_pack(section, doc: dict, files: dict[str, Path], title: str) -> None:
    """The pack's section document, its XLSX sheets and its HTML against the CLI's JSON."""
    assert figures(section.document) == figures(doc)
    wb = openpyxl.load_workbook(files["xlsx"])
    counts = {r[0]: r[1:3] for ws in wb.worksheets if ws.title.startswith("Evaluation")
              for r in ws.iter_rows(values_only=True) if r and r[0] in ("Target area", "Control")}
    assert counts["Target area"] == (doc["before"]["count"], doc["after"]["count"])
    assert counts["Control"] == (doc["control"]["before"], doc["control"]["after"])
    robust = [r for ws in wb.worksheets if ws.title.startswith("Robustness")
              for r in ws.iter_rows(values_only=True) if r and r[0] in {x["control"] for x in doc["robustness"]}]
    assert [(r[0], r[2], r[3], r[4]) for r in robust] == [
        (x["control"], x["rate_ratio"], x["ci95"][0], x["ci95"][1]) for x in doc["robustness"]]
    page = flat(files["html"].read_text(encoding="utf-8"))
    for sentence in doc["sentences"]:
        assert flat(sentence) in page
    assert f"{title}: the comparison areas" in page and f"{title}: placebo test" in page


# --------------------------------------------------------------------------- the demo
@pytest.fixture(scope="module")
def demo_docs(demo):
    """The README's example from the police.uk files and from the workspace."""
    files = cli(demo.dir / "police_uk", "--areas", demo.dir / "micro_hotspots.geojson", *README)
    ws = demo.dir / "workspace.gpkg"
    stored = cli(ws, "--areas", ws, *README)
    return files, stored


def test_demo_cli_gives_one_answer_from_files_and_from_the_workspace(demo_docs):
    files, stored = demo_docs
    assert figures(files) == figures(stored)
    assert files["control"]["method"] == "matched" and files["details"]["pool"] == "hexagons"


def test_demo_pack_xlsx_and_html_give_the_cli_figures(demo, demo_docs, tmp_path):
    doc = demo_docs[0]
    spec = report_pack.demo_spec(demo.dir)
    outs = {"xlsx": tmp_path / "paper.xlsx", "html": tmp_path / "paper.html"}
    report_pack.report(spec, list(outs.values()))
    built = report_pack.build(spec)
    section = next(s for s in built.sections if s.kind == "evaluation")
    check_pack(section, doc, outs, "Thistlebeck Precinct")


def test_demo_page_gives_the_cli_figures(demo_docs):
    doc = demo_docs[1]
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page("hotspot_app/ui/pages/before_after.py").run()
    assert not at.exception, at.exception
    # the stored intervention (the Thistlebeck Precinct patrols, Jul-Dec 2023, ASB) is the default
    assert at.selectbox(key="ba-iv").value == "int-1" and at.multiselect(key="ba-cat").value == ["asb"]
    at.checkbox(key="ba-base-on").check().run()
    base = [s for s in at.select_slider if s.key.startswith("ba-baseline")][0]
    assert base.value == ("2021-07", "2021-12")
    check_page(at, doc)
    # the same area picked by name, and the rest of the data as the control: still the CLI's
    at.radio(key="ba-mode").set_value("Area and dates").run()
    at.selectbox(key="ba-area").set_value("area:micro_hotspot-1").run()
    after = [s for s in at.select_slider if s.key.startswith("ba-after")][0]
    after.set_value(("2023-07", "2023-12")).run()
    at.radio(key="ba-control").set_value("rest").run()
    assert not at.exception, at.exception
    ws = settings.DEMO_DIR / "workspace.gpkg"
    rest = cli(ws, "--areas", ws, *README, "--control", "rest")
    assert rest["control"]["method"] == "rest"
    check_page(at, rest)
    # a control area the analyst names (Kestwick Shops): the page offers every other area, the
    # CLI takes its name or area_id, and both give the same answer against it
    at.radio(key="ba-control").set_value("area").run()
    offered = at.selectbox(key="ba-control-area").options
    assert "Kestwick Shops (micro hotspot)" in offered and "Thistlebeck Precinct (micro hotspot)" not in offered
    at.selectbox(key="ba-control-area").set_value("micro_hotspot-3").run()
    named = cli(ws, "--areas", ws, *README, "--control", "Kestwick Shops")
    assert named["control"]["method"] == "area" and named["control"]["areas"] == ["Kestwick Shops"]
    check_page(at, named)


# --------------------------------------------------------------------------- real Cleveland files
@pytest.fixture(scope="module")
def cleveland(realdata, tmp_path_factory):
    """A workspace of the police.uk Cleveland files, the May 2024 wards and the two example
    micro-hotspots (what a partnership loads on the Data page)."""
    from hotspot_app.io import ingest, workspace
    from hotspot_app.io.ingest import boundaries

    police = realdata / "police_cleveland"
    wards_file = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    if not wards_file.exists() or not any(police.glob("2024-12-*.csv")):
        pytest.skip("Cleveland 2023-2024 files or May 2024 wards missing from ../shared/realdata")
    folder = tmp_path_factory.mktemp("cleveland")
    wards = boundaries.read_boundaries(wards_file, layer="ward").areas
    micro = boundaries.read_boundaries(MICRO, layer="micro_hotspot").areas
    shutil.copy(MICRO, folder / MICRO.name)
    shutil.copy(wards_file, folder / "wards.geojson")
    ws = workspace.GeopackageWorkspace(folder / "workspace.gpkg")
    read = ingest.read_incidents([police])
    ws.write(incidents=read.incidents, areas=[wards, micro])
    return {"police": police, "loading": list(read.summary.get("warnings", [])), "folder": folder, "workspace": folder / "workspace.gpkg",
            "ids": dict(zip(micro["name"], micro["area_id"]))}


REAL = {"Hemlington micro-hotspot": ["--after", "2024-07..2024-12", "--category", "asb", "--buffer-m", "250"],
        "Hartlepool micro-hotspot": ["--after", "2024-07..2024-12", "--category", "asb", "--buffer-m", "250"]}


@pytest.mark.realdata
@pytest.mark.parametrize("place", list(REAL))
def test_cleveland_micro_hotspot_cli_pack_and_page_agree(cleveland, place, tmp_path):
    doc = cli(cleveland["police"], "--areas", MICRO, "--area", place, *REAL[place])
    # matched areas, a placebo test and a robustness table on real data
    assert doc["control"]["method"] == "matched" and len(doc["control"]["areas"]) == 10
    assert doc["details"]["pool"] == "hexagons" and doc["placebo"]["n"] >= 19
    assert doc["control"]["pre_fit"]["p_value"] is not None
    assert [r["control"] for r in doc["robustness"]] == ["matched", "synthetic", "layer", "rest"]
    assert all(r["rate_ratio"] is not None for r in doc["robustness"])
    # from the workspace
    stored = cli(cleveland["workspace"], "--areas", cleveland["workspace"], "--area", place, *REAL[place])
    assert figures(stored) == figures(doc)
    # the pack: a spec over the same files
    spec_file = cleveland["folder"] / f"{place.split()[0]}.yaml"
    spec_file.write_text(
        "title: Cleveland micro-hotspots\n"
        f"data: [{cleveland['police']}]\n"
        f"areas:\n  micro: {{file: {MICRO.name}, layer: micro_hotspot}}\n"
        f"sections:\n  - evaluation: {{areas: micro, area: {place}, after: 2024-07..2024-12, "
        "category: [asb], buffer_m: 250}\n", encoding="utf-8")
    spec = report_pack.load_spec(spec_file)
    outs = {"xlsx": tmp_path / "paper.xlsx", "html": tmp_path / "paper.html"}
    report_pack.report(spec, list(outs.values()))
    section = next(s for s in report_pack.build(spec).sections if s.kind == "evaluation")
    check_pack(section, doc, outs, place)
    # the page, on the workspace: the area picked by name, after Jul-Dec 2024, ASB, 250 m
    from hotspot_app.ui import source

    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["source"] = source.workspace_key(cleveland["workspace"])
    at.run()
    at.switch_page("hotspot_app/ui/pages/before_after.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="ba-area").set_value(f"area:{cleveland['ids'][place]}").run()
    at.multiselect(key="ba-cat").set_value(["asb"]).run()
    after = [s for s in at.select_slider if s.key.startswith("ba-after")][0]
    after.set_value(("2024-07", "2024-12")).run()
    check_page(at, doc, cleveland["loading"])
