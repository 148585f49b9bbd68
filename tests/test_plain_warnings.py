"""No machine path in any output (issue 20, "Done when"): the commands an analyst runs on the real
Cleveland files -- table, summary, rank, clusters, indicators, evaluate and the report pack --
print warnings for people: file names, never the folders they sit in (the realdata folder, the
temp folder the outputs go to), no 40-character hashes, no lists of area codes. The warnings
are written that way where they are made (ingest, boundaries, the questions), so every face
(stdout, stderr, JSON, the pack's HTML/PDF/DOCX/XLSX Notes) says the same words."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile

import pytest
from typer.testing import CliRunner

from hotspot_app.cli import app

HASH = re.compile(r"\b[0-9a-fA-F]{40,}\b")
CODES = re.compile(r"(?:\b[EWSNK]\d{8}\b.{0,12}){3,}")  # a list of ONS area codes


def leaks(text: str, folders: list[str]) -> list[str]:
    """What a reader should never see in `text`: a folder of this machine, a hash, a code list."""
    found = [f for f in folders if f in text]
    found += [m.group() for m in HASH.finditer(text)]
    found += [m.group() for m in CODES.finditer(text)]
    return found


@pytest.fixture(scope="module")
def runs(realdata, tmp_path_factory):
    """Each command's stdout + stderr (JSON and markdown) and the pack's text in all four files,
    run in a temp folder on twelve months of the real files (with one row repeated, police.uk's
    duplicate-id case with its 64-character id)."""
    tmp = tmp_path_factory.mktemp("plain")
    police = realdata / "police_cleveland"
    files = [police / f"2024-{m:02d}-cleveland-street.csv" for m in range(1, 13)]
    wards = realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson"
    spec = tmp / "indicators.csv"
    spec.write_text("indicator,category,target\nAnti-social behaviour,asb,5% reduction\n"
                    "Deliberate fires,deliberate-fires,reduce\n", encoding="utf-8")
    common = [*files, "--areas", wards]
    commands = {
        "table": ["table", *common, "--by", "LAD24NM", "--period", "2024-07..2024-12",
                  "--compare", "previous-period"],
        "summary": ["summary", *common, "--area", "Victoria", "--to", "2024-12", "--months", "6"],
        "rank": ["rank", *common, "--category", "asb", "--within", "LAD24NM=Hartlepool"],
        "clusters": ["clusters", *files, "--category", "asb", "--out", "patrol.geojson"],
        "indicators": ["indicators", *files, "--spec", spec, "--period", "2024-10..2024-12",
                       "--compare", "previous-period"],
        "evaluate": ["evaluate", *common, "--area", "Victoria", "--after", "2024-10..2024-12",
                     "--before", "2024-07..2024-09", "--category", "asb"],
    }
    runner = CliRunner()
    out: dict[str, str] = {}
    here = os.getcwd()
    os.chdir(tmp)  # outputs named as a user in that folder names them: 'paper.pdf'
    try:
        _run(runner, commands, out, police, wards, spec, tmp)
    finally:
        os.chdir(here)
    folders = sorted({str(realdata), str(realdata.resolve()), str(tmp), str(tmp.resolve()),
                      tempfile.gettempdir(), "/work/", "/tmp/"})
    return out, folders


def _run(runner, commands, out, police, wards, spec, tmp):
    for name, args in commands.items():
        for fmt in ("json", "md" if name not in ("summary", "clusters") else "text"):
            if name == "clusters" and fmt == "text":
                continue
            res = runner.invoke(app, [str(a) for a in args] + ["--format", fmt])
            assert res.exit_code == 0, (name, res.output)
            if fmt == "json":
                json.loads(res.stdout)  # one document
            out[f"{name} {fmt}"] = res.stdout + res.stderr
    paper = tmp / "paper.yaml"
    paper.write_text(f"""title: Cleveland paper
data: {police}
areas:
  wards: {{file: {wards}, layer: ward}}
period: {{from: 2024-07, to: 2024-12}}
sections:
  - table: {{areas: wards, by: LAD24NM, period: 2024-07..2024-12, compare: previous-period}}
  - concentration: {{areas: wards, category: [asb], top: 3, within: LAD24NM=Hartlepool}}
  - indicators: {{spec: {spec}, period: 2024-10..2024-12, compare: previous-period}}
""", encoding="utf-8")
    outs = [f"paper.{ext}" for ext in ("html", "xlsx", "docx", "pdf")]
    res = runner.invoke(app, ["report", str(paper), *[x for f in outs for x in ("--out", str(f))],
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    out["report"] = res.stdout + res.stderr
    outs = [tmp / f for f in outs]
    out["pack html"] = outs[0].read_text(encoding="utf-8")
    with zipfile.ZipFile(outs[1]) as z:
        out["pack xlsx"] = " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    with zipfile.ZipFile(outs[2]) as z:
        out["pack docx"] = z.read("word/document.xml").decode("utf-8")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(io.BytesIO(outs[3].read_bytes()))
    out["pack pdf"] = " ".join(p.get_textpage().get_text_range() for p in pdf)


@pytest.mark.realdata
def test_no_machine_path_hash_or_code_list_in_any_output(runs):
    out, folders = runs
    assert {k: leaks(v, folders) for k, v in out.items() if leaks(v, folders)} == {}
    # the warnings are there, in words: the repeated police.uk row and the fires not loaded
    assert "1 row repeats an incident ID already loaded from the same source" in out["table json"]
    assert "Deliberate fires" in out["indicators md"]


@pytest.mark.realdata
def test_each_warning_is_said_once_on_each_face(runs):
    out, _ = runs
    doc = json.loads(_json_part(out["rank json"]))
    assert len(doc["warnings"]) == len(set(doc["warnings"]))
    stderr_lines = [ln for ln in out["rank json"].splitlines() if ln.startswith("warning: ")]
    assert len(stderr_lines) == len(set(stderr_lines))
    # the one repeated police.uk row is said once, by its warning, not again as a rejected-rows note
    assert sum("incident ID" in ln for ln in out["rank json"].splitlines()) == 2  # JSON and stderr
    assert "rows were not loaded" not in out["rank json"] and "duplicate id: 1)" not in out["rank json"]


def _json_part(text: str) -> str:
    """The JSON document at the head of stdout + stderr."""
    dec = json.JSONDecoder()
    doc, end = dec.raw_decode(text)
    return json.dumps(doc)


def test_a_boundary_warning_names_the_file_and_counts_shared_names(tmp_path):
    """The duplicate-name warning is counted, never a list of codes; wards of several
    authorities that share names are said to be shown with their authority."""
    import geopandas as gpd
    from shapely.geometry import box

    from hotspot_app.io.ingest import read_boundaries

    folder = tmp_path / "deep" / "folder"
    folder.mkdir(parents=True)
    names = ["Park", "Park", "Central", "Central", "Town"]
    lads = ["Hartlepool", "Stockton-on-Tees", "Hartlepool", "Middlesbrough", "Hartlepool"]
    gdf = gpd.GeoDataFrame({"WD24CD": [f"E0500{i:04d}" for i in range(5)], "WD24NM": names,
                            "LAD24NM": lads},
                           geometry=[box(450000 + i * 1000, 520000, 450900 + i * 1000, 520900) for i in range(5)],
                           crs=27700)
    gdf.to_file(folder / "wards.geojson")
    res = read_boundaries(folder / "wards.geojson", layer="ward")
    assert res.warnings == ["4 wards share a name with an area in another authority; each is shown "
                            "with its authority"]
    same = gdf.assign(LAD24NM="Hartlepool")
    same.to_file(folder / "one.geojson")
    res = read_boundaries(folder / "one.geojson", layer="ward")
    assert res.warnings == ["one.geojson: 4 wards share a name with another area (Park, Central); each is "
                            "kept as a separate area"]
    assert not any(str(tmp_path) in w or "E05" in w for w in res.warnings)
