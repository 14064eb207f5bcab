"""Reading bundles back: ids, listings (incomplete ones flagged) and manifest lookup by id.

A bundle is ``<reports_root>/<YYYYMMDDTHHMMSSZ>-<slug>[-N]/`` with a ``bundle.json`` whose
``complete`` is true. A ``<id>.partial/`` sibling is a bundle being written or one whose writer
was killed; listings show it as incomplete and lookups by id refuse it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

from parity.evidence.errors import UnknownBundleError
from parity.evidence.workspace import resolve_workspace

MANIFEST = "bundle.json"
PARTIAL_SUFFIX = ".partial"
BUNDLE_ID_RE = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-(?P<slug>[A-Za-z0-9][A-Za-z0-9._-]*)$")


def default_reports_root() -> Path:
    """``<workspace>/reports`` (see `parity.evidence.workspace`)."""
    return resolve_workspace().reports


@dataclasses.dataclass(frozen=True)
class BundleSummary:
    """One row of a listing: enough to index, link and judge a bundle without reopening it."""

    id: str
    dirname: str
    complete: bool
    kind: str | None = None
    slug: str | None = None
    case: str | None = None
    created_utc: str | None = None
    status: str | None = None
    headline: dict = dataclasses.field(default_factory=dict)
    git_sha: str | None = None
    git_dirty: bool | None = None
    error: str | None = None
    problem: str | None = None  # why it is incomplete / unreadable
    known_divergences: tuple[str, ...] = ()  # verdicts, e.g. "matches C via KD-PHI-CARRYOVER"

    @property
    def state(self) -> str:
        """``passed``/``failed``/… for complete bundles, ``incomplete`` otherwise."""
        return (self.status or "unknown") if self.complete else "incomplete"


def _read_manifest(path: Path) -> dict | None:
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def headline_metrics(manifest: dict) -> dict:
    """The manifest's headline metrics (its ``headline`` keys, else the first four metrics)."""
    metrics = manifest.get("metrics") or {}
    keys = manifest.get("headline") or list(metrics)[:4]
    return {k: metrics[k] for k in keys if k in metrics}


def summarize(path: Path) -> BundleSummary | None:
    """A BundleSummary for a bundle or ``.partial`` directory; None for anything else."""
    name = path.name
    partial = name.endswith(PARTIAL_SUFFIX)
    bundle_id = name[: -len(PARTIAL_SUFFIX)] if partial else name
    if not path.is_dir() or not BUNDLE_ID_RE.match(bundle_id):
        return None
    manifest = _read_manifest(path) or {}
    git = (manifest.get("provenance") or {}).get("git") or {}
    problem = None
    if partial:
        alive = _pid_alive(manifest.get("writer_pid"))
        problem = "being written" if alive else "writer stopped before publishing (killed?)"
    elif not manifest:
        problem = "bundle.json missing or unreadable"
    elif manifest.get("complete") is not True or manifest.get("id") != bundle_id:
        problem = "bundle.json not finalised or id mismatch"
    error = manifest.get("error")
    return BundleSummary(
        id=bundle_id, dirname=name, complete=problem is None, kind=manifest.get("kind"),
        slug=manifest.get("slug"), case=manifest.get("case"), created_utc=manifest.get("created_utc"),
        status=manifest.get("status"), headline=headline_metrics(manifest), git_sha=git.get("sha"),
        git_dirty=git.get("dirty"), error=(error or {}).get("message") if isinstance(error, dict) else None,
        problem=problem,
        known_divergences=tuple(k.get("verdict", "") for k in manifest.get("known_divergences") or []
                                if isinstance(k, dict)))


def list_bundles(reports_root: str | os.PathLike | None = None) -> list[BundleSummary]:
    """Every bundle and ``.partial`` under ``reports_root``, sorted by id (oldest first)."""
    root = Path(reports_root) if reports_root is not None else default_reports_root()
    if not root.is_dir():
        return []
    rows = [s for s in (summarize(p) for p in root.iterdir()) if s is not None]
    return sorted(rows, key=lambda s: (s.id, s.dirname))


def load_manifest(bundle_id: str, *, reports_root: str | os.PathLike | None = None) -> dict:
    """The manifest of the complete bundle ``bundle_id``; UnknownBundleError (exit 2) otherwise."""
    root = Path(reports_root) if reports_root is not None else default_reports_root()
    if not isinstance(bundle_id, str) or not BUNDLE_ID_RE.match(bundle_id):
        raise UnknownBundleError(f"not a bundle id: {bundle_id!r} (expected YYYYMMDDTHHMMSSZ-slug)")
    summary = summarize(root / bundle_id)
    if summary is None:
        if (root / (bundle_id + PARTIAL_SUFFIX)).is_dir():
            raise UnknownBundleError(f"bundle {bundle_id} is incomplete (.partial); it cannot serve as evidence")
        raise UnknownBundleError(f"no bundle {bundle_id} under the reports root")
    if not summary.complete:
        raise UnknownBundleError(f"bundle {bundle_id} is not usable: {summary.problem}")
    return _read_manifest(root / bundle_id) or {}
