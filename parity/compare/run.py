"""nb-compare: run two ports (default: the C and simcore) on the same ARGS and compare their float images.

The contract is docs/nb-compare.md (AT-TOOLS-001 with its gaps closed). Two steps, so nothing is
written before every argument, input file and port has been checked:

    plan = plan_compare(CompareOptions(args=("-default_F", "100", ...)))   # usage 1 / I/O 5
    result = execute_compare(plan)                                          # runs, writes outdir
    result.exit_code, result.summary["gates"], result.outdir

Exit codes (``EXIT_*``): 0 success · 1 usage error · 2 a runner failed (non-zero exit, timeout or
no float image; both runners always run and both stdout/stderr files are kept) · 3 a gate of the
registry class failed (:mod:`parity.compare.gates`: correlation, sum ratio, relative error above
1 % of max, brightest pixel; n/a fails) · 4 shape mismatch without ``resample`` · 5 I/O or parse
error (missing binary, command or input file, unparseable ARGS, unreadable image).
``plan_compare`` raises ParityUsageError (→ 1) or ParityInputError (→ 5); ``execute_compare``
returns codes 0, 2, 3, 4, 5 as results, with summary.json written in every case.

The sides (:mod:`parity.compare.sides`): the reference (files ``c_*``) and the candidate (``py_*``),
each any port. Runner arguments: each gets the user's ARGS unchanged except that input files are
copied into its own fresh temporary directory and renamed there, other output files are kept inside
it, and our ``-floatfile`` replaces the caller's (see :mod:`parity.ports.argfiles`). No ``-nonoise``
or ``-nopgm`` is added: the argv stays what the user asked, and the extra default files are written
in the throw-away directory. ``-dtype``/``-device`` are added when given (simcore, or a candidate
that is not the C). Each runner has a timeout (:mod:`parity.compare.timeout`; ``--timeout``).
The argv each runner was given is recorded in summary.json (``argv_c``, ``argv_py``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parity.compare.exits import (EXIT_IO, EXIT_OK, EXIT_RUNNER, EXIT_SHAPE, EXIT_THRESHOLD, EXIT_USAGE,
                                  STATUS_BY_EXIT)
from parity.errors import ParityInputError, ParityUsageError
from parity.ports.argfiles import input_files
from parity.ports.process import Runner, RunResult, run_isolated
from parity.thresholds import Thresholds

__all__ = ["CompareOptions", "ComparePlan", "CompareResult", "plan_compare", "execute_compare",
           "EXIT_OK", "EXIT_USAGE", "EXIT_RUNNER", "EXIT_THRESHOLD", "EXIT_SHAPE", "EXIT_IO", "STATUS_BY_EXIT"]

DEFAULT_PNG_PERCENTILE = 99.5


@dataclass(frozen=True)
class CompareOptions:
    """Everything nb-compare was asked for (CLI options map one to one)."""

    args: tuple[str, ...]
    outdir: Path | None = None
    roi: tuple[int, int, int, int] | None = None      # C inclusive: xmin xmax ymin ymax (x = fast)
    threshold: float | None = None                     # correlation gate override (--threshold)
    threshold_class: str | None = None                 # registry class; None = DEFAULT_CLASS (gates.py)
    resample: bool = False
    png_percentile: float = DEFAULT_PNG_PERCENTILE
    save_diff: bool = False
    c_bin: str | None = None
    py_bin: str | None = None
    ref: str | None = None                             # reference port: c, c-trace, simcore or a profile name
    cand: str | None = None                            # candidate port, likewise
    ref_cmd: str | None = None                         # an ad-hoc command line for a side (shell-split)
    cand_cmd: str | None = None                        # (--cand-cmd / --py-cmd)
    workspace: str | None = None                       # where port profiles are (default: resolved)
    dtype: str | None = None
    device: str | None = None
    timeout_s: float | None = None
    base: Path | None = None                           # relative input paths in ARGS; default cwd
    case: str | None = None                            # matrix run id, when ARGS came from the matrix


@dataclass(frozen=True)
class ComparePlan:
    """Validated options, preflighted runners, input files and the shape the ARGS imply."""

    options: CompareOptions
    args: tuple[str, ...]
    base: Path
    c: Runner
    py: Runner
    inputs: tuple[Path, ...]
    expected_shape: tuple[int, int] | None
    timeout: dict = field(default_factory=dict)  # timeout_s per runner, and how it was chosen
    thresholds: Thresholds | None = None         # the registry class the gates use

    @property
    def corr_min(self) -> float:
        """The correlation gate: ``--threshold`` when given, else the class's ``corr_min``."""
        return self.thresholds.corr_min if self.options.threshold is None else float(self.options.threshold)

    @property
    def timeout_s(self) -> float | None:
        return self.timeout.get("timeout_s")

    @property
    def ref(self) -> Runner:
        """The reference side (its files and keys are the contract's ``c_*``)."""
        return self.c

    @property
    def cand(self) -> Runner:
        """The candidate side (the contract's ``py_*``)."""
        return self.py

    @property
    def dtype(self) -> str | None:
        """The candidate's compute dtype: ``--dtype``, else what its port says (simcore: float32)."""
        return self.options.dtype or self.py.port.dtype

    @property
    def device(self) -> str:
        return self.options.device or "cpu"


@dataclass
class CompareResult:
    """Outcome of :func:`execute_compare`; ``summary`` is what summary.json holds."""

    exit_code: int
    outdir: Path
    summary: dict
    c_run: RunResult | None = None
    py_run: RunResult | None = None
    c_image: np.ndarray | None = None
    py_image: np.ndarray | None = None         # resampled to the C shape when --resample was used
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # shapes, metrics, peaks, PNG scales (filled by judge_runs)

    @property
    def status(self) -> str:
        return STATUS_BY_EXIT[self.exit_code]


def _validate_options(o: CompareOptions) -> None:
    if not o.args:
        raise ParityUsageError("no nanoBragg arguments: give them after '--'")
    if o.threshold is not None and not -1.0 <= float(o.threshold) <= 1.0:
        raise ParityUsageError(f"--threshold must be in [-1, 1], got {o.threshold}")
    if not 0.0 < float(o.png_percentile) <= 100.0:
        raise ParityUsageError(f"--png-scale must be a percentile in (0, 100], got {o.png_percentile}")
    if o.timeout_s is not None and not float(o.timeout_s) > 0:
        raise ParityUsageError(f"--timeout must be > 0 s, got {o.timeout_s}")
    if o.dtype is not None and o.dtype not in ("float32", "float64"):
        raise ParityUsageError(f"--dtype must be float32 or float64, got {o.dtype!r}")
    if o.device is not None and o.device not in ("cpu", "cuda") and not str(o.device).startswith("cuda:"):
        raise ParityUsageError(f"--device must be cpu or cuda[:N], got {o.device!r}")


def _expected_shape(args: tuple[str, ...]) -> tuple[int, int] | None:
    from parity.images.io import shape_from_nanobragg_args

    if any(a in ("-img", "-mask") for a in args):
        return None        # the size comes from the image header; taken from the runner's output
    try:
        return shape_from_nanobragg_args(list(args))
    except ParityUsageError as exc:
        raise ParityInputError(f"cannot parse ARGS: {exc}") from None


def plan_compare(options: CompareOptions) -> ComparePlan:
    """Check everything before anything runs or is written (usage → ParityUsageError, I/O → ParityInputError)."""
    from parity.images.roi import Roi

    _validate_options(options)
    args = tuple(str(a) for a in options.args)
    base = Path(options.base) if options.base is not None else Path.cwd()
    expected = _expected_shape(args)
    from parity.ports.simcore_facts import check_image_memory

    check_image_memory(expected)
    if options.roi is not None:
        roi = Roi.from_c_inclusive(*options.roi)
        if expected is not None:
            roi.check_within(expected)
    if options.outdir is not None:
        from parity.compare.outdir import check_outdir_free

        check_outdir_free(options.outdir)
    inputs = tuple(input_files(args, base=base))
    from parity.compare.gates import DEFAULT_CLASS
    from parity.compare.sides import resolve_sides
    from parity.thresholds import class_thresholds

    thresholds = class_thresholds(options.threshold_class or DEFAULT_CLASS)
    c, py = resolve_sides(options)
    return ComparePlan(options=options, args=args, base=base, c=c, py=py, inputs=inputs, expected_shape=expected,
                       timeout=_timeout(options, args, base, expected), thresholds=thresholds)


def _timeout(options: CompareOptions, args, base: Path, expected) -> dict:
    """``--timeout`` when given, else the default proportional to the work (:mod:`parity.compare.timeout`)."""
    if options.timeout_s is not None:
        return {"timeout_s": float(options.timeout_s), "source": "--timeout"}
    from parity.compare.timeout import default_timeout

    return {**default_timeout(args, base=base, shape=expected), "source": "default"}


def _run_and_judge(plan: ComparePlan, outdir: Path) -> CompareResult:
    """Both runs, the judgement and summary.json, all written into ``outdir``."""
    runs: dict[str, RunResult] = {}
    for side, runner in (("c", plan.c), ("py", plan.py)):
        run = run_isolated(runner, plan.args, base=plan.base, float_dest=outdir / f"{side}_float.bin",
                           timeout_s=plan.timeout_s)
        _write_text(outdir, f"{side}_stdout.txt", run.stdout)
        _write_text(outdir, f"{side}_stderr.txt", run.stderr)
        runs[side] = run
    result = CompareResult(exit_code=EXIT_OK, outdir=outdir, summary={}, c_run=runs["c"], py_run=runs["py"])
    try:
        from parity.compare.judge import judge_runs

        judge_runs(plan, result)
    except (ParityUsageError, ParityInputError) as exc:   # ParityShapeError is an input error (4)
        result.exit_code = EXIT_USAGE if isinstance(exc, ParityUsageError) else int(exc.exit_code)
        result.notes.append(str(exc))
    from parity.compare.summary import build_summary
    from parity.images.io import write_json_atomic

    result.summary = build_summary(plan, result)
    write_json_atomic(outdir / "summary.json", result.summary)
    return result


def _write_text(outdir: Path, name: str, text: str) -> None:
    from parity.images.io import write_output_atomic

    write_output_atomic(outdir / name, text)


def execute_compare(plan: ComparePlan, *, cwd: str | os.PathLike | None = None) -> CompareResult:
    """Run the reference then the candidate (each in a fresh temp dir), compare, and write every output file.

    Returns a CompareResult whose ``exit_code`` follows the module table; summary.json is written
    for every outcome. Only a failure to create the output directory raises. The folder is built as a
    hidden ``.partial`` sibling and published by one rename at the end (parity.compare.outdir).
    """
    from parity.evidence import provenance
    from parity.compare.outdir import planned_outdir, publish_outdir
    from tracekit.atomic import atomic_dir

    o = plan.options
    final = planned_outdir(o.outdir, args=plan.args, now=provenance.utc_now(), cwd=cwd)
    with atomic_dir(final, publish=False) as work:
        result = _run_and_judge(plan, work)
    result.outdir = publish_outdir(work, final, explicit=o.outdir is not None)
    for run, side in ((result.c_run, "c"), (result.py_run, "py")):
        if run is not None and run.float_path is not None:
            run.float_path = result.outdir / f"{side}_float.bin"
    return result
