"""The workspace: the user's project, where every piece of evidence goes.

Resolution order: an explicit ``--workspace DIR`` > ``$PWB_WORKSPACE`` > the git top level of the
current directory > the current directory. Bundles go to ``<ws>/reports/``, the fix-plan ledger and
plans to ``<ws>/plans/``, the rendered fix plan to ``<ws>/docs/``, port profiles to
``<ws>/.pwb/ports/``. Nothing is ever written inside the installed package; this repository is
simply a workspace when the tools run in it.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from parity.evidence.errors import EvidenceUsageError

ENV_VAR = "PWB_WORKSPACE"


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
