"""Folium map builders (no Streamlit here): ward choropleths, incident heat and location layers,
area outlines, ranked patrol-area polygons, grid/Gi* layers and before/after map pairs.

Conventions
-----------
* Inputs are canonical tables in EPSG:27700 (incidents, areas, polygons, cells); every builder
  converts to WGS84 (EPSG:4326) for display only and never mutates its inputs.
* Never more than ``settings.MAX_MARKERS`` individual markers: incidents are drawn as a heat
  layer over their distinct locations (weight = number of incidents) and, when there are few
  enough distinct locations, as one circle per location (not per incident).
* Every user string shown in a tooltip or popup goes through :func:`esc` (HTML-escaped, and
  JavaScript template-literal characters neutralised), so a category or location such as
  ``<script>alert(1)</script>`` is displayed as text and never executed.
* Assets (docs/design.md §8, `map_assets`): ``map_assets.use_assets`` points folium's Leaflet, jQuery and plugin links at the
  copies ``make assets`` installs under ``static/vendor/node_modules`` and Streamlit serves at
  ``/app/static/vendor/node_modules/...`` (``settings.ASSETS = "local"``), or back at folium's
  CDN links (``"cdn"``). jQuery, Bootstrap, Font Awesome and awesome-markers are not used (no
  ``folium.Icon`` markers, no ``folium.Popup``: popups are ``GeoJsonPopup``), so they are dropped
  in local mode: fewer scripts for the map frame to load one after the other. ``map_assets.map_html`` writes a
  standalone HTML file with the local assets inlined, which opens offline.
* Colour legends are plain Leaflet controls (branca colormaps are not added to maps: the
  Streamlit component would then fetch d3 from a CDN).
"""

from __future__ import annotations

import html as _html
import json
import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence
from urllib.parse import urlparse

import folium
import folium.plugins as plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from hotspot_app.core import cluster_areas, settings
from hotspot_app.render import map_assets
from hotspot_app.core.errors import InputError
from hotspot_app.core.locations import distinct as _distinct

#: Sequential (counts, rates) and diverging (change) palettes, ColorBrewer YlOrRd / RdBu.
SEQUENTIAL = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
DIVERGING = ["#2166ac", "#67a9cf", "#d1e5f0", "#fddbc7", "#ef8a62", "#b2182b"]
NO_DATA = "#d9d9d9"
#: Heat colours (purple, BuPu): distinct from the choropleth's yellow-red so both stay readable.
HEAT_GRADIENT = {0.2: "#bfd3e6", 0.5: "#8c96c6", 0.8: "#88419d", 1.0: "#4d004b"}
#: The Overview adds its (hidden) location circles only up to this many distinct locations: above
#: it the heat layer alone keeps the page fast (the circles are built even while hidden).
OVERVIEW_MARKERS: int = 1_000
#: A map drawing more areas than this draws its vector layers on one canvas instead of an SVG
#: element per shape: a national year's 7,000 ward polygons took seconds of the browser's time
#: on every visit as SVG (tooltips and highlighting work the same on a canvas).
CANVAS_MIN_AREAS: int = 2_000

map_assets.use_assets()  # every map built in this process links the configured assets


# --------------------------------------------------------------------------------------------
# escaping
# --------------------------------------------------------------------------------------------

def esc(value: object) -> str:
    """Text safe inside HTML *and* inside a JavaScript template literal: ``html.escape`` plus
    backtick, ``$`` and backslash as character references. None/NaN give an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    text = _html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


# --------------------------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------------------------

def to_wgs84(gdf: gpd.GeoDataFrame, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """A WGS84 copy for display; polygons optionally simplified (in metres, before reprojecting)
    and coordinates rounded to 6 decimals (~0.1 m) to keep the HTML small."""
    if gdf.crs is None:
        raise InputError("geometries have no CRS", parameter="areas")
    out = gdf.copy()
    if simplify_m > 0:
        proj = out.to_crs(settings.CRS) if not out.crs.equals(settings.CRS) else out
        out = proj.set_geometry(proj.geometry.simplify(simplify_m, preserve_topology=True))
    out = out.to_crs(settings.CRS_WGS84)
    geoms = shapely.transform(out.geometry.values, lambda c: np.round(c, 6))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=settings.CRS_WGS84))


def bounds_of(*layers: gpd.GeoDataFrame | None, pad_m: float = 0.0) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` (WGS84) covering all non-empty layers, padded in metres."""
    boxes = []
    for layer in layers:
        if layer is None or len(layer) == 0:
            continue
        proj = layer.to_crs(settings.CRS) if not layer.crs.equals(settings.CRS) else layer
        boxes.append(proj.total_bounds)
    if not boxes:
        return None
    b = np.array(boxes)
    x0, y0 = b[:, 0].min() - pad_m, b[:, 1].min() - pad_m
    x1, y1 = b[:, 2].max() + pad_m, b[:, 3].max() + pad_m
    box = gpd.GeoSeries([shapely.box(x0, y0, x1, y1)], crs=settings.CRS).to_crs(settings.CRS_WGS84)
    w, s, e, n = box.total_bounds
    return [[round(float(s), 6), round(float(w), 6)], [round(float(n), 6), round(float(e), 6)]]


def _feature_collection(gdf: gpd.GeoDataFrame, props: Sequence[str]) -> dict:
    """GeoJSON dict of `gdf` (already WGS84) with only `props` (values JSON-safe)."""
    features = []
    geoms = shapely.to_geojson(gdf.geometry.values)
    table = gdf[list(props)]
    for geom, row in zip(geoms, table.itertuples(index=False, name=None)):
        features.append({"type": "Feature", "geometry": json.loads(geom),
                         "properties": {k: _plain(v) for k, v in zip(props, row)}})
    return {"type": "FeatureCollection", "features": features}


def _tooltip(n: int, **kwargs) -> folium.GeoJsonTooltip | None:
    """A GeoJSON tooltip, or None for an empty layer (folium cannot check fields of no features)."""
    return folium.GeoJsonTooltip(**kwargs) if n else None


def _plain(v):
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v if isinstance(v, (int, str)) else str(v)


# --------------------------------------------------------------------------------------------
# colour scales and legends
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    """Classes for a choropleth: ``breaks`` (n+1 ascending edges) and ``colours`` (n)."""

    breaks: tuple[float, ...]
    colours: tuple[str, ...]
    title: str = ""
    fmt: str = "{:,.0f}"
    labels: tuple[str, ...] = field(default=())

    def colour(self, value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return NO_DATA
        if self.labels:  # categorical: breaks unused, value is a label
            return self.colours[self.labels.index(value)] if value in self.labels else NO_DATA
        idx = int(np.searchsorted(np.asarray(self.breaks[1:-1]), value, side="right"))
        return self.colours[min(max(idx, 0), len(self.colours) - 1)]

    def legend_rows(self) -> list[tuple[str, str]]:
        if self.labels:
            return list(zip(self.colours, self.labels))
        return [(c, f"{self.fmt.format(a)} – {self.fmt.format(b)}")
                for c, a, b in zip(self.colours, self.breaks[:-1], self.breaks[1:])]


def make_scale(values: Iterable[float], *, diverging: bool = False, title: str = "",
               fmt: str = "{:,.0f}", vmin: float | None = None, vmax: float | None = None) -> Scale:
    """Equal-interval classes over the finite `values` (or over ``vmin..vmax`` when given).

    Diverging scales are symmetric around zero (blue = fall, red = rise). Use one scale for
    several maps (before/after) so the same colour means the same number on each.
    """
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    arr = arr[np.isfinite(arr)]
    palette = DIVERGING if diverging else SEQUENTIAL
    n = len(palette)
    if diverging:
        top = max(abs(vmin or 0), abs(vmax or 0), float(np.abs(arr).max()) if arr.size else 0) or 1.0
        edges = np.linspace(-top, top, n + 1)
    else:
        lo = vmin if vmin is not None else (float(arr.min()) if arr.size else 0.0)
        hi = vmax if vmax is not None else (float(arr.max()) if arr.size else 1.0)
        if vmin is None and lo > 0:
            lo = 0.0  # counts and rates: classes start at zero
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, n + 1)
    return Scale(tuple(float(e) for e in edges), tuple(palette), title, fmt)


def categorical_scale(labels: Sequence[str], colours: Sequence[str], title: str = "") -> Scale:
    """A scale colouring by label (e.g. Gi* classes)."""
    return Scale((), tuple(colours), title, labels=tuple(labels))


class Legend(MacroElement):
    """A colour legend drawn as a Leaflet control (no external JS)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'hotspot-legend');
                div.style.cssText = 'background:rgba(255,255,255,0.9);padding:6px 8px;' +
                    'font:12px/1.4 sans-serif;border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,.3)';
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, scale: Scale, position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.position = position
        rows = "".join(
            f'<div><span style="display:inline-block;width:14px;height:10px;background:{c};'
            f'border:1px solid #999;margin-right:4px"></span>{esc(label)}</div>'
            for c, label in scale.legend_rows())
        self.html = (f"<b>{esc(scale.title)}</b>" if scale.title else "") + rows


class PrintFit(MacroElement):
    """On paper a map shows what it was fitted to, centred: the printed frame has another size
    than the screen's (the page's print styles give it a fixed width), and Leaflet, left alone,
    keeps the screen's top-left corner, so the areas sat off-centre. When the page is printed
    (``beforeprint``, or print media taking effect) the map takes its new size and fits `bounds`
    again; afterwards it goes back to the view the user had."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var bounds = {{ this.bounds|tojson }};
            var before = null;
            function toPaper() {
                if (before === null) { before = [map.getCenter(), map.getZoom()]; }
                map.invalidateSize({pan: false, animate: false});
                map.fitBounds(bounds, {animate: false});
            }
            function toScreen() {
                if (before === null) { return; }
                map.invalidateSize({pan: false, animate: false});
                map.setView(before[0], before[1], {animate: false});
                before = null;
            }
            window.addEventListener('beforeprint', toPaper);
            window.addEventListener('afterprint', toScreen);
            var paper = window.matchMedia ? window.matchMedia('print') : null;
            if (paper && paper.addEventListener) {
                paper.addEventListener('change', function(e) { if (e.matches) { toPaper(); } else { toScreen(); } });
            }
        })();
        {% endmacro %}
    """)

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "PrintFit"
        self.bounds = [[float(v) for v in corner] for corner in bounds]


# --------------------------------------------------------------------------------------------
# base map and layers
# --------------------------------------------------------------------------------------------

def base_map(bounds: list[list[float]] | None = None, tiles: str | None = None,
             canvas: bool = False) -> folium.Map:
    """An empty map fitted to `bounds` with the basemap from `tiles` (default
    ``settings.TILES``: a folium tile name, a ``{z}/{x}/{y}`` URL, or ``"none"``); vector layers
    drawn on a canvas with `canvas` (for thousands of shapes: `CANVAS_MIN_AREAS`), else as SVG."""
    tiles = settings.TILES if tiles is None else tiles
    kwargs: dict = {"control_scale": True, "prefer_canvas": bool(canvas)}
    if not tiles or str(tiles).lower() == "none":
        kwargs["tiles"] = None
    elif "{" in str(tiles):
        kwargs["tiles"] = tiles
        kwargs["attr"] = f"Basemap: {esc(urlparse(tiles).netloc or tiles)}"
    else:
        kwargs["tiles"] = tiles
    if bounds:
        (s, w), (n, e) = bounds
        kwargs["location"] = [(s + n) / 2, (w + e) / 2]
        kwargs["zoom_start"] = 13
    else:
        kwargs["location"] = [54.55, -1.2]
        kwargs["zoom_start"] = 11
    m = folium.Map(**kwargs)
    # on paper a map keeps its legend and scale but not its buttons (zoom, layers, drawing tools)
    m.get_root().header.add_child(folium.Element(
        "<style>@media print { .leaflet-control-zoom, .leaflet-control-layers, .leaflet-draw "
        "{ display: none !important; } }</style>"), name="print_controls")
    if bounds:
        m.fit_bounds(bounds)
        PrintFit(bounds).add_to(m)
    return m


def _fmt_value(v, fmt: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return fmt.format(v)


def choropleth(areas: gpd.GeoDataFrame, values: pd.Series | Sequence | None, *, title: str,
               scale: Scale | None = None, fmt: str = "{:,.0f}", diverging: bool = False,
               extra: dict[str, Sequence] | None = None, name: str | None = None,
               simplify_m: float = 5.0) -> tuple[folium.GeoJson, Scale]:
    """Areas filled by `values` (a Series indexed by ``area_id``, or aligned with `areas`).

    Returns the GeoJson layer and the scale used (add ``Legend(scale)`` to the map). Tooltip:
    area name, the value (``n/a`` when missing) and any `extra` columns (label -> values).
    """
    if isinstance(values, pd.Series) and "area_id" in areas.columns and not values.index.equals(areas.index):
        vals = areas["area_id"].astype(str).map(values.rename(index=str)).astype(float)
    else:
        vals = pd.Series(np.asarray(values, dtype=float) if values is not None else np.nan,
                         index=areas.index)
    scale = scale or make_scale(vals.to_numpy(), diverging=diverging, title=title, fmt=fmt)
    shown = to_wgs84(areas[["name", "geometry"]], simplify_m=simplify_m)
    shown["_name"] = areas["name"].map(esc)
    shown["_value"] = [_fmt_value(v, fmt) for v in vals]
    shown["_fill"] = [scale.colour(v) for v in vals]
    fields, aliases = ["_name", "_value"], ["Area", esc(title)]
    for i, (label, col) in enumerate((extra or {}).items()):
        shown[f"_x{i}"] = [esc(v) for v in col]
        fields.append(f"_x{i}")
        aliases.append(esc(label))
    layer = folium.GeoJson(
        _feature_collection(shown, fields + ["_fill"]),
        name=esc(name or title),
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#555555",
                                  "weight": 1, "fillOpacity": 0.6},
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=_tooltip(len(shown), fields=fields, aliases=aliases),
    )
    return layer, scale


def area_outlines(areas: gpd.GeoDataFrame, *, name: str, colour: str = "#1f4e9c",
                  dash: str | None = None, line_width: float = 2.5, show: bool = True,
                  fields: dict[str, str] | None = None) -> folium.GeoJson:
    """Outlines of areas (town centres, micro-hotspots, a buffer ring) with a name tooltip.

    `line_width` is the outline's width in pixels. `fields` maps extra column names to tooltip
    labels (values escaped).
    """
    fields = fields or {}
    shown = to_wgs84(areas[["geometry"]])
    shown["_name"] = areas["name"].map(esc) if "name" in areas.columns else esc(name)
    cols, aliases = ["_name"], ["Name"]
    for i, (col, label) in enumerate(fields.items()):
        shown[f"_f{i}"] = [esc(v) for v in areas[col]]
        cols.append(f"_f{i}")
        aliases.append(esc(label))
    style = {"color": colour, "weight": line_width, "fillColor": colour, "fillOpacity": 0.08}
    if dash:
        style["dashArray"] = dash
    return folium.GeoJson(
        _feature_collection(shown, cols), name=esc(name), show=show,
        style_function=lambda f, style=style: style,
        tooltip=_tooltip(len(shown), fields=cols, aliases=aliases),
    )


def locations(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Distinct incident locations (WGS84) with ``count``, weighted ``weight``, the most common
    category (``top_category``) and a location name. One row per distinct coordinate."""
    if len(incidents) == 0:
        return pd.DataFrame(columns=["lat", "lon", "count", "weight", "top_category", "location"])
    xy = shapely.get_coordinates(incidents.geometry.values)
    weight = (np.nan_to_num(incidents["weight"].to_numpy(dtype=float), nan=0.0)  # a blank weight adds 0
              if "weight" in incidents.columns else None)
    loc = _distinct(xy, weight)  # the one home of "same location"
    k = len(loc.xy)
    first = np.unique(loc.inverse, return_index=True)[1]
    category = incidents["category"].astype(object).to_numpy()
    top = (pd.DataFrame({"i": loc.inverse, "category": category}).groupby(["i", "category"]).size()
           .reset_index(name="n").sort_values(["n", "category"], ascending=[False, True])
           .drop_duplicates("i").set_index("i")["category"])
    out = pd.DataFrame({
        "count": np.bincount(loc.inverse, minlength=k),
        "weight": loc.weight if weight is not None else np.bincount(loc.inverse, minlength=k).astype(float),
        "location": (incidents["location"].astype(object).to_numpy()[first]
                     if "location" in incidents.columns else None),
        "top_category": top.reindex(np.arange(k)).to_numpy(),
    })
    pts = gpd.GeoSeries(gpd.points_from_xy(loc.xy[:, 0], loc.xy[:, 1]), crs=incidents.crs).to_crs(settings.CRS_WGS84)
    out["lat"] = np.round(pts.y.to_numpy(), 6)
    out["lon"] = np.round(pts.x.to_numpy(), 6)
    return out.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)


#: The most points a heat layer sends to the browser: more distinct locations (a national year
#: has millions) are summed into cells of about 55 m, then 110 m, ... until they fit (a heat
#: layer blurs over 12 pixels: at a force's zoom the picture is the same; the page stays fast).
HEAT_MAX_POINTS: int = 20_000
#: The first cell (degrees of latitude, about 55 m); longitude cells are 1.7 times wider in
#: degrees (about as many metres at English latitudes).
HEAT_CELL_DEG: float = 0.0005


def heat_points(locs: pd.DataFrame, max_points: int = HEAT_MAX_POINTS) -> pd.DataFrame:
    """`locs` (lat, lon, count) as they are when at most `max_points`, else summed into the
    finest grid of cells (cell centres, counts added) that holds at most `max_points`."""
    if len(locs) <= max_points:
        return locs
    lat, lon = locs["lat"].to_numpy(dtype=float), locs["lon"].to_numpy(dtype=float)
    count = locs["count"].to_numpy(dtype=float)
    step = HEAT_CELL_DEG
    while True:
        cells = pd.DataFrame({"a": np.floor(lat / step), "b": np.floor(lon / (1.7 * step)), "count": count})
        summed = cells.groupby(["a", "b"], sort=False)["count"].sum().reset_index()
        if len(summed) <= max_points:
            break
        step *= 2
    return pd.DataFrame({"lat": np.round((summed["a"].to_numpy() + 0.5) * step, 6),
                         "lon": np.round((summed["b"].to_numpy() + 0.5) * 1.7 * step, 6),
                         "count": summed["count"].to_numpy()})


def heat_layer(incidents: gpd.GeoDataFrame | pd.DataFrame, *, name: str = "Incident heat",
               max_value: float | None = None, radius: int = 12, show: bool = True) -> plugins.HeatMap:
    """Heat of incidents over their distinct locations (weight = incidents there; more than
    `HEAT_MAX_POINTS` locations are summed into cells, `heat_points`).

    `incidents` may be an incidents table or the output of :func:`locations`. ``max_value``
    fixes the intensity that shows as full colour (default: the 95th percentile of the
    locations' counts, so more than the single busiest point stands out; pass the same value to
    a before/after pair).
    """
    locs = incidents if "lat" in incidents.columns else locations(incidents)
    locs = heat_points(locs)
    data = locs[["lat", "lon", "count"]].to_numpy(dtype=float).tolist()
    top = float(max_value if max_value is not None else
                (locs["count"].quantile(0.95) if len(locs) else 1))
    # Leaflet.heat divides intensities by 2^(max_zoom - zoom): with its default max_zoom (18)
    # a borough-wide view (zoom ~12) shows 1/64 of the weight, i.e. nothing. 13 = full weight at
    # neighbourhood zoom and above.
    return plugins.HeatMap(data, name=esc(name), radius=radius, blur=radius + 4, min_opacity=0.15,
                           max=max(top, 1.0), max_zoom=13, show=show, gradient=HEAT_GRADIENT)


def marker_radius(counts: np.ndarray) -> np.ndarray:
    """Circle radius in pixels for incident counts: 2 + 1.5·√count, at most 14 (area grows with
    the count; one incident is 3.5 px, 25 incidents 9.5 px, 64 or more 14 px)."""
    return np.round(np.minimum(2.0 + 1.5 * np.sqrt(np.asarray(counts, dtype=float)), 14.0), 1)


def location_markers(incidents: gpd.GeoDataFrame | pd.DataFrame, *, name: str = "Incident locations",
                     max_markers: int | None = None, show: bool = True) -> folium.GeoJson | None:
    """One circle per distinct location, with an escaped tooltip; None when there are more than
    `max_markers` (default ``settings.MAX_MARKERS``) locations — draw the heat layer alone then.

    The radius follows the location's own count on a fixed scale (`marker_radius`: 3.5 px for
    one incident, capped at 14 px), so that where most locations hold one or two incidents the
    circles stay small and the layers beneath remain readable."""
    max_markers = settings.MAX_MARKERS if max_markers is None else max_markers
    locs = incidents if "lat" in incidents.columns else locations(incidents)
    if len(locs) == 0 or len(locs) > max_markers:
        return None
    shown = pd.DataFrame({
        "_n": locs["count"].astype(int),
        "_cat": locs["top_category"].map(esc),
        "_loc": locs["location"].map(esc),
        "_r": marker_radius(locs["count"].to_numpy(dtype=float)),
    })
    gdf = gpd.GeoDataFrame(shown, geometry=gpd.points_from_xy(locs["lon"], locs["lat"]),
                           crs=settings.CRS_WGS84)
    return folium.GeoJson(
        _feature_collection(gdf, ["_n", "_cat", "_loc", "_r"]), name=esc(name), show=show,
        marker=folium.CircleMarker(radius=5, color="#7a0177", weight=1, fill=True,
                                   fill_color="#c51b8a", fill_opacity=0.7),
        style_function=lambda f: {"radius": f["properties"]["_r"]},
        tooltip=_tooltip(len(gdf), fields=["_n", "_cat", "_loc"],
                         aliases=["Incidents", "Most common", "Location"]),
    )


def patrol_area_layer(polygons: gpd.GeoDataFrame, *, name: str = "Patrol areas",
                 fields: dict[str, str] | None = None, rank: str = "rank") -> folium.GeoJson:
    """Ranked patrol-area polygons (from DBSCAN clusters) with a popup per polygon.

    `fields` maps columns to popup labels (default: rank, count, density, months, top
    categories, where present). The top three ranks are drawn in red, the rest in orange.
    """
    default = {rank: "Rank", "count": "Incidents", "density_per_km2": "Per km²",
               "area_m2": "Area (m²)", "first_month": "First month", "last_month": "Last month",
               "top_categories": "Top categories"}
    fields = fields or {k: v for k, v in default.items() if k in polygons.columns}
    shown = to_wgs84(polygons[["geometry"]])
    cols, aliases = [], []
    for i, (col, label) in enumerate(fields.items()):
        vals = polygons[col]
        if col == "top_categories":
            vals = vals.map(cluster_areas.top_categories_text)
        elif col in ("density_per_km2", "area_m2"):
            vals = vals.map(lambda v: _fmt_value(float(v), "{:,.0f}"))
        shown[f"_p{i}"] = [esc(v) for v in vals]
        cols.append(f"_p{i}")
        aliases.append(esc(label))
    ranks = pd.to_numeric(polygons[rank], errors="coerce") if rank in polygons.columns else pd.Series(99, index=polygons.index)
    shown["_c"] = np.where(ranks.to_numpy() <= 3, "#d7191c", "#fdae61")
    shown["_t"] = [f"Patrol area #{int(r)}" if pd.notna(r) else "Patrol area" for r in ranks]
    return folium.GeoJson(
        _feature_collection(shown, cols + ["_c", "_t"]), name=esc(name),
        style_function=lambda f: {"color": f["properties"]["_c"], "weight": 2.5,
                                  "fillColor": f["properties"]["_c"], "fillOpacity": 0.3},
        tooltip=_tooltip(len(shown), fields=["_t"], labels=False),
        popup=folium.GeoJsonPopup(fields=cols, aliases=aliases) if len(shown) else None,
    )


GI_LABELS = ("hot", "Hot spot 99%", "Hot spot 95%", "Hot spot 90%", "not significant",
             "Not significant", "Cold spot 90%", "Cold spot 95%", "Cold spot 99%", "cold")
GI_COLOURS = ("#b2182b", "#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#f7f7f7", "#d1e5f0",
              "#67a9cf", "#2166ac", "#2166ac")


def grid_layer(cells: gpd.GeoDataFrame, *, value: str = "count", name: str = "Grid",
               scale: Scale | None = None, category: str | None = None, fmt: str = "{:,.0f}",
               title: str | None = None, show: bool = True,
               hide_zero: bool = True, hide: Sequence[str] = ()) -> tuple[folium.GeoJson, Scale]:
    """Grid or hex cells coloured by `value` (counts, KDE) or, with `category`, by a class
    column (e.g. Gi* ``hot`` / ``cold`` / ``not significant``). Cells with value 0 (when
    ``hide_zero``) or whose class is in `hide` are left out. Returns the layer and its scale."""
    data = cells
    if category and hide:
        data = data[~data[category].astype(str).isin(list(hide))]
    elif hide_zero and value in cells.columns:
        data = cells[pd.to_numeric(cells[value], errors="coerce").fillna(0) != 0]
    if category:
        labels = [lab for lab in GI_LABELS if lab in set(cells[category].astype(str))] or \
            sorted(set(cells[category].astype(str)))
        colours = [GI_COLOURS[GI_LABELS.index(lab)] if lab in GI_LABELS else SEQUENTIAL[i % 6]
                   for i, lab in enumerate(labels)]
        scale = scale or categorical_scale(labels, colours, title or category)
        fills = [scale.colour(str(v)) for v in data[category]]
    else:
        scale = scale or make_scale(data[value].to_numpy(dtype=float), title=title or value, fmt=fmt)
        fills = [scale.colour(float(v)) for v in data[value]]
    shown = to_wgs84(data[["geometry"]])
    shown["_v"] = [_fmt_value(float(v), fmt) for v in data[value]] if value in data.columns else ""
    shown["_fill"] = fills
    cols, aliases = ["_v"], [esc(title or value)]
    if category:
        shown["_k"] = [esc(v) for v in data[category]]
        cols.append("_k")
        aliases.append(esc(category))
    layer = folium.GeoJson(
        _feature_collection(shown, cols + ["_fill"]), name=esc(name), show=show,
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#666666",
                                  "weight": 0.5, "fillOpacity": 0.65},
        tooltip=_tooltip(len(shown), fields=cols, aliases=aliases),
    )
    return layer, scale


def stable_ids(m: folium.Map) -> folium.Map:
    """Give every element of `m` an id from its place in the map (in order), in place, so the
    same map drawn again is the same page: a map that sends drawings back reruns the page, and
    with fresh random ids the browser would rebuild it -- back to the first view, the drawn
    shape gone. Returns `m`."""
    count = 0

    def walk(element) -> None:
        nonlocal count
        for child in list(element._children.values()):
            count += 1
            child._id = f"{count:032x}"
            walk(child)

    m._id = f"{0:032x}"
    walk(m)
    return m


def draw_control(m: folium.Map) -> plugins.Draw:
    """Polygon/rectangle drawing tools (Leaflet.draw) for drawing a micro-hotspot."""
    draw = plugins.Draw(
        export=False, position="topleft",
        draw_options={"polyline": False, "circle": False, "marker": False,
                      "circlemarker": False, "polygon": True, "rectangle": True},
        edit_options={"edit": False})
    draw.add_to(m)
    return draw


# --------------------------------------------------------------------------------------------
# whole maps
# --------------------------------------------------------------------------------------------

def overview_map(
    wards: gpd.GeoDataFrame,
    values: pd.Series | None,
    incidents: gpd.GeoDataFrame | pd.DataFrame,
    *,
    metric_title: str = "Incidents",
    fmt: str = "{:,.0f}",
    diverging: bool = False,
    town_centres: gpd.GeoDataFrame | None = None,
    micro_hotspots: gpd.GeoDataFrame | None = None,
    extra: dict[str, Sequence] | None = None,
    tiles: str | None = None,
    max_markers: int | None = None,
) -> folium.Map:
    """Ward choropleth of `values` + incident heat (+ locations when few) + town centres and
    micro-hotspot outlines, with a legend and a layer control. `incidents` may be an incidents
    table or its :func:`locations`."""
    locs = incidents if "lat" in incidents.columns else locations(incidents)
    bounds = bounds_of(wards)
    if bounds is None and len(locs):
        bounds = [[float(locs["lat"].min()), float(locs["lon"].min())],
                  [float(locs["lat"].max()), float(locs["lon"].max())]]
    m = base_map(bounds, tiles, canvas=len(wards) > CANVAS_MIN_AREAS)
    if len(wards):
        layer, scale = choropleth(wards, values, title=metric_title, fmt=fmt, diverging=diverging,
                                  extra=extra, name=f"Wards: {metric_title}")
        layer.add_to(m)
        Legend(scale).add_to(m)
    if len(locs):
        heat_layer(locs).add_to(m)
        markers = location_markers(locs, max_markers=OVERVIEW_MARKERS if max_markers is None else max_markers,
                                   show=False)
        if markers is not None:
            markers.add_to(m)
    if town_centres is not None and len(town_centres):
        area_outlines(town_centres, name="Town centres", colour="#1f4e9c").add_to(m)
    if micro_hotspots is not None and len(micro_hotspots):
        cols = {c: c.replace("_", " ").capitalize() for c in ("patrol_start", "patrol_end")
                if c in micro_hotspots.columns}
        area_outlines(micro_hotspots, name="Micro-hotspots", colour="#008837", dash="6 4",
                      fields=cols).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def before_after_maps(
    area: gpd.GeoDataFrame,
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    buffer: gpd.GeoDataFrame | None = None,
    control: gpd.GeoDataFrame | None = None,
    cells_before: gpd.GeoDataFrame | None = None,
    cells_after: gpd.GeoDataFrame | None = None,
    value: str = "count",
    pad_m: float = 150.0,
    tiles: str | None = None,
    max_markers: int | None = None,
) -> tuple[folium.Map, folium.Map]:
    """Two maps (before, after) with the same extent and the same colour scale.

    `before`/`after` are incidents tables or their :func:`locations`. Each map shows the
    evaluated area (and buffer ring / control area), the incidents of its period as heat + location circles scaled to the busiest location of *either* period, and,
    when given, grid cells coloured on one shared scale.
    """
    bounds = bounds_of(area, buffer, control, pad_m=pad_m)
    locs_b = before if "lat" in before.columns else locations(before)
    locs_a = after if "lat" in after.columns else locations(after)
    top = max([1.0] + [float(x["count"].max()) for x in (locs_b, locs_a) if len(x)])
    scale = None
    if cells_before is not None and cells_after is not None:
        scale = make_scale(np.concatenate([cells_before[value].to_numpy(dtype=float),
                                           cells_after[value].to_numpy(dtype=float)]),
                           title=f"Incidents per cell ({value})")
    maps = []
    for label, locs, cells in (("Before", locs_b, cells_before), ("After", locs_a, cells_after)):
        m = base_map(bounds, tiles)
        if cells is not None and scale is not None:
            grid_layer(cells, value=value, scale=scale, name=f"{label}: grid").add_to(m)
        if len(locs):
            heat_layer(locs, name=f"{label}: heat", max_value=top).add_to(m)
            mk = location_markers(locs, name=f"{label}: locations", max_markers=max_markers)
            if mk is not None:
                mk.add_to(m)
        area_outlines(area, name="Evaluated area", colour="#008837").add_to(m)
        if buffer is not None and len(buffer):
            area_outlines(buffer, name="Displacement buffer", colour="#7570b3", dash="6 4").add_to(m)
        if control is not None and len(control):
            area_outlines(control, name="Control area", colour="#666666", dash="2 4").add_to(m)
        Legend(Scale((0.0, top), ("#c51b8a",), f"{label}: circles scaled to {top:,.0f} at one location",
                     labels=("circle size ∝ √count",)) if scale is None else scale).add_to(m)
        folium.LayerControl(collapsed=True).add_to(m)
        if bounds:
            m.fit_bounds(bounds)
        maps.append(m)
    return maps[0], maps[1]


def comparison_map(area: gpd.GeoDataFrame, comparison: gpd.GeoDataFrame, *,
                   buffer: gpd.GeoDataFrame | None = None, candidates: gpd.GeoDataFrame | None = None,
                   tiles: str | None = None, pad_m: float = 200.0) -> folium.Map:
    """The evaluated area (and its displacement ring) beside the comparison areas its effect is
    measured against (`comparison`: name, geometry; numbered in their order), with the other
    candidate areas faint: the matched comparison the Before/after page shows."""
    bounds = bounds_of(area, buffer, comparison, pad_m=pad_m)
    m = base_map(bounds, tiles)
    if candidates is not None and len(candidates):
        area_outlines(candidates, name="Other candidate areas", colour="#999999", line_width=1.0,
                      show=True).add_to(m)
    if len(comparison):
        numbered = comparison.assign(rank=np.arange(1, len(comparison) + 1))
        area_outlines(numbered, name="Comparison areas", colour="#1f4e9c", line_width=2.0).add_to(m)
        rank_markers(numbered, name="Comparison area numbers").add_to(m)
    area_outlines(area, name="Evaluated area", colour="#008837", line_width=3.0).add_to(m)
    if buffer is not None and len(buffer):
        area_outlines(buffer, name="Displacement buffer", colour="#7570b3", dash="6 4").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if bounds:
        m.fit_bounds(bounds)
    return m


# --------------------------------------------------------------------------------------------
# patrol-area numbers (drawn above the polygons so the ranks stay readable)
# --------------------------------------------------------------------------------------------
#: Colours of the patrol-area polygons (`patrol_area_layer`): the top three, then the rest.
PATROL_TOP, PATROL_REST = "#d7191c", "#fdae61"


def rank_markers(polygons: gpd.GeoDataFrame, *, rank: str = "rank", label: str = "name",
                 name: str = "Patrol area numbers") -> folium.FeatureGroup:
    """Numbered circles (folium DivIcon) at each patrol area's representative point (always
    inside the polygon), the rank as text and the area's name (escaped) as tooltip. Add after the
    polygons so the numbers sit on top."""
    group = folium.FeatureGroup(name=name, show=True)
    if len(polygons) == 0:
        return group
    points = polygons.geometry.representative_point()
    shift = _marker_shifts(points.to_numpy())
    pts = to_wgs84(gpd.GeoDataFrame(polygons[[c for c in (rank, label) if c in polygons.columns]],
                                    geometry=points, crs=polygons.crs))
    for (_, row), dx in zip(pts.iterrows(), shift):
        r = row.get(rank)
        text = esc(int(r)) if r is not None and pd.notna(r) else "?"
        colour = PATROL_TOP if pd.notna(r) and int(r) <= 3 else "#e66101"
        icon = folium.DivIcon(
            html=(f'<div class="hotspot-rank" style="width:22px;height:22px;border-radius:11px;'
                  f'background:{colour};color:#fff;font:bold 12px/22px sans-serif;text-align:center;'
                  f'border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.6)">{text}</div>'),
            icon_size=(22, 22), icon_anchor=(11 - int(dx), 11))
        tip = esc(row.get(label)) if label in pts.columns and row.get(label) is not None else None
        folium.Marker([row.geometry.y, row.geometry.x], icon=icon,
                      tooltip=f"#{text} {tip}" if tip else f"#{text}").add_to(group)
    return group


#: Numbers of patrol areas closer than this (metres, about 22 pixels at street zoom 14) are
#: drawn side by side instead of on top of each other.
MARKER_NEAR_M = 150.0
MARKER_STEP_PX = 24


def _marker_shifts(points: np.ndarray) -> np.ndarray:
    """Horizontal pixel shift of each number: 0 for a patrol area with no other within
    `MARKER_NEAR_M`; in a group of close areas (connected by that distance) the numbers are laid
    side by side from west to east (the way the areas lie, so shifting moves them apart), the
    row centred on the group's own places."""
    n = len(points)
    shift = np.zeros(n)
    if n < 2:
        return shift
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    left, right = shapely.STRtree(points).query(points, predicate="dwithin", distance=MARKER_NEAR_M)
    _, groups = connected_components(coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n)))
    key = shapely.get_x(points)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        if len(members) < 2:
            continue
        members = members[np.argsort(key[members], kind="stable")]
        shift[members] = (np.arange(len(members)) - (len(members) - 1) / 2) * MARKER_STEP_PX
    return shift


def patrol_legend(position: str = "bottomright") -> Legend:
    """Legend of the patrol-area layers: top three, other areas, the numbers."""
    return Legend(categorical_scale(["Patrol areas ranked 1–3", "Other patrol areas"],
                                    [PATROL_TOP, PATROL_REST], title="Patrol areas (number = rank)"),
                  position=position)
