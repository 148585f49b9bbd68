"""Reading population files (``--population FILE``): a CSV of area names or codes with a
population column, or Census LSOA counts with LSOA boundary files."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from hotspot_app.core.errors import InputError
from hotspot_app.core.population import population_from_lsoa, population_from_table


def read_population(path, areas: gpd.GeoDataFrame, lsoa_boundaries=(),
                    incidents: gpd.GeoDataFrame | None = None) -> tuple[pd.Series, list[str]]:
    """Population by ``area_id`` from a CSV file (``--population FILE``): a population column
    and a column of area codes or names (`population_from_table`), or, with `lsoa_boundaries`
    (small-area polygon files), a population per LSOA summed to the areas by representative
    point (`population_from_lsoa`; LSOAs without a polygon placed at the `incidents` carrying
    their ``lsoa_code``). Returns ``(population, notes)``; the notes name every area without a
    population and every small area that reached none."""
    table = read_population_table(path)
    if not lsoa_boundaries:
        return population_from_table(table, areas)
    polys = pd.concat([gpd.read_file(p).to_crs(areas.crs) for p in lsoa_boundaries], ignore_index=True)
    fallback = incidents if incidents is not None and "lsoa_code" in incidents.columns else None
    pop, report = population_from_lsoa(table, polys, areas, fallback_points=fallback)
    notes = [f"{len(group)} LSOA(s) {reason} (population {int(group['population'].sum()):,}): "
             + ", ".join(group["code"].astype(str).head(20))
             for reason, group in report.groupby("reason", sort=True)]
    return pop, notes


def read_population_table(path) -> pd.DataFrame:
    """A population CSV (e.g. ``area,population``, or Census 2021 LSOA counts with their local
    authority name): text columns, numbers (with thousands commas) converted."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read population CSV ({' '.join(str(exc).split())})", file=path) from exc
    except OSError as exc:  # a folder, a missing or unreadable file: one line naming it and the flag
        raise InputError(f"cannot read population CSV ({exc.strerror or exc})", file=path,
                         parameter="population") from exc
    for col in table.columns:
        converted = pd.to_numeric(table[col].str.replace(",", ""), errors="coerce")
        if len(table) and converted.notna().all():
            table[col] = converted
    return table
