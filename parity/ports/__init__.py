"""The programs under comparison: the C binary and any other port run as a subprocess (isolated cwd,
staged input files, timeouts), simcore in-process, and the benchmark worker. May import
``parity.errors``, ``parity.images`` and ``simcore`` (only where simcore is run as a port); never
compare or matrix.
"""
