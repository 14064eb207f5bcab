"""``pwb matrix lint`` (parity/matrix/lint.py) and the only-tighten rule over the registry's git history."""
from __future__ import annotations

import os

import subprocess

import pytest
import yaml

from parity.matrix import lint as matrix_lint
from parity.matrix.cases import CASES_PATH
from parity.matrix.registry import (REGISTRY_PATH, check_not_looser, load_registry_text, registry_changes,
                                    registry_history)
from parity.matrix.registry import GitUnavailable


def _copies(tmp_path, *, registry_edit=None, cases_edit=None):
    registry = yaml.safe_load(REGISTRY_PATH.read_text())
    cases = yaml.safe_load(CASES_PATH.read_text())
    if registry_edit:
        registry_edit(registry)
    if cases_edit:
        cases_edit(cases)
    reg_path, cases_path = tmp_path / "thresholds.yaml", tmp_path / "parity_cases.yaml"
    reg_path.write_text(yaml.safe_dump(registry))
    cases_path.write_text(yaml.safe_dump(cases, sort_keys=False))
    return {"registry_path": reg_path, "cases_path": cases_path}


def test_real_files_are_clean():
    report = matrix_lint.lint_matrix()
    assert report.findings == [], report.findings
    assert report.n_runs == report.n_registry_cases >= 105


def test_clean_copy_is_clean_and_skips_git_outside_the_repo(tmp_path):
    report = matrix_lint.lint_matrix(**_copies(tmp_path))
    assert report.findings == []
    assert any("outside the repository" in n for n in report.notices)


def _case(cases: dict, case_id: str) -> dict:
    return next(c for c in cases["cases"] if c["id"] == case_id)


@pytest.mark.parametrize("registry_edit, cases_edit, fragment", [
    # a run's class is looser than its registry class
    (lambda r: r["classes"].__setitem__("LOOSE", {**r["classes"]["GOLDEN-IMAGE"], "corr_min": 0.999}),
     lambda c: _case(c, "AT-PARALLEL-001").__setitem__("threshold_class", "LOOSE"), "corr_min 0.999 is looser"),
    # an override that loosens
    (None, lambda c: _case(c, "AT-PARALLEL-002")["runs"][0].__setitem__("thresholds", {"rel_err_max": 0.01}),
     "looser than the class value"),
    # a registry entry without a matrix run
    (lambda r: r["cases"].__setitem__("orphan_case", "GOLDEN-IMAGE"), None, "orphan_case has no matrix run"),
    # a matrix run without a registry entry
    (lambda r: r["cases"].pop("perf-heavy-512"), None, "perf-heavy-512: no entry in the threshold registry"),
    # a golden folder that is not in the matrix
    (lambda r: r["cases"].pop("at001_det64"),
     lambda c: _case(c, "AT-PARALLEL-001")["runs"].remove({"golden": "at001_det64"}),
     "golden folder at001_det64 is not a run"),
    # spec drift against meta.json
    (None, lambda c: _case(c, "AT-PARALLEL-003").__setitem__("spec", "AT-PARALLEL-999"), "spec_ref"),
    # class mismatch between matrix and registry
    (lambda r: r["cases"].__setitem__("at001_det64", "PERF-IMAGE"), None, "registry class PERF-IMAGE"),
    # a malformed matrix is a finding, not a crash
    (None, lambda c: _case(c, "PERF").__setitem__("threshold_class", "NOPE"), "does not load"),
])
def test_loosened_copies_are_red(tmp_path, registry_edit, cases_edit, fragment):
    report = matrix_lint.lint_matrix(**_copies(tmp_path, registry_edit=registry_edit, cases_edit=cases_edit))
    assert report.exit_code == 1
    assert any(fragment in f for f in report.findings), report.findings


def test_working_tree_looser_than_base_is_red(monkeypatch):
    """The registry at --base had corr_min 0.999999: today's 0.99999 is a loosening."""
    old = yaml.safe_load(REGISTRY_PATH.read_text())
    old["classes"]["GOLDEN-IMAGE"]["corr_min"] = 0.999999
    old_text = yaml.safe_dump(old)

    def fake_show(rev, relpath, *, root=None):
        return old_text if relpath.endswith("thresholds.yaml") else None

    monkeypatch.setattr(matrix_lint, "git_show_text", fake_show)
    report = matrix_lint.lint_matrix(base="HEAD")
    assert any(f.startswith("vs HEAD:") and "corr_min loosened" in f for f in report.findings), report.findings


def test_matrix_run_looser_than_base_is_red(monkeypatch):
    """A tightening override that existed at --base and was dropped is a loosening of that run."""
    cases = yaml.safe_load(CASES_PATH.read_text())
    _case(cases, "AT-PARALLEL-001")["runs"][0]["thresholds"] = {"corr_min": 0.9999999}
    old_cases = yaml.safe_dump(cases, sort_keys=False)

    def fake_show(rev, relpath, *, root=None):
        return REGISTRY_PATH.read_text() if relpath.endswith("thresholds.yaml") else old_cases

    monkeypatch.setattr(matrix_lint, "git_show_text", fake_show)
    report = matrix_lint.lint_matrix(base="HEAD")
    first = _case(cases, "AT-PARALLEL-001")["runs"][0]["golden"]
    assert any(f"vs HEAD: {first}" in f and "looser" in f for f in report.findings), report.findings


def test_git_unavailable_is_a_notice(monkeypatch):
    def no_git(*args, **kwargs):
        raise GitUnavailable("not a git checkout")

    monkeypatch.setattr(matrix_lint, "git_show_text", no_git)
    report = matrix_lint.lint_matrix(base="HEAD")
    assert report.findings == [] and any("git comparison skipped" in n for n in report.notices)


def _in_git_checkout() -> bool:
    try:
        done = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=REGISTRY_PATH.parent, capture_output=True)
    except OSError:
        return False
    return done.returncode == 0


@pytest.mark.skipif(not _in_git_checkout(), reason="not a git checkout")
def test_every_committed_registry_only_tightens_the_previous_one():
    try:
        history = registry_history()
    except GitUnavailable as exc:
        pytest.skip(str(exc))
    assert history, "parity/matrix/thresholds.yaml has no committed version"
    pairs = registry_changes()
    assert len(pairs) >= len(history) - 1, "every version after the first has a parent version"
    for old_sha, old_text, new_sha, new_text in pairs:
        old, new = load_registry_text(old_text, source=old_sha[:8]), load_registry_text(new_text, source=new_sha[:8])
        assert check_not_looser(old, new) == [], f"{new_sha[:8]} loosens its parent {old_sha[:8]}"
    head = load_registry_text(history[-1][1], source=history[-1][0][:8])
    assert check_not_looser(head, load_registry_text(REGISTRY_PATH.read_text())) == []


def test_registry_changes_compare_each_commit_with_its_own_parent(tmp_path):
    """Two branches, one adds a case, the other a class; merged. Neighbours in log order would
    call the class-adding commit a loosening (it never had the case); parents do not; a commit
    that really drops a case is still found."""
    import subprocess

    def git(*a):
        subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})

    reg = tmp_path / "reg.yaml"
    base = REGISTRY_PATH.read_text()
    git("init", "-q", "-b", "main")
    reg.write_text(base)
    git("add", "reg.yaml"); git("commit", "-qm", "base")
    git("checkout", "-qb", "side")
    reg.write_text(base.replace("cases:\n", "cases:\n  zz_new_case: GOLDEN-IMAGE\n", 1))
    git("commit", "-qam", "side adds a case")
    git("checkout", "-q", "main")
    reg.write_text(base + "\n# a comment\n")
    git("commit", "-qam", "main edits")
    git("merge", "-q", "--no-edit", "side", "-X", "theirs")
    pairs = registry_changes(relpath="reg.yaml", root=tmp_path)
    loaded = [(o, load_registry_text(ot), n, load_registry_text(nt)) for o, ot, n, nt in pairs]
    assert all(check_not_looser(old, new) == [] for _, old, _, new in loaded)
    reg.write_text(base + "\n# a comment\n")                 # the case dropped again: a loosening
    git("commit", "-qam", "drop the case")
    pairs = registry_changes(relpath="reg.yaml", root=tmp_path)
    assert any(check_not_looser(load_registry_text(ot), load_registry_text(nt)) for _, ot, _, nt in pairs)
