"""config-diff for any port: configuration printouts in other words (built-in table, a dialect's
config: rules) against the C's real printout."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tracekit import config_diff_files, read_trace
from tracekit.config import parse_any_config
from tracekit.config_words import builtin_rules, compile_rules, read_words
from tracekit.consistency import check_consistency
from tracekit.errors import TraceUsageError

PORT_SAYS = """theirport 0.3
Convention: MOSFLM
Pivot: BEAM
Beam center (mm): 25.6, 25.6
Distance (mm): 100
Wavelength (A): 1.0
Detector: 256x256
Pixel size (mm): 0.1
Oversample: 2
Steps: 4
N cells: 5x5x5
Default F: 100
"""


@pytest.fixture
def c_stdout(golden_dir):
    return golden_dir / "at004_mosflm" / "stdout.txt"


def test_builtin_words_in_the_c_units():
    cfg = read_words(PORT_SAYS.splitlines(), builtin_rules())
    assert cfg == {"convention": "mosflm", "detector_pivot": "beam", "Xbeam_m": 0.0256, "Ybeam_m": 0.0256,
                   "distance_m": 0.1, "lambda0_m": 1e-10, "fpixels": 256, "spixels": 256, "pixel_m": 0.0001,
                   "oversample": 2, "steps": 4, "Na": 5, "Nb": 5, "Nc": 5, "default_F": 100.0}


def test_port_printout_against_the_c(c_stdout, tmp_path):
    port = tmp_path / "port.txt"
    port.write_text(PORT_SAYS)
    result = config_diff_files(c_stdout, port)
    assert result.ok and not result.strict and result.n_compared == 14
    assert "steps" in result.only_in_cand and "fluence_photons_per_m2" in result.only_in_ref
    assert result.words == {"cand": sorted(read_words(PORT_SAYS.splitlines(), builtin_rules()))}
    port.write_text(PORT_SAYS.replace("Pivot: BEAM", "Pivot: SAMPLE").replace("Oversample: 2", "Oversample: 1"))
    result = config_diff_files(c_stdout, port)
    assert not result.ok and {r.key for r in result.differences} == {"detector_pivot", "oversample"}


def test_dialect_config_rules(c_stdout, tmp_path):
    port = tmp_path / "port.txt"
    port.write_text("TRACE_TORCH: Det dist = 100.0 mm\nTRACE_TORCH: lambda[A]=1.0\nPivot: BEAM\n")
    dialect = tmp_path / "d.yaml"
    dialect.write_text("prefixes: [TRACE_TORCH]\nconfig:\n  'Det dist = {N} mm': {key: distance_m, scale: 1.0e-3}\n"
                       "  'lambda\\[A\\]\\s*=\\s*{N}': {key: lambda0_m, scale: 1.0e-10}\n")
    result = config_diff_files(c_stdout, port, dialect=dialect)
    assert result.ok and {r.key for r in result.rows} == {"distance_m", "lambda0_m", "detector_pivot"}
    assert config_diff_files(c_stdout, port).n_compared == 1          # without the dialect: only Pivot
    with pytest.raises(TraceUsageError, match="group"):
        compile_rules([{"re": "Det (x) (y)", "key": "distance_m"}], "d.yaml")
    with pytest.raises(TraceUsageError, match="bad regex"):
        compile_rules([{"re": "Det (", "key": "distance_m"}], "d.yaml")


def test_cli_config_diff_any_port(c_stdout, tmp_path):
    from cli.app import app

    runner = CliRunner()
    port = tmp_path / "port.txt"
    port.write_text(PORT_SAYS)
    out = tmp_path / "c.json"
    res = runner.invoke(app, ["config-diff", str(c_stdout), str(port), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "own words" in res.stdout
    data = json.loads(out.read_text())
    assert data["strict"] is False and data["ok"] is True and data["n_compared"] == 14
    port.write_text(PORT_SAYS.replace("Distance (mm): 100", "Distance (mm): 50"))
    res = runner.invoke(app, ["config-diff", str(c_stdout), str(port)])
    assert res.exit_code == 1 and "distance_m" in res.stdout
    bad = tmp_path / "d.yaml"
    bad.write_text("config:\n  'Det (': distance_m\n")
    res = runner.invoke(app, ["config-diff", str(c_stdout), str(port), "--dialect", str(bad)])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    nothing = tmp_path / "none.txt"
    nothing.write_text("hello\n")
    assert runner.invoke(app, ["config-diff", str(c_stdout), str(nothing)]).exit_code == 5


def test_a_port_trace_with_its_config_in_words_feeds_the_lattice_check(golden_dir):
    """N from 'N cells: 5x5x5' before the port's block: the lattice-factor check uses it."""
    import tracekit_foreign as fx

    lines = (golden_dir / "at004_mosflm" / "trace_246_246.txt").read_text().splitlines()
    port = PORT_SAYS.splitlines() + fx.reprefix(fx.pixel_lines(lines), "TRACE_PY")
    trace = read_trace(port)
    assert trace.config["Na"] == 5 and parse_any_config(PORT_SAYS)[1]["Na"] == "words"
    cons = check_consistency(trace, config=trace.config)
    assert cons.ok and any(c.name == "lattice_factors" for c in cons.checks)
    wrong = read_trace([ln.replace("N cells: 5x5x5", "N cells: 7x5x5") for ln in port])
    bad = check_consistency(wrong, config=wrong.config)
    assert {c.name for c in bad.failing} == {"lattice_factors"} and "Na=7" in bad.summary()
