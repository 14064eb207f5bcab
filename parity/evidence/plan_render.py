"""``plan.md``: the markdown view of a ``plan.yaml`` (deterministic; depends on the data only).

Peer's phased format: ``## Context``, a status snapshot, then per phase ``### Phase X — title`` with
Goal / Prereqs / Exit Criteria and a task table ``| ID | Task | State | Test | How/Why & Guidance |``.
Only what was given is rendered: an empty goal gives no "Goal:" line, a phase without tasks no
table, and the snapshot is written so markdown does not turn it into a checkbox list. Links are
relative and assume the workspace layout (plan.md at ``<ws>/plans/<active|archive>/<ID>/``, bundles in
``<ws>/reports/``, the fix plan at ``<ws>/docs/fix_plan.md``), so they survive archiving and cloning.
"""
from __future__ import annotations

__all__ = ["STATES", "STATE_NAMES", "render_plan_md", "bundle_link", "test_cell", "counts"]

STATES = ("[ ]", "[P]", "[D]", "[B]")
STATE_NAMES = {"[ ]": "open", "[P]": "in progress", "[D]": "done", "[B]": "blocked"}
_TO_WORKSPACE = "../../../"       # from <ws>/plans/<active|archive>/<ID>/plan.md


def _cell(text) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def bundle_link(bundle_id: str, *, to_workspace: str = _TO_WORKSPACE) -> str:
    """``[`id`](<to_workspace>reports/<id>/summary.html)``."""
    return f"[`{bundle_id}`]({to_workspace}reports/{bundle_id}/summary.html)"


def counts(plan: dict) -> dict[str, int]:
    out = {s: 0 for s in STATES}
    for phase in plan["phases"]:
        for task in phase["tasks"]:
            out[task["state"]] += 1
    return out


def test_cell(task: dict) -> str:
    """The Test column: the cited selectors, ``N/A: reason``, or ``—`` (lint flags that)."""
    if task.get("tests"):
        return "; ".join(f"`{_cell(s)}`" for s in task["tests"])
    if task.get("test_na"):
        return f"N/A: {_cell(task['test_na'])}"
    return "—"


def _guidance(task: dict) -> str:
    parts = [_cell(task.get("guidance"))] if task.get("guidance") else []
    if task.get("evidence"):
        parts.append("Evidence: " + ", ".join(f"{bundle_link(e['id'])} ({e.get('status')})" for e in task["evidence"]))
    forced = task.get("forced")
    if forced:
        parts.append(f"**Forced done** ({forced['at_utc'][:10]}): {_cell(forced.get('note'))}"
                     f" — {_cell(forced.get('reason'))}")
    notes = [h for h in task.get("history") or [] if h.get("note") and not h.get("forced")]
    if notes:
        parts.append(f"Note ({notes[-1]['at_utc'][:10]}): {_cell(notes[-1]['note'])}")
    return "; ".join(parts) or "—"


def _verification_line(v: dict) -> str:
    outcome = {0: "all selectors collected and passed", 1: "a selector failed", 3: "a selector collects nothing"}
    tail = f"; {_cell(v['problem'])}" if v.get("problem") else ""
    return (f"- Last verification: {bundle_link(v['bundle'])} ({v['at_utc']}): "
            f"{outcome.get(v.get('exit_code'), 'exit ' + str(v.get('exit_code')))}, {v.get('selectors', 0)} selector(s){tail}")


def render_plan_md(plan: dict) -> str:
    """plan.md for ``plan`` (same data → same bytes)."""
    n = counts(plan)
    out = [f"# Plan {plan['id']} — {plan['title']}", "",
           "<!-- Generated from plan.yaml by `pwb plan`; change it with `pwb plan …`, not by hand. -->", "",
           "## Context", "", f"- Initiative: {plan['id']}", f"- Plan Goal: {plan['title']}",
           f"- Created: {plan['created_utc']}"]
    if plan.get("fixplan"):
        out.append("- Fix-plan items: " + ", ".join(f"[{i}]({_TO_WORKSPACE}docs/fix_plan.md)" for i in plan["fixplan"]))
    if plan.get("verifications"):
        out.append(_verification_line(plan["verifications"][-1]))
    if plan.get("context"):
        out += ["", plan["context"]]
    out += ["", f"### Status Snapshot ({plan['updated_utc']})", "",
            "Tasks: " + " · ".join(f"{STATE_NAMES[s]} `{s}` {n[s]}" for s in STATES), ""]
    for phase in plan["phases"]:
        out += [f"### Phase {phase['id']} — {phase['title']}", ""]
        for label, key in (("Goal", "goal"), ("Prereqs", "prereqs"), ("Exit Criteria", "exit_criteria")):
            if (phase.get(key) or "").strip():
                out += [f"{label}: {phase[key].strip()}", ""]
        if phase["tasks"]:
            out += ["| ID | Task | State | Test | How/Why & Guidance |", "| --- | --- | --- | --- | --- |"]
            out += [f"| {t['id']} | {_cell(t['text'])} | {t['state']} | {test_cell(t)} | {_guidance(t)} |"
                    for t in phase["tasks"]]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
