"""`python -m hotspot_app.ui.serve` (`make app`): the start check first, then the first pages ready
before the server answers (issue 21 item 10, first paint).

Each check runs in a fresh Python process, as the app starts: the warm-up fills Streamlit's
process-wide caches, which a test process shares with every other test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_an_unsafe_start_is_refused_before_anything_is_loaded(tmp_path):
    """Serving every interface without sign-in: exit 2 with the preflight's one line, and no
    warm-up (the line saying what was loaded never appears)."""
    out = subprocess.run([sys.executable, "-m", "hotspot_app.ui.serve", "--server.address", "0.0.0.0"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "HOTSPOT_AUTH": "",
                              "HOTSPOT_WORKSPACE": str(tmp_path / "none.gpkg")})
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: the app will not start: serving beyond this machine")
    assert "hotspot:" not in out.stdout


def test_the_pages_imports_are_read_from_the_pages():
    from hotspot_app.ui import serve

    names = serve.page_modules()
    assert "hotspot_app.ui.cache" in names and "hotspot_app.render.maps" in names  # Overview's own imports
    assert "hotspot_app.ui.common" in names and "streamlit" in names


def test_the_first_visitors_overview_and_hotspots_come_from_the_cache_filled_at_start():
    """After the warm-up, the Overview and Hotspots of a fresh visitor are answered without
    computing again: with the questions they call made to fail, both pages still show their
    figures (the first visitor's view is the one warmed), while a view not warmed (another
    category) does compute, and so fails."""
    out = _run("""
        from hotspot_app.ui import serve
        line, imported = serve.warm()
        print(line)
        import hotspot_app.questions.rank as rank_q
        import hotspot_app.questions.patrol_areas as patrol_q
        def refuse(*a, **k):
            raise RuntimeError("computed again")
        rank_q.rank = rank_q.area_values = patrol_q.patrol_areas = refuse
        from streamlit.testing.v1 import AppTest
        for page in serve.WARM_PAGES:
            at = AppTest.from_file(str(serve.SCRIPT), default_timeout=300)
            at.switch_page(page)
            at.run()
            print(page, "errors:", [e.value for e in at.exception] + [e.value for e in at.error])
        at = AppTest.from_file(str(serve.SCRIPT), default_timeout=300)
        at.switch_page(serve.WARM_PAGES[0])
        at.run()
        at.multiselect(key="ov-cat").set_value(["asb"]).run()
        print("not warmed:", "computed again" in " ".join(str(e.value) for e in list(at.exception) + list(at.error)))
    """)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("hotspot: Synthetic demo borough (") and " incidents) ready in " in lines[0]
    assert "Overview and Hotspots" in lines[0]
    assert "hotspot_app/ui/pages/overview.py errors: []" in lines
    assert "hotspot_app/ui/pages/hotspots.py errors: []" in lines
    assert "not warmed: True" in lines


def test_a_workspace_that_cannot_be_read_is_left_to_the_page(tmp_path):
    """A broken workspace does not stop the start: one line says the data could not be loaded
    ahead, and the page shows the error (no path or secret in the start line)."""
    bad = tmp_path / "broken.gpkg"
    bad.write_bytes(b"not a geopackage")
    out = _run("""
        from hotspot_app.ui import serve
        print(serve.warm()[0])
    """, HOTSPOT_WORKSPACE=str(bad))
    assert out.returncode == 0, out.stderr[-3000:]
    line = out.stdout.strip().splitlines()[-1]
    assert line.startswith("hotspot: libraries ready in ") and "the data could not be loaded ahead" in line
    assert str(tmp_path) not in line


def test_the_start_says_what_is_ready_in_one_line_and_nothing_misleading(tmp_path):
    """`make app`'s output: the line saying what is ready, then Streamlit's own; no note about
    what the warm-up does by design, and no "restart streamlit" (the warm-up reads the
    configuration Streamlit read, with the options given)."""
    from app_server import running_app

    log = tmp_path / "serve.log"
    with running_app(log=log) as url:
        import requests

        assert requests.get(f"{url}/_stcore/health", timeout=10).text.strip() == "ok"
    text = log.read_text()
    ready = [line for line in text.splitlines() if line.startswith("hotspot: ")]
    assert len(ready) == 1 and ready[0].startswith("hotspot: Synthetic demo borough (") \
        and "Overview and Hotspots" in ready[0], text
    for note in ("No runtime found", "missing ScriptRunContext", "please restart streamlit"):
        assert note not in text, note
