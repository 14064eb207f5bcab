"""Alignment without a dialect: real C and simcore traces rewritten as other ports print them (one
block per pixel and no loop-index header, blocks in another order, prose and other prefixes around
the block, renamed taps, dropped taps) must still align, count what they compared, and never exit 5
unless the trace is really cut."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import tracekit_foreign as fx
from tracekit import diff_traces, read_trace
from tracekit.errors import TraceParseError
from tracekit.records import LoopIndex

CASE = ("at004_mosflm", "trace_246_246.txt")   # 2x2 oversample: four sub-pixel blocks


@pytest.fixture(scope="module")
def c_lines(golden_dir) -> list[str]:
    return (golden_dir / CASE[0] / CASE[1]).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def ref(golden_dir):
    return read_trace(golden_dir / CASE[0] / CASE[1])


def port(lines, *, keep=None, prefix="TRACE_PY"):
    """The C's pixel block(s) as a port prints them: own prefix, no headers, no setup, prose around."""
    if keep is not None:
        lines = fx.one_block(lines, keep)
    return fx.with_prose(fx.reprefix(fx.pixel_lines(lines), prefix), prefix)


@pytest.mark.parametrize("keep, sub", [(0, (0, 0)), (1, (0, 1)), (2, (1, 0)), (3, (1, 1))])
def test_one_headerless_block_finds_its_sub_pixel(ref, c_lines, keep, sub):
    cand = read_trace(port(c_lines, keep=keep))
    assert cand.headerless and cand.stats.blocks_per_pixel == [1]
    result = diff_traces(ref, cand)
    assert result.first is None and not result.only_in_cand      # issue #11: nothing left "only in cand"
    (match,) = result.blocks
    assert match.method == "best match" and match.choices == 4 and match.ref[1:3] == sub
    assert any("best match of 4" in n for n in result.notes)
    # sub-pixel-free taps are compared against every reference block, the others against one
    pix0 = [r for r in result.rows if r.tap == "pix0_vector_meters"]
    assert len(pix0) == 4 and sum(r.matched == "any sub-pixel" for r in pix0) == 3
    assert len([r for r in result.rows if r.tap == "pixel_pos_meters"]) == 1
    assert result.compared == 86 and result.reference_total == 166 and not result.partial
    assert "pixel_pos_meters" in result.not_compared and "trace_pixel" in result.not_compared
    assert result.skipped_lines >= 9 and result.skipped["other_prefix"] >= 1


def test_all_blocks_headerless_align_by_position(ref, c_lines):
    result = diff_traces(ref, read_trace(port(c_lines)))
    assert result.first is None and [b.method for b in result.blocks] == ["position"] * 4
    assert result.compared == 134


def test_blocks_in_another_order_align_by_best_match(ref, c_lines):
    """A port looping fast-outer prints sub-pixels (0,0) (1,0) (0,1) (1,1): position would pair
    them wrongly, the best match does not, and says so."""
    blocks = [fx.pixel_lines(fx.one_block(c_lines, k)) for k in range(4)]
    body = [ln for k in (0, 2, 1, 3) for ln in blocks[k] if "I_before_scaling" not in ln]
    tail = fx.pixel_lines(c_lines)[fx.pixel_lines(c_lines).index(next(ln for ln in c_lines if "I_before_scaling" in ln)):]
    body = [ln for ln in body if ln not in tail]
    result = diff_traces(ref, read_trace(fx.reprefix(body + tail, "TRACE_PY")))
    assert result.first is None, result.first
    assert [b.method for b in result.blocks] == ["best match"] * 4
    assert [b.ref[1:3] for b in result.blocks] == [(0, 0), (1, 0), (0, 1), (1, 1)]


def test_divergence_in_a_headerless_block_is_placed_on_the_reference_index(ref, c_lines):
    lines = fx.map_values(port(c_lines, keep=2), "F_cell", lambda v: [v[0] * 1.5])
    result = diff_traces(ref, read_trace(lines))
    assert result.first.tap == "F_cell" and result.first.index == LoopIndex(0, 1, 0, 0, 0, 0)


def test_lines_after_the_block_never_make_it_truncated(ref, c_lines):
    """Per-phi lines of its own prefix, a re-printed position and prose after group E: not exit 5."""
    lines = port(c_lines, keep=0) + ["TRACE_PY_PHI phi_tic=0 phi_deg=0 k_frac=1.02489232790565 "
                                     "F_latt_b=4.87853541288596 F_latt=118.482775675657",
                                     "TRACE_PY: pixel_pos_meters 0.1 0.001025 -0.001025", "Position (meters): ..."]
    cand = read_trace(lines)
    result = diff_traces(ref, cand)
    assert result.first is None
    assert ("phi_F_latt", LoopIndex(0, 0, 0, 0, 0, 0)) in {(r.tap, r.index) for r in result.rows}


def test_a_port_trace_without_group_e_is_noted_not_fatal(ref, c_lines):
    lines = [ln for ln in port(c_lines, keep=0)]
    cut = next(i for i, ln in enumerate(lines) if "I_before_scaling" in ln)
    cand = read_trace(lines[:cut])
    assert any("ends inside a pixel block" in n for n in cand.stats.notes)
    result = diff_traces(ref, cand)
    assert result.first is None and "I_pixel_final" in result.not_compared


def test_a_port_trace_cut_mid_value_is_exit_5(tmp_path, c_lines):
    lines = port(c_lines, keep=0)
    cut = next(i for i, ln in enumerate(lines) if ln.startswith("TRACE_PY: pixel_pos_meters"))
    last = lines[cut][: lines[cut].index(" ", len("TRACE_PY: pixel_pos_meters "))]   # 1 of 3 values
    path = tmp_path / "cut.txt"
    path.write_text("\n".join(lines[:cut] + [last]), encoding="utf-8")
    with pytest.raises(TraceParseError, match="truncated") as info:
        read_trace(path)
    assert info.value.exit_code == 5


def test_builtin_renames_and_unit_suffixes(ref, c_lines):
    lines = fx.rename(port(c_lines, keep=1), {"I_before_scaling": "I_before_scaling_pre_polar",
                                             "F_cell": "F_cell_interpolated", "R_distance_meters": "R_distance_m",
                                             "pixel_pos_meters": "pixel_pos_mm", "lambda_angstroms": "lambda_A",
                                             "omega_pixel": "omega_pixel_steradian"})
    lines = fx.scale(lines, "pixel_pos_mm", 1e3)
    cand = read_trace(lines)
    result = diff_traces(ref, cand)
    assert result.first is None, result.first
    assert cand.stats.renamed["pixel_pos_mm"] == "unit suffix pixel_pos_mm -> pixel_pos_meters (mm -> m, x0.001)"
    assert cand.stats.renamed["F_cell_interpolated"].startswith("built-in rename")
    assert {"R_distance_m", "lambda_A", "I_before_scaling_pre_polar"} <= set(result.renamed)
    assert cand.stats.renamed["omega_pixel_steradian"].endswith("-> omega_pixel")   # not omega_pixel_sr
    assert not result.extra_taps


def test_unknown_and_ambiguous_names_stay_unknown(c_lines):
    lines = port(c_lines, keep=0) + ["TRACE_PY: close_distance_mm 100", "TRACE_PY: spindle_magnitude 1"]
    cand = read_trace(lines)
    assert {"close_distance_mm", "spindle_magnitude"} <= cand.stats.unknown_taps   # two taps share the stem


def test_comparing_less_than_half_is_a_warning_and_exit_1(ref, c_lines, tmp_path):
    from cli.app import app

    keep = {"pix0_vector_meters", "pixel_pos_meters", "F_cell", "I_pixel_final"}
    lines = [ln for ln in port(c_lines, keep=0) if not ln.startswith("TRACE_PY") or ln.split()[1] in keep]
    result = diff_traces(ref, read_trace(lines))
    assert result.first is None and result.partial and result.warnings
    assert result.compared == 4 + 1 + 1 + 1 and "hkl_frac" in result.not_compared
    cand = tmp_path / "few.txt"
    cand.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref_path = ref.name
    runner = CliRunner()
    res = runner.invoke(app, ["trace-diff", ref_path, str(cand), "--json", str(tmp_path / "d.json")])
    assert res.exit_code == 1 and "less than half" in res.stdout
    data = json.loads((tmp_path / "d.json").read_text())
    assert data["first_divergence"] is None and data["partial"] is True
    assert (data["compared"], data["reference_total"]) == (7, 166) and data["skipped_lines"] >= 9
    assert "hkl_frac" in data["not_compared"]
    assert runner.invoke(app, ["trace-diff", ref_path, str(cand), "--partial-ok"]).exit_code == 0


@pytest.fixture(scope="module")
def simcore_lines(golden_dir):
    from parity.matrix.cases import find_run
    from parity.ports.inprocess import trace_args

    run = find_run(CASE[0])
    return trace_args(list(run.args), (246, 246), dtype="float64", cwd=str(run.golden_dir)).lines


def test_simcore_trace_in_a_foreign_dialect(ref, simcore_lines):
    """simcore's own trace without META/END or headers, reprefixed `DEBUG name v`: the parser
    adopts the prefix, the blocks align by position, and the diff against the C is clean."""
    lines = fx.pixel_lines(ln for ln in simcore_lines if "_META" not in ln and "_END" not in ln)
    cand = read_trace(fx.with_prose(fx.reprefix(lines, "DEBUG", sep=" ")))
    assert cand.prefix == "DEBUG" and cand.headerless
    result = diff_traces(ref, cand)
    assert result.first is None
    assert [b.method for b in result.blocks] == ["position"] * 4 and result.compared == 134
