"""The C set-up sequence, start to finish: CArgs (+ differentiable overrides) → Setup.

Order follows nanoBragg.c main() (reference §3.1): detector size, fluence, convention and pivot,
usage check, sampling auto-selection, detector geometry, interpolation auto, crystal, oversample
auto, structure factors, sources, mosaic domains, steps, water background.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import torch

from simcore import vec as V
from simcore.errors import SimcoreUsageError
from simcore.setup.goniometer import RotationSet, build_rotation_set
from simcore.setup.sampling import Sampling, resolve_sampling
from simcore.setup.beam import Sources, build_sources, fluence_from_flux
from simcore.setup.crystal import CrystalSetup, build_crystal, oversample_auto
from simcore.setup.detector import DetectorGeometry, build_detector
from simcore.argv.headers import check_mask_shape
from simcore.noise.rng import CRandom
from simcore.setup.inputs import load_structure_factors, make_seeds, mosaic_and_misset, read_sources
from simcore.taps import tap
from simcore.vec import val

R_E_SQR = 7.94079248018965e-30
AVOGADRO = 6.02214179e23

# User-facing parameter names (CLI units) → (internal name, factor to SI)
PARAM_UNITS = {
    "cell_a_A": ("cell_a_A", 1.0), "cell_b_A": ("cell_b_A", 1.0), "cell_c_A": ("cell_c_A", 1.0),
    "cell_alpha_deg": ("cell_alpha_rad", math.pi / 180), "cell_beta_deg": ("cell_beta_rad", math.pi / 180),
    "cell_gamma_deg": ("cell_gamma_rad", math.pi / 180),
    "distance_mm": ("distance_m", 1e-3), "close_distance_mm": ("close_distance_m", 1e-3),
    "Xbeam_mm": ("Xbeam_m", 1e-3), "Ybeam_mm": ("Ybeam_m", 1e-3),
    "detector_rotx_deg": ("detector_rotx_rad", math.pi / 180),
    "detector_roty_deg": ("detector_roty_rad", math.pi / 180),
    "detector_rotz_deg": ("detector_rotz_rad", math.pi / 180),
    "twotheta_deg": ("twotheta_rad", math.pi / 180),
    "misset_deg": ("misset_rad", math.pi / 180),
    "Na": ("Na", 1.0), "Nb": ("Nb", 1.0), "Nc": ("Nc", 1.0),
    "lambda_A": ("lambda0_m", 1e-10),
}


def internal_params(params: dict | None) -> dict:
    """Convert user overrides (CLI units, tensors allowed) to internal SI names."""
    out = {}
    for name, value in (params or {}).items():
        if name not in PARAM_UNITS:
            raise SimcoreUsageError(f"unknown parameter '{name}' (known: {', '.join(sorted(PARAM_UNITS))})")
        key, factor = PARAM_UNITS[name]
        out[key] = V.t64(value) * factor if isinstance(value, torch.Tensor) else val(value) * factor
        if name == "misset_deg":
            out[key] = V.t64(value) * factor
    return out


@dataclass
class Setup:
    cargs: object
    det: DetectorGeometry
    sm: Sampling
    cr: CrystalSetup
    src: Sources
    rot: RotationSet
    ftable_np: object            # hklio grid or None
    hkl_source: str
    oversample: int
    recommended_oversample: int
    steps: int
    fluence: float
    flux: float
    I_bg: float
    lambda0_m: object
    interpolate: bool
    roi: tuple                   # (xmin, xmax, ymin, ymax) inclusive, C defaults applied
    rng: object                  # the shared C ran1 state (noise continues it)
    seeds: object
    mask: object = None          # numpy uint16 (spixels, fpixels) or None
    misset_random_deg: tuple | None = None
    input_names: dict = field(default_factory=dict)   # input files as typed (the C prints them so)
    fdump_written: bool = False
    interp_auto: str | None = None    # what the C's auto rule chose (printed before hkls can veto it)
    warnings: list = field(default_factory=list)


def build_setup(cargs, params: dict | None = None, *, cwd: str | None = None,
                dump_dir: str | None = None) -> Setup:
    """``cwd``: where a stale Fdump.bin is looked for; ``dump_dir``: where -hkl writes Fdump.bin
    (None: not written)."""
    p = internal_params(params)
    input_names = {k: getattr(cargs, k) for k in ("hkl_file", "mat_file", "sourcefile", "dump_file")}
    cargs = _resolve_inputs(cargs, cwd)
    warnings = list(cargs.warnings)
    fluence, flux = fluence_from_flux(cargs)
    for k, label in ((1, "high"), (2, "wide")):
        if cargs.beamsize_m >= 0 and cargs.beamsize_m < cargs.sample_m[k]:
            warnings.append(f"clipping sample ({cargs.sample_m[k]:g} m {label}) with beam ({cargs.beamsize_m:g} m)")
            cargs.sample_m[k] = cargs.beamsize_m
    fdump_path = os.path.join(cwd or ".", cargs.dump_file)
    has_fdump = cargs.hkl_file is None and os.path.exists(fdump_path)
    if cargs.hkl_file is None and not has_fdump and cargs.default_F == 0.0:
        raise SimcoreUsageError("no -hkl file, no Fdump.bin and -default_F is 0: nothing to simulate "
                                "(give -hkl FILE or -default_F F)")
    if cargs.mat_file is None and not cargs.user_cell:
        raise SimcoreUsageError("no crystal: give -cell a b c alpha beta gamma or -mat FILE")
    det = build_detector(cargs, p)
    check_mask_shape(cargs, det.spixels, det.fpixels)
    sm = resolve_sampling(cargs)
    warnings += list(sm.warnings)
    interpolate = cargs.interpolate
    interp_auto = None
    if interpolate > 1:  # the C decides before the crystal block, on the -N values as parsed
        n_parsed = [val(p.get(k, getattr(cargs, k))) for k in ("Na", "Nb", "Nc")]
        interpolate = 1 if min(n_parsed) <= 2 else 0
        interp_auto = "tricubic" if interpolate else "none"
    lambda0 = p.get("lambda0_m", cargs.lambda0_m)
    rng, seeds = CRandom(), make_seeds(cargs)
    misset_rad, umats, rng_notes = mosaic_and_misset(cargs, sm, p, rng, seeds)
    warnings += rng_notes
    cr = build_crystal(cargs, p, lambda0_m=lambda0, misset_rad=misset_rad)
    warnings += cr.warnings
    rec_os = oversample_auto(cr, lambda0_m=val(lambda0), distance_m=val(det.distance_m), pixel_m=det.pixel_m)
    oversample = cargs.oversample if cargs.oversample > 0 else rec_os
    ftable, hkl_source, f_notes = load_structure_factors(cargs, fdump_path if has_fdump else None,
                                                         dump_dir=dump_dir)
    warnings += f_notes
    if ftable is None or ftable.hkls == 0:
        interpolate = 0
    src = build_sources(cargs, sm, det, lambda0=lambda0, file_rows=read_sources(cargs, warnings))
    rot = build_rotation_set(cr, det, sm, umats, carryover=cargs.emulate["phi_carryover"])
    steps = src.direction.shape[0] * sm.mosaic_domains * sm.phisteps * oversample * oversample
    I_bg = 2.57 * 2.57 * R_E_SQR * fluence * cargs.water_m ** 3 * 1e6 * AVOGADRO / 18.0
    roi = _roi(cargs, det)
    tap("r_e_meters", math.sqrt(R_E_SQR))
    tap("r_e_sqr", R_E_SQR)
    tap("fluence_photons_per_m2", fluence)
    tap("steps", steps)
    tap("oversample_thick", int(cargs.oversample_thick))
    tap("oversample_polar", int(cargs.oversample_polar))
    tap("oversample_omega", int(cargs.oversample_omega))
    tap("rot_a_star_A_inv", cr.a_star_A_inv)
    tap("rot_b_star_A_inv", cr.b_star_A_inv)
    tap("rot_c_star_A_inv", cr.c_star_A_inv)
    return Setup(cargs=cargs, det=det, sm=sm, cr=cr, src=src, rot=rot, ftable_np=ftable, hkl_source=hkl_source,
                 oversample=oversample, recommended_oversample=rec_os, steps=steps, fluence=fluence, flux=flux,
                 I_bg=I_bg, lambda0_m=lambda0, interpolate=bool(interpolate), roi=roi, rng=rng, seeds=seeds,
                 mask=cargs.mask_data, warnings=warnings, input_names=input_names,
                 fdump_written=dump_dir is not None and cargs.hkl_file is not None, interp_auto=interp_auto,
                 misset_random_deg=(tuple(val(x) * 180.0 / math.pi for x in misset_rad)
                                    if cargs.misset_mode == "random" and misset_rad is not None else None))


def _resolve_inputs(cargs, cwd):
    """A private copy of the arguments (set-up clips the sample size in place, like the C) with
    input file names made relative to ``cwd`` (the C reads them from its working directory)."""
    import dataclasses

    changes = {"sample_m": list(cargs.sample_m)}
    for attr in ("hkl_file", "mat_file", "sourcefile", "img_file", "mask_file"):
        value = getattr(cargs, attr)
        if cwd and value is not None and not os.path.isabs(value):
            changes[attr] = os.path.join(cwd, value)
    return dataclasses.replace(cargs, **changes)


def _roi(cargs, det) -> tuple:
    xmin, xmax, ymin, ymax = cargs.roi if cargs.roi is not None else (-1, -1, -1, -1)
    if xmin < 0:
        xmin = 0
    if xmax < 0:
        xmax = det.fpixels
    if ymin < 0:
        ymin = 0
    if ymax < 0:
        ymax = det.spixels
    return xmin, xmax, ymin, ymax
