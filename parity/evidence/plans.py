"""Phased plans: ``plans/active/<ID>/plan.yaml`` (the data) and ``plan.md`` (generated beside it).

plan.md follows the peer's phased format: ``## Context``, then per phase ``### Phase X — title``
with Goal / Prereqs / Exit Criteria and a task table ``| ID | Task | State | How/Why & Guidance |``
with states ``[ ]`` open, ``[P]`` in progress, ``[D]`` done, ``[B]`` blocked. Every change goes
through this module (``pwb plan …``): the time comes from the clock, evidence must be an existing,
complete bundle, and ``[D]`` is refused without one. Writes happen under a lock on the plans root
and are atomic (yaml first, then the markdown rendered from it). ``archive_plan`` moves a plan to
``plans/archive/<ID>/`` with one rename.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Callable, Iterable

import yaml

from parity.evidence import provenance
from parity.evidence.atomic import atomic_write_text, dir_lock
from parity.evidence.store import load_manifest
from parity.evidence.errors import ClockError, EvidenceUsageError, PlanFileError
from parity.evidence.workspace import resolve_workspace

SCHEMA = "pwb.plan/1"
STATES = ("[ ]", "[P]", "[D]", "[B]")
_STATE_ALIASES = {"": "[ ]", "open": "[ ]", "o": "[ ]", "p": "[P]", "d": "[D]", "b": "[B]",
                  "[ ]": "[ ]", "[p]": "[P]", "[d]": "[D]", "[b]": "[B]", "[]": "[ ]"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SUB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")


def default_plans_root() -> Path:
    """``<workspace>/plans`` (see `parity.evidence.workspace`)."""
    return resolve_workspace().plans


def _root(plans_root) -> Path:
    return Path(plans_root) if plans_root is not None else default_plans_root()


def _validate_plan_id(plan_id: str) -> str:
    if not isinstance(plan_id, str) or not _NAME_RE.match(plan_id) or ".." in plan_id:
        raise EvidenceUsageError(f"plan ID {plan_id!r} must be letters, digits, '.', '_' or '-' (no '/', no '..')")
    return plan_id


def _validate_sub_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _SUB_RE.match(value):
        raise EvidenceUsageError(f"{what} {value!r} must be 1-16 letters, digits, '_' or '-'")
    return value


def normalize_state(state: str) -> str:
    """``"[D]"``, ``"D"``, ``"d"`` → ``"[D]"``; ``"open"``/``"[ ]"`` → ``"[ ]"``; else exit 2."""
    key = str(state).strip().lower()
    if key not in _STATE_ALIASES:
        raise EvidenceUsageError(f"state {state!r} is not one of {' '.join(STATES)} (or open/P/D/B)")
    return _STATE_ALIASES[key]


def plan_dir(plans_root, plan_id: str, *, archived: bool = False) -> Path:
    return _root(plans_root) / ("archive" if archived else "active") / _validate_plan_id(plan_id)


# --------------------------------------------------------------------------- load / save
def load_plan(plans_root, plan_id: str, *, archived: bool = False) -> dict:
    """The plan's data (validated); EvidenceUsageError (2) if absent, PlanFileError (5) if malformed."""
    path = plan_dir(plans_root, plan_id, archived=archived) / "plan.yaml"
    if not path.is_file():
        where = "archived" if archived else "active"
        raise EvidenceUsageError(f"no {where} plan {plan_id!r}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlanFileError(f"plan {plan_id}: plan.yaml unreadable: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or data.get("id") != plan_id:
        raise PlanFileError(f"plan {plan_id}: plan.yaml is not a {SCHEMA} document for this ID")
    for phase in data.setdefault("phases", []):
        for task in phase.setdefault("tasks", []):
            if task.get("state") not in STATES:
                raise PlanFileError(f"plan {plan_id}: task {task.get('id')!r} has state {task.get('state')!r}")
    return data


def _save(directory: Path, plan: dict) -> None:
    text = yaml.safe_dump(plan, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    atomic_write_text(directory / "plan.yaml", text)
    atomic_write_text(directory / "plan.md", render_plan_md(plan))


def _now_after(plan: dict) -> str:
    now = provenance.utc_stamp(provenance.utc_now())
    if plan.get("updated_utc") and now < plan["updated_utc"]:
        raise ClockError(f"the clock says {now}, earlier than the plan's last change ({plan['updated_utc']})")
    return now


def _mutate(plans_root, plan_id: str, change: Callable[[dict, str], None]) -> dict:
    root = _root(plans_root)
    directory = plan_dir(root, plan_id)
    if not directory.is_dir():
        raise EvidenceUsageError(f"no active plan {plan_id!r}")
    with dir_lock(root):
        plan = load_plan(root, plan_id)
        now = _now_after(plan)
        change(plan, now)
        plan["updated_utc"] = now
        _save(directory, plan)
    return plan


def _find_phase(plan: dict, phase_id: str) -> dict:
    for phase in plan["phases"]:
        if phase["id"] == phase_id:
            return phase
    raise EvidenceUsageError(f"plan {plan['id']} has no phase {phase_id!r}")


def _find_task(plan: dict, task_id: str) -> tuple[dict, dict]:
    for phase in plan["phases"]:
        for task in phase["tasks"]:
            if task["id"] == task_id:
                return phase, task
    raise EvidenceUsageError(f"plan {plan['id']} has no task {task_id!r}")


# --------------------------------------------------------------------------- operations
def new_plan(plans_root, plan_id: str, *, title: str | None = None, context: str | None = None) -> dict:
    """Create ``active/<ID>/`` with an empty phased plan; an existing (or archived) ID is refused."""
    root = _root(plans_root)
    _validate_plan_id(plan_id)
    (root / "active").mkdir(parents=True, exist_ok=True)
    with dir_lock(root):
        if plan_dir(root, plan_id, archived=True).exists():
            raise EvidenceUsageError(f"plan {plan_id!r} exists in the archive; choose another ID")
        directory = plan_dir(root, plan_id)
        try:
            directory.mkdir()  # atomic claim; no exist_ok
        except FileExistsError:
            raise EvidenceUsageError(f"plan {plan_id!r} already exists") from None
        now = provenance.utc_stamp(provenance.utc_now())
        plan = {"schema": SCHEMA, "id": plan_id, "title": title or plan_id, "created_utc": now, "updated_utc": now,
                "context": (context or "").strip(), "phases": []}
        _save(directory, plan)
    return plan


def add_phase(plans_root, plan_id: str, phase_id: str, *, title: str, goal: str = "", prereqs: str = "",
              exit_criteria: str = "") -> dict:
    """Append phase ``phase_id`` (e.g. ``A``) with its goal, prereqs and exit criteria."""
    _validate_sub_id(phase_id, "phase ID")
    if not title or not title.strip():
        raise EvidenceUsageError("phase title must be non-empty")

    def change(plan: dict, now: str) -> None:
        if any(p["id"] == phase_id for p in plan["phases"]):
            raise EvidenceUsageError(f"plan {plan_id} already has phase {phase_id}")
        plan["phases"].append({"id": phase_id, "title": title.strip(), "goal": goal.strip(),
                               "prereqs": prereqs.strip(), "exit_criteria": exit_criteria.strip(), "tasks": []})

    return _mutate(plans_root, plan_id, change)


def add_task(plans_root, plan_id: str, phase_id: str, task_id: str, *, text: str, guidance: str = "") -> dict:
    """Append open task ``task_id`` to a phase; task IDs are unique within the plan."""
    _validate_sub_id(task_id, "task ID")
    if not text or not text.strip():
        raise EvidenceUsageError("task text must be non-empty")

    def change(plan: dict, now: str) -> None:
        phase = _find_phase(plan, phase_id)
        if any(t["id"] == task_id for p in plan["phases"] for t in p["tasks"]):
            raise EvidenceUsageError(f"plan {plan_id} already has task {task_id}")
        phase["tasks"].append({"id": task_id, "text": text.strip(), "guidance": guidance.strip(), "state": "[ ]",
                               "evidence": [], "history": []})

    return _mutate(plans_root, plan_id, change)


def set_task(plans_root, plan_id: str, task_id: str, state: str, *, evidence: Iterable[str] = (),
             note: str | None = None, reports_root=None) -> dict:
    """Move a task to ``state``; ``evidence`` bundle ids must exist and be complete; ``[D]`` needs one."""
    new_state = normalize_state(state)
    bundle_ids = list(dict.fromkeys(evidence))
    if new_state == "[D]" and not bundle_ids:
        raise EvidenceUsageError(f"marking {task_id} [D] needs --evidence BUNDLE_ID (the bundle that shows it done)")
    records = []
    for bundle_id in bundle_ids:
        manifest = load_manifest(bundle_id, reports_root=reports_root)
        records.append({"id": bundle_id, "status": manifest.get("status"), "kind": manifest.get("kind")})

    def change(plan: dict, now: str) -> None:
        _, task = _find_task(plan, task_id)
        task["state"] = new_state
        known = {e["id"] for e in task["evidence"]}
        task["evidence"] += [dict(r, at_utc=now) for r in records if r["id"] not in known]
        task["history"].append({"at_utc": now, "state": new_state, "evidence": bundle_ids,
                                "note": (note or "").strip() or None})

    return _mutate(plans_root, plan_id, change)


def archive_plan(plans_root, plan_id: str) -> Path:
    """Move ``active/<ID>/`` to ``archive/<ID>/`` (one rename; refused if the archive has it)."""
    root = _root(plans_root)
    source = plan_dir(root, plan_id)
    target = plan_dir(root, plan_id, archived=True)
    (root / "archive").mkdir(parents=True, exist_ok=True)
    with dir_lock(root):
        load_plan(root, plan_id)  # exists and is well-formed
        if target.exists():
            raise EvidenceUsageError(f"plan {plan_id!r} is already in the archive")
        os.rename(source, target)
    return target


# --------------------------------------------------------------------------- status
@dataclasses.dataclass
class PlanStatus:
    """What is open, blocked and done (with the evidence that closed it) in one active plan."""

    id: str
    title: str
    updated_utc: str
    counts: dict[str, int]
    open: list[dict]        # {phase, id, text, state}
    blocked: list[dict]     # {phase, id, text, note}
    done: list[dict]        # {phase, id, text, evidence: [bundle ids]}
    md_stale: bool


def plan_status(plans_root=None) -> list[PlanStatus]:
    """Status of every active plan, sorted by ID."""
    root = _root(plans_root)
    active = root / "active"
    out = []
    for directory in sorted(p for p in active.iterdir() if p.is_dir()) if active.is_dir() else []:
        plan = load_plan(root, directory.name)
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
                    done.append(dict(row, evidence=[e["id"] for e in task["evidence"]]))
                else:
                    open_.append(row)
        md = directory / "plan.md"
        stale = not md.is_file() or md.read_text(encoding="utf-8") != render_plan_md(plan)
        out.append(PlanStatus(id=plan["id"], title=plan["title"], updated_utc=plan["updated_utc"], counts=counts,
                              open=open_, blocked=blocked, done=done, md_stale=stale))
    return out


# --------------------------------------------------------------------------- markdown
def _cell(text) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _guidance(task: dict) -> str:
    parts = [_cell(task.get("guidance"))] if task.get("guidance") else []
    if task["evidence"]:
        parts.append("Evidence: " + ", ".join(f"`{e['id']}` ({e.get('status')})" for e in task["evidence"]))
    notes = [h for h in task["history"] if h.get("note")]
    if notes:
        parts.append(f"Note ({notes[-1]['at_utc'][:10]}): {_cell(notes[-1]['note'])}")
    return "; ".join(parts) or "—"


def render_plan_md(plan: dict) -> str:
    """plan.md for ``plan`` (deterministic: depends on the data only)."""
    counts = {s: 0 for s in STATES}
    for phase in plan["phases"]:
        for task in phase["tasks"]:
            counts[task["state"]] += 1
    out = [f"# Plan {plan['id']} — {plan['title']}", "",
           "<!-- Generated from plan.yaml by `pwb plan`; change it with `pwb plan …`, not by hand. -->", "",
           "## Context", "", f"- Initiative: {plan['id']}", f"- Plan Goal: {plan['title']}",
           f"- Created: {plan['created_utc']}"]
    if plan.get("context"):
        out += ["", plan["context"]]
    out += ["", f"### Status Snapshot ({plan['updated_utc']})", "",
            "- " + " · ".join(f"{s} {counts[s]}" for s in STATES), ""]
    for phase in plan["phases"]:
        out += [f"### Phase {phase['id']} — {phase['title']}", "",
                f"Goal: {phase.get('goal') or 'n/a'}", "", f"Prereqs: {phase.get('prereqs') or 'none'}", "",
                f"Exit Criteria: {phase.get('exit_criteria') or 'n/a'}", "",
                "| ID | Task | State | How/Why & Guidance |", "| --- | --- | --- | --- |"]
        out += [f"| {t['id']} | {_cell(t['text'])} | {t['state']} | {_guidance(t)} |" for t in phase["tasks"]]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
