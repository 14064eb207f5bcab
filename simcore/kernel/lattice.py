"""Lattice shape factor F_latt (reference L1–L5) on engine tensors.

SQUARE uses ``sincg(π·h, N) = sin(N·π·h)/sin(π·h)`` on the full h (not h − h0), N at π·h == 0.

- float64: exactly the C expression. For finite h, 0/0 occurs only at π·h == 0, so
  ``nan_to_num(…, nan=N)`` reproduces the C's ``x == 0`` test without a (slow) ``where``.
- float32: π·h at |h| ≈ 30–100 has an absolute rounding error comparable to sin(π·h) near a Bragg
  peak, which wrecks the ratio (the peer's 8.5× low peaks). So the argument is reduced first,
  n = round(h), d = h − n (exact), and for integer N
  ``sin(Nπh)/sin(πh) = (−1)^(n(N−1)) · sin(Nπd)/sin(πd) = (−1)^(n(N−1)) · U_{N−1}(cos πd)``
  (Chebyshev polynomial of the second kind). For N ≤ CHEBYSHEV_MAX_N the recurrence
  U_{k+1} = 2c·U_k − U_{k−1} needs one cos instead of two sines and a division; above it the
  sine ratio is used (the recurrence's rounding grows like N²·ε).

Gradients: every sincg goes through sincg_grad.Sincg when h or N carries one (its backward uses the
reduced argument; the forward is the no-grad code above, so a gradient run's image is the plain
run's); the in-place fast paths run only without a graph.
"""
from __future__ import annotations

import math

import torch

from simcore.kernel.geometry import ieee_sqrt
from simcore.kernel.sincg_grad import grad_needed, sincg_with_grad
from simcore.vec import val

CHEBYSHEV_MAX_N = 8  # |error|/N ≈ 1.5e-8·N² (measured: 1.1e-6 at N = 8, 3.7e-6 at 16; sines: 2e-7)


def sincg(h: torch.Tensor, N) -> torch.Tensor:
    """sin(N·π·h)/sin(π·h), N where π·h == 0 (as the C); the gradient by sincg_grad.py."""
    if h.dtype == torch.float64:
        return sincg_with_grad(h, N, None, _sincg_f64)
    return _sincg_reduced(h, N)


def _sincg_f64(h: torch.Tensor, N: float) -> torch.Tensor:
    """The C expression for integer N. A non-integer N (only through ``params``: simcore's finite
    difference of N) gets the reduced continuation (−1)^(n(round N − 1))·sin(Nπd)/sin(πd), the
    function sincg_grad.py differentiates, instead of the unreduced one, whose N-derivative has a
    spurious πn·cos/sin term at every peak."""
    if N != round(N):
        n = torch.round(h)
        return _sincg_nd(n if int(round(N)) % 2 == 0 else None, h - n, N, int(round(N)))
    x = math.pi * h
    # + (x − x): NaN where h is not finite (a λ = 0 source), which nan_to_num would turn into N
    return torch.nan_to_num(torch.sin(x * N) / torch.sin(x), nan=N, posinf=math.inf, neginf=-math.inf) + (x - x)


# Odd N: sin(Nθ)/sin(θ) = 1 + 2·Σ_{k=1}^{(N−1)/2} T_k(cos 2θ) (the Dirichlet kernel), a polynomial in
# x = cos(2πh); cos(2πh) has period 1 in h, so frac(h) (exact) replaces the round-and-subtract.
_DIRICHLET = {3: (2.0, 1.0), 5: (4.0, 2.0, -1.0), 7: (8.0, 4.0, -4.0, -1.0)}   # Horner, highest first


def _sincg_odd_dirichlet(h: torch.Tensor, N: int) -> torch.Tensor:
    x = torch.frac(h).mul_(2.0 * math.pi)
    x = torch.cos(x, out=x)
    coef = _DIRICHLET[N]
    out = x.mul(coef[0]).add_(coef[1])
    for c in coef[2:]:
        out.mul_(x).add_(c)
    return out


def sincg_split(n: torch.Tensor, d: torch.Tensor, N, d64: torch.Tensor | None = None) -> torch.Tensor:
    """sincg at h = n + d given the integer n and the (precise) fraction d, |d| ≤ ½ (float32;
    ``d`` is consumed unless a gradient is wanted). ``d64``, the same fraction in float64, lets
    the sine path take N·d modulo 2 in float64: float32 N·d carries an error ε·N·|d| half-turns,
    which in the sidelobes of a large N (thousands of cells from -samplesize) is a large relative
    error of F_latt."""
    def fwd(d_, N_):
        n_int = int(round(N_))
        if n_int in _DIRICHLET and n_int == N_:
            return _sincg_odd_dirichlet(d_, n_int)
        return _sincg_nd(n if n_int % 2 == 0 else None, d_, N_, n_int, d64)   # d_ is consumed

    return sincg_with_grad(d, N, n, fwd)


def _sincg_reduced(h: torch.Tensor, N) -> torch.Tensor:
    return sincg_with_grad(h, N, None, _sincg_reduced_fwd)


def _sincg_reduced_fwd(h: torch.Tensor, N: float) -> torch.Tensor:
    n_int = int(round(N))
    if n_int in _DIRICHLET and n_int == N:
        return _sincg_odd_dirichlet(h, n_int)
    d = torch.round(h)
    n = d if n_int % 2 == 0 else None     # the parity of n is needed only for even N
    if n is not None:
        d = d.clone()
    d = torch.sub(h, d, out=d) if n is None else h - d   # d = h − n, exact
    return _sincg_nd(n, d, N, n_int)


def _sincg_nd(n, d: torch.Tensor, N: float, n_int: int, d64: torch.Tensor | None = None) -> torch.Tensor:
    """(−1)^(n(N−1))·sin(Nπd)/sin(πd) without a graph (``Sincg`` differentiates it); ``d`` is
    consumed, ``n`` only read (None: odd N)."""
    if n_int > CHEBYSHEV_MAX_N or n_int != N:
        if d64 is not None:
            u = d64 * N                                         # sin(πNd) = sin(π·(Nd mod 2))
            num = torch.sin(math.pi * (u - 2.0 * torch.round(0.5 * u)).to(d.dtype))
        else:
            num = torch.sin((math.pi * N) * d)
        ratio = torch.nan_to_num(num / torch.sin(math.pi * d), nan=N) + (d - d)   # NaN h stays NaN
    else:
        ratio = _chebyshev_u(torch.cos(d.mul_(math.pi), out=d), n_int)
    if n is not None:
        # (−1)^n for even N: p = n − 2·round(n/2) ∈ {−1, 0, 1}, sign = 1 − 2p²
        p = n - 2.0 * torch.round(0.5 * n)
        ratio = ratio * (1.0 - 2.0 * p * p)
    return ratio


def _chebyshev_u(c: torch.Tensor, n: int) -> torch.Tensor:
    """U_{n−1}(c) = sin(nθ)/sin(θ) for c = cos θ (``c`` is consumed). Odd n: Horner in c² for
    n ≤ 7 (small coefficients); otherwise the three-term recurrence U_{k+1} = 2c·U_k − U_{k−1}."""
    if n <= 1:
        return torch.ones_like(c)
    if n == 3:                                    # 4c² − 1
        return c.mul_(c).mul_(4.0).sub_(1.0)
    if n == 5:                                    # (16c² − 12)c² + 1
        c2 = c.mul_(c)
        return c2.mul(16.0).sub_(12.0).mul_(c2).add_(1.0)
    if n == 7:                                    # ((64c² − 80)c² + 24)c² − 1
        c2 = c.mul_(c)
        return c2.mul(64.0).sub_(80.0).mul_(c2).add_(24.0).mul_(c2).sub_(1.0)
    two_c = c.mul_(2.0)
    prev, cur = torch.ones_like(c), two_c.clone()
    for _ in range(n - 2):
        nxt = torch.mul(two_c, cur).sub_(prev)
        prev, cur = cur, nxt
    return cur


SINC3_SERIES_MAX = 1.0   # float32: below this |x| the Taylor series (error < 1e-8) replaces the formula
SINC3_C_BELOW = 1e-4     # float32: below this |x| the C's double expression (error 3.3e-16/x²) is used
_SINC3_TAYLOR = (-1.0 / 10, 1.0 / 280, -1.0 / 15120, 1.0 / 1330560, -1.0 / 172972800)   # in x², from x²


def sinc3(x: torch.Tensor) -> torch.Tensor:
    """3·(sin x / x − cos x)/x², 1 at x == 0 (the Fourier transform of a sphere).

    float64 is the C expression. In float32, sin x/x − cos x ≈ x²/3 cancels: the relative error
    is ~2e-7/x², and below x ≈ 3e-4 the difference is 0 (a spot's centre goes dark), so
    |x| < SINC3_SERIES_MAX uses 1 − x²/10 + x⁴/280 − … instead. The C's double expression has the
    same flaw below x ≈ 1e-5 (it is exactly 0 below ≈ 1e-8: a sub-pixel on the direct beam), so
    |x| < SINC3_C_BELOW evaluates that expression in float64, as the C does."""
    safe = torch.where(x == 0.0, torch.ones_like(x), x)
    direct = 3.0 * (torch.sin(safe) / safe - torch.cos(safe)) / (safe * safe)
    if x.dtype == torch.float64:
        return torch.where(x == 0.0, torch.ones_like(x), direct)
    x2 = x * x
    series = torch.full_like(x, _SINC3_TAYLOR[-1])
    for c in _SINC3_TAYLOR[-2::-1]:
        series = series * x2 + c
    series = series * x2 + 1.0
    out = torch.where(x2 < SINC3_SERIES_MAX * SINC3_SERIES_MAX, series, direct)
    tiny = x.abs() < SINC3_C_BELOW
    if bool(tiny.any()):  # where the C's own double expression cancels (the 000 spot): its value
        xt = x[tiny].double()
        c_val = torch.where(xt == 0.0, torch.ones_like(xt), 3.0 * (torch.sin(xt) / xt - torch.cos(xt)) / (xt * xt))
        out = out.index_put((tiny,), c_val.to(x.dtype))
    return out


def f_latt(shape: str, h, k, l, h0, k0, l0, *, Na, Nb, Nc, fudge, a_star, b_star, c_star, frac=None, frac64=None):
    """(F_latt, F_latt_a, F_latt_b, F_latt_c) for one crystal shape; the per-axis factors are
    only meaningful for SQUARE (None otherwise). h0/k0/l0 are unused by SQUARE (may be None)
    unless ``frac`` (h − h0, k − k0, l − l0 taken in float64; precision.py) is given, with
    ``frac64`` the same in float64."""
    if shape == "square":
        if frac is not None:
            fa, fb, fc = (sincg_split(n, d, N, d64) if val(N) > 1 or grad_needed(N) else None
                          for n, d, N, d64 in zip((h0, k0, l0), frac, (Na, Nb, Nc), frac64 or (None,) * 3))
        else:
            fa = sincg(h, Na) if val(Na) > 1 or grad_needed(Na) else None
            fb = sincg(k, Nb) if val(Nb) > 1 or grad_needed(Nb) else None
            fc = sincg(l, Nc) if val(Nc) > 1 or grad_needed(Nc) else None
        factors = [f for f in (fa, fb, fc) if f is not None]
        if not factors:
            return torch.ones_like(h), fa, fb, fc
        from simcore.taps import tracing

        if h.dtype == torch.float32 and not tracing() and len(factors) > 1 and not grad_needed(*factors):
            out = factors[0] * factors[1]  # per-axis factors are not needed later: fold in place
            for f in factors[2:]:
                out.mul_(f)
            return out, None, None, None
        out = factors[0]
        for f in factors[1:]:
            out = out * f
        return out, fa, fb, fc
    dh, dk, dl = frac if frac is not None else (h - h0, k - k0, l - l0)
    if shape == "round":
        hrad_sqr = dh * dh * Na * Na + dk * dk * Nb * Nb + dl * dl * Nc * Nc
        F = Na * Nb * Nc * 0.723601254558268 * sinc3(math.pi * ieee_sqrt(hrad_sqr * fudge))
        return F, None, None, None
    rad_star_sqr = _rad_star_sqr(dh, dk, dl, Na, Nb, Nc, a_star, b_star, c_star)
    if shape == "gauss":
        return Na * Nb * Nc * torch.exp(-(rad_star_sqr / 0.63 * fudge)), None, None, None
    if shape == "tophat":
        return Na * Nb * Nc * (rad_star_sqr * fudge < 0.3969).to(h.dtype), None, None, None
    raise ValueError(f"unknown crystal shape {shape!r}")


def _rad_star_sqr(dh, dk, dl, Na, Nb, Nc, a_star, b_star, c_star):
    dx = dh * a_star[0] + dk * b_star[0] + dl * c_star[0]
    dy = dh * a_star[1] + dk * b_star[1] + dl * c_star[1]
    dz = dh * a_star[2] + dk * b_star[2] + dl * c_star[2]
    return (dx * dx + dy * dy + dz * dz) * Na * Na * Nb * Nb * Nc * Nc


DOUBLE_EXP_ZERO = 745.1332191019412   # exp(−x) is exactly 0.0 in double above this x


def gauss_c_nonzero(dhkl, *, Na, Nb, Nc, fudge, a_star, b_star, c_star) -> torch.Tensor:
    """Where the C's double GAUSS F_latt is not 0 (its ``F_latt == 0`` skip): float32's exp
    underflows already at x ≈ 104, which would skip terms the C keeps (and so the
    -oversample_* products that go with them)."""
    x = _rad_star_sqr(*dhkl, Na, Nb, Nc, a_star, b_star, c_star) / 0.63 * fudge
    return x <= DOUBLE_EXP_ZERO

