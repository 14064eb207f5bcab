"""CLI: `pwb peaks`, `pwb plateau`, `pwb pick`, `pwb metrics` via CliRunner on a fresh Typer app.

Exit codes (cli/exit_codes.py): 0 ok, 2 usage (bad option, ROI outside the image, output exists),
3 --min-match not met, 4 shape mismatch, 5 unreadable/malformed input (wrong byte count, NaN/Inf,
missing file). User errors give one stderr line and no traceback.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from cli import metrics as metrics_cli
from cli import peaks as peaks_cli
from cli import pick as pick_cli
from cli import plateau as plateau_cli
from conftest import GOLDEN_DIR

RUNNER = CliRunner()
CUBIC = GOLDEN_DIR / "at012_simple_cubic" / "float.bin"
NONSQUARE = GOLDEN_DIR / "feat_nonsquare_detector" / "float.bin"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    for module in (peaks_cli, plateau_cli, pick_cli, metrics_cli):
        module.register(app)
    return app


def run(app, *args):
    return RUNNER.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def rolled(tmp_path_factory):
    """The golden image rolled by one fast pixel, as a raw float32 file with the case's meta.json."""
    folder = tmp_path_factory.mktemp("rolled")
    image = np.fromfile(CUBIC, dtype="<f4").reshape(1024, 1024)
    np.roll(image, 1, axis=1).astype("<f4").tofile(folder / "float.bin")
    shutil.copy(GOLDEN_DIR / "at012_simple_cubic" / "meta.json", folder / "meta.json")
    return folder / "float.bin"


# ---- pwb peaks ----------------------------------------------------------------------------------
def test_peaks_self_writes_outputs(app, tmp_path):
    out = {k: tmp_path / f"p.{k}" for k in ("json", "csv", "png")}
    result = run(app, "peaks", CUBIC, CUBIC, "--json", out["json"], "--csv", out["csv"],
                 "--overlay", out["png"], "--min-match", "1.0", "--case", "at012_simple_cubic")
    assert result.exit_code == 0, result.output
    summary = json.loads(out["json"].read_text())
    assert summary["matched_fraction"] == 1.0 and summary["denominator"] == summary["n_ref"] > 0
    assert summary["min_match_met"] is True and summary["image_metrics"]["correlation"] == 1.0
    for key in ("n_cand", "n_matched", "median_dist_px", "p90_dist_px", "max_dist_px", "intensity_ratio_rms"):
        assert key in summary
    assert out["csv"].read_text().startswith("status,ref_index,cand_index")
    assert out["png"].stat().st_size > 50_000
    assert "matched fraction" in result.stdout


def test_peaks_min_match_not_met_exit_3_outputs_kept(app, tmp_path, rolled):
    path = tmp_path / "s.json"
    result = run(app, "peaks", CUBIC, rolled, "--gate", "0.5", "--min-match", "0.95", "--json", path)
    assert_one_line_error(result, 3, "below --min-match")
    summary = json.loads(path.read_text())
    assert summary["matched_fraction"] == 0.0 and summary["min_match_met"] is False
    ok = run(app, "peaks", CUBIC, rolled, "--gate", "1.5", "--min-match", "0.95")
    assert ok.exit_code == 0, ok.output


def test_peaks_roi_in_c_inclusive_form(app, tmp_path):
    path = tmp_path / "r.json"
    result = run(app, "peaks", CUBIC, CUBIC, "--roi", 400, 623, 400, 623, "--json", path)
    assert result.exit_code == 0, result.output
    summary = json.loads(path.read_text())
    assert summary["roi"]["slow_start"] == 400 and summary["roi"]["slow_stop"] == 624
    assert summary["n_ref"] == 9                              # the 3 x 3 bright spots around the centre


def test_peaks_roi_outside_image_exit_2(app):
    assert_one_line_error(run(app, "peaks", CUBIC, CUBIC, "--roi", 0, 1024, 0, 10), 2, "does not fit")


def test_peaks_wrong_byte_count_exit_5(app, tmp_path):
    raw = tmp_path / "img.bin"
    np.zeros((10, 12), "<f4").tofile(raw)
    assert_one_line_error(run(app, "peaks", raw, raw, "--shape", 10, 13), 5, "480 bytes, expected 520")


def test_peaks_unknown_shape_exit_5(app, tmp_path):
    raw = tmp_path / "img.bin"
    np.zeros((10, 12), "<f4").tofile(raw)
    assert_one_line_error(run(app, "peaks", raw, raw), 5, "unknown shape")
    assert run(app, "peaks", raw, raw, "--nb-args", "-detpixels_f 12 -detpixels_s 10").exit_code == 0


def test_peaks_nan_image_exit_5(app, tmp_path):
    raw = tmp_path / "nan.bin"
    np.full((1024, 1024), np.nan, "<f4").tofile(raw)
    assert_one_line_error(run(app, "peaks", CUBIC, raw, "--shape", 1024, 1024), 5, "NaN/Inf")


def test_peaks_missing_file_exit_5(app, tmp_path):
    assert_one_line_error(run(app, "peaks", CUBIC, tmp_path / "absent.bin"), 5, "no such file")


def test_peaks_shape_mismatch_exit_4(app):
    assert_one_line_error(run(app, "peaks", CUBIC, NONSQUARE), 4, "shape mismatch")


@pytest.mark.parametrize("args", [["--top", "0"], ["--gate", "-1"], ["--min-match", "1.5"],
                                  ["--percentile", "101"], ["--roi", "1", "2"], ["--shape", "5"]])
def test_peaks_bad_option_exit_2(app, args):
    assert run(app, "peaks", CUBIC, CUBIC, *args).exit_code == 2


def test_existing_output_needs_force(app, tmp_path):
    path = tmp_path / "s.json"
    path.write_text("keep")
    assert_one_line_error(run(app, "peaks", CUBIC, CUBIC, "--json", path), 2, "exists")
    assert path.read_text() == "keep"
    assert run(app, "peaks", CUBIC, CUBIC, "--json", path, "--force").exit_code == 0
    assert json.loads(path.read_text())["n_ref"] > 0


def test_peaks_shells_and_relerr(app, tmp_path):
    golden = np.fromfile(GOLDEN_DIR / "at029_oversample1" / "float.bin", "<f4").reshape(256, 256)
    from parity.images.shells import radial_shells

    cand = golden.copy()
    cand[radial_shells(golden.shape, 4).pixel_shells(golden.shape) == 3] *= np.float32(0.125)
    ref_path, cand_path = tmp_path / "ref.npy", tmp_path / "cand.npy"
    np.save(ref_path, golden)
    np.save(cand_path, cand)
    path = tmp_path / "s.json"
    result = run(app, "peaks", ref_path, cand_path, "--shells", 4, "--per-shell", 5, "--json", path)
    assert result.exit_code == 0, result.output
    rows = json.loads(path.read_text())["shells"]["per_shell"]
    assert [r["n_ref"] for r in rows] == [5] * 4 and rows[3]["median_intensity_ratio"] == 0.125
    assert "per shell" in result.stdout and "0.125" in result.stdout
    path2 = tmp_path / "r.json"
    assert run(app, "peaks", ref_path, cand_path, "--rank", "relerr", "--top", 5, "--json", path2).exit_code == 0
    assert json.loads(path2.read_text())["median_ratio_at_ref_pixel"] == 0.125
    assert_one_line_error(run(app, "peaks", ref_path, cand_path, "--rank", "worst"), 2, "rank must be one of")
    assert run(app, "peaks", ref_path, cand_path, "--shells", 0).exit_code == 2


# ---- pwb plateau --------------------------------------------------------------------------------
def test_plateau_outputs(app, tmp_path, rolled):
    paths = {k: tmp_path / f"pl.{k}" for k in ("json", "csv", "png")}
    result = run(app, "plateau", CUBIC, CUBIC, "--json", paths["json"], "--csv", paths["csv"],
                 "--png", paths["png"])
    assert result.exit_code == 0, result.output
    d = json.loads(paths["json"].read_text())
    assert d["n_unique_ref"] == d["n_unique_cand"] and d["unique_ratio"] == 1.0
    assert "brightest reference peak" in d["roi_source"] and "ROI used" in result.stdout
    assert paths["csv"].read_text().startswith("image,value,count")
    assert paths["png"].stat().st_size > 20_000


def test_plateau_given_roi_and_size(app, tmp_path):
    path = tmp_path / "a.json"
    assert run(app, "plateau", CUBIC, CUBIC, "--roi", 0, 9, 0, 4, "--json", path).exit_code == 0
    d = json.loads(path.read_text())
    assert d["roi_source"] == "given" and d["n_pixels"] == 50
    path2 = tmp_path / "b.json"
    assert run(app, "plateau", CUBIC, CUBIC, "--size", 8, "--json", path2).exit_code == 0
    assert json.loads(path2.read_text())["n_pixels"] == 64


def test_plateau_errors(app, tmp_path):
    assert_one_line_error(run(app, "plateau", CUBIC, CUBIC, "--roi", 1000, 1030, 0, 5), 2, "does not fit")
    assert_one_line_error(run(app, "plateau", CUBIC, tmp_path / "nope.bin"), 5, "no such file")
    assert run(app, "plateau", CUBIC, CUBIC, "--size", 0).exit_code == 2


# ---- pwb pick -----------------------------------------------------------------------------------
def test_pick_prints_slow_fast_lines(app, tmp_path, rolled):
    path = tmp_path / "pick.json"
    result = run(app, "pick", CUBIC, rolled, "--n", 2, "--json", path)
    assert result.exit_code == 0, result.output
    assert "pwb trace --pixel 512 512  # brightest_peak" in result.stdout
    d = json.loads(path.read_text())
    assert d["pixel_order"] == "slow fast"
    roles = {p["role"] for p in d["pixels"]}
    assert {"max_abs_diff", "max_rel_diff", "brightest_peak", "flank", "background"} <= roles


def test_pick_errors(app, tmp_path):
    assert run(app, "pick", CUBIC, CUBIC, "--n", 0).exit_code == 2
    assert_one_line_error(run(app, "pick", CUBIC, NONSQUARE), 4, "shape mismatch")


# ---- pwb metrics --------------------------------------------------------------------------------
def test_metrics_json_and_smv(app, tmp_path):
    path = tmp_path / "m.json"
    case = GOLDEN_DIR / "at014_noise_seed123"
    result = run(app, "metrics", case / "int.img", case / "noise.img", "--ssim", "--json", path)
    assert result.exit_code == 0, result.output
    d = json.loads(path.read_text())
    assert 0.99 < d["correlation"] < 1.0 and d["sum_ratio_definition"] == "cand_sum / ref_sum"
    assert isinstance(d["ssim"], float) and d["metrics_version"]


def test_metrics_not_available_is_shown(app, tmp_path):
    zeros = tmp_path / "z.npy"
    np.save(zeros, np.zeros((8, 8)))
    ones = tmp_path / "o.npy"
    np.save(ones, np.eye(8))
    result = run(app, "metrics", zeros, ones)
    assert result.exit_code == 0 and "reference sum is ~0" in result.stdout


def test_metrics_errors(app, tmp_path):
    bad = tmp_path / "inf.npy"
    image = np.ones((8, 8))
    image[3, 4] = np.inf
    np.save(bad, image)
    good = tmp_path / "good.npy"
    np.save(good, np.ones((8, 8)))
    assert_one_line_error(run(app, "metrics", good, bad), 5, "slow=3 fast=4")
    assert_one_line_error(run(app, "metrics", good, good, "--roi", 0, 8, 0, 7), 2, "does not fit")


# ---- 80-column terminals --------------------------------------------------------------------------
SMALL = GOLDEN_DIR / "at029_oversample1" / "float.bin"


@pytest.mark.parametrize("command, extra, whole", [
    ("metrics", [], ["correlation", "ref_argmax", "[78, 78]"]),
    ("peaks", ["--shells", "3", "--per-shell", "4"], ["slow [0, 256) fast [0, 256)", "at ref", "4 per shell, by brightness",
                                                     "│ 2     │ 118-180 │   4 │    4 │     4 │ 1.000 │"]),
    ("pick", ["--n", "2"], ["brightest_peak", "pwb trace --pixel 78 78  # brightest_peak"]),
    ("plateau", [], ["reference", "max equal"]),
])
def test_tables_stay_readable_at_80_columns(app, command, extra, whole):
    result = RUNNER.invoke(app, [command, str(SMALL), str(SMALL), *extra], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in result.stdout
    for text in whole:                                   # nothing that matters is cut or wrapped
        assert any(text in line for line in lines), (text, result.stdout)


def test_pick_reasons_stack_below_100_columns_and_join_the_table_above(app):
    narrow = RUNNER.invoke(app, ["pick", str(SMALL), str(SMALL)], env={"COLUMNS": "80"})
    wide = RUNNER.invoke(app, ["pick", str(SMALL), str(SMALL)], env={"COLUMNS": "160"})
    assert narrow.exit_code == wide.exit_code == 0
    assert "reason" not in narrow.stdout and "brightest_peak (78, 78): reference peak #1" in narrow.stdout
    assert "reason" in wide.stdout and max(len(line) for line in wide.stdout.splitlines()) > 80


def test_peaks_overlay_width_option(app, tmp_path):
    import matplotlib.image as mpimg

    small, default = tmp_path / "s.png", tmp_path / "d.png"
    assert run(app, "peaks", SMALL, SMALL, "--overlay", small, "--overlay-width", 300).exit_code == 0
    assert run(app, "peaks", SMALL, SMALL, "--overlay", default).exit_code == 0
    assert mpimg.imread(small).shape[1] < 1400 < mpimg.imread(default).shape[1]
    assert run(app, "peaks", SMALL, SMALL, "--overlay", tmp_path / "x.png", "--overlay-width", 50).exit_code == 2
