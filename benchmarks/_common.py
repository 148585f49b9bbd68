"""Shared benchmark plumbing: machine/version facts, peak-memory measurement, and writing one
section of benchmarks/RESULTS.md (each benchmark owns its section between markers, so scripts
can be re-run independently without clobbering each other)."""

from __future__ import annotations

import datetime as _dt
import multiprocessing as _mp
import os
import platform
import re
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEach section is written by its script (`python benchmarks/<name>.py`); `make bench` runs them all.\n"


def machine() -> str:
    """One line: CPU, cores, RAM, Python and key library versions, date."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        mem = "?"
    libs = []
    for name in ("numpy", "pandas", "geopandas", "shapely", "pyogrio", "pyproj", "pyarrow", "scikit-learn",
                 "folium", "streamlit"):
        try:
            libs.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return (f"{cpu}, {os.cpu_count()} cores, {mem}; Python {platform.python_version()}; "
            f"{', '.join(libs)}; {_dt.date.today().isoformat()}")


def _child(conn, func, args):
    import resource

    t0 = time.perf_counter()
    out = func(*args)
    dt = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send((dt, peak_kb / 1024, out))
    conn.close()


def measure(func: Callable, *args: Any) -> tuple[float, float, Any]:
    """Run `func(*args)` in a fresh process; return (seconds, peak RSS MiB of that process, result).

    A fresh (forked) process per measurement keeps peak memory of one method from leaking into
    the next. The peak includes the process's baseline (interpreter + imports + inputs), which is
    the same for every method measured in one run, so differences are comparable.
    """
    ctx = _mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(child, func, args))
    proc.start()
    dt, peak, out = parent.recv()
    proc.join()
    return dt, peak, out


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section `name` of RESULTS.md with `markdown`."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
