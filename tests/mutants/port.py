#!/usr/bin/env python3
"""``python tests/mutants/port.py NAME ARGS...``: simcore with defect NAME injected, run like the C.

ARGS are nanoBragg's (``-floatfile`` etc. work as with ``python -m simcore``). stdout is simcore's
output rewritten into the mutant dialect (dialect.py; a ``-trace_pixel S F`` trace comes out as
``TRACE_TORCH`` lines). Exit codes are simcore's (0 ok, 2 usage, 5 bad input, 6 unwritable output);
an unknown NAME exits 2. ``run_port`` is the same in-process (the CI tests use it).
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``tests.mutants`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.mutants import defects, dialect  # noqa: E402

USAGE = ("usage: python tests/mutants/port.py NAME ARGS...   (nanoBragg ARGS; NAME one of: "
         + ", ".join(sorted(defects.DEFECTS)) + ")")


@contextlib.contextmanager
def _chdir(path):
    if path is None:
        yield
        return
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_simcore(argv: list[str], *, cwd: str | os.PathLike | None = None) -> tuple[int, list[str]]:
    """Unmutated ``python -m simcore ARGV`` in-process (in ``cwd``): (exit code, stdout lines)."""
    from simcore.__main__ import main as simcore_main

    buf = io.StringIO()
    with _chdir(cwd), contextlib.redirect_stdout(buf):
        rc = simcore_main(list(argv))
    return rc, buf.getvalue().splitlines()


def run_port(name: str, argv: list[str], *, cwd: str | os.PathLike | None = None) -> tuple[int, list[str]]:
    """Run mutant ``name`` on nanoBragg ``argv`` in-process (in ``cwd``); returns (exit code,
    stdout lines in the dialect). Raises KeyError for an unknown name."""
    from simcore.__main__ import main as simcore_main

    d = defects.get(name)
    buf = io.StringIO()
    with _chdir(cwd):
        with defects.inject(name), contextlib.redirect_stdout(buf):
            rc = simcore_main(list(argv))
        ctx = {}
        if d.trace_transform is not None and rc == 0:
            from simcore.argv.parse import parse_argv

            ctx["cargs"] = parse_argv(list(argv), cwd=os.getcwd())
    lines = buf.getvalue().splitlines()
    return rc, dialect.to_dialect(lines, mutant=name, transform=d.trace_transform if rc == 0 else None, ctx=ctx)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    name, args = argv[0], argv[1:]
    if name not in defects.DEFECTS:
        print(f"port.py: unknown mutant {name!r} (known: {', '.join(sorted(defects.DEFECTS))})", file=sys.stderr)
        return 2
    rc, lines = run_port(name, args)
    sys.stdout.write("".join(line + "\n" for line in lines))
    return rc


if __name__ == "__main__":
    sys.exit(main())
