"""Golden parity: simcore vs the real C images, every golden-backed run of the case matrix,
in float32 (the default) and float64.

The runs, their arguments and their thresholds all come from the case matrix
(tests/parity_cases.yaml) and the threshold registry (parity/matrix/thresholds.yaml); nothing here sets
a number. Each run happens in a scratch copy of its folder, as the C run did.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from parity.matrix.cases import iter_runs
from parity.matrix.golden import judge
from parity.ports.inprocess import run_case_dir

GOLDEN_RUNS = [r for r in iter_runs() if r.golden_dir is not None]


def _reference(run) -> np.ndarray:
    meta_path = run.golden_dir / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        shape = (meta["spixels"], meta["fpixels"])
    else:  # tests/c_cases: the shape from the C's own stdout "(FxS pixels)"
        import re

        m = re.search(r"\((\d+)x(\d+) pixels\)", (run.golden_dir / "stdout.txt").read_text())
        shape = (int(m.group(2)), int(m.group(1)))
    return np.fromfile(run.golden_float, "<f4").reshape(shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("run", GOLDEN_RUNS, ids=lambda r: r.run_id)
def test_golden_run(run, dtype: str) -> None:
    result = run_case_dir(run.golden_dir, list(run.args), dtype=dtype)
    verdict = judge(_reference(run), result.image, run.thresholds)
    assert verdict.passed, f"{run.run_id} [{dtype}]: " + "; ".join(verdict.failures) + " | " + verdict.summary()


def test_matrix_covers_every_golden_folder() -> None:
    from conftest import golden_case_ids

    ids = {r.run_id for r in GOLDEN_RUNS}
    assert set(golden_case_ids()) <= ids and len(golden_case_ids()) == 101
    assert all(r.thresholds.corr_min >= 0.99999 for r in GOLDEN_RUNS)
