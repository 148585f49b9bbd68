"""Reading a batch of files at a time (`ingest.IncidentBatches`, what `hotspot ingest --into`
uses): the same incidents, in the same order, with the same summary, rejects and warnings as
`read_incidents` on the same files, however the files are split into batches; an id repeated in
a later batch is rejected as it is in one read."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from geopandas.testing import assert_geodataframe_equal

from hotspot_app.core import settings
from hotspot_app.io import ingest, workspace

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context\n")


def _street(path: Path, month: str, rows: list[tuple[str, str, str]]) -> Path:
    """A police.uk street file: (crime id, crime type, longitude) per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{cid},{month},Cleveland Police,Cleveland Police,{lon},54.57,On or near X,E01,Y 001,{ct},,\n"
             for cid, ct, lon in rows]
    path.write_text(HEADER + "".join(lines))
    return path


def _both(paths, batch_bytes: int):
    one = ingest.read_incidents(paths)
    batches = ingest.IncidentBatches(paths, batch_bytes=batch_bytes)
    frames = list(batches)
    return one, batches, frames


def _values(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Extra text columns are categoricals of each read's own values: compared by value."""
    cats = [c for c in gdf.columns if isinstance(gdf[c].dtype, pd.CategoricalDtype)]
    return gdf.astype({c: object for c in cats})


def _same_as_one_read(one, batches, frames) -> None:
    whole = gpd.GeoDataFrame(pd.concat([_values(f) for f in frames], ignore_index=True), crs=settings.CRS)
    assert_geodataframe_equal(whole, _values(one.incidents))
    assert batches.summary == one.summary
    pd.testing.assert_frame_equal(batches.rejects, one.rejects)


def test_batches_of_real_months_give_the_one_read(realdata):
    files = sorted((realdata / "police_cleveland").glob("2024-0[1-6]-cleveland-street.csv"))
    one, batches, frames = _both(files, batch_bytes=1)  # one file a batch
    assert len(frames) == 6
    assert [sorted(set(f["month"])) for f in frames] == [[f"2024-0{m}"] for m in range(1, 7)]
    _same_as_one_read(one, batches, frames)
    assert one.summary["loaded"] == sum(len(f) for f in frames)


def test_an_id_repeated_in_a_later_batch_is_rejected_as_in_one_read(tmp_path):
    a = _street(tmp_path / "a" / "2024-01-x-street.csv", "2024-01",
                [("aa01", "Burglary", "-1.20"), ("aa02", "Shoplifting", "-1.21"), ("", "Anti-social behaviour", "-1.22")])
    b = _street(tmp_path / "b" / "2024-02-x-street.csv", "2024-02",
                [("aa02", "Burglary", "-1.23"), ("bb01", "Drugs", "-1.24"), ("aa01", "Robbery", "-1.25")])
    copy = tmp_path / "c" / "2024-01-x-street.csv"  # the January file again (e.g. from the zip too)
    copy.parent.mkdir()
    shutil.copyfile(a, copy)
    paths = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    one, batches, frames = _both(paths, batch_bytes=1)
    assert [len(f) for f in frames] == [3, 1, 0]
    _same_as_one_read(one, batches, frames)
    assert one.summary["rejected_by_reason"] == {"duplicate id": 5}
    assert batches.rejects["value"].tolist() == ["aa02", "aa01", "aa01", "aa02",
                                                 batches.rejects["value"].iloc[4]]
    assert batches.rejects["value"].iloc[4].startswith("asb-")  # the ASB row of the copy, same generated id
    assert [w for w in batches.summary["warnings"] if "incident ID" in w] == [
        "5 rows repeat an incident ID already loaded from the same source; the first was kept and the "
        "others were not loaded (listed as 'duplicate id' in the rejects)"]


def test_repeats_are_found_after_the_id_bitmap_grows(tmp_path, monkeypatch):
    """The bitmap of loaded ids starts small and is rebuilt larger as batches load: an id
    repeated from the first batch is still found after each rebuild."""
    monkeypatch.setattr(ingest._Earlier, "MIN_BITS", 4)
    seen_bits = []
    real_fit = ingest._Earlier._fit

    def fit(self, rows):
        built = real_fit(self, rows)
        seen_bits.append(self.bits)
        return built

    monkeypatch.setattr(ingest._Earlier, "_fit", fit)
    months = []
    for m in range(1, 5):
        rows = [(f"m{m}-{k:03d}", "Burglary", f"-1.{k:03d}") for k in range(60)]
        if m > 1:
            rows += [(f"m1-{k:03d}", "Robbery", "-1.5") for k in range(m * 3)]  # repeats of January
        months.append(_street(tmp_path / f"2024-0{m}-x-street.csv", f"2024-0{m}", rows))
    one, batches, frames = _both(months, batch_bytes=1)
    assert seen_bits[0] < seen_bits[-1]  # (it grew, and was rebuilt from the stored keys)
    assert one.summary["rejected_by_reason"] == {"duplicate id": 6 + 9 + 12}
    assert [len(f) for f in frames] == [60, 60, 60, 60]
    _same_as_one_read(one, batches, frames)


def test_ids_that_share_a_key_but_differ_are_both_kept_across_batches(tmp_path, monkeypatch):
    """Keys are fast, not unique: two different ids with one key in different batches are both
    loaded (the earlier batch is read again to compare the ids themselves)."""
    from hotspot_app.io.ingest import incident_ids

    monkeypatch.setattr(incident_ids, "id_keys", lambda ids: __import__("numpy").zeros(len(ids), "uint64"))
    a = _street(tmp_path / "2024-01-x-street.csv", "2024-01", [("id-one", "Burglary", "-1.20")])
    b = _street(tmp_path / "2024-02-x-street.csv", "2024-02", [("id-two", "Burglary", "-1.21")])
    batches = ingest.IncidentBatches([a, b], batch_bytes=1)
    frames = list(batches)
    assert [f["incident_id"].tolist() for f in frames] == [["id-one"], ["id-two"]]
    assert batches.summary["rejected"] == 0


def test_a_repeat_is_told_from_ids_sharing_its_key_in_other_batches(tmp_path, monkeypatch):
    """Every id has the same key: a real repeat of the first batch's id, met in the third batch,
    is still found (the batches holding that key are each read again), and the other ids load."""
    from hotspot_app.io.ingest import incident_ids

    monkeypatch.setattr(incident_ids, "id_keys", lambda ids: __import__("numpy").zeros(len(ids), "uint64"))
    a = _street(tmp_path / "2024-01-x-street.csv", "2024-01", [("id-one", "Burglary", "-1.20")])
    b = _street(tmp_path / "2024-02-x-street.csv", "2024-02", [("id-two", "Burglary", "-1.21")])
    c = _street(tmp_path / "2024-03-x-street.csv", "2024-03", [("id-three", "Burglary", "-1.22"),
                                                               ("id-one", "Robbery", "-1.23")])
    batches = ingest.IncidentBatches([a, b, c], batch_bytes=1)
    frames = list(batches)
    assert [f["incident_id"].tolist() for f in frames] == [["id-one"], ["id-two"], ["id-three"]]
    assert batches.summary["rejected_by_reason"] == {"duplicate id": 1}
    assert batches.rejects["value"].tolist() == ["id-one"]


def test_cli_ingest_into_a_workspace_equals_ingest_out(realdata, tmp_path, monkeypatch):
    """`ingest --into` (in batches) and `ingest --out` (one read) store the same incidents."""
    from typer.testing import CliRunner

    from hotspot_app.cli import app

    monkeypatch.setattr(settings, "INGEST_BATCH_BYTES", 1)
    files = [str(p) for p in sorted((realdata / "police_cleveland").glob("2023-0[1-4]-cleveland-street.csv"))]
    runner = CliRunner()
    r1 = runner.invoke(app, ["ingest", *files, "--into", str(tmp_path / "ws.gpkg"), "--format", "json"])
    r2 = runner.invoke(app, ["ingest", *files, "--out", str(tmp_path / "one.parquet"), "--format", "json"])
    assert r1.exit_code == 0 and r2.exit_code == 0, (r1.output, r2.output)
    import json

    d1, d2 = json.loads(r1.stdout), json.loads(r2.stdout)
    assert {k: d1[k] for k in d2} == d2
    assert d1["workspace"]["added"] == d2["loaded"]
    stored = workspace.GeopackageWorkspace(tmp_path / "ws.gpkg").incidents()
    read = ingest.read_incidents([tmp_path / "one.parquet"]).incidents
    assert stored["incident_id"].tolist() == read["incident_id"].tolist()
    assert stored.geometry.distance(read.geometry).max() == 0


def test_batches_share_one_point_per_location_across_months(tmp_path):
    """A batched load reprojects each snap point once (`geo.Places`): the rows of every month at
    one location share one Point, at the coordinates a one-file read gives."""
    jan = _street(tmp_path / "2024-01-x-street.csv", "2024-01",
                  [("j1", "Burglary", "-1.20"), ("j2", "Drugs", "-1.3")])
    feb = _street(tmp_path / "2024-02-x-street.csv", "2024-02",
                  [("f1", "Burglary", "-1.2"), ("f2", "Drugs", "-1.40")])  # -1.2: January's -1.20
    one, batches, frames = _both([jan, feb], batch_bytes=1)
    _same_as_one_read(one, batches, frames)
    assert frames[0].geometry.values[0] is frames[1].geometry.values[0]
    from hotspot_app.io.ingest import geo

    x, y = geo.to_bng(np.array([-1.2, -1.3, -1.4]), np.array([54.57] * 3))
    got = [(p.x, p.y) for p in (frames[0].geometry.values[0], frames[0].geometry.values[1],
                                frames[1].geometry.values[1])]
    assert got == list(zip(x.tolist(), y.tolist()))
