"""A local stand-in for police.uk, the ONS Open Geography ArcGIS services and Nomis, serving
responses built at test time from ``../shared/realdata`` (nothing recorded is stored in the repo).

- police.uk API (https://data.police.uk/docs/): ``/api/crimes-street-dates``, ``/api/forces``,
  ``/api/forces/cleveland``, ``/api/cleveland/neighbourhoods``, ``/api/cleveland/<id>/boundary``,
  ``/api/crimes-street/all-crime`` (GET or POST ``poly=lat,lng:...&date=YYYY-MM``; HTTP 503 when
  the polygon holds more than `threshold` crimes, as the real API does above 10,000),
  ``/api/crimes-no-location``, ``/api/crime-categories``. Crimes are the real Cleveland CSV rows in
  the API's JSON shape (category slugs, ``location {latitude, longitude, street {id, name}}``,
  ``persistent_id``, ``outcome_status``, ``context``, ``location_type``, ``id``).
- ``/data/archive/<YYYY-MM>.zip``: a monthly archive (HEAD; GET with ``Range``) holding the real
  Cleveland street files, a decoy force's file and an outcomes file.
- ``/arcgis/rest/services/<service>/FeatureServer/0/query``: the ward -> LAD and LSOA -> LAD
  lookups and the ward (wards_2024) and LSOA (lsoa_2011 polygons under LSOA21CD) boundaries,
  paged with ``resultOffset`` / ``resultRecordCount`` / ``exceededTransferLimit`` (page size
  `page_max`), ``f=json`` or ``f=geojson``.
- ``/nomis/api/v01/dataset/NM_2021_1.data.csv``: Census 2021 TS001 usual residents by LSOA.

Failures are injected with `fail` (a status, headers such as Retry-After, how many times);
every request is logged in `log` as ``"METHOD /path?query"`` (POST bodies appended).
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

# police.uk's category slugs (GET /api/crime-categories), written out here independently of the
# code under test.
SLUGS = {
    "Anti-social behaviour": "anti-social-behaviour", "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary", "Criminal damage and arson": "criminal-damage-arson", "Drugs": "drugs",
    "Other theft": "other-theft", "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order", "Robbery": "robbery", "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person", "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime", "Other crime": "other-crime",
}
LOOKUP_WARDS = "WD24_LAD24_UK_LU"
LOOKUP_LSOAS = "LSOA21_WD24_LAD24_EW_LU"
WARDS = "Wards_May_2024_Boundaries_UK_BGC"
LSOAS = "Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5"


def police_csv(realdata: Path, month: str) -> Path:
    return realdata / "police_cleveland" / f"{month}-cleveland-street.csv"


class FakeServices:
    """Start with ``with FakeServices(realdata, months=[...]) as s: s.url ...``."""

    def __init__(self, realdata: Path, months=("2024-01", "2024-02", "2024-03"), available=None,
                 threshold: int = 10_000, page_max: int = 1000):
        self.realdata = Path(realdata)
        self.threshold = threshold
        self.page_max = page_max
        self.log: list[str] = []
        self.failures: list[dict] = []
        self.no_location: dict[str, list] = {}
        self.archives: dict[str, bytes] = {}
        self.ranges = True
        self.served: dict[str, int] = {}   # crimes sent per month (more than the month has: overlaps)
        self.bytes_served = 0              # archive bytes sent
        self._lock = threading.Lock()
        self._next_id = 1000
        self.crimes: dict[str, dict] = {}
        for month in months:
            self.add_month(month)
        self.available = list(available) if available is not None else sorted(self.crimes)
        self._neighbourhoods = None
        self._arcgis = None
        self._census = None
        self.server = None

    # ------------------------------------------------------------------ data
    def add_month(self, month: str) -> None:
        df = pd.read_csv(police_csv(self.realdata, month), dtype=str, keep_default_na=False)
        streets = pd.factorize(df["Latitude"] + "|" + df["Longitude"] + "|" + df["Location"])[0] + 500_000
        crimes = []
        for i, r in enumerate(df.itertuples(index=False)):
            row = dict(zip(df.columns, r))
            crimes.append({
                "category": SLUGS[row["Crime type"]], "location_type": "Force",
                "location": {"latitude": row["Latitude"],
                             "street": {"id": int(streets[i]), "name": row["Location"]},
                             "longitude": row["Longitude"]},
                "context": row["Context"],
                "outcome_status": ({"category": row["Last outcome category"], "date": month}
                                   if row["Last outcome category"] else None),
                "persistent_id": row["Crime ID"], "id": self._next_id + i, "location_subtype": "",
                "month": row["Month"],
            })
        self._next_id += len(df) + 1000
        self.crimes[month] = {"rows": crimes, "lon": df["Longitude"].astype(float).to_numpy(),
                              "lat": df["Latitude"].astype(float).to_numpy()}

    def neighbourhoods(self) -> dict[str, list[dict]]:
        """Four neighbourhoods: each authority's wards, grown by 1 km (the real CSVs hold points
        up to 871 m outside the wards), as police.uk boundary points."""
        if self._neighbourhoods is None:
            wards = gpd.read_file(self.realdata / "wards_2024" / "cleveland_wards_may2024_bsc_epsg27700.geojson")
            out = {}
            for code, group in wards.groupby("LAD24CD"):
                area = group.geometry.union_all().buffer(1000).simplify(50)
                wgs = gpd.GeoSeries([area], crs=27700).to_crs(4326).iloc[0]
                ring = wgs.exterior.coords if isinstance(wgs, Polygon) else max(wgs.geoms, key=lambda g: g.area).exterior.coords
                out[code] = [{"latitude": f"{y:.6f}", "longitude": f"{x:.6f}"} for x, y in ring]
            self._neighbourhoods = out
        return self._neighbourhoods

    def arcgis(self) -> dict[str, list[dict]]:
        if self._arcgis is None:
            wards = gpd.read_file(self.realdata / "wards_2024" / "cleveland_wards_may2024_bsc_wgs84.geojson")
            pop = pd.read_csv(self.realdata / "population" / "census2021_lsoa21_population_cleveland.csv", dtype=str)
            lsoa = pd.concat([gpd.read_file(self.realdata / "lsoa_2011" / f"E0600000{i}.json") for i in range(1, 5)],
                             ignore_index=True)
            # a few more authorities than asked for, so the where clause has to select
            other = {"attributes": {"WD24CD": "E05009999", "WD24NM": "Elsewhere", "LAD24CD": "E06000005",
                                    "LAD24NM": "Darlington"}, "geometry": None}
            self._arcgis = {
                LOOKUP_WARDS: [{"attributes": {k: r[k] for k in ("WD24CD", "WD24NM", "LAD24CD", "LAD24NM")},
                                "geometry": None} for _, r in wards.iterrows()] + [other],
                LOOKUP_LSOAS: [{"attributes": {"LSOA21CD": r.lsoa21_code, "LSOA21NM": r.lsoa21_name,
                                               "WD24CD": None, "WD24NM": None,
                                               "LAD24CD": r.lad_code, "LAD24NM": r.lad_name}, "geometry": None}
                               for r in pop.itertuples()],
                WARDS: [{"attributes": {"FID": i + 1, "WD24CD": r.WD24CD, "WD24NM": r.WD24NM},
                         "geometry": shapely.geometry.mapping(r.geometry)} for i, r in enumerate(wards.itertuples())],
                LSOAS: [{"attributes": {"FID": i + 1, "LSOA21CD": r.LSOA11CD, "LSOA21NM": r.LSOA11NM},
                         "geometry": shapely.geometry.mapping(r.geometry)} for i, r in enumerate(lsoa.itertuples())],
            }
        return self._arcgis

    def census(self) -> dict[str, tuple[str, int]]:
        if self._census is None:
            pop = pd.read_csv(self.realdata / "population" / "census2021_lsoa21_population_cleveland.csv", dtype=str)
            self._census = {r.lsoa21_code: (r.lsoa21_name, int(r.total_usual_residents)) for r in pop.itertuples()}
        return self._census

    def add_archive(self, name: str, months) -> None:
        """The archive <name>.zip: the real street files of `months`, a decoy force's file and
        an outcomes file for each."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for month in months:
                zf.writestr(f"{month}/{month}-cleveland-outcomes.csv", "Crime ID,Month\nx,2024-01\n")
                zf.write(police_csv(self.realdata, month), f"{month}/{month}-cleveland-street.csv")
                zf.writestr(f"{month}/{month}-durham-street.csv",
                            police_csv(self.realdata, month).read_text(encoding="utf-8")
                            .replace("Cleveland Police", "Durham Constabulary"))
        self.archives[name] = buf.getvalue()

    # ------------------------------------------------------------------ control
    def fail(self, match, status: int, times: int | None = 1, headers: dict | None = None) -> None:
        """Answer `status` (with `headers`) to requests matching `match` (a substring of
        ``"METHOD /path?query body"`` or a callable on it), `times` times (None: always)."""
        self.failures.append({"match": match, "status": status, "times": times, "headers": headers or {}})

    def heal(self) -> None:
        self.failures.clear()

    def count(self, needle: str) -> int:
        return sum(needle in line for line in self.log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        handler = type("Handler", (_Handler,), {"services": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    # ------------------------------------------------------------------ answers
    def injected(self, line: str):
        with self._lock:
            for f in self.failures:
                hit = f["match"](line) if callable(f["match"]) else f["match"] in line
                if hit and (f["times"] is None or f["times"] > 0):
                    if f["times"] is not None:
                        f["times"] -= 1
                    return f
        return None

    def answer(self, method: str, path: str, query: dict, headers) -> tuple[int, dict, bytes]:
        q = {k: v[-1] for k, v in query.items()}
        if path.startswith("/api/"):
            return self.police(method, path[len("/api/"):], q)
        if path.startswith("/data/archive/"):
            return self.archive(method, path.rsplit("/", 1)[-1], headers)
        m = re.match(r"^/arcgis/rest/services/([^/]+)/FeatureServer/0/query$", path)
        if m:
            return self.query(m.group(1), q)
        if path == "/nomis/api/v01/dataset/NM_2021_1.data.csv":
            return self.nomis(q)
        return 404, {}, b"not found"

    def police(self, method: str, route: str, q: dict) -> tuple[int, dict, bytes]:
        if route == "crimes-street-dates":
            return _json([{"date": m, "stop-and-search": ["cleveland"]} for m in sorted(self.available, reverse=True)])
        if route == "forces":
            return _json([{"id": "cleveland", "name": "Cleveland Police"}, {"id": "durham", "name": "Durham Constabulary"}])
        if route == "forces/cleveland":
            return _json({"id": "cleveland", "name": "Cleveland Police", "url": "", "telephone": "101"})
        if route.startswith("forces/"):
            return 404, {}, b""
        if route == "cleveland/neighbourhoods":
            return _json([{"id": code, "name": code} for code in self.neighbourhoods()])
        m = re.match(r"^cleveland/([^/]+)/boundary$", route)
        if m:
            hood = self.neighbourhoods().get(urllib.parse.unquote(m.group(1)))
            return _json(hood) if hood is not None else (404, {}, b"")
        if route == "crimes-street/all-crime":
            month = q.get("date")
            if month not in self.crimes or month not in self.available:
                return _json([])
            coords = [tuple(map(float, pair.split(","))) for pair in q["poly"].split(":")]
            poly = Polygon([(lng, lat) for lat, lng in coords])
            data = self.crimes[month]
            inside = shapely.contains_xy(poly, data["lon"], data["lat"])
            if int(inside.sum()) > self.threshold:
                return 503, {}, b""
            with self._lock:
                self.served[month] = self.served.get(month, 0) + int(inside.sum())
            return _json([data["rows"][i] for i in np.nonzero(inside)[0]])
        if route == "crimes-no-location":
            return _json(self.no_location.get(q.get("date"), []))
        if route == "crime-categories":
            return _json([{"url": "all-crime", "name": "All crime"}] + [{"url": s, "name": n} for n, s in SLUGS.items()])
        return 404, {}, b""

    def archive(self, method: str, name: str, headers) -> tuple[int, dict, bytes]:
        data = self.archives.get(name.removesuffix(".zip"))
        if data is None:
            return 404, {}, b""
        base = {"Content-Type": "application/zip"}
        if self.ranges:
            base["Accept-Ranges"] = "bytes"
        rng = headers.get("Range")
        if method == "HEAD":
            return 200, {**base, "Content-Length": str(len(data))}, b""
        if rng and self.ranges:
            a, b = re.match(r"bytes=(\d+)-(\d+)", rng).groups()
            a, b = int(a), min(int(b), len(data) - 1)
            self.bytes_served += b + 1 - a
            return 206, {**base, "Content-Range": f"bytes {a}-{b}/{len(data)}"}, data[a:b + 1]
        self.bytes_served += len(data)
        return 200, base, data

    def query(self, service: str, q: dict) -> tuple[int, dict, bytes]:
        records = self.arcgis().get(service)
        if records is None:
            return 400, {}, json.dumps({"error": {"code": 400, "message": "Invalid URL"}}).encode()
        where = q.get("where", "1=1").strip()
        m = re.match(r"^(\w+)\s+IN\s*\((.*)\)$", where, re.I)
        if m:
            field, values = m.group(1), set(re.findall(r"'([^']*)'", m.group(2)))
            records = [r for r in records if str(r["attributes"].get(field)) in values]
        elif where not in ("1=1", "1 = 1"):
            return 200, {}, json.dumps({"error": {"code": 400, "message": "Unable to complete operation."}}).encode()
        order = q.get("orderByFields")
        if order:
            records = sorted(records, key=lambda r: str(r["attributes"].get(order)))
        offset = int(q.get("resultOffset", 0))
        count = min(int(q.get("resultRecordCount", self.page_max)), self.page_max)
        page = records[offset: offset + count]
        more = offset + count < len(records)
        fields = q.get("outFields", "*")
        keep = None if fields == "*" else [f.strip() for f in fields.split(",")]

        def attrs(r):
            return {k: v for k, v in r["attributes"].items() if keep is None or k in keep}

        geometry = q.get("returnGeometry", "true").lower() != "false"
        if q.get("f") == "geojson":
            doc = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": i, "properties": attrs(r), "geometry": r["geometry"] if geometry else None}
                for i, r in enumerate(page, start=offset)]}
            if more:
                doc["properties"] = {"exceededTransferLimit": True}
            return _json(doc)
        doc = {"features": [{"attributes": attrs(r)} for r in page]}
        if more:
            doc["exceededTransferLimit"] = True
        return _json(doc)

    def nomis(self, q: dict) -> tuple[int, dict, bytes]:
        census = self.census()
        out = io.StringIO()
        w = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        w.writerow(["GEOGRAPHY_CODE", "GEOGRAPHY_NAME", "OBS_VALUE"])
        for code in q.get("geography", "").split(","):
            if code in census:
                w.writerow([code, census[code][0], census[code][1]])
        return 200, {"Content-Type": "text/csv"}, out.getvalue().encode("utf-8")


def _json(doc) -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    services: FakeServices
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _serve(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        body = ""
        if method == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8")
            for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items():
                query.setdefault(k, []).extend(v)
        line = f"{method} {self.path}" + (f" {body}" if body else "")
        s = self.services
        with s._lock:
            s.log.append(line)
        failure = s.injected(line)
        if failure is not None:
            status, headers, data = failure["status"], failure["headers"], b"injected failure"
        else:
            status, headers, data = s.answer(method, parsed.path, query, self.headers)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_HEAD(self):
        self._serve("HEAD")
