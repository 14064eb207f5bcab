"""The case matrix (``tests/parity_cases.yaml``): ONE definition per run drives everything.

The same :class:`MatrixRun` (its ``args``) feeds the live C run, the simcore run, the golden
judgement, nb-compare (``--case``), traces and benchmarks, so they cannot drift apart (peer lesson
§1.6 item 4: a benchmark traced one configuration and reported another).

Schema (version 1)::

    version: 1
    cases:
      - id: AT-PARALLEL-001              # unique case id
        spec: AT-PARALLEL-001            # spec reference (golden runs: must equal meta.json spec_ref)
        threshold_class: GOLDEN-IMAGE    # a class of parity/matrix/thresholds.yaml
        base_args: ""                    # optional; only for cases without golden runs
        runs:
          - golden: at001_det64          # run id = folder; args = tests/golden_data/<folder>/args.txt
          - golden: c_cases/c_mask_img_roi   # <dir>/<name> under tests/: run id = <name>
          - name: perf-spec-1024         # non-golden run: args = base_args + extra_args
            extra_args: -lambda 6.2 -detpixels 1024
            thresholds: {corr_min: 0.999999}   # optional overrides; may only TIGHTEN the class
          - name: fuzz-s1-0007           # a non-golden run with input files (e.g. from pwb fuzz --add-cases)
            extra_args: -hkl P1.hkl -cell 50 60 70 90 90 90 -detpixels 32
            inputs: campaign_inputs/fuzz-s1-0007   # folder beside this file: its args' files by bare name

The matrix read by default is the workspace's ``tests/parity_cases.yaml`` when it has one, else the
workbench checkout's (``--cases FILE`` overrides; `default_cases_path`).
A golden run's argument list is its ``args.txt`` (read by the loader; never copied into the YAML)
and its input files are in the same folder (``MatrixRun.input_base``); a non-golden run's input files
are in its ``inputs`` folder (relative to the matrix file's folder), else relative to the cwd. Run ids
are unique across
the matrix and are the keys of the registry's ``cases`` (checked by ``pwb matrix lint``).
Malformed YAML, unknown keys or classes, duplicate ids, missing golden folders and loosening
overrides are ParityInputError (exit 5).
"""
from __future__ import annotations

import fnmatch
import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import yaml

from parity.errors import ParityInputError, ParityUsageError
from parity.evidence.provenance import workbench_checkout
from parity.evidence.workspace import resolve_workspace
from parity.matrix.registry import Thresholds, load_registry

__all__ = ["CASES_PATH", "GOLDEN_ROOT", "default_cases_path", "MatrixCase", "MatrixRun", "load_cases", "iter_runs", "find_run",
           "parse_cases", "override_problems", "match_pattern", "golden_folder"]

# The workbench checkout's own matrix and golden data (absent when installed from a wheel).
_CHECKOUT = workbench_checkout() or Path(__file__).resolve().parents[2]
CASES_PATH = _CHECKOUT / "tests" / "parity_cases.yaml"
GOLDEN_ROOT = _CHECKOUT / "tests" / "golden_data"
WORKSPACE_CASES = Path("tests") / "parity_cases.yaml"   # relative to the workspace root
_CASE_KEYS = {"id", "spec", "threshold_class", "base_args", "runs", "description"}
_RUN_KEYS = {"golden", "name", "extra_args", "thresholds", "description", "inputs"}


@dataclass(frozen=True)
class MatrixRun:
    """One runnable configuration of the matrix."""

    run_id: str
    case_id: str
    spec: str
    threshold_class: str
    args: tuple[str, ...]
    golden_dir: Path | None
    thresholds: Thresholds              # registry class values, tightened by ``overrides``
    overrides: dict
    inputs_dir: Path | None = None      # a non-golden run's ``inputs`` folder

    @property
    def input_base(self) -> Path | None:
        """Where relative input files in ``args`` live (the golden or ``inputs`` folder), None for the cwd."""
        return self.golden_dir if self.golden_dir is not None else self.inputs_dir

    @property
    def golden_float(self) -> Path | None:
        return None if self.golden_dir is None else self.golden_dir / "float.bin"

    @property
    def args_hash(self) -> str:
        """sha256 (16 hex) of the canonical argument list: the case hash bundles record."""
        return hashlib.sha256(shlex.join(self.args).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "case_id": self.case_id, "spec": self.spec,
                "threshold_class": self.threshold_class, "args": list(self.args), "args_hash": self.args_hash,
                "golden": self.golden_dir.name if self.golden_dir else None,
                "inputs": self.inputs_dir.name if self.inputs_dir else None,
                "thresholds": self.thresholds.to_dict(), "overrides": dict(self.overrides)}


@dataclass(frozen=True)
class MatrixCase:
    id: str
    spec: str
    threshold_class: str
    runs: tuple[MatrixRun, ...]


def _fail(source: str, where: str, message: str) -> ParityInputError:
    return ParityInputError(f"{source}: {where}: {message}")


def _as_args(value, source: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise _fail(source, where, f"cannot split arguments ({exc})") from None
    raise _fail(source, where, f"arguments must be a string or a list, got {type(value).__name__}")


def golden_folder(golden_root: Path, folder: str) -> Path:
    """``tests/golden_data/<folder>``, or ``tests/<dir>/<name>`` for ``folder = "<dir>/<name>"``
    (e.g. ``c_cases/c_mask_img_roi``); ParityInputError for anything else."""
    parts = folder.split("/")
    if not folder or len(parts) > 2 or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise ParityInputError(f"golden must name a folder of tests/golden_data (or <dir>/<name> under tests/),"
                               f" got {folder!r}")
    return golden_root / folder if len(parts) == 1 else golden_root.parent / folder


def _read_golden_args(golden_root: Path, folder: str, source: str, where: str) -> tuple[Path, list[str]]:
    try:
        golden_dir = golden_folder(golden_root, folder)
    except ParityInputError as exc:
        raise _fail(source, where, str(exc)) from None
    try:
        text = (golden_dir / "args.txt").read_text()
    except OSError as exc:
        raise _fail(source, where, f"cannot read {folder}/args.txt ({exc.strerror or exc})") from None
    try:
        return golden_dir, shlex.split(text)
    except ValueError as exc:
        raise _fail(source, where, f"cannot split {folder}/args.txt ({exc})") from None


def _not_looser(direction: str, new: float, old: float) -> bool:
    return new >= old if direction == "min" else new <= old


def override_problems(klass_values: dict, overrides: dict, directions: dict) -> list[str]:
    """Messages for overrides that are unknown or looser than the class (empty: all tighten or equal)."""
    problems = []
    for key, value in overrides.items():
        if key not in directions:
            problems.append(f"unknown threshold {key!r} (known: {', '.join(directions)})")
            continue
        try:
            new, old = float(value), float(klass_values[key])
        except (TypeError, ValueError):
            problems.append(f"{key} must be a number, got {value!r}")
            continue
        if not _not_looser(directions[key], new, old):
            problems.append(f"{key} override {new:g} is looser than the class value {old:g}")
    return problems


def _thresholds(klass: str, values: dict, overrides: dict, directions: dict) -> Thresholds:
    """The class values with every valid, tightening override applied (loosening ones are ignored
    here; they are findings)."""
    th = {k: float(values[k]) for k in directions}
    for key, value in overrides.items():
        try:
            new = float(value)
        except (TypeError, ValueError):
            continue
        if key in directions and _not_looser(directions[key], new, th[key]):
            th[key] = new
    return Thresholds(klass=klass, spec=values["spec"], **th)


def _inputs_dir(run: dict, *, base_dir: Path, source: str, where: str) -> Path | None:
    """A non-golden run's ``inputs`` folder: relative to the matrix file's folder and below it."""
    if "inputs" not in run:
        return None
    value = str(run["inputs"])
    parts = value.split("/")
    if not value or value.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise _fail(source, where, f"inputs must be a folder below the matrix file's folder, got {value!r}")
    return base_dir / value      # like the cwd of a run without one: a missing file fails that run only


def _parse_run(run, *, case: dict, base: list[str], golden_root: Path, source: str, where: str,
               read_args: bool) -> tuple[str, Path | None, list[str]]:
    if not isinstance(run, dict) or set(run) - _RUN_KEYS:
        raise _fail(source, where, f"a run must be a mapping with keys from {sorted(_RUN_KEYS)}")
    if "golden" in run:
        folder = str(run["golden"])
        run_id = folder.rsplit("/", 1)[-1]
        if "extra_args" in run or "inputs" in run or base or str(run.get("name", run_id)) != run_id:
            raise _fail(source, f"{where} run {run_id}", "a golden run takes its args from args.txt only"
                        " (no base_args/extra_args, name = folder)")
        if not read_args:
            return run_id, golden_folder(golden_root, folder), []
        golden_dir, args = _read_golden_args(golden_root, folder, source, f"{where} run {run_id}")
        return run_id, golden_dir, args
    if "name" not in run or "extra_args" not in run:
        raise _fail(source, where, "a non-golden run needs name and extra_args")
    run_id = str(run["name"])
    return run_id, None, base + _as_args(run["extra_args"], source, f"{where} run {run_id}")


def _check_case(raw, n: int, registry: dict, source: str) -> tuple[str, str]:
    where = f"case #{n + 1}"
    if not isinstance(raw, dict) or not {"id", "spec", "threshold_class", "runs"} <= set(raw):
        raise _fail(source, where, "needs id, spec, threshold_class and runs")
    if set(raw) - _CASE_KEYS:
        raise _fail(source, where, f"unknown key(s) {sorted(set(raw) - _CASE_KEYS)}")
    case_id, klass = str(raw["id"]), str(raw["threshold_class"])
    if klass not in registry["classes"]:
        raise _fail(source, f"case {case_id}", f"threshold class {klass!r} is not in the registry")
    if not isinstance(raw["runs"], list) or not raw["runs"]:
        raise _fail(source, f"case {case_id}", "runs must be a non-empty list")
    return case_id, klass


def parse_cases(data, *, registry: dict, golden_root: Path = GOLDEN_ROOT, source: str = "parity_cases.yaml",
                read_args: bool = True, base_dir: Path | None = None) -> tuple[list[MatrixCase], list[str]]:
    """Cases from loaded YAML plus the list of override findings (unknown or loosening; ``load_cases``
    refuses them, ``pwb matrix lint`` reports them). Structural problems raise ParityInputError.
    ``read_args=False`` skips reading args.txt (threshold comparisons of old revisions); ``base_dir`` is
    the matrix file's folder, where ``inputs`` folders are (default ``golden_root``'s parent)."""
    base_dir = Path(base_dir) if base_dir is not None else Path(golden_root).parent
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ParityInputError(f"{source}: needs a top-level 'cases' list")
    cases, findings, seen_runs, seen_cases = [], [], set(), set()
    directions = registry["directions"]
    for n, raw in enumerate(data["cases"]):
        case_id, klass = _check_case(raw, n, registry, source)
        where = f"case {case_id}"
        if case_id in seen_cases:
            raise _fail(source, where, "duplicate case id")
        seen_cases.add(case_id)
        values = registry["classes"][klass]
        base = _as_args(raw.get("base_args"), source, where)
        runs = []
        for run in raw["runs"]:
            run_id, golden_dir, args = _parse_run(run, case=raw, base=base, golden_root=golden_root,
                                                  source=source, where=where, read_args=read_args)
            inputs_dir = _inputs_dir(run, base_dir=base_dir, source=source, where=f"{where} run {run_id}")
            if run_id in seen_runs:
                raise _fail(source, where, f"duplicate run id {run_id}")
            seen_runs.add(run_id)
            overrides = run.get("thresholds") or {}
            if not isinstance(overrides, dict):
                raise _fail(source, f"{where} run {run_id}", "thresholds must be a mapping")
            findings += [f"{run_id}: {p}" for p in override_problems(values, overrides, directions)]
            runs.append(MatrixRun(run_id=run_id, case_id=case_id, spec=str(raw["spec"]), threshold_class=klass,
                                  args=tuple(args), golden_dir=golden_dir,
                                  thresholds=_thresholds(klass, values, overrides, directions),
                                  overrides=dict(overrides), inputs_dir=inputs_dir))
        cases.append(MatrixCase(id=case_id, spec=str(raw["spec"]), threshold_class=klass, runs=tuple(runs)))
    return cases, findings


def default_cases_path() -> Path:
    """The workspace's ``tests/parity_cases.yaml`` when it has one, else the workbench checkout's."""
    mine = resolve_workspace().root / WORKSPACE_CASES
    return mine if mine.is_file() else CASES_PATH


def load_cases(path: str | Path | None = None, *, registry: dict | None = None,
               golden_root: Path | None = None) -> list[MatrixCase]:
    """The matrix (default `default_cases_path`), validated; a loosening override is refused
    (ParityInputError, exit 5). Golden folders are looked up in ``golden_data/`` beside the file when
    there is one, else in the workbench's shipped golden data (``golden_root`` overrides both)."""
    p = Path(path) if path is not None else default_cases_path()
    if golden_root is None:
        golden_root = p.parent / "golden_data" if (p.parent / "golden_data").is_dir() else GOLDEN_ROOT
    if path is None and not p.is_file():
        raise ParityInputError(f"no case matrix: neither the workspace nor the workbench has {WORKSPACE_CASES}"
                               " (installed from a wheel? give --cases FILE)")
    try:
        data = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise ParityInputError(f"{p.name}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ParityInputError(f"{p.name}: not valid YAML ({exc.__class__.__name__})") from None
    cases, findings = parse_cases(data, registry=registry or load_registry(), golden_root=golden_root,
                                  source=p.name, base_dir=p.parent)
    if findings:
        raise ParityInputError(f"{p.name}: {findings[0]}" + (f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""))
    return cases


def match_pattern(run: MatrixRun, pattern: str | None) -> bool:
    """``-k`` selection: comma-separated alternatives; each is a glob if it has ``*?[``, else a
    substring; matched against the run id, the case id and the spec reference."""
    if not pattern:
        return True
    for alt in (a.strip() for a in pattern.split(",")):
        if not alt:
            continue
        for text in (run.run_id, run.case_id, run.spec):
            if (fnmatch.fnmatchcase(text, alt) if any(c in alt for c in "*?[") else alt in text):
                return True
    return False


def iter_runs(pattern: str | None = None, *, cases: Sequence[MatrixCase] | None = None,
              path: str | Path | None = None) -> Iterator[MatrixRun]:
    """Every run of the matrix (default: :func:`load_cases` of ``path``) selected by ``pattern``, in file order."""
    for case in (cases if cases is not None else load_cases(path)):
        for run in case.runs:
            if match_pattern(run, pattern):
                yield run


def find_run(run_id: str, *, cases: Sequence[MatrixCase] | None = None, path: str | Path | None = None) -> MatrixRun:
    """The run with exactly this id; ParityUsageError (exit 2) if there is none."""
    for run in iter_runs(cases=cases, path=path):
        if run.run_id == run_id:
            return run
    raise ParityUsageError(f"no run {run_id!r} in the case matrix (pwb matrix list shows them)")
