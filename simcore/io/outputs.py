"""Output files like the C: raw float image, SMV int image, PGM, SMV noise image (F1–F5, Z1).

Each writer is the project's one writer (tracekit.atomic: temp file + rename, through symlinks,
into FIFOs and character devices as the C's fopen, never replacing a device). The printed lines follow the C's stdout so the
two programs' logs line up.
"""
from __future__ import annotations

import os

import numpy as np

from simcore.cfmt import c_g
from simcore.errors import SimcoreOutputError
from simcore.io.stats import image_stats

KINDS = ("float", "int", "pgm", "noise")


def requested_outputs(cargs, *, defaults: bool) -> dict[str, str]:
    """kind → path. ``defaults``: also the files the C writes without being asked (python -m simcore)."""
    wanted = {}
    named = cargs.explicit_outputs
    if defaults or "float" in named:
        wanted["float"] = cargs.floatfile
    if defaults or "int" in named:
        wanted["int"] = cargs.intfile
    if cargs.write_pgm and (defaults or "pgm" in named):
        wanted["pgm"] = cargs.pgmfile
    if cargs.calculate_noise and (defaults or "noise" in named):
        wanted["noise"] = cargs.noisefile
    return wanted


def check_writable(paths: dict[str, str], cwd: str | None = None) -> None:
    """Fail fast (exit 6, one line) before simulating when an output cannot be written: a folder,
    socket or block device, a missing folder, no permission (:func:`tracekit.atomic.check_output`).
    A FIFO or character device (/dev/null) is written like the C's fopen would."""
    from tracekit.atomic import OutputError, check_output

    for kind, path in paths.items():
        try:
            check_output(os.path.join(cwd or ".", path))
        except OutputError as exc:
            raise SimcoreOutputError(f"cannot write {kind} output {path}: {exc.strerror}") from None


def _atomic_write(path: str, data: bytes) -> None:
    from simcore.io.smv import write_bytes_atomic

    try:
        write_bytes_atomic(path, data, overwrite=True)
    except OSError as exc:      # SimcoreOutputError already carries the one-line reason
        raise SimcoreOutputError(f"cannot write {path}: {exc.strerror}") from None


def smv_header(setup, *, noisefile: bool):
    from simcore.io.smv import SmvHeader

    det, sm = setup.det, setup.sm
    return SmvHeader.from_c_state(
        fpixels=det.fpixels, spixels=det.spixels, pixel_size_m=det.pixel_m, distance_m=float(det.distance_m),
        lambda0_m=float(setup.lambda0_m), xbeam_m=float(det.Xbeam_m), ybeam_m=float(det.Ybeam_m),
        fbeam_m=float(det.Fbeam_m), sbeam_m=float(det.Sbeam_m), detsize_s_m=det.detsize_s_m,
        dials_origin_mm=[float(x) for x in det.dials_origin_mm], orgx_px=float(det.ORGX),
        orgy_px=float(det.ORGY), close_distance_m=float(det.close_distance_m), phi0_rad=sm.phi0_rad,
        osc_rad=sm.osc_rad, detector_twotheta_rad=float(det.twotheta_rad), noisefile=noisefile)


def write_outputs(result, paths: dict[str, str], *, cwd: str | None = None) -> list[str]:
    """Write the requested files; return the C-style lines describing them and the statistics."""
    from simcore.noise import poisson as noise_mod
    from simcore.io import pgm as pgm_mod
    from simcore.io import smv as smv_mod

    setup = result.setup
    c = setup.cargs
    image = result.image.detach().cpu().numpy().astype(np.float32, copy=False)
    st = image_stats(image, setup)
    roi = setup.roi
    lines = [f"solid angle subtended by detector = {c_g(result.omega_sum / setup.steps)} steradian "
             f"( {c_g(100 * result.omega_sum / setup.steps / 4 / np.pi)}% sphere)"]

    def where(kind):
        return os.path.join(cwd or ".", paths[kind])

    if "float" in paths:
        lines.append(f"writing {paths['float']} as {image.size} 4-byte floats")
        _atomic_write(where("float"), np.ascontiguousarray(image, dtype="<f4").tobytes())
    lines.append(f"max_I = {c_g(st.max_I)}  at {c_g(st.max_I_x_m)} {c_g(st.max_I_y_m)}")
    lines.append(f"mean= {c_g(st.mean)} rms= {c_g(st.rms)} rmsd= {c_g(st.rmsd)}")
    scale = smv_mod.intfile_scale_rule(c.intfile_scale, st.max_I)
    lines.append(f"intfile_scale = {c_g(scale)}")
    if "int" in paths:
        ints = smv_mod.int_image(image, scale=scale, adc=c.adc, roi=roi)
        lines.append(f"writing {paths['int']} as 2-byte integers")
        _atomic_write(where("int"), smv_mod.smv_bytes(ints, smv_header(setup, noisefile=False)))
    if "pgm" in paths:
        pscale = pgm_mod.pgm_scale_rule(c.pgm_scale, rmsd=st.rmsd, intfile_scale=scale)
        lines.append(f"pgm_scale = {c_g(pscale)}")
        lines.append(f"writing {paths['pgm']} as 1-byte integers")
        _atomic_write(where("pgm"), pgm_mod.pgm_bytes(pgm_mod.pgm_image(image, pgm_scale=pscale, roi=roi),
                                                      pgm_scale=pscale))
    if "noise" in paths:
        res = noise_mod.noise_image(image, seed=setup.seeds.seed, rng=setup.rng, adc=c.adc, roi=roi)
        lines.append(res.summary_line())
        lines.append(f"writing {paths['noise']} as 2-byte integers")
        _atomic_write(where("noise"), smv_mod.smv_bytes(res.image, smv_header(setup, noisefile=True)))
    return lines
