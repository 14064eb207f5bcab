"""``pwb matrix run|lint|list`` (cli/matrix.py, parity/matrix/run.py) with fake C binaries; no run is silently skipped.

Exit codes: run 0 all judged verdicts passed / 1 a verdict failed or errored / 2 no run matches
-k / 5 NB_C_BIN is not an executable file; lint 0 clean / 1 findings / 2 unknown --base.
"""
from __future__ import annotations

import json

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cli import matrix as matrix_cli
from conftest import GOLDEN_DIR, make_fake
from parity.matrix.cases import CASES_PATH, parse_cases
from parity.matrix.run import run_one
from parity.matrix.registry import REGISTRY_PATH, load_registry

RUNNER = CliRunner()
WIDE = {"COLUMNS": "220"}



@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    matrix_cli.register(app)
    return app


def invoke(app, *args, env=None):
    return RUNNER.invoke(app, ["matrix", *[str(a) for a in args]], env={**WIDE, **(env or {})})


def row(output: str, run_id: str) -> str:
    return next(line for line in output.splitlines() if f" {run_id} " in line)


# ---- run ----------------------------------------------------------------------------------------
def test_run_without_c_shows_not_run_and_a_golden_verdict(app, monkeypatch):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    result = invoke(app, "run", "-k", "at001_det64")
    assert result.exit_code == 0, result.output
    line = row(result.stdout, "at001_det64")
    assert "not run" in line and "pass" in line and "NB_C_BIN not set" in line
    assert "vs C live: not run 1" in result.stdout and "vs golden: pass 1" in result.stdout
    assert "NB_C_BIN is not set" in result.stderr


def test_run_with_a_c_that_matches_passes_both_columns(app, tmp_path):
    fake = make_fake(tmp_path, "c", image="copy", copy_from=str(GOLDEN_DIR / "at001_det64" / "float.bin"))
    result = invoke(app, "run", "-k", "at001_det64", env={"NB_C_BIN": str(fake)})
    assert result.exit_code == 0, result.output
    assert "vs C live: pass 1" in result.stdout


@pytest.mark.parametrize("cfg, verdict", [({"image": "noise"}, "fail"), ({"exit": 3, "stderr": "boom"}, "error")])
def test_run_with_a_bad_c_fails_the_matrix(app, tmp_path, cfg, verdict):
    fake = make_fake(tmp_path, "c", **cfg)
    result = invoke(app, "run", "-k", "at001_det64", env={"NB_C_BIN": str(fake)})
    assert result.exit_code == 1, result.output
    line = row(result.stdout, "at001_det64")
    assert verdict in line and "pass" in line           # golden still passes
    assert f"vs C live: {verdict} 1" in result.stdout and "matrix FAILED" in result.stdout


def test_run_refuses_a_missing_c_binary_and_unknown_patterns(app, tmp_path):
    result = invoke(app, "run", "-k", "at001_det64", env={"NB_C_BIN": str(tmp_path / "absent")})
    assert result.exit_code == 5 and "not found" in result.stderr
    result = invoke(app, "run", "-k", "no_such_case_anywhere")
    assert result.exit_code == 2 and "no matrix run matches" in result.stderr
    assert invoke(app, "run", "-k", "at001_det64", "--dtype", "float16").exit_code == 2


def test_run_writes_one_bundle_for_the_invocation(app, tmp_path, monkeypatch):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    reports = tmp_path / "reports"
    result = invoke(app, "run", "-k", "at001_det64,at025_maxpos_64", "--slug", "mx", "--reports-root", reports)
    assert result.exit_code == 0, result.output
    assert "pwb matrix run: [1/2] at0" in result.stderr and "pwb matrix run: [2/2] at0" in result.stderr  # plain lines
    (bundle,) = [p for p in reports.iterdir() if p.is_dir()]   # (+ index.html, refreshed on publish)
    assert bundle.name.split("-", 1)[1] == "mx"
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert (manifest["kind"], manifest["status"]) == ("matrix", "passed")
    assert manifest["metrics"]["runs"] == 2 and manifest["metrics"]["golden pass"] == 2
    assert manifest["command"]["config"]["runs"] == ["at001_det64", "at025_maxpos_64"]
    names = {a["name"] for a in manifest["artifacts"]}
    for run_id in ("at001_det64", "at025_maxpos_64"):
        assert {f"runs/{run_id}/simcore.npy", f"runs/{run_id}/golden_preview.png",
                f"runs/{run_id}/verdicts.json"} <= names
    verdicts = json.loads((bundle / "runs" / "at001_det64" / "verdicts.json").read_text())
    assert verdicts["live_reason"] == "NB_C_BIN not set" and verdicts["golden_metrics"]["correlation"] > 0.99999
    assert verdicts["run"]["args"][:2] == ["-default_F", "100"]
    rows = json.loads((bundle / "matrix_runs.json").read_text())["runs"]
    assert [r["run"] for r in rows] == ["at001_det64", "at025_maxpos_64"]
    summary = (bundle / "summary.md").read_text()
    assert "| at001_det64 |" in summary and "| at025_maxpos_64 |" in summary     # the table of all runs
    page = (bundle / "summary.html").read_text()
    assert "<td>at025_maxpos_64</td>" in page and 'src="runs/at025_maxpos_64/simcore_preview.png"' in page


def _tiny_run(args: str):
    doc = {"cases": [{"id": "T", "spec": "test", "threshold_class": "PERF-IMAGE", "base_args": args,
                      "runs": [{"name": "tiny", "extra_args": "-detpixels 16"}]}]}
    return parse_cases(doc, registry=load_registry())[0][0].runs[0]


def test_non_golden_run_without_c_is_not_judged_and_a_simcore_error_is_an_error():
    ok = run_one(_tiny_run("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 2 -distance 100"))
    assert (ok.live, ok.golden, ok.status, ok.failed) == ("not run", "n/a", "skipped", False)
    broken = run_one(_tiny_run("-default_F 100 -lambda 6.2"))       # no cell: simcore refuses
    assert broken.live == "error" and broken.failed and "simcore failed" in broken.live_reason


# ---- lint ---------------------------------------------------------------------------------------
def test_lint_real_files_clean(app):
    result = invoke(app, "lint")
    assert result.exit_code == 0, result.output
    assert "0 finding(s)" in result.stdout


def test_lint_loosened_copy_is_red(app, tmp_path):
    registry = yaml.safe_load(REGISTRY_PATH.read_text())
    registry["classes"]["GOLDEN-IMAGE"]["corr_min"] = 0.9999
    cases = yaml.safe_load(CASES_PATH.read_text())
    cases["cases"][0]["runs"][0]["thresholds"] = {"corr_min": 0.99}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(registry))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cases, sort_keys=False))
    result = invoke(app, "lint", "--registry", tmp_path / "r.yaml", "--cases", tmp_path / "c.yaml")
    assert result.exit_code == 1, result.output
    assert "FINDING:" in result.stdout and "looser" in result.stdout


def test_lint_unknown_base_revision_is_a_usage_error(app):
    result = invoke(app, "lint", "--base", "no-such-revision-xyz")
    if "git comparison skipped" in result.stderr:
        pytest.skip("not a git checkout")
    assert result.exit_code == 2 and "not a git revision" in result.stderr


# ---- list ---------------------------------------------------------------------------------------
def test_list_shows_runs_and_where_their_args_come_from(app):
    result = invoke(app, "list", "-k", "perf-,at001_det64")
    assert result.exit_code == 0, result.output
    for run_id in ("perf-spec-1024", "perf-hires-4096", "perf-heavy-512"):
        assert run_id in result.stdout
    assert "golden_data/at001_det64/args.txt" in result.stdout
    assert invoke(app, "list", "-k", "nothing-matches-this").exit_code == 2


def test_matrix_run_summary_bundle(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from cli.app import app

    monkeypatch.delenv("NB_C_BIN", raising=False)
    res = CliRunner().invoke(app, ["matrix", "run", "-k", "at001_det64", "--summary-bundle",
                                   "--reports-root", str(tmp_path)])
    assert res.exit_code == 0, res.output
    (bundle,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["status"] == "passed" and manifest["metrics"]["golden pass"] == 1
    rows = json.loads((bundle / "matrix_runs.json").read_text())["runs"]
    assert [r["run"] for r in rows] == ["at001_det64"] and rows[0]["live"] == "not run"

