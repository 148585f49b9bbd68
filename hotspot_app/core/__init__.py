"""Layer 1, the core: computations on (Geo)DataFrames in EPSG:27700 metres.

Every module here takes and returns (Geo)DataFrames or plain data, never mutates its inputs,
never writes a file and never imports Streamlit; warnings are returned with results. The
foundation modules (`errors`, `settings`, `params`, `measures`, `periods`, `taxonomy`, `schema`,
`selection`, `locations`) are used by everything above; see docs/design.md for the layer map.
"""
