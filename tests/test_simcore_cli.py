"""`python -m simcore` on bad input: a one-line message and a documented exit code, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

BASE = ["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "16", "-nonoise",
        "-nopgm"]


def run_simcore(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(p) for p in sys.path if p]))
    return subprocess.run([sys.executable, "-m", "simcore", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def _one_line_error(proc, code, needle):
    assert proc.returncode == code, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert needle in lines[0]


@pytest.mark.parametrize("args,code,needle", [
    (BASE + ["-bogus_flag"], 2, "unknown flag -bogus_flag"),
    (BASE + ["-detector_twotheta", "5"], 2, "unknown flag -detector_twotheta"),
    (BASE + ["-distance"], 2, "flag -distance needs 1 value"),
    (BASE + ["-distance", "abc"], 2, "invalid number 'abc'"),
    (BASE + ["-N", "2.5"], 2, "expected an integer"),
    (BASE + ["stray"], 2, "unexpected argument 'stray'"),
    (["-default_F", "100", "-detpixels", "16"], 2, "no crystal"),
    (["-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "16"], 2, "-default_F"),
    (BASE + ["-hkl", "missing.hkl"], 5, "missing.hkl"),
    (BASE + ["-floatfile", "no/such/dir/out.bin"], 6, "cannot write float output"),
    (BASE + ["-dtype", "float16"], 2, "-dtype"),
])
def test_bad_input_one_line(tmp_path, args, code, needle):
    _one_line_error(run_simcore(args, tmp_path), code, needle)


def test_unwritable_output_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if os.access(ro, os.W_OK):
        pytest.skip("running as a user who can write anywhere (root)")
    _one_line_error(run_simcore(BASE + ["-floatfile", str(ro / "f.bin")], tmp_path), 6, "permission denied")


def test_output_path_that_is_a_directory(tmp_path):
    (tmp_path / "adir").mkdir()
    _one_line_error(run_simcore(BASE + ["-floatfile", "adir"], tmp_path), 6, "is a directory")


def test_default_outputs_written_like_c(tmp_path):
    proc = run_simcore(["-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "16",
                        "-seed", "1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in tmp_path.iterdir()}
    assert {"floatimage.bin", "intimage.img", "image.pgm", "noiseimage.img"} <= names
    assert (tmp_path / "floatimage.bin").stat().st_size == 16 * 16 * 4
    assert "mosflm convention selected." in proc.stdout


def test_in_process_simulate_writes_only_named_files(tmp_path):
    import simcore

    image, config = simcore.simulate(BASE + ["-floatfile", "named.bin"], cwd=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["named.bin"]
    assert tuple(image.shape) == (16, 16) and config["convention"] == "MOSFLM"
