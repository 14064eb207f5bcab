"""Every error of every command becomes one line on stderr and a documented exit code.

Two layers: :func:`guarded` around each command's work maps the packages' errors (anything with an
``exit_code`` attribute; OSError as unreadable input) to their codes, and :func:`run_app`, the console
entry of ``pwb`` (and of ``nb-compare`` through :func:`run_command`), is the last resort: a Click usage
error is one line (exit 2, nb-compare 1), Ctrl-C 130, SIGTERM 143 (SIGHUP 129), a closed stdout 141,
and anything nobody foresaw one line with "please report" and exit 70 (``PWB_TRACEBACK=1`` shows the
traceback). No command ever ends in a bare traceback.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator, NoReturn, Optional, Sequence

import typer

from cli.exit_codes import Exit

from typer import Abort

try:  # typer >= 0.24 vendors click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer with the click package
    from click.exceptions import ClickException, NoArgsIsHelpError, UsageError


def fail(message: str, code: int) -> "typer.Exit":
    """Print `message` as one line on stderr and return the typer.Exit to raise."""
    print(" ".join(str(message).split("\n")).strip(), file=sys.stderr)
    return typer.Exit(code=int(code))


def error_code(exc: BaseException) -> Optional[int]:
    """The exit code of a foreseen error (its ``exit_code``; an OSError is unreadable input, 5), or
    None for an error nobody foresaw (a bug)."""
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int) and not isinstance(exc, ClickException):
        return code
    if isinstance(exc, OSError):
        return int(Exit.BAD_INPUT)
    if isinstance(exc, MemoryError):
        return int(Exit.USAGE)
    return None


def error_line(prog: str, exc: BaseException) -> str:
    """``prog: message`` in one line; an OSError of the standard library as ``reason: path``."""
    if isinstance(exc, OSError) and getattr(exc, "exit_code", None) is None:
        where = f": {exc.filename}" if exc.filename else ""
        text = f"{exc.strerror or exc}{where}"
    elif isinstance(exc, MemoryError):
        text = "out of memory (make the input or the detector smaller)"
    else:
        text = str(exc) or type(exc).__name__
    return f"{prog}: {' '.join(text.split())}"


@contextlib.contextmanager
def guarded(prog: str = "pwb") -> Iterator[None]:
    """Turn the packages' user-facing errors into a one-line message + exit code.

    Each package raises its own error types carrying an ``exit_code`` attribute (usage → 2, input
    → 5, unwritable output → 6); a library OSError is unreadable input (5). An error without a code
    is a bug: one line, "please report", exit 70 (:func:`tracekit.entry.report_internal_error`).
    """
    try:
        yield
    except (typer.Exit, Abort, KeyboardInterrupt, SystemExit, BrokenPipeError):
        raise
    except ClickException as exc:         # typer.BadParameter raised by a command body: one line too
        raise fail(f"{prog}: {exc.format_message()}", exc.exit_code) from None
    except Exception as exc:  # noqa: BLE001 - dispatch below; nothing escapes as a traceback
        code = error_code(exc)
        if code is None or code == Exit.INTERNAL:
            from tracekit.entry import report_internal_error

            raise typer.Exit(report_internal_error(prog, exc)) from None
        raise fail(error_line(prog, exc), code) from None


def _stdout_closed() -> int:
    from tracekit.entry import stdout_closed

    return stdout_closed()


def run_command(command, *, prog: str, argv: Optional[Sequence[str]] = None, usage_code: int = Exit.USAGE,
                help_hint: str | None = None) -> int:
    """Run a Click command the way a console script does, but with this module's rules; returns the
    exit code (nothing escapes)."""
    from tracekit.entry import Terminated, report_internal_error, signals_as_exit

    args = list(sys.argv[1:] if argv is None else argv)
    hint = f" ({help_hint or prog + ' --help'})"
    try:
        with signals_as_exit():
            code = command.main(args=args, prog_name=prog, standalone_mode=False)
    except NoArgsIsHelpError as exc:      # no arguments at all: the help, as Click prints it
        print(exc.format_message())
        code = Exit.USAGE
    except UsageError as exc:
        if help_hint is None and getattr(exc, "ctx", None) is not None:
            hint = f" ({exc.ctx.command_path} --help)"
        print(f"{prog}: {' '.join(exc.format_message().split())}{hint}", file=sys.stderr)
        code = usage_code
    except ClickException as exc:
        print(f"{prog}: {' '.join(exc.format_message().split())}", file=sys.stderr)
        code = exc.exit_code
    except (Abort, KeyboardInterrupt):
        print(f"{prog}: interrupted", file=sys.stderr)
        code = Exit.INTERRUPTED
    except BrokenPipeError:
        code = _stdout_closed()
    except Terminated as exc:
        print(f"{prog}: terminated", file=sys.stderr)
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - the last resort
        known = error_code(exc)
        if known is None or known == Exit.INTERNAL:
            code = report_internal_error(prog, exc)
        else:
            print(error_line(prog, exc), file=sys.stderr)
            code = known
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _stdout_closed()
    return int(code) if isinstance(code, int) else 0


def run_app(app: typer.Typer, *, prog: str = "pwb", argv: Optional[Sequence[str]] = None) -> NoReturn:
    """Console entry for a Typer app: :func:`run_command` on its Click command, then exit."""
    sys.exit(run_command(typer.main.get_command(app), prog=prog, argv=argv))
