"""Issue #13 item 8: generated hostile inputs (Hypothesis), bounded for CI.

* argument lists drawn from simcore's flag table (the C's patterns and simcore's additions) with
  hostile values (NaN, inf, 0, negatives, huge, non-numbers, missing values), run in-process through
  ``python -m simcore``'s ``main`` and ``simcore.simulate``;
* hostile files (FIFO, folder, device, empty, truncated, garbage, binary, a dangling link) for every
  reader (traces, stdout configurations, dialects, tolerance rules, images, HKL, Fdump, SMV, -mat,
  source files) and through ``pwb trace-diff``, ``config-diff``, ``metrics``;
* ``pwb trace`` and ``nb-compare`` option values.

Each asserts a documented exit code (cli/exit_codes.py, simcore/errors.py), no traceback, and no hang
(SIGALRM per example). The counts are printed by the last test (``pytest -s``).
"""
from __future__ import annotations

import os
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.app import app
from simcore.argv.flags import C_PATTERNS, SIMCORE_FLAGS

GOLDEN = Path(__file__).resolve().parent / "golden_data"
# -oversample 1: a huge drawn crystal (-sample_z 4294967296) makes the C's automatic oversampling 3001-fold,
# 9e6 sub-pixels a pixel: valid work, as slow as in the C, not a hang (a drawn -oversample still wins)
BASE = ["-cell", "60", "60", "60", "90", "90", "90", "-default_F", "10", "-N", "1", "-detpixels", "8",
        "-oversample", "1", "-nonoise", "-nopgm"]
SKIP_FLAGS = {"-compile", "-threads"}          # would change this process (torch threads, compile caches)
HOSTILE = ["nan", "NaN", "inf", "-inf", "0", "-0", "-1", "-5", "1e308", "-1e308", "2147483648", "4294967296",
           "1e-320", "abc", "", "0x10", "1,2", "--", "-cell"]
SIMCORE_CODES = {0, 2, 5, 6}                  # ok, usage, bad input file, unwritable output
PWB_CODES = {0, 1, 2, 3, 4, 5, 6}             # cli/exit_codes.py (70 is a bug: never expected)
NB_COMPARE_CODES = {0, 1, 2, 3, 4, 5}
ALARM_S = 90
COUNTS = {"tried": 0, "tracebacks": 0, "hangs": 0}
FUZZ = settings(max_examples=int(os.environ.get("RELIAB_FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck))


class Hang(BaseException):
    """An example ran past ALARM_S (a BaseException, so no handler under test can swallow it)."""


@contextmanager
def bounded(what=""):
    def fire(_signum, _frame):
        COUNTS["hangs"] += 1
        raise Hang(f"no answer within {ALARM_S} s: {what}")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(ALARM_S)
    COUNTS["tried"] += 1
    t0 = time.monotonic()
    try:
        yield
    finally:
        signal.alarm(0)
        if os.environ.get("RELIAB_FUZZ_LOG"):
            with open(os.environ["RELIAB_FUZZ_LOG"], "a") as log:
                log.write(f"{time.monotonic() - t0:.2f} {what}\n")
        signal.signal(signal.SIGALRM, previous)


def _no_traceback(text: str) -> None:
    if "Traceback" in text:
        COUNTS["tracebacks"] += 1
        raise AssertionError(text)


def _flag_table() -> list[tuple[str, int]]:
    flags = {}
    for pat in C_PATTERNS:
        flags.setdefault(pat.text, 6 if pat.text == "-cell" else 3 if pat.nargs < 0 else pat.nargs)
    for flag, nargs in SIMCORE_FLAGS.items():
        flags.setdefault(flag, nargs)
    return sorted((f, n) for f, n in flags.items() if f not in SKIP_FLAGS)


FLAGS = _flag_table()


@st.composite
def hostile_argv(draw):
    """1-3 flags of the table, each with hostile values, the last value list maybe cut short."""
    argv: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        flag, nargs = draw(st.sampled_from(FLAGS))
        values = [draw(st.sampled_from(HOSTILE)) for _ in range(max(nargs, 0))]
        if values and draw(st.booleans()) and draw(st.booleans()):
            values = values[:draw(st.integers(0, len(values) - 1))]
        argv += [flag, *values]
    return argv


@FUZZ
@given(extra=hostile_argv())
def test_simcore_main_hostile_argv(extra, capsys):
    import simcore.__main__ as entry

    old = os.getcwd()
    with tempfile.TemporaryDirectory() as cwd, bounded(extra):
        os.chdir(cwd)
        try:
            code = entry.main(BASE + extra)
        finally:
            os.chdir(old)
    out, err = capsys.readouterr()
    _no_traceback(err + out)
    assert code in SIMCORE_CODES, (extra, code, err)
    if code:
        assert len([ln for ln in err.splitlines() if ln.strip() and "warning:" not in ln]) == 1, (extra, err)


@FUZZ
@given(extra=hostile_argv())
def test_simulate_hostile_argv(extra):
    import simcore
    from simcore.errors import SimcoreError

    with tempfile.TemporaryDirectory() as cwd, bounded(extra):
        try:
            simcore.simulate(BASE + extra, cwd=cwd)
        except SimcoreError as exc:
            assert exc.exit_code in {2, 5, 6}, (extra, exc)
            assert "\n" not in str(exc).strip(), (extra, str(exc))


# ---- hostile files --------------------------------------------------------------------------------
SEEDS = {
    "trace": GOLDEN / "at001_det128" / "trace_33_33.txt",
    "stdout": GOLDEN / "at001_det128" / "stdout.txt",
    "float": GOLDEN / "at001_det128" / "float.bin",
    "hkl": GOLDEN / "at012_simple_cubic" / "P1.hkl",
    "mat": GOLDEN / "at012_simple_cubic" / "A.mat",
    "smv": GOLDEN / "at014_noise_seed123" / "int.img",
}
KINDS = ["fifo", "dir", "device", "empty", "truncated", "garbage", "binary", "dangling", "text"]


@st.composite
def hostile_file(draw, seed: str):
    kind = draw(st.sampled_from(KINDS))
    data = b""
    if kind == "truncated":
        raw = SEEDS[seed].read_bytes()
        data = raw[:draw(st.integers(0, max(len(raw) - 1, 0)))]
    elif kind == "garbage":
        data = draw(st.binary(min_size=1, max_size=600))
    elif kind == "binary":
        data = b"\x00" * draw(st.integers(1, 2048))
    elif kind == "text":
        data = draw(st.text(alphabet="0123456789 .-+eE\nnaif{}=;#:_TRACE", max_size=300)).encode()
    return kind, data


def _materialise(folder: Path, kind: str, data: bytes, name: str) -> Path:
    path = folder / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "device":
        return Path("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(folder / "nowhere")
    else:
        path.write_bytes(data)
    return path


def _readers():
    from parity.images.io import read_image as parity_read_image
    from simcore.io.hkl import read_fdump, read_hkl
    from simcore.io.smv import read_smv
    from simcore.io.sourcefile import read_text_file
    from simcore.setup.crystal import read_mat_file
    from tracekit import load_dialect, load_rules, read_config, read_trace
    from tracekit.config import read_config_any
    from tracekit.consistency import read_image as trace_read_image

    return {
        "read_trace": ("trace", read_trace), "read_config": ("stdout", read_config),
        "read_config_any": ("stdout", read_config_any), "load_dialect": ("trace", load_dialect),
        "load_rules": ("trace", load_rules), "trace_image": ("float", lambda p: trace_read_image(p, (128, 128))),
        "parity_image": ("float", lambda p: parity_read_image(p, shape=(128, 128))),
        "read_hkl": ("hkl", read_hkl), "read_fdump": ("hkl", read_fdump), "read_smv": ("smv", read_smv),
        "read_mat_file": ("mat", lambda p: read_mat_file(str(p))), "read_text_file": ("hkl", read_text_file),
    }


READERS = sorted(_readers())


@FUZZ
@given(data=st.data(), reader=st.sampled_from(READERS))
def test_every_reader_refuses_hostile_files(data, reader):
    seed, read = _readers()[reader]
    kind, payload = data.draw(hostile_file(seed))
    with tempfile.TemporaryDirectory() as folder, bounded():
        path = _materialise(Path(folder), kind, payload, "input")
        try:
            read(path)
        except OSError as exc:                            # the CLI's unreadable input (5)
            assert kind in ("fifo", "dir", "device", "dangling") or getattr(exc, "exit_code", 5) == 5, (reader, kind)
        except Exception as exc:  # noqa: BLE001 - must be a documented, coded error
            assert getattr(exc, "exit_code", None) in {2, 5}, (reader, kind, type(exc).__name__, exc)
        else:
            assert kind not in ("fifo", "dir", "device", "dangling"), (reader, kind)


_RUNNER = CliRunner()


def _pwb(args) -> tuple[int, str]:
    res = _RUNNER.invoke(app, [str(a) for a in args])
    text = res.stderr + res.stdout
    _no_traceback(text)
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, repr(res.exception), text)
    return res.exit_code, res.stderr


@FUZZ
@given(data=st.data(), command=st.sampled_from(["trace-diff", "config-diff", "metrics"]), side=st.integers(0, 1))
def test_pwb_readers_hostile_files(data, command, side):
    seed = {"trace-diff": "trace", "config-diff": "stdout", "metrics": "float"}[command]
    kind, payload = data.draw(hostile_file(seed))
    with tempfile.TemporaryDirectory() as folder, bounded():
        bad = _materialise(Path(folder), kind, payload, "bad")
        pair = [bad, SEEDS[seed]] if side == 0 else [SEEDS[seed], bad]
        extra = ["--shape", "128", "128"] if command == "metrics" else []
        code, err = _pwb([command, *pair, *extra])
    assert code in PWB_CODES, (command, kind, code, err)
    if kind in ("fifo", "dir", "device", "dangling"):
        assert code == 5, (command, kind, code, err)


OPTION_VALUES = st.sampled_from(HOSTILE + ["16", "3", "1"])


@FUZZ
@given(pixel=st.tuples(OPTION_VALUES, OPTION_VALUES), extra=hostile_argv(), closure=st.booleans())
def test_pwb_trace_hostile(pixel, extra, closure):
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as cwd, bounded():
        os.chdir(cwd)
        try:
            code, err = _pwb(["trace", "--pixel", *pixel, *(["--closure"] if closure else []), "--", *BASE, *extra])
        finally:
            os.chdir(old)
    assert code in PWB_CODES, (pixel, extra, code, err)


NB_OPTIONS = [("--roi", 4), ("--threshold", 1), ("--timeout", 1), ("--png-percentile", 1), ("--dtype", 1),
              ("--device", 1), ("--outdir", 1), ("--case", 1), ("--threshold-class", 1), ("--py-cmd", 1)]


@FUZZ
@given(picks=st.lists(st.tuples(st.sampled_from(NB_OPTIONS), st.lists(OPTION_VALUES, min_size=4, max_size=4)),
                      min_size=1, max_size=3))
def test_nb_compare_hostile_options(picks, capsys):
    from cli.compare import main

    argv = ["--c-bin", "/nonexistent/nanoBragg"]          # never runs anything: cheap
    for (option, n), values in picks:
        argv += [option, *values[:n]]
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as cwd, bounded():
        os.chdir(cwd)
        try:
            with pytest.raises(SystemExit) as info:
                main(argv + ["--", *BASE])
        finally:
            os.chdir(old)
        assert os.listdir(cwd) == [] or os.listdir(cwd) == ["comparisons"] and not os.listdir(Path(cwd) / "comparisons")
    out, err = capsys.readouterr()
    _no_traceback(err + out)
    assert info.value.code in NB_COMPARE_CODES, (argv, info.value.code, err)


def test_zz_counts():
    """The closing numbers: how many generated inputs were tried, with no traceback and no hang."""
    print(f"\nreliability fuzz: {COUNTS['tried']} generated inputs tried, {COUNTS['tracebacks']} tracebacks, "
          f"{COUNTS['hangs']} hangs")
    assert COUNTS["tracebacks"] == 0 and COUNTS["hangs"] == 0
