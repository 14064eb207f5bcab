"""Plans that check themselves (issue #18) and plans edited in general (issue #15 item 4).

A tmp git repository with two tiny tests of its own is the workspace; `pwb plan` runs real pytest
subprocesses there (collect, then run with pytest-json-report).
"""
from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from cli.app import app
from conftest import make_git_workspace

TINY = "def test_ok():\n    assert 1 + 1 == 2\n\n\ndef test_bad():\n    assert 1 + 1 == 3\n"
OK, BAD, MISSING = "tests/test_tiny.py::test_ok", "tests/test_tiny.py::test_bad", "tests/test_tiny.py::test_gone"


@pytest.fixture
def ws(tmp_path, monkeypatch):
    root = tmp_path / "project"
    make_git_workspace(root)
    (root / "tests").mkdir()
    (root / "tests" / "test_tiny.py").write_text(TINY)
    monkeypatch.setenv("PWB_WORKSPACE", str(root))
    monkeypatch.chdir(root)
    return root


def pwb(*args):
    return CliRunner().invoke(app, list(args))


def _plan(*tasks):
    assert pwb("plan", "new", "P", "--title", "checks").exit_code == 0
    assert pwb("plan", "add-phase", "P", "A", "--title", "Phase A").exit_code == 0
    for task_id, *opts in tasks:
        res = pwb("plan", "add-task", "P", "A", task_id, "--text", f"task {task_id}", *opts)
        assert res.exit_code == 0, res.output


def _task(ws, task_id):
    data = yaml.safe_load((ws / "plans" / "active" / "P" / "plan.yaml").read_text())
    return next(t for p in data["phases"] for t in p["tasks"] if t["id"] == task_id)


def test_selector_collecting_nothing_exits_3_and_names_the_task(ws):
    _plan(("A1", "--test", OK), ("A2", "--test", MISSING), ("A3", "--test", "-k nosuchtest"))
    res = pwb("plan", "verify", "P")
    assert res.exit_code == 3, res.output
    assert "NO_TESTS A/A2" in res.output and "NO_TESTS A/A3" in res.output and "PASSED   A/A1" in res.output
    assert "task A2" in res.output and "collects nothing" in res.output
    assert not (ws / "reports").exists() or not any(p.is_dir() for p in (ws / "reports").iterdir())  # no --bundle


def test_failing_selector_exits_1(ws):
    _plan(("A1", "--test", OK), ("A2", "--test", BAD))
    res = pwb("plan", "verify", "P", "--json", str(ws.parent / "verify.json"))
    assert res.exit_code == 1, res.output
    result = json.loads((ws.parent / "verify.json").read_text())
    bad = next(r for r in result["results"] if r["task"] == "A2")
    assert bad["outcome"] == "failed" and bad["failed_tests"] == [BAD] and "A2" in result["problem"]


def test_passing_selector_with_its_pytest_json_in_a_bundle_linked_from_the_plan(ws):
    _plan(("A1", "--test", OK, "--test", "tests/test_tiny.py -k ok"))
    res = pwb("plan", "verify", "P", "--bundle")
    assert res.exit_code == 0, res.output
    (bundle,) = [p for p in (ws / "reports").iterdir() if p.is_dir()]
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["kind"] == "plan-verify" and manifest["status"] == "passed"
    assert manifest["metrics"]["passed"] == 2 and manifest["exit_codes"] == {"verify": 0}
    report = json.loads((bundle / "A1" / "1-pytest.json").read_text())
    assert report["summary"]["passed"] == 1 and report["tests"][0]["nodeid"] == OK
    assert (bundle / "A1" / "1-collect.log").is_file() and (bundle / "A1" / "2-run.log").is_file()
    assert str(ws) not in (bundle / "A1" / "1-run.log").read_text()     # paths scrubbed
    md = (ws / "plans" / "active" / "P" / "plan.md").read_text()
    assert f"Last verification: [`{bundle.name}`](../../../reports/{bundle.name}/summary.html)" in md
    assert f"`{OK}`; `tests/test_tiny.py -k ok`" in md                   # the Test column
    assert f'href="../plans/active/P/plan.md"' in (ws / "reports" / "index.html").read_text()


def test_done_is_refused_while_the_tests_do_not_pass_unless_forced_with_a_note(ws):
    _plan(("A1", "--test", OK), ("A2", "--test", BAD), ("A3", "--test", MISSING))
    refused = pwb("plan", "set", "P", "A2", "D")
    assert refused.exit_code == 1 and "refused" in refused.output and "1 failed" in refused.output
    assert _task(ws, "A2")["state"] == "[ ]"
    empty = pwb("plan", "set", "P", "A3", "D")
    assert empty.exit_code == 3 and "collects nothing" in empty.output and _task(ws, "A3")["state"] == "[ ]"
    assert pwb("plan", "set", "P", "A2", "D", "--force").exit_code == 2       # --force needs --note
    forced = pwb("plan", "set", "P", "A2", "D", "--force", "--note", "flaky upstream, tracked in #99")
    assert forced.exit_code == 0 and "forced" in forced.output
    task = _task(ws, "A2")
    assert task["state"] == "[D]" and task["forced"]["note"] == "flaky upstream, tracked in #99"
    md = (ws / "plans" / "active" / "P" / "plan.md").read_text()
    assert "**Forced done**" in md and "flaky upstream, tracked in #99" in md
    done = pwb("plan", "set", "P", "A1", "D")                                 # no --evidence: the run is the evidence
    assert done.exit_code == 0, done.output
    (evidence,) = _task(ws, "A1")["evidence"]
    assert evidence["kind"] == "plan-verify" and evidence["status"] == "passed"


def test_lint_flags_unchecked_tasks_empty_reasons_and_dead_selectors(ws):
    _plan(("A1", "--test", OK), ("A2",), ("A3", "--test-na", "needs a GPU we do not have"), ("A4", "--test", MISSING))
    assert pwb("plan", "add-task", "P", "A", "A5", "--text", "x", "--test-na", "  ").exit_code == 2
    assert pwb("plan", "add-task", "P", "A", "A6", "--text", "x", "--test", "-p no:foo").exit_code == 2
    assert pwb("plan", "add-task", "P", "A", "A7", "--text", "x", "--test", OK, "--test-na", "r").exit_code == 2
    path = ws / "plans" / "active" / "P" / "plan.yaml"
    data = yaml.safe_load(path.read_text())
    data["phases"][0]["tasks"][2]["test_na"] = ""                            # a hand edit
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = pwb("plan", "lint")
    assert res.exit_code == 1
    findings = [ln for ln in res.output.splitlines() if ln.startswith("FINDING")]
    assert len(findings) == 3, res.output
    assert any("P/A2: neither a test" in f for f in findings) and any("P/A3: empty N/A reason" in f for f in findings)
    assert any("P/A4: selector" in f and "no longer collects" in f for f in findings)
    assert pwb("plan", "edit-task", "P", "A2", "--test-na", "documentation only").exit_code == 0
    assert pwb("plan", "edit-task", "P", "A3", "--test", OK).exit_code == 0
    assert pwb("plan", "remove-task", "P", "A4").exit_code == 0
    clean = pwb("plan", "lint")
    assert clean.exit_code == 0, clean.output


def test_render_only_what_was_given_edits_and_links_both_ways(ws):
    assert pwb("fixplan", "item", "add", "FIX-001", "--title", "the defect").exit_code == 0
    assert pwb("plan", "new", "P", "--title", "t", "--fixplan", "FIX-001").exit_code == 0
    assert pwb("plan", "new", "Q", "--fixplan", "NOPE-001").exit_code == 2
    assert pwb("plan", "add-phase", "P", "A", "--title", "bare").exit_code == 0
    assert pwb("plan", "add-phase", "P", "B", "--title", "full", "--goal", "g", "--exit-criteria", "e").exit_code == 0
    assert pwb("plan", "add-task", "P", "B", "B1", "--text", "t", "--test-na", "n/a here").exit_code == 0
    md = (ws / "plans" / "active" / "P" / "plan.md").read_text()
    bare = md[md.index("### Phase A"):md.index("### Phase B")]
    assert "Goal" not in bare and "Prereqs" not in bare and "| ID |" not in bare and "n/a" not in bare
    assert "Goal: g" in md and "Exit Criteria: e" in md and "Prereqs" not in md
    assert "- [ ]" not in md and "Tasks: open `[ ]` 1" in md                  # the snapshot is not a checkbox
    assert "| B1 | t | [ ] | N/A: n/a here | — |" in md
    assert "- Fix-plan items: [FIX-001](../../../docs/fix_plan.md)" in md
    assert pwb("fixplan", "render").exit_code == 0
    assert "- Plans: [P](../plans/active/P/plan.md)" in (ws / "docs" / "fix_plan.md").read_text()
    assert pwb("plan", "edit-phase", "P", "B", "--goal", "").exit_code == 0
    assert pwb("plan", "edit-task", "P", "B1", "--phase", "A", "--text", "moved").exit_code == 0
    assert pwb("plan", "remove-phase", "P", "A").exit_code == 2               # it has a task now
    assert pwb("plan", "remove-phase", "P", "B").exit_code == 0
    md_path = ws / "plans" / "active" / "P" / "plan.md"
    md = md_path.read_text()
    assert "Phase B" not in md and "| B1 | moved |" in md
    md_path.write_text("stale\n")
    assert "stale" in pwb("plan", "status").output
    assert pwb("plan", "render").exit_code == 0 and md_path.read_text() == md        # data unchanged, view rewritten
    assert pwb("plan", "archive", "P").exit_code == 0
    assert pwb("fixplan", "render").exit_code == 0
    assert "- Plans: [P (archived)](../plans/archive/P/plan.md)" in (ws / "docs" / "fix_plan.md").read_text()


def test_named_roots_that_do_not_exist_are_refused(ws):
    for args in (["plan", "status"], ["plan", "lint"], ["fixplan", "list"], ["fixplan", "render"],
                 ["report", "list"], ["report", "index"]):
        option = "--reports-root" if args[0] == "report" else "--plans-root"
        res = pwb(*args, option, str(ws / "typo"))
        assert res.exit_code == 2 and "no such directory" in res.output, (args, res.output)
    assert "no active plans" in pwb("plan", "status").output                  # the default root may be absent
