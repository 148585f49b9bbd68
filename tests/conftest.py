"""Shared fixtures.

``demo``: the synthetic demo borough (``hotspot_app.demo.load``), generated once per test
session into a temporary folder. Treat its tables as read-only (``.copy()`` before changing).
``realdata``: ``../shared/realdata`` relative to the repository root; skips when absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    from hotspot_app.io import demo as demo_mod

    return demo_mod.load(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    path = (ROOT / ".." / "shared" / "realdata").resolve()
    if not path.is_dir():
        pytest.skip("../shared/realdata is not available")
    return path
