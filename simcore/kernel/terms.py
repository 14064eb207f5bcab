"""Per-evaluation terms F_cell²·F_latt² over (layer, sub-pixel, source, phi, mosaic, pixel).

Miller indices ``h = a·q`` (a in m, q in m⁻¹), rounding ``h0 = ceil(h − 0.5)`` (trap T-ROUND),
lattice factor (lattice.py), the ``F_latt == 0`` skip, then F_cell (structure.py).
"""
from __future__ import annotations

import torch

from simcore.kernel.geometry import MOSAIC, PHI
from simcore.kernel.lattice import f_latt, gauss_c_nonzero
from simcore.kernel.structure import f_interpolated, f_nearest, interp_out_of_range  # noqa: F401 (engine uses them)

ALL_DIMS = ("layer", "sub_s", "sub_f", "source", "phi", "mosaic")


def abc_components(rot: torch.Tensor) -> list[list[torch.Tensor]]:
    """rot (NP, NM, 3, 3) → [[ax, ay, az], [bx…], [cx…]] each shaped (1,1,1,1,NP,NM,1)."""
    np_, nm = rot.shape[0], rot.shape[1]
    return [[rot[:, :, v, k].reshape(1, 1, 1, 1, np_, nm, 1) for k in range(3)] for v in range(3)]


def miller(abc: list, q: list, *, rounded: bool = True, compute_dtype: torch.dtype | None = None) -> dict:
    """Fractional (and, when needed, rounded) Miller indices for every phi step and mosaic domain;
    ``abc`` from :func:`abc_components` (computed once per run).

    float64 ``q`` and ``abc`` with a float32 ``compute_dtype`` (precision.py): h and h0 are the C's,
    handed on in float32 with ``frac`` = h − h0 taken in float64 (exact to float32 rounding), and
    that fraction in float64 as ``frac64`` (the lattice factor reduces N·frac with it)."""
    if q[0].dtype == torch.float64 and compute_dtype not in (None, torch.float64):
        out = {"hkl": [], "hkl0": [], "frac": [], "frac64": [], "abc": abc}
        for v in abc:
            h = torch.mul(v[0], q[0]).add_(v[1] * q[1]).add_(v[2] * q[2])   # the C's order
            h0 = torch.ceil(h - 0.5)
            out["hkl"].append(h.to(compute_dtype))
            out["hkl0"].append(h0.to(compute_dtype))
            out["frac64"].append(h.sub_(h0))
            out["frac"].append(out["frac64"][-1].to(compute_dtype))
        return out
    if q[0].dtype == torch.float64:  # the C's order, bit for bit
        hkl = [v[0] * q[0] + v[1] * q[1] + v[2] * q[2] for v in abc]
    else:  # float32: one allocation and two fused multiply-adds per index
        hkl = [torch.mul(v[0], q[0]).addcmul_(v[1], q[1]).addcmul_(v[2], q[2]) for v in abc]
    hkl0 = [torch.ceil(x - 0.5) for x in hkl] if rounded else [None, None, None]
    return {"hkl": hkl, "hkl0": hkl0, "abc": abc}


def needs_rounded(inp) -> bool:
    """h0 = ceil(h − 0.5) matters for a structure-factor table, a non-square shape or a trace."""
    from simcore.taps import tracing

    return inp.ftable.grid is not None or inp.shape != "square" or tracing()


def needs_skip_mask(inp, interp_on: bool) -> bool:
    """The C's ``F_latt == 0`` skip changes the result only through the -oversample_* factors and
    the interpolation switch-off (a zero term adds nothing); traces show it."""
    from simcore.taps import tracing

    return inp.os_thick or inp.os_polar or inp.os_omega or interp_on or tracing()


def lattice_and_structure(inp, mi: dict, *, skip_mask: bool) -> dict:
    """F_latt, the skip mask (when needed) and the nearest-neighbour F_cell (None: constant default_F)."""
    (h, k, l), (h0, k0, l0) = mi["hkl"], mi["hkl0"]
    F_latt, fa, fb, fc = f_latt(inp.shape, h, k, l, h0, k0, l0, Na=inp.Na, Nb=inp.Nb, Nc=inp.Nc,
                                fudge=inp.fudge, a_star=inp.a_star, b_star=inp.b_star, c_star=inp.c_star,
                                frac=mi.get("frac"), frac64=mi.get("frac64"))
    out = {"F_latt": F_latt, "F_latt_a": fa, "F_latt_b": fb, "F_latt_c": fc, "fcell_reached": None}
    if skip_mask:
        if inp.water_m != 0.0:
            out["fcell_reached"] = torch.ones_like(F_latt, dtype=torch.bool)
        elif inp.shape == "gauss" and F_latt.dtype != torch.float64:
            dhkl = mi.get("frac") or (h - h0, k - k0, l - l0)
            out["fcell_reached"] = gauss_c_nonzero(dhkl, Na=inp.Na, Nb=inp.Nb, Nc=inp.Nc, fudge=inp.fudge,
                                                   a_star=inp.a_star, b_star=inp.b_star, c_star=inp.c_star)
        else:
            out["fcell_reached"] = F_latt != 0.0
    out["F_nn"] = f_nearest(inp.ftable, h0, k0, l0) if inp.ftable.grid is not None else None
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
    if a is None:
        return None
    return torch.where(mask, a, b)


def phi_mosaic_shape(rot: torch.Tensor) -> tuple:
    shape = [1] * 7
    shape[PHI], shape[MOSAIC] = rot.shape[0], rot.shape[1]
    return tuple(shape)
