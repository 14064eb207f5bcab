"""``python -m simcore ARGS``: the nanoBragg command line, run by the PyTorch engine.

Writes the C's default output files unless told otherwise, prints the C's set-up summary and
statistics lines, and (with ``-trace_pixel S F``) TRACE_PY lines for one pixel.

Exit codes: 0 ok; 2 usage (unknown flag, missing/invalid value, missing -cell/-mat or structure
factors); 5 unreadable/malformed input file; 6 unwritable output path.
"""
from __future__ import annotations

import sys

USAGE = """usage: python -m simcore -cell a b c alpha beta gamma (or -mat A.mat) [-hkl F.hkl | -default_F F] [options]
The nanoBragg C program's flags and units (single dash, last flag wins); see README.md.
simcore additions: -dtype float32|float64  -device cpu|cuda  -trace_pixel S F  -trace_all_indices
  -trace_jsonl FILE  -emulate_c NAME=on|off  -max_memory_gb X  -threads N  -config_json FILE
exit codes: 0 ok, 2 usage, 5 bad input file, 6 unwritable output"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "-help"):
        print(USAGE)
        return 0 if argv else 2
    from simcore.errors import SimcoreError

    try:
        return _run(argv)
    except SimcoreError as exc:
        print(f"simcore: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # an input file the set-up could not open
        print(f"simcore: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 5
    except KeyboardInterrupt:
        print("simcore: interrupted", file=sys.stderr)
        return 130


def _run(argv: list[str]) -> int:
    import json
    import os

    from simcore.argv.parse import parse_argv
    from simcore.io.outputs import check_writable, requested_outputs, write_outputs
    from simcore.kernel.render import render
    from simcore.setup.report import effective_config, setup_lines

    cargs = parse_argv(argv, cwd=os.getcwd())
    paths = requested_outputs(cargs, defaults=True)
    check_writable(paths)
    if cargs.config_json:
        check_writable({"config": cargs.config_json})
    print("simcore (nanoBragg PyTorch engine) - C-compatible command line")
    traced = None
    if cargs.trace_pixel is not None:
        from simcore.trace_run import trace_pixel

        traced = trace_pixel(cargs, cargs.trace_pixel)
    result = render(cargs, cwd=os.getcwd(), dump_dir=os.getcwd() if cargs.hkl_file else None)
    for w in result.setup.warnings:
        print(f"simcore: warning: {w}", file=sys.stderr)
    for line in setup_lines(result.setup):
        print(line)
    if traced is not None:
        from simcore.trace_run import print_trace

        print_trace(traced, result, cargs)
    for line in write_outputs(result, paths):
        print(line)
    if cargs.config_json:
        from simcore.io.smv import write_bytes_atomic

        text = json.dumps(effective_config(result.setup), indent=1, sort_keys=True) + "\n"
        write_bytes_atomic(cargs.config_json, text.encode(), overwrite=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
