"""Layer 3: one function per user question (docs/design.md §2): each decides its defaults and
policies, gathers every warning into one list and returns plain data; the faces (the `hotspot`
CLI, the app's pages, the report pack) call it and only format. `load`: loading into a workspace.
"""
