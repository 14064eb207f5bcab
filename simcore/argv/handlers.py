"""One handler per C option test (see :mod:`simcore.argv.flags`); each mirrors its C block.

Handlers take ``(args, rd, i, tok)``: the CArgs being filled, the value reader, the token index and
the token. Units are converted here (mm→m, deg→rad, Å→m, µm→m, mrad→rad, %→fraction).
"""
from __future__ import annotations

from simcore.argv.flags import RTD
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


# --- detector and beam: simcore/argv/handlers_geometry.py ---------------------------------------
from simcore.argv.handlers_geometry import *  # noqa: E402,F401,F403  (h_* handlers, found by name)


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
    a.seed = rd.int(i, 1, tok)          # CLI value; the C stores −N (see simcore.noise.rng.CSeeds)


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
        a.max_memory_gb = a.memory_budget_gb = value
    elif tok == "-compile":
        a.compile = True
    elif tok == "-threads":
        value = rd.int(i, 1, tok)
        if not 1 <= value <= 4096:
            raise SimcoreUsageError("flag -threads: must be between 1 and 4096")
        a.threads = value
    elif tok == "-config_json":
        a.config_json = rd.text(i, 1, tok)


def _emulate(a, text):
    name, _, value = text.partition("=")
    if name not in a.emulate or value not in ("on", "off"):
        known = ", ".join(sorted(a.emulate))
        raise SimcoreUsageError(f"flag -emulate_c: expected NAME=on|off with NAME in {known}, got '{text}'")
    a.emulate[name] = value == "on"
