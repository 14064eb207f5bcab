"""What kind of difference two images show: each class with a score in [0, 1] and the numbers behind it.

Signal pixels are those above ``rel_floor`` x max(ref) (the registry's floor, 1 %); ``tol`` is the
registry's relative-error gate (1e-3). More than one class may apply; ``primary`` is the applying
class with the highest score (a geometric one first: a shift makes every ratio meaningless).

================  ================================================================================
constant_ratio    cand/ref ≈ one factor on signal pixels: a factor missing or wrong. Numbers: the
                  median factor, the 5-95 % spread relative to it, log10 and whether it is a power
                  of ten, a near known factor (2, π, 180/π...). Applies when the factor is off by
                  more than ``tol`` and the spread is under a tenth of the offset (score 1 − ratio)
geometric         a shift, transpose, flip or rotation recovers the correlation
                  (:mod:`parity.triage.geometry`); score = the share of the missing correlation
                  recovered
radial            the ratio changes with the distance from the beam centre: per-shell median
                  ratios (equal-area shells, :func:`parity.images.shells.radial_shells`), a
                  least-squares line of ratio vs r / r_max (slope, R²); applies when the shells
                  span more than ``tol`` and twice the spread inside a shell, and move one way
                  (score R² x the share of monotonic steps)
peaks_only        relative error on peak pixels (within ``peak_radius_px`` of a reference peak or
background_only   above its threshold) vs the rest: one side above ``tol``, the other under it;
                  score 1 − small/large
localized         few pixels differ (|Δ| > tol |ref| and above 1e-6 x max): under 5 % of the image
                  or at most 20 pixels; where: bounding box (an ROI), the edges, a few pixels
================  ================================================================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ImageClass", "Classification", "classify_difference", "KNOWN_FACTORS"]

KNOWN_FACTORS = {"2": 2.0, "1/2": 0.5, "pi": math.pi, "1/pi": 1 / math.pi, "2*pi": 2 * math.pi,
                 "1/(2*pi)": 1 / (2 * math.pi), "180/pi": 180 / math.pi, "pi/180": math.pi / 180,
                 "4*pi": 4 * math.pi, "1/(4*pi)": 1 / (4 * math.pi)}
LOCALIZED_MAX_FRACTION = 0.05
LOCALIZED_FEW_PX = 20


@dataclass(frozen=True)
class ImageClass:
    name: str
    applies: bool
    score: float
    text: str
    numbers: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"class": self.name, "applies": self.applies, "score": round(float(self.score), 4),
                "text": self.text, "numbers": self.numbers}


@dataclass(frozen=True)
class Classification:
    classes: tuple[ImageClass, ...]
    params: dict = field(default_factory=dict)

    @property
    def applying(self) -> list[ImageClass]:
        return [c for c in self.classes if c.applies]

    @property
    def primary(self) -> ImageClass | None:
        hits = self.applying
        geo = [c for c in hits if c.name == "geometric" and c.score >= 0.9]
        return geo[0] if geo else (max(hits, key=lambda c: c.score) if hits else None)

    def get(self, name: str) -> ImageClass | None:
        return next((c for c in self.classes if c.name == name), None)

    def to_dict(self) -> dict:
        primary = self.primary
        return {"primary": primary.name if primary else None, "applying": [c.name for c in self.applying],
                "classes": [c.to_dict() for c in self.classes], "params": self.params}


def _f(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 9)


def _constant_ratio(ratio: np.ndarray, tol: float) -> ImageClass:
    m = float(np.median(ratio))
    p5, p95 = (float(v) for v in np.percentile(ratio, [5, 95]))
    spread = (p95 - p5) / (2 * abs(m)) if m != 0 else math.inf
    offset = abs(m - 1.0)
    k = math.log10(abs(m)) if m != 0 else None
    power = k is not None and abs(k - round(k)) < 0.01 and round(k) != 0
    near = next((name for name, v in KNOWN_FACTORS.items() if abs(m / v - 1) < 0.01), None) if m > 0 else None
    score = max(0.0, 1.0 - spread / (0.1 * offset)) if offset > 0 else 0.0
    applies = offset > tol and score > 0.0
    within = float(np.mean(np.abs(ratio / m - 1) < 0.01)) if m != 0 else 0.0
    what = (f"power of ten (10^{round(k)})" if power else (f"near {near}" if near else "not a power of ten"))
    text = (f"cand/ref = {m:.6g} on signal pixels ({what}), spread ±{spread:.2g}" if applies
            else f"no single factor: median cand/ref {m:.6g}, spread ±{spread:.2g}")
    return ImageClass("constant_ratio", applies, score, text,
                      {"factor": _f(m), "spread_rel": _f(spread), "log10": _f(k), "power_of_ten": bool(power),
                       "exponent": int(round(k)) if power else None, "near_known_factor": near,
                       "fraction_within_1pct": round(within, 4), "n_signal": int(ratio.size)})


def _radial(ratio: np.ndarray, s_idx: np.ndarray, f_idx: np.ndarray, shape, tol: float, n_shells: int,
            center) -> ImageClass:
    from parity.images.shells import radial_shells

    shells = radial_shells(shape, n_shells, beam_center_px=center)
    label = shells.assign(s_idx, f_idx)
    radius = shells.radius_px(s_idx, f_idx)
    rows, spreads = [], []
    for k in range(shells.n_shells):
        sel = ratio[label == k]
        if sel.size < 3:
            continue
        med = float(np.median(sel))
        spreads.append(float(np.median(np.abs(sel - med))))
        rows.append({"shell": k, "r_px": [round(shells.edges_px[k], 1), round(shells.edges_px[k + 1], 1)],
                     "median_ratio": _f(med), "n": int(sel.size)})
    x = radius / max(float(shells.edges_px[-1]), 1.0)
    slope, r2 = 0.0, 0.0
    if ratio.size >= 3 and np.ptp(x) > 0:
        slope, icpt = np.polyfit(x, ratio, 1)
        resid = ratio - (slope * x + icpt)
        ss = float(np.sum((ratio - ratio.mean()) ** 2))
        r2 = max(0.0, 1.0 - float(np.sum(resid ** 2)) / ss) if ss > 0 else 0.0
    meds = [r["median_ratio"] for r in rows]
    span = (max(meds) - min(meds)) if len(meds) >= 2 else 0.0
    steps = np.sign(np.diff(meds)) if len(meds) >= 2 else np.array([])
    way = np.sign(slope)
    monotonic = float(np.mean(steps == way)) if steps.size and way != 0 else 0.0
    within = float(np.median(spreads)) if spreads else 0.0
    applies = len(meds) >= 3 and span > tol and span > 2 * within and monotonic >= 0.75
    score = r2 * monotonic if applies else 0.0
    inner_outer = meds[-1] / meds[0] if len(meds) >= 2 and meds[0] else None
    text = (f"cand/ref goes from {meds[0]:.6g} (inner shell) to {meds[-1]:.6g} (outer): slope {slope:.3g}"
            f" per r_max, R² {r2:.2f}" if applies and meds else
            f"no radial trend (shells span {span:.3g}, R² {r2:.2f})")
    return ImageClass("radial", bool(applies), score, text,
                      {"slope_per_rmax": _f(slope), "r2": _f(r2), "span": _f(span), "within_shell_spread": _f(within),
                       "monotonic_fraction": round(monotonic, 3), "outer_over_inner": _f(inner_outer),
                       "shells": rows, "shell_rule": shells.to_dict()["rule"], "center_px": list(shells.center_px)})


def _peak_mask(ref: np.ndarray, peaks, radius_px: float) -> np.ndarray:
    from scipy import ndimage

    mask = np.zeros(ref.shape, dtype=bool)
    if peaks is None or len(peaks.ref_peaks) == 0:
        return mask
    rp = peaks.ref_peaks
    mask[np.asarray(rp.pixel_slow, dtype=int), np.asarray(rp.pixel_fast, dtype=int)] = True
    r = int(math.ceil(radius_px))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    mask = ndimage.binary_dilation(mask, structure=(yy ** 2 + xx ** 2) <= radius_px ** 2)
    return mask | (ref > float(rp.threshold))


def _peaks_vs_background(ref, cand, peaks, tol: float, radius_px: float) -> list[ImageClass]:
    mask = _peak_mask(ref, peaks, radius_px)
    floor = 1e-6 * float(np.abs(ref).max())
    valid = np.abs(ref) > floor
    rel = np.where(valid, np.abs(cand - ref) / np.where(valid, np.abs(ref), 1.0), 0.0)
    e_peak = float(np.median(rel[mask & valid])) if (mask & valid).any() else None
    e_bg = float(np.median(rel[~mask & valid])) if (~mask & valid).any() else None
    numbers = {"median_rel_err_peaks": _f(e_peak), "median_rel_err_background": _f(e_bg),
               "n_peak_px": int((mask & valid).sum()), "n_background_px": int((~mask & valid).sum()),
               "peak_radius_px": radius_px}
    out = []
    for name, big, small, where in (("peaks_only", e_peak, e_bg, "peak"), ("background_only", e_bg, e_peak, "background")):
        applies = big is not None and small is not None and big > tol and small <= tol
        score = (1.0 - small / big) if applies and big > 0 else 0.0
        text = (f"only {where} pixels differ: median relative error {big:.3g} there, {small:.3g} elsewhere"
                if applies else f"not {where}-only")
        out.append(ImageClass(name, bool(applies), score, text, numbers))
    return out


def _localized(ref, cand, tol: float) -> ImageClass:
    diff = np.abs(cand - ref)
    off = (diff > tol * np.abs(ref)) & (diff > 1e-6 * float(np.abs(ref).max()))
    n_off, n = int(off.sum()), int(off.size)
    frac = n_off / n if n else 0.0
    numbers = {"n_pixels": n_off, "fraction": round(frac, 6)}
    if n_off == 0:
        return ImageClass("localized", False, 0.0, "no pixel differs beyond the tolerance", numbers)
    ss, ff = np.nonzero(off)
    bbox = [int(ss.min()), int(ss.max()), int(ff.min()), int(ff.max())]
    area = (bbox[1] - bbox[0] + 1) * (bbox[3] - bbox[2] + 1)
    edge = (ss <= 1) | (ff <= 1) | (ss >= ref.shape[0] - 2) | (ff >= ref.shape[1] - 2)
    edge_frac = float(edge.mean())
    kind = ("few_pixels" if n_off <= LOCALIZED_FEW_PX else "edges" if edge_frac >= 0.8
            else "roi" if area <= 0.25 * n and n_off / area >= 0.3 else "scattered")
    applies = frac <= LOCALIZED_MAX_FRACTION or n_off <= LOCALIZED_FEW_PX
    score = max(0.0, 1.0 - frac / LOCALIZED_MAX_FRACTION) if applies else 0.0
    numbers.update(bbox_slow_fast=bbox, bbox_fraction=round(area / n, 6), edge_fraction=round(edge_frac, 4),
                   where=kind, first_pixels=[[int(a), int(b)] for a, b in zip(ss[:5], ff[:5])])
    text = (f"{n_off} pixel(s) differ ({frac:.2%} of the image; {kind.replace('_', ' ')}, slow {bbox[0]}-{bbox[1]},"
            f" fast {bbox[2]}-{bbox[3]})" if applies else f"{frac:.1%} of the image differs: not localized")
    return ImageClass("localized", bool(applies), score, text, numbers)


def _geometric(ref, cand) -> ImageClass:
    from parity.triage.geometry import geometric_numbers

    g = geometric_numbers(ref, cand)
    best = g["best"]
    shift = g["shift"]
    if best == "shift":
        what = f"shifted by {shift['shift_px'][0]} slow, {shift['shift_px'][1]} fast px"
    elif best == "subpixel_shift":
        what = (f"shifted by {shift['shift_subpx'][0]:.2f} slow, {shift['shift_subpx'][1]:.2f} fast px"
                + (" (half a pixel)" if shift["half_pixel"] else ""))
    else:
        from parity.images.metrics import ORIENTATIONS

        what = ORIENTATIONS[best][1] if best in ORIENTATIONS else "as given"
    corr_best = g["corr_best"]
    text = (f"the candidate is the reference {what}: correlation {corr_best:.6g} after undoing it,"
            f" {g['corr_as_given']:.6g} as given" if g["applies"] else
            f"no shift, flip or transpose recovers the correlation (best: {best}, gain {g['gain']:.2f})")
    return ImageClass("geometric", g["applies"], g["gain"] if g["applies"] else 0.0, text, g)


def classify_difference(ref: np.ndarray, cand: np.ndarray, *, rel_floor: float = 0.01, tol: float = 1e-3,
                        peaks=None, n_shells: int = 5, beam_center_px=None,
                        peak_radius_px: float = 3.0) -> Classification:
    """Classify cand − ref (module table); ``peaks`` is a :class:`parity.images.peak_table.PeakComparison`."""
    from parity.images.io import check_image, check_same_shape

    ref = check_image(ref, name="reference").astype(np.float64)
    cand = check_image(cand, name="candidate").astype(np.float64)
    check_same_shape(ref, cand)
    params = {"rel_floor": rel_floor, "tol": tol, "n_shells": n_shells, "peak_radius_px": peak_radius_px}
    top = float(np.abs(ref).max())
    signal = (ref > rel_floor * top) & (ref > 0)
    classes: list[ImageClass] = [_geometric(ref, cand)]
    if signal.sum() >= 3:
        s_idx, f_idx = np.nonzero(signal)
        ratio = cand[signal] / ref[signal]
        classes.append(_constant_ratio(ratio, tol))
        classes.append(_radial(ratio, s_idx, f_idx, ref.shape, tol, n_shells, beam_center_px))
    else:
        for name in ("constant_ratio", "radial"):
            classes.append(ImageClass(name, False, 0.0, "fewer than 3 signal pixels in the reference"))
    classes += _peaks_vs_background(ref, cand, peaks, tol, peak_radius_px)
    classes.append(_localized(ref, cand, tol))
    if classes[0].applies and classes[0].score >= 0.9:   # a moved image: ratios say nothing
        classes = [classes[0]] + [c if c.name in ("localized",) else ImageClass(c.name, False, 0.0,
                                  c.text + " (not judged: the image is moved)", c.numbers) for c in classes[1:]]
    return Classification(tuple(classes), params)
