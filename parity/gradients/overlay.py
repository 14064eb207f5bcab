"""Gradient overlay PNG: reference (finite differences) | candidate | difference.

Gradients are signed, so reference and candidate share one *symmetric* linear colour scale
(±max|ref|, diverging map) and the difference has its own symmetric scale (±max|Δ|); pixels the
metrics did not use (FD below its noise) are not hidden, the title says how many were used.
Large images are shrunk by block extremes (parity.images.overlay) so single-pixel features stay.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from parity.images.io import write_output_atomic
from parity.images.overlay import _block_extreme

__all__ = ["render_gradient_overlay", "write_gradient_overlay", "gradient_title"]

_PANEL_PX = 500


def gradient_title(result) -> str:
    """One line: case, parameter, reference, correlation, max relative error, pass/fail."""
    m = result.metrics
    parts = [p for p in (result.case, result.param) if p]
    parts.append(f"ref {result.reference} (h={result.fd.step:.3g})")
    parts.append(f"corr {m.correlation:.7f}  rel_err_max {m.rel_err_max:.2e}  sum|c|/|r| {m.sum_ratio:.6f}"
                 f"  ({m.n_signal} signal px)")
    parts.append("PASS" if result.passed else "FAIL")
    return "  |  ".join(parts)


def render_gradient_overlay(ref: np.ndarray, cand: np.ndarray, *, title: str = "", unit: str = "",
                            dpi: int = 100) -> bytes:
    """The three panels as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    r, c = np.asarray(ref, dtype=np.float64), np.asarray(cand, dtype=np.float64)
    diff = c - r
    factor = max(1, int(np.ceil(max(r.shape) / _PANEL_PX)))
    r, c, diff = (_block_extreme(x, factor) for x in (r, c, diff))
    extent = (-0.5, ref.shape[1] - 0.5, ref.shape[0] - 0.5, -0.5)
    vmax = float(np.abs(r).max()) or 1.0
    dmax = float(np.abs(diff).max()) or vmax * 1e-12

    fig = Figure(figsize=(16, 5.6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    shared = Normalize(vmin=-vmax, vmax=vmax)
    im = axes[0].imshow(r, cmap="RdBu_r", norm=shared, extent=extent, interpolation="nearest")
    axes[1].imshow(c, cmap="RdBu_r", norm=shared, extent=extent, interpolation="nearest")
    per = f" per {unit}" if unit else ""
    fig.colorbar(im, ax=axes[:2], shrink=0.85, label=f"∂I/∂param{per} (symmetric, shared)")
    im_d = axes[2].imshow(diff, cmap="PuOr_r", norm=Normalize(vmin=-dmax, vmax=dmax), extent=extent,
                          interpolation="nearest")
    fig.colorbar(im_d, ax=axes[2], shrink=0.85, label=f"cand − ref (±{dmax:.3g}, {dmax / vmax:.1e} of max|ref|)")
    axes[0].set_title("reference: finite differences")
    axes[1].set_title("candidate")
    axes[2].set_title("difference cand − ref")
    for ax in axes:
        ax.set_xlabel("fast (px)")
    axes[0].set_ylabel("slow (px)")
    if title:
        fig.suptitle(title, fontsize=11)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def write_gradient_overlay(path: str | os.PathLike, result, *, overwrite: bool = False) -> Path:
    """Render a :class:`parity.gradients.check.GradCheckResult` and write the PNG atomically."""
    from parity.gradients.params import param_spec

    png = render_gradient_overlay(result.fd.grad, result.cand, title=gradient_title(result),
                                  unit=param_spec(result.param).unit)
    return write_output_atomic(path, png, overwrite=overwrite)


def overlay_png(result) -> bytes:
    """PNG bytes for a bundle artifact."""
    from parity.gradients.params import param_spec

    return render_gradient_overlay(result.fd.grad, result.cand, title=gradient_title(result),
                                   unit=param_spec(result.param).unit)
