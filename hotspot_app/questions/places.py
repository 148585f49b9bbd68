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


def street_key(text) -> str:
    """A street as police.uk's anonymised locations name it, for matching: 'On or near High
    Street' and 'high street' are both 'high street'."""
    t = re.sub(r"^\s*on or near\s+", "", str(text or ""), flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", t).strip().lower()


def street_points(incidents: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
    """The incidents' own locations by street: {street_key: [(easting, northing), ...]} -- each
    distinct map point police.uk gives 'On or near <street>' (an incident's ``location``)."""
    if incidents is None or "location" not in incidents.columns or not len(incidents):
        return {}
    xy = shapely.get_coordinates(incidents.geometry.values)
    frame = pd.DataFrame({"street": incidents["location"].map(street_key).to_numpy(),
                          "x": xy[:, 0], "y": xy[:, 1]})
    frame = frame[frame["street"] != ""].drop_duplicates()
    return {k: list(zip(g["x"], g["y"])) for k, g in frame.groupby("street", sort=False)}


def postcode_key(text) -> str:
    """'ts1 2ab' and 'TS12AB' are both 'TS12AB'."""
    return re.sub(r"\s+", "", str(text or "")).upper()


def postcode_lookup(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """A user's postcode file (columns ``postcode``, ``easting``, ``northing``; e.g. from the
    OS Code-Point Open or ONS Postcode Directory a partnership holds) as {postcode: (e, n)};
    `InputError` naming the row of a bad coordinate."""
    cols = {str(c).strip().lower(): c for c in table.columns}
    for need in ("postcode", "easting", "northing"):
        if need not in cols:
            raise InputError("the postcode file needs the columns postcode, easting and northing", column=need)
    out = {}
    for i, rec in enumerate(table.to_dict("records"), start=1):
        try:
            out[postcode_key(rec[cols["postcode"]])] = (float(rec[cols["easting"]]), float(rec[cols["northing"]]))
        except (TypeError, ValueError):
            raise InputError("easting and northing must be numbers of metres", row=i, column="easting") from None
    return out


def named_places(points: pd.DataFrame, *, radius_m: float | None = None, layer: str = LAYER,
                 incidents: pd.DataFrame | None = None,
                 postcodes: pd.DataFrame | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Areas from a list of named places: a ``name`` column and, per row, one of ``grid_ref``
    (OS grid reference), ``easting``/``northing`` (EPSG:27700 metres), ``street`` (a street
    name: the `incidents`' own 'On or near <street>' locations give its points) or ``postcode``
    (looked up in the user's `postcodes` file of postcode, easting, northing); optional
    ``radius_m`` per row. Each point becomes a circle of its radius (default `RADIUS_M`), and
    the circles of one name one area (a town centre from its streets). Returns ``(areas of
    `layer`, warnings)``: a street no incident is on, or a postcode not in the file, is named in
    a warning; `InputError` names the row and column of a bad value."""
    radius = RADIUS_M if radius_m is None else float(radius_m)
    if not radius > 0:
        raise InputError("the radius must be more than 0 metres", parameter="radius_m")
    cols = {str(c).strip().lower(): c for c in points.columns}
    if "name" not in cols:
        raise InputError("the list needs a name column (and grid_ref, easting and northing, street or "
                         "postcode)", column="name")
    ways = [w for w in ("grid_ref", "street", "postcode") if w in cols]
    if not ways and not ("easting" in cols and "northing" in cols):
        raise InputError("the list needs grid_ref, easting and northing, street or postcode for each place",
                         column="grid_ref")
    if "street" in cols and incidents is None:
        raise InputError("places given by street need the incidents (their 'On or near' locations)",
                         parameter="incidents", column="street")
    if "postcode" in cols and postcodes is None:
        raise InputError("places given by postcode need a postcode file (postcode, easting, northing)",
                         parameter="postcodes", column="postcode")
    streets = street_points(incidents) if "street" in cols else {}
    lookup = postcode_lookup(postcodes) if "postcode" in cols else {}
    shapes: dict[str, list] = {}
    warnings: list[str] = []

    def given(rec, col: str) -> str:
        return str(rec[cols[col]]).strip() if col in cols and str(rec[cols[col]]).strip() not in ("", "nan") else ""

    for i, rec in enumerate(points.to_dict("records"), start=1):
        name = str(rec[cols["name"]]).strip()
        if not name or name.lower() == "nan":
            raise InputError("no name given", row=i, column="name")
        if given(rec, "grid_ref"):
            at = [parse_grid_ref(rec[cols["grid_ref"]], row=i)]
        elif given(rec, "street"):
            at = streets.get(street_key(given(rec, "street")), [])
            if not at:
                warnings.append(f"{name}: no incident is on or near '{given(rec, 'street')}' (row {i}), so "
                                "that street adds nothing")
        elif given(rec, "postcode"):
            hit = lookup.get(postcode_key(given(rec, "postcode")))
            at = [hit] if hit else []
            if not at:
                warnings.append(f"{name}: postcode {given(rec, 'postcode')} (row {i}) is not in the postcode "
                                "file, so it adds nothing")
        else:
            try:
                at = [(float(rec[cols["easting"]]), float(rec[cols["northing"]]))]
            except (KeyError, TypeError, ValueError):
                raise InputError("easting and northing must be numbers of metres", row=i, column="easting") from None
        r = radius
        if given(rec, "radius_m"):
            try:
                r = float(rec[cols["radius_m"]])
            except (TypeError, ValueError):
                raise InputError(f"radius '{rec[cols['radius_m']]}' is not a number of metres", row=i,
                                 column="radius_m") from None
            if not r > 0:
                raise InputError("the radius must be more than 0 metres", row=i, column="radius_m")
        shapes.setdefault(name, [])
        shapes[name] += [shapely.Point(e, n).buffer(r, quad_segs=16) for e, n in at]
    empty = [n for n, v in shapes.items() if not v]
    if empty:
        warnings.append(f"{', '.join(empty)}: no point found, so no area is made")
    shapes = {n: v for n, v in shapes.items() if v}
    if not shapes:
        raise InputError("the list gives no place a point", parameter="places")
    gdf = gpd.GeoDataFrame({"name": list(shapes)},
                           geometry=[shapely.union_all(v) for v in shapes.values()], crs=settings.CRS)
    warnings += [f"{n}: its points are more than {2 * radius:g} m apart, so it is {len(g.geoms)} separate pieces"
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
