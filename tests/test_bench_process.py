"""pwb bench --whole-process: interleaved whole-process rounds with a breakdown (parity/matrix/bench_process.py)."""
from __future__ import annotations

import shutil

import pytest

from parity.errors import ParityInputError
from parity.matrix.bench_process import STEPS, whole_process

TINY = "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 8 -pixel 0.1".split()


def test_rounds_interleave_and_break_down():
    true = shutil.which("true")
    out = whole_process(TINY, c_bin=true, repeat=1)
    assert set(out["steps"]) == set(STEPS) | {"c"}
    assert all(len(s["wall_s"]) == 1 and s["median_cpu_s"] >= 0 for s in out["steps"].values())
    assert len(out["paired_ratios_simcore_over_c"]) == 1
    parts = out["breakdown_median_wall_s"]
    assert parts["total"] == out["steps"]["simcore"]["median_wall_s"] > parts["interpreter"] > 0


def test_arguments_that_do_not_run_are_an_error():
    with pytest.raises(ParityInputError, match="exited 2"):
        whole_process(["-no_such_flag"], c_bin=None, repeat=1)
