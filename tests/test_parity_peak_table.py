"""parity.images.peak_table (table, summary, CSV) and parity.images.overlay (PNG) on real C images."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import GOLDEN_DIR
from parity.errors import ParityUsageError
from parity.images.io import read_image
from parity.images.metrics import compare_images
from parity.images.overlay import overlay_title, render_overlay, write_overlay
from parity.images.peak_table import TABLE_COLUMNS, compare_peaks, write_peak_csv
from parity.images.roi import Roi

SUMMARY_KEYS = {"n_ref", "n_cand", "n_matched", "matched_fraction", "denominator", "median_dist_px",
                "p90_dist_px", "max_dist_px", "intensity_ratio_rms"}


@pytest.fixture(scope="module")
def triclinic():
    return read_image(GOLDEN_DIR / "at012_triclinic_P1" / "float.bin")


def _remove_peak(image: np.ndarray, slow: int, fast: int, radius: int = 3) -> np.ndarray:
    out = image.copy()
    out[slow - radius:slow + radius + 1, fast - radius:fast + radius + 1] = 0.0
    return out


def test_table_rows_and_statuses(triclinic):
    first = compare_peaks(triclinic, triclinic, top_n=20)
    s, f = int(first.ref_peaks.pixel_slow[2]), int(first.ref_peaks.pixel_fast[2])
    cand = _remove_peak(triclinic, s, f)
    cand[5, 5] = 1000.0                                  # a new, brightest candidate-only peak
    comp = compare_peaks(triclinic, cand, top_n=20, gate_px=1.0)
    table = comp.table()
    assert list(table.columns) == TABLE_COLUMNS
    counts = table["status"].value_counts().to_dict()
    assert counts["missing"] >= 1 and counts["extra"] >= 1
    assert counts["matched"] + counts["missing"] == len(comp.ref_peaks) == 20
    assert counts["matched"] + counts["extra"] == len(comp.cand_peaks)
    missing = table[table["status"] == "missing"]
    assert ((missing["ref_pixel_slow"] == s) & (missing["ref_pixel_fast"] == f)).any()
    assert missing["cand_slow_px"].isna().all() and missing["dist_px"].isna().all()
    extra = table[table["status"] == "extra"]
    assert ((extra["cand_pixel_slow"] == 5) & (extra["cand_pixel_fast"] == 5)).any()
    matched = table[table["status"] == "matched"]
    assert (matched["dist_px"] <= 1.0).all() and (matched["intensity_ratio"] == 1.0).all()


def test_summary_keys_and_fixed_denominator(triclinic):
    comp = compare_peaks(triclinic, np.roll(triclinic, 1, axis=0), top_n=30, gate_px=1.5)
    summary = comp.summary()
    assert SUMMARY_KEYS <= set(summary)
    assert summary["denominator"] == summary["n_ref"] == 30
    assert summary["matched_fraction"] == summary["n_matched"] / 30
    assert summary["median_dist_px"] == 1.0 and summary["max_dist_px"] == 1.0
    assert "reference" in summary["denominator_rule"]


def test_intensity_ratio_rms_of_a_scaled_image(triclinic):
    summary = compare_peaks(triclinic, triclinic * np.float32(1.1), top_n=30).summary()
    assert summary["n_matched"] == 30
    assert summary["intensity_ratio_rms"] == pytest.approx(0.1, rel=1e-5)


def test_summary_not_available_without_matches(triclinic):
    summary = compare_peaks(triclinic, np.zeros_like(triclinic), top_n=10).summary()
    assert summary["n_matched"] == 0 and summary["matched_fraction"] == 0.0
    for key in ("median_dist_px", "p90_dist_px", "max_dist_px", "intensity_ratio_rms"):
        assert summary[key] == "n/a" and "no matched peak" in summary["n/a_reasons"][key]


def test_roi_limits_detection_and_keeps_image_coordinates(triclinic):
    roi = Roi.from_c_inclusive(100, 299, 200, 399)
    comp = compare_peaks(triclinic, triclinic, top_n=50, roi=roi)
    pos = comp.ref_peaks.positions_px
    assert len(pos) > 0 and all(roi.contains(s, f) for s, f in pos)
    assert comp.summary()["roi"]["c_inclusive_xmin_xmax_ymin_ymax"] == [100, 299, 200, 399]
    with pytest.raises(ParityUsageError):
        compare_peaks(triclinic, triclinic, roi=Roi(0, 600, 0, 10))


def test_csv_round_trip(tmp_path, triclinic):
    comp = compare_peaks(triclinic, np.roll(triclinic, 1, axis=1), top_n=10, gate_px=0.5)
    path = write_peak_csv(comp.table(), tmp_path / "peaks.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == TABLE_COLUMNS and len(back) == 20        # 10 missing + 10 extra
    assert set(back["status"]) == {"missing", "extra"}
    with pytest.raises(ParityUsageError, match="exists"):
        write_peak_csv(comp.table(), path)


def test_inputs_not_mutated(triclinic):
    ref = triclinic[:160, :200]
    cand = ref * np.float32(0.9)
    before_ref, before_cand = ref.copy(), cand.copy()
    comp = compare_peaks(ref, cand, top_n=10, subpixel=True, plateau_rtol=1e-4)
    render_overlay(ref, cand, comp)
    np.testing.assert_array_equal(ref, before_ref)
    np.testing.assert_array_equal(cand, before_cand)


# ---- overlay --------------------------------------------------------------------------------------
def _colour_pixels(png: np.ndarray, rgb: tuple[float, float, float], tol: float = 0.08) -> int:
    return int((np.abs(png[..., :3] - np.array(rgb)).max(axis=-1) < tol).sum())


def test_overlay_of_a_real_case_is_written_and_not_blank(tmp_path, triclinic):
    import matplotlib.image as mpimg

    first = compare_peaks(triclinic, triclinic, top_n=50)
    cand = _remove_peak(triclinic, int(first.ref_peaks.pixel_slow[0]), int(first.ref_peaks.pixel_fast[0]))
    cand = cand * np.float32(1.01)
    comp = compare_peaks(triclinic, cand, top_n=50, gate_px=1.0)
    metrics = compare_images(triclinic, cand)
    path = write_overlay(tmp_path / "overlay.png", triclinic, cand, comp, case="at012_triclinic_P1",
                         metrics=metrics)
    assert path.stat().st_size > 50_000
    png = mpimg.imread(path)
    assert png.shape[0] >= 400 and png.shape[1] >= 1200
    assert png[..., :3].std() > 0.1                                        # not blank
    assert len(np.unique(png[..., :3].reshape(-1, 3), axis=0)) > 500      # images, not just axes
    assert _colour_pixels(png, (0.0, 1.0, 1.0)) > 100                     # matched: cyan circles
    assert _colour_pixels(png, (1.0, 0.0, 0.0)) > 10                      # missing: red crosses
    with pytest.raises(ParityUsageError, match="exists"):
        write_overlay(path, triclinic, cand, comp)


def test_overlay_title_names_case_metrics_and_matches(triclinic):
    comp = compare_peaks(triclinic, triclinic, top_n=5)
    title = overlay_title(case="caseX", metrics=compare_images(triclinic, triclinic), comparison=comp)
    assert "caseX" in title and "corr 1.000000" in title and "matched 5/5" in title
    assert "sum cand/ref n/a" in overlay_title(metrics=compare_images(np.zeros((3, 3)), np.eye(3)))


def test_overlay_without_peaks_and_zero_images():
    png = render_overlay(np.zeros((16, 16)), np.zeros((16, 16)))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def _longest_run(mask: np.ndarray) -> int:
    best = run = 0
    for value in mask:
        run = run + 1 if value else 0
        best = max(best, run)
    return best


def test_overlay_panels_follow_the_image_size_and_the_width_option(triclinic):
    import io

    import matplotlib.image as mpimg

    from parity.images.overlay import overlay_layout

    assert overlay_layout((1024, 1024)).panel_px == 1024 and overlay_layout((4096, 4096)).panel_px == 1024
    assert overlay_layout((4096, 4096)).factor == 4 and overlay_layout((64, 64)).panel_px == 600
    assert overlay_layout((100, 200), width_px=300).panel_height_px == 150
    for bad in (10, 5000, True, 2.5):
        with pytest.raises(ParityUsageError, match="overlay width"):
            overlay_layout((64, 64), width_px=bad)
    cubic = read_image(GOLDEN_DIR / "at012_simple_cubic" / "float.bin")     # 1024²: drawn 1:1
    png = mpimg.imread(io.BytesIO(render_overlay(cubic, cubic)))
    middle = png[png.shape[0] // 2, :, :3]
    assert _longest_run((np.abs(middle - 1.0).max(axis=-1) > 0.02)) >= 800   # one panel, not white margin
    narrow = mpimg.imread(io.BytesIO(render_overlay(triclinic, triclinic, width_px=300)))
    assert narrow.shape[1] < 1400 < mpimg.imread(io.BytesIO(render_overlay(triclinic, triclinic))).shape[1]
