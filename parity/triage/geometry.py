"""Geometric differences: is the candidate the reference moved, transposed, flipped or rotated?

Detected by trying them. Orientations (transpose, flips, 180° rotation) are
:func:`parity.images.metrics.check_orientation`. Shifts are found by cross-correlation: the
zero-padded FFT cross-correlation of the mean-subtracted images, searched within ``max_shift_px``
(default a quarter of the smaller side, at least 4 px) for the integer peak, then refined to
sub-pixel by a parabola through the peak and its two neighbours on each axis. The integer shift is
scored on the overlap of the two images; the sub-pixel one by shifting the candidate back with a
cubic spline (:func:`scipy.ndimage.shift`) and correlating away from the edges.

The numbers: ``gain`` = (r_after − r_as_given) / (1 − r_as_given), the share of the missing
correlation a transform recovers. The class applies when the best transform recovers at least half
of it and lifts r by more than 1e-4 (:data:`MIN_GAIN`, :data:`MIN_LIFT`).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["find_shift", "geometric_numbers", "MIN_GAIN", "MIN_LIFT"]

MIN_GAIN = 0.5
MIN_LIFT = 1e-4
HALF_PIXEL_TOL = 0.15


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    a = a.ravel().astype(np.float64) - a.mean()
    b = b.ravel().astype(np.float64) - b.mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / den if den > 0 else None


def _overlap(ref: np.ndarray, cand: np.ndarray, ds: int, df: int) -> tuple[np.ndarray, np.ndarray]:
    """ref[x] and cand[x + d] on the pixels where both exist (cand is ref moved by d)."""
    n_s, n_f = ref.shape
    rs = slice(max(0, -ds), min(n_s, n_s - ds))
    rf = slice(max(0, -df), min(n_f, n_f - df))
    cs = slice(rs.start + ds, rs.stop + ds)
    cf = slice(rf.start + df, rf.stop + df)
    return ref[rs, rf], cand[cs, cf]


def _parabola(m1: float, m0: float, p1: float) -> float:
    den = m1 - 2.0 * m0 + p1
    return 0.0 if den >= 0 else float(np.clip(0.5 * (m1 - p1) / den, -0.5, 0.5))


def find_shift(ref: np.ndarray, cand: np.ndarray, *, max_shift_px: int | None = None) -> dict:
    """The shift d (slow, fast) px with cand(x) ≈ ref(x − d): integer and sub-pixel, and the correlations.

    >>> s, f = np.mgrid[0:48, 0:48]
    >>> ref = np.exp(-((s - 20.0) ** 2 + (f - 24.0) ** 2) / 6.0)
    >>> cand = np.exp(-((s - 23.0) ** 2 + (f - 22.4) ** 2) / 6.0)
    >>> out = find_shift(ref, cand)
    >>> out["shift_px"], [round(v, 1) for v in out["shift_subpx"]]
    ([3, -2], [3.0, -1.6])
    """
    from scipy import ndimage

    r = ref.astype(np.float64)
    c = cand.astype(np.float64)
    n_s, n_f = r.shape
    limit = int(max_shift_px) if max_shift_px is not None else max(4, min(n_s, n_f) // 4)
    limit = max(1, min(limit, n_s - 2, n_f - 2))
    size = (2 * n_s, 2 * n_f)
    spec = np.fft.rfft2(c - c.mean(), size) * np.conj(np.fft.rfft2(r - r.mean(), size))
    xc = np.fft.irfft2(spec, size)
    ds_range = np.arange(-limit, limit + 1)
    window = xc[np.ix_(ds_range % size[0], ds_range % size[1])]
    i, j = np.unravel_index(int(np.argmax(window)), window.shape)
    ds, df = int(ds_range[i]), int(ds_range[j])
    sub_s = ds + (_parabola(window[i - 1, j], window[i, j], window[i + 1, j]) if 0 < i < len(ds_range) - 1 else 0.0)
    sub_f = df + (_parabola(window[i, j - 1], window[i, j], window[i, j + 1]) if 0 < j < len(ds_range) - 1 else 0.0)
    as_given = _corr(r, c)
    a, b = _overlap(r, c, ds, df)
    shifted_int = _corr(a, b) if a.size > 1 else None
    margin = int(math.ceil(max(abs(sub_s), abs(sub_f)))) + 2
    back = ndimage.shift(c, (-sub_s, -sub_f), order=3, mode="nearest")
    inner = (slice(margin, n_s - margin), slice(margin, n_f - margin))
    shifted_sub = _corr(r[inner], back[inner]) if n_s > 2 * margin + 1 and n_f > 2 * margin + 1 else None
    inner_as_given = _corr(r[inner], c[inner]) if shifted_sub is not None else None
    frac = [abs(v - round(v)) for v in (sub_s, sub_f)]
    return {"shift_px": [ds, df], "shift_subpx": [round(sub_s, 4), round(sub_f, 4)], "search_px": limit,
            "corr_as_given": as_given, "corr_shifted": shifted_int, "corr_subpx": shifted_sub,
            "corr_as_given_inner": inner_as_given,
            "half_pixel": any(abs(x - 0.5) <= HALF_PIXEL_TOL for x in frac) and max(abs(sub_s), abs(sub_f)) < 1.5}


def _gain(before: float | None, after: float | None) -> float:
    if before is None or after is None:
        return 0.0
    missing = 1.0 - before
    if missing <= 0:
        return 0.0
    return max(0.0, (after - before) / missing)


def geometric_numbers(ref: np.ndarray, cand: np.ndarray) -> dict:
    """Every transform tried, the best one, its gain and whether the class applies."""
    from parity.images.metrics import check_orientation

    orient = check_orientation(ref, cand)
    as_given = orient["as_given"] if not isinstance(orient["as_given"], str) else None
    tried = {k: v for k, v in orient["tried"].items() if k != "as_given" and not isinstance(v, str)}
    shift = find_shift(ref, cand)
    options = [(name, r, _gain(as_given, r)) for name, r in tried.items()]
    if shift["shift_px"] != [0, 0]:
        options.append(("shift", shift["corr_shifted"], _gain(as_given, shift["corr_shifted"])))
    sub = shift["shift_subpx"]
    if max(abs(sub[0]), abs(sub[1])) >= 0.2:
        options.append(("subpixel_shift", shift["corr_subpx"], _gain(shift["corr_as_given_inner"],
                                                                     shift["corr_subpx"])))
    best = max(options, key=lambda t: t[2], default=None)
    applies = False
    if best is not None and best[1] is not None:
        before = shift["corr_as_given_inner"] if best[0] == "subpixel_shift" else as_given
        applies = best[2] >= MIN_GAIN and before is not None and best[1] - before > MIN_LIFT
    return {"best": best[0] if best else None, "corr_best": best[1] if best else None,
            "gain": round(best[2], 6) if best else 0.0, "applies": bool(applies), "corr_as_given": as_given,
            "orientations": tried, "shift": shift}
