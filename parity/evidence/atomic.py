"""Atomic file writes and a directory lock, shared by bundles, the ledger, plans and the index.

A file is written by the project's one writer (:mod:`tracekit.atomic`) to a temporary sibling,
flushed and fsync'ed, then renamed over its target (rename is atomic on POSIX), and the directory is
fsync'ed so the rename survives a crash. A reader therefore sees the old bytes or the new bytes,
never half of each; a process killed mid-write leaves at most a ``.<name>.<pid>.<rand>.tmp``
sibling that readers ignore.
`dir_lock` serialises writers with ``flock`` on the directory itself, so no lock file is left behind.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from tracekit.atomic import fsync_dir, write_atomic


_fsync_dir = fsync_dir   # kept for the bundle module


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically and durably (temp + fsync + rename + dir fsync), with the
    project's one writer (:func:`tracekit.atomic.write_atomic`).

    With ``overwrite=False`` an existing target raises FileExistsError (OutputExistsError; the name
    is taken with a no-replace rename, which fails atomically when it exists).
    """
    return write_atomic(path, data, overwrite=overwrite, durable=True)


def atomic_write_text(path: str | os.PathLike, text: str, *, overwrite: bool = True) -> Path:
    """`atomic_write_bytes` for UTF-8 text (newlines written as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


@contextlib.contextmanager
def dir_lock(directory: str | os.PathLike) -> Iterator[None]:
    """Exclusive advisory lock on a directory (blocks until free), released on exit or death."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock
