"""Plateau (float32 fragmentation) metric: how many distinct values each image has in a pinned ROI.

Definition (``PLATEAU_VERSION`` 1), fixed so numbers from different runs can be compared:

1. ROI: the one given (half-open, see :mod:`parity.images.roi`); otherwise a ``size_px`` x ``size_px``
   square (default 20 x 20) starting at ``(slow - size_px//2, fast - size_px//2)`` where
   (slow, fast) is the pixel of the **brightest reference peak** (:func:`parity.images.peaks.find_peaks`
   with percentile 99.5, NMS radius 3 px, top 1: the flat-top pixel nearest the top's centroid),
   clipped to the image. If the reference has no peak (e.g. constant), the first maximum pixel in
   raster order is used. The ROI actually used and how it was chosen are part of the result.
2. Values: each image's ROI pixels cast to **float32** (nanoBragg's float image format; exact for
   float32 input, rounding for float64 input), compared by exact equality (+0.0 == -0.0).
3. ``n_unique`` = number of distinct float32 values; ``unique_ratio`` = n_unique_cand / n_unique_ref.
   ``max_multiplicity`` = the largest number of ROI pixels sharing one value (a flat top's size).

A C image with flat peak tops has few unique values; a candidate whose last bits vary has more
(the peer's AT-012 regression: ratio ≈ 5). Histograms: value → count for each image.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np

from parity.images.io import check_image, check_same_shape, write_output_atomic
from parity.images.peaks import find_peaks
from parity.images.roi import Roi

__all__ = ["PLATEAU_VERSION", "PlateauResult", "plateau_metric", "default_plateau_roi", "render_plateau_png",
           "plateau_csv_text", "write_plateau_png", "write_plateau_csv", "DEFAULT_SIZE_PX"]

PLATEAU_VERSION = "1"
DEFAULT_SIZE_PX = 20


@dataclass(frozen=True, eq=False)
class PlateauResult:
    """Unique-value counts and value → count histograms of both images in ``roi``."""

    roi: Roi
    roi_source: str
    ref_values: np.ndarray     # distinct float32 values, ascending
    ref_counts: np.ndarray     # pixels holding each value
    cand_values: np.ndarray
    cand_counts: np.ndarray

    @property
    def n_unique_ref(self) -> int:
        return int(len(self.ref_values))

    @property
    def n_unique_cand(self) -> int:
        return int(len(self.cand_values))

    @property
    def unique_ratio(self) -> float:
        """n_unique_cand / n_unique_ref (the ROI is never empty, so n_unique_ref >= 1)."""
        return self.n_unique_cand / self.n_unique_ref

    def to_dict(self) -> dict:
        return {
            "plateau_version": PLATEAU_VERSION,
            "definition": "distinct float32 values (exact equality) among the ROI pixels; ratio = cand/ref",
            "roi": self.roi.to_dict(), "roi_source": self.roi_source, "n_pixels": self.roi.n_pixels,
            "n_unique_ref": self.n_unique_ref, "n_unique_cand": self.n_unique_cand,
            "unique_ratio": self.unique_ratio, "unique_ratio_definition": "n_unique_cand / n_unique_ref",
            "max_multiplicity_ref": int(self.ref_counts.max()),
            "max_multiplicity_cand": int(self.cand_counts.max()),
        }

    def histogram_table(self):
        """pandas DataFrame (image, value, count): the value → count histogram of each image."""
        import pandas as pd

        return pd.DataFrame({
            "image": ["ref"] * self.n_unique_ref + ["cand"] * self.n_unique_cand,
            "value": np.concatenate([self.ref_values, self.cand_values]).astype(np.float64),
            "count": np.concatenate([self.ref_counts, self.cand_counts]).astype(np.int64),
        })


def default_plateau_roi(ref: np.ndarray, *, size_px: int = DEFAULT_SIZE_PX) -> tuple[Roi, str]:
    """The default ROI of the definition (step 1) and a sentence saying how it was chosen."""
    ref = check_image(ref, name="reference")
    peaks = find_peaks(ref, percentile=99.5, nms_radius_px=3.0, top_n=1)
    if len(peaks):
        slow, fast = int(peaks.pixel_slow[0]), int(peaks.pixel_fast[0])
        how = f"brightest reference peak at (slow={slow}, fast={fast})"
    else:
        slow, fast = (int(v) for v in np.unravel_index(int(np.argmax(ref)), ref.shape))
        how = f"no reference peak; first maximum pixel (slow={slow}, fast={fast})"
    roi = Roi.centred(slow, fast, size_px=size_px, shape=ref.shape)
    clipped = "" if roi.shape == (size_px, size_px) else f", clipped to {roi.shape[0]}x{roi.shape[1]}"
    return roi, f"default: {size_px}x{size_px} around the {how}{clipped}"


def plateau_metric(ref: np.ndarray, cand: np.ndarray, *, roi: Roi | None = None,
                   size_px: int = DEFAULT_SIZE_PX) -> PlateauResult:
    """Unique float32 value counts of ``ref`` and ``cand`` in a pinned ROI (module docstring).

    >>> ref = np.zeros((4, 4), dtype=np.float32); ref[1:3, 1:3] = 7.0      # one flat top
    >>> cand = ref + np.float32(1e-6) * np.arange(16, dtype=np.float32).reshape(4, 4)
    >>> r = plateau_metric(ref, cand, roi=Roi(0, 4, 0, 4))
    >>> r.n_unique_ref, r.n_unique_cand, r.unique_ratio
    (2, 16, 8.0)
    """
    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    if roi is None:
        roi, source = default_plateau_roi(ref, size_px=size_px)
    else:
        roi, source = roi.check_within(ref.shape), "given"
    ref_values, ref_counts = np.unique(ref[roi.slices].astype(np.float32), return_counts=True)
    cand_values, cand_counts = np.unique(cand[roi.slices].astype(np.float32), return_counts=True)
    return PlateauResult(roi=roi, roi_source=source, ref_values=ref_values, ref_counts=ref_counts,
                         cand_values=cand_values, cand_counts=cand_counts)


def render_plateau_png(result: PlateauResult, *, title: str = "", dpi: int = 100) -> bytes:
    """Two panels: value histograms of both images (shared bins) and the multiplicity of each
    distinct value, largest first (flat tops show as counts > 1)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.8), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax_hist, ax_mult = fig.subplots(1, 2)
    lo = float(min(result.ref_values.min(), result.cand_values.min()))
    hi = float(max(result.ref_values.max(), result.cand_values.max()))
    bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 41)
    for name, values, counts, colour, style in (
            ("ref", result.ref_values, result.ref_counts, "tab:blue", "-"),
            ("cand", result.cand_values, result.cand_counts, "tab:orange", "--")):
        ax_hist.hist(values.astype(np.float64), bins=bins, weights=counts, histtype="step", lw=1.8,
                     color=colour, linestyle=style, label=f"{name}: {len(values)} unique")
        ranked = np.sort(counts)[::-1]
        ax_mult.step(np.arange(1, len(ranked) + 1), ranked, where="mid", color=colour, lw=1.8, linestyle=style,
                     label=f"{name}: max {int(ranked[0])} pixels share a value")
    ax_hist.set(xlabel="pixel value", ylabel="pixels", title="value histogram in ROI")
    ax_mult.set(xlabel="distinct value, by rank", ylabel="pixels with that value", xscale="log",
                title="multiplicity of each distinct float32 value")
    ax_hist.legend()
    ax_mult.legend()
    roi = result.roi
    head = title + "  |  " if title else ""
    fig.suptitle(f"{head}unique float32 values in {roi.shape[0]}x{roi.shape[1]} ROI {roi.describe()}:"
                 f" ref {result.n_unique_ref}, cand {result.n_unique_cand},"
                 f" ratio cand/ref {result.unique_ratio:.3g}", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def write_plateau_png(path: str | os.PathLike, result: PlateauResult, *, title: str = "",
                      overwrite: bool = False):
    """Write :func:`render_plateau_png` atomically."""
    return write_output_atomic(path, render_plateau_png(result, title=title), overwrite=overwrite)


def plateau_csv_text(result: PlateauResult) -> str:
    """The value → count histograms as CSV text (columns image, value, count; values at float32
    round-trip precision)."""
    return result.histogram_table().to_csv(index=False, float_format="%.9g")


def write_plateau_csv(path: str | os.PathLike, result: PlateauResult, *, overwrite: bool = False):
    """Write :func:`plateau_csv_text` atomically."""
    return write_output_atomic(path, plateau_csv_text(result), overwrite=overwrite)
