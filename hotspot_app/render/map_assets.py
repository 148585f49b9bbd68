"""Where the maps' Leaflet comes from (docs/design.md §8 "Maps without internet"): folium's JS/CSS
links pointed at the copies ``make assets`` installs under ``static/vendor/node_modules`` and
Streamlit serves at ``/app/static/vendor/node_modules/...`` (``settings.ASSETS = "local"``), or
back at folium's CDN links (``"cdn"``); the links a map would load; and a map as one standalone
HTML file with the local assets inlined (opens offline)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import folium
import folium.plugins as plugins

from hotspot_app.core import settings
from hotspot_app.core.errors import InputError

#: URL prefix at which Streamlit serves ``static/vendor/node_modules``.
STATIC_URL: str = "/app/static/vendor/node_modules"
#: Folder holding the installed npm packages (``make assets``).
VENDOR_DIR: Path = settings.ROOT / "static" / "vendor" / "node_modules"

#: Local asset paths (relative to VENDOR_DIR) per folium class attribute.
_LOCAL = {
    "Map.js": [("leaflet", "leaflet/dist/leaflet.js")],
    "Map.css": [("leaflet_css", "leaflet/dist/leaflet.css")],
    "HeatMap.js": [("leaflet-heat.js", "leaflet.heat/dist/leaflet-heat.js")],
    "HeatMap.css": [],
    "Draw.js": [("leaflet_draw_js", "leaflet-draw/dist/leaflet.draw.js")],
    "Draw.css": [("leaflet_draw_css", "leaflet-draw/dist/leaflet.draw.css")],
    "MarkerCluster.js": [("markerclusterjs", "leaflet.markercluster/dist/leaflet.markercluster.js")],
    "MarkerCluster.css": [
        ("markerclustercss", "leaflet.markercluster/dist/MarkerCluster.css"),
        ("markerclusterdefaultcss", "leaflet.markercluster/dist/MarkerCluster.Default.css"),
    ],
}
_CLASSES = {"Map": folium.Map, "HeatMap": plugins.HeatMap, "Draw": plugins.Draw,
            "MarkerCluster": plugins.MarkerCluster}
_CDN = {f"{n}.{kind}": list(getattr(c, f"default_{kind}")) for n, c in _CLASSES.items()
        for kind in ("js", "css")}


def use_assets(mode: str | None = None) -> str:
    """Point folium's JS/CSS links at local copies (``"local"``) or folium's CDN (``"cdn"``).

    Returns the mode applied. Applies to every map built afterwards in this process.
    """
    mode = (mode or settings.ASSETS).lower()
    if mode not in ("local", "cdn"):
        raise InputError(f"unknown assets mode '{mode}'; use local or cdn", parameter="ASSETS")
    for name, cls in _CLASSES.items():
        for kind in ("js", "css"):
            key = f"{name}.{kind}"
            links = (_CDN[key] if mode == "cdn"
                     else [(k, f"{STATIC_URL}/{path}") for k, path in _LOCAL[key]])
            setattr(cls, f"default_{kind}", list(links))
    return mode


def assets_installed() -> bool:
    """True when every local asset file exists (``make assets`` has run)."""
    return all((VENDOR_DIR / p).is_file() for links in _LOCAL.values() for _, p in links)


def linked_assets(m: folium.Map) -> list[str]:
    """Every JS/CSS URL the map will load (the map's and its plugins' links, in load order)."""
    out: list[str] = []

    def walk(el):
        for kind in ("default_js", "default_css"):
            out.extend(url for _, url in getattr(el, kind, []) or [])
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    return list(dict.fromkeys(out))


def external_assets(m: folium.Map) -> list[str]:
    """The map's JS/CSS links that would need the internet (not served by this app)."""
    return [u for u in linked_assets(m) if urlparse(u).scheme in ("http", "https")]


def map_html(m: folium.Map, inline: bool = True) -> str:
    """The map as one standalone HTML document.

    With ``inline`` (default), local assets are embedded so the file opens offline from disk;
    links that are not local (CDN mode) are left as they are.

    The document is rendered from a copy of the map in a figure of its own: a map the page has
    already drawn (`streamlit_folium` renders it, adding its scripts to the figure) would
    otherwise come out twice, with a second, empty layer control.
    """
    import copy

    fresh = copy.deepcopy(m)
    fresh._parent = None
    folium.Figure().add_child(fresh)
    text = fresh.get_root().render()
    if not inline:
        return text

    def read(url: str) -> str | None:
        if not url.startswith(STATIC_URL + "/"):
            return None
        path = VENDOR_DIR / url[len(STATIC_URL) + 1:]
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def script(match: re.Match) -> str:
        body = read(match.group(1))
        return match.group(0) if body is None else "<script>" + body.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match) -> str:
        body = read(match.group(1))
        return match.group(0) if body is None else "<style>" + body + "</style>"

    text = re.sub(r'<script src="([^"]+)"></script>', script, text)
    return re.sub(r'<link rel="stylesheet" href="([^"]+)"/>', style, text)
