"""Runner plumbing of nb-compare: which arguments are files, isolation, resolution, preflight.

parity/ports/argfiles.py and parity/ports/process.py, with fake runners (a Python
script standing in for nanoBragg, tests/data/compare/fake_nanobragg.py).
"""
from __future__ import annotations

import json
import sys

import pytest

from parity.errors import ParityInputError
from parity.ports.argfiles import file_flag_kind, input_files, isolate_args
from parity.ports.process import (preflight, resolve_c_runner, resolve_py_runner,
                                              run_isolated)
from conftest import make_fake




# ---- which tokens name files (the C's strstr rules) -----------------------------------------
@pytest.mark.parametrize("token, kind", [
    ("-hkl", "input"), ("-mat", "input"), ("-matrix", "input"), ("-sourcefile", "input"), ("-img", "input"),
    ("-mask", "input"), ("-stol", "input"), ("-4stol", "input"), ("-Q", "input"), ("-stolout", "output"),
    ("-floatfile", "float"), ("-floatimage", "float"), ("-intfile", "output"), ("-noiseimage", "output"),
    ("-pgmfile", "output"), ("-dump", "dump"), ("-default_F", None), ("-N", None), ("100", None),
    ("-nonoise", None), ("-pgmscale", None),
])
def test_file_flag_kind(token, kind):
    assert file_flag_kind(token) == kind


def test_isolate_copies_inputs_and_replaces_floatfile(tmp_path):
    src, run_dir = tmp_path / "src", tmp_path / "run"
    src.mkdir(), run_dir.mkdir()
    (src / "P1.hkl").write_text("0 0 1 100\n")
    (src / "A.mat").write_text("matrix\n")
    args = ["-hkl", "P1.hkl", "-matrix", "A.mat", "-floatfile", "elsewhere/else.bin", "-N", "5",
            "-intfile", "out/int.img"]
    iso = isolate_args(args, run_dir=run_dir, base=src, float_name="mine.bin")
    assert iso.argv == ["-hkl", "P1.hkl", "-matrix", "A.mat", "-floatfile", "mine.bin", "-N", "5",
                        "-intfile", "int.img"]
    assert (run_dir / "P1.hkl").read_text() == "0 0 1 100\n" and (run_dir / "A.mat").is_file()
    assert iso.copied == {"P1.hkl": src / "P1.hkl", "A.mat": src / "A.mat"}
    assert args[5] == "elsewhere/else.bin"          # the caller's list is not modified


def test_isolate_appends_floatfile_and_renames_clashing_inputs(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "run").mkdir()
    (tmp_path / "a" / "F.hkl").write_text("a")
    (tmp_path / "b" / "F.hkl").write_text("b")
    iso = isolate_args(["-hkl", "a/F.hkl", "-sourcefile", str(tmp_path / "b" / "F.hkl")],
                       run_dir=tmp_path / "run", base=tmp_path)
    assert iso.argv[-2:] == ["-floatfile", "float.bin"]
    assert iso.argv[1] == "F.hkl" and iso.argv[3] == "in2_F.hkl"
    assert (tmp_path / "run" / "in2_F.hkl").read_text() == "b"


def test_missing_input_file_is_input_error(tmp_path):
    with pytest.raises(ParityInputError, match="-hkl nothere.hkl: no such file"):
        input_files(["-hkl", "nothere.hkl", "-N", "5"], base=tmp_path)
    with pytest.raises(ParityInputError) as info:
        isolate_args(["-mat", "gone.mat"], run_dir=tmp_path, base=tmp_path)
    assert info.value.exit_code == 5


def test_dump_file_counts_as_input_only_when_present(tmp_path):
    assert input_files(["-dump", "F.bin"], base=tmp_path) == []
    (tmp_path / "F.bin").write_text("x")
    assert input_files(["-dump", "F.bin"], base=tmp_path) == [tmp_path / "F.bin"]


# ---- resolution and preflight ---------------------------------------------------------------
def test_c_runner_resolution_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NB_C_BIN", raising=False)
    assert resolve_c_runner().executable == tmp_path / "nanoBragg"
    monkeypatch.setenv("NB_C_BIN", str(tmp_path / "env_c"))
    assert resolve_c_runner().executable == tmp_path / "env_c"
    assert resolve_c_runner(tmp_path / "flag_c").executable == tmp_path / "flag_c"
    assert resolve_c_runner(tmp_path / "flag_c").source == "--c-bin"


def test_py_runner_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv("NB_PY_BIN", raising=False)
    default = resolve_py_runner(dtype="float64")
    assert default.command == (sys.executable, "-m", "simcore")
    assert default.extra_args == ("-dtype", "float64")
    monkeypatch.setenv("NB_PY_BIN", str(tmp_path / "env_py"))
    assert resolve_py_runner().executable == tmp_path / "env_py" and resolve_py_runner().extra_args == ()
    assert resolve_py_runner(tmp_path / "flag_py").executable == tmp_path / "flag_py"


def test_preflight_records_sha256_and_refuses_bad_binaries(tmp_path):
    good = make_fake(tmp_path, "nb")
    runner = preflight(resolve_c_runner(good))
    assert runner.sha256 is not None and len(runner.sha256) == 64
    with pytest.raises(ParityInputError, match="not found"):
        preflight(resolve_c_runner(tmp_path / "absent"))
    plain = tmp_path / "plain"
    plain.write_text("not executable")
    with pytest.raises(ParityInputError, match="not executable"):
        preflight(resolve_c_runner(plain))
    with pytest.raises(ParityInputError, match="not a file"):
        preflight(resolve_c_runner(tmp_path))


# ---- isolated runs ----------------------------------------------------------------------------
def test_runs_never_share_a_directory(tmp_path):
    """A runner that writes Fdump.bin and refuses to start when one is present succeeds twice."""
    fake = preflight(resolve_c_runner(make_fake(tmp_path, "nb", write_files=["Fdump.bin"],
                                                fail_if_present=["Fdump.bin"])))
    for n in (1, 2):
        result = run_isolated(fake, ["-detpixels", "8"], base=tmp_path, float_dest=tmp_path / f"f{n}.bin")
        assert result.ok, result.stderr
        assert result.float_path.stat().st_size == 8 * 8 * 4
    assert not (tmp_path / "Fdump.bin").exists()


def test_run_isolated_reports_failure_and_timeout(tmp_path):
    failing = preflight(resolve_c_runner(make_fake(tmp_path, "bad", exit=3, stderr="boom")))
    result = run_isolated(failing, ["-N", "1"], base=tmp_path, float_dest=tmp_path / "x.bin")
    assert (result.returncode, result.ok, result.float_path) == (3, False, None)
    assert "boom" in result.stderr
    sleeper = tmp_path / "sleeper"
    sleeper.write_text(f"#!{sys.executable}\nimport time; time.sleep(30)\n")
    sleeper.chmod(0o755)
    slow = preflight(resolve_c_runner(sleeper))
    result = run_isolated(slow, ["-N", "1"], base=tmp_path, float_dest=tmp_path / "y.bin", timeout_s=0.5)
    assert result.timed_out and not result.ok and "timeout" in result.stderr


def test_run_isolated_gives_inputs_by_local_name(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "my.hkl").write_text("1 2 3 4\n")
    record = tmp_path / "record.json"
    fake = preflight(resolve_c_runner(make_fake(tmp_path, "nb", record=str(record))))
    result = run_isolated(fake, ["-hkl", "in/my.hkl", "-detpixels", "4"], base=tmp_path,
                          float_dest=tmp_path / "f.bin")
    seen = json.loads(record.read_text())
    assert result.ok
    assert seen["inputs"]["-hkl"] == {"name": "my.hkl", "exists": True, "text": "1 2 3 4\n"}
    assert seen["argv"][-2:] == ["-floatfile", "float.bin"]


@pytest.mark.parametrize("name", ["parity.ports.argfiles", "parity.compare.images", "parity.compare.outdir"])
def test_doctests(name):
    import doctest
    import importlib

    import numpy as np

    result = doctest.testmod(importlib.import_module(name), extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
