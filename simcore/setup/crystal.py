"""Crystal set-up: cell or MOSFLM matrix → real/reciprocal vectors, misset, size, phi × mosaic set.

Follows nanoBragg.c (reference X1–X8) in float64 torch so the cell, misset angles, N and λ
can carry gradients. Real-space vectors end in metres, reciprocal ones stay in Å⁻¹ (trap T-UNITS).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import torch

from simcore import vec as V
from simcore.errors import SimcoreInputError
from simcore.taps import tap

DBL_MIN = sys.float_info.min


@dataclass
class CrystalSetup:
    a0_m: torch.Tensor            # real-space vectors at phi = 0, no mosaic (m)
    b0_m: torch.Tensor
    c0_m: torch.Tensor
    a_star_A_inv: torch.Tensor    # static reciprocal vectors (Å⁻¹), used by GAUSS/TOPHAT and traces
    b_star_A_inv: torch.Tensor
    c_star_A_inv: torch.Tensor
    V_cell_A3: torch.Tensor
    Na: torch.Tensor
    Nb: torch.Tensor
    Nc: torch.Tensor
    cell_A: tuple                 # (a, b, c) lengths, for printing
    cell_deg: tuple
    misset_deg: tuple | None
    warnings: list


def _cell_reciprocal(a, b, c, alpha, beta, gamma, warnings):
    """Default-orientation reciprocal vectors from a user cell (X1); returns (a*, b*, c*, V_cell)."""
    aavg = (alpha + beta + gamma) / 2
    skew = torch.sin(aavg) * torch.sin(aavg - alpha) * torch.sin(aavg - beta) * torch.sin(aavg - gamma)
    skew = torch.abs(skew)
    V_cell = 2.0 * a * b * c * torch.sqrt(skew)
    if V.val(V_cell) <= 0.0:
        warnings.append(f"impossible unit cell volume: {V.val(V_cell):g}")
        V_cell = V.t64(DBL_MIN)
    V_star = 1.0 / V_cell
    as0 = b * c * torch.sin(alpha) * V_star
    bs0 = c * a * torch.sin(beta) * V_star
    cs0 = a * b * torch.sin(gamma) * V_star
    if min(V.val(as0), V.val(bs0), V.val(cs0)) <= 0.0:
        warnings.append("impossible reciprocal cell lengths")
        as0, bs0, cs0 = (torch.clamp(torch.abs(x), min=DBL_MIN) for x in (as0, bs0, cs0))
    sin_gs = c * V_star / as0 / bs0
    cos_as = (torch.cos(beta) * torch.cos(gamma) - torch.cos(alpha)) / (torch.sin(beta) * torch.sin(gamma))
    cos_bs = (torch.cos(gamma) * torch.cos(alpha) - torch.cos(beta)) / (torch.sin(gamma) * torch.sin(alpha))
    cos_gs = (torch.cos(alpha) * torch.cos(beta) - torch.cos(gamma)) / (torch.sin(alpha) * torch.sin(beta))
    sin_gs = torch.clamp(sin_gs, -1.0, 1.0)
    cos_as, cos_bs, cos_gs = (x if V.val(x * x) <= 1.0 else torch.ones_like(x) for x in (cos_as, cos_bs, cos_gs))
    zero = torch.zeros((), dtype=V.F64)
    a_star = torch.stack([as0, zero, zero])
    b_star = torch.stack([bs0 * cos_gs, bs0 * sin_gs, zero])
    c_star = torch.stack([cs0 * cos_bs, cs0 * (cos_as - cos_bs * cos_gs) / sin_gs,
                          cs0 * V_cell / (a * b * c * sin_gs)])
    return a_star, b_star, c_star, V_cell


def read_mat_file(path: str) -> list[float]:
    """Nine numbers of a MOSFLM A matrix (rows: x, y, z components of a*, b*, c*)."""
    from tracekit.atomic import read_input_text

    try:
        text = read_input_text(path, errors="replace")
    except OSError as exc:
        raise SimcoreInputError(f"cannot read -mat file {path}: {exc.strerror}") from None
    numbers = []
    for tok in text.split():
        try:
            numbers.append(float(tok))
        except ValueError:
            break
        if len(numbers) == 9:
            break
    if len(numbers) < 9:
        raise SimcoreInputError(f"-mat file {path}: expected 9 numbers (3 rows of 3), found {len(numbers)}")
    _check_matrix(path, numbers)
    return numbers


def _check_matrix(path: str, m: list[float]) -> None:
    """A matrix the C would turn into NaN cell vectors (non-finite, or no volume) is refused (exit 5)."""
    if not all(math.isfinite(x) for x in m):
        raise SimcoreInputError(f"-mat file {path}: holds a non-finite number (the C renders NaN)")
    det = (m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
           + m[2] * (m[3] * m[7] - m[4] * m[6]))
    if not abs(det) > 1e-300 or not math.isfinite(1.0 / det):
        raise SimcoreInputError(f"-mat file {path}: the matrix is singular (determinant {det:g}; the C renders NaN)")


def build_crystal(cargs, params, *, lambda0_m, misset_rad) -> CrystalSetup:
    """Run the C crystal set-up (cell, -mat, misset) and return the vectors."""
    warnings: list[str] = []
    V_cell_user = None
    a_star = b_star = c_star = torch.zeros(3, dtype=V.F64)
    cell_len = [V.t64(params.get(k, v)) for k, v in zip(("cell_a_A", "cell_b_A", "cell_c_A"), cargs.cell_A)]
    cell_ang = [V.t64(params.get(k, v)) for k, v in
                zip(("cell_alpha_rad", "cell_beta_rad", "cell_gamma_rad"), cargs.cell_rad)]
    if cargs.user_cell:
        a, b, c = cell_len
        if V.val(b) <= 0.0:
            b = a
        if V.val(c) <= 0.0:
            c = a
        cell_ang = [x if V.val(x) > 0.0 else V.t64(math.pi / 2) for x in cell_ang]
        cell_len = [a, b, c]
        a_star, b_star, c_star, V_cell_user = _cell_reciprocal(a, b, c, *cell_ang, warnings)
    if cargs.mat_file is not None:
        m = read_mat_file(cargs.mat_file)
        lam = V.t64(lambda0_m)
        a_star = V.scale(V.vec(m[0], m[3], m[6]), 1e-10 / lam)
        b_star = V.scale(V.vec(m[1], m[4], m[7]), 1e-10 / lam)
        c_star = V.scale(V.vec(m[2], m[5], m[8]), 1e-10 / lam)
    if misset_rad is not None:
        rx, ry, rz = misset_rad
        a_star = V.rotate_xyz(a_star, rx, ry, rz)
        b_star = V.rotate_xyz(b_star, rx, ry, rz)
        c_star = V.rotate_xyz(c_star, rx, ry, rz)
    a_star_x_b_star = V.cross(a_star, b_star)
    b_star_x_c_star = V.cross(b_star, c_star)
    c_star_x_a_star = V.cross(c_star, a_star)
    V_star = V.dot(a_star, b_star_x_c_star)
    if cargs.user_cell:
        b_star_x_c_star = V.rescale(b_star_x_c_star, cell_len[0] / V_cell_user)
        c_star_x_a_star = V.rescale(c_star_x_a_star, cell_len[1] / V_cell_user)
        a_star_x_b_star = V.rescale(a_star_x_b_star, cell_len[2] / V_cell_user)
        V_star = 1.0 / V_cell_user
    V_cell = 1.0 / V_star
    a = V.scale(b_star_x_c_star, V_cell)
    b = V.scale(c_star_x_a_star, V_cell)
    c = V.scale(a_star_x_b_star, V_cell)
    a_star = V.scale(V.cross(b, c), V_star)
    b_star = V.scale(V.cross(c, a), V_star)
    c_star = V.scale(V.cross(a, b), V_star)
    a_len, b_len, c_len = V.magnitude(a), V.magnitude(b), V.magnitude(c)
    tap("a_star_A_inv", a_star)
    tap("b_star_A_inv", b_star)
    tap("c_star_A_inv", c_star)
    tap("V_cell_A3", V_cell)
    a0, b0, c0 = V.scale(a, 1e-10), V.scale(b, 1e-10), V.scale(c, 1e-10)
    tap("a0_m", a0)
    tap("b0_m", b0)
    tap("c0_m", c0)

    Ns = []
    for key, N, size, vlen in (("Na", cargs.Na, cargs.sample_m[0], a_len), ("Nb", cargs.Nb, cargs.sample_m[1], b_len),
                               ("Nc", cargs.Nc, cargs.sample_m[2], c_len)):
        if size > 0:
            N = V.val(math.ceil(size / (V.val(vlen) * 1e-10)))
        N = params.get(key, N)
        if V.val(N) <= 1.0 and not (isinstance(N, torch.Tensor) and N.requires_grad):
            N = 1.0
        Ns.append(V.t64(N))
    angles = _cell_angles(a, b, c)
    return CrystalSetup(a0_m=a0, b0_m=b0, c0_m=c0, a_star_A_inv=a_star, b_star_A_inv=b_star,
                        c_star_A_inv=c_star, V_cell_A3=V_cell, Na=Ns[0], Nb=Ns[1], Nc=Ns[2],
                        cell_A=(V.val(a_len), V.val(b_len), V.val(c_len)), cell_deg=angles,
                        misset_deg=None if misset_rad is None else tuple(math.degrees(V.val(x)) for x in misset_rad),
                        warnings=warnings)


def _cell_angles(a, b, c) -> tuple:
    """Cell angles in degrees from the real-space vectors (for the stdout summary)."""
    out = []
    for x, y in ((b, c), (a, c), (a, b)):
        cosang = V.val(V.dot(x, y) / V.magnitude(x) / V.magnitude(y))
        out.append(math.degrees(math.acos(max(-1.0, min(1.0, cosang)))))
    return tuple(out)


def oversample_auto(cr: CrystalSetup, *, lambda0_m: float, distance_m: float, pixel_m: float) -> int:
    """C rule O1: ceil(3·max crystal size / (λ·distance/pixel)), at least 1."""
    sizes = [V.val(V.magnitude(v)) * V.val(n) for v, n in ((cr.a0_m, cr.Na), (cr.b0_m, cr.Nb), (cr.c0_m, cr.Nc))]
    reciprocal_pixel = lambda0_m * distance_m / pixel_m
    rec = math.ceil(3.0 * max(sizes) / reciprocal_pixel)
    return rec if rec > 0 else 1
