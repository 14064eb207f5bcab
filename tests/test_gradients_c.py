"""Gradient parity against the real C program (skipped without NB_C_BIN; CI has no C): simcore's
autograd against central finite differences of the C's float32 images, every parameter, three
golden geometries (MOSFLM, XDS, rotated + two-theta + beam pivot), float64 and float32, in a
64×64 ROI (the same physics as the full image, 16× cheaper; the committed evidence bundle holds the
full 256² images).

Nothing is red: every parameter passes in both dtypes on the three geometries (the float64 N and the
float32 set used to fail: simcore/kernel/sincg_grad.py differentiates the lattice factor on the reduced
argument; the in-place fast paths run only without a graph). For -N the reference is simcore's own
finite difference plus the C's integer difference (I(N+1) − I(N−1))/2, which must correlate.
"""
from __future__ import annotations

import os

import pytest

from parity.gradients import params as P
from parity.gradients.check import check_param, prepare_case
from parity.ports.gradients import SimcoreGradientPort

pytestmark = pytest.mark.skipif(not os.environ.get("NB_C_BIN"), reason="needs the nanoBragg C binary via NB_C_BIN")

GEOMETRIES = ("at004_mosflm", "at004_xds", "at007_rot5_3_2_tt10_pivot_beam")
ROI = ["-roi", "96", "159", "96", "159"]


def _cases():
    for case in GEOMETRIES:
        for dtype in ("float64", "float32"):
            for name in P.ALL:
                yield pytest.param(case, dtype, name, id=f"{case}-{dtype}-{name}")


@pytest.fixture(scope="module")
def runner():
    from parity.gradients.session import resolve_c_reference

    return resolve_c_reference("c", None)


@pytest.fixture(scope="module")
def prepared(golden_dir):
    cache = {}

    def get(case):
        if case not in cache:
            args = (golden_dir / case / "args.txt").read_text().split() + ROI
            cache[case] = prepare_case(args, base_dir=golden_dir / case, label=case)
        return cache[case]

    return get


@pytest.mark.parametrize("case, dtype, name", list(_cases()))
def test_gradient_parity_with_the_c(prepared, runner, case, dtype, name):
    result = check_param(prepared(case), name, port=SimcoreGradientPort(dtype), c_runner=runner)
    if not P.param_spec(name).integer:
        assert result.reference == "c-fd"
        assert result.base_matches_original in (None, True)     # an inserted flag did not change the C image
    assert result.passed, result.error or [g for g in result.gates if not g["passed"]]
