"""How much work a nanoBragg argument list asks for: the loop counts per pixel, by the C's own rules.

Read with simcore's argument parser and sampling rules (the C's: ``-phisteps``/``-osc``/``-phistep``,
``-mosaic_dom`` and the "up to 10 domains" rule, divergence and dispersion steps, detector
thickness steps); sources from a ``-sourcefile`` are its non-empty lines. The oversample is returned
only when ``-oversample`` gives it (the automatic choice needs the crystal; the caller estimates it).
Nothing here imports torch. Used for nb-compare's default timeout; never for physics.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

__all__ = ["LoopCounts", "loop_counts"]


@dataclass(frozen=True)
class LoopCounts:
    """Per-pixel loop counts; ``oversample`` None = automatic (not fixed by the arguments)."""

    sources: int = 1
    mosaic_domains: int = 1
    phisteps: int = 1
    thicksteps: int = 1
    oversample: int | None = None
    parsed: bool = True            # False: the arguments did not parse; the counts are defaults

    @property
    def per_subpixel(self) -> int:
        return self.sources * self.mosaic_domains * self.phisteps * self.thicksteps


def _source_rows(path: str | None, base: Path) -> int | None:
    if not path:
        return None
    p = Path(path) if os.path.isabs(path) else base / path
    try:
        return max(1, sum(1 for line in p.read_text(errors="replace").splitlines() if line.strip()))
    except OSError:
        return None


def loop_counts(args: Sequence[str], *, base: str | os.PathLike | None = None) -> LoopCounts:
    """The loop counts ``args`` imply (defaults, ``parsed=False``, when they do not parse)."""
    from simcore.argv.parse import parse_argv
    from simcore.errors import SimcoreError
    from simcore.setup.sampling import resolve_sampling

    try:
        cargs = parse_argv([str(a) for a in args])
        sm = resolve_sampling(cargs)
    except (SimcoreError, ValueError, TypeError, IndexError):
        return LoopCounts(parsed=False)
    rows = _source_rows(cargs.sourcefile, Path(base) if base is not None else Path.cwd())
    sources = rows if rows is not None else sm.hdivsteps * sm.vdivsteps * sm.dispsteps
    return LoopCounts(sources=max(1, int(sources)), mosaic_domains=max(1, int(sm.mosaic_domains)),
                      phisteps=max(1, int(sm.phisteps)), thicksteps=max(1, int(sm.thicksteps)),
                      oversample=int(cargs.oversample) if cargs.oversample > 0 else None)
