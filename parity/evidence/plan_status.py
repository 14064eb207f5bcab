"""``pwb plan status``: across the active plans, what is open, blocked and done (and with which evidence)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from parity.evidence.plan_render import STATES, render_plan_md
from parity.evidence.plans import default_plans_root, load_plan, plan_ids

__all__ = ["PlanStatus", "plan_status"]


@dataclasses.dataclass
class PlanStatus:
    """What is open, blocked and done (with the evidence that closed it) in one active plan."""

    id: str
    title: str
    updated_utc: str
    counts: dict[str, int]
    open: list[dict]        # {phase, id, text, state}
    blocked: list[dict]     # {phase, id, text, note}
    done: list[dict]        # {phase, id, text, evidence: [bundle ids]} (+ forced: note when forced)
    md_stale: bool


def plan_status(plans_root=None) -> list[PlanStatus]:
    """Status of every active plan, sorted by ID."""
    root = Path(plans_root) if plans_root is not None else default_plans_root()
    out = []
    for plan_id in plan_ids(root):
        plan = load_plan(root, plan_id)
        counts = {s: 0 for s in STATES}
        open_, blocked, done = [], [], []
        for phase in plan["phases"]:
            for task in phase["tasks"]:
                counts[task["state"]] += 1
                row = {"phase": phase["id"], "id": task["id"], "text": task["text"], "state": task["state"]}
                if task["state"] == "[B]":
                    notes = [h.get("note") for h in task["history"] if h.get("note")]
                    blocked.append(dict(row, note=notes[-1] if notes else None))
                elif task["state"] == "[D]":
                    done.append(dict(row, evidence=[e["id"] for e in task["evidence"]],
                                     **({"forced": task["forced"]["note"]} if task.get("forced") else {})))
                else:
                    open_.append(row)
        md = root / "active" / plan_id / "plan.md"
        stale = not md.is_file() or md.read_text(encoding="utf-8") != render_plan_md(plan)
        out.append(PlanStatus(id=plan["id"], title=plan["title"], updated_utc=plan["updated_utc"], counts=counts,
                              open=open_, blocked=blocked, done=done, md_stale=stale))
    return out
