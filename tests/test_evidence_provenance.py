"""Provenance: workbench checkout, workspace-relative paths, hashes, git state, versions (parity/evidence/provenance.py)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from parity.evidence import provenance
from parity.evidence.errors import ProvenanceError


@pytest.fixture
def in_checkout(repo_root, monkeypatch):
    """This checkout as the workspace, as when the tools run inside it."""
    monkeypatch.setenv("PWB_WORKSPACE", str(repo_root))
    return repo_root


def test_workbench_checkout_is_found_whatever_the_cwd(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = provenance.workbench_checkout()
    assert root == repo_root.resolve()
    assert (root / "pyproject.toml").is_file()


def test_paths_are_relative_to_the_workspace_not_the_workbench(repo_root, tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    monkeypatch.setenv("PWB_WORKSPACE", str(project))
    assert provenance.relpath_from_root(project / "data" / "P1.hkl") == "data/P1.hkl"
    assert provenance.relpath_from_root(repo_root / "tests" / "conftest.py") == "external:conftest.py"
    prov = provenance.collect_provenance()
    assert prov["git"]["sha"] is None and prov["workspace"] == {"name": "project", "source": "env"}
    wb = prov["workbench"]
    assert wb["name"] == provenance.PROJECT_NAME and wb["version"] and wb["checkout"] is True
    assert wb["git_sha"] is None or len(wb["git_sha"]) == 40


def test_relpath_inside_outside_and_relative(in_checkout, tmp_path, monkeypatch):
    repo_root = in_checkout
    assert provenance.relpath_from_root(repo_root / "parity" / "evidence" / "bundle.py") == "parity/evidence/bundle.py"
    assert provenance.relpath_from_root(repo_root) == "."
    outside = tmp_path / "data" / "P1.hkl"
    assert provenance.relpath_from_root(outside) == "external:P1.hkl"
    monkeypatch.chdir(repo_root / "tests")  # a relative path is what the user typed, relative to the cwd
    assert provenance.relpath_from_root("conftest.py") == "tests/conftest.py"
    assert provenance.relpath_from_root("../../escape.txt") == "external:escape.txt"


@pytest.mark.parametrize("path", ["/", "/etc/passwd", "/tmp", "..", "../..", "/opt/../../x"])
def test_relpath_never_absolute(path):
    rel = provenance.relpath_from_root(path)
    assert not rel.startswith("/") and not os.path.isabs(rel)


def test_file_record_hash_and_missing(tmp_path):
    f = tmp_path / "input.bin"
    data = os.urandom(3000)
    f.write_bytes(data)
    rec = provenance.file_record(f)
    assert rec == {"path": "external:input.bin", "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": 3000}
    with pytest.raises(ProvenanceError) as err:
        provenance.file_record(tmp_path / "absent.hkl")
    assert err.value.exit_code == 5 and str(tmp_path) not in str(err.value)


def test_scrub_paths_and_sanitize_argv(in_checkout, tmp_path):
    repo_root = in_checkout
    text = f"read {tmp_path}/x/P1.hkl and {repo_root}/tests/conftest.py; ratio 1/1000 m/s"
    out = provenance.scrub_paths(text)
    assert out == "read external:P1.hkl and tests/conftest.py; ratio 1/1000 m/s"
    argv = ["pwb", "compare", str(repo_root / "tests" / "golden_data"), f"--out={tmp_path}/o.png", "-N", "5"]
    assert provenance.sanitize_argv(argv) == ["pwb", "compare", "tests/golden_data", "--out=external:o.png", "-N", "5"]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def test_git_state_clean_dirty_untracked_and_excluded(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "code.py").write_text("x = 1\n")
    _git(repo, "add", "code.py")
    _git(repo, "commit", "-q", "-m", "init")
    clean = provenance.git_state(root=repo)
    assert clean["sha"] == _git(repo, "rev-parse", "HEAD")
    assert clean["dirty"] is False and clean["dirty_diff_sha256"] is None
    (repo / "reports").mkdir()
    (repo / "reports" / "bundle.json").write_text("{}")  # the workbench's own evidence does not dirty the code
    assert provenance.git_state(root=repo)["dirty"] is False
    (repo / "code.py").write_text("x = 2\n")
    modified = provenance.git_state(root=repo)
    assert modified["dirty"] is True and len(modified["dirty_diff_sha256"]) == 64
    (repo / "new.py").write_text("y = 1\n")
    untracked = provenance.git_state(root=repo)
    assert untracked["dirty_diff_sha256"] != modified["dirty_diff_sha256"]
    (repo / "new.py").write_text("y = 2\n")  # untracked *content* is part of the hash
    assert provenance.git_state(root=repo)["dirty_diff_sha256"] != untracked["dirty_diff_sha256"]


def test_git_state_outside_git_is_none_not_an_error(tmp_path):
    state = provenance.git_state(root=tmp_path)
    assert state["sha"] is None and state["dirty"] is None


def test_collect_provenance_fields(tmp_path):
    inp = tmp_path / "in.txt"
    inp.write_text("abc")
    prov = provenance.collect_provenance(inputs=[inp], binaries=[sys.executable], device="cpu", dtype="torch.float64")
    assert prov["python"].count(".") == 2
    assert prov["numpy"] and prov["dtype"] == "float64" and prov["device"] == "cpu"
    assert prov["host"]["cpu_model"] and prov["host"]["cpu_count"] >= 1
    assert prov["inputs"][0]["sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert prov["binaries"][0]["sha256"] == provenance.sha256_file(sys.executable)
    assert "sha" in prov["git"] and "dirty" in prov["git"]
    assert all(not str(v).startswith("/") for v in _leaves(prov))


def _leaves(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves(v)
    else:
        yield obj


def test_collect_provenance_does_not_import_torch():
    code = ("import sys, json; from parity.evidence.provenance import collect_provenance; p = collect_provenance(); "
            "print(json.dumps({'torch_imported': 'torch' in sys.modules, 'torch': p['torch']}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    result = json.loads(out.stdout)
    assert result["torch_imported"] is False
    assert result["torch"]  # version still known from package metadata
