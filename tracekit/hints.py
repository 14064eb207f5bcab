"""Classification hints for a divergent tap, from its values alone: what kind of bug the numbers
look like, as a `Hint(cls, text, check)` with one of the canonical classes (CLASSES).

Checks, in order: NaN/Inf; sign flip (cand = -ref); permuted components (axis swap, possibly
with sign changes); a shift of 1/2 or 1 pixel in a position tap; ratio = 10^k (unit suspect,
naming the unit pairs with that factor) or another known unit factor (deg/rad, 2*pi), judged on
the dominant components (components near zero relative to the vector's norm carry no ratio); a
constant factor shared by downstream divergent taps; a precision-level difference. The hints
that need the tap's place in the computation (pivot, float32, phi carry-over, mosaic, sampling,
a missing factor) are `tracekit.diagnose`.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

AXES = "xyz"
CLASSES = ("non_finite", "sign_flip", "swapped_components", "half_pixel", "unit_power_of_ten", "unit_factor",
           "constant_factor", "detector_pivot", "beam_center", "float32_precision", "phi0_carryover",
           "mosaic_rng", "sampling", "trace_inconsistent", "precision", "unknown")

#: One short sentence per class: what to check in the port.
CHECKS: dict[str, str] = {
    "non_finite": "check where the NaN/Inf first appears upstream (a division by zero: sin(pi*h) at integer h, "
                  "a zero-length vector, log of 0)",
    "sign_flip": "check the sign convention of this vector (axis directions of the detector convention, "
                 "incident vs diffracted order in q = (d - i)/lambda)",
    "swapped_components": "check the axis order: fast/slow vs x/y/z, and the convention's basis vectors "
                          "(MOSFLM, XDS, DIALS...)",
    "half_pixel": "check the beam-centre convention: MOSFLM adds half a pixel and swaps X/Y (Fbeam = Ybeam + "
                  "0.5 px), DENZO swaps without the half pixel, CUSTOM does neither; and pixel centre vs corner",
    "unit_power_of_ten": "check the unit of this value and of the factor that carries it (mm vs m, A vs m, "
                         "m^-1 vs A^-1: the catalogue's unit is the truth, whatever the label says)",
    "unit_factor": "check angle units (degrees vs radians) and 2*pi conventions in this value",
    "constant_factor": "check the factor that differs: a scale factor left out or applied twice "
                       "(polarization, solid angle, capture fraction, fluence, r_e^2, 1/steps)",
    "detector_pivot": "check which pivot your port uses: MOSFLM/ADXV/DENZO force BEAM and XDS/DIALS force "
                      "SAMPLE whatever -pivot says; only under CUSTOM does the last pivot flag win "
                      "(-twotheta, -close_distance, -Xclose, -ORGX select SAMPLE; -distance, -Xbeam select BEAM)",
    "beam_center": "check how your port turns -Xbeam/-Ybeam into Fbeam/Sbeam for this convention "
                   "(swap, +0.5 px, detsize - Y for ADXV) and which of X/Y is fast",
    "float32_precision": "compute sin(N*pi*h)/sin(pi*h) (and the dot products giving h) in float64 as the C "
                         "does: at a large Miller index float32 loses the digits that matter",
    "phi0_carryover": "check phi = 0: the C skips the rotation when phi == 0 and keeps the previous rotation "
                      "(ap/bp/cp carry over from the last phi step); emulate it or trace with phi != 0",
    "mosaic_rng": "check the mosaic domain matrices: the C draws them with its ran1 generator from "
                  "-mosaic_seed (3 draws per domain, domain 0 then reset to identity)",
    "sampling": "check the sampling rule: auto-selected oversample (ceil(3 * xtal size / (lambda * distance "
                "/ pixel))), sub-pixel centres, thickness steps, and steps = sources * mosaic * phi * os^2",
    "trace_inconsistent": "print the taps from the tensors the image is computed from (an identity tap on the "
                          "live value), not values re-derived after the fact",
    "precision": "a precision-level difference: operation order or dtype; loosen nothing, check the dtype",
    "unknown": "compare the inputs of this tap one by one (the context rows above it)",
}

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
_DOMINANT = 1e-6     # components below this fraction of the vector's norm carry no ratio


@dataclass(frozen=True)
class Hint:
    """A classified hint: canonical class, a one-line text, and what to check."""

    cls: str
    text: str
    check: str = ""

    def __post_init__(self) -> None:
        if self.cls not in CLASSES:
            raise ValueError(f"unknown hint class {self.cls!r}")
        if not self.check:
            object.__setattr__(self, "check", CHECKS[self.cls])

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, str]:
        return {"class": self.cls, "text": self.text, "check": self.check}


def classify(ref: Sequence, cand: Sequence, *, position: bool = False, pixel_m: float | None = None,
             downstream: Sequence[tuple[str, Sequence, Sequence]] = (), tight: float = _TIGHT) -> Hint:
    """The hint for a divergence between value tuples `ref` and `cand` (see module docstring).

    `downstream` holds (tap, ref, cand) of later divergent taps, for the shared-factor check;
    `tight` is the relative agreement a factor or a permutation must show (looser for float32).
    """
    if any(isinstance(v, str) for v in (*ref, *cand)):
        return Hint("unknown", "different text")
    if len(ref) != len(cand):
        return Hint("unknown", f"component count differs ({len(ref)} vs {len(cand)})")
    r, c = [float(v) for v in ref], [float(v) for v in cand]
    bad = [i for i, v in enumerate(c) if not math.isfinite(v)]
    if bad or any(not math.isfinite(v) for v in r):
        side = "candidate" if bad else "reference"
        vals = c if bad else r
        i = bad[0] if bad else next(i for i, v in enumerate(r) if not math.isfinite(v))
        return Hint("non_finite", f"non-finite value in the {side}: component {i} is {vals[i]} (NaN/Inf propagation)")
    scale = max(_norm(r), _norm(c))
    if scale == 0:
        return Hint("unknown", "both zero")
    if _close(c, [-x for x in r], scale, tight):
        return Hint("sign_flip", "sign flip (cand = -ref): opposite axis direction or convention sign")
    if len(r) in (2, 3):
        perm = _permutation(r, c, scale, tight)
        if perm:
            return perm
    if position and pixel_m:
        shift = _pixel_shift(r, c, pixel_m)
        if shift:
            return Hint("half_pixel", shift)
    ratio = common_ratio(r, c, tight)
    if ratio is not None and ratio != 1.0:
        unit = unit_hint(ratio, tight)
        if unit is None and unit_hint(-ratio, tight):
            unit = unit_hint(-ratio, tight) + ", with a sign flip"
        shared = _shared(ratio, downstream, tight)
        if unit or shared or abs(ratio - 1) > 1e-4:
            text = unit or f"constant factor {ratio:.9g}"
            if shared:
                text += f"; the same factor appears in {len(shared)} downstream tap(s) ({', '.join(shared[:4])})"
            cls = "unit_power_of_ten" if unit and unit.startswith("ratio = 1e") else "unit_factor" if unit else "constant_factor"
            return Hint(cls, text)
    rel = max(abs(a - b) for a, b in zip(r, c)) / scale
    if rel < 1e-5:
        return Hint("precision", f"small relative difference {rel:.2g}: precision level (dtype, operation order)")
    return Hint("unknown", f"relative difference {rel:.3g}")


def unit_hint(ratio: float, tight: float = _TIGHT) -> str | None:
    """Name the unit mix-up a factor cand/ref points to, if any."""
    if ratio <= 0:
        return None
    k = math.log10(ratio)
    if abs(k - round(k)) < max(tight, 1e-7) / math.log(10) and round(k) != 0:
        power = 10.0 ** round(k)
        pairs = UNIT_FACTORS.get(power, "")
        return f"ratio = 1e{round(k)}: unit suspect" + (f" ({pairs})" if pairs else "")
    for factor, text in OTHER_FACTORS.items():
        if abs(ratio / factor - 1) < tight:
            return f"ratio = {ratio:.9g}: {text}"
    return None


def common_ratio(r: Sequence[float], c: Sequence[float], tight: float = _TIGHT) -> float | None:
    """cand/ref when one factor relates the dominant components (others near zero on both sides)."""
    n = max(_norm(r), 1e-300)
    m = max(_norm(c), 1e-300)
    dominant = [(a, b) for a, b in zip(r, c) if abs(a) > _DOMINANT * n]
    if not dominant or any(abs(b) > _DOMINANT * m * 10 for a, b in zip(r, c) if abs(a) <= _DOMINANT * n):
        return None
    ratios = [b / a for a, b in dominant]
    first = ratios[0]
    if first != 0 and all(abs(x / first - 1) < tight for x in ratios):
        return first
    return None


def _permutation(r: list[float], c: list[float], scale: float, tight: float) -> Hint | None:
    n = len(r)
    sign_sets = sorted(itertools.product((1, -1), repeat=n), key=lambda s: s.count(-1))
    for signs in sign_sets:
        for perm in itertools.permutations(range(n)):
            if perm == tuple(range(n)) and all(s == 1 for s in signs):
                continue
            if perm == tuple(range(n)) and all(s == -1 for s in signs):
                continue
            moved = [signs[i] * r[perm[i]] for i in range(n)]
            if not _close(c, moved, scale, tight) or _close(c, r, scale, tight):
                continue
            swaps = [f"{AXES[i]}<-{'-' if signs[i] < 0 else ''}{AXES[perm[i]]}" for i in range(n)
                     if perm[i] != i or signs[i] < 0]
            if perm != tuple(range(n)):
                return Hint("swapped_components", f"components permuted: axis swap (cand {' '.join(swaps)}); "
                            "check axis conventions (fast/slow, MOSFLM/XDS)")
            return Hint("sign_flip", f"components permuted: sign flip on some axes (cand {' '.join(swaps)}); "
                        "check axis conventions (fast/slow, MOSFLM/XDS)")
    return None


def _pixel_shift(r: list[float], c: list[float], pixel_m: float) -> str | None:
    d = math.sqrt(sum((a - b) ** 2 for a, b in zip(r, c)))
    for frac, text in ((0.5, "half a pixel"), (1.0, "one pixel")):
        if abs(d - frac * pixel_m) <= 0.01 * pixel_m:
            return (f"position differs by {text} ({d:.6g} m, pixel {pixel_m * 1e3:g} mm): "
                    "pixel centre vs corner, MOSFLM +0.5 px offset or Fbeam/Sbeam swap")
    return None


def _shared(ratio: float, downstream: Sequence[tuple[str, Sequence, Sequence]], tight: float) -> list[str]:
    out = []
    for tap, ref, cand in downstream:
        try:
            rr, cc = [float(v) for v in ref], [float(v) for v in cand]
        except (TypeError, ValueError):
            continue
        other = common_ratio(rr, cc, tight)
        if other is not None and abs(other / ratio - 1) < tight and tap not in out:
            out.append(tap)
    return out


def _close(a: list[float], b: list[float], scale: float, tight: float) -> bool:
    return all(abs(x - y) <= tight * scale for x, y in zip(a, b))


def _norm(v: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in v))
