"""The fused float32 inner sum: the phi × mosaic × sub-pixel × source evaluation in one numba pass.

Eager torch makes ~40 passes over memory per inner slice (h, k, l, three lattice factors, their
product); the kernel (fused_kernel.py) keeps every operand in registers and vectorizes across
pixels: 5-10× the eager inner sum on 2 cores (measured, see the README's Performance table).

Used where the result cannot depend on serial C state or per-term masks, the same conditions as
``-compile`` (compiled.py) plus a float64 twin allowed: float32, CPU, square shape with integer
N ≤ 8 per axis, constant default_F (no hkl table), no -oversample_* flags, no dmin cut, no
interpolation, not the first-pass pixel, not tracing, no gradient. float64 never comes here (it
stays the C's expression, bit for bit). Agreement with the eager float32 path: ~1e-6 relative.

``mode``: ``off`` (the default of :func:`simcore.kernel.render.render` and ``simulate``: the eager
path is what traces close against bit for bit and what the mutant tests patch), ``on`` (a long-lived
process pays the numba import and cache load, ~0.5-1 s, once; ``pwb bench`` measures this),
``auto`` (``python -m simcore``: only when the eager path would cost more than that import,
``eager_estimate_s`` ≥ ``AUTO_MIN_EAGER_S``). The environment variable ``SIMCORE_FUSED`` overrides either. Compiled code is cached on disk under the simcore
cache folder (``NUMBA_CACHE_DIR``, simcore/noise/native.py), so the compile (~10 s) is paid once
per machine. Without numba everything runs eager.
"""
from __future__ import annotations

import os

import torch

MODES = ("on", "auto", "off")
AUTO_MIN_EAGER_S = 0.5           # "auto" fuses a run whose eager estimate exceeds numba's import + cache load
EAGER_S_PER_GEOMETRY = 60e-9     # eager on 2 cores, measured: per sub-pixel × source (geometry, q) ...
EAGER_S_PER_EVALUATION = 15e-9   # ... and per inner evaluation (h, k, l, F_latt)
MAX_N = 8

_kernel = None


def resolve_mode(requested: str | None) -> str:
    """The mode in force: ``SIMCORE_FUSED`` if set, else ``requested``, else ``off``."""
    mode = (os.environ.get("SIMCORE_FUSED") or requested or "off").strip().lower()
    if mode not in MODES:
        from simcore.errors import SimcoreUsageError

        raise SimcoreUsageError(f"SIMCORE_FUSED must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def _integer_n(n) -> bool:
    return not isinstance(n, torch.Tensor) and float(n) == round(float(n)) and 1 <= round(float(n)) <= MAX_N


def eligible(inp) -> bool:
    """Whether this run's common chunks can take the fused inner sum (module docstring)."""
    from simcore.taps import tracing

    return (inp.fused != "off" and not (inp.compile and inp.hi is None) and inp.dtype == torch.float32 and inp.device.type == "cpu"
            and inp.shape == "square" and inp.ftable.grid is None and inp.dmin_m == 0.0
            and not (inp.os_thick or inp.os_polar or inp.os_omega) and not tracing()
            and all(_integer_n(n) for n in (inp.Na, inp.Nb, inp.Nc))
            and bool(torch.isfinite(inp.lambda_m).all()) and bool((inp.lambda_m != 0).all()))  # NaN q stays eager


def usable(inp, *, first_pass: bool, interp_on: bool) -> bool:
    """For one slice: eligible, no first pass or interpolation state, no graph, and numba loads."""
    if first_pass or interp_on or torch.is_grad_enabled() or not eligible(inp):
        return False
    if inp.fused == "auto" and not _worth_import(inp):   # by the estimate alone: the same run, the same path
        return False
    return _load() is not None


def eager_estimate_s(inp) -> float:
    """About how long the eager path takes on this run (2 cores): what ``auto`` weighs the import against."""
    per_geometry = inp.thicksteps * inp.oversample * inp.oversample * inp.incident.shape[0]
    return inp.rendered_estimate * (EAGER_S_PER_GEOMETRY * per_geometry + EAGER_S_PER_EVALUATION * inp.inner_count)


def _worth_import(inp) -> bool:
    return eager_estimate_s(inp) >= AUTO_MIN_EAGER_S


def _load():
    """The numba kernel, or None (no numba, or it failed to compile: eager then, silently)."""
    global _kernel
    if _kernel is None:
        try:
            from simcore.noise.native import cache_dir

            os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))
            os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
            import numba

            if not numba.config.CACHE_DIR:       # numba imported earlier by the host program
                numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
            from simcore.kernel import fused_kernel

            _kernel = fused_kernel.inner_sum
        except Exception:                          # noqa: BLE001 (any import/compile failure: stay eager)
            _kernel = False
    return _kernel or None


def _abc_rows(abc) -> torch.Tensor:
    """abc_components() lists → (phi·mosaic, 9) rows (a_x, a_y, a_z, b_x, …, c_z), contiguous."""
    return torch.stack([abc[v][k].reshape(-1) for v in range(3) for k in range(3)], dim=1).contiguous()


def inner_sum(inp, q: list) -> torch.Tensor:
    """I = I_bg + F²·Σ F_latt² for one pixel slice, shaped (1,)*6 + (P,): float64 with a float64
    twin (as the eager path hands it on), else float32."""
    rot = inp.hi if inp.hi is not None else inp
    n_pix = q[0].shape[-1]
    full = tuple(inp.loop_sizes[:4]) + (1, 1, n_pix)
    qs = [torch.broadcast_to(x, full).reshape(-1, n_pix).contiguous().numpy() for x in q]
    abc = _abc_rows(rot.abc_steady).numpy()
    out = torch.empty(n_pix, dtype=torch.float64)
    from simcore.kernel.fused_kernel import coefficients

    u = coefficients([int(round(float(n))) for n in (inp.Na, inp.Nb, inp.Nc)])
    with torch.profiler.record_function("simcore::fused_inner_sum (numba)"):   # named in pwb bench --profile
        _load()(qs[0], qs[1], qs[2], abc, u, out.numpy())
    F2 = inp.ftable.default_F * inp.ftable.default_F
    I = out.mul_(F2).add_(inp.I_bg)
    if inp.hi is None:
        I = I.to(torch.float32)
    return I.reshape((1,) * 6 + (-1,))


def pixels_usable(inp, *, first_pass: bool, interp_on: bool) -> bool:
    """Whether a whole chunk (geometry too) can go through the fused pixel kernel: ``usable`` on a
    flat detector with one layer and no capture fraction."""
    return (not inp.curved and inp.thicksteps == 1 and inp.thick_m == 0.0
            and usable(inp, first_pass=first_pass, interp_on=interp_on) and _load_pixels() is not None)


def _load_pixels():
    global _pixels
    if _pixels is None:
        try:
            from simcore.kernel import fused_pixels

            _pixels = fused_pixels
        except Exception:                          # noqa: BLE001 (stay eager)
            _pixels = False
    return _pixels or None


_pixels = None


def _np(t: torch.Tensor, dtype) -> "object":
    return t.detach().to(dtype).contiguous().numpy()


def render_chunk(inp, spix: torch.Tensor, fpix: torch.Tensor, state) -> torch.Tensor:
    """The float32 image values of pixels (spix, fpix), and the run's Σ Ω advanced (engine.RunState)."""
    import numpy as np

    kern = _load_pixels()
    hi = inp.hi
    src = hi if hi is not None else inp
    n = spix.numel()
    out = np.empty(n, np.float32)
    omega = np.empty(n, np.float64 if hi is not None else np.float32)
    pmode, kahn, Bk, Ek = _polar_args(src)
    from simcore.kernel.fused_kernel import coefficients

    u = coefficients([int(round(float(x))) for x in (inp.Na, inp.Nb, inp.Nc)])
    abc = _abc_rows(src.abc_steady).numpy()
    F2 = inp.ftable.default_F * inp.ftable.default_F
    scale = inp.r_e_sqr_fluence / inp.steps
    sp, fp = (x.to(torch.int32).contiguous().numpy() for x in (spix, fpix))   # int32: vector conversions
    with torch.profiler.record_function("simcore::fused_pixels (numba)"):     # named in pwb bench --profile
        _render(kern, inp, hi, sp, fp, pmode, kahn, Bk, Ek, abc, u, F2, scale, out, omega)
    state.omega_sum += float(torch.from_numpy(omega).sum()) * inp.oversample * inp.oversample
    return torch.from_numpy(out)


def _render(kern, inp, hi, sp, fp, pmode, kahn, Bk, Ek, abc, u, F2, scale, out, omega) -> None:
    import numpy as np

    if hi is not None:
        vec = np.stack([_np(x, torch.float64) for x in (hi.fdet, hi.sdet, hi.pix0)])
        kern.render_hi(sp, fp, np.int32(inp.oversample), inp.pixel_m / inp.oversample, vec, _np(hi.incident, torch.float64),
                       _np(hi.lambda_m, torch.float64), inp.pixel_m, float(hi.close_distance_m), inp.point_pixel,
                       pmode, kahn, Bk, Ek, abc, u, F2, inp.I_bg, scale, out, omega)
    else:
        f32 = np.float32
        perp = inp.anchor_perp if inp.anchor_perp is not None else torch.zeros(3)
        vec = np.stack([_np(x, torch.float32) for x in (inp.fdet, inp.sdet, inp.beam, inp.anchor, perp)])
        kern.render_lo(sp, fp, np.int32(inp.oversample), f32(inp.pixel_m / inp.oversample), np.int32(inp.anchor_f[0]),
                       f32(inp.anchor_f[1]), np.int32(inp.anchor_s[0]), f32(inp.anchor_s[1]), vec, f32(float(inp.anchor_par)),
                       _np(inp.incident, torch.float32), _np(inp.incident_minus_beam, torch.float32),
                       _np(inp.lambda_m, torch.float32), f32(inp.pixel_m * inp.pixel_m), f32(float(inp.close_distance_m)),
                       inp.point_pixel, pmode, kahn, Bk, Ek, abc, u, F2, inp.I_bg, scale, out, omega)


def _polar_args(src):
    """(mode, kahn, B, E) of source 0 for fused_pixels._polar: 0 -nopolar, 1 unpolarized, 2 Kahn."""
    import numpy as np

    zero = np.zeros(3)
    if src.nopolar:
        return 0, 0.0, zero, zero
    if float(src.kahn) == 0.0:
        return 1, 0.0, zero, zero
    from simcore.kernel.geometry import _kahn_frames

    B, E = _kahn_frames(src)
    return 2, float(src.kahn), np.array([float(b.reshape(-1)[0]) for b in B]), np.array([float(e.reshape(-1)[0]) for e in E])
