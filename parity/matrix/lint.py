"""``pwb matrix lint``: the case matrix and the threshold registry agree, and nothing loosened.

Findings (each one line; any finding → exit 1):

1. the matrix and the registry load (a malformed file is a finding, not a crash);
2. every matrix run has a registry entry with the *same* class, and every registry entry has a
   matrix run (no orphan thresholds, no unregistered runs);
3. every run's thresholds (class values + overrides) are no looser than its registry class, and
   per-run overrides only tighten;
4. every golden folder (``tests/golden_data/*``, ``tests/c_cases/*``) is a run of the matrix, and a
   golden run's spec equals its ``meta.json`` ``spec_ref``;
5. against git revision ``base`` (default HEAD): the working-tree registry is no looser than the
   registry there (:func:`parity.matrix.registry.check_not_looser`), and no run that existed there lost
   coverage or got looser effective thresholds. The registry's history is the workbench checkout's
   (skipped with a notice when the workbench is installed from a wheel); the matrix's is that of the
   repository holding it. Skipped with a notice when git or the checkout is missing, or the file did
   not exist at ``base``; an unknown revision is a usage error (exit 2).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from parity.matrix.cases import GOLDEN_ROOT, default_cases_path, parse_cases
from parity.errors import ParityInputError
from parity.matrix.registry import (REGISTRY_PATH, GitUnavailable, check_not_looser, git_show_text,
                             load_registry_text)

__all__ = ["LintReport", "lint_matrix"]


@dataclass
class LintReport:
    findings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    n_runs: int = 0
    n_registry_cases: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0


def _looser(directions: dict, old: dict, new: dict, label: str) -> list[str]:
    out = []
    for key, way in directions.items():
        if key not in new or key not in old:
            continue
        a, b = float(old[key]), float(new[key])
        if (way == "min" and b < a) or (way == "max" and b > a):
            out.append(f"{label}: {key} {b:g} is looser than {a:g}")
    return out


def _golden_folders(golden_root: Path) -> dict[str, Path]:
    folders = {p.parent.name: p.parent for p in golden_root.glob("*/args.txt")}
    extra = golden_root.parent / "c_cases"
    if extra.is_dir():
        folders.update({p.parent.name: p.parent for p in extra.glob("*/args.txt")})
    return folders


def _check_runs(report: LintReport, runs, registry: dict, golden_root: Path) -> None:
    directions = registry["directions"]
    run_ids = {r.run_id for r in runs}
    for run in runs:
        klass = registry["cases"].get(run.run_id)
        if klass is None:
            report.findings.append(f"{run.run_id}: no entry in the threshold registry")
            continue
        if klass != run.threshold_class:
            report.findings.append(f"{run.run_id}: matrix class {run.threshold_class} but registry class {klass}")
        report.findings += _looser(directions, registry["classes"][klass], run.thresholds.to_dict(),
                                   f"{run.run_id} (vs registry class {klass})")
        meta = run.golden_dir / "meta.json" if run.golden_dir is not None else None
        if meta is not None and meta.is_file():
            spec_ref = json.loads(meta.read_text()).get("spec_ref")
            if spec_ref != run.spec:
                report.findings.append(f"{run.run_id}: matrix spec {run.spec!r} but meta.json spec_ref {spec_ref!r}")
    for case_id in sorted(set(registry["cases"]) - run_ids):
        report.findings.append(f"registry entry {case_id} has no matrix run")
    for name in sorted(set(_golden_folders(golden_root)) - run_ids):
        report.findings.append(f"golden folder {name} is not a run of the matrix")


def _relpath(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _repo_holding(path: Path) -> Path | None:
    """The git top level of the repository ``path`` lives in (None outside one or without git)."""
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path.resolve().parent,
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def _check_history(report: LintReport, *, base: str, registry: dict, cases_text_now, cases_path: Path,
                   registry_path: Path, golden_root: Path) -> None:
    """The registry is the workbench's own: compared with ``base`` of the workbench checkout (skipped
    with a notice when it is installed from a wheel). The matrix is compared in the repository that
    holds it (the workspace's or the workbench's)."""
    from parity.evidence.provenance import workbench_checkout

    root = workbench_checkout()
    if root is None:
        report.notices.append("the workbench is not a git checkout (installed from a wheel?):"
                              " registry history check skipped")
        return
    reg_rel = _relpath(registry_path, root)
    if reg_rel is None:
        report.notices.append("registry is outside the repository: git comparison skipped")
        return
    cases_root = root if _relpath(cases_path, root) is not None else _repo_holding(cases_path)
    cases_rel = _relpath(cases_path, cases_root) if cases_root is not None else None
    try:
        old_text = git_show_text(base, reg_rel, root=root)
        old_cases = git_show_text(base, cases_rel, root=cases_root) if cases_rel else None
    except GitUnavailable as exc:
        report.notices.append(f"git comparison skipped ({exc})")
        return
    if old_text is None:
        report.notices.append(f"{reg_rel} does not exist at {base}: registry history check skipped")
        return
    old_registry = load_registry_text(old_text, source=f"{base}:{reg_rel}")
    report.findings += [f"vs {base}: {p}" for p in check_not_looser(old_registry, registry)]
    if old_cases is None:
        report.notices.append(f"{cases_rel or cases_path.name} does not exist at {base}: matrix history check skipped")
        return
    try:
        old_runs = {r.run_id: r for c in parse_cases(yaml.safe_load(old_cases), registry=old_registry,
                                                     golden_root=golden_root, read_args=False)[0] for r in c.runs}
        new_runs = {r.run_id: r for c in parse_cases(cases_text_now, registry=registry, golden_root=golden_root,
                                                     read_args=False)[0] for r in c.runs}
    except (ParityInputError, yaml.YAMLError) as exc:
        report.notices.append(f"matrix at {base} does not load ({exc}): matrix history check skipped")
        return
    for run_id, old in old_runs.items():
        if run_id not in new_runs:
            report.findings.append(f"vs {base}: run {run_id} was removed from the matrix")
            continue
        report.findings += _looser(registry["directions"], old.thresholds.to_dict(),
                                   new_runs[run_id].thresholds.to_dict(), f"vs {base}: {run_id}")


def lint_matrix(*, cases_path: str | Path | None = None, registry_path: str | Path | None = None,
                base: str | None = "HEAD", golden_root: Path | None = None) -> LintReport:
    """All lint checks (module docstring); ``base=None`` skips the git comparison. The matrix defaults to
    `parity.matrix.cases.default_cases_path` (the workspace's, else the workbench's); golden folders to
    ``golden_data/`` beside it, else the workbench's shipped ones."""
    report = LintReport()
    cases_path = Path(cases_path) if cases_path else default_cases_path()
    if golden_root is None:
        beside = cases_path.parent / "golden_data"
        golden_root = beside if beside.is_dir() else GOLDEN_ROOT
    registry_path = Path(registry_path) if registry_path else REGISTRY_PATH
    try:
        registry = load_registry_text(registry_path.read_text(), source=registry_path.name)
        cases_data = yaml.safe_load(cases_path.read_text())
        cases, override_findings = parse_cases(cases_data, registry=registry, golden_root=golden_root,
                                               source=cases_path.name, base_dir=cases_path.parent)
    except (OSError, ParityInputError, yaml.YAMLError) as exc:
        report.findings.append(f"does not load: {exc}")
        return report
    runs = [r for c in cases for r in c.runs]
    report.n_runs, report.n_registry_cases = len(runs), len(registry["cases"])
    report.findings += override_findings
    _check_runs(report, runs, registry, golden_root)
    if base:
        _check_history(report, base=base, registry=registry, cases_text_now=cases_data, cases_path=cases_path,
                       registry_path=registry_path, golden_root=golden_root)
    else:
        report.notices.append("git comparison not requested")
    return report
