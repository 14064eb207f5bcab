"""nb-compare's verdict by the registry (parity/compare/gates.py): the four gates of a threshold class,
exit 3 naming each failed gate, on the defects of issue #11 that correlation alone passed."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import compare as compare_cli
from parity.compare.gates import DEFAULT_CLASS, evaluate_gates
from parity.images.metrics import compare_images
from parity.matrix.registry import load_registry
from parity.thresholds import class_thresholds
from conftest import make_fake, sub_app

RUNNER = CliRunner()
ARGS = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "32"]
# two one-pixel high-resolution peaks just above 1 % of the maximum (the main spot is 100)
WEAK_PEAKS = {"extra_peaks": [[4, 4, 1.1], [28, 28, 1.1]], "extra_peak_sigma2": 0.5}


@pytest.fixture(scope="module")
def app():
    return sub_app(compare_cli.register)


def run(app, tmp_path, c: dict, py: dict, *options):
    out = tmp_path / "out"
    result = RUNNER.invoke(app, ["compare", "--outdir", str(out), "--c-bin", str(make_fake(tmp_path, "c", **c)),
                                 "--py-bin", str(make_fake(tmp_path, "py", **py)), *map(str, options), "--", *ARGS],
                           env={"COLUMNS": "200"})
    return result, json.loads((out / "summary.json").read_text())


def failed(summary: dict) -> list[str]:
    return [g["name"] for g in summary["gates"] if not g["passed"]]


def test_peaks_8p5x_too_low_fail_although_correlation_is_0p99999(app, tmp_path):
    result, s = run(app, tmp_path, WEAK_PEAKS, {**WEAK_PEAKS, "extra_peak_scale": 1 / 8.5})
    assert s["correlation"] >= 0.99999                      # correlation alone (even GOLDEN's) passes this
    assert result.exit_code == 3, result.output
    assert failed(s) == ["sum_ratio", "max_rel_err"] and s["threshold_class"] == DEFAULT_CLASS
    gate3 = next(g for g in s["gates"] if g["name"] == "max_rel_err")
    # at (4, 4) the reference is 1.1 + 0.08 (ramp), the candidate 1.1 / 8.5 + 0.08
    assert gate3["value"] == pytest.approx(1.1 * (1 - 1 / 8.5) / 1.18, rel=1e-4) and gate3["at"] == [4, 4]
    assert "gate 3 max_rel_err" in result.stderr and "gate 2 sum_ratio" in result.stderr
    assert "failed gates (GOLDEN-IMAGE): 2 sum_ratio, 3 max_rel_err" in result.stdout.splitlines()[-1]


def test_sum_ratio_1p07_fails_the_sum_gate(app, tmp_path):
    result, s = run(app, tmp_path, {}, {"scale": 1.07})
    assert result.exit_code == 3 and s["correlation"] == pytest.approx(1.0) and s["sum_ratio"] == pytest.approx(1.07)
    assert "sum_ratio" in failed(s) and "correlation" not in failed(s)
    assert "gate 2 sum_ratio 1.06999" in result.stderr and "fails: needs |x - 1| <= 0.0001" in result.stderr


def test_the_old_correlation_threshold_no_longer_passes_them(app, tmp_path):
    """--threshold 0.95 (the old default) replaces only the correlation gate."""
    result, s = run(app, tmp_path, {}, {"scale": 1.07}, "--threshold", "0.95")
    assert result.exit_code == 3 and s["threshold"] == 0.95 and s["threshold_source"] == "--threshold"
    assert next(g for g in s["gates"] if g["name"] == "correlation")["threshold"] == 0.95


def test_a_moved_brightest_pixel_fails_gate_4(app, tmp_path):
    result, s = run(app, tmp_path, {}, {"extra_peaks": [[4, 4, 150.0]]}, "--threshold", "-1")
    assert result.exit_code == 3 and "brightest_pixel" in failed(s)
    gate4 = next(g for g in s["gates"] if g["name"] == "brightest_pixel")
    assert gate4["number"] == 4 and gate4["ref_argmax"] == [16, 16] and gate4["cand_argmax"] == [4, 4]


def test_identical_images_pass_every_gate_and_the_summary_holds_the_class(app, tmp_path):
    result, s = run(app, tmp_path, {}, {})
    assert result.exit_code == 0, result.output
    assert [g["passed"] for g in s["gates"]] == [True] * 4
    assert [g["name"] for g in s["gates"]] == ["correlation", "sum_ratio", "max_rel_err", "brightest_pixel"]
    golden = load_registry()["classes"]["GOLDEN-IMAGE"]
    assert {k: s["thresholds"][k] for k in load_registry()["directions"]} == {k: float(golden[k])
                                                                              for k in load_registry()["directions"]}
    assert set(s["gates"][0]) >= {"name", "value", "threshold", "op", "passed"}


def test_threshold_class_option(app, tmp_path):
    result, s = run(app, tmp_path, {}, {}, "--threshold-class", "PERF-IMAGE")
    assert result.exit_code == 0 and s["threshold_class"] == "PERF-IMAGE"
    bad = RUNNER.invoke(app, ["compare", "--outdir", str(tmp_path / "x"), "--threshold-class", "LOOSE", "--", *ARGS])
    assert bad.exit_code == 1 and "not in the registry" in bad.stderr and not (tmp_path / "x").exists()


def test_na_metrics_fail_their_gate():
    import numpy as np

    ref = np.ones((4, 4))
    gates = evaluate_gates(compare_images(ref, ref), class_thresholds(DEFAULT_CLASS))
    assert gates[0].value == "n/a" and not gates[0].passed and gates[1].passed
