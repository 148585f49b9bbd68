"""Area tables: every table shape of the partnership papers from the one table engine
(`hotspot_app.tables`), with CSV and XLSX downloads.

Presets (one per table shape of the papers): the town-centre table (the town-centre paper: one area, selected month,
last 6 and 12 months); categories by area with rates per 1,000 (the assessment paper Tables 2, 3, 5; the performance paper
local-authority tables); a quarter against the same quarter last year (the performance paper); Oct–Sep years
(the assessment paper Table 4); performance indicators with targets (the performance paper). Thin: widgets -> one core
call -> rendering."""

import pandas as pd
import streamlit as st

from hotspot_app.core import periods, taxonomy
from hotspot_app.io import exports
from hotspot_app.questions import table
from hotspot_app.render import formatting
from hotspot_app.ui import cache, common

PRESETS = {
    "town": "Town-centre table (month, 6 and 12 months)",
    "areas": "Categories by area, with rates per 1,000",
    "quarter": "Quarter against the same quarter last year",
    "years": "Years (e.g. October–September) with change",
    "indicators": "Performance indicators with targets",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


st.title("Area tables")
ds = common.dataset()
common.banner(ds)
kinds = [k for k in ("crime", "asb", "fire") if k in cache.kind_counts(ds.key).index]  # counted once per version
month_label = lambda m: pd.Timestamp(f"{m}-01").strftime("%B %Y")  # noqa: E731
preset = st.selectbox("Table", list(PRESETS), format_func=PRESETS.get, key="tb-preset")

if preset == "town":
    area_choices = {cache.ALL: table.ALL_AREAS}
    for layer in (ds.wards, ds.town_centres, ds.micro_hotspots):
        area_choices.update({str(a): f"{n} ({str(lay).replace('_', ' ')})"
                             for a, n, lay in zip(layer["area_id"], layer["name"], layer["layer"])})
    c1, c2, c3 = st.columns([2, 1, 1])
    area_id = c1.selectbox("Area", list(area_choices), format_func=area_choices.get, key="tb-area")
    month = c2.selectbox("Month", list(reversed(ds.months)), key="tb-month", format_func=month_label)
    kind = c3.selectbox("Kind", kinds, key="tb-kind", format_func=taxonomy.kind_label)
    c4, c5 = st.columns(2)
    compare = c4.radio("Compare with", list(periods.COMPARISONS), horizontal=True, key="tb-compare",
                       format_func={"same-period-last-year": "Same period last year",
                                    "previous-period": "Previous period"}.get)
    taxonomy_name = c5.radio("Categories", ["auto", "police-uk", "home-office"], horizontal=True,
                             key="tb-taxonomy", disabled=(kind != "crime"),
                             format_func={"auto": "As in the data", "police-uk": "police.uk",
                                          "home-office": "Home Office hierarchy"}.get)
    with common.answer_or_stop():
        answer = cache.area_table(ds.key, area_id, month=month, kind=kind, compare=compare,
                                  taxonomy_name=taxonomy_name if kind == "crime" else "auto")
    rows, warnings = answer.rows, answer.warnings
    common.show_warnings(warnings + answer.notes)
    title = f"{area_choices[area_id]} — {month_label(month)}"
    st.subheader(title)
    st.dataframe(formatting.table_display(rows), hide_index=True, width="stretch",
                 height=min(35 * (len(rows) + 1) + 3, 900))
    base = common.slug(f"table-{area_choices[area_id]}-{month}-{kind}")
    d = st.columns(3)
    d[0].download_button("CSV", formatting.table_csv(exports.neutralise_frame(rows)).encode("utf-8"), f"{base}.csv",
                         "text/csv", key="tb-csv", on_click="ignore")
    d[1].download_button("XLSX", data=lambda: formatting.table_xlsx(exports.neutralise_frame(rows)),
                         file_name=f"{base}.xlsx", mime=XLSX, key="tb-xlsx", on_click="ignore")
    d[2].download_button("Markdown", formatting.table_markdown(rows, title=title, warnings=warnings).encode("utf-8"),
                         f"{base}.md", "text/markdown", key="tb-md", on_click="ignore")
    st.stop()

months = ds.months
if preset == "indicators":
    st.caption("One row per indicator: the label shown, the categories or groups counted (';'-separated: "
               "crime, asb, deliberate-fires, neighbourhood-crime, Shoplifting, ...), and the target "
               "(reduce, increase, maintain, N% reduction, N% increase).")
    default = pd.DataFrame({"indicator": ["All recorded crime", "Shoplifting", "Anti-social behaviour incidents",
                                          "Deliberate fires"],
                            "category": ["crime", "Shoplifting", "asb", "deliberate-fires"],
                            "target": ["reduce", "reduce", "5% reduction", "reduce"]})
    spec = st.data_editor(default, num_rows="dynamic", key="tb-spec", width="stretch")
    c1, c2, c3 = st.columns(3)
    end = c1.selectbox("Quarter ending", list(reversed(months)), key="tb-ind-end", format_func=month_label)
    base_year = c2.checkbox("Baseline: the 12 months before the quarter's year", value=True, key="tb-ind-base")
    choices = {cache.ALL: table.ALL_AREAS} | {str(a): str(n) for a, n in zip(ds.areas["area_id"], ds.areas["name"])}
    area_id = c3.selectbox("Area", list(choices), format_func=choices.get, key="tb-ind-area")
    quarter = periods.window(end, 3)
    baseline = periods.format_range(periods.window(periods.add_months(quarter[0], -1), 12)) if base_year else None
    spec_rows = tuple((str(r.indicator), str(r.category), str(r.target))
                      for r in spec.dropna(how="all").fillna("").itertuples(index=False))
    with common.answer_or_stop():  # a bad target or category, named
        doc = cache.indicator_table(ds.key, spec_rows, periods.format_range(quarter), baseline, area_id)
    common.show_warnings(doc["warnings"])
    frame = formatting.indicators_frame(doc)
    st.dataframe(frame, hide_index=True, width="stretch")
    base = common.slug(f"indicators-{choices[area_id]}-{quarter[-1]}")
    d = st.columns(2)
    d[0].download_button("CSV", exports.csv_bytes(pd.DataFrame(doc["rows"])), f"{base}.csv", "text/csv",
                         key="tb-ind-csv", on_click="ignore")
    d[1].download_button("XLSX", data=lambda: formatting.xlsx_bytes(exports.neutralise_frame(frame), "Indicators"),
                         file_name=f"{base}.xlsx", mime=XLSX, key="tb-ind-xlsx", on_click="ignore")
    st.stop()

# -- engine presets: area grouping x period type
c1, c2, c3 = st.columns([2, 1, 1])
fields = [c for c in ds.wards.columns if c not in ("area_id", "name", "layer", "population", "geometry")
          and 1 < ds.wards[c].nunique() < len(ds.wards)]
groupings = {"wards": "Each ward", **{f"by:{f}": f"By {f}" for f in fields}, "chosen": "Chosen areas",
             "all": "All data (one column)"}
group = c1.selectbox("Columns", list(groupings), format_func=groupings.get, key="tb-group")
kind = c2.selectbox("Kind", kinds, key="tb-kind2", format_func=taxonomy.kind_label)
row_choices = ["auto", "police-uk", "home-office"] if kind == "crime" else ["auto"]
if kind == "fire" and "subcategory" in ds.incidents.columns:
    row_choices.append("rows:subcategory")
taxonomy_name = c3.selectbox("Rows", row_choices, key="tb-tax2",
                             format_func={"auto": "Categories as in the data", "police-uk": "police.uk",
                                          "home-office": "Home Office hierarchy",
                                          "rows:subcategory": "Property type"}.get)
row_field = taxonomy_name.split(":", 1)[1] if taxonomy_name.startswith("rows:") else None
if group == "chosen":
    names = st.multiselect("Areas", sorted(ds.areas["name"].astype(str).unique()), key="tb-chosen",
                           default=sorted(ds.town_centres["name"].astype(str))[:2] or None)
    if not names:
        st.info("Choose one or more areas.")
        st.stop()
    grouping = ("areas", tuple(names))
elif group == "wards":
    grouping = ("by", "name")
elif group == "all":
    grouping = ("all", None)
else:
    grouping = ("by", group.split(":", 1)[1])

c4, c5 = st.columns(2)
if preset == "years":
    start = c4.selectbox("Years start in", list(range(1, 13)), index=9, key="tb-ystart",
                         format_func=lambda m: pd.Timestamp(f"2000-{m:02d}-01").strftime("%B"))
    first_year = int(months[0][:4]) if months else 2020
    last_year = int(months[-1][:4]) if months else 2020
    full = [y for y in range(first_year - 1, last_year + 1)
            if months and periods.financial_year(y, int(start))[-1] <= months[-1]] or [first_year]
    span = c5.slider("Years", first_year - 1, last_year, (max(first_year - 1, full[-1] - 1), full[-1]),
                     key="tb-years")
    period = ("years", f"{span[0]}..{span[1]}", int(start))
    compare = "same-period-last-year"
elif preset == "quarter":
    end = c4.selectbox("Quarter ending", list(reversed(months)), key="tb-qend", format_func=month_label)
    period = ("period", periods.format_range(periods.window(end, 3)), None)
    compare = c5.radio("Compare with", ["same-period-last-year", "previous-period"], horizontal=True,
                       key="tb-qcompare", format_func={"same-period-last-year": "Same quarter last year",
                                                       "previous-period": "Previous quarter"}.get)
else:
    ptype = c4.radio("Period", ["12", "range"], horizontal=True, key="tb-ptype",
                     format_func={"12": "12 months to", "range": "Any range"}.get)
    if ptype == "12":
        end = c5.selectbox("Ending", list(reversed(months)), key="tb-end", format_func=month_label)
        window = periods.window(end, 12)
    else:
        a, b = c5.select_slider("Months", months, value=(months[max(0, len(months) - 12)], months[-1]),
                                key="tb-range")
        window = periods.month_range(a, b)
    period = ("period", periods.format_range(window), None)
    compare = st.radio("Compare with", ["same-period-last-year", "previous-period"], horizontal=True,
                       key="tb-compare2", format_func={"same-period-last-year": "Same period last year",
                                                       "previous-period": "Previous period"}.get)

mode, value = grouping
when = ({"month": period[1]} if period[0] == "month" else {"period": period[1]} if period[0] == "period"
        else {"years": period[1], "year_start": period[2]})
with common.answer_or_stop():  # one line naming the problem
    doc = cache.area_table(ds.key, names=tuple(value) if mode == "areas" else (),
                           by=value if mode == "by" else None, within="layer=ward" if mode == "by" else None,
                           compare=compare, kind=kind, taxonomy_name="auto" if row_field else taxonomy_name,
                           rows=row_field, **when).document
common.show_warnings(doc["warnings"])
title = f"{taxonomy.kind_label(kind)} — {PRESETS[preset]}"
st.subheader(title)
st.caption(" · ".join(formatting.describe_columns(doc)))
display = formatting.display_frame(doc, previous=(preset != "areas"))
st.dataframe(display, hide_index=True, width="stretch", height=min(35 * (len(display) + 1) + 3, 900))
if doc.get("sentences"):  # the table question's sentences, as `hotspot table` and the pack say them
    st.markdown(formatting.sentences_markdown(doc["sentences"]))
base = common.slug(f"table-{preset}-{group}-{period[1]}-{kind}")
d = st.columns(2)
d[0].download_button("CSV", formatting.document_csv(doc), f"{base}.csv", "text/csv", key="tb-csv2", on_click="ignore")
d[1].download_button("XLSX", data=lambda: formatting.document_xlsx(doc, title=title), file_name=f"{base}.xlsx",
                     mime=XLSX, key="tb-xlsx2", on_click="ignore")
