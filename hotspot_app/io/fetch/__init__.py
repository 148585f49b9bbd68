"""Fetching public data into the tool (docs/design.md §5c "Fetch"): police.uk street-level crimes and
ASB (`police_uk`), ONS ward and LSOA boundaries and Census 2021 LSOA population (`ons`), and the
monthly cycle that runs them into a workspace and rebuilds the report packs (`monthly`).

Every request goes through the polite client in `http` (rate limit, retries with back-off on
429/5xx honouring Retry-After, timeouts); a service that is down is one `ServiceError` line.
Fetched data reach the workspace through the ingest and the workspace's own load, so they are
validated exactly like downloaded files.
"""

from __future__ import annotations

from hotspot_app.io.fetch.http import Client, ServiceError

__all__ = ["Client", "ServiceError"]
