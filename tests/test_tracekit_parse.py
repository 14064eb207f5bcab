"""Streaming trace parser: every golden trace, loop indices, skipped lines and bad input."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracekit.errors import TraceParseError
from tracekit.parse import TraceStream
from tracekit.records import LoopIndex
from tracekit.trace import read_trace

OS_RE = re.compile(r"^\s+(\d+)x\d+ pixel oversample steps", re.M)
LAYERS_RE = re.compile(r"in (\d+) layers with mu=", re.M)
DATA = Path(__file__).parent / "data" / "tracekit"


def _expected_blocks(case_dir) -> int:
    text = (case_dir / "stdout.txt").read_text(encoding="utf-8")
    return int(OS_RE.search(text).group(1)) ** 2 * int(LAYERS_RE.search(text).group(1))


def test_every_golden_trace_parses_with_header_block_counts(golden_dir):
    paths = sorted(golden_dir.glob("*/trace_*.txt"))
    assert len(paths) == 303
    for path in paths:
        trace = read_trace(path)
        expected = _expected_blocks(path.parent)
        assert trace.stats.blocks_per_pixel == [expected], path
        assert path.read_text(encoding="utf-8").count("TRACE_C: pix0_vector_meters") == expected
        assert trace.get("floatimage_accumulated") is not None
        assert trace.stats.n_skipped > 0  # progress meter and TRACE: prose


def test_block_loop_indices_thickness_outer(golden_dir):
    """feat_detector_abs: 2x2 oversample x 5 layers, layer outer, then sub_s, then sub_f."""
    trace = read_trace(next((golden_dir / "feat_detector_abs").glob("trace_*.txt")))
    idx = [r.index for r in trace.by_tap("pixel_pos_meters")]
    assert len(idx) == 20
    assert [(i.layer, i.sub_s, i.sub_f) for i in idx[:5]] == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0)]
    assert all(i.source == 0 and i.phi is None and i.mosaic is None for i in idx)
    f_cell = trace.by_tap("F_cell")[0].index
    assert (f_cell.source, f_cell.phi, f_cell.mosaic) == (0, 0, 0)
    assert trace.get("steps").index == LoopIndex()


def test_phi_lines_carry_phi_tic(golden_dir):
    trace = read_trace(golden_dir / "feat_phistep" / "trace_132_140.txt")
    recs = trace.by_tap("phi_F_latt")
    assert len(recs) == 4 * 4  # 4 sub-pixels x 4 phi steps
    assert [r.index.phi for r in recs[:4]] == [0, 1, 2, 3]
    assert trace.get("phi_deg", recs[1].index).values == (15.0,)
    # the per-phi F_latt at phi 0 is the group C F_latt of the same block
    assert trace.get("F_latt", recs[0].index).values == recs[0].values


def test_source2_lines_are_at_source_2(golden_dir):
    trace = read_trace(golden_dir / "feat_sourcefile3" / "trace_29_129.txt")
    rec = trace.by_tap("source2_lambda_angstroms")[0]
    assert (rec.index.source, rec.index.phi, rec.index.mosaic) == (2, 0, 0)
    assert rec.values == (0.98,)
    assert trace.by_tap("source2_source_index")[0].values == (2,)


def test_sample_pivot_setup_and_key_values(golden_dir):
    trace = read_trace(next((golden_dir / "feat_custom_pivot_sample_tt20").glob("trace_*.txt")))
    assert trace.branch == "sample"
    angles = trace.get("angles_rad")
    assert angles.keys == ("rotx", "roty", "rotz", "twotheta")
    assert angles.values[3] == pytest.approx(0.349065850398866)
    assert trace.get("beam_center_m").keys == ("Xclose", "Yclose", "pixel_mm")
    assert trace.get("detector_convention").values == ("CUSTOM",)
    assert trace.pixel_mm == pytest.approx(0.1)


def test_beam_pivot_repeats_and_matrices(golden_dir):
    trace = read_trace(golden_dir / "at004_mosflm" / "trace_246_246.txt")
    assert trace.branch == "beam"
    assert trace.get("fdet_after_rotz", LoopIndex(occurrence=1)) is not None
    assert trace.get("R_total").values == (1.0, 0, 0, 0, 1, 0, 0, 0, 1)
    assert trace.get("convention_mapping").values[0].startswith("Fbeam←Ybeam_mm")
    text = (golden_dir / "at004_mosflm" / "trace_246_246.txt").read_text(encoding="utf-8")
    first_hkl = next(ln for ln in text.splitlines() if ln.startswith("TRACE_C: hkl_rounded"))
    assert trace.get("hkl_rounded", LoopIndex(0, 0, 0, 0, 0, 0)).values == tuple(map(int, first_hkl.split()[2:]))
    assert trace.get("DETECTOR_PIX0_VECTOR").prefix == ""
    assert trace.get("trace_pixel").values == (246, 246)


def test_tap5_lines_real_c_fixture():
    """tests/data/tracekit/c_tap5_det64_os2.txt: the instrumented C with TRACE_C_TAP5{,_HKL} set."""
    trace = read_trace(DATA / "c_tap5_det64_os2.txt")
    hkl = trace.by_tap("tap5_hkl_frac")
    assert [(r.index.sub_s, r.index.sub_f) for r in hkl] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert trace.get("tap5_hkl_frac", hkl[2].index).values == trace.get("hkl_frac", hkl[2].index).values
    assert trace.get("hkl_out_of_bounds", hkl[0].index).values == (0,)
    assert trace.get("tap5_pixel").values == (30, 31)
    assert trace.get("tap5_I_pixel_final").values == trace.get("I_pixel_final").values


def test_py_prefix_meta_at_and_fallback_ordinal():
    lines = ["TRACE_PY_META dtype=float32 device=cpu",
             "TRACE_PY: pix0_vector_meters 0.1 0 0", "TRACE_PY: pixel_pos_meters 0.1 0 0",
             "TRACE_PY: pix0_vector_meters 0.1 0 0",
             "TRACE_PY_AT F_cell[layer=0,sub_s=1,sub_f=0,source=3,phi=2,mosaic=1] 12.5",
             "TRACE_PY: floatimage_accumulated 1", "TRACE_PY_END records=5"]
    trace = read_trace(lines)
    assert trace.dtype == "float32" and trace.prefix == "TRACE_PY"
    blocks = [r.index for r in trace.by_tap("pix0_vector_meters")]
    assert [(b.layer, b.occurrence) for b in blocks] == [(None, 0), (None, 1)]  # no counts: ordinal
    assert trace.get("F_cell", LoopIndex(0, 1, 0, 3, 2, 1)).values == (12.5,)


def test_glued_warning_line_is_recovered():
    lines = ["TRACE_C: pix0_vector_meters 0.1 0 0",
             "WARNING: further warnings will not be printed! TRACE_C: F_cell 100",
             "TRACE_C: floatimage_accumulated 3"]
    trace = read_trace(lines)
    assert trace.by_tap("F_cell")[0].values == (100.0,)


def test_unknown_taps_are_kept_and_counted():
    trace = read_trace(["TRACE_C: my_new_tap 1 2 3", "TRACE_C:my_setup=[1 0 0; 0 1 0; 0 0 1]",
                        "TRACE_C: floatimage_accumulated 3"])
    assert trace.stats.unknown_taps == {"my_new_tap", "my_setup"}
    assert len(trace.get("my_setup").values) == 9


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50, "binary"),
    ("TRACE_C: steps 1\n".encode() + b"\xff\xfe bad bytes\n", "undecodable"),
    (b"progress 10% done\nnothing else here\n", "no trace lines"),
])
def test_unreadable_input_raises_exit_5(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(TraceParseError, match=message) as info:
        read_trace(path)
    assert info.value.exit_code == 5
    assert "\n" not in str(info.value)


def test_truncated_traces_raise(tmp_path, golden_dir):
    text = (golden_dir / "at004_mosflm" / "trace_246_246.txt").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    cut_e = next(i for i, ln in enumerate(lines) if "floatimage_accumulated" in ln)
    cases = {
        "no_e": "".join(lines[:cut_e]),                                   # group E never finished
        "mid_value": "".join(lines[:cut_e]) + lines[cut_e][:-6],          # last line cut mid-value
        "mid_block": "".join(lines[: cut_e - 40]),                        # cut inside a pixel block
        "config_only": "".join(ln for ln in lines if "TRACE_C: " not in ln and "_PHI" not in ln
                               ).split("TRACE_CONFIG")[0] + "TRACE_CONFIG: tracing pixel (spixel=1, fpixel=2)\n0% done\n",
    }
    for name, body in cases.items():
        path = tmp_path / f"{name}.txt"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(TraceParseError, match="truncated") as info:
            read_trace(path)
        assert info.value.exit_code == 5, name


def test_malformed_known_tap_raises_with_line_number():
    with pytest.raises(TraceParseError, match=r"<lines>:2: tap pixel_pos_meters: expected 3"):
        read_trace(["TRACE_C: pix0_vector_meters 0.1 0 0", "TRACE_C: pixel_pos_meters 0.1 0"])


def test_py_trace_without_end_is_truncated():
    with pytest.raises(TraceParseError, match="truncated"):
        read_trace(["TRACE_PY_META dtype=float64", "TRACE_PY: steps 4"])


def test_streaming_memory_is_flat(tmp_path, golden_dir):
    """~3 MB of repeated traces: the tracemalloc peak stays far below the file size."""
    import tracemalloc

    src = (golden_dir / "at004_mosflm" / "trace_246_246.txt").read_bytes()
    path = tmp_path / "big.txt"
    path.write_bytes(src * (3_000_000 // len(src)))
    tracemalloc.start()
    try:
        stream = TraceStream(path)
        n = sum(1 for _ in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == stream.stats.n_records > 30_000
    assert peak < 1_000_000, peak


@pytest.mark.slow
def test_100mb_trace_parses_with_bounded_memory(tmp_path, golden_dir):
    import tracemalloc

    src = (golden_dir / "feat_phistep" / "trace_132_140.txt").read_bytes()
    path = tmp_path / "huge.txt"
    with open(path, "wb") as fh:
        for _ in range(100_000_000 // len(src) + 1):
            fh.write(src)
    tracemalloc.start()
    try:
        stream = TraceStream(path)
        n = sum(1 for _ in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n > 1_000_000
    assert peak < 5_000_000, peak
