"""Files in and out: SMV, PGM, hkl/Fdump, source files, the C's default outputs, the C's stdout block
and printf-style number format, image statistics. May import ``simcore.errors``, ``simcore.vec`` and
``tracekit`` (atomic writes); nothing from argv/setup/kernel at import time.
"""
