"""Ward and LSOA boundaries from the ONS Open Geography Portal, and Census 2021 LSOA population
from Nomis, for given local authorities (LAD codes), with the licence text written beside them.

**Boundaries** (``hotspot fetch boundaries``): the portal's ArcGIS FeatureServer layers, queried
with ``.../<service>/FeatureServer/0/query`` and the parameters ``where``, ``outFields``,
``returnGeometry``, ``outSR=4326``, ``f=json|geojson``, ``orderByFields``, ``resultOffset`` and
``resultRecordCount``. A service returns at most its ``maxRecordCount`` features per answer and
says ``exceededTransferLimit: true`` (top level in ``f=json``, under ``properties`` in
``f=geojson``) while more remain: we page on with ``resultOffset`` until it stops saying so.

- which wards / LSOAs an authority has: the lookups `WARD_LOOKUP` ("Ward to Local Authority
  District (May 2024) Lookup in the UK": WD24CD, WD24NM, LAD24CD, LAD24NM) and `LSOA_LOOKUP`
  ("LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup in EW": LSOA21CD,
  LSOA21NM, LAD24CD, LAD24NM), ``where=LAD24CD IN ('E06000001', ...)``;
- their polygons: `WARD_BOUNDARIES` ("Wards (May 2024) Boundaries UK BGC", generalised to 20 m,
  clipped to the coastline) and `LSOA_BOUNDARIES` ("LSOA (December 2021) Boundaries EW BGC V5"),
  ``where=WD24CD IN (...)`` (resp. LSOA21CD) in chunks of `IN_CHUNK` codes.

The file written has ``WD24CD, WD24NM, LAD24CD, LAD24NM`` (resp. ``LSOA21CD, LSOA21NM, LAD24CD,
LAD24NM``): `hotspot table --by LAD24NM` and the boundary reader use them as they are.
``.geojson`` is written in WGS84 (RFC 7946), ``.gpkg`` in EPSG:27700.

**Population** (``hotspot fetch population``): Census 2021 table TS001 "Number of usual
residents in households and communal establishments", Nomis dataset ``NM_2021_1``:
``/dataset/NM_2021_1.data.csv?date=latest&geography=<LSOA21 codes>&c2021_restype_3=0
&measures=20100&select=GEOGRAPHY_CODE,GEOGRAPHY_NAME,OBS_VALUE`` (``c2021_restype_3=0`` is the
total of usual residents, ``measures=20100`` the count). Nomis takes GSS codes in ``geography``;
the authority's LSOAs come from `LSOA_LOOKUP`. Written as ``lsoa21_code, lsoa21_name, lad_code,
lad_name, population`` (`hotspot rank --population FILE --lsoa-boundaries LSOAS` reads it).

Beside each file, ``<file>.licence.txt`` records the source, the query, the date fetched and
the licence (Open Government Licence v3.0) with the attribution the ONS asks for.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from hotspot_app.io import exports
from hotspot_app.core import settings
from hotspot_app.core.errors import InputError

from hotspot_app.io.fetch.http import Client, ServiceError

#: ONS Open Geography Portal ArcGIS services.
ARCGIS_URL: str = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"
#: Nomis API.
NOMIS_URL: str = "https://www.nomisweb.co.uk/api/v01"
WARD_LOOKUP: str = "WD24_LAD24_UK_LU"
LSOA_LOOKUP: str = "LSOA21_WD24_LAD24_EW_LU"
WARD_BOUNDARIES: str = "Wards_May_2024_Boundaries_UK_BGC"
LSOA_BOUNDARIES: str = "Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5"
CENSUS_DATASET: str = "NM_2021_1"
#: Features asked for per page (the services' maxRecordCount is 1,000 to 2,000).
PAGE: int = 2000
#: Codes per ``IN (...)`` query or Nomis request (keeps every URL short).
IN_CHUNK: int = 100

LEVELS = {
    "ward": {"lookup": WARD_LOOKUP, "boundaries": WARD_BOUNDARIES, "code": "WD24CD", "name": "WD24NM",
             "title": "Wards (May 2024) Boundaries UK BGC",
             "lookup_title": "Ward to Local Authority District (May 2024) Lookup in the UK"},
    "lsoa": {"lookup": LSOA_LOOKUP, "boundaries": LSOA_BOUNDARIES, "code": "LSOA21CD", "name": "LSOA21NM",
             "title": "Lower layer Super Output Areas (December 2021) Boundaries EW BGC (V5)",
             "lookup_title": "LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup in EW"},
}

OGL = "Open Government Licence v3.0: https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ATTRIBUTION_GEOGRAPHY = ("Source: Office for National Statistics licensed under the Open Government Licence "
                         "v.3.0. Contains OS data © Crown copyright and database right {year}.")
ATTRIBUTION_CENSUS = ("Source: Office for National Statistics licensed under the Open Government Licence "
                      "v.3.0 (Census 2021; LSOA lookup from the ONS Open Geography Portal).")

_LAD = re.compile(r"^[EWSN]\d{8}$")


def check_lads(codes) -> list[str]:
    """LAD codes as given (``E06000001``), upper-cased and de-duplicated; InputError otherwise."""
    out: list[str] = []
    for c in codes or []:
        for part in str(c).replace(",", " ").split():
            code = part.strip().upper()
            if not _LAD.match(code):
                raise InputError(f"'{part}' is not a local authority code (e.g. E06000001)", parameter="lad")
            if code not in out:
                out.append(code)
    if not out:
        raise InputError("give at least one --lad CODE (e.g. E06000001)", parameter="lad")
    return out


def _in(field: str, codes: list[str]) -> str:
    quoted = ",".join("'" + str(c).replace("'", "''") + "'" for c in codes)
    return f"{field} IN ({quoted})"


def query(client: Client, service: str, where: str, fields: list[str], geometry: bool = False,
          order: str | None = None) -> list[dict]:
    """Every feature of `service` matching `where`, page by page (``exceededTransferLimit``).
    Features are ``{"attributes": {...}, "geometry": GeoJSON|None}``."""
    out: list[dict] = []
    offset = 0
    while True:
        params = {"where": where, "outFields": ",".join(fields), "returnGeometry": str(geometry).lower(),
                  "f": "geojson" if geometry else "json", "resultOffset": offset, "resultRecordCount": PAGE}
        if geometry:
            params["outSR"] = 4326
        if order:
            params["orderByFields"] = order
        doc = client.get(f"{service}/FeatureServer/0/query", params=params,
                         what=f"{service} ({where[:60]}{'...' if len(where) > 60 else ''}, from {offset})").json()
        if not isinstance(doc, dict) or "error" in doc:
            err = doc.get("error") if isinstance(doc, dict) else doc
            message = err.get("message") if isinstance(err, dict) else err
            raise ServiceError(f"the ONS geography service refused a query of {service}: {message}")
        feats = doc.get("features") or []
        for f in feats:
            if geometry:
                out.append({"attributes": f.get("properties") or {}, "geometry": f.get("geometry")})
            else:
                out.append({"attributes": f.get("attributes") or {}, "geometry": None})
        more = bool(doc.get("exceededTransferLimit") or (doc.get("properties") or {}).get("exceededTransferLimit"))
        if not more:
            return out
        if not feats:
            raise ServiceError(f"the ONS geography service says {service} has more features but sent none")
        offset += len(feats)


def lookup(client: Client, level: str, lads: list[str]) -> pd.DataFrame:
    """The wards (or LSOAs) of `lads`: code, name, LAD24CD, LAD24NM (one row each)."""
    spec = LEVELS[level]
    rows = query(client, spec["lookup"], _in("LAD24CD", lads),
                 [spec["code"], spec["name"], "LAD24CD", "LAD24NM"], order=spec["code"])
    table = pd.DataFrame([r["attributes"] for r in rows], columns=[spec["code"], spec["name"], "LAD24CD", "LAD24NM"])
    table = table.dropna(subset=[spec["code"]]).drop_duplicates(subset=[spec["code"]]).reset_index(drop=True)
    found = set(table["LAD24CD"].astype(str))
    unknown = [c for c in lads if c not in found]
    if unknown:
        raise InputError(f"no {level}s found for {', '.join(unknown)} in the ONS lookup {spec['lookup']} "
                         "(2024 local authority codes, England and Wales)", parameter="lad")
    return table


def boundaries(client: Client, level: str, lads: list[str]):
    """``(areas in WGS84, warnings)``: the `level` polygons of `lads` with code, name, LAD24CD
    and LAD24NM."""
    import geopandas as gpd

    spec = LEVELS[level]
    table = lookup(client, level, lads)
    codes = table[spec["code"]].astype(str).tolist()
    feats: list[dict] = []
    for i in range(0, len(codes), IN_CHUNK):
        feats += query(client, spec["boundaries"], _in(spec["code"], codes[i:i + IN_CHUNK]),
                       [spec["code"], spec["name"]], geometry=True, order=spec["code"])
    warnings: list[str] = []
    gdf = gpd.GeoDataFrame.from_features(
        [{"type": "Feature", "properties": f["attributes"], "geometry": f["geometry"]} for f in feats
         if f["geometry"]], crs=settings.CRS_WGS84)
    if not len(gdf):
        raise ServiceError(f"the ONS geography service sent no {level} boundaries for {', '.join(lads)}")
    gdf = gdf.drop_duplicates(subset=[spec["code"]]).reset_index(drop=True)
    gdf = gdf.merge(table[[spec["code"], "LAD24CD", "LAD24NM"]], on=spec["code"], how="left")
    gdf = gdf[[spec["code"], spec["name"], "LAD24CD", "LAD24NM", "geometry"]]
    gdf = gdf.sort_values(["LAD24CD", spec["code"]]).reset_index(drop=True)
    missing = sorted(set(codes) - set(gdf[spec["code"]].astype(str)))
    if missing:
        warnings.append(f"{len(missing)} {level}(s) of the lookup have no boundary in {spec['boundaries']}: "
                        + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
    return gdf, warnings


def population(geo: Client, nomis: Client, lads: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """``(table, warnings)``: Census 2021 usual residents (TS001) of every LSOA of `lads`:
    lsoa21_code, lsoa21_name, lad_code, lad_name, population."""
    table = lookup(geo, "lsoa", lads)
    codes = table["LSOA21CD"].astype(str).tolist()
    values: dict[str, int] = {}
    for i in range(0, len(codes), IN_CHUNK):
        chunk = codes[i:i + IN_CHUNK]
        resp = nomis.get(f"dataset/{CENSUS_DATASET}.data.csv",
                         params={"date": "latest", "geography": ",".join(chunk), "c2021_restype_3": 0,
                                 "measures": 20100, "select": "GEOGRAPHY_CODE,GEOGRAPHY_NAME,OBS_VALUE"},
                         what=f"Census 2021 TS001 for {len(chunk)} LSOAs")
        reader = csv.DictReader(io.StringIO(resp.text()))
        cols = {str(c).strip().upper(): c for c in reader.fieldnames or []}
        if "GEOGRAPHY_CODE" not in cols or "OBS_VALUE" not in cols:
            raise ServiceError("Nomis did not answer with GEOGRAPHY_CODE and OBS_VALUE columns")
        for row in reader:
            code = str(row[cols["GEOGRAPHY_CODE"]]).strip()
            text = str(row[cols["OBS_VALUE"]]).replace(",", "").strip()
            try:
                values[code] = int(float(text))
            except ValueError:
                raise ServiceError(f"Nomis gave '{text}' as the population of {code}") from None
    out = pd.DataFrame({"lsoa21_code": table["LSOA21CD"].astype(str), "lsoa21_name": table["LSOA21NM"].astype(str),
                        "lad_code": table["LAD24CD"].astype(str), "lad_name": table["LAD24NM"].astype(str)})
    out["population"] = out["lsoa21_code"].map(values).astype("Int64")
    warnings = []
    missing = out.loc[out["population"].isna(), "lsoa21_code"].tolist()
    if missing:
        warnings.append(f"Nomis gave no Census 2021 count for {len(missing)} LSOA(s): "
                        + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
    return out.sort_values(["lad_code", "lsoa21_code"]).reset_index(drop=True), warnings


# --------------------------------------------------------------------------- writing
def licence_path(out: Path) -> Path:
    return Path(out).with_name(Path(out).name + ".licence.txt")


def _licence_text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def write_boundaries(gdf, out: Path, level: str) -> None:
    """The areas to `out` (.geojson in WGS84, .gpkg in EPSG:27700), atomically."""
    from hotspot_app.io.workspace.gpkg import atomic_path

    suffix = out.suffix.lower()
    if suffix in (".geojson", ".json"):
        exports.write_text_atomic(out, gdf.to_crs(settings.CRS_WGS84).to_json(drop_id=True))
    elif suffix == ".gpkg":
        with atomic_path(out, copy_existing=False) as tmp:
            gdf.to_crs(settings.CRS).to_file(tmp, layer=f"{level}s", driver="GPKG")
    else:
        raise InputError(f"cannot write '{out.suffix or out.name}'; use .geojson or .gpkg", parameter="out")


def _check_out(out, suffixes: tuple[str, ...]) -> Path:
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise InputError(f"cannot write '{out.suffix or out.name}'; use {' or '.join(suffixes)}", parameter="out")
    if out.is_dir():
        raise InputError(f"{out} is a folder", parameter="out")
    return out


@dataclass
class _Now:
    stamp: str
    year: int


def _now() -> _Now:
    t = datetime.now(timezone.utc)
    return _Now(t.strftime("%Y-%m-%d %H:%M UTC"), t.year)


def run_boundaries(lads, out, level: str = "ward", base_url: str | None = None, progress=None) -> dict:
    """``hotspot fetch boundaries``: JSON ``{"out", "level", "lads", "areas", "requests",
    "licence", "warnings"}``."""
    if level not in LEVELS:
        raise InputError(f"unknown level '{level}'; use ward or lsoa", parameter="level")
    lads = check_lads(lads)
    out = _check_out(out, (".geojson", ".json", ".gpkg"))
    client = Client(base_url or ARCGIS_URL, service="the ONS geography service")
    if progress:
        progress(f"asking the ONS geography service for the {level}s of {', '.join(lads)} ...")
    gdf, warnings = boundaries(client, level, lads)
    spec = LEVELS[level]
    now = _now()
    write_boundaries(gdf, out, level)
    lic = licence_path(out)
    exports.write_text_atomic(lic, _licence_text([
        f"{out.name}: {len(gdf)} {level} boundaries of {', '.join(lads)}",
        f"Source: Office for National Statistics, Open Geography Portal: {spec['title']} "
        f"(service {spec['boundaries']}) and {spec['lookup_title']} (service {spec['lookup']}).",
        f"Service root: {client.base_url}",
        f"Fetched: {now.stamp}",
        f"Licence: {OGL}",
        "Attribution: " + ATTRIBUTION_GEOGRAPHY.format(year=now.year),
    ]))
    return {"out": str(out), "level": level, "lads": lads, "areas": int(len(gdf)),
            "requests": client.requests, "licence": str(lic), "warnings": warnings}


def run_population(lads, out, base_url: str | None = None, geography_url: str | None = None,
                   progress=None) -> dict:
    """``hotspot fetch population``: JSON ``{"out", "lads", "lsoas", "population", "requests",
    "licence", "warnings"}`` (``population`` the total over the LSOAs with a count)."""
    lads = check_lads(lads)
    out = _check_out(out, (".csv",))
    geo = Client(geography_url or ARCGIS_URL, service="the ONS geography service")
    nomis = Client(base_url or NOMIS_URL, service="Nomis")
    if progress:
        progress(f"asking the ONS geography service for the LSOAs of {', '.join(lads)}, then Nomis for "
                 "their Census 2021 population ...")
    table, warnings = population(geo, nomis, lads)
    now = _now()
    exports.write_bytes_atomic(out, exports.csv_bytes(table))
    lic = licence_path(out)
    exports.write_text_atomic(lic, _licence_text([
        f"{out.name}: Census 2021 usual residents of {len(table)} LSOAs (2021) of {', '.join(lads)}",
        f"Source: Office for National Statistics, Census 2021, table TS001 (Number of usual residents in "
        f"households and communal establishments), total of usual residents, via Nomis dataset "
        f"{CENSUS_DATASET} ({nomis.base_url}). LSOAs of each authority: {LEVELS['lsoa']['lookup_title']} "
        f"(ONS Open Geography Portal, service {LSOA_LOOKUP}).",
        f"Fetched: {now.stamp}",
        f"Licence: {OGL}",
        "Attribution: " + ATTRIBUTION_CENSUS,
    ]))
    total = int(table["population"].dropna().sum())
    return {"out": str(out), "lads": lads, "lsoas": int(len(table)), "population": total,
            "requests": geo.requests + nomis.requests, "licence": str(lic), "warnings": warnings}
