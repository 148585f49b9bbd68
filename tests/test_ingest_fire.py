"""Fire-service extracts -> the fire categories (design §4): service CSVs with Is Primary Fire /
Cause of Fire and masked coordinates, and London Fire Brigade records (no motive field)."""

from __future__ import annotations

import pandas as pd

from hotspot_app.core import settings, taxonomy
from hotspot_app.io.ingest import read_incidents

AFRS_HEADER = ("Day,Month,Year,Time of Call,Incident Number,X Coordinate,Y Coordinate,Unitary Authority,"
               "Ward,Incident Category,Property Category,Property Type,Is Primary Fire,Cause of Fire")


def afrs_row(n, cat, primary="", cause="", x="376***", y="165***", day="1", ptype="Building > Dwelling"):
    return f"{day},July,2014,01:54:02,{n:06d}-01072014,{x},{y},BANES,ABBEY,{cat},Dwelling,{ptype},{primary},{cause}"


def test_service_csv_categories_masked_coordinates_and_cp1252(tmp_path):
    rows = [
        afrs_row(1, "Fire", "yes", "Deliberate – others property"),
        afrs_row(2, "Fire", "no", "Deliberate – unknown owner", x="376512", y="165498"),
        afrs_row(3, "Fire", "no", "Deliberate – own property"),
        afrs_row(4, "Fire", "yes", "Accidental"),
        afrs_row(5, "Fire", "no", "Accidental"),
        afrs_row(6, "Fire", "no", "Not known"),
        afrs_row(7, "False Alarm"),
        afrs_row(8, "Special Service"),
        afrs_row(9, "Fire", "", "Deliberate – others property"),
        afrs_row(10, "Fire", "yes", "Accidental", x="", y=""),
        afrs_row(11, "Fire", "yes", "Accidental", day="32"),
    ]
    f = tmp_path / "afrs.csv"
    f.write_bytes(("\r\n".join([AFRS_HEADER, *rows]) + "\r\n").encode("cp1252"))
    res = read_incidents(f)
    s = res.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (11, 9, 2)
    assert s["rejected_by_reason"] == {"no location": 1, "bad date": 1}
    inc = res.incidents.set_index("incident_id")
    assert inc["category"].tolist() == [
        "Deliberate primary fire", "Deliberate secondary fire", "Deliberate secondary fire",
        "Accidental primary fire", "Accidental secondary fire", "Fire (cause not known)",
        "False alarm", "Special service", "Deliberate fire"]
    assert inc["kind"].eq("fire").all() and inc["source"].eq("fire").all()
    assert inc.loc["000009-01072014", "group"] == "Unknown"
    assert any("1 fires have a cause but no primary/secondary flag" in w for w in s["warnings"])
    assert any("cp1252" in w for w in s["warnings"])
    # masked 376*** / 165*** -> the 1 km cell centre, precision recorded; unmasked -> 1 m
    p = inc.loc["000001-01072014"]
    assert (p.geometry.x, p.geometry.y, p["location_precision_m"]) == (376500.0, 165500.0, 1000.0)
    q = inc.loc["000002-01072014"]
    assert (q.geometry.x, q.geometry.y, q["location_precision_m"]) == (376512.0, 165498.0, 1.0)
    assert p["occurred"] == pd.Timestamp("2014-07-01 01:54:02") and p["month"] == "2014-07"
    assert p["subcategory"] == "Building > Dwelling"
    assert p["cause_of_fire"] == "Deliberate – others property" and p["fire_class"] == "primary"
    assert q["fire_class"] == "secondary"
    named = taxonomy.select(res.incidents, "deliberate-fires")
    assert int(named.sum()) == 3
    assert int(taxonomy.select(res.incidents, "deliberate-primary-fires").sum()) == 1


LFB_HEADER = ("IncidentNumber,DateOfCall,CalYear,TimeOfCall,HourOfCall,IncidentGroup,StopCodeDescription,"
              "SpecialServiceType,PropertyCategory,PropertyType,Easting_m,Northing_m,Easting_rounded,"
              "Northing_rounded,Latitude,Longitude")


def test_lfb_records_have_no_motive_so_fires_are_cause_not_known(tmp_path):
    rows = [
        "1,01 Jan 2009,2009,00:00:37,0,Fire,Primary Fire,,Dwelling,House ,,,528650,176850,,",
        "2,01 Jan 2009,2009,00:01:00,0,Fire,Secondary Fire,,Outdoor,Grassland ,530485.0,179007.0,530450,179050,51.49,-0.12",
        "3,01 Jan 2009,2009,00:02:00,0,False Alarm,AFA,,Non Residential,Office ,530000.0,180000.0,530000,180000,51.5,-0.1",
        "4,01 Jan 2009,2009,00:03:00,0,Special Service,Special Service,RTC,Road Vehicle,Car ,531000.0,181000.0,531000,181000,51.5,-0.1",
        "5,01 Jan 2009,2009,00:04:00,0,Fire,Chimney Fire,,Dwelling,House ,,,,,,",
    ]
    f = tmp_path / "lfb.csv"
    f.write_text("\n".join([LFB_HEADER, *rows]) + "\n", encoding="utf-8")
    res = read_incidents(f)
    assert res.summary["rejected_by_reason"] == {"no location": 1}
    inc = res.incidents.set_index("incident_id")
    assert inc["category"].tolist() == ["Fire (cause not known)", "Fire (cause not known)",
                                        "False alarm", "Special service"]
    assert inc["fire_class"].tolist() == ["primary", "secondary", "", ""]
    assert inc["location_precision_m"].tolist() == [50.0, 1.0, 1.0, 1.0]
    assert (inc.loc["1"].geometry.x, inc.loc["1"].geometry.y) == (528650.0, 176850.0)
    assert inc.loc["2"].geometry.x == 530485.0
    assert inc.loc["1", "subcategory"] == "House"
    assert inc.loc["1", "occurred"] == pd.Timestamp("2009-01-01 00:00:37")
    assert any("no cause (motive) column" in w for w in res.summary["warnings"])


def test_real_afrs_extract_counts_match_the_file(realdata):
    path = realdata / "fire" / "afrs_attended_incidents_july_2014.csv"
    raw = pd.read_csv(path, encoding="cp1252", dtype=str, keep_default_na=False)
    res = read_incidents(path)
    inc = res.incidents
    s = res.summary
    # SOURCES.md: 1,084 rows; 344 fires; primary yes 136 / no 208; deliberate 113 + 83 + 12
    assert (s["read"], s["loaded"], s["rejected"]) == (1084, 1084, 0) == (len(raw), len(raw), 0)
    fires = raw[raw["Incident Category"] == "Fire"]
    deliberate = fires["Cause of Fire"].str.startswith("Deliberate")
    accidental = fires["Cause of Fire"].eq("Accidental")
    yes, no = fires["Is Primary Fire"].eq("yes"), fires["Is Primary Fire"].eq("no")
    expected = {
        "Deliberate primary fire": int((deliberate & yes).sum()),
        "Deliberate secondary fire": int((deliberate & no).sum()),
        "Accidental primary fire": int((accidental & yes).sum()),
        "Accidental secondary fire": int((accidental & no).sum()),
        "Fire (cause not known)": int((~deliberate & ~accidental).sum()),
        "False alarm": int(raw["Incident Category"].eq("False Alarm").sum()),
        "Special service": int(raw["Incident Category"].eq("Special Service").sum()),
    }
    assert inc["category"].value_counts().to_dict() == expected
    assert len(fires) == 344 and int(yes.sum()) == 136 and int(no.sum()) == 208
    assert int(deliberate.sum()) == 113 + 83 + 12 == 208
    assert int(taxonomy.select(inc, "deliberate-fires").sum()) == 208
    assert expected["Deliberate primary fire"] + expected["Deliberate secondary fire"] == 208
    assert inc["location_precision_m"].eq(1000.0).all()
    assert (inc.geometry.x % 1000 == 500).all() and (inc.geometry.y % 1000 == 500).all()
    assert inc.crs.equals(settings.CRS) and inc["month"].eq("2014-07").all()
    assert inc["occurred"].notna().all()


def test_real_lfb_sample_loads_every_row(realdata):
    res = read_incidents(realdata / "fire" / "lfb_incident_sample_2009-01-01.csv")
    s = res.summary
    assert (s["read"], s["loaded"], s["rejected"]) == (20, 20, 0)
    counts = res.incidents["category"].value_counts().to_dict()
    # SOURCES.md: 8 fires (6 secondary, 2 primary), 4 false alarms, 8 special services
    assert counts == {"Fire (cause not known)": 8, "False alarm": 4, "Special service": 8}
    assert res.incidents["fire_class"].value_counts().to_dict() == {"": 12, "secondary": 6, "primary": 2}
    assert res.incidents["occurred"].dt.date.astype(str).eq("2009-01-01").all()
