"""The project's one file writer, its one folder publisher and its one input check.

tracekit is the lowest layer (simcore, parity and cli import it; it imports none of ours), so every
output of every package goes through :func:`write_atomic` and every folder a tool builds through
:func:`atomic_dir`: the rules below hold everywhere, fixed once.

Writing a file, by what the path is (the C program ``fopen``\\ s the path; we do what it would, minus
the half-written file):

* a new name or a regular file: the bytes go to a hidden sibling ``.NAME.<pid>.<rand>.tmp``, then one
  rename, so a reader sees the old bytes or the new ones, never half. An existing file is replaced only
  with ``overwrite`` (else :class:`OutputExistsError`, exit 2) and keeps its permission bits; a new file
  gets 0666 less the umask, as ``fopen`` gives it. A read-only existing file is refused like ``fopen``.
* a symlink: followed to its target, as ``fopen`` does (the link stays a link; a dangling one creates
  its target).
* a character device (``/dev/null``, a terminal) and the stream paths ``/dev/stdout``, ``/dev/fd/N``,
  ``/proc/...``: written in place, never replaced by a regular file. A full device (``/dev/full``)
  is ENOSPC: :class:`OutputError` (exit 6), cleanly.
* a FIFO: written in place when a reader holds it open; with no reader :class:`OutputError` (the C
  would block for ever).
* a directory, a socket or a block device: :class:`OutputError`, nothing written.

``durable=True`` (evidence) also fsyncs the file and its folder, so the rename survives a crash.

Folders (:func:`atomic_dir`): built as a hidden ``.NAME.<pid>.partial`` sibling and renamed into place
once complete; an exception (Ctrl-C, SIGTERM turned into an exception) removes it, a SIGKILL leaves
only the hidden sibling, never a half-filled folder under the name asked for.

Inputs (:func:`check_input`, :func:`open_input`, :func:`read_input_bytes`) live in
:mod:`tracekit.inputs` and are re-exported here.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Iterator

from tracekit.inputs import (InputFileError, check_input, open_input, read_input_bytes,  # noqa: F401 - re-exported
                             read_input_text)

__all__ = ["OutputError", "OutputExistsError", "InputFileError", "write_atomic", "check_output", "write_text_atomic",
           "write_lines", "copy_atomic", "atomic_dir", "publish_dir", "rename_noreplace", "fsync_dir",
           "new_file_mode", "check_input", "open_input", "read_input_bytes", "read_input_text"]

_STREAM_PATHS = ("/proc/", "/dev/fd/", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty")


class OutputError(OSError):
    """An output path that cannot be written (directory, socket, FIFO without a reader, full or
    read-only device, missing folder, permission). Exit code 6. ``str()`` is one line."""

    exit_code = 6

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


class OutputExistsError(OutputError, FileExistsError):
    """The target exists and overwriting was not allowed (exit 2: choose another path or allow it)."""

    exit_code = 2

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


# ---- writing --------------------------------------------------------------------------------------
def _umask() -> int:
    """The process umask now (read from /proc without changing it; else set and restore it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode ``fopen(path, "w")`` gives a new file: 0666 less the umask (read at each write, so a
    process that changes its umask is followed)."""
    return 0o666 & ~_umask()


def _fail(exc: OSError, path) -> OutputError:
    if isinstance(exc, OutputError):
        return exc
    return OutputError(exc.errno or errno.EIO, exc.strerror or str(exc), str(path))


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view):]


def _kind(mode: int) -> str | None:
    """Why a non-regular target is refused, or None when the C's fopen target is written in place."""
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISSOCK(mode):
        return "is a socket; refusing to write to it"
    if stat.S_ISBLK(mode):
        return "is a block device; refusing to write to it"
    return None


def _write_in_place(path: Path, payload: bytes, mode: int) -> Path:
    """A character device, FIFO or stream path: opened and written, never replaced or created."""
    refused = _kind(mode)
    if refused:
        raise OutputError(errno.EISDIR if stat.S_ISDIR(mode) else errno.EPERM, refused, str(path))
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    fifo = stat.S_ISFIFO(mode)
    if stat.S_ISREG(mode):
        flags |= os.O_TRUNC
    try:
        fd = os.open(path, flags | (os.O_NONBLOCK if fifo else 0))
    except OSError as exc:
        if fifo and exc.errno == errno.ENXIO:
            raise OutputError(errno.ENXIO, "FIFO has no reader (writing would block)", str(path)) from None
        raise _fail(exc, path) from None
    try:
        if fifo:
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        _write_all(fd, payload)
    except OSError as exc:
        raise _fail(exc, path) from None
    finally:
        os.close(fd)
    return path


def _tmp_name(real: Path) -> Path:
    return real.with_name(f".{real.name[:180]}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write_atomic(path: str | os.PathLike, data: bytes | bytearray | memoryview | str, *,
                 overwrite: bool = True, durable: bool = False) -> Path:
    """Write ``data`` (str as UTF-8) to ``path`` by the module rules; returns ``path``.

    Raises :class:`OutputExistsError` (an existing file without ``overwrite``) or
    :class:`OutputError` (anything else that cannot be written), both OSError with errno and filename.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None                       # absent, or a dangling symlink (its target is created)
    except OSError as exc:
        raise _fail(exc, target) from None
    if st is not None and (not stat.S_ISREG(st.st_mode) or os.path.abspath(target).startswith(_STREAM_PATHS)):
        return _write_in_place(target, payload, st.st_mode)
    if st is not None and not overwrite:
        raise OutputExistsError(errno.EEXIST, "exists; refusing to overwrite it", str(target))
    real = Path(os.path.realpath(target))
    if not real.parent.is_dir():
        raise OutputError(errno.ENOENT, f"no such directory {real.parent}", str(target))
    if st is not None and not os.access(real, os.W_OK):
        raise OutputError(errno.EACCES, "permission denied (read-only file)", str(target))
    tmp = _tmp_name(real)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise _fail(exc, target) from None
    try:
        try:
            os.fchmod(fd, stat.S_IMODE(st.st_mode) if st is not None else new_file_mode())
            _write_all(fd, payload)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, real)
        else:
            rename_noreplace(tmp, real)
    except FileExistsError:
        raise OutputExistsError(errno.EEXIST, "exists; refusing to overwrite it", str(target)) from None
    except OSError as exc:
        raise _fail(exc, target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    if durable:
        fsync_dir(real.parent)
    return target


def check_output(path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Fail fast, before any work, when ``path`` could not be written by :func:`write_atomic`: a
    directory, socket or block device, a missing folder, a read-only file, or an existing file without
    ``overwrite``. FIFOs and devices are not opened here (opening a FIFO would signal its reader)."""
    target = Path(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _fail(exc, target) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        refused = _kind(st.st_mode)
        if refused:
            raise OutputError(errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EPERM, refused, str(target))
        return target
    if st is not None and not overwrite:
        raise OutputExistsError(errno.EEXIST, "exists; refusing to overwrite it", str(target))
    real = Path(os.path.realpath(target))
    if not real.parent.is_dir():
        raise OutputError(errno.ENOENT, f"no such directory {real.parent}", str(target))
    if not os.access(real.parent, os.W_OK) or (st is not None and not os.access(real, os.W_OK)):
        raise OutputError(errno.EACCES, "permission denied", str(target))
    return target


def write_text_atomic(path: str | os.PathLike, text: str, *, overwrite: bool = False) -> Path:
    """Write UTF-8 ``text`` to ``path``: tracekit's writers (traces, JSONL). An existing file without
    ``overwrite`` is TraceUsageError (exit 2), as tracekit's callers expect."""
    try:
        return write_atomic(path, text, overwrite=overwrite)
    except OutputExistsError:
        from tracekit.errors import TraceUsageError

        raise TraceUsageError(f"refusing to overwrite existing file {path}") from None


def write_lines(lines: list[str], path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write trace lines (emit_lines output) with a final newline, atomically."""
    return write_text_atomic(path, "\n".join(lines) + "\n", overwrite=overwrite)


def copy_atomic(src: str | os.PathLike, dst: str | os.PathLike, *, overwrite: bool = False,
                durable: bool = False) -> Path:
    """Copy the regular file ``src`` to ``dst`` by the rules of :func:`write_atomic`, streamed (a
    large image is never held in memory twice); a non-regular ``src`` is refused first."""
    dst_path = Path(dst)
    if not overwrite and (dst_path.exists() or dst_path.is_symlink()):
        raise OutputExistsError(errno.EEXIST, "exists; refusing to overwrite it", str(dst_path))
    real = Path(os.path.realpath(dst_path))
    tmp = _tmp_name(real)
    try:
        with open_input(src) as fin, open(tmp, "xb") as fout:
            os.fchmod(fout.fileno(), new_file_mode())
            shutil.copyfileobj(fin, fout, 1 << 20)
            if durable:
                fout.flush()
                os.fsync(fout.fileno())
        (os.replace if overwrite else rename_noreplace)(tmp, real)
    except FileExistsError:
        raise OutputExistsError(errno.EEXIST, "exists; refusing to overwrite it", str(dst_path)) from None
    except InputFileError:
        raise
    except OSError as exc:
        if exc.filename == str(src):
            raise
        raise _fail(exc, dst_path) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    if durable:
        fsync_dir(real.parent)
    return dst_path


def fsync_dir(path: str | os.PathLike) -> None:
    """fsync a folder so a rename in it survives a crash (best effort: some file systems refuse)."""
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


def rename_noreplace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """rename(2) that fails with FileExistsError instead of replacing ``dst`` (renameat2 NOREPLACE
    on Linux; elsewhere a hard link for files, a checked rename for folders)."""
    src, dst = os.fspath(src), os.fspath(dst)
    renameat2 = _renameat2()
    if renameat2 is not None:
        import ctypes

        if renameat2(-100, os.fsencode(src), -100, os.fsencode(dst), 1) == 0:   # AT_FDCWD, NOREPLACE
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, "exists", dst)
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), dst)
    if os.path.isdir(src):
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, "exists", dst)
        os.rename(src, dst)
        return
    os.link(src, dst)                   # atomic: fails with EEXIST when the name is taken
    os.unlink(src)


_RENAMEAT2: list = []


def _renameat2():
    if not _RENAMEAT2:
        try:
            import ctypes

            _RENAMEAT2.append(ctypes.CDLL(None, use_errno=True).renameat2)
        except (OSError, AttributeError):
            _RENAMEAT2.append(None)
    return _RENAMEAT2[0]


# ---- folders --------------------------------------------------------------------------------------
def _check_dir_free(final: Path) -> None:
    if final.is_dir() and not final.is_symlink():
        if any(final.iterdir()):
            raise OutputExistsError(errno.ENOTEMPTY, "exists and is not empty; refusing to write into it",
                                    str(final))
    elif os.path.lexists(final):
        raise OutputExistsError(errno.EEXIST, "exists and is not a folder; refusing to replace it", str(final))


def publish_dir(partial: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Rename the complete folder ``partial`` to ``final``: absent, or an empty folder (replaced in
    one rename); anything else there is OutputExistsError and ``partial`` stays."""
    partial, final = Path(partial), Path(final)
    try:
        if final.is_dir() and not final.is_symlink() and not any(final.iterdir()):
            os.rename(partial, final)    # rename(2) replaces an empty folder atomically
        else:
            rename_noreplace(partial, final)
    except (FileExistsError, OSError) as exc:
        if isinstance(exc, FileExistsError) or exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise OutputExistsError(errno.EEXIST, "was created meanwhile; the result stays in "
                                    f"{partial.name}", str(final)) from None
        raise _fail(exc, final) from None
    fsync_dir(final.parent)
    return final


@contextlib.contextmanager
def atomic_dir(final: str | os.PathLike, *, publish: bool = True) -> Iterator[Path]:
    """Build a folder in a hidden ``.NAME.<pid>.partial`` sibling; on a clean exit rename it to
    ``final`` (which must be absent or an empty folder, checked first and again at the rename).
    Any exception removes the sibling and propagates. ``publish=False`` leaves the renaming to
    the caller (:func:`publish_dir`), e.g. to pick the final name only at the end."""
    final = Path(final)
    _check_dir_free(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(exc, final.parent) from None
    partial = None
    for _ in range(100):
        candidate = final.with_name(f".{final.name[:180]}.{os.getpid()}.{secrets.token_hex(3)}.partial")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise _fail(exc, final) from None
        partial = candidate
        break
    if partial is None:
        raise OutputError(errno.EEXIST, "no free name for its .partial sibling", str(final))
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if publish:
        publish_dir(partial, final)
