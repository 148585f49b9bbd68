"""hotspot_app — the Streamlit app (`make app`). Thin pages over the core; see hotspot_app/ui."""

from pathlib import Path

import streamlit as st

from hotspot_app.ui import PAGES, signin
from hotspot_app.ui.common import BASEMAPS, keep_settings, print_styles, share_settings

st.set_page_config(page_title="Community safety hotspots", page_icon="🗺️", layout="wide")

signin.gate()  # shared deployments: sign in first (off for the single-user default)
_ROOT = Path(__file__).resolve().parent
pages = [st.Page(str(_ROOT / path), title=title, icon=icon, default=(i == 0))
         for i, (path, title, icon) in enumerate(PAGES)]
nav = st.navigation(pages)
print_styles()  # printing a page: no sidebar or controls, tables fit the page
with st.sidebar:
    # Police and council networks often block tile servers: "No basemap" keeps every layer.
    st.selectbox("Basemap", list(BASEMAPS), key="basemap", format_func=BASEMAPS.get,
                 help="Background map tiles. Choose 'No basemap' where tile servers are blocked.")
keep_settings()  # a page's choices stay across pages and come in with a shared address
try:
    nav.run()
finally:
    share_settings(Path(str(nav.url_path or "")).name or "overview")
