"""The C's image statistics (reference F5): max_I and where, mean, rms, rmsd, solid angle."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImageStats:
    max_I: float
    max_I_x_m: float
    max_I_y_m: float
    mean: float
    rms: float
    rmsd: float
    rendered: int


def roi_masks(setup) -> tuple[np.ndarray, np.ndarray]:
    """(in_roi, rendered) boolean (spixels, fpixels) arrays; rendered = ROI minus masked pixels."""
    n_s, n_f = setup.det.spixels, setup.det.fpixels
    xmin, xmax, ymin, ymax = setup.roi
    f = np.arange(n_f)[None, :]
    s = np.arange(n_s)[:, None]
    in_roi = (f >= xmin) & (f <= xmax) & (s >= ymin) & (s <= ymax)
    rendered = in_roi if setup.mask is None else in_roi & (setup.mask != 0)
    return in_roi, rendered


def image_stats(image: np.ndarray, setup) -> ImageStats:
    """Statistics exactly as the C accumulates them (double sums over the float32 pixels)."""
    in_roi, rendered = roi_masks(setup)
    vals = image[rendered].astype(np.float64)
    n = vals.size
    max_I, mx, my = 0.0, 0.0, 0.0
    if n and vals.max() > 0.0:
        flat = np.where(rendered, image.astype(np.float64), -np.inf).ravel()
        idx = int(np.argmax(flat))  # first occurrence: the C raises max_I only when strictly greater
        max_I = float(flat[idx])
        s_i, f_i = divmod(idx, image.shape[1])
        os_ = setup.oversample
        sub = setup.det.pixel_m / os_
        mx = sub * (f_i * os_ + os_ - 1) + sub / 2.0
        my = sub * (s_i * os_ + os_ - 1) + sub / 2.0
    total = float(vals.sum())
    sumsqr = float((vals * vals).sum())
    nn = n if n > 0 else 1
    mean = total / nn
    nn = nn if nn > 1 else 2
    rms = math.sqrt(sumsqr / (nn - 1))
    roi_vals = image[in_roi].astype(np.float64)
    m = roi_vals.size if roi_vals.size > 1 else 2
    rmsd = math.sqrt(float(((roi_vals - mean) ** 2).sum()) / (m - 1))
    return ImageStats(max_I, mx, my, mean, rms, rmsd, n)
