"""-mask / -img header ingestion and -roi against a C-made case (tests/c_cases/c_mask_img_roi)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from parity.ports.inprocess import run_case_dir

CASE = Path(__file__).parent / "c_cases" / "c_mask_img_roi"


def test_case_files_are_pinned():
    for line in (CASE / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        if name != "SHA256SUMS":
            assert hashlib.sha256((CASE / name).read_bytes()).hexdigest() == digest, name


def test_mask_zeroes_masked_pixels_and_img_header_wins():
    run = run_case_dir(CASE, (CASE / "args.txt").read_text().split(), dtype="float32")
    masked = np.fromfile(CASE / "mask.img", "<u2", offset=512).reshape(48, 64) == 0
    assert not run.image[masked].any()
    assert run.config["distance_m"] == pytest.approx(0.09) and run.config["lambda0_m"] == pytest.approx(1.1e-10)


def test_float64_outputs_byte_identical(tmp_path):
    for item in CASE.iterdir():
        shutil.copy2(item, tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    args = (CASE / "args.txt").read_text().split()
    proc = subprocess.run([sys.executable, "-m", "simcore", "-floatfile", "pf.bin", "-intfile", "pi.img",
                           "-noisefile", "pn.img", *args, "-dtype", "float64"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for ours, theirs in (("pf.bin", "float.bin"), ("pi.img", "int.img"), ("pn.img", "noise.img")):
        assert (tmp_path / ours).read_bytes() == (tmp_path / theirs).read_bytes(), ours


def test_missing_mask_file_is_one_line_exit_5(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-m", "simcore", "-default_F", "1", "-cell", "50", "50", "50", "90", "90",
                           "90", "-mask", "nope.img"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 5 and len(proc.stderr.strip().splitlines()) == 1 and "nope.img" in proc.stderr
