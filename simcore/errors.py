"""Exception classes of the `simcore` package, each carrying the CLI `exit_code`.

`cli/errors.py::guarded()` turns any exception with an ``exit_code`` attribute into a one-line
stderr message and that exit code, so library code raises these and never prints or exits.
The codes follow `cli/exit_codes.py`: 2 usage, 5 unreadable/malformed input.
Usage and input errors are also ``ValueError`` so library callers can catch them the usual way.

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
