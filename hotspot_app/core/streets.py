"""Hot streets: incidents per street segment, per 100 m of street, from the user's own network.

Crime concentrates on a few street segments (Weisburd's law of crime concentration). Given a
line network the user supplies (OS Open Roads ``RoadLink`` from its GeoPackage, an OS
MasterMap or OpenStreetMap extract; EPSG:27700 metres), each incident is **snapped to its
nearest segment** within ``max_distance_m`` (default 50 m), and every segment gets:

* ``count``: the incidents snapped to it;
* ``length_m``: its length;
* ``per_100m`` = 100 x count / length_m: incidents per 100 m of street, so a long road does
  not rank above a short busy one just for its length. Segments shorter than ``short_m``
  (default 50 m) give unstable rates: they are flagged (``short``) and named in a warning when
  they reach the top 10.

Segments are ranked by ``per_100m`` (or ``count`` with ``rank_by="count"``), ties by the other
of the two, then by the segment's order in the file. Snapping works on the distinct incident locations (police.uk
points repeat); a location equally near two segments goes to the one first in the file.
Incidents farther than ``max_distance_m`` from every segment are not counted and are reported.

Checking the snapping with police.uk's location text
----------------------------------------------------
police.uk gives each incident a text "On or near <street>" naming the street of its snap point.
Where that text names a street (not one of police.uk's place labels such as "Parking Area",
"Supermarket", "Shopping Area", nor a named shopping centre, shops or industrial estate), the
name is compared with the snapped segment's name fields (OS Open Roads: ``name1``, ``name2``
and the road number) after normalising case, punctuation, "&"/"and" and "Saint"/"St". The
share that match says how far the snapping can be trusted: a low share means the network and
the points disagree (another year's network, a coarse network, or points snapped between
streets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot_app.core import locations, selection, settings
from hotspot_app.core.errors import InputError

#: Name fields tried in order (OS Open Roads first, then common ones).
NAME_FIELDS = ("name1", "name2", "name", "road_name", "roadname", "street", "street_name",
               "streetname")
#: Road-number fields (OS Open Roads ``roadNumber`` / ``road_classification_number``).
NUMBER_FIELDS = ("roadnumber", "road_number", "road_classification_number", "ref")
ID_FIELDS = ("id", "identifier", "gml_id", "toid", "fid", "segment_id")
#: police.uk's place labels (not streets) after "On or near".
PLACE_LABELS = frozenset({
    "parking area", "supermarket", "petrol station", "police station", "hospital",
    "shopping area", "sports recreation area", "prison", "park open space", "nightclub",
    "further higher educational building", "theatre concert hall", "conference exhibition centre",
    "bus coach station", "airport airfield", "pedestrian subway", "theme adventure park",
    "sports ground", "railway station", "university", "school",
})
#: Endings of named places that are not streets.
PLACE_ENDINGS = ("shops", "shopping centre", "industrial estate", "trading estate",
                 "retail park", "business park", "campus", "station")
PREFIX = re.compile(r"^\s*on\s+or\s+near\s+", re.I)


def normalise(name) -> str | None:
    """Comparable form of a street name: lower case, "&" -> "and", "saint" -> "st", apostrophes
    dropped, other punctuation as spaces, single spaces. None for a blank."""
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    s = PREFIX.sub("", str(name)).lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    s = re.sub(r"\bsaint\b", "st", s)
    return s or None


def is_street(text) -> bool:
    """True when a police.uk location text names a street (not a place label)."""
    s = normalise(text)
    return bool(s) and s not in PLACE_LABELS and not s.endswith(PLACE_ENDINGS)


def _field(columns: Sequence[str], wanted: Sequence[str]) -> list[str]:
    low = {c.lower(): c for c in columns}
    return [low[w] for w in wanted if w in low]


@dataclass
class HotStreets:
    """Result of `hot_streets`.

    Attributes
    ----------
    segments : GeoDataFrame
        Segments with at least one incident, ranked: ``rank``, ``segment_id``, ``name``,
        ``length_m``, ``count``, ``per_100m``, ``short``, geometry (EPSG:27700).
    name_check : dict
        ``checked`` (snapped incidents whose location text names a street), ``matched`` (the
        snapped segment carries that name), ``share`` (matched / checked; None when nothing
        could be checked), ``unnamed`` (checked incidents on segments with no name),
        ``mismatches`` (the most frequent [location text, segment name, incidents]).
    n_incidents, n_snapped : int
    parameters : dict
    warnings : list of str
    """

    segments: gpd.GeoDataFrame
    name_check: dict
    n_incidents: int
    n_snapped: int
    parameters: dict
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, top: int | None = None) -> dict:
        seg = self.segments if top is None else self.segments.head(top)
        rows = [{"rank": int(r), "segment_id": str(i), "name": n, "length_m": round(float(L), 1),
                 "count": int(c), "per_100m": round(float(p), 3), "short": bool(s)}
                for r, i, n, L, c, p, s in zip(seg["rank"], seg["segment_id"], seg["name"],
                                               seg["length_m"], seg["count"], seg["per_100m"],
                                               seg["short"])]
        return {"parameters": self.parameters, "n_incidents": self.n_incidents,
                "n_snapped": self.n_snapped, "name_check": self.name_check, "segments": rows,
                "warnings": list(self.warnings)}


def hot_streets(
    incidents: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    *,
    category=None,
    period=None,
    max_distance_m: float = 50.0,
    name_field: str | Sequence[str] | None = None,
    id_field: str | None = None,
    rank_by: str = "per_100m",
    short_m: float = 50.0,
) -> HotStreets:
    """Incidents per street segment and per 100 m of street, ranked (module docstring).

    Parameters
    ----------
    incidents : GeoDataFrame
        Canonical incidents (EPSG:27700); ``location`` (police.uk's text) is used for the check.
    streets : GeoDataFrame
        Line segments (LineString / MultiLineString, EPSG:27700), e.g. OS Open Roads RoadLink.
    max_distance_m : float
        Incidents farther than this from every segment are not counted (> 0).
    name_field : str or list, optional
        Column(s) holding the street name (default: the first of `NAME_FIELDS` present, plus
        ``name2`` and a road-number column when present).
    id_field : str, optional
        Column identifying segments (default: the first of `ID_FIELDS`, else the row number).
    rank_by : "per_100m" or "count"
    short_m : float
        Segments shorter than this are flagged as short (unstable rates).
    """
    if not isinstance(streets, gpd.GeoDataFrame) or streets.crs is None \
            or not streets.crs.equals(settings.CRS):
        raise InputError(f"streets must be a GeoDataFrame in {settings.CRS}", parameter="streets")
    if rank_by not in ("per_100m", "count"):
        raise InputError(f"rank_by must be per_100m or count (got {rank_by!r})", parameter="rank_by")
    if not (isinstance(max_distance_m, (int, float)) and 0 < max_distance_m <= 1000):
        raise InputError(f"max_distance_m must be between 0 and 1,000 m (got {max_distance_m!r})",
                         parameter="max_distance_m")
    geoms = shapely.force_2d(np.asarray(streets.geometry.values))
    kinds = shapely.get_type_id(geoms)
    bad = ~np.isin(kinds, (1, 5)) | shapely.is_empty(geoms)     # LineString, MultiLineString
    if bad.any():
        raise InputError("street segments must be lines (LineString or MultiLineString)",
                         row=int(np.flatnonzero(bad)[0]) + 1, column="geometry")
    if name_field is None:
        names = _field(streets.columns, NAME_FIELDS)
        names = names[:1] + [c for c in names[1:] if c.lower() == "name2"]
        names += _field(streets.columns, NUMBER_FIELDS)
    else:
        names = [name_field] if isinstance(name_field, str) else list(name_field)
        missing = [c for c in names if c not in streets.columns]
        if missing:
            raise InputError(f"streets have no column '{missing[0]}'", column=missing[0])
    if id_field is None:
        ids = _field(streets.columns, ID_FIELDS)
        seg_id = (streets[ids[0]].astype(str).to_numpy() if ids
                  else np.array([str(k + 1) for k in range(len(streets))], dtype=object))
    else:
        if id_field not in streets.columns:
            raise InputError(f"streets have no column '{id_field}'", column=id_field)
        seg_id = streets[id_field].astype(str).to_numpy()
    sel = selection.select(incidents, category, period)
    loc = locations.distinct(selection.coordinates(sel))
    pts = shapely.points(loc.xy)
    tree = shapely.STRtree(geoms)
    (pi, si), dist = tree.query_nearest(pts, max_distance=max_distance_m, return_distance=True,
                                        all_matches=True)
    # equally near segments: the first in the file
    order = np.lexsort((si, pi))
    pi, si = pi[order], si[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
    loc_seg = np.full(len(loc.xy), -1, dtype=np.int64)
    loc_seg[pi[first]] = si[first]
    row_seg = loc_seg[loc.inverse]
    snapped = row_seg >= 0
    count = np.bincount(row_seg[snapped], minlength=len(geoms))
    length = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(length > 0, 100.0 * count / length, np.nan)
    label = _names(streets, names)
    hit = np.flatnonzero(count > 0)
    key = per[hit] if rank_by == "per_100m" else count[hit].astype(float)
    other = count[hit] if rank_by == "per_100m" else per[hit]
    ranked = hit[np.lexsort((hit, -np.nan_to_num(other), -np.nan_to_num(key)))]
    out = gpd.GeoDataFrame({
        "rank": np.arange(1, len(ranked) + 1), "segment_id": seg_id[ranked],
        "name": pd.Series(label[ranked], dtype=object), "length_m": length[ranked],
        "count": count[ranked].astype(np.int64), "per_100m": per[ranked],
        "short": length[ranked] < short_m,
    }, geometry=gpd.GeoSeries(geoms[ranked], crs=settings.CRS), crs=settings.CRS)
    notes = []
    n_out = int((~snapped).sum())
    if n_out:
        notes.append(f"{n_out:,} of {len(sel):,} incidents are more than {max_distance_m:g} m from "
                     "every street segment and are not counted")
    short_top = out.head(10)
    short_top = short_top[short_top["short"]]
    if len(short_top) and rank_by == "per_100m":
        notes.append(f"{len(short_top)} of the top 10 segments are shorter than {short_m:g} m "
                     f"(ranks {', '.join(map(str, short_top['rank']))}): their rates per 100 m "
                     "rest on a few incidents")
    check = _name_check(sel, snapped, row_seg, streets, names, label)
    if check["share"] is not None and check["share"] < 0.5:
        notes.append(f"only {check['share']:.0%} of the incidents checked were snapped to a "
                     "segment with the street name police.uk gives: the network and the points "
                     "may not agree")
    params = {"method": "nearest street segment within max_distance_m; incidents per 100 m",
              "category": None if category is None else ([category] if isinstance(category, str) else list(category)),
              "max_distance_m": float(max_distance_m), "rank_by": rank_by,
              "name_fields": names, "short_m": float(short_m), "n_segments": int(len(geoms))}
    return HotStreets(out.reset_index(drop=True), check, int(len(sel)), int(snapped.sum()),
                      params, notes)


def _names(streets: gpd.GeoDataFrame, names: list[str]) -> np.ndarray:
    """Display name of each segment: its first non-blank name field (None when none)."""
    out = np.full(len(streets), None, dtype=object)
    for col in reversed(names):
        for k, v in enumerate(streets[col].to_numpy(dtype=object)):
            if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v).strip():
                out[k] = str(v).strip()
    return out


def _name_check(sel: gpd.GeoDataFrame, snapped: np.ndarray, row_seg: np.ndarray,
                streets: gpd.GeoDataFrame, names: list[str], label: np.ndarray) -> dict:
    empty = {"checked": 0, "matched": 0, "share": None, "unnamed": 0, "mismatches": []}
    if "location" not in sel.columns or not names:
        return empty
    codes, texts = pd.factorize(sel["location"].to_numpy(dtype=object), use_na_sentinel=True)
    texts = np.asarray(texts, dtype=object)
    street_text = np.array([is_street(t) for t in texts], dtype=bool)
    norm_text = np.array([normalise(t) for t in texts], dtype=object)
    checked = snapped & (codes >= 0)
    checked[checked] = street_text[codes[checked]]
    if not checked.any():
        return empty
    seg_names = [set() for _ in range(len(streets))]
    for col in names:
        for k, v in enumerate(streets[col].to_numpy(dtype=object)):
            s = normalise(v)
            if s:
                seg_names[k].add(s)
    rows = np.flatnonzero(checked)
    pair_codes, pairs = pd.factorize(pd.Series(codes[rows]).astype(str) + ":" + pd.Series(row_seg[rows]).astype(str))
    matched = 0
    unnamed = 0
    mism: dict[tuple[str, str], int] = {}
    counts = np.bincount(pair_codes)
    for p, n in zip(pairs, counts):
        c, s = (int(v) for v in p.split(":"))
        if not seg_names[s]:
            unnamed += int(n)
        if norm_text[c] in seg_names[s]:
            matched += int(n)
        else:
            key = (PREFIX.sub("", str(texts[c])), label[s] or "(no name)")
            mism[key] = mism.get(key, 0) + int(n)
    top = sorted(mism.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {"checked": int(len(rows)), "matched": matched, "share": matched / len(rows),
            "unnamed": unnamed, "mismatches": [[a, b, n] for (a, b), n in top]}
