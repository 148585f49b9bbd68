"""The `hotspot` process keeps freed memory for reuse (hotspot_app/cli/allocator.py): Arrow
allocates through the system allocator glibc was tuned for, and a user's own allocator settings
are left alone. Each case runs in a fresh interpreter (the settings are made once, at import)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = ("import hotspot_app.cli, hotspot_app.cli.allocator as a, pyarrow as pa; "
         "print(pa.default_memory_pool().backend_name, a.user_chose())")


def _probe(**env) -> str:
    clean = {k: v for k, v in os.environ.items()
             if k != "ARROW_DEFAULT_MEMORY_POOL" and not k.startswith("MALLOC_")}
    res = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True,
                         text=True, check=True)
    return res.stdout.strip()


def test_the_command_allocates_arrow_memory_through_the_tuned_system_allocator():
    assert _probe() == "system True"  # (True: the command itself set the pool for pyarrow)


def test_a_users_arrow_pool_wins():
    assert _probe(ARROW_DEFAULT_MEMORY_POOL="mimalloc") == "mimalloc True"


def test_a_users_malloc_settings_leave_both_allocators_alone():
    default = subprocess.run([sys.executable, "-c", "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"],
                             capture_output=True, text=True, check=True,
                             env={k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}).stdout.strip()
    assert _probe(MALLOC_ARENA_MAX="2") == f"{default} True"
    assert default != "system"  # (else this case could not tell the difference)
