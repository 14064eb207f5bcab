"""Tolerance classes by dtype are catalogue data, and the float32 numbers follow from float32's
unit roundoff and the depth of each class's computation."""
from __future__ import annotations

import pytest

from tracekit import diff_traces, read_trace
from tracekit.catalogue import catalogue
from tracekit.tolerance import class_tolerances, default_rules

U32 = 2.0 ** -24


def test_float32_tolerances_follow_from_the_depth():
    classes = catalogue().raw["tolerance_classes"]
    assert set(classes) == {"geometry", "physics", "intensity"}
    for name, row in classes.items():
        assert row["float32"] > row["float64"]
        assert 0.5 <= row["float32"] / (2 * row["depth"] * U32) <= 2, name   # margin 2 on depth * u
    assert class_tolerances("float32") == {"geometry": 1e-5, "physics": 1e-4, "intensity": 1e-3}
    assert class_tolerances("float64") == {"geometry": 1e-9, "physics": 1e-6, "intensity": 1e-6}


@pytest.mark.parametrize("tap, level, cls, f64, f32", [
    ("pixel_pos_meters", "source", "geometry", 1e-9, 1e-5),
    ("polar", "pixel", "physics", 1e-6, 1e-4),
    ("I_before_scaling", "pixel", "intensity", 1e-6, 1e-3),
])
def test_rules_per_dtype(tap, level, cls, f64, f32):
    assert catalogue().get(tap).tol == cls
    assert default_rules("float64").resolve(tap, level, cls).rel_tol == f64
    assert default_rules("float32").resolve(tap, level, cls).rel_tol == f32


def test_float32_noise_passes_only_with_the_float32_classes(golden_dir):
    """A C trace with float32-sized noise on a geometry tap (3e-7) and on F_cell (5e-5): a
    divergence under float64 tolerances, clean under --dtype float32; 5e-4 on F_cell is not noise."""
    import tracekit_foreign as fx

    path = golden_dir / "at004_mosflm" / "trace_246_246.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    noisy = fx.scale(fx.scale(lines, "R_distance_meters", 1 + 3e-7), "F_cell", 1 + 5e-5)
    ref, cand = read_trace(path), read_trace(noisy)
    assert diff_traces(ref, cand).first.tap == "R_distance_meters"
    assert diff_traces(ref, cand, dtype="float32").first is None
    worse = read_trace(fx.scale(lines, "F_cell", 1 + 5e-4))
    assert diff_traces(ref, worse, dtype="float32").first.tap == "F_cell"
