"""Boundary files -> areas: name/id detection, CRS handling, zipped Shapefiles and GeoPackages,
invalid polygons repaired with make_valid and reported; the real Cleveland boundaries."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import read_boundaries

BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])  # self-intersecting


def wards(crs="EPSG:27700"):
    return gpd.GeoDataFrame({
        "WD24CD": ["E05000001", "E05000002", "E05000003"],
        "WD24NM": ["North", "South", "East"],
        "LAD24NM": ["Town", "Town", "Town"],
        "Population": [1000, 2000, 3000],
    }, geometry=[box(450000, 520000, 451000, 521000), box(450000, 519000, 451000, 520000),
                 shapely.affinity.translate(BOWTIE, 451000, 519000)], crs=crs)


def test_geojson_detects_ons_name_and_code_and_repairs_invalid(tmp_path):
    path = tmp_path / "wards.geojson"
    wards().to_file(path, driver="GeoJSON")
    res = read_boundaries(path, layer="ward")
    a = res.areas
    assert list(a.columns[:5]) == schema.AREA_COLUMNS
    assert a["name"].tolist() == ["North", "South", "East"]
    assert a["area_id"].tolist() == ["E05000001", "E05000002", "E05000003"]
    assert a["layer"].eq("ward").all() and a.crs.equals(settings.CRS)
    assert a.is_valid.all() and a.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert a.geometry.iloc[2].area == pytest.approx(50.0)   # both triangles of the bow tie kept
    assert res.repaired[["area_id", "name"]].values.tolist() == [["E05000003", "East"]]
    assert "Self-intersection" in res.repaired["problem"].item()
    assert any("1 invalid polygons repaired" in w for w in res.warnings)
    assert a["population"].tolist() == [1000, 2000, 3000]   # a 'population' field is used


def test_given_fields_zipped_shapefile_and_gpkg(tmp_path):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    wards().to_file(shp_dir / "wards.shp")
    archive = tmp_path / "wards.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f"inner/{f.name}")
    gpkg = tmp_path / "wards.gpkg"
    wards().to_file(gpkg, layer="wards", driver="GPKG")
    for path in (archive, gpkg):
        res = read_boundaries(path, name_field="lad24nm", id_field="wd24cd", population_field="Population")
        assert res.areas["name"].tolist() == ["Town"] * 3
        assert res.areas["area_id"].tolist() == ["E05000001", "E05000002", "E05000003"]
        assert any("3 areas share a name" in w for w in res.warnings)
        assert len(res.repaired) == 1
    with pytest.raises(InputError, match="no name field 'nope'"):
        read_boundaries(gpkg, name_field="nope")


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_missing_crs_guessed_from_coordinates(tmp_path):
    g = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(-1.25, 54.55, -1.2, 54.6)], crs=None)
    path = tmp_path / "nocrs.gpkg"
    g.to_file(path, driver="GPKG")
    res = read_boundaries(path)
    assert any("read as WGS84" in w for w in res.warnings)
    x0, y0, _, _ = res.areas.total_bounds
    assert 440000 < x0 < 460000 and 510000 < y0 < 530000
    assert res.areas["area_id"].tolist() == ["custom-1"]


def test_points_are_not_boundaries(tmp_path):
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[Point(0, 0)], crs=27700).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="must hold polygons"):
        read_boundaries(path)
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="cannot read boundary file"):
        read_boundaries(bad)


def test_real_2024_wards(realdata):
    for name in ("cleveland_wards_may2024_bsc_wgs84.geojson", "cleveland_wards_may2024_bsc_epsg27700.geojson"):
        res = read_boundaries(realdata / "wards_2024" / name, layer="ward")
        a = res.areas
        assert len(a) == 83 and res.warnings == [] and len(res.repaired) == 0
        raw = gpd.read_file(realdata / "wards_2024" / name)
        assert a["name"].tolist() == raw["WD24NM"].tolist()
        assert a["area_id"].tolist() == raw["WD24CD"].tolist()
        assert a.area.sum() / 1e6 == pytest.approx(597.89, abs=0.05)


def test_real_2013_wards(realdata):
    counts = {"E06000001": 11, "E06000002": 23, "E06000003": 22, "E06000004": 26}
    for lad, n in counts.items():
        res = read_boundaries(realdata / "wards_2013" / f"{lad}.json", layer="ward")
        raw = gpd.read_file(realdata / "wards_2013" / f"{lad}.json")
        assert len(res.areas) == n
        assert res.areas["name"].tolist() == raw["WD13NM"].tolist()
        assert res.areas["area_id"].tolist() == raw["WD13CD"].tolist()
        assert len(res.repaired) == 0


def test_real_lsoa_2011_two_invalid_polygons_repaired(realdata):
    repaired, total = [], 0
    for lad in ("E06000001", "E06000002", "E06000003", "E06000004"):
        res = read_boundaries(realdata / "lsoa_2011" / f"{lad}.json")
        total += len(res.areas)
        assert res.areas.is_valid.all()
        repaired += res.repaired[["area_id", "name"]].values.tolist()
    assert total == 352
    assert sorted(repaired) == [["E01012289", "Stockton-on-Tees 017D"],
                                ["E01033471", "Redcar and Cleveland 009F"]]
