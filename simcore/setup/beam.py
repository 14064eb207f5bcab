"""Beam set-up: sources from divergence × dispersion or a -sourcefile, fluence (B1–B6, N2).

Each source is a unit vector pointing from the sample to the source (the C ``source_X/Y/Z``)
and a wavelength in m; the incident direction used in the loop is its negative.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from simcore import vec as V
from simcore.vec import val

SOURCE_DISTANCE_M = 10.0


@dataclass
class Sources:
    direction: torch.Tensor     # (NS, 3) float64 unit vectors sample→source
    position_raw: list          # (x, y, z) before unitizing, as the C prints them
    lambda_m: torch.Tensor      # (NS,) float64
    weight: list                # read but unused by the C (trap T-SOURCES)
    divsteps: int
    from_file: bool
    warnings: list


def _c_div(a: float, b: float) -> float:
    """IEEE division (0/0 = NaN) as the C does it, instead of Python's ZeroDivisionError."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def divergence_points(sm, *, round_div: bool) -> list[tuple[float, float]]:
    """(hdiv, vdiv) pairs kept by the elliptical cut, hdiv outer, vdiv inner (B2)."""
    kept = []
    for ht in range(sm.hdivsteps):
        for vt in range(sm.vdivsteps):
            hdiv = sm.hdivstep_rad * ht - sm.hdivrange_rad / 2.0
            vdiv = sm.vdivstep_rad * vt - sm.vdivrange_rad / 2.0
            test = _c_div(_c_div(hdiv * hdiv - sm.hdivstep_rad * sm.hdivstep_rad / 4.0 * (1 - sm.hdivsteps % 2),
                                 sm.hdivrange_rad), sm.hdivrange_rad)
            test += _c_div(_c_div(vdiv * vdiv - sm.vdivstep_rad * sm.vdivstep_rad / 4.0 * (1 - sm.vdivsteps % 2),
                                  sm.vdivrange_rad), sm.vdivrange_rad)
            if round_div and test * 4.0 > 1.1:
                continue
            kept.append((hdiv, vdiv))
    return kept


def build_sources(cargs, sm, det, *, lambda0, file_rows=None) -> Sources:
    """Generate the source list like the C. ``lambda0`` may be a float64 tensor (gradients)."""
    lambda0 = V.t64(lambda0)
    warnings: list[str] = []
    dirs: list[torch.Tensor] = []
    lams: list[torch.Tensor] = []
    weights: list[float] = []
    divsteps = -1  # the C's initial value, printed as is when the sources come from a file
    if file_rows:
        for x, y, z, w, lam in file_rows:
            vec = torch.stack([
                V.t64(-SOURCE_DISTANCE_M * det.beam[0] if np.isnan(x) else x),
                V.t64(-SOURCE_DISTANCE_M * det.beam[1] if np.isnan(y) else y),
                V.t64(-SOURCE_DISTANCE_M * det.beam[2] if np.isnan(z) else z)])
            dirs.append(vec)
            weights.append(1.0 if np.isnan(w) else w)
            lams.append(lambda0 if np.isnan(lam) else V.t64(lam))
    else:
        points = divergence_points(sm, round_div=cargs.round_div)
        divsteps = len(points)
        n = divsteps * sm.dispsteps
        weight = 1.0 / n if n else 0.0
        for hdiv, vdiv in points:
            vec = V.scale(det.beam, -SOURCE_DISTANCE_M)
            vec = V.rotate_axis(vec, det.polar, vdiv)
            vec = V.rotate_axis(vec, det.vert, hdiv)
            for t in range(sm.dispsteps):
                dirs.append(vec)
                lams.append(lambda0 * (1.0 + sm.dispstep * t - sm.dispersion / 2.0))
                weights.append(weight)
    units = [V.unitize(v)[0] for v in dirs]
    direction = torch.stack(units) if units else torch.zeros((0, 3), dtype=V.F64)
    lam = torch.stack(lams) if lams else torch.zeros((0,), dtype=V.F64)
    raw = [tuple(val(x) for x in v) for v in dirs]
    return Sources(direction=direction, position_raw=raw, lambda_m=lam, weight=weights, divsteps=divsteps,
                   from_file=bool(file_rows), warnings=warnings)


def fluence_from_flux(cargs) -> tuple[float, float]:
    """(fluence, flux) after the C's flux/exposure/beamsize rule (N2)."""
    fluence, flux = cargs.fluence, cargs.flux
    if flux != 0.0 and cargs.exposure_s > 0.0 and cargs.beamsize_m >= 0:
        fluence = flux * cargs.exposure_s / cargs.beamsize_m / cargs.beamsize_m
    if cargs.exposure_s > 0.0:
        flux = fluence / cargs.exposure_s * cargs.beamsize_m * cargs.beamsize_m
    return fluence, flux
