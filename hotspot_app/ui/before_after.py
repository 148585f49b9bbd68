"""before_after page (being built)."""
import streamlit as st

from hotspot_app.ui import common

st.title("before_after")
ds = common.dataset()
common.banner(ds)
