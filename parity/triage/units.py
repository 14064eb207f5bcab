"""An argument list as units for the shrinker: a flag with its values is one unit.

``-cell 100 100 100 90 90 90`` is one unit, ``-nonoise`` one, ``-detpixels 64`` one; arity comes
from the C's flag table (:func:`parity.ports.flagspec.flag_info`). A stray value (a token before
any flag) is a unit of its own. Beside removal, the shrinker knows two kinds of value moves, keyed
by the C's handler name (so ``-wave`` is ``-lambda`` and ``-detpixels_x`` is ``-detpixels_f``):

* **counts** (:data:`COUNT_MIN`): detector pixels, mosaic domains, phi steps, source/divergence and
  dispersion steps, oversample, thickness steps are reduced towards their minimum (the minimum,
  2, then half the value, smallest first);
* **C defaults** (:data:`C_DEFAULTS`): a value reset to what the C uses when the flag is absent,
  with the flag still given. Removal and reset differ where the flag's presence matters (a pivot
  chosen because ``-twotheta`` was given, whatever its value).

Size flags (:data:`NEVER_REMOVED`) are shrunk but never removed: without them the C falls back to a
1024 x 1024 detector (or an automatic oversample), which makes every later run slower.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

__all__ = ["Unit", "split_units", "join_units", "value_moves", "COUNT_MIN", "C_DEFAULTS", "NEVER_REMOVED"]

#: handler -> the smallest value a count is reduced to
COUNT_MIN: dict[str, int] = {
    "detpixels": 16, "detpixels_f": 16, "detpixels_s": 16, "mosaic_dom": 1, "phisteps": 1, "dispsteps": 1,
    "hdivsteps": 1, "vdivsteps": 1, "divsteps": 1, "oversample": 1, "thicksteps": 1,
}
#: handler -> the C's value when the flag is absent, as the flag's own tokens (user units)
C_DEFAULTS: dict[str, tuple[str, ...]] = {
    "twotheta": ("0",), "distance": ("100",), "lambda": ("1",), "pixel": ("0.1",), "N": ("1",), "Na": ("1",),
    "Nb": ("1",), "Nc": ("1",), "phi": ("0",), "mosaic": ("0",), "dispersion": ("0",), "divergence": ("0",),
    "rotx": ("0",), "roty": ("0",), "rotz": ("0",), "misset": ("0", "0", "0"), "fudge": ("1",),
    "exposure": ("1",), "beamsize": ("0.1",), "water": ("0",), "adc": ("40",), "detector_thick": ("0",),
    "dmin": ("0",),
}
#: handlers whose removal would grow the run (the C's 1024^2 default detector, automatic oversample)
NEVER_REMOVED = frozenset({"detpixels", "detpixels_f", "detpixels_s", "detsize", "detsize_f", "detsize_s",
                           "oversample"})


@dataclass(frozen=True)
class Unit:
    """One flag with its values (or one stray token); ``handler`` is the C's name for the flag."""

    tokens: tuple[str, ...]
    handler: str | None = None
    known: bool = True

    @property
    def flag(self) -> str | None:
        from parity.ports.flagspec import is_flag_token

        return self.tokens[0] if self.tokens and is_flag_token(self.tokens[0]) else None

    @property
    def values(self) -> tuple[str, ...]:
        return self.tokens[1:] if self.flag else self.tokens

    @property
    def removable(self) -> bool:
        return self.handler not in NEVER_REMOVED

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def with_values(self, values: Sequence[str]) -> "Unit":
        return Unit((self.tokens[0], *values), self.handler, self.known)


def split_units(args: Sequence[str]) -> list[Unit]:
    """``args`` as units, in order (joining them gives ``args`` back).

    >>> [u.text for u in split_units("-cell 100 100 100 90 90 90 -N 5 -nonoise -twotheta_axis 0 1 0".split())]
    ['-cell 100 100 100 90 90 90', '-N 5', '-nonoise', '-twotheta_axis 0 1 0']
    """
    from parity.ports.flagspec import flag_info, is_flag_token

    args = [str(a) for a in args]
    units: list[Unit] = []
    i = 0
    while i < len(args):
        tok = args[i]
        if not is_flag_token(tok):
            units.append(Unit((tok,), None, False))
            i += 1
            continue
        info = flag_info(tok, args[i + 1:])
        units.append(Unit(tuple(args[i:i + 1 + info.nargs]), info.handler, info.known))
        i += 1 + info.nargs
    return units


def join_units(units: Sequence[Unit]) -> tuple[str, ...]:
    return tuple(tok for u in units for tok in u.tokens)


def _count(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number == int(number) else None


def value_moves(unit: Unit) -> list[tuple[str, Unit]]:
    """The value changes worth trying on ``unit``, each ``(why, new unit)``, most reducing first.

    >>> [u.text for _, u in value_moves(split_units(["-detpixels", "128"])[0])]
    ['-detpixels 16', '-detpixels 32', '-detpixels 64']
    >>> [(why, u.text) for why, u in value_moves(split_units(["-twotheta", "2"])[0])]
    [('reset to the C default', '-twotheta 0')]
    """
    moves: list[tuple[str, Unit]] = []
    if unit.handler in COUNT_MIN and len(unit.values) == 1:
        value = _count(unit.values[0])
        low = COUNT_MIN[unit.handler]
        if value is not None and value > low:
            tries = sorted({v for v in (low, 2, 2 * low, value // 2) if low <= v < value})
            moves += [("reduced count", unit.with_values([str(v)])) for v in tries]
    default = C_DEFAULTS.get(unit.handler or "")
    if default is not None and len(unit.values) == len(default) and not _same_numbers(unit.values, default):
        moves.append(("reset to the C default", unit.with_values(default)))
    return moves


def _same_numbers(a: Sequence[str], b: Sequence[str]) -> bool:
    try:
        return all(float(x) == float(y) for x, y in zip(a, b))
    except ValueError:
        return tuple(a) == tuple(b)
