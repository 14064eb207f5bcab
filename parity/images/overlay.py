"""Overlay PNG: reference | candidate (one shared log colour scale) | difference (symmetric scale),
with matched, missing and extra peaks marked and counted in the legend.

Size (:func:`overlay_layout`): each of the three panels is ``width_px`` screen pixels wide, by default
the ROI's own width clamped to 600..1024 px (so a 1024² detector is drawn 1:1 and a 4096² one at
1024 px per panel); the figure is sized around the panels at 100 dpi, fonts grow with it. Images
larger than a panel are shrunk for drawing by keeping each block's largest-magnitude value, so
one-pixel peaks and differences stay visible; peak markers use the exact positions.

With radial shells (``compare_peaks(shells=K)``) the matched circles are coloured by shell, the shell
edges are drawn as dashed rings, and the legend gives each shell's matched count and median
intensity ratio cand/ref. The worst peak (reference peak whose candidate value at its pixel is
farthest from the reference value, in ratio) is boxed in orange and labelled with its ratio.

matplotlib is imported lazily and only through its object API with the Agg canvas, so no global
backend state is touched. Axes are pixel indices: fast to the right, slow downwards.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from parity.errors import ParityUsageError
from parity.images.io import check_image, check_same_shape, write_output_atomic
from parity.images.metrics import ImageMetrics, is_available
from parity.images.peak_table import PeakComparison
from parity.images.roi import Roi

__all__ = ["render_overlay", "overlay_png", "write_overlay", "overlay_title", "OverlayLayout", "overlay_layout"]

_PANEL_MIN_PX, _PANEL_MAX_PX = 600, 1024   # default panel width: the image width, clamped
_WIDTH_LIMITS_PX = (200, 4096)              # what width_px may ask for
_DPI = 100
# marker colours absent from viridis and RdBu, each drawn over a black halo so it shows on any pixel
_MATCHED = dict(marker="o", facecolors="none", edgecolors="cyan", s=110, linewidths=1.4)
_MISSING = dict(marker="x", c="red", s=90, linewidths=2.0)
_EXTRA = dict(marker="+", c="magenta", s=120, linewidths=2.0)
_WORST = dict(marker="s", facecolors="none", edgecolors="orange", s=260, linewidths=2.0)
# shell colours: shell 0 is the matched cyan; none is red, magenta or orange (missing, extra, worst)
_SHELL_COLOURS = ("cyan", "yellow", "lime", "white", "deepskyblue", "gold", "springgreen", "pink")


def _fmt(value: object, spec: str) -> str:
    return format(value, spec) if is_available(value) and not isinstance(value, str) else "n/a"


def overlay_title(*, case: Optional[str] = None, metrics: ImageMetrics | Mapping | None = None,
                  comparison: PeakComparison | None = None) -> str:
    """One-line title: case, correlation, sum ratio (cand/ref), max |Δ| and the matched count."""
    parts = [case] if case else []
    if metrics is not None:
        get = metrics.get if isinstance(metrics, Mapping) else (lambda k: getattr(metrics, k))
        parts.append(f"corr {_fmt(get('correlation'), '.6f')}  sum cand/ref {_fmt(get('sum_ratio'), '.5f')}"
                     f"  max|Δ| {_fmt(get('max_abs_diff'), '.4g')}")
    if comparison is not None:
        m = comparison.match
        parts.append(f"matched {m.n_matched}/{m.denominator} ref peaks within {m.gate_px:g} px")
    return "  |  ".join(parts)


def _log_norm(images: list[np.ndarray]):
    from matplotlib.colors import LogNorm, Normalize

    vmax = max(float(im.max()) for im in images)
    positive = np.concatenate([im[im > 0].ravel() for im in images])
    if vmax <= 0 or positive.size == 0:
        return Normalize(vmin=min(float(im.min()) for im in images), vmax=vmax if vmax > 0 else 1.0), "linear"
    vmin = max(float(np.percentile(positive, 1)), vmax * 1e-6)
    if vmin >= vmax:
        vmin = vmax / 10.0
    return LogNorm(vmin=vmin, vmax=vmax, clip=True), "log"


def _block_extreme(image: np.ndarray, factor: int) -> np.ndarray:
    """Shrink by ``factor`` keeping, in each factor x factor block, the value of largest magnitude, so
    single-pixel peaks and differences stay visible on a panel smaller than the image."""
    if factor <= 1:
        return image
    n_slow, n_fast = image.shape
    pad = ((0, -n_slow % factor), (0, -n_fast % factor))
    padded = np.pad(image, pad)
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    blocks = blocks.transpose(0, 2, 1, 3).reshape(blocks.shape[0], blocks.shape[2], factor * factor)
    pick = np.abs(blocks).argmax(axis=-1)
    return np.take_along_axis(blocks, pick[..., None], axis=-1)[..., 0]


def _diff_norm(diff: np.ndarray):
    """Symmetric log scale: ± max|Δ| at the ends, linear within the median nonzero |Δ|, so both the
    typical and the largest differences show."""
    from matplotlib.colors import SymLogNorm

    magnitude = np.abs(diff)
    vmax = float(magnitude.max()) or 1.0
    nonzero = magnitude[magnitude > 0]
    linthresh = float(np.median(nonzero)) if nonzero.size else vmax
    return SymLogNorm(linthresh=max(linthresh, vmax * 1e-6), vmin=-vmax, vmax=vmax)


@dataclass(frozen=True)
class OverlayLayout:
    """Panel width/height (screen px), block-shrink factor, figure size (inches) and font size."""

    panel_px: int
    panel_height_px: int
    factor: int
    figsize_in: tuple[float, float]
    fontsize: float
    dpi: int = _DPI


def overlay_layout(shape: tuple[int, int], *, width_px: Optional[int] = None) -> OverlayLayout:
    """Layout for an ROI of ``shape = (slow, fast)``; ``width_px`` per panel (default: see module).

    >>> lay = overlay_layout((1024, 1024))
    >>> lay.panel_px, lay.factor, overlay_layout((4096, 4096)).factor, overlay_layout((64, 64)).panel_px
    (1024, 1, 4, 600)
    """
    n_slow, n_fast = int(shape[0]), int(shape[1])
    if width_px is None:
        width_px = int(min(_PANEL_MAX_PX, max(_PANEL_MIN_PX, n_fast)))
    elif isinstance(width_px, bool) or not isinstance(width_px, (int, np.integer)) \
            or not _WIDTH_LIMITS_PX[0] <= width_px <= _WIDTH_LIMITS_PX[1]:
        raise ParityUsageError(f"overlay width must be an integer in {list(_WIDTH_LIMITS_PX)} px per panel,"
                               f" got {width_px!r}")
    width_px = int(width_px)
    height_px = max(1, int(round(width_px * n_slow / n_fast)))
    factor = max(1, int(np.ceil(max(n_fast / width_px, n_slow / max(height_px, 1)))))
    fontsize = 10.0 + 4.0 * (min(width_px, 1024) - 400) / 624.0 if width_px > 400 else 10.0
    # around the panels: y label, two colour bars with labels, gaps; title, x labels, legend
    fig_w = (3 * width_px + 150 + 2 * 10 * fontsize + 60) / _DPI
    fig_h = (height_px + 22 * fontsize) / _DPI
    return OverlayLayout(width_px, height_px, factor, (fig_w, fig_h), round(fontsize, 1))


def render_overlay(ref: np.ndarray, cand: np.ndarray, comparison: PeakComparison | None = None, *,
                   title: str = "", roi: Roi | None = None, width_px: Optional[int] = None,
                   dpi: Optional[int] = None) -> bytes:
    """The overlay as PNG bytes. ``roi`` (or the comparison's ROI) limits what is shown;
    ``width_px`` is each panel's width (:func:`overlay_layout`); a ``dpi`` other than 100 scales
    the whole picture (e.g. 60 for small previews)."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    if roi is None:
        roi = comparison.roi if comparison is not None else Roi.full(ref.shape)
    roi.check_within(ref.shape)
    r, c = ref[roi.slices].astype(np.float64), cand[roi.slices].astype(np.float64)
    diff = c - r
    lay = overlay_layout(r.shape, width_px=width_px)
    r, c, diff = (_block_extreme(x, lay.factor) for x in (r, c, diff))
    extent = (roi.fast_start - 0.5, roi.fast_stop - 0.5, roi.slow_stop - 0.5, roi.slow_start - 0.5)

    fig = Figure(figsize=lay.figsize_in, dpi=dpi or lay.dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    base = colormaps["viridis"]
    cmap = base.with_extremes(bad=base(0.0))      # pixels <= 0 (masked on a log scale) show as the lowest colour
    norm, scale = _log_norm([r, c])
    im_ref = axes[0].imshow(np.ma.masked_less_equal(r, 0) if scale == "log" else r, cmap=cmap, norm=norm,
                            extent=extent, interpolation="nearest")
    axes[1].imshow(np.ma.masked_less_equal(c, 0) if scale == "log" else c, cmap=cmap, norm=norm,
                   extent=extent, interpolation="nearest")
    fs = lay.fontsize
    im_diff = axes[2].imshow(diff, cmap="RdBu_r", extent=extent, interpolation="nearest", norm=_diff_norm(diff))
    for image, where, label in ((im_ref, axes[:2], f"intensity ({scale} scale, shared)"),
                                (im_diff, axes[2], "cand − ref (symmetric log scale)")):
        bar = fig.colorbar(image, ax=where, shrink=0.85)
        bar.set_label(label, fontsize=fs)
        bar.ax.tick_params(labelsize=fs * 0.9)
    for ax, name in zip(axes, ("reference", "candidate", "difference cand − ref")):
        ax.set_title(name, fontsize=fs * 1.1)
        ax.set_xlabel("fast (px)", fontsize=fs)
        ax.tick_params(labelsize=fs * 0.9)
    axes[0].set_ylabel("slow (px)", fontsize=fs)
    if comparison is not None:
        _mark_peaks(fig, axes, comparison, fontsize=fs)
    if title:
        fig.suptitle(title, fontsize=fs * 1.1)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _worst_peak(comparison: PeakComparison):
    """(index, ratio) of the reference peak whose cand/ref ratio at its pixel is farthest from 1."""
    rp = comparison.ref_peaks
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = comparison.cand_at_ref_pixels / rp.intensity
        score = np.abs(np.log(np.abs(ratio)))
    score = np.where(np.isfinite(score), score, np.where(np.isnan(ratio), -1.0, np.inf))
    if len(rp) == 0 or score.max() <= 0:
        return None
    k = int(np.argmax(score))
    return k, float(ratio[k])


def _mark_shells(axes, comparison: PeakComparison, halo) -> list:
    """Shell rings on every panel and the matched circles coloured by shell; legend handles."""
    from matplotlib.patches import Circle

    from parity.images.peak_table import shell_rows

    sh, rp, cp, m = comparison.shells, comparison.ref_peaks, comparison.cand_peaks, comparison.match
    for ax in axes:
        for r in sh.edges_px[1:-1]:
            ax.add_patch(Circle((sh.center_px[1], sh.center_px[0]), r, fill=False, ls="--", lw=0.8,
                                ec="white", alpha=0.7))
    handles = []
    ref_m, cand_m = m.pairs[:, 0], m.pairs[:, 1]
    for row in shell_rows(comparison):
        k = row["shell"]
        style = {**_MATCHED, "edgecolors": _SHELL_COLOURS[k % len(_SHELL_COLOURS)]}
        in_k = rp.shell[ref_m] == k
        ratio = _fmt(row["median_intensity_ratio"], ".3g")
        handles.append(axes[0].scatter(rp.fast_px[ref_m[in_k]], rp.slow_px[ref_m[in_k]], path_effects=halo,
                                       label=f"shell {k}: {row['n_matched']}/{row['n_ref']}, ratio {ratio}",
                                       **style))
        axes[1].scatter(cp.fast_px[cand_m[in_k]], cp.slow_px[cand_m[in_k]], path_effects=halo, **style)
    return handles


def _mark_peaks(fig, axes, comparison: PeakComparison, *, fontsize: float = 10.0) -> None:
    from matplotlib.patheffects import withStroke

    halo = [withStroke(linewidth=3.5, foreground="black")]
    rp, cp, m = comparison.ref_peaks, comparison.cand_peaks, comparison.match
    ref_m, cand_m = m.pairs[:, 0], m.pairs[:, 1]
    if comparison.shells is not None and rp.shell is not None:
        handles = _mark_shells(axes, comparison, halo)
    else:
        handles = [axes[0].scatter(rp.fast_px[ref_m], rp.slow_px[ref_m], label=f"matched ({m.n_matched})",
                                   path_effects=halo, **_MATCHED)]
        axes[1].scatter(cp.fast_px[cand_m], cp.slow_px[cand_m], path_effects=halo, **_MATCHED)
    handles += [
        axes[0].scatter(rp.fast_px[m.missing], rp.slow_px[m.missing],
                        label=f"missing: reference only ({len(m.missing)})", path_effects=halo, **_MISSING),
        axes[1].scatter(cp.fast_px[m.extra], cp.slow_px[m.extra],
                        label=f"extra: candidate only ({len(m.extra)})", path_effects=halo, **_EXTRA),
    ]
    axes[2].scatter(rp.fast_px[m.missing], rp.slow_px[m.missing], path_effects=halo, **_MISSING)
    axes[2].scatter(cp.fast_px[m.extra], cp.slow_px[m.extra], path_effects=halo, **_EXTRA)
    worst = _worst_peak(comparison)
    if worst is not None:
        k, ratio = worst
        for ax in axes:
            ax.scatter([rp.fast_px[k]], [rp.slow_px[k]], path_effects=halo, **_WORST)
        handles.append(axes[0].scatter([], [], label=f"worst: cand/ref {ratio:.3g} at ({rp.pixel_slow[k]},"
                                                     f" {rp.pixel_fast[k]})", **_WORST))
        axes[2].annotate(f"×{ratio:.3g}", (rp.fast_px[k], rp.slow_px[k]), xytext=(8, 8),
                         textcoords="offset points", color="orange", fontsize=fontsize, path_effects=halo)
    sel = comparison.selection
    chosen = (f"{sel.get('n')} per shell, {len(comparison.shells.edges_px) - 1} shells"
              if sel.get("per") == "shell" else f"top {m.denominator}")
    rank = " by relative error" if sel.get("rank") == "relerr" else ""
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)), frameon=False,
               fontsize=fontsize, title_fontsize=fontsize,
               title=f"peaks: {chosen} reference{rank}, {m.n_cand} candidate; gate {m.gate_px:g} px")


def overlay_png(ref: np.ndarray, cand: np.ndarray, comparison: PeakComparison | None = None, *,
                case: Optional[str] = None, metrics: ImageMetrics | Mapping | None = None,
                roi: Roi | None = None, width_px: Optional[int] = None) -> bytes:
    """:func:`render_overlay` with the title built by :func:`overlay_title` (PNG bytes)."""
    title = overlay_title(case=case, metrics=metrics, comparison=comparison)
    return render_overlay(ref, cand, comparison, title=title, roi=roi, width_px=width_px)


def write_overlay(path: str | os.PathLike, ref: np.ndarray, cand: np.ndarray,
                  comparison: PeakComparison | None = None, *, case: Optional[str] = None,
                  metrics: ImageMetrics | Mapping | None = None, roi: Roi | None = None,
                  width_px: Optional[int] = None, overwrite: bool = False) -> Path:
    """Render the overlay with a title built from ``case``/``metrics``/``comparison`` and write the
    PNG atomically (an existing file only with ``overwrite``)."""
    png = overlay_png(ref, cand, comparison, case=case, metrics=metrics, roi=roi, width_px=width_px)
    return write_output_atomic(path, png, overwrite=overwrite)
