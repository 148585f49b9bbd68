"""Layer 3: one function per user question (docs/design.md §2, "Decisions and their homes").

Each question is ONE function that decides its defaults and policies (presets, cell size,
boundary kind, table engine, top N, periods ...), gathers every warning into one list, and
returns plain data (a dataclass or a dict). The faces -- the `hotspot` CLI, the app's pages
(through `ui.cache`, which only caches) and the report pack -- call these and only format, so
the same question gets the same answer everywhere (checked by ``tests/test_agreement.py``).

Modules: `boundaries` (which kind of boundary a file holds), `table` (an area table),
`summary` (the area summary sentences), `rank` (rankings, shares, concentration),
`patrol_areas` (patrol areas: presets, names, harm, warnings; their forecast accuracy), `grid`
(grid counts, KDE, Gi*), `patrol_plan`, `indicators`, `fires` (the fire summary and
secondary-fire clusters), `trend` (incidents per month), `monthly` (the monthly cycle: fetch,
load, pack), `load` (loading into a workspace).
"""
