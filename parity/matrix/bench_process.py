"""Whole-process timing: ``python -m simcore ARGS`` against the C program, and what the Python side is made of.

Each round runs, in fresh scratch folders: the bare interpreter (``python -c pass``), ``import numpy``,
``import torch``, ``python -m simcore ARGS`` and the C program on the same ARGS, both writing the C's
default outputs (float, int, noise, PGM images). The rounds interleave, so every step sees the same
machine state; per step the median wall and CPU (user + system, from the children's rusage) time.
``paired_ratios`` are per-round simcore/C wall times (lower is better here). Nothing here asserts a time.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from parity.errors import ParityInputError

STEPS = ("interpreter", "import numpy", "import torch", "simcore")


def _timed(cmd: list[str], *, cwd: str, env: dict | None = None) -> tuple[float, float]:
    """(wall s, CPU s) of one child process; a failure is an error (the arguments must run)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise ParityInputError(f"{' '.join(cmd[:3])} … exited {proc.returncode}: {last}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _commands(args: list[str]) -> dict:
    py = sys.executable
    return {"interpreter": [py, "-c", "pass"], "import numpy": [py, "-c", "import numpy"],
            "import torch": [py, "-c", "import torch"], "simcore": [py, "-m", "simcore", *args]}


def _summary(pairs: list[tuple[float, float]]) -> dict:
    walls, cpus = [p[0] for p in pairs], [p[1] for p in pairs]
    return {"wall_s": walls, "cpu_s": cpus, "median_wall_s": statistics.median(walls),
            "min_wall_s": min(walls), "median_cpu_s": statistics.median(cpus)}


def whole_process(args: list[str], *, c_bin: str | None, repeat: int, input_base: str | None = None) -> dict:
    """Interleaved whole-process rounds (module docstring); the C step only with ``c_bin``."""
    from parity.ports.argfiles import isolate_args

    base = input_base or os.getcwd()
    times: dict[str, list] = {step: [] for step in STEPS + (("c",) if c_bin else ())}
    for _ in range(repeat):
        for step, cmd in _commands([]).items():
            if step != "simcore":
                with tempfile.TemporaryDirectory(prefix="pwb-proc-") as d:
                    times[step].append(_timed(cmd, cwd=d))
        with tempfile.TemporaryDirectory(prefix="pwb-proc-sim-") as d:
            argv = isolate_args(list(args), run_dir=d, base=base, float_name="floatimage.bin").argv
            times["simcore"].append(_timed(_commands(argv)["simcore"], cwd=d))
        if c_bin:
            with tempfile.TemporaryDirectory(prefix="pwb-proc-c-") as d:
                argv = isolate_args(list(args), run_dir=d, base=base, float_name="floatimage.bin").argv
                times["c"].append(_timed([c_bin, *argv], cwd=d))
    out = {"args": list(args), "repeat": repeat, "steps": {k: _summary(v) for k, v in times.items()},
           "kind": "whole process, the C's default outputs written (float, int, noise, PGM)"}
    sim = out["steps"]["simcore"]
    torch_s = out["steps"]["import torch"]["median_wall_s"] - out["steps"]["interpreter"]["median_wall_s"]
    out["breakdown_median_wall_s"] = {
        "interpreter": out["steps"]["interpreter"]["median_wall_s"],
        "torch import (incl. numpy)": torch_s,
        "simcore beyond torch's import": sim["median_wall_s"] - out["steps"]["import torch"]["median_wall_s"],
        "total": sim["median_wall_s"]}
    if c_bin:
        pairs = [s[0] / c[0] for s, c in zip(times["simcore"], times["c"])]
        out["paired_ratios_simcore_over_c"] = pairs
        out["paired_ratio_median"] = statistics.median(pairs)
    return out
