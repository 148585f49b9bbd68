"""Area tables: the seed-004 partnership table (selected month, last 6 and 12 months against a
comparison period) for any area and month, with CSV/XLSX downloads."""

import pandas as pd
import streamlit as st

from hotspot_app import periods, reports
from hotspot_app.ui import cache, common

st.title("Area tables")
ds = common.dataset()
common.banner(ds)

area_choices = {"__all__": "All areas loaded"}
for layer in (ds.wards, ds.town_centres, ds.micro_hotspots):
    area_choices.update({str(a): f"{n} ({str(lay).replace('_', ' ')})"
                         for a, n, lay in zip(layer["area_id"], layer["name"], layer["layer"])})
kinds = [k for k in ("crime", "asb", "fire") if ds.incidents["kind"].eq(k).any()]

c1, c2, c3 = st.columns([2, 1, 1])
area_id = c1.selectbox("Area", list(area_choices), format_func=area_choices.get, key="tb-area")
month = c2.selectbox("Month", list(reversed(ds.months)), key="tb-month",
                     format_func=lambda m: pd.Timestamp(f"{m}-01").strftime("%B %Y"))
kind = c3.selectbox("Kind", kinds, key="tb-kind",
                    format_func={"crime": "Crime", "asb": "ASB", "fire": "Fires"}.get)
c4, c5 = st.columns(2)
compare = c4.radio("Compare with", list(periods.COMPARISONS), horizontal=True, key="tb-compare",
                   format_func={"same-period-last-year": "Same period last year",
                                "previous-period": "Previous period"}.get)
taxonomy_name = c5.radio("Categories", ["auto", "police-uk", "home-office"], horizontal=True,
                         key="tb-taxonomy", disabled=(kind != "crime"),
                         format_func={"auto": "As in the data", "police-uk": "police.uk",
                                      "home-office": "Home Office hierarchy"}.get)

rows, warnings = cache.partnership_table(ds.key, area_id, month, kind, compare,
                                         taxonomy_name if kind == "crime" else "auto")
common.show_warnings(warnings)
title = f"{area_choices[area_id]} — {pd.Timestamp(f'{month}-01').strftime('%B %Y')}"
st.subheader(title)
st.dataframe(reports.table_display(rows), hide_index=True, width="stretch", height=min(35 * (len(rows) + 1) + 3, 900))
base = common.slug(f"table-{area_choices[area_id]}-{month}-{kind}")
d = st.columns(3)
d[0].download_button("CSV", reports.table_csv(rows).encode("utf-8"), f"{base}.csv", "text/csv",
                     key="tb-csv", on_click="ignore")
d[1].download_button("XLSX", data=lambda: reports.table_xlsx(rows), file_name=f"{base}.xlsx",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     key="tb-xlsx", on_click="ignore")
d[2].download_button("Markdown", reports.table_markdown(rows, title=title, warnings=warnings).encode("utf-8"),
                     f"{base}.md", "text/markdown", key="tb-md", on_click="ignore")
