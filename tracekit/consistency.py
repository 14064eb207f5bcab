"""Checks that need no reference: is a trace the live computation?

Consistency: downstream taps are recomputed from the trace's own upstream taps with the C's
formulas (nanobragg-reference.md; values in the catalogue's units, e.g. q in m^-1) and compared
under the tolerance of the candidate's dtype and of its print precision:

  pixel_distance        R = |P|                      diffracted_direction  d = P / |P|
  obliquity             close_distance / R           wavelength_units      lambda_A = 1e10 * lambda_m
  scattering_vector     q = (d - i) / lambda         miller_indices        h = (1e-10 a_A) . q, ...
  rounding              h0 = ceil(h - 1/2)           lattice_factors       F_latt_a = sincg(pi h, Na) (SQUARE)
  lattice_product       F_latt = F_a F_b F_c         intensity_sum         I = sum of F_cell^2 F_latt^2
  final_scaling         I_pixel = r_e^2 fluence I / steps (x capture, polar, omega unless os_*)
  classical_radius      r_e_sqr = r_e^2              stored_value          floatimage = float32(I_pixel)
  source2_products      SOURCE2 squares and contribution

A check runs only where its inputs are printed (and, for intensity_sum, where the printed terms
are all the terms: steps x detector layers blocks, no -water background, no -oversample_* flag).
N for the lattice factors comes from the configuration printout when there is one, else the
smallest N that fits is inferred (and must fit every block). A trace that prints no loop sizes
(a port's one-block trace) borrows them from `run_config`, the configuration of the same run
printed by the other side (the reference): only the keys of RUN_KEYS, and only to decide that a
check cannot judge (a sum of 2 layers against 1 printed block), never as values to check against.
Closure: the trace's final pixel value must equal the image's pixel (`check_closure`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from tracekit.consistency_rules import RUN_KEYS, Check, Consistency, fit_n, num, run_checks, sincg
from tracekit.errors import TraceParseError, TraceUsageError
from tracekit.records import SETUP_INDEX, LoopIndex
from tracekit.tolerance import class_tolerances
from tracekit.trace import ParsedTrace

_U32 = 2.0 ** -24
__all__ = ["RUN_KEYS", "Check", "Closure", "Consistency", "check_closure", "check_consistency", "fit_n", "read_image",
           "sincg", "trace_pixel"]


@dataclass(frozen=True)
class Closure:
    """The trace's final value against the image pixel."""

    ok: bool | None
    trace_value: float | None
    image_value: float | None
    pixel: tuple[int, int]
    tap: str | None
    rel_err: float = 0.0
    tol: float = 0.0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "trace_value": self.trace_value, "image_value": self.image_value,
                "pixel": list(self.pixel), "tap": self.tap, "rel_err": num(self.rel_err), "tol": self.tol,
                "note": self.note}


def check_consistency(trace: ParsedTrace, *, dtype: str | None = None,
                      config: Mapping[str, Any] | None = None,
                      run_config: Mapping[str, Any] | None = None) -> Consistency:
    """Recompute what the trace's own taps imply (see module docstring). `config` is the trace's
    own configuration; `run_config` (the reference's, same arguments) fills only the RUN_KEYS the
    trace does not print itself, which can only make a check skip."""
    dtype = dtype or trace.dtype
    merged = {k: v for k, v in (run_config or {}).items() if k in RUN_KEYS}
    merged.update(config or {})
    return run_checks(_View(trace, dtype, merged))


class _View:
    """What the checks read: block taps by block, pixel-level taps, tolerances, config."""

    def __init__(self, trace: ParsedTrace, dtype: str, config: dict) -> None:
        self.trace, self.dtype, self.config = trace, dtype, config
        self.classes = class_tolerances(dtype)
        self.print_rel = 10.0 ** (1 - _print_digits(trace))
        self.blocks: dict[tuple, dict[str, Any]] = {}
        self.source2: dict[tuple, dict[str, Any]] = {}
        self.pixel: dict[str, Any] = {}
        first_pixel_blocks = trace.stats.blocks_per_pixel[0] if trace.stats.blocks_per_pixel else None
        for (tap, idx), rec in trace.records.items():
            values = _true_values(trace, tap, rec.values)
            if idx == SETUP_INDEX or (idx.source is None and idx.layer is None and idx.occurrence == 0):
                self.pixel.setdefault(tap, values)
                continue
            if idx.source is None and idx.layer is None:
                continue
            key = (idx.layer, idx.sub_s, idx.sub_f, idx.occurrence)
            if idx.layer is None and first_pixel_blocks is not None and idx.occurrence >= first_pixel_blocks:
                continue                                  # a later pixel or a re-printed section
            if idx.layer is not None and idx.occurrence != 0:
                continue
            if idx.source == 0 and idx.phi in (None, 0) and idx.mosaic in (None, 0):
                self.blocks.setdefault(key, {}).setdefault(tap, values)
            elif idx.source == 2 and idx.phi == 0 and idx.mosaic == 0:
                self.source2.setdefault(key, {}).setdefault(tap, values)
        self.block_index = {k: LoopIndex(k[0], k[1], k[2], 0, occurrence=k[3]) for k in self.blocks}

    def tol(self, cls: str) -> float:
        return max(self.classes.get(cls, 0.0), 10 * self.print_rel)


def check_closure(trace: ParsedTrace, image: np.ndarray, pixel: tuple[int, int] | None = None, *,
                  dtype: str | None = None) -> Closure:
    """Does the trace's final value (floatimage_accumulated, else I_pixel_final) equal the image
    at `pixel` (slow, fast; default: the trace's own pixel index)? Relative tolerance by dtype."""
    pixel = pixel or trace_pixel(trace)
    if pixel is None:
        raise TraceUsageError("closure needs the traced pixel: give --pixel S F (the trace prints no "
                              "TRACE_CONFIG/trace_pixel line)")
    s, f = pixel
    if image.ndim != 2 or not (0 <= s < image.shape[0] and 0 <= f < image.shape[1]):
        raise TraceUsageError(f"pixel (slow={s}, fast={f}) is outside the image of shape {image.shape}")
    image_value = float(image[s, f])
    for tap in ("floatimage_accumulated", "I_pixel_final"):
        rec = trace.get(tap)
        if rec is not None:
            break
    else:
        return Closure(None, None, image_value, pixel, None, note="the trace prints no final pixel value "
                       "(floatimage_accumulated or I_pixel_final): closure not checked")
    value = float(rec.values[0])
    tol = 1e-5 if (dtype or trace.dtype) == "float32" else 2 * _U32
    err = abs(value - image_value) / max(abs(value), abs(image_value), 1e-300)
    ok = err <= tol or value == image_value
    return Closure(ok, value, image_value, pixel, tap, err, tol)


def trace_pixel(trace: ParsedTrace) -> tuple[int, int] | None:
    for tap in ("trace_pixel", "tap5_pixel"):
        rec = trace.get(tap)
        if rec is not None and len(rec.values) == 2:
            return int(rec.values[0]), int(rec.values[1])
    return None


def read_image(path: str | Path, shape: Sequence[int] | None) -> np.ndarray:
    """A float image: ``.npy``, or raw little-endian float32 (``-floatfile``) of `shape` (slow, fast)."""
    from tracekit.inputs import check_input

    path = check_input(Path(path))       # a FIFO, folder or device is refused, never read
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise TraceParseError(f"{path}: not a .npy array ({exc})") from None
        if arr.ndim != 2:
            raise TraceParseError(f"{path}: expected a 2-D image, got shape {arr.shape}")
        return arr
    if not shape or len(shape) != 2 or min(shape) <= 0:
        raise TraceUsageError("a raw float image needs --shape SLOW FAST (positive)")
    data = np.fromfile(path, dtype="<f4")
    if data.size != shape[0] * shape[1]:
        raise TraceParseError(f"{path}: {data.size} float32 values, --shape {shape[0]} {shape[1]} needs "
                              f"{shape[0] * shape[1]}")
    return data.reshape(shape[0], shape[1])


def _true_values(trace: ParsedTrace, tap: str, values):
    """Values with the C trace's known print-scale defects undone."""
    if not trace.is_c:
        return values
    for d in trace.cat.defects_for(tap, "print_scale"):
        comps = d.components or tuple(range(len(values)))
        values = tuple(v / d.factor if i in comps else v for i, v in enumerate(values))
    return values


def _print_digits(trace: ParsedTrace) -> int:
    """Significant digits of the trace's print format: the most common digit count among its
    longer numbers (``%.15g`` gives 15 for most values, a port's ``%.6g`` 6; short values such
    as 0.1 or 1e-10 say nothing about the format and are left out)."""
    counts: Counter = Counter()
    for rec in list(trace.records.values())[:600]:
        for tok in rec.raw.replace("=", " ").replace(":", " ").replace(",", " ").split():
            mant = tok.lstrip("+-").split("e")[0].split("E")[0]
            if "." in mant and mant.replace(".", "").isdigit():
                digits = len(mant.replace(".", "").lstrip("0"))
                if digits >= 5:
                    counts[min(digits, 17)] += 1
    if not counts:
        return 15
    top = max(counts.values())
    return min(d for d, n in counts.items() if n == top)
