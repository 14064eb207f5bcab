"""parity.images.plateau: unique float32 values in a pinned ROI (the float32 fragmentation measure)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import GOLDEN_DIR
from parity.errors import ParityInputError, ParityShapeError, ParityUsageError
from parity.images.io import read_image
from parity.images.plateau import (PLATEAU_VERSION, default_plateau_roi, plateau_metric, write_plateau_csv,
                            write_plateau_png)
from parity.images.roi import Roi

RNG = np.random.default_rng(3331877153)


@pytest.fixture(scope="module")
def cubic():
    return read_image(GOLDEN_DIR / "at012_simple_cubic" / "float.bin")


def _one_ulp_noise(image: np.ndarray, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(image.shape) < 0.5, np.nextafter(image, np.float32(np.inf)), image)


def test_golden_default_roi_and_c_count(cubic):
    # The peer measured 66 unique values for the C image in a 20x20 ROI at the beam centre
    # (peer-lessons section 2); the pinned default ROI around the brightest peak gives the same.
    result = plateau_metric(cubic, cubic)
    assert result.roi == Roi(502, 522, 502, 522)
    assert "brightest reference peak at (slow=512, fast=512)" in result.roi_source
    assert result.n_unique_ref == result.n_unique_cand == 66
    assert result.unique_ratio == 1.0


def test_fragmented_candidate_has_more_unique_values(cubic):
    cand = _one_ulp_noise(cubic)
    result = plateau_metric(cubic, cand)
    window = cand[502:522, 502:522]
    assert result.n_unique_cand == len(np.unique(window)) > result.n_unique_ref
    assert result.unique_ratio == pytest.approx(result.n_unique_cand / result.n_unique_ref)
    swapped = plateau_metric(cand, cubic, roi=result.roi)          # same ROI, roles swapped: cand/ref
    assert swapped.unique_ratio == pytest.approx(1 / result.unique_ratio)


def test_counts_are_exact_float32_equalities():
    ref = np.zeros((6, 6), dtype=np.float32)
    ref[1:3, 1:4] = 3.0                              # 6 pixels share one value
    cand = ref.astype(np.float64)
    cand[1, 1] += 1e-12                              # below float32 resolution: same float32 value
    cand[2, 3] += 1e-3                               # a real float32 difference
    result = plateau_metric(ref, cand, roi=Roi(0, 6, 0, 6))
    assert (result.n_unique_ref, result.n_unique_cand) == (2, 3)
    assert int(result.ref_counts.max()) == 30 and result.to_dict()["max_multiplicity_ref"] == 30
    signed_zeros = plateau_metric(-0.0 * ref, ref * 0.0, roi=Roi(0, 6, 0, 6))       # -0.0 == +0.0
    assert signed_zeros.n_unique_ref == signed_zeros.n_unique_cand == 1


def test_default_roi_is_clipped_and_stated():
    image = np.zeros((30, 40), dtype=np.float32)
    image[1, 38] = 5.0                              # brightest peak near the corner
    roi, source = default_plateau_roi(image)
    assert roi == Roi(0, 11, 28, 40) and "clipped to 11x12" in source
    assert plateau_metric(image, image).roi == roi


def test_default_roi_without_peak_uses_first_maximum():
    image = np.full((30, 30), 2.0)
    roi, source = default_plateau_roi(image, size_px=4)
    assert roi == Roi(0, 2, 0, 2) and "no reference peak" in source


def test_given_roi_and_size(cubic):
    roi = Roi.from_c_inclusive(0, 9, 0, 4)
    result = plateau_metric(cubic, cubic, roi=roi)
    assert result.roi == roi and result.roi_source == "given" and result.roi.n_pixels == 50
    assert plateau_metric(cubic, cubic, size_px=8).roi == Roi(508, 516, 508, 516)
    with pytest.raises(ParityUsageError, match="does not fit"):
        plateau_metric(cubic, cubic, roi=Roi(1000, 1030, 0, 10))
    with pytest.raises(ParityUsageError, match="size_px"):
        plateau_metric(cubic, cubic, size_px=0)


def test_bad_inputs():
    with pytest.raises(ParityShapeError):
        plateau_metric(np.zeros((4, 4)), np.zeros((5, 4)))
    with pytest.raises(ParityInputError, match="NaN"):
        plateau_metric(np.full((4, 4), np.nan), np.zeros((4, 4)))


def test_inputs_not_mutated(cubic):
    cand = _one_ulp_noise(cubic)
    before_ref, before_cand = cubic.copy(), cand.copy()
    plateau_metric(cubic, cand)
    np.testing.assert_array_equal(cubic, before_ref)
    np.testing.assert_array_equal(cand, before_cand)


def test_csv_and_png(tmp_path, cubic):
    result = plateau_metric(cubic, _one_ulp_noise(cubic))
    csv = write_plateau_csv(tmp_path / "h.csv", result)
    table = pd.read_csv(csv)
    assert list(table.columns) == ["image", "value", "count"]
    for name, n_unique in (("ref", result.n_unique_ref), ("cand", result.n_unique_cand)):
        part = table[table["image"] == name]
        assert len(part) == n_unique and part["count"].sum() == 400
    # values survive the CSV round trip at float32 precision
    assert set(part["value"].astype(np.float32)) == set(result.cand_values)
    png = write_plateau_png(tmp_path / "h.png", result, title="t")
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 20_000
    with pytest.raises(ParityUsageError, match="exists"):
        write_plateau_csv(csv, result)


def test_to_dict_states_definition_and_roi(cubic):
    d = plateau_metric(cubic, cubic).to_dict()
    assert d["plateau_version"] == PLATEAU_VERSION and "float32" in d["definition"]
    assert d["roi"]["c_inclusive_xmin_xmax_ymin_ymax"] == [502, 521, 502, 521]
    assert d["unique_ratio_definition"] == "n_unique_cand / n_unique_ref"
