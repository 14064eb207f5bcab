"""``pwb fuzz`` (cli/fuzz.py) serially, with fake ports: the JSON table, the bundle, --add-cases, exit codes.

Exit codes: 0 every case passed, 1 a case failed or erred, 2 usage, 5 bad input (no C binary, a --json
file that exists).
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import fuzz as fuzz_cli
from conftest import make_fake, sub_app

RUNNER = CliRunner()
SMALL = ["--max-work", "20000", "--max-side", "24"]


@pytest.fixture(scope="module")
def app():
    return sub_app(fuzz_cli.register)


def invoke(app, *args):
    return RUNNER.invoke(app, ["fuzz", *[str(a) for a in args]], env={"COLUMNS": "200"})


def test_a_port_that_matches_the_c_passes_every_case(app, tmp_path):
    c = make_fake(tmp_path, "c")
    cand = make_fake(tmp_path, "cand")
    out = tmp_path / "campaign.json"
    result = invoke(app, "--n", 3, "--seed", 2, "--c-bin", c, "--cand-cmd", cand, "--json", out, *SMALL,
                    "--bundle", "--reports-root", tmp_path / "reports")
    assert result.exit_code == 0, result.output
    j = json.loads(out.read_text())
    assert (j["n_cases"], j["passed"], j["failed"], j["seed"], j["dtype"]) == (3, 3, 0, 2, "float32")
    for row in j["cases"]:
        assert [g["name"] for g in row["gates"]] == ["correlation", "sum_ratio", "max_rel_err", "brightest_pixel"]
        assert row["metrics"]["correlation"] == 1.0 and row["c_s"] > 0 and row["cand_s"] > 0
        assert row["args"] and row["minimal_args"] is None
    assert j["ports"]["candidate"]["kind"] == "command" and j["ports"]["candidate"]["extra_args"] == ["-dtype",
                                                                                                     "float32"]
    assert "fuzz OK: 3 cases: passed 3" in result.stdout
    [bundle] = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    assert json.loads((bundle / "campaign.json").read_text())["cases"] == j["cases"]
    assert "## Verdicts by feature" in (bundle / "campaign.md").read_text()
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["status"] == "passed" and manifest["metrics"]["n_cases"] == 3 and "n_cases" in manifest["headline"]


def test_a_port_that_differs_fails_and_its_cases_are_added(app, tmp_path):
    c = make_fake(tmp_path, "c")
    cand = make_fake(tmp_path, "cand", scale=1.5)
    cases = tmp_path / "matrix.yaml"
    out = tmp_path / "j.json"
    result = invoke(app, "--n", 2, "--seed", 5, "--c-bin", c, "--cand-cmd", cand, *SMALL, "--add-cases", cases,
                    "--shrink-budget", 12, "--json", out)
    assert result.exit_code == 1, result.output
    assert "gate 2 sum_ratio 1.5" in result.stdout and "fuzz FAILED" in result.stdout
    assert "added 2 case(s)" in result.stdout and "fuzz-s5-0000: CAMPAIGN-IMAGE" in result.stdout
    rows = json.loads(out.read_text())["cases"]
    for row in rows:       # the fake ports fail the same way whatever the flags: shrunk, the same failure kept
        assert row["minimal_args"] is not None and len(row["minimal_args"]) < len(row["args"]), row
        assert row["shrink"] and "shrank " + row["case_id"] in result.stderr
    text = cases.read_text()
    assert "fuzz-s5-0001" in text and "arguments minimal (shrunk)" in text


def test_a_c_that_does_not_run_is_an_error_not_a_failure(app, tmp_path):
    c = make_fake(tmp_path, "c", exit=3, stderr="boom")
    out = tmp_path / "j.json"
    result = invoke(app, "--n", 2, "--c-bin", c, "--cand-cmd", make_fake(tmp_path, "cand"), *SMALL, "--json", out,
                    "--shrink-budget", 0)
    assert result.exit_code == 1
    rows = json.loads(out.read_text())["cases"]
    assert [r["status"] for r in rows] == ["error", "error"] and "C exited 3: boom" in rows[0]["reason"]


@pytest.mark.parametrize("args, code, text", [
    (["--n", "0"], 2, "--n must be at least 1"),
    (["--max-work", "100"], 2, "--max-work must be at least 256"),
    (["--dtype", "float16"], 2, "--dtype must be float32 or float64"),
    (["--workers", "-1"], 2, "--workers must be 0"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], 2, "not both"),
    (["--registry", "x.yaml"], 2, "--registry goes with --add-cases"),
    (["--shrink-budget", "-1"], 2, "--shrink-budget must be 0"),
    (["--threshold-class", "NOPE"], 2, "not in the registry"),
    (["--cand", "simcore", "--cand-cmd", "x"], 2, "not both"),
])
def test_bad_options_are_usage_errors(app, tmp_path, args, code, text):
    result = invoke(app, "--c-bin", make_fake(tmp_path, "c"), *args)
    assert result.exit_code == code and text in result.stderr, result.output


def test_a_missing_c_or_an_existing_json_is_bad_input(app, tmp_path):
    result = invoke(app, "--c-bin", tmp_path / "nope")
    assert result.exit_code == 5 and "not found" in result.stderr
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    result = invoke(app, "--c-bin", make_fake(tmp_path, "c"), "--json", taken)
    assert result.exit_code == 5 and "exists already" in result.stderr and taken.read_text() == "{}"


def test_matrix_run_refuses_a_negative_worker_count():
    from cli import matrix as matrix_cli

    result = RUNNER.invoke(sub_app(matrix_cli.register), ["matrix", "run", "-k", "at001_det64", "--workers", "-1"])
    assert result.exit_code == 2 and "--workers must be 0" in result.stderr


def test_the_judge_calls_a_shared_overflow_degenerate_and_any_other_non_finite_pixel_a_failure():
    import numpy as np

    from parity.campaign.runner import judge_images
    from parity.thresholds import class_thresholds

    th = class_thresholds("CAMPAIGN-IMAGE")
    ref = np.arange(16, dtype=np.float32).reshape(4, 4)
    inf = ref.copy()
    inf[1, 2] = np.inf
    assert judge_images(ref, ref, th)["status"] == "pass"
    assert judge_images(inf, inf.copy(), th)["status"] == "degenerate"
    assert judge_images(inf, ref, th)["status"] == "fail"
    assert "non-finite candidate pixels" in judge_images(ref, inf, th)["reason"]
    assert judge_images(np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), th)["status"] == "degenerate"
    assert "shape" in judge_images(ref, ref[:2], th)["reason"]
