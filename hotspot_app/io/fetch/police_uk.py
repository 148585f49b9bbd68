"""Street-level crimes and ASB from police.uk, as police.uk-format monthly CSVs.

Two ways in, both ending in files ``YYYY-MM/YYYY-MM-<force>-street.csv`` with the police.uk
header (docs/design.md §7), which the ingest then reads like any downloaded file:

**The API** (``source="api"``, https://data.police.uk/docs/), methods used:

- ``GET /api/crimes-street-dates``: the months available (``[{"date": "YYYY-MM", ...}]``).
- ``GET /api/forces/{force}``: the force's name (``{"id", "name", ...}``), the police.uk
  ``Falls within`` text; ``GET /api/forces`` lists the ids when one is unknown.
- ``GET /api/{force}/neighbourhoods`` and ``GET /api/{force}/{neighbourhood}/boundary``
  (``[{"latitude", "longitude"}, ...]``): the force area, the union of its neighbourhoods.
  ``--areas FILE`` gives the area from a boundary file instead.
- ``GET|POST /api/crimes-street/all-crime?poly=lat,lng:lat,lng:...&date=YYYY-MM``: crimes and
  ASB in a polygon for a month (``[{"category": slug, "location_type": "Force"|"BTP",
  "location": {"latitude", "longitude", "street": {"id", "name"}}, "context", "outcome_status":
  {"category", "date"}|null, "persistent_id", "id", "location_subtype", "month"}]``). A GET
  longer than 4094 characters is refused, so long polygons are POSTed (form body). "If a custom
  area contains more than 10,000 crimes, the API will return a 503 status code": the polygon is
  then cut in two across its longer side (the halves overlap by about a metre, so a crime on the
  cut is in at least one) and each half asked for again; crimes are kept once by their API
  ``id``. A 503 for a polygon under `MIN_SPLIT_M` across is the service failing, not a full
  polygon: it is retried as any 5xx.
- ``GET /api/crimes-no-location?category=all-crime&force={force}&date=YYYY-MM``: the force's
  crimes that could not be mapped; written as police.uk writes them (no coordinates, Location
  ``No Location``), so the ingest rejects them as ``no location`` and the workspace's coverage
  grid counts them per month.
- ``GET /api/crime-categories?date=YYYY-MM`` only when a category slug is not in
  `CATEGORY_NAMES`.

The API does not give the LSOA of a crime: LSOA code and name are empty in fetched files.
With ``--force``, crimes the API marks ``location_type: BTP`` (British Transport Police, who
publish their own file) are left out, as in the force's own download, and counted in a
warning. The query polygon is the force area grown by `QUERY_BUFFER_M` and simplified to that
tolerance (police.uk snap points sit on streets; the margin keeps crimes on the boundary in).

**The monthly archive** (``source="archive"``): ``/data/archive/YYYY-MM.zip`` holds every force's
files for the 36 months to YYYY-MM. Only the force's street files for the months asked are read:
by HTTP range requests when the server offers them (the zip's directory and those members only),
else the zip is downloaded to a temporary file and those members read from it. Nothing else is
unpacked.

Every file is written atomically (a temporary file renamed over it), so a month's file exists
only when the month is complete; a month already complete is not fetched again.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from hotspot_app.io import exports
from hotspot_app.core import periods, settings
from hotspot_app.core.errors import InputError

from hotspot_app.io.fetch.http import Client, ServiceError, open_remote

#: The police.uk site; the API is under /api and the archives under /data/archive.
BASE_URL: str = "https://data.police.uk"
#: police.uk street CSV header (docs/design.md §7).
HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
#: API category slugs -> the Crime type police.uk's CSVs print (GET /api/crime-categories).
CATEGORY_NAMES: dict[str, str] = {
    "anti-social-behaviour": "Anti-social behaviour", "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary", "criminal-damage-arson": "Criminal damage and arson", "drugs": "Drugs",
    "other-theft": "Other theft", "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order", "robbery": "Robbery", "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person", "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences", "other-crime": "Other crime",
}
#: Longest poly text sent by GET (the API refuses GETs over 4094 characters); longer: POST.
POLY_GET_MAX: int = 3500
#: Polygons narrower than this (metres, longer side) are not split further on a 503.
MIN_SPLIT_M: float = 250.0
#: The query polygon: the area grown by this many metres and simplified to this tolerance.
QUERY_BUFFER_M: float = 25.0
#: Overlap of the two halves of a split polygon, degrees (about a metre).
SPLIT_OVERLAP_DEG: float = 1e-5
#: Largest archive member read (bytes, uncompressed): a force-month street file is a few MB.
MAX_MEMBER_BYTES: int = 2 << 30
#: Months one monthly archive holds (the archive for YYYY-MM covers YYYY-MM and the 35 before).
ARCHIVE_MONTHS: int = 36
SOURCES = ("api", "archive")

_FORCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,60}$")


@dataclass
class Target:
    """What is fetched: a force (``force`` id, its ``name`` as police.uk's Falls within) and/or
    an area from a boundary file; ``slug`` names the files."""

    force: str | None
    name: str
    slug: str
    areas: Path | None = None
    _polygons: list | None = field(default=None, repr=False)


@dataclass
class MonthResult:
    month: str
    path: Path
    rows: int           # incidents with a location
    no_location: int    # crimes the API could not map (written without coordinates)
    requests: int


@dataclass
class FetchResult:
    """What `fetch_months` wrote: the months fetched now, their files, the incidents (rows with
    a location) and crimes without one, the requests sent (retries included), warnings."""

    months: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    incidents: int = 0
    no_location: int = 0
    requests: int = 0
    splits: int = 0
    warnings: list[str] = field(default_factory=list)


def api_client(base_url: str | None = None) -> Client:
    return Client((base_url or BASE_URL).rstrip("/"), service="police.uk")


def check_force_id(force: str) -> str:
    value = str(force).strip().lower()
    if not _FORCE_ID.match(value):
        raise InputError(f"'{force}' is not a police.uk force id (e.g. cleveland, "
                         "metropolitan, avon-and-somerset)", parameter="force")
    return value


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "area"


def resolve_target(client: Client, force: str | None = None, areas: str | Path | None = None,
                   provider: str | None = None) -> Target:
    """The force's name from police.uk (one request) and/or the boundary file; `provider`
    overrides the Falls within text (default: the force's name, else 'police.uk API (<file>)')."""
    if force is None and areas is None:
        raise InputError("give --force ID or --areas FILE", parameter="force")
    if areas is not None and not Path(areas).is_file():
        raise InputError("no such boundary file", file=areas, parameter="areas")
    if force is not None:
        force = check_force_id(force)
        resp = client.request("GET", f"api/forces/{force}", pass_status=(404,),
                              what=f"the force '{force}'")
        if resp.status == 404:
            forces = client.get("api/forces", what="the list of forces").json()
            ids = sorted(str(f.get("id")) for f in forces if isinstance(f, dict))
            close = [i for i in ids if force[:4] in i] or ids[:8]
            raise InputError(f"police.uk has no force '{force}'; e.g. {', '.join(close)}",
                             parameter="force")
        info = resp.json()
        name = str(info.get("name") or force) if isinstance(info, dict) else force
        return Target(force, provider or name, force, Path(areas) if areas is not None else None)
    areas = Path(areas)
    return Target(None, provider or f"police.uk API ({areas.stem})", slugify(areas.stem), areas)


def available_months(client: Client) -> list[str]:
    """The months police.uk holds street-level crime for, oldest first."""
    doc = client.get("api/crimes-street-dates", what="the months available").json()
    if not isinstance(doc, list):
        raise ServiceError("police.uk's crimes-street-dates did not answer with a list")
    months = sorted({str(d.get("date"))[:7] for d in doc if isinstance(d, dict) and d.get("date")})
    if not months:
        raise ServiceError("police.uk lists no months of street-level crime")
    return months


# --------------------------------------------------------------------------- the area
def _to_query_polygons(geom_bng) -> list[Polygon]:
    """Query polygons (WGS84 lon/lat): the area grown by QUERY_BUFFER_M, simplified, holes
    dropped (the API's poly is one ring), one per part."""
    grown = shapely.simplify(shapely.buffer(geom_bng, QUERY_BUFFER_M), QUERY_BUFFER_M,
                             preserve_topology=True)
    wgs = _to_wgs84(grown)
    parts = list(wgs.geoms) if isinstance(wgs, MultiPolygon) else [wgs]
    return [Polygon(p.exterior) for p in parts if isinstance(p, Polygon) and not p.is_empty]


def _to_wgs84(geom_bng):
    import geopandas as gpd

    return gpd.GeoSeries([geom_bng], crs=settings.CRS).to_crs(settings.CRS_WGS84).iloc[0]


def _force_area(client: Client, force: str, progress: Callable | None = None):
    """The union of the force's neighbourhood boundaries, in BNG."""
    import geopandas as gpd

    hoods = client.get(f"api/{force}/neighbourhoods", what=f"{force}'s neighbourhoods").json()
    if not isinstance(hoods, list) or not hoods:
        raise ServiceError(f"police.uk lists no neighbourhoods for {force}; give its area with --areas FILE")
    if progress:
        progress(f"reading the boundaries of {len(hoods)} {force} neighbourhoods ...")
    polys = []
    for hood in hoods:
        hid = str(hood.get("id"))
        pts = client.get(f"api/{force}/{_quote(hid)}/boundary",
                         what=f"the boundary of {force} neighbourhood {hid}").json()
        coords = [(float(p["longitude"]), float(p["latitude"])) for p in pts or []
                  if isinstance(p, dict) and p.get("latitude") is not None]
        if len(coords) >= 3:
            polys.append(shapely.make_valid(Polygon(coords)))
    if not polys:
        raise ServiceError(f"police.uk gave no neighbourhood boundary for {force}; give its area with --areas FILE")
    area = gpd.GeoSeries(polys, crs=settings.CRS_WGS84).to_crs(settings.CRS).union_all()
    return area


def _quote(text: str) -> str:
    import urllib.parse

    return urllib.parse.quote(text, safe="")


def target_polygons(client: Client, target: Target, progress: Callable | None = None) -> list[Polygon]:
    """The query polygons of `target` (fetched once, then kept on it)."""
    if target._polygons is None:
        if target.areas is not None:
            from hotspot_app.io import ingest

            areas = ingest.read_boundaries(target.areas).areas
            area = areas.geometry.union_all()
        else:
            area = _force_area(client, target.force, progress)
        target._polygons = _to_query_polygons(area)
    return target._polygons


# --------------------------------------------------------------------------- crimes
def _poly_text(polygon: Polygon) -> str:
    coords = list(polygon.exterior.coords)[:-1]
    return ":".join(f"{lat:.6f},{lon:.6f}" for lon, lat in coords)


def _extent_m(polygon: Polygon) -> float:
    minx, miny, maxx, maxy = polygon.bounds
    mid = np.radians((miny + maxy) / 2)
    return max((maxx - minx) * 111_320 * np.cos(mid), (maxy - miny) * 110_574)


def _halves(polygon: Polygon) -> list[Polygon]:
    """`polygon` cut in two across its longer side; the halves overlap by SPLIT_OVERLAP_DEG."""
    minx, miny, maxx, maxy = polygon.bounds
    mid_lat = np.radians((miny + maxy) / 2)
    e = SPLIT_OVERLAP_DEG
    if (maxx - minx) * np.cos(mid_lat) >= (maxy - miny):
        mid = (minx + maxx) / 2
        boxes = [box(minx - e, miny - e, mid + e, maxy + e), box(mid - e, miny - e, maxx + e, maxy + e)]
    else:
        mid = (miny + maxy) / 2
        boxes = [box(minx - e, miny - e, maxx + e, mid + e), box(minx - e, mid - e, maxx + e, maxy + e)]
    out = []
    for b in boxes:
        part = shapely.intersection(polygon, b)
        for g in getattr(part, "geoms", [part]):
            if isinstance(g, Polygon) and not g.is_empty and g.area > 0:
                out.append(Polygon(g.exterior))
    return out


def crimes_in_polygon(client: Client, polygon: Polygon, month: str, found: dict, stats: dict) -> None:
    """Add the month's crimes in `polygon` to `found` (by API id), splitting on a 503."""
    text = _poly_text(polygon)
    splittable = _extent_m(polygon) >= MIN_SPLIT_M
    what = f"crimes-street {month} ({len(polygon.exterior.coords) - 1}-point polygon)"
    if len(text) <= POLY_GET_MAX:
        resp = client.request("GET", "api/crimes-street/all-crime", params={"poly": text, "date": month},
                              pass_status=(503,) if splittable else (), what=what)
    else:
        resp = client.request("POST", "api/crimes-street/all-crime", data={"poly": text, "date": month},
                              pass_status=(503,) if splittable else (), what=what)
    if resp.status == 503:
        stats["splits"] = stats.get("splits", 0) + 1
        for half in _halves(polygon):
            crimes_in_polygon(client, half, month, found, stats)
        return
    crimes = resp.json()
    if not isinstance(crimes, list):
        raise ServiceError(f"police.uk's {what} did not answer with a list")
    for c in crimes:
        if not isinstance(c, dict):
            continue
        key = c.get("id")
        if key is None:  # not expected: the API gives every crime an id
            loc = c.get("location") or {}
            key = (c.get("persistent_id"), c.get("category"), loc.get("latitude"), loc.get("longitude"),
                   (loc.get("street") or {}).get("name"), c.get("month"))
        found.setdefault(key, c)


def _category_names(client: Client, month: str, slugs: Iterable[str], warnings: list[str]) -> dict[str, str]:
    names = dict(CATEGORY_NAMES)
    missing = sorted({s for s in slugs if s not in names})
    if missing:
        doc = client.get("api/crime-categories", params={"date": month}, what="the crime categories").json()
        for c in doc if isinstance(doc, list) else []:
            if isinstance(c, dict) and c.get("url") and c.get("name"):
                names.setdefault(str(c["url"]), str(c["name"]))
        for s in missing:
            if s not in names:
                names[s] = s.replace("-", " ").capitalize()
                warnings.append(f"police.uk category '{s}' is not in its category list; written as '{names[s]}'")
    return names


def month_frame(crimes: list[dict], no_location: list[dict], target: Target, month: str,
                names: dict[str, str]) -> pd.DataFrame:
    """The month's rows in the police.uk CSV layout (coordinates as numbers)."""
    rows = []
    for c in crimes + no_location:
        loc = c.get("location") or {}
        outcome = c.get("outcome_status") or {}
        btp = str(c.get("location_type") or "") == "BTP"
        lon, lat = loc.get("longitude"), loc.get("latitude")
        rows.append({
            "Crime ID": c.get("persistent_id") or "",
            "Month": str(c.get("month") or month)[:7],
            "Reported by": "British Transport Police" if btp else target.name,
            "Falls within": target.name,
            "Longitude": float(lon) if lon not in (None, "") else np.nan,
            "Latitude": float(lat) if lat not in (None, "") else np.nan,
            "Location": ((loc.get("street") or {}).get("name") or "") if loc else "No Location",
            "LSOA code": "", "LSOA name": "",
            "Crime type": names.get(str(c.get("category")), str(c.get("category") or "")),
            "Last outcome category": outcome.get("category") or "" if isinstance(outcome, dict) else "",
            "Context": c.get("context") or "",
        })
    return pd.DataFrame(rows, columns=HEADER)


def month_path(folder: Path, month: str, slug: str) -> Path:
    return Path(folder) / month / f"{month}-{slug}-street.csv"


def fetch_month_api(client: Client, target: Target, month: str, folder: Path,
                    progress: Callable | None = None) -> tuple[MonthResult, list[str], int]:
    """Fetch one month by the API and write its file; returns (result, warnings, splits)."""
    before = client.requests
    warnings: list[str] = []
    found: dict = {}
    stats: dict = {}
    for polygon in target_polygons(client, target, progress):
        crimes_in_polygon(client, polygon, month, found, stats)
    crimes = sorted(found.values(), key=lambda c: (str(c.get("id")), str(c.get("persistent_id"))))
    if target.force is not None:
        btp = [c for c in crimes if str(c.get("location_type") or "") == "BTP"]
        if btp:
            crimes = [c for c in crimes if str(c.get("location_type") or "") != "BTP"]
            warnings.append(f"{month}: {len(btp):,} British Transport Police crimes in the area left out "
                            "(BTP publishes its own file)")
        nl = client.get("api/crimes-no-location", params={"category": "all-crime", "force": target.force,
                                                          "date": month},
                        what=f"crimes-no-location {month}").json()
        no_loc = [c for c in nl if isinstance(c, dict)] if isinstance(nl, list) else []
    else:
        no_loc = []
    other = [c for c in crimes if str(c.get("month") or month)[:7] != month]
    if other:
        warnings.append(f"{month}: police.uk gave {len(other)} crimes of other months; left out")
        crimes = [c for c in crimes if str(c.get("month") or month)[:7] == month]
    names = _category_names(client, month, (str(c.get("category")) for c in crimes + no_loc), warnings)
    try:
        frame = month_frame(crimes, no_loc, target, month, names)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ServiceError(f"police.uk's crimes for {month} are not in the documented shape "
                           f"({type(exc).__name__}: {exc})") from None
    path = month_path(folder, month, target.slug)
    exports.write_bytes_atomic(path, exports.csv_bytes(frame))
    return (MonthResult(month, path, len(crimes), len(no_loc), client.requests - before), warnings,
            stats.get("splits", 0))


# --------------------------------------------------------------------------- the archive
def archive_for(months: list[str], latest: str) -> dict[str, list[str]]:
    """Which archive (named by its last month) to read each month from: the newest months come
    from the archive of the latest wanted month, older ones from archives 36 months on."""
    out: dict[str, list[str]] = {}
    left = sorted(months, reverse=True)
    while left:
        name = min(left[0], latest)
        first = periods.add_months(name, -(ARCHIVE_MONTHS - 1))
        take = [m for m in left if first <= m <= name]
        out[name] = sorted(take)
        left = [m for m in left if m not in take]
    return out


def fetch_months_archive(client: Client, target: Target, months: list[str], latest: str, folder: Path,
                         progress: Callable | None = None) -> tuple[list[MonthResult], list[str]]:
    """Copy the force's street files for `months` out of the monthly archive(s)."""
    if target.force is None:
        raise InputError("the archive is read by force: give --force ID", parameter="source")
    results: list[MonthResult] = []
    warnings: list[str] = []
    for name, wanted in archive_for(months, latest).items():
        path = f"data/archive/{name}.zip"
        before = client.requests
        if progress:
            progress(f"reading {target.force}'s files for {', '.join(wanted)} from the {name} archive ...")
        fh = open_remote(client, path, what=f"the {name} archive")
        tmp = None
        if fh is None:  # no range requests: download it whole, read the members needed
            Path(folder).mkdir(parents=True, exist_ok=True)
            tmp = tempfile.NamedTemporaryFile(prefix=".police-archive-", suffix=".zip", dir=folder, delete=False)
            client.download(path, tmp, what=f"the {name} archive")
            tmp.flush()
            fh = open(tmp.name, "rb")
        try:
            try:
                zf = zipfile.ZipFile(fh)
            except zipfile.BadZipFile:
                raise ServiceError(f"police.uk's {name} archive is not a readable zip") from None
            pattern = re.compile(rf"(?:^|/)(\d{{4}}-\d{{2}})-{re.escape(target.force)}-street\.csv$")
            members = {}
            for info in zf.infolist():
                m = pattern.search(info.filename)
                if m and m.group(1) in wanted:
                    members.setdefault(m.group(1), info)
            for month in wanted:
                info = members.get(month)
                if info is None:
                    warnings.append(f"{month}: the {name} archive has no {target.force} street file")
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ServiceError(f"{info.filename} in the {name} archive is {info.file_size:,} bytes "
                                       "uncompressed; refused (over 2 GiB)")
                start = client.requests
                data = zf.read(info)
                out = month_path(folder, month, target.slug)
                exports.write_bytes_atomic(out, data)
                rows, no_loc = _count_rows(data)
                results.append(MonthResult(month, out, rows, no_loc, client.requests - start))
        finally:
            fh.close()
            if tmp is not None:
                tmp.close()
                Path(tmp.name).unlink(missing_ok=True)
        if results and progress:
            progress(f"{name} archive: {client.requests - before} requests")
    return results, warnings


def _count_rows(data: bytes) -> tuple[int, int]:
    """(rows with coordinates, rows without) of a police.uk street CSV's bytes."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, usecols=["Longitude", "Latitude"])
    located = (frame["Longitude"].str.strip() != "") & (frame["Latitude"].str.strip() != "")
    return int(located.sum()), int((~located).sum())


# --------------------------------------------------------------------------- one run
def plan(first: str, last: str, available: list[str], complete: set[str], refresh: bool = False
         ) -> tuple[list[str], list[str], list[str]]:
    """(months to fetch, months skipped as complete, months not available) of FIRST..LAST."""
    asked = periods.month_range(first, last)
    have = set(available)
    missing = [m for m in asked if m not in have]
    done = [m for m in asked if m in have and m in complete and not refresh]
    todo = [m for m in asked if m in have and m not in done]
    return todo, done, missing


def fetch_months(client: Client, target: Target, months: list[str], folder: Path, *, source: str = "api",
                 latest: str | None = None, progress: Callable | None = None) -> FetchResult:
    """Fetch `months` into `folder` (one police.uk-format CSV each, written atomically)."""
    if source not in SOURCES:
        raise InputError(f"unknown source '{source}'; use api or archive", parameter="source")
    result = FetchResult()
    start = client.requests
    if source == "archive":
        done, warnings = fetch_months_archive(client, target, months, latest or max(months), folder, progress)
        result.warnings += warnings
    else:
        done = []
        for month in months:
            r, warnings, splits = fetch_month_api(client, target, month, folder, progress)
            done.append(r)
            result.warnings += warnings
            result.splits += splits
            if progress:
                progress(f"{month}: {r.rows:,} incidents"
                         + (f", {r.no_location:,} without a location" if r.no_location else "")
                         + f" ({r.requests} requests"
                         + (f", polygon split {splits} times" if splits else "") + ")")
    for r in done:
        result.months.append(r.month)
        result.files.append(r.path)
        result.incidents += r.rows
        result.no_location += r.no_location
    result.requests = client.requests - start
    if result.no_location:
        result.warnings.append(f"{result.no_location:,} crimes police.uk could not map were written without "
                               "coordinates (Location 'No Location'), as police.uk's own files have them; "
                               "the ingest counts them as 'no location'")
    return result


def complete_months(folder: Path, slug: str) -> set[str]:
    """Months whose file exists in `folder` (files are only ever written whole)."""
    folder = Path(folder)
    out = set()
    for p in folder.glob(f"*/*-{slug}-street.csv"):
        m = re.match(r"^(\d{4}-\d{2})-", p.name)
        if m and p.parent.name == m.group(1):
            out.add(m.group(1))
    return out


def remove_months(folder: Path, months: Iterable[str], slug: str) -> None:
    """Remove staged month files (after they were loaded), and the folders left empty."""
    for month in months:
        path = month_path(folder, month, slug)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:
            pass
    try:
        Path(folder).rmdir()
    except OSError:
        pass


# --------------------------------------------------------------------------- a fetch job
@dataclass
class Job:
    """One fetch: where from (`client`, `target`), which months (`todo`; `done` skipped as
    complete; `missing` not available), and where to (`out` folder, or the workspace `ws` at
    `into` through the staging `folder`)."""

    client: Client
    target: Target
    available: list[str]
    todo: list[str]
    done: list[str]
    missing: list[str]
    folder: Path
    out: Path | None = None
    into: str | None = None
    ws: object | None = None
    refresh: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def staged(self) -> list[str]:
        """Months of `todo` already whole in the staging folder (a run that failed later)."""
        if self.ws is None or self.refresh:
            return []
        have = complete_months(self.folder, self.target.slug)
        return [m for m in self.todo if m in have]

    def files(self) -> list[Path]:
        return [month_path(self.folder, m, self.target.slug) for m in self.todo]


def redact(url: str) -> str:
    """A PostgreSQL URL without its password (for messages and folder names)."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1@", str(url))


def open_into(into: str):
    """The workspace of ``--into`` (a .gpkg path or a postgresql:// URL); refused when the path
    exists and is not a workspace GeoPackage."""
    from hotspot_app.io import workspace

    if not workspace.is_workspace(into):
        path = Path(into)
        if path.suffix.lower() != ".gpkg":
            raise InputError("a workspace is a .gpkg file or a postgresql:// URL", file=str(into),
                             parameter="into")
        if path.exists() and workspace.META not in workspace.GeopackageWorkspace(path).layers():
            raise InputError("exists and is not a workspace GeoPackage; choose another --into",
                             file=str(path), parameter="into")
    return workspace.open_workspace(into)


def staging_folder(into: str) -> Path:
    """Where fetched months wait to be loaded: beside a .gpkg workspace (``.<name>.fetch``), or
    a folder in the temporary directory named after a PostgreSQL workspace."""
    from hotspot_app.io import workspace

    if workspace.is_url(into):
        import hashlib

        digest = hashlib.sha1(redact(into).encode("utf-8")).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"hotspot-fetch-{digest}"
    path = Path(into)
    return path.with_name(f".{path.name}.fetch")


def loaded_months(ws, provider: str) -> set[str]:
    """Months of police.uk incidents the workspace holds for `provider`."""
    cov = ws.coverage()
    if not len(cov):
        return set()
    sel = (cov["source"].astype(str) == "police-uk") & (cov["provider"].astype(str) == provider)
    return set(cov.loc[sel, "month"].astype(str))


def workspace_rows(ws) -> int:
    cov = ws.coverage()
    return int(cov["rows"].sum()) if len(cov) else 0


def prepare(*, force: str | None = None, areas: str | Path | None = None, first: str | None = None,
            last: str | None = None, out: str | Path | None = None, into: str | None = None,
            base_url: str | None = None, provider: str | None = None, refresh: bool = False,
            since_last_load: bool = False, progress: Callable | None = None) -> Job:
    """Check the arguments (before any request), learn the force's name and the months police.uk
    holds, and decide what to fetch. With `since_last_load` (the monthly cycle), FIRST is the
    month after the last one the workspace holds for this provider (`first` when it holds none),
    and LAST the latest available."""
    if (out is None) == (into is None):
        raise InputError("give --out DIR or --into WORKSPACE (one of them)", parameter="out")
    first = periods.parse_month(first, "from") if first is not None else None
    last = periods.parse_month(last, "to") if last is not None else None
    if first is not None and last is not None:
        periods.month_range(first, last)
    if not since_last_load and (first is None or last is None):
        raise InputError("give --from YYYY-MM and --to YYYY-MM", parameter="from")
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise InputError("exists and is not a folder", file=str(out), parameter="out")
    ws = open_into(into) if into is not None else None
    client = api_client(base_url)
    target = resolve_target(client, force, areas, provider)
    available = available_months(client)
    if ws is not None:
        complete = loaded_months(ws, target.name)
        folder = staging_folder(into)
    else:
        complete = complete_months(out, target.slug)
        folder = out
    if since_last_load:
        if complete:
            first = periods.add_months(max(complete), 1)
        elif first is None:
            first = available[-1]
        last = last or available[-1]
        if first > last:
            return Job(client, target, available, [], [], [], folder, out, into, ws, refresh)
    todo, done, missing = plan(first, last, available, complete, refresh)
    job = Job(client, target, available, todo, done, missing, folder, out, into, ws, refresh)
    if missing:
        job.warnings.append(f"not available from police.uk: {periods.months_text(missing)} "
                            f"(it holds {available[0]}..{available[-1]})")
    if done and progress:
        where = "the workspace holds" if ws is not None else "already in " + str(out) + ":"
        progress(f"skipped {len(done)} month(s) {where} {periods.months_text(done)}")
    return job


def fetch(job: Job, source: str = "api", progress: Callable | None = None) -> FetchResult:
    """Fetch the job's months not already staged (all of them with ``--out``)."""
    staged = set(job.staged)
    if staged and progress:
        progress(f"using {len(staged)} month(s) fetched earlier and not yet loaded: {periods.months_text(sorted(staged))}")
    months = [m for m in job.todo if m not in staged]
    if not months:
        return FetchResult(requests=0)
    return fetch_months(job.client, job.target, months, job.folder, source=source,
                        latest=job.available[-1], progress=progress)


def read_staged(job: Job):
    """The staged months read by the project's ingest (validated exactly like files)."""
    from hotspot_app.io import ingest

    return ingest.read_incidents(job.files(), kind="police-uk")


def service_failure(job: Job, exc: Exception) -> str:
    """The one-line message of a failed fetch: the reason, and what it left."""
    reason = " ".join(str(exc).split())
    if job.ws is not None:
        kept = complete_months(job.folder, job.target.slug) & set(job.todo)
        where = redact(job.into)
        return (f"{reason}; nothing was loaded: the workspace {where} is unchanged"
                + (f" ({len(kept)} month(s) fetched so far wait in {job.folder} and are not fetched again)"
                   if kept else ""))
    kept = complete_months(job.folder, job.target.slug) & set(job.todo)
    return (f"{reason}; {len(kept)} complete month file(s) are in {job.out}, "
            "the others are fetched on the next run")


def run(*, force=None, areas=None, first=None, last=None, out=None, into=None, base_url=None,
        source: str = "api", refresh: bool = False, provider: str | None = None,
        progress: Callable | None = None) -> dict:
    """``hotspot fetch police-uk``: fetch FIRST..LAST into ``out`` (police.uk-format files) or
    ``into`` a workspace (one atomic load of every month fetched; nothing is loaded when any
    month fails). Returns the JSON document of docs/design.md §5c. A failure raises `ServiceError` whose
    message says what was left (see `service_failure`)."""
    if source not in SOURCES:
        raise InputError(f"unknown source '{source}'; use api or archive", parameter="source")
    if source == "archive" and force is None:
        raise InputError("the archive is read by force: give --force ID", parameter="source")
    job = prepare(force=force, areas=areas, first=first, last=last, out=out, into=into,
                  base_url=base_url, provider=provider, refresh=refresh, progress=progress)
    try:
        fetched = fetch(job, source, progress)
    except ServiceError as exc:
        raise ServiceError(service_failure(job, exc)) from None
    warnings = list(job.warnings) + fetched.warnings
    workspace = None
    incidents = fetched.incidents
    if job.ws is not None:
        if job.todo:
            result = read_staged(job)
            warnings += list(result.summary["warnings"])
            loaded = job.ws.load_incidents(result.incidents, files=[str(p) for p in job.files()],
                                           read=result.summary["read"], rejected=result.rejects)
            remove_months(job.folder, job.todo + job.done, job.target.slug)
            workspace = loaded.to_dict()
            incidents = int(result.summary["loaded"])
        else:
            n = workspace_rows(job.ws)
            workspace = {"before": n, "after": n, "added": 0, "replaced": 0, "months_replaced": []}
    return {"months": list(job.todo), "incidents": int(incidents), "requests": int(job.client.requests),
            "out": str(job.out) if job.out is not None else None, "workspace": workspace,
            "warnings": list(dict.fromkeys(warnings))}
