"""The campaign's Hypothesis strategy: one valid nanoBragg configuration under a work bound.

``nanobragg_case(max_work=W, max_side=S)`` draws the detector and beam
(:mod:`parity.campaign.strategy_geometry`), the crystal (:mod:`parity.campaign.strategy_crystal`), then the
loops that multiply the work: sources (dispersion, divergence), mosaic domains, phi steps, detector
thickness layers and the oversample. The loops are visited in a drawn order and each may only use the
budget the earlier ones left, so **pixels × sources × mosaic × phi × thickness × oversample² ≤ W** by
construction; each count is the C's own count for the flags given (reference B4, X6, X7, A2, O1: a range
without steps means 2 steps, a spread without domains means 10, no ``-oversample`` means the automatic
value). ``tests/test_campaign_strategy.py`` checks the bound against simcore's set-up for drawn cases.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from parity.campaign.spec import Builder, CaseSpec, fmt
from parity.campaign.strategy_crystal import Crystal, draw_crystal
from parity.campaign.strategy_geometry import Geometry, chance, draw_beam, draw_convention, draw_detector, num

__all__ = ["nanobragg_case", "auto_oversample", "MIN_WORK"]

MIN_WORK = 16 * 16
LOOP_NAMES = ("dispersion", "divergence", "mosaic", "phi", "thickness")


def auto_oversample(crystal: Crystal, g: Geometry) -> int:
    """The C's automatic oversample, ceil(3·max(Na|a|, …)/(λ·distance/pixel)) (reference O1; an upper
    bound when the distance is a close distance, which the C only lengthens)."""
    lam_m, dist_m, pixel_m = g.lambda_A * 1e-10, g.distance_mm * 1e-3, g.pixel_mm * 1e-3
    return max(1, math.ceil(3 * crystal.size_max_m() / (lam_m * dist_m / pixel_m)))


def _dispersion(draw, b: Builder, cap: int) -> None:
    n = draw(st.integers(2, min(4, cap)))
    b.add("-dispersion", fmt(draw(num(0.05, 5, 2)), 2))
    b.add("-dispsteps", str(n))
    b.loop("sources", n)


def _divergence(draw, b: Builder, cap: int) -> None:
    if cap >= 4 and chance(draw, 50):
        n = draw(st.integers(2, min(4, math.isqrt(cap))))
        b.add("-divergence", fmt(draw(num(0.05, 2, 2)), 2))
        b.add("-divsteps", str(n))
        b.loop("sources", n * n)
    else:
        h = draw(st.integers(2, min(4, cap)))
        b.add("-hdivrange", fmt(draw(num(0.05, 2, 2)), 2))
        b.add("-hdivsteps", str(h))
        v = 1
        if cap // h >= 2 and chance(draw, 50):
            v = draw(st.integers(2, min(4, cap // h)))
            b.add("-vdivrange", fmt(draw(num(0.05, 2, 2)), 2))
            b.add("-vdivsteps", str(v))
        b.loop("sources", h * v)
    if chance(draw, 30):
        b.add(draw(st.sampled_from(("-round_div", "-square_div"))))


def _mosaic(draw, b: Builder, cap: int) -> None:
    b.add("-mosaic", fmt(draw(num(0.01, 3, 2)), 2))
    if cap >= 10 and chance(draw, 10):
        n = 10                                     # a spread without -mosaic_dom: the C's 10 domains
    else:
        n = draw(st.integers(1, min(8, cap)))
        b.add("-mosaic_dom", str(n))
    if chance(draw, 40):
        b.add("-mosaic_seed", str(-draw(st.integers(1, 99999999))))
    b.loop("mosaic_domains", n)


def _phi(draw, b: Builder, cap: int) -> None:
    if chance(draw, 60):
        b.add("-phi", fmt(draw(num(-180, 180, 2)), 2) if chance(draw, 60) else "0")
    osc = draw(num(0.01, 10, 2))
    mode = draw(st.sampled_from(("osc_steps", "osc", "phistep", "osc_phistep")))
    if mode == "osc_steps":
        n = draw(st.integers(1, min(6, cap)))
        b.add("-osc", fmt(osc, 2))
        b.add("-phisteps", str(n))
    elif mode in ("osc", "phistep"):              # one of the two alone: 2 steps (reference X6)
        n = 2
        b.add("-osc" if mode == "osc" else "-phistep", fmt(osc, 2))
    else:                                          # osc and phistep: ceil(osc/phistep), kept off integers
        n = draw(st.integers(1, min(6, cap) - 1)) + 1 if cap >= 2 else 1
        b.add("-osc", fmt(osc, 2))
        b.add("-phistep", fmt(osc / (n - 0.5), 6))
    b.loop("phisteps", n)


def _thickness(draw, b: Builder, cap: int) -> None:
    b.add("-detector_thick", fmt(draw(num(5, 1000, 1)), 1))
    if chance(draw, 60):
        b.add("-detector_abs", fmt(draw(num(5, 2000, 1)), 1))
    if chance(draw, 70):
        n = draw(st.integers(2, min(5, cap)))
        b.add("-thicksteps", str(n))
    else:
        n = 2                                      # a thickness without steps: 2 layers (reference A2)
    if chance(draw, 15):
        b.add("-oversample_thick")
    b.loop("thicksteps", n)


_LOOPS = {"dispersion": (_dispersion, 25, 2), "divergence": (_divergence, 25, 2), "mosaic": (_mosaic, 35, 1),
          "phi": (_phi, 40, 2), "thickness": (_thickness, 20, 2)}     # name -> (draw, % chance, least count)


def _oversample(draw, b: Builder, crystal: Crystal, g: Geometry, max_work: int) -> None:
    cap = b.budget_left(max_work)
    rec = auto_oversample(crystal, g)
    explicit = chance(draw, 60) or rec * rec > cap
    os_ = draw(st.integers(1, max(1, min(3, math.isqrt(cap))))) if explicit else rec
    if explicit:
        b.add("-oversample", str(os_))
    else:
        b.tag("oversample_auto")
    for flag in ("-oversample_polar", "-oversample_omega"):
        if chance(draw, 10):
            b.add(flag)
    b.loop("oversample", os_)


@st.composite
def nanobragg_case(draw, *, max_work: int, max_side: int = 128, case_id: str = "case") -> CaseSpec:
    """One configuration (see the module docstring); ``max_work`` ≥ MIN_WORK, ``max_side`` ≥ 16."""
    b, g = Builder(), Geometry()
    draw_detector(draw, b, g, max_side=max_side, max_pixels=max_work)
    draw_convention(draw, b, g)
    draw_beam(draw, b, g)
    crystal = draw_crystal(draw, b, g)
    for name in draw(st.permutations(LOOP_NAMES)):
        loop, percent, least = _LOOPS[name]
        cap = b.budget_left(max_work)
        if cap >= least and chance(draw, percent):
            loop(draw, b, cap)
    _oversample(draw, b, crystal, g, max_work)
    return b.build(case_id)
