"""Trace diff: self-diffs, mutations of real C traces and their hints, tolerances, alignment.

A single mutated tap makes a trace contradict itself, which the consistency checks report as
"not live" (tests/test_tracekit_consistency.py); the value-level hint tests here therefore diff
with ``consistency=False`` (contract change of issue #11: hints are Hint(cls, text, check)).
"""
from __future__ import annotations

import json
import math

import pytest

from tracekit import diff_traces, read_trace
from tracekit.errors import TraceParseError, TraceUsageError
from tracekit.records import LoopIndex
from tracekit.tolerance import Rule, compare, default_rules, load_rules

CASE = ("at004_mosflm", "trace_246_246.txt")   # 2x2 oversample, BEAM pivot
BLOCK0 = LoopIndex(0, 0, 0, 0)


@pytest.fixture(scope="module")
def c_text(golden_dir) -> list[str]:
    return (golden_dir / CASE[0] / CASE[1]).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def ref(golden_dir):
    return read_trace(golden_dir / CASE[0] / CASE[1])


def vdiff(ref, cand, **kw):
    """diff_traces without the consistency checks: the value-level hint of a mutated tap."""
    return diff_traces(ref, cand, consistency=False, **kw)


def mutate(lines: list[str], tap: str, fn) -> list[str]:
    """Apply fn to the values of every `TRACE_C: tap v..` line (text in, text out)."""
    out = []
    for ln in lines:
        if ln.startswith(f"TRACE_C: {tap} "):
            vals = fn([float(v) for v in ln.split()[2:]])
            ln = f"TRACE_C: {tap} " + " ".join("%.15g" % v for v in vals)
        out.append(ln)
    return out


@pytest.mark.parametrize("case", ["at004_mosflm", "feat_custom_pivot_sample_tt20", "feat_sourcefile3", "feat_phistep"])
def test_c_trace_against_itself(golden_dir, case):
    path = next((golden_dir / case).glob("trace_*.txt"))
    result = diff_traces(read_trace(path), read_trace(path))
    assert result.first is None and result.n_divergent == 0
    assert not result.only_in_ref and not result.only_in_cand
    assert any(n.startswith("KD-BEAMCENTER-SCALE") for n in result.notes)
    ignored = {r.tap for r in result.rows if r.status == "ignored"}
    assert ignored == ({"detector_convention", "initial_fdet", "initial_sdet", "initial_odet", "convention_mapping"}
                       if result_branch(path) == "beam" else set())


def result_branch(path):
    return read_trace(path).branch


def test_lambda_times_1e10_is_a_unit_suspect(ref, c_text):
    result = vdiff(ref, read_trace(mutate(c_text, "lambda_meters", lambda v: [v[0] * 1e10])))
    assert result.first.tap == "lambda_meters" and result.first.index == BLOCK0
    assert "1e10" in result.hint.text and "m -> A" in result.hint.text
    assert [r.tap for r in result.context][-2:] == ["diffracted_vec", "incident_vec"]
    assert all(r.index in (BLOCK0, LoopIndex()) for r in result.context)


def test_swapped_components_are_an_axis_swap(ref, c_text):
    result = vdiff(ref, read_trace(mutate(c_text, "pixel_pos_meters", lambda v: [v[1], v[0], v[2]])))
    assert result.first.tap == "pixel_pos_meters"
    assert "axis swap" in result.hint.text and "x<-y" in result.hint.text


def test_sign_flip(ref, c_text):
    result = vdiff(ref, read_trace(mutate(c_text, "diffracted_vec", lambda v: [-x for x in v])))
    assert result.first.tap == "diffracted_vec"
    assert "sign flip" in result.hint.text


def test_half_pixel_shift_uses_setup_pixel_size(ref, c_text):
    shifted = read_trace(mutate(c_text, "pixel_pos_meters", lambda v: [v[0], v[1], v[2] + 0.5e-4]))
    result = vdiff(ref, shifted)
    assert result.first.tap == "pixel_pos_meters" and "half a pixel" in result.hint.text
    other = read_trace(mutate(c_text, "pixel_pos_meters", lambda v: [v[0], v[1] + 0.086e-3, v[2]]))
    assert "half a pixel" not in vdiff(ref, other).hint.text
    assert "half a pixel" in vdiff(ref, other, pixel_mm=0.172).hint.text


def test_nan_is_reported(ref, c_text):
    lines = [("TRACE_C: F_cell nan" if ln.startswith("TRACE_C: F_cell ") else ln) for ln in c_text]
    result = vdiff(ref, read_trace(lines))
    assert result.first.tap == "F_cell" and "non-finite" in result.hint.text
    json.dumps(result.to_dict(), allow_nan=False)  # NaN values are written as strings


def test_constant_factor_shared_downstream(ref, c_text):
    lines = mutate(mutate(c_text, "I_pixel_final", lambda v: [v[0] * 1.7]), "floatimage_accumulated",
                   lambda v: [v[0] * 1.7])
    result = vdiff(ref, read_trace(lines))
    assert result.first.tap == "I_pixel_final"
    assert "constant factor 1.7" in result.hint.text and "floatimage_accumulated" in result.hint.text


def test_first_divergence_follows_computation_order_not_lines(ref, c_text):
    """A later-printed block's pixel_pos diverges and so does an earlier-printed F_cell: the
    upstream tap (pixel_pos, catalogue order) is reported."""
    lines, seen = [], 0
    for ln in c_text:
        if ln.startswith("TRACE_C: pixel_pos_meters "):
            seen += 1
            if seen == 3:
                ln = ln[:-1] + "9"
        if ln.startswith("TRACE_C: F_cell "):
            ln = "TRACE_C: F_cell 1"
        lines.append(ln)
    result = vdiff(ref, read_trace(lines))
    assert result.first.tap == "pixel_pos_meters" and result.first.index == LoopIndex(0, 1, 0, 0)


def test_float32_candidate_gets_float32_defaults(ref, c_text):
    bumped = mutate(c_text, "R_distance_meters", lambda v: [v[0] * (1 + 3e-7)])
    assert vdiff(ref, read_trace(bumped)).first.tap == "R_distance_meters"
    as_f32 = ["TRACE_C_META dtype=float32"] + bumped + ["TRACE_C_END"]
    result = vdiff(ref, read_trace(as_f32))
    assert result.first is None and result.dtype == "float32"


def test_rules_file_overrides_defaults(tmp_path, ref, c_text):
    cand = read_trace(mutate(c_text, "F_cell", lambda v: [v[0] * 1.01]))
    rules = tmp_path / "tol.yaml"
    rules.write_text("rules:\n  - {tap: 'F_c*', rel: 0.05}\n  - {tap: scattering_vec_A_inv, mode: ign}\n")
    assert vdiff(ref, cand).first.tap == "F_cell"
    result = vdiff(ref, cand, rules=load_rules(rules))
    assert result.first is None
    assert any("tol.yaml#1" in r.rule for r in result.rows if r.tap == "F_cell")


def test_rule_specificity_and_modes():
    rs = default_rules().extended([Rule("rel", tap="F_*", rel_tol=1e-2, origin="a"),
                                   Rule("abs", tap="F_cell", abs_tol=5.0, origin="b"),
                                   Rule("equ", tap="F_*", level="mosaic", origin="c")])
    assert rs.resolve("F_cell", "mosaic", "physics").origin == "b"       # exact name wins
    assert rs.resolve("F_latt", "mosaic", "physics").origin == "c"       # level beats no level
    assert rs.resolve("F_latt", "pixel", "physics").origin == "a"
    assert rs.resolve("polar", "pixel", "physics").rel_tol == 1e-6
    assert rs.resolve("steps", "pixel", "integer").mode == "equ"


def test_vectors_compare_relative_to_their_magnitude():
    rule = Rule("rel", rel_tol=1e-9)
    assert compare((100.0, 1e-15, 0.0), (100.0, 0.0, 1e-15), rule).passed
    assert not compare((1e-15,), (0.0,), rule).passed
    assert compare((math.nan,), (math.nan,), rule).passed
    assert not compare((1.0,), (math.nan,), rule).passed
    assert compare(("MOSFLM",), ("MOSFLM",), Rule("equ")).passed
    assert Rule("any", abs_tol=1e-3, rel_tol=0).describe().startswith("abs=0.001|rel=0")


@pytest.mark.parametrize("text, exc, code", [
    ("rules: [ {tap: x, rel: 1e-3", TraceParseError, 5),
    ("rules:\n  - {tap: x, mode: fuzzy}\n", TraceUsageError, 2),
    ("rules:\n  - {tap: x}\n", TraceUsageError, 2),
    ("rules:\n  - {tap: x, rel: -1}\n", TraceUsageError, 2),
    ("rules:\n  - {tap: x, level: galaxy, rel: 1}\n", TraceUsageError, 2),
    ("just text\n", TraceParseError, 5),      # not a mapping: a malformed file (issue #13), not a bad value
    ("- a\n- b\n", TraceParseError, 5),
])
def test_bad_rules_files(tmp_path, text, exc, code):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(exc) as info:
        load_rules(path)
    assert info.value.exit_code == code


def test_same_as_aligns_views_with_the_tap_they_view(golden_dir):
    path = golden_dir / "feat_phistep" / "trace_132_140.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    cand = read_trace([ln for ln in lines if not ln.startswith(("TRACE_C_PHI", "DETECTOR_FAST_AXIS"))])
    result = diff_traces(read_trace(path), cand)
    assert result.first is None
    via = {(r.tap, r.via) for r in result.rows if r.via}
    assert ("phi_F_latt", "F_latt") in via and ("phi_k_frac", "hkl_frac") in via
    assert ("DETECTOR_FAST_AXIS", "fdet_after_twotheta") in via
    assert {t for t, i in result.only_in_ref} == {"phi_deg", "phi_k_frac", "phi_F_latt_b", "phi_F_latt"}
    assert all(i.phi > 0 for t, i in result.only_in_ref if t != "phi_deg")


def test_keys_must_match(golden_dir):
    beam = read_trace(golden_dir / CASE[0] / CASE[1])
    lines = (golden_dir / CASE[0] / CASE[1]).read_text(encoding="utf-8").splitlines()
    lines = [ln.replace("beam_center_m=X:", "beam_center_m=Xclose:").replace(" Y:", " Yclose:") for ln in lines]
    result = vdiff(beam, read_trace(lines))
    assert result.first.tap == "beam_center_m"


def test_bad_options():
    trace = read_trace(["TRACE_C: steps 1", "TRACE_C: floatimage_accumulated 1"])
    with pytest.raises(TraceUsageError, match="pixel_mm"):
        diff_traces(trace, trace, pixel_mm=-1)


@pytest.mark.parametrize("ref, cand, expect, cls", [
    ((1e-3,), (1.0,), "m -> mm", "unit_power_of_ten"),
    ((1e-10,), (-1.0,), "with a sign flip", "unit_power_of_ten"),
    ((1.0,), (180 / math.pi,), "rad -> deg", "unit_factor"),
    ((2.0,), (2.0000001,), "precision level", "precision"),
    ((0.1, 0.2, 0.3), (0.1, -0.3, 0.2), "axis swap", "swapped_components"),
    ((0.1, 0.2, 0.3), (0.1, -0.2, 0.3), "sign flip on some axes", "sign_flip"),
    ((1.0, 2.0), (1.0, math.inf), "non-finite", "non_finite"),
    ((100.0, 6.1e-15, 6.1e-15), (1e-8, 6.1e-25, 6.3e-25), "1e-10", "unit_power_of_ten"),   # near-zero components
    ((0.1, 1e-12), (1e-4, 5e-13), "1e-3", "unit_power_of_ten"),
    ((0.5, 0.25), (0.85, 0.425), "constant factor 1.7", "constant_factor"),
])
def test_hint_classification(ref, cand, expect, cls):
    from tracekit.hints import classify

    hint = classify(ref, cand)
    assert expect in hint.text and hint.cls == cls and hint.check
