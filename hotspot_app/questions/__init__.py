"""Layer 3, the questions: one function per user question (a table, patrol areas, an evaluation,
a load, the monthly cycle; docs/design.md §2). Each decides its defaults and policies, gathers
every warning into one list and returns plain data; the faces (the `hotspot` CLI, the app's pages,
the report pack) call it and only format."""
