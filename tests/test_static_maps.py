"""Static PNG maps (offline) for report packs and patrol sheets."""

import io

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box

from hotspot_app.render import maps, static_maps
from hotspot_app.core.errors import InputError


def _areas():
    return gpd.GeoDataFrame({"name": ["North", "South"], "rank": [1, 2]},
                            geometry=[box(0, 1000, 1000, 2000), box(0, 0, 1000, 1000)], crs="EPSG:27700")


def _image(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _has_colour(img: np.ndarray, hex_colour: str) -> bool:
    rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return bool((np.abs(img.astype(int) - rgb).sum(axis=2) <= 3).any())


def test_choropleth_uses_the_interactive_maps_colours():
    areas = _areas()
    scale = maps.make_scale([0, 100])
    img = _image(static_maps.choropleth_png(areas, [100, None], scale=scale, title="ASB"))
    assert _has_colour(img, scale.colour(100))   # the top class, as on the folium map
    assert _has_colour(img, maps.NO_DATA)        # not covered: the no-data grey, never a zero colour


def test_patrol_png_and_pair_draw():
    areas = _areas()
    img = _image(static_maps.patrol_png(areas, context=areas, title="Patrol areas"))
    assert img.shape[0] > 200 and _has_colour(img, static_maps.PATROL_FILL)
    pair = _image(static_maps.pair_png((areas, [10, 20]), (areas, [5, 20])))
    assert pair.shape[1] > pair.shape[0]  # side by side


def test_wrong_crs_and_count_are_one_line_errors():
    with pytest.raises(InputError, match="EPSG:27700"):
        static_maps.choropleth_png(_areas().to_crs(4326), [1, 2])
    with pytest.raises(InputError, match="values has 1 entries for 2 areas"):
        static_maps.choropleth_png(_areas(), [1])


def test_patrol_png_says_what_where_when_and_whose(monkeypatch):
    """Issue 21: the shared PNG carries the title (what, where, period), the wards' names, a key
    naming each numbered area, a scale bar and the source."""
    seen = {}

    def capture(fig):
        seen["texts"] = [t.get_text() for ax in fig.axes for t in ax.texts]
        seen["title"] = fig.axes[0].get_title(loc="left")
        legend = fig.axes[0].get_legend()
        seen["key"] = [t.get_text() for t in legend.get_texts()] if legend else []
        return b""

    monkeypatch.setattr(static_maps, "_png", capture)
    areas = _areas().assign(name=["On or near Market Street — Central ward", "On or near Bus Station"])
    wards = _areas().assign(name=["Central", "East"])
    static_maps.patrol_png(areas, context=wards, title="Top 2 patrol areas in Central, ASB, 2024",
                           source="Source: police.uk.")
    assert seen["title"] == "Top 2 patrol areas in Central, ASB, 2024"
    assert {"Central", "East"} <= set(seen["texts"])
    assert "Source: police.uk." in seen["texts"] and any(t.endswith(" m") or t.endswith(" km") for t in seen["texts"])
    assert seen["key"][:2] == ["Patrol area (number = rank)", "Ward boundary"]
    assert seen["key"][2:] == ["1  On or near Market Street — Central ward", "2  On or near Bus Station"]
