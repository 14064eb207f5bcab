"""Detector conventions as named data: lab-frame vectors, beam-centre mapping and forced pivot.

One table for MOSFLM/XDS/ADXV/DENZO/DIALS (nanoBragg.c convention block, reference G2–G5).
CUSTOM keeps the C's initial vectors for any vector the user did not give.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    name: str
    beam: tuple
    fdet: tuple
    sdet: tuple
    odet: tuple
    twotheta_axis: tuple
    polar: tuple
    spindle: tuple
    forced_pivot: str | None          # None: the last pivot flag in argv wins (CUSTOM)


CONVENTIONS: dict[str, Convention] = {
    "MOSFLM": Convention("MOSFLM", (1, 0, 0), (0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 0, -1),
                         (0, 0, 1), (0, 0, 1), "beam"),
    "DENZO": Convention("DENZO", (1, 0, 0), (0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 0, -1),
                        (0, 0, 1), (0, 0, 1), "beam"),
    "ADXV": Convention("ADXV", (0, 0, 1), (1, 0, 0), (0, -1, 0), (0, 0, 1), (-1, 0, 0),
                       (1, 0, 0), (1, 0, 0), "beam"),
    "XDS": Convention("XDS", (0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0),
                      (1, 0, 0), (1, 0, 0), "sample"),
    "DIALS": Convention("DIALS", (0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 0),
                        (0, 1, 0), (0, 1, 0), "sample"),
    # the C's initial vectors, used by CUSTOM for any vector not given on the command line
    "CUSTOM": Convention("CUSTOM", (1, 0, 0), (0, 0, 1), (0, -1, 0), (1, 0, 0), (0, 1, 0),
                         (0, 0, 1), (0, 0, 1), None),
}


def beam_centre_defaults(name: str, *, detsize_f_m, detsize_s_m, pixel_m, Xclose_m, Yclose_m):
    """Default (Xbeam, Ybeam) in m when not given, per convention."""
    if name == "ADXV":
        return (detsize_f_m + pixel_m) / 2.0, (detsize_s_m - pixel_m) / 2.0
    if name in ("MOSFLM", "DENZO"):
        return (detsize_s_m + pixel_m) / 2.0, (detsize_f_m + pixel_m) / 2.0
    return Xclose_m, Yclose_m


def beam_to_fs(name: str, Xbeam_m, Ybeam_m, *, detsize_s_m, pixel_m):
    """(Fbeam, Sbeam) in m from (Xbeam, Ybeam): MOSFLM swaps axes and adds ½ pixel (trap T-MOSFLM)."""
    if name == "ADXV":
        return Xbeam_m, detsize_s_m - Ybeam_m
    if name == "MOSFLM":
        return Ybeam_m + 0.5 * pixel_m, Xbeam_m + 0.5 * pixel_m
    if name == "DENZO":
        return Ybeam_m + 0.0 * pixel_m, Xbeam_m + 0.0 * pixel_m
    return Xbeam_m, Ybeam_m
