"""Run a port (:class:`parity.ports.profile.Port`: argv prefix + environment) as a subprocess, each run in
its own fresh temporary directory.

Resolution of nb-compare's two classic sides (the contract):

* C: ``--c-bin``, else ``$NB_C_BIN``, else ``./nanoBragg`` (relative to the cwd).
* Python: ``--py-bin``, else ``$NB_PY_BIN``, else ``<this interpreter> -m simcore``.

:func:`preflight` checks that a runner's executable exists and may be executed (ParityInputError,
exit 5, before anything runs or is written) and records its sha256. :func:`run_isolated` copies the
inputs into a fresh directory (:mod:`parity.ports.argfiles`), runs there on a monotonic clock with
the port's environment added, moves the float image out to the caller's destination and deletes the
directory, so nothing a run writes (``Fdump.bin``, default ``intimage.img``…) survives into the next.

Each run is the leader of its own process group (``start_new_session``). On a timeout the whole
group is killed (SIGKILL), so a shell wrapper's children or a port's worker processes die with it;
after a normal exit, whatever the run left behind in its group is killed too.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from parity.errors import ParityInputError
from parity.ports.argfiles import isolate_args
from parity.ports.profile import C_BIN_ENV, Port, c_port, port_from_cmd, simcore_port

__all__ = ["Runner", "RunResult", "runner_for", "resolve_c_runner", "resolve_py_runner", "preflight",
           "run_isolated", "run_port", "C_BIN_ENV", "PY_BIN_ENV"]

PY_BIN_ENV = "NB_PY_BIN"
_DRAIN_S = 10.0          # after killing the group: how long to wait for the pipes to close


@dataclass(frozen=True)
class Runner:
    """One side of a comparison: a port, the file that identifies it, and arguments added after ARGS."""

    port: Port
    executable: Path                 # hashed for provenance (the interpreter for `-m simcore`)
    extra_args: tuple[str, ...] = () # appended after ARGS (e.g. -dtype for simcore)
    sha256: str | None = None        # filled by preflight()
    identity_files: tuple[Path, ...] = ()   # other files of the command (a script it runs), hashed too

    @property
    def name(self) -> str:
        return self.port.name

    @property
    def command(self) -> tuple[str, ...]:
        return self.port.cmd

    @property
    def source(self) -> str:
        return self.port.source

    @property
    def env(self) -> dict:
        return dict(self.port.env)

    def describe(self) -> str:
        return self.port.describe()


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


def _executable(port: Port) -> Path:
    """The file a port's command starts: a path as given, else looked up on PATH (the port's own
    PATH when its environment sets one); a name not found stays a bare relative path (preflight says so)."""
    first = port.cmd[0]
    if "/" in first:
        path = Path(first)
        return path if path.is_absolute() else Path.cwd() / path
    found = shutil.which(first, path=port.env.get("PATH", os.environ.get("PATH")))
    return Path(found) if found else Path(first)


def runner_for(port: Port, *, extra_args: Sequence[str] = ()) -> Runner:
    """A Runner for ``port``: its executable, and the files among its later tokens (hashed for provenance)."""
    files = tuple(Path(t) for t in port.cmd[1:] if os.path.isabs(t) and Path(t).is_file())
    return Runner(port=port, executable=_executable(port), extra_args=tuple(extra_args), identity_files=files)


def resolve_c_runner(explicit: str | os.PathLike | None = None) -> Runner:
    """The C runner by the contract's order (flag, ``NB_C_BIN``, ``./nanoBragg``)."""
    return runner_for(c_port(explicit))


def simcore_extra_args(dtype: str | None = None, device: str | None = None) -> tuple[str, ...]:
    return (("-dtype", dtype) if dtype else ()) + (("-device", device) if device else ())


def resolve_py_runner(explicit: str | os.PathLike | None = None, *, dtype: str | None = None,
                      device: str | None = None) -> Runner:
    """The Python runner (flag, ``NB_PY_BIN``, ``python -m simcore``); ``-dtype``/``-device`` are
    appended only when given."""
    extra = simcore_extra_args(dtype, device)
    if explicit or os.environ.get(PY_BIN_ENV):
        path = Path(explicit) if explicit else Path(os.environ[PY_BIN_ENV])
        path = path if path.is_absolute() else Path.cwd() / path
        port = port_from_cmd([str(path)], source="--py-bin" if explicit else PY_BIN_ENV)
        return runner_for(port, extra_args=extra)
    return runner_for(simcore_port(), extra_args=extra)


def _label(runner: Runner) -> tuple[str, str]:
    kind, name = runner.port.kind, runner.port.name
    if kind == "c":
        return "C binary", f" (source: {runner.source}; set --c-bin or {C_BIN_ENV})"
    if kind == "simcore":
        return "Python interpreter", f" (source: {runner.source})"
    if runner.source in ("--py-bin", PY_BIN_ENV):
        return "Python runner", f" (source: {runner.source}; set --py-bin or {PY_BIN_ENV})"
    return f"port {name} command", f" (source: {runner.source})"


def preflight(runner: Runner) -> Runner:
    """The runner with its sha256, after checking its executable exists and may be executed."""
    from parity.evidence.provenance import sha256_file

    path = runner.executable
    label, hint = _label(runner)
    if not path.is_absolute() and "/" not in runner.command[0]:
        raise ParityInputError(f"{label} {runner.command[0]} not found on PATH{hint}")
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


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the run's whole process group (it leads its own session); gone already is fine."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _communicate(argv: list[str], *, cwd: str, env: dict | None, timeout_s: float | None):
    """``(returncode, stdout, stderr, timed_out)`` of one run in its own process group."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=_DRAIN_S)
        except subprocess.TimeoutExpired as exc:   # a process that left the group still holds the pipes
            proc.kill()
            out, err = exc.stdout, exc.stderr
            proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                pipe.close()
        return -signal.SIGKILL, out, _text(err) + f"\n[pwb] killed after the {timeout_s:g} s timeout\n", True
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    _kill_group(proc)          # nothing the run started outlives it
    return proc.returncode, out, err, False


def _environment(runner: Runner, env: dict | None) -> dict | None:
    if not runner.port.env and env is None:
        return None
    merged = dict(os.environ if env is None else env)
    merged.update(runner.port.env)
    return merged


def run_isolated(runner: Runner | Port, args: Sequence[str], *, base: str | os.PathLike,
                 float_dest: str | os.PathLike | None, timeout_s: float | None = None,
                 env: dict | None = None) -> RunResult:
    """Run ``runner`` on ``args`` in a fresh temporary directory; move its float image to ``float_dest``.

    ``base`` is the directory relative input paths in ``args`` refer to; ``env`` replaces the
    inherited environment (the port's own variables are added on top). A missing input is
    ParityInputError (exit 5) before the runner starts. A non-zero exit, a timeout or a missing
    float image are *results* (``ok`` is False, ``float_path`` may be None), not exceptions.
    ``float_dest=None`` leaves the image in the scratch directory (deleted).
    """
    if isinstance(runner, Port):
        runner = runner_for(runner)
    with tempfile.TemporaryDirectory(prefix=f"pwb-{runner.name}-") as scratch:
        isolated = isolate_args(args, run_dir=scratch, base=base)
        argv = [*isolated.argv, *runner.extra_args]
        t0 = time.monotonic()
        try:
            code, out, err, timed_out = _communicate([*runner.command, *argv], cwd=scratch,
                                                     env=_environment(runner, env), timeout_s=timeout_s)
        except OSError as exc:
            code, out, timed_out = 127, b"", False
            err = f"[pwb] could not start {runner.describe()}: {exc.strerror or exc}\n"
        wall = time.monotonic() - t0
        produced = Path(scratch) / isolated.float_name
        moved = None
        if produced.is_file() and float_dest is not None:
            moved = _move_out(produced, Path(float_dest))
    return RunResult(runner=runner, argv=argv, returncode=code, stdout=_text(out), stderr=_text(err),
                     wall_s=wall, float_path=moved, timed_out=timed_out, copied_inputs=dict(isolated.copied))


def _move_out(produced: Path, float_dest: Path) -> Path:
    """The run's float image to ``float_dest`` with the project's one writer (never over an existing
    file, never half-written, 0666 less the umask whatever mode the runner used)."""
    from tracekit.atomic import OutputExistsError, copy_atomic

    try:
        return copy_atomic(produced, float_dest, overwrite=False)
    except OutputExistsError:
        raise ParityInputError(f"{float_dest.name}: exists already; refusing to overwrite it") from None


def run_port(port: Port, args: Sequence[str], *, base: str | os.PathLike, float_dest: str | os.PathLike | None,
             timeout_s: float | None = None, extra_args: Sequence[str] = ()) -> RunResult:
    """Preflight ``port`` and run it once on ``args`` (see :func:`run_isolated`)."""
    return run_isolated(preflight(runner_for(port, extra_args=extra_args)), args, base=base,
                        float_dest=float_dest, timeout_s=timeout_s)


@dataclass(frozen=True)
class PortTrace:
    """One traced run of a port: its trace text (stdout then stderr), its float image if it wrote one."""

    trace_path: Path
    float_path: Path | None
    run: RunResult
    pixel: tuple[int, int]


def trace_port(port: Port, args: Sequence[str], slow: int, fast: int, *, base: str | os.PathLike,
               dest_dir: str | os.PathLike, timeout_s: float | None = None,
               extra_args: Sequence[str] = ()) -> PortTrace:
    """Run ``port`` on ``args`` plus its ``trace_args`` for pixel (slow, fast); write its stdout and
    stderr to ``dest_dir/trace_S_F.txt`` and its float image (when it writes one) to
    ``dest_dir/trace_S_F_float.bin``. ParityUsageError when the port cannot trace; a failed run is
    still a result (``run.ok`` False), its output kept in the trace file."""
    from parity.evidence.atomic import atomic_write_text

    trace_argv = port.trace_argv(slow, fast)
    dest = Path(dest_dir)
    text_path, float_path = dest / f"trace_{slow}_{fast}.txt", dest / f"trace_{slow}_{fast}_float.bin"
    if text_path.exists():
        raise ParityInputError(f"{text_path.name}: exists already; refusing to overwrite it")
    run = run_port(port, [*args, *trace_argv], base=base, float_dest=float_path, timeout_s=timeout_s,
                   extra_args=extra_args)
    atomic_write_text(text_path, run.stdout + run.stderr, overwrite=False)
    return PortTrace(trace_path=text_path, float_path=run.float_path, run=run, pixel=(int(slow), int(fast)))


__all__ += ["simcore_extra_args", "PortTrace", "trace_port"]
