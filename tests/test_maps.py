"""maps.py: local assets, escaping, colour classes, marker limit, same extent/scale pairs."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot_app.render import map_assets, maps
from hotspot_app.core import schema, settings

EVIL_CAT = "<script>alert('cat')</script>"
EVIL_LOC = "`${alert(2)}` <img src=x onerror=alert(3)>"


def _wards() -> gpd.GeoDataFrame:
    w = gpd.GeoDataFrame(
        {"name": ["North <b>bold</b>", "South"], "population": [1000, 2000]},
        geometry=[shapely.box(450000, 521000, 452000, 522000), shapely.box(450000, 520000, 452000, 521000)],
        crs=settings.CRS)
    return schema.make_areas(w, name="name", layer="ward", population="population")


def _incidents(n_points: int = 3, per_point: int = 4) -> gpd.GeoDataFrame:
    """`per_point` incidents at each of `n_points` distinct locations (first category evil)."""
    xs = np.repeat(450100.0 + 100.0 * np.arange(n_points), per_point)
    ys = np.full(len(xs), 520500.0)
    cats = [EVIL_CAT if i % per_point == 0 else "Shoplifting" for i in range(len(xs))]
    df = pd.DataFrame({"category": cats, "month": "2024-01", "location": EVIL_LOC})
    return schema.make_incidents(df, x=xs, y=ys)


def _features(layer) -> list[dict]:
    return layer.data["features"]


def test_local_assets_point_at_installed_files():
    map_assets.use_assets("local")
    m = maps.overview_map(_wards(), pd.Series({"ward-1": 1.0, "ward-2": 2.0}), _incidents())
    maps.draw_control(m)
    links = map_assets.linked_assets(m)
    assert map_assets.external_assets(m) == []
    assert links, "the map links Leaflet"
    assert all(u.startswith("/app/static/vendor/node_modules/") for u in links)
    assert any(u.endswith("leaflet/dist/leaflet.js") for u in links)
    assert any(u.endswith("leaflet.heat/dist/leaflet-heat.js") for u in links)
    assert any(u.endswith("leaflet-draw/dist/leaflet.draw.js") for u in links)
    # every linked file is installed (make assets) where Streamlit serves it from
    for u in links:
        assert (map_assets.VENDOR_DIR / u[len(map_assets.STATIC_URL) + 1:]).is_file(), u


def test_cdn_mode_restores_folium_links_and_back():
    try:
        assert map_assets.use_assets("cdn") == "cdn"
        m = maps.base_map()
        assert any("leaflet" in u and u.startswith("https://") for u in map_assets.external_assets(m))
    finally:
        map_assets.use_assets("local")
    assert map_assets.external_assets(maps.base_map()) == []


def test_unknown_assets_mode_names_the_setting():
    with pytest.raises(Exception, match="ASSETS|assets"):
        map_assets.use_assets("ftp")


def test_esc_neutralises_html_and_template_literals():
    assert maps.esc("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert maps.esc("`${a}`\\") == "&#96;&#36;{a}&#96;&#92;"
    assert maps.esc(None) == "" and maps.esc(float("nan")) == ""
    assert maps.esc("A & B") == "A &amp; B"


def test_user_strings_are_escaped_in_map_html():
    m = maps.overview_map(_wards(), pd.Series({"ward-1": 3.0, "ward-2": 1.0}),
                          _incidents(n_points=3, per_point=1), max_markers=10)
    # location circles are built (3 locations <= 10), so categories/locations are in the HTML
    html = map_assets.map_html(m, inline=False)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "${alert" not in html and "`${" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert" in html.replace("\\u0026", "&")
    assert "North &lt;b&gt;bold&lt;/b&gt;" in html.replace("\\u0026", "&")


def test_choropleth_classes_are_equal_intervals_from_zero():
    wards = _wards()
    layer, scale = maps.choropleth(wards, pd.Series({"ward-1": 5.0, "ward-2": 10.0}), title="Incidents")
    assert scale.breaks[0] == 0.0 and scale.breaks[-1] == 10.0
    assert len(scale.colours) == 6
    fills = {f["properties"]["_name"]: f["properties"]["_fill"] for f in _features(layer)}
    # 5 is in the 4th of six classes [5, 6.67); 10 in the last
    assert fills["North &lt;b&gt;bold&lt;/b&gt;"] == maps.SEQUENTIAL[3]  # ward-1: 5
    assert fills["South"] == maps.SEQUENTIAL[5]  # ward-2: 10
    values = {f["properties"]["_name"]: f["properties"]["_value"] for f in _features(layer)}
    assert values["South"] == "10"


def test_missing_value_is_grey_and_na():
    layer, _ = maps.choropleth(_wards(), pd.Series({"ward-1": 4.0}), title="Rate", fmt="{:.1f}")
    props = {f["properties"]["_name"]: f["properties"] for f in _features(layer)}
    assert props["South"]["_fill"] == maps.NO_DATA and props["South"]["_value"] == "n/a"


def test_diverging_scale_is_symmetric_around_zero():
    s = maps.make_scale([-20.0, 5.0, 10.0], diverging=True)
    assert s.breaks[0] == -20.0 and s.breaks[-1] == 20.0 and s.breaks[3] == 0.0
    assert s.colour(-19) == maps.DIVERGING[0] and s.colour(19) == maps.DIVERGING[-1]


def test_locations_aggregate_identical_coordinates():
    inc = _incidents(n_points=3, per_point=4)
    locs = maps.locations(inc)
    assert len(locs) == 3
    assert locs["count"].tolist() == [4, 4, 4]
    assert set(locs["top_category"]) == {"Shoplifting"}
    heat = maps.heat_layer(locs)
    assert sum(p[2] for p in heat.data) == len(inc)


def test_markers_never_exceed_the_limit():
    inc = _incidents(n_points=12, per_point=1)
    assert maps.location_markers(inc, max_markers=11) is None
    layer = maps.location_markers(inc, max_markers=12)
    assert len(_features(layer)) == 12


def test_wgs84_only_for_display():
    pt = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(530000, 180000)], crs=settings.CRS)
    out = maps.to_wgs84(pt)
    assert out.crs.to_epsg() == 4326
    assert out.geometry.x.iloc[0] == pytest.approx(-0.1290, abs=1e-3)
    assert out.geometry.y.iloc[0] == pytest.approx(51.5040, abs=1e-3)
    assert pt.crs.equals(settings.CRS)  # input untouched


def test_before_after_pair_shares_extent_and_scale():
    area = gpd.GeoDataFrame({"name": ["Park"]}, geometry=[shapely.box(450000, 520000, 450400, 520400)],
                            crs=settings.CRS)
    before = _incidents(n_points=3, per_point=6)
    after = _incidents(n_points=3, per_point=2)
    mb, ma = maps.before_after_maps(area, before, after)

    def fit(m):
        return [c for c in m._children.values() if type(c).__name__ == "FitBounds"][-1].bounds

    def heat_max(m):
        return [c for c in m._children.values() if type(c).__name__ == "HeatMap"][0].options["max"]

    assert fit(mb) == fit(ma)
    assert heat_max(mb) == heat_max(ma) == 6.0


def test_grid_layer_categorical_gi_classes():
    cells = gpd.GeoDataFrame(
        {"count": [10, 0, 3], "gi_class": ["Hot spot 99%", "Not significant", "Cold spot 95%"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1)],
        crs=settings.CRS).set_geometry(gpd.GeoSeries([shapely.box(450000 + i * 100, 520000, 450100 + i * 100, 520100)
                                                      for i in range(3)], crs=settings.CRS))
    layer, scale = maps.grid_layer(cells, value="count", category="gi_class")
    fills = [f["properties"]["_fill"] for f in _features(layer)]
    # the zero cell is left out; colours follow the Gi* classes
    colour = dict(zip(maps.GI_LABELS, maps.GI_COLOURS))
    assert fills == [colour["Hot spot 99%"], colour["Cold spot 95%"]]
    assert scale.labels[0] == "Hot spot 99%"
    # Gi* output of hotspots.gistar: hide the non-significant cells instead
    cells["hotspot"] = ["hot", "not significant", "cold"]
    layer, _ = maps.grid_layer(cells, value="count", category="hotspot", hide=["not significant"])
    assert [f["properties"]["_fill"] for f in _features(layer)] == ["#b2182b", "#2166ac"]


def test_patrol_area_popups_escaped_and_ranked_colours():
    polys = gpd.GeoDataFrame(
        {"rank": [1, 4], "count": [30, 5], "top_categories": [json.dumps({EVIL_CAT: 30}), "{}"]},
        geometry=[shapely.box(450000, 520000, 450100, 520100), shapely.box(450200, 520000, 450300, 520100)],
        crs=settings.CRS)
    layer = maps.patrol_area_layer(polys)
    props = [f["properties"] for f in _features(layer)]
    assert props[0]["_c"] == "#d7191c" and props[1]["_c"] == "#fdae61"
    text = json.dumps(props)
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_map_html_inlines_local_assets_for_offline_files():
    html = map_assets.map_html(maps.overview_map(_wards(), None, _incidents()))
    assert not re.search(r'src="/app/static', html)
    assert 'href="/app/static' not in html
    assert "Leaflet" in html  # leaflet.js is embedded


def test_basemap_setting_none_gives_a_map_without_tiles_and_a_url_template_is_used():
    bounds = maps.bounds_of(_wards())
    html = maps.base_map(bounds, tiles="none").get_root().render()
    assert "L.tileLayer(" not in html
    html = maps.base_map(bounds, tiles="https://tiles.example.org/{z}/{x}/{y}.png").get_root().render()
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in html
    # the twin before/after maps follow the same setting
    w = _wards()
    inc = _incidents()
    before, after = maps.before_after_maps(w.iloc[[0]], inc, inc, tiles="none")
    for m in (before, after):
        assert "L.tileLayer(" not in m.get_root().render()


def test_location_circles_stay_small_where_locations_hold_few_incidents():
    # Fires are rarely at the same spot twice: single-incident circles must not carpet the map,
    # whatever the busiest location holds.
    assert maps.marker_radius(np.array([1, 4, 25, 64, 1000])).tolist() == [3.5, 5.0, 9.5, 14.0, 14.0]
    layer = maps.location_markers(_incidents(n_points=3, per_point=1))
    radii = {f["properties"]["_r"] for f in layer.data["features"]}
    assert radii == {3.5}


def test_outline_width_is_line_width():
    # `weight` means incident weights across the project; an outline's width is `line_width`
    wards = _wards()
    layer = maps.area_outlines(wards, name="Wards", line_width=1)
    assert layer.style_function({})["weight"] == 1
    assert maps.area_outlines(wards, name="Wards").style_function({})["weight"] == 2.5


def test_rank_numbers_of_close_patrol_areas_sit_side_by_side():
    """Two patrol areas 60 m apart would draw their numbers on top of each other: they are laid
    side by side the way the areas lie (1 is the western one, so it moves left), a far one keeps
    its place."""
    import geopandas as gpd
    from shapely.geometry import box

    from hotspot_app.render import maps

    polys = gpd.GeoDataFrame({"rank": [2, 1, 3], "name": ["b", "a", "far"]},
                             geometry=[box(450_060, 517_800, 450_100, 517_840),
                                       box(450_000, 517_800, 450_040, 517_840),
                                       box(455_000, 517_800, 455_040, 517_840)], crs="EPSG:27700")
    import re

    import folium

    m = folium.Map()
    maps.rank_markers(polys).add_to(m)
    html = m.get_root().render()
    found = re.findall(r'u003e(\d+)\\u003c/div\\u003e",\s*"iconSize": \[22, 22\],\s*'
                       r'"iconAnchor": \[(-?\d+), (-?\d+)\]', html)
    assert {n: (int(x), int(y)) for n, x, y in found} == {"1": (23, 11), "2": (-1, 11), "3": (11, 11)}


def test_downloaded_html_holds_one_map_after_the_page_drew_it():
    """Issue 21: the page draws the map first (streamlit_folium renders it into its figure); the
    download made afterwards still holds one map and one layer control."""
    import re

    import folium
    import streamlit_folium as sf

    from hotspot_app.render import map_assets

    m = folium.Map(location=[54.57, -1.23], zoom_start=12, tiles=None)
    folium.GeoJson({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-1.23, 54.57]}},
                   name="Wards").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().render()
    m.render()
    sf._get_html(m), sf._get_header(m), sf._get_map_string(m)  # what st_folium does to it
    html = map_assets.map_html(m)
    assert len(re.findall(r"L\.map\(", html)) == 1
    assert len(re.findall(r"L\.control\.layers\(", html)) == 1
    assert len(re.findall(r'class="folium-map"', html)) == 1
    assert '"Wards"' in html  # the layer control names the layer


def test_a_heat_layer_of_millions_of_locations_is_summed_into_cells():
    """A national year has millions of distinct locations: the heat layer sends at most
    HEAT_MAX_POINTS cells to the browser, every incident counted once; a force's few thousand
    locations go as they are."""
    rng = np.random.default_rng(3)
    n = 60_000
    locs = pd.DataFrame({"lat": np.round(54.5 + rng.uniform(0, 0.3, n), 6),
                         "lon": np.round(-1.3 + rng.uniform(0, 0.5, n), 6),
                         "count": rng.integers(1, 5, n)})
    few = locs.iloc[:500]
    assert maps.heat_points(few) is few
    cells = maps.heat_points(locs, max_points=5_000)
    assert len(cells) <= 5_000 and cells["count"].sum() == locs["count"].sum()
    # each cell's centre lies within the span of the points summed into it
    assert cells["lat"].between(54.5, 54.8 + 0.01).all() and cells["lon"].between(-1.3, -0.8 + 0.01).all()
    layer = maps.heat_layer(locs)
    assert len(layer.data) <= maps.HEAT_MAX_POINTS
    assert sum(p[2] for p in layer.data) == locs["count"].sum()
