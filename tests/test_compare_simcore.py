"""nb-compare with the real simcore (``python -m simcore``) as the Python side.

* Without a C binary: a fake C that copies a golden case's float.bin, so simcore is judged against
  the real C image through the whole dual-runner path (input files copied into simcore's temp dir).
* With ``NB_C_BIN`` (skipped without it; CI has no C binary): a handful of golden cases through the
  real C program, asserting correlation >= 0.99999 and every contract file.
"""
from __future__ import annotations

import json
import os
import shlex
import sys

import pytest
import typer
from typer.testing import CliRunner

from cli import compare as compare_cli
from conftest import GOLDEN_DIR, make_fake

RUNNER = CliRunner()
CONTRACT_FILES = {"c_stdout.txt", "c_stderr.txt", "py_stdout.txt", "py_stderr.txt", "c_float.bin",
                  "py_float.bin", "c.png", "py.png", "summary.json", "diff.bin", "diff.png"}



@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    compare_cli.register(app)
    app.command("noop")(lambda: None)
    return app


@pytest.fixture(autouse=True)
def _default_python_runner(monkeypatch):
    monkeypatch.delenv("NB_PY_BIN", raising=False)


@pytest.mark.parametrize("case", ["at001_det64", "at027_nonuniform_hkl"])
def test_real_simcore_against_a_golden_image(app, tmp_path, monkeypatch, case):
    """ARGS given literally (input files relative to the cwd, here the golden folder)."""
    monkeypatch.chdir(GOLDEN_DIR / case)
    fake_c = make_fake(tmp_path, "fake_c", image="copy", copy_from=str(GOLDEN_DIR / case / "float.bin"))
    args = shlex.split((GOLDEN_DIR / case / "args.txt").read_text())
    out = tmp_path / "out"
    result = RUNNER.invoke(app, ["compare", "--outdir", str(out), "--c-bin", str(fake_c), "--save-diff",
                                 "--threshold", "0.99999", "--", *args])
    assert result.exit_code == 0, result.output
    s = json.loads((out / "summary.json").read_text())
    assert s["correlation"] >= 0.99999 and abs(s["sum_ratio"] - 1) < 1e-4
    assert s["binaries"]["py"]["command"][1:] == ["-m", "simcore"] and s["dtype"] == "float32"
    assert CONTRACT_FILES <= set(s["files"])
    if case == "at027_nonuniform_hkl":
        assert [i["path"] for i in s["inputs"]] == [f"tests/golden_data/{case}/test_pattern.hkl"]
    assert not any(p.name == "Fdump.bin" for p in (GOLDEN_DIR / case).iterdir())


def test_real_simcore_tiny_detector_against_itself(app, tmp_path):
    """--py-bin default vs a C stand-in that is simcore too: identical images, correlation 1."""
    shim = tmp_path / "simcore_as_c"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m simcore \"$@\"\n")
    shim.chmod(0o755)
    out = tmp_path / "out"
    args = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-lambda", "6.2", "-N", "3",
            "-distance", "100", "-detpixels", "32", "-pixel", "0.1"]
    result = RUNNER.invoke(app, ["compare", "--outdir", str(out), "--c-bin", str(shim), "--", *args])
    assert result.exit_code == 0, result.output
    s = json.loads((out / "summary.json").read_text())
    assert s["max_abs_diff"] == 0.0 and s["shape_c"] == [32, 32]


# ---- the real C program (NB_C_BIN) -------------------------------------------------------------------
C_CASES = ["at001_det64", "at027_nonuniform_hkl", "feat_sourcefile3", "feat_mat_triclinic", "c_mask_img_roi"]


@pytest.mark.needs_c
@pytest.mark.skipif(not os.environ.get("NB_C_BIN"), reason="needs the nanoBragg C binary via NB_C_BIN")
@pytest.mark.parametrize("case", C_CASES)
def test_real_c_vs_simcore_on_golden_cases(app, tmp_path, case):
    out = tmp_path / "out"
    result = RUNNER.invoke(app, ["compare", "--case", case, "--outdir", str(out), "--save-diff",
                                 "--threshold", "0.99999"])
    assert result.exit_code == 0, result.output
    s = json.loads((out / "summary.json").read_text())
    assert s["correlation"] >= 0.99999 and s["case"] == case
    assert CONTRACT_FILES <= {p.name for p in out.iterdir()}
    assert s["binaries"]["c"]["source"] == "NB_C_BIN" and len(s["binaries"]["c"]["sha256"]) == 64
