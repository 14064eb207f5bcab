"""The effective configuration: a JSON-able dict, and the C program's own stdout block for it.

`python -m simcore` prints the set-up summary in the C's format (``%g``), so one parser
(tracekit's config parser) reads both sides and ``pwb config-diff`` catches a wrong pivot,
convention or beam centre before any pixel is compared.
"""
from __future__ import annotations

import math
import os

from simcore.cfmt import c_f, c_g
from simcore.vec import val

RTD = 180.0 / math.pi


def _v(t) -> list[float]:
    return [val(x) for x in t]


def effective_config(setup) -> dict:
    """What simcore parsed and derived, with units in the names."""
    c, det, sm, cr, src = setup.cargs, setup.det, setup.sm, setup.cr, setup.src
    px = det.pixel_m
    return {
        "convention": det.convention, "pivot": det.pivot,
        "fpixels": det.fpixels, "spixels": det.spixels, "pixel_m": px,
        "detsize_f_m": det.detsize_f_m, "detsize_s_m": det.detsize_s_m,
        "distance_m": val(det.distance_m), "close_distance_m": val(det.close_distance_m),
        "Xbeam_m": val(det.Xbeam_m), "Ybeam_m": val(det.Ybeam_m),
        "Fbeam_m": val(det.Fbeam_m), "Sbeam_m": val(det.Sbeam_m),
        "Fbeam_px": val(det.Fbeam_m) / px, "Sbeam_px": val(det.Sbeam_m) / px,
        "Fclose_m": val(det.Fclose_m), "Sclose_m": val(det.Sclose_m),
        "ORGX_px": val(det.ORGX), "ORGY_px": val(det.ORGY),
        "pix0_m": _v(det.pix0_m), "fdet": _v(det.fdet), "sdet": _v(det.sdet), "odet": _v(det.odet),
        "beam": _v(det.beam), "polar_vector": _v(det.polar), "spindle": _v(det.spindle),
        "twotheta_axis": _v(det.twotheta_axis), "dials_origin_mm": _v(det.dials_origin_mm),
        "detector_rot_deg": [val(x) * RTD for x in det.rot_rad], "twotheta_deg": val(det.twotheta_rad) * RTD,
        "curved_det": det.curved, "point_pixel": det.point_pixel,
        "oversample": setup.oversample, "recommended_oversample": setup.recommended_oversample,
        "oversample_thick": c.oversample_thick, "oversample_polar": c.oversample_polar,
        "oversample_omega": c.oversample_omega,
        "steps": setup.steps, "sources": int(src.direction.shape[0]), "divsteps": src.divsteps,
        "dispsteps": sm.dispsteps, "phisteps": sm.phisteps, "phi0_deg": sm.phi0_rad * RTD,
        "phistep_deg": sm.phistep_rad * RTD, "osc_deg": sm.osc_rad * RTD,
        "mosaic_domains": sm.mosaic_domains, "mosaic_spread_deg": sm.mosaic_spread_rad * RTD,
        "thicksteps": sm.thicksteps, "thick_m": sm.thick_m, "mu_m_inv": sm.mu_m_inv,
        "lambda0_m": val(setup.lambda0_m), "fluence_photons_per_m2": setup.fluence,
        "kahn_factor": c.polarization, "nopolar": c.nopolar,
        "cell_A": list(cr.cell_A), "cell_deg": list(cr.cell_deg), "V_cell_A3": val(cr.V_cell_A3),
        "misset_deg": [0.0, 0.0, 0.0] if cr.misset_deg is None else [float(x) for x in cr.misset_deg],
        "N": [val(cr.Na), val(cr.Nb), val(cr.Nc)], "xtal_shape": c.xtal_shape,
        "hkl_source": setup.hkl_source, "default_F": c.default_F,
        "hkls": 0 if setup.ftable_np is None else int(setup.ftable_np.hkls),
        "interpolate": setup.interpolate, "roi": list(setup.roi), "dmin_m": c.dmin_m,
        "water_m": c.water_m, "I_bg": setup.I_bg,
        "emulate_c": dict(c.emulate), "warnings": list(setup.warnings),
    }


def _g3(v) -> str:
    return " ".join(c_g(val(x)) for x in v)


def setup_lines(setup) -> list[str]:
    """The C's set-up printout (the subset a config diff needs), in the C's order and format."""
    c, det, sm, cr, src = setup.cargs, setup.det, setup.sm, setup.cr, setup.src
    out = [f"{det.convention.lower()} convention selected."]
    out.append("pivoting detector around sample" if det.pivot == "sample" else
               "pivoting detector around direct beam spot")
    out.append("XDS incident beam: " + _g3([val((det.beam * v).sum()) for v in (det.fdet, det.sdet, det.odet)]))
    if setup.interp_auto is not None:
        out.append("auto-selected tricubic interpolation of structure factors" if setup.interp_auto == "tricubic"
                   else "auto-selected no interpolation")
    names = setup.input_names
    if c.mat_file is not None:
        out.append(f"reading {names.get('mat_file')}")
    if setup.misset_random_deg is not None:
        out.append("random orientation misset angles: %f %f %f deg" % tuple(setup.misset_random_deg))
    out += _crystal_lines(setup)
    if c.oversample <= 0:
        out.append(f"auto-selected {setup.oversample}-fold oversampling")
    if setup.oversample < setup.recommended_oversample:
        xtal_max = max(val(n) * L for n, L in zip((cr.Na, cr.Nb, cr.Nc), cr.cell_A))
        recip_px = val(setup.lambda0_m) * val(det.distance_m) / det.pixel_m
        out += [f"WARNING: maximum dimension of sample is {c_g(xtal_max)} A",
                f"         but reciprocal pixel size is {c_g(recip_px * 1e10)} A",
                "         intensity may vary significantly across a pixel!",
                f"         recommend -oversample {setup.recommended_oversample} to work around this"]
    out.append(f"approximate MW = {c_g(_approximate_mw(cr))}")
    if c.hkl_file is not None:
        out += [f"counting entries in {names.get('hkl_file')}", f"re-reading {names.get('hkl_file')}"]
        if setup.fdump_written:
            out.append(f"writing dump file for next time: {names.get('dump_file')}")
    elif setup.hkl_source.startswith("Fdump"):
        out.append(f"reading Fs from {names.get('dump_file')}")
    out += [f"thick{t} = {c_g(sm.thickstep_m * t * 1e6)} um" for t in range(sm.thicksteps)]
    out += [f"phi{t} = {c_g((sm.phi0_rad + sm.phistep_rad * t) * RTD)}" for t in range(sm.phisteps)]
    if not src.from_file:
        from simcore.setup.beam import divergence_points

        out += [f"divergence deviation: {c_g(h)} {c_g(v)}" for h, v in divergence_points(sm, round_div=c.round_div)]
        lam0 = val(setup.lambda0_m)
        out += ["lambda%d = %.15g" % (t, lam0 * (1.0 + sm.dispstep * t - sm.dispersion / 2.0))
                for t in range(sm.dispsteps)]
    out.append(f"  created a total of {src.direction.shape[0]} sources:")
    for (x, y, z), w, lam in zip(src.position_raw, src.weight, src.lambda_m):
        out.append(f"{c_g(x)} {c_g(y)} {c_g(z)}   {c_g(w)} {c_g(val(lam))}")
    out.append(f"  created a total of {sm.mosaic_domains} mosaic domains")
    hkls = 0 if setup.ftable_np is None else int(setup.ftable_np.hkls)
    out.append(f"  {hkls} initialized hkls (all others ={c_g(c.default_F)})")
    shape = {"round": "ellipsoidal", "square": "parallelpiped", "gauss": "gaussian", "tophat": "tophat-spot"}
    out.append(f"  {shape[c.xtal_shape]} xtal: {val(cr.Na):.0f}x{val(cr.Nb):.0f}x{val(cr.Nc):.0f} cells")
    out.append(f"  wave={c_g(val(setup.lambda0_m))} meters +/- {c_g(sm.dispersion * 100)}% in {sm.dispsteps} steps")
    out.append("  polarization effect disabled" if c.nopolar else f"  Kahn polarization factor: {c_f(c.polarization)}")
    if det.curved:
        out.append("  curved detector: all pixels same distance from origin")
    if det.point_pixel:
        out.append("  pixel obliquity effect disabled")
    out.append(f"  incident fluence: {c_g(setup.fluence)} photons/m^2")
    out.append(f"  distance={c_g(val(det.distance_m))} detsize={c_g(det.detsize_f_m)}x{c_g(det.detsize_s_m)}  "
               f"pixel={c_g(det.pixel_m)} meters ({det.fpixels}x{det.spixels} pixels)")
    out.append(f"  sensor is {c_g(sm.thick_m)} m thick in {sm.thicksteps} layers with mu= {c_g(sm.mu_m_inv)}")
    out.append(f"  Xbeam={c_g(val(det.Xbeam_m))} Ybeam={c_g(val(det.Ybeam_m))}")
    out.append(f"  Fbeam={c_g(val(det.Fbeam_m))} Sbeam={c_g(val(det.Sbeam_m))}")
    out.append(f"  Xclose={c_g(det.Xclose_m)} Yclose={c_g(det.Yclose_m)}")
    out.append(f"  Fclose={c_g(val(det.Fclose_m))} Sclose={c_g(val(det.Sclose_m))}")
    out.append("  DIRECTION_OF_DETECTOR_X-AXIS= " + _g3(det.fdet))
    out.append("  DIRECTION_OF_DETECTOR_Y-AXIS= " + _g3(det.sdet))
    out.append("  DIRECTION_OF_DETECTOR_Z-AXIS= " + _g3(det.odet))
    out.append("  INCIDENT_BEAM_DIRECTION= " + _g3(det.beam))
    out.append("  spindle ROTATION_AXIS= " + _g3(det.spindle))
    normal = [val(det.beam[1] * det.polar[2] - det.beam[2] * det.polar[1]),
              val(det.beam[2] * det.polar[0] - det.beam[0] * det.polar[2]),
              val(det.beam[0] * det.polar[1] - det.beam[1] * det.polar[0])]
    out.append("  POLARIZATION_PLANE_NORMAL= " + _g3(normal))
    out.append("  dials origin= " + _g3(det.dials_origin_mm))
    x0, x1, y0, y1 = setup.roi
    out.append(f"  roi: {x0} < x < {x1} && {y0} < y < {y1}")
    out.append(f"  hdivrange={c_g(sm.hdivrange_rad)} hdivstep={c_g(sm.hdivstep_rad)}  radians")
    out.append(f"  vdivrange={c_g(sm.vdivrange_rad)} vdivstep={c_g(sm.vdivstep_rad)}  radians")
    out.append(f"  {src.divsteps} divergence steps")
    out.append(f"  {src.direction.shape[0]} sources")
    out.append(f"  {sm.mosaic_domains} mosaic domains over mosaic spread of {c_g(sm.mosaic_spread_rad * RTD)} degrees")
    out.append(f"  {sm.phisteps} phi steps from {c_g(sm.phi0_rad * RTD)} to {c_g((sm.phi0_rad + sm.osc_rad) * RTD)} degrees")
    flags = "".join(f" +{k}" for k, on in (("thick", c.oversample_thick), ("polar", c.oversample_polar),
                                            ("omega", c.oversample_omega)) if on)
    out.append(f"  {setup.oversample}x{setup.oversample} pixel oversample steps{flags}")
    if setup.mask is not None:
        out.append(f"  skipping zero-flagged pixels in {os.path.basename(c.mask_file or '')}")
    out = [line for line in out if line]
    if c.calculate_noise:       # the C prints a blank line before this block
        out += ["", "  noise image paramters:", f"  seed: {setup.seeds.seed.value}",
                f"  water droplet size: {c_g(c.water_m)} m"]
    return out


def _angles(vecs, other_lens, V):
    """The C's cell angles in degrees: atan2(sin, cos) with sin = |x'|·V/|y|/|z| (x' the dual
    vector) and cos from the dot products; clamped as the C does."""
    from simcore import vec as Vv

    lens = [val(Vv.magnitude(v)) for v in vecs]
    out = []
    for i, (j, k) in enumerate(((1, 2), (0, 2), (0, 1))):
        sin = max(-1.0, min(1.0, other_lens[i] * V / lens[j] / lens[k]))
        cos = val(Vv.dot(vecs[j], vecs[k])) / lens[j] / lens[k]
        cos = 1.0 if cos * cos > 1.0 else cos
        out.append(math.atan2(sin, cos) * RTD)
    return out, lens


def _crystal_lines(setup) -> list[str]:
    cr = setup.cr
    a, b, c = (v * 1e10 for v in (cr.a0_m, cr.b0_m, cr.c0_m))
    V_cell = val(cr.V_cell_A3)
    stars = (cr.a_star_A_inv, cr.b_star_A_inv, cr.c_star_A_inv)
    from simcore import vec as Vv

    star_lens = [val(Vv.magnitude(v)) for v in stars]
    (al, be, ga), lens = _angles((a, b, c), star_lens, V_cell)
    (als, bes, gas), slens = _angles(stars, lens, 1.0 / V_cell)
    out = [f"Unit Cell: {' '.join(c_g(x) for x in lens)} {c_g(al)} {c_g(be)} {c_g(ga)}",
           f"Recp Cell: {' '.join(c_g(x) for x in slens)} {c_g(als)} {c_g(bes)} {c_g(gas)}",
           f"volume = {c_g(V_cell)} A^3", "real-space cell vectors (Angstrom):",
           "     %-10s  %-10s  %-10s" % ("a", "b", "c")]
    out += ["%s: %11.8f %11.8f %11.8f" % (ax, val(a[k]), val(b[k]), val(c[k])) for k, ax in enumerate("XYZ")]
    out += ["reciprocal-space cell vectors (Angstrom^-1):", "     %-10s  %-10s  %-10s" % ("a_star", "b_star", "c_star")]
    s_ = (cr.a_star_A_inv, cr.b_star_A_inv, cr.c_star_A_inv)
    out += ["%s: %11.8f %11.8f %11.8f" % (ax, val(s_[0][k]), val(s_[1][k]), val(s_[2][k])) for k, ax in enumerate("XYZ")]
    sizes = [val(n) * L * 1e-4 for n, L in zip((cr.Na, cr.Nb, cr.Nc), lens)]
    out.append(f"crystal is {c_g(sizes[0])} x {c_g(sizes[1])} x {c_g(sizes[2])} microns")
    return out


def _approximate_mw(cr) -> float:
    from simcore import vec as Vv

    sizes = [val(Vv.magnitude(v)) * val(n) for v, n in ((cr.a0_m, cr.Na), (cr.b0_m, cr.Nb), (cr.c0_m, cr.Nc))]
    volume = sizes[0] * sizes[1] * sizes[2]
    return volume * 1.2e6 * 6.02214179e23 / (val(cr.Na) * val(cr.Nb) * val(cr.Nc))
