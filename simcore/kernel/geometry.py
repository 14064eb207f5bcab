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


def ieee_sqrt(x: torch.Tensor) -> torch.Tensor:
    """√x correctly rounded, as the C's sqrt(): torch's CPU float64 sqrt (SLEEF) is 1 ulp off for
    ~1 % of arguments, which moves a low-angle q by 1e-16/λ and, through large N, an image pixel's
    last float32 bit now and then. float64 CPU tensors without a gradient use numpy's (IEEE)."""
    if x.dtype == torch.float64 and x.device.type == "cpu" and not x.requires_grad:
        import numpy as np

        return torch.from_numpy(np.sqrt(x.numpy()).reshape(x.shape))
    return torch.sqrt(x)


def _axpy(x, coef, acc):
    """acc + x·coef, skipping an exactly-zero coefficient and the multiply by ±1 (bit-identical:
    y + 0.0 == y, x·1 == x); a coefficient that carries a gradient is always multiplied."""
    if isinstance(coef, torch.Tensor) and coef.requires_grad:
        term = x * coef
        return term if acc is None else term + acc
    c = val(coef)
    if c == 0.0:
        return acc if acc is not None else torch.zeros_like(x)
    if c == 1.0:
        return x if acc is None else x + acc
    if c == -1.0:
        return -x if acc is None else acc - x
    term = x * coef
    return term if acc is None else term + acc


def beam_anchor(pix0, fdet, sdet, beam, sub_m: float):
    """Float32 geometry helper: the anchor A = pix0 + F_A·f + S_A·s is where the beam meets the
    detector plane (A ∥ b), or the foot point closest to the sample when the beam (nearly) runs
    along the plane. A sub-pixel centre is then ``A + u`` with the small in-plane offset
    ``u = ((idx − B) + (0.5 − φ))·sub·f + …`` (B + φ = F_A/sub, B integer), so the large
    cancelling terms of ``Fdet·f + pix0`` never meet in float32, the part of P across the beam
    is ``A⊥ + u⊥`` (A⊥ ≈ 0: no cancellation at low angle whatever the detector rotation), and
    pixels placed symmetrically about the beam get symmetric coordinates (exact ties stay ties).
    Returns ((B_f, φ_f), (B_s, φ_s), A, A·b, A⊥ or None when negligible), float64 tensors."""
    F_A = S_A = None
    m = torch.stack([fdet, sdet, -beam], dim=1).detach()
    det = float(torch.linalg.det(m))
    if abs(det) > 1e-3:  # the beam meets the plane at a usable angle: solve pix0 + F·f + S·s = t·b
        F_A, S_A, _ = (float(x) for x in torch.linalg.solve(m, -pix0.detach()))
    if F_A is None or not (math.isfinite(F_A) and math.isfinite(S_A)):
        F_A, S_A = -val(pix0 @ fdet), -val(pix0 @ sdet)
    anchor = pix0 + F_A * fdet + S_A * sdet
    a_par = anchor @ beam
    a_perp = anchor - a_par * beam
    if val(a_perp.detach().abs().max()) <= 1e-9 * sub_m and not a_perp.requires_grad:
        a_perp = None  # on the beam to far below float32's resolution of the offsets
    out = []
    for c0 in (F_A, S_A):
        b = math.floor(c0 / sub_m)
        out.append((b, 0.5 - (c0 / sub_m - b)))
    return out[0], out[1], anchor, a_par, a_perp


def _dot(x, v):
    """x·v for a list of tensors and a constant (3,) vector, skipping zero components."""
    acc = None
    for k in range(3):
        acc = _axpy(x[k], v[k], acc)
    return acc


def pixel_geometry(inp, spix: torch.Tensor, fpix: torch.Tensor) -> dict:
    """Positions, unit diffracted vectors, Ω and capture fraction for every sub-pixel and layer.
    The float32 path also returns P·b and P⊥ = P − (P·b)b, computed without cancellation."""
    os_ = inp.oversample
    sub = torch.arange(os_, device=inp.device)
    sub_m = inp.pixel_m / os_
    f_idx = at(fpix, PIXEL) * os_ + at(sub, SUB_F)
    s_idx = at(spix, PIXEL) * os_ + at(sub, SUB_S)
    f, s, o, b = inp.fdet, inp.sdet, inp.odet, inp.beam
    f64 = inp.dtype == torch.float64
    if f64:  # the C expression, verbatim
        fdet_m = sub_m * f_idx.to(inp.dtype) + sub_m / 2.0
        sdet_m = sub_m * s_idx.to(inp.dtype) + sub_m / 2.0
    else:  # offsets from the beam anchor, exact integer part + one rounding (see beam_anchor())
        fdet_m = sub_m * ((f_idx - inp.anchor_f[0]).to(inp.dtype) + inp.anchor_f[1])
        sdet_m = sub_m * ((s_idx - inp.anchor_s[0]).to(inp.dtype) + inp.anchor_s[1])
    pos = [_axpy(fdet_m, f[k], _axpy(sdet_m, s[k], None)) for k in range(3)]
    if inp.thickstep_m != 0.0:
        odet_m = at(torch.arange(inp.thicksteps, device=inp.device, dtype=inp.dtype) * inp.thickstep_m, LAYER)
        pos = [_axpy(odet_m, o[k], pos[k]) for k in range(3)]
    pb = perp = None
    if not f64 and not inp.curved:  # u = pos so far: P·b = A·b + u·b, P⊥ = A⊥ + (u − (u·b)b)
        ub = _dot(pos, b)
        pb = ub + inp.anchor_par
        perp = [_axpy(ub, -b[k], pos[k]) for k in range(3)]
        if inp.anchor_perp is not None:  # the foot-point fallback: the anchor is off the beam
            perp = [perp[k] + inp.anchor_perp[k] for k in range(3)]
    pos = [pos[k] + (inp.pix0[k] if f64 else inp.anchor[k]) for k in range(3)]
    if inp.curved:
        start = [inp.distance_m * inp.beam[k] for k in range(3)]
        v = _rotate_axis_t(start, s, pos[1] / inp.distance_m)
        pos = list(_rotate_axis_t(v, f, pos[2] / inp.distance_m))
        # the curved position depends only on the lab y, z of the planar one: when those do not
        # vary along a sub-pixel axis or the layers (Odet is lost), that dim must still be summed
        full = (inp.thicksteps, os_, os_, 1, 1, 1, fpix.numel())
        pos = [torch.broadcast_to(p, full) for p in pos]
        if not f64:
            pb = _dot(pos, b)
            perp = [_axpy(pb, -b[k], pos[k]) for k in range(3)]
    if f64:
        R = ieee_sqrt(pos[0] * pos[0] + pos[1] * pos[1] + pos[2] * pos[2])
    else:
        R = torch.sqrt(pb * pb + (perp[0] * perp[0] + perp[1] * perp[1] + perp[2] * perp[2]))
    d = [pos[k] / R for k in range(3)]
    if inp.point_pixel:
        omega = 1.0 / R / R
    else:
        omega = inp.pixel_m * inp.pixel_m / R / R * inp.close_distance_m / R
    omega_c = omega[:1, :1, :1]
    if inp.thick_m == 0.0 and not inp.os_thick:
        cap = torch.ones_like(R[:1, :1, :1])
        cap_c = cap
    else:
        cap = _capture(inp, d[0] * o[0] + d[1] * o[1] + d[2] * o[2])
        cap_c = cap[-1:, :1, :1]
    tap("pixel_pos_meters", tuple(pos), SUB_DIMS)
    tap("R_distance_meters", R, SUB_DIMS)
    tap("omega_pixel_sr", omega if inp.os_omega else omega_c, SUB_DIMS)
    if tracing():
        tap("obliquity_factor", inp.close_distance_m / R, SUB_DIMS)
    tap("diffracted_vec", tuple(d), SUB_DIMS)
    return {"pos": pos, "R": R, "d": d, "omega": omega, "omega_c": omega_c, "cap": cap, "cap_c": cap_c,
            "pb": pb, "perp": perp}


def _capture(inp, parallax):
    """Fraction absorbed by each layer, exp(−t·x) − exp(−(t+1)·x) with x = Δz·μ/ρ (A3). float32
    writes it exp(−t·x)·(−expm1(−x)): the plain difference loses ε/x when a layer is thin
    against the attenuation length."""
    t = at(torch.arange(inp.thicksteps, device=inp.device, dtype=inp.dtype), LAYER)
    if inp.dtype == torch.float64:  # the C expression, verbatim
        return (torch.exp(-t * inp.thickstep_m * inp.mu_m_inv / parallax)
                - torch.exp(-(t + 1) * inp.thickstep_m * inp.mu_m_inv / parallax))
    x = inp.thickstep_m * inp.mu_m_inv / parallax
    return torch.exp(-t * x) * -torch.expm1(-x)


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
        stol = 0.5 * ieee_sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2])
        reached = ~((stol > 0.0) & (inp.dmin_m > 0.5 / stol))
    else:
        reached = torch.ones_like(q[0], dtype=torch.bool)
    tap("reached_source", reached, SRC_DIMS)
    return {"inc": inc, "q": q, "reached": reached}


def _d_minus_beam(inp, geo: dict) -> list:
    """d − b without cancellation (float32 path): with P·b and P⊥ from pixel_geometry,
    d − b = (P⊥ − s·b)/R, s = R − P·b = |P⊥|²/(R + P·b) (the latter when P·b > 0). The naive
    d − i loses ~1e-5 of q at low angle in float32, which moves h by ~1e-5 and F_latt near a
    node by ~5e-4."""
    R, pb, perp, b = geo["R"], geo["pb"], geo["perp"], inp.beam
    s = (perp[0] * perp[0] + perp[1] * perp[1] + perp[2] * perp[2]) / (R + pb)
    if bool((pb <= 0).any()):  # a pixel at or beyond 90° from the beam: R − P·b does not cancel there
        s = torch.where(pb > 0, s, R - pb)
    return [_axpy(s, -b[k], perp[k]) / R for k in range(3)]


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
    B = _unitize_rows(B)
    E = torch.stack([inc[:, 1] * B[:, 2] - inc[:, 2] * B[:, 1], inc[:, 2] * B[:, 0] - inc[:, 0] * B[:, 2],
                     inc[:, 0] * B[:, 1] - inc[:, 1] * B[:, 0]], dim=1)
    E = _unitize_rows(E)
    return [at(B[:, k], SOURCE) for k in range(3)], [at(E[:, k], SOURCE) for k in range(3)]


def _unitize_rows(v: torch.Tensor) -> torch.Tensor:
    """Rows of ``v`` made unit; a zero row stays zero, as the C's unitize() leaves it (a source
    line of zeros, e.g. a comment in -sourcefile, has no direction)."""
    mag = torch.sqrt((v * v).sum(dim=1, keepdim=True))
    return torch.where(mag == 0.0, torch.zeros_like(v), v / torch.where(mag == 0.0, torch.ones_like(mag), mag))


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
