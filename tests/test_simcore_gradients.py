"""Differentiability: torch.autograd.gradcheck (float64) of the image w.r.t. physical parameters."""
from __future__ import annotations

import pytest
import torch

import simcore

BASE = ("-default_F 100 -cell 70 80 90 85 95 105 -lambda 1.2 -N 3 -distance 60 -detpixels 5 -pixel 0.4 "
        "-oversample 1 -misset 10 20 30 -detector_rotx 2 -detector_roty 3 -detector_rotz 1 "
        "-Xbeam 1.0 -Ybeam 1.3").split()

PARAMS = {
    "cell_a_A": 70.0, "cell_b_A": 80.0, "cell_c_A": 90.0,
    "cell_alpha_deg": 85.0, "cell_beta_deg": 95.0, "cell_gamma_deg": 105.0,
    "distance_mm": 60.0, "Xbeam_mm": 1.0, "Ybeam_mm": 1.3,
    "detector_rotx_deg": 2.0, "detector_roty_deg": 3.0, "detector_rotz_deg": 1.0,
    "misset_deg": [10.0, 20.0, 30.0], "Na": 3.0, "Nb": 3.0, "Nc": 3.0, "lambda_A": 1.2,
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_gradcheck(name):
    def image_of(t):
        return simcore.simulate(BASE, dtype="float64", params={name: t}).image_compute

    t = torch.tensor(PARAMS[name], dtype=torch.float64, requires_grad=True)
    # eps 1e-4 (in the parameter's CLI unit): smaller steps are dominated by float64 cancellation
    assert torch.autograd.gradcheck(image_of, (t,), eps=1e-4, atol=1e-6, rtol=1e-3)


def test_gradient_is_nonzero_and_override_changes_image():
    t = torch.tensor(60.0, dtype=torch.float64, requires_grad=True)
    img = simcore.simulate(BASE, dtype="float64", params={"distance_mm": t}).image_compute
    img.sum().backward()
    assert t.grad is not None and float(t.grad) != 0.0
    other = simcore.simulate(BASE, dtype="float64", params={"distance_mm": 61.0}).image_compute
    assert not torch.equal(img.detach(), other)


def test_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="unknown parameter"):
        simcore.simulate(BASE, params={"distance_m": 0.06})
