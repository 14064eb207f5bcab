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
