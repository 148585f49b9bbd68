"""Fire and rescue service incident extracts -> fire categories (docs/design.md §4, kind ``fire``).

Two layouts are recognised by their header:

**Service CSVs** (e.g. Avon FRS: ``Incident Category``, ``Is Primary Fire``, ``Cause of Fire``,
``Day``/``Month``/``Year``/``Time of Call``, ``X Coordinate``/``Y Coordinate``; usually
Windows-1252). Rule, for ``Incident Category`` = Fire:

============================  ===================  ==============================
Cause of Fire                 Is Primary Fire yes  Is Primary Fire no
============================  ===================  ==============================
starts with "Deliberate"      Deliberate primary   Deliberate secondary fire
(others / unknown owner /     fire
own property)
Accidental                    Accidental primary   Accidental secondary fire
Not known / empty / other     Fire (cause not known)
============================  ===================  ==============================

A fire with a cause but no yes/no in ``Is Primary Fire`` keeps the text ``Deliberate fire`` or
``Accidental fire`` as its category (group Unknown, kind fire: kept, and counted in a warning).
``False Alarm`` -> False alarm, ``Special Service`` -> Special service; any other category text is
kept (group Unknown, kind fire).

**London Fire Brigade incident records** (``IncidentGroup``, ``StopCodeDescription``,
``PropertyCategory``, ``PropertyType``, ``Easting_m``/``Northing_m`` falling back to
``Easting_rounded``/``Northing_rounded``, ``DateOfCall`` + ``TimeOfCall``). LFB records carry no
motive, so an LFB fire (IncidentGroup Fire: primary, secondary, chimney, late call) is
``Fire (cause not known)`` -- never guessed as accidental or deliberate -- unless the file has a
cause column (``Cause of Fire``, ``Motive``, ``Cause``), which then applies as above. False Alarm
-> False alarm, Special Service -> Special service.

Both: ``subcategory`` is the service's property type; ``fire_class`` (an extra column) is
``primary`` / ``secondary`` / ``chimney`` / ``late call`` for fires where the service says so;
every other input column is kept (snake_case). ``location_precision_m`` records how exact the
point is: 1 for metre coordinates, 50 for LFB's rounded coordinates, 1000 for ``376***`` masking
(the point is the 1 km cell centre). Rows are never dropped for masking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_app.core import settings
from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import files, rejects as report, rules

SOURCE = "fire"
_CAUSE_COLUMNS = ("cause of fire", "motive", "cause", "fire cause", "accidental or deliberate")


def _col(df: pd.DataFrame, *names: str) -> str | None:
    keys = {files.norm(c): c for c in df.columns}
    for n in names:
        if n in keys:
            return keys[n]
    return None


def _text(df: pd.DataFrame, col: str | None) -> pd.Series:
    if col is None:
        return pd.Series("", index=df.index, dtype=object)
    return rules.clean(df[col]).set_axis(df.index)


def categorise(group: pd.Series, primary: pd.Series, cause: pd.Series | None) -> tuple[np.ndarray, int]:
    """Fire category per row from incident group, primary flag (yes/no/''), cause text.

    Returns (categories, number of fires with a cause but no primary/secondary flag).
    """
    g = group.str.lower().str.replace(r"[\s_-]+", " ", regex=True).str.strip()
    p = primary.str.lower().str.strip()
    c = (cause if cause is not None else pd.Series("", index=group.index)).str.lower().str.strip()
    deliberate = c.str.startswith("deliberate")
    accidental = c.str.startswith("accidental")
    is_fire = g.eq("fire")
    yes, no = p.isin(["yes", "y", "true", "1", "primary"]), p.isin(["no", "n", "false", "0", "secondary"])
    out = np.asarray(group.to_numpy(object), dtype=object).copy()
    out[g.eq("false alarm").to_numpy()] = "False alarm"
    out[g.isin(["special service", "special services"]).to_numpy()] = "Special service"
    cases = [
        (is_fire & deliberate & yes, "Deliberate primary fire"),
        (is_fire & deliberate & no, "Deliberate secondary fire"),
        (is_fire & accidental & yes, "Accidental primary fire"),
        (is_fire & accidental & no, "Accidental secondary fire"),
        (is_fire & deliberate & ~yes & ~no, "Deliberate fire"),
        (is_fire & accidental & ~yes & ~no, "Accidental fire"),
        (is_fire & ~deliberate & ~accidental, "Fire (cause not known)"),
    ]
    for mask, name in cases:
        out[mask.to_numpy()] = name
    unflagged = int((is_fire & (deliberate | accidental) & ~yes & ~no).sum())
    return out, unflagged


def read(source: files.Source, header: files.Header, rep: report.Report) -> files.Part:
    """Read one fire-service extract (LFB records or a service CSV)."""
    ct = files.read_csv_table(source, header, rep)
    rep.add_file(source.label, ct.read)
    rep.reject(ct.rejected)
    df = rules.to_text_frame(ct.table)
    rows = df.pop("_row").to_numpy()
    blank = rules.blank_rows(df)
    label = source.label
    if _col(df, "incidentgroup") is not None:
        group_col = _col(df, "incidentgroup")
        stop = _text(df, _col(df, "stopcodedescription")).str.lower()
        primary = pd.Series(np.where(stop.str.contains("primary"), "yes",
                                     np.where(stop.str.contains("secondary"), "no", "")), index=df.index)
        fire_class = np.select([stop.str.contains("primary"), stop.str.contains("secondary"),
                                stop.str.contains("chimney"), stop.str.contains("late call")],
                               ["primary", "secondary", "chimney", "late call"], "")
        id_col = _col(df, "incidentnumber", "incident number")
        subcat_col = _col(df, "propertytype", "property type")
        date_col, time_col = _col(df, "dateofcall", "date of call"), _col(df, "timeofcall", "time of call")
        if date_col is None:
            raise InputError("no DateOfCall column", file=label, column="DateOfCall")
        date_text = _text(df, date_col)
        occurred, far = rules.parse_dates_checked(date_text)
        occurred = occurred.reset_index(drop=True)
        # coordinates: metres, else rounded (50 m), per row
        ex, ey = _text(df, _col(df, "easting m")), _text(df, _col(df, "northing m"))
        rx, ry = _text(df, _col(df, "easting rounded")), _text(df, _col(df, "northing rounded"))
        use_r = ex.eq("") | ey.eq("")
        xs, ys = ex.where(~use_r, rx), ey.where(~use_r, ry)
        precision = np.where(use_r, 50.0, 1.0)
        x_name = _col(df, "easting m") or _col(df, "easting rounded") or "Easting_m"
    else:
        group_col = _col(df, "incident category", "incident type", "incidentgroup")
        if group_col is None:
            raise InputError("no Incident Category column", file=label, column="Incident Category")
        primary = _text(df, _col(df, "is primary fire"))
        fire_class = np.where(primary.str.lower().isin(["yes", "y"]), "primary",
                              np.where(primary.str.lower().isin(["no", "n"]), "secondary", ""))
        id_col = _col(df, "incident number", "incidentnumber", "incident id", "id")
        subcat_col = _col(df, "property type", "propertytype")
        day, mon, year = _col(df, "day"), _col(df, "month"), _col(df, "year")
        time_col = _col(df, "time of call", "timeofcall", "time")
        date_col = _col(df, "date of call", "dateofcall", "date")
        if date_col is not None:
            date_text = _text(df, date_col)
        elif day and mon and year:
            date_text = _text(df, day) + " " + _text(df, mon) + " " + _text(df, year)
            date_text = date_text.where(date_text.str.strip().ne(""), "")
        else:
            raise InputError("no date columns (need Date of Call, or Day + Month + Year)", file=label,
                             column="Day")
        occurred, far = _parse_day_month_year(date_text)
        x_name = _col(df, "x coordinate", "easting", "x") or "X Coordinate"
        y_name = _col(df, "y coordinate", "northing", "y")
        xs, ys = _text(df, _col(df, "x coordinate", "easting", "x")), _text(df, y_name)
        precision = None
    if time_col is not None:
        t = rules.parse_times(_text(df, time_col))
        occurred = occurred + t.fillna(pd.Timedelta(0)).to_numpy()
    cause_col = _col(df, *_CAUSE_COLUMNS)
    cats, unflagged = categorise(_text(df, group_col), primary,
                                 _text(df, cause_col) if cause_col else None)
    if unflagged:
        rep.warn(f"{files.shown(label)}: {unflagged} fires have a cause but no primary/secondary flag; kept as "
                 "'Deliberate fire' / 'Accidental fire' (group Unknown)")
    if cause_col is None and (_text(df, group_col).str.lower().eq("fire")).any():
        rep.warn(f"{files.shown(label)}: no cause (motive) column; fires are 'Fire (cause not known)'")
    x, px, xblank, xbad = rules.parse_coords(xs)
    y, py, yblank, ybad = rules.parse_coords(ys)
    precision = np.maximum(px, py) if precision is None else np.maximum(precision, np.maximum(px, py))
    bad_date = date_text.ne("").to_numpy() & occurred.isna().to_numpy() & ~far
    no_date = date_text.eq("").to_numpy()
    used = {c for c in (id_col,) if c}
    extras = rules.extras(df, used)
    extras["fire_class"] = fire_class
    extras["location_precision_m"] = precision
    ids = _text(df, id_col) if id_col else None
    if ids is not None and ids.eq("").any():
        empty = ids.eq("").to_numpy()
        rep.warn(f"{files.shown(label)}: {int(empty.sum())} rows without an incident number got generated ids")
        ids = pd.Series(rules.fill_ids(ids.to_numpy(object), empty, rows))
    fields = {
        "_blank": blank,
        "incident_id": ids,
        "occurred": occurred.reset_index(drop=True),
        "month": pd.Series(occurred.dt.strftime("%Y-%m").where(occurred.notna(), None).to_numpy(object)),
        "category": cats,
        "subcategory": _text(df, subcat_col).replace("", None).to_numpy(object) if subcat_col else None,
        "location": None,
        "weight": None,
    }
    checks = [(far, report.DATE_OUT_OF_RANGE, date_col or "Day", date_text.to_numpy(object)),
              (bad_date, report.BAD_DATE, date_col or "Day", date_text.to_numpy(object)),
              (no_date, report.NO_DATE, date_col or "Day", None)]
    return rules.build(label, rows, fields, extras, x, y, settings.CRS, rep, source=SOURCE,
                         default_kind="fire", checks=checks, coord_blank=xblank | yblank,
                         coord_bad=xbad | ybad, coord_text=(xs + "," + ys).to_numpy(object),
                         coord_column=x_name, id_prefix="fire", month_column=date_col or "Day",
                         category_column=group_col)


def _parse_day_month_year(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """'1 July 2014' / '1 7 2014' / a full date -> (datetime (NaT when unreadable or out of
    range), out of range)."""
    out, far = rules.parse_dates_checked(text)
    out = out.reset_index(drop=True)
    text = text.reset_index(drop=True)
    rest = (out.isna() & text.ne("")).to_numpy() & ~far
    if rest.any():
        for fmt in ("%d %B %Y", "%d %b %Y", "%d %m %Y"):
            parsed = pd.to_datetime(text[rest], format=fmt, errors="coerce").astype("datetime64[us]")
            ns, far_fmt = rules.to_ns_checked(parsed)
            out[rest] = ns.to_numpy()
            far[rest] = far_fmt
            rest = (out.isna() & text.ne("")).to_numpy() & ~far
            if not rest.any():
                break
    return out, far
