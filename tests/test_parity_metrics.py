"""parity.images.metrics: definitions, n/a cases, refusal of NaN/Inf, sum_ratio direction, argmax ties, ROI."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import GOLDEN_DIR, golden_meta
from parity.errors import ParityInputError, ParityShapeError, ParityUsageError
from parity.images.io import read_image
from parity.images.metrics import (METRICS_VERSION, NotAvailable, argmax_tie_match, compare_images, is_available)
from parity.images.roi import Roi

RNG = np.random.default_rng(3331877153)


@pytest.fixture(scope="module")
def cubic():
    return read_image(GOLDEN_DIR / "at012_simple_cubic" / "float.bin")


def test_golden_against_itself(cubic):
    m = compare_images(cubic, cubic.copy(), ssim=True)
    assert m.correlation == pytest.approx(1.0, abs=1e-12)
    assert m.mse == 0.0 and m.rmse == 0.0 and m.max_abs_diff == 0.0
    assert m.sum_ratio == 1.0 and m.max_rel_err == 0.0 and m.argmax_match
    assert m.ssim == pytest.approx(1.0, abs=1e-12)
    meta = golden_meta("at012_simple_cubic")
    assert m.ref_sum == pytest.approx(meta["sum"], rel=1e-12)
    assert m.ref_argmax == (meta["argmax_slow"], meta["argmax_fast"])


def test_against_numpy_definitions():
    ref = RNG.random((40, 30))
    cand = ref + RNG.normal(0, 0.05, ref.shape)
    m = compare_images(ref, cand, rel_floor_fraction=0.2)
    assert m.correlation == pytest.approx(np.corrcoef(ref.ravel(), cand.ravel())[0, 1], rel=1e-12)
    assert m.mse == pytest.approx(np.mean((cand - ref) ** 2), rel=1e-12)
    assert m.rmse == pytest.approx(np.sqrt(m.mse))
    k = np.unravel_index(np.argmax(np.abs(cand - ref)), ref.shape)
    assert m.max_abs_diff_at == k and m.max_abs_diff == np.abs(cand - ref)[k]
    above = ref > 0.2 * ref.max()
    assert m.n_above_floor == above.sum()
    assert m.max_rel_err == pytest.approx((np.abs(cand - ref)[above] / ref[above]).max())


def test_sum_ratio_is_candidate_over_reference():
    ref = RNG.random((8, 8))
    m = compare_images(ref, 2.0 * ref)
    assert m.sum_ratio == pytest.approx(2.0) and m.cand_sum == pytest.approx(2.0 * m.ref_sum)
    assert m.to_dict()["sum_ratio_definition"] == "cand_sum / ref_sum"


@pytest.mark.parametrize("ref, cand, field, reason", [
    (np.full((5, 5), 3.0), RNG.random((5, 5)), "correlation", "reference image is constant"),
    (RNG.random((5, 5)), np.zeros((5, 5)), "correlation", "candidate image is constant"),
    (np.zeros((5, 5)), RNG.random((5, 5)), "sum_ratio", "reference sum is ~0"),
    (np.array([[1.0, -1.0], [2.0, -2.0]]), np.ones((2, 2)), "sum_ratio", "reference sum is ~0"),
    (np.zeros((5, 5)), RNG.random((5, 5)), "max_rel_err", "all zero"),
])
def test_not_available_with_reason(ref, cand, field, reason):
    m = compare_images(ref, cand)
    value = getattr(m, field)
    assert isinstance(value, NotAvailable) and not is_available(value) and reason in value.reason
    d = m.to_dict()
    assert d[field] == "n/a" and reason in d["n/a_reasons"][field]


def test_ssim_not_requested_and_constant():
    assert compare_images(np.eye(4), np.eye(4)).ssim == NotAvailable("not requested")
    assert "constant" in compare_images(np.ones((6, 6)), np.eye(6), ssim=True).ssim.reason


def test_ssim_drops_with_noise():
    ref = RNG.random((32, 32))
    assert compare_images(ref, ref + RNG.normal(0, 0.3, ref.shape), ssim=True).ssim < 0.9


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("which", ["ref", "cand"])
def test_nan_inf_refused(bad, which):
    good = RNG.random((4, 4))
    broken = good.copy()
    broken[2, 3] = bad
    args = (broken, good) if which == "ref" else (good, broken)
    with pytest.raises(ParityInputError, match="slow=2 fast=3") as err:
        compare_images(*args)
    assert err.value.exit_code == 5


def test_shape_mismatch_exit_4():
    with pytest.raises(ParityShapeError) as err:
        compare_images(np.zeros((4, 4)), np.zeros((4, 5)))
    assert err.value.exit_code == 4


@pytest.mark.parametrize("kwargs", [{"rel_floor_fraction": -0.1}, {"rel_floor_fraction": 1.0},
                                    {"rel_floor_fraction": float("nan")}, {"rel_floor_fraction": "0.1"},
                                    {"argmax_rel_tol": -1.0}])
def test_invalid_parameters(kwargs):
    with pytest.raises(ParityUsageError):
        compare_images(np.eye(3), np.eye(3), **kwargs)


def test_inputs_not_mutated():
    ref = RNG.random((16, 16)).astype(np.float32)
    cand = RNG.random((16, 16)).astype(np.float32)
    ref0, cand0 = ref.copy(), cand.copy()
    compare_images(ref, cand, roi=Roi(2, 10, 3, 12), ssim=True)
    np.testing.assert_array_equal(ref, ref0)
    np.testing.assert_array_equal(cand, cand0)


def test_roi_restricts_and_reports_full_image_locations():
    ref = np.zeros((20, 30))
    cand = ref.copy()
    cand[15, 25] = 9.0            # outside the ROI
    cand[5, 7] = 1.0              # inside
    m = compare_images(ref, cand, roi=Roi.from_c_inclusive(4, 10, 2, 8))
    assert m.n_pixels == 7 * 7 and m.max_abs_diff == 1.0 and m.max_abs_diff_at == (5, 7)
    with pytest.raises(ParityUsageError, match="does not fit"):
        compare_images(ref, cand, roi=Roi(0, 21, 0, 5))


# ---- argmax tie rule ----------------------------------------------------------------------------
def test_argmax_tie_on_golden_flat_top(cubic):
    # the C image's brightest spot is a 2x2 flat top; argmax takes its first pixel (512, 512)
    s, f = golden_meta("at012_simple_cubic")["argmax_slow"], golden_meta("at012_simple_cubic")["argmax_fast"]
    assert cubic[s, f] == cubic[s + 1, f + 1]
    cand = cubic.copy()
    cand[s + 1, f + 1] = np.nextafter(cand[s + 1, f + 1], np.float32(np.inf))   # 1 ulp: argmax moves
    assert np.unravel_index(np.argmax(cand), cand.shape) == (s + 1, f + 1)
    assert argmax_tie_match(cubic, cand) and compare_images(cubic, cand).argmax_match


def test_argmax_tie_rule_fails_for_a_real_difference(cubic):
    cand = cubic.copy()
    cand[100, 100] = cubic.max() * 1.01          # a new brightest pixel elsewhere
    assert not argmax_tie_match(cubic, cand)
    assert not argmax_tie_match(cand, cubic)      # the rule is checked both ways


def test_argmax_tie_tolerance_boundary():
    ref = np.array([[1.0, 100.0, 100.0]])
    assert argmax_tie_match(ref, np.array([[1.0, 100.0 - 0.9e-3, 100.0]]))     # 9e-6 relative
    assert not argmax_tie_match(ref, np.array([[1.0, 100.0 - 1.1e-3, 100.0]]))  # 1.1e-5 relative


def test_to_dict_is_versioned_and_complete(cubic):
    d = compare_images(cubic, cubic).to_dict()
    assert d["metrics_version"] == METRICS_VERSION
    for key in ("correlation", "mse", "rmse", "max_abs_diff", "ref_sum", "cand_sum", "sum_ratio",
                "max_rel_err", "n_above_floor", "argmax_match", "ssim", "roi", "n/a_reasons"):
        assert key in d
    assert d["ref_argmax"] == [512, 512]
