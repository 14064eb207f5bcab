"""What a run needs before it allocates: the device exists, and the memory fits the budget.

Chunking (render.py) bounds the pixel loop's temporaries by ``-max_memory_gb``, but some memory no
chunking can avoid: the image itself (compute dtype, plus its float32 copy), the output files being
encoded (the noise image is the largest: float64 deviates plus uint16 pixels), the mask, the tables
of the set-up (one rotation per phi step and mosaic domain, one direction per source) and one pixel's
whole loop nest (layers × sub-pixels² × sources × phi steps × domains evaluations). When that sum
does not fit, the run is refused (SimcoreResourceError, exit 2) with the estimate, instead of
attempting a 160 GB allocation (``-detpixels 200000``) or a day-long single pixel.

The budget is ``-max_memory_gb`` when given (``simulate(max_memory_gb=...)`` too), else the memory
available now (``MemAvailable``; the free memory of the GPU for ``-device cuda``).
"""
from __future__ import annotations

import os

from simcore.errors import SimcoreResourceError, SimcoreUsageError

BYTES_PER_EVALUATION = 40          # live temporaries per inner evaluation (render.BYTES_PER_ELEMENT_LIVE)
BYTES_PER_ROTATION = 9 * 8 * 4     # a 3x3 float64 matrix, a few copies (steady, first pass, mosaic)
BYTES_PER_SOURCE = 16 * 8          # direction, wavelength, weight and derived vectors


def check_device(name: str) -> None:
    """SimcoreUsageError unless torch can use ``name`` (cpu, cuda, cuda:N)."""
    if name == "cpu":
        return
    import torch

    if not name.startswith("cuda"):
        raise SimcoreUsageError(f"flag -device: expected cpu or cuda[:N], got '{name}'")
    if not torch.cuda.is_available():
        raise SimcoreUsageError(f"flag -device {name}: CUDA is not available here (this torch sees no GPU); "
                                "use -device cpu")
    index = name.partition(":")[2]
    if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
        raise SimcoreUsageError(f"flag -device {name}: no such GPU (this machine has "
                                f"{torch.cuda.device_count()})")


def available_bytes(device: str = "cpu") -> float | None:
    """Memory free for this run now: the GPU's free memory, else the kernel's MemAvailable."""
    if device.startswith("cuda"):
        import torch

        try:
            return float(torch.cuda.mem_get_info(torch.device(device))[0])
        except (RuntimeError, AssertionError):
            return None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def estimate_bytes(*, pixels: int, itemsize: int, outputs: bool, noise: bool, mask: bool, rotations: int,
                   sources: int, per_pixel_evaluations: int) -> dict:
    """The parts of the unavoidable memory, in bytes (see the module notes)."""
    image = pixels * (itemsize + 4)                        # the image in compute dtype + its float32 copy
    encode = pixels * ((8 + 8 + 2 + 2) if noise else (8 + 2 + 2)) if outputs else 0
    parts = {
        "image": image,
        "outputs": encode,
        "mask": pixels * (2 + 8 + 1) if mask else 0,       # uint16 pixels, an int64 test, the bool keep
        "tables": rotations * BYTES_PER_ROTATION + sources * BYTES_PER_SOURCE,
        "one pixel": per_pixel_evaluations * BYTES_PER_EVALUATION * max(1, itemsize // 4),
    }
    parts["total"] = sum(parts.values())
    return parts


def check_memory(parts: dict, *, budget_gb: float | None, device: str = "cpu", what: str = "") -> None:
    """SimcoreResourceError (exit 2) when ``parts['total']`` exceeds the budget (module notes)."""
    if budget_gb is not None:
        budget, source = budget_gb * 1e9, f"-max_memory_gb {budget_gb:g}"
    else:
        free = available_bytes(device)
        if free is None:
            return
        budget, source = free, f"the {free / 1e9:.1f} GB available now; -max_memory_gb sets a budget"
    total = parts["total"]
    if total <= budget:
        return
    shown = ", ".join(f"{k} {v / 1e9:.3g} GB" for k, v in parts.items() if k != "total" and v > 0.001 * total)
    raise SimcoreResourceError(f"this run needs about {total / 1e9:.3g} GB ({shown}){what}, more than the "
                               f"memory budget ({source}); make the detector, the oversampling or the "
                               "loop counts smaller, or raise -max_memory_gb")


def check_before_setup(cargs, *, dtype: str, budget_gb: float | None, outputs: bool) -> None:
    """The estimate from the arguments alone (before the set-up allocates its tables): oversample 1
    unless given, sources from the divergence and dispersion steps."""
    from simcore.argv.validate import detector_pixels
    from simcore.setup.sampling import resolve_sampling

    n_f, n_s = detector_pixels(cargs)
    sm = resolve_sampling(cargs)
    sources = sm.hdivsteps * sm.vdivsteps * sm.dispsteps
    oversample = max(1, cargs.oversample)
    loops = sm.thicksteps * oversample * oversample * sources * sm.phisteps * sm.mosaic_domains
    parts = estimate_bytes(pixels=n_f * n_s, itemsize=8 if dtype == "float64" else 4, outputs=outputs,
                           noise=outputs and cargs.calculate_noise, mask=cargs.mask_data is not None,
                           rotations=sm.phisteps * sm.mosaic_domains, sources=sources,
                           per_pixel_evaluations=loops)
    check_memory(parts, budget_gb=budget_gb, device=cargs.device,
                 what=f" for a {n_s}x{n_f} detector and {loops:.3g} evaluations per pixel")


def check_after_setup(setup, *, dtype: str, budget_gb: float | None, outputs: bool, device: str) -> None:
    """The estimate with the set-up's own counts (the automatic oversample, the source file)."""
    det, sm, cargs = setup.det, setup.sm, setup.cargs
    sources = int(setup.src.direction.shape[0])
    loops = sm.thicksteps * setup.oversample * setup.oversample * sources * sm.phisteps * sm.mosaic_domains
    parts = estimate_bytes(pixels=det.fpixels * det.spixels, itemsize=8 if dtype == "float64" else 4,
                           outputs=outputs, noise=outputs and cargs.calculate_noise, mask=setup.mask is not None,
                           rotations=sm.phisteps * sm.mosaic_domains, sources=sources,
                           per_pixel_evaluations=loops)
    check_memory(parts, budget_gb=budget_gb, device=device,
                 what=f" (oversample {setup.oversample}, {loops:.3g} evaluations per pixel)")
