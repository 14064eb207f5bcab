"""Bit-exact ports of the C program's Numerical Recipes random generators and the setup-time draws
(the noise pass itself is one compiled loop, :mod:`simcore.noise.kernel`; these are its reference).

* ``ran1`` (Park–Miller minimal standard with a Bays–Durham shuffle) keeps ``static long iy, iv[32]``
  that **every seed shares**. :class:`CRandom` holds that static state (plus the statics of
  ``gaussdev`` and ``poidev``); one instance stands for one run of the C program. A seed is a
  :class:`CLong`, the C ``long`` each stream advances in place.
* A seed ``<= 0`` (or the very first call) reloads the shuffle table; a seed that ends up ``> 0``
  continues the table the previous stream left behind.
* Results are C ``float``: every float32 rounding the C performs is performed here, with the same
  libm (``math`` calls glibc; ``numpy``'s own SIMD ``log``/``exp`` differ from glibc in the last bit,
  so they are never used for these values).
* ``powf`` in :func:`mosaic_rotation_umat` is glibc's own ``powf`` through ``ctypes`` where the C
  library is loadable. Elsewhere it falls back to ``(float) pow(double, double)``, which differs from
  glibc ``powf`` by one float32 ulp in about 7 of 10 000 arguments (measured over 4·10⁶ arguments).
  numpy's float32 ``power`` differs in ~15 % of them and is not used.

Angles are radians. Matrices are row-major ``[uxx uxy uxz uyx uyy uyz uzx uzy uzz]`` as in the C.
"""
from __future__ import annotations

import ctypes
import math
import struct
import time
from dataclasses import dataclass, field

import numpy as np

from simcore.cfmt import int32_wrap
from simcore.errors import SimcoreUsageError

__all__ = ["IA", "IM", "AM", "IQ", "IR", "NTAB", "NDIV", "RNMX", "RNMX_F32", "DEFAULT_MOSAIC_SEED", "CLong",
           "CRandom", "CSeeds", "SetupDraws", "f32", "powf", "powf_is_libm", "ran1", "gammln", "gaussdev",
           "poidev", "mosaic_rotation_umat", "umat2misset", "random_misset_angles", "mosaic_domain_umats",
           "setup_draws", "seed_from_cli", "time_seed"]

IA = 16807
IM = 2147483647
AM = 1.0 / IM
IQ, IR = 127773, 2836               # Schrage's factorisation of IM
NTAB = 32
NDIV = 1 + (IM - 1) // NTAB        # 2**26
EPS = 1.2e-7
RNMX = 1.0 - EPS                   # a double in the C comparison
RNMX_F32 = float(np.float32(RNMX))  # what ``return RNMX;`` hands back as a float
DEFAULT_MOSAIC_SEED = -12345678

_F32 = struct.Struct("f")


def f32(x: float) -> float:
    """``(float) x`` as a C cast does it (round to nearest even, overflow to ±inf, no exception)."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:               # |x| rounds past FLT_MAX: the C cast gives ±inf
        return math.copysign(math.inf, x)


# ---- libm powf ----------------------------------------------------------------------------------
_POWF, _POWF_TRIED = None, False


def _libm_powf():
    global _POWF, _POWF_TRIED
    if not _POWF_TRIED:
        _POWF_TRIED = True
        for name in ("libm.so.6", "libm.dylib", "libSystem.dylib"):
            try:
                fn = ctypes.CDLL(name).powf
            except (OSError, AttributeError):
                continue
            fn.restype = ctypes.c_float
            fn.argtypes = [ctypes.c_float, ctypes.c_float]
            _POWF = fn
            break
    return _POWF


def powf_is_libm() -> bool:
    """True when :func:`powf` calls the C library's ``powf`` (bit-exact with the C on this machine)."""
    return _libm_powf() is not None


def powf(x: float, y: float) -> float:
    """C ``powf((float)x, (float)y)``: glibc's when loadable, else ``(float)pow`` (see module notes)."""
    fn = _libm_powf()
    x, y = f32(x), f32(y)
    if fn is not None:
        return float(fn(x, y))
    try:
        return f32(math.pow(x, y))
    except (ValueError, OverflowError):
        return float(np.power(np.float64(x), np.float64(y)).astype(np.float32))


# ---- state --------------------------------------------------------------------------------------
class CLong:
    """A C ``long`` seed variable that the generators advance in place (``long *idum``)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = int(value)

    def __repr__(self) -> str:
        return f"CLong({self.value})"


@dataclass
class CRandom:
    """The static variables of the C generators, shared by every seed of one C process.

    ``iy``/``iv``: ran1's shuffle table (``iy == 0`` means never loaded).
    ``gauss_iset``/``gauss_gset``: gaussdev's spare deviate.
    ``poi_*``: poidev's per-``xm`` cache (``oldm`` starts at -1.0 as in the C; only a first call
    with ``xm == -1.0`` exactly can tell the cache from a recomputation).
    """

    iy: int = 0
    iv: list[int] = field(default_factory=lambda: [0] * NTAB)
    gauss_iset: int = 0
    gauss_gset: float = 0.0
    poi_oldm: float = -1.0
    poi_sq: float = 0.0
    poi_alxm: float = 0.0
    poi_g: float = 0.0

    def copy(self) -> "CRandom":
        return CRandom(self.iy, list(self.iv), self.gauss_iset, self.gauss_gset,
                       self.poi_oldm, self.poi_sq, self.poi_alxm, self.poi_g)


def _load_table(seed: CLong, rng: CRandom) -> None:
    idum = 1 if -seed.value < 1 else -seed.value
    iv = rng.iv
    for j in range(NTAB + 7, -1, -1):
        k = idum // IQ
        idum = IA * (idum - k * IQ) - IR * k
        if idum < 0:
            idum += IM
        if j < NTAB:
            iv[j] = idum
    rng.iy = iv[0]
    seed.value = idum


def ran1(seed: CLong, rng: CRandom) -> float:
    """One ``ran1(&seed)`` draw: a float32 value in (0, 1) returned as a Python float."""
    if seed.value <= 0 or not rng.iy:
        _load_table(seed, rng)
    idum = seed.value
    k = idum // IQ
    idum = IA * (idum - k * IQ) - IR * k
    if idum < 0:
        idum += IM
    seed.value = idum
    j = rng.iy // NDIV
    rng.iy = rng.iv[j]
    rng.iv[j] = idum
    temp = f32(AM * rng.iy)
    return RNMX_F32 if temp > RNMX else temp


# ---- deviates -----------------------------------------------------------------------------------
_GAMMLN_COF = (76.18009172947146, -86.50532032941677, 24.01409824083091,
               -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5)


def gammln(xx: float) -> float:
    """NR ``gammln``: ln Γ(xx) with a float argument, double internals and a float result."""
    x = y = f32(xx)
    tmp = x + 5.5
    tmp -= (x + 0.5) * math.log(tmp)
    ser = 1.000000000190015
    for c in _GAMMLN_COF:
        y += 1.0
        ser += c / y
    return f32(-tmp + math.log(2.5066282746310005 * ser / x))


def gaussdev(seed: CLong, rng: CRandom) -> float:
    """Polar Box–Muller normal deviate; the second value is kept in ``rng`` for the next call."""
    if rng.gauss_iset == 0:
        while True:
            v1 = f32(2.0 * ran1(seed, rng) - 1.0)
            v2 = f32(2.0 * ran1(seed, rng) - 1.0)
            rsq = f32(f32(v1 * v1) + f32(v2 * v2))
            if not (rsq >= 1.0 or rsq == 0):
                break
        fac = f32(math.sqrt(-2.0 * math.log(rsq) / rsq))
        rng.gauss_gset = f32(v1 * fac)
        rng.gauss_iset = 1
        return f32(v2 * fac)
    rng.gauss_iset = 0
    return rng.gauss_gset


def _c_floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _c_exp(x: float) -> float:  # libm exp feeding a float: past e^700 that float is +inf either way
    return math.inf if x > 700.0 else math.exp(x)


def poidev(xm: float, seed: CLong, rng: CRandom) -> float:
    """NR ``poidev``: a Poisson deviate of mean ``(float) xm`` (a float32 value, as a Python float).

    ``xm > 1e6``: ``xm + sqrt(xm)·gaussdev``; ``xm < 12``: product of uniforms against ``exp(-xm)``
    (``xm == 0`` takes exactly one draw and returns 0); otherwise the Lorentzian rejection method.
    """
    xm = f32(xm)
    if xm > 1.0e6:
        return f32(xm + math.sqrt(xm) * gaussdev(seed, rng))
    if xm < 12.0:
        if xm != rng.poi_oldm:
            rng.poi_oldm = xm
            rng.poi_g = f32(_c_exp(-xm))
        g = rng.poi_g
        em = -1.0
        t = 1.0
        while True:
            em += 1.0
            t = f32(t * ran1(seed, rng))
            if not t > g:
                return em
    if xm != rng.poi_oldm:
        rng.poi_oldm = xm
        rng.poi_sq = f32(math.sqrt(2.0 * xm))
        rng.poi_alxm = f32(math.log(xm))
        rng.poi_g = f32(f32(xm * rng.poi_alxm) - gammln(xm + 1.0))
    sq, alxm, g = rng.poi_sq, rng.poi_alxm, rng.poi_g
    while True:
        while True:
            y = f32(math.tan(math.pi * ran1(seed, rng)))
            em = f32(f32(sq * y) + xm)
            if not em < 0.0:
                break
        em = _c_floor(em)
        t = f32(0.9 * (1.0 + f32(y * y))
                * _c_exp(f32(f32(f32(em * alxm) - gammln(em + 1.0)) - g)))
        if not ran1(seed, rng) > t:
            return em


# ---- orientation draws --------------------------------------------------------------------------
def mosaic_rotation_umat(mosaicity: float, seed: CLong, rng: CRandom) -> np.ndarray:
    """C ``mosaic_rotation_umat``: a random rotation on a spherical cap (3 draws on ``seed``).

    ``mosaicity`` is passed as a C ``float`` (so it is rounded to float32 first) and
    ``rot = mosaicity·powf(1 − r3², 1/3)`` is a float32 product. Returns ``(9,)`` float64, row-major.
    """
    mos = f32(mosaicity)
    r1 = 2.0 * ran1(seed, rng) - 1.0
    r2 = 2.0 * ran1(seed, rng) - 1.0
    r3 = 2.0 * ran1(seed, rng) - 1.0
    xyrad = math.sqrt(1.0 - r2 * r2)
    rot = f32(mos * powf(1.0 - r3 * r3, 1.0 / 3.0))
    v1 = xyrad * math.sin(math.pi * r1)
    v2 = xyrad * math.cos(math.pi * r1)
    v3 = r2
    t1 = math.cos(rot)
    t2 = 1.0 - t1
    t6 = t2 * v1
    t7 = t6 * v2
    t8 = math.sin(rot)
    t9 = t8 * v3
    t11 = t6 * v3
    t12 = t8 * v2
    t19 = t2 * v2 * v3
    t20 = t8 * v1
    return np.array([t1 + t2 * (v1 * v1), t7 - t9, t11 + t12,
                     t7 + t9, t1 + t2 * (v2 * v2), t19 - t20,
                     t11 - t12, t19 + t20, t1 + t2 * (v3 * v3)], dtype=np.float64)


def _unit_rows(u: list[float]) -> tuple[float, float, float]:
    mags = []
    for r in range(3):
        x, y, z = u[3 * r:3 * r + 3]
        m = math.sqrt(x * x + y * y + z * z)
        if m > 0:
            u[3 * r:3 * r + 3] = [x / m, y / m, z / m]
        mags.append(m)
    return mags[0], mags[1], mags[2]


def _unit_cross(ax, ay, az, bx, by, bz) -> tuple[float, float, float]:
    x, y, z = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
    m = math.sqrt(x * x + y * y + z * z)
    return (x / m, y / m, z / m) if m > 0 else (x, y, z)


def _substitute_empty_rows(u: list[float], mx: float, my: float, mz: float) -> None:
    uxx, uxy, uxz, uyx, uyy, uyz, uzx, uzy, uzz = u
    xcy = _unit_cross(uxx, uxy, uxz, uyx, uyy, uyz)
    ycz = _unit_cross(uyx, uyy, uyz, uzx, uzy, uzz)
    zcx = _unit_cross(uzx, uzy, uzz, uxx, uxy, uxz)
    if mx <= 0:
        u[0:3] = ycz
    if my <= 0:
        u[3:6] = zcx
    if mz <= 0:
        u[6:9] = xcy


def umat2misset(umat) -> tuple[float, float, float]:
    """C ``umat2misset``: XYZ misset angles (radians) of a rotation matrix, after the C's row
    normalisation, empty-row substitution (twice) and renormalisation."""
    u = [float(v) for v in np.asarray(umat, dtype=np.float64).reshape(9)]
    mx, my, mz = _unit_rows(u)
    if mx >= 0 and my <= 0 and mz <= 0:
        u[3:9] = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    if mx <= 0 and my >= 0 and mz <= 0:
        u[0:3] = [1.0, 0.0, 0.0]
        u[6:9] = [0.0, 0.0, 1.0]
    if mx <= 0 and my <= 0 and mz >= 0:
        u[0:6] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    _substitute_empty_rows(u, mx, my, mz)
    _substitute_empty_rows(u, mx, my, mz)
    _unit_rows(u)
    uxx, uxy, _, uyx, uyy, _, uzx, uzy, uzz = u
    if uzx * uzx < 1.0:
        return (math.atan2(uzy, uzz), math.atan2(-uzx, math.sqrt(uzy * uzy + uzz * uzz)),
                math.atan2(uyx, uxx))
    return math.atan2(1, 1) * 4, math.atan2(1, 1) * 2, math.atan2(uxy, -uyy)


def random_misset_angles(misset_seed: CLong, rng: CRandom) -> tuple[float, float, float]:
    """``-misset random``: ``umat2misset(mosaic_rotation_umat(90.0, &misset_seed))`` in radians.
    The 90 is radians in the C (a full sphere needs only π/2); 3 draws on ``misset_seed``."""
    return umat2misset(mosaic_rotation_umat(90.0, misset_seed, rng))


def mosaic_domain_umats(spread_rad: float, domains: int, mosaic_seed: CLong,
                        rng: CRandom) -> np.ndarray:
    """The C's domain matrices, ``(domains, 3, 3)`` float64: 3 draws per domain including domain 0,
    whose matrix is then overwritten with the identity."""
    if domains < 0:
        raise SimcoreUsageError(f"domains must be >= 0, got {domains}")
    out = np.empty((domains, 3, 3), dtype=np.float64)
    for m in range(domains):
        out[m] = mosaic_rotation_umat(spread_rad, mosaic_seed, rng).reshape(3, 3)
    if domains:
        out[0] = np.eye(3)
    return out


# ---- seeds and the setup order ------------------------------------------------------------------
def seed_from_cli(value: int) -> int:
    """The C's ``-seed``/``-mosaic_seed``/``-misset_seed`` rule: ``seed = -atoi(text)`` (int negation,
    so the internal value of ``N`` is ``-N``; ``-2**31`` stays itself as the C's wrap does)."""
    return int32_wrap(-int32_wrap(value))


def time_seed(now_s: float | None = None) -> int:
    """The C default ``seed = -time(0)`` (also the default ``misset_seed``)."""
    return -int(time.time() if now_s is None else now_s)


@dataclass
class CSeeds:
    """The three seed variables of one C run, with the C's defaults.

    ``misset_seed`` is copied from the time seed *before* argv is parsed, so ``-seed`` never
    reaches it. Build with :meth:`from_cli` from the CLI integers (``None`` = flag absent).
    """

    seed: CLong
    mosaic_seed: CLong
    misset_seed: CLong

    @classmethod
    def from_cli(cls, *, seed: int | None = None, mosaic_seed: int | None = None,
                 misset_seed: int | None = None, now_s: float | None = None) -> "CSeeds":
        t = time_seed(now_s)
        return cls(
            seed=CLong(t if seed is None else seed_from_cli(seed)),
            mosaic_seed=CLong(DEFAULT_MOSAIC_SEED if mosaic_seed is None else seed_from_cli(mosaic_seed)),
            misset_seed=CLong(t if misset_seed is None else seed_from_cli(misset_seed)),
        )


@dataclass(frozen=True)
class SetupDraws:
    """What the C draws at setup: misset angles (radians, ``None`` unless ``-misset random``) and
    the ``(domains, 3, 3)`` mosaic matrices."""

    misset_rad: tuple[float, float, float] | None
    mosaic_umats: np.ndarray


def setup_draws(*, misset_random: bool, mosaic_spread_rad: float, mosaic_domains: int,
                seeds: CSeeds, rng: CRandom) -> SetupDraws:
    """The C's setup-time RNG consumption, in its order: ``-misset random`` (3 draws on
    ``misset_seed``), then ``3·mosaic_domains`` draws on ``mosaic_seed``. Seeds advance in place."""
    misset = random_misset_angles(seeds.misset_seed, rng) if misset_random else None
    umats = mosaic_domain_umats(mosaic_spread_rad, mosaic_domains, seeds.mosaic_seed, rng)
    return SetupDraws(misset_rad=misset, mosaic_umats=umats)
