"""How large should eps be? k-distance guidance for DBSCAN (`suggest_eps`): the distance within
which `min_samples` incidents lie, sorted, and the eps at its knee or step. A guide shown beside
the chart of the curve, never a rule (docs/design.md §6)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import locations
from hotspot_app.core.errors import InputError
from hotspot_app.core.selection import coordinates, select, validate_params

#: Smallest k-distance `suggest_eps` considers (police.uk snap points can be metres apart).
MIN_EPS_M = 10.0

@dataclass
class EpsSuggestion:
    """k-distance guidance: `eps_m` at the knee of the sorted distance-to-k-th-neighbour curve;
    `curve` has columns ``share`` (0..1, incidents sorted by distance) and ``distance_m``."""

    eps_m: float
    min_samples: int
    curve: pd.DataFrame


def suggest_eps(incidents: gpd.GeoDataFrame, min_samples: int, *,
                category=None, period=None, points: int = 500) -> EpsSuggestion:
    """Suggest `eps_m` from the k-distance curve (k = `min_samples`, self included, as DBSCAN
    counts it): for each incident the distance within which `min_samples` incidents lie. Sorted
    ascending, the curve is low for incidents in clusters and rises where noise begins. The
    suggestion is the distance just before the largest jump of at least ×2 between neighbouring
    half-percentiles (a step), or else the *knee* of the bend: the point farthest below the
    straight line from the first to the last point (Kneedle-style). Only k-distances of at
    least `MIN_EPS_M` (10 m) count: a snap point that alone holds `min_samples` incidents (0 m),
    or snap points a few metres apart, are core at any useful eps and say nothing about it.
    A guide, not a rule: show `curve` next to it. Computed on distinct locations weighted by
    their incident counts. `curve` (for a chart) is thinned to at most `points` rows."""
    validate_params(min_samples=min_samples)
    sel = select(incidents, category, period)
    xy = coordinates(sel)
    if len(sel) < 2:
        raise InputError("need at least 2 incidents to suggest eps_m", parameter="incidents")
    uxy, uw = locations.distinct(xy)[:2]
    k = int(min(len(uxy), min_samples))
    from scipy.spatial import cKDTree  # (0.05 s to import: only where a tree is built)

    dist, idx = cKDTree(uxy).query(uxy, k=k)
    dist, idx = dist.reshape(len(uxy), k), idx.reshape(len(uxy), k)
    cum = np.cumsum(uw[idx], axis=1)
    reach = np.argmax(cum >= min_samples, axis=1)
    never = cum[:, -1] < min_samples
    kd = dist[np.arange(len(uxy)), reach]
    kd[never] = dist[never, -1]
    order = np.argsort(kd, kind="stable")
    kd_s, w_s = kd[order], uw[order]
    share = np.cumsum(w_s) / w_s.sum()
    # knee: max distance below the chord from first to last point (normalised axes), over the
    # incidents with a positive k-distance (a snap point holding min_samples incidents is core
    # at any eps and says nothing about eps)
    pos = np.flatnonzero(kd_s >= MIN_EPS_M)
    knee = len(kd_s) - 1
    if len(pos) >= 2:
        # a step: clustered incidents, then a jump to the noise level (at least x2 between
        # neighbouring percentiles) -> the last distance before the largest such jump
        q = np.unique(np.searchsorted(share[pos], np.linspace(0, 1, 201)).clip(0, len(pos) - 1))
        steps = kd_s[pos][q]
        ratio = steps[1:] / steps[:-1]
        if len(ratio) and ratio.max() >= 2.0:
            knee = int(pos[q[int(np.argmax(ratio))]])
        else:   # a bend: farthest below the chord from the first to the last point
            y = kd_s[pos] / kd_s[-1]
            x = share[pos]
            chord = y[0] + (y[-1] - y[0]) * (x - x[0]) / max(x[-1] - x[0], 1e-12)
            knee = int(pos[np.argmax(chord - y)])
    pick = np.unique(np.searchsorted(share, np.linspace(0, 1, points), side="left").clip(0, len(share) - 1))
    curve = pd.DataFrame({"share": share[pick], "distance_m": kd_s[pick]})
    return EpsSuggestion(float(round(kd_s[knee], 1)), int(min_samples), curve)
