"""Exception classes of the `simcore` package, each carrying the CLI `exit_code`.

`cli/errors.py::guarded()` turns any exception with an ``exit_code`` attribute into a one-line
stderr message and that exit code, so library code raises these and never prints or exits.
The codes of ``python -m simcore`` (and of ``pwb sim``; the same numbers as `cli/exit_codes.py`):

====  =========================================================================================
0     ok
2     usage: unknown flag, missing or invalid value, a value no physics can use (the flag named),
      no crystal or structure factors, a run that does not fit the memory budget (the estimate
      and ``-max_memory_gb`` in the message), no such device (``-device cuda`` without CUDA)
5     an input file that is missing, unreadable, malformed, or not a regular file (FIFO, folder,
      device: refused before any read)
6     an output path that cannot be written (a folder, socket, block device, a FIFO with no
      reader, a full device, a missing folder, no permission)
70    internal error: a bug. One line with "please report"; ``SIMCORE_TRACEBACK=1`` (or
      ``PWB_TRACEBACK=1``) prints the traceback too
130   interrupted (Ctrl-C); 141 stdout closed early (``| head``); 143 terminated (SIGTERM; 129 SIGHUP)
====  =========================================================================================

``simcore.simulate`` raises only these classes (a bug as :class:`SimcoreInternalError`, the
original exception its ``__cause__``). Usage and input errors are also ``ValueError`` so library
callers can catch them the usual way.

``c_exit_code`` records what the C program itself would have done (for example ``9`` for an
HKL file with no usable entries), or ``None`` where the C has no such check.
"""
from __future__ import annotations


class SimcoreError(Exception):
    """Base class of user-facing simcore errors (exit code 1 unless a subclass says otherwise)."""

    exit_code: int = 1

    def __init__(self, message: str, *, c_exit_code: int | None = None) -> None:
        super().__init__(message)
        self.c_exit_code = c_exit_code


class SimcoreUsageError(SimcoreError, ValueError):
    """A bad parameter or argument value (named in the message). Exit code 2."""

    exit_code = 2


class SimcoreInputError(SimcoreError, ValueError):
    """An input file that cannot be used: missing, unreadable, truncated or unparseable. Exit code 5."""

    exit_code = 5


class SimcoreOutputError(SimcoreError):
    """An output path cannot be written (exit code 6). Added by the lead for `python -m simcore`."""

    exit_code = 6


class SimcoreResourceError(SimcoreUsageError):
    """The run cannot fit the memory budget (the estimate is in the message). Exit code 2."""


class SimcoreInternalError(SimcoreError):
    """A failure simcore did not foresee (a bug: please report it); the original exception is the
    ``__cause__``. Exit code 70 (EX_SOFTWARE)."""

    exit_code = 70
