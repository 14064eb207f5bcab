"""Phased plans: build from the CLI, evidence rules, status across plans, archive (parity/evidence/plans.py)."""
from __future__ import annotations

import datetime as dt

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cli import plan as plan_cli
from parity.evidence import plans
from parity.evidence.plan_status import plan_status
from parity.evidence import provenance
from parity.evidence.bundle import open_bundle
from parity.evidence.errors import EvidenceUsageError, PlanFileError, UnknownBundleError


@pytest.fixture
def roots(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "utc_now", lambda: dt.datetime(2025, 10, 10, 11, 23, 34, tzinfo=dt.timezone.utc))
    reports, plans_root = tmp_path / "reports", tmp_path / "plans"
    with open_bundle(kind="trace", slug="tap5", reports_root=reports, argv=["pwb", "trace"]) as b:
        b.set_status("passed")
    return reports, plans_root, b.id


def _build(plans_root):
    plans.new_plan(plans_root, "VEC-PARITY", title="Vectorization parity", context="Bring the loop to tensors.")
    plans.add_phase(plans_root, "VEC-PARITY", "A", title="Baseline", goal="Measure", prereqs="none",
                    exit_criteria="bundle with corr")
    plans.add_phase(plans_root, "VEC-PARITY", "B", title="Taps")
    plans.add_task(plans_root, "VEC-PARITY", "A", "A1", text="Run the C oracle", guidance="pwb run-c at001")
    plans.add_task(plans_root, "VEC-PARITY", "A", "A2", text="Compare | diff")
    plans.add_task(plans_root, "VEC-PARITY", "B", "B1", text="Tap 5")


def test_round_trip_new_phase_task_set_status_archive(roots):
    reports, plans_root, bid = roots
    _build(plans_root)
    plans.set_task(plans_root, "VEC-PARITY", "A1", "[D]", evidence=[bid], reports_root=reports)
    plans.set_task(plans_root, "VEC-PARITY", "A2", "P", reports_root=reports)
    plans.set_task(plans_root, "VEC-PARITY", "B1", "b", note="needs instrumented C rebuild", reports_root=reports)
    directory = plans_root / "active" / "VEC-PARITY"
    data = yaml.safe_load((directory / "plan.yaml").read_text())
    assert [t["state"] for p in data["phases"] for t in p["tasks"]] == ["[D]", "[P]", "[B]"]
    md = (directory / "plan.md").read_text()
    assert md == plans.render_plan_md(data)
    assert "## Context" in md and "### Phase A — Baseline" in md and "### Phase B — Taps" in md
    assert "Goal: Measure" in md and "Prereqs: none" in md and "Exit Criteria: bundle with corr" in md
    assert "| ID | Task | State | Test | How/Why & Guidance |" in md          # issue #18: a Test column
    link = f"[`{bid}`](../../../reports/{bid}/summary.html)"                 # bundles linked, relatively
    assert f"| A1 | Run the C oracle | [D] | — | pwb run-c at001; Evidence: {link} (passed) |" in md
    assert "Compare \\| diff" in md
    [status] = plan_status(plans_root)
    assert status.counts == {"[ ]": 0, "[P]": 1, "[D]": 1, "[B]": 1} and not status.md_stale
    assert [t["id"] for t in status.open] == ["A2"]
    assert status.blocked[0]["id"] == "B1" and status.blocked[0]["note"] == "needs instrumented C rebuild"
    assert status.done == [{"phase": "A", "id": "A1", "text": "Run the C oracle", "state": "[D]", "evidence": [bid]}]
    target = plans.archive_plan(plans_root, "VEC-PARITY")
    assert target == plans_root / "archive" / "VEC-PARITY" and (target / "plan.md").read_text() == md
    assert not directory.exists() and plan_status(plans_root) == []
    with pytest.raises(EvidenceUsageError, match="archive"):
        plans.new_plan(plans_root, "VEC-PARITY")


def test_done_needs_existing_evidence(roots):
    reports, plans_root, bid = roots
    _build(plans_root)
    before = (plans_root / "active" / "VEC-PARITY" / "plan.yaml").read_bytes()
    with pytest.raises(EvidenceUsageError, match="needs --evidence") as err:
        plans.set_task(plans_root, "VEC-PARITY", "A1", "[D]", reports_root=reports)
    assert err.value.exit_code == 2
    with pytest.raises(UnknownBundleError):
        plans.set_task(plans_root, "VEC-PARITY", "A1", "[D]", evidence=["20991231T000000Z-ghost"], reports_root=reports)
    with pytest.raises(EvidenceUsageError):
        plans.set_task(plans_root, "VEC-PARITY", "A1", "[X]", evidence=[bid], reports_root=reports)
    with pytest.raises(EvidenceUsageError, match="no task"):
        plans.set_task(plans_root, "VEC-PARITY", "Z9", "[P]", reports_root=reports)
    assert (plans_root / "active" / "VEC-PARITY" / "plan.yaml").read_bytes() == before


def test_refusals_duplicates_and_bad_ids(roots):
    _, plans_root, _ = roots
    _build(plans_root)
    for call in (lambda: plans.new_plan(plans_root, "VEC-PARITY"),
                 lambda: plans.new_plan(plans_root, "../escape"),
                 lambda: plans.new_plan(plans_root, "a/b"),
                 lambda: plans.add_phase(plans_root, "VEC-PARITY", "A", title="again"),
                 lambda: plans.add_task(plans_root, "VEC-PARITY", "B", "A1", text="dup id"),
                 lambda: plans.add_task(plans_root, "VEC-PARITY", "Q", "Q1", text="no phase"),
                 lambda: plans.add_phase(plans_root, "NOPE", "A", title="x")):
        with pytest.raises(EvidenceUsageError):
            call()
    assert sorted(p.name for p in (plans_root / "active").iterdir()) == ["VEC-PARITY"]


def test_malformed_plan_yaml_is_exit_5(roots):
    _, plans_root, _ = roots
    _build(plans_root)
    (plans_root / "active" / "VEC-PARITY" / "plan.yaml").write_text("id: [unclosed\n")
    with pytest.raises(PlanFileError) as err:
        plan_status(plans_root)
    assert err.value.exit_code == 5


def test_cli_builds_a_plan(roots):
    reports, plans_root, bid = roots
    app = typer.Typer()
    plan_cli.register(app)
    run = lambda *args: CliRunner().invoke(app, ["plan", *args, "--plans-root", str(plans_root)])  # noqa: E731
    assert run("new", "GEOM-GATE", "--title", "Geometry gate").exit_code == 0
    assert run("new", "GEOM-GATE").exit_code == 2
    assert run("add-phase", "GEOM-GATE", "A", "--title", "Matrix", "--goal", "pix0 for all conventions").exit_code == 0
    assert run("add-task", "GEOM-GATE", "A", "A1", "--text", "MOSFLM x BEAM").exit_code == 0
    refused = run("set", "GEOM-GATE", "A1", "[D]", "--reports-root", str(reports))
    assert refused.exit_code == 2 and "evidence" in refused.output
    ghost = run("set", "GEOM-GATE", "A1", "D", "--evidence", "20991231T000000Z-ghost", "--reports-root", str(reports))
    assert ghost.exit_code == 2
    done = run("set", "GEOM-GATE", "A1", "D", "--evidence", bid, "--reports-root", str(reports))
    assert done.exit_code == 0 and "[D]" in done.output
    status = run("status")
    assert status.exit_code == 0 and f"A/A1 MOSFLM x BEAM ← {bid}" in status.output
    assert run("archive", "GEOM-GATE").exit_code == 0
    assert run("archive", "GEOM-GATE").exit_code == 2
    assert "no active plans" in run("status").output
