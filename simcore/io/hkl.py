"""The C program's structure-factor files: the ``-hkl`` text reader and ``Fdump.bin``.

``-hkl`` (two passes over the file, as the C does):

1. ``while (fscanf("%lg%lg%lg%lg") == 4)``: a **stream of 4-number groups**, not lines. The first
   token that does not parse (a comment, a header word) ends the file for the C; 5- or 6-column
   files (sigma, phase) are read out of step. Each group updates the ``int`` min/max (a double
   assigned to an ``int``: truncation toward zero) and warns when ``h != ceil(h-0.4)``.
   A negative range (no groups at all) is the C's exit 9.
2. The grid is ``(range+1)³`` with ``range = max − min + 1`` (one zero slot of padding per axis),
   prefilled with ``default_F`` over ``[0, range)`` when ``default_F != 0``.
3. ``while (fscanf("%d%d%d%lg") == 4) F[h-hmin][k-kmin][l-lmin] = F``: integer indices, so a
   non-integer index token (``1.0``, ``1e2``) ends pass 2 there, and the values after it stay
   ``default_F``/0 although pass 1 counted them.

Besides the C's own warnings, :class:`HklGrid` reports what a caller needs to refuse or flag a file
the C would read out of step: non-blank lines without exactly 4 numbers, where pass 1 stopped
before the end, and where pass 2 stopped before pass 1.

``Fdump.bin``: ``"%d %d %d %d %d %d\\n\\f"`` then, for h in 0..h_range and k in 0..k_range,
``l_range+1`` native doubles. The C reads the header back with ``fscanf("%d%d%d%d%d%d\\n\\f")``,
whose whitespace directives also swallow any leading data bytes that happen to be C whitespace
(0x09–0x0d, 0x20), shifting the grid; :func:`read_fdump` does the same and says so in ``warnings``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simcore.cfmt import C_WHITESPACE, c_g, int32_wrap, scanf_double, scanf_int
from tracekit.atomic import read_input_bytes
from simcore.errors import SimcoreInputError
from simcore.io.smv import write_bytes_atomic

__all__ = ["HklGrid", "read_hkl", "write_fdump", "fdump_bytes", "read_fdump", "MAX_GRID_CELLS"]

MAX_GRID_CELLS = 2**28          # 2 GiB of doubles; larger grids are refused, not allocated
_TOKEN = re.compile(r"[^ \t\n\v\f\r]+")
_SIMPLE_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SIMPLE_INT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class HklGrid:
    """A structure-factor grid as the C holds it.

    ``F``: float64 ``(h_range+1, k_range+1, l_range+1)``, indexed ``[h-h_min, k-k_min, l-l_min]``;
    the last slot of each axis is padding. ``hkls``: the C's count (groups read in pass 1, or
    ``h_range·k_range·l_range`` for an Fdump file). ``warnings``: the C's printed warnings plus ours.
    ``odd_lines``: 1-based numbers of non-blank lines that do not hold exactly 4 whitespace-separated
    numbers (first 20); ``n_odd_lines`` counts them all. ``pass1_stop_line``/``pass2_stop_line``:
    the line where a pass met text it could not parse (``None``: it read to the end).
    """

    F: np.ndarray
    h_min: int
    h_max: int
    k_min: int
    k_max: int
    l_min: int
    l_max: int
    hkls: int
    warnings: tuple[str, ...] = ()
    odd_lines: tuple[int, ...] = ()
    n_odd_lines: int = 0
    pass1_stop_line: int | None = None
    pass2_stop_line: int | None = None

    @property
    def h_range(self) -> int:
        return self.h_max - self.h_min + 1

    @property
    def k_range(self) -> int:
        return self.k_max - self.k_min + 1

    @property
    def l_range(self) -> int:
        return self.l_max - self.l_min + 1

    @property
    def column_mismatch(self) -> bool:
        """True when some non-blank line does not hold exactly 4 numbers (e.g. phase/sigma columns)."""
        return self.n_odd_lines > 0


class _Scanner:
    """``fscanf`` conversions over a text, token by token (no conversion spans whitespace)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        self.ti = 0            # current token
        self.pos = self.spans[0][0] if self.spans else 0

    def _token(self) -> tuple[int, int] | None:
        while self.ti < len(self.spans):
            start, end = self.spans[self.ti]
            if self.pos < end:
                self.pos = max(self.pos, start)
                return start, end
            self.ti += 1
        return None

    def double(self) -> float | None:
        span = self._token()
        if span is None:
            return None
        start, end = span
        if self.pos == start and _SIMPLE_FLOAT.fullmatch(self.text, start, end):
            self.pos = end
            return float(self.text[start:end])
        value, rel = scanf_double(self.text[start:end], self.pos - start)
        self.pos = start + rel
        return value

    def int(self) -> int | None:
        span = self._token()
        if span is None:
            return None
        start, end = span
        if self.pos == start and _SIMPLE_INT.fullmatch(self.text, start, end):
            self.pos = end
            return int32_wrap(max(-(2**63), min(2**63 - 1, int(self.text[start:end]))))
        value, rel = scanf_int(self.text[start:end], self.pos - start)
        self.pos = start + rel
        return value

    def line_no(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    def at_end(self) -> bool:
        return self._token() is None


def _c_int(value: float) -> int:
    """``(int) double`` on x86-64: truncation toward zero; NaN/out of range give INT_MIN."""
    if not math.isfinite(value) or not -2.0**31 <= math.trunc(value) < 2.0**31:
        return -(2**31)
    return int(math.trunc(value))


def _non_integer(v: float) -> bool:
    """The C test ``v != ceil(v - 0.4)``."""
    return not v == float(np.ceil(v - 0.4))


def _pass1(text: str):
    sc = _Scanner(text)
    lo = [10**9] * 3
    hi = [-(10**9)] * 3
    hkls, warnings = 0, []
    while True:
        vals = []
        for _ in range(4):
            v = sc.double()
            if v is None:
                break
            vals.append(v)
        if len(vals) < 4:
            break
        for axis, v in zip("hkl", vals[:3]):
            if _non_integer(v):
                warnings.append(f"WARNING: non-integer value for {axis} ({c_g(v)}) at line {hkls}")
        for i, v in enumerate(vals[:3]):
            if lo[i] > v:
                lo[i] = _c_int(v)
            if hi[i] < v:
                hi[i] = _c_int(v)
        hkls += 1
    stop = None if sc.at_end() else sc.line_no()
    return lo, hi, hkls, warnings, stop


def _odd_lines(text: str) -> tuple[list[int], int]:
    odd, n = [], 0
    for i, line in enumerate(text.split("\n"), start=1):
        toks = _TOKEN.findall(line)
        if toks and (len(toks) != 4 or not all(_SIMPLE_FLOAT.fullmatch(t) for t in toks)):
            n += 1
            if len(odd) < 20:
                odd.append(i)
    return odd, n


def read_hkl(path, *, default_F: float = 0.0, max_cells: int = MAX_GRID_CELLS) -> HklGrid:
    """Read an ``-hkl`` text file exactly as the C does (see the module notes).

    Raises :class:`SimcoreInputError` (``c_exit_code=9``) for a file with no 4-number group, and
    for a grid over ``max_cells`` cells or an index outside the grid in pass 2 (the C would
    allocate gigabytes or write outside its arrays there).
    """
    path = Path(path)
    text = read_input_bytes(path).decode("latin-1")
    lo, hi, hkls, warnings, stop1 = _pass1(text)
    ranges = [int32_wrap(hi[i] - lo[i] + 1) for i in range(3)]
    if min(ranges) < 0:
        raise SimcoreInputError(f"not enough HKL indices in {path}", c_exit_code=9)
    cells = math.prod(r + 1 for r in ranges)
    if cells > max_cells:
        raise SimcoreInputError(
            f"{path}: HKL grid of {ranges[0] + 1}x{ranges[1] + 1}x{ranges[2] + 1} cells is too "
            f"large (h {lo[0]}..{hi[0]}, k {lo[1]}..{hi[1]}, l {lo[2]}..{hi[2]}); "
            "are there extra columns?")
    F = np.zeros([r + 1 for r in ranges], dtype=np.float64)
    if default_F != 0.0:
        F[:ranges[0], :ranges[1], :ranges[2]] = default_F
    sc = _Scanner(text)
    groups2 = 0
    while True:
        h, k, l = sc.int(), None, None
        if h is not None:
            k = sc.int()
        if k is not None:
            l = sc.int()
        f = sc.double() if l is not None else None
        if f is None:
            break
        idx = (h - lo[0], k - lo[1], l - lo[2])
        if not all(0 <= i <= r for i, r in zip(idx, ranges)):
            raise SimcoreInputError(
                f"{path}: pass 2 index ({h}, {k}, {l}) lies outside the grid from pass 1 "
                "(the C would write outside its array)")
        F[idx] = f
        groups2 += 1
    stop2 = None if sc.at_end() else sc.line_no()
    odd, n_odd = _odd_lines(text)
    if n_odd:
        warnings.append(f"WARNING: {n_odd} line(s) of {path} do not hold exactly 4 numbers "
                        f"(first: line {odd[0]}); the C reads the file as a stream of 4-number "
                        "groups, so extra columns are read out of step")
    if stop1 is not None:
        warnings.append(f"WARNING: {path}: reading stopped at line {stop1} (not a number); "
                        "the rest of the file is ignored, as in the C")
    if groups2 < hkls:
        warnings.append(f"WARNING: {path}: integer re-read stopped at line {stop2} after "
                        f"{groups2} of {hkls} entries (a non-integer h, k or l); "
                        "the remaining entries keep default_F, as in the C")
    return HklGrid(F=F, h_min=lo[0], h_max=hi[0], k_min=lo[1], k_max=hi[1], l_min=lo[2],
                   l_max=hi[2], hkls=hkls, warnings=tuple(warnings), odd_lines=tuple(odd),
                   n_odd_lines=n_odd, pass1_stop_line=stop1, pass2_stop_line=stop2)


# ---- Fdump.bin ----------------------------------------------------------------------------------
def fdump_bytes(grid: HklGrid) -> bytes:
    """The bytes the C writes to ``Fdump.bin`` for this grid (native-endian doubles)."""
    head = (f"{grid.h_min} {grid.h_max} {grid.k_min} {grid.k_max} {grid.l_min} {grid.l_max}"
            "\n\f").encode("ascii")
    return head + np.ascontiguousarray(grid.F, dtype=np.float64).tobytes()


def write_fdump(path, grid: HklGrid, *, overwrite: bool = False) -> Path:
    """Write ``Fdump.bin`` byte-compatible with the C (atomically; refuses to overwrite unless asked)."""
    return write_bytes_atomic(path, fdump_bytes(grid), overwrite=overwrite)


def read_fdump(path, *, max_cells: int = MAX_GRID_CELLS) -> HklGrid:
    """Read ``Fdump.bin`` the C's way: ``hkls = h_range·k_range·l_range``; a short file leaves
    zeros; leading data bytes that are C whitespace are swallowed by the header's ``\\n\\f``."""
    path = Path(path)
    raw = read_input_bytes(path)
    text = raw[:4096].decode("latin-1")
    pos, vals = 0, []
    for _ in range(6):
        v, pos = scanf_int(text, pos)
        if v is None:
            raise SimcoreInputError(f"{path}: not an Fdump file (header needs 6 integers)")
        vals.append(v)
    start = pos
    while start < len(raw) and chr(raw[start]) in C_WHITESPACE:
        start += 1
    h_min, h_max, k_min, k_max, l_min, l_max = vals
    ranges = [int32_wrap(h_max - h_min + 1), int32_wrap(k_max - k_min + 1),
              int32_wrap(l_max - l_min + 1)]
    if min(ranges) < 0 or math.prod(r + 1 for r in ranges) > max_cells:
        raise SimcoreInputError(f"{path}: unusable Fdump index ranges {vals}")
    shape = [r + 1 for r in ranges]
    need = 8 * math.prod(shape)
    data = bytearray(need)
    chunk = raw[start:start + need]
    data[:len(chunk)] = chunk
    warnings = []
    if start - pos > 2 or (start - pos == 2 and raw[pos:start] != b"\n\f"):
        warnings.append(f"WARNING: {path}: the header's whitespace directives swallowed "
                        f"{start - pos} byte(s); data bytes are shifted, as in the C")
    if len(chunk) < need:
        warnings.append(f"WARNING: {path}: {need - len(chunk)} byte(s) of data missing; zeros used")
    F = np.frombuffer(bytes(data), dtype=np.float64).reshape(shape).copy()
    return HklGrid(F=F, h_min=h_min, h_max=h_max, k_min=k_min, k_max=k_max, l_min=l_min,
                   l_max=l_max, hkls=ranges[0] * ranges[1] * ranges[2], warnings=tuple(warnings))
