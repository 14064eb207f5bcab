"""The C program's PGM preview (``-pgmfile``, default ``image.pgm``).

Header ``P5\\n<fpixels> <spixels>\\n# pixels scaled by %lg\\n255\\n``, then one byte per pixel,
fast index fastest: ``(unsigned char) min(255, float·pgm_scale)`` (truncation, computed in double);
pixels outside the ROI are 0. The scale is ``-pgmscale`` if > 0, else ``250/(5·rmsd)`` if the
float image's rmsd > 0, else the int file's scale (:func:`pgm_scale_rule`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from simcore.cfmt import c_cast_uint8, c_g
from simcore.errors import SimcoreUsageError
from simcore.noise.poisson import roi_bounds
from simcore.io.smv import write_bytes_atomic

__all__ = ["pgm_scale_rule", "pgm_image", "pgm_bytes", "write_pgm"]


def pgm_scale_rule(pgm_scale: float, *, rmsd: float, intfile_scale: float) -> float:
    """The C's rule: ``pgm_scale`` if > 0, else ``250/(5·rmsd)`` if ``rmsd > 0``, else ``intfile_scale``
    (the value after the int file's own scale rule)."""
    if pgm_scale <= 0.0:
        return 250.0 / (5.0 * rmsd) if rmsd > 0.0 else float(intfile_scale)
    return float(pgm_scale)


def pgm_image(float_image, *, pgm_scale: float, roi=None) -> np.ndarray:
    """(slow, fast) uint8 pixels as the C computes them (``float·scale`` in double, capped at 255,
    cast with the x86-64 ``(unsigned char)`` conversion; outside the ROI 0)."""
    img = np.asarray(float_image, dtype=np.float32)
    if img.ndim != 2:
        raise SimcoreUsageError(f"float_image must be 2-D (slow, fast), got shape {img.shape}")
    out = np.zeros(img.shape, dtype=np.uint8)
    ss, fs = roi_bounds(img.shape, roi)
    test = img[ss, fs].astype(np.float64)
    test *= float(pgm_scale)
    np.minimum(test, 255.0, out=test)           # the C caps at 255 only (NaN stays NaN)
    out[ss, fs] = c_cast_uint8(test)
    return out


def pgm_bytes(image, *, pgm_scale: float) -> bytes:
    """The whole PGM file for a (slow, fast) uint8 image."""
    img = np.asarray(image)
    if img.ndim != 2 or img.dtype != np.uint8:
        raise SimcoreUsageError(f"image must be a 2-D uint8 array, got {img.dtype} {img.shape}")
    spix, fpix = img.shape
    head = f"P5\n{fpix} {spix}\n# pixels scaled by {c_g(pgm_scale)}\n255\n".encode("ascii")
    return head + np.ascontiguousarray(img).tobytes()


def write_pgm(path, image, *, pgm_scale: float, overwrite: bool = False) -> Path:
    """Write the PGM file like the C (atomically; refuses to overwrite unless asked)."""
    return write_bytes_atomic(path, pgm_bytes(image, pgm_scale=pgm_scale), overwrite=overwrite)
