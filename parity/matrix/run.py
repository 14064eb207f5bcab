"""``pwb matrix run``: every selected matrix run, simcore judged against the live C and the golden image.

Per run (:func:`run_one`): simcore runs in-process in a scratch copy of the run's folder; the C
program (``NB_C_BIN``, preflighted once, loudly) runs in a fresh temporary directory with the same
``args``; both are judged with :func:`parity.matrix.golden.judge` and the run's registry thresholds
(``judge(reference, simcore)``, the reference being C or the stored golden float.bin).

Each run gets two verdicts, never a silent skip (peer lesson §6 row 15):

======== ================================================================================
live     ``pass`` / ``fail`` vs the live C; ``not run`` when ``NB_C_BIN`` is unset (counted and
         shown); ``error`` when the C or simcore run failed
golden   ``pass`` / ``fail`` vs the stored float.bin; ``n/a`` for runs without a golden image
======== ================================================================================

A failing or erroring verdict makes the matrix fail (exit 1). Any exception of one run is caught
and recorded as ``error`` with its type, so one broken case never hides the others.

``run_matrix(..., executor=E)`` runs the runs as tasks of an executor instead of one after the other
(``parity.campaign.cluster``: a local or existing Dask cluster): each task computes one run
(:func:`compute_one`) and sends back its outcome (and its images when bundles are written, which
happens here); a run whose worker died is an ``error`` with that reason. Without one, runs are serial.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from parity.matrix.cases import MatrixRun

__all__ = ["RunOutcome", "MatrixReport", "run_matrix", "run_one", "compute_one", "c_runner_from_env"]

PASS, FAIL, NOT_RUN, ERROR, NA = "pass", "fail", "not run", "error", "n/a"
BUNDLE_MAX_PIXELS = 256 * 256


@dataclass
class RunOutcome:
    """The two verdicts of one run and what they rest on."""

    run: MatrixRun
    live: str = NOT_RUN
    golden: str = NA
    live_reason: str = ""
    golden_reason: str = ""
    live_metrics: dict = field(default_factory=dict)
    golden_metrics: dict = field(default_factory=dict)
    simcore_s: float | None = None
    c_s: float | None = None
    c_exit_code: int | None = None
    known_divergences: list = field(default_factory=list)
    bundle: str | None = None

    @property
    def failed(self) -> bool:
        return self.live in (FAIL, ERROR) or self.golden in (FAIL, ERROR)

    @property
    def status(self) -> str:
        """Bundle status: failed, passed (something judged and passed) or skipped (nothing judged)."""
        if self.failed:
            return "failed"
        return "passed" if PASS in (self.live, self.golden) else "skipped"


@dataclass
class MatrixReport:
    outcomes: list[RunOutcome]
    c_source: str | None          # "NB_C_BIN" or None when no C binary was given

    def counts(self) -> dict:
        out = {"runs": len(self.outcomes)}
        for column in ("live", "golden"):
            for value in (PASS, FAIL, ERROR, NOT_RUN, NA):
                n = sum(1 for o in self.outcomes if getattr(o, column) == value)
                if n:
                    out[f"{column} {value}"] = n
        return out

    @property
    def exit_code(self) -> int:
        return 1 if any(o.failed for o in self.outcomes) else 0


def c_runner_from_env(env: dict | None = None):
    """The preflighted C runner from ``NB_C_BIN``, or None when it is unset (ParityInputError if it
    names a missing or non-executable file)."""
    from parity.ports.process import C_BIN_ENV, preflight, resolve_c_runner

    value = (env if env is not None else os.environ).get(C_BIN_ENV)
    return preflight(resolve_c_runner(value)) if value else None


def _verdict(ref, cand, run: MatrixRun) -> tuple[str, str, dict]:
    from parity.matrix.golden import judge

    v = judge(ref, cand, run.thresholds)
    return (PASS if v.passed else FAIL), "; ".join(v.failures), v.metrics


def _golden_image(run: MatrixRun):
    import json

    from parity.compare.images import read_float_image

    folder = run.golden_dir
    expected = None
    if (folder / "meta.json").is_file():
        meta = json.loads((folder / "meta.json").read_text())
        expected = (int(meta["spixels"]), int(meta["fpixels"]))
    stdout = (folder / "stdout.txt").read_text(errors="replace") if (folder / "stdout.txt").is_file() else ""
    return read_float_image(folder / "float.bin", expected=expected, stdout=stdout, name=f"{folder.name}/float.bin")


def _simcore(run: MatrixRun, *, dtype: str, device: str):
    from parity.ports.inprocess import run_case_dir

    if run.input_base is not None:
        return run_case_dir(run.input_base, list(run.args), dtype=dtype, device=device)
    with tempfile.TemporaryDirectory(prefix="pwb-matrix-") as empty:
        return run_case_dir(empty, list(run.args), dtype=dtype, device=device)


def _live_c(run: MatrixRun, c_runner, py_image, scratch: Path, timeout_s: float | None):
    from parity.compare.images import read_float_image
    from parity.ports.process import run_isolated

    result = run_isolated(c_runner, run.args, base=run.input_base or Path.cwd(), float_dest=scratch / "c_float.bin",
                          timeout_s=timeout_s)
    if not result.ok or result.float_path is None:
        tail = (result.stderr.strip().splitlines() or ["no stderr"])[-1]
        return result, None, f"C exited {result.returncode}: {tail}"
    image = read_float_image(result.float_path, expected=py_image.shape, stdout=result.stdout, name="C image")
    return result, image, ""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def run_one(run: MatrixRun, *, c_runner=None, dtype: str = "float32", device: str = "cpu",
            timeout_s: float | None = None, bundle=None) -> RunOutcome:
    """Both verdicts of one run; ``bundle`` (an open Bundle) receives images, verdicts and metrics."""
    out, images = compute_one(run, c_runner=c_runner, dtype=dtype, device=device, timeout_s=timeout_s)
    _record(bundle, out, images)
    return out


def compute_one(run: MatrixRun, *, c_runner=None, dtype: str = "float32", device: str = "cpu",
                timeout_s: float | None = None) -> tuple[RunOutcome, dict]:
    """Both verdicts of one run and the images they rest on (``{"simcore", "golden", "c"}``, as far as made)."""
    from parity.quirks.registry import classify

    out = RunOutcome(run=run, golden=NA if run.golden_dir is None else ERROR,
                     live_reason="" if c_runner else "NB_C_BIN not set")
    out.known_divergences = [{"id": m.id, "verdict": m.verdict, "certain": m.certain, "reason": m.reason}
                             for m in classify(list(run.args))]
    images = {}
    try:
        sim = _simcore(run, dtype=dtype, device=device)
        out.simcore_s, images["simcore"] = sim.wall_s, sim.image
    except Exception as exc:  # noqa: BLE001 - one broken run must not hide the others
        reason = f"simcore failed: {_describe(exc)}"     # an error in both columns, C or not
        out.live, out.live_reason = ERROR, reason
        if run.golden_dir is not None:
            out.golden_reason = reason
        return out, images
    if run.golden_dir is not None:
        try:
            images["golden"] = _golden_image(run)
            out.golden, out.golden_reason, out.golden_metrics = _verdict(images["golden"], images["simcore"], run)
        except Exception as exc:  # noqa: BLE001
            out.golden, out.golden_reason = ERROR, _describe(exc)
    if c_runner is not None:
        with tempfile.TemporaryDirectory(prefix="pwb-matrix-c-") as scratch:
            try:
                result, c_image, problem = _live_c(run, c_runner, images["simcore"], Path(scratch), timeout_s)
                out.c_s, out.c_exit_code = result.wall_s, result.returncode
                if c_image is None:
                    out.live, out.live_reason = ERROR, problem
                else:
                    images["c"] = c_image
                    out.live, out.live_reason, out.live_metrics = _verdict(c_image, images["simcore"], run)
            except Exception as exc:  # noqa: BLE001
                out.live, out.live_reason = ERROR, _describe(exc)
    return out, images


def _task(run: MatrixRun, settings: dict) -> tuple[RunOutcome, dict]:
    """One run as an executor task (a worker process); images travel back only when bundles want them."""
    if settings.get("torch_threads"):
        import torch

        torch.set_num_threads(int(settings["torch_threads"]))
    out, images = compute_one(run, c_runner=settings["c_runner"], dtype=settings["dtype"], device=settings["device"],
                              timeout_s=settings["timeout_s"])
    return out, (images if settings["bundles"] else {})


def _lost(run: MatrixRun, reason: str) -> RunOutcome:
    """The outcome of a run whose task never came back (its worker died twice, or it raised twice)."""
    golden = NA if run.golden_dir is None else ERROR
    return RunOutcome(run=run, live=ERROR, golden=golden, live_reason=reason,
                      golden_reason=reason if golden == ERROR else "")


def _recorded(bundle, out: RunOutcome, images: dict) -> RunOutcome:
    _record(bundle, out, images)
    return out


def _record(bundle, out: RunOutcome, images: dict) -> None:
    if bundle is None:
        return
    for name, image in images.items():
        bundle.save_npy(f"{name}.npy", image, max_pixels=BUNDLE_MAX_PIXELS)
        bundle.save_preview_png(f"{name}_preview.png", image, title=f"{name} (log1p)")
    bundle.write_json("verdicts.json", {
        "run": out.run.to_dict(), "live": out.live, "live_reason": out.live_reason, "live_metrics": out.live_metrics,
        "golden": out.golden, "golden_reason": out.golden_reason, "golden_metrics": out.golden_metrics,
        "simcore_s": out.simcore_s, "c_s": out.c_s})
    headline = {"live": out.live, "golden": out.golden}
    for prefix, metrics in (("live", out.live_metrics), ("golden", out.golden_metrics)):
        for key in ("correlation", "sum_ratio", "max_rel_err"):
            if key in metrics:
                headline[f"{prefix}_{key}"] = metrics[key]
    bundle.add_metrics(headline, headline=True)
    bundle.add_metrics({"simcore_s": out.simcore_s, "c_s": out.c_s})
    bundle.add_known_divergences(out.known_divergences)
    if out.c_exit_code is not None:
        bundle.set_exit_code("c", out.c_exit_code)
    bundle.set_status(out.status)


def _bundle_inputs(run: MatrixRun) -> list[Path]:
    from parity.ports.argfiles import input_files

    base = run.input_base or Path.cwd()
    files = input_files(run.args, base=base)
    return files + ([run.golden_float] if run.golden_float is not None and run.golden_float.is_file() else [])


def run_matrix(runs: Iterable[MatrixRun], *, c_runner=None, dtype: str = "float32", device: str = "cpu",
               timeout_s: float | None = None, bundle_slug: str | None = None, bundles: bool = False,
               reports_root: Path | None = None, argv: list[str] | None = None,
               on_result: Callable[[RunOutcome], None] | None = None, executor=None) -> MatrixReport:
    """Run every run (see the module docstring); one bundle per run when ``bundles``. ``executor``
    (``map_unordered(fn, items, *extra)`` yielding ``(index, result, error)``) runs them as tasks; the
    report keeps the runs' order either way."""
    from parity.evidence.bundle import open_bundle

    runs = list(runs)
    outcomes: list[RunOutcome | None] = [None] * len(runs)

    def finish(i: int, compute: Callable[[object], RunOutcome]) -> None:
        run = runs[i]
        if bundles:      # the manifest first, the status last (a killed serial run leaves its .partial)
            slug = f"{bundle_slug}-{run.run_id}" if bundle_slug else f"matrix-{run.run_id}"
            with open_bundle(kind="matrix", slug=slug, argv=argv, reports_root=reports_root,
                             inputs=_bundle_inputs(run), binaries=[c_runner.executable] if c_runner else [],
                             config=run.to_dict(), case=run.run_id, device=device, dtype=dtype) as b:
                outcome = compute(b)
                outcome.bundle = b.id
        else:
            outcome = compute(None)
        outcomes[i] = outcome
        if on_result is not None:
            on_result(outcome)

    if executor is None:
        for i, run in enumerate(runs):
            finish(i, lambda b, run=run: run_one(run, c_runner=c_runner, dtype=dtype, device=device,
                                                 timeout_s=timeout_s, bundle=b))
    else:
        settings = {"c_runner": c_runner, "dtype": dtype, "device": device, "timeout_s": timeout_s,
                    "bundles": bundles, "torch_threads": 1 if executor.workers else None}
        for i, result, error in executor.map_unordered(_task, runs, settings):
            outcome, images = result if result is not None else (_lost(runs[i], error or "lost"), {})
            finish(i, lambda b, outcome=outcome, images=images: _recorded(b, outcome, images))
    return MatrixReport(outcomes=[o for o in outcomes if o is not None], c_source="NB_C_BIN" if c_runner else None)


def record_summary(bundle, report: MatrixReport, *, dtype: str) -> None:
    """One small bundle for a whole matrix run: every run's verdicts and headline metrics, no images."""
    rows = []
    for o in report.outcomes:
        rows.append({"run": o.run.run_id, "spec": o.run.spec, "args_hash": o.run.args_hash, "live": o.live,
                     "golden": o.golden, "live_metrics": o.live_metrics, "golden_metrics": o.golden_metrics,
                     "simcore_s": o.simcore_s, "c_s": o.c_s,
                     "known_divergences": [m["id"] for m in o.known_divergences if m.get("certain")]})
    bundle.write_json("matrix_runs.json", {"dtype": dtype, "c_source": report.c_source, "runs": rows})
    lines = ["| run | spec | vs C live | vs golden | corr (golden) | max rel err (golden) |", "|---|---|---|---|---|---|"]
    for r in rows:
        g = r["golden_metrics"]
        lines.append(f"| {r['run']} | {r['spec']} | {r['live']} | {r['golden']} | {g.get('correlation', '-')} | "
                     f"{g.get('max_rel_err', '-')} |")
    bundle.write_text("matrix_runs.md", "\n".join(lines) + "\n")
    counts = report.counts()
    judged = [o.golden_metrics for o in report.outcomes if o.golden_metrics]
    worst = {}
    if judged:
        worst = {"worst_golden_correlation": min(m.get("correlation", 1.0) for m in judged),
                 "worst_golden_abs_sum_ratio_dev": max(abs(m.get("sum_ratio", 1.0) - 1.0) for m in judged),
                 "worst_golden_max_rel_err": max(m.get("max_rel_err", 0.0) for m in judged)}
    bundle.add_metrics({**counts, **worst, "dtype": dtype}, headline=True)
    bundle.set_status("failed" if report.exit_code else "passed")
