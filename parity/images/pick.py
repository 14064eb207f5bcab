"""Pixel picker: the pixels worth tracing in a reference/candidate pair, each with a role and reason.

Every pixel is named ``(slow, fast)`` — the order of ``pwb trace --pixel S F`` and of the C's
``-trace_pixel`` (NOT of ``-printout_pixel``, which takes fast first). Roles, in output order:

``max_abs_diff``    largest |cand − ref|.
``max_rel_diff``    largest |cand − ref| / |ref| on signal: |ref| > ``rel_floor_fraction`` × max|ref|.
``brightest_peak``  the brightest reference peak (its flat-top pixel nearest the top's centroid).
``flank``           a pixel near a strong reference peak holding ``flank_fraction`` (5–50 %) of the
                    peak's value: the nearest such pixel within ``flank_max_dist_px`` (ties: ratio
                    closest to 25 %, then raster order).
``background``      a control far from every peak: the pixel farthest (Euclidean) from any pixel above
                    either image's peak threshold, preferring pixels where the reference is nonzero
                    (images over 1024 px search on blocks of ceil(size/1024) px; the distance stated
                    in the reason is exact).
``missing_peak``    a reference peak with no candidate peak within ``gate_px`` (brightest first).
``extra_peak``      a candidate peak with no reference peak within ``gate_px``.

A role with nothing to offer (identical images, no peaks, no missing peak, ...) is listed under
``skipped`` with the reason. With ``n`` > 1 each role gives up to ``n`` pixels, more than
``nms_radius_px`` apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parity.errors import ParityUsageError
from parity.images.io import check_image, check_same_shape
from parity.images.peak_table import PeakComparison, compare_peaks

__all__ = ["ROLES", "PickedPixel", "PickResult", "pick_pixels"]

ROLES = ("max_abs_diff", "max_rel_diff", "brightest_peak", "flank", "background", "missing_peak", "extra_peak")


@dataclass(frozen=True)
class PickedPixel:
    """One pixel to trace: ``slow``, ``fast`` (zero-based indices), role, reason and both values."""

    role: str
    slow: int
    fast: int
    reason: str
    ref_value: float
    cand_value: float

    @property
    def trace_command(self) -> str:
        """``pwb trace --pixel S F`` for this pixel (slow first)."""
        return f"pwb trace --pixel {self.slow} {self.fast}"

    def to_dict(self) -> dict:
        return {"role": self.role, "slow": self.slow, "fast": self.fast, "reason": self.reason,
                "ref_value": self.ref_value, "cand_value": self.cand_value}


@dataclass(frozen=True)
class PickResult:
    """Picked pixels in role order, roles skipped (role → reason) and the parameters used."""

    pixels: tuple[PickedPixel, ...]
    skipped: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"pixel_order": "slow fast", "pixels": [p.to_dict() for p in self.pixels],
                "skipped": dict(self.skipped), "params": dict(self.params)}


def _validate_n(n: int) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParityUsageError(f"n must be an integer >= 1, got {n!r}")
    return int(n)


def _validate_flank(flank_fraction: tuple[float, float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in flank_fraction)
    except (TypeError, ValueError):
        raise ParityUsageError(f"flank_fraction must be two numbers (low, high), got {flank_fraction!r}") from None
    if not 0.0 < lo < hi < 1.0:
        raise ParityUsageError(f"flank_fraction must satisfy 0 < low < high < 1, got {flank_fraction!r}")
    return lo, hi


def _spread(order: np.ndarray, shape: tuple[int, int], n: int, min_dist_px: float) -> list[tuple[int, int]]:
    """The first ``n`` flat indices of ``order`` (best first) that are > min_dist_px apart."""
    chosen: list[tuple[int, int]] = []
    for flat in order:
        s, f = (int(v) for v in np.unravel_index(int(flat), shape))
        if all((s - a) ** 2 + (f - b) ** 2 > min_dist_px ** 2 for a, b in chosen):
            chosen.append((s, f))
            if len(chosen) == n:
                break
    return chosen


def _best(score: np.ndarray, n: int, min_dist_px: float, valid: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Up to ``n`` pixels with the largest ``score`` (ties: raster order), spread apart."""
    flat = score.ravel()
    idx = np.flatnonzero(valid.ravel()) if valid is not None else np.arange(flat.size)
    values = flat[idx]
    k = min(max(200 * n, 1000), len(idx))
    if k == 0:
        return []
    if k < len(idx):          # keep everything >= the k-th largest value (ties included), then sort those
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth
        idx, values = idx[keep], values[keep]
    pool = idx[np.argsort(-values, kind="stable")]
    return _spread(pool, score.shape, n, min_dist_px)


def pick_pixels(ref: np.ndarray, cand: np.ndarray, *, n: int = 1, top_n: int = 50, percentile: float = 99.5,
                nms_radius_px: float = 3.0, gate_px: float = 1.0, rel_floor_fraction: float = 0.01,
                flank_fraction: tuple[float, float] = (0.05, 0.5), flank_max_dist_px: float = 10.0) -> PickResult:
    """Pick the pixels worth tracing (roles in the module docstring).

    Parameters
    ----------
    ref, cand : ndarray of shape (slow, fast)
        Real, finite images of the same shape; not modified.
    n : int >= 1
        Pixels per role.
    top_n, percentile, nms_radius_px, gate_px
        Peak detection and matching, as in :func:`parity.images.peak_table.compare_peaks`.
    rel_floor_fraction : float
        Signal floor of ``max_rel_diff`` as a fraction of max|ref|.
    flank_fraction : (float, float)
        Range of value / peak value that counts as a flank pixel.
    flank_max_dist_px : float
        How far from the peak pixel a flank pixel may be (pixels).

    Returns
    -------
    PickResult

    Examples
    --------
    >>> ref = np.zeros((32, 32)); ref[10, 12] = 100.0; ref[10, 13] = 30.0; ref[30, 30] = 0.5
    >>> cand = ref.copy(); cand[10, 13] = 33.0
    >>> [(p.role, p.slow, p.fast) for p in pick_pixels(ref, cand, percentile=99).pixels][:4]
    [('max_abs_diff', 10, 13), ('max_rel_diff', 10, 13), ('brightest_peak', 10, 12), ('flank', 10, 13)]
    """
    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    n = _validate_n(n)
    flank_lo, flank_hi = _validate_flank(flank_fraction)
    comp = compare_peaks(ref, cand, top_n=top_n, percentile=percentile, nms_radius_px=nms_radius_px,
                         gate_px=gate_px)
    r, c = ref.astype(np.float64), cand.astype(np.float64)
    picked: list[PickedPixel] = []
    skipped: dict[str, str] = {}

    def add(role: str, pixel: tuple[int, int], reason: str) -> None:
        s, f = pixel
        picked.append(PickedPixel(role, s, f, reason, float(r[s, f]), float(c[s, f])))

    abs_diff = np.abs(c - r)
    if abs_diff.max() == 0.0:
        skipped["max_abs_diff"] = skipped["max_rel_diff"] = "images are identical"
    else:
        for px in _best(abs_diff, n, nms_radius_px, abs_diff > 0):
            add("max_abs_diff", px, f"|cand - ref| = {abs_diff[px]:.6g}")
        _pick_rel(r, abs_diff, n, nms_radius_px, rel_floor_fraction, add, skipped)
    _pick_peaks(comp, n, add, skipped, c)
    _pick_flank(r, comp, n, (flank_lo, flank_hi), flank_max_dist_px, add, skipped)
    _pick_background(r, c, comp, n, nms_radius_px, add, skipped)
    params = dict(n=n, top_n=top_n, percentile=percentile, nms_radius_px=nms_radius_px, gate_px=gate_px,
                  rel_floor_fraction=rel_floor_fraction, flank_fraction=[flank_lo, flank_hi],
                  flank_max_dist_px=flank_max_dist_px)
    ordered = tuple(sorted(picked, key=lambda p: ROLES.index(p.role)))
    return PickResult(pixels=ordered, skipped={k: skipped[k] for k in ROLES if k in skipped}, params=params)


def _pick_rel(r, abs_diff, n, min_dist, floor_fraction, add, skipped) -> None:
    absmax = float(np.abs(r).max())
    floor = floor_fraction * absmax
    signal = np.abs(r) > floor
    if absmax == 0.0 or not signal.any():
        skipped["max_rel_diff"] = "no reference pixel above the signal floor"
        return
    rel = np.where(signal, abs_diff / np.where(signal, np.abs(r), 1.0), 0.0)
    if rel.max() == 0.0:
        skipped["max_rel_diff"] = "no difference on signal pixels"
        return
    for px in _best(rel, n, min_dist, signal & (rel > 0)):
        add("max_rel_diff", px, f"|cand - ref| / |ref| = {rel[px]:.3g} (floor {floor:.4g} = "
                                f"{floor_fraction:g} x max|ref|)")


def _pick_peaks(comp: PeakComparison, n, add, skipped, c) -> None:
    rp, cp, m = comp.ref_peaks, comp.cand_peaks, comp.match
    if len(rp) == 0:
        skipped["brightest_peak"] = "the reference has no peak above the threshold"
    for k in range(min(n, len(rp))):
        add("brightest_peak", (int(rp.pixel_slow[k]), int(rp.pixel_fast[k])),
            f"reference peak #{k + 1} of {len(rp)}, value {rp.intensity[k]:.6g}, flat top of {rp.top_px[k]} px")
    if len(m.missing) == 0:
        skipped["missing_peak"] = (f"every reference peak has a candidate within {m.gate_px:g} px"
                                   if len(rp) else "the reference has no peak")
    for k in m.missing[:n]:
        add("missing_peak", (int(rp.pixel_slow[k]), int(rp.pixel_fast[k])),
            f"reference peak #{k + 1} (value {rp.intensity[k]:.6g}) has no candidate peak within {m.gate_px:g} px")
    if len(m.extra) == 0:
        skipped["extra_peak"] = (f"every candidate peak has a reference within {m.gate_px:g} px"
                                 if len(cp) else "the candidate has no peak")
    for k in m.extra[:n]:
        add("extra_peak", (int(cp.pixel_slow[k]), int(cp.pixel_fast[k])),
            f"candidate peak #{k + 1} (value {cp.intensity[k]:.6g}) has no reference peak within {m.gate_px:g} px")


def _pick_flank(r, comp: PeakComparison, n, fraction, max_dist, add, skipped) -> None:
    rp = comp.ref_peaks
    lo, hi = fraction
    found = 0
    for k in range(len(rp)):
        if found == n:
            break
        ps, pf, top = int(rp.pixel_slow[k]), int(rp.pixel_fast[k]), float(rp.intensity[k])
        if top <= 0:
            continue
        reach = int(np.ceil(max_dist))
        s0, s1 = max(ps - reach, 0), min(ps + reach + 1, r.shape[0])
        f0, f1 = max(pf - reach, 0), min(pf + reach + 1, r.shape[1])
        ss, ff = np.mgrid[s0:s1, f0:f1]
        ratio = r[s0:s1, f0:f1] / top
        dist = np.hypot(ss - ps, ff - pf)
        ok = (ratio >= lo) & (ratio <= hi) & (dist <= max_dist)
        if not ok.any():
            continue
        order = np.lexsort((ff[ok], ss[ok], np.abs(ratio[ok] - 0.25), dist[ok]))
        j = order[0]
        add("flank", (int(ss[ok][j]), int(ff[ok][j])),
            f"{ratio[ok][j]:.1%} of reference peak #{k + 1} at (slow={ps}, fast={pf}), {dist[ok][j]:.2f} px away")
        found += 1
    if found == 0:
        skipped["flank"] = (f"no pixel with {lo:.0%}-{hi:.0%} of a reference peak within {max_dist:g} px"
                            if len(rp) else "the reference has no peak")


def _distance_to(signal: np.ndarray) -> np.ndarray:
    """Euclidean distance (px) of every pixel to the nearest ``signal`` pixel. Images over 1024 px
    are measured on blocks (block = any signal; each pixel gets its block's distance, a lower bound
    within one block size) to keep 4096^2 fast."""
    from scipy import ndimage

    factor = int(np.ceil(max(signal.shape) / 1024))
    if factor <= 1:
        return ndimage.distance_transform_edt(~signal)
    n_slow, n_fast = signal.shape
    padded = np.pad(signal, ((0, -n_slow % factor), (0, -n_fast % factor)))
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).any(axis=(1, 3))
    coarse = ndimage.distance_transform_edt(~blocks) * factor
    return np.repeat(np.repeat(coarse, factor, axis=0), factor, axis=1)[:n_slow, :n_fast]


def _pick_background(r, c, comp: PeakComparison, n, min_dist, add, skipped) -> None:
    signal = (r > comp.ref_peaks.threshold) | (c > comp.cand_peaks.threshold)
    if not signal.any():
        skipped["background"] = "no pixel above the peak threshold to keep away from"
        return
    distance = _distance_to(signal)
    nonzero = (r != 0) & ~signal
    valid = nonzero if nonzero.any() else ~signal
    if not valid.any():
        skipped["background"] = "every pixel is above the peak threshold"
        return
    from scipy.spatial import cKDTree

    tree = cKDTree(np.argwhere(signal))
    for px in _best(distance, n, min_dist, valid):
        zero = "" if r[px] != 0 else ", reference is zero there (no nonzero pixel away from the signal)"
        exact = float(tree.query(px)[0])
        add("background", px, f"{exact:.1f} px from the nearest pixel above a peak threshold{zero}")
