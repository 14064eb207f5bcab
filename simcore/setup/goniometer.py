"""Phi steps × mosaic domains: the crystal vectors the pixel loop uses (X6, X7, trap T-PHI).

``a = U_mos · R_spindle(φ) · a0``. The C skips the spindle rotation when φ == 0 exactly and keeps
the previous ap/bp/cp instead (the "phi carry-over" quirk). Serially that means: every phi-loop
pass uses, at a φ == 0 step, the most recent non-zero φ of the same pass or else the last non-zero
φ of the previous pass; only the very first pass of the whole run starts from a0. We build two
vector sets — ``steady`` and ``first_pass`` — and the engine uses ``first_pass`` for exactly that
one evaluation. The switch ``emulate['phi_carryover']`` (default on, C behaviour) turns it off.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from simcore import vec as V


@dataclass
class RotationSet:
    phi_deg: list                 # φ per phi_tic (degrees), as the C prints it
    steady: torch.Tensor          # (NP, NM, 3 vectors a/b/c, 3 components) float64, metres
    first_pass: torch.Tensor      # same, for the run's very first phi-loop pass
    differs: bool                 # first_pass != steady (some φ == 0 with a non-zero φ elsewhere)
    umats: torch.Tensor           # (NM, 3, 3)
    mosaic_applied: bool


def phi_values(sm) -> list[float]:
    return [sm.phi0_rad + sm.phistep_rad * tic for tic in range(sm.phisteps)]


def effective_phis(phis: list[float], *, carryover: bool) -> tuple[list, list]:
    """(steady, first_pass) rotation angle per tic; None means 'no rotation ever done: a0'."""
    if not carryover:
        return list(phis), list(phis)
    nonzero = [p for p in phis if p != 0.0]
    last_pass_state = nonzero[-1] if nonzero else None
    steady, first = [], []
    state_steady, state_first = last_pass_state, None
    for p in phis:
        if p != 0.0:
            state_steady = state_first = p
        steady.append(state_steady)
        first.append(state_first)
    return steady, first


def _rotated(v0, axis, phi):
    if phi is None or phi == 0.0:
        return v0
    return V.rotate_axis(v0, axis, phi)


def _umat_apply(U: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """C rotate_umat: newv = U·v with the C's summation order."""
    return torch.stack([U[0, 0] * v[0] + U[0, 1] * v[1] + U[0, 2] * v[2],
                        U[1, 0] * v[0] + U[1, 1] * v[1] + U[1, 2] * v[2],
                        U[2, 0] * v[0] + U[2, 1] * v[1] + U[2, 2] * v[2]])


def _vector_set(cr, spindle, phis, umats, mosaic_applied) -> torch.Tensor:
    rows = []
    for phi in phis:
        abc = [_rotated(v, spindle, phi) for v in (cr.a0_m, cr.b0_m, cr.c0_m)]
        per_mos = []
        for m in range(umats.shape[0]):
            if mosaic_applied:
                per_mos.append(torch.stack([_umat_apply(umats[m], v) for v in abc]))
            else:
                per_mos.append(torch.stack(abc))
        rows.append(torch.stack(per_mos))
    return torch.stack(rows)


def build_rotation_set(cr, det, sm, umats: torch.Tensor, *, carryover: bool) -> RotationSet:
    phis = phi_values(sm)
    steady_phi, first_phi = effective_phis(phis, carryover=carryover)
    mosaic_applied = sm.mosaic_spread_rad > 0.0
    steady = _vector_set(cr, det.spindle, steady_phi, umats, mosaic_applied)
    differs = steady_phi != first_phi
    first = _vector_set(cr, det.spindle, first_phi, umats, mosaic_applied) if differs else steady
    rtd = 180.0 / 3.141592653589793
    return RotationSet(phi_deg=[p * rtd for p in phis], steady=steady, first_pass=first, differs=differs,
                       umats=umats, mosaic_applied=mosaic_applied)
