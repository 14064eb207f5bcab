"""The C's image statistics (reference F5): max_I and where, mean, rms, rmsd, solid angle."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simcore.noise.poisson import roi_bounds


@dataclass(frozen=True)
class ImageStats:
    max_I: float
    max_I_x_m: float
    max_I_y_m: float
    mean: float
    rms: float
    rmsd: float
    rendered: int


def image_stats(image: np.ndarray, setup) -> ImageStats:
    """Statistics as the C accumulates them (double values of the float32 pixels; max_I is the first
    strictly largest rendered pixel, NaN never wins). The ROI is a rectangle, so it is read as a
    view; only a mask needs a gather."""
    ss, fs = roi_bounds(image.shape, setup.roi)
    block = image[ss, fs].astype(np.float64)           # every ROI pixel (rmsd), raster order
    keep = None if setup.mask is None else np.asarray(setup.mask)[ss, fs] != 0
    vals = block.ravel() if keep is None else block[keep]   # rendered pixels
    n = vals.size
    max_I, mx, my = 0.0, 0.0, 0.0
    if n:
        cand = block if keep is None else np.where(keep, block, -np.inf)
        top = float(np.fmax.reduce(cand, axis=None))
        if top > 0.0:
            idx = int(np.argmax(cand.ravel() == top))     # first occurrence, as the C's strict '>'
            s_i, f_i = ss.start + idx // block.shape[1], fs.start + idx % block.shape[1]
            max_I = top
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
    m = block.size if block.size > 1 else 2
    dev = block.ravel() - mean                          # 1-D: the same summation order as before
    dev *= dev
    rmsd = math.sqrt(float(dev.sum()) / (m - 1))
    return ImageStats(max_I, mx, my, mean, rms, rmsd, n)
