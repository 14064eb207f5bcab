"""C (glibc, x86-64) number conversions: ``%g``/``%f`` printing, ``atof``/``atoi``, the ``scanf``
``%lg``/``%d`` conversions and the double → ``unsigned short``/``unsigned char`` casts, so the
file writers and readers match the C byte for byte.

Why not just ``'%g' % x`` and ``float(text)``: Python prints ``nan`` where glibc prints ``-nan``
for a NaN with the sign bit, and ``float()`` accepts text the C rejects (``"1_0"``) and rejects
text the C reads (``"12abc"`` is 12 for ``atof``). Finite values format identically (both round
the exact binary value correctly), so the printing helpers only special-case NaN and infinity.

The scanners take a ``str`` and a start index and return ``(value, end)``; ``value is None``
means a matching failure (the C ``scanf`` would return early there).
"""
from __future__ import annotations

import math
import re

import numpy as np

__all__ = [
    "C_WHITESPACE", "c_g", "c_f", "c_atof", "c_atoi", "strtod_prefix",
    "scanf_double", "scanf_int", "int32_wrap", "c_cast_uint16", "c_cast_uint8",
]

C_WHITESPACE = " \t\n\v\f\r"   # isspace() in the C locale
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")

# strtod's grammar (longest valid prefix, with backtracking); hex is tried before decimal so
# "0x1p3" is not read as "0".
_STRTOD = re.compile(
    r"[+-]?(?:"
    r"(?P<inf>[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    r"|(?P<nan>[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)"
    r"|(?P<hex>0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    r"|(?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r")"
)
_SIMPLE_INT = re.compile(r"[+-]?[0-9]+")


def _special(x: float) -> str | None:
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def c_g(x: float, precision: int = 6) -> str:
    """``printf("%.<precision>g", x)`` as glibc prints it (``%g`` and ``%lg`` are the same)."""
    return _special(x) or "%.*g" % (precision, x)


def c_f(x: float, precision: int = 6) -> str:
    """``printf("%.<precision>f", x)`` as glibc prints it."""
    return _special(x) or "%.*f" % (precision, x)


def int32_wrap(value: int) -> int:
    """The low 32 bits of ``value`` as a signed C ``int`` (what a cast to ``int`` keeps)."""
    return ((int(value) + 2**31) % 2**32) - 2**31


def strtod_prefix(text: str, pos: int = 0) -> tuple[float | None, int]:
    """``strtod(text + pos)`` without skipping whitespace: (value, end) or (None, pos) if no number."""
    m = _STRTOD.match(text, pos)
    if m is None:
        return None, pos
    body = m.group(0)
    negative = body.startswith("-")
    if m.group("inf"):
        value = math.inf
    elif m.group("nan"):
        value = math.nan
    elif m.group("hex"):
        value = float.fromhex(m.group("hex"))
    else:
        value = float(m.group("dec"))
    if math.isnan(value):
        value = math.copysign(math.nan, -1.0 if negative else 1.0)
    elif negative:
        value = -value
    return value, m.end()


def c_atof(text: str) -> float:
    """``atof(text)``: leading C whitespace skipped, longest numeric prefix, 0.0 when there is none."""
    pos = len(text) - len(text.lstrip(C_WHITESPACE))
    value, _ = strtod_prefix(text, pos)
    return 0.0 if value is None else value


def c_atoi(text: str) -> int:
    """``atoi(text)`` as glibc does it: ``(int) strtol(text, NULL, 10)``, so out-of-range text is
    clamped to the 64-bit ``long`` range and then keeps its low 32 bits."""
    s = text.lstrip(C_WHITESPACE)
    m = _SIMPLE_INT.match(s)
    if m is None:
        return 0
    value = max(-(2**63), min(2**63 - 1, int(m.group(0))))
    return int32_wrap(value)


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in C_WHITESPACE:
        pos += 1
    return pos


def _collect_float(text: str, pos: int) -> tuple[str | None, int]:
    """The characters glibc's ``scanf`` collects for ``%lg`` (None on an early conversion error)."""
    n, start = len(text), pos
    if pos < n and text[pos] in "+-":
        pos += 1
    sign_len = pos - start
    low = text[pos:pos + 8].lower()
    if low.startswith("n"):
        return (text[start:pos + 3], pos + 3) if low.startswith("nan") else (None, pos)
    if low.startswith("i"):
        if not low.startswith("inf"):
            return None, pos
        if low[3:4] == "i":
            return (text[start:pos + 8], pos + 8) if low == "infinity" else (None, pos)
        return text[start:pos + 3], pos + 3
    hexa = got_digit = got_e = got_dot = False
    if pos < n and text[pos] == "0":
        pos += 1
        if pos < n and text[pos] in "xX":
            pos += 1
            hexa = True
        else:
            got_digit = True
    exp_char = "p" if hexa else "e"
    while pos < n:
        c = text[pos]
        if c in _DIGITS or (hexa and not got_e and c in _HEXDIGITS):
            got_digit = True
        elif got_e and text[pos - 1].lower() == exp_char and c in "+-":
            pass
        elif got_digit and not got_e and c.lower() == exp_char:
            got_e = got_dot = True
        elif not got_dot and c == ".":
            got_dot = True
        else:
            break
        pos += 1
    if pos - start == sign_len or (hexa and pos - start - sign_len == 2):
        return None, pos
    return text[start:pos], pos


def scanf_double(text: str, pos: int) -> tuple[float | None, int]:
    """One ``scanf("%lg")`` conversion at ``pos`` (whitespace skipped first): (value, end)."""
    pos = _skip_ws(text, pos)
    chars, end = _collect_float(text, pos)
    if chars is None:
        return None, end
    value, used = strtod_prefix(chars, 0)
    if value is None or used == 0:
        return None, end
    return value, end


def scanf_int(text: str, pos: int) -> tuple[int | None, int]:
    """One ``scanf("%d")`` conversion at ``pos``: sign and decimal digits, value kept to 32 bits
    the way glibc stores an out-of-range ``long`` into an ``int``."""
    pos = _skip_ws(text, pos)
    m = _SIMPLE_INT.match(text, pos)
    if m is None:
        return None, pos + (1 if pos < len(text) and text[pos] in "+-" else 0)
    value = max(-(2**63), min(2**63 - 1, int(m.group(0))))
    return int32_wrap(value), m.end()


def _c_cast_unsigned(values, mask: int, dtype) -> np.ndarray:
    v = np.asarray(values)
    if v.dtype.kind != "f":
        v = v.astype(np.float64)
    if v.size and 0.0 <= float(v.min()) and float(v.max()) < mask + 1.0:   # NaN fails both tests
        return v.astype(dtype)               # all in [0, mask]: plain truncation, one pass
    v = np.trunc(v.astype(np.float64))
    ok = np.isfinite(v) & (v >= -2.0**31) & (v < 2.0**31)
    return (np.where(ok, v, 0.0).astype(np.int64) & mask).astype(dtype)


def c_cast_uint16(values) -> np.ndarray:
    """``(unsigned short) double`` as gcc compiles it on x86-64: truncate to a 32-bit ``int``
    (``cvttsd2si``; NaN and out-of-range give ``0x80000000``) and keep the low 16 bits, so -95.0
    becomes 65441 and NaN becomes 0. In range [0, 65535] this is plain truncation."""
    return _c_cast_unsigned(values, 0xFFFF, np.uint16)


def c_cast_uint8(values) -> np.ndarray:
    """``(unsigned char) double`` on x86-64 gcc: as :func:`c_cast_uint16`, keeping the low 8 bits."""
    return _c_cast_unsigned(values, 0xFF, np.uint8)
