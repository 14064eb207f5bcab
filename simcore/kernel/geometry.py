"""Per-chunk detector geometry: sub-pixel positions, Ω, capture fraction, q, polarization.

Tensors use the engine layout ``(layer, sub_s, sub_f, source, phi, mosaic, pixel)`` with size-1
broadcast dims. Expressions keep the C's operation order (reference G12–G14, A3, P1–P2, D1).
"""
from __future__ import annotations

import math

import torch

from simcore.taps import tap, tracing
from simcore.vec import val

LAYER, SUB_S, SUB_F, SOURCE, PHI, MOSAIC, PIXEL = range(7)
SUB_DIMS = ("layer", "sub_s", "sub_f")
SRC_DIMS = ("layer", "sub_s", "sub_f", "source")


def at(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Place a 1-D tensor along ``dim`` of the 7-D layout."""
    shape = [1] * 7
    shape[dim] = -1
    return t.reshape(shape)


def _rotate_axis_t(v, axis, phi):
    """C rotate_axis with a tensor angle and constant vector/axis (curved detector)."""
    s, c = torch.sin(phi), torch.cos(phi)
    dot = (axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2]) * (1.0 - c)
    return (axis[0] * dot + v[0] * c + (-axis[2] * v[1] + axis[1] * v[2]) * s,
            axis[1] * dot + v[1] * c + (+axis[2] * v[0] - axis[0] * v[2]) * s,
            axis[2] * dot + v[2] * c + (-axis[1] * v[0] + axis[0] * v[1]) * s)


def _axpy(x, coef, acc):
    """acc + x·coef, skipping an exactly-zero coefficient (bit-identical: y + 0.0 == y)."""
    if val(coef) == 0.0:
        return acc if acc is not None else torch.zeros_like(x)
    term = x * coef
    return term if acc is None else term + acc


def foot_point(pix0, fdet, sdet, sub_m: float):
    """Float32 geometry helper: write pix0 = −F0·f − S0·s + origin with F0, S0 the in-plane
    coordinates of the point closest to the sample, so a sub-pixel centre is
    ``((idx − B) + (0.5 − φ))·sub·f + … + origin`` with B + φ = F0/sub (B integer): the large
    cancelling terms of ``Fdet·f + pix0`` never meet in float32, and pixels placed symmetrically
    about the beam get symmetric coordinates (exact ties stay ties). Returns float64 values."""
    import math

    F0 = -val(pix0 @ fdet)
    S0 = -val(pix0 @ sdet)
    origin = pix0 + F0 * fdet + S0 * sdet
    out = []
    for c0 in (F0, S0):
        b = math.floor(c0 / sub_m)
        out.append((b, 0.5 - (c0 / sub_m - b)))
    return out[0], out[1], origin


def pixel_geometry(inp, spix: torch.Tensor, fpix: torch.Tensor) -> dict:
    """Positions, unit diffracted vectors, Ω and capture fraction for every sub-pixel and layer."""
    os_ = inp.oversample
    sub = torch.arange(os_, device=inp.device)
    sub_m = inp.pixel_m / os_
    f_idx = at(fpix, PIXEL) * os_ + at(sub, SUB_F)
    s_idx = at(spix, PIXEL) * os_ + at(sub, SUB_S)
    f, s, o = inp.fdet, inp.sdet, inp.odet
    if inp.dtype == torch.float64:  # the C expression, verbatim
        fdet_m = sub_m * f_idx.to(inp.dtype) + sub_m / 2.0
        sdet_m = sub_m * s_idx.to(inp.dtype) + sub_m / 2.0
        origin = inp.pix0
    else:  # offsets from a foot point, exact integer part + one rounding (see foot_point())
        fdet_m = sub_m * ((f_idx - inp.foot_f[0]).to(inp.dtype) + inp.foot_f[1])
        sdet_m = sub_m * ((s_idx - inp.foot_s[0]).to(inp.dtype) + inp.foot_s[1])
        origin = inp.foot_origin
    pos = [_axpy(fdet_m, f[k], _axpy(sdet_m, s[k], None)) for k in range(3)]
    if inp.thickstep_m != 0.0:
        odet_m = at(torch.arange(inp.thicksteps, device=inp.device, dtype=inp.dtype) * inp.thickstep_m, LAYER)
        pos = [_axpy(odet_m, o[k], pos[k]) for k in range(3)]
    pos = [pos[k] + origin[k] for k in range(3)]
    if inp.curved:
        start = [inp.distance_m * inp.beam[k] for k in range(3)]
        v = _rotate_axis_t(start, s, pos[1] / inp.distance_m)
        pos = list(_rotate_axis_t(v, f, pos[2] / inp.distance_m))
    R = torch.sqrt(pos[0] * pos[0] + pos[1] * pos[1] + pos[2] * pos[2])
    d = [pos[k] / R for k in range(3)]
    if inp.point_pixel:
        omega = 1.0 / R / R
    else:
        omega = inp.pixel_m * inp.pixel_m / R / R * inp.close_distance_m / R
    omega_c = omega[:1, :1, :1]
    if inp.thick_m == 0.0:
        cap = torch.ones_like(R[:1, :1, :1])
        cap_c = cap
    else:
        parallax = d[0] * o[0] + d[1] * o[1] + d[2] * o[2]
        t = at(torch.arange(inp.thicksteps, device=inp.device, dtype=inp.dtype), LAYER)
        cap = (torch.exp(-t * inp.thickstep_m * inp.mu_m_inv / parallax)
               - torch.exp(-(t + 1) * inp.thickstep_m * inp.mu_m_inv / parallax))
        cap_c = cap[-1:, :1, :1]
    tap("pixel_pos_meters", tuple(pos), SUB_DIMS)
    tap("R_distance_meters", R, SUB_DIMS)
    tap("omega_pixel_sr", omega if inp.os_omega else omega_c, SUB_DIMS)
    if tracing():
        tap("obliquity_factor", inp.close_distance_m / R, SUB_DIMS)
    tap("diffracted_vec", tuple(d), SUB_DIMS)
    return {"pos": pos, "R": R, "d": d, "omega": omega, "omega_c": omega_c, "cap": cap, "cap_c": cap_c}


def scattering(inp, geo: dict) -> dict:
    """q = (d − i)/λ per source (m⁻¹), stol, and which evaluations pass the dmin cut."""
    inc = [at(inp.incident[:, k], SOURCE) for k in range(3)]
    lam = at(inp.lambda_m, SOURCE)
    d = geo["d"]
    if inp.dtype == torch.float64:
        q = [(d[k] - inc[k]) / lam for k in range(3)]  # the C expression, verbatim
    else:
        u = _d_minus_beam(inp, geo)
        w = [at(inp.incident_minus_beam[:, k], SOURCE) for k in range(3)]
        q = [(u[k] - w[k]) / lam for k in range(3)]
    tap("incident_vec", tuple(inc), ("source",))
    tap("lambda_meters", lam, ("source",))
    if tracing():
        tap("lambda_angstroms", lam * 1e10, ("source",))
    tap("scattering_vec_A_inv", tuple(q), SRC_DIMS)
    if inp.dmin_m > 0.0:
        stol = 0.5 * torch.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2])
        reached = ~((stol > 0.0) & (inp.dmin_m > 0.5 / stol))
    else:
        reached = torch.ones_like(q[0], dtype=torch.bool)
    tap("reached_source", reached, SRC_DIMS)
    return {"inc": inc, "q": q, "reached": reached}


def _d_minus_beam(inp, geo: dict) -> list:
    """d − b without cancellation (float32 path): with P⊥ = P − (P·b)b (exact when b is a
    coordinate axis), d − b = (P⊥ − |P⊥|²/(R + P·b)·b)/R. The naive d − i loses ~1e-5 of q at
    low angle in float32, which moves h by ~1e-5 and F_latt near a node by ~5e-4."""
    P, R, b = geo["pos"], geo["R"], inp.beam
    pb = P[0] * b[0] + P[1] * b[1] + P[2] * b[2]
    perp = [P[k] - pb * b[k] for k in range(3)]
    s = (perp[0] * perp[0] + perp[1] * perp[1] + perp[2] * perp[2]) / (R + pb)
    return [(perp[k] - s * b[k]) / R for k in range(3)]


def polarization(inp, geo: dict, sc: dict) -> torch.Tensor:
    """Kahn polarization per (layer, sub-pixel, source)."""
    d, inc = geo["d"], sc["inc"]
    cos2t = inc[0] * d[0] + inc[1] * d[1] + inc[2] * d[2]
    cos2t_sqr = cos2t * cos2t
    sin2t_sqr = 1 - cos2t_sqr
    if val(inp.kahn) == 0.0 and not (isinstance(inp.kahn, torch.Tensor) and inp.kahn.requires_grad):
        return 0.5 * (1.0 + cos2t_sqr)
    B, E = _kahn_frames(inp)
    E_out = d[0] * E[0] + d[1] * E[1] + d[2] * E[2]
    B_out = d[0] * B[0] + d[1] * B[1] + d[2] * B[2]
    psi = -torch.atan2(B_out, E_out)
    return 0.5 * (1.0 + cos2t_sqr - inp.kahn * torch.cos(2 * psi) * sin2t_sqr)


def _kahn_frames(inp):
    """Per-source B = unit(p × i) and E = unit(i × B), as (3,) lists of (1,1,1,NS,1,1,1) tensors."""
    inc = inp.incident
    p = inp.polar_vector
    B = torch.stack([p[1] * inc[:, 2] - p[2] * inc[:, 1], p[2] * inc[:, 0] - p[0] * inc[:, 2],
                     p[0] * inc[:, 1] - p[1] * inc[:, 0]], dim=1)
    B = B / torch.sqrt((B * B).sum(dim=1, keepdim=True))
    E = torch.stack([inc[:, 1] * B[:, 2] - inc[:, 2] * B[:, 1], inc[:, 2] * B[:, 0] - inc[:, 0] * B[:, 2],
                     inc[:, 0] * B[:, 1] - inc[:, 1] * B[:, 0]], dim=1)
    E = E / torch.sqrt((E * E).sum(dim=1, keepdim=True))
    return [at(B[:, k], SOURCE) for k in range(3)], [at(E[:, k], SOURCE) for k in range(3)]


def first_reached_index(reached: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each pixel, the serial index over (layer, sub_s, sub_f, source) of the first reached
    evaluation, and whether there is one. ``reached`` is (T, S, S, NS, 1, 1, P)."""
    flat = reached.reshape(-1, reached.shape[-1])
    any_reached = flat.any(dim=0)
    first = torch.argmax(flat.to(torch.uint8), dim=0)
    return first, any_reached


def cached_polar(inp, pol_full: torch.Tensor, reached: torch.Tensor) -> torch.Tensor:
    """The C 'first value' cache: polar from the first source not cut by dmin (trap T-CACHE)."""
    full = pol_full.expand(reached.shape).reshape(-1, reached.shape[-1])
    first, any_reached = first_reached_index(reached)
    picked = full.gather(0, first.unsqueeze(0)).squeeze(0)
    picked = torch.where(any_reached, picked, torch.zeros_like(picked))
    return picked.reshape((1,) * 6 + (-1,))


def rad2deg(x: float) -> float:
    return x * (180.0 / math.pi)
