"""Reading bundles back: ids (exact, ``latest``, unique prefixes), listings and manifest lookup.

A bundle is ``<reports_root>/<YYYYMMDDTHHMMSSZ>-<slug>[-N]/`` with a ``bundle.json`` whose
``complete`` is true. A ``<id>.partial/`` sibling is a bundle being written or one whose writer
was killed; listings show it as incomplete and lookups by id refuse it. A malformed manifest
(unparseable JSON, ``"metrics": "notadict"``…) is isolated the same way: its row is incomplete with
the reason, and the rest of the reports root still lists and indexes.
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
LATEST = "latest"
BUNDLE_ID_RE = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-(?P<slug>[A-Za-z0-9][A-Za-z0-9._-]*)$")
_SHOWN_CANDIDATES = 8
# manifest key -> the JSON type it must have when present (None allowed where noted in _OPTIONAL)
_TYPES = {"metrics": dict, "headline": list, "known_divergences": list, "provenance": dict,
          "artifacts": list, "exit_codes": dict, "error": dict, "command": dict}
_OPTIONAL = {"error"}


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
    thumbnail: str | None = None  # an overlay (else the first) PNG artifact, relative to the bundle

    @property
    def state(self) -> str:
        """``passed``/``failed``/… for complete bundles, ``incomplete`` otherwise."""
        return (self.status or "unknown") if self.complete else "incomplete"


def _read_manifest(path: Path) -> tuple[dict, str | None]:
    """(manifest, problem): ``({}, reason)`` when bundle.json is missing, unparseable or not an object."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, "bundle.json missing"
    except (OSError, ValueError) as exc:
        return {}, f"bundle.json unreadable ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    if not isinstance(data, dict):
        return {}, f"bundle.json is a JSON {type(data).__name__}, not an object"
    return data, None


def manifest_problem(manifest: dict) -> str | None:
    """Why ``manifest`` cannot be read as a bundle manifest (a field of the wrong type), else None."""
    for key, kind in _TYPES.items():
        value = manifest.get(key)
        if value is None and (key in _OPTIONAL or key not in manifest):
            continue
        if not isinstance(value, kind):
            want = "an object" if kind is dict else "an array"
            return f"malformed bundle.json: {key} is {json.dumps(value)[:40]}, not {want}"
    if not isinstance(manifest.get("provenance", {}).get("git", {}) or {}, dict):
        return "malformed bundle.json: provenance.git is not an object"
    if any(not isinstance(a, dict) or not isinstance(a.get("name"), str) for a in manifest.get("artifacts") or []):
        return "malformed bundle.json: an artifact has no name"
    return None


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
    metrics = manifest.get("metrics") if isinstance(manifest.get("metrics"), dict) else {}
    keys = manifest.get("headline") if isinstance(manifest.get("headline"), list) else []
    keys = [k for k in keys if isinstance(k, str)] or list(metrics)[:4]
    return {k: metrics[k] for k in keys if k in metrics}


def thumbnail_of(artifacts) -> str | None:
    """The artifact to show small in the index: an overlay PNG, else the first PNG."""
    pngs = [a["name"] for a in artifacts or [] if isinstance(a, dict) and str(a.get("name", "")).lower().endswith(".png")]
    overlays = [n for n in pngs if "overlay" in n.lower()]
    return (overlays or pngs or [None])[0]


def summarize(path: Path) -> BundleSummary | None:
    """A BundleSummary for a bundle or ``.partial`` directory; None for anything else. Never raises
    for a malformed manifest: the row is incomplete and says why."""
    name = path.name
    partial = name.endswith(PARTIAL_SUFFIX)
    bundle_id = name[: -len(PARTIAL_SUFFIX)] if partial else name
    if not path.is_dir() or not BUNDLE_ID_RE.match(bundle_id):
        return None
    manifest, problem = _read_manifest(path)
    problem = problem or manifest_problem(manifest)
    if problem is not None and not partial:
        return BundleSummary(id=bundle_id, dirname=name, complete=False, problem=problem)
    if partial:
        alive = _pid_alive(manifest.get("writer_pid"))
        problem = "being written" if alive else "writer stopped before publishing (killed?)"
    elif manifest.get("complete") is not True or manifest.get("id") != bundle_id:
        problem = "bundle.json not finalised or id mismatch"
    git = (manifest.get("provenance") or {}).get("git") or {}
    error = manifest.get("error")
    text = lambda v: v if isinstance(v, str) else None  # noqa: E731
    return BundleSummary(
        id=bundle_id, dirname=name, complete=problem is None, kind=text(manifest.get("kind")),
        slug=text(manifest.get("slug")), case=text(manifest.get("case")), created_utc=text(manifest.get("created_utc")),
        status=text(manifest.get("status")), headline=headline_metrics(manifest), git_sha=text(git.get("sha")),
        git_dirty=git.get("dirty"), error=text((error or {}).get("message")) if isinstance(error, dict) else None,
        problem=problem, thumbnail=thumbnail_of(manifest.get("artifacts")),
        known_divergences=tuple(str(k.get("verdict", "")) for k in manifest.get("known_divergences") or []
                                if isinstance(k, dict)))


def list_bundles(reports_root: str | os.PathLike | None = None) -> list[BundleSummary]:
    """Every bundle and ``.partial`` under ``reports_root``, sorted by id (oldest first)."""
    root = Path(reports_root) if reports_root is not None else default_reports_root()
    if not root.is_dir():
        return []
    rows = [s for s in (summarize(p) for p in root.iterdir()) if s is not None]
    return sorted(rows, key=lambda s: (s.id, s.dirname))


def resolve_bundle_id(text: str, *, reports_root: str | os.PathLike | None = None) -> str:
    """The bundle id ``text`` names: an exact id, ``latest`` (the newest complete bundle) or a unique
    prefix of one. UnknownBundleError (exit 2) when it names none or several (the candidates are listed)."""
    root = Path(reports_root) if reports_root is not None else default_reports_root()
    if not isinstance(text, str) or not text.strip():
        raise UnknownBundleError("empty bundle id (give an id, a unique prefix of one, or 'latest')")
    text = text.strip()
    rows = list_bundles(root)
    if text == LATEST:
        complete = [s.id for s in rows if s.complete]
        if not complete:
            raise UnknownBundleError("'latest': no complete bundle under the reports root")
        return complete[-1]
    ids = list(dict.fromkeys(s.id for s in rows))
    if text in ids:
        return text
    candidates = [i for i in ids if i.startswith(text)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        what = "no bundle" if BUNDLE_ID_RE.match(text) else "no bundle id starts with"
        raise UnknownBundleError(f"{what} {text} under the reports root")
    shown = ", ".join(candidates[:_SHOWN_CANDIDATES]) + (f" (+{len(candidates) - _SHOWN_CANDIDATES} more)"
                                                          if len(candidates) > _SHOWN_CANDIDATES else "")
    raise UnknownBundleError(f"bundle id prefix {text!r} is ambiguous: {shown}")


def load_manifest(bundle_id: str, *, reports_root: str | os.PathLike | None = None) -> dict:
    """The manifest of the complete bundle ``bundle_id`` (an id, ``latest`` or a unique prefix);
    UnknownBundleError (exit 2) otherwise. Its ``id`` is the resolved id."""
    root = Path(reports_root) if reports_root is not None else default_reports_root()
    bundle_id = resolve_bundle_id(bundle_id, reports_root=root)
    summary = summarize(root / bundle_id)
    if summary is None:
        if (root / (bundle_id + PARTIAL_SUFFIX)).is_dir():
            raise UnknownBundleError(f"bundle {bundle_id} is incomplete (.partial); it cannot serve as evidence")
        raise UnknownBundleError(f"no bundle {bundle_id} under the reports root")
    if not summary.complete:
        raise UnknownBundleError(f"bundle {bundle_id} is not usable: {summary.problem}")
    return _read_manifest(root / bundle_id)[0]
