"""Lattice shape factor F_latt (reference L1–L5) on engine tensors.

SQUARE uses ``sincg(π·h, N) = sin(N·π·h)/sin(π·h)`` on the full h (not h − h0). In float64 we
evaluate exactly the C expression. In float32, π·h at |h| ≈ 30–100 has an absolute rounding error
comparable to sin(π·h) near a Bragg peak, which wrecks the ratio (the peer's 8.5× low peaks).
So float32 reduces the argument first: with n = round(h), d = h − n (exact),
``sin(Nπh)/sin(πh) = (−1)^(n(N−1)) · sin(Nπd)/sin(πd)`` for integer N — the same value, every
operand small and accurate.
"""
from __future__ import annotations

import math

import torch
from simcore.vec import val


def sincg(h: torch.Tensor, N) -> torch.Tensor:
    """sin(N·π·h)/sin(π·h), N when π·h == 0 (exact test, as the C)."""
    if h.dtype == torch.float64:
        x = math.pi * h
        return torch.where(x == 0.0, torch.as_tensor(N, dtype=h.dtype, device=h.device),
                           torch.sin(x * N) / torch.sin(x))
    return _sincg_reduced(h, N)


def _sincg_reduced(h: torch.Tensor, N) -> torch.Tensor:
    n = torch.round(h)
    d = h - n
    num = torch.sin((math.pi * val(N)) * d) if not isinstance(N, torch.Tensor) else torch.sin(math.pi * N * d)
    den = torch.sin(math.pi * d)
    ratio = torch.where(d == 0.0, torch.as_tensor(N, dtype=h.dtype, device=h.device), num / den)
    n_int = int(round(val(N)))
    if n_int % 2 == 0:  # (−1)^(n(N−1)) is −1 only for odd n when N is even
        odd = torch.remainder(n, 2.0) != 0.0
        ratio = torch.where(odd, -ratio, ratio)
    return ratio


def sinc3(x: torch.Tensor) -> torch.Tensor:
    """3·(sin x / x − cos x)/x², 1 at x == 0 (the Fourier transform of a sphere)."""
    safe = torch.where(x == 0.0, torch.ones_like(x), x)
    return torch.where(x == 0.0, torch.ones_like(x), 3.0 * (torch.sin(safe) / safe - torch.cos(safe)) / (safe * safe))


def f_latt(shape: str, h, k, l, h0, k0, l0, *, Na, Nb, Nc, fudge, a_star, b_star, c_star):
    """(F_latt, F_latt_a, F_latt_b, F_latt_c) for one crystal shape; the per-axis factors are
    only meaningful for SQUARE (None otherwise)."""
    if shape == "square":
        fa = sincg(h, Na) if val(Na) > 1 else None
        fb = sincg(k, Nb) if val(Nb) > 1 else None
        fc = sincg(l, Nc) if val(Nc) > 1 else None
        out = torch.ones_like(h)
        for f in (fa, fb, fc):
            if f is not None:
                out = out * f
        return out, fa, fb, fc
    dh, dk, dl = h - h0, k - k0, l - l0
    if shape == "round":
        hrad_sqr = dh * dh * Na * Na + dk * dk * Nb * Nb + dl * dl * Nc * Nc
        F = Na * Nb * Nc * 0.723601254558268 * sinc3(math.pi * torch.sqrt(hrad_sqr * fudge))
        return F, None, None, None
    dx = dh * a_star[0] + dk * b_star[0] + dl * c_star[0]
    dy = dh * a_star[1] + dk * b_star[1] + dl * c_star[1]
    dz = dh * a_star[2] + dk * b_star[2] + dl * c_star[2]
    rad_star_sqr = (dx * dx + dy * dy + dz * dz) * Na * Na * Nb * Nb * Nc * Nc
    if shape == "gauss":
        return Na * Nb * Nc * torch.exp(-(rad_star_sqr / 0.63 * fudge)), None, None, None
    if shape == "tophat":
        return Na * Nb * Nc * (rad_star_sqr * fudge < 0.3969).to(h.dtype), None, None, None
    raise ValueError(f"unknown crystal shape {shape!r}")
