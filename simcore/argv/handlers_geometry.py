"""C option handlers for the detector and the beam (see simcore.argv.handlers for the contract)."""
from __future__ import annotations

from simcore.argv.flags import RTD
from simcore.errors import SimcoreUsageError

# --- detector --------------------------------------------------------------------------------


def h_Xbeam(a, rd, i, tok):
    a.Xbeam_m = rd.num(i, 1, tok) / 1000.0
    a.pivot = "beam"


def h_Ybeam(a, rd, i, tok):
    a.Ybeam_m = rd.num(i, 1, tok) / 1000.0
    a.pivot = "beam"


def h_Xclose(a, rd, i, tok):
    a.Xclose_m = rd.num(i, 1, tok) / 1000.0
    a.pivot = "sample"


def h_Yclose(a, rd, i, tok):
    a.Yclose_m = rd.num(i, 1, tok) / 1000.0
    a.pivot = "sample"


def h_ORGX(a, rd, i, tok):
    a.ORGX = rd.num(i, 1, tok)
    a.pivot = "sample"


def h_ORGY(a, rd, i, tok):
    a.ORGY = rd.num(i, 1, tok)
    a.pivot = "sample"


def h_pivot(a, rd, i, tok):
    value = rd.text(i, 1, tok)
    if "sample" in value:
        a.pivot = "sample"
    if "beam" in value:
        a.pivot = "beam"
    if "sample" not in value and "beam" not in value:
        raise SimcoreUsageError(f"flag -pivot: expected 'beam' or 'sample', got '{value}'")


def _convention(name, pivot):
    def handler(a, rd, i, tok):
        a.convention = name   # the convention block later overwrites every vector (not the flags)
        a.pivot = pivot
    return handler


h_conv_MOSFLM = _convention("MOSFLM", "beam")
h_conv_XDS = _convention("XDS", "sample")
h_conv_ADXV = _convention("ADXV", "beam")
h_conv_DENZO = _convention("DENZO", "beam")
h_conv_DIALS = _convention("DIALS", "beam")  # the convention block resets it to SAMPLE


def _vector(name):
    def handler(a, rd, i, tok):
        a.convention = "CUSTOM"
        a.vectors[name] = [rd.num(i, k, tok) for k in (1, 2, 3)]
    return handler


h_vec_fdet = _vector("fdet")
h_vec_sdet = _vector("sdet")
h_vec_odet = _vector("odet")
h_vec_beam = _vector("beam")
h_vec_polar = _vector("polar")
h_vec_spindle = _vector("spindle")
h_vec_twotheta = _vector("twotheta")


def h_vec_pix0(a, rd, i, tok):
    a.convention = "CUSTOM"
    [rd.num(i, k, tok) for k in (1, 2, 3)]
    a.pix0_given = True
    a.warnings.append("-pix0_vector switches to CUSTOM, but its value is never used (as in the C)")


def h_distance(a, rd, i, tok):
    a.distance_m = rd.num(i, 1, tok) / 1000.0
    a.pivot = "beam"


def h_close_distance(a, rd, i, tok):
    a.close_distance_m = rd.num(i, 1, tok) / 1000.0
    a.pivot = "sample"


def h_detector_abs(a, rd, i, tok):
    text = rd.text(i, 1, tok)
    if "inf" in text:
        value = 0.0
    else:
        try:
            value = float(text)
        except ValueError:
            raise SimcoreUsageError(f"flag {tok}: invalid number '{text}'") from None
    if value == 0.0:
        a.detector_thick_m = 0.0
        a.detector_mu = 0.0
    else:
        a.detector_mu = 1.0 / (value * 1e-6)


def h_detector_thick(a, rd, i, tok):
    value = rd.num(i, 1, tok)
    if value < 0:
        raise SimcoreUsageError(f"flag {tok}: thickness must not be negative, got {value:g}")
    a.detector_thick_m = value * 1e-6


def h_thicksteps(a, rd, i, tok):
    a.detector_thicksteps = rd.int(i, 1, tok)


def h_twotheta(a, rd, i, tok):
    # strstr: -twotheta_axis lands here too and its first component is read as 2θ (trap T-2θ-PARSE)
    a.twotheta_rad = rd.num(i, 1, tok) / RTD
    a.pivot = "sample"


def h_rotx(a, rd, i, tok):
    a.detector_rot_rad[0] = rd.num(i, 1, tok) / RTD


def h_roty(a, rd, i, tok):
    a.detector_rot_rad[1] = rd.num(i, 1, tok) / RTD


def h_rotz(a, rd, i, tok):
    a.detector_rot_rad[2] = rd.num(i, 1, tok) / RTD


def h_detsize(a, rd, i, tok):
    a.detsize_f_m = a.detsize_s_m = rd.num(i, 1, tok) / 1000.0


def h_detsize_f(a, rd, i, tok):
    a.detsize_f_m = rd.num(i, 1, tok) / 1000.0


def h_detsize_s(a, rd, i, tok):
    a.detsize_s_m = rd.num(i, 1, tok) / 1000.0


def h_detpixels(a, rd, i, tok):
    a.fpixels = a.spixels = rd.int(i, 1, tok)


def h_detpixels_f(a, rd, i, tok):
    a.fpixels = rd.int(i, 1, tok)


def h_detpixels_s(a, rd, i, tok):
    a.spixels = rd.int(i, 1, tok)


def h_curved_det(a, rd, i, tok):
    if i + 1 < len(rd.argv):
        a.curved_det = True
    else:
        a.warnings.append("-curved_det is the last argument: the C program ignores it there (needs a "
                          "following token), so it is ignored")


def h_pixel(a, rd, i, tok):
    a.pixel_m = rd.num(i, 1, tok) / 1000.0


def h_point_pixel(a, rd, i, tok):
    a.point_pixel = True


def h_polar(a, rd, i, tok):
    a.polarization = rd.num(i, 1, tok)
    a.nopolar = False


def h_nopolar(a, rd, i, tok):
    a.nopolar = True


def h_os_thick(a, rd, i, tok):
    a.oversample_thick = True


def h_os_polar(a, rd, i, tok):
    a.oversample_polar = True


def h_os_omega(a, rd, i, tok):
    a.oversample_omega = True


def h_oversample(a, rd, i, tok):
    a.oversample = rd.int(i, 1, tok)


def h_roi(a, rd, i, tok):
    a.roi = [rd.int(i, k, tok) for k in (1, 2, 3, 4)]


# --- beam ------------------------------------------------------------------------------------


def h_lambda(a, rd, i, tok):
    a.lambda0_m = rd.num(i, 1, tok) / 1.0e10


def h_energy(a, rd, i, tok):
    value = rd.num(i, 1, tok)
    if value == 0:
        raise SimcoreUsageError("flag -energy: energy must be non-zero")
    a.lambda0_m = (12398.42 / value) / 1.0e10


def h_fluence(a, rd, i, tok):
    a.fluence = rd.num(i, 1, tok)


def h_flux(a, rd, i, tok):
    a.flux = rd.num(i, 1, tok)


def h_exposure(a, rd, i, tok):
    a.exposure_s = rd.num(i, 1, tok)


def h_beamsize(a, rd, i, tok):
    a.beamsize_m = rd.num(i, 1, tok) / 1000


def h_mosaic(a, rd, i, tok):
    a.mosaic_spread_rad = rd.num(i, 1, tok) / RTD


def h_mosaic_dom(a, rd, i, tok):
    a.mosaic_domains = rd.int(i, 1, tok)


def h_dispersion(a, rd, i, tok):
    a.dispersion = rd.num(i, 1, tok) / 100.0


def h_dispsteps(a, rd, i, tok):
    a.dispsteps = rd.int(i, 1, tok)


def h_divergence(a, rd, i, tok):
    a.hdivrange_rad = a.vdivrange_rad = rd.num(i, 1, tok) / 1000.0


def h_hdivrange(a, rd, i, tok):
    a.hdivrange_rad = rd.num(i, 1, tok) / 1000.0


def h_vdivrange(a, rd, i, tok):
    a.vdivrange_rad = rd.num(i, 1, tok) / 1000.0


def h_hdivstep(a, rd, i, tok):
    a.hdivstep_rad = rd.num(i, 1, tok) / 1000.0


def h_vdivstep(a, rd, i, tok):
    a.vdivstep_rad = rd.num(i, 1, tok) / 1000.0


def h_hdivsteps(a, rd, i, tok):
    a.hdivsteps = rd.int(i, 1, tok)


def h_vdivsteps(a, rd, i, tok):
    a.vdivsteps = rd.int(i, 1, tok)


def h_divsteps(a, rd, i, tok):
    a.hdivsteps = a.vdivsteps = rd.int(i, 1, tok)


def h_round_div(a, rd, i, tok):
    a.round_div = True


def h_square_div(a, rd, i, tok):
    a.round_div = False


def h_sourcefile(a, rd, i, tok):
    a.sourcefile = rd.text(i, 1, tok)
