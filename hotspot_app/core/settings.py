"""Defaults in one place.

Every tunable the app, the CLI and the computation modules share lives here as a typed module
variable (OSMnx style). Functions take these as default argument values; callers override them
per call, never by editing this module at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Working CRS: British National Grid, metres. Everything is computed in it.
CRS: str = "EPSG:27700"
#: CRS of longitude/latitude inputs and of web maps.
CRS_WGS84: str = "EPSG:4326"

#: Great Britain bounding box in BNG metres (incl. Shetland, Scilly); points outside are rejected.
GB_BOUNDS_BNG: tuple[float, float, float, float] = (0.0, 0.0, 700_000.0, 1_300_000.0)
#: Great Britain bounding box in WGS84 degrees (lon_min, lat_min, lon_max, lat_max).
GB_BOUNDS_WGS84: tuple[float, float, float, float] = (-8.75, 49.75, 2.0, 61.0)

#: Largest patrol area called walkable (0.25 km²: about 500 m x 500 m, a 10-15 minute foot
#: patrol); larger DBSCAN areas get a warning (issue 11).
WALKABLE_MAX_M2: float = 250_000.0
#: `clusters` method "auto": scikit-learn's DBSCAN up to this many distinct locations, the exact
#: grid method above. 0: always the grid method. Measured (benchmarks/RESULTS.md, clusters): the
#: grid method is as fast or faster at every size (0.03 vs 0.05 s at 5,000 locations, 0.11 vs
#: 0.12 s at 15,000, 0.47 vs 0.97 s at 100,000), and scikit-learn's import alone costs 0.6-1 s on
#: a fresh start (the app's first paint, issue 21 item 10). Same labels, cores and areas as
#: scikit-learn (tests/test_clusters.py; on the demo and the real Cleveland files, 64 settings
#: compared frame for frame on 2026-12-05). `method="sklearn"` still runs the reference.
GRID_METHOD_MIN_LOCATIONS: int = 0
#: `hotspot ingest --into` reads police.uk files in batches of about this many bytes of CSV (a
#: national month is ~110 MB): memory holds a few batches (one read ahead, one being written),
#: not the whole load (docs/design.md §9).
INGEST_BATCH_BYTES: int = 128 * 1024 * 1024
#: Displacement buffer ring around an evaluated area, metres.
BUFFER_M: float = 250.0
#: Grid cell size for grid/hex hotspots, metres.
CELL_M: float = 250.0
#: Fewer incidents than this before an intervention triggers a small-count warning.
SMALL_COUNT: int = 20

#: Map limits: never draw more individual markers than this (aggregate instead).
MAX_MARKERS: int = 5_000
#: Basemap tiles: a URL template, a folium tile name, or "none" for no basemap.
TILES: str = os.environ.get("HOTSPOT_TILES", "OpenStreetMap")
#: Where Leaflet/JS assets come from: "local" (served by Streamlit from static/) or "cdn".
ASSETS: str = os.environ.get("HOTSPOT_ASSETS", "local")

#: Project root (the checkout), demo folders.
ROOT: Path = Path(__file__).resolve().parents[2]
DATA_DIR: Path = ROOT / "data"
GEODATA_DIR: Path = ROOT / "geodata"
DEMO_DIR: Path = DATA_DIR / "demo"
#: The demo's boundary files (wards, town centre, micro-hotspots): geodata/ holds boundaries.
DEMO_GEODATA_DIR: Path = GEODATA_DIR / "demo"
#: ``HOTSPOT_WORKSPACE`` as set (None when unset): the app starts on it. Read here only.
WORKSPACE_ENV: str | None = os.environ.get("HOTSPOT_WORKSPACE") or None
#: The workspace the app writes to: a ``.gpkg`` path, or a ``postgresql://`` URL (kept as text).
WORKSPACE: Path | str = (WORKSPACE_ENV if WORKSPACE_ENV and WORKSPACE_ENV.lower().startswith(("postgresql:", "postgres:"))
                         else Path(WORKSPACE_ENV or DATA_DIR / "workspace.gpkg"))

#: Label shown wherever demo data are shown.
DEMO_LABEL: str = "SYNTHETIC DEMO DATA - not real incidents"

#: Shared deployments (sign-in, roles): the users store, a users .json file or a postgresql:// URL.
#: Unset = sign-in off, unless the workspace itself is a PostgreSQL URL (see hotspot_app.auth).
AUTH: str | None = os.environ.get("HOTSPOT_AUTH") or None
#: Minutes without activity after which a signed-in session ends (``HOTSPOT_SESSION_MINUTES`` as
#: set; text that is not a number reads as nan, which `io.auth.session_minutes` refuses at start).
SESSION_MINUTES_TEXT: str = os.environ.get("HOTSPOT_SESSION_MINUTES", "30")
try:
    SESSION_MINUTES: float = float(SESSION_MINUTES_TEXT)
except ValueError:
    SESSION_MINUTES = float("nan")
