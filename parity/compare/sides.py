"""The two sides of an nb-compare run: a reference port and a candidate port, each any port.

============ ============================================================================================
reference    ``--ref-cmd "CMD ..."``, else ``--ref PORT``, else the C (``--c-bin``/``$NB_C_BIN``/``./nanoBragg``)
candidate    ``--cand-cmd``/``--py-cmd "CMD ..."``, else ``--cand PORT``, else ``--py-bin``/``$NB_PY_BIN``,
             else simcore (``python -m simcore``)
============ ============================================================================================

``PORT`` is ``c``, ``c-trace``, ``simcore`` or a profile name (``pwb port add``); a command is
shell-split (:func:`parity.ports.profile.port_from_cmd`). Giving two ways for one side is a usage
error. ``--dtype``/``--device`` become ``-dtype D``/``-device D`` after ARGS for a simcore side and
for a candidate that is not the C (as ``--py-bin`` always had them); the C never gets them.

The output files and summary keys keep the contract's names whatever the ports are: ``c_*`` is the
reference side, ``py_*`` the candidate (``summary.json`` ``ports`` says which port each side is).
"""
from __future__ import annotations

import os

from parity.errors import ParityUsageError
from parity.ports.process import PY_BIN_ENV, Runner, preflight, resolve_py_runner, runner_for, simcore_extra_args
from parity.ports.profile import Port, c_port, port_from_cmd, resolve_port

__all__ = ["resolve_sides", "side_label", "port_block"]


def _one_of(what: str, given: dict) -> None:
    named = [k for k, v in given.items() if v is not None]
    if len(named) > 1:
        raise ParityUsageError(f"{what}: give one of {', '.join(named)}, not several")


def _extra(port: Port, options, *, candidate: bool) -> tuple[str, ...]:
    if port.kind == "simcore" or (candidate and port.kind != "c"):
        return simcore_extra_args(options.dtype, options.device)
    return ()


def _reference(options) -> Port:
    _one_of("reference", {"--ref": options.ref, "--ref-cmd": options.ref_cmd})
    if options.ref_cmd is not None:
        return port_from_cmd(options.ref_cmd, source="--ref-cmd")
    if options.ref is not None:
        return resolve_port(options.ref, workspace=options.workspace, c_bin=options.c_bin)
    return c_port(options.c_bin)


def _candidate(options) -> Runner:
    _one_of("candidate", {"--cand": options.cand, "--cand-cmd/--py-cmd": options.cand_cmd,
                          "--py-bin": options.py_bin})
    if options.cand_cmd is not None:
        port = port_from_cmd(options.cand_cmd, source="--cand-cmd")
    elif options.cand is not None:
        port = resolve_port(options.cand, workspace=options.workspace, c_bin=options.c_bin)
    elif options.py_bin or os.environ.get(PY_BIN_ENV):
        return resolve_py_runner(options.py_bin, dtype=options.dtype, device=options.device)
    else:
        return resolve_py_runner(None, dtype=options.dtype, device=options.device)
    return runner_for(port, extra_args=_extra(port, options, candidate=True))


def resolve_sides(options) -> tuple[Runner, Runner]:
    """``(reference, candidate)`` runners, preflighted (ParityUsageError / ParityInputError)."""
    ref_port = _reference(options)
    ref = runner_for(ref_port, extra_args=_extra(ref_port, options, candidate=False))
    return preflight(ref), preflight(_candidate(options))


def side_label(runner: Runner) -> str:
    """How messages name a side: "C runner", "Python runner" (simcore or --py-bin), or "port NAME"."""
    port = runner.port
    if port.kind == "c":
        return "C runner"
    if port.kind == "simcore" or runner.source in ("--py-bin", PY_BIN_ENV):
        return "Python runner"
    return f"port {port.name}"


def port_block(runner: Runner, root) -> dict:
    """summary.json's description of one side's port (paths never absolute)."""
    from parity.evidence.provenance import relpath_from_root

    def shown(token: str) -> str:
        return relpath_from_root(token, root=root) if os.path.isabs(token) else token

    port = runner.port
    return {"name": port.name, "kind": port.kind, "source": port.source,
            "command": [shown(t) for t in port.cmd], "extra_args": list(runner.extra_args),
            "env": {k: shown(v) for k, v in port.env.items()}, "dtype": port.dtype,
            "trace_args": port.trace_args, "dialect": shown(str(port.dialect)) if port.dialect else None,
            "identity": [{"path": shown(str(p)), "sha256": _sha(p)} for p in (runner.executable,
                                                                               *runner.identity_files)]}


def _sha(path) -> str | None:
    from parity.evidence.provenance import sha256_file

    try:
        return sha256_file(path)
    except OSError:
        return None
