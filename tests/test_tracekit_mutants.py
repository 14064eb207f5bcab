"""trace-diff on the mutant corpus without the C: each mutant port's trace (in-process, in its
foreign dialect, one block per pixel) against simcore's own trace of the same case and pixel,
with the mutant's image for closure. The first divergence must be at an expected tap with an
expected hint class (tests/mutants/expected.yaml), as the live-C table demands."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from parity.images.io import shape_from_nanobragg_args  # noqa: E402
from tests.mutants.expect import NONE, load_expected  # noqa: E402
from tests.mutants.port import run_port, run_simcore  # noqa: E402
from tracekit import diff_traces, read_trace  # noqa: E402
from tracekit.dialect import load_dialect  # noqa: E402

EXPECTED = load_expected()
DIALECT = REPO / "tests" / "mutants" / "dialect.yaml"
FAST = ["-nonoise", "-nopgm"]


@pytest.fixture(scope="module")
def simcore_traces(tmp_path_factory):
    """simcore's traces by (args, pixel): several mutants share a case."""
    root, cache = tmp_path_factory.mktemp("simcore"), {}

    def get(exp):
        key = (tuple(exp.args), tuple(exp.pixel))
        if key not in cache:
            rc, lines = run_simcore([*exp.args, "-trace_pixel", *map(str, exp.pixel), *FAST], cwd=root)
            assert rc == 0
            cache[key] = read_trace(lines, name="simcore")
        return cache[key]
    return get


def diff_mutant(name, simcore_traces, tmp_path):
    exp = EXPECTED[name]
    rc, lines = run_port(name, [*exp.args, "-trace_pixel", *map(str, exp.pixel), "-floatfile", "m.bin", *FAST],
                         cwd=tmp_path)
    assert rc == 0
    image = np.fromfile(tmp_path / "m.bin", dtype="<f4").reshape(shape_from_nanobragg_args(list(exp.args)))
    cand = read_trace(lines, name=name, dialect=load_dialect(DIALECT))
    return diff_traces(simcore_traces(exp), cand, dtype="float32", image=image, pixel=tuple(exp.pixel))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_mutant_is_located_against_simcore(name, simcore_traces, tmp_path):
    exp = EXPECTED[name]
    result = diff_mutant(name, simcore_traces, tmp_path)
    tap = result.first.tap if result.first else NONE
    hint = result.hint.cls if result.first else NONE
    assert tap in exp.taps_ok and hint in exp.hints_ok, (name, tap, hint, result.hint and result.hint.text)
    assert result.live is (exp.hint != "trace_inconsistent")


def test_subpixel_corners_is_half_a_subpixel(simcore_traces, tmp_path):
    """-oversample 2, sub-pixel positions at corners: pixel_pos moves by pixel/(2 oversample) =
    0.25 px along fast and slow; the oversample comes from the reference's loop header."""
    result = diff_mutant("subpixel_corners", simcore_traces, tmp_path)
    assert result.first.tap == "pixel_pos_meters" and result.hint.cls == "sampling"
    assert "-0.25 px fast, -0.25 px slow" in result.hint.text and "half a sub-pixel" in result.hint.text
    assert "oversample 2" in result.hint.text


def test_mosaic_numpy_rng_turns_domain_zero(simcore_traces, tmp_path):
    """Mosaic matrices from numpy with domain 0 drawn too: the one printed block (domain 0) has
    rot_a/b/c turned rigidly, not about the spindle, the static cell agreeing, mosaic on."""
    result = diff_mutant("mosaic_numpy_rng", simcore_traces, tmp_path)
    assert result.live and result.first.tap == "rot_a_angstroms" and result.first.index.mosaic == 0
    assert result.hint.cls == "mosaic_rng"
    assert "mosaic domain 0" in result.hint.text and "spread 1 deg, 3 domains" in result.hint.text
    assert "U_0 = identity" in result.hint.text          # the reference's own a . a* says so
