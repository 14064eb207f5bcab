"""C command line → :class:`CArgs`: every unit conversion happens here, once.

Semantics follow the vanilla nanoBragg.c option loop (single dash, substring matching, last flag
wins, several patterns per token). Where the C silently ignores something (unknown flag, missing
value, trailing ``-curved_det``) we refuse with a one-line :class:`SimcoreUsageError` (exit 2) or
warn, because a parity tool must never silently drop a flag.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from simcore.errors import SimcoreUsageError
from simcore.argv.flags import RTD, SIMCORE_FLAGS, matching_patterns
from simcore.argv.validate import note_changes, snapshot, validate

NAN = float("nan")
INT_MIN, INT_MAX = -2**31, 2**31 - 1


@dataclass
class CArgs:
    """The C program's variables right after argv parsing (SI units: m, rad, m⁻¹ for mu)."""

    # crystal
    Na: float = 1.0
    Nb: float = 1.0
    Nc: float = 1.0
    user_cell: bool = False
    cell_A: list = field(default_factory=lambda: [0.0, 0.0, 0.0])          # a b c (Å)
    cell_rad: list = field(default_factory=lambda: [0.0, 0.0, 0.0])        # alpha beta gamma
    misset_mode: str = "none"          # none | angles | random
    misset_rad: list = field(default_factory=lambda: [0.0, 0.0, 0.0])
    sample_m: list = field(default_factory=lambda: [0.0, 0.0, 0.0])        # x y z
    mat_file: str | None = None
    hkl_file: str | None = None
    dump_file: str = "Fdump.bin"
    default_F: float = 0.0
    xtal_shape: str = "square"
    fudge: float = 1.0
    # beam
    lambda0_m: float = 1.0e-10
    fluence: float = 125932015286227086360700780544.0
    flux: float = 0.0
    exposure_s: float = 1.0
    beamsize_m: float = 1e-4
    dispersion: float = 0.0
    dispsteps: int = -1
    hdivrange_rad: float = -1.0
    vdivrange_rad: float = -1.0
    hdivstep_rad: float = -1.0
    vdivstep_rad: float = -1.0
    hdivsteps: int = -1
    vdivsteps: int = -1
    round_div: bool = True
    sourcefile: str | None = None
    polarization: float = 0.0
    nopolar: bool = False
    mosaic_spread_rad: float = -1.0
    mosaic_domains: int = -1
    # detector
    pixel_m: float = 0.1e-3
    fpixels: int = 0
    spixels: int = 0
    distance_m: float = 100.0e-3
    close_distance_m: float = NAN
    detsize_f_m: float = 102.4e-3
    detsize_s_m: float = 102.4e-3
    Xbeam_m: float = NAN
    Ybeam_m: float = NAN
    Xclose_m: float = NAN
    Yclose_m: float = NAN
    ORGX: float = NAN
    ORGY: float = NAN
    pivot: str = "beam"
    convention: str = "MOSFLM"
    vectors: dict = field(default_factory=dict)   # user-given CUSTOM vectors by name
    pix0_given: bool = False
    detector_rot_rad: list = field(default_factory=lambda: [0.0, 0.0, 0.0])
    twotheta_rad: float = 0.0
    curved_det: bool = False
    point_pixel: bool = False
    detector_mu: float = -1.0
    detector_thick_m: float = 0.0
    detector_thicksteps: int = -1
    oversample: int = -1
    oversample_thick: bool = False
    oversample_polar: bool = False
    oversample_omega: bool = False
    roi: list | None = None           # xmin xmax ymin ymax (inclusive, x = fast)
    # goniometer
    phi0_rad: float = 0.0
    osc_rad: float = -1.0
    phistep_rad: float = -1.0
    phisteps: int = -1
    dmin_m: float = 0.0
    interpolate: int = 2
    # background, noise, output
    water_m: float = 0.0
    adc: float = 40.0
    intfile_scale: float = 0.0
    pgm_scale: float = 0.0
    seed: int | None = None            # CLI values (the C negates them); None = flag absent:
    mosaic_seed: int | None = None     # time seed / −12345678 / the time seed (copied before
    misset_seed: int | None = None     # argv parsing, so -seed never reaches misset_seed)
    floatfile: str = "floatimage.bin"
    intfile: str = "intimage.img"
    pgmfile: str = "image.pgm"
    noisefile: str = "noiseimage.img"
    write_pgm: bool = True
    calculate_noise: bool = True
    explicit_outputs: set = field(default_factory=set)   # which output flags were given
    img_file: str | None = None
    mask_file: str | None = None
    mask_data: object = None           # uint16 (spixels, fpixels) from -mask; 0 = not rendered
    printout: bool = False
    printout_pixel: tuple | None = None
    progress: bool = True
    # simcore additions
    trace_pixel: tuple | None = None   # (slow, fast)
    trace_all_indices: bool = False
    trace_jsonl: str | None = None
    dtype: str = "float32"
    device: str = "cpu"
    emulate: dict = field(default_factory=lambda: {"phi_carryover": True, "interp_switchoff": True})
    max_memory_gb: float = 0.5          # chunk budget (render.py)
    memory_budget_gb: float | None = None   # -max_memory_gb as given: the whole run's budget (resources.py)
    compile: bool = False
    threads: int | None = None
    config_json: str | None = None
    warnings: list = field(default_factory=list)
    argv: list = field(default_factory=list)


class _Reader:
    """Reads typed values after a flag token, marking them consumed."""

    def __init__(self, argv: list[str], consumed: list[bool]):
        self.argv = argv
        self.consumed = consumed

    def need(self, i: int, n: int, flag: str) -> None:
        if i + n >= len(self.argv):
            raise SimcoreUsageError(f"flag {flag} needs {n} value{'s' if n > 1 else ''}")

    def text(self, i: int, k: int, flag: str) -> str:
        self.need(i, k, flag)
        self.consumed[i + k] = True
        return self.argv[i + k]

    def num(self, i: int, k: int, flag: str) -> float:
        """A finite number: NaN and ±inf make the C's physics undefined (NaN images), so refused."""
        tok = self.text(i, k, flag)
        try:
            value = float(tok)
        except ValueError:
            raise SimcoreUsageError(f"flag {flag}: invalid number '{tok}'") from None
        if not math.isfinite(value):
            raise SimcoreUsageError(f"flag {flag}: expected a finite number, got '{tok}'")
        return value

    def int(self, i: int, k: int, flag: str) -> int:
        """An integer in the C's ``int`` range (its atoi)."""
        tok = self.text(i, k, flag)
        try:
            value = float(tok)
        except ValueError:
            raise SimcoreUsageError(f"flag {flag}: invalid number '{tok}'") from None
        if not math.isfinite(value) or value != int(value):
            raise SimcoreUsageError(f"flag {flag}: expected an integer, got '{tok}'")
        if not INT_MIN <= value <= INT_MAX:
            raise SimcoreUsageError(f"flag {flag}: {tok} is outside the C's int range")
        return int(value)


def parse_argv(argv: list[str], *, cwd: str | None = None) -> CArgs:
    """Parse a nanoBragg argument list (without the program name) into :class:`CArgs`.

    Like the C, ``-mask`` and ``-img`` headers are read first (mask, then img: img wins) and set
    the starting values that the options then override. File names are relative to ``cwd``.
    Values no physics can use are refused with the flag named (:mod:`simcore.argv.validate`).
    """
    from simcore.argv import handlers as argv_handlers
    from simcore.argv.headers import ingest_header_files

    args = CArgs(argv=list(argv))
    origins: dict[str, str] = {}
    before = snapshot(args)
    ingest_header_files(args, list(argv), cwd)
    note_changes(origins, before, snapshot(args), "the -img/-mask header")
    consumed = [False] * len(argv)
    rd = _Reader(list(argv), consumed)
    for i, tok in enumerate(argv):
        if consumed[i]:
            continue
        if not tok.startswith("-") or len(tok) < 2:
            raise SimcoreUsageError(f"unexpected argument '{tok}'")
        before = snapshot(args)
        if tok in SIMCORE_FLAGS:
            argv_handlers.handle_simcore_flag(args, rd, i, tok)
        else:
            patterns = matching_patterns(tok)
            if not patterns:
                if _is_number(tok):
                    raise SimcoreUsageError(f"unexpected argument '{tok}'")
                raise SimcoreUsageError(f"unknown flag {tok}")
            for pat in patterns:
                getattr(argv_handlers, "h_" + pat.handler)(args, rd, i, tok)
        note_changes(origins, before, snapshot(args), f"flag {tok}")
    validate(args, origins)
    return args


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False
