"""Golden parity: simcore vs the real C images in tests/golden_data, float32 and float64.

Thresholds come only from the registry (parity/thresholds.yaml); nothing here sets a number.
Each case runs in a scratch copy of its folder, as the C run did.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import GOLDEN_DIR, golden_case_ids
from parity.golden import judge
from parity.registry import thresholds_for
from parity.runners.inprocess import run_case_dir

CASES = golden_case_ids()


def _reference(case_id: str) -> np.ndarray:
    meta = json.loads((GOLDEN_DIR / case_id / "meta.json").read_text())
    return np.fromfile(GOLDEN_DIR / case_id / "float.bin", "<f4").reshape(meta["spixels"], meta["fpixels"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case_id", CASES)
def test_golden_case(case_id: str, dtype: str) -> None:
    args = (GOLDEN_DIR / case_id / "args.txt").read_text().split()
    run = run_case_dir(GOLDEN_DIR / case_id, args, dtype=dtype)
    verdict = judge(_reference(case_id), run.image, thresholds_for(case_id))
    assert verdict.passed, f"{case_id} [{dtype}]: " + "; ".join(verdict.failures) + " | " + verdict.summary()


def test_every_golden_case_has_a_registry_entry() -> None:
    assert len(CASES) == 101
    for case_id in CASES:
        assert thresholds_for(case_id).corr_min >= 0.99999
