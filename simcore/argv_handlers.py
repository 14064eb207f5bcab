"""One handler per C option test (see :mod:`simcore.flags`); each mirrors its C block.

Handlers take ``(args, rd, i, tok)``: the CArgs being filled, the value reader, the token index and
the token. Units are converted here (mm→m, deg→rad, Å→m, µm→m, mrad→rad, %→fraction).
"""
from __future__ import annotations

from simcore.argv import RTD
from simcore.errors import SimcoreUsageError

# --- crystal ---------------------------------------------------------------------------------


def h_mask(a, rd, i, tok):
    a.mask_file = rd.text(i, 1, tok)


def h_Na(a, rd, i, tok):
    a.Na = float(rd.int(i, 1, tok))


def h_Nb(a, rd, i, tok):
    a.Nb = float(rd.int(i, 1, tok))


def h_Nc(a, rd, i, tok):
    a.Nc = float(rd.int(i, 1, tok))


def h_N(a, rd, i, tok):
    a.Na = a.Nb = a.Nc = float(rd.int(i, 1, tok))


def h_cell(a, rd, i, tok):
    """Up to six values, stopping at a token that starts with '-' (C behaviour)."""
    rd.need(i, 1, tok)
    a.user_cell = True
    vals = []
    for k in range(1, 7):
        if i + k >= len(rd.argv) or rd.argv[i + k].startswith("-"):
            break
        vals.append(rd.num(i, k, tok))
    for k, v in enumerate(vals[:3]):
        a.cell_A[k] = v
    for k, v in enumerate(vals[3:6]):
        a.cell_rad[k] = v / RTD


def h_misset(a, rd, i, tok):
    """`-misset random` or `-misset rx ry rz`; substring match, so `-misset_seed` lands here too."""
    rd.need(i, 1, tok)
    if "rand" in rd.argv[i + 1]:
        rd.consumed[i + 1] = True
        a.misset_mode = "random"
        return
    if i + 3 < len(rd.argv):
        if tok != "-misset":
            # vanilla nanoBragg.c matches -misset with strstr: this token also resets the angles
            vals = [_c_atof(rd.argv[i + k]) for k in (1, 2, 3)]
            a.warnings.append(f"{tok} is also read as -misset by the C program (strstr): "
                              f"misset angles set to {vals[0]:g} {vals[1]:g} {vals[2]:g} deg")
        else:
            vals = [rd.num(i, k, tok) for k in (1, 2, 3)]
        a.misset_mode = "angles"
        a.misset_rad = [v / RTD for v in vals]
    elif tok == "-misset":
        raise SimcoreUsageError("flag -misset needs 'random' or 3 values")


def _c_atof(text: str) -> float:
    """C atof: the longest numeric prefix, 0.0 when none."""
    best = 0.0
    for end in range(len(text), 0, -1):
        try:
            return float(text[:end])
        except ValueError:
            continue
    return best


def h_sample_xyz(a, rd, i, tok):
    v = rd.num(i, 1, tok) / 1000
    a.sample_m = [v, v, v]


def h_sample_x(a, rd, i, tok):
    a.sample_m[0] = rd.num(i, 1, tok) / 1000


def h_sample_y(a, rd, i, tok):
    a.sample_m[1] = rd.num(i, 1, tok) / 1000


def h_sample_z(a, rd, i, tok):
    a.sample_m[2] = rd.num(i, 1, tok) / 1000


def h_density(a, rd, i, tok):
    rd.num(i, 1, tok)  # parsed, no effect on the image (as in C)


def h_MW(a, rd, i, tok):
    rd.num(i, 1, tok)  # parsed, no effect on the image (as in C)


def h_mat(a, rd, i, tok):
    a.mat_file = rd.text(i, 1, tok)


def h_hkl(a, rd, i, tok):
    a.hkl_file = rd.text(i, 1, tok)


def h_dump(a, rd, i, tok):
    a.dump_file = rd.text(i, 1, tok)


def h_default_F(a, rd, i, tok):
    a.default_F = rd.num(i, 1, tok)


def h_shape_round(a, rd, i, tok):
    a.xtal_shape = "round"


def h_shape_square(a, rd, i, tok):
    a.xtal_shape = "square"


def h_shape_gauss(a, rd, i, tok):
    a.xtal_shape = "gauss"


def h_shape_tophat(a, rd, i, tok):
    a.xtal_shape = "tophat"


def h_fudge(a, rd, i, tok):
    a.fudge = rd.num(i, 1, tok)


def h_interpolate(a, rd, i, tok):
    a.interpolate = 1


def h_nointerpolate(a, rd, i, tok):
    a.interpolate = 0


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


# --- goniometer ------------------------------------------------------------------------------


def h_phi(a, rd, i, tok):
    a.phi0_rad = rd.num(i, 1, tok) / RTD


def h_osc(a, rd, i, tok):
    a.osc_rad = rd.num(i, 1, tok) / RTD


def h_phistep(a, rd, i, tok):
    a.phistep_rad = rd.num(i, 1, tok) / RTD


def h_phisteps(a, rd, i, tok):
    a.phisteps = rd.int(i, 1, tok)


def h_dmin(a, rd, i, tok):
    a.dmin_m = rd.num(i, 1, tok) * 1e-10


# --- background, noise, output, misc ---------------------------------------------------------


def h_water(a, rd, i, tok):
    a.water_m = rd.num(i, 1, tok) / 1e6


def h_adc(a, rd, i, tok):
    a.adc = rd.num(i, 1, tok)


def h_scale(a, rd, i, tok):
    a.intfile_scale = rd.num(i, 1, tok)


def h_pgmscale(a, rd, i, tok):
    a.pgm_scale = rd.num(i, 1, tok)
    a.write_pgm = True


def h_seed(a, rd, i, tok):
    a.seed = rd.int(i, 1, tok)          # CLI value; the C stores −N (see simcore.rng.CSeeds)


def h_mosaic_seed(a, rd, i, tok):
    a.mosaic_seed = rd.int(i, 1, tok)


def h_misset_seed(a, rd, i, tok):
    a.misset_seed = rd.int(i, 1, tok)


def _output(attr, kind, extra=None):
    def handler(a, rd, i, tok):
        setattr(a, attr, rd.text(i, 1, tok))
        a.explicit_outputs.add(kind)
        if extra:
            setattr(a, extra, True)
    return handler


h_floatfile = _output("floatfile", "float")
h_intfile = _output("intfile", "int")
h_pgmfile = _output("pgmfile", "pgm", "write_pgm")
h_noisefile = _output("noisefile", "noise", "calculate_noise")


def h_nonoise(a, rd, i, tok):
    a.calculate_noise = False


def h_nopgm(a, rd, i, tok):
    a.write_pgm = False


def h_img(a, rd, i, tok):
    a.img_file = rd.text(i, 1, tok)


def h_stol(a, rd, i, tok):
    rd.text(i, 1, tok)  # read by the C, never used


def h_stolout(a, rd, i, tok):
    rd.text(i, 1, tok)  # parsed by the C, nothing written


def h_coherent(a, rd, i, tok):
    pass  # no effect in the C


def h_printout(a, rd, i, tok):
    a.printout = True


def h_printout_pixel(a, rd, i, tok):
    a.printout_pixel = (rd.int(i, 1, tok), rd.int(i, 2, tok))  # fast, slow (C order)


def h_noprogress(a, rd, i, tok):
    a.progress = False


def h_progress(a, rd, i, tok):
    a.progress = True


# --- simcore additions -----------------------------------------------------------------------


def handle_simcore_flag(a, rd, i, tok):
    if tok in ("-trace_pixel", "-dump_pixel"):
        a.trace_pixel = (rd.int(i, 1, tok), rd.int(i, 2, tok))
    elif tok == "-trace_all_indices":
        a.trace_all_indices = True
    elif tok == "-trace_jsonl":
        a.trace_jsonl = rd.text(i, 1, tok)
    elif tok == "-dtype":
        value = rd.text(i, 1, tok)
        if value not in ("float32", "float64"):
            raise SimcoreUsageError(f"flag -dtype: expected float32 or float64, got '{value}'")
        a.dtype = value
    elif tok == "-device":
        value = rd.text(i, 1, tok)
        if not (value == "cpu" or value.startswith("cuda")):
            raise SimcoreUsageError(f"flag -device: expected cpu or cuda[:N], got '{value}'")
        a.device = value
    elif tok == "-emulate_c":
        _emulate(a, rd.text(i, 1, tok))
    elif tok == "-max_memory_gb":
        value = rd.num(i, 1, tok)
        if not value > 0:
            raise SimcoreUsageError("flag -max_memory_gb: must be > 0")
        a.max_memory_gb = value
    elif tok == "-compile":
        a.compile = True
    elif tok == "-threads":
        value = rd.int(i, 1, tok)
        if value < 1:
            raise SimcoreUsageError("flag -threads: must be >= 1")
        a.threads = value
    elif tok == "-config_json":
        a.config_json = rd.text(i, 1, tok)


def _emulate(a, text):
    name, _, value = text.partition("=")
    if name not in a.emulate or value not in ("on", "off"):
        known = ", ".join(sorted(a.emulate))
        raise SimcoreUsageError(f"flag -emulate_c: expected NAME=on|off with NAME in {known}, got '{text}'")
    a.emulate[name] = value == "on"
