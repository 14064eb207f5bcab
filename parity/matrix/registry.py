"""The threshold registry's lint side: the only-tighten rule and the registry's git history.

The loader (``Thresholds``, ``load_registry``, ``thresholds_for``) lives in :mod:`parity.thresholds`
(below compare and matrix) and is re-exported here. ``check_not_looser`` is the lint rule: comparing
two registry versions, any value that moved in the loose direction is an error (peer lesson §6
row 7: six of nine tests had been loosened silently).
"""
from __future__ import annotations

from pathlib import Path

from parity.errors import ParityUsageError
from parity.thresholds import (REGISTRY_PATH, Thresholds, class_thresholds, load_registry, load_registry_text,
                               thresholds_for)

__all__ = ["REGISTRY_PATH", "Thresholds", "class_thresholds", "load_registry", "load_registry_text", "thresholds_for",
           "check_not_looser", "REGISTRY_RELPATH", "GitUnavailable", "git_show_text", "registry_history",
           "registry_changes"]


def check_not_looser(old: dict, new: dict) -> list[str]:
    """Messages for every threshold that ``new`` loosens relative to ``old`` (empty: fine)."""
    problems = []
    directions = old["directions"]
    for case, old_klass in old["cases"].items():
        if case not in new["cases"]:
            problems.append(f"case {case} was removed from the registry")
            continue
        a, b = old["classes"][old_klass], new["classes"][new["cases"][case]]
        for key, way in directions.items():
            if key not in b:
                problems.append(f"{case}: {key} removed")
            elif way == "min" and float(b[key]) < float(a[key]):
                problems.append(f"{case}: {key} loosened {a[key]} -> {b[key]}")
            elif way == "max" and float(b[key]) > float(a[key]):
                problems.append(f"{case}: {key} loosened {a[key]} -> {b[key]}")
    return problems


# ---------------------------------------------------------------------------------------------
# Git history of the registry (used by `pwb matrix lint` and the history test): a committed
# version may only tighten the one before it.
REGISTRY_RELPATH = "parity/matrix/thresholds.yaml"


class GitUnavailable(Exception):
    """git is not installed or the repository is not a git checkout (callers skip with a notice)."""


def _git(args: list[str], *, root: Path) -> tuple[int, str]:
    import subprocess

    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitUnavailable(f"git unavailable ({exc.__class__.__name__})") from None
    return done.returncode, done.stdout


def _repo_root(root: Path | None) -> Path:
    """``root``, else the workbench's own checkout (its registry's history); GitUnavailable when the
    workbench is installed from a wheel and has no checkout."""
    if root is not None:
        return Path(root)
    from parity.evidence.provenance import workbench_checkout

    checkout = workbench_checkout()
    if checkout is None:
        raise GitUnavailable("the workbench is not a git checkout (installed from a wheel?)")
    return checkout


def git_show_text(rev: str, relpath: str, *, root: Path | None = None) -> str | None:
    """Text of ``relpath`` at revision ``rev``; None when the file does not exist there.

    GitUnavailable when git or the checkout is missing; ParityUsageError for an unknown ``rev``.
    """
    base = _repo_root(root)
    code, _ = _git(["rev-parse", "--git-dir"], root=base)
    if code != 0:
        raise GitUnavailable("not a git checkout")
    code, _ = _git(["rev-parse", "--verify", "-q", f"{rev}^{{commit}}"], root=base)
    if code != 0:
        raise ParityUsageError(f"--base {rev}: not a git revision of this repository")
    code, text = _git(["show", f"{rev}:{relpath}"], root=base)
    return text if code == 0 else None


def _touching_commits(relpath: str, base: Path) -> list[tuple[str, str]]:
    """``[(sha, path the file had there), ...]`` newest first, for every commit touching ``relpath``."""
    # --follow with --name-only: each commit with the path the file had then (it moved with the layout)
    code, out = _git(["log", "--format=@%H", "--name-only", "--follow", "--", relpath], root=base)
    if code != 0:
        raise GitUnavailable("not a git checkout")
    commits: list[tuple[str, str]] = []
    for line in out.splitlines():
        if line.startswith("@"):
            commits.append((line[1:], relpath))
        elif line.strip() and commits:
            commits[-1] = (commits[-1][0], line.strip())
    return commits


def _history(commits: list[tuple[str, str]], base: Path) -> list[tuple[str, str]]:
    history = []
    for sha, path in reversed(commits):
        code, text = _git(["show", f"{sha}:{path}"], root=base)
        if code == 0:   # a deleting commit has no text: the next version is compared with the last one
            history.append((sha, text))
    return history


def registry_history(*, relpath: str = REGISTRY_RELPATH, root: Path | None = None) -> list[tuple[str, str]]:
    """``[(commit sha, registry text), ...]`` for every commit touching ``relpath``, oldest first
    (GitUnavailable outside a checkout)."""
    base = _repo_root(root)
    return _history(_touching_commits(relpath, base), base)


def registry_changes(*, relpath: str = REGISTRY_RELPATH,
                     root: Path | None = None) -> list[tuple[str, str, str, str]]:
    """``[(parent sha, parent's text, commit sha, commit's text), ...]``: every commit that touched
    ``relpath`` against each of its parents' versions, oldest first.

    Parent by parent, not in log order: with branches merged, the commits of one branch follow those
    of another in ``git log``, and comparing neighbours there would call a branch that never had the
    other's cases a loosening. A parent without the file (before it was created, or under the path it
    had before a move) is compared under the older path when --follow knows one, else skipped.
    """
    base = _repo_root(root)
    commits = _touching_commits(relpath, base)
    history = _history(commits, base)
    paths = list(dict.fromkeys(path for _, path in commits))     # every path the file had, newest first
    pairs = []
    for sha, text in history:
        code, out = _git(["rev-list", "--parents", "-n", "1", sha], root=base)
        for parent in out.split()[1:] if code == 0 else []:
            for path in paths:
                pcode, ptext = _git(["show", f"{parent}:{path}"], root=base)
                if pcode == 0:
                    pairs.append((parent, ptext, sha, text))
                    break
    return pairs

