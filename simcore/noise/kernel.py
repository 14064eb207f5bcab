"""The noise pass as one compiled loop: the C's ``ran1``, ``gammln``, ``gaussdev`` and ``poidev`` in
numba nopython code, with the C's float/double/long arithmetic spelled out.

Only :mod:`simcore.noise.native` imports this module (importing numba costs ~0.3 s; the usual path
loads an ahead-of-time build of these functions instead). The C types are kept explicitly:

* ``float`` values are ``np.float32``; every store the C makes into a ``float`` is an
  ``np.float32(...)`` here, and float-with-float operations stay in float32 as in the C (x86-64 SSE,
  ``FLT_EVAL_METHOD == 0``); a ``float`` meeting a ``double`` (a literal like ``2.0``, ``M_PI``, a libm
  call) is widened first, as C's usual conversions do.
* ``long`` is int64; every division has non-negative operands, where ``//`` is C's truncation.
* ``error_model="numpy"``: a float division by zero gives inf/NaN as in C instead of raising.
* ``exp``/``log``/``tan`` are the C library's (numba calls libm; no ``fastmath``, no SVML);
  ``sqrt`` is the IEEE square root; ``floor`` is ``np.floor`` (a double, NaN/inf preserved, unlike
  ``math.floor`` which numba turns into an integer).

State layout (arrays so the caller's :class:`~simcore.noise.rng.CRandom` round-trips exactly):
``ist`` int64[35] = ``idum, iy, iv[0..31], gauss_iset``; ``fst`` float32[5] =
``gauss_gset, poi_oldm, poi_sq, poi_alxm, poi_g``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from simcore.noise.rng import AM, IA, IM, IQ, IR, NDIV, NTAB, RNMX

M_PI = math.pi              # 3.14159265358979323846, as math.h
IST_LEN = 3 + NTAB          # idum, iy, iv[32], gauss_iset
FST_LEN = 5                 # gauss_gset, oldm, sq, alxm, g
SIGNATURE = "float64(float32[::1], float32[::1], int64[::1], float32[::1])"


@njit(cache=True, error_model="numpy")
def ran1(ist):
    """``ran1(&idum)``: state in ``ist`` (idum, iy, iv); returns a float32 in (0, 1)."""
    idum = ist[0]
    if idum <= 0 or ist[1] == 0:
        idum = 1 if -idum < 1 else -idum
        for j in range(NTAB + 7, -1, -1):
            k = idum // IQ
            idum = IA * (idum - k * IQ) - IR * k
            if idum < 0:
                idum += IM
            if j < NTAB:
                ist[2 + j] = idum
        ist[1] = ist[2]
    k = idum // IQ
    idum = IA * (idum - k * IQ) - IR * k
    if idum < 0:
        idum += IM
    ist[0] = idum
    j = ist[1] // NDIV
    iy = ist[2 + j]
    ist[1] = iy
    ist[2 + j] = idum
    temp = np.float32(AM * np.float64(iy))
    if np.float64(temp) > RNMX:
        return np.float32(RNMX)
    return temp


@njit(cache=True, error_model="numpy")
def gammln(xx):
    """NR ``gammln(float xx)``: double internals, float result."""
    x = np.float64(np.float32(xx))
    y = x
    tmp = x + 5.5
    tmp -= (x + 0.5) * math.log(tmp)
    ser = 1.000000000190015
    y += 1.0
    ser += 76.18009172947146 / y
    y += 1.0
    ser += -86.50532032941677 / y
    y += 1.0
    ser += 24.01409824083091 / y
    y += 1.0
    ser += -1.231739572450155 / y
    y += 1.0
    ser += 0.1208650973866179e-2 / y
    y += 1.0
    ser += -0.5395239384953e-5 / y
    return np.float32(-tmp + math.log(2.5066282746310005 * ser / x))


@njit(cache=True, error_model="numpy")
def gaussdev(ist, fst):
    """Polar Box–Muller; the spare deviate lives in ``ist[34]`` (iset) and ``fst[0]`` (gset)."""
    if ist[2 + NTAB] == 0:
        while True:
            v1 = np.float32(2.0 * np.float64(ran1(ist)) - 1.0)
            v2 = np.float32(2.0 * np.float64(ran1(ist)) - 1.0)
            rsq = np.float32(v1 * v1) + np.float32(v2 * v2)
            if not (rsq >= 1.0 or rsq == 0.0):
                break
        r = np.float64(rsq)
        fac = np.float32(math.sqrt(-2.0 * math.log(r) / r))
        fst[0] = np.float32(v1 * fac)
        ist[2 + NTAB] = 1
        return np.float32(v2 * fac)
    ist[2 + NTAB] = 0
    return fst[0]


@njit(cache=True, error_model="numpy")
def poidev(xm, ist, fst):
    """NR ``poidev(float xm, &idum)`` with its static ``oldm, sq, alxm, g`` in ``fst[1:5]``."""
    xm = np.float32(xm)
    xd = np.float64(xm)
    if xd > 1.0e6:
        return np.float32(xd + math.sqrt(xd) * np.float64(gaussdev(ist, fst)))
    if xd < 12.0:
        if xm != fst[1]:
            fst[1] = xm
            fst[4] = np.float32(math.exp(-xd))
        g = fst[4]
        em = np.float32(-1.0)
        t = np.float32(1.0)
        while True:
            em += np.float32(1.0)
            t = t * ran1(ist)
            if not t > g:
                return em
    if xm != fst[1]:
        fst[1] = xm
        fst[2] = np.float32(math.sqrt(2.0 * xd))
        fst[3] = np.float32(math.log(xd))
        fst[4] = np.float32(xm * fst[3]) - gammln(np.float32(xd + 1.0))
    sq = fst[2]
    alxm = fst[3]
    g = fst[4]
    while True:
        while True:
            y = np.float32(math.tan(M_PI * np.float64(ran1(ist))))
            em = np.float32(sq * y) + xm
            if not em < 0.0:
                break
        em = np.float32(np.floor(np.float64(em)))
        arg = (np.float32(em * alxm) - gammln(np.float32(np.float64(em) + 1.0))) - g
        t = np.float32(0.9 * (1.0 + np.float64(np.float32(y * y))) * math.exp(np.float64(arg)))
        if not ran1(ist) > t:
            return em


@njit(cache=True, error_model="numpy")
def poisson_pass(xm, out, ist, fst):
    """``out[i] = poidev(xm[i], &seed)`` for every i in order (the C's noise loop); returns the C's
    ``sum``, the deviates added in that order in double."""
    total = 0.0
    for i in range(xm.shape[0]):
        dev = poidev(xm[i], ist, fst)
        out[i] = dev
        total += np.float64(dev)
    return total
