"""Atomic file writes: a temp file in the target's folder, then a rename. Never half-written,
never overwritten silently."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tracekit.errors import TraceUsageError


def write_text_atomic(path: str | Path, text: str, *, overwrite: bool = False) -> Path:
    """Write `text` to `path` via a temp sibling + os.replace. Refuses an existing file
    (TraceUsageError, exit 2) unless `overwrite`."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise TraceUsageError(f"refusing to overwrite existing file {path}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_lines(lines: list[str], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write trace lines (emit_lines output) with a final newline, atomically."""
    return write_text_atomic(path, "\n".join(lines) + "\n", overwrite=overwrite)
