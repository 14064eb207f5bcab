"""Regions of interest: ONE convention for every parity tool.

Convention
----------
Internally an ROI is **half-open, in (slow, fast) order**, zero-based, like a numpy slice::

    Roi(slow_start, slow_stop, fast_start, fast_stop)  ->  image[slow_start:slow_stop, fast_start:fast_stop]

so ``Roi(0, 4, 0, 4)`` holds 4 x 4 = 16 pixels and ``roi.shape == (4, 4)``.

The nanoBragg C program's ``-roi xmin xmax ymin ymax`` is different: x is the **fast** index, y the
**slow** index, zero-based and **inclusive** at both ends (the C skips a pixel when
``fpixel < xmin || fpixel > xmax || spixel < ymin || spixel > ymax``). That form is accepted only
through the named constructor :meth:`Roi.from_c_inclusive` and produced only by
:meth:`Roi.to_c_inclusive`; the CLI's ``--roi XMIN XMAX YMIN YMAX`` uses it (the C's own form), so
``--roi 40 200 60 180`` is ``Roi(slow 60..181, fast 40..201)`` = 121 x 161 pixels.

Errors
------
An ROI that is empty, has a negative start, or does not fit inside the image is a bad *argument*
(the image itself is fine): :class:`parity.errors.ParityUsageError`, **exit code 2**.
Only the explicitly clipping constructor :meth:`Roi.centred` clips to the image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from parity.errors import ParityUsageError

__all__ = ["Roi", "roi_from_nanobragg_args"]


def _as_index(value: object, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ParityUsageError(f"{name} must be an integer pixel index, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Roi:
    """Half-open pixel rectangle ``[slow_start, slow_stop) x [fast_start, fast_stop)``.

    >>> roi = Roi.from_c_inclusive(xmin=2, xmax=5, ymin=0, ymax=1)
    >>> roi
    Roi(slow_start=0, slow_stop=2, fast_start=2, fast_stop=6)
    >>> roi.shape, roi.to_c_inclusive()
    ((2, 4), (2, 5, 0, 1))
    """

    slow_start: int
    slow_stop: int
    fast_start: int
    fast_stop: int

    def __post_init__(self) -> None:
        for name in ("slow_start", "slow_stop", "fast_start", "fast_stop"):
            object.__setattr__(self, name, _as_index(getattr(self, name), name))
        if self.slow_start < 0 or self.fast_start < 0:
            raise ParityUsageError(f"ROI start must be >= 0, got {self.describe()}")
        if self.slow_stop <= self.slow_start or self.fast_stop <= self.fast_start:
            raise ParityUsageError(f"ROI is empty: {self.describe()}")

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def from_c_inclusive(cls, xmin: int, xmax: int, ymin: int, ymax: int) -> "Roi":
        """From the C ``-roi xmin xmax ymin ymax`` form (x = fast, y = slow, both ends inclusive)."""
        for name, value in (("xmin", xmin), ("xmax", xmax), ("ymin", ymin), ("ymax", ymax)):
            _as_index(value, name)
        if xmax < xmin or ymax < ymin:
            raise ParityUsageError(
                f"ROI (C inclusive) needs xmin <= xmax and ymin <= ymax, got {xmin} {xmax} {ymin} {ymax}")
        return cls(int(ymin), int(ymax) + 1, int(xmin), int(xmax) + 1)

    @classmethod
    def full(cls, shape: Sequence[int]) -> "Roi":
        """The whole image of ``shape = (slow, fast)``."""
        return cls(0, int(shape[0]), 0, int(shape[1]))

    @classmethod
    def centred(cls, slow: int, fast: int, *, size_px: int, shape: Sequence[int]) -> "Roi":
        """A ``size_px`` x ``size_px`` square starting at ``(slow - size_px//2, fast - size_px//2)``,
        **clipped** to an image of ``shape``; near a border the result is smaller than requested."""
        size = _as_index(size_px, "size_px")
        if size < 1:
            raise ParityUsageError(f"size_px must be >= 1, got {size}")
        s0, f0 = int(slow) - size // 2, int(fast) - size // 2
        return cls(max(s0, 0), min(s0 + size, int(shape[0])),
                   max(f0, 0), min(f0 + size, int(shape[1])))

    # ---- views --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(n_slow, n_fast) of the region."""
        return (self.slow_stop - self.slow_start, self.fast_stop - self.fast_start)

    @property
    def n_pixels(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(slice(slow_start, slow_stop), slice(fast_start, fast_stop))`` for numpy indexing."""
        return (slice(self.slow_start, self.slow_stop), slice(self.fast_start, self.fast_stop))

    @property
    def offset(self) -> tuple[int, int]:
        """(slow, fast) of the ROI's first pixel: add it to ROI-local coordinates."""
        return (self.slow_start, self.fast_start)

    def to_c_inclusive(self) -> tuple[int, int, int, int]:
        """``(xmin, xmax, ymin, ymax)`` as the C ``-roi`` flag takes them (x = fast, inclusive)."""
        return (self.fast_start, self.fast_stop - 1, self.slow_start, self.slow_stop - 1)

    def contains(self, slow: float, fast: float) -> bool:
        """Whether the point (slow, fast), in pixel index units, lies inside the region."""
        return self.slow_start <= slow < self.slow_stop and self.fast_start <= fast < self.fast_stop

    def check_within(self, shape: Sequence[int]) -> "Roi":
        """Return self if it fits in an image of ``shape = (slow, fast)``; else ParityUsageError (exit 2)."""
        n_slow, n_fast = int(shape[0]), int(shape[1])
        if self.slow_stop > n_slow or self.fast_stop > n_fast:
            raise ParityUsageError(
                f"ROI {self.describe()} does not fit in the image of shape (slow={n_slow}, fast={n_fast})")
        return self

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The region of a 2-D (slow, fast) image as a view, after :meth:`check_within`."""
        self.check_within(np.shape(image))
        return image[self.slices]

    def describe(self) -> str:
        """Both forms, e.g. ``slow [60, 181) fast [40, 201) (C -roi 40 200 60 180)``."""
        return (f"slow [{self.slow_start}, {self.slow_stop}) fast [{self.fast_start}, {self.fast_stop})"
                f" (C -roi {self.fast_start} {self.fast_stop - 1} {self.slow_start} {self.slow_stop - 1})")

    def to_dict(self) -> dict:
        xmin, xmax, ymin, ymax = self.to_c_inclusive()
        return {
            "convention": "half-open [start, stop), (slow, fast), zero-based",
            "slow_start": self.slow_start, "slow_stop": self.slow_stop,
            "fast_start": self.fast_start, "fast_stop": self.fast_stop,
            "c_inclusive_xmin_xmax_ymin_ymax": [xmin, xmax, ymin, ymax],
        }


def roi_from_nanobragg_args(args: Sequence[str], *, shape: Sequence[int]) -> Roi:
    """The region a nanoBragg argument list renders: its last ``-roi xmin xmax ymin ymax``
    (C inclusive form), clipped to ``shape`` like the C's loop bounds; the full image without one.

    The C leaves pixels outside its ROI at zero, so comparing only this region avoids counting them.
    """
    tokens = list(args)
    roi = Roi.full(shape)
    for i, token in enumerate(tokens):
        if token != "-roi":
            continue
        if len(tokens) - i - 1 < 4:
            raise ParityUsageError("-roi needs four integers: xmin xmax ymin ymax")
        try:
            xmin, xmax, ymin, ymax = (int(t) for t in tokens[i + 1:i + 5])
        except ValueError:
            raise ParityUsageError(f"-roi needs four integers, got {' '.join(tokens[i + 1:i + 5])}") from None
        # the C replaces a negative bound by the image edge
        xmax = int(shape[1]) - 1 if xmax < 0 else min(xmax, int(shape[1]) - 1)
        ymax = int(shape[0]) - 1 if ymax < 0 else min(ymax, int(shape[0]) - 1)
        roi = Roi.from_c_inclusive(max(xmin, 0), xmax, max(ymin, 0), ymax)
    return roi
