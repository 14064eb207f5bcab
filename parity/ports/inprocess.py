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


@dataclass(frozen=True)
class TraceRun:
    lines: list                # setup summary (C stdout format) + TRACE_PY lines
    tap_values: dict
    pixel_value: float
    closure: dict | None
    config: dict
    wall_s: float


def trace_args(args: list[str], pixel: tuple[int, int], *, dtype: str | None = "float64", device: str | None = None,
               all_indices: bool = False, closure: bool = False, cwd: str | None = None) -> TraceRun:
    """Trace one (slow, fast) pixel of a simcore run from its live taps (only that pixel is computed).

    ``dtype`` defaults to float64 for tracing (exact comparison with the C; None keeps the args'
    own -dtype). ``closure`` also renders the whole image and checks the traced stored value
    against it, bit for bit.
    """
    import time

    from simcore.argv.parse import parse_argv
    from simcore.kernel.render import render
    from simcore.setup.report import effective_config, setup_lines
    from simcore.trace_run import check_closure, trace_pixel

    from simcore.api import typed_errors

    with typed_errors(list(args)):       # only simcore's coded errors leave (a bug: exit 70)
        cargs = parse_argv(list(args), cwd=cwd)
        t0 = time.perf_counter()
        traced = trace_pixel(cargs, pixel, dtype=dtype, device=device, cwd=cwd, all_indices=all_indices)
        wall = time.perf_counter() - t0
        if closure:
            check_closure(traced, render(cargs, dtype=dtype or cargs.dtype, device=device, cwd=cwd).image)
    lines = setup_lines(traced.result.setup) + traced.lines
    return TraceRun(lines=lines, tap_values=traced.tap_values, pixel_value=traced.pixel_value,
                    closure=traced.closure, config=effective_config(traced.result.setup), wall_s=wall)


def run_simcore_cli(argv: list[str], on_progress=None, bundle=None) -> int:
    """``python -m simcore ARGS`` in-process; returns its exit code. ``on_progress(done, total, text)``
    replaces the ``NN% done`` lines when given; ``bundle`` (an open Bundle) receives the run's stdout,
    its float image (``.npy``, downsampled past 512², and a preview), effective configuration and exit code."""
    from simcore.__main__ import main

    if bundle is None:
        return main(list(argv), on_progress=on_progress)
    import contextlib
    import io
    import sys

    from simcore.setup.report import effective_config

    class _Tee(io.TextIOBase):
        def __init__(self, out):
            self.out, self.seen = out, io.StringIO()

        def write(self, text: str) -> int:
            self.seen.write(text)
            return self.out.write(text)

        def flush(self) -> None:
            self.out.flush()

        def fileno(self) -> int:
            return self.out.fileno()

    done: dict = {}
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        code = main(list(argv), on_progress=on_progress, on_result=lambda r: done.update(result=r))
    bundle.write_text("stdout.txt", tee.seen.getvalue())
    bundle.set_exit_code("simcore", code)
    if "result" in done:
        image = done["result"].image.detach().cpu().numpy()
        bundle.save_npy("float.npy", image, max_pixels=512 * 512)
        bundle.save_preview_png("float_preview.png", image, title="simcore float image (log1p)")
        bundle.write_json("config.json", effective_config(done["result"].setup))
        bundle.add_metrics({"shape": list(image.shape), "max_I": float(image.max()), "sum": float(image.sum())},
                           headline=True)
    bundle.set_status("done" if code == 0 else "error")
    return code
