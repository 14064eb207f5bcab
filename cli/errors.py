"""Map domain exceptions to one-line stderr messages and exit codes (never a traceback for user error)."""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

import typer

from cli.exit_codes import Exit


def fail(message: str, code: int) -> "typer.Exit":
    """Print `message` as one line on stderr and return the typer.Exit to raise."""
    print(message.replace("\n", " ").strip(), file=sys.stderr)
    return typer.Exit(code=int(code))


@contextlib.contextmanager
def guarded(prog: str = "pwb") -> Iterator[None]:
    """Turn the packages' user-facing errors into a one-line message + exit code.

    Each package raises its own error types carrying an ``exit_code`` attribute
    (UsageError-like → 2, input errors → 5). Anything without one is a bug and is re-raised.
    """
    try:
        yield
    except typer.Exit:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise fail(f"{prog}: {exc.strerror}: {exc.filename}", Exit.BAD_INPUT)
    except Exception as exc:  # noqa: BLE001 - dispatch on the attribute below
        code = getattr(exc, "exit_code", None)
        if code is None:
            raise
        raise fail(f"{prog}: {exc}", code)
