"""DBSCAN clusters and patrol areas (hotspot_app.clusters): design §6 oracle, unique-point
weighting, the exact grid method against scikit-learn, stable ids, polygons, messages, exports,
and recovery of the demo's planted clusters."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings as hsettings, strategies as st
from sklearn.cluster import DBSCAN

from hotspot_app.core import clusters, eps_guide, locations, schema
from hotspot_app.core.errors import InputError
from hotspot_app.io import geofiles


def make(xy, category="Anti-social behaviour", months=None, **extra):
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    data = {"category": [category] * n if isinstance(category, str) else list(category),
            "month": months if months is not None else ["2024-01"] * n, **extra}
    return schema.make_incidents(pd.DataFrame(data), x=xy[:, 0], y=xy[:, 1])


def same_partition(a, b) -> bool:
    pairs = set(zip(np.asarray(a).tolist(), np.asarray(b).tolist()))
    return len(pairs) == len(set(np.asarray(a).tolist())) == len(set(np.asarray(b).tolist()))


def sklearn_reference(xy, eps, ms, w=None):
    m = DBSCAN(eps=eps, min_samples=ms).fit(xy, sample_weight=w)
    core = np.zeros(len(xy), bool)
    core[m.core_sample_indices_] = True
    return m.labels_, core


# --------------------------------------------------------------------------- oracle
@pytest.mark.parametrize("method", ["grid", "sklearn"])
def test_design_oracle_four_points(method):
    xy = np.array([(0, 0), (1, 1), (-1, -1), (-3, -3)], float)
    labels, core = clusters.label_points(xy, 2, 1, method=method)
    assert labels.tolist() == [0, 0, 0, 1]
    assert core.all()


def test_oracle_through_dbscan_gives_two_ranked_areas():
    res = clusters.dbscan(make([(0, 0), (1, 1), (-1, -1), (-3, -3)]), 2, 1)
    assert res.incidents["cluster_id"].tolist() == [1, 1, 1, 2]
    assert res.areas["count"].tolist() == [3, 1]
    assert res.n_noise == 0 and res.n_incidents == 4


# --------------------------------------------------------------------------- equivalences
snapped = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=120)


@hsettings(max_examples=60, deadline=None)
@given(pts=snapped, eps=st.sampled_from([1.0, 1.5, 2.3, 3.7]), ms=st.integers(1, 12),
       method=st.sampled_from(["grid", "sklearn"]))
def test_unique_points_with_counts_give_the_raw_core_and_noise_sets(pts, eps, ms, method):
    xy = np.array(pts, float) * 0.9 + 0.013   # many repeated (snapped) coordinates
    ref_labels, ref_core = sklearn_reference(xy, eps, ms)
    labels, core = clusters.label_points(xy, eps, ms, method=method, collapse_duplicates=True)
    assert (core == ref_core).all()
    assert ((labels == -1) == (ref_labels == -1)).all()
    assert same_partition(labels[core], ref_labels[core])
    # repeated coordinates always share a label
    uxy, _, inverse = locations.distinct(xy)[:3]
    for k in range(len(uxy)):
        assert len(set(labels[inverse == k].tolist())) == 1


@pytest.mark.parametrize("seed", range(6))
def test_grid_method_matches_sklearn_on_random_data(seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, (rng.integers(2, 8), 2))
    n = 4000
    xy = centres[rng.integers(0, len(centres), n)] + rng.normal(0, rng.uniform(30, 250), (n, 2))
    xy = np.vstack([xy, rng.uniform(-500, 3500, (1000, 2))])
    w = rng.integers(1, 4, len(xy)).astype(float) if seed % 2 else None
    eps, ms = float(rng.uniform(25, 120)), int(rng.integers(3, 30))
    ref_labels, ref_core = sklearn_reference(xy, eps, ms, w)
    labels, core = clusters.label_points(xy, eps, ms, w, method="grid")
    assert core.sum() > 100 and (ref_labels >= 0).any()
    assert (core == ref_core).all()
    assert ((labels == -1) == (ref_labels == -1)).all()
    assert same_partition(labels[core], ref_labels[core])


@pytest.mark.parametrize("sparse", [True, False])
def test_grid_and_sklearn_give_every_point_the_same_cluster(sparse):
    # border points included: each joins the cluster of its nearest core point on both paths.
    # sparse: a few dense spots among many scattered locations (fewer core than other points,
    # as in a nation's ASB); dense: most locations core (as in a town's snapped points)
    rng = np.random.default_rng(7)
    spots = rng.uniform(0, 20_000, (12 if sparse else 40, 2))
    n_spot, n_scatter = (1500, 20_000) if sparse else (12_000, 600)
    xy = np.vstack([spots[rng.integers(0, len(spots), n_spot)] + rng.normal(0, 60, (n_spot, 2)),
                    rng.uniform(0, 20_000, (n_scatter, 2))])
    w = rng.integers(1, 4, len(xy)).astype(float)
    grid_labels, grid_core = clusters.label_locations(xy, w, 100.0, 15, method="grid")
    ref_labels, ref_core = clusters.label_locations(xy, w, 100.0, 15, method="sklearn")
    assert (grid_core == ref_core).all()
    assert (grid_core.sum() < (~grid_core).sum()) == sparse
    borders = (~grid_core) & (ref_labels >= 0)
    assert borders.sum() > 30
    assert ((grid_labels == -1) == (ref_labels == -1)).all()
    assert same_partition(grid_labels[grid_labels >= 0], ref_labels[ref_labels >= 0])


def test_the_coarse_bound_never_rules_out_a_core_cell():
    """The grid's first, coarse bound on a cell's neighbourhood weight (9x9 cells) is never below
    the weight of the cells within reach (7x7), wherever the cell sits in its coarse cell; a
    point alone in its corner of the map is ruled out by it."""
    from hotspot_app.core import clusters_grid

    rng = np.random.default_rng(11)
    xy = np.vstack([rng.uniform(0, 3_000, (4_000, 2)), [[40_000.0, 40_000.0]]])
    w = rng.integers(1, 4, len(xy)).astype(float)
    g = clusters_grid._Grid(xy, 100.0)
    cell_w = np.bincount(g.cell_of, weights=w, minlength=len(g.keys))
    cells = np.arange(len(g.keys))
    within = cell_w.copy()
    for dx, dy in g.offsets:
        if (dx, dy) != (0, 0):
            nb = g.neighbour(cells, dx, dy)
            within += np.where(nb >= 0, cell_w[nb], 0.0)
    coarse = clusters_grid._coarse_upper(g, cell_w, cells)
    assert (coarse >= within).all()
    assert coarse[g.cell_of[-1]] == w[-1]


def test_border_points_join_their_nearest_core_cluster():
    # two clusters of 3 points 10 m apart at eps 2; the border point at x=3.2 is within eps of a
    # core point of cluster A (x=2) but not of B, and the one at 6.5 nearer to B's core (x=8)
    a = [(0, 0), (1, 0), (2, 0)]
    b = [(8, 0), (9, 0), (10, 0)]
    xy = np.array(a + b + [(3.2, 0), (6.5, 0)], float)
    labels, core = clusters.label_points(xy, 2, 3)
    assert core.tolist() == [True] * 6 + [False, False]
    assert labels[6] == labels[2] and labels[7] == labels[3] and labels[2] != labels[3]


def test_weights_act_as_sample_weight():
    xy = np.array([(0, 0), (1, 0), (50, 50)], float)
    inc = make(xy, weight=[1.0, 1.0, 5.0])
    assert clusters.dbscan(inc, 2, 5).areas.empty
    res = clusters.dbscan(inc, 2, 5, weighted=True)
    assert res.areas["count"].tolist() == [1]
    assert res.areas["weight"].tolist() == [5.0]
    with pytest.raises(InputError, match="weight"):
        clusters.dbscan(make(xy, weight=[1.0, -1.0, 5.0]), 2, 5, weighted=True)


# --------------------------------------------------------------------------- selection, space-time
def test_category_groups_and_period_select_the_incidents():
    xy = [(0, 0), (1, 0), (2, 0), (0, 1), (500, 500), (501, 500)]
    cats = ["Anti-social behaviour"] * 4 + ["Deliberate secondary fire"] * 2
    months = ["2024-01", "2024-01", "2024-02", "2024-03", "2024-01", "2024-02"]
    inc = make(xy, cats, months)
    res = clusters.dbscan(inc, 5, 2, category="asb", period=("2024-01", "2024-02"))
    assert res.n_incidents == 3 and res.areas["count"].tolist() == [3]
    assert res.parameters["from"] == "2024-01" and res.parameters["to"] == "2024-02"
    res = clusters.dbscan(inc, 5, 2, category="deliberate-secondary-fires")
    assert res.n_incidents == 2
    assert res.areas["top_categories"].tolist() == ["Deliberate secondary fire (2)"]
    assert res.top_categories == {1: {"Deliberate secondary fire": 2}}
    with pytest.raises(InputError, match="parameter 'category'"):
        clusters.dbscan(inc, 5, 2, category="no-such-group")


def test_space_time_mode_needs_neighbours_close_in_time():
    xy = [(0, 0), (1, 0), (2, 0), (0.5, 0.5), (1.5, 0.5), (1, 1)]
    occurred = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
                               "2024-03-01", "2024-03-02", "2024-03-03"])
    inc = make(xy, occurred=occurred, months=[d.strftime("%Y-%m") for d in occurred])
    assert len(clusters.dbscan(inc, 5, 3).areas) == 1
    res = clusters.dbscan(inc, 5, 3, days=7)
    assert sorted(res.areas["count"].tolist()) == [3, 3]
    assert set(res.areas["first_month"]) == {"2024-01", "2024-03"}
    assert clusters.dbscan(inc, 5, 3, days=1).areas["count"].tolist() == [3, 3]
    assert clusters.dbscan(inc, 5, 3, days=0.5).areas.empty   # nobody has 3 within half a day


def test_space_time_with_months_only_warns_and_uses_mid_month():
    inc = make([(0, 0), (1, 0), (2, 0), (0, 1)], months=["2024-01", "2024-01", "2024-02", "2024-02"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warnings travel one way: returned, never warnings.warn
        res = clusters.dbscan(inc, 5, 2, days=10)
    assert sorted(res.areas["count"].tolist()) == [2, 2]
    assert res.warnings and "15th" in res.warnings[0]


# --------------------------------------------------------------------------- parameters, messages
@pytest.mark.parametrize("kwargs, name", [
    ({"eps_m": 0}, "eps_m"), ({"eps_m": -5}, "eps_m"), ({"eps_m": "x"}, "eps_m"),
    ({"min_samples": 0}, "min_samples"), ({"min_samples": 2.5}, "min_samples"),
    ({"days": -1}, "days"), ({"method": "kmeans"}, "method"),
])
def test_bad_parameters_name_the_parameter(kwargs, name):
    args = {"eps_m": 100, "min_samples": 5, **kwargs}
    with pytest.raises(InputError) as err:
        clusters.dbscan(make([(0, 0)]), **args)
    assert err.value.parameter == name and f"parameter '{name}'" in str(err.value)


def test_every_bad_parameter_is_reported_at_once():
    with pytest.raises(InputError) as err:
        clusters.validate_params(eps_m=0, min_samples=0)
    assert "eps_m must be > 0" in str(err.value) and "min_samples must be >= 1" in str(err.value)


def test_no_cluster_message_says_which_parameter_to_change():
    res = clusters.dbscan(make([(0, 0), (500, 0), (0, 500)]), 100, 15)
    assert res.areas.empty and res.n_noise == 3
    assert res.message == ("no clusters: try a larger eps_m (now 100) or a smaller min_samples "
                           "(now 15); 3 incidents were selected")
    res = clusters.dbscan(make([(0, 0)]), 100, 15, period="2023-01..2023-02")
    assert "no incidents selected" in res.message


# --------------------------------------------------------------------------- patrol areas
def blobs(seed=3):
    rng = np.random.default_rng(seed)
    parts = [rng.normal((0, 0), 20, (60, 2)), rng.normal((1000, 0), 30, (40, 2)),
             rng.normal((0, 1000), 15, (40, 2)), np.repeat([[2000.0, 2000.0]], 25, axis=0),
             rng.uniform(-500, 2500, (30, 2))]
    xy = np.vstack(parts)
    months = [f"2024-{m:02d}" for m in rng.integers(1, 13, len(xy))]
    cats = rng.choice(["Anti-social behaviour", "Criminal damage", "Shoplifting"], len(xy))
    return make(xy, cats, months)


def test_polygons_contain_their_members_and_rank_by_count():
    inc = blobs()
    res = clusters.dbscan(inc, 40, 8)
    areas = res.areas
    assert areas["rank"].tolist() == list(range(1, len(areas) + 1)) == areas["cluster_id"].tolist()
    assert (np.diff(areas["count"]) <= 0).all()
    members = res.incidents[res.incidents["cluster_id"] > 0]
    for cid, grp in members.groupby("cluster_id"):
        poly = areas.set_index("cluster_id").geometry[cid]
        assert shapely.contains(poly, grp.geometry.values).all()
    # counts add up: members + noise = selected
    assert areas["count"].sum() + res.n_noise == res.n_incidents == len(inc)
    one = areas[areas["locations"] == 1].iloc[0]
    assert one["count"] == 25
    assert one["area_m2"] == pytest.approx(np.pi * 20 ** 2, rel=0.01)   # circle of eps/2
    assert one["density_per_km2"] == pytest.approx(25 / (one["area_m2"] / 1e6))
    first = areas.iloc[0]
    assert shapely.contains_xy(first.geometry, 0, 0) and 55 <= first["count"] <= 70
    top = res.top_categories[1]
    assert first["top_categories"] == "; ".join(f"{k} ({v})" for k, v in top.items())
    assert len(top) <= 3 and sum(top.values()) <= first["count"]
    assert list(top.values()) == sorted(top.values(), reverse=True)
    assert first["first_month"] <= first["last_month"]
    assert first["peak_hours"] is None   # months only: no hours


def test_peak_hours_and_weekdays_when_times_exist():
    xy = [(0, 0), (1, 0), (2, 0), (1, 1)]
    occurred = pd.to_datetime(["2024-03-01 22:10", "2024-03-08 22:40", "2024-04-05 23:05",
                               "2024-04-06 22:15"])   # Fri, Fri, Fri, Sat
    res = clusters.dbscan(make(xy, occurred=occurred, months=["2024-03", "2024-03", "2024-04", "2024-04"]),
                          5, 3)
    row = res.areas.iloc[0]
    assert row["peak_hours"].startswith("22:00")
    assert row["peak_weekdays"].startswith("Fri")
    assert row["peak_months"].startswith("Apr") or row["peak_months"].startswith("Mar")


def test_ids_are_stable_across_reruns_and_row_shuffles():
    inc = blobs()
    a = clusters.dbscan(inc, 40, 8)
    shuffled = inc.sample(frac=1.0, random_state=11)
    b = clusters.dbscan(shuffled, 40, 8)
    cols = ["cluster_id", "count", "area_m2", "first_month", "last_month", "top_categories"]
    pd.testing.assert_frame_equal(a.areas[cols].reset_index(drop=True),
                                  b.areas[cols].reset_index(drop=True))
    assert a.areas.geometry.normalize().geom_equals_exact(b.areas.geometry.normalize(), 1e-6).all()
    ids_a = a.incidents["cluster_id"]
    ids_b = b.incidents["cluster_id"].reindex(ids_a.index)
    assert (ids_a == ids_b).all()
    assert (clusters.dbscan(inc, 40, 8).incidents["cluster_id"] == ids_a).all()


def test_to_dict_has_exactly_the_contract_keys():
    doc = clusters.dbscan(blobs(), 40, 8).to_dict()
    assert list(doc) == ["parameters", "n_incidents", "n_noise", "clusters"]
    assert list(doc["clusters"][0]) == ["cluster_id", "count", "area_m2", "density_per_km2",
                                        "first_month", "last_month", "top_categories", "rank",
                                        "name", "centroid"]
    assert list(doc["clusters"][0]["centroid"]) == ["easting", "northing", "longitude", "latitude"]
    assert doc["parameters"]["eps_m"] == 40.0 and doc["parameters"]["min_samples"] == 8
    json.dumps(doc)


def test_hdbscan_option_finds_the_dense_blobs():
    res = clusters.dbscan(blobs(), 40, 8, method="hdbscan")
    assert len(res.areas) >= 3
    assert res.parameters["method"] == "hdbscan"
    big = res.areas.iloc[0]
    assert res.areas["count"].sum() + res.n_noise == res.n_incidents
    assert shapely.contains_xy(big.geometry, 0, 0)    # the 60-incident blob ranks first


def test_suggest_eps_finds_the_step_from_clustered_to_isolated_incidents():
    # 20 clusters of 5 + 5 incidents on two snap points 30 m apart: with min_samples 10 every
    # clustered incident's 10th neighbour (itself included) is exactly 30 m away; 100 isolated
    # incidents on a 2 km lattice are far from everything -> the step is at 30 m
    pairs = [((i % 5) * 2000.0 + 1000, (i // 5) * 2000.0 + 1000) for i in range(20)]
    xy = [p for x, y in pairs for p in [(x, y)] * 5 + [(x + 30, y)] * 5]
    xy += [(i * 2000.0 + 20_000, j * 2000.0 + 20_000) for i in range(10) for j in range(10)]
    s = eps_guide.suggest_eps(make(xy), 10)
    assert s.eps_m == 30.0
    assert list(s.curve.columns) == ["share", "distance_m"]
    assert s.curve["distance_m"].is_monotonic_increasing and s.curve["share"].iloc[-1] == 1.0
    assert s.curve["distance_m"].iloc[0] == 30.0 and len(s.curve) <= 500


# --------------------------------------------------------------------------- exports
@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".kml"])
def test_exports_are_read_back_by_geopandas(tmp_path, suffix):
    areas = clusters.dbscan(blobs(), 40, 8).areas.copy()
    areas.loc[0, "name"] = "Patrol <area> & 1"
    areas.loc[0, "description"] = "<b>bold</b> & more"
    path = geofiles.write_patrol_areas(areas, tmp_path / f"patrol{suffix}")
    back = gpd.read_file(path)
    assert len(back) == len(areas)
    if suffix == ".gpkg":
        assert back.crs.equals("EPSG:27700")
        assert back["count"].tolist() == areas["count"].tolist()
        assert back.geometry.area.round(0).tolist() == areas.geometry.area.round(0).tolist()
    else:
        assert back.crs.equals("EPSG:4326")
        assert back.to_crs(27700).geometry.area.sum() == pytest.approx(areas.geometry.area.sum(), rel=1e-3)
    if suffix == ".kml":
        text = path.read_text()
        # the name is plain text, XML-escaped once by the KML writer (issue 22: not "&amp;amp;");
        # the description is HTML (balloons render it): HTML-escaped, then XML-escaped
        assert "<name>#1 Patrol &lt;area&gt; &amp; 1</name>" in text
        assert back["Name"].iloc[0] == "#1 Patrol <area> & 1"
        assert "Patrol <area>" not in text
        assert "<b>bold</b>" not in text
    with pytest.raises(InputError, match="parameter 'out'"):
        geofiles.write_patrol_areas(areas, tmp_path / "patrol.shp")


# --------------------------------------------------------------------------- demo known truth
def test_planted_demo_clusters_are_recovered(demo):
    inc = demo.incidents
    planted = demo.truth["clusters"]
    for group in ("asb", "deliberate-secondary-fires"):
        res = clusters.dbscan(inc, 100, 15, category=group)
        mine = [c for c in planted if c["group"] == group]
        assert mine
        for c in mine:
            hit = res.areas[shapely.contains_xy(res.areas.geometry.values, c["x"], c["y"])]
            assert len(hit) == 1, c["name"]
            row = hit.iloc[0]
            centroid = row.geometry.centroid
            assert np.hypot(centroid.x - c["x"], centroid.y - c["y"]) <= c["radius_m"], c["name"]
            assert c["n_within_radius"] <= row["count"] <= 1.1 * c["n_within_radius"] + 5, c["name"]
        if group == "deliberate-secondary-fires":
            # fires: background is sparse, so the planted clusters are the only ones
            assert len(res.areas) == len(mine)


def test_suggested_eps_on_demo_fires_finds_the_planted_clusters(demo):
    s = eps_guide.suggest_eps(demo.incidents, 15, category="deliberate-secondary-fires")
    planted = [c for c in demo.truth["clusters"] if c["group"] == "deliberate-secondary-fires"]
    assert eps_guide.MIN_EPS_M <= s.eps_m <= max(c["radius_m"] for c in planted)
    res = clusters.dbscan(demo.incidents, s.eps_m, 15, category="deliberate-secondary-fires")
    assert len(res.areas) == len(planted)
    for c in planted:
        assert shapely.contains_xy(res.areas.geometry.values, c["x"], c["y"]).sum() == 1
