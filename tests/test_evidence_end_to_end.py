"""Issue #6 end to end: nb-compare --bundle → pwb fixplan attempt (twice) → pwb fixplan render.

The C side is the fake runner copying a golden float.bin; the Python side is the real simcore.
The rendered docs/fix_plan.md must carry the bundle's metrics and git SHA (the workspace's: a tmp
git repository, the cwd), and the two attempts must be #1 and #2.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.compare import main as nb_compare_main
from conftest import make_fake, make_git_workspace

CASE = Path(__file__).parent / "golden_data" / "at001_det64"


def test_nb_compare_bundle_feeds_two_attempts(tmp_path, monkeypatch):
    fake = make_fake(tmp_path, "nanoBragg", image="copy", copy_from=str(CASE / "float.bin"))
    reports, plans = tmp_path / "reports", tmp_path / "plans"
    workspace_sha = make_git_workspace(tmp_path)
    monkeypatch.delenv("PWB_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    args = (CASE / "args.txt").read_text().split()
    with pytest.raises(SystemExit) as done:
        nb_compare_main(["--c-bin", str(fake), "--outdir", str(tmp_path / "out"), "--bundle", "--slug", "e2e",
                         "--reports-root", str(reports), "--", *args])
    assert done.value.code in (0, None)
    (bundle,) = [p for p in reports.iterdir() if p.is_dir()]
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["status"] == "passed" and manifest["metrics"]["correlation"] >= 0.99999
    ports = {p["side"]: p for p in manifest["provenance"]["ports"]}          # who ran, on both sides
    assert ports["ref"]["name"] == "c" and ports["cand"]["name"] == "simcore"
    assert ports["ref"]["executable"]["sha256"] == hashlib.sha256(fake.read_bytes()).hexdigest()
    assert ports["cand"]["script"]["module"] == "simcore" and ports["cand"]["workbench_code"] is True
    summary = json.loads((bundle / "summary.json").read_text())
    assert summary["provenance"]["ports"] == manifest["provenance"]["ports"]

    runner = CliRunner()
    ok = runner.invoke(app, ["fixplan", "item", "add", "E2E-001", "--title", "end to end", "--plans-root", str(plans)])
    assert ok.exit_code == 0, ok.output
    for note in ("first", "second"):
        res = runner.invoke(app, ["fixplan", "attempt", "E2E-001", "--bundle", bundle.name, "--result", "success",
                                  "--note", note, "--plans-root", str(plans), "--reports-root", str(reports)])
        assert res.exit_code == 0, res.output
    out = tmp_path / "fix_plan.md"
    res = runner.invoke(app, ["fixplan", "render", "--out", str(out), "--plans-root", str(plans)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "Attempt #1" in text and "Attempt #2" in text and text.count("Attempt #1") == 1
    sha = manifest["provenance"]["git"]["sha"]
    assert sha == workspace_sha and sha[:12] in text
    assert "correlation" in text and bundle.name in text
