"""The workspace: the user's project, where every piece of evidence goes.

Resolution order: an explicit ``--workspace DIR`` > ``$PWB_WORKSPACE`` > the git top level of the
current directory > the current directory. A command that takes ``--workspace`` runs its body inside
``using_workspace(DIR)``, so every default below it (bundles, ledger, plans, provenance) sees the same
workspace without the option being threaded through each call. Bundles go to ``<ws>/reports/``, the fix-plan ledger and
plans to ``<ws>/plans/``, the rendered fix plan to ``<ws>/docs/``, port profiles to
``<ws>/.pwb/ports/``. Nothing is ever written inside the installed package; this repository is
simply a workspace when the tools run in it.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from parity.evidence.errors import EvidenceUsageError

ENV_VAR = "PWB_WORKSPACE"
_SCOPED: contextvars.ContextVar["Workspace | None"] = contextvars.ContextVar("pwb_workspace", default=None)


@dataclass(frozen=True)
class Workspace:
    """A resolved workspace and where each kind of evidence lives in it."""

    root: Path
    source: str          # "option" | "env" | "git" | "cwd": how it was found (shown in provenance)

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def plans(self) -> Path:
        return self.root / "plans"

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def ports(self) -> Path:
        return self.root / ".pwb" / "ports"

    @property
    def fix_plan_md(self) -> Path:
        return self.docs / "fix_plan.md"


def _git_toplevel(cwd: Path) -> Path | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else None


def resolve_workspace(explicit: str | os.PathLike | None = None, *, cwd: str | os.PathLike | None = None) -> Workspace:
    """The workspace for this invocation (see the module docstring for the order).

    An explicit or environment path must be an existing directory (EvidenceUsageError otherwise);
    it is never created here, so a typo cannot scatter evidence.
    """
    scoped = _SCOPED.get()
    if explicit is None and cwd is None and scoped is not None:
        return scoped
    for value, source in ((explicit, "option"), (os.environ.get(ENV_VAR) or None, "env")):
        if value is not None:
            path = Path(value).expanduser()
            if not path.is_dir():
                what = "--workspace" if source == "option" else f"${ENV_VAR}"
                raise EvidenceUsageError(f"{what} {value}: not a directory")
            return Workspace(path.resolve(), source)
    here = Path(cwd) if cwd is not None else Path.cwd()
    top = _git_toplevel(here)
    if top is not None:
        return Workspace(top, "git")
    return Workspace(here.resolve(), "cwd")


@contextlib.contextmanager
def using_workspace(explicit: str | os.PathLike | None) -> Iterator[Workspace | None]:
    """Make ``explicit`` (a ``--workspace DIR``, validated here) the default workspace inside the block.

    With ``explicit=None`` nothing changes (the block gets None and the usual resolution applies
    lazily, where a default is needed). The scope is a context variable, restored on exit, so one
    command's option never leaks into the next (tests, CliRunner).
    """
    if explicit is None:
        yield None
        return
    workspace = resolve_workspace(explicit)
    token = _SCOPED.set(workspace)
    try:
        yield workspace
    finally:
        _SCOPED.reset(token)


def require_dir(path: str | os.PathLike | None, option: str) -> Path | None:
    """``path`` when it is None or an existing directory; EvidenceUsageError (exit 2) otherwise.

    A root the user *named* (``--plans-root``, ``--reports-root``) and that does not exist is a typo,
    not an empty ledger: readers refuse it instead of reporting "nothing here" with exit 0.
    """
    if path is None:
        return None
    p = Path(path)
    if not p.is_dir():
        raise EvidenceUsageError(f"{option} {path}: no such directory")
    return p
