"""Setup (float64, CPU) → EngineInputs on the compute device and dtype."""
from __future__ import annotations

import torch

from simcore.kernel.inputs import EngineInputs
from simcore.kernel.precision import needs_float64_h
from simcore.kernel.geometry import beam_anchor
from simcore.kernel.terms import abc_components
from simcore.setup.sequence import R_E_SQR
from simcore.kernel.structure import FTable
from simcore.vec import val


def _ftable(setup, dtype, device) -> FTable:
    g = setup.ftable_np
    default_F = setup.cargs.default_F
    if g is None or getattr(g, "hkls", 0) == 0:
        return FTable(grid=None, mins=(0, 0, 0), maxs=(-1, -1, -1), ranges=(0, 0, 0), hkls=0, default_F=default_F)
    grid = torch.as_tensor(g.F, dtype=dtype, device=device).reshape(-1)
    return FTable(grid=grid, mins=(g.h_min, g.k_min, g.l_min), maxs=(g.h_max, g.k_max, g.l_max),
                  ranges=(g.h_range, g.k_range, g.l_range), hkls=g.hkls, default_F=default_F)


def make_engine_inputs(setup, *, dtype: torch.dtype, device: torch.device) -> EngineInputs:
    """The kernel's inputs; a float32 run that needs float64 Miller indices (precision.py) also
    carries its float64 twin in ``hi``."""
    inp = _inputs(setup, dtype, device)
    if dtype != torch.float64 and needs_float64_h(setup, inp.ftable.grid is not None):
        inp.hi = _inputs(setup, torch.float64, device)
    return inp


def _inputs(setup, dtype: torch.dtype, device: torch.device) -> EngineInputs:
    det, sm, cr, src, rot = setup.det, setup.sm, setup.cr, setup.src, setup.rot

    def c(t):
        return t.to(device=device, dtype=dtype)

    def scalar(x):
        return x.to(device=device, dtype=dtype) if isinstance(x, torch.Tensor) and x.requires_grad else val(x)

    kahn = setup.cargs.polarization
    anchor_f, anchor_s, anchor, anchor_par, anchor_perp = beam_anchor(det.pix0_m, det.fdet, det.sdet, det.beam,
                                                                      det.pixel_m / setup.oversample)
    return EngineInputs(
        dtype=dtype, device=device,
        pix0=c(det.pix0_m), fdet=c(det.fdet), sdet=c(det.sdet), odet=c(det.odet), beam=c(det.beam),
        pixel_m=det.pixel_m, anchor_f=anchor_f, anchor_s=anchor_s, anchor=c(anchor),
        anchor_par=c(anchor_par), anchor_perp=None if anchor_perp is None else c(anchor_perp),
        oversample=setup.oversample, thicksteps=sm.thicksteps, thickstep_m=sm.thickstep_m,
        thick_m=sm.thick_m, mu_m_inv=sm.mu_m_inv, close_distance_m=c(det.close_distance_m),
        distance_m=c(det.distance_m), curved=det.curved, point_pixel=det.point_pixel,
        incident=c(-src.direction), incident_minus_beam=c(-src.direction - det.beam), lambda_m=c(src.lambda_m),
        kahn=kahn, polar_vector=c(det.polar), nopolar=setup.cargs.nopolar,
        rot_steady=c(rot.steady), rot_first=c(rot.first_pass), rot_differs=rot.differs,
        abc_steady=abc_components(c(rot.steady)), abc_first=abc_components(c(rot.first_pass)),
        a_star=c(cr.a_star_A_inv), b_star=c(cr.b_star_A_inv), c_star=c(cr.c_star_A_inv),
        Na=scalar(cr.Na), Nb=scalar(cr.Nb), Nc=scalar(cr.Nc), shape=setup.cargs.xtal_shape,
        fudge=setup.cargs.fudge, ftable=_ftable(setup, dtype, device), interpolate=setup.interpolate,
        dmin_m=setup.cargs.dmin_m, water_m=setup.cargs.water_m, I_bg=setup.I_bg,
        r_e_sqr_fluence=R_E_SQR * setup.fluence, steps=setup.steps,
        os_thick=setup.cargs.oversample_thick, os_polar=setup.cargs.oversample_polar,
        os_omega=setup.cargs.oversample_omega, r_e_sqr=R_E_SQR, fluence=setup.fluence,
        compile=setup.cargs.compile)
