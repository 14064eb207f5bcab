"""The programs under comparison: the C binary and any other port run as a command (isolated cwd,
staged input files, timeouts), simcore in-process, and the benchmark worker. The only wing of parity
that imports ``simcore`` (where simcore is run as a port); may import ``parity.errors`` and
``parity.evidence``; never compare or matrix.
"""
