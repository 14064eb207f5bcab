"""Exit codes of the `pwb` commands, in one place.

`nb-compare` keeps its own documented contract (see cli/compare.py and docs/nb-compare.md):
0 ok, 1 usage, 2 runner failed, 3 a gate failed, 4 shape mismatch, 5 I/O or parse error; it shares
the last four below (70, 130, 141, 143).
"""
from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0
    FAILED = 1          # parity failed / divergence found / lint found a loosening
    USAGE = 2           # bad flag, bad value, refused argument (Click's UsageError is 2 too)
    THRESHOLD = 3       # a requested minimum (e.g. --min-match) was not met
    SHAPE = 4           # image shapes disagree
    BAD_INPUT = 5       # unreadable / unparseable / malformed input file, or not a regular file (FIFO, dir)
    OUTPUT = 6          # an output path that cannot be written (folder, socket, full device, no FIFO reader)
    INTERNAL = 70       # an error nobody foresaw: a bug (one line + "please report"; PWB_TRACEBACK=1)
    INTERRUPTED = 130   # Ctrl-C (SIGINT)
    PIPE = 141          # stdout closed early (| head)
    TERMINATED = 143    # SIGTERM (SIGHUP: 129)
