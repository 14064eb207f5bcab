"""Test selectors a plan task cites: what pytest should run to show the task is done.

A selector is one string, shell-split into pytest arguments: node ids, files or directories
(``tests/test_x.py::test_a``, ``tests/test_x.py``, ``tests/``) and ``-k EXPR`` / ``-m EXPR``
(``-k "tap and not slow"``), in any combination. Anything else (other options such as ``-p`` or
``--rootdir``, which would change how pytest runs rather than what it selects) is refused, so a
selector stays a selection and verifying it means the same thing every time.
"""
from __future__ import annotations

import shlex

from parity.evidence.errors import EvidenceUsageError

__all__ = ["selector_args", "validate_selector", "validate_na_reason"]

_VALUE_FLAGS = ("-k", "-m")


def selector_args(selector: str) -> list[str]:
    """The pytest arguments of ``selector``; EvidenceUsageError (exit 2) when it is not a selection."""
    if not isinstance(selector, str) or not selector.strip():
        raise EvidenceUsageError("a test selector must be non-empty (a node id, a file, or -k/-m EXPR)")
    try:
        tokens = shlex.split(selector)
    except ValueError as exc:
        raise EvidenceUsageError(f"test selector {selector!r}: cannot split it ({exc})") from None
    args, it = [], iter(tokens)
    for token in it:
        flag, eq, value = token.partition("=")
        if flag in _VALUE_FLAGS:
            value = value if eq else next(it, "")
            if not value.strip():
                raise EvidenceUsageError(f"test selector {selector!r}: {flag} needs an expression")
            args += [flag, value]
        elif token.startswith("-"):
            raise EvidenceUsageError(f"test selector {selector!r}: only node ids, paths, -k EXPR and -m EXPR"
                                     f" select tests ({token} does not)")
        else:
            args.append(token)
    return args


def validate_selector(selector: str) -> str:
    """``selector`` stripped, after checking it parses (see `selector_args`)."""
    selector_args(selector)
    return selector.strip()


def validate_na_reason(reason: str) -> str:
    """A test-N/A reason must say why (non-empty text)."""
    if not isinstance(reason, str) or not reason.strip():
        raise EvidenceUsageError("--test-na needs a reason (why no test can show this task done)")
    return " ".join(reason.split())
