"""Result files out, atomically: a temporary sibling and a rename, never half-written, never
replacing an existing file unless asked. (Also importable from :mod:`parity.images.io`.)"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from parity.errors import ParityUsageError

__all__ = ["write_output_atomic", "write_json_atomic"]


def write_output_atomic(path: str | os.PathLike, data: bytes | str, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` with the project's one writer (:func:`tracekit.atomic.write_atomic`):
    never half-written, through symlinks, into devices and FIFOs the way the C's fopen would, never
    replacing a device or folder, new files 0666 less the umask.

    An existing file is replaced only with ``overwrite=True``; otherwise, and when the folder does not
    exist, ParityUsageError (exit 2): the output path is an argument. Anything else that cannot be
    written is :class:`tracekit.atomic.OutputError` (exit 6).
    """
    from tracekit.atomic import OutputExistsError, write_atomic

    path = Path(path)
    if not Path(os.path.realpath(path)).parent.is_dir():
        raise ParityUsageError(f"{path}: folder {path.parent} does not exist")
    try:
        return write_atomic(path, data, overwrite=overwrite)
    except OutputExistsError:
        raise ParityUsageError(f"{path}: exists; choose another path or allow overwriting (--force)") from None


def _json_default(value: object):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite_only(value: object):
    """Strict JSON has no NaN/Inf: write them as the string "n/a"."""
    if isinstance(value, dict):
        return {k: _finite_only(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_only(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return "n/a"
    return value


def write_json_atomic(path: str | os.PathLike, obj: object, *, overwrite: bool = False) -> Path:
    """Write ``obj`` as indented JSON (numpy scalars/arrays converted, NaN/Inf as "n/a") via
    :func:`write_output_atomic`."""
    text = json.dumps(_finite_only(obj), indent=2, default=_json_default, allow_nan=False) + "\n"
    return write_output_atomic(path, text, overwrite=overwrite)
