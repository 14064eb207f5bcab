"""Run a helper program that must never hang the workbench: bounded time, no stdin, its own group.

Used to ask a port for ``--version`` and to run a plan's pytest selectors. The child gets a new
session (process group), so on timeout the whole group is killed, grandchildren included.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

__all__ = ["run_bounded"]


def run_bounded(argv: Sequence[str], *, cwd: str | os.PathLike, env: Mapping[str, str], timeout_s: float,
                merge_stderr: bool = False) -> tuple[int | None, str, str]:
    """``(returncode, stdout, stderr)``; returncode None when it ran past ``timeout_s`` (group killed)
    and -1 when it could not start (the reason in stderr). ``merge_stderr`` puts stderr into stdout."""
    try:
        proc = subprocess.Popen([str(a) for a in argv], cwd=Path(cwd), env=dict(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                                start_new_session=True)
    except OSError as exc:
        return -1, "", f"{type(exc).__name__}: {exc.strerror or exc}"
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:   # a descendant that left the group still holds the pipes
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
            proc.wait()
            out, err = b"", b""
        return None, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")
    return proc.returncode, out.decode(errors="replace"), (err or b"").decode(errors="replace")
