"""How the `hotspot` process ends (hotspot_app/cli/__init__.py `main`): it leaves without tearing
the interpreter down, so nothing a normal exit does for the user may be lost: the whole JSON
document reaches a pipe, the exit code and the one-line error stand, `atexit` handlers run, and a
thread still working is waited for. Each case is a fresh process, as scheduled jobs run it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np


def _run(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=300)


def _main(*args: str) -> str:
    return f"import sys; sys.argv = ['hotspot', *{list(args)!r}]\nfrom hotspot_app.cli import main\nmain()"


def test_a_json_document_reaches_the_pipe_whole(tmp_path):
    rng = np.random.default_rng(1)
    rows = [("Anti-social behaviour", "2024-01", 450000 + dx, 500000 + dy) for dx, dy in rng.integers(0, 40, (40, 2))]
    rows += [("Anti-social behaviour", "2024-02", 452000 + dx, 502000 + dy) for dx, dy in rng.integers(0, 40, (30, 2))]
    rows += [("Anti-social behaviour", "2024-03", 460000 + 900 * k, 510000) for k in range(3)]  # noise
    csv = tmp_path / "asb.csv"
    csv.write_text("category,month,easting,northing\n" + "".join(f"{c},{m},{x},{y}\n" for c, m, x, y in rows))
    res = _run(_main("clusters", str(csv), "--eps-m", "100", "--min-samples", "15", "--format", "json"), tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [c["count"] for c in doc["clusters"]] == [40, 30]
    assert doc["n_noise"] == 3


def test_an_error_keeps_its_code_and_line_and_atexit_handlers_run(tmp_path):
    res = _run("import atexit; atexit.register(lambda: print('handler ran'))\n"
               + _main("clusters", str(tmp_path / "missing.csv")), tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing.csv'}: no such file or folder"]
    assert res.stdout == "handler ran\n"


def test_a_thread_still_working_is_waited_for(tmp_path):
    done = tmp_path / "written-by-the-thread"
    res = _run("import threading, time\n"
               f"threading.Thread(target=lambda: (time.sleep(0.5), open({str(done)!r}, 'w').write('x'))).start()\n"
               + _main("--help"), tmp_path)
    assert res.returncode == 0, res.stderr
    assert done.read_text() == "x"
