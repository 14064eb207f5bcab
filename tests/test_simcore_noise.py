"""simcore.noise.poisson: the C noise pass, byte for byte against the golden noise images."""
from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import golden_meta
from simcore.noise.poisson import noise_image, poisson_deviates, roi_bounds
from simcore.noise.rng import CLong, CRandom, poidev, ran1, seed_from_cli
from simcore.io.smv import SmvHeader, read_smv, smv_bytes


def _float_image(golden_dir, case):
    meta = golden_meta(case)
    img = np.fromfile(golden_dir / case / "float.bin", dtype="<f4")
    return img.reshape(meta["spixels"], meta["fpixels"])


def _photon_line(golden_dir, case):
    return next(l for l in (golden_dir / case / "stdout.txt").read_text().splitlines()
                if "photons on noise image" in l)


def _args(golden_dir, case):
    return (golden_dir / case / "args.txt").read_text().split()


@pytest.mark.parametrize("case,seed", [("at014_noise_seed123", 123), ("at014_noise_seed456", 456),
                                       ("feat_water_noise", 7)])
def test_noise_image_is_byte_exact(golden_dir, case, seed):
    gold = (golden_dir / case / "noise.img").read_bytes()
    header = SmvHeader.from_text(read_smv(golden_dir / case / "noise.img").header_text)
    result = noise_image(_float_image(golden_dir, case), seed=CLong(seed_from_cli(seed)),
                         rng=CRandom(), adc=40.0)
    assert smv_bytes(result.image, header) == gold
    assert result.summary_line() == _photon_line(golden_dir, case)


@pytest.mark.parametrize("case", ["feat_roi", "at024_random_misset_seed12345", "feat_mosaic_dom5",
                                  "feat_sourcefile3"])
def test_noise_photon_line_with_the_printed_time_seed(golden_dir, case):
    """Cases run without -seed print their time seed; the noise stream on it must give the C's
    photon count and overloads (ROI honoured for feat_roi)."""
    stdout = (golden_dir / case / "stdout.txt").read_text()
    seed = int(re.search(r"^  seed: (-?\d+)$", stdout, re.M).group(1))
    args = _args(golden_dir, case)
    roi = None
    if "-roi" in args:
        i = args.index("-roi")
        roi = tuple(int(v) for v in args[i + 1:i + 5])
    result = noise_image(_float_image(golden_dir, case), seed=CLong(seed), rng=CRandom(), roi=roi)
    assert result.summary_line() == _photon_line(golden_dir, case)
    if roi is not None:
        ss, fs = roi_bounds(result.image.shape, roi)
        outside = np.ones(result.image.shape, bool)
        outside[ss, fs] = False
        assert outside.any() and not result.image[outside].any()


def _scalar_reference(values, seed, rng):
    return np.array([poidev(float(v), seed, rng) for v in values], dtype=np.float32)


def test_fast_pass_equals_scalar_poidev_loop():
    rs = np.random.default_rng(3)
    values = np.concatenate([
        np.zeros(50), rs.random(4000) * 12, rs.random(3000) * 40, rs.random(3000) * 3000,
        [2e6, 3e6, 1e7, 5e6, np.nan, np.inf, -np.inf, -3.0, 11.999, 12.0, 1e6] * 5,
        rs.exponential(5, 3000)]).astype(np.float32)
    for seed_value in (-7, 5):          # 5: a positive seed continues a loaded table
        rng_a, rng_b = CRandom(), CRandom()
        warm_a, warm_b = CLong(-3), CLong(-3)
        ran1(warm_a, rng_a), ran1(warm_b, rng_b)
        seed_a, seed_b = CLong(seed_value), CLong(seed_value)
        expected = _scalar_reference(values, seed_a, rng_a)
        got = poisson_deviates(values, seed=seed_b, rng=rng_b)
        assert np.array_equal(expected, got, equal_nan=True)
        assert seed_a.value == seed_b.value
        assert (rng_a.iy, rng_a.iv, rng_a.gauss_iset, rng_a.gauss_gset) == \
               (rng_b.iy, rng_b.iv, rng_b.gauss_iset, rng_b.gauss_gset)


def test_fast_pass_crosses_block_boundaries_and_keeps_state():
    values = np.full(70000, 3.0, np.float32)         # several draws per pixel: many blocks
    rng_a, rng_b = CRandom(), CRandom()
    seed_a, seed_b = CLong(-99), CLong(-99)
    expected = _scalar_reference(values, seed_a, rng_a)
    got = poisson_deviates(values, seed=seed_b, rng=rng_b)
    assert np.array_equal(expected, got)
    assert [ran1(seed_a, rng_a) for _ in range(50)] == [ran1(seed_b, rng_b) for _ in range(50)]


def test_minus_one_first_pixel_quirk_is_replayed():
    values = np.array([-1.0, -1.0, 2.0, -1.0], np.float32)
    expected = _scalar_reference(values, CLong(-5), CRandom())
    assert expected[0] > 50                       # static g == 0 on the very first call
    assert np.array_equal(poisson_deviates(values, seed=CLong(-5), rng=CRandom()), expected)


def test_zero_image_one_draw_per_roi_pixel_and_adc_only():
    img = np.zeros((6, 5), np.float32)
    seed, rng = CLong(-1), CRandom()
    result = noise_image(img, seed=seed, rng=rng, adc=40.0, roi=(1, 3, 2, 4))
    ref_seed, ref_rng = CLong(-1), CRandom()
    for _ in range(3 * 3):
        ran1(ref_seed, ref_rng)
    assert seed.value == ref_seed.value
    expected = np.zeros((6, 5), np.uint16)
    expected[2:5, 1:4] = 40
    assert np.array_equal(result.image, expected)
    assert (result.photons, result.overloads) == (0.0, 0)
    assert result.summary_line() == "0 photons on noise image (0 overloads)"


def test_overloads_clip_and_negative_adc_wraps_like_the_c_cast():
    img = np.full((2, 2), 1e5, np.float32)
    result = noise_image(img, seed=CLong(-1), rng=CRandom(), adc=40.0)
    assert result.overloads == 4 and np.all(result.image == 65535)
    low = noise_image(np.zeros((1, 1), np.float32), seed=CLong(-1), rng=CRandom(), adc=-95.0)
    assert low.image[0, 0] == 65536 - 95            # (unsigned short)(-95.0) on x86-64 gcc


def test_empty_roi_and_bad_input():
    img = np.ones((4, 4), np.float32)
    seed = CLong(-8)
    result = noise_image(img, seed=seed, rng=CRandom(), roi=(3, 2, 0, 3))
    assert not result.image.any() and seed.value == -8
    with pytest.raises(ValueError, match="float_image"):
        noise_image(np.ones(4, np.float32), seed=CLong(-1), rng=CRandom())
