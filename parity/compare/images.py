"""Image helpers of nb-compare: the shape a runner wrote, nearest-neighbour resampling, 8-bit PNGs.

Preview rule (summary.json ``png_scale_method``): ``c.png`` and ``py.png`` show the *whole* image
(after resampling), linear from 0 (black) to ``scale`` (white), values above clipped, where
``scale`` is the ``--png-scale`` percentile (default 99.5) of the union of both images' ROI pixels;
if that is not positive, the union maximum; if that is not positive either, 1. ``diff.png`` shows
Δ = py − c with mid-grey 128 for 0 and ±``diff_scale`` at 0/255, ``diff_scale`` the same percentile
of |Δ| over the ROI (same fallbacks). PNGs are written by a small zlib encoder (no matplotlib).
"""
from __future__ import annotations

import math
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from parity.errors import ParityInputError
from parity.images.roi import Roi

__all__ = ["float_image_shape", "read_float_image", "resample_nearest", "png_scale", "to_gray8",
           "diff_to_gray8", "png_gray8", "PNG_SCALE_METHOD", "DIFF_PNG_METHOD"]

PNG_SCALE_METHOD = "linear: 0 -> 0, >= scale -> 255; scale = percentile of the union of both images' ROI pixels"
DIFF_PNG_METHOD = "linear: py - c, 0 -> 128, +-scale -> 255/0; scale = percentile of |py - c| over the ROI"
_STDOUT_SHAPE = re.compile(r"\((\d+)x(\d+) pixels\)")


def float_image_shape(n_bytes: int, *, expected: tuple[int, int] | None, stdout: str = "",
                      name: str = "image") -> tuple[int, int]:
    """``(slow, fast)`` of a raw float32 file of ``n_bytes``.

    In order: the shape the arguments give (``expected``) if the byte count fits; the runner's
    own ``(FxS pixels)`` line on stdout (the C and simcore print it) if it fits; a square; else
    ParityInputError (exit 5).

    >>> float_image_shape(4 * 6, expected=None, stdout="pixel=0.0001 meters (3x2 pixels)")
    (2, 3)
    >>> float_image_shape(4 * 16, expected=(2, 2))
    (4, 4)
    """
    if n_bytes <= 0 or n_bytes % 4:
        raise ParityInputError(f"{name}: {n_bytes} bytes is not a float32 image")
    n_px = n_bytes // 4
    if expected is not None and expected[0] * expected[1] == n_px:
        return (int(expected[0]), int(expected[1]))
    for match in _STDOUT_SHAPE.finditer(stdout or ""):
        fast, slow = int(match.group(1)), int(match.group(2))
        if fast * slow == n_px:
            return (slow, fast)
    side = math.isqrt(n_px)
    if side * side == n_px:
        return (side, side)
    raise ParityInputError(f"{name}: {n_bytes} bytes fit neither the expected shape {expected} nor a square")


def read_float_image(path: str | Path, *, expected: tuple[int, int] | None, stdout: str = "",
                     name: str = "image") -> np.ndarray:
    """A raw float32 little-endian image as a (slow, fast) float32 array (shape by :func:`float_image_shape`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParityInputError(f"{name}: cannot read {path.name} ({exc.strerror or exc})") from None
    shape = float_image_shape(len(data), expected=expected, stdout=stdout, name=name)
    return np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32)


def resample_nearest(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``shape = (slow, fast)`` by nearest neighbour (pixel centres mapped).

    Output pixel i takes input pixel floor((i + 0.5) * n_in / n_out) on each axis.

    >>> resample_nearest(np.arange(4.0).reshape(2, 2), (4, 4))[0].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    n_slow, n_fast = (int(v) for v in shape)
    rows = np.minimum(((np.arange(n_slow) + 0.5) * image.shape[0] / n_slow).astype(np.int64), image.shape[0] - 1)
    cols = np.minimum(((np.arange(n_fast) + 0.5) * image.shape[1] / n_fast).astype(np.int64), image.shape[1] - 1)
    return np.ascontiguousarray(image[np.ix_(rows, cols)])


def png_scale(values: np.ndarray, *, percentile: float) -> float:
    """The preview scale: ``percentile`` of ``values``; the maximum if that is not > 0; else 1."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return 1.0
    scale = float(np.percentile(flat, percentile))
    if not scale > 0:
        scale = float(flat.max())
    return scale if scale > 0 and math.isfinite(scale) else 1.0


def to_gray8(image: np.ndarray, *, scale: float) -> np.ndarray:
    """Linear 0..``scale`` -> 0..255 (uint8), clipped."""
    return np.clip(np.rint(np.asarray(image, dtype=np.float64) / scale * 255.0), 0, 255).astype(np.uint8)


def diff_to_gray8(diff: np.ndarray, *, scale: float) -> np.ndarray:
    """Signed Δ -> uint8 with 0 at 128 and ±``scale`` at 255/1 (clipped)."""
    return np.clip(np.rint(128.0 + 127.0 * np.asarray(diff, dtype=np.float64) / scale), 0, 255).astype(np.uint8)


def png_gray8(pixels: np.ndarray) -> bytes:
    """Encode a 2-D uint8 array as an 8-bit grey-scale PNG (rows = slow, columns = fast)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim != 2 or pixels.size == 0:
        raise ValueError(f"pixels must be a non-empty 2-D array, got shape {pixels.shape}")
    height, width = pixels.shape
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), pixels]).tobytes()  # filter byte 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def roi_pixels(image: np.ndarray, roi: Roi) -> np.ndarray:
    """The ROI's pixels as a flat float64 array."""
    return np.asarray(image[roi.slices], dtype=np.float64).ravel()
