"""Keeping committed bundles small: block-mean downsampling and PNG previews of images.

numpy and matplotlib are imported inside the functions (bundles without arrays never pay for them).
"""
from __future__ import annotations

import io
import math


def downsample_factor(shape: tuple[int, ...], *, max_pixels: int) -> int:
    """Smallest integer block edge ``k`` so that a 2-D ``shape`` binned k×k has ≤ ``max_pixels`` pixels."""
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels}")
    n_px = math.prod(shape)
    if n_px <= max_pixels:
        return 1
    k = max(2, math.ceil(math.sqrt(n_px / max_pixels)))
    while math.prod(math.ceil(s / k) for s in shape[:2]) * math.prod(shape[2:]) > max_pixels:
        k += 1
    return k


def block_mean(array, *, factor: int):
    """Mean over ``factor``×``factor`` blocks of the first two axes (edge blocks averaged over what exists).

    The result is float64 so sums are kept: ``block_mean(a, factor=k).sum() * k*k ≈ a.sum()``
    when the shape divides evenly.
    """
    import numpy as np

    a = np.asarray(array, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"array must be at least 2-D for block downsampling, got shape {a.shape}")
    if factor == 1:
        return a
    slow_px, fast_px = a.shape[:2]
    pad_s, pad_f = (-slow_px) % factor, (-fast_px) % factor
    pad = [(0, pad_s), (0, pad_f)] + [(0, 0)] * (a.ndim - 2)
    padded = np.pad(a, pad, constant_values=np.nan)
    shape = (padded.shape[0] // factor, factor, padded.shape[1] // factor, factor, *a.shape[2:])
    return np.nanmean(padded.reshape(shape), axis=(1, 3))


def preview_png_bytes(array, *, max_side_px: int = 512, log_scale: bool = True, title: str | None = None) -> bytes:
    """A grey-scale PNG of a 2-D image (slow rows down, fast columns across), at most ``max_side_px``.

    ``log_scale`` shows ``log1p(max(a, 0))``, which keeps weak spots visible beside strong peaks.
    """
    import numpy as np
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    a = np.asarray(array, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"preview needs a 2-D image, got shape {a.shape}")
    factor = max(1, math.ceil(max(a.shape) / max_side_px))
    small = block_mean(a, factor=factor)
    shown = np.log1p(np.clip(small, 0.0, None)) if log_scale else small
    shown = np.nan_to_num(shown, nan=0.0, posinf=0.0, neginf=0.0)
    dpi = 100
    height_in = max(2.0, small.shape[0] / dpi + 0.6)
    width_in = max(2.0, small.shape[1] / dpi + 0.3)
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.88 if title else 0.96))
    ax.imshow(shown, cmap="gray_r", interpolation="nearest", origin="upper")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
