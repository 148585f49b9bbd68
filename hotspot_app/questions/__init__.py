"""Layer 3, the questions: one function per user question (a table, patrol areas, an evaluation,
a load, the monthly cycle). Each decides its defaults, policies and warnings and returns plain
data; the CLI, the app pages and the report pack call it and only format (docs/design.md §2)."""
