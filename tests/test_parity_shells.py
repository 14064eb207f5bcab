"""Peak tables that see the whole detector: radial shells (parity.images.shells) and relative-error
ranking in parity.images.peak_table, on real C images.

The defect they exist for: a port whose high-index peaks (far from the beam) are several times too
low while correlation stays 0.9999x; the brightest-N table, made of low-order peaks, misses it.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import GOLDEN_DIR
from parity.errors import ParityUsageError
from parity.images.io import read_image
from parity.images.overlay import render_overlay
from parity.images.peak_table import compare_peaks
from parity.images.peaks import find_peaks
from parity.images.roi import Roi
from parity.images.shells import radial_shells

CASE = "at029_oversample1"      # 256², 317 peaks; its 50 brightest all lie inside r = 125 px


@pytest.fixture(scope="module")
def golden():
    return read_image(GOLDEN_DIR / CASE / "float.bin")


@pytest.fixture(scope="module")
def outer_low(golden):
    """A synthetic candidate: every pixel of the outermost of 4 shells 8x too low."""
    shells = radial_shells(golden.shape, 4)
    cand = golden.copy()
    cand[shells.pixel_shells(golden.shape) == 3] *= np.float32(0.125)
    return cand


def test_equal_area_shells_share_the_pixels():
    shells = radial_shells((300, 200), 5)
    counts = np.bincount(shells.pixel_shells((300, 200)).ravel(), minlength=5)
    assert shells.center_px == (149.5, 99.5) and len(shells.edges_px) == 6
    assert counts.sum() == 60_000 and counts.max() - counts.min() <= 0.01 * counts.mean()
    off = radial_shells((300, 200), 2, beam_center_px=(0, 0))
    assert off.center_px == (0.0, 0.0) and off.assign([0.0, 299.0], [0.0, 199.0]).tolist() == [0, 1]


@pytest.mark.parametrize("kwargs", [dict(n_shells=0), dict(n_shells=2.5), dict(n_shells=True),
                                    dict(n_shells=3, beam_center_px=(1.0,)),
                                    dict(n_shells=3, beam_center_px=(np.nan, 1.0))])
def test_bad_shell_parameters(kwargs):
    with pytest.raises(ParityUsageError):
        radial_shells((64, 64), **kwargs)


def test_bad_selection_parameters(golden):
    for kwargs in (dict(rank="worst"), dict(shells=4, per_shell=0), dict(shells=0)):
        with pytest.raises(ParityUsageError):
            compare_peaks(golden, golden, **kwargs)


def test_outer_shell_eight_times_too_low_shows_in_its_shell_only(golden, outer_low):
    default = compare_peaks(golden, outer_low, top_n=50).summary()
    table = compare_peaks(golden, outer_low, top_n=50).table()
    assert default["intensity_ratio_rms"] < 1e-6                             # the brightest-N table sees nothing
    assert default["median_ratio_at_ref_pixel"] == 1.0
    assert not (table["intensity_ratio"].dropna() < 0.5).any() and default["shells"] is None

    summary = compare_peaks(golden, outer_low, shells=4, per_shell=10).summary()
    rows = summary["shells"]["per_shell"]
    assert [r["n_ref"] for r in rows] == [10, 10, 10, 10]
    assert rows[3]["median_intensity_ratio"] == 0.125 and rows[3]["median_ratio_at_ref_pixel"] == 0.125
    assert all(r["median_intensity_ratio"] == 1.0 for r in rows[:3])
    assert all(r["matched_fraction"] == 1.0 for r in rows)                   # per-shell thresholds find them
    assert summary["shells"]["worst"]["shell"] == 3
    assert summary["selection"] == {"rank": "brightness", "n": 10, "per": "shell"}


def test_shell_and_radius_columns(golden, outer_low):
    comp = compare_peaks(golden, outer_low, shells=4, per_shell=5)
    table = comp.table()
    assert table["shell"].notna().all() and set(table["shell"]) == {0, 1, 2, 3}
    outer = table[table["shell"] == 3]
    assert (outer["radius_px"] >= comp.shells.edges_px[3] - 1).all()
    assert (outer["intensity_ratio"] == 0.125).all()
    plain = compare_peaks(golden, golden, top_n=5).table()
    assert plain["shell"].isna().all() and plain["radius_px"].notna().all()


def test_relerr_ranking_lists_the_wrong_peaks(golden, outer_low):
    comp = compare_peaks(golden, outer_low, rank="relerr", top_n=10)
    table = comp.table()
    ref_rows = table[table["ref_index"].notna()]
    assert len(ref_rows) == 10 and (ref_rows["radius_px"] > 124).all()       # all from the scaled shell
    ratio = ref_rows["cand_value_at_ref_pixel"] / ref_rows["ref_intensity"]
    assert np.allclose(ratio.to_numpy(float), 0.125)
    assert comp.summary()["median_ratio_at_ref_pixel"] == 0.125
    per_shell = compare_peaks(golden, outer_low, rank="relerr", shells=4, per_shell=3).summary()
    assert per_shell["shells"]["per_shell"][3]["median_intensity_ratio"] == 0.125
    assert per_shell["n_ref"] == 12 and per_shell["matched_fraction"] == 1.0


@pytest.mark.parametrize("case", ["at029_oversample1", "at012_triclinic_P1", "feat_nonsquare_detector"])
def test_self_matching_is_perfect_in_every_shell(case):
    image = read_image(GOLDEN_DIR / case / "float.bin")
    summary = compare_peaks(image, image, shells=4, per_shell=8).summary()
    for row in summary["shells"]["per_shell"]:
        assert row["n_ref"] == row["n_cand"] == row["n_matched"] > 0, row
        assert row["matched_fraction"] == 1.0 and row["median_intensity_ratio"] == 1.0
    assert summary["n_extra"] == summary["n_missing"] == 0


def test_shells_in_an_roi_keep_image_coordinates(golden):
    roi = Roi.from_c_inclusive(0, 127, 0, 127)
    comp = compare_peaks(golden, golden, roi=roi, shells=3, per_shell=4)
    assert comp.shells.center_px == (127.5, 127.5)
    assert all(roi.contains(s, f) for s, f in comp.ref_peaks.positions_px)
    assert np.array_equal(comp.ref_peaks.shell,
                          comp.shells.assign(comp.ref_peaks.slow_px, comp.ref_peaks.fast_px))


def test_find_peaks_per_shell_threshold_and_cut(golden, outer_low):
    shells = radial_shells(golden.shape, 4)
    plain = find_peaks(outer_low, top_n=None)
    per = find_peaks(outer_low, top_n=6, shells=shells)
    assert np.bincount(per.shell, minlength=4).tolist() == [6, 6, 6, 6]
    assert len(per.shell_thresholds) == 4 and per.shell_thresholds[3] < plain.threshold
    r = shells.radius_px(plain.slow_px, plain.fast_px)
    assert not (r > shells.edges_px[3] + 1).any()      # one global threshold misses the low outer shell


def test_overlay_colours_shells_and_marks_the_worst(golden, outer_low):
    import io

    import matplotlib.image as mpimg

    comp = compare_peaks(golden, outer_low, shells=4, per_shell=10)
    png = mpimg.imread(io.BytesIO(render_overlay(golden, outer_low, comp)))

    def count(rgb):
        return int((np.abs(png[..., :3] - np.array(rgb)).max(axis=-1) < 0.08).sum())

    assert count((0.0, 1.0, 1.0)) > 50 and count((1.0, 1.0, 0.0)) > 50      # shell 0 cyan, shell 1 yellow
    assert count((1.0, 0.647, 0.0)) > 30                                     # the worst peak, boxed in orange
