"""Checks that need no reference: every golden C trace and simcore's own traces agree with
themselves and with their images; re-derived blocks (other units than the labels, a lattice factor
not the one the sum used, a final value that is not the image's) are reported as not live, naming
the taps, before any divergence is claimed."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

import tracekit_foreign as fx
from tracekit import diff_traces, read_trace
from tracekit.config import read_config
from tracekit.consistency import check_closure, check_consistency, fit_n, read_image, sincg
from tracekit.errors import TraceParseError, TraceUsageError

CASE = ("at004_mosflm", "trace_246_246.txt")


@pytest.fixture(scope="module")
def c_lines(golden_dir) -> list[str]:
    return (golden_dir / CASE[0] / CASE[1]).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def ref(golden_dir):
    return read_trace(golden_dir / CASE[0] / CASE[1])


def test_every_golden_c_trace_is_consistent_and_closes(golden_dir):
    runs, n_traces = Counter(), 0
    for path in sorted(golden_dir.glob("*/trace_*.txt")):
        trace = read_trace(path)
        assert trace.config.get("Na") is not None, path          # the stdout is part of the trace file
        result = check_consistency(trace, config=trace.config)
        assert result.ok, (path, result.summary())
        runs.update(c.name for c in result.checks)
        cfg = read_config(golden_dir / path.parent.name / "stdout.txt")
        image = read_image(path.parent / "float.bin", (cfg["spixels"], cfg["fpixels"]))
        closure = check_closure(trace, image)
        assert closure.ok and closure.tap == "floatimage_accumulated", path
        n_traces += 1
    assert n_traces == 303
    assert runs["scattering_vector"] == 1203 and runs["miller_indices"] == 1194
    assert runs["lattice_factors"] > 3000 and runs["final_scaling"] == 303 and runs["intensity_sum"] >= 150
    assert runs["source2_products"] > 0 and runs["stored_value"] == 303


def test_the_water_background_is_known_from_the_config(golden_dir):
    trace = read_trace(next((golden_dir / "feat_water_noise").glob("trace_*.txt")))
    assert check_consistency(trace, config=trace.config).ok
    blind = check_consistency(trace, config={})      # without the config the sum lacks I_bg
    assert [c.name for c in blind.failing] == ["intensity_sum"]


def test_q_in_inverse_angstrom_under_the_catalogue_unit_is_caught(ref, c_lines):
    """A port that re-derives q in A^-1 (the C's label, not its unit): the scattering-vector and
    Miller checks fail, and q is the one tap they share."""
    cand = read_trace(fx.scale(c_lines, "scattering_vec_A_inv", 1e-10))
    cons = check_consistency(cand)
    assert {c.name for c in cons.failing} == {"scattering_vector", "miller_indices"}
    assert cons.suspects == ["scattering_vec_A_inv"] and "ratio 1e-10" in cons.summary()
    result = diff_traces(ref, cand)
    assert result.live is False and result.hint.cls == "trace_inconsistent"
    assert result.first.tap == "scattering_vec_A_inv" and "scattering_vec_A_inv" in result.hint.text
    assert result.to_dict()["first_divergence"]["hint"]["class"] == "trace_inconsistent"


def test_a_lattice_factor_the_sum_did_not_use(ref, c_lines):
    """F_latt_b re-derived 100x too large (with F_latt following it): no N gives that sincg at the
    printed h, and the printed intensity is not the sum of the printed terms."""
    lines = fx.scale(fx.scale(c_lines, "F_latt_b", 100.0), "F_latt", 100.0)
    cons = check_consistency(read_trace(lines))
    assert {"lattice_factors", "intensity_sum"} <= {c.name for c in cons.failing}
    assert "F_latt_b" in cons.disagreeing and "lattice_product" not in {c.name for c in cons.failing}
    assert diff_traces(ref, read_trace(lines)).hint.cls == "trace_inconsistent"


def test_a_block_printed_with_six_digits_is_still_consistent(c_lines):
    lines = fx.map_values(fx.reprefix(fx.pixel_lines(c_lines), "TRACE_PY"), "pixel_pos_meters", lambda v: v)
    short = []
    for ln in lines:
        head, *vals = ln.split(" ")
        if head == "TRACE_PY:" and len(vals) > 1:
            try:
                ln = " ".join([head, vals[0]] + ["%.6g" % float(v) for v in vals[1:]])
            except ValueError:
                pass
        short.append(ln)
    cons = check_consistency(read_trace(short))
    assert cons.ok, cons.summary()
    assert len(cons.checks) > 40


def test_closure_against_the_image(golden_dir, c_lines, ref, tmp_path):
    cfg = read_config(golden_dir / CASE[0] / "stdout.txt")
    image = read_image(golden_dir / CASE[0] / "float.bin", (cfg["spixels"], cfg["fpixels"]))
    assert check_closure(ref, image).ok
    wrong = check_closure(ref, image, (246, 247))
    assert wrong.ok is False and wrong.image_value == float(image[246, 247])
    result = diff_traces(ref, ref, image=image, pixel=(246, 247))
    assert not result.live and result.hint.cls == "trace_inconsistent" and "image pixel" in result.hint.text
    assert result.first.tap == "floatimage_accumulated"
    with pytest.raises(TraceUsageError):
        check_closure(ref, image, (999, 0))
    no_pixel = read_trace([ln for ln in c_lines if not ln.startswith("TRACE_CONFIG")])
    with pytest.raises(TraceUsageError, match="--pixel"):
        check_closure(no_pixel, image)
    np.save(tmp_path / "img.npy", image)
    assert check_closure(ref, read_image(tmp_path / "img.npy", None)).ok
    with pytest.raises(TraceParseError, match="needs"):
        read_image(golden_dir / CASE[0] / "float.bin", (100, 100))
    with pytest.raises(TraceUsageError, match="--shape"):
        read_image(golden_dir / CASE[0] / "float.bin", None)


def test_cli_image_closure_and_exit_codes(golden_dir, tmp_path):
    from cli.app import app

    runner = CliRunner()
    trace, image = golden_dir / CASE[0] / CASE[1], golden_dir / CASE[0] / "float.bin"
    out = tmp_path / "d.json"
    res = runner.invoke(app, ["trace-diff", str(trace), str(trace), "--image", str(image), "--shape", "256", "256",
                              "--json", str(out)])
    assert res.exit_code == 0, res.output
    closure = json.loads(out.read_text())["closure"]
    assert closure["ok"] is True and closure["tap"] == "floatimage_accumulated"
    assert closure["trace_value"] == pytest.approx(closure["image_value"], rel=1e-12)
    res = runner.invoke(app, ["trace-diff", str(trace), str(trace), "--image", str(image), "--shape", "256", "256",
                              "--pixel", "10", "10"])
    assert res.exit_code == 1 and "not the live computation" in res.stdout
    res = runner.invoke(app, ["trace-diff", str(trace), str(trace), "--image", str(image), "--shape", "10", "10"])
    assert res.exit_code == 5 and len(res.stderr.strip().splitlines()) == 1
    res = runner.invoke(app, ["trace-diff", str(trace), str(trace), "--shape", "256", "256"])
    assert res.exit_code == 2


def test_sincg_and_fitting_n():
    assert sincg(0.0, 5) == 5.0
    h = 1.02489232790565
    assert 5 in fit_n(h, sincg(math.pi * h, 5), 1e-9)
    assert fit_n(h, 4.97824534228357 * 3, 1e-9) == []
    assert 1 in fit_n(0.3, 1.0, 1e-9)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_simcore_traces_are_consistent_and_close(tmp_path, golden_dir, dtype):
    """simcore's own trace and image (python -m simcore ... -trace_pixel S F): consistent, and
    its final value is its image's pixel."""
    args = (golden_dir / "at001_det64" / "args.txt").read_text().split()
    out = subprocess.run([sys.executable, "-m", "simcore", *args, "-dtype", dtype, "-floatfile", "f.bin",
                          "-trace_pixel", "31", "33"], cwd=tmp_path, capture_output=True, text=True, check=True)
    trace = read_trace(out.stdout.splitlines(), name="simcore")
    assert trace.dtype == dtype
    cons = check_consistency(trace, config=trace.config)
    assert cons.ok, cons.summary()
    closure = check_closure(trace, read_image(tmp_path / "f.bin", (64, 64)))
    assert closure.ok and closure.pixel == (31, 33)
    c_trace = read_trace(next((golden_dir / "at001_det64").glob("trace_*.txt")))
    assert check_consistency(c_trace, config=c_trace.config).ok


def test_inconsistent_without_any_reference_counterpart(ref, c_lines):
    """The candidate's disagreeing taps are not in the reference at all: still not live, and the
    first divergence names the candidate's tap with an empty reference side."""
    lines = [ln for ln in fx.pixel_lines(fx.scale(c_lines, "scattering_vec_A_inv", 1e-10))]
    only_e = read_trace([ln for ln in c_lines if not ln.startswith("TRACE_C: ") or "I_pixel_final" in ln
                         or "floatimage" in ln])
    result = diff_traces(only_e, read_trace(fx.reprefix(lines, "TRACE_PY")))
    assert not result.live and result.hint.cls == "trace_inconsistent"
    assert result.first.tap == "scattering_vec_A_inv" and result.first.ref == () and result.first.status == "inconsistent"
    json.dumps(result.to_dict(), allow_nan=False)


THICK_ARGS = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-lambda", "1", "-N", "5",
              "-detpixels", "16", "-pixel", "0.1", "-distance", "100", "-oversample", "1", "-detector_thick", "100"]


def test_a_one_block_port_of_a_thick_detector_borrows_the_layer_count(tmp_path):
    """-detector_thick 100 (2 layers, I summed over both): simcore's own trace prints both blocks
    and is consistent. A port that prints only the first block and no loop sizes, and leaves the
    capture fraction out (1, carried into its final value), is the live computation: its one block
    is not the whole sum because the reference says the run has 2 layers, so the intensity sum is
    skipped, not failed, and the divergence is at capture_fraction."""
    out = subprocess.run([sys.executable, "-m", "simcore", *THICK_ARGS, "-floatfile", "f.bin", "-trace_pixel", "8", "8"],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    ref = read_trace(lines, name="simcore")
    assert ref.stats.layers == 2 and ref.config["detector_thicksteps"] == 2
    own = check_consistency(ref, config=ref.config)
    assert own.ok and "intensity_sum" in {c.name for c in own.checks}, own.summary()
    capture = float(next(ln.split()[2] for ln in lines if ln.startswith("TRACE_PY: capture_fraction ")))
    assert 0.1 < capture < 0.5
    port = fx.drop_headers([ln for ln in fx.one_block(lines, 0) if "_META " not in ln])
    port = fx.map_values(port, "capture_fraction", lambda v: [1.0])
    for tap in ("I_pixel_final", "floatimage_accumulated"):
        port = fx.scale(port, tap, 1 / capture)
    cand = read_trace(fx.reprefix(fx.pixel_lines(port), "TRACE_PY"), name="port")
    assert cand.stats.layers is None and not cand.config
    blind = check_consistency(cand, dtype="float32")     # alone, one block looks like the whole sum
    assert [c.name for c in blind.failing] == ["intensity_sum"] and "ratio 2.0" in blind.summary()
    told = check_consistency(cand, dtype="float32", run_config=ref.config)
    assert told.ok and any("2 detector layer(s) but 1 block(s)" in s for s in told.skipped), told.skipped
    assert check_closure(cand, read_image(tmp_path / "f.bin", (16, 16)) / capture, (8, 8), dtype="float32").ok
    result = diff_traces(ref, cand, dtype="float32")
    assert result.live, result.consistency.summary()
    assert result.first.tap == "capture_fraction" and result.hint.cls == "constant_factor"


def test_the_culprit_of_a_failing_check_is_the_tap_the_reference_also_rejects(ref, c_lines):
    """The lattice block re-derived after the fact from q in A^-1 (the label's unit, not the
    catalogue's): q, h, the rounding and the lattice factors agree with each other, the intensity
    sum is the live one. Two checks fail: q = (d - i)/lambda, whose inputs d, i, lambda agree with
    the reference while q does not, and I = sum F_cell^2 F_latt^2, where F_latt is the one the
    reference rejects. The first divergence names q, not the first input (incident_vec)."""
    lines = fx.scale(fx.scale(c_lines, "scattering_vec_A_inv", 1e-10), "hkl_frac", 1e-10)
    lines = fx.map_values(lines, "hkl_rounded", lambda v: [0.0, 0.0, 0.0])
    for tap in ("F_latt_a", "F_latt_b", "F_latt_c"):
        lines = fx.map_values(lines, tap, lambda v: [5.0])          # sincg(pi h, 5) at h ~ 1e-10
    lines = fx.map_values(lines, "F_latt", lambda v: [125.0])
    cand = read_trace(lines)
    cons = check_consistency(cand, config=cand.config)
    assert {c.name for c in cons.failing} == {"scattering_vector", "intensity_sum"}, cons.summary()
    assert {"incident_vec", "diffracted_vec", "lambda_meters"} <= set(cons.disagreeing)
    assert cons.suspects[0] == "scattering_vec_A_inv"           # without a reference: the output first
    result = diff_traces(ref, cand)
    assert not result.live and result.hint.cls == "trace_inconsistent"
    assert result.first.tap == "scattering_vec_A_inv" and result.first.status == "fail"
    assert result.to_dict()["first_divergence"]["tap"] == "scattering_vec_A_inv"
