"""tables page (being built)."""
import streamlit as st

from hotspot_app.ui import common

st.title("tables")
ds = common.dataset()
common.banner(ds)
