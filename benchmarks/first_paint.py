"""First paint after a fresh start (issue 21 item 10): the Overview and Hotspots pages in a real
browser (Debian chromium, network closed) on the real Cleveland police.uk data -- all 35 months
(about 269,000 incidents) in a workspace with the May 2024 wards -- each timed from the first
navigation to a freshly started server (empty caches, as after a restart) until the app is idle
and every map has drawn. Baseline: the same on a bare Streamlit page with a title.

The app starts as `make app` starts it (`python -m hotspot_app.ui.serve`: the pages' libraries,
the data and the Overview and Hotspots default views are made ready before the server answers),
so the table also gives the start itself: seconds from launching the process until the server
answers its health check, then the first navigation, timed the moment it answers.

Target: Overview and Hotspots <= 3 s after a fresh start.
Run: `.venv/bin/python benchmarks/first_paint.py` (writes the "first_paint" section of RESULTS.md).
`--against DIR` times, in the same run and alternating with this checkout, the app of another
checkout (e.g. `git archive main | tar -x -C DIR`, with its static/vendor): a paired comparison
that holds on a loaded machine.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, write_section  # noqa: E402
from app_pages import ARGS, CHROMIUM, REAL, settle, workspace  # noqa: E402
from app_server import running_app  # noqa: E402

RUNS = 3
PAGES = [("", "Overview"), ("hotspots", "Hotspots")]


def first_visit(url: str, slug: str) -> float:
    """Seconds from the first navigation to `slug` of a fresh server until it has settled."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                   else r.abort())
        t0 = time.perf_counter()
        page.goto(f"{url}/{slug}")
        seconds = settle(page, t0)
        b.close()
    return seconds


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--against", type=Path, help="another checkout's app, timed alternately with this one")
    ap.add_argument("--runs", type=int, default=RUNS)
    args = ap.parse_args()
    if not (REAL / "police_cleveland").is_dir():
        raise SystemExit("../shared/realdata is not available")
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {}
    starts: dict[str, list[float]] = {}
    apps = [("", None, {})]
    if args.against:
        other = args.against.resolve()
        apps.append((" (before: " + other.name + ")", other / "streamlit_app.py", {"PYTHONPATH": str(other)}))
    with tempfile.TemporaryDirectory() as tmp:
        ws, n = workspace(Path(tmp))
        for slug, title in PAGES:
            for i in range(args.runs):
                for suffix, script, env in (apps if i % 2 == 0 else apps[::-1]):
                    t0 = time.perf_counter()
                    with running_app(env={"HOTSPOT_WORKSPACE": str(ws), **env}, script=script) as url:
                        starts.setdefault(title + suffix, []).append(time.perf_counter() - t0)
                        times.setdefault(title + suffix, []).append(first_visit(url, slug))
        bare = Path(tmp) / "bare.py"
        bare.write_text("import streamlit as st\nst.title('Bare page')\nst.write('x' * 60)\n")
        for _ in range(args.runs):
            t0 = time.perf_counter()
            with running_app(script=bare) as url:
                starts.setdefault("bare Streamlit page (baseline)", []).append(time.perf_counter() - t0)
                times.setdefault("bare Streamlit page (baseline)", []).append(first_visit(url, ""))
    import playwright
    import streamlit
    lines = ["## First paint after a fresh start (benchmarks/first_paint.py)", "",
             f"Machine: {machine()}; load average at start {load:.1f}; Streamlit {streamlit.__version__}, "
             f"Playwright {getattr(playwright, '__version__', '?')}, Chromium 156; "
             f"{time.strftime('%Y-%m-%d')}.", "",
             f"Real Cleveland police.uk street data, all 35 months ({n:,} incidents), May 2024 wards. Each run "
             "starts the server afresh as `make app` does (`python -m hotspot_app.ui.serve`: libraries, data and "
             "the Overview and Hotspots default views made ready before the server answers; a plain "
             "`streamlit run` for the bare page and the checkout compared), opens a new browser the moment "
             "the server answers its health check and times the first navigation to the page until the app "
             f"is idle and every map has drawn; {args.runs} runs per page"
             + (f", alternating with the app of {args.against.name} (before the change) in the same run"
                if args.against else "") + ". Target: <= 3 s. The start column is the other side of the "
             "trade: the warm-up moves the first visitor's wait to the start (launch to ready).", "",
             "| page | first navigation, median s | best s | worst s | <= 3 s | start to ready, median s |",
             "|---|---:|---:|---:|---|---:|"]
    for title, runs in times.items():
        ok = "" if "baseline" in title or "before" in title else ("yes" if statistics.median(runs) <= 3 else "NO")
        lines.append(f"| {title} | {statistics.median(runs):.2f} | {min(runs):.2f} | {max(runs):.2f} | {ok} | "
                     f"{statistics.median(starts[title]):.2f} |")
    text = "\n".join(lines)
    print(text)
    write_section("first_paint", text)


if __name__ == "__main__":
    main()
