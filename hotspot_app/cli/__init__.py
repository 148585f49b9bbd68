"""The `hotspot` command line (docs/design.md §5, docs/design.md). Thin: each command parses its arguments,
calls the question it answers and prints the result.

Contract for every command: ``--help``; exit 0 on success; bad input prints a one-line error
naming the problem on stderr and exits 2; ``--format json`` prints exactly one JSON document on
stdout and nothing else on stdout (progress and warnings go to stderr).

Commands live in modules by group (`data`, `paper`, `hotspots`, `where_next`, `evaluate`, `patrol`, `fires`, `admin`, `fetch`);
importing them registers them on `common.app`. Heavy libraries are imported inside each command,
so ``hotspot --help`` and the start of every command stay fast.
"""

from __future__ import annotations

from hotspot_app.cli import allocator

allocator.tune()  # before any command module can import pyarrow (see `allocator`)

# Imported in the order `hotspot --help` lists the commands (importing registers them).
from hotspot_app.cli import data  # noqa: F401, I001  demo, ingest, places
from hotspot_app.cli import paper  # noqa: F401  table, summary, rank, indicators, report
from hotspot_app.cli import hotspots  # noqa: F401  clusters, grid
from hotspot_app.cli import where_next  # noqa: F401  backtest, near-repeat, hot-streets, stability
from hotspot_app.cli import evaluate  # noqa: F401  evaluate
from hotspot_app.cli import patrol  # noqa: F401  patrol-plan
from hotspot_app.cli import fires  # noqa: F401  seasonal
from hotspot_app.cli import admin  # noqa: F401  users, audit
from hotspot_app.cli import fetch  # noqa: F401  fetch, monthly
from hotspot_app.cli.common import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover - console entry point
    app()
