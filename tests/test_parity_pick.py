"""parity.images.pick: roles and reasons of the pixels worth tracing, always (slow, fast)."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import GOLDEN_DIR, golden_meta
from parity.errors import ParityShapeError, ParityUsageError
from parity.images.io import read_image
from parity.images.peaks import find_peaks
from parity.images.pick import ROLES, pick_pixels


def golden(case: str) -> np.ndarray:
    return read_image(GOLDEN_DIR / case / "float.bin")


def by_role(result) -> dict:
    out: dict = {}
    for p in result.pixels:
        out.setdefault(p.role, []).append(p)
    return out


def test_synthetic_roles_are_the_expected_pixels():
    ref = np.full((40, 60), 0.01)
    ref[10, 12] = 100.0
    ref[10, 13] = 30.0                  # flank of the peak, 30 %
    ref[30, 45] = 50.0                  # second peak, missing from the candidate
    cand = ref.copy()
    cand[10, 13] = 33.0                 # |Δ| = 3 (largest absolute), relative 0.1
    cand[30, 45] = 0.01
    cand[5, 50] = 0.5                   # relative 49 but below the signal floor
    cand[20, 20] = 0.9                  # extra candidate peak
    result = pick_pixels(ref, cand, percentile=99)
    roles = by_role(result)
    assert [(p.slow, p.fast) for p in roles["max_abs_diff"]] == [(30, 45)]         # |Δ| = 49.99
    assert [(p.slow, p.fast) for p in roles["max_rel_diff"]] == [(30, 45)]
    assert [(p.slow, p.fast) for p in roles["brightest_peak"]] == [(10, 12)]
    assert [(p.slow, p.fast) for p in roles["flank"]] == [(10, 13)]
    assert [(p.slow, p.fast) for p in roles["missing_peak"]] == [(30, 45)]
    assert [(p.slow, p.fast) for p in roles["extra_peak"]] == [(20, 20)]
    background = roles["background"][0]
    assert background.ref_value != 0 and "px from the nearest pixel above" in background.reason
    assert [p.role for p in result.pixels] == sorted((p.role for p in result.pixels), key=ROLES.index)
    flank = roles["flank"][0]
    assert flank.ref_value == 30.0 and flank.cand_value == 33.0 and "30.0% of reference peak #1" in flank.reason


def test_golden_brightest_flank_background():
    image = golden("at012_simple_cubic")
    meta = golden_meta("at012_simple_cubic")
    roles = by_role(pick_pixels(image, image))
    top = roles["brightest_peak"][0]
    assert (top.slow, top.fast) == (meta["argmax_slow"], meta["argmax_fast"])
    flank = roles["flank"][0]
    assert 0.05 <= image[flank.slow, flank.fast] / image.max() <= 0.5
    assert np.hypot(flank.slow - top.slow, flank.fast - top.fast) <= 10
    bg = roles["background"][0]
    assert image[bg.slow, bg.fast] != 0
    assert image[bg.slow, bg.fast] < 0.01 * image.max()
    peaks = find_peaks(image).positions_px                    # every peak above the threshold
    assert np.hypot(peaks[:, 0] - bg.slow, peaks[:, 1] - bg.fast).min() > 50
    result = pick_pixels(image, image)
    assert result.skipped["max_abs_diff"] == "images are identical"
    assert "missing_peak" in result.skipped and "extra_peak" in result.skipped


def test_golden_nonsquare_uses_slow_fast_order():
    meta = golden_meta("feat_nonsquare_detector")
    image = golden("feat_nonsquare_detector")
    top = by_role(pick_pixels(image, image))["brightest_peak"][0]
    assert (top.slow, top.fast) == (meta["argmax_slow"], meta["argmax_fast"]) == (90, 170)
    assert top.trace_command == "pwb trace --pixel 90 170"


def test_golden_background_prefers_nonzero_pixels():
    # feat_roi is zero outside the C's -roi region: the control must still be a rendered pixel
    image = golden("feat_roi")
    bg = by_role(pick_pixels(image, image))["background"][0]
    assert image[bg.slow, bg.fast] != 0


def test_golden_missing_peak_and_largest_difference():
    image = golden("at012_triclinic_P1")
    cand = image.copy()
    first = pick_pixels(image, image)
    s, f = first.pixels[0].slow, first.pixels[0].fast          # the brightest peak
    cand[s - 3:s + 4, f - 3:f + 4] = 0.0
    roles = by_role(pick_pixels(image, cand))
    assert (roles["missing_peak"][0].slow, roles["missing_peak"][0].fast) == (s, f)
    assert (roles["max_abs_diff"][0].slow, roles["max_abs_diff"][0].fast) == (s, f)


def test_n_per_role_spread_apart():
    rng = np.random.default_rng(3331877153)
    ref = rng.random((64, 64)) + 1.0
    cand = ref + rng.normal(0, 0.01, ref.shape)
    roles = by_role(pick_pixels(ref, cand, n=3, percentile=95, nms_radius_px=4))
    picks = roles["max_abs_diff"]
    assert len(picks) == 3
    assert all(np.hypot(a.slow - b.slow, a.fast - b.fast) > 4 for i, a in enumerate(picks) for b in picks[i + 1:])
    diffs = [abs(p.cand_value - p.ref_value) for p in picks]
    assert diffs == sorted(diffs, reverse=True)


def test_constant_images_skip_with_reasons():
    result = pick_pixels(np.ones((16, 16)), np.ones((16, 16)))
    assert result.pixels == ()
    assert set(result.skipped) == set(ROLES)
    d = result.to_dict()
    assert d["pixel_order"] == "slow fast" and d["pixels"] == []


@pytest.mark.parametrize("kwargs, name", [({"n": 0}, "n"), ({"n": 1.5}, "n"), ({"n": True}, "n"),
                                          ({"flank_fraction": (0.5, 0.05)}, "flank_fraction"),
                                          ({"flank_fraction": (0.0, 0.5)}, "flank_fraction"),
                                          ({"flank_fraction": 0.3}, "flank_fraction")])
def test_invalid_parameters(kwargs, name):
    with pytest.raises(ParityUsageError, match=name):
        pick_pixels(np.eye(8), np.eye(8), **kwargs)


def test_shape_mismatch_and_not_mutated():
    with pytest.raises(ParityShapeError):
        pick_pixels(np.eye(8), np.eye(9))
    rng = np.random.default_rng(1)
    ref, cand = rng.random((32, 32)), rng.random((32, 32))
    r0, c0 = ref.copy(), cand.copy()
    pick_pixels(ref, cand, n=2)
    np.testing.assert_array_equal(ref, r0)
    np.testing.assert_array_equal(cand, c0)
