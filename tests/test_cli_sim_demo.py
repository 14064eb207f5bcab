"""`pwb sim` and `pwb demo` through Typer's CliRunner."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()


def test_pwb_sim_runs_and_maps_exit_codes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ok = runner.invoke(app, ["sim", "--", "-default_F", "10", "-cell", "50", "50", "50", "90", "90", "90",
                             "-detpixels", "8", "-floatfile", "o.bin", "-nonoise", "-nopgm"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "o.bin").stat().st_size == 8 * 8 * 4
    bad = runner.invoke(app, ["sim", "--", "-nonsense"])
    assert bad.exit_code == 2


def test_pwb_demo_writes_a_passing_bundle(tmp_path):
    res = runner.invoke(app, ["demo", "--reports-root", str(tmp_path)])
    assert res.exit_code == 0, res.output
    bundles = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(bundles) == 1 and not bundles[0].name.endswith(".partial")
    manifest = json.loads((bundles[0] / "bundle.json").read_text())
    assert manifest["status"] == "passed"
    assert manifest["metrics"]["feat_mosaic_dom5-float32.passed"] is True
    assert (bundles[0] / "feat_mosaic_dom5" / "overlay.png").stat().st_size > 10_000
