"""Keep freed memory in the process heap (glibc mallopt) so the engine's temporaries are reused
instead of being returned to the OS and page-faulted back on the next chunk.

Measured on the 2-core EPYC: the float32 lattice factor of a 256K-evaluation chunk 0.78 → 0.36 ms,
the heavy mosaic/phi/divergence case ~25 % faster. Peak memory is unchanged; RSS simply stays at
its peak. Applied once, on Linux/glibc only; set SIMCORE_NO_MALLOPT=1 to skip it.
"""
from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = False


def apply() -> bool:
    """Raise glibc's mmap and trim thresholds; returns whether it was applied."""
    global _applied
    if _applied or os.environ.get("SIMCORE_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return _applied
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1) == 1
    except (OSError, AttributeError):
        ok = False
    _applied = ok
    return ok
