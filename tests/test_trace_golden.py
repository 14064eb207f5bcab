"""The trace loop end to end: `pwb trace` on golden cases diffs clean against the real C traces."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.app import app
from parity.matrix.cases import find_run

runner = CliRunner()

# (run, slow, fast): oversampling, phi steps, mosaic, sources + SOURCE2, layers, sample pivot,
# interpolation switch-off, a non-square shape, a custom convention
PIXELS = [("at004_mosflm", 247, 247), ("feat_phistep", 132, 140), ("feat_mosaic_dom5", 249, 200),
          ("feat_divergence_dispersion", 27, 129), ("feat_detector_abs", None, None),
          ("at005_xds_orgx", None, None), ("feat_interp_auto_switchoff", None, None),
          ("feat_round_xtal", None, None), ("feat_conv_custom", None, None)]


def _pixel(run, s, f):
    if s is not None:
        return s, f
    from parity.matrix.trace_sweep import traced_pixels

    return traced_pixels(run)[0]


@pytest.mark.parametrize("run_id,s,f", PIXELS)
def test_pwb_trace_then_trace_diff_is_clean(tmp_path, monkeypatch, run_id, s, f):
    run = find_run(run_id)
    s, f = _pixel(run, s, f)
    out = tmp_path / "py.txt"
    monkeypatch.chdir(run.golden_dir)  # input files (hkl, mat, sources) by bare name, as the C ran
    res = runner.invoke(app, ["trace", "--pixel", str(s), str(f), "--out", str(out), "--", *run.args])
    assert res.exit_code == 0, res.output
    diff = runner.invoke(app, ["trace-diff", str(run.golden_dir / f"trace_{s}_{f}.txt"), str(out)])
    assert diff.exit_code == 0, diff.output


def test_closure_and_config_diff(tmp_path, monkeypatch):
    run = find_run("at029_oversample2")
    monkeypatch.chdir(run.golden_dir)
    out = tmp_path / "py.txt"
    res = runner.invoke(app, ["trace", "--pixel", "179", "179", "--closure", "--out", str(out), "--", *run.args])
    assert res.exit_code == 0, res.output
    assert "closure: traced" in res.output and " ok" in res.output
    cfg = runner.invoke(app, ["config-diff", str(run.golden_dir / "trace_179_179.txt"), str(out)])
    assert cfg.exit_code == 0, cfg.output


def test_trace_sweep_counts_a_case():
    res = runner.invoke(app, ["trace-sweep", "-k", "at001_det64"])
    assert res.exit_code == 0, res.output
    assert "3/3 traced pixels clean" in res.output
