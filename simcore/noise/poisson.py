"""The C program's Poisson noise image (``-noisefile``), bit for bit.

For every pixel inside the ROI (inclusive bounds, x = fast, y = slow), in slow-major order, the C
draws ``n = poidev(float_pixel, &seed)``, adds it to a double sum, adds the ADC offset, clips at
65535 counting overloads and casts to ``unsigned short`` (truncation). Pixels outside the ROI stay 0;
masked pixels hold 0.0 in the float image and still take their one draw.

The pass is one sequential ``ran1`` stream (each pixel's draw count depends on the draws), so it runs
as one compiled loop (:mod:`simcore.noise.kernel`, loaded by :mod:`simcore.noise.native`); the C's
``static`` state (the shuffle table, ``gaussdev``'s spare deviate, ``poidev``'s ``oldm`` cache) goes in
and comes back through the :class:`~simcore.noise.rng.CRandom` object, so a pass split into pieces, or
a pixel equal to ``-1.0`` on the very first call, behaves as in the C. The scalar
:func:`simcore.noise.rng.poidev` is the reference the tests hold the loop to.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.cfmt import c_cast_uint16, c_f
from simcore.errors import SimcoreUsageError
from simcore.noise.rng import NTAB, CLong, CRandom

__all__ = ["NoiseResult", "noise_image", "poisson_deviates", "roi_bounds"]


def _pack(seed: CLong, rng: CRandom) -> tuple[np.ndarray, np.ndarray]:
    ist = np.empty(3 + NTAB, dtype=np.int64)
    ist[0], ist[1], ist[2:2 + NTAB], ist[2 + NTAB] = seed.value, rng.iy, rng.iv, rng.gauss_iset
    fst = np.array([rng.gauss_gset, rng.poi_oldm, rng.poi_sq, rng.poi_alxm, rng.poi_g], dtype=np.float32)
    return ist, fst


def _unpack(ist: np.ndarray, fst: np.ndarray, seed: CLong, rng: CRandom) -> None:
    seed.value, rng.iy, rng.iv[:], rng.gauss_iset = int(ist[0]), int(ist[1]), ist[2:2 + NTAB].tolist(), int(ist[2 + NTAB])
    rng.gauss_gset, rng.poi_oldm, rng.poi_sq, rng.poi_alxm, rng.poi_g = (float(v) for v in fst)


def poisson_deviates(xm, *, seed: CLong, rng: CRandom) -> np.ndarray:
    """``poidev(xm[i], &seed)`` for each value in order; float32 array of the same length (1-D).

    Equivalent to calling :func:`simcore.noise.rng.poidev` in a loop (same draws, same statics left in
    ``rng`` and ``seed``), at the C's speed.
    """
    return _deviates(xm, seed, rng)[0]


def _deviates(xm, seed: CLong, rng: CRandom) -> tuple[np.ndarray, float]:
    """(deviates, their sum in the C's order and double precision)."""
    from simcore.noise.native import poisson_pass

    x32 = np.ascontiguousarray(xm, dtype=np.float32).ravel()
    out = np.empty_like(x32)
    total = 0.0
    if x32.size:
        ist, fst = _pack(seed, rng)
        total = float(poisson_pass()(x32, out, ist, fst))
        _unpack(ist, fst, seed, rng)
    return out, total


def roi_bounds(shape: tuple[int, int], roi: tuple[int, int, int, int] | None
               ) -> tuple[slice, slice]:
    """(slow, fast) slices of the pixels the C visits for ``roi = (xmin, xmax, ymin, ymax)``
    (inclusive, x = fast, y = slow, after the C's defaults); ``None`` means the whole image."""
    spix, fpix = shape
    if roi is None:
        return slice(0, spix), slice(0, fpix)
    if len(roi) != 4:
        raise SimcoreUsageError(f"roi must be (xmin, xmax, ymin, ymax), got {roi!r}")
    xmin, xmax, ymin, ymax = (int(v) for v in roi)
    f0, f1 = max(xmin, 0), min(xmax, fpix - 1)
    s0, s1 = max(ymin, 0), min(ymax, spix - 1)
    return slice(s0, max(s0, s1 + 1)), slice(f0, max(f0, f1 + 1))


@dataclass(frozen=True)
class NoiseResult:
    """The C noise pass: ``image`` (slow, fast) uint16, ``photons`` (the C's double ``sum`` of the
    deviates, before ``adc``) and ``overloads`` (pixels clipped at 65535)."""

    image: np.ndarray
    photons: float
    overloads: int

    def summary_line(self) -> str:
        """The C's stdout line ``%.0f photons on noise image (%d overloads)``."""
        return f"{c_f(self.photons, 0)} photons on noise image ({self.overloads} overloads)"


def _validate_image(float_image) -> np.ndarray:
    img = np.asarray(float_image)
    if img.ndim != 2:
        raise SimcoreUsageError(f"float_image must be 2-D (slow, fast), got shape {img.shape}")
    return img.astype(np.float32, copy=False)


def noise_image(float_image, *, seed: CLong, rng: CRandom, adc: float = 40.0,
                roi: tuple[int, int, int, int] | None = None) -> NoiseResult:
    """Poisson noise image exactly as the C writes ``-noisefile`` data.

    Parameters
    ----------
    float_image : (slow, fast) array, cast to float32 (the C's ``floatimage``)
    seed, rng : the noise seed and the shared generator state; both advance in place
    adc : ADC offset added to each deviate (C ``adc_offset``, a double)
    roi : ``(xmin, xmax, ymin, ymax)`` inclusive, x = fast; ``None`` = whole image
    """
    img = _validate_image(float_image)
    ss, fs = roi_bounds(img.shape, roi)
    image = np.zeros(img.shape, dtype=np.uint16)
    sub = img[ss, fs]
    if sub.size == 0:
        return NoiseResult(image=image, photons=0.0, overloads=0)
    dev, photons = _deviates(sub, seed, rng)
    test = dev.astype(np.float64)
    test += float(adc)
    overloads = int(np.count_nonzero(test > 65535.0))
    np.minimum(test, 65535.0, out=test)           # NaN stays NaN (the cast makes it 0)
    image[ss, fs] = c_cast_uint16(test).reshape(sub.shape)
    return NoiseResult(image=image, photons=photons, overloads=overloads)
