"""``pwb shrink --add-case ID``: the minimal failing list appended to a case file as a new matrix case.

The file is the workspace's case matrix (default ``<workspace>/tests/parity_cases.yaml``, the
schema of :mod:`parity.matrix.cases`); a missing file is started with ``version: 1``. The case is
appended as text (comments and order of the file are kept)::

      - id: ID
        spec: 'pwb shrink: <what it found>'
        threshold_class: GOLDEN-IMAGE
        description: '<ports>; reduced from N to M tokens'
        runs:
          - name: ID
            extra_args: -cell 100 100 100 90 90 90 -twotheta 2 ...

The new text must parse under the schema (no duplicate case or run id, a class of the registry)
before it is written, atomically. The threshold registry lives in the package and is never written
here: the result says which line ``pwb matrix lint`` will want under its ``cases:``.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Sequence

import yaml

from parity.errors import ParityInputError, ParityUsageError

__all__ = ["append_case", "default_cases_path", "CASE_ID_RE"]

CASE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_HEADER = ("# The case matrix (schema: parity/matrix/cases.py); cases added by pwb shrink --add-case.\n"
           "version: 1\n\ncases:\n")


def default_cases_path(workspace_root: Path) -> Path:
    return Path(workspace_root) / "tests" / "parity_cases.yaml"


def _ids(data) -> set[str]:
    ids = set()
    for case in (data or {}).get("cases") or []:
        if isinstance(case, dict):
            ids.add(str(case.get("id")))
            for run in case.get("runs") or []:
                if isinstance(run, dict):
                    ids.add(str(run.get("name") or str(run.get("golden", "")).rsplit("/", 1)[-1]))
    return ids


def append_case(path: str | Path, case_id: str, args: Sequence[str], *, threshold_class: str, spec: str,
                description: str) -> dict:
    """Append the case; returns ``{"path", "id", "registry_line"}``. ParityUsageError for a bad or
    taken id, ParityInputError for a case file that does not parse."""
    from parity.evidence.atomic import atomic_write_text, dir_lock
    from parity.thresholds import class_thresholds

    if not CASE_ID_RE.match(str(case_id or "")):
        raise ParityUsageError(f"--add-case {case_id!r}: use letters, digits, '_', '.', '-' (at most 80)")
    class_thresholds(threshold_class)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with dir_lock(p.parent):           # re-read under the lock: two concurrent appends both land
        new = _appended(p, case_id, args, threshold_class=threshold_class, spec=spec, description=description)
        atomic_write_text(p, new, overwrite=p.exists())
    return {"path": str(p), "id": case_id, "registry_line": f"{case_id}: {threshold_class}"}


def _appended(p: Path, case_id: str, args: Sequence[str], *, threshold_class: str, spec: str, description: str) -> str:
    """The case file's text with the case appended, checked against the schema."""
    from parity.matrix.cases import parse_cases
    from parity.thresholds import load_registry

    text = p.read_text(encoding="utf-8") if p.is_file() else _HEADER
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ParityInputError(f"{p}: not valid YAML ({exc.__class__.__name__})") from None
    if case_id in _ids(data):
        raise ParityUsageError(f"--add-case {case_id}: {p.name} has a case or run with that id already")
    entry = [{"id": case_id, "spec": spec, "threshold_class": threshold_class, "description": description,
              "runs": [{"name": case_id, "extra_args": shlex.join([str(a) for a in args])}]}]
    block = yaml.safe_dump(entry, sort_keys=False, width=10_000, allow_unicode=True)
    block = "".join("  " + line + "\n" for line in block.splitlines())
    new = text if text.endswith("\n") else text + "\n"
    if not (data.get("cases") if isinstance(data, dict) else None):
        new = re.sub(r"(?m)^cases:\s*\[\]\s*$", "cases:", new)
        if not re.search(r"(?m)^cases:\s*$", new):
            new += "\ncases:\n"
    new += block
    try:
        parse_cases(yaml.safe_load(new), registry=load_registry(), source=p.name, read_args=False)
    except yaml.YAMLError as exc:
        raise ParityInputError(f"{p}: the new case would not parse ({exc.__class__.__name__})") from None
    return new
