"""Per-evaluation terms F_cell²·F_latt² over (layer, sub-pixel, source, phi, mosaic, pixel).

Miller indices ``h = a·q`` (a in m, q in m⁻¹), rounding ``h0 = ceil(h − 0.5)`` (trap T-ROUND),
lattice factor (lattice.py), the ``F_latt == 0`` skip, then F_cell (structure.py).
"""
from __future__ import annotations

import torch

from simcore.kernel_geometry import MOSAIC, PHI
from simcore.lattice import f_latt
from simcore.structure import f_interpolated, f_nearest, interp_out_of_range

ALL_DIMS = ("layer", "sub_s", "sub_f", "source", "phi", "mosaic")


def _abc(rot: torch.Tensor) -> list[list[torch.Tensor]]:
    """rot (NP, NM, 3, 3) → [[ax, ay, az], [bx…], [cx…]] each shaped (1,1,1,1,NP,NM,1)."""
    np_, nm = rot.shape[0], rot.shape[1]
    return [[rot[:, :, v, k].reshape(1, 1, 1, 1, np_, nm, 1) for k in range(3)] for v in range(3)]


def miller(rot: torch.Tensor, q: list) -> dict:
    """Fractional and rounded Miller indices for every phi step and mosaic domain."""
    abc = _abc(rot)
    hkl = [v[0] * q[0] + v[1] * q[1] + v[2] * q[2] for v in abc]
    hkl0 = [torch.ceil(x - 0.5) for x in hkl]
    return {"hkl": hkl, "hkl0": hkl0, "abc": abc}


def lattice_and_structure(inp, mi: dict, *, interp_on: bool) -> dict:
    """F_latt, skip mask, F_cell candidates (nearest and, if on, interpolated + out-of-range)."""
    (h, k, l), (h0, k0, l0) = mi["hkl"], mi["hkl0"]
    F_latt, fa, fb, fc = f_latt(inp.shape, h, k, l, h0, k0, l0, Na=inp.Na, Nb=inp.Nb, Nc=inp.Nc,
                                fudge=inp.fudge, a_star=inp.a_star, b_star=inp.b_star, c_star=inp.c_star)
    out = {"F_latt": F_latt, "F_latt_a": fa, "F_latt_b": fb, "F_latt_c": fc}
    out["fcell_reached"] = (F_latt != 0.0) if inp.water_m == 0.0 else torch.ones_like(F_latt, dtype=torch.bool)
    out["F_nn"] = f_nearest(inp.ftable, h0, k0, l0)
    if interp_on:
        out["oor"] = interp_out_of_range(inp.ftable, h, k, l)
        out["F_interp"] = f_interpolated(inp.ftable, h, k, l)
    return out


def blend(first: dict, steady: dict, use_first: torch.Tensor) -> dict:
    """Per-entry torch.where(use_first, first, steady) for the phi carry-over first pass."""
    out = {}
    for key, value in steady.items():
        other = first[key]
        if isinstance(value, list):
            out[key] = [_where(use_first, a, b) for a, b in zip(other, value)]
        elif value is None:
            out[key] = None
        else:
            out[key] = _where(use_first, other, value)
    return out


def _where(mask, a, b):
    if isinstance(a, list):
        return [_where(mask, x, y) for x, y in zip(a, b)]
    return torch.where(mask, a, b)


def phi_mosaic_shape(rot: torch.Tensor) -> tuple:
    shape = [1] * 7
    shape[PHI], shape[MOSAIC] = rot.shape[0], rot.shape[1]
    return tuple(shape)
