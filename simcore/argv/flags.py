"""The nanoBragg C flag table: which argv tokens the C program recognises, and how.

The C parser (nanoBragg.c main(), one pass) tests every token that starts with '-' against every
pattern below, in this order, mostly with ``strstr`` (substring) and sometimes with an exact or
length-restricted match. Several patterns can fire on one token (``-twotheta_axis`` is also read as
``-twotheta``; ``-misset_seed`` is also read as ``-misset``; ``-printout_pixel`` also sets
``-printout``). Reproducing that is part of C parity (reference §4 T-PARSE-MISC, T-2θ-PARSE).

Each entry names a handler in :mod:`simcore.argv.parse`; the table is data so tests can enumerate it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

RTD = 180.0 / math.pi  # C: RTD = 180.0*M_1_PI (degrees per radian)


@dataclass(frozen=True)
class Pattern:
    """One C ``if(...)`` test on an argv token.

    kind: "sub" (strstr), "exact" (strcmp), "sublen" (strstr and strlen == length),
    "sublenmin" (strstr and strlen > length).
    nargs: values the handler reads after the token (-1 = handler decides).
    """

    text: str
    handler: str
    nargs: int
    kind: str = "sub"
    length: int = 0
    stops: bool = False  # the C `continue`s after this handler (no later pattern is tested)

    def matches(self, token: str) -> bool:
        if self.kind == "exact":
            return token == self.text
        if self.text not in token:
            return False
        if self.kind == "sublen":
            return len(token) == self.length
        if self.kind == "sublenmin":
            return len(token) > self.length
        return True


def _p(text, handler, nargs, kind="sub", length=0, stops=False):
    return Pattern(text, handler, nargs, kind, length, stops)


# In C order (vanilla nanoBragg.c main() option loop; -mask comes from the pre-parse loop).
C_PATTERNS: tuple[Pattern, ...] = (
    _p("-mask", "mask", 1),
    _p("-Na", "Na", 1, stops=True),
    _p("-Nb", "Nb", 1, stops=True),
    _p("-Nc", "Nc", 1, stops=True),
    _p("-N", "N", 1, kind="exact", stops=True),
    _p("-cell", "cell", -1),
    _p("-misset", "misset", -1),
    _p("-samplesize", "sample_xyz", 1), _p("-sample_size", "sample_xyz", 1),
    _p("-sample_thick", "sample_x", 1), _p("-sample_x", "sample_x", 1),
    _p("-sample_width", "sample_y", 1), _p("-sample_y", "sample_y", 1), _p("-width", "sample_y", 1),
    _p("-sample_heigh", "sample_z", 1), _p("-sample_z", "sample_z", 1), _p("-heigh", "sample_z", 1),
    _p("-xtalsize", "sample_xyz", 1), _p("-xtal_size", "sample_xyz", 1),
    _p("-xtal_thick", "sample_x", 1), _p("-xtal_x", "sample_x", 1),
    _p("-xtal_width", "sample_y", 1), _p("-xtal_y", "sample_y", 1),
    _p("-xtal_heigh", "sample_z", 1), _p("-xtal_z", "sample_z", 1),
    _p("-density", "density", 1), _p("-sample_den", "density", 1),
    _p("-MW", "MW", 1, kind="exact"), _p("-molec", "MW", 1),
    _p("-Xbeam", "Xbeam", 1), _p("-Ybeam", "Ybeam", 1),
    _p("-Xclose", "Xclose", 1), _p("-Yclose", "Yclose", 1),
    _p("-ORGX", "ORGX", 1), _p("-ORGY", "ORGY", 1),
    _p("-pivot", "pivot", 1),
    _p("-mosflm", "conv_MOSFLM", 0), _p("-xds", "conv_XDS", 0), _p("-adxv", "conv_ADXV", 0),
    _p("-denzo", "conv_DENZO", 0), _p("-dials", "conv_DIALS", 0),
    _p("-fdet_vector", "vec_fdet", 3), _p("-sdet_vector", "vec_sdet", 3),
    _p("-odet_vector", "vec_odet", 3), _p("-beam_vector", "vec_beam", 3),
    _p("-polar_vector", "vec_polar", 3), _p("-spindle_axis", "vec_spindle", 3),
    _p("-twotheta_axis", "vec_twotheta", 3), _p("-pix0_vector", "vec_pix0", 3),
    _p("-distance", "distance", 1), _p("-close_distance", "close_distance", 1),
    _p("-detector_abs", "detector_abs", 1),
    _p("-detector_thick", "detector_thick", 1, kind="sublen", length=15),
    _p("-detector_thicksteps", "thicksteps", 1), _p("-thicksteps", "thicksteps", 1),
    _p("-twotheta", "twotheta", 1),
    _p("-detector_rotx", "rotx", 1), _p("-detector_roty", "roty", 1), _p("-detector_rotz", "rotz", 1),
    _p("-detsize", "detsize", 1, kind="sublen", length=8),
    _p("-detsize_f", "detsize_f", 1), _p("-detsize_s", "detsize_s", 1),
    _p("-detpixels", "detpixels", 1, kind="sublen", length=10),
    _p("-detpixels_f", "detpixels_f", 1), _p("-detpixels_x", "detpixels_f", 1),
    _p("-detpixels_s", "detpixels_s", 1), _p("-detpixels_y", "detpixels_s", 1),
    _p("-curved_det", "curved_det", 0),
    _p("-pixel", "pixel", 1),
    _p("-point_pixel", "point_pixel", 0),
    _p("-polar", "polar", 1, kind="sublen", length=6),
    _p("-nopolar", "nopolar", 0),
    _p("-oversample_thick", "os_thick", 0, stops=True),
    _p("-oversample_polar", "os_polar", 0, stops=True),
    _p("-oversample_omega", "os_omega", 0, stops=True),
    _p("-oversample", "oversample", 1),
    _p("-roi", "roi", 4),
    _p("-lambda", "lambda", 1), _p("-wave", "lambda", 1),
    _p("-energy", "energy", 1),
    _p("-fluence", "fluence", 1), _p("-flux", "flux", 1), _p("-exposure", "exposure", 1),
    _p("-beamsize", "beamsize", 1),
    _p("-mosaic", "mosaic", 1, kind="sublen", length=7), _p("-mosaici", "mosaic", 1),
    _p("-mosaic_spr", "mosaic", 1),
    _p("-mosaic_dom", "mosaic_dom", 1),
    _p("-dispersion", "dispersion", 1), _p("-dispsteps", "dispsteps", 1),
    _p("-divergence", "divergence", 1),
    _p("-hdivrange", "hdivrange", 1), _p("-vdivrange", "vdivrange", 1),
    _p("-hdivstep", "hdivstep", 1, kind="sublen", length=9), _p("-hdivsteps", "hdivsteps", 1),
    _p("-vdivstep", "vdivstep", 1, kind="sublen", length=9), _p("-vdivsteps", "vdivsteps", 1),
    _p("-divsteps", "divsteps", 1),
    _p("-round_div", "round_div", 0), _p("-square_div", "square_div", 0),
    _p("-adc", "adc", 1),
    _p("-phi", "phi", 1, kind="sublen", length=4), _p("-osc", "osc", 1),
    _p("-phistep", "phistep", 1, kind="sublen", length=8), _p("-phisteps", "phisteps", 1),
    _p("-dmin", "dmin", 1),
    _p("-mat", "mat", 1), _p("-hkl", "hkl", 1), _p("-default_F", "default_F", 1),
    _p("-dump", "dump", 1, kind="exact"),
    _p("-img", "img", 1),
    _p("-stolout", "stolout", 1, kind="sublenmin", length=7),
    _p("-stol", "stol", 1, kind="sublen", length=5), _p("-4stol", "stol", 1, kind="sublen", length=6),
    _p("-Q", "stol", 1, kind="sublen", length=2),
    _p("-sourcefile", "sourcefile", 1),
    _p("-floatfile", "floatfile", 1), _p("-floatimage", "floatfile", 1),
    _p("-intfile", "intfile", 1), _p("-intimage", "intfile", 1),
    _p("-pgmfile", "pgmfile", 1), _p("-pgmimage", "pgmfile", 1),
    _p("-noisefile", "noisefile", 1), _p("-noiseimage", "noisefile", 1),
    _p("-nonoise", "nonoise", 0), _p("-nopgm", "nopgm", 0),
    _p("-scale", "scale", 1), _p("-pgmscale", "pgmscale", 1),
    _p("-coherent", "coherent", 0),
    _p("-printout", "printout", 0),
    _p("-noprogress", "noprogress", 0), _p("-progress", "progress", 0),
    _p("-interpolate", "interpolate", 0), _p("-nointerpolate", "nointerpolate", 0),
    _p("-round_xtal", "shape_round", 0), _p("-square_xtal", "shape_square", 0),
    _p("-gauss_xtal", "shape_gauss", 0),
    _p("-binary_spots", "shape_tophat", 0), _p("-tophat_spots", "shape_tophat", 0),
    _p("-fudge", "fudge", 1),
    _p("-printout_pixel", "printout_pixel", 2),
    _p("-seed", "seed", 1), _p("-mosaic_seed", "mosaic_seed", 1), _p("-misset_seed", "misset_seed", 1),
    _p("-water", "water", 1),
)

# Our additions (exact match only; they never collide with a C pattern).
# -trace_pixel/-dump_pixel follow the instrumented C build (slow, fast order).
SIMCORE_FLAGS: dict[str, int] = {
    "-trace_pixel": 2,
    "-dump_pixel": 2,
    "-trace_all_indices": 0,
    "-trace_jsonl": 1,
    "-dtype": 1,
    "-device": 1,
    "-emulate_c": 1,
    "-max_memory_gb": 1,
    "-compile": 0,
    "-threads": 1,
    "-config_json": 1,
}

# Flags the C accepts that have no effect on the image in the C either (kept so they are not
# reported as unknown). Listed for documentation and tests.
NO_EFFECT_HANDLERS = frozenset({"density", "MW", "coherent", "stolout", "stol"})


def matching_patterns(token: str) -> list[Pattern]:
    """All C patterns that fire on ``token``, honouring the C ``continue`` statements."""
    found: list[Pattern] = []
    for pat in C_PATTERNS:
        if pat.matches(token):
            found.append(pat)
            if pat.stops:
                break
    return found


# ---- help text (python -m simcore -h) --------------------------------------------------------------
# handler → (value placeholder, one-line description), units as the command line takes them. Every
# handler of C_PATTERNS and every SIMCORE_FLAGS entry has one (tests/test_simcore_help.py).
HELP: dict[str, tuple[str, str]] = {
    "mask": ("FILE.img", "SMV mask: pixels that are 0 are not rendered (its header also sets geometry)"),
    "Na": ("N", "unit cells along a"),
    "Nb": ("N", "unit cells along b"),
    "Nc": ("N", "unit cells along c"),
    "N": ("N", "unit cells along a, b and c"),
    "cell": ("a b c al be ga", "unit cell in Å and degrees (instead of -mat)"),
    "misset": ("X Y Z|random", "crystal misset rotations in degrees, or a random orientation"),
    "sample_xyz": ("MM", "crystal size along x, y and z in mm (sets N from it)"),
    "sample_x": ("MM", "crystal size along x (beam), sets Na"),
    "sample_y": ("MM", "crystal size along y, sets Nb"),
    "sample_z": ("MM", "crystal size along z, sets Nc"),
    "density": ("G/CC", "accepted, no effect (as in the C)"),
    "MW": ("DA", "accepted, no effect (as in the C)"),
    "Xbeam": ("MM", "beam centre, fast axis (pivot beam)"),
    "Ybeam": ("MM", "beam centre, slow axis (pivot beam)"),
    "Xclose": ("MM", "point of closest approach, fast axis (pivot sample)"),
    "Yclose": ("MM", "point of closest approach, slow axis (pivot sample)"),
    "ORGX": ("PX", "XDS origin, fast axis (pivot sample)"),
    "ORGY": ("PX", "XDS origin, slow axis (pivot sample)"),
    "pivot": ("beam|sample", "detector pivot (named conventions override it)"),
    "conv_MOSFLM": ("", "MOSFLM detector convention (the default)"),
    "conv_XDS": ("", "XDS detector convention"),
    "conv_ADXV": ("", "ADXV detector convention"),
    "conv_DENZO": ("", "DENZO detector convention"),
    "conv_DIALS": ("", "DIALS detector convention"),
    "vec_fdet": ("X Y Z", "fast-axis unit vector (CUSTOM convention)"),
    "vec_sdet": ("X Y Z", "slow-axis unit vector (CUSTOM convention)"),
    "vec_odet": ("X Y Z", "detector normal (CUSTOM convention)"),
    "vec_beam": ("X Y Z", "incident beam direction (CUSTOM convention)"),
    "vec_polar": ("X Y Z", "polarization (E-vector) direction (CUSTOM convention)"),
    "vec_spindle": ("X Y Z", "rotation axis (CUSTOM convention)"),
    "vec_twotheta": ("X Y Z", "two-theta axis (CUSTOM convention; also read as -twotheta)"),
    "vec_pix0": ("X Y Z", "first pixel position in m (CUSTOM convention; the value is ignored, as in the C)"),
    "distance": ("MM", "sample-to-detector distance along the beam (pivot beam; default 100)"),
    "close_distance": ("MM", "distance to the point of closest approach (pivot sample)"),
    "detector_abs": ("UM|inf", "sensor attenuation length in µm (inf or 0: no absorption)"),
    "detector_thick": ("UM", "sensor thickness"),
    "thicksteps": ("N", "sensor layers"),
    "twotheta": ("DEG", "detector two-theta swing (pivot sample)"),
    "rotx": ("DEG", "detector rotation about x"),
    "roty": ("DEG", "detector rotation about y"),
    "rotz": ("DEG", "detector rotation about z"),
    "detsize": ("MM", "detector size, both axes"),
    "detsize_f": ("MM", "detector size, fast axis"),
    "detsize_s": ("MM", "detector size, slow axis"),
    "detpixels": ("N", "detector pixels, both axes (overrides -detsize)"),
    "detpixels_f": ("N", "detector pixels, fast axis"),
    "detpixels_s": ("N", "detector pixels, slow axis"),
    "curved_det": ("", "curved detector: every pixel at the same distance from the sample"),
    "pixel": ("MM", "pixel size (default 0.1)"),
    "point_pixel": ("", "solid angle 1/R² (no pixel obliquity)"),
    "polar": ("K", "Kahn polarization factor (default 0)"),
    "nopolar": ("", "no polarization correction"),
    "os_thick": ("", "sensor absorption per sub-pixel (not once per pixel)"),
    "os_polar": ("", "polarization per sub-pixel"),
    "os_omega": ("", "solid angle per sub-pixel"),
    "oversample": ("N", "sub-pixels per pixel edge (<= 0: automatic)"),
    "roi": ("X0 X1 Y0 Y1", "render only this region (pixels, x fast, inclusive)"),
    "lambda": ("A", "wavelength in Å (default 1)"),
    "energy": ("EV", "photon energy (sets the wavelength)"),
    "fluence": ("PH/M2", "incident photons per m² (default 1.259e29)"),
    "flux": ("PH/S", "incident flux (fluence from flux, exposure and beam size)"),
    "exposure": ("S", "exposure time"),
    "beamsize": ("MM", "beam size (also clips the crystal)"),
    "mosaic": ("DEG", "mosaic spread"),
    "mosaic_dom": ("N", "mosaic domains"),
    "dispersion": ("PCT", "spectral dispersion, percent"),
    "dispsteps": ("N", "wavelengths across the dispersion"),
    "divergence": ("MRAD", "beam divergence, both directions"),
    "hdivrange": ("MRAD", "horizontal divergence range"),
    "vdivrange": ("MRAD", "vertical divergence range"),
    "hdivstep": ("MRAD", "horizontal divergence step"),
    "hdivsteps": ("N", "horizontal divergence steps"),
    "vdivstep": ("MRAD", "vertical divergence step"),
    "vdivsteps": ("N", "vertical divergence steps"),
    "divsteps": ("N", "divergence steps, both directions"),
    "round_div": ("", "elliptical divergence cut (the default)"),
    "square_div": ("", "rectangular divergence grid (no cut)"),
    "adc": ("COUNTS", "ADC offset added to int and noise pixels (default 40)"),
    "phi": ("DEG", "starting spindle angle"),
    "osc": ("DEG", "oscillation range"),
    "phistep": ("DEG", "spindle step"),
    "phisteps": ("N", "spindle steps"),
    "dmin": ("A", "skip scattering beyond this resolution"),
    "mat": ("FILE", "MOSFLM orientation matrix (reciprocal cell; instead of -cell)"),
    "hkl": ("FILE", "structure factors, 'h k l F' lines (writes Fdump.bin for next time)"),
    "default_F": ("F", "structure factor for every hkl not listed (default 0)"),
    "dump": ("FILE", "read and write the structure factor dump here (default Fdump.bin)"),
    "img": ("FILE.img", "SMV image whose header sets the geometry"),
    "stolout": ("FILE", "accepted, no effect (as in the C)"),
    "stol": ("FILE", "accepted, no effect (as in the C)"),
    "sourcefile": ("FILE", "sources: 'X Y Z weight lambda' lines (m)"),
    "floatfile": ("FILE", "raw 4-byte float image (default floatimage.bin)"),
    "intfile": ("FILE", "SMV 2-byte int image (default intimage.img)"),
    "pgmfile": ("FILE", "PGM preview (default image.pgm)"),
    "noisefile": ("FILE", "SMV image with Poisson noise (default noiseimage.img)"),
    "nonoise": ("", "no noise image"),
    "nopgm": ("", "no PGM preview"),
    "scale": ("S", "int image scale (<= 0: 55000/max pixel)"),
    "pgmscale": ("S", "PGM scale (<= 0: automatic; also turns the PGM on)"),
    "coherent": ("", "accepted, no effect (as in the C)"),
    "printout": ("", "the C's per-pixel debug printout (not printed by simcore; turns off the meter)"),
    "noprogress": ("", "no progress meter"),
    "progress": ("", "'NN% done' progress meter on stdout (the default)"),
    "interpolate": ("", "tricubic interpolation of structure factors"),
    "nointerpolate": ("", "no structure factor interpolation"),
    "shape_round": ("", "ellipsoidal crystal shape"),
    "shape_square": ("", "parallelepiped crystal shape (the default)"),
    "shape_gauss": ("", "Gaussian crystal shape"),
    "shape_tophat": ("", "top-hat spots"),
    "fudge": ("X", "shape transform width factor (default 1)"),
    "printout_pixel": ("F S", "debug printout of one pixel (fast, slow; not printed by simcore)"),
    "seed": ("N", "noise seed (default: the time)"),
    "mosaic_seed": ("N", "mosaic domain seed (default 12345678)"),
    "misset_seed": ("N", "random misset seed (default: the time)"),
    "water": ("UM", "water droplet size for the background"),
}

SIMCORE_HELP: dict[str, tuple[str, str]] = {
    "-trace_pixel": ("S F", "print TRACE_PY lines for one pixel (slow, fast), as the instrumented C"),
    "-dump_pixel": ("S F", "same as -trace_pixel"),
    "-trace_all_indices": ("", "trace every source/phi/mosaic index, not only the first"),
    "-trace_jsonl": ("FILE", "also write the trace as JSONL"),
    "-dtype": ("float32|float64", "engine precision (default float32)"),
    "-device": ("cpu|cuda[:N]", "where the engine runs (default cpu)"),
    "-emulate_c": ("NAME=on|off", "switch a C quirk emulation (phi_carryover, interp_switchoff)"),
    "-max_memory_gb": ("GB", "memory budget for one chunk of pixels"),
    "-compile": ("", "torch.compile the engine"),
    "-threads": ("N", "torch CPU threads"),
    "-config_json": ("FILE", "write the effective configuration as JSON"),
}

# How a flag is shown when its C pattern is only a prefix of the word users type (the C matches by
# substring, so the full word fires the same handler).
HELP_NAMES: dict[str, str] = {"-sample_heigh": "-sample_height", "-heigh": "-height",
                              "-xtal_heigh": "-xtal_height", "-mosaici": "-mosaicity",
                              "-mosaic_spr": "-mosaic_spread", "-mosaic_dom": "-mosaic_domains"}


def help_rows() -> list[tuple[str, str]]:
    """(``-flag, -synonym VALUE``, description) per handler, in the C's order, then simcore's own."""
    names: dict[str, list[str]] = {}
    for pat in C_PATTERNS:
        names.setdefault(pat.handler, []).append(HELP_NAMES.get(pat.text, pat.text))
    rows = []
    for handler, flags in names.items():
        value, text = HELP[handler]
        rows.append((", ".join(flags) + (f" {value}" if value else ""), text))
    for flag, (value, text) in SIMCORE_HELP.items():
        rows.append((flag + (f" {value}" if value else ""), text))
    return rows
