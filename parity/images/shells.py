"""Radial shells around the beam centre, so peak tables see the whole detector, not only its centre.

A float32 precision loss in a port shows on **high-index** (far from the beam, high-resolution)
peaks first; the brightest peaks are mostly low-order, so a brightest-N table can match 100 % with
every outer peak 8x too low. Shells split the detector by the distance ``r`` (pixels) of each
pixel or peak from the beam centre, so each shell gets its own peaks and its own numbers.

Rule (one, documented): **equal-area shells** — the K shells cover equal numbers of detector pixels
(of the ROI): the edges are the ``k/K`` quantiles of the pixel-centre radii. Shell 0 is the centre,
shell K-1 the outermost (the corners of a square detector). A shell is half-open
``[edge_k, edge_k+1)``; the last one also holds its outer edge, and positions beyond the edges
go to the first or last shell. Radius is in pixels (not resolution: that needs the geometry, and
for a flat detector it is monotonic in ``r`` anyway, so the shells are resolution shells).

The default centre is the detector's geometric centre ``((n_slow - 1) / 2, (n_fast - 1) / 2)``
in pixel indices, within a pixel of nanoBragg's default beam in every convention; give
``beam_center_px`` for an off-centre beam.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from parity.errors import ParityUsageError

__all__ = ["RadialShells", "radial_shells", "shell_thresholds", "cut_per_shell", "SHELL_RULE"]

SHELL_RULE = "equal-area: each shell covers the same number of detector pixels (quantiles of pixel radius)"
_MAX_SAMPLES = 1 << 20     # radius quantiles are taken on a regular sub-grid of at most ~1 M pixels


@dataclass(frozen=True)
class RadialShells:
    """K radial shells: ``center_px`` (slow, fast) in full-image pixel indices, ``edges_px`` (K + 1)
    radii in pixels, increasing.

    >>> sh = RadialShells(center_px=(0.0, 0.0), edges_px=(0.0, 10.0, 20.0))
    >>> sh.assign([1.0, 0.0, 30.0], [2.0, 10.0, 0.0]).tolist()
    [0, 1, 1]
    >>> sh.label(1)
    'shell 1 (r 10-20 px)'
    """

    center_px: tuple[float, float]
    edges_px: tuple[float, ...]

    @property
    def n_shells(self) -> int:
        return len(self.edges_px) - 1

    def radius_px(self, slow_px, fast_px) -> np.ndarray:
        """Distance (pixels) of positions from the centre."""
        return np.hypot(np.asarray(slow_px, dtype=np.float64) - self.center_px[0],
                        np.asarray(fast_px, dtype=np.float64) - self.center_px[1])

    def assign(self, slow_px, fast_px) -> np.ndarray:
        """Shell index (int64, 0..K-1) of each position."""
        inner = np.asarray(self.edges_px[1:-1], dtype=np.float64)
        return np.searchsorted(inner, self.radius_px(slow_px, fast_px), side="right").astype(np.int64)

    def pixel_shells(self, shape: Sequence[int], *, origin: Sequence[int] = (0, 0)) -> np.ndarray:
        """Shell index (int16) of every pixel of an image of ``shape`` whose pixel [0, 0] is the
        full-image pixel ``origin`` (an ROI's offset)."""
        s = np.arange(int(shape[0]), dtype=np.float64) + origin[0] - self.center_px[0]
        f = np.arange(int(shape[1]), dtype=np.float64) + origin[1] - self.center_px[1]
        r = np.sqrt(s[:, None] ** 2 + f[None, :] ** 2)
        inner = np.asarray(self.edges_px[1:-1], dtype=np.float64)
        return np.searchsorted(inner, r, side="right").astype(np.int16)

    def offset(self, slow: float, fast: float) -> "RadialShells":
        """The same shells with the centre shifted by (slow, fast) pixels (full ↔ ROI-local)."""
        return RadialShells((self.center_px[0] + slow, self.center_px[1] + fast), self.edges_px)

    def label(self, k: int) -> str:
        return f"shell {k} (r {self.edges_px[k]:.0f}-{self.edges_px[k + 1]:.0f} px)"

    def to_dict(self) -> dict:
        return {"rule": SHELL_RULE, "n_shells": self.n_shells, "center_px": list(self.center_px),
                "edges_px": list(self.edges_px)}


def _validate_count(n_shells: int) -> int:
    if isinstance(n_shells, (bool, np.bool_)) or not isinstance(n_shells, (int, np.integer)) \
            or not 1 <= n_shells <= 100:
        raise ParityUsageError(f"shells must be an integer in [1, 100], got {n_shells!r}")
    return int(n_shells)


def _validate_center(center: Optional[Sequence[float]], shape: tuple[int, int]) -> tuple[float, float]:
    if center is None:
        return ((shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0)
    try:
        s, f = (float(v) for v in center)
    except (TypeError, ValueError):
        raise ParityUsageError(f"beam centre must be two numbers (slow, fast) px, got {center!r}") from None
    if not (math.isfinite(s) and math.isfinite(f)):
        raise ParityUsageError(f"beam centre must be finite, got {center!r}")
    return (s, f)


def radial_shells(shape: Sequence[int], n_shells: int, *, beam_center_px: Optional[Sequence[float]] = None,
                  region: Optional[tuple[int, int, int, int]] = None) -> RadialShells:
    """Equal-area shells (see the module docstring) for an image of ``shape = (slow, fast)``.

    Parameters
    ----------
    shape : (int, int)
        Full image shape.
    n_shells : int, in [1, 100]
        Number of shells K.
    beam_center_px : (float, float), optional
        (slow, fast) beam centre in pixel indices; default the detector's geometric centre.
    region : (slow_start, slow_stop, fast_start, fast_stop), optional
        Half-open pixel region whose pixels share the area out (an ROI); default the whole image.

    >>> sh = radial_shells((100, 100), 4)
    >>> sh.n_shells, sh.center_px, [round(e) for e in sh.edges_px]
    (4, (49.5, 49.5), [1, 28, 40, 49, 70])
    """
    shape = (int(shape[0]), int(shape[1]))
    k = _validate_count(n_shells)
    center = _validate_center(beam_center_px, shape)
    s0, s1, f0, f1 = region if region is not None else (0, shape[0], 0, shape[1])
    step = max(1, int(math.ceil(math.sqrt((s1 - s0) * (f1 - f0) / _MAX_SAMPLES))))
    s = np.arange(s0, s1, step, dtype=np.float64) - center[0]
    f = np.arange(f0, f1, step, dtype=np.float64) - center[1]
    r = np.sqrt(s[:, None] ** 2 + f[None, :] ** 2).ravel()
    edges = np.quantile(r, np.linspace(0.0, 1.0, k + 1))
    edges[0], edges[-1] = float(r.min()), float(r.max())
    if np.any(np.diff(edges) <= 0):
        raise ParityUsageError(f"{k} shells do not fit in a {s1 - s0} x {f1 - f0} px region; use fewer")
    return RadialShells(center_px=center, edges_px=tuple(float(e) for e in edges))


def shell_thresholds(image: np.ndarray, shells: RadialShells, percentile: float) -> np.ndarray:
    """The ``percentile`` of each shell's own pixels (inf for a shell with no pixel in the image)."""
    labels = shells.pixel_shells(image.shape)
    return np.array([float(np.percentile(image[labels == k], percentile)) if (labels == k).any() else np.inf
                     for k in range(shells.n_shells)])


def cut_per_shell(kept: np.ndarray, shell: np.ndarray, top_n: Optional[int]) -> np.ndarray:
    """The first ``top_n`` of ``kept`` (indices, best first) in each shell (``shell[kept]``), order kept.

    >>> cut_per_shell(np.array([3, 0, 1, 2]), np.array([0, 1, 0, 0]), 1).tolist()
    [3, 1]
    """
    if top_n is None:
        return kept
    rank = np.zeros(len(kept), dtype=np.int64)
    seen: dict[int, int] = {}
    for i, k in enumerate(shell[kept]):
        rank[i] = seen.get(int(k), 0)
        seen[int(k)] = rank[i] + 1
    return kept[rank < top_n]
