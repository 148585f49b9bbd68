"""hotspot_app — the Streamlit app (`make app`). Thin pages over the core; see hotspot_app/ui."""

from pathlib import Path

import streamlit as st

from hotspot_app.ui import PAGES

st.set_page_config(page_title="Community safety hotspots", page_icon="🗺️", layout="wide")

_ROOT = Path(__file__).resolve().parent
pages = [st.Page(str(_ROOT / path), title=title, icon=icon, default=(i == 0))
         for i, (path, title, icon) in enumerate(PAGES)]
st.navigation(pages).run()
