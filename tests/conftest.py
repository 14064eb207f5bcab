"""Shared test fixtures: repository paths and the shipped golden data (never ../shared)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLDEN_DIR = REPO_ROOT / "tests" / "golden_data"
FAKE_C_SRC = REPO_ROOT / "tests" / "data" / "compare" / "fake_nanobragg.py"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return GOLDEN_DIR


def golden_case_ids() -> list[str]:
    """All case folders shipped in tests/golden_data, sorted."""
    return sorted(p.parent.name for p in GOLDEN_DIR.glob("*/meta.json"))


def golden_meta(case_id: str) -> dict:
    return json.loads((GOLDEN_DIR / case_id / "meta.json").read_text())


def make_fake(folder: Path, name: str, **cfg) -> Path:
    """An executable stand-in for nanoBragg at ``folder/name`` (tests/data/compare/fake_nanobragg.py),
    configured by ``cfg`` (written next to it as ``name.json``: image, exit code, files to write…)."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\n" + FAKE_C_SRC.read_text())
    path.chmod(0o755)
    Path(str(path) + ".json").write_text(json.dumps(cfg))
    return path


def sub_app(register):
    """A Typer app with one command group registered (``register(app)``) plus a no-op command, so the
    group's commands are sub-commands as in ``pwb``."""
    import typer

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    return app


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie waiting for its parent to reap it)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def make_git_workspace(folder: Path) -> str:
    """``git init`` ``folder`` (created if needed) with one commit and return its SHA: a stand-in for a
    user's project, the workspace evidence and provenance belong to."""
    folder.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main",
           "-c", "commit.gpgsign=false"]
    (folder / "README.md").write_text("a project that uses the workbench\n")
    for args in (["init", "-q"], ["add", "README.md"], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], cwd=folder, check=True, capture_output=True, timeout=60)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()
