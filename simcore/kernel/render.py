"""render(): nanoBragg arguments → float image, chunked over the rendered pixels.

The only owner of the pixel loop. Chunks are contiguous runs of the rendered pixels (ROI minus
mask) in the C's raster order, sized from a memory budget; the first phi-loop pass and the
interpolation switch-off are handled exactly where the serial C meets them (engine.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from simcore import malloc_tune
from simcore.argv.parse import CArgs, parse_argv
from simcore.kernel import resources
from simcore.kernel.engine import RunState, compute_chunk
from simcore.kernel.build import make_engine_inputs
from simcore.kernel.forward_ad import dual_params, render_jvp
from simcore.kernel.fused import pixels_usable, resolve_mode
from simcore.kernel.precision import pixel_terms
from simcore.setup.sequence import Setup, build_setup
from simcore.taps import tap

BYTES_PER_ELEMENT_LIVE = 40        # live temporaries per inner evaluation (measured, generous)
GEOMETRY_ELEMENTS = 1 << 18        # sub-pixel × source values per chunk for the geometry part; the
                                   # phi × mosaic evaluation then runs on cache-sized slices (engine.py)


@dataclass
class SimResult:
    image: torch.Tensor              # float32 (spixels, fpixels): the C's stored float image
    image_compute: torch.Tensor      # compute dtype, keeps the autograd graph
    setup: Setup
    inputs: object
    rendered: int
    omega_sum: float = 0.0
    config: dict = field(default_factory=dict)
    output_lines: list = field(default_factory=list)

    def __iter__(self):
        """``image, config = simcore.simulate(args)``."""
        return iter((self.image, self.config))


def render(args, *, params: dict | None = None, dtype: str | None = None, device: str | None = None,
             pixels: list | None = None, cwd: str | None = None, dump_dir: str | None = None,
             max_memory_gb: float | None = None, on_setup=None, on_pixels=None, outputs: bool = False,
             fused: str | None = None) -> SimResult:
    """Run the engine. ``args`` is a nanoBragg argument list or a parsed :class:`CArgs`.

    ``params`` maps parameter names (setup.PARAM_UNITS, CLI units) to tensors for gradients.
    ``pixels``: compute only these (slow, fast) pixels (others stay 0), e.g. for a trace.
    ``on_setup(setup)`` runs once the set-up is built, before any pixel; ``on_pixels(n)`` after each
    computed run of ``n`` rendered pixels, in raster order (python -m simcore prints the C's set-up
    text and progress meter through them).
    Writes no files (``dump_dir`` aside: where an -hkl run writes Fdump.bin, like the C).
    Before allocating, the device and the memory the run cannot avoid are checked (resources.py;
    ``outputs``: the caller will encode output files too).
    ``fused``: the fused float32 numba kernel, ``off`` (default: traces close against it bit for bit)
    | ``on`` | ``auto`` (kernel/fused.py; ``SIMCORE_FUSED`` overrides; ``auto`` stays eager when the
    arguments trace a pixel, so the image is the one the trace closes against).
    Tensors in ``params`` that require grad get an autograd graph; forward-mode dual tensors
    (``torch.autograd.forward_ad``) get dual images (forward_ad.py).
    """
    duals = dual_params(params)
    if duals:
        return render_jvp(render, args, params, duals, dtype=dtype, device=device, pixels=pixels, cwd=cwd,
                          dump_dir=dump_dir, max_memory_gb=max_memory_gb, on_setup=on_setup, on_pixels=on_pixels,
                          outputs=outputs)
    cargs = args if isinstance(args, CArgs) else parse_argv(list(args), cwd=cwd)
    malloc_tune.apply()
    if cargs.threads:
        torch.set_num_threads(cargs.threads)
    dev_name, dt_name = device or cargs.device, dtype or cargs.dtype
    limit_gb = max_memory_gb if max_memory_gb is not None else cargs.memory_budget_gb
    resources.check_device(dev_name)
    resources.check_before_setup(cargs, dtype=dt_name, budget_gb=limit_gb, outputs=outputs)
    setup = build_setup(cargs, params, cwd=cwd, dump_dir=dump_dir)
    resources.check_after_setup(setup, dtype=dt_name, budget_gb=limit_gb, outputs=outputs, device=dev_name)
    if on_setup is not None:
        on_setup(setup)
    dev = torch.device(dev_name)
    dt = {"float32": torch.float32, "float64": torch.float64}[dt_name]
    inp = make_engine_inputs(setup, dtype=dt, device=dev)
    mode = resolve_mode(fused)
    if mode == "auto" and cargs.trace_pixel is not None:   # a traced run renders on the path its trace takes
        mode = "off"
    inp.fused = mode
    xmin, xmax, ymin, ymax = setup.roi
    inp.rendered_estimate = max(0, min(xmax, setup.det.fpixels - 1) - max(xmin, 0) + 1) * max(
        0, min(ymax, setup.det.spixels - 1) - max(ymin, 0) + 1)
    budget = (max_memory_gb or cargs.max_memory_gb) * 1e9
    wants_grad = any(isinstance(v, torch.Tensor) and v.requires_grad for v in (params or {}).values())
    ctx = torch.enable_grad() if wants_grad else torch.inference_mode()
    with ctx:
        inp.fused_chunks = pixels_usable(inp, first_pass=False, interp_on=inp.interpolate)
        n_f, n_s = setup.det.fpixels, setup.det.spixels
        full = torch.zeros(n_s * n_f, dtype=dt, device=dev)
        pieces: list = []
        sink = pieces.append if wants_grad else (lambda item: _store(full, *item))
        if on_pixels is not None:
            store = sink
            sink = lambda item: (store(item), on_pixels(int(item[1].numel())))  # noqa: E731
        rendered, omega_sum = _run(inp, setup, budget, pixels, sink, slices=not wants_grad)
        if pieces:  # autograd: one out-of-place scatter keeps the graph
            full = full.index_put((torch.cat([p[0] for p in pieces]),), torch.cat([p[1] for p in pieces]))
        image_compute = full.reshape(n_s, n_f)
        image = image_compute.to(torch.float32)
    return SimResult(image=image, image_compute=image_compute, setup=setup, inputs=inp, rendered=rendered,
                     omega_sum=omega_sum)


def _store(full: torch.Tensor, idx, values: torch.Tensor) -> None:
    """full[idx] = values; ``idx`` a slice (a run of whole rows: a plain copy) or flat indices."""
    if isinstance(idx, slice):
        full[idx] = values
    else:
        full.index_put_((idx,), values)


def _flat_index(sp: torch.Tensor, fp: torch.Tensor, n_f: int, slices: bool):
    """Flat raster indices of a chunk, or a slice when they are consecutive and ``slices``."""
    n = sp.numel()
    if slices and n > 1:
        a = int(sp[0]) * n_f + int(fp[0])
        if int(sp[-1]) * n_f + int(fp[-1]) - a + 1 == n:   # raster order: increasing, so consecutive
            return slice(a, a + n)
    return sp * n_f + fp


FUSED_CHUNK_PIXELS = 1 << 21       # the fused kernel keeps no per-evaluation tensors: big chunks


def _chunk_pixels(setup: Setup, inp, budget: float):
    """Yield (spix, fpix) int64 tensors for consecutive runs of rendered pixels (raster order)."""
    xmin, xmax, ymin, ymax = setup.roi
    n_f, n_s = setup.det.fpixels, setup.det.spixels
    x0, x1 = max(xmin, 0), min(xmax, n_f - 1)
    y0, y1 = max(ymin, 0), min(ymax, n_s - 1)
    if x1 < x0 or y1 < y0:
        return
    # memory per pixel of a chunk: the geometry tensors (the phi × mosaic work is sliced to a fixed
    # cache-sized block, engine.CACHE_ELEMENTS, whatever the chunk)
    per_geometry = inp.thicksteps * inp.oversample * inp.oversample * inp.incident.shape[0]
    geometry_dtype = inp.hi.dtype if inp.hi is not None else inp.dtype   # float64 geometry (precision.py)
    per_pixel = per_geometry * BYTES_PER_ELEMENT_LIVE * (geometry_dtype.itemsize // 4)
    max_pixels = int(max(1, min(budget // max(per_pixel, 1), GEOMETRY_ELEMENTS // per_geometry, 1 << 21)))
    if inp.fused_chunks:
        max_pixels = int(max(1, min(budget // 64, FUSED_CHUNK_PIXELS)))   # ~40 B per pixel in flight
    width = x1 - x0 + 1
    rows_per_chunk = max(1, max_pixels // width)
    cols = torch.arange(x0, x1 + 1, dtype=torch.int64)
    mask = None if setup.mask is None else torch.as_tensor(setup.mask.astype(np.int64) != 0)
    for r0 in range(y0, y1 + 1, rows_per_chunk):
        r1 = min(r0 + rows_per_chunk, y1 + 1)
        if width > max_pixels:  # very wide rows with a tiny budget: split the row
            for c0 in range(0, width, max_pixels):
                yield from _masked(torch.full((min(max_pixels, width - c0),), r0), cols[c0:c0 + max_pixels], mask)
            continue
        rows = torch.arange(r0, r1, dtype=torch.int64)
        spix = rows.repeat_interleave(width)
        fpix = cols.repeat(r1 - r0)
        yield from _masked(spix, fpix, mask)


def _masked(spix, fpix, mask):
    if mask is not None:
        keep = mask[spix, fpix]
        spix, fpix = spix[keep], fpix[keep]
    if spix.numel():
        yield spix, fpix


def _find_first_pass(inp, setup, budget):
    """(slow, fast, k) of the run's first phi-loop pass: the first rendered pixel with a source not
    cut by dmin, and the serial index over (layer, sub_s, sub_f, source) of that evaluation."""
    for spix, fpix in _chunk_pixels(setup, inp, budget):
        if not inp.dmin_m > 0.0:   # no dmin cut: every source is reached (geometry.scattering)
            return int(spix[0]), int(fpix[0]), 0
        sp, fp = spix.to(inp.device), fpix.to(inp.device)
        reached = pixel_terms(inp, sp, fp)[1]["reached"]
        flat = reached.expand(reached.shape[:4] + (1, 1, reached.shape[-1])).reshape(-1, reached.shape[-1])
        any_px = flat.any(dim=0)
        if bool(any_px.any()):
            p = int(torch.argmax(any_px.to(torch.uint8)))
            k = int(torch.argmax(flat[:, p].to(torch.uint8)))
            return int(spix[p]), int(fpix[p]), k
    return None


def _run(inp, setup, budget, pixels, sink, *, slices: bool = False):
    """Compute every chunk and hand (flat indices, values) to ``sink``; returns (rendered, Σ Ω)."""
    state = RunState(interp_on=inp.interpolate, first_pass_done=False)
    first = _find_first_pass(inp, setup, budget) if inp.rot_differs else None
    n_f = setup.det.fpixels
    rendered = 0
    tap("pix0_vector_meters", inp.pix0)
    tap("fdet_vec", inp.fdet)
    tap("sdet_vec", inp.sdet)
    tap("close_distance_meters", inp.close_distance_m)
    if pixels is not None:
        chunks = _subset_chunks(setup, inp, budget, pixels, state)
    else:
        chunks = _chunk_pixels(setup, inp, budget)
    for spix, fpix in chunks:
        for sp, fp, k in _split_first(spix, fpix, first):
            sp_d, fp_d = sp.to(inp.device), fp.to(inp.device)
            sink((_flat_index(sp_d, fp_d, n_f, slices), compute_chunk(inp, sp_d, fp_d, state, first_pass_k=k)))
            rendered += sp.numel()
    return rendered, state.omega_sum


def _split_first(spix, fpix, first):
    """Split a chunk so the first-pass pixel is computed alone with its k (serial order kept)."""
    if first is None:
        yield spix, fpix, None
        return
    hit = torch.nonzero((spix == first[0]) & (fpix == first[1])).flatten()
    if hit.numel() == 0:
        yield spix, fpix, None
        return
    j = int(hit[0])
    if j > 0:
        yield spix[:j], fpix[:j], None
    yield spix[j:j + 1], fpix[j:j + 1], first[2]
    if j + 1 < spix.numel():
        yield spix[j + 1:], fpix[j + 1:], None


def _subset_chunks(setup, inp, budget, pixels, state):
    """Chunks for an explicit pixel subset. When interpolation is on, the C state at each pixel
    depends on every earlier pixel, so earlier rendered pixels are scanned first (no taps there)."""
    wanted = sorted({(int(s), int(f)) for s, f in pixels})
    rendered = _rendered_set(setup, wanted)
    order = [p for p in wanted if p in rendered]
    if not order:
        return
    if state.interp_on:
        _advance_interp_state(inp, setup, budget, order[0], state)
    spix = torch.tensor([p[0] for p in order], dtype=torch.int64)
    fpix = torch.tensor([p[1] for p in order], dtype=torch.int64)
    yield spix, fpix


def _rendered_set(setup, wanted):
    xmin, xmax, ymin, ymax = setup.roi
    out = set()
    for s, f in wanted:
        if not (0 <= s < setup.det.spixels and 0 <= f < setup.det.fpixels):
            continue
        if f < xmin or f > xmax or s < ymin or s > ymax:
            continue
        if setup.mask is not None and setup.mask[s, f] == 0:
            continue
        out.add((s, f))
    return out


def _advance_interp_state(inp, setup, budget, until, state):
    n_f = setup.det.fpixels
    stop = until[0] * n_f + until[1]
    for spix, fpix in _chunk_pixels(setup, inp, budget):
        keep = spix * n_f + fpix < stop
        if not bool(keep.any()):
            return
        compute_chunk(inp, spix[keep].to(inp.device), fpix[keep].to(inp.device), state)
        if not state.interp_on:
            return
