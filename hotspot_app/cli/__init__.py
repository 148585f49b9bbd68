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


def main() -> None:
    """The console entry point (`hotspot`, ``python -m hotspot_app.cli``): run the command, then
    leave without tearing the interpreter down. Freeing a large command's objects one by one at
    exit cost 0.2 s of a 4 s national `clusters` run, after its outputs were written. What a
    normal exit does that matters still happens: stdout and stderr are flushed and the `atexit`
    handlers run. Only when no other thread is alive (else Python's own exit, which joins them)."""
    import atexit
    import os
    import sys
    import threading

    code: object = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # e.g. a closed pipe: let Python report it as it would
        sys.exit(code)
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    os._exit(code)
