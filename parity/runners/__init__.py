"""Runners that produce images for parity: the C program and simcore (subprocess or in-process).

This sub-package is the only place in `parity` that imports `simcore` (in-process runner).
"""
