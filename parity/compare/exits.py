"""nb-compare's exit-code contract (``../shared/docs/nb-compare.md``): the codes and their status words.

0 ok · 1 usage · 2 a runner failed · 3 below a threshold · 4 shape mismatch · 5 I/O or parse error.
"""
from __future__ import annotations

EXIT_OK, EXIT_USAGE, EXIT_RUNNER, EXIT_THRESHOLD, EXIT_SHAPE, EXIT_IO = 0, 1, 2, 3, 4, 5
STATUS_BY_EXIT = {EXIT_OK: "passed", EXIT_USAGE: "usage_error", EXIT_RUNNER: "runner_failed",
                  EXIT_THRESHOLD: "below_threshold", EXIT_SHAPE: "shape_mismatch", EXIT_IO: "io_error"}
