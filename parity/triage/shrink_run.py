"""``pwb shrink``: the shrinker (:mod:`parity.triage.shrink`) on two real ports.

    plan = plan_shrink(ShrinkOptions(args=ARGS, pair=PairSpec(cand_cmd="python -m theirport"), budget=60))
    result = run_shrink(plan, workdir=tmp, progress=progress)          # ShrinkResult
    result.minimal_args, result.runs, result.sentence

Each test is one comparison of the pair (:func:`parity.triage.pair.compare_args`: both ports in
fresh folders, nb-compare's judgement by the registry gates) in its own folder, deleted after it.
*The same failure* (``keep``):

=========  ==========================================================================================
``any``    the same outcome as the original: gates failed (or the candidate failed to run, or the
           shapes differ); a list the reference cannot run never counts
``gates``  and the same set of failed gates
``tap``    and the same first-divergence tap at the worst pixel (traced on both sides: two more runs
           per test; both ports must trace)
=========  ==========================================================================================

``compare`` and ``executor`` are injectable (a Dask client's ``submit`` works as an executor); the
default compares with the ports in a thread pool of ``workers``.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path

from parity.errors import ParityUsageError
from parity.triage.pair import Outcome, Pair, PairSpec, compare_args, resolve_pair

__all__ = ["ShrinkOptions", "ShrinkPlan", "PairComparer", "keep_rule", "plan_shrink", "run_shrink", "KEEP_MODES",
           "EXIT_SHRUNK", "EXIT_USAGE", "EXIT_NO_FAILURE", "EXIT_INPUT"]

KEEP_MODES = ("any", "gates", "tap")
EXIT_SHRUNK, EXIT_USAGE, EXIT_NO_FAILURE, EXIT_INPUT = 0, 2, 3, 5
MAX_BUDGET = 10_000


@dataclass(frozen=True)
class ShrinkOptions:
    args: tuple[str, ...]
    pair: PairSpec = PairSpec()
    budget: int = 60
    workers: int = 1
    keep: str = "any"


@dataclass(frozen=True)
class ShrinkPlan:
    options: ShrinkOptions
    pair: Pair

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(self.pair.plan.args)


def keep_rule(mode: str):
    """``(original, outcome) -> bool`` for a keep mode (module table)."""
    if mode not in KEEP_MODES:
        raise ParityUsageError(f"--keep must be one of {', '.join(KEEP_MODES)}, got {mode!r}")

    def same(original: Outcome, outcome: Outcome) -> bool:
        if outcome.status != original.status:
            return False
        if mode == "gates" and set(outcome.failed_gates) != set(original.failed_gates):
            return False
        if mode == "tap" and outcome.tap != original.tap:
            return False
        return True

    return same


class PairComparer:
    """``compare(args) -> Outcome`` with the pair's ports, each call in its own folder under ``workdir``."""

    def __init__(self, pair: Pair, workdir: str | Path, *, with_tap: bool = False):
        self.pair, self.workdir, self.with_tap = pair, Path(workdir), with_tap
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, args) -> Outcome:
        import shutil

        with self._lock:
            folder = self.workdir / f"run-{next(self._counter):05d}"
        outcome = compare_args(self.pair, args, workdir=folder, keep=self.with_tap)
        if self.with_tap:
            try:
                if outcome.status == "fail":
                    outcome.tap = self._tap(outcome, folder)
            finally:
                outcome.result = None
                shutil.rmtree(folder, ignore_errors=True)
        return outcome

    def _tap(self, outcome: Outcome, folder: Path) -> str | None:
        from parity.triage.traces import trace_one, choose_pixels

        ref, cand = outcome.result.c_image, outcome.result.py_image
        pixels = choose_pixels(ref, cand, n=1, rel_floor=self.pair.thresholds.rel_floor)
        if not pixels:
            return None
        px = trace_one(self.pair, list(outcome.args), pixels[0], folder / "traces", tuple(ref.shape),
                        self.pair.plan.dtype)
        return px.divergence["tap"] if px.divergence else f"({px.status})"


def plan_shrink(options: ShrinkOptions) -> ShrinkPlan:
    """Check the options and resolve both ports before anything runs."""
    if not 1 <= int(options.budget) <= MAX_BUDGET:
        raise ParityUsageError(f"--budget must be 1..{MAX_BUDGET} comparisons, got {options.budget}")
    if int(options.workers) < 1:
        raise ParityUsageError(f"--workers must be >= 1, got {options.workers}")
    keep_rule(options.keep)
    pair = resolve_pair(options.pair, options.args)
    if options.keep == "tap" and (pair.ref_trace is None or pair.cand_trace is None):
        why = "; ".join(n for n in (pair.ref_trace_note, pair.cand_trace_note) if n)
        raise ParityUsageError(f"--keep tap needs both sides to trace: {why}")
    return ShrinkPlan(options=options, pair=pair)


def run_shrink(plan: ShrinkPlan, *, workdir: str | Path, progress=None, compare=None, executor=None):
    """Shrink the plan's ARGS (see :func:`parity.triage.shrink.shrink`); runs live under ``workdir``."""
    from parity.triage.shrink import shrink

    o = plan.options
    compare = compare or PairComparer(plan.pair, workdir, with_tap=o.keep == "tap")
    return shrink(plan.args, compare, keep=keep_rule(o.keep), budget=o.budget, workers=o.workers,
                  executor=executor, progress=progress)
