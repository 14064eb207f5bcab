"""The derivative of the lattice factor sincg(πh, N) = sin(Nπh)/sin(πh) on the reduced argument.

Autograd through the forward expression is wrong in two ways (project issue #17):
- ∂/∂h by the quotient rule cancels catastrophically as sin(πh) → 0: ~4.5e18 at the direct-beam
  pixel in float64 (h ≈ 1e-17), where the true value is 0; garbage near every peak in float32;
- ∂/∂N of the *unreduced* sin(Nπh)/sin(πh) has the term πn·cos(Nπh)/sin(πh) at every peak n ≠ 0,
  which is no property of a crystal (the C's N is an integer).

With n = round(h), d = h − n (exact) and t = πd, for integer N
``sin(Nπh)/sin(πh) = s·g(t)``, ``g(t) = sin(Nt)/sin(t)``, ``s = (−1)^(n(N−1))``, so
``∂/∂h = s·π·g'(t)`` and ``∂/∂N = s·t·cos(Nt)/sin(t)`` (1 at t = 0). ``g'`` is the quotient
rule where |N·t| ≥ SERIES_BELOW (relative error ≈ 3ε/(Nt)² ≤ 3e-14) and its Taylor series below
(4 terms: truncation < 1e-12). Non-integer N (only through ``params``, e.g. simcore's own finite
difference of N) is given the same continuation, s from round(N), so forward and backward agree.

:class:`Sincg` runs the forward given to it (the no-grad code, so a gradient run's image equals a
plain run's bit for bit) and computes this backward in float64 from torch ops, so it is itself
differentiable (the gradient port's double-backward trick needs that).
"""
from __future__ import annotations

import math

import torch

from simcore.vec import val

SERIES_BELOW = 0.1   # |N·t| below which g'(t) is the Taylor series


def grad_needed(*xs) -> bool:
    """Whether autograd is on and any of ``xs`` carries a gradient."""
    return torch.is_grad_enabled() and any(isinstance(x, torch.Tensor) and x.requires_grad for x in xs)


def _series_dg(t: torch.Tensor, N) -> torch.Tensor:
    """g'(t) from g(t) = N + c2·t² + c4·t⁴ + c6·t⁶ + c8·t⁸ (sympy: series of sin(Nt)/sin(t))."""
    n2 = N * N
    base = N * (n2 - 1.0)
    c2 = -base / 6.0
    c4 = base * (3.0 * n2 - 7.0) / 360.0
    c6 = -base * (3.0 * n2 * n2 - 18.0 * n2 + 31.0) / 15120.0
    c8 = base * (5.0 * n2 * n2 * n2 - 55.0 * n2 * n2 + 239.0 * n2 - 381.0) / 1814400.0
    t2 = t * t
    return t * (2.0 * c2 + t2 * (4.0 * c4 + t2 * (6.0 * c6 + t2 * (8.0 * c8))))


def partials(x: torch.Tensor, N, n: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂f/∂x, ∂f/∂N) in float64 for f = sincg at the Miller index ``n + x`` (``n`` None: x is
    the whole index). Zero where x is not finite (a λ = 0 source: its NaN term is masked later,
    and 0·NaN would poison the masked gradient)."""
    xd = x.to(torch.float64)
    r = torch.round(xd)
    d = xd - r
    finite = torch.isfinite(d)
    d = torch.where(finite, d, torch.zeros_like(d))
    Nd = N.to(torch.float64) if isinstance(N, torch.Tensor) else float(N)
    t = math.pi * d
    small = t.abs() * max(abs(val(N)), 1.0) < SERIES_BELOW
    ts = torch.where(small, torch.ones_like(t), t)            # safe in the unselected branch
    sin_t, sin_nt = torch.sin(ts), torch.sin(Nd * ts)
    direct = (Nd * torch.cos(Nd * ts) * sin_t - sin_nt * torch.cos(ts)) / (sin_t * sin_t)
    dg = torch.where(small, _series_dg(t, Nd), direct)
    t0 = t == 0.0
    tz = torch.where(t0, torch.ones_like(t), t)
    ratio = torch.where(t0, torch.ones_like(t), tz / torch.sin(tz))   # t/sin t, 1 at t = 0
    dN = torch.cos(Nd * t) * ratio
    if int(round(val(N))) % 2 == 0:   # s = (−1)^n for even N (odd N: n(N−1) is even)
        whole = r if n is None else r + n.to(torch.float64)
        p = whole - 2.0 * torch.round(0.5 * whole)
        sign = 1.0 - 2.0 * p * p
        dg, dN = dg * sign, dN * sign
    zero = torch.zeros_like(d)
    return torch.where(finite, math.pi * dg, zero), torch.where(finite, dN, zero)


class Sincg(torch.autograd.Function):
    """``Sincg.apply(x, N, n, forward)``: ``forward(x_copy, N_value)`` computes sincg at ``n + x``
    (``n`` None: x is the whole Miller index) without a graph; the backward is :func:`partials`."""

    @staticmethod
    def forward(x, N, n, fwd):
        return fwd(x.detach().clone(), val(N))

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, N, n, _ = inputs
        ctx.N_tensor = isinstance(N, torch.Tensor)
        ctx.N_value = None if ctx.N_tensor else N
        ctx.save_for_backward(x, N if ctx.N_tensor else None, n)

    @staticmethod
    def backward(ctx, grad):
        x, N_t, n = ctx.saved_tensors
        N = N_t if ctx.N_tensor else ctx.N_value
        gx = gN = None
        need_x, need_N = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if need_x or need_N:
            dx, dN = partials(x, N, n)
            if need_x:
                gx = grad * dx.to(grad.dtype)
            if need_N:
                gN = (grad.to(torch.float64) * dN).sum().reshape(N_t.shape).to(N_t.dtype)
        return gx, gN, None, None


def sincg_with_grad(x: torch.Tensor, N, n: torch.Tensor | None, fwd) -> torch.Tensor:
    """:class:`Sincg` when a gradient is wanted through ``x`` or ``N``, else ``fwd(x, val(N))``
    directly (``fwd`` may consume ``x``)."""
    if grad_needed(x, N):
        return Sincg.apply(x, N, n, fwd)
    return fwd(x, val(N))
