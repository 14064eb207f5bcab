"""simcore: the PyTorch nanoBragg engine of the parity workbench.

``image, config = simcore.simulate(["-cell", "100", "100", "100", "90", "90", "90", ...])``
runs the C program's command line in-process; ``python -m simcore ARGS`` runs it like the C.
Heavy imports (torch) happen on first use, so ``import simcore`` stays cheap.
"""
from __future__ import annotations

__all__ = ["simulate"]


def simulate(args, **kwargs):
    """See :func:`simcore.api.simulate`."""
    from simcore.api import simulate as _simulate

    return _simulate(args, **kwargs)
