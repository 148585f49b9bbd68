"""`python -m hotspot_app.ui.serve [streamlit options]`: start the app (``make app``) with its first
page ready.

Streamlit runs the app's script only when a browser connects, so the first person after a restart
waited for the libraries to import and the data to load (about 2 of the 5-6 s of the first
Overview on the real Cleveland workspace). This runs ``streamlit run streamlit_app.py`` with the same options in
the same process and, once Streamlit has read its configuration and before its server starts,
makes ready:

1. the modules the app's script and pages import (read from their own ``import`` lines, so a new
   page is covered without editing this file);
2. the data source a fresh session opens (`source.default_key`: the demo, or ``HOTSPOT_WORKSPACE``)
   into the app's shared cache (`cache.load`, the call every page makes), with one line saying what
   was loaded and how long it took;
3. the pages people open first (`WARM_PAGES`: Overview, where the app opens, and Hotspots, the
   patrol teams' page), each run once headless as a fresh visitor sees it (Streamlit's own
   `AppTest` runner, before the server exists), so their default view's figures are in the app's
   shared caches. Only the cached answers are kept; nothing is written.

So "You can now view your Streamlit app" appears when the app can answer at once. A failure while
warming is reported in one line and changes nothing else: the page loads the data itself and shows
the error, as it always did. The start check (`preflight`) runs first; a configuration unsafe to
serve exits 2 without starting.
"""

from __future__ import annotations

import ast
import importlib
import logging
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "streamlit_app.py"
#: The pages run once at start (their default view's answers cached): where the app opens and the
#: patrol teams' page. Each costs its first-view time at start (about 1 s on a force's 35 months).
WARM_PAGES = ("hotspot_app/ui/pages/overview.py", "hotspot_app/ui/pages/hotspots.py")


def page_modules() -> list[str]:
    """The modules the app's script and pages import (``import x`` / ``from x import y``), in order
    of first appearance."""
    from hotspot_app.ui import PAGES

    out: list[str] = []
    for path in [SCRIPT, *(ROOT / p for p, _, _ in PAGES)]:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name not in out:
                    out.append(name)
    return out


def warm() -> tuple[str, list]:
    """Import the pages' modules and load the default data source into the app's shared cache,
    then run `WARM_PAGES`. Returns (one line saying what happened, the modules imported here).
    Never raises: a failure is left for the page to show."""
    # Streamlit notes each cached function met outside a page run ("No runtime found", "missing
    # ScriptRunContext"): expected while warming, so those two notes are dropped until the end
    quiet = _Quiet()
    for name in _NOTES:
        logging.getLogger(name).addFilter(quiet)
    try:
        return _warm()
    finally:
        for name in _NOTES:
            logging.getLogger(name).removeFilter(quiet)


def _warm() -> tuple[str, list]:
    t0 = time.perf_counter()
    before = set(sys.modules)
    for name in page_modules():
        try:
            importlib.import_module(name)
        except ImportError:  # `from package import name` where name is not a module: the package is
            continue         # imported already
    imported = [m for n, m in list(sys.modules.items()) if n not in before]
    t1 = time.perf_counter()
    try:
        from hotspot_app.ui import cache, source

        ds = cache.load(source.default_key())
    except Exception:  # noqa: BLE001 - the page loads it again and shows why, without secrets here
        return (f"hotspot: libraries ready in {t1 - t0:.1f} s; the data could not be loaded ahead "
                "(the first page will say why)"), imported
    t2 = time.perf_counter()
    shown = warm_pages()
    return (f"hotspot: {ds.label} ({len(ds.incidents):,} incidents) ready in "
            f"{time.perf_counter() - t0:.1f} s (libraries {t1 - t0:.1f} s, data {t2 - t1:.1f} s, "
            f"{shown} {time.perf_counter() - t2:.1f} s)"), imported


#: Streamlit's loggers for the notes a cached function gives outside a page run.
_NOTES = ("streamlit.runtime.caching.cache_data_api", "streamlit.runtime.scriptrunner_utils.script_run_context")


class _Quiet(logging.Filter):
    """Drops Streamlit's "no runtime" / "missing ScriptRunContext" notes (the warm-up does exactly
    what they describe); every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return "No runtime found" not in text and "missing ScriptRunContext" not in text


def warm_pages(pages: tuple[str, ...] = WARM_PAGES) -> str:
    """Run `pages` once each as a fresh visitor's first view (default widgets, no address
    settings), before the server starts: their cached answers stay for the first real visitor.
    Returns the pages' names as said in the start line; a page that fails is left to show its
    error to its visitor."""
    from streamlit.testing.v1 import AppTest

    from hotspot_app.ui import PAGES

    titles = {path: title for path, title, _ in PAGES}
    done = []
    for path in pages:
        try:
            at = AppTest.from_file(str(SCRIPT), default_timeout=600)
            at.switch_page(path)
            at.run()
        except Exception:  # noqa: BLE001 - the page shows its own error when visited
            continue
        if not at.exception:
            done.append(titles.get(path, path))
    return " and ".join(done) or "no page"


def register_components(modules: list, timeout: float = 120.0) -> None:
    """Once the server's runtime exists, register the custom components declared by `modules`
    (the maps' streamlit-folium): Streamlit registers a component only when it is declared inside
    a page run, and a module imported by the warm-up is not imported again by the page. The
    runtime exists before the server accepts a connection."""
    from streamlit import runtime
    from streamlit.components.v1.custom_component import CustomComponent

    deadline = time.monotonic() + timeout
    while not runtime.exists():
        if time.monotonic() > deadline:
            return
        time.sleep(0.005)
    registry = runtime.get_instance().component_registry
    for module in modules:
        for value in list(getattr(module, "__dict__", {}).values()):
            if isinstance(value, CustomComponent) and registry.get_component(value.name) is None:
                registry.register_component(value)


def main(argv: list[str] | None = None) -> int:
    from hotspot_app.ui import preflight

    args = list(sys.argv[1:] if argv is None else argv)
    code = preflight.main(args)
    if code:
        return code
    from streamlit.web import bootstrap, cli

    start = bootstrap.run

    def warm_then_start(*a, **k):
        # after `streamlit run` has read its configuration (files beside the script, and the
        # options given here), before the server exists: the warm-up reads the same settings
        line, imported = warm()
        print(line, flush=True)
        threading.Thread(target=register_components, args=(imported,), name="hotspot-components",
                         daemon=True).start()
        return start(*a, **k)

    bootstrap.run = warm_then_start
    sys.argv = ["streamlit", "run", str(SCRIPT), *args]
    return cli.main()


if __name__ == "__main__":  # pragma: no cover - `make app`
    sys.exit(main())
