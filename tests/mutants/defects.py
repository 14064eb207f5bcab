"""The mutant registry: name → one small injected defect in simcore.

Each defect patches one stable, high-level point of simcore (a set-up function, the detector
convention table, a kernel helper, the output writer) for the duration of a ``with inject(name):``
block, and restores everything afterwards (in-process tests run many mutants in one interpreter).
simcore's taps sit on the live tensors, so a defect injected upstream shows in the trace by itself;
where a patch replaces a value *after* simcore tapped it, the patch taps the new value again
(``tap`` overwrites the recorded value). ``trace_transform`` (optional) rewrites the trace block
instead of the physics: the "trace that is not the live computation" class.

Patch points (module attribute looked up at call time):
``simcore.setup.sequence.{build_detector, build_rotation_set, mosaic_and_misset, fluence_from_flux,
oversample_auto}``, ``simcore.setup.detector.beam_to_fs``, ``simcore.kernel.geometry.{pixel_geometry,
polarization}``, ``simcore.kernel.lattice.sincg``, ``simcore.kernel.render.{build_setup,
make_engine_inputs}``, ``simcore.io.outputs.write_outputs``.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Iterator
from unittest import mock

_RTD = 180.0 / math.pi


@dataclass(frozen=True)
class Defect:
    """One registered defect. ``klass`` is the ports.md defect class it stands for."""

    name: str
    klass: str
    patch: Callable[[contextlib.ExitStack], None]
    trace_transform: Callable | None = None
    doc: str = ""


DEFECTS: dict[str, Defect] = {}


def _register(name: str, klass: str, *, trace_transform: Callable | None = None):
    def deco(fn):
        DEFECTS[name] = Defect(name, klass, fn, trace_transform, (fn.__doc__ or "").strip())
        return fn
    return deco


def get(name: str) -> Defect:
    """The registered defect ``name`` (KeyError with the known names otherwise)."""
    if name not in DEFECTS:
        raise KeyError(f"unknown mutant {name!r} (known: {', '.join(sorted(DEFECTS))})")
    return DEFECTS[name]


@contextlib.contextmanager
def inject(name: str) -> Iterator[Defect]:
    """Apply defect ``name`` to simcore inside the block; everything is restored on exit."""
    d = get(name)
    with contextlib.ExitStack() as stack:
        d.patch(stack)
        yield d


def _wrap(stack: contextlib.ExitStack, module, attr: str, make: Callable) -> None:
    """Replace ``module.attr`` by ``make(original)`` until the stack closes."""
    stack.enter_context(mock.patch.object(module, attr, make(getattr(module, attr))))


# ---------------------------------------------------------------- detector pivot
def _pivot_override(stack, rule: Callable) -> None:
    from simcore.setup import detector, sequence

    def make(orig):
        def build_detector(cargs, params):
            conv = detector.CONVENTIONS[cargs.convention]
            pivot = rule(cargs, conv)
            if conv.forced_pivot is None or pivot == conv.forced_pivot:
                return orig(cargs, params)
            with mock.patch.dict(detector.CONVENTIONS,
                                 {conv.name: dataclasses.replace(conv, forced_pivot=pivot)}):
                return orig(cargs, params)
        return build_detector
    _wrap(stack, sequence, "build_detector", make)


@_register("pivot_flag_wins", "detector pivot")
def _pivot_flag_wins(stack):
    """Named conventions do not force the pivot: the last pivot flag in argv wins (the spec's
    rule, not the C's), so ``-twotheta`` pivots a MOSFLM detector about the SAMPLE (C: BEAM)."""
    _pivot_override(stack, lambda cargs, conv: cargs.pivot)


@_register("pivot_twotheta_beam", "detector pivot")
def _pivot_twotheta_beam(stack):
    """Any non-zero ``-twotheta`` swings the detector about the direct-beam spot (BEAM pivot),
    also for XDS, where the C forces SAMPLE."""
    _pivot_override(stack, lambda cargs, conv: "beam" if cargs.twotheta_rad != 0.0 else conv.forced_pivot)


# ---------------------------------------------------------------- beam centre convention
def _beam_to_fs(stack, mosflm: Callable) -> None:
    from simcore.setup import detector

    def make(orig):
        def beam_to_fs(name, Xbeam_m, Ybeam_m, *, detsize_s_m, pixel_m):
            if name == "MOSFLM":
                return mosflm(Xbeam_m, Ybeam_m, pixel_m)
            return orig(name, Xbeam_m, Ybeam_m, detsize_s_m=detsize_s_m, pixel_m=pixel_m)
        return beam_to_fs
    _wrap(stack, detector, "beam_to_fs", make)


@_register("mosflm_no_half_pixel", "beam centre convention")
def _mosflm_no_half_pixel(stack):
    """MOSFLM beam centre without the +½ pixel: Fbeam = Ybeam, Sbeam = Xbeam."""
    _beam_to_fs(stack, lambda X, Y, px: (Y, X))


@_register("mosflm_no_axis_swap", "beam centre convention")
def _mosflm_no_axis_swap(stack):
    """MOSFLM beam centre without the axis swap: Fbeam = Xbeam + ½ px, Sbeam = Ybeam + ½ px
    (the C maps Xbeam to the slow axis)."""
    _beam_to_fs(stack, lambda X, Y, px: (X + 0.5 * px, Y + 0.5 * px))


# ---------------------------------------------------------------- float32 precision
@_register("f32_sincg_naive", "float32 precision")
def _f32_sincg_naive(stack):
    """The lattice factor sin(N·π·h)/sin(π·h) evaluated in float32 on the full h, without
    argument reduction: at |h| ~ 100 the rounding of π·h is comparable to sin(π·h) near a peak."""
    import torch

    from simcore.kernel import terms
    from simcore.vec import val

    def naive(h, N):
        x = h.to(torch.float32) * math.pi
        return torch.nan_to_num(torch.sin(x * N) / torch.sin(x), nan=val(N))

    def make(orig):
        def f_latt(shape, h, k, l, h0, k0, l0, *, Na, Nb, Nc, frac=None, frac64=None, **kw):
            # a float32 run (simcore may carry h in float64 there, with the float32 fraction in ``frac``)
            float32_run = h.dtype == torch.float32 or (frac is not None and frac[0].dtype == torch.float32)
            if shape != "square" or not float32_run:
                return orig(shape, h, k, l, h0, k0, l0, Na=Na, Nb=Nb, Nc=Nc, frac=frac, frac64=frac64, **kw)
            fa, fb, fc = (naive(x, N) if val(N) > 1 else None for x, N in ((h, Na), (k, Nb), (l, Nc)))
            out = torch.ones_like(h, dtype=torch.float32)
            for f in (fa, fb, fc):
                if f is not None:
                    out = out * f
            return out, fa, fb, fc
        return f_latt
    _wrap(stack, terms, "f_latt", make)      # the engine's terms call it by name


# ---------------------------------------------------------------- phi carry-over
@_register("phi0_no_carryover", "rotation order / phi=0 carry-over")
def _phi0_no_carryover(stack):
    """The C's φ = 0 carry-over is not reproduced: every φ = 0 step uses the unrotated a0/b0/c0
    (the C keeps the last non-zero φ's vectors there: simcore's ``-emulate_c phi_carryover=off``)."""
    from simcore.setup import sequence

    def make(orig):
        def build_rotation_set(cr, det, sm, umats, *, carryover):
            return orig(cr, det, sm, umats, carryover=False)
        return build_rotation_set
    _wrap(stack, sequence, "build_rotation_set", make)


# ---------------------------------------------------------------- mosaic RNG
@_register("mosaic_numpy_rng", "mosaic RNG")
def _mosaic_numpy_rng(stack):
    """Mosaic domain matrices from numpy's generator (seeded with the mosaic seed), every domain
    drawn (domain 0 too), instead of the C's ran1 draws with domain 0 = identity."""
    import numpy as np
    import torch

    from simcore.setup import sequence

    def make(orig):
        def mosaic_and_misset(cargs, sm, params, rng, seeds):
            misset, umats, notes = orig(cargs, sm, params, rng, seeds)
            if sm.mosaic_spread_rad <= 0.0:
                return misset, umats, notes
            gen = np.random.default_rng(abs(cargs.mosaic_seed or 12345678))
            mats = [_axis_angle(gen.normal(size=3), sm.mosaic_spread_rad * gen.standard_normal())
                    for _ in range(umats.shape[0])]
            return misset, torch.as_tensor(np.stack(mats), dtype=umats.dtype), notes
        return mosaic_and_misset
    _wrap(stack, sequence, "mosaic_and_misset", make)


def _axis_angle(axis, angle: float):
    """Rotation matrix about ``axis`` (not necessarily unit) by ``angle`` rad (Rodrigues)."""
    import numpy as np

    u = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    k = np.array([[0.0, -u[2], u[1]], [u[2], 0.0, -u[0]], [-u[1], u[0], 0.0]])
    return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)


# ---------------------------------------------------------------- units
@_register("fluence_beamsize_mm", "unit mismatch")
def _fluence_beamsize_mm(stack):
    """Fluence from -flux/-exposure/-beamsize with the beam size in mm instead of m (×1e-6)."""
    from simcore.setup import sequence

    def make(orig):
        def fluence_from_flux(cargs):
            fluence, flux = orig(cargs)
            if cargs.flux != 0.0 and cargs.exposure_s > 0.0 and cargs.beamsize_m >= 0:
                fluence = cargs.flux * cargs.exposure_s / (cargs.beamsize_m * 1e3) ** 2
            return fluence, flux
        return fluence_from_flux
    _wrap(stack, sequence, "fluence_from_flux", make)


def _geometry_patch(stack, change: Callable) -> None:
    """Post-process pixel_geometry's result dict with ``change(inp, geo)`` and re-tap the taps it
    owns, so the trace shows the changed values."""
    from simcore.kernel import geometry
    from simcore.taps import tap

    def make(orig):
        def pixel_geometry(inp, spix, fpix):
            geo = orig(inp, spix, fpix)
            change(inp, geo)
            tap("omega_pixel_sr", geo["omega"] if inp.os_omega else geo["omega_c"], geometry.SUB_DIMS)
            return geo
        return pixel_geometry
    _wrap(stack, geometry, "pixel_geometry", make)


def _set_omega(geo, omega) -> None:
    geo["omega"] = omega
    geo["omega_c"] = omega[:1, :1, :1]


@_register("omega_pixel_mm", "unit mismatch")
def _omega_pixel_mm(stack):
    """Solid angle with the pixel size in mm instead of m: Ω ×1e6 on every pixel."""
    _geometry_patch(stack, lambda inp, geo: _set_omega(geo, geo["omega"] * 1e6))


# ---------------------------------------------------------------- a factor left out
@_register("no_polarization", "factor left out")
def _no_polarization(stack):
    """The polarization factor is left out (1 everywhere, as if -nopolar)."""
    import torch

    from simcore.kernel import geometry

    def make(orig):
        def polarization(inp, geo, sc):
            return torch.ones_like(orig(inp, geo, sc))
        return polarization
    _wrap(stack, geometry, "polarization", make)


@_register("no_obliquity", "factor left out")
def _no_obliquity(stack):
    """Solid angle without the obliquity factor: Ω = pixel²/R² instead of pixel²/R²·close_distance/R."""
    def change(inp, geo):
        if not inp.point_pixel:
            _set_omega(geo, geo["omega"] * geo["R"] / inp.close_distance_m)
    _geometry_patch(stack, change)


@_register("no_capture_fraction", "factor left out")
def _no_capture_fraction(stack):
    """The detector capture fraction (``-detector_thick``) is left out (1 everywhere)."""
    import torch

    def change(inp, geo):
        geo["cap"] = torch.ones_like(geo["cap"])
        geo["cap_c"] = geo["cap"][-1:, :1, :1]
    _geometry_patch(stack, change)


# ---------------------------------------------------------------- sampling
@_register("subpixel_corners", "sampling rule")
def _subpixel_corners(stack):
    """Sub-pixel positions at the sub-pixel corners instead of their centres (−½ sub-pixel on
    both axes); float32 path (the port's default dtype)."""
    from simcore.kernel import render

    def make(orig):
        def make_engine_inputs(setup, *, dtype, device):
            inp = orig(setup, dtype=dtype, device=device)
            for one in (inp, inp.hi):          # the float64 twin of a precise float32 run, when there is one
                if one is not None:
                    one.anchor_f = (one.anchor_f[0], one.anchor_f[1] - 0.5)
                    one.anchor_s = (one.anchor_s[0], one.anchor_s[1] - 0.5)
            return inp
        return make_engine_inputs
    _wrap(stack, render, "make_engine_inputs", make)


@_register("oversample_auto_plus_one", "sampling rule")
def _oversample_auto_plus_one(stack):
    """The auto-selected oversampling is one more than the C's rule gives (no -oversample)."""
    from simcore.setup import sequence

    def make(orig):
        def oversample_auto(cr, *, lambda0_m, distance_m, pixel_m):
            return orig(cr, lambda0_m=lambda0_m, distance_m=distance_m, pixel_m=pixel_m) + 1
        return oversample_auto
    _wrap(stack, sequence, "oversample_auto", make)


@_register("steps_phi_intervals", "sampling rule / overall scale")
def _steps_phi_intervals(stack):
    """``steps`` counts φ intervals (phisteps − 1) instead of φ steps: every pixel ×
    phisteps/(phisteps − 1), a sum ratio of 1.07 at 15 steps."""
    from simcore.kernel import render
    from simcore.taps import tap

    def make(orig):
        def build_setup(cargs, params=None, *, cwd=None, dump_dir=None):
            setup = orig(cargs, params, cwd=cwd, dump_dir=dump_dir)
            n = setup.sm.phisteps
            if n > 1:
                setup.steps = setup.steps // n * (n - 1)
                tap("steps", setup.steps)
            return setup
        return build_setup
    _wrap(stack, render, "build_setup", make)


# ---------------------------------------------------------------- image orientation
@_register("image_transposed", "image orientation")
def _image_transposed(stack):
    """The image files are written with slow and fast swapped (a transposed float image); the
    computation and the trace are right."""
    from simcore.io import outputs

    def make(orig):
        def write_outputs(result, paths, *, cwd=None):
            flipped = copy.copy(result)
            flipped.image = result.image.t().contiguous()
            return orig(flipped, paths, cwd=cwd)
        return write_outputs
    _wrap(stack, outputs, "write_outputs", make)


# ---------------------------------------------------------------- a trace that is not live
def _rederive_lattice(block, ctx) -> None:
    """Re-derive the lattice taps beside the physics, in the units the port's trace code
    assumes: q in Å⁻¹ (λ in Å), the rotated cell in metres, h = a·q, F_latt from that h."""
    Ns = [float(ctx["cargs"].Na), float(ctx["cargs"].Nb), float(ctx["cargs"].Nc)]
    q = [v * 1e-10 for v in block.get("scattering_vec_A_inv")]
    block.set("scattering_vec_A_inv", q)
    abc = []
    for name in ("rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms"):
        vec = [v * 1e-10 for v in block.get(name)]
        block.set(name, vec)
        abc.append(vec)
    hkl = [sum(a * b for a, b in zip(vec, q)) for vec in abc]
    block.set("hkl_frac", hkl)
    block.set("hkl_rounded", [float(math.ceil(h - 0.5)) for h in hkl])
    lat = [_sincg64(h, n) for h, n in zip(hkl, Ns)]
    for name, value in zip(("F_latt_a", "F_latt_b", "F_latt_c"), lat):
        block.set(name, [value], only_if_present=True)
    block.set("F_latt", [lat[0] * lat[1] * lat[2]])


def _sincg64(h: float, n: float) -> float:
    if n <= 1:
        return 1.0
    x = math.pi * h
    return n if math.sin(x) == 0.0 else math.sin(n * x) / math.sin(x)


@_register("trace_lattice_rederived", "trace not the live computation", trace_transform=_rederive_lattice)
def _trace_lattice_rederived(stack):
    """Physics untouched (the image is right); the trace's lattice block (scattering_vec, rot_*,
    hkl, F_latt) is re-derived after the run in other units (Å⁻¹, metres), so it is not the
    numbers the image came from."""
