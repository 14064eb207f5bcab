"""Provenance of a run: which workspace, which code ran, on what, with which files.

Every bundle manifest and nb-compare's summary.json embed `collect_provenance()`. The git state
recorded is the *workspace's* (the user's project, `parity.evidence.workspace`), not the
workbench's; the workbench identifies itself separately (`workbench_identity`: its package version
and, when it runs from a git checkout, that checkout's SHA). Paths are made relative to the
workspace root and are never emitted absolute: `relpath_from_root` turns a path outside it into
``external:<basename>``, and `file_record` adds its sha256 so the file is still identified.
Nothing here imports torch or numpy: versions come from package metadata (or from the module itself
when it is already imported), so collecting provenance stays cheap and never fails because an
optional package is absent.
"""
from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Sequence

from parity.evidence.errors import ProvenanceError
from parity.evidence.workspace import resolve_workspace

PROJECT_NAME = "nanobragg-parity-workbench"
EXTERNAL_PREFIX = "external:"
# Evidence written by the workbench itself (and nb-compare's default output folder); excluded from
# the dirty flag so writing a bundle, a ledger line or a plan does not make the *code* look modified.
DIRTY_EXCLUDES = ("reports", "plans", "docs/fix_plan.md", "comparisons")
_CHUNK = 1 << 20


def utc_now() -> _dt.datetime:
    """The one clock of the evidence layer (UTC, aware). Tests monkeypatch this attribute."""
    return _dt.datetime.now(_dt.timezone.utc)


def utc_stamp(moment: _dt.datetime, *, compact: bool = False) -> str:
    """`2025-10-10T05:37:11Z`, or `20251010T053711Z` with ``compact`` (bundle ids)."""
    moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ" if compact else "%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- roots
def _is_project_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(rf'^name\s*=\s*"{re.escape(PROJECT_NAME)}"', text, re.M) is not None


@functools.lru_cache(maxsize=1)
def workbench_checkout() -> Path | None:
    """The workbench's own source checkout when it runs from one (editable install), else None.

    Only the directory two levels above this package (``<checkout>/parity/evidence/``) counts, so
    a wheel installed into a virtual environment *inside* some checkout is not mistaken for it.
    This is where the workbench's own files live (its threshold-registry history, the shipped
    golden data); evidence never goes here unless it is also the workspace.
    """
    candidate = Path(__file__).resolve().parents[2]
    return candidate if _is_project_root(candidate) else None


def default_root() -> Path:
    """The root paths are made relative to: the workspace root."""
    return resolve_workspace().root


def relpath_from_root(path: str | os.PathLike, *, root: Path | None = None) -> str:
    """POSIX path of ``path`` relative to the workspace root; ``external:<basename>`` outside it.

    A relative ``path`` is taken relative to the cwd (that is what a user typed); the result is
    never absolute. The root itself is ``"."``.
    """
    base = (root or default_root()).resolve()
    p = Path(path)
    if not p.is_absolute():
        p = Path.cwd() / p
    p = p.resolve()
    try:
        rel = p.relative_to(base).as_posix()
    except ValueError:
        return EXTERNAL_PREFIX + (p.name or "root")
    return rel or "."


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes (streamed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: str | os.PathLike, *, root: Path | None = None) -> dict:
    """``{"path": <root-relative or external:name>, "sha256": ..., "size_bytes": ...}``."""
    p = Path(path)
    if not p.is_file():
        raise ProvenanceError(f"no such file for provenance: {relpath_from_root(p, root=root)}")
    return {"path": relpath_from_root(p, root=root), "sha256": sha256_file(p), "size_bytes": p.stat().st_size}


_ABS_PATH = re.compile(r"(?<![\w.:/~\\-])/(?:[^\s/'\"<>|:;,()\[\]{}=`]+/)+[^\s/'\"<>|:;,()\[\]{}=`]*")


def scrub_paths(text: str, *, root: Path | None = None) -> str:
    """Rewrite absolute paths in free text: inside the workspace → relative, elsewhere → external:<name>."""
    base = str((root or default_root()).resolve())
    text = text.replace(base + "/", "").replace(base, ".")

    def _external(match: re.Match) -> str:
        name = match.group(0).rstrip("/").rsplit("/", 1)[-1]
        return EXTERNAL_PREFIX + (name or "root")

    return _ABS_PATH.sub(_external, text)


def sanitize_argv(argv: Sequence[str], *, root: Path | None = None) -> list[str]:
    """argv with absolute paths made workspace-relative (``--out=/x/y`` too); other tokens unchanged."""
    out = []
    for token in argv:
        token = str(token)
        key, eq, value = token.partition("=") if token.startswith("-") else ("", "", token)
        target = value if eq or not key else ""
        if target.startswith("/"):
            rel = relpath_from_root(target, root=root)
            token = f"{key}={rel}" if eq else rel
        out.append(token)
    return out


# --------------------------------------------------------------------------- git
def _git(args: list[str], *, cwd: Path) -> bytes | None:
    try:
        done = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd,
                              capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(*, root: Path | None = None) -> dict:
    """Commit SHA, branch, dirty flag and sha256 of the dirty state (None where git is unavailable).

    The dirty hash covers ``git diff HEAD --binary`` plus every untracked, not-ignored file
    (path and content sha256), excluding DIRTY_EXCLUDES (the evidence the workbench writes).
    ``root`` defaults to the workspace.
    """
    base = root or default_root()
    state = {"sha": None, "branch": None, "dirty": None, "dirty_diff_sha256": None,
             "dirty_excludes": list(DIRTY_EXCLUDES)}
    sha = _git(["rev-parse", "--verify", "-q", "HEAD"], cwd=base)
    if sha is None and _git(["rev-parse", "--git-dir"], cwd=base) is None:
        return state  # not a git checkout, or no git: provenance says so with None
    state["sha"] = sha.decode().strip() if sha else None
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd=base)
    state["branch"] = branch.decode().strip() if branch else None
    spec = ["--", ".", *[f":(exclude){p}" for p in DIRTY_EXCLUDES]]
    diff = _git(["diff", "HEAD", "--binary", *spec], cwd=base) if sha else _git(["diff", "--cached", "--binary", *spec], cwd=base)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z", *spec], cwd=base) or b""
    digest = hashlib.sha256(diff or b"")
    names = sorted(n for n in untracked.decode(errors="surrogateescape").split("\0") if n)
    for name in names:
        p = base / name
        content = sha256_file(p) if p.is_file() else "not-a-file"
        digest.update(f"\0untracked\0{name}\0{content}\n".encode(errors="surrogateescape"))
    dirty = bool(diff) or bool(names)
    state["dirty"] = dirty
    state["dirty_diff_sha256"] = digest.hexdigest() if dirty else None
    return state


# --------------------------------------------------------------------------- environment
def _dist_version(name: str) -> str | None:
    module = sys.modules.get(name)
    version = getattr(module, "__version__", None) if module is not None else None
    if version:
        return str(version)
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def host_cpu_model() -> str:
    """CPU model name from /proc/cpuinfo, else platform.processor(), else 'unknown'."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def environment() -> dict:
    """Python/numpy/torch versions and host facts. Never imports torch or numpy."""
    torch_module = sys.modules.get("torch")
    env = {
        "python": platform.python_version(),
        "numpy": _dist_version("numpy"),
        "torch": _dist_version("torch"),
        "torch_cuda": getattr(getattr(torch_module, "version", None), "cuda", None) if torch_module else None,
        "host": {"system": platform.system(), "machine": platform.machine(),
                 "cpu_model": host_cpu_model(), "cpu_count": os.cpu_count()},
    }
    return env


def workbench_identity(*, workspace_git: dict | None = None, workspace_root: Path | None = None) -> dict:
    """The workbench itself: its package version (metadata) and, from a git checkout, that checkout's
    commit and dirty flag (``checkout: false`` and a None SHA when installed from a wheel)."""
    checkout = workbench_checkout()
    ident = {"name": PROJECT_NAME, "version": _dist_version(PROJECT_NAME), "checkout": checkout is not None,
             "git_sha": None, "git_dirty": None}
    if checkout is not None:
        same = workspace_git is not None and workspace_root is not None and checkout == workspace_root.resolve()
        git = workspace_git if same else git_state(root=checkout)
        ident.update(git_sha=git["sha"], git_dirty=git["dirty"])
    return ident


def collect_provenance(*, inputs: Iterable[str | os.PathLike] = (), binaries: Iterable[str | os.PathLike] = (),
                       device: str | None = None, dtype: str | None = None, seed: int | None = None,
                       root: Path | None = None, ports: Sequence[dict] = ()) -> dict:
    """Everything needed to say which code ran on which files, as a JSON-ready dict.

    ``root`` is the workspace root (default: the resolved workspace); ``git`` is its state.
    ``inputs``/``binaries`` are hashed (sha256 + size; a missing one raises ProvenanceError,
    exit 5). ``device``/``dtype`` are recorded as given (e.g. ``"cpu"``, ``"float64"``).
    ``ports`` are `parity.evidence.port_identity.port_identity` records of the programs compared.
    """
    workspace = resolve_workspace() if root is None else None
    base = (root or workspace.root).resolve()
    git = git_state(root=base)
    return {
        "collected_utc": utc_stamp(utc_now()),
        "git": git,
        "workspace": {"name": base.name, "source": workspace.source if workspace else "given"},
        "workbench": workbench_identity(workspace_git=git, workspace_root=base),
        **environment(),
        "device": None if device is None else str(device),
        "dtype": None if dtype is None else str(dtype).replace("torch.", ""),
        "seed": seed,
        "cwd": relpath_from_root(Path.cwd(), root=base),
        "inputs": [file_record(p, root=base) for p in inputs],
        "binaries": [file_record(p, root=base) for p in binaries],
        "ports": list(ports),
    }
