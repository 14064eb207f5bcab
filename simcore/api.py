"""The in-process entry point: ``image, config = simcore.simulate(args)``."""
from __future__ import annotations

from simcore.argv.parse import CArgs, parse_argv
from simcore.io.outputs import check_writable, requested_outputs, write_outputs
from simcore.kernel.render import SimResult, render
from simcore.setup.report import effective_config


def simulate(args, *, dtype: str | None = None, device: str | None = None, params: dict | None = None,
             pixels: list | None = None, cwd: str | None = None, max_memory_gb: float | None = None,
             fused: str | None = None) -> SimResult:
    """Simulate like the C program for a nanoBragg argument list (or a parsed :class:`CArgs`).

    Returns a :class:`SimResult` (unpacks as ``image, config``): ``image`` is the float32
    (slow, fast) tensor the C would store, ``config`` the effective configuration. Only files the
    arguments name explicitly (``-floatfile``, ``-intfile``, ``-pgmfile``, ``-noisefile``) are
    written, relative to ``cwd``. ``params`` maps names like ``distance_mm`` or ``cell_a_A`` to
    tensors for gradients (see simcore.setup.sequence.PARAM_UNITS). ``fused``: the fused float32
    kernel, off (default) | on | auto (simcore/kernel/fused.py; a gradient run is always eager).
    """
    cargs = args if isinstance(args, CArgs) else parse_argv(list(args), cwd=cwd)
    paths = requested_outputs(cargs, defaults=False)
    check_writable(paths, cwd)
    result = render(cargs, params=params, dtype=dtype, device=device, pixels=pixels, cwd=cwd,
                    max_memory_gb=max_memory_gb, fused=fused)
    result.config = effective_config(result.setup)
    if paths:
        result.output_lines = write_outputs(result, paths, cwd=cwd)
    return result
