"""nb-compare's judgement of two finished runs: images, shapes, ROI, metrics, peaks, previews.

Fills ``CompareResult.details`` / ``exit_code`` / ``notes`` (see :mod:`parity.compare.run`) and writes
``c.png``, ``py.png`` and, with ``save_diff``, ``diff.bin`` (float32 py − c, whole image) and
``diff.png`` into the output directory. Metrics are :func:`parity.images.metrics.compare_images` (C is the
reference: ``sum_ratio = sum_py / sum_c``, n/a when ``sum_c`` ≈ 0) and
:func:`parity.images.peak_table.compare_peaks` (Hungarian matching, defaults below), both on the ROI.
"""
from __future__ import annotations

from parity.compare.images import (DIFF_PNG_METHOD, PNG_SCALE_METHOD, diff_to_gray8, png_gray8, png_scale,
                                   read_float_image, resample_nearest, roi_pixels, to_gray8)
from parity.images.io import write_output_atomic
from parity.images.roi import Roi

__all__ = ["judge_runs", "PEAK_PARAMS"]

# Peak detection/matching used by nb-compare (recorded in summary.json with the results).
PEAK_PARAMS = {"top_n": 50, "percentile": 99.5, "nms_radius_px": 3.0, "gate_px": 1.0}


def _runner_problem(side: str, run) -> str | None:
    from parity.compare.sides import side_label

    label = side_label(run.runner)
    if run.timed_out:
        return f"{label} timed out (see {side}_stderr.txt)"
    if run.returncode != 0:
        return f"{label} exited with code {run.returncode} (see {side}_stderr.txt)"
    if run.float_path is None:
        return f"{label} exited 0 but wrote no float image"
    return None


def _write_previews(outdir, c, py, roi: Roi, percentile: float) -> dict:
    scale = png_scale(_union(c, py, roi), percentile=percentile)
    write_output_atomic(outdir / "c.png", png_gray8(to_gray8(c, scale=scale)))
    write_output_atomic(outdir / "py.png", png_gray8(to_gray8(py, scale=scale)))
    return {"png_scale_method": PNG_SCALE_METHOD, "png_scale_percentile": percentile, "png_scale_value": scale}


def _union(c, py, roi: Roi):
    import numpy as np

    return np.concatenate([roi_pixels(c, roi), roi_pixels(py, roi)])


def _write_diff(outdir, c, py, roi: Roi, percentile: float) -> dict:
    import numpy as np

    diff = py.astype(np.float32) - c.astype(np.float32)
    write_output_atomic(outdir / "diff.bin", diff.astype("<f4").tobytes())
    scale = png_scale(np.abs(diff[roi.slices]), percentile=percentile)
    write_output_atomic(outdir / "diff.png", png_gray8(diff_to_gray8(diff, scale=scale)))
    return {"diff_definition": "py - c (float32, whole image, C shape)", "diff_png_method": DIFF_PNG_METHOD,
            "diff_png_scale_value": scale}


def judge_runs(plan, result) -> None:
    """Judge ``result.c_run`` against ``result.py_run``; never raises for runner failures."""
    from parity.compare.exits import EXIT_RUNNER, EXIT_SHAPE, EXIT_THRESHOLD
    from parity.compare.gates import evaluate_gates, failed_gates
    from parity.images.metrics import compare_images
    from parity.images.peak_table import compare_peaks

    o, d = plan.options, result.details
    problems = [p for p in (_runner_problem("c", result.c_run), _runner_problem("py", result.py_run)) if p]
    if problems:
        result.exit_code = EXIT_RUNNER
        result.notes += problems
        return
    c = read_float_image(result.c_run.float_path, expected=plan.expected_shape, stdout=result.c_run.stdout,
                         name="reference image c_float.bin")
    py = read_float_image(result.py_run.float_path, expected=plan.expected_shape, stdout=result.py_run.stdout,
                          name="candidate image py_float.bin")
    result.c_image, result.py_image = c, py
    d.update(shape_expected=plan.expected_shape, shape_c=list(c.shape), shape_py=list(py.shape), resampled=False)
    if c.shape != py.shape:
        if not o.resample:
            result.exit_code = EXIT_SHAPE
            result.notes.append(f"shape mismatch: reference (slow, fast) = {c.shape}, candidate = {py.shape};"
                                " --resample compares anyway")
            return
        py = resample_nearest(py, c.shape)
        result.py_image = py
        d.update(resampled=True, resample_note=f"candidate image resized from {tuple(d['shape_py'])} to the"
                                               f" reference shape {c.shape} (slow, fast) by nearest neighbour")
        result.notes.append(d["resample_note"])
    roi = Roi.from_c_inclusive(*o.roi).check_within(c.shape) if o.roi else Roi.full(c.shape)
    d["roi"] = roi
    th = plan.thresholds
    metrics = compare_images(c, py, roi=roi, rel_floor_fraction=th.rel_floor, argmax_rel_tol=th.argmax_tie_rel)
    d["metrics"] = metrics.to_dict()
    d["peaks"] = compare_peaks(c, py, roi=roi, **PEAK_PARAMS).summary()
    d["peak_params"] = dict(PEAK_PARAMS)
    d["png"] = _write_previews(result.outdir, c, py, roi, o.png_percentile)
    if o.save_diff:
        d["diff"] = _write_diff(result.outdir, c, py, roi, o.png_percentile)
    gates = evaluate_gates(metrics, th, corr_min=plan.corr_min)
    d["gates"] = [g.to_dict() for g in gates]
    failed = failed_gates(gates)
    if failed:
        result.exit_code = EXIT_THRESHOLD
        where = f"{th.klass}" + (", correlation from --threshold" if o.threshold is not None else "")
        result.notes += [f"{g.describe()} ({where})" for g in failed]
