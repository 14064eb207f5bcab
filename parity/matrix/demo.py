"""The main job: a parity demo on shipped golden data that writes an evidence bundle.

Runs simcore on a few golden C cases (plain geometry, a rotating mosaic crystal, a triclinic
cell with structure factors read from a file) in float32 and float64, judges each against the
C image with the threshold registry, and writes one bundle with metrics, previews and an
overlay of peaks. Everything comes from the workbench checkout's tests/golden_data: no C binary
is needed (and no demo without that checkout: `golden_root` says so in one line).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parity.matrix.golden import judge
from parity.matrix.registry import thresholds_for

DEMO_CASES = ("at001_det256", "feat_mosaic_dom5", "at012_triclinic_P1", "feat_conv_xds_twotheta")


@dataclass
class DemoRow:
    case: str
    dtype: str
    passed: bool
    metrics: dict
    failures: list
    wall_s: float


def golden_root() -> Path:
    """The workbench checkout's ``tests/golden_data``; ParityInputError (exit 5, one line) when it is
    absent, as in an installed wheel, which ships the code but not the golden data."""
    from parity.errors import ParityInputError
    from parity.matrix.cases import GOLDEN_ROOT

    if not all((GOLDEN_ROOT / case / "float.bin").is_file() for case in DEMO_CASES):
        raise ParityInputError("the demo needs the golden data shipped in the workbench's source checkout"
                               " (tests/golden_data), which this installation does not have (installed"
                               " from a wheel?): run it from a clone of the workbench")
    return GOLDEN_ROOT


def reference_image(case_dir: Path) -> np.ndarray:
    meta = json.loads((case_dir / "meta.json").read_text())
    return np.fromfile(case_dir / "float.bin", "<f4").reshape(meta["spixels"], meta["fpixels"])


def run_demo(*, cases=DEMO_CASES, dtypes=("float32", "float64"), bundle=None, progress=None) -> list[DemoRow]:
    """Simulate, judge and (when ``bundle`` is an open bundle) record every (case, dtype)."""
    from parity.ports.inprocess import run_case_dir

    rows = []
    root = golden_root()
    for case in cases:
        case_dir = root / case
        ref = reference_image(case_dir)
        args = (case_dir / "args.txt").read_text().split()
        for dtype in dtypes:
            run = run_case_dir(case_dir, args, dtype=dtype)
            verdict = judge(ref, run.image, thresholds_for(case))
            rows.append(DemoRow(case, dtype, verdict.passed, verdict.metrics, verdict.failures, run.wall_s))
            if progress:
                progress(rows[-1])
            if bundle is not None:
                _record(bundle, case, dtype, args, ref, run, verdict)
    return rows


def _record(b, case, dtype, args, ref, run, verdict) -> None:
    from parity.images.overlay import overlay_title, render_overlay
    from parity.images.peak_table import compare_peaks

    tag = f"{case}-{dtype}"
    b.write_text(f"{tag}/args.txt", " ".join(args) + "\n")
    b.write_json(f"{tag}/metrics.json", verdict.metrics)
    b.write_json(f"{tag}/effective_config.json", run.config)
    if dtype == "float32":
        b.save_preview_png(f"{case}/c_reference.png", ref, max_side_px=256, title=f"C {case}")
        b.save_preview_png(f"{case}/simcore.png", run.image, max_side_px=256, title=f"simcore {case} ({dtype})")
        cmp = compare_peaks(ref, run.image, top_n=50)
        b.write_json(f"{case}/peaks_summary.json", cmp.summary())
        title = overlay_title(case=case, metrics=verdict.metrics, comparison=cmp)
        b.write_bytes(f"{case}/overlay.png", render_overlay(ref, run.image, cmp, title=title, dpi=60))
    b.add_metrics({f"{tag}.correlation": verdict.metrics["correlation"],
                   f"{tag}.sum_ratio": verdict.metrics["sum_ratio"],
                   f"{tag}.max_rel_err": verdict.metrics["max_rel_err"],
                   f"{tag}.passed": verdict.passed})
