"""``pwb sim``, ``pwb trace-diff`` and ``pwb config-diff`` take ``--bundle`` (issue #15): what ran and what it gave."""
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


def test_sim_bundle_records_stdout_the_image_and_the_config(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    args = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-N", "3", "-detpixels", "24",
            "-floatfile", "o.bin"]
    res = RUNNER.invoke(app, ["sim", "--slug", "mine", "--reports-root", str(tmp_path / "r"), "--", *args])
    assert res.exit_code == 0, res.output
    bundle, manifest = _only_bundle(tmp_path / "r")
    assert manifest["kind"] == "sim" and manifest["status"] == "done" and manifest["exit_codes"] == {"simcore": 0}
    assert manifest["command"]["config"]["args"] == args and manifest["metrics"]["shape"] == [24, 24]
    image = np.fromfile(tmp_path / "o.bin", dtype="<f4").reshape(24, 24)
    assert np.array_equal(np.load(bundle / "float.npy"), image)
    assert "writing o.bin as 576 4-byte floats" in (bundle / "stdout.txt").read_text()
    assert json.loads((bundle / "config.json").read_text()) and (bundle / "float_preview.png").is_file()
    bad = RUNNER.invoke(app, ["sim", "--bundle", "--reports-root", str(tmp_path / "bad"), "--", "-nosuchflag"])
    assert bad.exit_code == 2 and _only_bundle(tmp_path / "bad")[1]["status"] == "error"
