"""Hypothesis strategies for the detector and the beam: size, convention and pivot, custom vectors, beam
centre, rotations, distance, wavelength, polarization.

Each ``draw_*`` function takes Hypothesis's ``draw`` and a :class:`parity.campaign.spec.Builder` and adds
flags to it; numbers are drawn as integers on a decimal grid (:func:`num`) so their argument text is
exact and the same on every platform. Ranges follow the campaign issue: detector rotations up to ±60°,
twotheta up to ±80°, every named convention and custom vectors, non-square detectors.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from parity.campaign.spec import Builder, fmt

__all__ = ["num", "chance", "rotation", "draw_detector", "draw_convention", "draw_beam", "Geometry"]

BASE_FRAMES = {   # fdet, sdet, odet, beam, polar, spindle of the named conventions (reference G2-G4)
    "mosflm": ((0, 0, 1), (0, -1, 0), (1, 0, 0), (1, 0, 0), (0, 0, 1), (0, 0, 1)),
    "xds": ((1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 1), (1, 0, 0), (1, 0, 0)),
    "dials": ((1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 1), (0, 1, 0), (0, 1, 0)),
}
CONVENTIONS = ("mosflm", "default", "xds", "adxv", "denzo", "dials", "custom")
PIXELS_MM = (0.1, 0.05, 0.075, 0.172, 0.2)


def num(lo: float, hi: float, decimals: int) -> st.SearchStrategy[float]:
    """A number in [lo, hi] on the grid 10^-decimals."""
    k = 10 ** decimals
    return st.integers(round(lo * k), round(hi * k)).map(lambda i: i / k)


def chance(draw, percent: int) -> bool:
    """True with about ``percent`` % (False for Hypothesis's simplest choice, so the first case is plain)."""
    return draw(st.integers(0, 99)) >= 100 - percent


def rotation(rx_deg: float, ry_deg: float, rz_deg: float) -> tuple:
    """R = Rz·Ry·Rx (the C's ``rotate``), rows."""
    (cx, sx), (cy, sy), (cz, sz) = ((math.cos(math.radians(a)), math.sin(math.radians(a)))
                                    for a in (rx_deg, ry_deg, rz_deg))
    rx = ((1, 0, 0), (0, cx, -sx), (0, sx, cx))
    ry = ((cy, 0, sy), (0, 1, 0), (-sy, 0, cy))
    rz = ((cz, -sz, 0), (sz, cz, 0), (0, 0, 1))
    return _mul(rz, _mul(ry, rx))


def _mul(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def apply(r, v) -> tuple:
    return tuple(sum(r[i][k] * v[k] for k in range(3)) for i in range(3))


def _vec(v) -> tuple[str, str, str]:
    return tuple(fmt(x, 6) for x in v)


class Geometry:
    """What later draws need to know: pixels, pixel size, distance, wavelength."""

    def __init__(self) -> None:
        self.fpixels = self.spixels = 0
        self.pixel_mm = 0.1
        self.distance_mm = 100.0
        self.lambda_A = 1.0


def draw_detector(draw, b: Builder, g: Geometry, *, max_side: int, max_pixels: int) -> None:
    """Size (square or not), pixel size, distance; point pixel, curved detector, ROI now and then."""
    hi = max(16, min(max_side, max_pixels // 16))
    if chance(draw, 65):
        n = draw(st.integers(16, max(16, min(hi, math.isqrt(max_pixels)))))
        b.add("-detpixels", str(n))
        g.fpixels = g.spixels = n
    else:
        g.fpixels = draw(st.integers(16, hi))
        g.spixels = draw(st.integers(16, max(16, min(max_side, max_pixels // g.fpixels))))
        b.add("-detpixels_f", str(g.fpixels))
        b.add("-detpixels_s", str(g.spixels))
        b.tag("non_square")
    b.loop("pixels", g.fpixels * g.spixels)
    g.pixel_mm = draw(st.sampled_from(PIXELS_MM))
    b.add("-pixel", fmt(g.pixel_mm, 3))
    g.distance_mm = draw(num(30, 300, 1))
    b.add("-close_distance" if chance(draw, 20) else "-distance", fmt(g.distance_mm, 1))
    if chance(draw, 5):
        b.add("-point_pixel")
    if chance(draw, 4):
        b.add("-curved_det")          # the C wants a token after it: more flags always follow
    if chance(draw, 8):
        x0 = draw(st.integers(0, g.fpixels - 1))
        y0 = draw(st.integers(0, g.spixels - 1))
        b.add("-roi", str(x0), str(draw(st.integers(x0, g.fpixels - 1))), str(y0),
              str(draw(st.integers(y0, g.spixels - 1))))


def _beam_centre(draw, b: Builder, g: Geometry) -> None:
    mode = draw(st.sampled_from(("none", "beam", "close", "org")))
    size_f, size_s = g.fpixels * g.pixel_mm, g.spixels * g.pixel_mm
    if mode == "org":
        b.add("-ORGX", fmt(draw(num(-0.2, 1.2, 3)) * g.fpixels, 2))
        b.add("-ORGY", fmt(draw(num(-0.2, 1.2, 3)) * g.spixels, 2))
    elif mode != "none":
        x, y = ("-Xbeam", "-Ybeam") if mode == "beam" else ("-Xclose", "-Yclose")
        b.add(x, fmt(draw(num(-0.2, 1.2, 3)) * size_s, 3))
        b.add(y, fmt(draw(num(-0.2, 1.2, 3)) * size_f, 3))


def _custom_vectors(draw, b: Builder) -> None:
    f, s, o, beam, polar, spindle = BASE_FRAMES[draw(st.sampled_from(tuple(BASE_FRAMES)))]
    r = rotation(*(draw(num(-20, 20, 2)) for _ in range(3)))
    for flag, v in (("-fdet_vector", f), ("-sdet_vector", s), ("-odet_vector", o)):
        b.add(flag, *_vec(apply(r, v)))
    tilt = rotation(*(draw(num(-5, 5, 2)) for _ in range(3)))
    if chance(draw, 30):
        b.add("-beam_vector", *_vec(apply(tilt, beam)))
    if chance(draw, 20):
        b.add("-polar_vector", *_vec(apply(tilt, polar)))
    if chance(draw, 20):
        b.add("-spindle_axis", *_vec(apply(rotation(*(draw(num(-90, 90, 1)) for _ in range(3))), spindle)))
    if chance(draw, 15):      # strstr: also read as -twotheta (its x component, in degrees) and pivot SAMPLE
        b.add("-twotheta_axis", *_vec(apply(rotation(*(draw(num(-90, 90, 1)) for _ in range(3))), (0, 1, 0))))
    if chance(draw, 5):       # parsed, switches to CUSTOM, then overwritten (reference G15)
        b.add("-pix0_vector", *(fmt(draw(num(-0.2, 0.2, 4)), 4) for _ in range(3)))


def draw_convention(draw, b: Builder, g: Geometry) -> str:
    """A named convention (or none: MOSFLM), or custom vectors; pivot, beam centre and rotations."""
    conv = draw(st.sampled_from(CONVENTIONS))
    if conv == "custom":
        _custom_vectors(draw, b)
    elif conv != "default":
        b.add(f"-{conv}")
    b.tag(f"convention_{conv}")
    if chance(draw, 50 if conv == "custom" else 15):
        b.add("-pivot", draw(st.sampled_from(("beam", "sample"))))
    _beam_centre(draw, b, g)
    for flag in ("-detector_rotx", "-detector_roty", "-detector_rotz"):
        if chance(draw, 25):
            b.add(flag, fmt(draw(num(-60, 60, 2)), 2))
    if chance(draw, 25):
        b.add("-twotheta", fmt(draw(num(-80, 80, 2)), 2))
    return conv


def draw_beam(draw, b: Builder, g: Geometry) -> None:
    """Wavelength (or energy), fluence now and then, polarization."""
    if chance(draw, 80):
        g.lambda_A = draw(num(0.5, 3.0, 3))
        b.add("-lambda", fmt(g.lambda_A, 3))
    else:
        energy_eV = draw(num(4000, 25000, 0))
        g.lambda_A = 12398.42 / energy_eV
        b.add("-energy", fmt(energy_eV, 0))
    if chance(draw, 5):
        b.add("-fluence", f"1e{draw(st.integers(20, 30))}")
    kind = draw(st.sampled_from(("default", "polar", "nopolar")))
    if kind == "polar":
        b.add("-polar", fmt(draw(num(0, 1, 3)), 3))
    elif kind == "nopolar":
        b.add("-nopolar")
