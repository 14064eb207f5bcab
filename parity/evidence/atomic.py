"""Atomic file writes and a directory lock, shared by bundles, the ledger, plans and the index.

A file is written to a temporary sibling, flushed and fsync'ed, then renamed over its target
(rename is atomic on POSIX), and the directory is fsync'ed so the rename survives a crash.
A reader therefore sees the old bytes or the new bytes, never half of each; a process killed
mid-write leaves at most a ``.<name>.<pid>.tmp`` sibling that readers ignore.
`dir_lock` serialises writers with ``flock`` on the directory itself, so no lock file is left behind.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (temp + fsync + rename + dir fsync).

    With ``overwrite=False`` an existing target raises FileExistsError (checked by a hard link,
    which, like mkdir, fails atomically when the name is taken).
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    return target


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
