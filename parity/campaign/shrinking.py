"""Each campaign failure shrunk with ``pwb shrink``'s engine (:func:`parity.triage.shrink.shrink`).

The shrinker's test is :class:`CaseComparer`: one argument list run as a campaign case (the same C, the
same candidate, the case's own input files written beside it, the campaign's judge) and reduced to a
:class:`parity.triage.pair.Outcome` (``status`` and the failed gates). *The same failure* is the same
status with the same failed gates (shrink's ``--keep gates``), so a sum-ratio failure does not shrink
into a different one. The comparisons run on the campaign's executor (``submit``: a Dask cluster or
this process), ``budget`` of them per failure at most. The comparer is a plain picklable object, so it
travels to Dask workers like :func:`parity.campaign.runner.run_case`.
"""
from __future__ import annotations

from parity.campaign.runner import CaseConfig, run_case

__all__ = ["CaseComparer", "make_shrinker", "DEFAULT_BUDGET"]

DEFAULT_BUDGET = 40


class CaseComparer:
    """``compare(args) -> Outcome``: ``args`` as a campaign case with ``files`` (module docstring)."""

    def __init__(self, cfg: CaseConfig, files: dict, case_id: str) -> None:
        self.cfg, self.files, self.case_id = cfg, dict(files), case_id

    def __call__(self, args):
        from parity.triage.pair import Outcome

        spec = {"case_id": f"{self.case_id}-shrink", "args": list(args), "files": self.files, "loops": {}}
        row = run_case(spec, self.cfg)
        failed = tuple(g["name"] for g in row["gates"] if not g["passed"])
        status = row["status"] if row["status"] in ("pass", "fail") else "invalid" if row["status"] == "error" \
            else "pass"                                   # degenerate: nothing fails there
        return Outcome(tuple(args), status, failed, row["gates"], row["metrics"], [row["reason"]] if row["reason"]
                       else [], row.get("task_s") or 0.0)


def _same_failure(original, outcome) -> bool:
    return outcome.status == original.status and set(outcome.failed_gates) == set(original.failed_gates)


def make_shrinker(cfg: CaseConfig, *, executor, budget: int = DEFAULT_BUDGET):
    """A campaign ``shrink_fn(args, files, case_id)`` returning the :class:`ShrinkResult`."""
    from parity.triage.shrink import shrink

    def shrink_fn(args, files, case_id="case"):
        return shrink(list(args), CaseComparer(cfg, files, case_id), keep=_same_failure, budget=budget,
                      workers=max(1, executor.workers), executor=executor)

    return shrink_fn
