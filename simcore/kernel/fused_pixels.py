"""The numba pixel kernel behind fused.py: geometry, q, the inner sum and the scaling, one pass per block.

Imported only by fused.py (it imports numba). The formulas are geometry.py's, restricted to a flat
detector with one layer and no capture fraction:
- ``render_lo`` (float32 run): sub-pixel offsets from the beam anchor, R from P·b and P⊥, and
  d − b = (P⊥ − s·b)/R without cancellation (geometry.beam_anchor, geometry._d_minus_beam);
- ``render_hi`` (float32 run with a float64 twin, precision.py): the C's expressions in float64.
Divisions by R and λ are multiplications by reciprocals (an ulp of q: far below float32's output).
Ω and polarization are the first sub-pixel's (and first source's), as the C caches them; the image
value S = r_e²·fluence·I/steps·polar·Ω is formed in float64 and stored as float32.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from simcore.kernel.fused_kernel import block_sum

BLOCK = 1024                    # pixels per block: few allocations, q rows of one sub-pixel × source in L1


@numba.njit(inline="always", fastmath={"contract"})
def _polar_loop(px, py, pz, R, inc, mode, kahn, B, E, polar, n):
    """Kahn polarization of source 0 at d = P/R, one loop per mode (mode 0: -nopolar, 1: unpolarized)."""
    if mode == 0:
        polar[:n] = 1.0
        return
    ix, iy, iz = inc[0, 0], inc[0, 1], inc[0, 2]
    if mode == 1:
        for i in range(n):
            cos2t = ix * (px[i] / R[i]) + iy * (py[i] / R[i]) + iz * (pz[i] / R[i])
            polar[i] = 0.5 * (1.0 + cos2t * cos2t)
        return
    for i in range(n):
        dx, dy, dz = px[i] / R[i], py[i] / R[i], pz[i] / R[i]
        cos2t = ix * dx + iy * dy + iz * dz
        c2 = cos2t * cos2t
        psi = -math.atan2(dx * B[0] + dy * B[1] + dz * B[2], dx * E[0] + dy * E[1] + dz * E[2])
        polar[i] = 0.5 * (1.0 + c2 - kahn * math.cos(2.0 * psi) * (1.0 - c2))


@numba.njit(inline="always", fastmath={"contract"})
def _finish(acc, polar, omega, n, p0, F2, I_bg, scale, out):
    for i in range(n):
        out[p0 + i] = np.float32((scale * (I_bg + F2 * acc[i])) * polar[i] * omega[i])


@numba.njit(inline="always", fastmath={"contract"})
def _to_q(ex, ey, ez, q0, q1, q2, k0, inc_or_w, lam, n):
    """q[k0 + src, i] = (e − w_src)/λ_src: one vectorizable loop per source."""
    for src in range(lam.shape[0]):
        wx, wy, wz, inv = inc_or_w[src, 0], inc_or_w[src, 1], inc_or_w[src, 2], 1.0 / lam[src]
        for i in range(n):
            q0[k0 + src, i] = (ex[i] - wx) * inv
            q1[k0 + src, i] = (ey[i] - wy) * inv
            q2[k0 + src, i] = (ez[i] - wz) * inv


@numba.njit(parallel=True, cache=True, fastmath={"contract"})
def render_lo(spix, fpix, os_, sub_m, Bf, phf, Bs, phs, vec, a_par, inc, w, lam, pm2, close_m, point_pixel,
              pmode, kahn, Bk, Ek, abc, u, F2, I_bg, scale, out, omega_out):
    """float32 geometry. vec rows (float32): fdet, sdet, beam, anchor, anchor_perp (zeros when None)."""
    P = spix.shape[0]
    NS = lam.shape[0]
    K = os_ * os_ * NS
    n_blocks = (P + BLOCK - 1) // BLOCK
    one = np.float32(1.0)
    fx, fy, fz, sx, sy, sz = vec[0, 0], vec[0, 1], vec[0, 2], vec[1, 0], vec[1, 1], vec[1, 2]
    bx, by, bz = vec[2, 0], vec[2, 1], vec[2, 2]
    for blk in numba.prange(n_blocks):
        p0 = blk * BLOCK
        n = min(P, p0 + BLOCK) - p0
        q0 = np.empty((K, BLOCK), np.float32)
        q1 = np.empty((K, BLOCK), np.float32)
        q2 = np.empty((K, BLOCK), np.float32)
        ex = np.empty(BLOCK, np.float32)
        ey = np.empty(BLOCK, np.float32)
        ez = np.empty(BLOCK, np.float32)
        Rs = np.empty(BLOCK, np.float32)
        dx = np.empty(BLOCK, np.float32)
        dy = np.empty(BLOCK, np.float32)
        dz = np.empty(BLOCK, np.float32)
        polar = np.empty(BLOCK, np.float64)
        omega = np.empty(BLOCK, np.float64)
        for ss in range(os_):
            for sf in range(os_):
                for i in range(n):
                    fm = sub_m * (np.float32(fpix[p0 + i] * os_ + (sf - Bf)) + phf)
                    sm = sub_m * (np.float32(spix[p0 + i] * os_ + (ss - Bs)) + phs)
                    ux = fm * fx + sm * sx
                    uy = fm * fy + sm * sy
                    uz = fm * fz + sm * sz
                    ub = ux * bx + uy * by + uz * bz
                    pb = ub + a_par
                    rx = ux - ub * bx + vec[4, 0]
                    ry = uy - ub * by + vec[4, 1]
                    rz = uz - ub * bz + vec[4, 2]
                    r2 = rx * rx + ry * ry + rz * rz
                    R = np.sqrt(pb * pb + r2)
                    s = r2 / (R + pb) if pb > 0 else R - pb
                    inv = one / R
                    ex[i] = (rx - s * bx) * inv
                    ey[i] = (ry - s * by) * inv
                    ez[i] = (rz - s * bz) * inv
                    Rs[i] = R
                    dx[i] = ux + vec[3, 0]                     # P = u + anchor (divided by R in _polar_loop)
                    dy[i] = uy + vec[3, 1]
                    dz[i] = uz + vec[3, 2]
                _to_q(ex, ey, ez, q0, q1, q2, (ss * os_ + sf) * NS, w, lam, n)
                if ss == 0 and sf == 0:
                    for i in range(n):
                        R = Rs[i]
                        om = one / R / R if point_pixel else pm2 / R / R * close_m / R
                        omega[i] = om
                        omega_out[p0 + i] = om
                    _polar_loop(dx, dy, dz, Rs, inc, pmode, kahn, Bk, Ek, polar, n)
        acc = np.zeros(BLOCK, np.float64)
        block_sum(q0, q1, q2, 0, n, abc, u, acc)
        _finish(acc, polar, omega, n, p0, F2, I_bg, scale, out)


@numba.njit(parallel=True, cache=True, fastmath={"contract"})
def render_hi(spix, fpix, os_, sub_m, vec, inc, lam, pixel_m, close_m, point_pixel,
              pmode, kahn, Bk, Ek, abc, u, F2, I_bg, scale, out, omega_out):
    """float64 geometry, the C's expressions. vec rows (float64): fdet, sdet, pix0."""
    P = spix.shape[0]
    NS = lam.shape[0]
    K = os_ * os_ * NS
    n_blocks = (P + BLOCK - 1) // BLOCK
    half = sub_m / 2.0
    for blk in numba.prange(n_blocks):
        p0 = blk * BLOCK
        n = min(P, p0 + BLOCK) - p0
        q0 = np.empty((K, BLOCK), np.float64)
        q1 = np.empty((K, BLOCK), np.float64)
        q2 = np.empty((K, BLOCK), np.float64)
        dx = np.empty(BLOCK, np.float64)
        dy = np.empty(BLOCK, np.float64)
        dz = np.empty(BLOCK, np.float64)
        Rs = np.empty(BLOCK, np.float64)
        polar = np.empty(BLOCK, np.float64)
        omega = np.empty(BLOCK, np.float64)
        for ss in range(os_):
            for sf in range(os_):
                for i in range(n):
                    fm = sub_m * np.float64(fpix[p0 + i] * os_ + sf) + half
                    sm = sub_m * np.float64(spix[p0 + i] * os_ + ss) + half
                    px = fm * vec[0, 0] + sm * vec[1, 0] + vec[2, 0]
                    py = fm * vec[0, 1] + sm * vec[1, 1] + vec[2, 1]
                    pz = fm * vec[0, 2] + sm * vec[1, 2] + vec[2, 2]
                    R = np.sqrt(px * px + py * py + pz * pz)
                    inv = 1.0 / R
                    dx[i] = px * inv
                    dy[i] = py * inv
                    dz[i] = pz * inv
                    Rs[i] = R
                _to_q(dx, dy, dz, q0, q1, q2, (ss * os_ + sf) * NS, inc, lam, n)
                if ss == 0 and sf == 0:
                    for i in range(n):
                        R = Rs[i]
                        om = 1.0 / R / R if point_pixel else pixel_m * pixel_m / R / R * close_m / R
                        omega[i] = om
                        omega_out[p0 + i] = om
                    Rs[:n] = 1.0                              # d is already unit
                    _polar_loop(dx, dy, dz, Rs, inc, pmode, kahn, Bk, Ek, polar, n)
        acc = np.zeros(BLOCK, np.float64)
        block_sum(q0, q1, q2, 0, n, abc, u, acc)
        _finish(acc, polar, omega, n, p0, F2, I_bg, scale, out)
