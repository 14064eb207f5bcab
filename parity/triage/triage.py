"""``pwb triage``: the debugging loop chained, from a failing comparison to a named cause.

    plan = plan_triage(TriageOptions(args=ARGS, pair=PairSpec(cand_cmd="python -m theirport")))
    result = run_triage(plan, workdir=tmp, progress=progress)     # runs, classifies, traces
    result.exit_code, result.to_dict()["cause"]

Steps: (1) both ports run and are judged by nb-compare (:func:`parity.compare.run.execute_compare`:
the registry gates); a pass stops here (exit 0). (2) The configuration printouts are diffed.
(3) The difference image is classified (:mod:`parity.triage.classify`). (4) Pixels are picked,
traced on both sides and diffed (:mod:`parity.triage.traces`), and their first divergences
aggregated. (5) The cause is decided (:mod:`parity.triage.cause`) with what to check next.

Exit codes (:data:`EXIT_*`): 0 the comparison passes · 1 a divergence located (a traced first
divergence, a geometric difference that explains the image, or a configuration key that differs)
· 2 usage · 3 the comparison fails but nothing located it (a runner failed, no trace, an image
class alone) · 5 unreadable input or a port that cannot be started.
"""
from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from parity.errors import ParityUsageError
from parity.triage.pair import Pair, PairSpec, outcome_status, port_label, resolve_pair
from parity.triage.progress import NullProgress

__all__ = ["TriageOptions", "TriagePlan", "TriageResult", "plan_triage", "run_triage", "EXIT_PASS",
           "EXIT_LOCATED", "EXIT_USAGE", "EXIT_NOT_LOCATED", "EXIT_INPUT", "SCHEMA"]

EXIT_PASS, EXIT_LOCATED, EXIT_USAGE, EXIT_NOT_LOCATED, EXIT_INPUT = 0, 1, 2, 3, 5
SCHEMA = "pwb.triage/1"
MAX_PIXELS = 16


@dataclass(frozen=True)
class TriageOptions:
    args: tuple[str, ...]
    pair: PairSpec = PairSpec()
    n_pixels: int = 4
    workers: int = 1
    n_shells: int = 5


@dataclass(frozen=True)
class TriagePlan:
    options: TriageOptions
    pair: Pair

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(self.pair.plan.args)


@dataclass
class TriageResult:
    plan: TriagePlan
    exit_code: int
    verdict: dict
    compare: object = None                 # parity.compare.run.CompareResult
    config: dict | None = None
    classification: object = None         # parity.triage.classify.Classification
    peaks: object = None                  # parity.images.peak_table.PeakComparison
    pixels: list = field(default_factory=list)
    aggregate: dict = field(default_factory=dict)
    cause: dict | None = None
    next_steps: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "args": list(self.plan.args), "ports": self.plan.pair.describe(),
                "verdict": self.verdict, "config_diff": self.config,
                "classification": self.classification.to_dict() if self.classification is not None else None,
                "pixels": [p.to_dict() for p in self.pixels], "aggregate": self.aggregate, "cause": self.cause,
                "next_steps": list(self.next_steps), "exit_code": self.exit_code}


def plan_triage(options: TriageOptions) -> TriagePlan:
    """Check the options and resolve both ports (ParityUsageError / ParityInputError) before anything runs."""
    if not 1 <= int(options.n_pixels) <= MAX_PIXELS:
        raise ParityUsageError(f"--pixels must be 1..{MAX_PIXELS}, got {options.n_pixels}")
    if int(options.workers) < 1:
        raise ParityUsageError(f"--workers must be >= 1, got {options.workers}")
    if not 1 <= int(options.n_shells) <= 20:
        raise ParityUsageError(f"--shells must be 1..20, got {options.n_shells}")
    return TriagePlan(options=options, pair=resolve_pair(options.pair, options.args))


def _verdict(result, status: str) -> dict:
    s = result.summary
    gates = s.get("gates") or []
    return {"status": status, "passed": status == "pass", "nb_compare_exit": result.exit_code,
            "threshold_class": s.get("threshold_class"), "gates": gates,
            "failed_gates": [g["name"] for g in gates if not g.get("passed")],
            "metrics": {k: s.get(k) for k in ("correlation", "sum_ratio", "max_rel_err", "max_abs_diff", "rmse",
                                              "peak_matched_fraction", "argmax_match")},
            "notes": list(result.notes), "known_divergences": [k.get("verdict") for k in s.get("known_divergences") or []]}


def _cand_dtype(plan: TriagePlan) -> str | None:
    args = list(plan.args)
    if "-dtype" in args and args.index("-dtype") + 1 < len(args):
        return args[args.index("-dtype") + 1]
    return plan.pair.plan.dtype


def shrink_command(plan: TriagePlan) -> str:
    """``pwb shrink`` with this triage's port options and ARGS (what to run next)."""
    return "pwb shrink " + shlex.join([*plan.pair.spec.cli_options(), "--", *plan.args])


def _config(plan: TriagePlan, outdir: Path) -> dict | None:
    from parity.triage.tracediff import diff_configs

    ref, cand = outdir / "c_stdout.txt", outdir / "py_stdout.txt"
    if not (ref.is_file() and cand.is_file()):
        return None
    dialect = lambda port: port.dialect if port is not None else None   # noqa: E731
    return diff_configs(ref, cand, ref_dialect=dialect(plan.pair.ref_trace), cand_dialect=dialect(plan.pair.cand_trace))


def _runner_failure(result, status: str) -> dict:
    notes = "; ".join(result.notes) or status
    if status == "shape" and result.c_image is not None and result.py_image is not None \
            and tuple(result.py_image.shape) == tuple(result.c_image.shape)[::-1]:
        return {"class": "image_orientation", "defect_class": "image orientation", "source": "image",
                "located": True, "text": f"the candidate image has the reference's shape transposed"
                                         f" {tuple(result.py_image.shape)} vs {tuple(result.c_image.shape)}"}
    return {"class": "unknown", "defect_class": "unknown", "source": "none", "located": False,
            "text": f"no comparison of images: {notes}"}


def run_triage(plan: TriagePlan, *, workdir: str | Path, progress=None) -> TriageResult:
    """Run every step (module docstring) with files under ``workdir`` (new or empty)."""
    from parity.compare.judge import PEAK_PARAMS
    from parity.compare.run import execute_compare
    from parity.images.peak_table import compare_peaks
    from parity.triage.cause import decide_cause, next_steps
    from parity.triage.classify import classify_difference
    from parity.triage.traces import aggregate, choose_pixels, trace_pixels

    progress = progress or NullProgress()
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    cplan = plan.pair.plan
    cplan = dataclasses.replace(cplan, options=dataclasses.replace(cplan.options, outdir=work / "compare",
                                                                   save_diff=True))
    progress.stage(f"running {port_label(plan.pair.ref.port)} (reference) and {port_label(plan.pair.cand.port)}"
                   " (candidate)")
    result = execute_compare(cplan)
    status = outcome_status(result)
    out = TriageResult(plan=plan, exit_code=EXIT_PASS, verdict=_verdict(result, status), compare=result)
    if status == "pass":
        progress.stage("the comparison passes the registry gates: nothing to triage")
        return out
    progress.stage(f"the comparison fails ({status}: {', '.join(out.verdict['failed_gates']) or 'no images'})")
    out.config = _config(plan, result.outdir)
    notes = [n for n in (plan.pair.ref_trace_note, plan.pair.cand_trace_note) if n]
    if status != "fail":
        out.cause = _runner_failure(result, status)
        out.next_steps = [f"Make both ports run and write an image first ({'; '.join(result.notes)})"]
        out.exit_code = EXIT_LOCATED if out.cause["located"] else EXIT_NOT_LOCATED
        return out
    ref, cand = result.c_image, result.py_image
    th = cplan.thresholds
    progress.stage("classifying the difference image")
    out.peaks = compare_peaks(ref, cand, **PEAK_PARAMS)
    out.classification = classify_difference(ref, cand, rel_floor=th.rel_floor, tol=th.rel_err_max,
                                             peaks=out.peaks, n_shells=plan.options.n_shells)
    pixels = choose_pixels(ref, cand, n=plan.options.n_pixels, peaks=out.peaks, rel_floor=th.rel_floor)
    progress.stage(f"tracing {len(pixels)} pixel(s) on both sides")
    out.pixels = trace_pixels(plan.pair, plan.args, pixels, workdir=work / "traces", shape=tuple(ref.shape),
                              dtype=_cand_dtype(plan), workers=plan.options.workers, progress=progress)
    out.aggregate = aggregate(out.pixels)
    out.cause = decide_cause(out.classification, out.aggregate, out.config)
    out.next_steps = next_steps(out.cause, out.aggregate, config=out.config, pixels=out.pixels, pair_notes=notes,
                                shrink_command=shrink_command(plan))
    out.exit_code = EXIT_LOCATED if out.cause["located"] else EXIT_NOT_LOCATED
    progress.stage(f"cause: {out.cause['defect_class']} ({out.cause['class']}, from {out.cause['source']})")
    return out
