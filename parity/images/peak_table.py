"""Peak comparison of two images: detect (peaks.py), match (match.py), tabulate and summarise.

The table has one row per peak: ``matched`` rows (reference order), then ``missing`` (reference
peaks without a candidate within the gate), then ``extra`` (candidate peaks without a reference).
The summary's ``matched_fraction`` is ``n_matched / denominator`` with the fixed denominator
``n_ref`` = the number of reference peaks compared (its top N, fewer if the image has fewer).
``intensity_ratio_rms`` = sqrt(mean((cand_intensity / ref_intensity - 1)^2)) over matched pairs,
i.e. the RMS relative intensity error of the matched peaks.

Selection (which peaks enter the table). Default: the ``top_n`` brightest of each image, which are
mostly low-order peaks near the beam. Two ways to see the whole detector (they combine):

* ``shells=K`` — K equal-area radial shells around the beam (:mod:`parity.images.shells`), each
  with its own percentile threshold and its ``per_shell`` best peaks; the summary then has a
  ``shells.per_shell`` row per shell: counts, matched fraction, ``median_intensity_ratio``
  (median cand/ref peak intensity over the shell's matched pairs) and
  ``median_ratio_at_ref_pixel`` (median of the candidate value at each reference peak's pixel over
  the reference peak value, over all the shell's reference peaks, matched or not). A port whose
  high-resolution peaks are 8x too low shows 0.125 in its outer shell.
* ``rank="relerr"`` — the reference peaks with the largest relative error at their pixel,
  |cand - ref| / |ref| (inf where ref is 0 and cand is not), worst first, instead of the
  brightest; then every candidate peak matched to one of them, and as extras the worst of the
  candidate peaks that no reference peak matches (same error, reference value as denominator;
  error 0 is not listed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from parity.errors import ParityUsageError
from parity.images.io import check_image, check_same_shape, write_output_atomic
from parity.images.match import DENOMINATOR_RULE, PeakMatch, match_peaks
from parity.images.metrics import NotAvailable
from parity.images.peaks import PeakList, find_peaks
from parity.images.roi import Roi
from parity.images.shells import RadialShells, cut_per_shell, radial_shells

__all__ = ["PEAKS_VERSION", "PeakComparison", "compare_peaks", "build_peak_table", "summarize_peaks",
           "write_peak_csv", "shell_rows", "relative_error_at_pixels", "TABLE_COLUMNS", "RANKS",
           "DEFAULT_PER_SHELL"]

PEAKS_VERSION = "2"          # 2: shells, relerr ranking, shell/radius columns
RANKS = ("brightness", "relerr")
DEFAULT_PER_SHELL = 10
TABLE_COLUMNS = [
    "status", "ref_index", "cand_index", "ref_slow_px", "ref_fast_px", "cand_slow_px", "cand_fast_px",
    "dist_px", "ref_intensity", "cand_intensity", "intensity_ratio", "ref_pixel_slow", "ref_pixel_fast",
    "cand_pixel_slow", "cand_pixel_fast", "cand_value_at_ref_pixel", "ref_value_at_cand_pixel",
    "shell", "radius_px",
]


@dataclass(frozen=True, eq=False)
class PeakComparison:
    """Peaks of both images (full-image coordinates), their matching and the images' ROI.

    ``shells`` are the radial shells used (None without), ``center_px`` the (slow, fast) centre the
    table's ``radius_px`` is measured from, ``selection`` how the peaks were chosen.
    """

    ref_peaks: PeakList
    cand_peaks: PeakList
    match: PeakMatch
    roi: Roi
    cand_at_ref_pixels: np.ndarray   # candidate image value at each reference peak's pixel
    ref_at_cand_pixels: np.ndarray   # reference image value at each candidate peak's pixel
    shells: Optional[RadialShells] = None
    center_px: tuple[float, float] = (0.0, 0.0)
    selection: dict = field(default_factory=dict)

    def table(self):
        """pandas DataFrame, one row per peak (see :func:`build_peak_table`)."""
        return build_peak_table(self)

    def summary(self) -> dict:
        """JSON-ready summary (see :func:`summarize_peaks`)."""
        return summarize_peaks(self)


def _validate_selection(rank: str, per_shell: Optional[int]) -> None:
    if rank not in RANKS:
        raise ParityUsageError(f"rank must be one of {', '.join(RANKS)}, got {rank!r}")
    if per_shell is not None and (isinstance(per_shell, (bool, np.bool_))
                                  or not isinstance(per_shell, (int, np.integer)) or per_shell < 1):
        raise ParityUsageError(f"per_shell must be None or an integer >= 1, got {per_shell!r}")


def relative_error_at_pixels(peaks: PeakList, ref: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """|cand - ref| / |ref| at each peak's pixel (inf where ref is 0 and cand is not, 0 where both are)."""
    r = ref[peaks.pixel_slow, peaks.pixel_fast].astype(np.float64)
    c = cand[peaks.pixel_slow, peaks.pixel_fast].astype(np.float64)
    diff = np.abs(c - r)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r != 0, diff / np.abs(r), np.where(diff > 0, np.inf, 0.0))


def _worst_first(peaks: PeakList, err: np.ndarray, candidates: np.ndarray, n: Optional[int]) -> np.ndarray:
    """Indices ``candidates`` of ``peaks`` ordered worst ``err`` first (ties: brightest), cut to ``n``
    (per shell when the peaks have shells)."""
    order = candidates[np.lexsort((candidates, -peaks.intensity[candidates], -err[candidates]))]
    if peaks.shell is not None:
        return cut_per_shell(order, peaks.shell, n)
    return order if n is None else order[:n]


def _select_relerr(ref_all: PeakList, cand_all: PeakList, ref: np.ndarray, cand: np.ndarray,
                   n: Optional[int], gate_px: float) -> tuple[PeakList, PeakList]:
    """The ``n`` reference peaks of largest relative error; every candidate peak matched to one of
    them; and the ``n`` worst candidate peaks that no reference peak at all matches (error > 0)."""
    ref_err = relative_error_at_pixels(ref_all, ref, cand)
    ref_sel = ref_all.take(_worst_first(ref_all, ref_err, np.arange(len(ref_all)), n))
    counterparts = match_peaks(ref_sel.positions_px, cand_all.positions_px, gate_px=gate_px).pairs[:, 1]
    alone = match_peaks(ref_all.positions_px, cand_all.positions_px, gate_px=gate_px).extra
    cand_err = relative_error_at_pixels(cand_all, ref, cand)
    alone = alone[cand_err[alone] > 0]               # a candidate-only peak where the images agree is no error
    return ref_sel, cand_all.take(np.concatenate([counterparts, _worst_first(cand_all, cand_err, alone, n)]))


def compare_peaks(ref: np.ndarray, cand: np.ndarray, *, top_n: Optional[int] = 50, percentile: float = 99.5,
                  nms_radius_px: float = 3.0, gate_px: float = 1.0, subpixel: bool = False,
                  plateau_rtol: float = 0.0, roi: Roi | None = None, shells: Optional[int] = None,
                  per_shell: Optional[int] = None, rank: str = "brightness",
                  beam_center_px: Optional[Sequence[float]] = None) -> PeakComparison:
    """Find the ``top_n`` peaks of each image (same parameters) and match them within ``gate_px``.

    Parameters are those of :func:`parity.images.peaks.find_peaks` and :func:`parity.images.match.match_peaks`;
    ``roi`` (half-open, see :mod:`parity.images.roi`) restricts detection to a region: the percentile
    threshold is then taken over the ROI's pixels and the ROI edge acts as the image border.
    Positions stay in full-image pixel coordinates. Images are not modified.

    ``shells=K`` selects ``per_shell`` peaks (default :data:`DEFAULT_PER_SHELL`; ``top_n`` is then
    not used) in each of K equal-area radial shells around ``beam_center_px`` (default the detector
    centre; shells share out the ROI's pixels). ``rank="relerr"`` keeps the peaks with the largest
    relative error at their pixel instead of the brightest (see the module docstring).

    >>> img = np.zeros((8, 8), dtype=np.float32); img[2, 2] = 5; img[5, 6] = 3
    >>> comp = compare_peaks(img, np.roll(img, 1, axis=1), percentile=50, gate_px=1.5)
    >>> comp.summary()["matched_fraction"], comp.summary()["max_dist_px"]
    (1.0, 1.0)
    """
    ref = check_image(ref, name="reference")
    cand = check_image(cand, name="candidate")
    check_same_shape(ref, cand)
    _validate_selection(rank, per_shell)
    roi = Roi.full(ref.shape) if roi is None else roi.check_within(ref.shape)
    s0, f0 = roi.offset
    rings = None
    if shells is not None:
        rings = radial_shells(ref.shape, shells, beam_center_px=beam_center_px,
                              region=(roi.slow_start, roi.slow_stop, roi.fast_start, roi.fast_stop))
        center = rings.center_px
    else:
        center = radial_shells(ref.shape, 1, beam_center_px=beam_center_px).center_px
    n_keep = (per_shell or DEFAULT_PER_SHELL) if rings is not None else top_n
    kwargs = dict(top_n=n_keep if rank == "brightness" else None, percentile=percentile,
                  nms_radius_px=nms_radius_px, subpixel=subpixel, plateau_rtol=plateau_rtol,
                  shells=rings.offset(-s0, -f0) if rings is not None else None)
    ref_peaks = find_peaks(ref[roi.slices], **kwargs).offset(s0, f0)
    cand_peaks = find_peaks(cand[roi.slices], **kwargs).offset(s0, f0)
    if rank == "relerr":
        ref_peaks, cand_peaks = _select_relerr(ref_peaks, cand_peaks, ref, cand, n_keep, gate_px)
    match = match_peaks(ref_peaks.positions_px, cand_peaks.positions_px, gate_px=gate_px)
    return PeakComparison(
        ref_peaks=ref_peaks, cand_peaks=cand_peaks, match=match, roi=roi,
        cand_at_ref_pixels=cand[ref_peaks.pixel_slow, ref_peaks.pixel_fast].astype(np.float64),
        ref_at_cand_pixels=ref[cand_peaks.pixel_slow, cand_peaks.pixel_fast].astype(np.float64),
        shells=rings, center_px=center,
        selection={"rank": rank, "n": n_keep, "per": "shell" if rings is not None else "image"})


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
    slow = np.where(ref_idx >= 0, frame["ref_slow_px"].to_numpy(np.float64, na_value=np.nan),
                    frame["cand_slow_px"].to_numpy(np.float64, na_value=np.nan))
    fast = np.where(ref_idx >= 0, frame["ref_fast_px"].to_numpy(np.float64, na_value=np.nan),
                    frame["cand_fast_px"].to_numpy(np.float64, na_value=np.nan))
    frame["radius_px"] = pd.array(np.hypot(slow - comparison.center_px[0], fast - comparison.center_px[1]),
                                  dtype="Float64")
    if rp.shell is not None and cp.shell is not None:      # a matched pair goes by its reference peak
        ref_shell = rp.shell[np.maximum(ref_idx, 0)] if len(rp) else np.zeros(len(ref_idx), np.int64)
        cand_shell = cp.shell[np.maximum(cand_idx, 0)] if len(cp) else np.zeros(len(cand_idx), np.int64)
        frame["shell"] = pd.array(np.where(ref_idx >= 0, ref_shell, cand_shell), dtype="Int64")
    else:
        frame["shell"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame[TABLE_COLUMNS]


def _stat(values: np.ndarray, fn, what: str):
    return fn(values) if len(values) else NotAvailable(f"no matched peak ({what})")


def _plain(raw: dict) -> dict:
    """NotAvailable values → "n/a", their reasons under "n/a_reasons"."""
    out, reasons = {}, {}
    for key, value in raw.items():
        if isinstance(value, NotAvailable):
            out[key], reasons[key] = "n/a", value.reason
        else:
            out[key] = value
    out["n/a_reasons"] = reasons
    return out


def _median(values: np.ndarray, what: str):
    return float(np.median(values)) if len(values) else NotAvailable(f"no {what}")


def shell_rows(comparison: PeakComparison) -> list[dict]:
    """One dict per shell: ``shell``, ``r_min_px``/``r_max_px``, ``n_ref``, ``n_cand``, ``n_matched``,
    ``n_missing``, ``n_extra``, ``matched_fraction`` (= n_matched / n_ref of the shell),
    ``median_intensity_ratio`` (cand/ref over matched pairs, by the reference peak's shell) and
    ``median_ratio_at_ref_pixel`` (candidate value at each reference peak pixel / reference peak
    value, over all the shell's reference peaks). Empty without shells."""
    sh, m, rp, cp = comparison.shells, comparison.match, comparison.ref_peaks, comparison.cand_peaks
    if sh is None or rp.shell is None or cp.shell is None:
        return []
    pair_shell = rp.shell[m.pairs[:, 0]]
    ref_i, cand_i = rp.intensity[m.pairs[:, 0]], cp.intensity[m.pairs[:, 1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        pair_ratio = cand_i / ref_i
        pixel_ratio = comparison.cand_at_ref_pixels / rp.intensity
    rows = []
    for k in range(sh.n_shells):
        n_ref, in_pairs = int((rp.shell == k).sum()), pair_shell == k
        ok_pairs, ok_ref = in_pairs & (ref_i != 0), (rp.shell == k) & (rp.intensity != 0)
        rows.append(_plain({
            "shell": k, "r_min_px": sh.edges_px[k], "r_max_px": sh.edges_px[k + 1],
            "n_ref": n_ref, "n_cand": int((cp.shell == k).sum()), "n_matched": int(in_pairs.sum()),
            "n_missing": int((rp.shell[m.missing] == k).sum()), "n_extra": int((cp.shell[m.extra] == k).sum()),
            "matched_fraction": int(in_pairs.sum()) / n_ref if n_ref else NotAvailable("no reference peak"),
            "median_intensity_ratio": _median(pair_ratio[ok_pairs], "matched pair"),
            "median_ratio_at_ref_pixel": _median(pixel_ratio[ok_ref], "reference peak"),
        }))
    return rows


def _worst_shell(rows: list[dict]) -> dict | None:
    """The shell whose median intensity ratio (at the reference pixels) is farthest from 1 in log."""
    scored = [(abs(np.log(r["median_ratio_at_ref_pixel"])), r) for r in rows
              if isinstance(r["median_ratio_at_ref_pixel"], float) and r["median_ratio_at_ref_pixel"] > 0]
    if not scored or max(s for s, _ in scored) == 0.0:
        return None                                   # no shell is off: none is worst
    _, row = max(scored, key=lambda item: item[0])
    return {"shell": row["shell"], "median_ratio_at_ref_pixel": row["median_ratio_at_ref_pixel"],
            "median_intensity_ratio": row["median_intensity_ratio"], "matched_fraction": row["matched_fraction"]}


def _denominator_rule(selection: dict) -> str:
    if selection.get("per") != "shell" and selection.get("rank", "brightness") == "brightness":
        return DENOMINATOR_RULE
    which = "worst N by relative error" if selection.get("rank") == "relerr" else "top N"
    per = " per shell" if selection.get("per") == "shell" else ""
    return f"number of reference peaks compared (the reference's {which}{per})"


def summarize_peaks(comparison: PeakComparison) -> dict:
    """Summary dict; n/a entries are ``"n/a"`` with reasons under ``"n/a_reasons"``."""
    m, rp, cp = comparison.match, comparison.ref_peaks, comparison.cand_peaks
    d = m.distances_px
    ref_i, cand_i = rp.intensity[m.pairs[:, 0]], cp.intensity[m.pairs[:, 1]]
    ok = ref_i != 0
    rel = cand_i[ok] / ref_i[ok] - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        at_ref = comparison.cand_at_ref_pixels / rp.intensity
    raw = {
        "definitions_version": PEAKS_VERSION,
        "n_ref": m.n_ref, "n_cand": m.n_cand, "n_matched": m.n_matched,
        "n_missing": int(len(m.missing)), "n_extra": int(len(m.extra)),
        "matched_fraction": m.matched_fraction, "denominator": m.denominator,
        "denominator_rule": _denominator_rule(comparison.selection), "gate_px": m.gate_px,
        "median_dist_px": _stat(d, lambda x: float(np.median(x)), "median distance"),
        "p90_dist_px": _stat(d, lambda x: float(np.percentile(x, 90)), "90th percentile distance"),
        "max_dist_px": _stat(d, lambda x: float(np.max(x)), "max distance"),
        "mean_dist_px": _stat(d, lambda x: float(np.mean(x)), "mean distance"),
        "intensity_ratio_rms": _stat(rel, lambda x: float(np.sqrt(np.mean(x * x))), "intensity ratio"),
        "intensity_ratio_definition": "sqrt(mean((cand_intensity/ref_intensity - 1)^2)) over matched pairs",
        "median_ratio_at_ref_pixel": _median(at_ref[rp.intensity != 0], "reference peak"),
        "median_ratio_at_ref_pixel_definition": "median of cand value at each ref peak pixel / ref peak value",
        "roi": comparison.roi.to_dict(),
        "ref_detection": rp.params(), "cand_detection": cp.params(),
        "selection": dict(comparison.selection), "center_px": list(comparison.center_px),
    }
    out = _plain(raw)
    if comparison.shells is not None:
        rows = shell_rows(comparison)
        out["shells"] = {**comparison.shells.to_dict(), "per_shell": rows, "worst": _worst_shell(rows)}
    else:
        out["shells"] = None
    return out


def write_peak_csv(table, path, *, overwrite: bool = False):
    """Write the peak table as CSV (atomically; an existing file only with ``overwrite``)."""
    return write_output_atomic(path, table.to_csv(index=False), overwrite=overwrite)
