"""Values no physics can use, refused right after parsing: one line naming the flag, exit 2.

Every number is already finite (``_Reader.num`` refuses NaN and ±inf, ``_Reader.int`` anything
outside the C's ``int``). What is checked here needs the whole command line (or an ``-img``/``-mask``
header that set the value): the C, run on each (vanilla build, 16² detector), does this:

=====================  ==========================================  =============================
value                  the C                                       simcore
=====================  ==========================================  =============================
-distance 0            exit 0, all-zero image                      refused (2)
-close_distance 0      exit 0, all-zero image                      refused (2)
-pixel 0               exit 0, a 0-byte float image                refused (2)
-pixel < 0             exit 0, the mirrored detector               refused (2: a negative size)
-lambda 0, -energy 0   exit 0, all-NaN / λ = inf image             refused (2)
-lambda < 0            exit 0, the image of abs(λ)                 refused (2: no such wave)
-cell a ≤ 0            usage text, exit 9                          refused (2)
-cell flat angles      exit 0, all-NaN image (180 90 90)           refused (2)
-detpixels < 0         exit 0, writes N² zeros for a -N×-N image   refused (2)
no pixels at all       exit 0, empty image                         refused (2)
-trace_pixel outside   (instrumented C) set-up trace, no pixel     refused (2)
=====================  ==========================================  =============================

Values the C accepts with a finite image are kept as the C has them (simcore reproduces it):
a negative distance (detector upstream), ``-N 0`` or negative, ``-cell a 0 0`` (b, c = a),
angles ≤ 0 (90°), zero or negative steps (automatic), ``-fudge 0``, a negative ``-water``,
``-fluence``, ``-beamsize`` or ``-dmin``, an ROI outside the detector.
"""
from __future__ import annotations

import math

from simcore.errors import SimcoreUsageError

# CArgs attributes whose last writer (a flag, or a header file) is recorded for the messages
WATCHED = ("misset_rad", "distance_m", "close_distance_m", "pixel_m", "lambda0_m", "cell_A", "cell_rad", "fpixels", "spixels",
           "detsize_f_m", "detsize_s_m", "trace_pixel", "phi0_rad", "osc_rad", "phistep_rad")
DEFAULT_FLAG = {"misset_rad": "-misset", "distance_m": "-distance", "close_distance_m": "-close_distance", "pixel_m": "-pixel",
                "lambda0_m": "-lambda", "cell_A": "-cell", "cell_rad": "-cell", "fpixels": "-detpixels",
                "spixels": "-detpixels", "trace_pixel": "-trace_pixel", "phi0_rad": "-phi", "osc_rad": "-osc",
                "phistep_rad": "-phistep"}


def snapshot(args) -> dict:
    """The watched values, copied (lists become tuples), to see what a handler changed."""
    return {k: tuple(v) if isinstance(v := getattr(args, k), list) else v for k in WATCHED}


def note_changes(origins: dict, before: dict, after: dict, origin: str) -> None:
    """Record ``origin`` (a flag, or ``header of FILE``) for every watched value it changed."""
    for k, v in after.items():
        if before.get(k) != v and not (_isnan(before.get(k)) and _isnan(v)):
            origins[k] = origin


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def detector_pixels(args) -> tuple[int, int]:
    """(fpixels, spixels) by the C's rule (simcore.setup.detector.detector_size, G1), without torch."""
    detsize_f = args.pixel_m * args.fpixels if args.fpixels else args.detsize_f_m
    detsize_s = args.pixel_m * args.spixels if args.spixels else args.detsize_s_m
    return math.ceil(detsize_f / args.pixel_m - 0.5), math.ceil(detsize_s / args.pixel_m - 0.5)


def validate(args, origins: dict) -> None:
    """SimcoreUsageError (exit 2) for the first value of the module table that physics cannot use."""
    def who(attr: str) -> str:
        return origins.get(attr, DEFAULT_FLAG.get(attr, attr))

    def refuse(attr: str, text: str):
        raise SimcoreUsageError(f"{who(attr)}: {text}")

    for attr in ("distance_m", "pixel_m", "lambda0_m", "phi0_rad"):
        if not math.isfinite(getattr(args, attr)):
            refuse(attr, f"not a finite number ({getattr(args, attr)})")
    if args.misset_mode == "angles" and not all(math.isfinite(x) for x in args.misset_rad):
        refuse("misset_rad", "the misset angles are not finite numbers (the C renders NaN)")
    for attr in ("close_distance_m", "osc_rad", "phistep_rad"):   # NaN there means 'not given'
        if math.isinf(getattr(args, attr)):
            refuse(attr, "not a finite number")
    if args.distance_m == 0:
        refuse("distance_m", "the sample-to-detector distance must not be 0 (the C renders all zeros)")
    if args.close_distance_m == 0:
        refuse("close_distance_m", "the distance must not be 0 (the C renders all zeros)")
    if args.pixel_m <= 0:
        refuse("pixel_m", f"the pixel size must be > 0 mm, got {args.pixel_m * 1000:g}")
    if args.lambda0_m <= 0:
        refuse("lambda0_m", f"the wavelength must be > 0, got {args.lambda0_m * 1e10:g} A")
    _check_cell(args, refuse)
    for attr, label in (("fpixels", "fast"), ("spixels", "slow")):
        if getattr(args, attr) < 0:
            refuse(attr, f"the {label} pixel count must not be negative, got {getattr(args, attr)}")
    n_f, n_s = detector_pixels(args)
    if n_f < 1 or n_s < 1:
        raise SimcoreUsageError(f"the detector has no pixels ({n_f}x{n_s}): check -detpixels, -detsize and -pixel "
                                f"({who('pixel_m')} {args.pixel_m * 1000:g} mm)")
    if args.trace_pixel is not None:
        check_trace_pixel(args, args.trace_pixel, flag=who("trace_pixel"))


def check_trace_pixel(args, pixel, *, flag: str = "trace pixel") -> None:
    """SimcoreUsageError unless (slow, fast) ``pixel`` lies on the detector."""
    n_f, n_s = detector_pixels(args)
    s, f = int(pixel[0]), int(pixel[1])
    if not (0 <= s < n_s and 0 <= f < n_f):
        raise SimcoreUsageError(f"{flag} {s} {f} (slow, fast): outside the {n_s}x{n_f} detector "
                                f"(slow 0..{n_s - 1}, fast 0..{n_f - 1})")


def _check_cell(args, refuse) -> None:
    if args.mat_file is not None or not args.user_cell:
        return                                   # -mat wins; no crystal at all is the set-up's usage error
    a, b, c = args.cell_A
    if a <= 0:
        refuse("cell_A", f"cell length a must be > 0 A, got {a:g} (the C prints its usage and exits)")
    angles = [x if x > 0 else math.pi / 2 for x in args.cell_rad]   # the C: angles <= 0 are 90 degrees
    ca, cb, cg = (math.cos(x) for x in angles)
    volume_factor = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg
    if not volume_factor > 1e-12:
        deg = " ".join(f"{x * 180 / math.pi:g}" for x in angles)
        refuse("cell_rad", f"the angles {deg} give a cell of no volume (the C renders NaN)")

