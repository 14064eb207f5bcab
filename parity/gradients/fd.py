"""Central finite differences of images, with a step chosen for the images' float precision.

The C computes in double but stores float32, so each image value carries a rounding error of up to
half a float32 ulp. For the 2-point central difference D2(h) = (f(v+h) − f(v−h))/2h:

* truncation ≈ h²·f'''/6, rounding ≈ ulp(f)/(2√6·h) per pixel (uniform rounding, std ulp/√12);

the Richardson extrapolation D4(h) = (4·D2(h) − D2(2h))/3 is the 4-point stencil
[f(v−2h) − 8f(v−h) + 8f(v+h) − f(v+2h)]/12h with truncation ≈ h⁴·f⁽⁵⁾/30 and rounding
≈ 0.27·ulp(f)/h. Six images (v ± h, ± 2h, ± 4h) give D4(h) and D4(2h), so the truncation of D4(h)
is *measured* per pixel, |D4(2h) − D4(h)|/15, and the rounding noise is *computed* per pixel from
the images' own ulps. :func:`choose_step` balances the two (total ≈ T·(h/h0)⁴ + N·h0/h is least at
h = h0·(N/4T)^(1/5)). The reference gradient is D4(h) ("richardson", default) or D2(h) ("central").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from parity.errors import ParityUsageError

__all__ = ["FDResult", "finite_difference", "choose_step", "STENCILS", "signal_level"]

STENCILS = ("richardson", "central")
_SQRT12 = math.sqrt(12.0)


@dataclass
class FDResult:
    """A finite-difference gradient with its per-pixel error estimates (all float64, image-shaped)."""

    grad: np.ndarray          # the reference gradient (D4(h) or D2(h))
    noise: np.ndarray         # rounding noise (1 σ) of ``grad`` from the images' ulps
    trunc: np.ndarray         # truncation estimate of ``grad``
    step: float               # h, in the parameter's CLI unit
    stencil: str
    base: np.ndarray          # f(v)
    evaluations: int          # images computed

    @property
    def sigma(self) -> np.ndarray:
        """Total 1-σ uncertainty per pixel: rounding ⊕ truncation."""
        return np.hypot(self.noise, self.trunc)

    def summary(self) -> dict:
        """Step and noise figures for reports (noise relative to max |grad|)."""
        scale = float(np.abs(self.grad).max()) or 1.0
        level = signal_level(self.grad)
        sel = np.abs(self.grad) >= level if level > 0 else np.ones(self.grad.shape, bool)
        return {"step": self.step, "stencil": self.stencil, "evaluations": self.evaluations,
                "max_abs_grad": float(np.abs(self.grad).max()),
                "noise_median": float(np.median(self.noise[sel])), "noise_max": float(self.noise.max()),
                "trunc_median": float(np.median(self.trunc[sel])),
                "noise_rel_max": float(self.noise.max()) / scale,
                "trunc_rel_median": float(np.median(self.trunc[sel])) / scale}


def signal_level(grad: np.ndarray, fraction: float = 0.01) -> float:
    """|grad| threshold of the pixels used for aggregate step figures (1 % of the max)."""
    return fraction * float(np.abs(grad).max())


def _ulp(image: np.ndarray) -> np.ndarray:
    """Spacing of the stored values (float32 for the C's images, float64 for simcore's)."""
    kind = np.float32 if image.dtype == np.float32 else np.float64
    return np.spacing(np.abs(image).astype(kind)).astype(np.float64)


def finite_difference(image_at: Callable[[float], np.ndarray], value: float, step: float, *,
                      stencil: str = "richardson") -> FDResult:
    """Gradient of ``image_at`` at ``value`` with step ``step`` (images at v ± h, ± 2h, ± 4h and v)."""
    if stencil not in STENCILS:
        raise ParityUsageError(f"--stencil {stencil}: use one of {', '.join(STENCILS)}")
    if not (step > 0 and math.isfinite(step)):
        raise ParityUsageError(f"--step {step!r}: must be a positive number")
    f = {k: image_at(value + k * step) for k in (-4, -2, -1, 1, 2, 4)}
    base = image_at(value)
    u = {k: _ulp(v) for k, v in f.items()}
    f64 = {k: v.astype(np.float64) for k, v in f.items()}

    def d2(k):
        return (f64[k] - f64[-k]) / (2 * k * step)

    d2_1, d2_2, d2_4 = d2(1), d2(2), d2(4)
    d4_1 = (4 * d2_1 - d2_2) / 3
    d4_2 = (4 * d2_2 - d2_4) / 3
    if stencil == "richardson":
        grad = d4_1
        trunc = np.abs(d4_2 - d4_1) / 15.0
        # D4(h) = [8(f1 − f−1) − (f2 − f−2)] / 12h
        noise = np.sqrt(64 * (u[1] ** 2 + u[-1] ** 2) + u[2] ** 2 + u[-2] ** 2) / (12 * step * _SQRT12)
    else:
        grad = d2_1
        trunc = np.abs(d2_2 - d2_1) / 3.0
        noise = np.sqrt(u[1] ** 2 + u[-1] ** 2) / (2 * step * _SQRT12)
    return FDResult(grad=grad, noise=noise, trunc=trunc, step=step, stencil=stencil,
                    base=base.astype(np.float64), evaluations=7)


# noise of the truncation estimate itself, in units of the rounding noise of the result:
# richardson |D4(2h) − D4(h)|/15 → √(1 + 1/4)/15; central |D2(2h) − D2(h)|/3 → √(1 + 1/4)/3
_TRUNC_FLOOR = {"richardson": 1.118 / 15.0, "central": 1.118 / 3.0}


def _aggregate(fd: FDResult) -> tuple[float, float]:
    """RMS truncation (less its own noise floor) and RMS rounding noise over the signal pixels."""
    level = signal_level(fd.grad)
    sel = np.abs(fd.grad) >= level
    if not sel.any():
        return 0.0, 0.0
    trunc = float(np.sqrt(np.mean(fd.trunc[sel] ** 2)))
    noise = float(np.sqrt(np.mean(fd.noise[sel] ** 2)))
    floor = _TRUNC_FLOOR[fd.stencil] * noise
    return (math.sqrt(trunc ** 2 - floor ** 2) if trunc > 2 * floor else 0.0), noise


def choose_step(image_at: Callable[[float], np.ndarray], value: float, step0: float, *,
                stencil: str = "richardson", max_factor: float = 16.0,
                max_trials: int = 3) -> tuple[FDResult, list[dict]]:
    """Finite difference at ``step0``, re-run (at most ``max_trials`` in all) at the step that balances
    the measured truncation against the rounding noise while that step differs by more than 2×.
    A truncation lost in its own noise (rounding dominates) grows the step 4×.

    Returns the result with the smallest estimated error and the trial log ``[{step, trunc_rms, noise_rms}]``.
    """
    order = 4 if stencil == "richardson" else 2
    step, trials, log = step0, [], []
    for _ in range(max_trials):
        fd = finite_difference(image_at, value, step, stencil=stencil)
        trunc, noise = _aggregate(fd)
        trials.append((math.hypot(trunc, noise), fd))
        log.append({"step": step, "trunc_rms": trunc, "noise_rms": noise})
        if noise <= 0:
            break
        factor = 4.0 if trunc <= 0 else (noise / (order * trunc)) ** (1.0 / (order + 1))
        factor = min(max(factor, 1.0 / max_factor), max_factor)
        if 0.5 <= factor <= 2.0:
            break
        step *= factor
    chosen = min(trials, key=lambda t: t[0])[1]
    chosen.evaluations = sum(t[1].evaluations for t in trials)
    return chosen, log
