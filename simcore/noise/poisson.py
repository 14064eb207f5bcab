"""The C program's Poisson noise image (``-noisefile``), bit for bit.

For every pixel inside the ROI (inclusive bounds, x = fast, y = slow), in slow-major order, the C
draws ``n = poidev(float_pixel, &seed)``, adds it to a double sum, adds the ADC offset, clips at
65535 counting overloads and casts to ``unsigned short`` (truncation). Pixels outside the ROI stay 0;
masked pixels hold 0.0 in the float image and still take their one draw.

The pass is sequential (one shared ``ran1`` stream), so speed comes from splitting the work:

* ``ran1`` output is generated in blocks: the Park–Miller part is a modular power series
  (vectorised), only the 32-slot shuffle runs as a plain integer loop, and the float32 conversion is
  vectorised again;
* the per-``xm`` constants of ``poidev`` (``exp(-xm)``; ``sqrt(2xm)``, ``log xm``, ``gammln(xm+1)``)
  are computed up front with the C library's ``exp``/``log`` through ``math`` (numpy's SIMD versions
  differ from glibc in the last bit) and numpy for the IEEE-exact ``+ − × ÷ sqrt``;
* the draw loop itself is pure Python with the float32 roundings done through a one-element
  ``array('f')``; ``gammln(em+1)`` is memoised per integer ``em``.

The C's ``static`` caches (``oldm`` …) are replayed exactly, including their state carried in the
:class:`~simcore.noise.rng.CRandom` object, so a pixel equal to ``-1.0`` on the very first call behaves as
in the C.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

import numpy as np

from simcore.cfmt import c_cast_uint16, c_f
from simcore.errors import SimcoreUsageError
from simcore.noise.rng import AM, IM, IA, RNMX, RNMX_F32, CLong, CRandom, gammln, ran1

__all__ = ["NoiseResult", "noise_image", "poisson_deviates", "roi_bounds"]

_BLOCK = 1 << 15
_POWERS: list[np.ndarray] = []


def _lcg_powers() -> np.ndarray:
    """``IA**k mod IM`` for k = 1.._BLOCK (int64; every product stays below 2**62)."""
    if not _POWERS:
        p = np.empty(_BLOCK, dtype=np.int64)
        p[0] = IA
        filled = 1
        while filled < _BLOCK:
            m = min(filled, _BLOCK - filled)
            p[filled:filled + m] = (p[:m] * p[filled - 1]) % IM
            filled += m
        _POWERS.append(p)
    return _POWERS[0]


class _Ran1Blocks:
    """``ran1`` draws on one seed, a block at a time, committing the state only for draws used."""

    def __init__(self, seed: CLong, rng: CRandom) -> None:
        self.seed, self.rng = seed, rng
        self._pending: tuple[list[int], list[int], int] | None = None

    def next_block(self) -> list[float]:
        """The next draws; the previous block counts as fully used."""
        seed, rng = self.seed, self.rng
        if self._pending is not None:
            d, iv_end, iy_end = self._pending
            seed.value, rng.iy, rng.iv[:] = d[-1], iy_end, iv_end
            self._pending = None
        idum = seed.value
        if idum <= 0 or idum >= IM or not rng.iy:
            return [ran1(seed, rng)]        # (re)initialisation or the idum == IM corner: scalar
        d = ((idum * _lcg_powers()) % IM).tolist()
        iv = list(rng.iv)
        iy = rng.iy
        ys = []
        app = ys.append
        for dn in d:
            j = iy >> 26
            iy = iv[j]
            iv[j] = dn
            app(iy)
        u = (np.array(ys, dtype=np.float64) * AM).astype(np.float32)
        u[u.astype(np.float64) > RNMX] = RNMX_F32
        self._pending = (d, iv, iy)
        return u.tolist()

    def commit(self, used: int) -> None:
        """Advance ``seed``/``rng`` past the first ``used`` draws of the current block (replayed)."""
        if self._pending is None or used == 0:
            self._pending = None
            return
        d = self._pending[0]
        iv, iy = self.rng.iv, self.rng.iy
        for dn in d[:used]:
            j = iy >> 26
            iy = iv[j]
            iv[j] = dn
        self.rng.iy = iy
        self.seed.value = d[used - 1]
        self._pending = None


def _exp_list(values: list[float]) -> list[float]:
    out = []
    for v in values:
        try:
            out.append(math.exp(v))
        except OverflowError:
            out.append(math.inf)
    return out


def _gammln_vec(x: np.ndarray) -> np.ndarray:
    """:func:`simcore.noise.rng.gammln` over float32-valued float64 ``x`` (same operations, same order)."""
    log = math.log
    tmp = x + 5.5
    tmp = tmp - (x + 0.5) * np.array(list(map(log, tmp.tolist())))
    y = x.copy()
    ser = np.full_like(x, 1.000000000190015)
    for c in (76.18009172947146, -86.50532032941677, 24.01409824083091,
              -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5):
        y = y + 1.0
        ser = ser + c / y
    arg = 2.5066282746310005 * ser / x
    return (-tmp + np.array(list(map(log, arg.tolist())))).astype(np.float32).astype(np.float64)


def _xm_constants(x32: np.ndarray) -> tuple[list[float], list[float], list[float], list[float]]:
    """Fresh ``poidev`` constants per pixel: g (direct or rejection), sq, alxm (rejection only)."""
    x = x32.astype(np.float64)
    g = np.zeros_like(x)
    sq = np.zeros_like(x)
    alxm = np.zeros_like(x)
    direct = x < 12.0
    g[direct] = np.array(_exp_list((-x[direct]).tolist()), dtype=np.float64).astype(np.float32)
    rej = ~direct & ~(x > 1.0e6)
    if rej.any():
        xr = x[rej]
        sq[rej] = np.sqrt(2.0 * xr).astype(np.float32)
        al = np.array(list(map(math.log, xr.tolist()))).astype(np.float32).astype(np.float64)
        alxm[rej] = al
        xr1 = (xr + 1.0).astype(np.float32).astype(np.float64)
        g[rej] = ((xr * al).astype(np.float32) - _gammln_vec(xr1)).astype(np.float32)
    return g.tolist(), sq.tolist(), alxm.tolist(), x.tolist()


def poisson_deviates(xm, *, seed: CLong, rng: CRandom) -> np.ndarray:
    """``poidev(xm[i], &seed)`` for each value in order; float32 array of the same length (1-D).

    Equivalent to calling :func:`simcore.noise.rng.poidev` in a loop (same draws, same statics left in
    ``rng`` and ``seed``), only faster.
    """
    x32 = np.ascontiguousarray(xm, dtype=np.float32).ravel()
    G, SQ, AL, xs = _xm_constants(x32)
    out = [0.0] * len(xs)
    blocks = _Ran1Blocks(seed, rng)
    U = blocks.next_block() if xs else []
    nU, k = len(U), 0
    buf = array("f", [0.0])            # float32 rounding: buf[0] = x; buf[0] is (float) x
    oldm, g, sq, alxm = rng.poi_oldm, rng.poi_g, rng.poi_sq, rng.poi_alxm
    iset, gset = rng.gauss_iset, rng.gauss_gset
    glc: dict[float, float] = {}
    exp, tan, sqrt, log, pi = math.exp, math.tan, math.sqrt, math.log, math.pi
    for i, xm_i in enumerate(xs):
        if xm_i < 12.0:
            if xm_i != oldm:
                oldm, g = xm_i, G[i]
            if k == nU:
                U = blocks.next_block(); nU, k = len(U), 0
            t = U[k]; k += 1
            em = 0.0
            while t > g:
                em += 1.0
                if k == nU:
                    U = blocks.next_block(); nU, k = len(U), 0
                buf[0] = t * U[k]; k += 1
                t = buf[0]
            out[i] = em
        elif xm_i > 1.0e6:
            if iset == 0:
                while True:
                    if k == nU:
                        U = blocks.next_block(); nU, k = len(U), 0
                    buf[0] = 2.0 * U[k] - 1.0; k += 1
                    v1 = buf[0]
                    if k == nU:
                        U = blocks.next_block(); nU, k = len(U), 0
                    buf[0] = 2.0 * U[k] - 1.0; k += 1
                    v2 = buf[0]
                    buf[0] = v1 * v1; a = buf[0]
                    buf[0] = v2 * v2; buf[0] = a + buf[0]
                    rsq = buf[0]
                    if not (rsq >= 1.0 or rsq == 0):
                        break
                buf[0] = sqrt(-2.0 * log(rsq) / rsq); fac = buf[0]
                buf[0] = v1 * fac; gset = buf[0]
                iset = 1
                buf[0] = v2 * fac; dev = buf[0]
            else:
                iset, dev = 0, gset
            buf[0] = xm_i + sqrt(xm_i) * dev
            out[i] = buf[0]
        else:
            if xm_i != oldm:
                oldm, g, sq, alxm = xm_i, G[i], SQ[i], AL[i]
            while True:
                while True:
                    if k == nU:
                        U = blocks.next_block(); nU, k = len(U), 0
                    buf[0] = tan(pi * U[k]); k += 1
                    y = buf[0]
                    buf[0] = sq * y; buf[0] = buf[0] + xm_i
                    em = buf[0]
                    if not em < 0.0:
                        break
                em -= em % 1.0                # floor: em >= 0 here (or NaN, which stays NaN)
                gl = glc.get(em)
                if gl is None:
                    gl = gammln(em + 1.0)
                    glc[em] = gl
                buf[0] = y * y; yy = buf[0]
                buf[0] = em * alxm; buf[0] = buf[0] - gl; buf[0] = buf[0] - g
                e = exp(buf[0])               # argument <= ~0: log of a probability ratio
                buf[0] = 0.9 * (1.0 + yy) * e
                t = buf[0]
                if k == nU:
                    U = blocks.next_block(); nU, k = len(U), 0
                u = U[k]; k += 1
                if not u > t:
                    break
            out[i] = em
    if xs:
        blocks.commit(k)
    rng.poi_oldm, rng.poi_g, rng.poi_sq, rng.poi_alxm = oldm, g, sq, alxm
    rng.gauss_iset, rng.gauss_gset = iset, gset
    return np.array(out, dtype=np.float32)


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
    dev = poisson_deviates(sub, seed=seed, rng=rng).astype(np.float64)
    photons = float(np.cumsum(dev)[-1])   # the C's running double sum, in pixel order
    test = dev + float(adc)
    over = test > 65535.0
    test[over] = 65535.0
    image[ss, fs] = c_cast_uint16(test).reshape(sub.shape)
    return NoiseResult(image=image, photons=photons, overloads=int(over.sum()))
