"""The last resort of every entry point (``python -m simcore``, ``pwb``, ``nb-compare``): an error
nobody foresaw becomes one line, "please report", and exit code 70 (EX_SOFTWARE), never a bare
traceback. ``PWB_TRACEBACK=1`` in the environment prints the traceback too (for debugging).

:func:`signals_as_exit` turns SIGTERM and SIGHUP into :class:`Terminated` (a SystemExit with code
128 + signal), so ``finally`` blocks run on a kill: subprocess groups are killed, temporary files and
``.partial`` folders removed. Ctrl-C stays KeyboardInterrupt (exit 130). It lives in tracekit, the
lowest layer, because simcore and cli both use it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from typing import Iterator

INTERNAL_ERROR = 70
INTERRUPTED = 130
STDOUT_CLOSED = 141
TRACEBACK_ENV = "PWB_TRACEBACK"
TRACEBACK_ENVS = ("PWB_TRACEBACK", "SIMCORE_TRACEBACK")   # either one shows the traceback


class Terminated(SystemExit):
    """SIGTERM/SIGHUP arrived; ``code`` is 128 + the signal number (the shell's convention)."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


def traceback_wanted() -> bool:
    """PWB_TRACEBACK=1 or SIMCORE_TRACEBACK=1: print the traceback of an internal error too."""
    return any(os.environ.get(name, "") not in ("", "0") for name in TRACEBACK_ENVS)


def stdout_closed() -> int:
    """stdout went away (``| head``): stop quietly, with no second error at interpreter exit; 141."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return STDOUT_CLOSED


def one_line(text: object) -> str:
    """The first line of ``text``, stripped (messages are one line on stderr)."""
    lines = str(text).strip().splitlines()
    return lines[0].strip() if lines else ""


def report_internal_error(prog: str, exc: BaseException) -> int:
    """Print the one-line report of an unforeseen error (and the traceback when asked); return 70."""
    if traceback_wanted():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    detail = one_line(exc)
    cause = exc.__cause__
    if cause is not None and type(exc).__name__.endswith("InternalError"):
        detail = f"{type(cause).__name__}: {one_line(cause)}"
    elif detail:
        detail = f"{type(exc).__name__}: {detail}"
    else:
        detail = type(exc).__name__
    hint = "" if traceback_wanted() else f"; {TRACEBACK_ENV}=1 shows the traceback"
    print(f"{prog}: internal error: {detail.removeprefix('internal error: ')} "
          f"(a bug: please report it with the command line{hint})", file=sys.stderr)
    return INTERNAL_ERROR


@contextlib.contextmanager
def signals_as_exit(signums=(signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """While inside, the given signals raise :class:`Terminated` (main thread only)."""
    def handler(signum, _frame):
        raise Terminated(signum)

    previous = {}
    try:
        for s in signums:
            previous[s] = signal.signal(s, handler)
    except ValueError:            # not the main thread: leave the signals alone
        pass
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
