"""Classification hints for a divergent tap: what kind of bug the numbers look like.

Checks, in order: NaN/Inf; sign flip (cand = -ref); permuted components (axis swap, possibly
with sign changes); a shift of 1/2 or 1 pixel in a position tap; ratio = 10^k (unit suspect,
naming the unit pairs with that factor) or another known unit factor (deg/rad, 2*pi); a constant
factor shared by downstream divergent taps; a precision-level difference.
"""
from __future__ import annotations

import itertools
import math
from typing import Sequence

AXES = "xyz"

#: factor cand/ref -> unit pairs that produce it (ref unit -> cand unit).
UNIT_FACTORS: dict[float, str] = {
    1e10: "m -> A (x1e10)", 1e-10: "A -> m (x1e-10)",
    1e3: "m -> mm, rad -> mrad or mm -> um (x1e3)", 1e-3: "mm -> m, mrad -> rad or um -> mm (x1e-3)",
    1e6: "m -> um (x1e6)", 1e-6: "um -> m (x1e-6)",
    1e7: "mm -> A (x1e7)", 1e-7: "A -> mm (x1e-7)",
    1e4: "um -> A (x1e4)", 1e-4: "A -> um (x1e-4)",
    1e9: "m -> nm (x1e9)", 1e-9: "nm -> m (x1e-9)",
    1e20: "m^2 -> A^2 or A^-2 -> m^-2 (x1e20)", 1e-20: "A^2 -> m^2 (x1e-20)",
    1e2: "m -> cm or fraction -> percent (x100)", 1e-2: "cm -> m or percent -> fraction (x0.01)",
    10.0: "nm -> A (x10)", 0.1: "A -> nm (x0.1)",
}
OTHER_FACTORS: dict[float, str] = {
    180 / math.pi: "rad -> deg", math.pi / 180: "deg -> rad",
    2 * math.pi: "missing 2*pi (cycles vs radians, q vs 1/d)", 1 / (2 * math.pi): "extra 2*pi",
    2.0: "factor 2 (sin(theta)/lambda vs |q|, half-angle?)", 0.5: "factor 1/2 (|q| vs sin(theta)/lambda?)",
}
_TIGHT = 1e-6


def classify(ref: Sequence, cand: Sequence, *, position: bool = False, pixel_m: float | None = None,
             downstream: Sequence[tuple[str, Sequence, Sequence]] = ()) -> str:
    """A one-line hint for a divergence between value tuples `ref` and `cand`.

    `downstream` holds (tap, ref, cand) of later divergent taps, for the shared-factor check.
    """
    if any(isinstance(v, str) for v in (*ref, *cand)):
        return "different text"
    if len(ref) != len(cand):
        return f"component count differs ({len(ref)} vs {len(cand)})"
    r, c = [float(v) for v in ref], [float(v) for v in cand]
    bad = [i for i, v in enumerate(c) if not math.isfinite(v)]
    if bad or any(not math.isfinite(v) for v in r):
        side = "candidate" if bad else "reference"
        vals = c if bad else r
        i = bad[0] if bad else next(i for i, v in enumerate(r) if not math.isfinite(v))
        return f"non-finite value in the {side}: component {i} is {vals[i]} (NaN/Inf propagation)"
    scale = max(_norm(r), _norm(c))
    if scale == 0:
        return "both zero"
    if _close(c, [-x for x in r], scale):
        return "sign flip (cand = -ref): opposite axis direction or convention sign"
    if len(r) in (2, 3):
        perm = _permutation(r, c, scale)
        if perm:
            return perm
    if position and pixel_m:
        shift = _pixel_shift(r, c, pixel_m)
        if shift:
            return shift
    ratio = _common_ratio(r, c)
    if ratio is not None and ratio != 1.0:
        unit = unit_hint(ratio) or (unit_hint(-ratio) and unit_hint(-ratio) + ", with a sign flip")
        shared = _shared(ratio, downstream)
        if unit or shared or abs(ratio - 1) > 1e-4:
            text = unit or f"constant factor {ratio:.9g}"
            if shared:
                text += f"; the same factor appears in {len(shared)} downstream tap(s) ({', '.join(shared[:4])})"
            return text
    rel = max(abs(a - b) for a, b in zip(r, c)) / scale
    if rel < 1e-5:
        return f"small relative difference {rel:.2g}: precision level (dtype, operation order)"
    return f"relative difference {rel:.3g}"


def unit_hint(ratio: float) -> str | None:
    """Name the unit mix-up a factor cand/ref points to, if any."""
    if ratio <= 0:
        return None
    k = math.log10(ratio)
    if abs(k - round(k)) < 1e-6 and round(k) != 0:
        power = 10.0 ** round(k)
        pairs = UNIT_FACTORS.get(power, "")
        return f"ratio = 1e{round(k)}: unit suspect" + (f" ({pairs})" if pairs else "")
    for factor, text in OTHER_FACTORS.items():
        if abs(ratio / factor - 1) < _TIGHT:
            return f"ratio = {ratio:.9g}: {text}"
    return None


def _permutation(r: list[float], c: list[float], scale: float) -> str | None:
    n = len(r)
    sign_sets = sorted(itertools.product((1, -1), repeat=n), key=lambda s: s.count(-1))
    for signs in sign_sets:
        for perm in itertools.permutations(range(n)):
            if perm == tuple(range(n)) and all(s == 1 for s in signs):
                continue
            if perm == tuple(range(n)) and all(s == -1 for s in signs):
                continue
            moved = [signs[i] * r[perm[i]] for i in range(n)]
            if not _close(c, moved, scale) or _close(c, r, scale):
                continue
            swaps = [f"{AXES[i]}<-{'-' if signs[i] < 0 else ''}{AXES[perm[i]]}" for i in range(n)
                     if perm[i] != i or signs[i] < 0]
            kind = "axis swap" if perm != tuple(range(n)) else "sign flip on some axes"
            return f"components permuted: {kind} (cand {' '.join(swaps)}); check axis conventions (fast/slow, MOSFLM/XDS)"
    return None


def _pixel_shift(r: list[float], c: list[float], pixel_m: float) -> str | None:
    d = math.sqrt(sum((a - b) ** 2 for a, b in zip(r, c)))
    for frac, text in ((0.5, "half a pixel"), (1.0, "one pixel")):
        if abs(d - frac * pixel_m) <= 0.01 * pixel_m:
            return (f"position differs by {text} ({d:.6g} m, pixel {pixel_m * 1e3:g} mm): "
                    "pixel centre vs corner, MOSFLM +0.5 px offset or Fbeam/Sbeam swap")
    return None


def _common_ratio(r: list[float], c: list[float]) -> float | None:
    ratios = [b / a for a, b in zip(r, c) if a != 0]
    zeros_ok = all(b == 0 or abs(b) < 1e-12 * max(map(abs, c)) for a, b in zip(r, c) if a == 0)
    if not ratios or not zeros_ok:
        return None
    first = ratios[0]
    if all(abs(x / first - 1) < _TIGHT for x in ratios):
        return first
    return None


def _shared(ratio: float, downstream: Sequence[tuple[str, Sequence, Sequence]]) -> list[str]:
    out = []
    for tap, ref, cand in downstream:
        try:
            rr, cc = [float(v) for v in ref], [float(v) for v in cand]
        except (TypeError, ValueError):
            continue
        other = _common_ratio(rr, cc)
        if other is not None and abs(other / ratio - 1) < _TIGHT and tap not in out:
            out.append(tap)
    return out


def _close(a: list[float], b: list[float], scale: float) -> bool:
    return all(abs(x - y) <= _TIGHT * scale for x, y in zip(a, b))


def _norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))
