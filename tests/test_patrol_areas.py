"""Named, located, ranked, walkable patrol areas (issue 11 items 1-2, design §5b "Clusters
grow"): the column contract the app pages rely on, names, centres, grid references, sizes, top N,
the plain-words warnings, and the auto method switch."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from hotspot_app.core import cluster_areas, clusters, locations, settings, schema

X0, Y0 = 450_000.0, 517_800.0


def make(xy, location=None, category="Anti-social behaviour", **extra):
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    data = {"category": [category] * n, "month": ["2024-01"] * (n // 2) + ["2024-03"] * (n - n // 2),
            **extra}
    if location is not None:
        data["location"] = location
    return schema.make_incidents(pd.DataFrame(data), x=xy[:, 0], y=xy[:, 1])


def quiet(*args, **kwargs):
    """`clusters.dbscan`: its warnings are returned (``.warnings``), never emitted."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return clusters.dbscan(*args, **kwargs)


def two_streets():
    """Market Street: 12 incidents at (X0, Y0) and 8 at (X0 + 30, Y0); Bus Station: 15 at one
    point 2 km east. Texts as police.uk writes them, plus one plain text."""
    xy = [(X0, Y0)] * 12 + [(X0 + 30, Y0)] * 8 + [(X0 + 2000, Y0)] * 15
    loc = (["On or near Market Street"] * 11 + ["On or near Side Lane"] + ["On or near Market Street"] * 8
           + ["Bus Station"] * 15)
    wards = gpd.GeoDataFrame({"name": ["Central", "East"], "layer": ["ward", "ward"]},
                             geometry=[box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500),
                                       box(X0 + 3000, Y0 - 500, X0 + 4000, Y0 + 500)],
                             crs=settings.CRS)
    return make(xy, loc), wards


def test_the_column_contract_is_exact():
    inc, wards = two_streets()
    areas = quiet(inc, 50, 5, areas=wards).areas
    assert list(areas.columns[:len(cluster_areas.CONTRACT_COLUMNS)]) == cluster_areas.CONTRACT_COLUMNS
    assert areas["walkable"].dtype == bool and areas["area_name"].tolist() == ["Central ward", None]


def test_names_centres_grid_refs_and_sizes_on_planted_clusters():
    inc, wards = two_streets()
    res = quiet(inc, 50, 5, areas=wards)
    a = res.areas
    assert a["rank"].tolist() == [1, 2] and a["count"].tolist() == [20, 15]
    # the most frequent location text; police.uk's "On or near" kept, a plain text given it
    assert a["location_text"].tolist() == ["On or near Market Street", "Bus Station"]
    assert a["name"].tolist() == ["On or near Market Street — Central ward", "On or near Bus Station"]
    # centre: incident-weighted mean of the member locations (12 at X0, 8 at X0 + 30)
    assert a["centroid_easting"].tolist() == [X0 + 12.0, X0 + 2000]
    assert a["centroid_northing"].tolist() == [Y0, Y0]
    assert a["grid_ref"].tolist() == ["NZ 5001 1780", "NZ 5200 1780"]
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(X0 + 12.0, Y0)
    assert (a.loc[0, "longitude"], a.loc[0, "latitude"]) == pytest.approx((lon, lat), abs=1e-9)
    # sizes: two points 30 m apart buffered by eps/2 = 25 m (8 segments a quarter circle)
    circle = 0.5 * 32 * 25 ** 2 * math.sin(2 * math.pi / 32)
    assert a.loc[0, "area_m2"] == pytest.approx(30 * 50 + circle, rel=1e-9)
    assert a.loc[0, "area_ha"] == round((30 * 50 + circle) / 1e4, 2) == 0.35
    assert a.loc[0, "incidents_per_ha"] == round(20 / ((30 * 50 + circle) / 1e4), 1) == 58.0
    assert a["first_month"].tolist() == ["2024-01", "2024-03"]   # rows 0-16 January, the rest March
    assert a["last_month"].tolist() == ["2024-03", "2024-03"]
    assert a["top_categories"].tolist() == ["Anti-social behaviour (20)", "Anti-social behaviour (15)"]
    doc = res.to_dict()["clusters"][0]
    assert doc["name"] == "On or near Market Street — Central ward"
    assert doc["centroid"] == {"easting": X0 + 12.0, "northing": Y0, "longitude": round(lon, 6),
                               "latitude": round(lat, 6)}


def test_top_keeps_the_first_n_and_labels_keep_every_cluster():
    inc, _ = two_streets()
    res = quiet(inc, 50, 5, top=1)
    assert res.areas["rank"].tolist() == [1] and res.n_clusters == 2
    assert sorted(set(res.labels.tolist())) == [1, 2]


@pytest.mark.parametrize("text, area, rank, expected", [
    ("On or near Market Street", "Central ward", 1, "On or near Market Street — Central ward"),
    ("Near Fern Grove", None, 2, "Near Fern Grove"),
    ("Bus Station", "Park", 3, "On or near Bus Station — Park"),
    (None, "Park", 4, "Patrol area 4 — Park"),
    ("  ", None, 5, "Patrol area 5"),
])
def test_patrol_name(text, area, rank, expected):
    assert cluster_areas.patrol_name(text, area, rank) == expected


@pytest.mark.parametrize("e, n, digits, ref", [
    (0, 0, 8, "SV 0000 0000"),
    (651_409, 313_177, 10, "TG 51409 13177"),     # the Ordnance Survey's own worked example
    (216_667, 771_285, 6, "NN 166 712"),          # truncated, not rounded
    (449_230, 517_840, 8, "NZ 4923 1784"),
    (400_000, 1_200_000, 4, "HP 00 00"),
    (700_000, 0, 8, None), (np.nan, 1, 8, None),
])
def test_grid_ref(e, n, digits, ref):
    assert locations.grid_ref(e, n, digits) == ref


def test_distinct_locations_round_trip():
    xy = np.array([(1.0, 2.0), (3.0, 4.0), (1.0, 2.0), (5.0, 6.0), (3.0, 4.0)])
    loc = locations.distinct(xy, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert loc.xy.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert loc.weight.tolist() == [4.0, 7.0, 4.0] and loc.inverse.tolist() == [0, 1, 0, 2, 1]
    assert (loc.xy[loc.inverse] == xy).all()


# --------------------------------------------------------------------------- warnings
def lattice(n=7, step=100.0):
    return [(X0 + i * step, Y0 + j * step) for i in range(n) for j in range(n)]


def test_area_larger_than_walkable_and_one_area_covering_the_extent_are_warned():
    res = quiet(make(lattice()), 150, 1)
    a = res.areas
    assert len(a) == 1 and not a.loc[0, "walkable"]
    km2 = a.loc[0, "area_m2"] / 1e6
    assert res.warnings == [
        f"area #1 ({km2:.2f} km²) is larger than a walkable patrol area (0.25 km²): lower eps_m "
        "(now 150)",
        "1 patrol area covers 100% of the incidents' extent: eps_m 150 is too large for patrol "
        "areas; lower eps_m"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # returned with the result, never warnings.warn
        assert clusters.dbscan(make(lattice()), 150, 1).warnings == res.warnings


def test_eps_finer_than_masked_fire_locations_says_so_and_which_parameter_to_change():
    xy = [(X0 + 500 + 1000 * (i % 3), Y0 + 500) for i in range(30)]
    inc = make(xy, category="Deliberate secondary fire", location_precision_m=[1000.0] * 30)
    res = quiet(inc, 150, 15)
    assert res.warnings == [
        "locations are only precise to 1 km; eps 150 m cannot find clusters — use >= 1,000 m or "
        "count by ward",
        "no clusters: try a larger eps_m (now 150) or a smaller min_samples (now 15); 30 "
        "incidents were selected"]
    assert res.message == res.warnings[-1]


def test_walkable_areas_give_no_warning():
    inc, _ = two_streets()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = clusters.dbscan(inc, 50, 5)
    assert res.warnings == [] and res.areas["walkable"].all()


# --------------------------------------------------------------------------- methods
def test_auto_uses_the_grid_method_and_sklearn_stays_available():
    """`auto` is the exact grid method at every size (as fast or faster, measured, and no
    scikit-learn import on a fresh start); `sklearn` still runs the reference implementation."""
    assert settings.GRID_METHOD_MIN_LOCATIONS == 0
    assert clusters.resolve_method("auto", 1) == "grid"
    assert clusters.resolve_method("auto", 10_000_000) == "grid"
    assert clusters.resolve_method("sklearn", 10) == "sklearn"
    inc, _ = two_streets()
    assert quiet(inc, 50, 5).parameters["method"] == "grid"
    assert quiet(inc, 50, 5, method="sklearn").parameters["method"] == "sklearn"


def test_grid_and_sklearn_give_the_same_patrol_areas():
    rng = np.random.default_rng(5)
    xy = np.vstack([rng.normal((X0, Y0), 40, (300, 2)).round(), rng.normal((X0 + 900, Y0), 25, (200, 2)).round(),
                    rng.uniform((X0 - 1000, Y0 - 1000), (X0 + 2000, Y0 + 1000), (200, 2)).round()])
    a = quiet(make(xy), 60, 10, method="sklearn")
    b = quiet(make(xy), 60, 10, method="grid")
    assert (a.labels == b.labels).all() and (a.core == b.core).all()
    cols = ["rank", "count", "area_m2", "centroid_easting", "centroid_northing"]
    pd.testing.assert_frame_equal(a.areas[cols], b.areas[cols])
