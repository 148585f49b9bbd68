"""Where are our town centres? The named-places question (issue 20): areas a partnership names
(town centres, parks, estates) made from what it has, kept as an area layer so every table,
ranking and map can use them -- the one answer the Data page's "Named places" section gives
(drawing one and naming it is the page's draw-and-name; any boundary file is
`questions.boundaries.read_areas` with ``layer``).

Decided here: the radius round each point when none is given (`RADIUS_M`), the layer
(``town_centre``), and that the points of one name are one area (their circles joined). Also the
place a page is restricted to (`within_place`: an authority or wards, as ``--within``): the
incidents inside the chosen wards and those wards.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import shapely

from hotspot_app.core import areas as areas_mod
from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError

#: The radius (metres) round each street's or postcode's point when none is given: a few
#: minutes' walk, as the town-centre paper's centres are drawn.
RADIUS_M: float = 150.0
#: The layer named places are kept in.
LAYER: str = "town_centre"
_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"


def parse_grid_ref(text: str, *, row: int | None = None) -> tuple[float, float]:
    """Easting and northing (metres, the centre of the square) of an OS grid reference
    ('NZ 4923 1784', 'NZ49231784', 'NZ 49 17'); `InputError` naming the row otherwise."""
    t = re.sub(r"\s+", "", str(text)).upper()
    m = re.fullmatch(r"([A-HJ-Z])([A-HJ-Z])(\d*)", t)
    digits = m.group(3) if m else ""
    if not m or len(digits) % 2 or not 2 <= len(digits) <= 10:
        raise InputError(f"'{text}' is not an OS grid reference (e.g. NZ 4923 1784)", row=row, column="grid_ref")
    first, second = _LETTERS.index(m.group(1)), _LETTERS.index(m.group(2))
    e100 = (first % 5) * 5 + (second % 5) - 10
    n100 = 19 - (first // 5) * 5 - second // 5
    half = len(digits) // 2
    unit = 10 ** (5 - half)
    e = e100 * 100_000 + int(digits[:half]) * unit + unit / 2
    n = n100 * 100_000 + int(digits[half:]) * unit + unit / 2
    if not (0 <= e < 700_000 and 0 <= n < 1_300_000):
        raise InputError(f"'{text}' is outside the British National Grid", row=row, column="grid_ref")
    return float(e), float(n)


def named_places(points: pd.DataFrame, *, radius_m: float | None = None,
                 layer: str = LAYER) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Areas from a list of named points: columns ``name`` and either ``grid_ref`` (OS grid
    reference) or ``easting``/``northing`` (EPSG:27700 metres); optional ``radius_m`` per row.
    Each point becomes a circle of its radius (default `RADIUS_M`), and the circles of one name
    one area (e.g. a town centre from its streets' grid references). Returns ``(areas of
    `layer`, warnings)``; `InputError` names the row and column of a bad value."""
    radius = RADIUS_M if radius_m is None else float(radius_m)
    if not radius > 0:
        raise InputError("the radius must be more than 0 metres", parameter="radius_m")
    cols = {str(c).strip().lower(): c for c in points.columns}
    if "name" not in cols:
        raise InputError("the list needs a name column (and grid_ref, or easting and northing)", column="name")
    has_ref = "grid_ref" in cols
    if not has_ref and not ("easting" in cols and "northing" in cols):
        raise InputError("the list needs grid_ref, or easting and northing, for each place", column="grid_ref")
    shapes: dict[str, list] = {}
    for i, rec in enumerate(points.to_dict("records"), start=1):
        name = str(rec[cols["name"]]).strip()
        if not name or name.lower() == "nan":
            raise InputError("no name given", row=i, column="name")
        if has_ref and str(rec[cols["grid_ref"]]).strip() not in ("", "nan"):
            e, n = parse_grid_ref(rec[cols["grid_ref"]], row=i)
        else:
            try:
                e, n = float(rec[cols["easting"]]), float(rec[cols["northing"]])
            except (KeyError, TypeError, ValueError):
                raise InputError("easting and northing must be numbers of metres", row=i, column="easting") from None
        r = radius
        if "radius_m" in cols and str(rec[cols["radius_m"]]).strip() not in ("", "nan"):
            try:
                r = float(rec[cols["radius_m"]])
            except (TypeError, ValueError):
                raise InputError(f"radius '{rec[cols['radius_m']]}' is not a number of metres", row=i,
                                 column="radius_m") from None
            if not r > 0:
                raise InputError("the radius must be more than 0 metres", row=i, column="radius_m")
        shapes.setdefault(name, []).append(shapely.Point(e, n).buffer(r, quad_segs=16))
    if not shapes:
        raise InputError("the list holds no places", parameter="places")
    gdf = gpd.GeoDataFrame({"name": list(shapes)},
                           geometry=[shapely.union_all(v) for v in shapes.values()], crs=settings.CRS)
    warnings = [f"{n}: its points are more than {2 * radius:g} m apart, so it is {len(g.geoms)} separate pieces"
                for n, g in zip(gdf["name"], gdf.geometry) if g.geom_type == "MultiPolygon"]
    return schema.make_areas(gdf, name="name", layer=layer), warnings


def within_place(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None, within
                 ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The place a page or a command is restricted to: ``(the incidents inside the chosen wards,
    the chosen wards)`` for `within` as `areas.pick` takes it (``"LAD24NM=Hartlepool"``, ward
    names ``"Victoria,Headland"``, or several, all of which must hold); the inputs unchanged for
    no `within`. `InputError` naming ``within`` for an unknown field or name (`areas.pick`)."""
    if not within:
        return incidents, wards
    chosen = areas_mod.pick(wards, within)
    return incidents[areas_mod.area_mask(incidents, chosen).to_numpy()], chosen.reset_index(drop=True)
