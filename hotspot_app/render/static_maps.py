"""Maps as PNG images, drawn offline (no tiles, no browser): for report packs, patrol sheets and
the app's "PNG" download buttons. One home for static map drawing; colours come from the same
`maps.Scale` as the interactive maps so a printed map and the screen agree.

Everything is drawn in British National Grid metres (EPSG:27700) with a scale bar, so printed
maps can be measured. Functions return PNG bytes (`window_pair`: with its warnings) and never mutate their inputs.

- `choropleth_png(areas, values, title=...)`: areas filled by value classes, with a legend.
- `classes_png(cells, classes, scale, context=...)`: cells coloured by a class (emerging hot spots).
- `patrol_png(patrol_areas, context=..., title=...)`: numbered patrol areas over area outlines.
- `pair_png(left, right, ...)`: two choropleths side by side with ONE scale (before/after).
- `window_pair(incidents, target, ...)`: before/after grid counts around an intervention area
  (same cells, one scale), with the area and its displacement ring outlined, and the grid's
  advice on the cell size (`window_pair_png`: the image alone).
- `monthly_png(series, ...)`: a monthly line chart (one line per series, windows shaded).
- `matched_areas_png(target, ring, matched, ...)`: the target and its ring beside its comparison areas.
- `placebo_png(rate_ratios, target_rate_ratio, ...)`: the placebo test as a histogram.
"""

from __future__ import annotations

import io
from typing import Sequence

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from hotspot_app.render import maps  # noqa: E402
from hotspot_app.core.errors import InputError  # noqa: E402

__all__ = ["choropleth_png", "classes_png", "patrol_png", "pair_png", "window_pair", "window_pair_png", "monthly_png",
           "matched_areas_png", "placebo_png"]

OUTLINE = "#1f4e9c"
PATROL_FILL = "#d7301f"


def _check(gdf: gpd.GeoDataFrame, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame", parameter=what)
    if gdf.crs is None or gdf.crs.to_epsg() != 27700:
        raise InputError(f"{what} must be in EPSG:27700 (got {gdf.crs})", parameter=what)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def _scale_bar(ax) -> None:
    """A scale bar of a round length (about a fifth of the map width), bottom left."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    if target <= 0:
        return
    step = 10 ** np.floor(np.log10(target))
    length = max(m * step for m in (1, 2, 5) if m * step <= target)
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + (y1 - y0) * 0.015, label, ha="center", va="bottom", fontsize=8)


def _frame(ax, title: str | None, caption: str | None) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=11, loc="left")
    _scale_bar(ax)
    if caption:
        ax.annotate(caption, xy=(0, -0.02), xycoords="axes fraction", ha="left", va="top", fontsize=7,
                    color="#444444")


def _draw_choropleth(ax, areas: gpd.GeoDataFrame, values: Sequence | pd.Series, scale: maps.Scale,
                     label_field: str | None) -> None:
    vals = list(values)
    if len(vals) != len(areas):
        raise InputError(f"values has {len(vals)} entries for {len(areas)} areas", parameter="values")
    colours = [scale.colour(None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for v in vals]
    areas.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.5)
    if label_field and label_field in areas.columns and len(areas) <= 40:
        pts = areas.geometry.representative_point()
        for p, text in zip(pts, areas[label_field].astype(str)):
            ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=6, color="#222222")


def _legend(ax, scale: maps.Scale, title: str, na_label: str | None = "n/a (not covered)") -> None:
    handles = [Patch(facecolor=c, edgecolor="#555555", label=text) for c, text in scale.legend_rows()]
    if na_label:  # grey, with what grey means on this map
        handles.append(Patch(facecolor=maps.NO_DATA, edgecolor="#555555", label=na_label))
    ax.legend(handles=handles, title=title or scale.title, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              fontsize=7, title_fontsize=8, frameon=False)


def choropleth_png(areas: gpd.GeoDataFrame, values: Sequence | pd.Series, *, title: str = "",
                   legend_title: str = "", scale: maps.Scale | None = None, diverging: bool = False,
                   label_field: str | None = "name", caption: str | None = None,
                   size_in: tuple[float, float] = (8.0, 7.0), dpi: int = 150,
                   na_label: str | None = "n/a (not covered)") -> bytes:
    """PNG of `areas` filled by `values` (one per area, None = grey), with a legend and a scale
    bar. Give `scale` to share classes between maps; `na_label` says what grey means (None: no
    grey entry, when no area is grey)."""
    _check(areas, "areas")
    scale = scale or maps.make_scale([v for v in values if v is not None], diverging=diverging,
                                     title=legend_title)
    fig, ax = plt.subplots(figsize=size_in, dpi=dpi)
    _draw_choropleth(ax, areas, values, scale, label_field)
    _frame(ax, title, caption)
    _legend(ax, scale, legend_title, na_label)
    return _png(fig)


def classes_png(cells: gpd.GeoDataFrame, classes: Sequence[str], scale: maps.Scale, *,
                context: gpd.GeoDataFrame | None = None, title: str = "", caption: str | None = None,
                pad_m: float = 500.0, size_in: tuple[float, float] = (8.0, 7.0), dpi: int = 150) -> bytes:
    """PNG of cells (or any polygons) coloured by a class label (`scale`: a categorical
    `maps.categorical_scale`, e.g. emerging hot spot classes) over the outlines of `context`
    areas (e.g. wards) clipped to the cells' extent, with the legend and a scale bar."""
    _check(cells, "cells")
    if cells.empty:
        raise InputError("no cells to draw", parameter="cells")
    fig, ax = plt.subplots(figsize=size_in, dpi=dpi)
    minx, miny, maxx, maxy = cells.total_bounds
    minx, miny, maxx, maxy = minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m
    if context is not None and len(context):
        _check(context, "context")
        context.cx[minx:maxx, miny:maxy].boundary.plot(ax=ax, color=OUTLINE, linewidth=0.5, alpha=0.7)
    cells.plot(ax=ax, color=[scale.colour(str(c)) for c in classes], edgecolor="#555555", linewidth=0.4)
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    _frame(ax, title, caption)
    handles = [Patch(facecolor=c, edgecolor="#555555", label=text) for c, text in scale.legend_rows()]
    ax.legend(handles=handles, title=scale.title, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              fontsize=7, title_fontsize=8, frameon=False)
    return _png(fig)


def patrol_png(patrol_areas: gpd.GeoDataFrame, *, context: gpd.GeoDataFrame | None = None,
               number_field: str = "rank", title: str = "", caption: str | None = None,
               pad_m: float = 300.0, size_in: tuple[float, float] = (8.0, 7.0), dpi: int = 150,
               source: str | None = None, key: bool = True) -> bytes:
    """PNG of patrol areas, each labelled with its number (`number_field`, default the rank),
    over the outlines of `context` areas (e.g. wards) clipped to the patrol areas' extent, each
    named where its part of the map is large enough; a key numbering the areas' names (with
    `key`), the title (what, where, period), a scale bar and `source` under the map."""
    _check(patrol_areas, "patrol_areas")
    if patrol_areas.empty:
        raise InputError("no patrol areas to draw", parameter="patrol_areas")
    fig, ax = plt.subplots(figsize=size_in, dpi=dpi)
    minx, miny, maxx, maxy = patrol_areas.total_bounds
    minx, miny, maxx, maxy = minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m
    if context is not None and len(context):
        _check(context, "context")
        near = context.cx[minx:maxx, miny:maxy]
        near.boundary.plot(ax=ax, color=OUTLINE, linewidth=0.6)
        if "name" in near.columns and len(near):
            import shapely

            view = shapely.box(minx, miny, maxx, maxy)
            clipped = shapely.intersection(near.geometry.values, view)
            big = shapely.area(clipped) >= 0.02 * view.area
            for geom, text, show in zip(clipped, near["name"].astype(str), big):
                if show and not geom.is_empty:
                    p = geom.representative_point()
                    ax.annotate(text, (p.x, p.y), fontsize=7, color="#555555", ha="center", va="center",
                                style="italic")
    patrol_areas.plot(ax=ax, color=PATROL_FILL, alpha=0.35, edgecolor=PATROL_FILL, linewidth=1.2)
    numbers = patrol_areas[number_field] if number_field in patrol_areas.columns else \
        pd.Series(range(1, len(patrol_areas) + 1))
    anchors = [(p.x, p.y) for p in patrol_areas.geometry.representative_point()]
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    for (x, y), (lx, ly), n in zip(anchors, label_positions(anchors, (minx, miny, maxx, maxy), size_in), numbers):
        if (lx, ly) != (x, y):  # set beside its area: a line joins them
            ax.plot([x, lx], [y, ly], color=PATROL_FILL, linewidth=0.8, zorder=4)
        ax.annotate(str(n), (lx, ly), ha="center", va="center", fontsize=9, fontweight="bold", zorder=5,
                    color="white", bbox=dict(boxstyle="circle,pad=0.25", fc=PATROL_FILL, ec="white"))
    notes = " ".join(t for t in (caption, source) if t)
    _frame(ax, title, notes or None)
    if key and "name" in patrol_areas.columns:
        rows = [f"{n}  {str(name)[:80]}" for n, name in zip(numbers, patrol_areas["name"])][:12]
        handles = [Patch(facecolor=PATROL_FILL, alpha=0.35, edgecolor=PATROL_FILL,
                         label="Patrol area (number = rank)")]
        if context is not None and len(context):
            handles.append(Line2D([0], [0], color=OUTLINE, linewidth=0.6, label="Ward boundary"))
        handles += [Line2D([], [], linestyle="none", label=row) for row in rows]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6.5,
                  frameon=False, handlelength=1.2)
    return _png(fig)


def label_positions(anchors: Sequence[tuple[float, float]], extent: tuple[float, float, float, float],
                    size_in: tuple[float, float], label_in: float = 0.24) -> list[tuple[float, float]]:
    """Where each numbered label goes so that no two overlap: at its anchor when free, else the
    nearest free spot on rings around it (inside the map), in the order given (rank 1 first
    keeps its place). `label_in` is a label's diameter in inches on a map of `size_in` inches."""
    minx, miny, maxx, maxy = extent
    scale = max((maxx - minx) / size_in[0], (maxy - miny) / size_in[1])  # metres per inch
    gap = label_in * scale * 1.1
    placed: list[tuple[float, float]] = []
    for x, y in anchors:
        spot = (x, y)
        if any(np.hypot(x - px, y - py) < gap for px, py in placed):
            spot = None
            for ring in range(1, 30):
                r = gap * ring
                for k in range(8 * ring):
                    a = 2 * np.pi * k / (8 * ring) + np.pi / 4
                    cx, cy = x + r * np.cos(a), y + r * np.sin(a)
                    inside = minx + gap / 2 <= cx <= maxx - gap / 2 and miny + gap / 2 <= cy <= maxy - gap / 2
                    if inside and all(np.hypot(cx - px, cy - py) >= gap for px, py in placed):
                        spot = (cx, cy)
                        break
                if spot is not None:
                    break
            spot = spot or (x, y)
        placed.append(spot)
    return placed


def pair_png(left: tuple[gpd.GeoDataFrame, Sequence], right: tuple[gpd.GeoDataFrame, Sequence], *,
             titles: tuple[str, str] = ("Before", "After"), legend_title: str = "",
             outline: gpd.GeoDataFrame | None = None, caption: str | None = None,
             size_in: tuple[float, float] = (12.0, 6.0), dpi: int = 150) -> bytes:
    """Two choropleths side by side with the SAME extent and ONE colour scale (before/after), and
    an optional `outline` (e.g. the intervention area) drawn on both."""
    (la, lv), (ra, rv) = left, right
    _check(la, "left")
    _check(ra, "right")
    allv = [v for v in list(lv) + list(rv) if v is not None and not (isinstance(v, float) and np.isnan(v))]
    scale = maps.make_scale(allv, title=legend_title)
    fig, axes = plt.subplots(1, 2, figsize=size_in, dpi=dpi)
    bounds = np.vstack([la.total_bounds, ra.total_bounds])
    minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
    maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
    for ax, (areas, values), title in zip(axes, (left, right), titles):
        _draw_choropleth(ax, areas, values, scale, None)
        if outline is not None and len(outline):
            outline.boundary.plot(ax=ax, color="black", linewidth=1.5)
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        _frame(ax, title, None)
    _legend(axes[1], scale, legend_title)
    if caption:
        fig.text(0.01, 0.01, caption, fontsize=7, color="#444444")
    return _png(fig)


def window_pair_png(incidents: gpd.GeoDataFrame, target, **kwargs) -> bytes:
    """The PNG of `window_pair` (its warnings left out: for a download beside a page that shows
    them)."""
    return window_pair(incidents, target, **kwargs)[0]


def window_pair(incidents: gpd.GeoDataFrame, target, *, before: Sequence[str], after: Sequence[str],
                category=None, ring=None, cell_m: float = 50.0, pad_m: float = 150.0,
                titles: tuple[str, str] | None = None, legend_title: str = "Incidents per cell",
                caption: str | None = None) -> tuple[bytes, list[str]]:
    """PNG of incidents per grid cell (`cell_m` squares) around `target` (a polygon) in the
    `before` and `after` months, on the SAME cells and ONE colour scale, with the target (and the
    displacement `ring`, when given) outlined: the printable twin of the app's before/after maps.
    Returns ``(png, warnings)``: the grid's advice on the cell size (said once for both maps)."""
    import shapely

    from hotspot_app.core import hotspots, settings

    geoms = [g for g in (target, ring) if g is not None and not g.is_empty]
    extent = shapely.box(*shapely.union_all(geoms).bounds).buffer(pad_m, join_style="mitre")
    study = gpd.GeoDataFrame({"name": ["extent"]}, geometry=[extent], crs=settings.CRS)
    cells_b = hotspots.grid_counts(incidents, cell_m, "square", areas=study, category=category,
                                   period=list(before))
    cells_a = hotspots.grid_counts(incidents, cell_m, "square", areas=study, category=category,
                                   period=list(after), cells=cells_b.drop(columns=["count", "weighted_count", "value"]))
    outline = gpd.GeoDataFrame(geometry=geoms, crs=settings.CRS)
    titles = titles or (f"Before ({before[0]} to {before[-1]})", f"After ({after[0]} to {after[-1]})")
    png = pair_png((cells_b, cells_b["count"].tolist()), (cells_a, cells_a["count"].tolist()),
                   titles=titles, legend_title=legend_title, outline=outline, caption=caption)
    return png, list(cells_b.attrs.get("warnings", []))[:1]


def monthly_png(series: pd.DataFrame, *, title: str = "", ylabel: str = "Incidents per month",
                marks: Sequence[tuple[str, str, str]] = (), size_in: tuple[float, float] = (9.0, 3.6),
                dpi: int = 150) -> bytes:
    """PNG line chart of tidy monthly counts (columns ``month``, ``series``, ``count``; a null
    count, i.e. a month not covered, is a gap, never 0), with `marks` = (from, to, label) windows
    shaded (e.g. before/after)."""
    fig, ax = plt.subplots(figsize=size_in, dpi=dpi)
    months = sorted(series["month"].astype(str).unique())
    pos = {m: i for i, m in enumerate(months)}
    shades = ["#fde0c5", "#c6dbef", "#e5e5e5"]
    for (lo, hi, label), colour in zip(marks, shades * 3):
        if lo in pos and hi in pos:
            ax.axvspan(pos[lo] - 0.5, pos[hi] + 0.5, color=colour, alpha=0.6, lw=0)
            ax.text((pos[lo] + pos[hi]) / 2, 1.0, label, transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color="#444444")
    for name, part in series.groupby("series", sort=False):
        y = [np.nan if pd.isna(v) else float(v) for v in part["count"]]
        ax.plot([pos[m] for m in part["month"].astype(str)], y, marker="o", markersize=2.5,
                linewidth=1.4, label=str(name))
    step = max(1, len(months) // 12)
    ax.set_xticks(range(0, len(months), step))
    ax.set_xticklabels([pd.Timestamp(f"{m}-01").strftime("%b %y") for m in months[::step]], fontsize=7,
                       rotation=45, ha="right")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10, loc="left", pad=14)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def matched_areas_png(target, ring, matched: gpd.GeoDataFrame, *, candidates: gpd.GeoDataFrame | None = None,
                      title: str = "", caption: str | None = None, size_in: tuple[float, float] = (8.0, 7.0),
                      dpi: int = 150) -> bytes:
    """PNG of the target (red) and its displacement `ring` (dashed) beside the comparison areas
    the effect is measured against (`matched`: name, geometry; blue, numbered in their order)
    and, faint, the other candidate areas; with a scale bar and a numbered key. EPSG:27700."""
    import shapely

    from hotspot_app.core import settings

    _check(matched, "matched")
    fig, ax = plt.subplots(figsize=size_in, dpi=dpi)
    shown = [target] + list(matched.geometry.values)
    if candidates is not None and len(candidates):
        _check(candidates, "candidates")
        candidates.plot(ax=ax, facecolor="none", edgecolor="#c8c8c8", linewidth=0.4)
    if len(matched):
        matched.plot(ax=ax, facecolor="#c6dbef", edgecolor=OUTLINE, linewidth=1.0)
        for i, p in enumerate(matched.geometry.representative_point(), start=1):
            ax.annotate(str(i), (p.x, p.y), ha="center", va="center", fontsize=7, color=OUTLINE,
                        fontweight="bold")
    gpd.GeoSeries([target], crs=settings.CRS).plot(ax=ax, facecolor=PATROL_FILL, edgecolor="black",
                                                   linewidth=1.0, alpha=0.8)
    if ring is not None and not ring.is_empty:
        gpd.GeoSeries([ring], crs=settings.CRS).boundary.plot(ax=ax, color="black", linewidth=0.8,
                                                              linestyle="--")
        shown.append(ring)
    minx, miny, maxx, maxy = shapely.union_all(shown).bounds
    pad = max(maxx - minx, maxy - miny) * 0.08 + 100
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    _frame(ax, title, caption)
    handles = [Patch(facecolor=PATROL_FILL, edgecolor="black", label="target area"),
               Patch(facecolor="none", edgecolor="black", linestyle="--", label="displacement ring"),
               Patch(facecolor="#c6dbef", edgecolor=OUTLINE, label="comparison areas")]
    if candidates is not None and len(candidates):
        handles.append(Patch(facecolor="none", edgecolor="#c8c8c8", label="other candidates"))
    key = [f"{i}. {n}" for i, n in enumerate(matched["name"].astype(str), start=1)] if "name" in matched.columns else []
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False,
              title="\n".join(key[:12]) if key else None, title_fontsize=6)
    return _png(fig)


def placebo_png(rate_ratios: Sequence[float], target_rate_ratio: float | None, *, title: str = "",
                caption: str | None = None, size_in: tuple[float, float] = (7.0, 3.4), dpi: int = 150) -> bytes:
    """PNG histogram of the placebo pseudo-targets' rate ratios (log scale) with the target's
    marked: the placebo-in-space test drawn."""
    vals = np.asarray([v for v in rate_ratios if v is not None and np.isfinite(v) and v > 0], dtype=float)
    fig, ax = plt.subplots(figsize=size_in, dpi=dpi)
    if len(vals):
        logs = np.log(vals)
        lo, hi = logs.min(), logs.max()
        if target_rate_ratio:
            lo, hi = min(lo, np.log(target_rate_ratio)), max(hi, np.log(target_rate_ratio))
        bins = np.linspace(lo - 0.05, hi + 0.05, min(30, max(8, len(vals) // 3)) + 1)
        ax.hist(logs, bins=bins, color="#9ecae1", edgecolor="white", label=f"{len(vals)} places like the target")
    if target_rate_ratio:
        ax.axvline(np.log(target_rate_ratio), color=PATROL_FILL, linewidth=2,
                   label=f"the target ({target_rate_ratio:.2f})")
    ax.axvline(0.0, color="#777777", linewidth=0.8, linestyle=":")
    ticks = [0.25, 0.5, 0.7, 1.0, 1.4, 2.0, 4.0]
    x0, x1 = ax.get_xlim()
    shown = [t for t in ticks if x0 <= np.log(t) <= x1] or [1.0]
    ax.set_xticks([np.log(t) for t in shown])
    ax.set_xticklabels([f"{t:g}" for t in shown], fontsize=7)
    ax.set_xlabel("rate ratio (after / before, relative to each place's own comparison areas)", fontsize=8)
    ax.set_ylabel("places", fontsize=8)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False)
    if caption:
        fig.text(0.01, -0.02, caption, fontsize=7, color="#444444")
    return _png(fig)
