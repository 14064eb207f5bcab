"""The workspace: where evidence goes and whose git state provenance records (parity/evidence/workspace.py).

Every default root (reports/, plans/, docs/) and the provenance's git state come from the workspace,
never from the workbench's own checkout; the workbench's own files (golden data, registry history)
are found beside its package and their absence (an installed wheel) is a one-line notice or error.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from conftest import make_git_workspace
from parity.evidence import provenance
from parity.evidence.bundle import open_bundle
from parity.evidence.errors import EvidenceUsageError
from parity.evidence.workspace import resolve_workspace, using_workspace

runner = CliRunner()


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A user's project: a fresh git repository with one commit, the cwd, no PWB_WORKSPACE."""
    root = tmp_path / "project"
    sha = make_git_workspace(root)
    (root / "sub").mkdir()
    monkeypatch.delenv("PWB_WORKSPACE", raising=False)
    monkeypatch.chdir(root / "sub")
    return root.resolve(), sha


def test_resolution_order_option_env_git_cwd(project, tmp_path, monkeypatch):
    root, _ = project
    assert resolve_workspace() == type(resolve_workspace())(root, "git")       # git top level of the cwd
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("PWB_WORKSPACE", str(other))
    assert resolve_workspace().root == other.resolve() and resolve_workspace().source == "env"
    assert resolve_workspace(root).source == "option"
    monkeypatch.delenv("PWB_WORKSPACE")
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    assert resolve_workspace().source == "cwd" and resolve_workspace().root == plain.resolve()
    with pytest.raises(EvidenceUsageError, match="not a directory") as err:
        resolve_workspace(tmp_path / "typo")
    assert err.value.exit_code == 2 and not (tmp_path / "typo").exists()


def test_using_workspace_scopes_every_default_and_restores(project, tmp_path):
    root, _ = project
    other = tmp_path / "other"
    other.mkdir()
    with using_workspace(other) as ws:
        assert ws.root == other.resolve() and resolve_workspace().root == other.resolve()
        assert provenance.default_root() == other.resolve()
    assert resolve_workspace().root == root


def test_bundle_goes_to_the_workspace_with_its_git_sha(project):
    root, sha = project
    with open_bundle(kind="test", slug="ws", argv=["pwb", "x", str(root / "sub" / "in.txt")]) as b:
        b.set_status("passed")
    assert b.path.parent == root / "reports"
    m = json.loads((b.path / "bundle.json").read_text())
    assert m["provenance"]["git"]["sha"] == sha
    assert m["provenance"]["workspace"] == {"name": "project", "source": "git"}
    assert m["command"]["argv"][2] == "sub/in.txt"                       # relative to the workspace
    wb = m["provenance"]["workbench"]
    assert wb["version"] and wb["checkout"] is True and wb["git_sha"] != sha  # the workbench is not the workspace


def test_cli_workspace_option_routes_ledger_render_and_index(project, tmp_path):
    root, _ = project
    elsewhere = tmp_path / "elsewhere"
    make_git_workspace(elsewhere)
    ws = ["--workspace", str(elsewhere)]
    assert runner.invoke(app, ["fixplan", "item", "add", "WS-001", "--title", "routed", *ws]).exit_code == 0
    res = runner.invoke(app, ["fixplan", "render", *ws])
    assert res.exit_code == 0 and "wrote docs/fix_plan.md" in res.output
    assert runner.invoke(app, ["report", "index", *ws]).exit_code == 0
    assert (elsewhere / "plans" / "fix_plan.jsonl").is_file() and (elsewhere / "docs" / "fix_plan.md").is_file()
    assert (elsewhere / "reports" / "index.html").is_file()
    assert not (root / "plans").exists() and not (root / "reports").exists()   # nothing in the cwd's project
    bad = runner.invoke(app, ["fixplan", "list", "--workspace", str(tmp_path / "typo")])
    assert bad.exit_code == 2 and "not a directory" in bad.output and "Traceback" not in bad.output


def test_demo_without_the_shipped_golden_data_is_one_line_exit_5(project, monkeypatch, tmp_path):
    import parity.matrix.cases as cases

    monkeypatch.setattr(cases, "GOLDEN_ROOT", tmp_path / "no-golden")
    res = runner.invoke(app, ["demo"])
    assert res.exit_code == 5, res.output
    assert "golden data" in res.output and "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert not (project[0] / "reports").exists()                          # refused before any bundle


def test_matrix_reads_the_workspace_cases_file_when_it_has_one(project, repo_root):
    from parity.matrix.cases import CASES_PATH, default_cases_path, iter_runs

    root, _ = project
    assert default_cases_path() == CASES_PATH                              # none in the project: the workbench's
    mine = root / "tests" / "parity_cases.yaml"
    mine.parent.mkdir()
    mine.write_text("version: 1\ncases:\n  - id: MINE\n    spec: AT-PARALLEL-001\n    threshold_class: GOLDEN-IMAGE\n"
                    "    runs:\n      - golden: at001_det64\n")
    assert default_cases_path() == mine
    assert [r.run_id for r in iter_runs()] == ["at001_det64"]              # golden folders: the shipped ones
    assert "case matrix (1 runs)" in runner.invoke(app, ["matrix", "list"]).output
    listed = runner.invoke(app, ["matrix", "list", "--cases", str(repo_root / "tests" / "parity_cases.yaml")])
    n_runs = int(re.search(r"case matrix \((\d+) runs\)", listed.output).group(1))
    assert listed.exit_code == 0 and n_runs > 100                          # --cases: the workbench's whole matrix


def test_registry_history_without_a_workbench_checkout_is_a_notice(monkeypatch):
    from parity.matrix import lint as matrix_lint
    from parity.matrix.registry import GitUnavailable, registry_history

    monkeypatch.setattr(provenance, "workbench_checkout", lambda: None)   # as installed from a wheel
    report = matrix_lint.lint_matrix(base="HEAD")
    assert any("not a git checkout" in n for n in report.notices), report.notices
    with pytest.raises(GitUnavailable, match="wheel"):
        registry_history()


def test_evidence_paths_of_this_checkout_stay_put(repo_root, monkeypatch):
    """Run inside this repository, it is the workspace: its committed evidence is where the tools look."""
    monkeypatch.delenv("PWB_WORKSPACE", raising=False)
    monkeypatch.chdir(repo_root / "tests")
    ws = resolve_workspace()
    assert ws.root == repo_root.resolve()
    assert (ws.plans / "fix_plan.jsonl").is_file() and ws.fix_plan_md.is_file() and ws.reports.is_dir()
    from parity.evidence import fixplan_render, ledger, plans, store

    assert ledger.default_plans_root() == plans.default_plans_root() == repo_root.resolve() / "plans"
    assert store.default_reports_root() == repo_root.resolve() / "reports"
    assert fixplan_render.default_out() == repo_root.resolve() / "docs" / "fix_plan.md"
