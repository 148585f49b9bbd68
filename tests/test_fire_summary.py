"""fire_summary.py: the precision note for masked coordinates, the file's own ward column, and
the ward × month table (exact counts; uncovered months blank, never 0)."""

from __future__ import annotations

import glob

import geopandas as gpd
import pandas as pd
import shapely

from hotspot_app.core import fire_summary, schema, settings


def _fires(rows, precision=None):
    df = pd.DataFrame(rows, columns=["x", "y", "month", "ward"])
    df["category"] = "Deliberate secondary fire"
    if precision is not None:
        df["location_precision_m"] = precision
    return schema.make_incidents(df, source="fire", default_kind="fire")


def test_precision_note_only_for_masked_locations():
    exact = _fires([(450000, 520000, "2024-01", "A")])
    assert fire_summary.precision_note(exact) is None
    masked = _fires([(450500, 520500, "2024-01", "A"), (451500, 520500, "2024-01", "B")], precision=1000.0)
    note = fire_summary.precision_note(masked)
    assert note.startswith("2 of 2 fire locations are only precise to about 1 km")
    assert "eps of at least 1,000 m" in note


def test_ward_month_table_from_the_files_ward_column_and_boundaries():
    inc = _fires([(450010, 520010, "2024-01", "North"), (450020, 520020, "2024-01", "North"),
                  (450030, 520030, "2024-03", "North"), (460000, 520000, "2024-03", "South"),
                  (460010, 520010, "2024-03", "")])
    t, how, warns = fire_summary.ward_month_table(inc, months=["2024-01", "2024-02", "2024-03"])
    assert how == "the file's own ward column ('ward')"
    t = t.set_index("ward")
    # 2024-02 has no fire rows at all: not covered -> blank, never 0
    assert pd.isna(t.loc["North", "2024-02"]) and warns == ["the fire data do not cover 2024-02: those months are blank, not zero"]
    assert (t.loc["North", "2024-01"], t.loc["North", "2024-03"], t.loc["North", "Total"]) == (2, 1, 3)
    assert (t.loc["South", "Total"], t.loc["Not recorded", "Total"], t.loc["Total", "Total"]) == (1, 1, 5)
    assert list(t.index) == ["North", "South", "Not recorded", "Total"]
    wards = gpd.GeoDataFrame({"name": ["West", "East"]}, geometry=[shapely.box(449000, 519000, 455000, 525000),
                                                                  shapely.box(455000, 519000, 461000, 525000)],
                             crs=settings.CRS)
    t2, how2, _ = fire_summary.ward_month_table(inc, wards=wards, months=["2024-01", "2024-03"])
    t2 = t2.set_index("ward")
    assert how2 == "ward boundaries loaded"
    assert (t2.loc["West", "Total"], t2.loc["East", "Total"], t2.loc["East", "2024-03"]) == (3, 2, 2)


def test_real_fire_extract_masked_to_1km_with_ward_column(realdata):
    from hotspot_app.io import ingest

    r = ingest.read_incidents(glob.glob(str(realdata / "fire" / "afrs_*.csv")), kind="auto")
    f = r.incidents
    assert fire_summary.precision_m(f) == 1000.0
    assert fire_summary.file_ward_column(f) == "ward"
    t, _, _ = fire_summary.ward_month_table(f, category="deliberate-secondary-fires")
    assert int(t.set_index("ward").loc["Total", "Total"]) == 159
