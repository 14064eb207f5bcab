"""Issue #13: the hostile commands the issue measured, each a one-line error and a documented exit
code (cli/exit_codes.py, simcore/errors.py), never a traceback, a hang or a replaced file.

Fast: tiny detectors (16²), in-process where possible; the nb-compare rows that run the C skip
without ``NB_C_BIN``.
"""
from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import simcore
from cli.app import app
from simcore.errors import SimcoreInputError, SimcoreUsageError

SMALL = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "2", "-distance", "100",
         "-detpixels", "16"]
QUIET = ["-nonoise", "-nopgm"]


def _simcore_main(argv, cwd, capsys, monkeypatch):
    import simcore.__main__ as entry

    monkeypatch.chdir(cwd)
    code = entry.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and "warning" not in ln]
    assert len(lines) == 1, err
    return lines[0]


HOSTILE_SIMCORE = [
    (["-trace_pixel", "500", "500"], 2, "-trace_pixel"),
    (["-distance", "0"], 2, "-distance"),
    (["-pixel", "0"], 2, "-pixel"),
    (["-lambda", "nan"], 2, "-lambda"),
    (["-distance", "nan"], 2, "-distance"),
    (["-cell", "nan", "100", "100", "90", "90", "90"], 2, "-cell"),
    (["-cell", "0", "0", "0", "90", "90", "90"], 2, "-cell"),
    (["-cell", "100", "100", "100", "180", "90", "90"], 2, "-cell"),
    (["-detpixels", "-5"], 2, "-detpixels"),
    (["-detpixels", "200000"], 2, "-max_memory_gb"),
    (["-detpixels", "64", "-max_memory_gb", "0.00001"], 2, "-max_memory_gb 1e-05"),
    (["-distance"], 2, "-distance"),
    (["-distance", "abc"], 2, "-distance"),
    (["-energy", "0"], 2, "-energy"),
    (["-oversample", "2147483648"], 2, "-oversample"),
    (["-misset_seed", "0", "-4stol", "nan"], 2, "-misset_seed"),     # the C reads it as -misset too (strstr)
    (["-Xbeam", "1e308"], 2, "-Xbeam"),                               # the C renders zeros; float overflow here
]


@pytest.mark.parametrize("extra,code,named", HOSTILE_SIMCORE, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_simcore_hostile_values(tmp_path, capsys, monkeypatch, extra, code, named):
    got, _out, err = _simcore_main(SMALL + QUIET + extra, tmp_path, capsys, monkeypatch)
    line = _one_line(err)
    assert got == code and named in line, line
    assert not (tmp_path / "intimage.img").exists()      # refused before any output


def test_simcore_device_cuda_without_cuda(tmp_path, capsys, monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    got, _out, err = _simcore_main(SMALL + QUIET + ["-device", "cuda"], tmp_path, capsys, monkeypatch)
    assert got == 2 and "CUDA is not available" in _one_line(err)


@pytest.mark.parametrize("numbers", ["nan nan nan\n" * 3, "0 0 0\n" * 3])
def test_mat_of_nans_or_zeros(tmp_path, numbers):
    (tmp_path / "A.mat").write_text(numbers)
    with pytest.raises(SimcoreInputError, match="-mat file") as info:
        simcore.simulate(["-mat", "A.mat", "-default_F", "1", "-detpixels", "8"], cwd=str(tmp_path))
    assert info.value.exit_code == 5


def test_simulate_raises_typed_errors_only():
    with pytest.raises(SimcoreUsageError) as info:
        simcore.simulate(SMALL + ["-distance", "0"])
    assert info.value.exit_code == 2 and "-distance" in str(info.value)


def test_last_resort_one_line_please_report(monkeypatch, capsys):
    from cli.errors import run_command

    boom = typer.Typer()

    @boom.command()
    def explode() -> None:
        raise RuntimeError("unforeseen\nsecond line")

    monkeypatch.delenv("PWB_TRACEBACK", raising=False)
    monkeypatch.delenv("SIMCORE_TRACEBACK", raising=False)
    code = run_command(typer.main.get_command(boom), prog="pwb", argv=[])
    err = capsys.readouterr().err
    assert code == 70 and "please report" in _one_line(err) and "RuntimeError: unforeseen" in err
    monkeypatch.setenv("PWB_TRACEBACK", "1")
    assert run_command(typer.main.get_command(boom), prog="pwb", argv=[]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_simcore_last_resort(monkeypatch, capsys, tmp_path):
    import simcore.__main__ as entry

    def broken(_argv):
        raise KeyError("bug")

    monkeypatch.setattr(entry, "_run", broken)
    monkeypatch.delenv("SIMCORE_TRACEBACK", raising=False)
    monkeypatch.delenv("PWB_TRACEBACK", raising=False)
    assert entry.main(SMALL) == 70
    assert "please report" in _one_line(capsys.readouterr().err)
    monkeypatch.setenv("SIMCORE_TRACEBACK", "1")
    assert entry.main(SMALL) == 70 and "Traceback" in capsys.readouterr().err


@pytest.fixture
def pwb():
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def _cli_line(res) -> str:
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return _one_line(res.stderr)


@pytest.mark.parametrize("cmd", [
    ["trace", "--pixel", "100", "100", "--"],
    ["trace", "--pixel", "-1", "-1", "--"],
    ["trace", "--pixel", "100", "100", "--closure", "--"],
    ["trace", "--pixel", "3", "3", "--", "-distance", "0"],
    ["trace", "--pixel", "3", "3", "--", "-detpixels", "200000"],
    ["sim", "--", "-distance", "0"],
    ["sim", "--", "-detpixels", "200000"],
    ["sim", "--", "-lambda", "nan"],
], ids=" ".join)
def test_pwb_hostile_runs_are_usage_errors(pwb, tmp_path, monkeypatch, cmd):
    monkeypatch.chdir(tmp_path)
    split = cmd.index("--") + 1
    res = pwb(*cmd[:split], *SMALL, *QUIET, *cmd[split:])
    line = _cli_line(res)
    assert res.exit_code == 2, line
    assert not (tmp_path / "intimage.img").exists()


@pytest.mark.parametrize("cmd", [["trace", "--pixel", "1", "1", "--slug", "../x"], ["trace", "--pixel", "1", "1",
                                 "--slug", " "], ["bench", "--slug", "../x", "--args", " ".join(SMALL)]], ids=" ".join)
def test_bad_slugs_are_usage_errors(pwb, tmp_path, cmd):
    res = pwb(*cmd, "--reports-root", tmp_path / "reports", *(["--"] + SMALL if cmd[0] == "trace" else []))
    assert res.exit_code == 2 and "slug" in _cli_line(res)


def test_reports_root_is_a_file(pwb, tmp_path):
    (tmp_path / "afile").write_text("x")
    res = pwb("trace", "--pixel", "1", "1", "--bundle", "--reports-root", tmp_path / "afile", "--", *SMALL)
    assert res.exit_code == 2 and "not a folder" in _cli_line(res)


@pytest.fixture
def images(tmp_path):
    a = tmp_path / "a.bin"
    np.zeros((16, 16), np.float32).tofile(a)
    return a


def test_unbalanced_quote_in_nb_args(pwb, images):
    res = pwb("metrics", images, images, "--nb-args", "-detpixels 16 'x")
    assert res.exit_code == 2 and "No closing quotation" in _cli_line(res)


@pytest.mark.parametrize("kind", ["fifo", "dir", "device"])
@pytest.mark.parametrize("cmd", ["trace-diff", "config-diff", "metrics"])
def test_non_regular_inputs_refused_without_reading(pwb, tmp_path, images, kind, cmd):
    if kind == "fifo":
        bad = tmp_path / "fifo"
        os.mkfifo(bad)              # reading it would block for ever: refused before open
    elif kind == "dir":
        bad = tmp_path / "d"
        bad.mkdir()
    else:
        bad = Path("/dev/zero")
    extra = ["--shape", "16", "16"] if cmd == "metrics" else []
    res = pwb(cmd, bad, images, *extra)
    line = _cli_line(res)
    assert res.exit_code == 5 and ("not a regular file" in line or "is a directory" in line), line


def test_metrics_json_force_writes_through_symlink_with_umask(pwb, tmp_path, images):
    target = tmp_path / "target.json"
    target.write_text("{}")
    os.chmod(target, 0o600)
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    assert pwb("metrics", images, images, "--shape", 16, 16, "--json", link).exit_code == 2   # no --force
    res = pwb("metrics", images, images, "--shape", 16, 16, "--json", link, "--force")
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and target.read_text() != "{}"              # written through the link
    assert stat.S_IMODE(target.stat().st_mode) == 0o600      # an existing file keeps its mode
    old = os.umask(0o027)
    try:
        assert pwb("metrics", images, images, "--shape", 16, 16, "--json", tmp_path / "new.json").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


def test_floatfile_outputs_like_fopen(tmp_path, capsys, monkeypatch):
    (tmp_path / "link.bin").symlink_to("real.bin")
    code, _o, err = _simcore_main(SMALL + QUIET + ["-floatfile", "link.bin"], tmp_path, capsys, monkeypatch)
    assert code == 0 and (tmp_path / "link.bin").is_symlink() and (tmp_path / "real.bin").stat().st_size == 1024
    os.mkfifo(tmp_path / "fifo")
    code, _o, err = _simcore_main(SMALL + QUIET + ["-floatfile", "fifo"], tmp_path, capsys, monkeypatch)
    assert code == 6 and "no reader" in _one_line(err) and stat.S_ISFIFO(os.stat(tmp_path / "fifo").st_mode)
    (tmp_path / "folder").mkdir()
    code, _o, err = _simcore_main(SMALL + QUIET + ["-floatfile", "folder"], tmp_path, capsys, monkeypatch)
    assert code == 6 and "directory" in _one_line(err)
    if os.path.exists("/dev/full"):
        code, _o, err = _simcore_main(SMALL + QUIET + ["-floatfile", "/dev/full"], tmp_path, capsys, monkeypatch)
        assert code == 6 and "No space left" in _one_line(err)
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)                  # never replaced


def test_hkl_twice_rewrites_fdump_like_c(tmp_path, capsys, monkeypatch):
    (tmp_path / "p.hkl").write_text("0 1 0 100\n1 0 0 20\n")
    for _ in range(2):
        code, _o, err = _simcore_main(SMALL[:6] + SMALL[8:] + QUIET + ["-hkl", "p.hkl"], tmp_path, capsys,
                                      monkeypatch)
        assert code == 0, err
    assert (tmp_path / "Fdump.bin").stat().st_size > 0


def _nb_compare(argv, capsys) -> tuple[int, str]:
    from cli.compare import main

    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    return info.value.code, capsys.readouterr().err


@pytest.fixture
def c_bin():
    path = os.environ.get("NB_C_BIN")
    if not path or not shutil.which(path):
        pytest.skip("NB_C_BIN not set (the live C)")
    return path


def test_nb_compare_refused_run_leaves_no_half_filled_outdir(tmp_path, capsys, monkeypatch, c_bin):
    monkeypatch.chdir(tmp_path)
    code, err = _nb_compare(["--outdir", tmp_path / "out", "--", *SMALL, "-detpixels", "200000"], capsys)
    assert code == 1 and "make the detector smaller" in _one_line(err) and not (tmp_path / "out").exists()
    code, err = _nb_compare(["--outdir", tmp_path / "out", "--", *SMALL, "-distance", "0"], capsys)
    assert "Traceback" not in err and code == 2            # the C renders zeros, simcore refuses: runner failed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]            # no .partial sibling left
    assert (tmp_path / "out" / "summary.json").is_file()


def test_nb_compare_interrupted_leaves_no_outdir(tmp_path, monkeypatch, c_bin):
    from parity.compare import run as compare_run

    def interrupted(plan, outdir):
        (outdir / "c_float.bin").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(compare_run, "_run_and_judge", interrupted)
    plan = compare_run.plan_compare(compare_run.CompareOptions(args=tuple(SMALL), outdir=tmp_path / "out"))
    with pytest.raises(KeyboardInterrupt):
        compare_run.execute_compare(plan, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_nb_compare_unbalanced_quote_is_usage(capsys):
    code, err = _nb_compare(["--c-bin", shutil.which("true"), "--py-cmd", f"{sys.executable} -m 'simcore", "--",
                             *SMALL], capsys)
    assert code == 1 and "closing quotation" in _one_line(err)


C_ACCEPTS = [["-N", "0"], ["-oversample", "0"], ["-oversample", "-1"], ["-distance", "-100"],
             ["-cell", "100", "0", "0", "90", "90", "90"], ["-cell", "100", "100", "100", "0", "0", "0"],
             ["-fudge", "0"], ["-phisteps", "0"], ["-mosaic_domains", "0"]]


@pytest.mark.parametrize("extra", C_ACCEPTS, ids=" ".join)
def test_values_the_c_accepts_are_reproduced(tmp_path, capsys, monkeypatch, c_bin, extra):
    """Where the C accepts an edge value with a finite image, simcore does what the C does (registry gates)."""
    import subprocess

    from parity.compare.gates import DEFAULT_CLASS, evaluate_gates, failed_gates
    from parity.images.metrics import compare_images
    from parity.thresholds import class_thresholds

    subprocess.run([c_bin, *SMALL, *extra, "-floatfile", "c.bin"], cwd=tmp_path, capture_output=True, timeout=120,
                   check=True)
    code, _out, err = _simcore_main(SMALL + QUIET + extra + ["-floatfile", "s.bin"], tmp_path, capsys, monkeypatch)
    assert code == 0, err
    ref, cand = (np.fromfile(tmp_path / name, np.float32).reshape(16, 16) for name in ("c.bin", "s.bin"))
    assert failed_gates(evaluate_gates(compare_images(ref, cand), class_thresholds(DEFAULT_CLASS))) == []


def test_tolerances_yaml_list_is_malformed_input(pwb, tmp_path):
    ref = Path(__file__).resolve().parent / "golden_data" / "at001_det128" / "trace_33_33.txt"
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    res = pwb("trace-diff", ref, ref, "--tolerances", tmp_path / "list.yaml")
    assert res.exit_code == 5 and "'rules' list" in _cli_line(res)
