"""Reliability suite, issue 22 (edits that never hit the wrong record), by class: edits by version,
demo and real data never mixed, workspace guards, every failure a clear line. The workspace
contract cases run on both backends (GeoPackage and a real throwaway PostGIS, tests/pg.py).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from hotspot_app.cli import app
from hotspot_app.core import schema, settings
from hotspot_app.core.errors import ConflictError, HotspotError, InputError
from hotspot_app.io import ingest, workspace
from reliability import makers as mk

pytest_plugins = ["pg"]

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def one_line_error(result, fragment: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert fragment in errors[0], errors[0]
    return errors[0]


def incidents(month: str, n: int, start: int = 0):
    data = pd.DataFrame({"incident_id": [f"c{month}-{start + i}" for i in range(n)], "month": [month] * n,
                         "category": ["Burglary"] * n, "x": [450000.0 + 10 * (start + i) for i in range(n)],
                         "y": [515000.0] * n})
    return schema.make_incidents(data, source="police-uk").assign(provider="Cleveland Police")


def areas(names, layer: str, x0: float = 450000, ids=None):
    raw = gpd.GeoDataFrame({"name": list(names)},
                           geometry=[box(x0 + 300 * i, 515000, x0 + 300 * i + 200, 515200) for i in range(len(names))],
                           crs=settings.CRS)
    if ids is not None:
        raw["id"] = list(ids)
    return schema.make_areas(raw, name="name", layer=layer, area_id="id" if ids is not None else None)


@pytest.fixture(params=["gpkg", "postgis"])
def ws(request, tmp_path):
    if request.param == "gpkg":
        return workspace.open_workspace(tmp_path / "ws.gpkg")
    return workspace.open_workspace(request.getfixturevalue("pg_url"))


def _target(ws) -> str:
    return ws.url if hasattr(ws, "url") else str(ws.path)


def _interventions(ws, *names):
    return [ws.add_intervention(n, "lighting", "2024-01-01", geometry=box(450000, 515000, 450100, 515100),
                                user="setup") for n in names]


# =============================================================================== edits by version
class TestEditsByVersion:
    """Why: "A stale delete removes a different record" (int-3 reused by Delta), "the second save
    silently reverts the first's end date and notes", "on PostGIS a deleted intervention or area
    cannot be recovered"."""

    def test_a_stale_delete_is_refused_and_ids_are_never_reused(self, ws):
        _interventions(ws, "Alpha patrols", "Bravo CCTV", "Charlie lighting")
        seen = ws.record_versions("intervention")  # user A opens the Data page
        assert seen == {"int-1": 1, "int-2": 1, "int-3": 1}
        ws.delete_intervention("int-3", user="bob", record_version=1)  # meanwhile, elsewhere
        assert _interventions(ws, "Delta youth club") == ["int-4"]  # never int-3 again
        with pytest.raises(ConflictError) as err:
            ws.delete_intervention("int-3", user="ann", record_version=seen["int-3"])  # A clicks Delete
        text = str(err.value)
        assert text.startswith("'Charlie lighting' (int-3) changed since you opened it (deleted by bob at ")
        assert text.endswith("; reload and try again") and "\n" not in text
        assert ws.interventions()["name"].tolist() == ["Alpha patrols", "Bravo CCTV", "Delta youth club"]

    def test_a_second_save_from_an_old_page_is_refused(self, ws):
        (iid,) = _interventions(ws, "Precinct patrols")
        a = b = ws.record_versions("intervention")[iid]  # two sessions open the same record
        ws.update_intervention(iid, end="2024-06-30", notes="evenings only", user="ann", record_version=a)
        with pytest.raises(ConflictError, match=r"'Precinct patrols' \(int-1\) changed since you opened it "
                                                r"\(changed by ann at "):
            ws.update_intervention(iid, name="Precinct foot patrols", user="bob", record_version=b)
        got = ws.interventions().iloc[0]
        assert (got["name"], got["end"], got["notes"]) == ("Precinct patrols", pd.Timestamp("2024-06-30"),
                                                           "evenings only")
        assert ws.record_versions("intervention") == {iid: 2}
        ws.update_intervention(iid, name="Precinct foot patrols", user="bob", record_version=2)  # after a reload
        assert ws.interventions()["name"].tolist() == ["Precinct foot patrols"]

    def test_a_stale_area_delete_is_refused(self, ws):
        ws.write_areas(areas(["North", "South"], "ward"), user="setup")
        seen = ws.record_versions("area")
        assert seen == {"ward-1": 1, "ward-2": 1}
        changed = ws.areas("ward").assign(population=[100.0, 200.0])
        ws.write_areas(changed, user="bob")  # someone sets the population meanwhile
        with pytest.raises(ConflictError, match=r"'North' \(ward-1\) changed since you opened it \(changed by bob"):
            ws.delete_area("ward-1", user="ann", record_version=seen["ward-1"])
        assert ws.areas("ward")["name"].tolist() == ["North", "South"]

    def test_deleted_interventions_and_areas_are_restored_as_they_were(self, ws):
        ws.write_areas(areas(["North", "South"], "ward"), user="setup")
        (iid,) = _interventions(ws, "Charlie lighting")
        before_iv, before_area = ws.interventions(), ws.areas("ward")
        ws.update_intervention(iid, notes="=HYPERLINK(x) kept as text", user="ann")
        before_iv = ws.interventions()
        ws.delete_intervention(iid, user="bob")
        ws.delete_area("ward-2", user="bob")
        gone = ws.deleted()
        assert gone[["kind", "id", "name", "deleted_by"]].values.tolist() == [
            ["area", "ward-2", "South", "bob"], ["intervention", iid, "Charlie lighting", "bob"]]
        assert ws.restore("intervention", iid, user="cat") == "Charlie lighting"
        assert ws.restore("area", "ward-2", user="cat") == "South"
        from geopandas.testing import assert_geodataframe_equal

        assert_geodataframe_equal(ws.interventions(), before_iv)
        assert_geodataframe_equal(ws.areas("ward"), before_area)
        assert ws.deleted().empty
        assert ws.audit()["action"].tolist()[-2:] == ["intervention_restored", "area_restored"]
        with pytest.raises(InputError, match="no deleted intervention 'int-1' to restore"):
            ws.restore("intervention", iid)
        assert ws.record_versions("intervention") == {iid: 4}  # added, edited, deleted, restored
        ws.write_areas(areas(["Lonely"], "patrol"), user="ann")  # the only area of its layer
        lonely = ws.areas("patrol")
        ws.delete_area("patrol-1", user="bob")
        assert "patrol" not in ws.area_layers()
        ws.restore("area", "patrol-1", user="cat")
        assert_geodataframe_equal(ws.areas("patrol"), lonely)

    def test_replaced_layer_areas_are_kept_for_restoring(self, ws):
        ws.write_areas(areas(["Precinct", "Station Road"], "micro_hotspot"), user="setup")
        ws.write_areas(areas(["Market Square"], "micro_hotspot", ids=["micro_hotspot-9"]), user="ann")
        assert ws.deleted()["name"].tolist() == ["Station Road", "Precinct"]

    def test_the_data_page_refuses_a_stale_delete_and_restores(self, tmp_path, monkeypatch):
        from streamlit.testing.v1 import AppTest

        from hotspot_app.ui import source

        path = tmp_path / "workspace.gpkg"
        ws = workspace.open_workspace(path)
        ws.load_incidents(incidents("2024-01", 5), user="setup")
        _interventions(ws, "Alpha patrols", "Bravo CCTV", "Charlie lighting")
        monkeypatch.setattr(settings, "WORKSPACE", path)
        monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
        at = AppTest.from_file(APP, default_timeout=180)
        at.session_state["source"] = source.workspace_key(path)
        at.run()
        at.switch_page("hotspot_app/ui/pages/data.py").run()
        at.selectbox(key="dt-ed-iv").set_value("int-3").run()
        at.checkbox(key="dt-del-iv-ok-int-3").check().run()
        assert not at.exception, at.exception
        ws.delete_intervention("int-3", user="bob")  # another user, meanwhile
        ws.add_intervention("Delta youth club", "other", "2024-03-01", geometry=box(0, 0, 1, 1), user="bob")
        at.button(key="dt-del-iv").click().run()
        assert not at.exception, at.exception
        assert any(e.value.startswith("'Charlie lighting' (int-3) changed since you opened it (deleted by bob")
                   for e in at.error), [e.value for e in at.error]
        assert not [s for s in at.success if "Deleted" in s.value]
        assert workspace.open_workspace(path).interventions()["name"].tolist() == [
            "Alpha patrols", "Bravo CCTV", "Delta youth club"]
        at.button(key="dt-reload").click().run()  # the user reloads: the deleted one can be restored
        assert "Recently deleted" in [h.value for h in at.subheader]
        at.selectbox(key="dt-restore-pick").set_value("intervention:int-3").run()
        at.button(key="dt-restore").click().run()
        assert not at.exception, at.exception
        assert at.success[0].value == "Restored 'Charlie lighting'."
        assert workspace.open_workspace(path).interventions()["intervention_id"].tolist() == [
            "int-1", "int-2", "int-4", "int-3"]


# =============================================================================== demo never mixed
class TestDemoNeverMixed:
    """Why: "Drawing a micro-hotspot in the first view (the demo) copies 65,216 synthetic incidents
    into the workspace as source police-uk, unlabelled; adding real data then mixes them"."""

    def test_drawing_on_the_demo_starts_a_new_empty_workspace(self, tmp_path, demo):
        from hotspot_app.ui import source

        path = tmp_path / "workspace.gpkg"
        key = source.add_drawn_intervention(source.DEMO, path, box(450000, 515000, 450100, 515100),
                                            "Precinct patrols", "patrols", "2024-01-01", None, None)
        ws = workspace.open_workspace(path)
        assert ws.coverage().empty and ws.loads().empty  # not one synthetic incident
        assert ws.areas("micro_hotspot")["name"].tolist() == ["Precinct patrols"]
        assert ws.interventions()["name"].tolist() == ["Precinct patrols"]
        assert source.target_of(key) == str(path.resolve())

    def test_synthetic_rows_say_so(self, demo):
        from hotspot_app.io.workspace import base

        providers = set(base.coverage_of(base.with_provider(demo.incidents))["provider"])
        assert providers == {"Synthetic Demo Constabulary", "Synthetic Demo Fire and Rescue Service"}

    def test_the_demo_workspace_is_never_written(self, tmp_path, monkeypatch):
        monkeypatch.setattr(settings, "DEMO_DIR", tmp_path / "demo")
        target = tmp_path / "demo" / "workspace.gpkg"
        month = mk.police_file(tmp_path, [mk.police_row(f"c{i}") for i in range(3)])
        one_line_error(invoke("ingest", month, "--into", target), "the synthetic demo is read-only")
        assert not target.exists()
        from hotspot_app.questions import load

        with pytest.raises(InputError, match="the synthetic demo is read-only"):
            load.load(target, ingest.read_incidents([month]))


# =============================================================================== workspace guards
class TestWorkspaceGuards:
    """Why: "ingest MONTH.csv --out workspace.gpkg over an existing workspace replaces its incidents
    without a word"; "adding a boundary file as micro hotspot replaces every drawn micro-hotspot";
    "a layer deleted by hand (e.g. in QGIS) goes unnoticed"; the CLI loaded 0 rows and did not
    record each file read."""

    def test_out_onto_an_existing_workspace_is_refused(self, tmp_path):
        path = tmp_path / "workspace.gpkg"
        jan = mk.police_file(tmp_path, [mk.police_row(f"c{i}") for i in range(4)])
        assert invoke("ingest", jan, "--into", path).exit_code == 0
        before = path.read_bytes()
        feb = mk.police_file(tmp_path, [mk.police_row("f1", month="2024-02")], name="2024-02-cleveland-street.csv")
        one_line_error(invoke("ingest", feb, "--out", path),
                       f"{path} is a workspace: --out would replace everything in it; use --into {path}")
        assert path.read_bytes() == before

    def test_boundaries_are_added_to_their_layer_not_over_it(self, tmp_path):
        from hotspot_app.ui import source

        path = tmp_path / "workspace.gpkg"
        ws = workspace.open_workspace(path)
        ws.load_incidents(incidents("2024-01", 3), user="setup")
        source.add_drawn_intervention(source.workspace_key(path), path, box(450000, 515000, 450100, 515100),
                                      "Drawn precinct", "patrols", "2024-01-01", None, None)
        file_areas = areas(["Station Road", "Market"], "micro_hotspot", x0=451000)  # ids micro_hotspot-1, -2
        source.add_to_workspace(path, None, file_areas)
        got = workspace.open_workspace(path).areas("micro_hotspot")
        assert got["name"].tolist() == ["Drawn precinct", "Station Road", "Market"]
        assert got["area_id"].tolist() == ["micro_hotspot-drawn-1", "micro_hotspot-1", "micro_hotspot-2"]
        source.add_to_workspace(path, None, file_areas)  # the same file again: updated, not doubled
        assert len(workspace.open_workspace(path).areas("micro_hotspot")) == 3
        other = areas(["Bus station"], "micro_hotspot", x0=452000)  # another file: its id is taken
        source.add_to_workspace(path, None, other)
        got = workspace.open_workspace(path).areas("micro_hotspot")
        assert got[["area_id", "name"]].values.tolist()[-1] == ["micro_hotspot-added-1", "Bus station"]
        assert source.last_load(path).warnings == [
            "1 of the new micro hotspot areas had an id already used by another area; they were given new ids"]

    def test_replacing_a_layer_must_be_confirmed_and_keeps_the_old_areas(self, tmp_path):
        from hotspot_app.questions import load

        path = tmp_path / "workspace.gpkg"
        workspace.open_workspace(path).write_areas(areas(["Precinct", "Station Road"], "micro_hotspot"))
        new = areas(["Market"], "micro_hotspot", ids=["mh-market"])
        with pytest.raises(InputError, match="parameter 'replace-areas': replacing a whole area layer must be confirmed"):
            load.load(path, None, new, replace_areas=True)
        answer = load.load(path, None, new, replace_areas=True, confirmed=True)
        assert answer.areas == {"micro_hotspot": {"added": 1, "updated": 0, "renumbered": 0, "replaced": 2}}
        ws = workspace.open_workspace(path)
        assert ws.areas("micro_hotspot")["name"].tolist() == ["Market"]
        assert sorted(ws.deleted()["name"]) == ["Precinct", "Station Road"]

    def test_a_layer_deleted_outside_the_tool_is_detected_on_open(self, tmp_path):
        path = tmp_path / "workspace.gpkg"
        ws = workspace.open_workspace(path)
        ws.load_incidents(incidents("2024-01", 3), user="setup")
        ws.write_areas(areas(["Precinct", "Station Road"], "micro_hotspot"), user="setup")
        con = sqlite3.connect(path)  # what deleting the layer in QGIS does
        with con:
            con.execute('DROP TABLE "areas__micro_hotspot"')
            con.execute("DELETE FROM gpkg_contents WHERE table_name = 'areas__micro_hotspot'")
            con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'areas__micro_hotspot'")
            con.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'areas__micro_hotspot'")
        con.close()
        with pytest.raises(InputError) as err:
            workspace.open_workspace(path)
        assert str(err.value) == (
            f"{path}: layer 'areas__micro_hotspot' (2 rows) was removed outside hotspot_app; restore a "
            "backup, or accept the workspace as it is now with `hotspot audit WORKSPACE --accept-changes`")
        one_line_error(invoke("clusters", path, "--eps-m", "100", "--min-samples", "2"),
                       "layer 'areas__micro_hotspot' (2 rows) was removed outside hotspot_app")
        one_line_error(invoke("audit", path, "--verify"), "was removed outside hotspot_app")
        r = invoke("audit", path, "--accept-changes")
        assert r.exit_code == 0 and r.stdout.startswith("Accepted 1 change(s) made outside hotspot_app")
        ws = workspace.open_workspace(path)
        assert ws.area_layers() == [] and ws.audit()["action"].tolist()[-1] == "changes_accepted"
        assert invoke("audit", path, "--verify").exit_code == 0

    def test_rows_deleted_outside_the_tool_are_detected(self, tmp_path):
        import pyarrow.parquet as pq

        path = tmp_path / "workspace.gpkg"
        ws = workspace.open_workspace(path)
        ws.load_incidents(incidents("2024-01", 5), user="setup")
        (part,) = ws.store.root.rglob("*.parquet")  # the month's file, rewritten without 2 rows
        pq.write_table(pq.read_table(part).slice(2), part)
        with pytest.raises(InputError, match=r"incidents file month=2024-01/provider=Cleveland%20Police/.*\.parquet "
                                             "was changed outside hotspot_app"):
            workspace.open_workspace(path)

    def test_postgis_tables_dropped_or_state_row_deleted_are_detected(self, pg_url, tmp_path):
        import psycopg

        ws = workspace.open_workspace(pg_url)
        ws.write_areas(areas(["North"], "ward"), user="setup")
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute('DROP TABLE "areas__ward"')
        with pytest.raises(InputError, match="table 'areas__ward' was removed outside hotspot_app"):
            workspace.open_workspace(pg_url)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DELETE FROM hotspot_state")
        r = invoke("ingest", mk.police_file(tmp_path, [mk.police_row("s1")]), "--into", pg_url)
        one_line_error(r, "the workspace's state row is missing")
        assert invoke("audit", pg_url, "--accept-changes").exit_code == 0
        assert workspace.open_workspace(pg_url).audit()["action"].tolist()[-1] == "changes_accepted"
        assert invoke("audit", pg_url, "--verify").exit_code == 0

    def test_a_zero_row_load_is_refused_and_nothing_is_written(self, tmp_path):
        path = tmp_path / "workspace.gpkg"
        month = mk.police_file(tmp_path, [mk.police_row("c1", lat=""), mk.police_row("c2", lat="")])
        line = one_line_error(invoke("ingest", month, "--into", path), "nothing to load: none of the 2 rows read")
        assert "2024-01-cleveland-street.csv" in line and "no location: 2" in line
        assert not path.exists()

    def test_every_file_read_is_recorded(self, tmp_path):
        folder = tmp_path / "police"
        folder.mkdir()
        mk.police_file(folder, [mk.police_row("j1")], name="2024-01-cleveland-street.csv")
        mk.police_file(folder, [mk.police_row("f1", month="2024-02")], name="2024-02-cleveland-street.csv")
        path = tmp_path / "workspace.gpkg"
        assert invoke("ingest", folder, "--into", path).exit_code == 0
        assert workspace.open_workspace(path).loads()["files"].tolist() == [
            ["2024-01-cleveland-street.csv", "2024-02-cleveland-street.csv"]]


# =============================================================================== clear failures
class TestEveryFailureOneLine:
    """Why: "Failures that still print tracebacks or mislead" - each case ends in one line naming
    the file, row, column or parameter, and leaves the previous state intact."""

    def test_control_characters_in_an_area_name_in_xlsx_and_docx(self):
        from openpyxl import load_workbook
        import io

        from hotspot_app.render import xlsx
        from hotspot_app.render.pack.model import Pack, Section
        from hotspot_app.render.pack.output import render_docx

        name = "Bell\x07 Street\x00ward"
        data = xlsx.workbook([xlsx.sheet_of(pd.DataFrame({"area": [name, "=cmd"], "count": [3, 4]}), "Areas")])
        cells = [c.value for c in load_workbook(io.BytesIO(data)).worksheets[0]["A"] if c.value]
        assert "Bell\ufffd Street\ufffdward" in cells and "'=cmd" in cells
        pack = Pack(title="Pack \x01", subtitle="", label="", sections=[Section("Areas", [f"Top: {name}"])],
                    about=Section("About", []), warnings=[])
        from docx import Document

        doc = Document(io.BytesIO(render_docx(pack)))
        assert "Top: Bell\ufffd Street\ufffdward" in [p.text for p in doc.paragraphs]

    def test_kml_names_are_escaped_once(self, tmp_path):
        from hotspot_app.io import geofiles

        patrol = gpd.GeoDataFrame({"rank": [1], "name": ["Fish & Chips <Corner>"], "count": [12],
                                   "description": ["12 incidents & more"]},
                                  geometry=[box(450000, 515000, 450100, 515100)], crs=settings.CRS)
        out = geofiles.write_patrol_areas(patrol, tmp_path / "patrol.kml")
        text = out.read_text()
        assert "<name>#1 Fish &amp; Chips &lt;Corner&gt;</name>" in text  # once (was "&amp;amp;")
        back = gpd.read_file(out)
        assert back["Name"].tolist() == ["#1 Fish & Chips <Corner>"]
        assert back["description"].tolist() == ["12 incidents &amp; more"]  # HTML for the balloon

    def test_a_deeply_nested_spec_is_one_line(self, tmp_path):
        spec = tmp_path / "deep.yaml"
        spec.write_text("sections: " + "[" * 20000 + "]" * 20000 + "\n")
        r = invoke("report", spec, "--out", tmp_path / "x.html")
        one_line_error(r, "deep.yaml: nested too deeply to be a report spec")
        assert len(r.stderr.splitlines()) == 1

    def test_postgis_connection_killed_mid_load_is_one_line_and_nothing_changes(self, pg_url, monkeypatch):
        from sqlalchemy import text

        from hotspot_app.io.workspace import postgis

        ws = workspace.open_workspace(pg_url)
        ws.load_incidents(incidents("2024-01", 3), user="ann")
        version, real_put = ws.version(), postgis.PostgisWorkspace._put

        def killed(self, conn, table, df, replace=False):
            real_put(self, conn, table, df, replace)
            conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))  # the server kills us

        monkeypatch.setattr(postgis.PostgisWorkspace, "_put", killed)
        with pytest.raises(HotspotError) as err:
            ws.load_incidents(incidents("2024-02", 2), user="ann")
        assert str(err.value).startswith(f"{ws.where}: the database write failed (")
        assert str(err.value).endswith("it was rolled back, the workspace is unchanged") and "\n" not in str(err.value)
        monkeypatch.setattr(postgis.PostgisWorkspace, "_put", real_put)
        again = workspace.open_workspace(pg_url)
        assert again.version() == version and len(again.incidents()) == 3 and len(again.loads()) == 1

    def test_postgis_column_names_over_63_bytes_are_one_line(self, pg_url):
        ws = workspace.open_workspace(pg_url)
        long = "a_very_long_column_name_describing_the_incident_location_in_detail_x"
        with pytest.raises(InputError) as err:
            ws.load_incidents(incidents("2024-01", 2).assign(**{long: "x"}), user="ann")
        assert f"column '{long}'" in str(err.value) and "longer than 63 bytes" in str(err.value)
        assert ws.coverage().empty and ws.loads().empty

    def test_a_workspace_is_incidents_for_ingest_too(self, pg_url, tmp_path):
        workspace.open_workspace(pg_url).load_incidents(incidents("2024-01", 4), user="ann")
        out = tmp_path / "all.csv"
        r = invoke("ingest", pg_url, "--out", out, "--format", "json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["loaded"] == 4 and len(pd.read_csv(out)) == 4

    def test_formula_text_from_a_spatial_file_is_neutralised_not_an_arrow_error(self, tmp_path):
        layer = gpd.GeoDataFrame({"id": ["a", "b"], "date": ["2024-01-05"] * 2, "category": ["=cmd", "Burglary"],
                                  "note": ["@y", "-z"]},
                                 geometry=[Point(450000, 520000), Point(0, 0)], crs="EPSG:27700")
        src = tmp_path / "incidents.gpkg"
        layer.to_file(src)
        r = invoke("ingest", src, "--out", tmp_path / "o.csv", "--rejects", tmp_path / "r.csv")
        assert r.exit_code == 0, r.output
        text = (tmp_path / "o.csv").read_text()
        assert "\"'=cmd\"" in text and "\"'@y\"" in text
        assert len(pd.read_csv(tmp_path / "r.csv")) == 1

    def test_grid_out_into_an_unwritable_place_is_one_line(self, tmp_path):
        src = mk.police_file(tmp_path, [mk.police_row(f"c{i}") for i in range(5)])
        for out in (src / "cells.gpkg", src / "cells.geojson", Path("/proc/cells.gpkg")):
            one_line_error(invoke("grid", src, "--cell-m", "250", "--out", out), f"{out}: could not write")

    def test_a_nul_in_a_field_rejects_the_row_naming_the_column(self, tmp_path):
        rows = [mk.police_row(f"c{i}") for i in range(3)]
        rows[1] = rows[1].replace("On or near A Street", "On or near A\x00Z Street")
        res = ingest.read_incidents([mk.police_file(tmp_path, rows)])
        assert (res.summary["read"], res.summary["loaded"], res.summary["rejected"]) == (3, 2, 1)
        assert res.rejects[["row", "column", "reason", "value"]].values.tolist() == [
            [2, "Location", "NUL character", "On or near A\\x00Z Street"]]

    def test_a_column_named_twice_is_one_line(self, tmp_path):
        f = mk.text_file(tmp_path, "dup.csv", ["id,date,category,easting,northing,Category",
                                              "1,2024-01-05,Burglary,450000,520000,Robbery"])
        one_line_error(invoke("ingest", f, "--out", tmp_path / "o.csv"),
                       "dup.csv, column 'Category': the header names this column twice (columns 3 and 6)")

    def test_a_geopackage_layer_that_cannot_be_read_is_never_skipped_quietly(self, tmp_path):
        src = tmp_path / "incidents.gpkg"
        mk.points_layer(4, "Burglary").to_file(src, layer="burglary")
        mk.points_layer(3, "Robbery", x0=451000).to_file(src, layer="robbery")
        mk.points_layer(5, "Theft", x0=452000).rename(columns={"date": "reported_on"}).to_file(src, layer="thefts")
        one_line_error(invoke("ingest", src, "--out", tmp_path / "o.csv"),
                       "layer 'thefts' (5 rows) looks like incidents but has no date or month column")
        r = invoke("ingest", src, "--layer", "burglary", "--out", tmp_path / "o.csv", "--format", "json")
        assert json.loads(r.stdout)["loaded"] == 4

    def test_degrees_in_easting_northing_rows_are_rejected_not_put_in_the_sea(self, tmp_path):
        f = mk.text_file(tmp_path, "norwich.csv", ["id,date,category,easting,northing",
                                                  "1,2024-01-05,Burglary,1.2974,52.6309",
                                                  "2,2024-01-06,Burglary,623000,308000"])
        res = ingest.read_incidents([f])
        assert res.summary["loaded"] == 1 and res.rejects[["row", "column", "reason", "value"]].values.tolist() == [
            [1, "easting", "degrees in easting/northing", "1.2974,52.6309"]]
        assert res.incidents.geometry.iloc[0].equals(Point(623000, 308000))

    def test_a_bad_number_is_one_line_not_a_box(self, tmp_path):
        src = mk.police_file(tmp_path, [mk.police_row("c1")])
        r = invoke("clusters", src, "--eps-m", "abc", "--min-samples", "5")
        line = one_line_error(r, "Invalid value for '--eps-m'")
        assert len(r.stderr.splitlines()) == 1 and "╭" not in r.stderr and line.startswith("error: ")
        r = invoke("clusters", src, "--no-such-option")
        one_line_error(r, "No such option: --no-such-option")
