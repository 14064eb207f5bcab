"""Exception classes of the `parity` package, each carrying the CLI `exit_code`.

`cli/errors.py::guarded()` turns any exception with an ``exit_code`` attribute into a one-line
stderr message and that exit code, so library code raises these and never prints or exits.
The codes follow `cli/exit_codes.py`: 2 usage, 4 shape mismatch, 5 unreadable/malformed input.
Usage and input errors are also ``ValueError`` so library callers can catch them the usual way.
"""
from __future__ import annotations


class ParityError(Exception):
    """Base class of user-facing parity errors (exit code 1 unless a subclass says otherwise)."""

    exit_code: int = 1


class ParityUsageError(ParityError, ValueError):
    """A bad parameter or argument value (named in the message), e.g. a negative radius or an
    ROI that does not fit in the image. Exit code 2."""

    exit_code = 2


class ParityInputError(ParityError, ValueError):
    """An input file or array that cannot be used: missing, unreadable, wrong byte count,
    NaN/Inf values, wrong dimensionality. Exit code 5."""

    exit_code = 5


class ParityShapeError(ParityInputError):
    """Reference and candidate images have different shapes. Exit code 4."""

    exit_code = 4
