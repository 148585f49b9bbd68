"""Memory allocator settings for the `hotspot` command's process (set once, before the heavy
libraries load).

A command such as ``hotspot ingest --into`` or ``hotspot clusters`` on millions of rows allocates
and frees many arrays of megabytes each (a batch's columns, coordinates, codes). With glibc's
defaults each such array is mapped afresh from the kernel and returned when freed, so the kernel
zero-fills the same pages again and again: on a national year's ingest that was 7 of 27 CPU
seconds in the kernel (`benchmarks/RESULTS.md`, section e2e). So, for this short-lived process:

- glibc keeps freed memory for reuse (`mallopt`: a fixed 32 MiB mmap threshold, glibc's largest,
  no trimming of the heap's top, and a 256 MiB top pad), and
- Arrow allocates through the same allocator (``ARROW_DEFAULT_MEMORY_POOL=system``) rather than
  its bundled one, so both libraries reuse one pool of pages.

The price is a higher peak for some commands, since freed memory is kept rather than returned
(three national years: one ward's table 0.87 -> 1.44 GiB, the largest command 2.0 GiB; a decade
5.3 GiB, `benchmarks/RESULTS.md`); everything is returned to the system when the command ends. The user's own settings win: nothing is changed when any
``MALLOC_*`` variable or ``ARROW_DEFAULT_MEMORY_POOL`` is set in the environment, or off glibc.
The app's long-running server does not use this (it should give memory back between visits).
"""

from __future__ import annotations

import ctypes
import os
import platform

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

#: What `tune` asks of glibc (values are C ints).
SETTINGS = {_M_MMAP_THRESHOLD: 32 * 2**20, _M_TRIM_THRESHOLD: 2**31 - 1, _M_TOP_PAD: 256 * 2**20}


def user_chose() -> bool:
    """True when the environment already says how to allocate (then `tune` leaves it alone)."""
    return "ARROW_DEFAULT_MEMORY_POOL" in os.environ or any(k.startswith("MALLOC_") for k in os.environ)


def tune() -> bool:
    """Apply the settings above to this process; True when they were applied. Must run before
    pyarrow is imported for the Arrow pool to follow."""
    if user_chose() or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = all(libc.mallopt(param, value) == 1 for param, value in SETTINGS.items())
    except (OSError, AttributeError):
        return False
    if ok:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    return ok
