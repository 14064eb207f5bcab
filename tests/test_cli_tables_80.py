"""Tables stay readable at 80 columns (cli/tables.py): with ``COLUMNS=80`` no line of the main table-printing
commands is longer than 80 and no header or cell is squeezed to an ellipsis; the ids a reader needs are whole."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.app import app
from conftest import GOLDEN_DIR, make_fake

RUNNER = CliRunner()
CUBIC = GOLDEN_DIR / "at012_simple_cubic" / "float.bin"
ARGS = "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 3 -distance 100 -detpixels 32 -pixel 0.1"


def at_80(*args, env=None):
    result = RUNNER.invoke(app, [str(a) for a in args], env={"COLUMNS": "80", **(env or {})})
    assert "Traceback" not in result.output, result.output
    lines = result.stdout.splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long, "\n".join(too_long)
    squeezed = [line for line in lines if "…" in line]
    assert not squeezed, "\n".join(squeezed)
    assert any(line.startswith(("┏", "┃")) or "┃" in line for line in lines) or args[:2] == ("port", "list"), \
        result.stdout     # a table was printed (port list prints plain lines)
    return result


def test_matrix_list_and_run(monkeypatch):
    monkeypatch.delenv("NB_C_BIN", raising=False)
    listed = at_80("matrix", "list", "-k", "at001_det64,feat_divergence_dispersion,perf-")
    assert listed.exit_code == 0 and "feat_divergence_dispersion" in listed.stdout and "perf-hires-4096" in listed.stdout
    ran = at_80("matrix", "run", "-k", "at001_det64")
    assert ran.exit_code == 0 and "at001_det64" in ran.stdout and "at001_det64: NB_C_BIN not set" in ran.stdout


def test_report_list(tmp_path):
    from parity.evidence.bundle import open_bundle

    for slug in ("a-rather-long-slug-for-an-eighty-column-window", "short"):
        with open_bundle(kind="compare", slug=slug, reports_root=tmp_path, argv=["pwb", "x"]) as b:
            b.add_metrics({"worst_golden_abs_sum_ratio_dev": 1.5617e-06, "correlation": 0.999999806,
                           "a_very_long_metric_name_that_cannot_break_anywhere_at_all": 3}, headline=True)
            b.set_status("passed")
    result = at_80("report", "list", "--reports-root", tmp_path)
    assert result.exit_code == 0
    assert "a-rather-long-slug-for-an-eighty-column-window" in result.stdout and "correlation=0.999999806" in \
        result.stdout


def test_port_list(tmp_path):
    result = at_80("port", "list", "--workspace", tmp_path)
    assert result.exit_code == 0 and "simcore" in result.stdout


def test_fuzz_summary(tmp_path):
    c, cand = make_fake(tmp_path, "c"), make_fake(tmp_path, "cand", scale=1.5)
    result = at_80("fuzz", "--n", 2, "--seed", 5, "--c-bin", c, "--cand-cmd", cand, "--max-work", 20000,
                   "--max-side", 24, "--shrink-budget", 0)
    assert result.exit_code == 1 and "s5-0000" in result.stdout and "failures and errors (2)" in result.stdout


def test_bench_summary(tmp_path):
    result = at_80("bench", "--args", ARGS, "--repeat", 1, "--c-bin", make_fake(tmp_path, "nanoBragg"))
    assert result.exit_code == 0 and "Mpix/s" in result.stdout and "simcore s" in result.stdout


@pytest.mark.parametrize("command", ["metrics", "peaks", "pick"])
def test_metrics_peaks_and_pick(command):
    result = at_80(command, CUBIC, CUBIC)
    assert result.exit_code == 0


def test_trace_diff():
    traces = sorted((GOLDEN_DIR / "at001_det64").glob("trace_*.txt"))
    result = at_80("trace-diff", traces[0], traces[1])
    assert result.exit_code == 1 and "first divergence" in result.stdout
