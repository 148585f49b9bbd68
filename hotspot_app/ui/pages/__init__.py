"""The app's pages, run by `streamlit_app.py` through st.navigation (menu order in `ui.PAGES`)."""
