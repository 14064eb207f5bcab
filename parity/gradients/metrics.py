"""Gradient-image metrics and their gates (registry class ``GRADIENT``).

Definitions (``ref`` = finite-difference gradient with per-pixel 1-σ uncertainty ``sigma``,
``cand`` = the port's gradient, Δ = cand − ref):

=================  =================================================================================
signal pixels      |ref| ≥ fd_snr_min · sigma: the FD is well above its own noise and truncation
correlation        Pearson r of ref and cand over the signal pixels
rel_err_max        max |Δ|/|ref| over signal pixels with |ref| ≥ rel_floor · max|ref|
rel_l2             ‖Δ‖₂/‖ref‖₂ over the signal pixels (reported, not gated)
sum_ratio          Σ|cand| / Σ|ref| over the signal pixels (gate: |sum_ratio − 1| ≤ sum_ratio_tol)
zero reference     every reference image identical (the parameter has no effect there, e.g. -Xbeam
                   with the XDS convention's sample pivot): the only gate is max|cand| ≤ fd_snr_min·max σ
argmax_gap         largest-|gradient| pixel: max of (max|c| − |c|[argmax|r|])/max|c| and the same with
                   r and c swapped (0 when both pick the same pixel; gate ≤ argmax_tie_rel)
=================  =================================================================================

The thresholds are read from ``parity/matrix/thresholds.yaml`` (class ``GRADIENT``; the extra key
``fd_snr_min`` may only go down, like ``rel_floor``: fewer excluded pixels is tighter).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from parity.errors import ParityInputError
from parity.matrix.registry import Thresholds

__all__ = ["GradThresholds", "GradMetrics", "gradient_thresholds", "gradient_metrics", "gates",
           "GRADIENT_CLASS", "EXTRA_DIRECTIONS"]

GRADIENT_CLASS = "GRADIENT"
# class keys beyond the registry's shared directions ('min' may only go up, 'max' only down)
EXTRA_DIRECTIONS = {"fd_snr_min": "max", "secant_corr_min": "min"}


@dataclass(frozen=True)
class GradThresholds(Thresholds):
    """A registry class (the shared keys, with the meanings of the module table) plus the keys
    only gradients have."""

    fd_snr_min: float = 10.0
    secant_corr_min: float = 0.9


def gradient_thresholds(registry: dict | None = None) -> GradThresholds:
    """The ``GRADIENT`` class of the threshold registry."""
    from parity.matrix.registry import load_registry

    reg = registry or load_registry()
    try:
        values = reg["classes"][GRADIENT_CLASS]
    except KeyError:
        raise ParityInputError(f"threshold registry has no class {GRADIENT_CLASS}") from None
    keys = [*reg["directions"], *EXTRA_DIRECTIONS]
    return GradThresholds(klass=GRADIENT_CLASS, spec=values["spec"], **{k: float(values[k]) for k in keys})


@dataclass(frozen=True)
class GradMetrics:
    n_pixels: int
    n_signal: int
    n_floor: int
    correlation: float
    rel_err_max: float
    rel_err_at: tuple[int, int] | None
    rel_l2: float
    sum_ratio: float
    argmax_gap: float
    max_abs_ref: float
    max_abs_cand: float
    sigma_max: float = 0.0

    @property
    def zero_reference(self) -> bool:
        """The reference images did not change at all: the parameter has no effect on them."""
        return self.max_abs_ref == 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _argmax_gap(r: np.ndarray, c: np.ndarray) -> float:
    def gap(a, b):   # b's shortfall at a's brightest pixel
        top = float(b.max())
        return 0.0 if top == 0 else (top - float(b.flat[int(np.argmax(a))])) / top

    return max(gap(r, c), gap(c, r))


def gradient_metrics(ref: np.ndarray, cand: np.ndarray, sigma: np.ndarray, th: GradThresholds) -> GradMetrics:
    """The metrics of the module table for one gradient image pair."""
    ref, cand, sigma = (np.asarray(x, dtype=np.float64) for x in (ref, cand, sigma))
    if ref.shape != cand.shape:
        raise ParityInputError(f"gradient shapes differ: reference {ref.shape}, candidate {cand.shape}")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(cand))):
        raise ParityInputError("a gradient image holds NaN/Inf")
    abs_r, abs_c = np.abs(ref), np.abs(cand)
    signal = abs_r >= th.fd_snr_min * sigma
    signal &= abs_r > 0
    nan = float("nan")
    n_signal = int(signal.sum())
    floor = signal & (abs_r >= th.rel_floor * abs_r.max()) if n_signal else signal
    if n_signal < 3:
        return GradMetrics(ref.size, n_signal, int(floor.sum()), nan, nan, None, nan, nan, nan,
                           float(abs_r.max()), float(abs_c.max()), float(sigma.max()))
    r, c = ref[signal], cand[signal]
    corr = float(np.corrcoef(r, c)[0, 1]) if np.std(c) > 0 else nan
    rel = np.abs(cand - ref)[floor] / abs_r[floor]
    k = int(np.argmax(rel)) if rel.size else None
    at = tuple(int(x) for x in np.argwhere(floor)[k]) if k is not None else None
    return GradMetrics(
        n_pixels=ref.size, n_signal=n_signal, n_floor=int(floor.sum()), correlation=corr,
        rel_err_max=float(rel[k]) if k is not None else nan, rel_err_at=at,
        rel_l2=float(np.linalg.norm(c - r) / np.linalg.norm(r)),
        sum_ratio=float(np.abs(c).sum() / np.abs(r).sum()),
        argmax_gap=_argmax_gap(abs_r, abs_c), max_abs_ref=float(abs_r.max()), max_abs_cand=float(abs_c.max()),
        sigma_max=float(sigma.max()))


def gates(m: GradMetrics, th: GradThresholds) -> list[dict]:
    """``[{name, value, threshold, op, passed}]`` (the nb-compare gate shape); NaN fails. When the
    reference did not change at all, the one gate is that the candidate's gradient is below what
    the finite difference could have seen (fd_snr_min × its largest σ)."""
    def gate(name, value, threshold, op):
        ok = value == value and (value >= threshold if op == ">=" else value <= threshold)
        return {"name": name, "value": value, "threshold": threshold, "op": op, "passed": bool(ok)}

    if m.zero_reference:
        return [gate("zero_reference", m.max_abs_cand, th.fd_snr_min * m.sigma_max, "<=")]
    return [
        gate("signal_pixels", float(m.n_signal), 3.0, ">="),
        gate("correlation", m.correlation, th.corr_min, ">="),
        gate("sum_ratio_dev", abs(m.sum_ratio - 1.0), th.sum_ratio_tol, "<="),
        gate("rel_err_max", m.rel_err_max, th.rel_err_max, "<="),
        gate("argmax_gap", m.argmax_gap, th.argmax_tie_rel, "<="),
    ]
