"""The numba kernel behind fused.py: Σ over (sub-pixel × source) × (phi × mosaic) of F_latt² per pixel.

Imported only by fused.py (it imports numba). One pass per pixel block, every operand in registers:
h = a·q in the dtype of q (float32, or float64 for a float32 run with a float64 twin, precision.py),
n = nearest integer, d = h − n (exact), then sin(Nπd)/sin(πd)·(−1)^(n(N−1)) = U_{N−1}(cos πd) in
float32 from a polynomial cos (Taylor to θ¹², |error| < 7e-9 on |θ| ≤ π/2), summed in float64.
No library call in the inner loop, so LLVM vectorizes it across pixels.
"""
from __future__ import annotations

import math

import numba
import numpy as np

BLOCK = 256                     # pixels per block: q (3 × 1 KiB) and the float64 sums stay in L1

_PI32 = np.float32(math.pi)
_C1 = np.float32(-1.0 / 2)
_C2 = np.float32(1.0 / 24)
_C3 = np.float32(-1.0 / 720)
_C4 = np.float32(1.0 / 40320)
_C5 = np.float32(-1.0 / 3628800)
_C6 = np.float32(1.0 / 479001600)
_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_HALF = np.float32(0.5)


# U_{N−1}(c) = P(c²)·(c if N is even else 1), P of degree ≤ 3 in c² for N ≤ 8 (highest first)
U_COEFFS = {1: (0, 0, 0, 1), 2: (0, 0, 0, 2), 3: (0, 0, 4, -1), 4: (0, 0, 8, -4), 5: (0, 16, -12, 1),
            6: (0, 32, -32, 6), 7: (64, -80, 24, -1), 8: (128, -192, 80, -8)}


def coefficients(Ns) -> np.ndarray:
    """(3, 5) float32 rows (P₃, P₂, P₁, P₀, even) for the three axes' N."""
    return np.array([U_COEFFS[n] + (n % 2 == 0,) for n in Ns], dtype=np.float32)


@numba.njit(inline="always", fastmath={"contract"})
def _sincg(h, u3, u2, u1, u0, even):
    """sin(Nπh)/sin(πh) for an integer 1 ≤ N ≤ 8 (N at integer h), in float32, branch-free."""
    n = np.floor(h + _HALF)
    d = np.float32(h - n)                  # exact
    t = _PI32 * d
    t = t * t
    c = ((((((_C6 * t + _C5) * t + _C4) * t + _C3) * t + _C2) * t + _C1) * t) + _ONE   # cos(πd)
    c2 = c * c
    p = ((u3 * c2 + u2) * c2 + u1) * c2 + u0
    half = n * _HALF
    odd = np.float32(_TWO * (half - np.floor(half)))          # n mod 2 ∈ {0, 1}: (−1)^n for even N
    return p * (c * even + (_ONE - even)) * (_ONE - _TWO * odd * even)


@numba.njit(inline="always", fastmath={"contract"})
def _sincg_odd(h, u3, u2, u1, u0):
    """_sincg for odd N: U_{N−1}(c) = P(c²), no sign and no parity."""
    d = np.float32(h - np.floor(h + _HALF))
    t = _PI32 * d
    t = t * t
    c = ((((((_C6 * t + _C5) * t + _C4) * t + _C3) * t + _C2) * t + _C1) * t) + _ONE
    c2 = c * c
    return ((u3 * c2 + u2) * c2 + u1) * c2 + u0


@numba.njit(inline="always", fastmath={"contract"})
def block_sum(q0, q1, q2, p0, n, abc, u, acc):
    """acc[i] += Σ_k Σ_j (F_a·F_b·F_c)² at h = abc[j]·q[k, p0 + i], i < n; q*: C-contiguous (K, P)."""
    ua3, ua2, ua1, ua0, ea = u[0, 0], u[0, 1], u[0, 2], u[0, 3], u[0, 4]
    ub3, ub2, ub1, ub0, eb = u[1, 0], u[1, 1], u[1, 2], u[1, 3], u[1, 4]
    uc3, uc2, uc1, uc0, ec = u[2, 0], u[2, 1], u[2, 2], u[2, 3], u[2, 4]
    all_odd = ea == 0 and eb == 0 and ec == 0
    for k in range(q0.shape[0]):
        x0 = q0[k, p0:p0 + n]
        x1 = q1[k, p0:p0 + n]
        x2 = q2[k, p0:p0 + n]
        for j in range(abc.shape[0]):
            ax, ay, az = abc[j, 0], abc[j, 1], abc[j, 2]
            bx, by, bz = abc[j, 3], abc[j, 4], abc[j, 5]
            cx, cy, cz = abc[j, 6], abc[j, 7], abc[j, 8]
            if all_odd:
                for i in range(n):
                    x, y, z = x0[i], x1[i], x2[i]
                    f = (_sincg_odd(ax * x + ay * y + az * z, ua3, ua2, ua1, ua0)
                         * _sincg_odd(bx * x + by * y + bz * z, ub3, ub2, ub1, ub0)
                         * _sincg_odd(cx * x + cy * y + cz * z, uc3, uc2, uc1, uc0))
                    acc[i] += f * f
            else:
                for i in range(n):
                    x, y, z = x0[i], x1[i], x2[i]
                    f = (_sincg(ax * x + ay * y + az * z, ua3, ua2, ua1, ua0, ea)
                         * _sincg(bx * x + by * y + bz * z, ub3, ub2, ub1, ub0, eb)
                         * _sincg(cx * x + cy * y + cz * z, uc3, uc2, uc1, uc0, ec))
                    acc[i] += f * f


@numba.njit(parallel=True, cache=True, fastmath={"contract"})
def inner_sum(q0, q1, q2, abc, u, out):
    """out[p] = Σ_k Σ_j (F_a·F_b·F_c)² at h = abc[j]·q[k, p]; q*: (K, P), abc: (J, 9) rows
    (a_x, a_y, a_z, b_x, …, c_z), u: coefficients() of (Na, Nb, Nc), out: (P,) float64."""
    P = q0.shape[1]
    n_blocks = (P + BLOCK - 1) // BLOCK
    for blk in numba.prange(n_blocks):
        p0 = blk * BLOCK
        p1 = min(P, p0 + BLOCK)
        acc = np.zeros(p1 - p0, np.float64)
        block_sum(q0, q1, q2, p0, p1 - p0, abc, u, acc)
        out[p0:p1] = acc
