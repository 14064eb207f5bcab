"""The C program's progress meter: ``NN% done`` lines on stdout while the pixel loop runs.

The C counts rendered pixels (ROI and mask skips do not count) in raster order and, with
``P = (roi_xmax−roi_xmin+1)·(roi_ymax−roi_ymin+1)`` from its ROI after defaults (so a full detector
gives ``(fpixels+1)·(spixels+1)``, and the meter never reaches 100 %), prints ``p·100/P`` (integer
division) at pixel ``p`` when ``p % (P/20) == 0``, or when ``p % (P/100) == 0`` in the first or last
tenth. It is on by default (``-progress``), off with ``-noprogress`` or ``-printout``, and silent when
``P/100`` is 0. The loop ends with an empty line.
"""
from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["progress_total", "progress_points", "ProgressMeter"]


def progress_total(roi) -> int:
    """The C's ``progress_pixels`` for ``roi = (xmin, xmax, ymin, ymax)`` after its defaults."""
    xmin, xmax, ymin, ymax = (int(v) for v in roi)
    return (xmax - xmin + 1) * (ymax - ymin + 1)


def progress_points(total: int) -> list[int]:
    """The pixel counts ``p`` (ascending) at which the C prints a line; empty when ``total/100 == 0``."""
    if total < 100:
        return []
    d20, d100 = total // 20, total // 100
    points = set(range(0, total, d20))
    points.update(p for p in range(0, total, d100) if 10 * p < total or 10 * p > 9 * total)
    return sorted(points)


class ProgressMeter:
    """Prints the C's lines as rendered pixels are reported through :meth:`advance`."""

    def __init__(self, roi, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = progress_total(roi)
        self._points = progress_points(self.total) if enabled else []
        self._next = 0              # index into _points
        self.done = 0               # rendered pixels so far (the C's progress_pixel)
        self.stream = stream

    def advance(self, n: int) -> None:
        """``n`` more rendered pixels are done: print every line the C printed for them."""
        end = self.done + int(n)
        out = self.stream or sys.stdout
        lines = []
        while self._next < len(self._points) and self._points[self._next] < end:
            lines.append(f"{self._points[self._next] * 100 // self.total}% done\n")
            self._next += 1
        self.done = end
        if lines:
            out.write("".join(lines))
            out.flush()
