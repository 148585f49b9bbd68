"""The synthetic demo borough: deterministic, realistic volumes, and the planted truth is there."""

from __future__ import annotations

import json
import shutil
from itertools import combinations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Transformer
from typer.testing import CliRunner

from hotspot_app.core import areas, periods, schema, settings, taxonomy
from hotspot_app.io import demo as demo_mod
from hotspot_app.cli import app


@pytest.fixture(scope="module")
def fresh():
    return demo_mod.generate()


def _xy(gdf):
    return gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()


def test_generation_is_deterministic_and_equals_what_load_reads_back(demo, fresh):
    again = demo_mod.generate()
    for name in ("incidents", "wards", "town_centres", "micro_hotspots", "interventions"):
        assert_geodataframe_equal(getattr(again, name), getattr(fresh, name))
        # the session fixture went through the files (workspace.gpkg): identical tables
        assert_geodataframe_equal(getattr(demo, name), getattr(fresh, name))
    assert again.truth == fresh.truth
    assert demo.truth == json.loads(json.dumps(fresh.truth))


def test_load_is_cached_per_folder(demo):
    assert demo_mod.load(demo.dir) is demo


def test_volumes_months_and_categories(demo):
    inc, truth = demo.incidents, demo.truth
    months = periods.month_range("2021-01", "2024-03")
    assert truth["months"] == {"from": "2021-01", "to": "2024-03"}
    assert len(inc) <= 80_000 and len(inc) == truth["volumes"]["rows"]
    per_month = inc.groupby(["kind", "month"]).size()
    for kind in ("crime", "asb", "fire"):
        assert per_month[kind].index.tolist() == months        # every month covered
    assert per_month["crime"].between(900, 1600).all()
    assert 1000 <= per_month["crime"].mean() <= 1500
    assert 300 <= per_month["asb"].mean() <= 420
    deliberate = taxonomy.select(inc, "deliberate-fires")
    monthly_deliberate = inc[deliberate].groupby("month").size()
    assert 40 <= monthly_deliberate.mean() <= 80
    assert truth["volumes"]["deliberate_fires"] == int(deliberate.sum())
    # all 14 police.uk types, classified (no Unknown), crime/asb/fire kinds from the taxonomy
    police = inc[inc["source"] == "police-uk"]
    assert police["category"].nunique() == 14
    assert (inc["group"] != "Unknown").all()
    assert set(inc.loc[inc["kind"] == "fire", "category"]) == {
        "Deliberate primary fire", "Deliberate secondary fire", "Accidental primary fire",
        "Accidental secondary fire"}
    violence = (police["category"] == "Violence and sexual offences").sum() / (police["kind"] == "crime").sum()
    assert 0.3 <= violence <= 0.42
    assert inc["incident_id"].is_unique


def test_dates_police_month_only_fires_with_times(demo):
    inc = demo.incidents
    police, fires = inc[inc["source"] == "police-uk"], inc[inc["source"] == "fire"]
    assert police["occurred"].isna().all()
    assert fires["occurred"].notna().all()
    assert (fires["occurred"].dt.strftime("%Y-%m") == fires["month"]).all()
    assert fires["occurred"].dt.hour.nunique() == 24 and (fires["occurred"].dt.minute > 0).any()
    evening = fires["occurred"].dt.hour.between(17, 23).mean()
    assert evening > 0.4


def test_police_locations_are_snapped_to_street_points(demo):
    police = demo.incidents[demo.incidents["source"] == "police-uk"]
    distinct = len(np.unique(np.column_stack(_xy(police)), axis=0))
    assert distinct == demo.truth["n_street_points"]
    assert 1500 <= distinct <= 3000
    assert len(police) / distinct > 20
    assert police["location"].str.startswith("On or near ").all()
    # one location text per point
    per_point = police.groupby([police.geometry.x, police.geometry.y])["location"].nunique()
    assert (per_point == 1).all()


def test_wards_town_centre_micro_hotspots(demo):
    wards = demo.wards
    assert len(wards) == 20 and wards["name"].is_unique and wards["area_id"].is_unique
    assert wards["area_id"].str.fullmatch(r"X05\d{6}").all()
    assert wards["population"].between(5000, 15000).all()
    assert 100_000 <= wards["population"].sum() <= 220_000
    assert set(wards["layer"]) == {"ward"}
    union = shapely.union_all(wards.geometry.values)
    assert abs(wards.geometry.area.sum() - union.area) < 1.0            # no overlaps
    assert 40e6 <= union.area <= 60e6                                   # ~50 km2
    x, y = _xy(demo.incidents)
    assert shapely.contains_xy(union, x, y).all()                       # all incidents inside
    assert (areas.join(demo.incidents, wards) != "outside").all()

    assert list(demo.town_centres["layer"]) == ["town_centre"]
    tc = demo.town_centres.geometry.iloc[0]
    assert union.contains(tc)
    micro = demo.micro_hotspots
    assert len(micro) == 3 and set(micro["layer"]) == {"micro_hotspot"}
    for geom in micro.geometry:
        minx, miny, maxx, maxy = geom.bounds
        assert 200 <= maxx - minx <= 400 and 200 <= maxy - miny <= 400
    assert micro["patrol_start"].tolist()[0] == pd.Timestamp("2023-07-01")
    assert micro["patrol_end"].tolist()[0] == pd.Timestamp("2023-12-31")
    iv = demo.interventions
    assert list(iv.columns) == schema.INTERVENTION_COLUMNS
    assert iv["type"].tolist() == ["patrols", "patrols", "patrols", "cctv"]
    assert iv["area_id"].tolist()[:3] == micro["area_id"].tolist()


def test_planted_clusters_are_where_truth_says(demo):
    inc, truth = demo.incidents, demo.truth
    clusters = truth["clusters"]
    assert [c["kind"] for c in clusters] == ["asb", "asb", "asb", "fire", "fire"]
    for a, b in combinations(clusters, 2):
        assert np.hypot(a["x"] - b["x"], a["y"] - b["y"]) > 500
    borough_km2 = shapely.union_all(demo.wards.geometry.values).area / 1e6
    for c in clusters:
        assert 50 <= c["radius_m"] <= 80
        sel = inc[taxonomy.select(inc, c["group"])]
        assert (sel["category"] == c["category"]).all()
        x, y = _xy(sel)
        d = np.hypot(x - c["x"], y - c["y"])
        inside = int((d <= c["radius_m"]).sum())
        assert inside == c["n_within_radius"] >= c["n"]
        density_inside = inside / (np.pi * c["radius_m"] ** 2 / 1e6)
        background = len(sel) / borough_km2
        assert density_inside > 30 * background, c["name"]
        # the ring just outside holds little: the cluster is compact
        ring = int(((d > c["radius_m"]) & (d <= 2 * c["radius_m"])).sum())
        assert ring < 0.1 * inside


def test_seasonality_spring_and_halloween_bonfire_peaks(demo):
    inc = demo.incidents
    cal = inc["month"].str[5:7].astype(int)

    def by_calendar_month(mask):
        return inc[mask].groupby(cal[mask]).size() / 3.25  # 39 months ~ 3.25 years

    asb = by_calendar_month(inc["kind"] == "asb")
    winter = asb[[1, 2, 12]].mean()
    assert asb[[10, 11]].mean() > 1.25 * winter
    assert asb[[4, 5]].mean() > 1.25 * winter
    fires = by_calendar_month(inc["category"] == "Deliberate secondary fire")
    assert fires.idxmax() in (4, 11)
    assert fires[[10, 11]].mean() > 2 * fires[[1, 2, 12]].mean()
    assert fires[[4]].mean() > 2 * fires[[1, 2, 12]].mean()
    nov = inc[(inc["category"] == "Deliberate secondary fire") & (cal == 11)]
    assert nov["occurred"].dt.day.between(4, 6).mean() > 0.3        # bonfire night


def test_patrol_effect_is_planted_with_displacement(demo):
    inc, truth = demo.incidents, demo.truth
    pe = truth["patrol_effect"]
    assert (pe["reduction"], pe["buffer_m"], pe["start"], pe["end"]) == (0.3, 250.0, "2023-07-01", "2023-12-31")
    assert pe["effect_months"] == periods.month_range("2023-07", "2023-12")
    micro = demo.micro_hotspots.set_index("area_id")
    polygon = micro.geometry[pe["area_id"]]
    assert micro.loc[pe["area_id"], "name"] == pe["area"]
    ring = polygon.buffer(pe["buffer_m"]).difference(polygon)
    asb = inc[inc["kind"] == "asb"]
    in_area, in_ring = areas.within(asb, polygon), areas.within(asb, ring)

    def count(mask, rng):
        return int((mask & asb["month"].isin(periods.parse_range(rng))).sum())

    before, after = count(in_area, "2022-07..2022-12"), count(in_area, "2023-07..2023-12")
    assert before >= 6 * 40                                   # >= 40 a month before patrols
    assert 0.62 <= after / before <= 0.80                     # planted: x0.7
    assert (before, after) == (pe["observed"]["area"]["2022-07..2022-12"],
                               pe["observed"]["area"]["2023-07..2023-12"])
    # a third of the removed ASB moved into the 250 m ring
    ring_before, ring_after = count(in_ring, "2022-07..2022-12"), count(in_ring, "2023-07..2023-12")
    removed = before - after
    assert 0.15 * removed <= ring_after - ring_before <= 0.6 * removed
    assert ring_after == pe["observed"]["buffer"]["2023-07..2023-12"]
    # the 2021 baseline was higher (micro-hotspot style "reduction compared to the baseline year")
    assert count(in_area, "2021-07..2021-12") > 1.3 * before
    # first half-years (no patrols in either): no change beyond Poisson noise (~3 SE of the
    # ratio of two ~280 counts), unlike the planted x0.7
    h1 = count(in_area, "2022-01..2022-06"), count(in_area, "2023-01..2023-06")
    assert 0.75 <= h1[1] / h1[0] <= 1.33
    # the other micro-hotspots have patrol dates but no planted effect
    for spec in truth["micro_hotspots"]:
        if spec["effect"]:
            continue
        m = areas.within(asb, micro.geometry[spec["area_id"]])
        ratio = count(m, "2023-07..2023-12") / count(m, "2022-07..2022-12")
        assert 0.75 <= ratio <= 1.33, spec["name"]


def test_downward_trend_ward(demo):
    inc, truth = demo.incidents, demo.truth
    ward = demo.wards[demo.wards["name"] == truth["trend"]["ward"]]
    crime = inc[(inc["kind"] == "crime") & areas.within(inc, ward.geometry.iloc[0])]
    cur = crime["month"].isin(periods.window("2024-03", 12)).sum()
    prev = crime["month"].isin(periods.shift(periods.window("2024-03", 12), -12)).sum()
    assert cur < 0.93 * prev
    # the borough as a whole is flat
    allcrime = inc[inc["kind"] == "crime"]
    cur_all = allcrime["month"].isin(periods.window("2024-03", 12)).sum()
    prev_all = allcrime["month"].isin(periods.shift(periods.window("2024-03", 12), -12)).sum()
    assert 0.95 <= cur_all / prev_all <= 1.03


def test_labelled_synthetic_everywhere(demo):
    d = demo.dir
    assert demo.truth["synthetic"] is True and demo.truth["label"] == settings.DEMO_LABEL
    assert demo.label == settings.DEMO_LABEL
    assert settings.DEMO_LABEL in (d / "README.txt").read_text()
    for name in ("wards.geojson", "town_centres.geojson", "micro_hotspots.geojson"):
        layer = pyogrio.read_dataframe(d / name)
        assert layer["synthetic"].all()
        assert "synthetic" in pyogrio.list_layers(d / name)[0][0]
    assert (pd.read_csv(d / "population.csv")["note"] == "synthetic").all()
    first = (d / "police_uk" / "2021-01" / "2021-01-demo-street.csv").read_text().splitlines()[1]
    assert "Synthetic Demo Constabulary" in first
    assert pd.read_csv(d / "fires.csv")["fire_service"].str.startswith("Synthetic").all()


def test_ward_names_are_not_real(demo, realdata):
    real = set()
    for path in list((realdata / "wards_2024").glob("*wgs84*.geojson")) + \
            list((realdata / "wards_2013").glob("*.json")):
        layer = pyogrio.read_dataframe(path)
        col = "WD24NM" if "WD24NM" in layer.columns else "WD13NM"
        real |= set(layer[col].str.lower())
    assert real and not real & set(demo.wards["name"].str.lower())


def test_files_written_and_readable(demo):
    d = demo.dir
    assert demo_mod.is_complete(d)
    months = periods.month_range("2021-01", "2024-03")
    frames = []
    for m in months:
        path = d / "police_uk" / m / f"{m}-demo-street.csv"
        assert path.read_text().splitlines()[0] == (
            "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
            "LSOA name,Crime type,Last outcome category,Context")
        frames.append(pd.read_csv(path, dtype=str, keep_default_na=False))
    rows = pd.concat(frames, ignore_index=True)
    police = demo.incidents[demo.incidents["source"] == "police-uk"]
    assert len(rows) == len(police)
    asb = rows["Crime type"] == "Anti-social behaviour"
    assert (rows.loc[asb, "Crime ID"] == "").all() and (rows.loc[~asb, "Crime ID"].str.len() == 64).all()
    assert rows["Longitude"].str.fullmatch(r"-?\d+\.\d{6}").all()
    assert rows["Latitude"].str.fullmatch(r"\d+\.\d{6}").all()
    # lon/lat in the files map back to the canonical BNG coordinates (< 1 mm)
    to_bng = Transformer.from_crs(settings.CRS_WGS84, settings.CRS, always_xy=True)
    bx, by = to_bng.transform(rows["Longitude"].astype(float).to_numpy(),
                              rows["Latitude"].astype(float).to_numpy())
    file_pts = np.unique(np.round(np.column_stack([bx, by]), 3), axis=0)
    demo_pts = np.unique(np.round(np.column_stack(_xy(police)), 3), axis=0)
    assert np.abs(file_pts - demo_pts).max() < 1e-3
    assert rows["Crime type"].value_counts().to_dict() == police["category"].value_counts().to_dict()

    fires = pd.read_csv(d / "fires.csv")
    canon = demo.incidents[demo.incidents["source"] == "fire"]
    assert len(fires) == len(canon)
    assert list(fires.columns[:6]) == ["incident_number", "datetime", "category",
                                       "property_type", "easting", "northing"]
    assert fires["incident_number"].tolist() == canon["incident_id"].tolist()
    assert (pd.to_datetime(fires["datetime"]) == canon["occurred"].to_numpy()).all()

    wards = pyogrio.read_dataframe(d / "wards.geojson")
    assert wards.crs.equals(settings.CRS) and len(wards) == 20
    assert set(pd.read_csv(d / "population.csv")["ward_code"]) == set(demo.wards["area_id"])
    assert len(pd.read_csv(d / "interventions.csv")) == len(demo.interventions)
    assert json.loads((d / "truth.json").read_text()) == demo.truth
    assert sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) < 60e6


def test_is_complete_detects_missing_files_and_other_versions(demo, tmp_path):
    assert not demo_mod.is_complete(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps(demo.truth))
    assert not demo_mod.is_complete(tmp_path)
    assert demo.truth["version"] == demo_mod.VERSION
    stale = tmp_path / "stale"
    shutil.copytree(demo.dir, stale)
    assert demo_mod.is_complete(stale)
    (stale / "truth.json").write_text(json.dumps({**demo.truth, "version": demo_mod.VERSION - 1}))
    assert not demo_mod.is_complete(stale)
    (stale / "truth.json").write_text(json.dumps(demo.truth))
    (stale / "police_uk" / "2022-06" / "2022-06-demo-street.csv").unlink()
    assert not demo_mod.is_complete(stale)


def test_cli_demo_writes_then_skips_if_missing(tmp_path, demo):
    runner = CliRunner()
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["skipped"] is False and doc["label"] == settings.DEMO_LABEL
    assert doc["volumes"] == demo.truth["volumes"]
    for name in demo_mod.FILES:
        assert (out / name).is_file()
    assert demo_mod.is_complete(out)
    stamp = (out / "workspace.gpkg").stat().st_mtime_ns
    again = runner.invoke(app, ["demo", "--out", str(out), "--if-missing"])
    assert again.exit_code == 0 and "nothing written" in again.stdout
    assert (out / "workspace.gpkg").stat().st_mtime_ns == stamp


def test_cli_demo_bad_out_is_one_line_exit_2(tmp_path):
    afile = tmp_path / "afile.txt"
    afile.write_text("x")
    result = CliRunner().invoke(app, ["demo", "--out", str(afile)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--out" in result.stderr


def test_ingesting_the_demo_files_gives_the_demo_incidents_and_wards(demo):
    from hotspot_app.io import ingest

    police = demo.incidents[demo.incidents["source"] == "police-uk"]
    got = ingest.read_incidents([demo.dir / "police_uk"])
    assert (got.summary["read"], got.summary["rejected"]) == (len(police), 0)
    inc = got.incidents
    key = ["month", "category"]
    assert inc.groupby(key).size().to_dict() == police.groupby(key).size().to_dict()
    crimes, canon_crimes = inc[inc["kind"] == "crime"], police[police["kind"] == "crime"]
    assert set(crimes["incident_id"]) == set(canon_crimes["incident_id"])
    a = crimes.set_index("incident_id").loc[canon_crimes["incident_id"]]
    assert np.abs(a.geometry.x.to_numpy() - canon_crimes.geometry.x.to_numpy()).max() < 1e-3
    assert np.abs(a.geometry.y.to_numpy() - canon_crimes.geometry.y.to_numpy()).max() < 1e-3
    assert (a["location"].to_numpy() == canon_crimes["location"].to_numpy()).all()

    fires = demo.incidents[demo.incidents["source"] == "fire"].reset_index(drop=True)
    got = ingest.read_incidents([demo.dir / "fires.csv"])
    assert (got.summary["read"], got.summary["rejected"]) == (len(fires), 0)
    f = got.incidents.reset_index(drop=True)
    for col in ("incident_id", "month", "category", "group", "kind", "subcategory", "location"):
        assert f[col].tolist() == fires[col].tolist(), col
    assert (f["occurred"].to_numpy() == fires["occurred"].to_numpy()).all()
    assert f.geometry.geom_equals(fires.geometry).all()

    wards = ingest.read_boundaries(demo.dir / "wards.geojson", population_field="population").areas
    assert wards["name"].tolist() == demo.wards["name"].tolist()
    assert wards["population"].tolist() == demo.wards["population"].tolist()
    assert wards.geometry.geom_equals(demo.wards.geometry).all()


def test_cli_demo_puts_boundaries_in_geodata_and_incident_data_in_data(tmp_path, demo):
    """The project's layout (make demo): data/demo/ holds incident data, geodata/demo/ the
    wards, town centre and micro-hotspots."""
    data, geo = tmp_path / "data" / "demo", tmp_path / "geodata" / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(data), "--geodata", str(geo), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert sorted(p.name for p in geo.iterdir()) == sorted(demo_mod.BOUNDARY_FILES)
    assert not any((data / name).exists() for name in demo_mod.BOUNDARY_FILES)
    assert doc["files"]["wards.geojson"] == str(geo / "wards.geojson")
    assert doc["files"]["fires.csv"] == str(data / "fires.csv")
    assert demo_mod.is_complete(data, geo) and not demo_mod.is_complete(data)
    wards = pyogrio.read_dataframe(geo / "wards.geojson")
    assert sorted(wards["name"]) == sorted(demo.wards["name"])
    again = CliRunner().invoke(app, ["demo", "--out", str(data), "--geodata", str(geo), "--if-missing"])
    assert again.exit_code == 0 and "nothing written" in again.stdout
