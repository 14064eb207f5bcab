"""The console the commands print their tables on, and whether it is narrow.

A terminal (or an explicit ``COLUMNS``) is honoured, so an 80-column window gets tables that fit in
80 columns: the wide tables drop their secondary columns there (:func:`narrow`) instead of
squeezing every cell to an ellipsis. Output piped without ``COLUMNS`` (logs, CI) gets the width the
table asks for (``piped_width``), so a log keeps whole rows.
"""
from __future__ import annotations

import os
import sys

__all__ = ["console", "narrow", "NARROW_BELOW"]

NARROW_BELOW = 100      # columns; below this the wide tables show their short form


def _sized_by_user() -> bool:
    if os.environ.get("COLUMNS", "").strip().isdigit():
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def console(piped_width: int | None = None, **kwargs):
    """A rich Console on stdout: the terminal's (or ``COLUMNS``') width, else ``piped_width`` when given."""
    from rich.console import Console

    kwargs.setdefault("highlight", False)
    if piped_width is not None and not _sized_by_user():
        kwargs.setdefault("width", piped_width)
    return Console(**kwargs)


def narrow(con) -> bool:
    """Whether ``con`` is too narrow for a wide table's full form."""
    return con.width < NARROW_BELOW
