"""`pwb gradcheck` and `pwb refine-demo`: exit codes, outputs, the command-port gradient interface
(tests/grad_port.py, with mutants that must fail), bundles, and the refinement demo on a
simcore-made "measured" image (no C needed)."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

GRAD_PORT = Path(__file__).with_name("grad_port.py")
TINY = ("-default_F 100 -cell 70 80 90 85 95 105 -lambda 1.2 -N 3 -distance 60 -detpixels 12 -pixel 0.4 "
        "-oversample 1 -misset 10 20 30 -detector_rotx 2 -Xbeam 2.3 -Ybeam 2.5 -mosflm").split()


def _run(*argv, env=None):
    return CliRunner().invoke(app, [str(a) for a in argv], env=env)


def _cand_cmd():
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(GRAD_PORT))}"


def test_self_consistency_passes_and_writes_json_and_overlays(tmp_path):
    out, pngs = tmp_path / "g.json", tmp_path / "png"
    res = _run("gradcheck", "--reference", "simcore", "--param", "distance_mm", "--param", "misset_y_deg",
               "--json", out, "--overlay", pngs, "--", *TINY)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["passed"] and [r["param"] for r in data["results"]] == ["distance_mm", "misset_y_deg"]
    assert data["results"][0]["reference"] == "simcore-fd" and data["results"][0]["threshold_class"] == "GRADIENT"
    assert {g["name"] for g in data["results"][0]["gates"]} >= {"correlation", "sum_ratio_dev", "rel_err_max"}
    assert (pngs / "gradcheck_float64_distance_mm.png").read_bytes()[:4] == b"\x89PNG"


def test_command_port_with_the_declared_interface_passes():
    res = _run("gradcheck", "--reference", "simcore", "--cand-cmd", _cand_cmd(), "--param", "Ybeam_mm", "--", *TINY)
    assert res.exit_code == 0, res.output


def test_a_wrong_constant_factor_from_a_command_port_fails():
    res = _run("gradcheck", "--reference", "simcore", "--cand-cmd", _cand_cmd(), "--param", "Ybeam_mm", "--",
               *TINY, env={"GRAD_PORT_SCALE": "1.01", "COLUMNS": "200"})
    assert res.exit_code == 1, res.output
    assert "sum_ratio_dev" in res.output


def test_a_failing_command_port_is_a_failed_parameter_not_a_crash():
    res = _run("gradcheck", "--reference", "simcore", "--cand-cmd", _cand_cmd(), "--param", "Ybeam_mm", "--",
               *TINY, env={"GRAD_PORT_FAIL": "1"})
    assert res.exit_code == 1 and "failing on purpose" in res.output


@pytest.mark.parametrize("argv, fragment", [
    (["--reference", "simcore", "--param", "distance_m"], "unknown parameter"),
    (["--reference", "simcore", "--param", "distance_mm", "--step", "-1"], "must be positive"),
    (["--reference", "simcore", "--param", "all", "--step", "0.01"], "one --param"),
    (["--reference", "simcore", "--param", "distance_mm", "--cand", "torchport"], "--cand torchport"),
    (["--reference", "c", "--param", "distance_mm"], "no C binary"),
    (["--reference", "simcore", "--param", "distance_mm", "--stencil", "five"], "--stencil"),
])
def test_usage_errors_are_one_line_exit_2(monkeypatch, argv, fragment):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    res = _run("gradcheck", *argv, "--", *TINY)
    assert res.exit_code == 2, res.output
    assert fragment in res.output and "Traceback" not in res.output


def test_no_arguments_and_a_missing_c_binary(tmp_path):
    assert _run("gradcheck", "--param", "N").exit_code == 2
    res = _run("gradcheck", "--param", "distance_mm", "--c-bin", tmp_path / "nope", "--", *TINY)
    assert res.exit_code == 5 and "not found" in res.output


def test_bundle_holds_results_and_overlays(tmp_path):
    res = _run("gradcheck", "--reference", "simcore", "--param", "lambda_A", "--bundle", "--reports-root",
               tmp_path, "--", *TINY)
    assert res.exit_code == 0, res.output
    (bundle,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["status"] == "passed" and manifest["metrics"]["passed"] is True
    assert manifest["metrics"]["n_checks"] == 1 and manifest["metrics"]["failed"] == []
    names = {a["name"] for a in manifest["artifacts"]}
    assert {"gradcheck.json", "gradcheck.md", "overlays/gradcheck_float64_lambda_A.png"} <= names


def test_refine_demo_recovers_the_parameters_from_a_simcore_image(tmp_path, monkeypatch):
    """The small demo (64², six parameters) end to end through the CLI, well under 30 s."""
    monkeypatch.delenv("NB_C_BIN", raising=False)
    png, out = tmp_path / "refine.png", tmp_path / "refine.json"
    res = _run("refine-demo", "--size", "small", "--max-evals", "40", "--png", png, "--json", out)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["converged"] and data["measured_by"] == "simcore"
    assert data["loss_final"] < 1e-6 * data["loss_start"]
    assert all(abs(data["errors"][k]) <= data["tolerance"][k] for k in data["names"])
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_refine_demo_usage_errors():
    assert _run("refine-demo", "--size", "huge").exit_code == 2
    assert _run("refine-demo", "--measured", "film").exit_code == 2


def test_refine_demo_that_stops_early_says_so_with_exit_1(monkeypatch):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    res = _run("refine-demo", "--size", "small", "--max-evals", "2", env={"COLUMNS": "200"})
    assert res.exit_code == 1 and "OFF" in res.output
