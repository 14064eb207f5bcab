"""``pwb fuzz --add-cases FILE``: each failing case appended to a case-matrix YAML as a new matrix case.

One case per failure, its run named like it (``fuzz-s<seed>-<index>``), class ``CAMPAIGN-IMAGE``, the
minimal argument list when the failure was shrunk (else the drawn one), the measured numbers in the
run's ``description`` (``xfail <dtype>: <failed gates>``). Its input files go to
``campaign_inputs/<run id>/`` beside FILE (the run's ``inputs``, schema in :mod:`parity.matrix.cases`).
The text is appended (comments and order kept), checked against the schema, and written atomically
under a lock. A run id already in the file is kept as it is, except that a campaign case this
module wrote (its block still verbatim) gains the new dtype's ``xfail <dtype>: …`` in its description
(the same case failing in float32 after float64, say); it is then listed as ``updated``. ``registry`` (a
threshold-registry YAML whose last section is ``cases:``) receives one ``<run id>: CAMPAIGN-IMAGE``
line per new run, so ``pwb matrix lint`` accepts the result; without it the lines are returned for
the user to add (the workbench's own registry is never written unless named).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from parity.errors import ParityInputError

__all__ = ["AddedCases", "add_cases", "INPUTS_DIR"]

INPUTS_DIR = "campaign_inputs"
_HEADER = "# The case matrix (schema: parity/matrix/cases.py).\nversion: 1\n\ncases:\n"


@dataclass
class AddedCases:
    path: str
    added: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    registry_lines: list = field(default_factory=list)
    registry_written: str | None = None


def _run_ids(data) -> set[str]:
    ids = set()
    for case in (data or {}).get("cases") or []:
        if isinstance(case, dict):
            ids.add(str(case.get("id")))
            ids |= {str(r.get("name") or str(r.get("golden", "")).rsplit("/", 1)[-1])
                    for r in case.get("runs") or [] if isinstance(r, dict)}
    return ids


def _entry(row: dict, report, run_id: str) -> tuple[dict, dict]:
    args = list(row["minimal_args"] or row["args"])
    spec = report.specs.get(row["case_id"])
    files = {name: text for name, text in (spec.files if spec else {}).items() if name in args}
    how = "minimal (shrunk)" if row["minimal_args"] else "as drawn (not shrunk)"
    run = {"name": run_id, "extra_args": shlex.join(args)}
    if files:
        run["inputs"] = f"{INPUTS_DIR}/{run_id}"
    run["description"] = f"xfail {report.options.dtype}: {row['reason']} [pwb fuzz seed {report.options.seed}]"
    case = {"id": run_id, "spec": f"issue #14: pwb fuzz --seed {report.options.seed} case {row['case_id']}",
            "threshold_class": report.options.threshold_class,
            "description": f"random campaign failure, arguments {how}", "runs": [run]}
    return case, files


def _block(entries: list[dict]) -> str:
    dumped = yaml.safe_dump(entries, sort_keys=False, width=10_000, allow_unicode=True)
    return "".join("  " + line + "\n" for line in dumped.splitlines())


def _with_dtype(text: str, data: dict, run_id: str, row: dict, report) -> str | None:
    """``text`` with ``xfail <dtype>: …`` added to the description of the campaign case ``run_id``, or
    None when that case is not ours verbatim or already names the dtype."""
    case = next((c for c in data.get("cases") or [] if isinstance(c, dict) and c.get("id") == run_id), None)
    if case is None or len(case.get("runs") or []) != 1 or not isinstance(case["runs"][0], dict):
        return None
    old = _block([case])
    note = f"xfail {report.options.dtype}: "
    description = str(case["runs"][0].get("description") or "")
    if old not in text or note in description:
        return None
    case["runs"][0]["description"] = f"{description}; {note}{row['reason']} [pwb fuzz seed {report.options.seed}]"
    return text.replace(old, _block([case]), 1)


def _appended_text(text: str, entries: list[dict]) -> str:
    new = text if text.endswith("\n") else text + "\n"
    if not re.search(r"(?m)^cases:\s*$", new):
        new = re.sub(r"(?m)^cases:\s*\[\]\s*$", "cases:", new)
        if not re.search(r"(?m)^cases:\s*$", new):
            new += "\ncases:\n"
    return new + _block(entries)


def _write_registry(path: Path, lines: list[str]) -> None:
    from parity.evidence.atomic import atomic_write_text
    from parity.thresholds import load_registry_text

    text = path.read_text()
    new = (text if text.endswith("\n") else text + "\n") + "".join(f"  {line}\n" for line in lines)
    old, reg = load_registry_text(text, source=path.name), load_registry_text(new, source=path.name)
    wanted = {line.split(": ")[0]: line.split(": ")[1] for line in lines}
    if reg["cases"] != {**old["cases"], **wanted} or reg["classes"] != old["classes"]:
        raise ParityInputError(f"--registry {path}: its last section is not 'cases:'; add these lines there: "
                               + "; ".join(lines))
    atomic_write_text(path, new, overwrite=True)


def add_cases(report, path: str | Path, *, registry: str | Path | None = None) -> AddedCases:
    """Append every failure of ``report`` to the matrix ``path`` (module docstring)."""
    from parity.evidence.atomic import atomic_write_text, dir_lock
    from parity.matrix.cases import parse_cases
    from parity.thresholds import load_registry, load_registry_text

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    result = AddedCases(path=str(p))
    with dir_lock(p.parent):
        text = p.read_text(encoding="utf-8") if p.is_file() else _HEADER
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ParityInputError(f"--add-cases {p}: not valid YAML ({exc.__class__.__name__})") from None
        taken = _run_ids(data)
        entries, inputs = [], {}
        for row in report.failures():
            run_id = f"fuzz-{row['case_id']}"
            if run_id in taken:
                updated = _with_dtype(text, data, run_id, row, report)
                (result.updated if updated is not None else result.kept).append(run_id)
                text = updated if updated is not None else text
                continue
            case, files = _entry(row, report, run_id)
            entries.append(case)
            inputs[run_id] = files
            result.added.append(run_id)
        if not entries and not result.updated:
            return result
        new = _appended_text(text, entries) if entries else text
        for run_id, files in inputs.items():
            if not files:
                continue
            folder = p.parent / INPUTS_DIR / run_id
            folder.mkdir(parents=True, exist_ok=True)
            for name, body in files.items():
                atomic_write_text(folder / name, body, overwrite=True)
        registry_data = load_registry_text(Path(registry).read_text()) if registry else load_registry()
        cases, _ = parse_cases(yaml.safe_load(new), registry=registry_data, source=p.name, base_dir=p.parent)
        if not set(result.added) <= {r.run_id for c in cases for r in c.runs}:
            raise ParityInputError(f"--add-cases {p}: its last section is not the 'cases:' list; nothing written")
        atomic_write_text(p, new, overwrite=p.exists())
    result.registry_lines = [f"{r}: {report.options.threshold_class}" for r in result.added]
    if registry:
        _write_registry(Path(registry), result.registry_lines)
        result.registry_written = str(registry)
    return result
