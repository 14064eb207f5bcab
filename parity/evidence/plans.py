"""Phased plans: ``<ws>/plans/active/<ID>/plan.yaml`` (the data) and ``plan.md`` (generated beside it).

States ``[ ]`` open, ``[P]`` in progress, ``[D]`` done, ``[B]`` blocked. Each task cites the tests that
show it done (``tests``: pytest selectors, `parity.evidence.plan_selectors`) or says why none can
(``test_na``). Every change goes through this module (``pwb plan …``): the time comes from the clock,
evidence must be an existing, complete bundle, and ``[D]`` is refused without evidence; for a task
that cites tests the evidence is their verification (`parity.evidence.plan_verify`), and a failing
or empty one refuses ``[D]`` unless forced with a note the rendered plan shows. Writes happen under
a lock on the plans root and are atomic (yaml first, then plan.md from it, then the reports index).
A plan links fix-plan items both ways (``link_fixplan``); ``archive_plan`` moves it to
``plans/archive/<ID>/`` with one rename. The markdown is `parity.evidence.plan_render`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

import yaml

from parity.evidence import provenance
from parity.evidence.atomic import atomic_write_text, dir_lock
from parity.evidence.errors import ClockError, EvidenceUsageError, PlanFileError, TaskNotVerifiedError
from parity.evidence.plan_render import STATES, render_plan_md
from parity.evidence.plan_selectors import validate_na_reason, validate_selector
from parity.evidence.store import load_manifest, resolve_bundle_id
from parity.evidence.workspace import resolve_workspace

SCHEMA = "pwb.plan/1"
_STATE_ALIASES = {"": "[ ]", "open": "[ ]", "o": "[ ]", "p": "[P]", "d": "[D]", "b": "[B]",
                  "[ ]": "[ ]", "[p]": "[P]", "[d]": "[D]", "[b]": "[B]", "[]": "[ ]"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SUB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
_KEEP_VERIFICATIONS = 20


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


def _text(value: str | None, what: str) -> str:
    if not value or not value.strip():
        raise EvidenceUsageError(f"{what} must be non-empty")
    return value.strip()


def normalize_state(state: str) -> str:
    """``"[D]"``, ``"D"``, ``"d"`` → ``"[D]"``; ``"open"``/``"[ ]"`` → ``"[ ]"``; else exit 2."""
    key = str(state).strip().lower()
    if key not in _STATE_ALIASES:
        raise EvidenceUsageError(f"state {state!r} is not one of {' '.join(STATES)} (or open/P/D/B)")
    return _STATE_ALIASES[key]


def plan_dir(plans_root, plan_id: str, *, archived: bool = False) -> Path:
    return _root(plans_root) / ("archive" if archived else "active") / _validate_plan_id(plan_id)


def plan_ids(plans_root=None) -> list[str]:
    """IDs of the active plans, sorted."""
    active = _root(plans_root) / "active"
    return sorted(p.name for p in active.iterdir() if p.is_dir()) if active.is_dir() else []


# --------------------------------------------------------------------------- load / save
def load_plan(plans_root, plan_id: str, *, archived: bool = False) -> dict:
    """The plan's data (validated, missing optional keys filled); EvidenceUsageError (2) if absent,
    PlanFileError (5) if malformed."""
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
    data.setdefault("fixplan", [])
    data.setdefault("verifications", [])
    for phase in data.setdefault("phases", []):
        for task in phase.setdefault("tasks", []):
            if task.get("state") not in STATES:
                raise PlanFileError(f"plan {plan_id}: task {task.get('id')!r} has state {task.get('state')!r}")
            for key, default in (("tests", []), ("test_na", None), ("evidence", []), ("history", []),
                                 ("guidance", ""), ("forced", None)):
                task.setdefault(key, default)
            if not isinstance(task["tests"], list):
                raise PlanFileError(f"plan {plan_id}: task {task.get('id')!r} has tests {task['tests']!r} (not a list)")
    return data


def _save(directory: Path, plan: dict) -> None:
    text = yaml.safe_dump(plan, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    atomic_write_text(directory / "plan.yaml", text)
    atomic_write_text(directory / "plan.md", render_plan_md(plan))


def _refresh_index(root: Path, reports_root=None) -> None:
    """The views a plan change touches: docs/fix_plan.md (when rendered already; it links the plans) and the index."""
    from parity.evidence import ledger

    ledger.refresh_views(ledger.ledger_path(root), reports_root)


def _now_after(plan: dict) -> str:
    now = provenance.utc_stamp(provenance.utc_now())
    if plan.get("updated_utc") and now < plan["updated_utc"]:
        raise ClockError(f"the clock says {now}, earlier than the plan's last change ({plan['updated_utc']})")
    return now


def _mutate(plans_root, plan_id: str, change: Callable[[dict, str], None], *, reports_root=None) -> dict:
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
    _refresh_index(root, reports_root)
    return plan


def _find_phase(plan: dict, phase_id: str) -> dict:
    for phase in plan["phases"]:
        if phase["id"] == phase_id:
            return phase
    raise EvidenceUsageError(f"plan {plan['id']} has no phase {phase_id!r}")


def find_task(plan: dict, task_id: str) -> tuple[dict, dict]:
    """``(phase, task)`` of ``task_id``; EvidenceUsageError (2) when the plan has none."""
    for phase in plan["phases"]:
        for task in phase["tasks"]:
            if task["id"] == task_id:
                return phase, task
    raise EvidenceUsageError(f"plan {plan['id']} has no task {task_id!r}")


def _test_fields(tests: Sequence[str] | None, test_na: str | None) -> tuple[list[str] | None, str | None]:
    if tests and test_na is not None:
        raise EvidenceUsageError("give --test SELECTOR or --test-na REASON, not both")
    clean = [validate_selector(s) for s in tests] if tests is not None else None
    return (list(dict.fromkeys(clean)) if clean is not None else None,
            validate_na_reason(test_na) if test_na is not None else None)


# --------------------------------------------------------------------------- plans and phases
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
                "context": (context or "").strip(), "fixplan": [], "verifications": [], "phases": []}
        _save(directory, plan)
    _refresh_index(root)
    return plan


def add_phase(plans_root, plan_id: str, phase_id: str, *, title: str, goal: str = "", prereqs: str = "",
              exit_criteria: str = "") -> dict:
    """Append phase ``phase_id`` (e.g. ``A``) with its goal, prereqs and exit criteria (each optional)."""
    _validate_sub_id(phase_id, "phase ID")
    title = _text(title, "phase title")

    def change(plan: dict, now: str) -> None:
        if any(p["id"] == phase_id for p in plan["phases"]):
            raise EvidenceUsageError(f"plan {plan_id} already has phase {phase_id}")
        plan["phases"].append({"id": phase_id, "title": title, "goal": (goal or "").strip(),
                               "prereqs": (prereqs or "").strip(), "exit_criteria": (exit_criteria or "").strip(),
                               "tasks": []})

    return _mutate(plans_root, plan_id, change)


def edit_phase(plans_root, plan_id: str, phase_id: str, *, title: str | None = None, goal: str | None = None,
               prereqs: str | None = None, exit_criteria: str | None = None) -> dict:
    """Change the given fields of a phase (``""`` clears goal/prereqs/exit criteria)."""
    fields = {"goal": goal, "prereqs": prereqs, "exit_criteria": exit_criteria}
    if title is None and all(v is None for v in fields.values()):
        raise EvidenceUsageError("nothing to change (give --title, --goal, --prereqs or --exit-criteria)")
    new_title = _text(title, "phase title") if title is not None else None

    def change(plan: dict, now: str) -> None:
        phase = _find_phase(plan, phase_id)
        if new_title is not None:
            phase["title"] = new_title
        phase.update({k: v.strip() for k, v in fields.items() if v is not None})

    return _mutate(plans_root, plan_id, change)


def remove_phase(plans_root, plan_id: str, phase_id: str, *, force: bool = False) -> dict:
    """Remove a phase; one that still has tasks is refused unless ``force`` (its tasks go with it)."""
    def change(plan: dict, now: str) -> None:
        phase = _find_phase(plan, phase_id)
        if phase["tasks"] and not force:
            raise EvidenceUsageError(f"phase {phase_id} has {len(phase['tasks'])} task(s): remove them first or"
                                     " give --force")
        plan["phases"].remove(phase)

    return _mutate(plans_root, plan_id, change)


# --------------------------------------------------------------------------- tasks
def add_task(plans_root, plan_id: str, phase_id: str, task_id: str, *, text: str, guidance: str = "",
             tests: Sequence[str] = (), test_na: str | None = None) -> dict:
    """Append open task ``task_id`` to a phase, citing test selectors or an N/A reason; task IDs are
    unique within the plan."""
    _validate_sub_id(task_id, "task ID")
    text = _text(text, "task text")
    clean_tests, na = _test_fields(list(tests), test_na)

    def change(plan: dict, now: str) -> None:
        phase = _find_phase(plan, phase_id)
        if any(t["id"] == task_id for p in plan["phases"] for t in p["tasks"]):
            raise EvidenceUsageError(f"plan {plan_id} already has task {task_id}")
        phase["tasks"].append({"id": task_id, "text": text, "guidance": (guidance or "").strip(), "state": "[ ]",
                               "tests": clean_tests, "test_na": na, "evidence": [], "history": []})

    return _mutate(plans_root, plan_id, change)


def edit_task(plans_root, plan_id: str, task_id: str, *, text: str | None = None, guidance: str | None = None,
              tests: Sequence[str] | None = None, test_na: str | None = None, no_test: bool = False,
              phase: str | None = None) -> dict:
    """Change a task: text, guidance, its tests (``tests`` replaces them; ``test_na`` replaces them by an
    N/A reason; ``no_test`` clears both) or its phase (moved to the end of ``phase``)."""
    if no_test and (tests or test_na is not None):
        raise EvidenceUsageError("--no-test clears the tests; do not give --test/--test-na with it")
    clean_tests, na = _test_fields(list(tests) if tests else None, test_na)
    new_text = _text(text, "task text") if text is not None else None
    if all(v is None for v in (new_text, guidance, clean_tests, na, phase)) and not no_test:
        raise EvidenceUsageError("nothing to change (give --text, --guidance, --test, --test-na, --no-test or --phase)")

    def change(plan: dict, now: str) -> None:
        current, task = find_task(plan, task_id)
        if new_text is not None:
            task["text"] = new_text
        if guidance is not None:
            task["guidance"] = guidance.strip()
        if clean_tests is not None or no_test:
            task["tests"], task["test_na"] = clean_tests or [], None
        if na is not None:
            task["tests"], task["test_na"] = [], na
        if phase is not None and phase != current["id"]:
            target = _find_phase(plan, phase)
            current["tasks"].remove(task)
            target["tasks"].append(task)

    return _mutate(plans_root, plan_id, change)


def remove_task(plans_root, plan_id: str, task_id: str) -> dict:
    """Remove a task (its evidence bundles stay in reports/)."""
    def change(plan: dict, now: str) -> None:
        phase, task = find_task(plan, task_id)
        phase["tasks"].remove(task)

    return _mutate(plans_root, plan_id, change)


def set_task(plans_root, plan_id: str, task_id: str, state: str, *, evidence: Iterable[str] = (),
             note: str | None = None, reports_root=None, verification: dict | None = None,
             force: bool = False) -> dict:
    """Move a task to ``state``; ``evidence`` bundle ids must exist and be complete.

    ``[D]`` needs evidence. For a task citing tests that is ``verification`` (`plan_verify.verify_task`
    output, its bundle becomes evidence): a failing one, or one that collects nothing, is refused
    (TaskNotVerifiedError, exit 1 or 3) unless ``force`` with a ``note``, which the plan records and shows.
    """
    new_state = normalize_state(state)
    bundle_ids = [resolve_bundle_id(b, reports_root=reports_root) for b in dict.fromkeys(evidence)]
    if verification is not None and verification.get("bundle"):
        bundle_ids.append(verification["bundle"])
    if force and not (note or "").strip():
        raise EvidenceUsageError("--force needs --note (why the task is done although its tests say otherwise)")
    records = []
    for bundle_id in dict.fromkeys(bundle_ids):
        manifest = load_manifest(bundle_id, reports_root=reports_root)
        records.append({"id": bundle_id, "status": manifest.get("status"), "kind": manifest.get("kind")})

    def change(plan: dict, now: str) -> None:
        _, task = find_task(plan, task_id)
        forced = None
        if new_state == "[D]" and task["tests"]:
            if verification is None or verification.get("selectors") != task["tests"]:
                raise EvidenceUsageError(f"{task_id} cites tests: they must be verified to mark it [D]"
                                         " (pwb plan set runs them)")
            if verification["exit_code"] != 0:
                if not force:
                    raise TaskNotVerifiedError(f"refused: {task_id} cannot be [D]: {verification['problem']}"
                                               " (fix it, or --force --note WHY)", exit_code=verification["exit_code"])
                forced = {"at_utc": now, "note": note.strip(), "reason": verification["problem"],
                          "bundle": verification.get("bundle")}
        elif new_state == "[D]" and not records:
            raise EvidenceUsageError(f"marking {task_id} [D] needs --evidence BUNDLE_ID (the bundle that shows it done)")
        task["state"] = new_state
        task["forced"] = forced if new_state == "[D]" else None
        known = {e["id"] for e in task["evidence"]}
        task["evidence"] += [dict(r, at_utc=now) for r in records if r["id"] not in known]
        task["history"].append({"at_utc": now, "state": new_state, "evidence": [r["id"] for r in records],
                                "note": (note or "").strip() or None, **({"forced": True} if forced else {})})

    return _mutate(plans_root, plan_id, change, reports_root=reports_root)


def record_verification(plans_root, plan_id: str, result: dict, *, reports_root=None) -> dict:
    """Link a verification bundle from the plan (its last ``_KEEP_VERIFICATIONS`` are kept)."""
    row = {k: result.get(k) for k in ("bundle", "exit_code", "selectors", "problem")}
    row["selectors"] = len(result.get("results") or [])

    def change(plan: dict, now: str) -> None:
        plan["verifications"] = (plan["verifications"] + [dict(row, at_utc=now)])[-_KEEP_VERIFICATIONS:]

    return _mutate(plans_root, plan_id, change, reports_root=reports_root)


def link_fixplan(plans_root, plan_id: str, item_id: str, *, ledger_path=None) -> dict:
    """Link the plan and fix-plan item ``item_id`` both ways: the plan lists the item, the ledger records
    ``item.link`` (the rendered fix plan links the plan). The item must exist (exit 2)."""
    from parity.evidence import ledger

    root = _root(plans_root)
    path = Path(ledger_path) if ledger_path is not None else ledger.ledger_path(root)
    load_plan(root, plan_id)
    if item_id not in ledger.load_ledger(path).items:
        raise EvidenceUsageError(f"no fix-plan item {item_id!r} in {path.name}")
    ledger.link_plan(path, item_id, plan_id)

    def change(plan: dict, now: str) -> None:
        if item_id not in plan["fixplan"]:
            plan["fixplan"].append(item_id)

    return _mutate(root, plan_id, change)


def rerender(plans_root=None, ids: Sequence[str] | None = None) -> list[str]:
    """Rewrite plan.md of these (default: every active) plans from plan.yaml, data unchanged."""
    root = _root(plans_root)
    ids = list(ids or plan_ids(root))
    for plan_id in ids:
        load_plan(root, plan_id)  # exists and is well-formed (exit 2 / 5 otherwise)
        with dir_lock(root):
            _save(plan_dir(root, plan_id), load_plan(root, plan_id))
    _refresh_index(root)
    return ids


def archive_plan(plans_root, plan_id: str) -> Path:
    """Move ``active/<ID>/`` to ``archive/<ID>/`` (one rename; refused if the archive has it); linked
    fix-plan items are told, so their links follow."""
    from parity.evidence import ledger

    root = _root(plans_root)
    source = plan_dir(root, plan_id)
    target = plan_dir(root, plan_id, archived=True)
    (root / "archive").mkdir(parents=True, exist_ok=True)
    with dir_lock(root):
        plan = load_plan(root, plan_id)  # exists and is well-formed
        if target.exists():
            raise EvidenceUsageError(f"plan {plan_id!r} is already in the archive")
        os.rename(source, target)
    path = ledger.ledger_path(root)
    for item_id in plan["fixplan"]:
        ledger.link_plan(path, item_id, plan_id, archived=True)
    _refresh_index(root)
    return target
