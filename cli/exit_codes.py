"""Exit codes of the `pwb` commands, in one place.

`nb-compare` keeps its own documented contract (see cli/compare.py and docs/nb-compare.md):
0 ok, 1 usage, 2 runner failed, 3 correlation below threshold, 4 shape mismatch, 5 I/O or parse error.
"""
from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0
    FAILED = 1          # parity failed / divergence found / lint found a loosening
    USAGE = 2           # bad flag, bad value, refused argument (Click's UsageError is 2 too)
    THRESHOLD = 3       # a requested minimum (e.g. --min-match) was not met
    SHAPE = 4           # image shapes disagree
    BAD_INPUT = 5       # unreadable / unparseable / malformed input file
