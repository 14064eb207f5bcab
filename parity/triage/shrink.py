"""Delta debugging over an argument list: the smallest list that still fails the same way.

The test is any function ``compare(args) -> Outcome`` (:class:`parity.triage.pair.Outcome`; in
``pwb shrink`` two ports judged by the registry gates) and ``matches(outcome) -> bool`` says whether
an outcome is *the same failure* as the original's. Nothing here runs a port, so tests and other
runners (Dask, a batch queue) plug in: the :class:`Evaluator` submits work to any executor with
``submit(fn, *args) -> future`` (``future.result()``), default a thread pool of ``workers``.

Steps:

1. **ddmin** (Zeller's, complements only) over the removable units (:mod:`parity.triage.units`):
   split them in n chunks, try the list without each chunk, keep the first that still fails
   (n → max(n − 1, 2)), else refine (n → 2n) until single units; ends 1-minimal: removing any one
   remaining removable unit no longer gives the same failure.
2. **values**: counts reduced (smallest first) and values reset to the C's defaults, each kept
   only while the failure stays.
3. **necessity**: each remaining unit's removal once more (cached from step 1) and each removed
   unit added back alone, to say which removals make it *pass* and which additions make it pass:
   "fails only with -twotheta 2 and without -pivot beam".

Candidates of one step are evaluated in batches of ``workers`` in order and the first matching
one is taken, so the result does not depend on the number of workers (only the run count may).
Every argument list is run at most once (cache); ``budget`` bounds the comparisons actually run —
when it is spent the best list so far is returned with ``budget_exhausted``.
"""
from __future__ import annotations

import concurrent.futures as cf
import threading
from dataclasses import dataclass, field
from typing import Callable, Sequence

from parity.triage.units import Unit, join_units, split_units, value_moves

__all__ = ["Evaluator", "ShrinkResult", "ddmin", "shrink", "describe_effect"]


class Evaluator:
    """Cached, budgeted, batched evaluation of argument lists."""

    def __init__(self, compare: Callable, matches: Callable, *, budget: int, workers: int = 1, executor=None,
                 progress=None):
        self.compare, self.matches = compare, matches
        self.budget, self.workers = int(budget), max(1, int(workers))
        self._executor = executor
        self.progress = progress
        self.cache: dict[tuple[str, ...], object] = {}
        self.history: list[dict] = []
        self.runs = 0
        self.hits = 0
        self.exhausted = False
        self._lock = threading.Lock()

    def _pool(self):
        if self._executor is None:
            self._executor = cf.ThreadPoolExecutor(max_workers=self.workers)
            self._own = True
        return self._executor

    def close(self) -> None:
        if getattr(self, "_own", False):
            self._executor.shutdown(wait=True)

    def evaluate(self, arglists: Sequence[Sequence[str]], *, step: str = "") -> list:
        """Outcomes in order; None for a list not run because the budget is spent."""
        keys = [tuple(a) for a in arglists]
        todo = []
        for k in dict.fromkeys(keys):
            if k in self.cache:
                self.hits += 1
            elif self.runs + len(todo) < self.budget:
                todo.append(k)
            else:
                self.exhausted = True
        futures = {k: self._pool().submit(self.compare, k) for k in todo}
        for k, fut in futures.items():
            outcome = fut.result()
            with self._lock:
                self.cache[k] = outcome
                self.runs += 1
                self.history.append({"n": self.runs, "step": step, "args": list(k), "status": outcome.status,
                                     "failed_gates": list(outcome.failed_gates), "tap": outcome.tap,
                                     "same_failure": bool(self.matches(outcome))})
            if self.progress is not None:
                self.progress.advance(f"{step}: {outcome.status} ({len(k)} tokens)", self.runs, self.budget)
        return [self.cache.get(k) for k in keys]

    def first_matching(self, arglists: Sequence[Sequence[str]], *, step: str = "") -> int | None:
        """Index of the first list (in order) that gives the same failure, evaluating ``workers`` at a time."""
        for start in range(0, len(arglists), self.workers):
            batch = arglists[start:start + self.workers]
            outcomes = self.evaluate(batch, step=step)
            for i, outcome in enumerate(outcomes):
                if outcome is not None and self.matches(outcome):
                    return start + i
            if any(o is None for o in outcomes):
                return None
        return None


def ddmin(units: Sequence[Unit], ev: Evaluator) -> list[Unit]:
    """Step 1 of the module docstring; non-removable units stay where they are."""
    cur = list(units)
    n = 2
    while not ev.exhausted:
        removable = [i for i, u in enumerate(cur) if u.removable]
        if not removable:
            break
        n = min(n, len(removable))
        size = len(removable) / n
        chunks = [set(removable[int(round(k * size)):int(round((k + 1) * size))]) for k in range(n)]
        candidates = [[u for i, u in enumerate(cur) if i not in chunk] for chunk in chunks if chunk]
        hit = ev.first_matching([join_units(c) for c in candidates], step=f"ddmin n={n}")
        if hit is not None:
            cur = candidates[hit]
            n = max(n - 1, 2)
            continue
        if n >= len(removable):
            break
        n = min(2 * n, len(removable))
    return cur


def _values(cur: list[Unit], ev: Evaluator) -> tuple[list[Unit], list[dict]]:
    changes = []
    for i in range(len(cur)):
        moves = value_moves(cur[i])
        if not moves or ev.exhausted:
            continue
        lists = [join_units(cur[:i] + [new] + cur[i + 1:]) for _, new in moves]
        hit = ev.first_matching(lists, step=f"values {cur[i].tokens[0]}")
        tried = [{"value": " ".join(new.values), "why": why} for why, new in moves]
        if hit is not None:
            why, new = moves[hit]
            changes.append({"unit": cur[i].text, "now": new.text, "why": why, "tried": tried})
            cur = cur[:i] + [new] + cur[i + 1:]
        else:
            changes.append({"unit": cur[i].text, "now": cur[i].text, "why": "no value change keeps the failure",
                            "tried": tried})
    return cur, changes


def describe_effect(outcome, matches: bool) -> str:
    """What a change did: ``keeps the failure``, ``passes``, ``breaks the reference``, ``fails differently (...)``."""
    if outcome is None:
        return "not tested (budget spent)"
    if matches:
        return "keeps the failure"
    if outcome.status == "pass":
        return "passes"
    if outcome.status in ("ref_error", "invalid"):
        return "breaks the reference run" if outcome.status == "ref_error" else "is not a valid argument list"
    detail = ", ".join(outcome.failed_gates) or outcome.status
    return f"fails differently ({detail})"


@dataclass
class ShrinkResult:
    original_args: tuple[str, ...]
    minimal_args: tuple[str, ...]
    original: object
    final: object
    runs: int
    cache_hits: int
    budget: int
    budget_exhausted: bool
    units: list = field(default_factory=list)            # remaining units: removal effect
    value_changes: list = field(default_factory=list)
    suppressors: list = field(default_factory=list)      # removed units: adding one back alone
    sentence: str = ""
    history: list = field(default_factory=list)
    reproduced: bool = True

    def to_dict(self) -> dict:
        return {"original_args": list(self.original_args), "minimal_args": list(self.minimal_args),
                "runs": self.runs, "cache_hits": self.cache_hits, "budget": self.budget,
                "budget_exhausted": self.budget_exhausted, "reproduced": self.reproduced,
                "original": self.original.to_dict() if self.original is not None else None,
                "final": self.final.to_dict() if self.final is not None else None,
                "necessary": self.units, "value_changes": self.value_changes, "suppressors": self.suppressors,
                "sentence": self.sentence, "history": self.history}


def _necessity(cur: list[Unit], original: list[Unit], ev: Evaluator) -> tuple[list[dict], list[dict]]:
    idx = [i for i, u in enumerate(cur) if u.removable]
    removal = dict(zip(idx, ev.evaluate([join_units(cur[:i] + cur[i + 1:]) for i in idx], step="necessity")))
    units = []
    for i, u in enumerate(cur):
        if i not in removal:
            units.append({"unit": u.text, "flag": u.flag, "removable": False, "needed": None,
                          "without_it": "not tried (a size flag: shrunk, never removed)"})
            continue
        same = removal[i] is not None and ev.matches(removal[i])
        units.append({"unit": u.text, "flag": u.flag, "removable": True, "needed": not same,
                      "without_it": describe_effect(removal[i], same)})
    kept = {u.tokens for u in cur} | {(u.tokens[0],) for u in cur if u.flag}
    removed = [u for u in original if u.tokens not in kept and (u.tokens[0],) not in kept]
    added = ev.evaluate([join_units(cur + [u]) for u in removed], step="add back")
    supp = []
    for u, outcome in zip(removed, added):
        same = outcome is not None and ev.matches(outcome)
        supp.append({"unit": u.text, "flag": u.flag, "with_it": describe_effect(outcome, same),
                     "suppresses": outcome is not None and outcome.status == "pass"})
    return units, supp


_WHAT = {"fail": "fails the registry gates", "cand_error": "the candidate run fails", "shape": "the image shapes differ"}


def _sentence(units: list[dict], supp: list[dict], changes: list[dict], status: str) -> str:
    """``fails the registry gates only with -twotheta 2 and without -pivot beam``."""
    what = _WHAT.get(status, status)
    reset = {c["now"]: c["unit"] for c in changes if c["why"] == "reset to the C default" and c["now"] != c["unit"]}
    triggers = [(f"{u['flag']} given (even at its C default: {u['unit']})" if u["unit"] in reset else u["unit"])
                for u in units if u["without_it"] == "passes"]
    without = [s["unit"] for s in supp if s["suppresses"]]
    if not triggers and not without:
        return f"{what} with any of the flags left: none of them alone makes it pass"
    parts = ([f"with {' and '.join(triggers)}"] if triggers else []) + \
            ([f"without {' and '.join(without)}"] if without else [])
    return f"{what} only " + " and ".join(parts)


def shrink(args: Sequence[str], compare: Callable, *, keep: Callable | None = None, budget: int = 60,
           workers: int = 1, executor=None, progress=None) -> ShrinkResult:
    """Shrink ``args`` (module docstring). ``keep(original, outcome) -> bool`` is the same-failure rule
    (default: the same status). The original must fail; if not, the result says ``reproduced`` False."""
    args = tuple(str(a) for a in args)
    keep = keep or (lambda original, outcome: outcome.status == original.status)
    holder: dict = {}
    ev = Evaluator(compare, lambda o: o is not None and "original" in holder and keep(holder["original"], o),
                   budget=budget,
                   workers=workers, executor=executor, progress=progress)
    try:
        if progress is not None:
            progress.stage(f"running the original argument list ({len(args)} tokens)")
        original = ev.evaluate([args], step="original")[0]
        holder["original"] = original
        if original is None or original.status in ("pass", "ref_error", "invalid"):
            why = ("the original argument list does not fail: nothing to shrink" if original is None
                   or original.status == "pass" else
                   f"the reference cannot run the original argument list ({original.status}: "
                   f"{'; '.join(original.notes) or 'see its stderr'}): nothing to shrink")
            return ShrinkResult(args, args, original, original, ev.runs, ev.hits, budget, ev.exhausted,
                                sentence=why, history=ev.history, reproduced=False)
        units = split_units(args)
        if progress is not None:
            progress.stage(f"delta debugging over {len(units)} flag groups ({original.status})")
        cur = ddmin(units, ev)
        if progress is not None:
            progress.stage(f"reducing counts and trying the C defaults on {len(cur)} flag groups")
        cur, changes = _values(cur, ev)
        if progress is not None:
            progress.stage("testing each remaining flag once more, and each removed one added back")
        necessary, supp = _necessity(cur, units, ev)
        minimal = join_units(cur)
        final = ev.cache.get(minimal, original)
        sentence = _sentence(necessary, supp, changes, original.status)
        if ev.exhausted:
            sentence = f"(budget of {budget} comparisons spent: not minimal) {sentence}"
        return ShrinkResult(args, minimal, original, final, ev.runs, ev.hits, budget, ev.exhausted, necessary,
                            changes, supp, sentence, ev.history)
    finally:
        ev.close()
