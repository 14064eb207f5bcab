"""Peak comparison of two images: detect (peaks.py), match (match.py), tabulate and summarise.

The table has one row per peak: ``matched`` rows (reference order), then ``missing`` (reference
peaks without a candidate within the gate), then ``extra`` (candidate peaks without a reference).
The summary's ``matched_fraction`` is ``n_matched / denominator`` with the fixed denominator
``n_ref`` = the number of reference peaks compared (its top N, fewer if the image has fewer).
``intensity_ratio_rms`` = sqrt(mean((cand_intensity / ref_intensity - 1)^2)) over matched pairs,
i.e. the RMS relative intensity error of the matched peaks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from parity.images.io import check_image, check_same_shape, write_output_atomic
from parity.images.match import DENOMINATOR_RULE, PeakMatch, match_peaks
from parity.images.metrics import NotAvailable
from parity.images.peaks import PeakList, find_peaks
from parity.images.roi import Roi

__all__ = ["PEAKS_VERSION", "PeakComparison", "compare_peaks", "build_peak_table", "summarize_peaks",
           "write_peak_csv", "TABLE_COLUMNS"]

PEAKS_VERSION = "1"
TABLE_COLUMNS = [
    "status", "ref_index", "cand_index", "ref_slow_px", "ref_fast_px", "cand_slow_px", "cand_fast_px",
    "dist_px", "ref_intensity", "cand_intensity", "intensity_ratio", "ref_pixel_slow", "ref_pixel_fast",
    "cand_pixel_slow", "cand_pixel_fast", "cand_value_at_ref_pixel", "ref_value_at_cand_pixel",
]


@dataclass(frozen=True, eq=False)
class PeakComparison:
    """Peaks of both images (full-image coordinates), their matching and the images' ROI."""

    ref_peaks: PeakList
    cand_peaks: PeakList
    match: PeakMatch
    roi: Roi
    cand_at_ref_pixels: np.ndarray   # candidate image value at each reference peak's pixel
    ref_at_cand_pixels: np.ndarray   # reference image value at each candidate peak's pixel

    def table(self):
        """pandas DataFrame, one row per peak (see :func:`build_peak_table`)."""
        return build_peak_table(self)

    def summary(self) -> dict:
        """JSON-ready summary (see :func:`summarize_peaks`)."""
        return summarize_peaks(self)


def compare_peaks(ref: np.ndarray, cand: np.ndarray, *, top_n: Optional[int] = 50, percentile: float = 99.5,
                  nms_radius_px: float = 3.0, gate_px: float = 1.0, subpixel: bool = False,
                  plateau_rtol: float = 0.0, roi: Roi | None = None) -> PeakComparison:
    """Find the ``top_n`` peaks of each image (same parameters) and match them within ``gate_px``.

    Parameters are those of :func:`parity.images.peaks.find_peaks` and :func:`parity.images.match.match_peaks`;
    ``roi`` (half-open, see :mod:`parity.images.roi`) restricts detection to a region: the percentile
    threshold is then taken over the ROI's pixels and the ROI edge acts as the image border.
    Positions stay in full-image pixel coordinates. Images are not modified.

    >>> img = np.zeros((8, 8), dtype=np.float32); img[2, 2] = 5; img[5, 6] = 3
    >>> comp = compare_peaks(img, np.roll(img, 1, axis=1), percentile=50, gate_px=1.5)
    >>> comp.summary()["matched_fraction"], comp.summary()["max_dist_px"]
    (1.0, 1.0)
    """
    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    roi = Roi.full(ref.shape) if roi is None else roi.check_within(ref.shape)
    kwargs = dict(top_n=top_n, percentile=percentile, nms_radius_px=nms_radius_px, subpixel=subpixel,
                  plateau_rtol=plateau_rtol)
    ref_peaks = find_peaks(ref[roi.slices], **kwargs).offset(*roi.offset)
    cand_peaks = find_peaks(cand[roi.slices], **kwargs).offset(*roi.offset)
    match = match_peaks(ref_peaks.positions_px, cand_peaks.positions_px, gate_px=gate_px)
    return PeakComparison(
        ref_peaks=ref_peaks, cand_peaks=cand_peaks, match=match, roi=roi,
        cand_at_ref_pixels=cand[ref_peaks.pixel_slow, ref_peaks.pixel_fast].astype(np.float64),
        ref_at_cand_pixels=ref[cand_peaks.pixel_slow, cand_peaks.pixel_fast].astype(np.float64))


def build_peak_table(comparison: PeakComparison):
    """One row per peak with columns :data:`TABLE_COLUMNS`; absent values are empty (NaN / <NA>)."""
    import pandas as pd

    rp, cp, m = comparison.ref_peaks, comparison.cand_peaks, comparison.match
    ref_idx = np.concatenate([m.pairs[:, 0], m.missing, np.full(len(m.extra), -1)]).astype(np.int64)
    cand_idx = np.concatenate([m.pairs[:, 1], np.full(len(m.missing), -1), m.extra]).astype(np.int64)
    status = ["matched"] * m.n_matched + ["missing"] * len(m.missing) + ["extra"] * len(m.extra)

    def pick(values: np.ndarray, idx: np.ndarray, integer: bool = False):
        out = pd.array(np.where(idx >= 0, values[np.maximum(idx, 0)] if len(values) else 0, 0),
                       dtype="Int64" if integer else "Float64")
        out[idx < 0] = pd.NA
        return out

    frame = pd.DataFrame({
        "status": status,
        "ref_index": pick(np.arange(len(rp)), ref_idx, True),
        "cand_index": pick(np.arange(len(cp)), cand_idx, True),
        "ref_slow_px": pick(rp.slow_px, ref_idx), "ref_fast_px": pick(rp.fast_px, ref_idx),
        "cand_slow_px": pick(cp.slow_px, cand_idx), "cand_fast_px": pick(cp.fast_px, cand_idx),
        "dist_px": pd.array(np.concatenate([m.distances_px, np.full(len(m.missing) + len(m.extra), np.nan)]),
                            dtype="Float64"),
        "ref_intensity": pick(rp.intensity, ref_idx), "cand_intensity": pick(cp.intensity, cand_idx),
        "ref_pixel_slow": pick(rp.pixel_slow, ref_idx, True), "ref_pixel_fast": pick(rp.pixel_fast, ref_idx, True),
        "cand_pixel_slow": pick(cp.pixel_slow, cand_idx, True),
        "cand_pixel_fast": pick(cp.pixel_fast, cand_idx, True),
        "cand_value_at_ref_pixel": pick(comparison.cand_at_ref_pixels, ref_idx),
        "ref_value_at_cand_pixel": pick(comparison.ref_at_cand_pixels, cand_idx),
    })
    ratio = frame["cand_intensity"] / frame["ref_intensity"]
    frame["intensity_ratio"] = ratio.where(frame["ref_intensity"] != 0)
    return frame[TABLE_COLUMNS]


def _stat(values: np.ndarray, fn, what: str):
    return fn(values) if len(values) else NotAvailable(f"no matched peak ({what})")


def summarize_peaks(comparison: PeakComparison) -> dict:
    """Summary dict; n/a entries are ``"n/a"`` with reasons under ``"n/a_reasons"``."""
    m, rp, cp = comparison.match, comparison.ref_peaks, comparison.cand_peaks
    d = m.distances_px
    ref_i, cand_i = rp.intensity[m.pairs[:, 0]], cp.intensity[m.pairs[:, 1]]
    ok = ref_i != 0
    rel = cand_i[ok] / ref_i[ok] - 1.0
    raw = {
        "definitions_version": PEAKS_VERSION,
        "n_ref": m.n_ref, "n_cand": m.n_cand, "n_matched": m.n_matched,
        "n_missing": int(len(m.missing)), "n_extra": int(len(m.extra)),
        "matched_fraction": m.matched_fraction, "denominator": m.denominator,
        "denominator_rule": DENOMINATOR_RULE, "gate_px": m.gate_px,
        "median_dist_px": _stat(d, lambda x: float(np.median(x)), "median distance"),
        "p90_dist_px": _stat(d, lambda x: float(np.percentile(x, 90)), "90th percentile distance"),
        "max_dist_px": _stat(d, lambda x: float(np.max(x)), "max distance"),
        "mean_dist_px": _stat(d, lambda x: float(np.mean(x)), "mean distance"),
        "intensity_ratio_rms": _stat(rel, lambda x: float(np.sqrt(np.mean(x * x))), "intensity ratio"),
        "intensity_ratio_definition": "sqrt(mean((cand_intensity/ref_intensity - 1)^2)) over matched pairs",
        "roi": comparison.roi.to_dict(),
        "ref_detection": rp.params(), "cand_detection": cp.params(),
    }
    out, reasons = {}, {}
    for key, value in raw.items():
        if isinstance(value, NotAvailable):
            out[key], reasons[key] = "n/a", value.reason
        else:
            out[key] = value
    out["n/a_reasons"] = reasons
    return out


def write_peak_csv(table, path, *, overwrite: bool = False):
    """Write the peak table as CSV (atomically; an existing file only with ``overwrite``)."""
    return write_output_atomic(path, table.to_csv(index=False), overwrite=overwrite)
