"""Output files and stdout like the C: float64 runs reproduce the C's int and noise images byte for byte."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import GOLDEN_DIR


@pytest.mark.parametrize("case", ["at014_noise_seed123", "at014_noise_seed456", "feat_water_noise"])
def test_noise_and_int_images_byte_identical_float64(tmp_path, case):
    for item in (GOLDEN_DIR / case).iterdir():
        shutil.copy2(item, tmp_path)
    args = (tmp_path / "args.txt").read_text().split()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-m", "simcore", "-floatfile", "py_float.bin", "-intfile", "py_int.img",
                           "-noisefile", "py_noise.img", *args, "-dtype", "float64"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "py_float.bin").read_bytes() == (tmp_path / "float.bin").read_bytes()
    assert (tmp_path / "py_int.img").read_bytes() == (tmp_path / "int.img").read_bytes()
    assert (tmp_path / "py_noise.img").read_bytes() == (tmp_path / "noise.img").read_bytes()
    c_lines = (tmp_path / "stdout.txt").read_text().splitlines()
    for key in ("photons on noise image", "mean=", "intfile_scale", "max_I ="):
        c_line = next(x for x in c_lines if key in x)
        assert c_line in proc.stdout.splitlines(), key


@pytest.mark.xfail(strict=True, reason=(
    "float32 (default) images differ from the C's float image in the last bits (max rel err 4e-4 on the "
    "golden set), so Poisson draws and a few int-image roundings differ: measured on at014_noise_seed123, "
    "11453/65536 noise pixels (max |d| 1055 counts) and 88/65536 int pixels (max |d| 1). Byte identity "
    "holds in float64 (test above). Fix-plan item NOISE-F32-001."))
def test_noise_and_int_images_byte_identical_float32(tmp_path):
    case = "at014_noise_seed123"
    for item in (GOLDEN_DIR / case).iterdir():
        shutil.copy2(item, tmp_path)
    args = (tmp_path / "args.txt").read_text().split()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-m", "simcore", "-floatfile", "py_float.bin", "-intfile", "py_int.img",
                           "-noisefile", "py_noise.img", *args], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "py_noise.img").read_bytes() == (tmp_path / "noise.img").read_bytes()
    assert (tmp_path / "py_int.img").read_bytes() == (tmp_path / "int.img").read_bytes()
