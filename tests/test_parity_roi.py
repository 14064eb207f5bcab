"""parity.images.roi: one convention (half-open, slow/fast) and the C's inclusive -roi xmin xmax ymin ymax."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import GOLDEN_DIR, golden_meta
from parity.errors import ParityUsageError
from parity.images.io import read_image
from parity.images.roi import Roi, roi_from_nanobragg_args


def test_c_inclusive_to_half_open():
    roi = Roi.from_c_inclusive(40, 200, 60, 180)          # x = fast, y = slow, inclusive
    assert (roi.slow_start, roi.slow_stop, roi.fast_start, roi.fast_stop) == (60, 181, 40, 201)
    assert roi.shape == (121, 161) and roi.n_pixels == 121 * 161
    assert roi.to_c_inclusive() == (40, 200, 60, 180)
    image = np.arange(256 * 256).reshape(256, 256)
    crop = roi.crop(image)
    assert crop[0, 0] == image[60, 40] and crop[-1, -1] == image[180, 200]


def test_single_pixel_roi():
    roi = Roi.from_c_inclusive(5, 5, 7, 7)
    assert roi.shape == (1, 1) and roi.contains(7, 5) and not roi.contains(5, 7)


def test_round_trip_random():
    rng = np.random.default_rng(7)
    for _ in range(200):
        xmin, ymin = (int(v) for v in rng.integers(0, 100, 2))
        xmax, ymax = xmin + int(rng.integers(0, 50)), ymin + int(rng.integers(0, 50))
        roi = Roi.from_c_inclusive(xmin, xmax, ymin, ymax)
        assert roi.to_c_inclusive() == (xmin, xmax, ymin, ymax)
        assert roi.shape == (ymax - ymin + 1, xmax - xmin + 1)


def test_golden_feat_roi_nonzero_pixels_are_exactly_the_c_region():
    # The C renders only its -roi region and leaves the rest zero: the C's inclusive ROI must map to
    # exactly the nonzero pixels of the real image.
    case = GOLDEN_DIR / "feat_roi"
    image = read_image(case / "float.bin")
    roi = roi_from_nanobragg_args((case / "args.txt").read_text().split(), shape=image.shape)
    assert roi == Roi.from_c_inclusive(40, 200, 60, 180)
    inside = np.zeros(image.shape, dtype=bool)
    inside[roi.slices] = True
    assert roi.n_pixels == golden_meta("feat_roi")["nonzero_pixels"]
    assert np.all(image[~inside] == 0) and np.all(image[inside] != 0)


def test_roi_from_args_without_roi_is_full_image():
    assert roi_from_nanobragg_args(["-detpixels", "64"], shape=(64, 64)) == Roi.full((64, 64))
    assert roi_from_nanobragg_args(["-roi", "0", "999", "-1", "-1"], shape=(64, 32)) == Roi.full((64, 32))


@pytest.mark.parametrize("args", [["-roi", "1", "2"], ["-roi", "a", "b", "c", "d"]])
def test_roi_from_args_malformed(args):
    with pytest.raises(ParityUsageError):
        roi_from_nanobragg_args(args, shape=(8, 8))


@pytest.mark.parametrize("make", [
    lambda: Roi(0, 0, 0, 4),                      # empty slow range
    lambda: Roi(3, 2, 0, 4),                      # stop before start
    lambda: Roi(-1, 2, 0, 4),                     # negative start
    lambda: Roi(0, 2.5, 0, 4),                    # not an integer
    lambda: Roi(True, 2, 0, 4),                   # bool is not an index
    lambda: Roi.from_c_inclusive(5, 4, 0, 0),     # xmax < xmin
    lambda: Roi.from_c_inclusive(-1, 4, 0, 0),    # negative
    lambda: Roi.centred(3, 3, size_px=0, shape=(8, 8)),
])
def test_invalid_roi_is_usage_error(make):
    with pytest.raises(ParityUsageError) as err:
        make()
    assert err.value.exit_code == 2


@pytest.mark.parametrize("roi", [Roi(0, 9, 0, 4), Roi(0, 4, 6, 9), Roi(8, 9, 0, 1)])
def test_roi_outside_image_is_usage_error_exit_2(roi):
    with pytest.raises(ParityUsageError, match="does not fit") as err:
        roi.crop(np.zeros((8, 6)))
    assert err.value.exit_code == 2


def test_centred_clips_at_borders():
    assert Roi.centred(10, 10, size_px=20, shape=(64, 64)) == Roi(0, 20, 0, 20)
    assert Roi.centred(1, 62, size_px=20, shape=(64, 64)) == Roi(0, 11, 52, 64)
    assert Roi.centred(30, 40, size_px=5, shape=(64, 64)) == Roi(28, 33, 38, 43)


def test_to_dict_and_describe_state_both_forms():
    roi = Roi(60, 181, 40, 201)
    assert roi.to_dict()["c_inclusive_xmin_xmax_ymin_ymax"] == [40, 200, 60, 180]
    assert "half-open" in roi.to_dict()["convention"]
    assert "C -roi 40 200 60 180" in roi.describe()
