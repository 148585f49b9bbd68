"""The workspace's and `ingest --out`'s WKB column: points laid out by numpy must be the very
bytes shapely (GEOS) writes, so files written before and after read back the same."""

import numpy as np
import pyarrow as pa
import shapely

from hotspot_app.io import incident_arrow


def _shapely(codes, distinct):
    return pa.array(shapely.to_wkb(distinct), type=pa.binary()).take(pa.array(codes))


def test_points_and_missing_cells_give_the_bytes_shapely_writes():
    pts = np.array([shapely.Point(451234.5, 512345.25), None, shapely.Point(-1.5e-3, 7e6)], dtype=object)
    codes = np.array([0, 1, 2, 2, 0, 1])
    got = incident_arrow.wkb_column(codes, pts)
    assert got.equals(_shapely(codes, pts))
    assert got.null_count == 2
    assert shapely.from_wkb(got.to_pylist()[0]).equals(shapely.Point(451234.5, 512345.25))


def test_other_geometries_go_through_shapely():
    for odd in (shapely.Point(), shapely.Point(1, 2, 3), shapely.box(0, 0, 1, 1)):
        pts = np.array([shapely.Point(1, 2), odd], dtype=object)
        assert incident_arrow.point_xy(pts) is None
        assert incident_arrow.wkb_column(np.array([1, 0]), pts).equals(_shapely(np.array([1, 0]), pts))
