"""Files in and out: SMV, PGM, hkl/Fdump, source files, the C's default outputs and image statistics.
May import ``simcore.noise`` (the noise image), ``simcore.cfmt`` and ``simcore.errors``; nothing
from argv, setup or kernel.
"""
