"""Real Cleveland data: `table`, `summary`, `indicators`, `rank` and `clusters` print byte-identical
JSON whether they read the police.uk CSVs or a workspace loaded from them (its incidents
partitioned by month and provider, each command reading back only what it selects: the months
of its windows, its kind or categories, the area's bounding box, the columns it uses). Month
coverage is judged on everything loaded in both cases, so even the warnings agree."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hotspot_app.cli import app

pytestmark = pytest.mark.realdata

SPEC = ("indicator,category,target\n"
        "All crime,crime,reduce\n"
        "ASB,asb,10% reduction\n"
        "Burglary,Burglary,reduce\n"
        "Violence,Violence and sexual offences,maintain\n")


@pytest.fixture(scope="module")
def loaded(realdata, tmp_path_factory):
    """The 35 real months as CSVs, and a workspace loaded from them with `ingest --into`."""
    folder = tmp_path_factory.mktemp("agreement")
    ws = folder / "cleveland.gpkg"
    r = CliRunner().invoke(app, ["ingest", str(realdata / "police_cleveland"), "--into", str(ws), "--format", "json"])
    assert r.exit_code == 0, r.output
    spec = folder / "indicators.csv"
    spec.write_text(SPEC)
    return {"csv": str(realdata / "police_cleveland"), "ws": str(ws), "spec": str(spec),
            "wards": str(realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson")}


def _both(loaded, *args: str) -> tuple[str, str]:
    runner = CliRunner()
    out = []
    for source in ("csv", "ws"):
        r = runner.invoke(app, [args[0], loaded[source], *[loaded.get(a, a) for a in args[1:]]])
        assert r.exit_code == 0, r.output
        out.append(r.stdout)
    return out[0], out[1]


CASES = {
    "table, one ward, a month": ("table", "--areas", "wards", "--area", "Hemlington", "--month", "2024-06",
                                 "--format", "json"),
    "table, one ward, a month with uncovered comparison windows": (
        "table", "--areas", "wards", "--area", "Hemlington", "--month", "2023-03", "--format", "json"),
    "table by authority, ASB, a year": ("table", "--areas", "wards", "--by", "LAD24NM", "--period",
                                        "2024-01..2024-12", "--kind", "asb", "--format", "json"),
    "table by authority, years against a fixed window": (
        "table", "--areas", "wards", "--by", "LAD24NM", "--years", "2023..2024", "--compare", "2023-01..2023-03", "--format", "json"),
    "table by ward within an authority, burglary, previous period": (
        "table", "--areas", "wards", "--within", "LAD24NM=Hartlepool", "--by", "WD24NM", "--period",
        "2025-01..2025-03", "--compare", "previous-period", "--category", "Burglary", "--format", "json"),
    "table by authority, crime and ASB blocks": (
        "table", "--areas", "wards", "--by", "LAD24NM", "--period", "2024-01..2024-12", "--category", "crime",
        "--category", "asb", "--format", "json"),
    "summary, one ward": ("summary", "--areas", "wards", "--area", "Hemlington", "--to", "2024-09",
                          "--format", "json"),
    "summary, 18 months against the previous 18": ("summary", "--areas", "wards", "--area", "Hemlington",
                                                   "--to", "2025-06", "--months", "18", "--format", "json"),
    "indicators": ("indicators", "--spec", "spec", "--period", "2024-01..2024-06", "--format", "json"),
    "indicators with a baseline, one ward, uncovered comparison": (
        "indicators", "--spec", "spec", "--period", "2023-01..2023-06", "--baseline", "2023-07..2024-03",
        "--areas", "wards", "--area", "Hemlington", "--format", "json"),
    "rank, ASB, a year within one authority": ("rank", "--areas", "wards", "--category", "asb", "--from", "2024-01",
                                               "--to", "2024-12", "--within", "LAD24NM=Hartlepool",
                                               "--format", "json"),
    "rank, burglary, everything": ("rank", "--areas", "wards", "--category", "Burglary", "--format", "json"),
    "clusters, ASB, six months": ("clusters", "--category", "asb", "--from", "2024-01", "--to", "2024-06",
                                  "--eps-m", "100", "--min-samples", "15", "--format", "json"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_csvs_and_the_partitioned_workspace_give_byte_identical_json(loaded, case):
    from_csv, from_ws = _both(loaded, *CASES[case])
    assert from_ws == from_csv
    assert len(from_csv) > 200  # a real answer, not an empty document


READS = {
    "table": lambda sel: sel.table_selection(month="2024-06"),
    "table, asb years": lambda sel: sel.table_selection(years="2023..2024", kind="asb"),
    "summary": lambda sel: sel.summary_selection("2024-09"),
    "indicators": lambda sel: sel.indicators_selection("2024-01..2024-06", baseline="2023-04..2023-12"),
    "rank": lambda sel: sel.rank_selection("asb"),
    "patrol areas": lambda sel: sel.patrol_areas_selection("Burglary", ("2024-01", "2024-06")),
}


@pytest.mark.parametrize("question", list(READS))
def test_each_question_reads_only_what_it_counts(loaded, question):
    """`questions.selected.read` on the workspace gives exactly the rows the question's
    selection keeps of everything loaded (`Selection.apply`), in the same order, and the summary
    of everything loaded beside them."""
    from hotspot_app.io import workspace
    from hotspot_app.questions import selected

    selection = READS[question](selected)
    every = workspace.open_workspace(loaded["ws"]).incidents()
    found = selected.read([loaded["ws"]], selection)
    expected = selection.apply(every)
    assert 0 < len(found.incidents) == len(expected) < len(every)
    if "incident_id" in found.incidents.columns:
        assert found.incidents["incident_id"].tolist() == expected["incident_id"].tolist()
    else:  # a question that reads no ids (the ranking): the same rows by their other columns
        assert list(found.incidents.columns) == [c for c in expected.columns if c in found.incidents.columns]
        for col in found.incidents.columns:
            assert found.incidents[col].equals(expected[col]), col
    assert found.rows == len(every) == 269_437
    assert int(found.whole["rows"].sum()) == len(every)


def test_the_patrol_areas_read_only_the_columns_they_use(loaded):
    """`hotspot clusters` on a workspace reads no ids and no extra columns (a decade's ASB ids
    alone are 0.8 GiB), and the same rows, in the same order, as the whole selection."""
    from hotspot_app.questions import patrol_areas, selected

    narrow = selected.clusters_selection("asb", ("2024-01", "2024-06"))
    wide = selected.patrol_areas_selection("asb", ("2024-01", "2024-06"))
    found = selected.read([loaded["ws"]], narrow).incidents
    every = selected.read([loaded["ws"]], wide).incidents
    assert "incident_id" not in found.columns and "incident_id" in every.columns
    assert set(found.columns) == {"geometry", *patrol_areas.COLUMNS_USED} & set(every.columns)
    assert len(found) == len(every) == 8_292
    for col in ("month", "category", "location"):
        assert found[col].tolist() == every[col].tolist()
    assert found.geometry.equals(every.geometry)
    assert selected.clusters_selection(rank_by="harm_score").columns[-1] == "harm_score"


def test_the_table_reads_its_kind_in_its_windows_and_their_comparisons():
    from hotspot_app.questions import selected

    sel = selected.table_selection(month="2024-06")
    assert sel.category == ("crime",)
    assert sel.months() == [f"{y}-{m:02d}" for y, m in [(2022, 7 + i) for i in range(6)] + [(2023, i) for i in range(1, 13)]
                            + [(2024, i) for i in range(1, 7)]]
    # a selection spanning kinds reads each kind it reaches (a block per kind), a category of the
    # data only (kind unknown here) every kind
    assert selected.table_selection(month="2024-06", category=["crime", "asb"]).category == ("asb", "crime")
    assert selected.table_selection(month="2024-06", category=["Burglary"]).category == ("crime",)
    assert selected.table_selection(month="2024-06", category=["Shoplifting", "asb"]).category == ("asb", "crime")
    assert selected.summary_selection("2025-06", 18).months()[0] == "2022-07"
    assert selected.indicators_selection("2024-01..2024-06", baseline="2022-04..2023-03").months()[:2] == \
        ["2022-04", "2022-05"]


def test_the_ranking_reads_no_ids_or_extra_columns(loaded):
    """`hotspot rank` (without LSOA populations) on a workspace reads the schema's columns less
    the ids, and none of police.uk's extra columns: the same rows, in the same order, as the
    whole selection (its answers: the byte-identical rank cases above)."""
    from hotspot_app.core.selection import Selection
    from hotspot_app.questions import rank, selected

    found = selected.read([loaded["ws"]], selected.rank_selection("asb")).incidents
    every = selected.read([loaded["ws"]], Selection(category=["asb"])).incidents
    assert "incident_id" not in found.columns and {"incident_id", "lsoa_code", "context"} <= set(every.columns)
    assert set(found.columns) == {"geometry", *rank.COLUMNS_USED} & set(every.columns)
    assert len(found) == len(every) > 0
    for col in ("month", "category", "kind", "location"):
        assert found[col].tolist() == every[col].tolist()
    assert found.geometry.equals(every.geometry)
