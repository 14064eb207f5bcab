"""Taps sit on the live tensors: traced values are the ones the image was computed from."""
from __future__ import annotations

import numpy as np

from conftest import GOLDEN_DIR
from simcore import taps
from simcore.kernel.render import render


def _args(case):
    return (GOLDEN_DIR / case / "args.txt").read_text().split()


def test_traced_final_value_equals_the_full_image_pixel():
    case = "at004_mosflm"  # 2x2 oversampling, polarization, default_F
    args = _args(case)
    full = render(args, cwd=str(GOLDEN_DIR / case))
    for pixel in [(246, 246), (1, 73)]:
        with taps.trace([pixel]) as t:
            one = render(args, pixels=[pixel], cwd=str(GOLDEN_DIR / case))
        got = t.taps_for(pixel)
        stored = np.float32(got["floatimage_accumulated"].values.ravel()[0])
        assert stored == full.image[pixel].item()
        assert one.image[pixel].item() == full.image[pixel].item()
        # the product of the traced factors reproduces the traced final value
        fac = (got["I_before_scaling"].values.ravel()[0] * got["r_e_sqr"].values.ravel()[0]
               * got["fluence_photons_per_m2"].values.ravel()[0] / got["steps"].values.ravel()[0]
               * got["capture_fraction"].values.ravel()[0] * got["polar"].values.ravel()[0]
               * got["omega_pixel"].values.ravel()[0])
        assert np.isclose(fac, got["I_pixel_final"].values.ravel()[0], rtol=1e-5)


def test_tap_value_is_the_tensor_used():
    case = "at001_det64"
    with taps.trace([(32, 32)]) as t:
        r = render(_args(case), dtype="float64", pixels=[(32, 32)], cwd=str(GOLDEN_DIR / case))
    got = t.taps_for((32, 32))
    assert np.allclose(got["pix0_vector_meters"].values, r.inputs.pix0.numpy())
    assert got["hkl_frac"].dims == ("layer", "sub_s", "sub_f", "source", "phi", "mosaic")


def test_no_tap_state_after_exit():
    assert not taps.tracing()
    with taps.trace([(0, 0)]):
        assert taps.tracing()
    assert not taps.tracing()
    try:
        with taps.trace([(0, 0)]):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert not taps.tracing()
    x = object()
    assert taps.tap("omega_pixel", x) is x
