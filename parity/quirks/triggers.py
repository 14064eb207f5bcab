"""Triggers of the known-divergence registry: predicates that read a nanoBragg argument list with
the C program's own matching rules (``strstr`` substring flags, last one wins, values only if
present) and say whether a quirk applies, whether that is certain from the arguments alone, and why.
Each trigger is registered by name; ``known_divergences.yaml`` entries name their trigger.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

_RTD = 180.0 / math.pi


# --------------------------------------------------------------------------- C-style argv reading
class _CArgv:
    """The argument list as nanoBragg's parser sees it: option tokens start with '-', names match by substring."""

    def __init__(self, args: Sequence[str]):
        self.args = [str(a) for a in args]

    def hits(self, needle: str, *, nvals: int = 1, exact_len: int | None = None,
             skip: Iterable[str] = ()) -> list[int]:
        skip = tuple(skip)
        return [j for j, tok in enumerate(self.args)
                if tok.startswith("-") and needle in tok and j + nvals < len(self.args)
                and (exact_len is None or len(tok) == exact_len) and not any(s in tok for s in skip)]

    def last(self, needle: str, *, exact_len: int | None = None, skip: Iterable[str] = (), conv=float, default=None):
        found = self.hits(needle, exact_len=exact_len, skip=skip)
        return _c_number(self.args[found[-1] + 1], conv) if found else default

    def present(self, needle: str, *, exact_len: int | None = None) -> bool:
        return bool(self.hits(needle, nvals=0, exact_len=exact_len))


def _c_number(text: str, conv):
    """atof/atoi: the longest numeric prefix, 0 when there is none."""
    text = text.strip()
    for end in range(len(text), 0, -1):
        try:
            return conv(float(text[:end])) if conv is int else conv(text[:end])
        except ValueError:
            continue
    return conv(0)


Trigger = Callable[[_CArgv], "tuple[bool, str] | None"]
_TRIGGERS: dict[str, Trigger] = {}


def _trigger(fn: Trigger) -> Trigger:
    _TRIGGERS[fn.__name__.lstrip("_")] = fn
    return fn


def _phi_schedule(a: _CArgv) -> tuple[float, float, int]:
    """(phi0_rad, phistep_rad, phisteps) exactly as the C's default-sampling logic resolves them."""
    phi0 = a.last("-phi", exact_len=4, default=0.0) / _RTD
    osc = a.last("-osc", default=None)
    osc = -1.0 if osc is None else osc / _RTD
    phistep = a.last("-phistep", exact_len=8, default=None)
    phistep = -1.0 if phistep is None else phistep / _RTD
    phisteps = a.last("-phisteps", conv=int, default=-1)
    if phisteps < 0:
        if osc < 0.0:
            phisteps, phistep = (1, 0.0) if phistep <= 0.0 else (2, phistep)
        elif phistep <= 0.0:
            phisteps, phistep = 2, osc / 2.0
        else:
            phisteps = math.ceil(osc / phistep)
    else:
        phisteps = phisteps or 1
        if osc < 0.0:
            if phistep <= 0.0:
                phistep = (1.0 / _RTD) / phisteps
            else:
                phisteps = 2
        elif phistep < 0.0:
            phistep = osc / phisteps
    return phi0, phistep, phisteps


@_trigger
def _phi_carryover(a: _CArgv):
    phi0, phistep, steps = _phi_schedule(a)
    phis = [phi0 + phistep * k for k in range(steps)]
    zeros = [k for k, phi in enumerate(phis) if phi == 0.0]
    if zeros and any(phi != 0.0 for phi in phis):
        return True, f"{steps} phi steps of {phistep * _RTD:g} deg from {phi0 * _RTD:g} deg; phi_tic={zeros[0]} is exactly 0"
    return None


@_trigger
def _interp_switchoff(a: _CArgv):
    interpolate, n_abc = 2, _n_cells(a)
    for tok in a.args:
        if not tok.startswith("-"):
            continue
        if "-interpolate" in tok:
            interpolate = 1
        if "-nointerpolate" in tok:
            interpolate = 0
    if interpolate == 2:
        interpolate = 1 if min(n_abc) <= 2 else 0
    if interpolate and a.hits("-hkl"):
        return False, f"interpolation on (N={n_abc}); the first out-of-range hkl switches it off for all later pixels"
    return None


_SIZE_FLAGS = ("-samplesize", "-sample_size", "-sample_thick", "-sample_x", "-sample_width", "-sample_y", "-width",
               "-sample_heigh", "-sample_z", "-heigh", "-xtalsize", "-xtal_size", "-xtal_thick", "-xtal_x",
               "-xtal_width", "-xtal_y", "-xtal_heigh", "-xtal_z", "-mat", "-img", "-mask")


def auto_oversample(args: Sequence[str]) -> int | None:
    """The oversample the C picks when ``-oversample`` is absent, ``ceil(3·max(N·|a|)/(λ·distance/pixel))``,
    or None when the arguments alone do not fix it (matrix file, sample sizes, header ingestion,
    close distance on a rotated detector)."""
    a = _CArgv(args)
    if any(a.present(flag) for flag in _SIZE_FLAGS):
        return None
    cell = a.hits("-cell", nvals=3)
    if not cell or any(t.startswith("-") for t in a.args[cell[-1] + 1:cell[-1] + 4]):
        return None
    lengths_A = [_c_number(t, float) for t in a.args[cell[-1] + 1:cell[-1] + 4]]
    n_abc = _n_cells(a)
    lam_A = 1.0
    for j, tok in enumerate(a.args):
        if tok.startswith("-") and j + 1 < len(a.args):
            if "-lambda" in tok or "-wave" in tok:
                lam_A = _c_number(a.args[j + 1], float)
            if "-energy" in tok:
                energy_eV = _c_number(a.args[j + 1], float)
                if not energy_eV:
                    return None             # -energy 0: no automatic value to predict
                lam_A = 12398.42 / energy_eV
    distance_mm = a.last("-distance", default=100.0)
    if a.hits("-close_distance"):
        if any(a.present(r) for r in ("-detector_rot", "-rotx", "-roty", "-rotz")):
            return None
        distance_mm = a.last("-close_distance")
    pixel_mm = a.last("-pixel", default=0.1)
    size_m = max(max(n, 1) * (length * 1e-10) for n, length in zip(n_abc, lengths_A))
    try:
        reciprocal_px = (lam_A / 1.0e10) * (distance_mm / 1000.0) / (pixel_mm / 1000.0)
        ratio = 3.0 * size_m / reciprocal_px
    except (ZeroDivisionError, OverflowError):
        return None                     # -distance 0, -pixel 0, -energy 0: no automatic value to predict
    if not math.isfinite(ratio):
        return None
    if abs(ratio - round(ratio)) < 1e-9 * max(ratio, 1.0) and round(ratio) >= 1:
        return None  # on an integer: the C's own rounding of |a| decides ceil(); do not guess
    return max(1, math.ceil(ratio))


def _n_cells(a: _CArgv) -> list[int]:
    n_abc = [1, 1, 1]
    for j, tok in enumerate(a.args):
        if not tok.startswith("-") or j + 1 >= len(a.args):
            continue
        for k, name in enumerate(("-Na", "-Nb", "-Nc")):
            if name in tok:
                n_abc[k] = _c_number(a.args[j + 1], int)
        if tok == "-N":
            n_abc = [_c_number(a.args[j + 1], int)] * 3
    return n_abc


_NO, _MAYBE, _YES = 0, 1, 2


@_trigger
def _first_value_cache(a: _CArgv):
    over = a.last("-oversample", skip=("_thick", "_polar", "_omega"), conv=int, default=-1)
    if over <= 0:
        over = auto_oversample(a.args)
    sub = _MAYBE if over is None else (_YES if over > 1 else _NO)
    thick = (a.last("-detector_thick", exact_len=15, default=0.0) or 0.0) > 0.0
    idx = a.hits("-thicksteps") + a.hits("-detector_thicksteps")
    steps = _c_number(a.args[max(idx) + 1], int) if idx else None
    layers = _NO if not thick else (_MAYBE if steps is None else (_YES if steps > 1 else _NO))
    sources = _MAYBE if any(a.present(s) for s in ("-sourcefile", "-divergence", "divrange", "divstep",
                                                   "-dispersion", "-dispstep")) else _NO
    caches = {}
    if not a.present("-oversample_omega"):
        caches["omega"] = max(sub, layers)
    if not a.present("-oversample_polar") and not a.present("-nopolar"):
        caches["polar"] = max(sub, layers, sources)
    if thick and not a.present("-oversample_thick"):
        caches["capture_fraction"] = sub
    active = {k: v for k, v in caches.items() if v > _NO}
    if not active:
        return None
    how = "oversample unknown (automatic)" if over is None else f"oversample {over}"
    return max(active.values()) == _YES, f"{', '.join(active)} cached from the first evaluation ({how}{', thick detector' if thick else ''})"


@_trigger
def _sourcefile(a: _CArgv):
    if a.hits("-sourcefile"):
        return False, "a -sourcefile is read; the effect depends on its weights / comment lines"
    return None


@_trigger
def _misset_seed_strstr(a: _CArgv):
    state, source = None, None
    for j, tok in enumerate(a.args):
        if not tok.startswith("-") or "-misset" not in tok:
            continue
        if j + 1 < len(a.args) and "rand" in a.args[j + 1]:
            state, source = "random", tok
            continue
        if j + 3 < len(a.args):
            state, source = [_c_number(x, float) for x in a.args[j + 1:j + 4]], tok
    if isinstance(state, list) and source != "-misset":
        return True, f"{source} sets misset angles {state[0]:g} {state[1]:g} {state[2]:g} deg"
    return None


@_trigger
def _twotheta_axis_strstr(a: _CArgv):
    found = [j for j in a.hits("-twotheta") if a.args[j] != "-twotheta"]
    if found:
        last = a.hits("-twotheta")[-1]
        return True, f"{a.args[found[-1]]} parsed as -twotheta: 2theta = {_c_number(a.args[last + 1], float):g} deg, pivot SAMPLE"
    return None


_CONVENTIONS = {"-mosflm": ("MOSFLM", "BEAM"), "-xds": ("XDS", "SAMPLE"), "-adxv": ("ADXV", "BEAM"),
                "-denzo": ("DENZO", "BEAM"), "-dials": ("DIALS", "BEAM")}
_FORCED = {"MOSFLM": "BEAM", "ADXV": "BEAM", "DENZO": "BEAM", "XDS": "SAMPLE", "DIALS": "SAMPLE"}
_VECTORS = ("-fdet_vector", "-sdet_vector", "-odet_vector", "-beam_vector", "-polar_vector", "-spindle_axis",
            "-twotheta_axis", "-pix0_vector")
_PIVOT_FLAGS = {"-Xbeam": "BEAM", "-Ybeam": "BEAM", "-Xclose": "SAMPLE", "-Yclose": "SAMPLE", "-ORGX": "SAMPLE",
                "-ORGY": "SAMPLE", "-distance": "BEAM", "-close_distance": "SAMPLE", "-twotheta": "SAMPLE"}


def _detector_setup(a: _CArgv) -> tuple[str, str, str | None]:
    """(convention, requested pivot, token that requested it) after the C's argv pass, before forcing."""
    convention, pivot, source = "MOSFLM", "BEAM", None
    n = len(a.args)
    for j, tok in enumerate(a.args):
        if not tok.startswith("-"):
            continue
        for flag, value in _PIVOT_FLAGS.items():
            if flag in tok and j + 1 < n:
                pivot, source = value, tok
        if "-pivot" in tok and j + 1 < n:
            if "sample" in a.args[j + 1]:
                pivot, source = "SAMPLE", tok
            if "beam" in a.args[j + 1]:
                pivot, source = "BEAM", tok
        for flag, (name, conv_pivot) in _CONVENTIONS.items():
            if flag in tok:
                convention, pivot, source = name, conv_pivot, None
        if any(v in tok for v in _VECTORS) and j + 3 < n:
            convention = "CUSTOM"
    return convention, pivot, source


def effective_pivot(args: Sequence[str]) -> tuple[str, str]:
    """(convention, pivot) the C uses for this argv (named conventions force their pivot)."""
    convention, pivot, _ = _detector_setup(_CArgv(args))
    return convention, _FORCED.get(convention, pivot)


@_trigger
def _convention_forced_pivot(a: _CArgv):
    convention, pivot, source = _detector_setup(a)
    forced = _FORCED.get(convention)
    if forced and source and pivot != forced:
        return True, f"{source} asks for the {pivot} pivot but {convention} forces {forced}"
    return None


@_trigger
def _stale_fdump(a: _CArgv):
    if not a.hits("-hkl"):
        return False, "no -hkl: C would load ./Fdump.bin if one were present"
    return None


@_trigger
def _water(a: _CArgv):
    size = a.last("-water", default=0.0)
    if size and size > 0.0:
        return True, f"-water {size:g} um adds a background that is scaled twice"
    return None


def _is_trace(a: _CArgv) -> bool:
    return bool(a.hits("-trace_pixel", nvals=2) or a.hits("-dump_pixel", nvals=2))


@_trigger
def _trace_run(a: _CArgv):
    return (True, "trace run: the C prints this tap with a defect") if _is_trace(a) else None


@_trigger
def _trace_beam_convention(a: _CArgv):
    if not _is_trace(a):
        return None
    convention, pivot = effective_pivot(a.args)
    if pivot == "BEAM" and convention != "MOSFLM":
        return True, f"{convention} convention with BEAM pivot: the trace still prints MOSFLM"
    return None


# --------------------------------------------------------------------------- registry
