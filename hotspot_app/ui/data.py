"""data page (being built)."""
import streamlit as st

from hotspot_app.ui import common

st.title("data")
ds = common.dataset()
common.banner(ds)
