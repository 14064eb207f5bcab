"""The project's one input check: only regular files (or symlinks to them) are read.

A FIFO, directory, device or socket is refused before any byte is read (:class:`InputFileError`,
exit 5), so no reader ever blocks on a FIFO. Files are opened, not slurped: streaming readers keep
streaming. Re-exported by :mod:`tracekit.atomic` (the one writer) so callers have one place to import.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO

__all__ = ["InputFileError", "check_input", "open_input", "read_input_bytes", "read_input_text", "read_input_yaml"]


class InputFileError(OSError):
    """An input path that is not a regular file (FIFO, directory, device, socket). Exit code 5."""

    exit_code = 5

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _refuse_input(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file; refusing to read it (it could block)"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is a device, not a regular file"


def check_input(path: str | os.PathLike) -> Path:
    """``path`` when it is a regular file (or a symlink to one). A missing file raises
    FileNotFoundError as ``open`` would; a FIFO, directory, device or socket InputFileError (exit 5)."""
    st = os.stat(path)
    why = _refuse_input(st.st_mode)
    if why:
        raise InputFileError(errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL, why, str(path))
    return Path(path)


def open_input(path: str | os.PathLike, mode: str = "rb", **kwargs) -> IO:
    """Open a regular file for reading (``mode`` "rb" or "r", ``open``'s keywords), refusing anything
    else before a byte is read; the check is made on the opened file, so nothing can swap it in."""
    if "w" in mode or "a" in mode or "+" in mode or "x" in mode:
        raise ValueError(f"open_input is for reading, not mode {mode!r}")
    check_input(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise InputFileError(errno.ENXIO, "is a socket, not a regular file", str(path)) from None
        raise
    try:
        why = _refuse_input(os.fstat(fd).st_mode)
        if why:
            raise InputFileError(errno.EINVAL, why, str(path))
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def read_input_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of the regular file ``path`` (see :func:`open_input`)."""
    with open_input(path) as fh:
        return fh.read()


def read_input_text(path: str | os.PathLike, *, encoding: str = "utf-8", errors: str = "strict") -> str:
    """The text of the regular file ``path`` (see :func:`open_input`)."""
    return read_input_bytes(path).decode(encoding, errors)


def read_input_yaml(path: str | os.PathLike):
    """A user's YAML file (a dialect, tolerance rules), read as any input is; text that is not valid
    YAML or not text at all is TraceParseError (exit 5). Returns what ``yaml.safe_load`` returns."""
    import yaml

    from tracekit.errors import TraceParseError

    try:
        return yaml.safe_load(read_input_text(path))
    except yaml.YAMLError as exc:
        raise TraceParseError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise TraceParseError(f"{path}: not a text file") from None

