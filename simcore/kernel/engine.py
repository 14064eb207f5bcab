"""The pixel kernel for one chunk of pixels, and the run-level state it carries between chunks.

Chunks are contiguous runs of the rendered pixels in the C's serial (raster) order, so the two
order-dependent C behaviours can be reproduced exactly:
- phi carry-over: the run's first phi-loop pass uses ``rot_first`` (goniometer.py);
- interpolation switch-off: the first out-of-range evaluation turns tricubic interpolation off for
  itself and everything after it (reference S4, trap T-INTERP).
Hot paths avoid ``torch.where`` (≈25× the cost of a multiply on CPU): masks multiply.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from simcore.kernel import geometry as G
from simcore.kernel import terms as K
from simcore.kernel.precision import pixel_terms
from simcore.kernel.structure import f_interpolated, interp_out_of_range
from simcore.taps import tap, tap_chunk, tracing

CACHE_ELEMENTS = 1 << 18   # inner evaluations per slice: operands stay in L2 (2-4x faster than
                           # memory-sized slices on a 2-core EPYC with 2 MiB L2, measured)


@dataclass
class RunState:
    """Serial-order state of the C loop that survives from one chunk to the next."""

    interp_on: bool
    first_pass_done: bool
    omega_sum: float = 0.0           # the C's running Σ Ω over every rendered sub-pixel (stdout)


def tree_sum(x: torch.Tensor) -> torch.Tensor:
    """Pairwise sum over dim 0 with elementwise adds only: the result for a pixel never depends
    on how many pixels share the chunk (trace closure is exact)."""
    while x.shape[0] > 1:
        n = x.shape[0]
        if n % 2:
            x = torch.cat([x[0:n - 1:2] + x[1::2], x[n - 1:]])
        else:
            x = x[0::2] + x[1::2]
    return x[0]


def serial_sum(x: torch.Tensor, start: float) -> torch.Tensor:
    """((start + x[0]) + x[1]) + … over dim 0, the C's accumulation order (torch.cumsum scans
    dim 0 serially on CPU; a pairwise sum differs in the last bit of a double now and then)."""
    if start != 0.0:  # 0.0 + x[0] == x[0]
        x = torch.cat([x[:1] + start, x[1:]])
    return torch.cumsum(x, dim=0)[-1]


def compute_chunk(inp, spix: torch.Tensor, fpix: torch.Tensor, state: RunState,
                  first_pass_k: int | None = None) -> torch.Tensor:
    """Float image values (compute dtype, before the float32 store) for pixels (spix, fpix).

    ``first_pass_k``: when this 1-pixel chunk holds the run's first phi-loop pass, the serial
    index over (layer, sub_s, sub_f, source) of that evaluation.
    """
    tap_chunk(spix, fpix, inp.loop_sizes)
    from simcore.kernel import fused

    if fused.pixels_usable(inp, first_pass=first_pass_k is not None, interp_on=state.interp_on):
        return fused.render_chunk(inp, spix, fpix, state)   # geometry and inner sum in one numba pass
    geo, sc, pol_full = pixel_terms(inp, spix, fpix)
    reached = sc["reached"]
    if inp.os_polar:
        polar_c = pol_full
    elif inp.nopolar:
        polar_c = 1.0
    else:
        polar_c = G.cached_polar(inp, pol_full, reached) if inp.dmin_m > 0.0 else pol_full[:1, :1, :1, :1]

    n_pix = spix.numel()
    use_fused = fused.usable(inp, first_pass=first_pass_k is not None, interp_on=state.interp_on)
    step = n_pix if use_fused else inner_pixels(inp)   # the fused kernel blocks pixels itself
    parts = []
    for a in range(0, n_pix, step):
        sl = slice(a, min(a + step, n_pix))
        if step < n_pix and tracing():
            tap_chunk(spix[sl], fpix[sl], inp.loop_sizes)
        if use_fused:
            parts.append(fused.inner_sum(inp, sc["q"]))
        else:
            parts.append(_accumulate(inp, geo, sc, pol_full, reached, sl, state, first_pass_k))
    if len(parts) > 1 and tracing():
        tap_chunk(spix, fpix, inp.loop_sizes)
    I = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
    state.omega_sum += _omega_sum(inp, geo)
    S = (inp.r_e_sqr_fluence * I) / inp.steps
    if not inp.os_thick and inp.thick_m != 0.0:
        S = S * geo["cap_c"]
    if not inp.os_polar and not inp.nopolar:
        S = S * polar_c
    if not inp.os_omega:
        S = S * geo["omega_c"]
    if tracing():
        _tap_final(inp, geo, sc, I, S, pol_full, polar_c)
    return S.reshape(-1).to(inp.dtype)   # a float64 running sum (-oversample_*) is stored as the C stores it


def inner_pixels(inp) -> int:
    """Pixels per inner slice: the phi × mosaic evaluation works on about CACHE_ELEMENTS values at a
    time (operands stay in L2), while geometry is computed once for the whole chunk."""
    return max(1, CACHE_ELEMENTS // max(1, inp.inner_count))


def _p(t, sl):
    """Slice the pixel (last) dim when the tensor has one."""
    return t if not isinstance(t, torch.Tensor) or t.shape[-1] == 1 else t[..., sl]


def _accumulate(inp, geo, sc, pol_full, reached, sl, state, first_pass_k):
    """I for one slice of pixels: Miller indices, F_latt, F_cell, summed over every loop index."""
    reached = _p(reached, sl)
    q = [_p(x, sl) for x in sc["q"]]
    from simcore.kernel import compiled

    if compiled.usable(inp, first_pass=first_pass_k is not None, interp_on=state.interp_on):
        return compiled.inner_sum(inp, q, inp.abc_steady)
    ev = _evaluations(inp, q, reached, first_pass_k, skip_mask=K.needs_skip_mask(inp, state.interp_on))
    F = _choose_fcell(inp, ev, reached, state)
    term = _terms(inp, ev, F)
    keep = None
    if ev["fcell_reached"] is not None:
        keep = ev["fcell_reached"] & reached if inp.dmin_m > 0.0 else ev["fcell_reached"]
    elif inp.dmin_m > 0.0:
        keep = reached
    if inp.os_thick or inp.os_polar or inp.os_omega:
        geo_sl = {"cap": _p(geo["cap"], sl), "omega": _p(geo["omega"], sl)}
        return _running_sum_with_factors(inp, term, keep, geo_sl, _p(pol_full, sl))
    if inp.dmin_m > 0.0:
        term = torch.where(reached, term, 0.0)  # a dmin-cut source adds nothing (a NaN term of a λ = 0 source too)
    flat = term.reshape(-1, term.shape[-1])
    if flat.dtype == torch.float64:  # the C's serial I += term from I = I_bg, bit for bit
        I = serial_sum(flat, inp.I_bg)
    else:
        I = tree_sum(flat)
        if inp.hi is not None:  # float32 terms, float64 pixel: a large background keeps its last bits
            I = I.to(torch.float64)
        I = inp.I_bg + I
    return I.reshape((1,) * 6 + (-1,))


def _terms(inp, ev, F):
    """F_cell²·F_latt²: in float64 in the C's order ((F·F)·F_latt)·F_latt; in float32 with a
    constant F as (F_latt·F_latt)·F², in place when nothing else reads F_latt afterwards."""
    Fl = ev["F_latt"]
    if F is None and Fl.dtype == torch.float32:  # (F_latt·F_latt)·F², traced or not (closure is exact)
        if ev["fcell_reached"] is None and not tracing() and not Fl.requires_grad:
            return Fl.mul_(Fl).mul_(inp.ftable.default_F * inp.ftable.default_F)
        return (Fl * Fl) * (inp.ftable.default_F * inp.ftable.default_F)
    if F is None:  # no structure-factor table: F_cell is the constant default_F
        return (inp.ftable.default_F * inp.ftable.default_F * Fl) * Fl
    return (F * F * Fl) * Fl


def _omega_sum(inp, geo) -> float:
    if inp.os_omega:
        return float(geo["omega"].detach().expand(geo["R"].shape).sum())
    n_sub = inp.thicksteps * inp.oversample * inp.oversample
    return float(geo["omega_c"].detach().sum()) * n_sub


def _evaluations(inp, q, reached, first_pass_k, *, skip_mask: bool):
    rot = inp.hi if inp.hi is not None else inp  # float64 h for a float32 run that needs it (precision.py)
    ev = _inner(inp, rot.abc_steady, q, skip_mask)
    if first_pass_k is not None and inp.rot_differs:
        first = _inner(inp, rot.abc_first, q, skip_mask)
        serial = torch.arange(reached[..., :1].numel(), device=inp.device)
        use_first = (serial == first_pass_k).reshape(reached.shape[:4] + (1, 1, 1))
        ev = K.blend(first, ev, use_first)
    if tracing():
        tap("hkl_frac", tuple(ev["hkl"]), K.ALL_DIMS)
        tap("hkl_rounded", tuple(ev["hkl0"]), K.ALL_DIMS)
        for name in ("F_latt_a", "F_latt_b", "F_latt_c"):
            value = ev[name]
            tap(name, value if value is not None else torch.ones((1,) * 7, dtype=inp.dtype, device=inp.device),
                K.ALL_DIMS if value is not None else ())
        tap("F_latt", ev["F_latt"], K.ALL_DIMS)
    return ev


def _inner(inp, abc, q, skip_mask):
    mi = K.miller(abc, q, rounded=K.needs_rounded(inp), compute_dtype=inp.dtype)
    ev = K.lattice_and_structure(inp, mi, skip_mask=skip_mask)
    ev.update({"hkl": mi["hkl"], "hkl0": mi["hkl0"]})
    if tracing():
        for v, name in enumerate(("rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms")):
            tap(name, tuple(x * 1e10 for x in mi["abc"][v]), ("phi", "mosaic"))
    return ev


def _choose_fcell(inp, ev, reached, state: RunState):
    """F_cell: interpolated up to (excluding) the first out-of-range evaluation in serial order,
    nearest-neighbour from it on, when interpolation is active (C globals ``interpolate``).
    Returns None for a constant default_F."""
    F = ev["F_nn"]
    if state.interp_on:
        h, k, l = ev["hkl"]
        oor = interp_out_of_range(inp.ftable, h, k, l) & reached & ev["fcell_reached"]
        F_int = f_interpolated(inp.ftable, h, k, l)
        oor_ps = oor.reshape(-1, oor.shape[-1]).t().reshape(-1)  # serial order: pixel, then inner
        if bool(oor_ps.any()):
            first = int(torch.argmax(oor_ps.to(torch.uint8)))
            serial = torch.arange(oor_ps.numel(), device=inp.device)
            n_inner = oor.reshape(-1, oor.shape[-1]).shape[0]
            after = (serial >= first).reshape(-1, n_inner).t().reshape(oor.shape)
            F = torch.where(after, F, F_int)
            state.interp_on = False
        else:
            F = F_int
    if tracing():
        shown = F if F is not None else torch.full_like(ev["F_latt"], inp.ftable.default_F)
        tap("F_cell", shown, K.ALL_DIMS)
        tap("reached_fcell", ev["fcell_reached"], K.ALL_DIMS)
    return F


def _running_sum_with_factors(inp, term, keep, geo, pol_full):
    """The C's ``I += term; I *= cap; I *= polar; I *= Ω`` for -oversample_* flags, in order.
    The running product is kept in float64 (the C's double ``I``): in float32 it overflows when
    Ω > 1 (-point_pixel) multiplies it once per term."""
    shape = term.shape
    n_pix = shape[-1]
    term = term.to(torch.float64)
    factors = []
    if inp.os_thick:
        factors.append(geo["cap"].expand(shape))
    if inp.os_polar:
        factors.append(pol_full.expand(shape))
    if inp.os_omega:
        factors.append(geo["omega"].expand(shape))
    flat_t = term.reshape(-1, n_pix)
    flat_k = keep.expand(shape).reshape(-1, n_pix)
    flat_f = [f.to(torch.float64).reshape(-1, n_pix) for f in factors]
    I = torch.full((n_pix,), inp.I_bg, dtype=torch.float64, device=inp.device)
    for j in range(flat_t.shape[0]):
        nxt = I + flat_t[j]
        for f in flat_f:
            nxt = nxt * f[j]
        I = torch.where(flat_k[j], nxt, I)
    return I.reshape((1,) * 6 + (-1,))


def _tap_final(inp, geo, sc, I, S, pol_full, polar_c):
    tap("I_before_scaling", I, ())
    cap = geo["cap"][-1:, -1:, -1:] if inp.os_thick else geo["cap_c"]
    tap("capture_fraction", cap, ())
    if inp.os_polar:
        flat = pol_full.expand(sc["reached"].shape).reshape(-1, sc["reached"].shape[-1])
        last = sc["reached"].reshape(-1, sc["reached"].shape[-1]).flip(0).to(torch.uint8).argmax(0)
        idx = flat.shape[0] - 1 - last
        polar_c = flat.gather(0, idx.unsqueeze(0)).reshape((1,) * 6 + (-1,))
    if not isinstance(polar_c, torch.Tensor):
        polar_c = torch.full((1,) * 7, float(polar_c), dtype=inp.dtype, device=inp.device)
    tap("polar", polar_c, ())
    tap("omega_pixel", geo["omega"][-1:, -1:, -1:] if inp.os_omega else geo["omega_c"], ())
    d, inc = geo["d"], sc["inc"]
    cos2t = [inc[k][:, :, :, -1:] * d[k][-1:, -1:, -1:] for k in range(3)]
    tap("cos_2theta", cos2t[0] + cos2t[1] + cos2t[2], ())
    if pol_full is not None:
        tap("polar_eval", pol_full if inp.os_polar else polar_c, G.SRC_DIMS)
    cos_all = inc[0] * d[0] + inc[1] * d[1] + inc[2] * d[2]
    tap("cos2theta_eval", cos_all, G.SRC_DIMS)
    tap("I_pixel_final", S, ())
    tap("floatimage_accumulated", S.to(torch.float32), ())
