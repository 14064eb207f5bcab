"""nanoBragg's flags as data for tools that edit argument lists (``pwb shrink``): what a flag is
called by the C and how many value tokens follow it.

The C's own flag table lives in simcore (:mod:`simcore.argv.flags`, pure data); parity may import
simcore only here, so this module is the one door to it. A token is *recognised* when a C pattern
matches it (substring matching, as the C) or it is one of simcore's additions. Arity:

* the largest ``nargs`` of the patterns that fire on the token (``-twotheta_axis`` reads 3 values);
* ``-cell``: up to six values, stopping at the next flag (the C's rule); ``-misset``: one value
  when it is ``random``, else three (``-misset_seed``, which the C also reads as ``-misset``, has one);
* an unknown token: every following token up to the next flag (a flag starts with ``-`` and is
  not a number), so another port's own flags still come out as one unit each.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

__all__ = ["FlagInfo", "flag_info", "is_flag_token"]


@dataclass(frozen=True)
class FlagInfo:
    """What the C makes of one flag token: its primary handler name (``None`` when unknown) and arity."""

    token: str
    handler: str | None       # e.g. "detpixels", "twotheta", "lambda" (``-wave`` too); simcore's: the flag
    nargs: int                # value tokens that follow (resolved against the actual following tokens)
    known: bool


def is_flag_token(token: str) -> bool:
    """A flag: starts with ``-`` followed by something that is not a number (``-5``, ``-1e3`` are values)."""
    if len(token) < 2 or not token.startswith("-"):
        return False
    try:
        float(token)
    except ValueError:
        return True
    return False


def _values_until_flag(following: Sequence[str], most: int | None = None) -> int:
    n = 0
    for tok in following:
        if is_flag_token(tok) or (most is not None and n >= most):
            break
        n += 1
    return n


def flag_info(token: str, following: Sequence[str] = ()) -> FlagInfo:
    """Handler and arity of ``token`` given the tokens after it (``following``; clamped to them).

    >>> flag_info("-cell", ["100", "100", "100", "90", "90", "90", "-N", "5"]).nargs
    6
    >>> (flag_info("-wave", ["1.0"]).handler, flag_info("-misset", ["random"]).nargs)
    ('lambda', 1)
    >>> flag_info("-myport_fast", ["-N", "5"]).known, flag_info("-nonoise").nargs
    (False, 0)
    """
    from simcore.argv.flags import SIMCORE_FLAGS, matching_patterns

    following = list(following)
    if token in SIMCORE_FLAGS:
        return FlagInfo(token, token.lstrip("-"), min(SIMCORE_FLAGS[token], len(following)), True)
    patterns = matching_patterns(token)
    if not patterns:
        return FlagInfo(token, None, _values_until_flag(following), False)
    handler = patterns[0].handler
    nargs = 0
    for pat in patterns:
        if pat.nargs >= 0:
            n = pat.nargs
        elif pat.handler == "cell":
            n = _values_until_flag(following, 6)
        elif pat.handler == "misset":     # only -misset itself consumes its values (-misset_seed reads 1)
            n = 0 if token != "-misset" else (1 if following and "rand" in following[0] else 3)
        else:
            n = _values_until_flag(following)
        nargs = max(nargs, n)
    return FlagInfo(token, handler, min(nargs, len(following)), True)
