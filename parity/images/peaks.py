"""Bragg-peak detection: local maxima above a percentile, plateau-tolerant, with a true NMS disk.

Pipeline (each step a private helper): ``_get_threshold`` → ``_find_tops`` (local maxima, a flat top
of equal values being ONE maximum) → ``_suppress`` (greedy non-maximum suppression in a disk of
radius ``nms_radius_px``) → ``_locate`` (plateau centroid, optional sub-pixel centroid).

Coordinates are pixel indices ``(slow, fast)``; pixel (s, f) covers [s - 0.5, s + 0.5) etc., so a
2 x 2 flat top at slow 512..513, fast 512..513 is located at (512.5, 512.5).

With ``shells`` (:mod:`parity.images.shells`) each radial shell gets its own threshold (the
percentile of the shell's own pixels) and its own ``top_n`` brightest peaks, so weak high-index
peaks far from the beam are found and kept next to the bright low-order ones.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from parity.errors import ParityUsageError
from parity.images.io import check_image
from parity.images.shells import RadialShells, cut_per_shell, shell_thresholds

__all__ = ["PeakList", "find_peaks"]

_EIGHT_NEIGHBOURS = [(ds, df) for ds in (-1, 0, 1) for df in (-1, 0, 1) if (ds, df) != (0, 0)]


@dataclass(frozen=True, eq=False)
class PeakList:
    """Peaks of one image, brightest first (ties: smaller slow, then smaller fast first).

    Attributes
    ----------
    slow_px, fast_px : ndarray of float64, shape (N,)
        Peak positions in pixel index units (plateau centroid, or sub-pixel centroid).
    intensity : ndarray of float64, shape (N,)
        Value of the peak top (the image value of the flat top).
    pixel_slow, pixel_fast : ndarray of int64, shape (N,)
        The pixel of the top nearest its centroid (what to trace).
    top_px : ndarray of int64, shape (N,)
        Number of pixels in the top (1 for a single-pixel maximum).
    threshold : float
        Detection threshold (the ``percentile`` of the image); tops must be strictly above it.
    n_found : int
        Peaks left after suppression, before the ``top_n`` cut.
    shell : ndarray of int64, shape (N,), or None
        Radial shell of each peak (None when detected without shells).
    shells : RadialShells or None
        The shells used (full-image coordinates), with ``shell_thresholds`` (one per shell).
    """

    slow_px: np.ndarray
    fast_px: np.ndarray
    intensity: np.ndarray
    pixel_slow: np.ndarray
    pixel_fast: np.ndarray
    top_px: np.ndarray
    threshold: float
    n_found: int
    percentile: float
    nms_radius_px: float
    top_n: Optional[int]
    subpixel: bool
    plateau_rtol: float
    shell: Optional[np.ndarray] = None
    shells: Optional[RadialShells] = None
    shell_thresholds: Optional[tuple] = None

    def __len__(self) -> int:
        return int(self.slow_px.shape[0])

    @property
    def positions_px(self) -> np.ndarray:
        """(N, 2) float64 array of (slow, fast) positions."""
        return np.column_stack([self.slow_px, self.fast_px]).reshape(-1, 2)

    def offset(self, slow: int, fast: int) -> "PeakList":
        """The same peaks shifted by (slow, fast) pixels, e.g. from ROI-local to image coordinates."""
        shells = self.shells.offset(slow, fast) if self.shells is not None else None
        return dataclasses.replace(self, slow_px=self.slow_px + slow, fast_px=self.fast_px + fast,
                                   pixel_slow=self.pixel_slow + slow, pixel_fast=self.pixel_fast + fast,
                                   shells=shells)

    def take(self, indices) -> "PeakList":
        """The peaks at ``indices``, in that order (detection parameters unchanged)."""
        idx = np.asarray(indices, dtype=np.int64)
        arrays = {name: getattr(self, name)[idx] for name in
                  ("slow_px", "fast_px", "intensity", "pixel_slow", "pixel_fast", "top_px")}
        if self.shell is not None:
            arrays["shell"] = self.shell[idx]
        return dataclasses.replace(self, **arrays)

    def params(self) -> dict:
        out = {"percentile": self.percentile, "nms_radius_px": self.nms_radius_px, "top_n": self.top_n,
               "subpixel": self.subpixel, "plateau_rtol": self.plateau_rtol,
               "threshold": self.threshold, "n_found": self.n_found}
        if self.shells is not None:
            out.update(top_n_per="shell", shell_thresholds=list(self.shell_thresholds or ()))
        return out


# ---- validation -------------------------------------------------------------------------------
def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _validate_percentile(percentile: float) -> float:
    if not _is_real(percentile) or not 0.0 <= float(percentile) <= 100.0:
        raise ParityUsageError(f"percentile must be a number in [0, 100], got {percentile!r}")
    return float(percentile)


def _validate_nms_radius(nms_radius_px: float) -> float:
    if not _is_real(nms_radius_px) or not math.isfinite(nms_radius_px) or nms_radius_px < 0:
        raise ParityUsageError(f"nms_radius_px must be a finite number >= 0 (pixels), got {nms_radius_px!r}")
    return float(nms_radius_px)


def _validate_top_n(top_n: Optional[int]) -> Optional[int]:
    if top_n is None:
        return None
    if isinstance(top_n, (bool, np.bool_)) or not isinstance(top_n, (int, np.integer)) or top_n < 1:
        raise ParityUsageError(f"top_n must be None or an integer >= 1, got {top_n!r}")
    return int(top_n)


def _validate_plateau_rtol(plateau_rtol: float) -> float:
    if not _is_real(plateau_rtol) or not 0.0 <= float(plateau_rtol) < 1.0:
        raise ParityUsageError(f"plateau_rtol must be a number in [0, 1), got {plateau_rtol!r}")
    return float(plateau_rtol)


def _validate_subpixel(subpixel: bool) -> bool:
    if not isinstance(subpixel, (bool, np.bool_)):
        raise ParityUsageError(f"subpixel must be True or False, got {subpixel!r}")
    return bool(subpixel)


# ---- pipeline ---------------------------------------------------------------------------------
def _get_threshold(image: np.ndarray, percentile: float) -> float:
    return float(np.percentile(image, percentile))


def _find_tops(image: np.ndarray, threshold: float):
    """The flat tops that are local maxima above ``threshold``.

    A pixel is a candidate when it is >= its 8 neighbours and > threshold; 8-connected candidates
    then have equal values (each is >= the other), i.e. they form a flat top. A top is rejected when
    an equal-valued neighbour is *not* a candidate: the flat region then touches a higher pixel
    somewhere (a shoulder, not a peak).

    Returns (values, centroids (K, 2), pixels): ``pixels[k]`` is the (slow, fast) index arrays of top k.
    """
    from scipy import ndimage

    n_slow, n_fast = image.shape
    local_max = ndimage.maximum_filter(image, size=3, mode="nearest")
    is_top = (image == local_max) & (image > threshold)
    labels, n_labels = ndimage.label(is_top, structure=np.ones((3, 3), dtype=bool))
    cs, cf = np.nonzero(is_top)
    values = image[cs, cf]
    shoulder = np.zeros(cs.shape, dtype=bool)
    for ds, df in _EIGHT_NEIGHBOURS:
        ns, nf = cs + ds, cf + df
        inside = (ns >= 0) & (ns < n_slow) & (nf >= 0) & (nf < n_fast)
        ns, nf = np.clip(ns, 0, n_slow - 1), np.clip(nf, 0, n_fast - 1)
        shoulder |= inside & (image[ns, nf] == values) & ~is_top[ns, nf]
    lab = labels[cs, cf]
    bad = np.zeros(n_labels + 1, dtype=bool)
    bad[lab[shoulder]] = True
    good = ~bad[lab]
    lab, cs, cf, values = lab[good], cs[good], cf[good], values[good]
    order = np.argsort(lab, kind="stable")
    lab, cs, cf, values = lab[order], cs[order], cf[order], values[order]
    ids, starts, counts = np.unique(lab, return_index=True, return_counts=True)
    sum_s = np.add.reduceat(cs.astype(np.float64), starts) if len(ids) else np.zeros(0)
    sum_f = np.add.reduceat(cf.astype(np.float64), starts) if len(ids) else np.zeros(0)
    centroids = np.column_stack([sum_s / counts, sum_f / counts]).reshape(-1, 2)
    pixels = _TopPixels(cs, cf, starts, counts)
    return values[starts].astype(np.float64), centroids, pixels


@dataclass(frozen=True, eq=False)
class _TopPixels:
    """Pixels of all tops, grouped: top k is ``slow[starts[k]:starts[k] + counts[k]]`` etc."""

    slow: np.ndarray
    fast: np.ndarray
    starts: np.ndarray
    counts: np.ndarray

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        sl = slice(int(self.starts[k]), int(self.starts[k] + self.counts[k]))
        return self.slow[sl], self.fast[sl]


def _suppress(values: np.ndarray, centroids: np.ndarray, nms_radius_px: float) -> np.ndarray:
    """Indices kept by greedy NMS, brightest first: a top is dropped when a brighter kept top lies
    within ``nms_radius_px`` (Euclidean, inclusive). Ties are ordered by (slow, fast)."""
    order = np.lexsort((centroids[:, 1], centroids[:, 0], -values)) if len(values) else np.zeros(0, int)
    if nms_radius_px == 0.0 or len(order) < 2:
        return order
    from scipy.spatial import cKDTree

    pos = centroids[order]
    pairs = cKDTree(pos).query_pairs(nms_radius_px, output_type="ndarray")
    if len(pairs) == 0:
        return order
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    sort = np.argsort(lo, kind="stable")
    lo, hi = lo[sort], hi[sort]
    starts = np.searchsorted(lo, np.arange(len(pos) + 1))
    suppressed = np.zeros(len(pos), dtype=bool)
    for i in np.unique(lo):       # only tops with a weaker neighbour can suppress
        if not suppressed[i]:
            suppressed[hi[starts[i]:starts[i + 1]]] = True
    return order[~suppressed]


def _top_region(image: np.ndarray, s_idx: np.ndarray, f_idx: np.ndarray, value: float, rtol: float,
                margin: int) -> tuple[np.ndarray, np.ndarray]:
    """(slow, fast) pixel indices of a top: its flat plateau ``(s_idx, f_idx)``, grown (8-connected)
    over pixels with value in [value - rtol*|value|, value] when ``rtol`` > 0."""
    from scipy import ndimage

    if rtol == 0.0:
        return s_idx, f_idx
    low = value - rtol * abs(value)
    while True:
        s0, s1 = max(int(s_idx.min()) - margin, 0), min(int(s_idx.max()) + margin + 1, image.shape[0])
        f0, f1 = max(int(f_idx.min()) - margin, 0), min(int(f_idx.max()) + margin + 1, image.shape[1])
        window = image[s0:s1, f0:f1]
        grown, _ = ndimage.label((window >= low) & (window <= value), structure=np.ones((3, 3), dtype=bool))
        rs, rf = np.nonzero(grown == grown[s_idx[0] - s0, f_idx[0] - f0])
        touches = ((rs.min() == 0 and s0 > 0) or (rf.min() == 0 and f0 > 0)
                   or (rs.max() == window.shape[0] - 1 and s1 < image.shape[0])
                   or (rf.max() == window.shape[1] - 1 and f1 < image.shape[1]))
        if not touches:
            return rs + s0, rf + f0
        margin *= 2


def _locate(image: np.ndarray, s_idx: np.ndarray, f_idx: np.ndarray, subpixel: bool):
    """Position (centroid of the top, or intensity-weighted centroid of the top and its 1-px ring
    above the ring's minimum) and the top pixel nearest to the top's centroid."""
    cs, cf = float(s_idx.mean()), float(f_idx.mean())
    nearest = int(np.argmin((s_idx - cs) ** 2 + (f_idx - cf) ** 2))
    pixel = (int(s_idx[nearest]), int(f_idx[nearest]))
    if not subpixel:
        return cs, cf, pixel
    s0, s1 = max(int(s_idx.min()) - 1, 0), min(int(s_idx.max()) + 2, image.shape[0])
    f0, f1 = max(int(f_idx.min()) - 1, 0), min(int(f_idx.max()) + 2, image.shape[1])
    mask = np.zeros((s1 - s0, f1 - f0), dtype=bool)
    mask[s_idx - s0, f_idx - f0] = True
    from scipy import ndimage

    mask = ndimage.binary_dilation(mask, structure=np.ones((3, 3), dtype=bool))
    ws, wf = np.nonzero(mask)
    vals = image[ws + s0, wf + f0].astype(np.float64)
    weights = vals - vals.min()
    total = weights.sum()
    if total <= 0.0:
        return cs, cf, pixel
    return float((weights * (ws + s0)).sum() / total), float((weights * (wf + f0)).sum() / total), pixel


def _empty(threshold: float, **params) -> PeakList:
    f, i = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
    return PeakList(f, f.copy(), f.copy(), i, i.copy(), i.copy(), threshold=threshold, n_found=0, **params)


def find_peaks(image: np.ndarray, *, percentile: float = 99.5, nms_radius_px: float = 3.0,
               top_n: Optional[int] = None, subpixel: bool = False, plateau_rtol: float = 0.0,
               shells: Optional[RadialShells] = None) -> PeakList:
    """Find Bragg peaks: local maxima above a percentile, flat tops as one peak, NMS in a disk.

    Parameters
    ----------
    image : ndarray of shape (slow, fast)
        Real, finite 2-D image (any numeric dtype; never modified or copied beyond filters).
    percentile : float, in [0, 100]
        Detection threshold as a percentile of all pixel values; a top must be strictly above it,
        so a constant image has no peaks.
    nms_radius_px : float, >= 0
        Non-maximum suppression radius in pixels: a peak within this Euclidean distance (inclusive)
        of a brighter reported peak is dropped, so reported peaks are more than ``nms_radius_px``
        apart. 0 keeps every local maximum.
    top_n : int >= 1, optional
        Keep only the ``top_n`` brightest peaks (after suppression). None keeps all.
    subpixel : bool
        Locate each peak at the intensity-weighted centroid of its top and the 1-pixel ring around
        it (weights = value - min of those pixels) instead of the top's geometric centroid.
    plateau_rtol : float, in [0, 1)
        0 (default): a top is the set of 8-connected pixels of *exactly* equal value (float32 flat
        top). > 0: the top also takes in connected pixels within ``plateau_rtol`` (relative) below
        the peak value, so a top fragmented in the last bits is still located at its centre.
    shells : RadialShells, optional
        Radial shells in this image's pixel coordinates (:func:`parity.images.shells.radial_shells`).
        Each shell then has its own threshold (``percentile`` of its own pixels) and ``top_n``
        applies **per shell**; each peak's shell is in ``PeakList.shell``.

    Returns
    -------
    PeakList
        N peaks, brightest first; ``positions_px`` is an (N, 2) array of (slow, fast).

    Notes
    -----
    A pixel is a local maximum when it equals the 3 x 3 maximum filter. Connected maxima have equal
    values and form one flat top; a flat region touching a higher pixel is a shoulder and is dropped.
    Border pixels can be peaks (only in-image neighbours count).

    Examples
    --------
    >>> img = np.zeros((5, 7), dtype=np.float32)
    >>> img[1, 1] = 5.0
    >>> img[3, 4:6] = 9.0               # a 2-pixel flat top: one peak at its centre
    >>> find_peaks(img, percentile=50, nms_radius_px=2).positions_px.tolist()
    [[3.0, 4.5], [1.0, 1.0]]
    """
    image = check_image(image, name="image", allow_empty=True)
    if image.dtype == np.float16:            # scipy.ndimage filters do not take half floats
        image = image.astype(np.float32)
    params = dict(percentile=_validate_percentile(percentile), nms_radius_px=_validate_nms_radius(nms_radius_px),
                  top_n=_validate_top_n(top_n), subpixel=_validate_subpixel(subpixel),
                  plateau_rtol=_validate_plateau_rtol(plateau_rtol))
    if image.size == 0:
        return _empty(float("nan"), **params)
    if shells is not None and not isinstance(shells, RadialShells):
        raise ParityUsageError(f"shells must be a RadialShells or None, got {type(shells).__name__}")
    extra: dict = {}
    if shells is None:
        threshold = _get_threshold(image, params["percentile"])
        values, centroids, pixels = _find_tops(image, threshold)
        kept = _suppress(values, centroids, params["nms_radius_px"])
        n_found = int(len(kept))
        if params["top_n"] is not None:
            kept = kept[: params["top_n"]]
    else:
        per_shell = shell_thresholds(image, shells, params["percentile"])
        threshold = float(per_shell.min())
        values, centroids, pixels = _find_tops(image, threshold)
        top_shell = shells.assign(centroids[:, 0], centroids[:, 1])
        valid = np.flatnonzero(values > per_shell[top_shell])
        kept = valid[_suppress(values[valid], centroids[valid], params["nms_radius_px"])]
        n_found = int(len(kept))
        kept = cut_per_shell(kept, top_shell, params["top_n"])
        extra = dict(shell=top_shell[kept].astype(np.int64), shells=shells,
                     shell_thresholds=tuple(float(v) for v in per_shell))
    if len(kept) == 0:
        empty = _empty(threshold, **params)
        return dataclasses.replace(empty, **extra) if extra else empty
    margin = max(2, int(math.ceil(params["nms_radius_px"])))
    rows = []
    for k in kept:
        s_idx, f_idx = _top_region(image, *pixels[k], float(values[k]), params["plateau_rtol"], margin)
        rows.append((*_locate(image, s_idx, f_idx, params["subpixel"]), len(s_idx)))
    return PeakList(
        slow_px=np.array([r[0] for r in rows], dtype=np.float64),
        fast_px=np.array([r[1] for r in rows], dtype=np.float64),
        intensity=values[kept].astype(np.float64),
        pixel_slow=np.array([r[2][0] for r in rows], dtype=np.int64),
        pixel_fast=np.array([r[2][1] for r in rows], dtype=np.int64),
        top_px=np.array([r[3] for r in rows], dtype=np.int64),
        threshold=threshold, n_found=n_found, **params, **extra)
