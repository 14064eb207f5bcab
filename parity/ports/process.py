"""Run the C program or simcore as a subprocess, each in its own fresh temporary directory.

Resolution (the nb-compare contract):

* C: ``--c-bin``, else ``$NB_C_BIN``, else ``./nanoBragg`` (relative to the cwd).
* Python: ``--py-bin``, else ``$NB_PY_BIN``, else ``<this interpreter> -m simcore``.

:func:`preflight` checks that a runner's executable exists and is executable (ParityInputError,
exit 5, before anything runs or is written) and records its sha256. :func:`run_isolated` copies the
inputs into a fresh directory (:mod:`parity.ports.argfiles`), runs there on a monotonic clock,
moves the float image out to the caller's destination and deletes the directory, so nothing a run
writes (``Fdump.bin``, default ``intimage.img``…) survives into the next run.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from parity.errors import ParityInputError
from parity.ports.argfiles import isolate_args

__all__ = ["Runner", "RunResult", "resolve_c_runner", "resolve_py_runner", "preflight", "run_isolated",
           "C_BIN_ENV", "PY_BIN_ENV"]

C_BIN_ENV = "NB_C_BIN"
PY_BIN_ENV = "NB_PY_BIN"
DEFAULT_C_BIN = "./nanoBragg"


@dataclass(frozen=True)
class Runner:
    """One side of a comparison: the command prefix and the file that identifies it."""

    name: str                        # "c" or "py"
    command: tuple[str, ...]         # argv prefix, ARGS follow
    executable: Path                 # hashed for provenance (the interpreter for `-m simcore`)
    source: str                      # how it was chosen: "--c-bin", "NB_C_BIN", "default", ...
    extra_args: tuple[str, ...] = () # appended after ARGS (e.g. -dtype for simcore)
    sha256: str | None = None        # filled by preflight()

    def describe(self) -> str:
        return " ".join(self.command)


@dataclass
class RunResult:
    """What one isolated run left: exit code, captured streams, wall time and the argv used."""

    runner: Runner
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    float_path: Path | None          # where the float image was moved to; None if none was written
    timed_out: bool = False
    copied_inputs: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def resolve_c_runner(explicit: str | os.PathLike | None = None) -> Runner:
    """The C runner by the contract's order (flag, ``NB_C_BIN``, ``./nanoBragg``)."""
    if explicit:
        path, source = Path(explicit), "--c-bin"
    elif os.environ.get(C_BIN_ENV):
        path, source = Path(os.environ[C_BIN_ENV]), C_BIN_ENV
    else:
        path, source = Path(DEFAULT_C_BIN), "default ./nanoBragg"
    path = path if path.is_absolute() else Path.cwd() / path
    return Runner(name="c", command=(str(path),), executable=path, source=source)


def resolve_py_runner(explicit: str | os.PathLike | None = None, *, dtype: str | None = None,
                      device: str | None = None) -> Runner:
    """The Python runner (flag, ``NB_PY_BIN``, ``python -m simcore``); ``-dtype``/``-device`` are
    appended only when given."""
    extra = (("-dtype", dtype) if dtype else ()) + (("-device", device) if device else ())
    if explicit or os.environ.get(PY_BIN_ENV):
        path = Path(explicit) if explicit else Path(os.environ[PY_BIN_ENV])
        path = path if path.is_absolute() else Path.cwd() / path
        return Runner(name="py", command=(str(path),), executable=path,
                      source="--py-bin" if explicit else PY_BIN_ENV, extra_args=extra)
    interpreter = Path(sys.executable)
    return Runner(name="py", command=(str(interpreter), "-m", "simcore"), executable=interpreter,
                  source="default python -m simcore", extra_args=extra)


def preflight(runner: Runner) -> Runner:
    """The runner with its sha256, after checking its executable exists and may be executed."""
    from parity.evidence.provenance import sha256_file

    path = runner.executable
    label = {"c": "C binary", "py": "Python runner"}.get(runner.name, runner.name)
    hint = f" (source: {runner.source}; set --{runner.name}-bin or {C_BIN_ENV if runner.name == 'c' else PY_BIN_ENV})"
    if not path.exists():
        raise ParityInputError(f"{label} {path.name} not found{hint}")
    if not path.is_file():
        raise ParityInputError(f"{label} {path.name} is not a file{hint}")
    if not os.access(path, os.X_OK):
        raise ParityInputError(f"{label} {path.name} is not executable{hint}")
    try:
        digest = sha256_file(path)
    except OSError as exc:
        raise ParityInputError(f"{label} {path.name}: cannot read ({exc.strerror or exc})") from None
    return dataclasses.replace(runner, sha256=digest)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def run_isolated(runner: Runner, args: Sequence[str], *, base: str | os.PathLike,
                 float_dest: str | os.PathLike, timeout_s: float | None = None,
                 env: dict | None = None) -> RunResult:
    """Run ``runner`` on ``args`` in a fresh temporary directory; move its float image to ``float_dest``.

    ``base`` is the directory relative input paths in ``args`` refer to. A missing input is
    ParityInputError (exit 5) before the runner starts. A non-zero exit, a timeout or a missing
    float image are *results* (``ok`` is False, ``float_path`` may be None), not exceptions.
    """
    float_dest = Path(float_dest)
    with tempfile.TemporaryDirectory(prefix=f"pwb-{runner.name}-") as scratch:
        isolated = isolate_args(args, run_dir=scratch, base=base)
        argv = [*isolated.argv, *runner.extra_args]
        timed_out = False
        t0 = time.monotonic()
        try:
            done = subprocess.run([*runner.command, *argv], cwd=scratch, capture_output=True,
                                  timeout=timeout_s, env=env, check=False)
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            timed_out, code, out = True, -9, exc.stdout
            err = _text(exc.stderr) + f"\n[pwb] killed after the {timeout_s:g} s timeout\n"
        except OSError as exc:
            code, out, err = 127, b"", f"[pwb] could not start {runner.describe()}: {exc.strerror or exc}\n"
        wall = time.monotonic() - t0
        produced = Path(scratch) / isolated.float_name
        moved = None
        if produced.is_file():
            if float_dest.exists():
                raise ParityInputError(f"{float_dest.name}: exists already; refusing to overwrite it")
            partial = float_dest.with_name(f".{float_dest.name}.partial")
            shutil.move(str(produced), partial)
            os.chmod(partial, 0o644)      # an ordinary readable output, whatever mode the runner used
            os.replace(partial, float_dest)
            moved = float_dest
    return RunResult(runner=runner, argv=argv, returncode=code, stdout=_text(out), stderr=_text(err),
                     wall_s=wall, float_path=moved, timed_out=timed_out, copied_inputs=dict(isolated.copied))
