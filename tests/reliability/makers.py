"""Writers of small, deliberately awkward input files for the reliability suite.

Every file is written by the test itself into its tmp_path (no binary fixtures in the repo).
Coordinates are in Middlesbrough (police.uk Cleveland): longitude -1.23, latitude 54.57, or BNG
easting 450000, northing 520000.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point, box

POLICE_HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                 "LSOA name,Crime type,Last outcome category,Context")
FIRE_HEADER = ("Day,Month,Year,Time of Call,Incident Number,X Coordinate,Y Coordinate,Unitary Authority,"
               "Ward,Incident Category,Property Category,Property Type,Is Primary Fire,Cause of Fire")
GENERIC_HEADER = "id,date,category,easting,northing"


def police_row(cid: str = "c1", month: str = "2024-01", lon: str = "-1.23", lat: str = "54.57",
               crime: str = "Burglary") -> str:
    return f"{cid},{month},Cleveland Police,Cleveland Police,{lon},{lat},On or near A Street,E01,N01,{crime},,"


def police_file(folder: Path, rows: list[str], name: str = "2024-01-cleveland-street.csv",
                encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(("\n".join([POLICE_HEADER, *rows]) + "\n").encode(encoding))
    return path


def fire_row(n: int, cat: str = "Fire", primary: str = "no", cause: str = "Deliberate - others property",
             day: str = "1", month: str = "July", year: str = "2014", x: str = "450000",
             y: str = "520000") -> str:
    return (f"{day},{month},{year},01:54:02,{n:06d}-F,{x},{y},UA,WARD,{cat},Outdoor,Grassland,"
            f"{primary},{cause}")


def fire_file(folder: Path, rows: list[str], name: str = "fires.csv") -> Path:
    path = folder / name
    path.write_bytes(("\r\n".join([FIRE_HEADER, *rows]) + "\r\n").encode("cp1252"))
    return path


def text_file(folder: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def points_layer(n: int, category: str = "Burglary", crs: str = "EPSG:27700", x0: float = 450000,
                 y0: float = 520000, date: str = "2024-01-15") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"{category[:3]}{i}" for i in range(n)], "date": [date] * n,
                             "category": [category] * n},
                            geometry=[Point(x0 + i, y0) for i in range(n)], crs=crs)


def wards(names=("North", "South"), crs: str = "EPSG:27700") -> gpd.GeoDataFrame:
    """Two 1 km squares side by side in Middlesbrough (BNG metres)."""
    polys = [box(449000 + 1000 * i, 519000, 450000 + 1000 * i, 521000) for i in range(len(names))]
    return gpd.GeoDataFrame({"WD24CD": [f"E0500000{i + 1}" for i in range(len(names))],
                             "WD24NM": list(names)}, geometry=polys, crs="EPSG:27700").to_crs(crs)


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: they are the point
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return buf.getvalue()


def police_bytes(rows: list[str]) -> bytes:
    return ("\n".join([POLICE_HEADER, *rows]) + "\n").encode("utf-8")
