"""Hypothesis strategies for the crystal: cells of every lattice system, ``-mat`` orientation matrices,
missets, crystal size and shape, structure factors (``-default_F`` or a small generated ``-hkl`` file),
resolution cut-off and water background.

Generated files are text in the case (:class:`parity.campaign.spec.CaseSpec` ``files``); an HKL file's
amplitudes come from a ``random.Random`` seeded by one drawn integer, so a 9³-reflection file costs one
draw and is the same for the same seed.
"""
from __future__ import annotations

import math
import random

from hypothesis import strategies as st

from parity.campaign.spec import Builder, fmt
from parity.campaign.strategy_geometry import Geometry, apply, chance, num, rotation

__all__ = ["Crystal", "draw_crystal", "reciprocal_vectors", "hkl_text", "mat_text"]

SYSTEMS = ("cubic", "triclinic", "tetragonal", "orthorhombic", "monoclinic", "hexagonal")
HKL_NAME, MAT_NAME = "P1.hkl", "A.mat"


class Crystal:
    """Cell (Å, deg) and N per axis after the C's clamp (for the automatic oversample)."""

    def __init__(self, cell: tuple, n_abc: tuple) -> None:
        self.cell = cell
        self.n_abc = n_abc

    def size_max_m(self) -> float:
        return max(length * n for length, n in zip(self.cell[:3], self.n_abc)) * 1e-10


def _cell(draw) -> tuple:
    system = draw(st.sampled_from(SYSTEMS))
    length = num(20, 150, 2)
    a = draw(length)
    if system == "cubic":
        return system, (a, a, a, 90.0, 90.0, 90.0)
    c = draw(length)
    if system == "tetragonal":
        return system, (a, a, c, 90.0, 90.0, 90.0)
    if system == "hexagonal":
        return system, (a, a, c, 90.0, 90.0, 120.0)
    b = draw(length)
    if system == "orthorhombic":
        return system, (a, b, c, 90.0, 90.0, 90.0)
    if system == "monoclinic":
        return system, (a, b, c, 90.0, draw(num(90, 120, 2)), 90.0)
    angle = num(65, 115, 2)       # any three in [65, 115] make a cell (each < sum of the others, sum < 360)
    return system, (a, b, c, draw(angle), draw(angle), draw(angle))


def reciprocal_vectors(cell: tuple) -> tuple:
    """a*, b*, c* (Å⁻¹) in the C's default orientation (reference X1)."""
    a, b, c = cell[:3]
    al, be, ga = (math.radians(x) for x in cell[3:])
    s = (al + be + ga) / 2
    v = 2 * a * b * c * math.sqrt(abs(math.sin(s) * math.sin(s - al) * math.sin(s - be) * math.sin(s - ga)))
    a_s, b_s, c_s = b * c * math.sin(al) / v, c * a * math.sin(be) / v, a * b * math.sin(ga) / v
    cos_al_s = (math.cos(be) * math.cos(ga) - math.cos(al)) / (math.sin(be) * math.sin(ga))
    cos_be_s = (math.cos(ga) * math.cos(al) - math.cos(be)) / (math.sin(ga) * math.sin(al))
    cos_ga_s = (math.cos(al) * math.cos(be) - math.cos(ga)) / (math.sin(al) * math.sin(be))
    sin_ga_s = max(-1.0, min(1.0, c * (1 / v) / (a_s * b_s)))
    return ((a_s, 0.0, 0.0), (b_s * cos_ga_s, b_s * sin_ga_s, 0.0),
            (c_s * cos_be_s, c_s * (cos_al_s - cos_be_s * cos_ga_s) / sin_ga_s, c_s * v / (a * b * c * sin_ga_s)))


def mat_text(cell: tuple, angles_deg: tuple, lambda_A: float) -> str:
    """A MOSFLM ``-mat`` file: columns a*, b*, c* rotated by ``angles_deg``, times λ (the C divides by λ)."""
    r = rotation(*angles_deg)
    cols = [apply(r, v) for v in reciprocal_vectors(cell)]
    return "".join(" ".join(f"{cols[j][i] * lambda_A: .10f}" for j in range(3)) + "\n" for i in range(3))


def hkl_text(ranges: tuple, seed: int) -> str:
    """``h k l F`` lines for h in [-ranges[0], ranges[0]] (and k, l); F uniform in [0, 1000), one in ten zero."""
    rng = random.Random(seed)
    lines = []
    for h in range(-ranges[0], ranges[0] + 1):
        for k in range(-ranges[1], ranges[1] + 1):
            for l in range(-ranges[2], ranges[2] + 1):
                f = 0.0 if rng.random() < 0.1 else rng.uniform(0.0, 1000.0)
                lines.append(f"{h} {k} {l} {f:.2f}\n")
    return "".join(lines)


def _orientation(draw, b: Builder, g: Geometry, cell: tuple) -> None:
    if chance(draw, 20):
        angles = tuple(draw(num(-180, 180, 2)) for _ in range(3))
        b.files[MAT_NAME] = mat_text(cell, angles, g.lambda_A)
        b.add("-mat", MAT_NAME)
    else:
        b.add("-cell", *(fmt(x, 2) for x in cell))
    if chance(draw, 35):
        b.add("-misset", *(fmt(draw(num(-180, 180, 2)), 2) for _ in range(3)))
    elif chance(draw, 8):
        # The 'random' form always with a seed (the C's default misset seed is the clock). The C's strstr
        # also reads -misset_seed as -misset with 3 angles, so a seed given first keeps the random misset
        # and one given after replaces it with angles (both reproducible; simcore emulates both).
        seed = str(draw(st.integers(1, 99999)))
        after = chance(draw, 25)
        if not after:
            b.add("-misset_seed", seed)
        b.args += ["-misset", "random"]     # (the vocabulary's -misset counts the 3-number form)
        if after:
            b.add("-misset_seed", seed)


def _size_and_shape(draw, b: Builder) -> tuple:
    if chance(draw, 70):
        n = draw(st.integers(0, 12))
        b.add("-N", str(n))
        n_abc = (n, n, n)
    else:
        n_abc = tuple(draw(st.integers(0, 12)) for _ in range(3))
        for flag, n in zip(("-Na", "-Nb", "-Nc"), n_abc):
            b.add(flag, str(n))
    shape = draw(st.sampled_from(("default", "square", "round", "gauss", "tophat")))
    if shape != "default":
        b.add({"square": "-square_xtal", "round": "-round_xtal", "gauss": "-gauss_xtal",
               "tophat": "-tophat_spots"}[shape])
    if chance(draw, 20):
        b.add("-fudge", fmt(draw(num(0.2, 3, 2)), 2))
    return tuple(max(1, n) for n in n_abc)      # the C clamps N <= 1 to 1


def _structure_factors(draw, b: Builder) -> None:
    if chance(draw, 25):
        ranges = tuple(draw(st.integers(1, 4)) for _ in range(3))
        b.files[HKL_NAME] = hkl_text(ranges, draw(st.integers(0, 2**32 - 1)))
        b.add("-hkl", HKL_NAME)
        if chance(draw, 50):
            b.add("-default_F", fmt(draw(num(1, 1000, 1)), 1))
    else:
        b.add("-default_F", fmt(draw(num(1, 1000, 1)), 1))
    if chance(draw, 10):
        b.add(draw(st.sampled_from(("-interpolate", "-nointerpolate"))))


def draw_crystal(draw, b: Builder, g: Geometry) -> Crystal:
    """Cell or matrix, misset, N, shape, structure factors; ``-dmin`` and ``-water`` now and then."""
    system, cell = _cell(draw)
    b.tag(f"cell_{system}")
    _orientation(draw, b, g, cell)
    n_abc = _size_and_shape(draw, b)
    _structure_factors(draw, b)
    if chance(draw, 8):
        b.add("-dmin", fmt(draw(num(0.5, 5, 2)), 2))
    if chance(draw, 6):
        b.add("-water", fmt(draw(num(1, 500, 0)), 0))
    return Crystal(cell, n_abc)
