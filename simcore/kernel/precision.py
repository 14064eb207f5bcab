"""When float32 needs float64 Miller indices, and the geometry of such a run.

float32 carries h = a·q to a relative ~4ε (ε = 6e-8): an absolute error ~2.4e-7·|h|. The lattice
factor turns it into a relative error of F_latt² of about 2·S·δh, S the slope of ln F_latt at 1 %
of a peak (square/round: ≈ 10.6·N per axis; gauss: ≈ 3.8·√fudge·Na·Nb·Nc·|a*|). So the image
error grows like S·|h|: crystal size over d-spacing. Above ``FAST_METRIC_MAX`` (in units of
N·|h|, square) a float32 run computes q and h in float64 (the C's expressions, so h and its
rounding h0 equal the C's bit for bit) and hands h − h0 to the float32 lattice factor.

Rounding-discontinuous runs go the same way whatever their size: a structure-factor table (the
nearest-neighbour F jumps where h crosses a half-integer; the interpolation switch-off tests
the fractional h) and the tophat shape (F_latt jumps at the sphere's edge) flip a whole term
when h is off by one float32 ulp. The round shape too: near h = h0 the C's double sinc3 cancels
(exactly 0 at the direct beam), which only the C's own h reproduces. And a -water run: its Bragg
spots can be a 1e-5 modulation of the background, so Ω, polarization and the pixel sum must be
good to ~1 float32 ulp; the float64 twin supplies them (``pixel_terms``).

Measured (random campaign of C configurations, float32 max relative error over pixels > 1 % of
the maximum, before these paths existed): metric 30–60 → ≤ 1.3e-4, 80–100 → ≤ 3.5e-4, 250 →
1.5e-3, 1000 → ~1e-3 typical, 10000 → 1.8e-2. With them: ≤ 2.2e-4 on 1967 judged configurations.
The spec case (-N 5 -cell 100, λ 6.2 Å, 1024² at 100 mm) has metric 50 and keeps the fast path;
perf-hires-4096 (metric 281) pays ~20 % CPU for it (max error 6.7e-4 → 2.6e-6).
"""
from __future__ import annotations

import math

import torch

from simcore.vec import val

FAST_METRIC_MAX = 64.0     # N·|h| (or its gauss equivalent) up to which float32 h is kept
_SQUARE_SLOPE = 10.6       # d ln F_latt / dh per unit N at 1 % of a peak (sin(Nπd)/sin(πd))
_GAUSS_SLOPE = 3.8         # per unit √fudge·Na·Nb·Nc·|a*| (exp(−rad²/0.63·fudge) at 1 %)


def q_max_A_inv(setup) -> float:
    """An upper bound of |q| (Å⁻¹) over the detector and every source: on a plane the angle to a
    direction is largest at a corner while it stays below 90°; otherwise (and for a curved
    detector) 2/λ."""
    det, src, sm = setup.det, setup.src, setup.sm
    lam = src.lambda_m.detach().to(torch.float64)
    if lam.numel() == 0:
        return 0.0
    bound = float((2.0 / lam.abs().min()) * 1e-10)
    if det.curved:
        return bound
    sub = det.pixel_m / setup.oversample
    Fs = (sub / 2, det.fpixels * det.pixel_m - sub / 2)
    Ss = (sub / 2, det.spixels * det.pixel_m - sub / 2)
    Os = (0.0, (sm.thicksteps - 1) * sm.thickstep_m)
    f, s, o, pix0 = (x.detach().to(torch.float64) for x in (det.fdet, det.sdet, det.odet, det.pix0_m))
    corners = torch.stack([F * f + S * s + O * o + pix0 for F in Fs for S in Ss for O in Os])
    d = corners / corners.norm(dim=1, keepdim=True)
    inc = -src.direction.detach().to(torch.float64)
    if inc.numel() == 0:
        return 0.0
    cos = d @ inc.T                                  # (corners, sources)
    if bool((cos <= 0.0).any()) or not bool(torch.isfinite(cos).all()):
        return bound
    q = torch.linalg.vector_norm(d[:, None, :] - inc[None, :, :], dim=2) / lam.abs()
    return float(q.max()) * 1e-10 * (1.0 + 1e-9)


def h_metric(setup) -> float:
    """max over a, b, c of (slope of ln F_latt / 10.6)·|h|max: N·|h| for square and round."""
    cr, cargs = setup.cr, setup.cargs
    q = q_max_A_inv(setup)
    lengths = [float(v.detach().norm()) * 1e10 for v in (cr.a0_m, cr.b0_m, cr.c0_m)]
    Ns = [val(n) for n in (cr.Na, cr.Nb, cr.Nc)]
    if cargs.xtal_shape in ("gauss", "tophat"):
        stars = [float(v.detach().norm()) for v in (cr.a_star_A_inv, cr.b_star_A_inv, cr.c_star_A_inv)]
        n3 = Ns[0] * Ns[1] * Ns[2]
        slopes = [_GAUSS_SLOPE / _SQUARE_SLOPE * math.sqrt(max(cargs.fudge, 0.0)) * n3 * st for st in stars]
    else:
        slopes = Ns
    return max(sl * ln * q for sl, ln in zip(slopes, lengths))


def needs_float64_h(setup, ftable_grid: bool) -> bool:
    """Whether a float32 run computes q and h in float64 (module docstring)."""
    if ftable_grid:  # nearest-neighbour jumps, and the interpolation switch-off is a rounding test too
        return True
    if setup.I_bg != 0.0:  # -water: Bragg spots are a small modulation on a large background, which
        return True        # float32 pixel factors (Ω, polarization) would blur by a few ulps
    if setup.cargs.xtal_shape in ("tophat", "round"):  # a jump; the C's sinc3 cancels near 0 (lattice.sinc3)
        return True
    return h_metric(setup) > FAST_METRIC_MAX


def pixel_terms(inp, spix: torch.Tensor, fpix: torch.Tensor) -> tuple[dict, dict, torch.Tensor | None]:
    """(pixel_geometry, scattering, polarization or None) for a chunk of pixels. A float32 run
    with a float64 twin (``inp.hi``) takes all three from the twin: the per-pixel factors (Ω,
    polarization, capture) and q stay float64, only the phi × mosaic evaluation is float32."""
    from simcore.kernel.geometry import pixel_geometry, polarization, scattering

    src = inp.hi if inp.hi is not None else inp
    geo = pixel_geometry(src, spix, fpix)
    sc = scattering(src, geo)
    pol = polarization(src, geo, sc) if (not inp.nopolar or inp.os_polar) else None
    return geo, sc, pol
