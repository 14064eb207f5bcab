"""Whole-image parity metrics: one definition for tests, CLI and benchmarks (``METRICS_VERSION``).

Definitions (version 1). ``ref`` is the reference (C) image, ``cand`` the candidate; both are
converted to float64 and restricted to the ROI (whole image by default); Δ = cand − ref.

=====================  ================================================================================
correlation            Pearson r of the pixel values; n/a when either image is constant in the ROI.
mse, rmse              mean(Δ²) and its square root.
max_abs_diff           max |Δ|, at ``max_abs_diff_at`` = first (slow, fast) in raster order.
ref_sum, cand_sum      Σ ref, Σ cand.
sum_ratio              **cand_sum / ref_sum** (candidate over reference); n/a when the reference sum is
                       ≈ 0: |ref_sum| ≤ max(1e-30, 1e-9·Σ|ref|).
max_rel_err            max |Δ|/|ref| over the pixels with |ref| > floor, floor = ``rel_floor_fraction``
                       × max|ref| (default 0.01 = 1 % of the reference maximum); ``n_above_floor`` says
                       how many pixels that is; n/a when the reference is all zero.
argmax_match           "same brightest pixel up to exact ties": each image's argmax (first in raster
                       order) is a pixel where the *other* image is within a relative ``argmax_rel_tol``
                       (1e-5) of its own maximum: |max(o) − o[p]| ≤ tol·|max(o)|.
ssim                   mean SSIM, Gaussian window σ = 1.5 px (scipy.ndimage), C1 = (0.01 L)²,
                       C2 = (0.03 L)², L = max(ref) − min(ref); only when asked; n/a when L = 0.
=====================  ================================================================================

Orientation check (``orientation=True``): the correlation of the whole reference with the whole
candidate as given, transposed (square images), flipped along slow (rows reversed), flipped along
fast and rotated 180°. ``orientation.best`` names the one that correlates best; it is not
``as_given`` only when it beats the candidate as given by more than ``ORIENTATION_MARGIN`` (0.01),
and then ``orientation.hint`` says so: a port that swapped slow and fast gives correlation ~0.1
as given and ~1 transposed.

Locations are (slow, fast) in full-image pixel indices even when an ROI is used. NaN/Inf in either
input is refused (ParityInputError, exit 5); different shapes are ParityShapeError (exit 4).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional, Union

import numpy as np

from parity.errors import ParityUsageError
from parity.images.io import check_image, check_same_shape
from parity.images.roi import Roi

__all__ = ["METRICS_VERSION", "NotAvailable", "ImageMetrics", "compare_images", "argmax_tie_match",
           "is_available", "check_orientation", "ORIENTATIONS"]

METRICS_VERSION = "1"
DEFAULT_REL_FLOOR_FRACTION = 0.01
DEFAULT_ARGMAX_REL_TOL = 1e-5
_SUM_ABS_FLOOR = 1e-30
_SUM_CANCEL_RTOL = 1e-9
_SSIM_SIGMA_PX = 1.5
ORIENTATION_MARGIN = 0.01
ORIENTATIONS = {      # name -> (candidate view, words for the hint)
    "as_given": (lambda a: a, "as given"),
    "transpose": (lambda a: a.T, "transposed (slow and fast swapped)"),
    "flip_slow": (lambda a: a[::-1, :], "flipped along slow (rows reversed)"),
    "flip_fast": (lambda a: a[:, ::-1], "flipped along fast (columns reversed)"),
    "rotate_180": (lambda a: a[::-1, ::-1], "rotated 180 degrees"),
}


@dataclass(frozen=True)
class NotAvailable:
    """A metric that is undefined for these inputs, with the reason; shown as ``n/a``."""

    reason: str

    def __str__(self) -> str:
        return "n/a"


Metric = Union[float, NotAvailable]


def is_available(value: object) -> bool:
    """True unless ``value`` is a :class:`NotAvailable`."""
    return not isinstance(value, NotAvailable)


@dataclass(frozen=True)
class ImageMetrics:
    """Result of :func:`compare_images`; n/a fields hold a :class:`NotAvailable`."""

    metrics_version: str
    shape: tuple[int, int]
    roi: Roi
    n_pixels: int
    correlation: Metric
    mse: float
    rmse: float
    max_abs_diff: float
    max_abs_diff_at: tuple[int, int]
    ref_sum: float
    cand_sum: float
    sum_ratio: Metric
    ref_max: float
    cand_max: float
    rel_floor_fraction: float
    rel_floor: Metric
    max_rel_err: Metric
    max_rel_err_at: tuple[int, int] | None
    n_above_floor: int
    ref_argmax: tuple[int, int]
    cand_argmax: tuple[int, int]
    argmax_match: bool
    ssim: Metric
    orientation: Optional[dict] = None

    def to_dict(self) -> dict:
        """JSON-ready dict: n/a values become ``"n/a"`` and their reasons go to ``"n/a_reasons"``."""
        out: dict = {}
        reasons: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, NotAvailable):
                out[field.name] = "n/a"
                reasons[field.name] = value.reason
            elif isinstance(value, Roi):
                out[field.name] = value.to_dict()
            elif isinstance(value, tuple):
                out[field.name] = list(value)
            else:
                out[field.name] = value
        out["sum_ratio_definition"] = "cand_sum / ref_sum"
        out["n/a_reasons"] = reasons
        return out


def _validate_fraction(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
        raise ParityUsageError(f"{name} must be a finite number, got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ParityUsageError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def _argmax(image: np.ndarray) -> tuple[int, int]:
    s, f = np.unravel_index(int(np.argmax(image)), image.shape)
    return (int(s), int(f))


def argmax_tie_match(ref: np.ndarray, cand: np.ndarray, *, rel_tol: float = DEFAULT_ARGMAX_REL_TOL) -> bool:
    """Whether both images have the same brightest pixel up to exact ties.

    True when ``cand`` at ref's argmax is within ``rel_tol`` (relative) of cand's maximum *and*
    ``ref`` at cand's argmax is within ``rel_tol`` of ref's maximum. Two equal maxima anywhere
    count as a tie, so a symmetric pattern whose argmax lands on a different (equal) pixel passes.

    >>> ref = np.array([[1.0, 5.0, 5.0, 1.0]])          # a flat top: argmax is the first 5
    >>> argmax_tie_match(ref, np.array([[1.0, 4.99999, 5.0, 1.0]]))   # last digits moved it
    True
    >>> argmax_tie_match(ref, np.array([[1.0, 4.9, 5.0, 1.0]]))
    False
    """
    rel_tol = _validate_fraction(rel_tol, "rel_tol")
    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    return _argmax_tie(ref, cand, rel_tol)


def _argmax_tie(ref: np.ndarray, cand: np.ndarray, rel_tol: float) -> bool:
    def within(other: np.ndarray, pixel: tuple[int, int]) -> bool:
        top = float(other.max())
        return abs(top - float(other[pixel])) <= rel_tol * abs(top)

    return within(cand, _argmax(ref)) and within(ref, _argmax(cand))


def _correlation(ref: np.ndarray, cand: np.ndarray) -> Metric:
    dr, dc = ref - ref.mean(), cand - cand.mean()
    var_r, var_c = float(np.dot(dr.ravel(), dr.ravel())), float(np.dot(dc.ravel(), dc.ravel()))
    if var_r == 0.0 or var_c == 0.0:
        which = "reference" if var_r == 0.0 else "candidate"
        return NotAvailable(f"{which} image is constant in the ROI")
    r = float(np.dot(dr.ravel(), dc.ravel())) / np.sqrt(var_r * var_c)
    return float(min(1.0, max(-1.0, r)))


def _ssim(ref: np.ndarray, cand: np.ndarray) -> Metric:
    from scipy import ndimage

    data_range = float(ref.max() - ref.min())
    if data_range == 0.0:
        return NotAvailable("reference is constant (SSIM data range 0)")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(x, _SSIM_SIGMA_PX, mode="reflect", truncate=3.5)

    mu_r, mu_c = blur(ref), blur(cand)
    var_r = blur(ref * ref) - mu_r ** 2
    var_c = blur(cand * cand) - mu_c ** 2
    cov = blur(ref * cand) - mu_r * mu_c
    ssim_map = ((2 * mu_r * mu_c + c1) * (2 * cov + c2)) / ((mu_r ** 2 + mu_c ** 2 + c1) * (var_r + var_c + c2))
    return float(ssim_map.mean())


def check_orientation(ref: np.ndarray, cand: np.ndarray) -> dict:
    """Whether ``cand`` matches ``ref`` better transposed, flipped or rotated (see module docstring).

    Returns ``{"best", "correlation", "as_given", "tried": {name: r}, "hint"}``; correlations are
    "n/a" for a constant image, ``hint`` is None unless ``best`` is not ``as_given``.

    >>> ref = np.arange(12.0).reshape(3, 4) ** 2
    >>> o = check_orientation(ref, ref[::-1, :])
    >>> o["best"], o["correlation"], o["as_given"] < 0.5
    ('flip_slow', 1.0, True)
    >>> check_orientation(ref, ref)["hint"] is None
    True
    """
    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    r = ref.astype(np.float64)
    tried: dict = {}
    for name, (view, _) in ORIENTATIONS.items():
        if name == "transpose" and ref.shape[0] != ref.shape[1]:
            continue
        value = _correlation(r, view(cand).astype(np.float64))
        tried[name] = value if is_available(value) else "n/a"
    scores = {k: v for k, v in tried.items() if not isinstance(v, str)}
    as_given = tried["as_given"]
    best = "as_given"
    if scores and not isinstance(as_given, str):
        top = max(scores, key=lambda k: scores[k])
        if scores[top] > as_given + ORIENTATION_MARGIN:
            best = top
    hint = None
    if best != "as_given":
        hint = (f"the candidate matches the reference better {ORIENTATIONS[best][1]}: correlation"
                f" {scores[best]:.6g} vs {as_given:.6g} as given; check the port's axis order")
    return {"best": best, "correlation": tried[best], "as_given": as_given, "tried": tried, "hint": hint}


def compare_images(ref: np.ndarray, cand: np.ndarray, *, roi: Roi | None = None,
                   rel_floor_fraction: float = DEFAULT_REL_FLOOR_FRACTION,
                   argmax_rel_tol: float = DEFAULT_ARGMAX_REL_TOL, ssim: bool = False,
                   orientation: bool = False) -> ImageMetrics:
    """All parity metrics of ``cand`` against ``ref`` (definitions in the module docstring).

    Parameters
    ----------
    ref, cand : ndarray of shape (slow, fast)
        Real, finite images of the same shape; not modified.
    roi : Roi, optional
        Half-open (slow, fast) region to compare (see :mod:`parity.images.roi`); whole image by default.
    rel_floor_fraction : float
        Floor of the relative error as a fraction of the reference maximum, in [0, 1).
    argmax_rel_tol : float
        Relative tolerance of the argmax tie rule.
    ssim : bool
        Also compute SSIM (costs a few Gaussian filters).
    orientation : bool
        Also run :func:`check_orientation` on the whole images (four more correlations).

    Returns
    -------
    ImageMetrics

    Examples
    --------
    >>> ref = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> m = compare_images(ref, 2 * ref)
    >>> m.correlation, m.sum_ratio, m.argmax_match
    (1.0, 2.0, True)
    >>> compare_images(np.ones((2, 2)), ref).to_dict()["correlation"]
    'n/a'
    """
    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    rel_floor_fraction = _validate_fraction(rel_floor_fraction, "rel_floor_fraction")
    argmax_rel_tol = _validate_fraction(argmax_rel_tol, "argmax_rel_tol")
    roi = Roi.full(ref.shape) if roi is None else roi.check_within(ref.shape)
    r = ref[roi.slices].astype(np.float64)
    c = cand[roi.slices].astype(np.float64)
    s0, f0 = roi.offset

    def at(local: tuple[int, int]) -> tuple[int, int]:
        return (local[0] + s0, local[1] + f0)

    diff = c - r
    abs_diff = np.abs(diff)
    mse = float(np.mean(diff * diff))
    ref_sum, cand_sum = float(r.sum()), float(c.sum())
    if abs(ref_sum) <= max(_SUM_ABS_FLOOR, _SUM_CANCEL_RTOL * float(np.abs(r).sum())):
        sum_ratio: Metric = NotAvailable(f"reference sum is ~0 ({ref_sum:.3g})")
    else:
        sum_ratio = cand_sum / ref_sum

    ref_absmax = float(np.abs(r).max())
    if ref_absmax == 0.0:
        rel_floor: Metric = NotAvailable("reference is all zero")
        max_rel: Metric = NotAvailable("reference is all zero")
        max_rel_at, n_above = None, 0
    else:
        rel_floor = rel_floor_fraction * ref_absmax
        above = np.flatnonzero(np.abs(r).ravel() > rel_floor)     # never empty: max|ref| > floor
        n_above = int(above.size)
        rel = abs_diff.ravel()[above] / np.abs(r.ravel()[above])
        j = int(np.argmax(rel))
        k = np.unravel_index(int(above[j]), r.shape)
        max_rel, max_rel_at = float(rel[j]), at((int(k[0]), int(k[1])))

    return ImageMetrics(
        metrics_version=METRICS_VERSION, shape=(int(ref.shape[0]), int(ref.shape[1])), roi=roi,
        n_pixels=int(r.size), correlation=_correlation(r, c), mse=mse, rmse=float(np.sqrt(mse)),
        max_abs_diff=float(abs_diff.max()), max_abs_diff_at=at(_argmax(abs_diff)),
        ref_sum=ref_sum, cand_sum=cand_sum, sum_ratio=sum_ratio,
        ref_max=float(r.max()), cand_max=float(c.max()), rel_floor_fraction=rel_floor_fraction,
        rel_floor=rel_floor, max_rel_err=max_rel, max_rel_err_at=max_rel_at, n_above_floor=n_above,
        ref_argmax=at(_argmax(r)), cand_argmax=at(_argmax(c)),
        argmax_match=_argmax_tie(r, c, argmax_rel_tol),
        ssim=_ssim(r, c) if ssim else NotAvailable("not requested"),
        orientation=check_orientation(ref, cand) if orientation else None,
    )
