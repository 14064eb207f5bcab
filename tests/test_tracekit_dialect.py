"""Trace dialects: loading and validation, and golden C traces rewritten into other ports' spellings
(own prefix, renamed taps, a tap in other units, extra taps to ignore) read back through a dialect."""
from __future__ import annotations

import pytest
import yaml

from tracekit import diff_traces, read_trace
from tracekit.dialect import Dialect, dialect_from_dict, load_dialect
from tracekit.errors import TraceParseError, TraceUsageError
import tracekit_foreign as fx

CASE = ("at004_mosflm", "trace_246_246.txt")   # 2x2 oversample, BEAM pivot
TORCH = {"name": "torchport", "prefixes": ["TRACE_TORCH"],
         "aliases": {"F_cell_interpolated": "F_cell", "I_before_scaling_pre_polar": "I_before_scaling",
                     "pixel_pos_mm": "pixel_pos_meters"},
         "scale": {"pixel_pos_mm": 0.001}, "ignore": ["spindle_magnitude", "oversample_*"]}


@pytest.fixture(scope="module")
def c_lines(golden_dir) -> list[str]:
    return (golden_dir / CASE[0] / CASE[1]).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def ref(golden_dir):
    return read_trace(golden_dir / CASE[0] / CASE[1])


def torch_port(c_lines: list[str]) -> list[str]:
    """The C trace as 'torchport' prints it: TRACE_TORCH prefix, renamed taps, pixel_pos in mm,
    extra taps, no TRACE_C setup block (its stdout header lines are kept)."""
    lines = [ln for ln in c_lines if not ln.startswith(("TRACE_C:", "DETECTOR_", "TRACE_CONFIG"))
             or ln.startswith("TRACE_C: ")]
    lines = fx.rename(fx.reprefix(lines, "TRACE_TORCH"), {"F_cell": "F_cell_interpolated",
                                                        "I_before_scaling": "I_before_scaling_pre_polar",
                                                        "pixel_pos_meters": "pixel_pos_mm"})
    lines = fx.scale(lines, "pixel_pos_mm", 1e3)
    out = []
    for ln in lines:
        out.append(ln)
        if ln.startswith("TRACE_TORCH: pix0_vector_meters"):
            out += ["TRACE_TORCH: spindle_magnitude 1", "TRACE_TORCH: oversample_factor 2"]
    return out


def test_interfaces_example_loads(tmp_path):
    path = tmp_path / "torch.yaml"
    path.write_text(yaml.safe_dump(TORCH))
    d = load_dialect(path)
    assert d.name == "torchport" and d.prefixes == ("TRACE_TORCH",)
    assert d.alias_of("F_cell_interpolated") == "F_cell" and d.factor("pixel_pos_mm", "pixel_pos_meters") == 0.001
    assert d.ignores("oversample_factor") and not d.ignores("F_cell")


@pytest.mark.parametrize("data, match", [
    ({"prefixes": ["TRACE TORCH"]}, "prefix"),
    ({"aliases": {"F_cell_interpolated": "F_cel"}}, "not a catalogue tap"),
    ({"scale": {"pixel_pos_meters": "mm"}}, "number"),
    ({"scale": {"pixel_pos_meters": 0}}, "non-zero"),
    ({"ignore": [3]}, "list of names"),
    ({"colour": "blue"}, "unknown dialect field"),
    ({"dtype": "float16"}, "dtype"),
    ({"config": {"^Dist (x) (y)": "distance_m"}}, "group"),
    (["TRACE_TORCH"], "mapping"),
])
def test_bad_dialects_are_usage_errors(data, match):
    with pytest.raises(TraceUsageError, match=match) as info:
        dialect_from_dict(data)
    assert info.value.exit_code == 2


def test_unreadable_dialect_yaml_is_exit_5(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("prefixes: [TRACE_TORCH\n")
    with pytest.raises(TraceParseError) as info:
        load_dialect(path)
    assert info.value.exit_code == 5


def test_torchport_trace_through_its_dialect_is_clean(ref, c_lines):
    cand = read_trace(torch_port(c_lines), dialect=dialect_from_dict(TORCH))
    assert cand.prefix == "TRACE_TORCH"
    assert {"spindle_magnitude", "oversample_factor"} <= cand.stats.ignored_taps
    assert "F_cell_interpolated" in cand.stats.renamed and "pixel_pos_mm" in cand.stats.renamed
    result = diff_traces(ref, cand)
    assert result.first is None, result.first
    pos = [r for r in result.rows if r.tap == "pixel_pos_meters"]
    assert len(pos) == 4 and all(r.status == "pass" for r in pos)
    assert {r.tap for r in result.rows} >= {"F_cell", "I_before_scaling", "F_latt", "steps"}


def test_without_the_scale_the_mm_tap_is_caught(ref, c_lines):
    """pixel_pos printed in mm under a metres label: the trace contradicts itself (|P| != R), so
    it is reported as not live, naming the tap; the value alone would say a power of ten."""
    cand = read_trace(torch_port(c_lines), dialect=dialect_from_dict(dict(TORCH, scale={})))
    result = diff_traces(ref, cand)
    assert not result.live and result.hint.cls == "trace_inconsistent"
    assert result.first.tap == "pixel_pos_meters" and "pixel_pos_meters" in result.consistency.suspects
    value_only = diff_traces(ref, cand, consistency=False)
    assert "1e3" in value_only.hint.text and value_only.hint.cls == "unit_power_of_ten"


def test_other_prefixes_are_skipped_when_the_dialect_names_its_own(ref, c_lines):
    lines = torch_port(c_lines) + ["TRACE_C: F_cell 7", "TRACE_PY: steps 99"]
    cand = read_trace(lines, dialect=dialect_from_dict(TORCH))
    assert cand.stats.skipped_kinds.get("other_prefix", 0) >= 2 and cand.stats.skipped_kinds["prose"] > 0
    assert diff_traces(ref, cand).first is None


def test_prefix_without_colon_and_dtype_from_the_dialect(ref, c_lines):
    lines = fx.reprefix(c_lines, "DEBUG", sep=" ")
    cand = read_trace(lines, dialect=Dialect(prefixes=("DEBUG",), dtype="float32"))
    assert cand.prefix == "DEBUG" and cand.dtype == "float32"
    result = diff_traces(ref, cand)
    assert result.first is None and result.dtype == "float32"
    assert diff_traces(ref, cand, dtype="float64").dtype == "float64"
    with pytest.raises(TraceUsageError, match="dtype"):
        diff_traces(ref, cand, dtype="float16")
