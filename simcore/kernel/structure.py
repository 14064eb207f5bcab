"""Structure factors F_cell: nearest-neighbour lookup and tricubic interpolation (S1–S4).

The grid is the C's (h_range+1)×(k_range+1)×(l_range+1) array (one slot of zero padding);
``h_range = h_max − h_min + 1``. Interpolation is the C's 4-point Lagrange ``polint`` along l,
then k, then h (``polin3``), with nodes floor(x)−1 … floor(x)+2.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class FTable:
    """Structure factors on the engine's device/dtype."""

    grid: torch.Tensor | None        # flattened (h_range+1)*(k_range+1)*(l_range+1), or None (hkls == 0)
    mins: tuple                      # (h_min, k_min, l_min)
    maxs: tuple
    ranges: tuple                    # (h_range, k_range, l_range)
    hkls: int
    default_F: float

    @property
    def strides(self) -> tuple:
        _, kr, lr = self.ranges
        return ((kr + 1) * (lr + 1), lr + 1, 1)


def f_nearest(tab: FTable, h0, k0, l0) -> torch.Tensor:
    """F at the rounded indices; default_F outside the grid or without a grid."""
    if tab.grid is None or tab.hkls == 0:
        return torch.full_like(h0, tab.default_F)
    inside = torch.ones_like(h0, dtype=torch.bool)
    idx = torch.zeros_like(h0, dtype=torch.int64)
    for x, lo, hi, stride in zip((h0, k0, l0), tab.mins, tab.maxs, tab.strides):
        inside = inside & (x >= lo) & (x <= hi)
        idx = idx + (x - lo).to(torch.int64) * stride
    idx = torch.where(inside, idx, torch.zeros_like(idx))
    values = tab.grid[idx]
    return torch.where(inside, values, torch.full_like(values, tab.default_F))


def interp_out_of_range(tab: FTable, h, k, l) -> torch.Tensor:
    """The C's test that switches interpolation off (uses the fractional indices)."""
    out = torch.zeros_like(h, dtype=torch.bool)
    for x, lo, rng in zip((h, k, l), tab.mins, tab.ranges):
        out = out | ((x - lo + 3) > rng) | ((x - 2) < lo)
    return out


_DEN = (-6.0, 2.0, -2.0, 6.0)  # (xa_i − xa_j) products for nodes n−1, n, n+1, n+2


def _lagrange_factors(x, base):
    """The products (x−xa_j) over j ≠ i for the four nodes base−1 … base+2 (C polint order)."""
    xa = [base - 1.0, base, base + 1.0, base + 2.0]
    d = [x - xa[j] for j in range(4)]
    return [d[1] * d[2] * d[3], d[0] * d[2] * d[3], d[0] * d[1] * d[3], d[0] * d[1] * d[2]]


def _polint(factors, ys):
    terms = [factors[i] * ys[i] / _DEN[i] for i in range(4)]
    return terms[0] + terms[1] + terms[2] + terms[3]


def f_interpolated(tab: FTable, h, k, l) -> torch.Tensor:
    """Tricubic F; callers only use it where ``interp_out_of_range`` is False (indices are
    clamped so out-of-range evaluations stay in bounds but are meaningless)."""
    hf, kf, lf = torch.floor(h), torch.floor(k), torch.floor(l)
    fh, fk, fl = _lagrange_factors(h, hf), _lagrange_factors(k, kf), _lagrange_factors(l, lf)
    sh, sk, sl = tab.strides
    n_max = tab.grid.numel() - 1
    base = ((hf - 1 - tab.mins[0]) * sh + (kf - 1 - tab.mins[1]) * sk + (lf - 1 - tab.mins[2]) * sl)
    base = base.to(torch.int64)
    per_h = []
    for i1 in range(4):
        per_k = []
        for i2 in range(4):
            ys = [tab.grid[torch.clamp(base + i1 * sh + i2 * sk + i3 * sl, 0, n_max)] for i3 in range(4)]
            per_k.append(_polint(fl, ys))
        per_h.append(_polint(fk, per_k))
    return _polint(fh, per_h)
