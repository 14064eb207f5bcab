"""`pwb trace-diff` and `pwb config-diff` through typer's CliRunner: exit codes, JSON, errors."""
from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from cli import trace_diff as cmd

TRACE = ("at004_mosflm", "trace_246_246.txt")


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    cmd.register(app)
    return app


@pytest.fixture
def run(app):
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def ref_path(golden_dir):
    return golden_dir / TRACE[0] / TRACE[1]


def _mutated(ref_path, tmp_path, old: str, new: str):
    path = tmp_path / "cand.txt"
    text = ref_path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_trace_diff_self_exit_0(run, ref_path):
    res = run("trace-diff", ref_path, ref_path)
    assert res.exit_code == 0, res.output
    assert "no divergence" in res.stdout and res.stderr == ""


def test_trace_diff_divergence_exit_1_and_json(run, ref_path, tmp_path):
    """A single edited tap makes the candidate contradict itself: not live, trace_inconsistent
    (contract change of issue #11); without the consistency checks, the value hint (m -> A)."""
    cand = _mutated(ref_path, tmp_path, "TRACE_C: lambda_meters 1e-10", "TRACE_C: lambda_meters 1")
    out = tmp_path / "diff.json"
    res = run("trace-diff", ref_path, cand, "--json", out)
    assert res.exit_code == 1, res.output
    assert "not the live computation" in res.stdout and "lambda_meters" in res.stdout
    data = json.loads(out.read_text())
    assert {"n_compared", "n_divergent", "first_divergence", "taps", "only_in_ref", "only_in_cand", "compared",
            "reference_total", "not_compared", "skipped_lines", "consistency", "closure", "live"} <= set(data)
    assert data["live"] is False and data["closure"] is None
    assert "lambda_meters" in data["consistency"]["disagreeing"] and not data["consistency"]["ok"]
    first = data["first_divergence"]
    assert first["tap"] == "lambda_meters" and first["hint"]["class"] == "trace_inconsistent"
    assert set(first["hint"]) == {"class", "text", "check"}
    out2 = tmp_path / "diff2.json"
    assert run("trace-diff", ref_path, cand, "--no-consistency", "--json", out2).exit_code == 1
    first = json.loads(out2.read_text())["first_divergence"]
    assert first["index"] == {"layer": 0, "sub_s": 0, "sub_f": 0, "source": 0}
    assert first["ref"] == [1e-10] and first["cand"] == [1.0] and "m -> A" in first["hint"]["text"]
    assert first["hint"]["class"] == "unit_power_of_ten"
    assert data["n_divergent"] == 4 and len(data["taps"]) > data["n_compared"] - 1
    res = run("trace-diff", ref_path, cand, "--json", out)       # never overwritten silently
    assert res.exit_code == 2 and "overwrite" in res.stderr


def test_trace_diff_all_and_pixel_mm(run, ref_path, tmp_path):
    cand = _mutated(ref_path, tmp_path, "TRACE_C: F_cell 100", "TRACE_C: F_cell 101")
    short = run("trace-diff", ref_path, cand)
    full = run("trace-diff", ref_path, cand, "--all")
    assert short.exit_code == full.exit_code == 1
    assert "R_total" in full.stdout and "R_total" not in short.stdout
    assert run("trace-diff", ref_path, cand, "--pixel-mm", "0.172").exit_code == 1
    bad = run("trace-diff", ref_path, cand, "--pixel-mm", "-1")
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_trace_diff_tolerances_file(run, ref_path, tmp_path):
    cand = _mutated(ref_path, tmp_path, "TRACE_C: F_cell 100", "TRACE_C: F_cell 101")
    rules = tmp_path / "tol.yaml"
    rules.write_text("rules:\n  - {tap: F_cell, rel: 0.05}\n")
    assert run("trace-diff", ref_path, cand, "--tolerances", rules, "--no-consistency").exit_code == 0
    rules.write_text("rules:\n  - {tap: F_cell, mode: sometimes}\n")
    res = run("trace-diff", ref_path, cand, "--tolerances", rules)
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [b"", b"\x00\xff\x00garbage" * 100, None])
def test_trace_diff_unreadable_exit_5(run, ref_path, tmp_path, content):
    bad = tmp_path / "bad.txt"
    if content is None:   # truncated: the pixel block is never closed by group E
        text = ref_path.read_text(encoding="utf-8")
        bad.write_text(text[: text.index("TRACE_C: I_before_scaling")], encoding="utf-8")
    else:
        bad.write_bytes(content)
    res = run("trace-diff", ref_path, bad)
    assert res.exit_code == 5
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pwb trace-diff: ") and "Traceback" not in res.output


def test_trace_diff_missing_file_exit_5(run, ref_path, tmp_path):
    res = run("trace-diff", ref_path, tmp_path / "nope.txt")
    assert res.exit_code == 5 and len(res.stderr.strip().splitlines()) == 1


def test_config_diff_exit_codes(run, golden_dir, tmp_path):
    stdout = golden_dir / "at004_mosflm" / "stdout.txt"
    assert run("config-diff", stdout, stdout).exit_code == 0
    edited = tmp_path / "edited.txt"
    edited.write_text(stdout.read_text().replace("around direct beam spot", "around sample"))
    out = tmp_path / "c.json"
    res = run("config-diff", stdout, edited, "--json", out)
    assert res.exit_code == 1 and "detector_pivot" in res.stdout
    assert [d["key"] for d in json.loads(out.read_text())["differences"]] == ["detector_pivot"]
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    res = run("config-diff", stdout, empty)
    assert res.exit_code == 5 and len(res.stderr.strip().splitlines()) == 1


def test_trace_diff_dialect_and_dtype_options(run, ref_path, tmp_path):
    text = ref_path.read_text(encoding="utf-8").replace("TRACE_C: ", "TRACE_TORCH: ")
    cand = tmp_path / "torch.txt"
    cand.write_text(text.replace("TRACE_TORCH: F_cell ", "TRACE_TORCH: F_cell_interp "), encoding="utf-8")
    dialect = tmp_path / "torch.yaml"
    dialect.write_text("name: torchport\nprefixes: [TRACE_TORCH]\naliases: {F_cell_interp: F_cell}\n")
    res = run("trace-diff", ref_path, cand, "--dialect", dialect, "--dtype", "float32")
    assert res.exit_code == 0, res.output
    assert "float32 tolerances" in res.stdout
    bad = run("trace-diff", ref_path, cand, "--dtype", "float16")
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1
    dialect.write_text("prefixes: [TRACE_TORCH]\naliases: {F_cell_interp: no_such_tap}\n")
    bad = run("trace-diff", ref_path, cand, "--dialect", dialect)
    assert bad.exit_code == 2 and "no_such_tap" in bad.stderr
    assert run("trace-diff", ref_path, ref_path, "--ref-dialect", tmp_path / "missing.yaml").exit_code == 5
