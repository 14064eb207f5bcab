"""The attempts ledger (fix plan) as data: ``plans/fix_plan.jsonl``, one JSON record per line.

Why JSONL and not SQLite:
- git-diffability: each change is one appended line, so a diff or review shows exactly what was
  recorded; a SQLite file is an opaque binary that git can neither diff nor merge.
- determinism: keys are sorted and separators fixed, so the same records are the same bytes, and
  `fixplan_render.render` produces the same markdown from them every time.
- atomicity: every write rewrites the whole file through a temp file + fsync + rename
  (`bundle_atomic`), so a reader or a crash sees the old bytes or the new bytes, never a torn line
  (a plain append could leave half a line behind a SIGKILL).
- concurrency: writers take an ``flock`` on the ledger's directory, re-read the file under the
  lock and only then number the new attempt, so two concurrent ``attempt`` calls get #N and #N+1.
  The ledger is small (hundreds of lines), so rewriting it is cheap; SQLite's locking would buy
  nothing we need at the price of the two points above.

The file is an event log: ``item.add``, ``item.set``, ``item.link`` (a phased plan that works on the
item; ``archived`` when the plan moved to the archive) and ``attempt`` records, each with a
sequence number and a UTC time taken from `provenance.utc_now` (never typed). Loading checks
the invariants the old hand-edited ledger broke: sequence numbers consecutive, times never going
backwards, attempt numbers 1, 2, 3… per item, no duplicate items. A file that breaks one is
refused (LedgerCorruptError, exit 5). An attempt must cite at least one existing, complete bundle
(UnknownBundleError, exit 2; an id may be ``latest`` or a unique prefix); its metrics, status and git
SHA are copied from the bundle's manifest. Every write refreshes the reports index
(``<ws>/reports/index.html``, beside the ``plans/`` folder the ledger is in).
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from parity.evidence import provenance
from parity.evidence.atomic import atomic_write_bytes, dir_lock
from parity.evidence.store import load_manifest, resolve_bundle_id
from parity.evidence.errors import ClockError, EvidenceError, EvidenceUsageError, LedgerCorruptError
from parity.evidence.workspace import resolve_workspace

LEDGER_NAME = "fix_plan.jsonl"
ITEM_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
PRIORITIES = ("high", "medium", "low")
ITEM_STATUSES = ("pending", "in_planning", "in_progress", "blocked", "done")
RESULTS = ("success", "partial", "failed")
_SETTABLE = ("title", "spec", "priority", "status")


def default_plans_root() -> Path:
    """``<workspace>/plans`` (see `parity.evidence.workspace`)."""
    return resolve_workspace().plans


def ledger_path(plans_root: str | os.PathLike | None = None) -> Path:
    """The ledger file under ``plans_root`` (default ``<workspace>/plans/fix_plan.jsonl``)."""
    return (Path(plans_root) if plans_root is not None else default_plans_root()) / LEDGER_NAME


@dataclasses.dataclass
class Attempt:
    number: int
    at_utc: str
    result: str
    note: str
    hypothesis: str | None
    next_actions: list[str]
    bundles: list[dict]  # {id, status, kind, git_sha, git_dirty, metrics, headline, known_divergences}


@dataclasses.dataclass
class Item:
    id: str
    title: str
    spec: str | None
    priority: str
    status: str
    repro: list[str]
    exit_criteria: list[str]
    created_utc: str
    updated_utc: str
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    plans: dict[str, bool] = dataclasses.field(default_factory=dict)  # plan ID -> archived


@dataclasses.dataclass
class Ledger:
    """A loaded, validated ledger: items in creation order and the raw records."""

    path: Path
    items: dict[str, Item]
    records: list[dict]

    @property
    def last_utc(self) -> str | None:
        return self.records[-1]["at_utc"] if self.records else None


# --------------------------------------------------------------------------- validation helpers
def _validate_item_id(item_id: str) -> str:
    if not isinstance(item_id, str) or not ITEM_ID_RE.match(item_id):
        raise EvidenceUsageError(f"item ID {item_id!r} must look like C-PARITY-001 (A-Z, 0-9, '-')")
    return item_id


def _validate_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise EvidenceUsageError(f"{what} {value!r} is not one of {', '.join(choices)}")
    return value


def _validate_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EvidenceUsageError(f"{what} must be non-empty text")
    return value.strip()


# --------------------------------------------------------------------------- load / fold
def _fold(path: Path, records: list[dict]) -> Ledger:
    items: dict[str, Item] = {}
    last = None
    for n, rec in enumerate(records, start=1):
        where = f"{path.name} line {n}"
        if rec.get("seq") != n:
            raise LedgerCorruptError(f"{where}: seq {rec.get('seq')!r}, expected {n}")
        at = rec.get("at_utc")
        if not isinstance(at, str) or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", at):
            raise LedgerCorruptError(f"{where}: bad at_utc {at!r}")
        if last is not None and at < last:
            raise LedgerCorruptError(f"{where}: date {at} is earlier than the previous record ({last})")
        last = at
        op, item_id = rec.get("op"), rec.get("item")
        if op == "item.add":
            if item_id in items:
                raise LedgerCorruptError(f"{where}: item {item_id} added twice")
            f = rec.get("fields") or {}
            items[item_id] = Item(id=item_id, title=f.get("title", ""), spec=f.get("spec"),
                                  priority=f.get("priority", "medium"), status=f.get("status", "pending"),
                                  repro=list(f.get("repro") or []), exit_criteria=list(f.get("exit_criteria") or []),
                                  created_utc=at, updated_utc=at)
            continue
        if item_id not in items:
            raise LedgerCorruptError(f"{where}: {op} for unknown item {item_id!r}")
        item = items[item_id]
        item.updated_utc = at
        if op == "item.set":
            for key, value in (rec.get("fields") or {}).items():
                if key not in _SETTABLE:
                    raise LedgerCorruptError(f"{where}: item.set of unknown field {key!r}")
                setattr(item, key, value)
        elif op == "item.link":
            plan_id = rec.get("plan")
            if not isinstance(plan_id, str) or not plan_id:
                raise LedgerCorruptError(f"{where}: item.link without a plan")
            item.plans[plan_id] = bool(rec.get("archived"))
        elif op == "attempt":
            expected = len(item.attempts) + 1
            if rec.get("attempt") != expected:
                raise LedgerCorruptError(f"{where}: {item_id} attempt #{rec.get('attempt')}, expected #{expected}")
            item.attempts.append(Attempt(number=expected, at_utc=at, result=rec.get("result"), note=rec.get("note", ""),
                                         hypothesis=rec.get("hypothesis"), next_actions=list(rec.get("next") or []),
                                         bundles=list(rec.get("bundles") or [])))
        else:
            raise LedgerCorruptError(f"{where}: unknown op {op!r}")
    return Ledger(path=path, items=items, records=records)


def _parse(path: Path, data: bytes) -> list[dict]:
    records = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise LedgerCorruptError(f"{path.name} line {n}: not JSON ({exc.msg})") from None
        if not isinstance(rec, dict):
            raise LedgerCorruptError(f"{path.name} line {n}: not a JSON object")
        records.append(rec)
    return records


def load_ledger(path: str | os.PathLike) -> Ledger:
    """Read and validate a ledger file; a missing file is an empty ledger."""
    p = Path(path)
    data = p.read_bytes() if p.exists() else b""
    return _fold(p, _parse(p, data))


def _line(rec: dict) -> bytes:
    return (json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _append(path: Path, make_record) -> tuple[Ledger, dict]:
    """Under the directory lock: re-read, build the next record from the fresh state, rewrite atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with dir_lock(path.parent):
        data = path.read_bytes() if path.exists() else b""
        ledger = _fold(path, _parse(path, data))
        now = provenance.utc_stamp(provenance.utc_now())
        if ledger.last_utc and now < ledger.last_utc:
            raise ClockError(f"the clock says {now}, earlier than the newest ledger record ({ledger.last_utc})")
        rec = {"seq": len(ledger.records) + 1, "at_utc": now, **make_record(ledger)}
        if data and not data.endswith(b"\n"):
            data += b"\n"
        new_data = data + _line(rec)
        new_ledger = _fold(path, ledger.records + [rec])  # validate before writing
        atomic_write_bytes(path, new_data)
    _refresh_index(path)
    return new_ledger, rec


def _refresh_index(path: Path, reports_root=None) -> None:
    refresh_views(path, reports_root)


def refresh_views(path: Path, reports_root=None) -> None:
    """After a ledger or plan change: re-render ``docs/fix_plan.md`` beside the ledger (``<ws>/docs/``) when
    it is there already (a view someone rendered stays current; none is created), then the reports index.
    Best effort: a failure warns and never undoes the change."""
    import warnings

    from parity.evidence.report_index import refresh_index

    md = Path(path).parent.parent / "docs" / "fix_plan.md"
    if md.is_file() and Path(path).is_file():
        from parity.evidence import fixplan_render

        try:
            fixplan_render.write(load_ledger(path), md)
        except (OSError, EvidenceError) as exc:
            warnings.warn(f"{md.name} not re-rendered: {exc}", RuntimeWarning, stacklevel=2)
    refresh_index(reports_root, plans_root=Path(path).parent)


# --------------------------------------------------------------------------- operations
def add_item(path: str | os.PathLike, item_id: str, *, title: str, spec: str | None = None, priority: str = "medium",
             repro: Iterable[str] = (), exit_criteria: Iterable[str] = ()) -> Item:
    """Add a fix-plan item (status ``pending``); an existing ID is refused (exit 2)."""
    _validate_item_id(item_id)
    fields = {"title": _validate_text(title, "title"), "spec": spec, "status": "pending",
              "priority": _validate_choice(priority, PRIORITIES, "priority"),
              "repro": [_validate_text(r, "--repro") for r in repro],
              "exit_criteria": [_validate_text(c, "--exit-criterion") for c in exit_criteria]}

    def make(ledger: Ledger) -> dict:
        if item_id in ledger.items:
            raise EvidenceUsageError(f"item {item_id} already exists")
        return {"op": "item.add", "item": item_id, "fields": fields}

    ledger, _ = _append(Path(path), make)
    return ledger.items[item_id]


def set_item(path: str | os.PathLike, item_id: str, **fields) -> Item:
    """Change an item's status/title/spec/priority (only the given, non-None fields)."""
    changes = {k: v for k, v in fields.items() if v is not None}
    unknown = set(changes) - set(_SETTABLE)
    if unknown:
        raise EvidenceUsageError(f"cannot set {', '.join(sorted(unknown))} (settable: {', '.join(_SETTABLE)})")
    if not changes:
        raise EvidenceUsageError("nothing to set (give --status, --title, --spec or --priority)")
    if "status" in changes:
        _validate_choice(changes["status"], ITEM_STATUSES, "status")
    if "priority" in changes:
        _validate_choice(changes["priority"], PRIORITIES, "priority")

    def make(ledger: Ledger) -> dict:
        if item_id not in ledger.items:
            raise EvidenceUsageError(f"no fix-plan item {item_id!r}")
        return {"op": "item.set", "item": item_id, "fields": changes}

    ledger, _ = _append(Path(path), make)
    return ledger.items[item_id]


def link_plan(path: str | os.PathLike, item_id: str, plan_id: str, *, archived: bool = False) -> Item:
    """Record that phased plan ``plan_id`` works on ``item_id`` (``archived``: the plan moved to the archive)."""
    def make(ledger: Ledger) -> dict:
        if item_id not in ledger.items:
            raise EvidenceUsageError(f"no fix-plan item {item_id!r}")
        return {"op": "item.link", "item": item_id, "plan": plan_id, **({"archived": True} if archived else {})}

    ledger, _ = _append(Path(path), make)
    return ledger.items[item_id]


def _bundle_evidence(bundle_id: str, reports_root) -> dict:
    bundle_id = resolve_bundle_id(bundle_id, reports_root=reports_root)
    manifest = load_manifest(bundle_id, reports_root=reports_root)
    git = (manifest.get("provenance") or {}).get("git") or {}
    return {"id": bundle_id, "status": manifest.get("status"), "kind": manifest.get("kind"),
            "git_sha": git.get("sha"), "git_dirty": git.get("dirty"),
            "metrics": manifest.get("metrics") or {}, "headline": manifest.get("headline") or [],
            "known_divergences": [k.get("verdict") for k in manifest.get("known_divergences") or []]}


def record_attempt(path: str | os.PathLike, item_id: str, *, bundle_ids: Sequence[str], result: str, note: str,
                   hypothesis: str | None = None, next_actions: Iterable[str] = (),
                   reports_root: str | os.PathLike | None = None) -> Attempt:
    """Append attempt #N (N assigned here, under the lock) citing existing bundles; returns it."""
    _validate_choice(result, RESULTS, "result")
    note = _validate_text(note, "--note")
    if not bundle_ids:
        raise EvidenceUsageError("an attempt needs at least one --bundle (evidence)")
    evidence = list({e["id"]: e for e in (_bundle_evidence(b, reports_root) for b in bundle_ids)}.values())

    def make(ledger: Ledger) -> dict:
        if item_id not in ledger.items:
            raise EvidenceUsageError(f"no fix-plan item {item_id!r}")
        return {"op": "attempt", "item": item_id, "attempt": len(ledger.items[item_id].attempts) + 1,
                "result": result, "note": note, "hypothesis": hypothesis,
                "next": [n for n in next_actions if n and n.strip()], "bundles": evidence}

    ledger, rec = _append(Path(path), make)
    if reports_root is not None:
        _refresh_index(Path(path), reports_root)
    return ledger.items[item_id].attempts[rec["attempt"] - 1]
