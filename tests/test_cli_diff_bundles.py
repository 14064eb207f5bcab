"""``pwb trace-diff`` and ``pwb config-diff`` take ``--bundle`` (issue #15): the result, both files and the verdict."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.app import app
from conftest import GOLDEN_DIR

RUNNER = CliRunner()
CASE = GOLDEN_DIR / "at001_det64"


def _only_bundle(root):
    (bundle,) = [p for p in root.iterdir() if p.is_dir()]
    return bundle, json.loads((bundle / "bundle.json").read_text())


def test_trace_diff_bundle_records_the_divergence(tmp_path):
    a, b = sorted(CASE.glob("trace_*.txt"))[:2]
    res = RUNNER.invoke(app, ["trace-diff", str(a), str(b), "--slug", "td", "--reports-root", str(tmp_path)])
    assert res.exit_code == 1, res.output
    bundle, manifest = _only_bundle(tmp_path)
    assert manifest["kind"] == "trace-diff" and manifest["status"] == "failed" and bundle.name.endswith("-td")
    assert manifest["metrics"]["divergent"] > 0 and manifest["metrics"]["first_divergence"]
    assert (bundle / f"ref_{a.name}").read_bytes() == a.read_bytes()
    assert json.loads((bundle / "trace_diff.json").read_text())["n_divergent"] == manifest["metrics"]["divergent"]
    same = RUNNER.invoke(app, ["trace-diff", str(a), str(a), "--bundle", "--reports-root", str(tmp_path / "same")])
    assert same.exit_code == 0 and _only_bundle(tmp_path / "same")[1]["status"] == "passed"


def test_config_diff_bundle(tmp_path):
    out = CASE / "stdout.txt"
    res = RUNNER.invoke(app, ["config-diff", str(out), str(out), "--bundle", "--reports-root", str(tmp_path)])
    assert res.exit_code == 0, res.output
    bundle, manifest = _only_bundle(tmp_path)
    assert manifest["kind"] == "config-diff" and manifest["status"] == "passed"
    assert manifest["metrics"]["different"] == 0 and manifest["metrics"]["compared"] > 5
    assert (bundle / "config_diff.json").is_file() and (bundle / "cand_stdout.txt").is_file()
