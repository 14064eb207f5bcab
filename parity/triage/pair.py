"""The two ports under triage: how each is run (nb-compare's sides), how each traces, and one comparison.

A :class:`PairSpec` is what the user said (``--ref PORT`` | ``--c-bin C [--c-trace-bin CT]`` |
``--ref-cmd CMD``, ``--cand PORT`` | ``--cand-cmd CMD``, dtype, device, timeout, threshold class).
:func:`resolve_pair` turns it into runners exactly as nb-compare does (:mod:`parity.compare.sides`,
preflighted) plus a *trace port* per side:

=================  =============================================================================
the C              its instrumented build: ``--c-trace-bin``, else ``$NB_C_TRACE_BIN``; without
                   one the C side cannot trace (said so, the triage goes on without traces)
a port / profile   itself when it has ``trace_args``
an ad-hoc command  ``--ref/--cand-trace-args`` (default ``-trace_pixel {slow} {fast}``, the C's;
                   an empty string: cannot trace) and ``--ref/--cand-dialect``
=================  =============================================================================

:func:`compare_args` runs both sides on one argument list in a fresh folder and judges the images
with nb-compare's own judgement (:func:`parity.compare.judge.judge_runs`: the registry gates), without
nb-compare's provenance and summary, so the shrinker can afford many of them. Its :class:`Outcome`
says ``pass``, ``fail`` (a gate failed), ``ref_error``, ``cand_error``, ``shape`` or ``invalid``.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from parity.errors import ParityInputError, ParityUsageError
from parity.ports.profile import TRACE_PIXEL_ARGS, Port, c_port, resolve_port

__all__ = ["PairSpec", "Pair", "Outcome", "resolve_pair", "compare_args", "outcome_status", "port_label", "STATUSES"]

STATUSES = ("pass", "fail", "ref_error", "cand_error", "shape", "invalid")


@dataclass(frozen=True)
class PairSpec:
    """The port options of ``pwb triage`` / ``pwb shrink`` (None = nb-compare's default for the side)."""

    ref: str | None = None
    ref_cmd: str | None = None
    cand: str | None = None
    cand_cmd: str | None = None
    c_bin: str | None = None
    c_trace_bin: str | None = None
    workspace: str | None = None
    dtype: str | None = None
    device: str | None = None
    timeout_s: float | None = None
    threshold_class: str | None = None
    base: Path | None = None
    ref_trace_args: str | None = None      # for --ref-cmd; "" = cannot trace
    cand_trace_args: str | None = None     # for --cand-cmd
    ref_dialect: Path | None = None
    cand_dialect: Path | None = None

    def cli_options(self) -> list[str]:
        """The command-line options that give this spec (``pwb triage`` / ``pwb shrink`` spelling)."""
        out: list[str] = []
        for name in ("ref", "ref_cmd", "cand", "cand_cmd", "c_bin", "c_trace_bin", "workspace", "dtype", "device",
                     "timeout_s", "threshold_class", "ref_trace_args", "cand_trace_args", "ref_dialect",
                     "cand_dialect"):
            value = getattr(self, name)
            if value is not None:
                flag = "--timeout" if name == "timeout_s" else "--" + name.replace("_", "-")
                out += [flag, str(value)]
        return out

    def compare_options(self, args: Sequence[str]):
        from parity.compare.run import CompareOptions

        return CompareOptions(args=tuple(str(a) for a in args), threshold_class=self.threshold_class,
                              c_bin=self.c_bin, ref=self.ref, cand=self.cand, ref_cmd=self.ref_cmd,
                              cand_cmd=self.cand_cmd, workspace=self.workspace, dtype=self.dtype,
                              device=self.device, timeout_s=self.timeout_s, base=self.base)


@dataclass(frozen=True)
class Pair:
    """Resolved sides: ``plan`` is the nb-compare plan of the original ARGS (runners preflighted)."""

    spec: PairSpec
    plan: object                           # parity.compare.run.ComparePlan
    ref_trace: Port | None
    cand_trace: Port | None
    ref_trace_note: str = ""
    cand_trace_note: str = ""

    @property
    def ref(self):
        return self.plan.c

    @property
    def cand(self):
        return self.plan.py

    @property
    def thresholds(self):
        return self.plan.thresholds

    def describe(self) -> dict:
        def side(runner, trace, note):
            return {"name": runner.port.name, "label": port_label(runner.port), "kind": runner.port.kind,
                    "command": runner.describe(),
                    "extra_args": list(runner.extra_args), "dtype": runner.port.dtype,
                    "trace": trace.describe() + " " + (trace.trace_args or "") if trace else None,
                    "trace_note": note or None,
                    "dialect": str(trace.dialect) if trace and trace.dialect else None}
        return {"ref": side(self.ref, self.ref_trace, self.ref_trace_note),
                "cand": side(self.cand, self.cand_trace, self.cand_trace_note)}


def port_label(port: Port, width: int = 48) -> str:
    """How messages name a port: its name, or for an ad-hoc command its script and arguments
    (``port.py pivot_flag_wins``), without the interpreter and directories."""
    if port.name != "cmd":
        return port.name
    tokens = list(port.cmd)
    if len(tokens) > 1 and Path(tokens[0]).name.startswith("python"):
        tokens = tokens[1:]
    text = " ".join([Path(tokens[0]).name, *tokens[1:]])
    return text if len(text) <= width else text[:width - 3] + "..."


def _c_trace_port(spec: PairSpec) -> tuple[Port | None, str]:
    if spec.c_trace_bin:
        path = Path(spec.c_trace_bin).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        return Port(name="c-trace", kind="c", cmd=(str(path),), dtype="float64", trace_args=TRACE_PIXEL_ARGS,
                    source="--c-trace-bin"), ""
    port = c_port(spec.c_bin, trace=True)
    if port.trace_args:
        return port, ""
    return None, "the C cannot trace: give --c-trace-bin CT (its instrumented build) or set NB_C_TRACE_BIN"


def _trace_port(port: Port, spec: PairSpec, *, side: str) -> tuple[Port | None, str]:
    """The port that traces ``side`` (see the module table) and, when none, why."""
    dialect = spec.ref_dialect if side == "ref" else spec.cand_dialect
    template = spec.ref_trace_args if side == "ref" else spec.cand_trace_args
    if port.kind == "c":
        traced, note = _c_trace_port(spec)
    elif port.source in ("--ref-cmd", "--cand-cmd", "--py-cmd"):
        template = TRACE_PIXEL_ARGS if template is None else template
        traced = dataclasses.replace(port, trace_args=template or None)
        note = "" if template else f"--{side}-trace-args is empty: the {side} side does not trace"
        traced = traced if template else None
    else:
        traced = port if port.trace_args else None
        note = "" if traced else (f"port {port.name} has no trace_args (pwb port add {port.name} ..."
                                  " --trace-args \"-trace_pixel {slow} {fast}\")")
    if traced is not None and dialect is not None:
        if not Path(dialect).is_file():
            raise ParityInputError(f"--{side}-dialect {dialect}: no such file")
        traced = dataclasses.replace(traced, dialect=Path(dialect))
    if traced is not None and traced.trace_args:
        traced.trace_argv(0, 0)            # a template that does not format is a usage error now
    return traced, note


def resolve_pair(spec: PairSpec, args: Sequence[str]) -> Pair:
    """Validate ``args`` and both ports as nb-compare would (ParityUsageError / ParityInputError)."""
    from parity.compare.run import plan_compare

    if spec.ref is not None and spec.c_bin is not None and spec.ref not in ("c", "c-trace"):
        raise ParityUsageError(f"--c-bin names the C, but --ref is {spec.ref!r}: give one of them")
    plan = plan_compare(spec.compare_options(args))
    ref_trace, ref_note = _trace_port(plan.c.port, spec, side="ref")
    cand_trace, cand_note = _trace_port(plan.py.port, spec, side="cand")
    return Pair(spec=spec, plan=plan, ref_trace=ref_trace, cand_trace=cand_trace, ref_trace_note=ref_note,
                cand_trace_note=cand_note)


@dataclass
class Outcome:
    """One comparison of the pair on ``args``: status, failed gate names, gate rows, metrics, notes."""

    args: tuple[str, ...]
    status: str
    failed_gates: tuple[str, ...] = ()
    gates: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    wall_s: float = 0.0
    tap: str | None = None                 # first-divergence tap, when asked for (shrink --keep tap)
    result: object = None                  # the CompareResult (images, runs) when kept

    def to_dict(self) -> dict:
        return {"args": list(self.args), "status": self.status, "failed_gates": list(self.failed_gates),
                "notes": list(self.notes), "wall_s": round(self.wall_s, 3), "tap": self.tap}


def outcome_status(result) -> str:
    from parity.compare.exits import EXIT_OK, EXIT_RUNNER, EXIT_SHAPE, EXIT_THRESHOLD

    code = result.exit_code
    if code == EXIT_OK:
        return "pass"
    if code == EXIT_THRESHOLD:
        return "fail"
    if code == EXIT_SHAPE:
        return "shape"
    if code == EXIT_RUNNER:
        return "ref_error" if not result.c_run.ok or result.c_run.float_path is None else "cand_error"
    return "invalid"


def compare_args(pair: Pair, args: Sequence[str], *, workdir: str | os.PathLike, keep: bool = False) -> Outcome:
    """Run both sides on ``args`` in ``workdir`` (created; removed afterwards unless ``keep``) and judge."""
    from parity.compare.exits import EXIT_OK, EXIT_USAGE
    from parity.compare.judge import judge_runs
    from parity.compare.run import CompareResult, plan_compare
    from parity.ports.process import run_isolated

    args = tuple(str(a) for a in args)
    t0 = time.monotonic()
    try:
        plan = plan_compare(pair.spec.compare_options(args))
    except (ParityUsageError, ParityInputError) as exc:
        return Outcome(args, "invalid", notes=[str(exc)], wall_s=time.monotonic() - t0)
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=False)
    try:
        runs = {side: run_isolated(runner, plan.args, base=plan.base, float_dest=folder / f"{side}_float.bin",
                                   timeout_s=plan.timeout_s) for side, runner in (("c", plan.c), ("py", plan.py))}
        result = CompareResult(exit_code=EXIT_OK, outdir=folder, summary={}, c_run=runs["c"], py_run=runs["py"])
        try:
            judge_runs(plan, result)
        except (ParityUsageError, ParityInputError) as exc:
            result.exit_code = EXIT_USAGE if isinstance(exc, ParityUsageError) else int(exc.exit_code)
            result.notes.append(str(exc))
        gates = result.details.get("gates") or []
        outcome = Outcome(args, outcome_status(result), tuple(g["name"] for g in gates if not g["passed"]), gates,
                          result.details.get("metrics") or {}, list(result.notes), time.monotonic() - t0,
                          result=result if keep else None)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return outcome
