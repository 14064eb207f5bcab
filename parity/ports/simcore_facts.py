"""The work a nanoBragg argument list asks for by the C's own set-up rules, as simcore's set-up derives
it (sources, mosaic domains, phi steps, thickness layers, the oversample it picks), for the wings of
parity that may not import simcore. (The flag table itself is :mod:`parity.ports.flagspec`.)

Used by the random campaign's tests (:mod:`parity.campaign`) to check the strategy's work bound.
"""
from __future__ import annotations

import os
from typing import Sequence

__all__ = ["setup_work", "check_image_memory"]

# bytes per pixel a comparison holds at once: the C's float and integer images (4 + 2 + 2), both float
# images read back (2 × 4) and compared in float64 (2 × 8)
COMPARE_BYTES_PER_PIXEL = 32


def setup_work(args: Sequence[str], *, cwd: str | os.PathLike) -> dict:
    """The loop counts simcore's set-up (the C's rules) derives for ``args`` (input files read in ``cwd``):
    ``{"pixels", "sources", "mosaic_domains", "phisteps", "thicksteps", "oversample", "work"}`` with
    work = pixels × sources × mosaic × phi × thickness × oversample²."""
    from simcore.argv.parse import parse_argv
    from simcore.setup.sequence import build_setup

    setup = build_setup(parse_argv([str(a) for a in args], cwd=str(cwd)), cwd=str(cwd))
    counts = {"pixels": int(setup.det.fpixels * setup.det.spixels), "sources": int(setup.src.direction.shape[0]),
              "mosaic_domains": int(setup.sm.mosaic_domains), "phisteps": int(setup.sm.phisteps),
              "thicksteps": int(setup.sm.thicksteps), "oversample": int(setup.oversample)}
    work = 1
    for key in ("pixels", "sources", "mosaic_domains", "phisteps", "thicksteps"):
        work *= counts[key]
    return {**counts, "work": work * counts["oversample"] ** 2}


def check_image_memory(shape: tuple[int, int] | None, *, what: str = "this comparison") -> None:
    """ParityUsageError when the images of ``shape`` (slow, fast) alone cannot fit the memory available
    now (simcore's estimate, :func:`simcore.kernel.resources.available_bytes`): refused before anything
    runs, instead of a 160 GB allocation (``-detpixels 200000``)."""
    from parity.errors import ParityUsageError
    from simcore.kernel.resources import available_bytes

    if shape is None:
        return
    need = int(shape[0]) * int(shape[1]) * COMPARE_BYTES_PER_PIXEL
    free = available_bytes("cpu")
    if free is not None and need > free:
        raise ParityUsageError(f"{what} needs about {need / 1e9:.3g} GB for a {shape[0]}x{shape[1]} image (both "
                               f"programs' images, read back and compared), more than the {free / 1e9:.1f} GB "
                               "available now; make the detector smaller (-detpixels)")
