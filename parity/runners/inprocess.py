"""Run simcore in-process on a case folder, in a temporary copy of it (as the C run was made).

The only module of `parity` that imports `simcore`. A fresh scratch directory per run means a
stale ``Fdump.bin`` or output file can never leak between runs (peer lesson §1.6 item 6).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OUTPUT_NAMES = {"float.bin", "int.img", "noise.img", "Fdump.bin", "floatimage.bin", "intimage.img",
                "noiseimage.img", "image.pgm"}


@dataclass(frozen=True)
class InProcessRun:
    image: np.ndarray          # float32 (slow, fast)
    config: dict
    wall_s: float


def run_case_dir(case_dir: str | os.PathLike, args: list[str], *, dtype: str = "float32",
                 device: str = "cpu", extra_files: tuple = ()) -> InProcessRun:
    """Simulate ``args`` with the case folder's input files available by bare name."""
    import time

    import simcore

    src = Path(case_dir)
    with tempfile.TemporaryDirectory(prefix="pwb-simcore-") as scratch:
        for item in list(src.iterdir()) + [Path(p) for p in extra_files]:
            if item.is_file() and item.name not in OUTPUT_NAMES and not item.name.startswith("trace_"):
                shutil.copy2(item, scratch)
        t0 = time.perf_counter()
        result = simcore.simulate(list(args), dtype=dtype, device=device, cwd=scratch)
        wall = time.perf_counter() - t0
    return InProcessRun(image=result.image.detach().cpu().numpy(), config=result.config, wall_s=wall)
