"""nb-compare / pwb compare with fake runners: every exit code of the contract and every output file.

Contract (docs/nb-compare.md): 0 success · 1 usage error · 2 a runner failed · 3 correlation below
--threshold · 4 shape mismatch without --resample · 5 I/O or parse error. The fakes are
tests/data/compare/fake_nanobragg.py copied into tmp_path (a spot image, a shifted spot, a failure...).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from cli import compare as compare_cli
from parity.evidence import provenance
from parity.quirks.registry import classify
from conftest import make_fake

RUNNER = CliRunner()
ARGS = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "32"]
CONTRACT_FILES = {"c_stdout.txt", "c_stderr.txt", "py_stdout.txt", "py_stderr.txt", "c_float.bin",
                  "py_float.bin", "c.png", "py.png", "summary.json"}
SUMMARY_KEYS = {"args", "binaries", "roi", "resample", "runtime_c_ms", "runtime_py_ms", "correlation", "mse",
                "rmse", "max_abs_diff", "sum_c", "sum_py", "sum_ratio", "peaks", "peak_matched_fraction",
                "peak_median_dist_px", "peak_max_dist_px", "png_scale_method", "png_scale_percentile",
                "git_sha", "git_dirty", "versions", "device", "dtype"}



@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    compare_cli.register(app)
    app.command("noop")(lambda: None)     # a second command, so `compare` is a sub-command as in pwb
    return app


@pytest.fixture
def fakes(tmp_path):
    def build(c: dict | None = None, py: dict | None = None) -> list[str]:
        return ["--c-bin", str(make_fake(tmp_path, "fake_c", **(c or {}))),
                "--py-bin", str(make_fake(tmp_path, "fake_py", **(py or {})))]
    return build


def compare(app, *options, args=ARGS):
    return RUNNER.invoke(app, ["compare", *[str(o) for o in options], "--", *args], env={"COLUMNS": "200"})


def summary_of(outdir: Path) -> dict:
    return json.loads((outdir / "summary.json").read_text())


def png_size(path: Path) -> tuple[int, int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth = struct.unpack(">IIB", data[16:25])
    return width, height, depth


# ---- 0: success ---------------------------------------------------------------------------------
def test_success_writes_every_contract_file(app, fakes, tmp_path):
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, *fakes())
    assert result.exit_code == 0, result.output
    assert re.search(r"^C runtime: \d+\.\d{3} s$", result.stdout, re.M)
    assert re.search(r"^Py runtime: \d+\.\d{3} s$", result.stdout, re.M)
    assert result.stdout.strip().splitlines()[-1].startswith("nb-compare: PASS")
    assert CONTRACT_FILES <= {p.name for p in out.iterdir()}
    s = summary_of(out)
    assert SUMMARY_KEYS <= set(s)
    assert s["status"] == "passed" and s["args"] == ARGS and s["correlation"] > 0.999999
    assert s["sum_ratio"] == pytest.approx(1.0) and s["max_abs_diff"] == 0.0
    assert s["binaries"]["c"]["sha256"] == hashlib.sha256((tmp_path / "fake_c").read_bytes()).hexdigest()
    assert "inclusive" in s["roi"]["convention"] and s["roi"]["xmin_xmax_ymin_ymax"] == [0, 31, 0, 31]
    assert s["png_scale_percentile"] == 99.5 and s["peaks"]["n_matched"] == s["peaks"]["n_ref"] >= 1
    assert s["resample"] is False and "diff.bin" not in s["files"]
    assert png_size(out / "c.png") == (32, 32, 8)
    c = np.fromfile(out / "c_float.bin", "<f4")
    assert c.size == 32 * 32 and c.max() > 90


def test_both_runners_get_the_same_args_and_only_py_gets_dtype(app, tmp_path):
    out = tmp_path / "out"
    rec_c, rec_py = tmp_path / "c.json", tmp_path / "py.json"
    result = compare(app, "--outdir", out, "--dtype", "float64",
                     "--c-bin", make_fake(tmp_path, "fake_c", record=str(rec_c)),
                     "--py-bin", make_fake(tmp_path, "fake_py", record=str(rec_py)))
    assert result.exit_code == 0, result.output
    c_argv, py_argv = json.loads(rec_c.read_text())["argv"], json.loads(rec_py.read_text())["argv"]
    assert c_argv == ARGS + ["-floatfile", "float.bin"]
    assert py_argv == c_argv + ["-dtype", "float64"]
    s = summary_of(out)
    assert (s["argv_c"], s["argv_py"], s["dtype"]) == (c_argv, py_argv, "float64")


def test_save_diff_roi_and_png_scale(app, fakes, tmp_path):
    """py = 2 c: every file is written; the gates fail on the sum and the relative error, not on the
    correlation (contract change of issue #11: this exited 0 when correlation was the only gate)."""
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, "--save-diff", "--roi", 8, 23, 4, 27, "--png-scale", 90,
                     *fakes(py={"scale": 2.0}))
    assert result.exit_code == 3, result.output
    c = np.fromfile(out / "c_float.bin", "<f4")
    diff = np.fromfile(out / "diff.bin", "<f4")
    np.testing.assert_allclose(diff, c, rtol=1e-6)          # py = 2 c, so py - c = c
    s = summary_of(out)
    assert s["roi"]["xmin_xmax_ymin_ymax"] == [8, 23, 4, 27] and s["n_pixels"] == 16 * 24
    assert s["sum_ratio"] == pytest.approx(2.0) and s["png_scale_percentile"] == 90
    assert [g["name"] for g in s["gates"] if not g["passed"]] == ["sum_ratio", "max_rel_err"]
    roi_c = c.reshape(32, 32)[4:28, 8:24].ravel()
    union = np.concatenate([roi_c, 2 * roi_c]).astype(np.float64)
    assert s["png_scale_value"] == pytest.approx(np.percentile(union, 90))
    assert png_size(out / "diff.png") == (32, 32, 8)


# ---- 2: a runner failed -------------------------------------------------------------------------
@pytest.mark.parametrize("side", ["c", "py"])
def test_runner_failure_exits_2_and_keeps_both_stderr_files(app, fakes, tmp_path, side):
    out = tmp_path / "out"
    bad = {"exit": 3, "stderr": f"boom from {side}"}
    result = compare(app, "--outdir", out, *fakes(**{side: bad}))
    assert result.exit_code == 2, result.output
    assert f"boom from {side}" in (out / f"{side}_stderr.txt").read_text()
    assert (out / "c_stderr.txt").is_file() and (out / "py_stderr.txt").is_file()
    s = summary_of(out)
    assert s["status"] == "runner_failed" and s[f"exit_code_{side}"] == 3 and s["correlation"] is None
    assert "exited with code 3" in result.stderr


# ---- 3: below threshold -------------------------------------------------------------------------
def test_low_correlation_exits_3_with_files_kept(app, fakes, tmp_path):
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, "--threshold", "0.9", *fakes(py={"image": "spot_shifted"}))
    assert result.exit_code == 3, result.output
    s = summary_of(out)
    assert s["status"] == "below_threshold" and s["correlation"] < 0.9
    assert CONTRACT_FILES <= set(s["files"]) and (out / "py.png").is_file()


def test_constant_image_correlation_na_is_not_a_pass(app, fakes, tmp_path):
    result = compare(app, "--outdir", tmp_path / "out", *fakes(c={"image": "zeros"}))
    assert result.exit_code == 3, result.output
    assert summary_of(tmp_path / "out")["correlation"] == "n/a"


# ---- 4: shape mismatch; --resample ----------------------------------------------------------------
def test_wrong_shape_exits_4(app, fakes, tmp_path):
    out = tmp_path / "out"
    result = compare(app, "--outdir", out, *fakes(c={"shape": [16, 16]}))
    assert result.exit_code == 4, result.output
    s = summary_of(out)
    assert (s["status"], s["shape_c"], s["shape_py"]) == ("shape_mismatch", [16, 16], [32, 32])
    assert (out / "c_float.bin").stat().st_size == 16 * 16 * 4


def test_resample_compares_on_the_c_shape(app, fakes, tmp_path):
    out = tmp_path / "out"
    # the same 16 x 16 pattern, enlarged to 32 x 32 on the Python side: equal again after resampling
    result = compare(app, "--outdir", out, "--resample", *fakes(c={"shape": [16, 16], "image": "grid16"},
                                                                py={"image": "grid16"}))
    assert result.exit_code == 0, result.output
    s = summary_of(out)
    assert s["resampled"] is True and "nearest neighbour" in s["resample_note"]
    assert s["n_pixels"] == 16 * 16 and png_size(out / "py.png") == (16, 16, 8) and s["max_abs_diff"] == 0.0


# ---- 5: I/O or parse errors ---------------------------------------------------------------------
def test_missing_binary_exits_5_before_anything_is_written(app, fakes, tmp_path):
    out = tmp_path / "out"
    options = fakes()
    options[1] = str(tmp_path / "no_such_nanoBragg")
    result = compare(app, "--outdir", out, *options)
    assert result.exit_code == 5, result.output
    assert "not found" in result.stderr and "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("args, fragment", [
    (ARGS + ["-hkl", "missing.hkl"], "-hkl missing.hkl"),
    (["-default_F", "100", "-detpixels", "abc"], "cannot parse ARGS"),
])
def test_unreadable_input_or_unparseable_args_exit_5(app, fakes, tmp_path, args, fragment):
    result = compare(app, "--outdir", tmp_path / "out", *fakes(), args=args)
    assert result.exit_code == 5, result.output
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ---- 1: usage errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("options, args", [
    (["--bogus"], ARGS),
    ([], []),
    (["--threshold", "2"], ARGS),
    (["--png-scale", "0"], ARGS),
    (["--roi", "0", "40", "0", "10"], ARGS),
    (["--roi", "0", "10", "0"], ARGS),
    (["--dtype", "float16"], ARGS),
    (["--case", "at001_det64"], ARGS),
    (["--case", "no_such_run"], []),
])
def test_usage_errors_exit_1(app, fakes, tmp_path, options, args):
    result = compare(app, "--outdir", tmp_path / "out", *fakes(), *options, args=args)
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "out").exists()


def test_non_empty_outdir_is_refused(app, fakes, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    result = compare(app, "--outdir", out, *fakes())
    assert result.exit_code == 1 and "not an empty directory" in result.stderr
    assert (out / "summary.json").read_text() == "{}"


# ---- default output folder ----------------------------------------------------------------------
def test_default_outdir_is_stamped_hashed_and_never_reused(app, fakes, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(provenance, "utc_now", lambda: dt.datetime(2025, 10, 10, 5, 37, 11, tzinfo=dt.timezone.utc))
    options = fakes()
    for _ in range(2):
        assert compare(app, *options).exit_code == 0
    names = sorted(p.name for p in (tmp_path / "comparisons").iterdir())
    digest = hashlib.sha256(" ".join(ARGS).encode()).hexdigest()[:8]
    assert names == [f"20251010-053711-{digest}", f"20251010-053711-{digest}-2"]


# ---- bundle -----------------------------------------------------------------------------------------
def test_bundle_holds_small_images_metrics_and_known_divergences(app, fakes, tmp_path):
    reports = tmp_path / "reports"
    (tmp_path / "F.hkl").write_text("0 0 1 100\n")
    args = ARGS[:-1] + ["300", "-hkl", str(tmp_path / "F.hkl")]
    options = fakes()
    refused = compare(app, "--outdir", tmp_path / "out", "--threshold", "7", "--bundle", "--reports-root", reports,
                      *options, args=args)
    assert refused.exit_code == 1 and not reports.exists()          # usage errors leave no bundle
    result = compare(app, "--outdir", tmp_path / "out", "--slug", "cmp-test", "--reports-root", reports, *options,
                     args=args)
    assert result.exit_code == 0, result.output
    (bundle,) = [p for p in reports.iterdir() if p.is_dir()]   # (+ index.html, refreshed on publish)
    assert str(tmp_path) not in (bundle / "summary.json").read_text()
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["kind"] == "nb-compare" and manifest["status"] == "passed"
    assert manifest["exit_codes"]["nb-compare"] == 0 and manifest["metrics"]["correlation"] > 0.999999
    expected_kds = [m.id for m in classify(args)]
    assert expected_kds and [k["id"] for k in manifest["known_divergences"]] == expected_kds
    assert "KD-STALE-FDUMP" not in expected_kds                       # -hkl given
    assert manifest["provenance"]["inputs"][0]["path"] == "external:F.hkl"
    names = {a["name"] for a in manifest["artifacts"]}
    assert {"c.npy", "py.npy", "summary.json", "c_stderr.txt", "c_preview.png"} <= names
    assert "c_float.bin" not in names
    assert np.load(bundle / "c.npy").size <= 256 * 256


# ---- the console entry point --------------------------------------------------------------------
def test_main_usage_error_is_one_line_exit_1(capsys):
    with pytest.raises(SystemExit) as info:
        compare_cli.main(["--no-such-option", "--", "-N", "1"])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nb-compare:")


def test_main_runs_and_returns_the_contract_code(fakes, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        compare_cli.main(["--outdir", str(tmp_path / "out"), *fakes(py={"image": "spot_shifted"}), "--", *ARGS])
    assert info.value.code == 3
    assert "FAIL (below_threshold)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        compare_cli.main(["--help"])
    assert info.value.code == 0
