"""Start the real app as `make app` does (`python -m hotspot_app.ui.serve`, headless: `streamlit run
streamlit_app.py` with the warm-up beside it) on a free port for the server and browser tests; stop
it afterwards. Another script (a bare page for a baseline) runs with plain `streamlit run`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(env: dict[str, str] | None = None, timeout: float = 300.0,
                log: Path | None = None, script: Path | None = None,
                address: str = "127.0.0.1", by_hand: bool = False) -> Iterator[str]:
    """Yield the base URL of a running app (`script`, default the project's streamlit_app.py,
    run from its folder, served on `address`); the process is terminated on exit. `by_hand`:
    plain `streamlit run streamlit_app.py`, as someone starting it without `make app` (no
    preflight, no warm-up)."""
    port = free_port()
    script = Path(script or ROOT / "streamlit_app.py")
    launcher = ["-m", "hotspot_app.ui.serve"] if script.resolve() == ROOT / "streamlit_app.py" and not by_hand else [
        "-m", "streamlit", "run", str(script)]
    cmd = [sys.executable, *launcher,
           "--server.headless", "true", "--server.port", str(port), "--server.address", address,
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    full_env = {**os.environ, **(env or {})}
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=script.parent, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}" + (f"; see {log}" if log else ""))
            try:
                if requests.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()
