"""Exception classes of `tracekit`, each carrying the CLI `exit_code`.

`cli/errors.py::guarded()` turns any exception with an ``exit_code`` attribute into a one-line
stderr message and that exit code, so library code raises these and never prints or exits.
Codes follow `cli/exit_codes.py`: 2 usage (bad option or rule value), 5 unreadable/unparseable input.
All are also ``ValueError`` so library callers can catch them the usual way.
"""
from __future__ import annotations


class TracekitError(ValueError):
    """Base class of user-facing tracekit errors."""

    exit_code: int = 1


class TraceUsageError(TracekitError):
    """A bad parameter value (named in the message): a negative pixel size, an unknown
    tolerance mode, a TapValue whose dims do not fit its tap. Exit code 2."""

    exit_code = 2


class TraceParseError(TracekitError):
    """A trace, JSONL, stdout or rules file that cannot be read: empty, binary, truncated,
    malformed line. The message names the file and line. Exit code 5."""

    exit_code = 5
