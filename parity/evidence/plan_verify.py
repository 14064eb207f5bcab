"""Plans that check themselves: run the tests a plan's tasks cite, refuse ``[D]`` when they do not pass.

For each cited selector (`parity.evidence.plan_selectors`), in the workspace root:

1. ``pytest --collect-only -q`` — 0 tests collected (or a selector naming no file) is a failure of its
   own, named with the task: the plan claims a check that does not exist (exit 3);
2. ``pytest -q --json-report`` (pytest-json-report) — a failure, a collection error or a timeout is
   exit 1.

Both run as ``sys.executable -m pytest`` with a timeout, in their own process group (killed whole on
timeout), without the cache plugin or bytecode writing (no stray files in the workspace). With a
bundle, every log and JSON report goes into it (kind ``plan-verify``, paths scrubbed), with
``verify.json`` holding the results; `verify_plan` links it from the plan. `set_task_checked` is
``pwb plan set``: for ``[D]`` on a task that cites tests, it verifies them first (the bundle is the
evidence) and `parity.evidence.plans.set_task` refuses a failing result unless forced with a note.
`lint_plans` lists tasks with neither a test nor an N/A reason, empty reasons and selectors that no
longer collect.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from parity.evidence import plans
from parity.evidence.errors import EvidenceUsageError, VerifyToolError
from parity.evidence.plan_selectors import selector_args
from parity.evidence.procs import run_bounded
from parity.evidence.workspace import resolve_workspace

__all__ = ["SelectorResult", "verify_selectors", "verify_plan", "verify_task", "set_task_checked", "lint_plans",
           "EXIT_OK", "EXIT_FAILED", "EXIT_NOTHING_COLLECTED", "DEFAULT_TIMEOUT_S"]

EXIT_OK, EXIT_FAILED, EXIT_NOTHING_COLLECTED = 0, 1, 3
DEFAULT_TIMEOUT_S = 600.0
_BASE = ["-m", "pytest", "-p", "no:cacheprovider"]
_SELECTED = re.compile(r"(\d+) selected")
_COLLECTED_Q = re.compile(r"(\d+)(?:/\d+)? tests? collected")
_COLLECTED_V = re.compile(r"collected (\d+) items?")


@dataclasses.dataclass
class SelectorResult:
    """One (task, selector) verification."""

    phase: str
    task: str
    selector: str
    collected: int | None = None       # None: collection failed or timed out
    outcome: str = "not_run"           # passed | failed | no_tests | error | timeout
    reason: str = ""
    collect_rc: int | None = None
    run_rc: int | None = None
    counts: dict = dataclasses.field(default_factory=dict)
    failed_tests: list = dataclasses.field(default_factory=list)
    logs: dict = dataclasses.field(default_factory=dict)   # collect_log, run_log, report (bundle artifact names)

    @property
    def exit_code(self) -> int:
        return {"passed": EXIT_OK, "no_tests": EXIT_NOTHING_COLLECTED}.get(self.outcome, EXIT_FAILED)


def check_tools() -> None:
    """VerifyToolError (exit 5) when this interpreter lacks pytest or pytest-json-report."""
    missing = [name for name, mod in (("pytest", "pytest"), ("pytest-json-report", "pytest_jsonreport"))
               if importlib.util.find_spec(mod) is None]
    if missing:
        raise VerifyToolError(f"verifying plan tests needs {' and '.join(missing)} in {Path(sys.executable).name}"
                              " (pip install pytest pytest-json-report)")


def _pytest(args: list[str], *, cwd: Path, timeout_s: float, log: Path) -> int | None:
    """Run pytest with ``args``; output (stdout + stderr) to ``log``; None on timeout (group killed)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    code, out, err = run_bounded([sys.executable, *_BASE, *args], cwd=cwd, env=env, timeout_s=timeout_s,
                                 merge_stderr=True)
    if code is None:
        out += f"\n[pwb plan verify: killed after {timeout_s:g} s]\n"
    log.write_text(out + err)
    return code


def _first_error(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip().startswith(("ERROR", "E "))), "")
    return line[:200]


def _collected(text: str) -> int | None:
    for pattern in (_SELECTED, _COLLECTED_Q, _COLLECTED_V):
        found = pattern.findall(text)
        if found:
            return int(found[-1])
    return 0 if "no tests collected" in text or "no tests ran" in text else None


def _verify_one(r: SelectorResult, *, cwd: Path, timeout_s: float, scratch: Path, k: int) -> None:
    args = selector_args(r.selector)
    collect_log, run_log, report = (scratch / f"{k}-{n}" for n in ("collect.log", "run.log", "pytest.json"))
    r.logs["collect_log"] = collect_log.name
    r.collect_rc = _pytest([*args, "--collect-only", "-q"], cwd=cwd, timeout_s=timeout_s, log=collect_log)
    text = collect_log.read_text(errors="replace")
    if r.collect_rc is None:
        r.outcome, r.reason = "timeout", f"collection timed out after {timeout_s:g} s"
        return
    r.collected = _collected(text) if r.collect_rc in (0, 5) else (0 if r.collect_rc == 4 else None)
    if r.collect_rc == 4 or r.collected == 0:
        r.outcome = "no_tests"
        r.reason = "collects nothing" + (f" ({_first_error(text)})" if _first_error(text) else "")
        return
    if r.collect_rc != 0 or r.collected is None:
        r.outcome, r.reason = "error", f"collection failed (pytest exit {r.collect_rc}) {_first_error(text)}".strip()
        return
    r.logs.update(run_log=run_log.name, report=report.name)
    r.run_rc = _pytest([*args, "-q", "--json-report", f"--json-report-file={report}",
                        "--json-report-omit", "collectors", "keywords", "log"], cwd=cwd, timeout_s=timeout_s, log=run_log)
    data = json.loads(report.read_text()) if report.is_file() else {}
    r.counts = {k: v for k, v in (data.get("summary") or {}).items() if isinstance(v, int)}
    r.failed_tests = [t["nodeid"] for t in data.get("tests") or [] if t.get("outcome") in ("failed", "error")]
    if r.run_rc is None:
        r.outcome, r.reason = "timeout", f"tests timed out after {timeout_s:g} s"
    elif r.run_rc == 0:
        r.outcome, r.reason = "passed", f"{r.counts.get('passed', 0)} passed"
    elif r.run_rc == 5:
        r.outcome, r.reason = "no_tests", "collects nothing when run"
    elif r.run_rc == 1:
        names = ", ".join(r.failed_tests[:3]) + (" …" if len(r.failed_tests) > 3 else "")
        r.outcome, r.reason = "failed", f"{r.counts.get('failed', 0) + r.counts.get('error', 0)} failed ({names})"
    else:
        r.outcome, r.reason = "error", f"pytest exit {r.run_rc} {_first_error(run_log.read_text(errors='replace'))}".strip()


def verify_selectors(items: list[tuple[str, str, str]], *, cwd: str | os.PathLike | None = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S, bundle=None) -> dict:
    """Verify ``(phase, task, selector)`` items in ``cwd`` (default: the workspace root).

    Returns ``{"exit_code", "problem", "results": [...], "selectors": [...]}``: 3 when a selector
    collects nothing, else 1 when one fails, else 0; ``problem`` names the first bad task.
    With ``bundle`` (an open evidence bundle) every log and JSON report is added to it.
    """
    check_tools()
    root = Path(cwd) if cwd is not None else resolve_workspace().root
    results = [SelectorResult(phase=p, task=t, selector=s) for p, t, s in items]
    with tempfile.TemporaryDirectory(prefix="pwb-verify-") as tmp:
        for k, r in enumerate(results, start=1):
            scratch = Path(tmp) / r.task
            scratch.mkdir(exist_ok=True)
            _verify_one(r, cwd=root, timeout_s=timeout_s, scratch=scratch, k=k)
            if bundle is not None:
                for key, name in list(r.logs.items()):
                    src = scratch / name
                    if src.is_file():
                        r.logs[key] = f"{r.task}/{name}"
                        bundle.write_text(r.logs[key], src.read_text(errors="replace"))
    code = max((r.exit_code for r in results), key=lambda c: (c == EXIT_NOTHING_COLLECTED, c), default=EXIT_OK)
    bad = next((r for r in results if r.exit_code == code and code != EXIT_OK), None)
    return {"exit_code": code, "problem": f"task {bad.task} `{bad.selector}`: {bad.reason}" if bad else None,
            "results": [dataclasses.asdict(r) for r in results], "selectors": [r.selector for r in results]}


def _items(plan: dict, task_id: str | None) -> list[tuple[str, str, str]]:
    if task_id is not None:
        phase, task = plans.find_task(plan, task_id)
        return [(phase["id"], task["id"], s) for s in task["tests"]]
    return [(p["id"], t["id"], s) for p in plan["phases"] for t in p["tasks"] for s in t["tests"]]


def _record(bundle, result: dict, *, plan_id: str) -> None:
    bundle.write_json("verify.json", {"plan": plan_id, **result})
    rows = result["results"]
    bundle.add_metrics({"selectors": len(rows), "passed": sum(r["outcome"] == "passed" for r in rows),
                        "failed": sum(r["outcome"] in ("failed", "error", "timeout") for r in rows),
                        "collect_nothing": sum(r["outcome"] == "no_tests" for r in rows)}, headline=True)
    bundle.set_exit_code("verify", result["exit_code"])
    bundle.set_status("passed" if result["exit_code"] == EXIT_OK else "failed")


def _verify(plans_root, plan_id: str, task_id: str | None, *, bundle: bool, slug: str, argv, reports_root,
            timeout_s: float) -> dict:
    plan = plans.load_plan(plans_root, plan_id)
    items = _items(plan, task_id)
    check_tools()
    if not bundle:
        return dict(verify_selectors(items, timeout_s=timeout_s), bundle=None)
    from parity.evidence.bundle import open_bundle

    with open_bundle(kind="plan-verify", slug=slug, argv=argv or ["pwb", "plan", "verify", plan_id],
                     reports_root=reports_root, config={"plan": plan_id, "task": task_id}) as b:
        result = verify_selectors(items, timeout_s=timeout_s, bundle=b)
        _record(b, result, plan_id=plan_id)
    return dict(result, bundle=b.id)


def verify_plan(plans_root, plan_id: str, *, task_id: str | None = None, bundle: bool = False, argv=None,
                reports_root=None, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict:
    """Verify every selector the plan (or one task) cites; with ``bundle`` the bundle is linked from the plan."""
    result = _verify(plans_root, plan_id, task_id, bundle=bundle, slug=f"verify-{plan_id}", argv=argv,
                     reports_root=reports_root, timeout_s=timeout_s)
    if result["bundle"] and result["results"]:
        plans.record_verification(plans_root, plan_id, result, reports_root=reports_root)
    return result


def verify_task(plans_root, plan_id: str, task_id: str, *, argv=None, reports_root=None,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> dict:
    """Verify one task's selectors into a bundle (the evidence for marking it done)."""
    return _verify(plans_root, plan_id, task_id, bundle=True, slug=f"verify-{plan_id}-{task_id}", argv=argv,
                   reports_root=reports_root, timeout_s=timeout_s)


def set_task_checked(plans_root, plan_id: str, task_id: str, state: str, *, evidence=(), note: str | None = None,
                     force: bool = False, reports_root=None, argv=None, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict:
    """``pwb plan set``: for ``[D]`` on a task citing tests, verify them first; then `plans.set_task`."""
    verification = None
    if plans.normalize_state(state) == "[D]":
        if force and not (note or "").strip():
            raise EvidenceUsageError("--force needs --note (why the task is done although its tests say otherwise)")
        _, task = plans.find_task(plans.load_plan(plans_root, plan_id), task_id)
        if task["tests"]:
            verification = verify_task(plans_root, plan_id, task_id, argv=argv, reports_root=reports_root,
                                       timeout_s=timeout_s)
    return plans.set_task(plans_root, plan_id, task_id, state, evidence=evidence, note=note, force=force,
                          reports_root=reports_root, verification=verification)


def lint_plans(plans_root=None, plan_ids=None, *, collect: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[str]:
    """One line per finding: a task with neither a test nor an N/A reason, an empty N/A reason, a selector
    that does not parse or (with ``collect``) no longer collects."""
    findings = []
    for plan_id in plan_ids or plans.plan_ids(plans_root):
        plan = plans.load_plan(plans_root, plan_id)
        to_collect = []
        for phase in plan["phases"]:
            for task in phase["tasks"]:
                where = f"{plan_id}/{task['id']}"
                na = task.get("test_na")
                if not task["tests"] and na is None:
                    findings.append(f"{where}: neither a test (--test SELECTOR) nor an N/A reason (--test-na REASON)")
                elif na is not None and not str(na).strip():
                    findings.append(f"{where}: empty N/A reason")
                for selector in task["tests"]:
                    try:
                        selector_args(selector)
                        to_collect.append((phase["id"], task["id"], selector))
                    except EvidenceUsageError as exc:
                        findings.append(f"{where}: {exc}")
        if collect and to_collect:
            check_tools()
            root = resolve_workspace().root
            with tempfile.TemporaryDirectory(prefix="pwb-lint-") as tmp:
                for k, (p, t, s) in enumerate(to_collect):
                    rc = _pytest([*selector_args(s), "--collect-only", "-q"], cwd=root, timeout_s=timeout_s,
                                 log=Path(tmp) / f"{k}.log")
                    text = (Path(tmp) / f"{k}.log").read_text(errors="replace")
                    if rc is None or rc not in (0,) or not _collected(text):
                        why = "timed out" if rc is None else f"pytest exit {rc}" if rc not in (0, 5) else "0 tests"
                        findings.append(f"{plan_id}/{t}: selector `{s}` no longer collects ({why})")
    return findings
