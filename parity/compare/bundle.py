"""Put an nb-compare result into an evidence bundle (kind ``nb-compare``), kept small.

The bundle gets the runners' stdout/stderr, the full summary.json, the images as block-mean
downsampled ``.npy`` (at most ``MAX_BUNDLE_PIXELS``) with PNG previews (C, Python, |Δ|), the
headline metrics, the exit codes of both runners and of nb-compare, and the known-divergence
matches for the ARGS. The raw float images stay in the nb-compare output directory only.
"""
from __future__ import annotations

__all__ = ["record_compare_bundle", "MAX_BUNDLE_PIXELS", "HEADLINE"]

MAX_BUNDLE_PIXELS = 256 * 256
HEADLINE = ("correlation", "sum_ratio", "peak_matched_fraction", "max_abs_diff")
_DETAIL = ("rmse", "mse", "sum_c", "sum_py", "peak_median_dist_px", "peak_max_dist_px", "runtime_c_ms",
           "runtime_py_ms", "threshold", "threshold_class", "status")


def record_compare_bundle(bundle, result) -> None:
    """Add ``result`` (a :class:`parity.compare.run.CompareResult`) to ``bundle``; no-op for a NullBundle."""
    if not getattr(bundle, "enabled", False):
        return
    import numpy as np

    s, outdir = result.summary, result.outdir
    for name in ("c_stdout.txt", "c_stderr.txt", "py_stdout.txt", "py_stderr.txt"):
        if (outdir / name).is_file():
            bundle.write_text(name, (outdir / name).read_text(errors="replace"))
    bundle.write_json("summary.json", s)      # through the bundle's path scrubbing (ARGS may hold absolute paths)
    for side, image in (("c", result.c_image), ("py", result.py_image)):
        if image is not None:
            bundle.save_npy(f"{side}.npy", image, max_pixels=MAX_BUNDLE_PIXELS)
            bundle.save_preview_png(f"{side}_preview.png", image, title=f"{side} (log1p)")
    if result.c_image is not None and result.py_image is not None and result.c_image.shape == result.py_image.shape:
        diff = np.abs(result.py_image.astype(np.float64) - result.c_image.astype(np.float64))
        bundle.save_preview_png("absdiff_preview.png", diff, title="|py - c| (log1p)")
    bundle.add_metrics({k: s.get(k) for k in HEADLINE}, headline=True)
    bundle.add_metrics({k: s.get(k) for k in _DETAIL})
    bundle.add_known_divergences(s.get("known_divergences", []))
    if s.get("exit_code_c") is not None:
        bundle.set_exit_code("c", s["exit_code_c"])
    if s.get("exit_code_py") is not None:
        bundle.set_exit_code("py", s["exit_code_py"])
    bundle.set_ports(s.get("provenance", {}).get("ports", []))   # who ran: both ports' identities
    bundle.set_exit_code("nb-compare", s["exit_code"])
    bundle.set_status("passed" if s["exit_code"] == 0 else "failed")
