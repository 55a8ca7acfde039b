"""Large short-lived buffers go back to the system when freed, so memory stays flat.

glibc's malloc serves a block above its mmap threshold (128 KiB at start) with its own mapping
and unmaps it on free, but each time such a block is freed it raises the threshold to that
block's size (up to 32 MiB). The column-wise reader and importer make a stream of buffers of a
few MiB (8 MiB pieces of the file, the CSV text of a batch for ``COPY``): after the first is
freed the rest come from the heap, where the small objects made between them pin the pages, and
the process grows with the file (``hoso import`` of 1,000,000 rows: 323 MB of RSS after the first
tenth, 521 MB at its peak). A fixed threshold turns that adjustment off (peak 337 MB, flat).

``hoso audit`` does not call it: its peak RSS hardly moved (346 -> 338 MB at 1,000,000 rows)
and its CPU time rose by ~7 % (each fresh mapping is faulted in page by page).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_THRESHOLD = 128 * 1024  # glibc's own starting value


@cache
def map_large_buffers() -> bool:
    """Fix glibc's mmap threshold at its starting value (once per process); False where the
    C library has no ``mallopt`` (not glibc) or refuses it."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
