"""``python -m simcore ARGS``: the nanoBragg command line, run by the PyTorch engine.

Writes the C's default output files unless told otherwise and prints what the C prints, in its
order: the set-up summary before any pixel is computed, the ``NN% done`` meter while the pixels run,
then the statistics and output lines; with ``-trace_pixel S F``, TRACE_PY lines for one pixel.
``-h`` lists every flag (from :mod:`simcore.argv.flags`). Only what the run needs is imported: a usage
error never loads torch, and the noise image loads its compiled kernel only when it is written.

Exit codes: 0 ok; 2 usage (unknown flag, missing/invalid value, a value no physics can use, missing
-cell/-mat or structure factors, a run that does not fit the memory budget, no such device);
5 unreadable/malformed input file (or not a regular file); 6 unwritable output path; 70 internal
error (a bug: one line, "please report"; ``PWB_TRACEBACK=1`` shows the traceback); 130 interrupted
(Ctrl-C); 141 stdout closed early (``| head``), like a C program stopped by SIGPIPE; 143 terminated
(SIGTERM; 129 for SIGHUP).
"""
from __future__ import annotations

import os
import sys

USAGE = "usage: python -m simcore -cell a b c alpha beta gamma (or -mat A.mat) [-hkl F.hkl | -default_F F] [options]"
EXIT_CODES = ("exit codes: 0 ok, 2 usage, 5 bad input file, 6 unwritable output, 70 internal error (please report),"
              " 130 interrupted, 141 stdout closed, 143 terminated")
HELP_FLAGS = ("-h", "--help", "-help")


def help_text() -> str:
    """The ``-h`` text: usage, then one line per flag (synonyms together), then the exit codes."""
    from simcore.argv.flags import help_rows

    rows = help_rows()
    width = min(34, max(len(flag) for flag, _ in rows))
    lines = [USAGE, "The nanoBragg C program's flags (single dash, last flag wins; units as the C takes them):"]
    for flag, text in rows:
        if flag.startswith("-trace_pixel"):
            lines.append("simcore additions:")
        pad = " " * (width - len(flag)) if len(flag) <= width else "\n" + " " * (width + 2)
        lines.append(f"  {flag}{pad}  {text}")
    lines.append(EXIT_CODES)
    return "\n".join(lines)


def _stdout_closed() -> int:
    from tracekit.entry import stdout_closed

    return stdout_closed()


def main(argv: list[str] | None = None, *, on_progress=None, on_result=None) -> int:
    """Run the command line; every outcome is an exit code (module docstring), never a traceback.
    ``on_progress(done, total, text)``, when given, sees the rendered pixels instead of the ``NN% done``
    lines (``pwb sim`` draws a bar with it on a terminal); ``on_result(result)`` gets the finished
    SimResult (``pwb sim --bundle`` records its image)."""
    from tracekit.entry import report_internal_error, signals_as_exit

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with signals_as_exit():
            if not argv or argv[0] in HELP_FLAGS:
                text = help_text() if argv else f"{USAGE}\n(python -m simcore -h lists every flag)"
                sys.stdout.flush()              # one write: `-h | head -5` reads it whole, no SIGPIPE
                raw = getattr(sys.stdout, "buffer", None)
                if raw is None:                 # a StringIO stdout (tests)
                    print(text, flush=True)
                else:
                    raw.write((text + "\n").encode())
                    raw.flush()
                return 0 if argv else 2
            return _guarded_run(argv, on_progress, on_result)
    except BrokenPipeError:
        return _stdout_closed()
    except KeyboardInterrupt:
        print("simcore: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:           # SIGTERM/SIGHUP (tracekit.entry.Terminated)
        print("simcore: terminated", file=sys.stderr)
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, "please report", exit 70
        return report_internal_error("simcore", exc)


def _guarded_run(argv: list[str], on_progress=None, on_result=None) -> int:
    from simcore.api import typed_errors
    from simcore.errors import SimcoreError

    try:
        with typed_errors(argv):
            return _run(argv, on_progress, on_result)
    except SimcoreError as exc:
        if exc.exit_code == 70:
            from tracekit.entry import report_internal_error

            return report_internal_error("simcore", exc)
        print(f"simcore: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return exc.exit_code


def _run(argv: list[str], on_progress=None, on_result=None) -> int:
    # torch's OpenMP workers spin while they wait; on a shared CPU that spinning starves the other
    # workers (the spec case's pixel loop: ~0.15 s passive vs 1-1.4 s spinning at load 7 on 2
    # cores). Set before torch loads; a value the user set wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from simcore.argv.parse import parse_argv
    from simcore.io.outputs import check_writable, requested_outputs, write_outputs
    from simcore.io.progress import ProgressMeter
    from simcore.setup.report import setup_lines

    cwd = os.getcwd()
    cargs = parse_argv(argv, cwd=cwd)
    paths = requested_outputs(cargs, defaults=True)
    check_writable(paths)
    if cargs.config_json:
        check_writable({"config": cargs.config_json})
    if cargs.trace_jsonl:
        check_writable({"trace JSONL": cargs.trace_jsonl})
    print("simcore (nanoBragg PyTorch engine) - C-compatible command line")
    from simcore.kernel.render import render

    traced = None
    if cargs.trace_pixel is not None:
        from simcore.trace_run import trace_pixel

        traced = trace_pixel(cargs, cargs.trace_pixel)
    shown = {"warnings": 0}
    meter = ProgressMeter((0, -1, 0, -1), enabled=False)

    def on_setup(setup) -> None:        # the C prints its set-up before the pixel loop
        nonlocal meter
        _warn(setup.warnings, shown)
        sys.stdout.write("".join(line + "\n" for line in setup_lines(setup)))
        sys.stdout.flush()
        meter = ProgressMeter(setup.roi, enabled=cargs.progress and not cargs.printout and on_progress is None)

    def on_pixels(n: int) -> None:
        meter.advance(n)
        if on_progress is not None and cargs.progress and not cargs.printout:
            on_progress(min(meter.done, meter.total), meter.total, "rendering pixels")

    # fused="auto": the numba kernel only when the run outweighs its import (simcore/kernel/fused.py)
    result = render(cargs, cwd=cwd, dump_dir=cwd if cargs.hkl_file else None, on_setup=on_setup,
                    on_pixels=on_pixels, outputs=True, fused="auto")
    if on_progress is not None and cargs.progress and not cargs.printout:
        on_progress(meter.total, meter.total, "rendered")      # a bar ends full (the C's meter stops short)
    _warn(result.setup.warnings, shown)
    print()                             # the C's empty line after the pixel loop
    if traced is not None:
        from simcore.trace_run import print_trace

        print_trace(traced, result, cargs)
    sys.stdout.write("".join(line + "\n" for line in write_outputs(result, paths)))
    if cargs.config_json:
        import json

        from simcore.io.smv import write_bytes_atomic
        from simcore.setup.report import effective_config

        text = json.dumps(effective_config(result.setup), indent=1, sort_keys=True) + "\n"
        write_bytes_atomic(cargs.config_json, text.encode(), overwrite=True)
    sys.stdout.flush()
    if on_result is not None:
        on_result(result)
    return 0


def _warn(warnings: list, shown: dict) -> None:
    for w in warnings[shown["warnings"]:]:
        print(f"simcore: warning: {w}", file=sys.stderr)
    shown["warnings"] = len(warnings)


def _exit(code: int) -> None:
    """Leave like the C does: flush, then skip the interpreter's teardown, which with torch loaded
    costs 0.75-2.6 s (measured at load 6 on 2 cores; os._exit: 0.05 s). Every file is already
    written and closed. Under a tracer, profiler or coverage the normal exit runs their hooks."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = _stdout_closed()
    if sys.gettrace() is None and sys.getprofile() is None and "coverage" not in sys.modules:
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main())
