"""A random campaign end to end: draw the cases for a seed, run each on the C and the candidate wherever
the executor runs them, collect the verdicts as they complete, shrink each failure (hook), and report.

``run_campaign(options, c_runner=..., cand_runner=None, executor=...)`` returns a :class:`CampaignReport`:
one row per case (args, files, work, status, reason, metrics, gates, minimal args, seconds per side) and
the throughput — cases per minute of wall time on the executor's workers, and the shares of the
workers' task time spent in the C and in the candidate (the rest is judging, files and start-up).

Shrinking is a hook, run on each failure once every case is in: ``shrink_fn(args, files, case_id)``
returns the minimal argument list, None (cannot shrink), or a result with ``minimal_args`` and
``sentence`` (``pwb shrink``'s :class:`parity.triage.shrink.ShrinkResult`, via
:func:`parity.campaign.shrinking.make_shrinker`, which ``shrink_budget`` > 0 builds on the
campaign's executor). Without one ``minimal_args`` is null and ``shrink`` says "no shrinker".
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from parity.campaign.runner import DEGENERATE, ERROR, FAIL, PASS, CaseConfig, run_case
from parity.campaign.spec import CaseSpec
from parity.campaign.strategy import MIN_WORK
from parity.errors import ParityUsageError

__all__ = ["CampaignOptions", "CampaignReport", "run_campaign", "DEFAULT_MAX_WORK", "DEFAULT_CLASS"]

DEFAULT_MAX_WORK = 2_000_000
DEFAULT_CLASS = "CAMPAIGN-IMAGE"
_METRIC_KEYS = ("correlation", "sum_ratio", "max_rel_err", "max_rel_err_at", "n_above_floor", "max_abs_diff",
                "ref_max", "cand_max", "ref_sum", "cand_sum", "argmax_match", "ref_argmax", "cand_argmax",
                "n/a_reasons")


@dataclass(frozen=True)
class CampaignOptions:
    n: int
    seed: int
    dtype: str = "float32"
    max_work: int = DEFAULT_MAX_WORK
    max_side: int = 128
    threshold_class: str = DEFAULT_CLASS
    timeout_s: float | None = None

    def validate(self) -> "CampaignOptions":
        if self.n < 1:
            raise ParityUsageError(f"--n must be at least 1, got {self.n}")
        if self.seed < 0:
            raise ParityUsageError(f"--seed must be 0 or more, got {self.seed}")
        if self.dtype not in ("float32", "float64"):
            raise ParityUsageError(f"--dtype must be float32 or float64, got {self.dtype!r}")
        if self.max_work < MIN_WORK:
            raise ParityUsageError(f"--max-work must be at least {MIN_WORK} (a 16 x 16 detector), got {self.max_work}")
        if not 16 <= self.max_side <= 4096:
            raise ParityUsageError(f"--max-side must be 16 to 4096 pixels, got {self.max_side}")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ParityUsageError(f"--timeout must be positive, got {self.timeout_s}")
        return self


@dataclass
class CampaignReport:
    options: CampaignOptions
    rows: list[dict]
    wall_s: float
    draw_s: float
    executor: dict                    # {"kind", "workers", "address"}
    shrink_s: float = 0.0
    ports: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    hypothesis_version: str = ""
    specs: dict = field(default_factory=dict)      # case id -> CaseSpec (with its files' text; not in the JSON)

    def counts(self) -> dict:
        out = {"n_cases": len(self.rows)}
        for key, status in (("passed", PASS), ("failed", FAIL), ("errors", ERROR), ("degenerate", DEGENERATE)):
            out[key] = sum(1 for r in self.rows if r["status"] == status)
        return out

    def throughput(self) -> dict:
        task = sum(r.get("task_s") or 0.0 for r in self.rows)
        c = sum(r.get("c_s") or 0.0 for r in self.rows)
        cand = sum(r.get("cand_s") or 0.0 for r in self.rows)
        return {"wall_s": round(self.wall_s, 3), "draw_s": round(self.draw_s, 3),
                "shrink_s": round(self.shrink_s, 3),
                "workers": self.executor.get("workers"),
                "cases_per_minute": round(60.0 * len(self.rows) / self.wall_s, 2) if self.wall_s > 0 else None,
                "task_s": round(task, 3), "c_s": round(c, 3), "cand_s": round(cand, 3),
                "c_share": round(c / task, 4) if task > 0 else None,
                "cand_share": round(cand / task, 4) if task > 0 else None,
                "work_total": sum(int(r.get("work") or 0) for r in self.rows)}

    @property
    def exit_code(self) -> int:
        """0 every case passed (or was degenerate), 1 a case failed or erred."""
        return 1 if any(r["status"] in (FAIL, ERROR) for r in self.rows) else 0

    def failures(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == FAIL]

    def to_json(self) -> dict:
        o = self.options
        return {"schema": "pwb.campaign/1", "seed": o.seed, "dtype": o.dtype, "max_work": o.max_work,
                "max_side": o.max_side, "threshold_class": o.threshold_class, "thresholds": self.thresholds,
                "hypothesis_version": self.hypothesis_version, "executor": self.executor, "ports": self.ports,
                **self.counts(), "throughput": self.throughput(), "cases": self.rows}


def _row(case: CaseSpec, result: dict | None, error: str | None) -> dict:
    row = {**case.to_dict(), "files": sorted(case.files), "status": ERROR, "reason": error or "",
           "metrics": {}, "gates": [], "c_s": None, "cand_s": None, "task_s": None, "worker": None,
           "known_divergences": [], "setup_work": None, "minimal_args": None, "shrink": None}
    if result is not None:
        row.update({k: v for k, v in result.items() if k != "case_id"})
        row["metrics"] = {k: result["metrics"][k] for k in _METRIC_KEYS if k in (result.get("metrics") or {})}
    return row


def _shrink(row: dict, case: CaseSpec, shrink_fn) -> None:
    if shrink_fn is None:
        row["shrink"] = "no shrinker"
        return
    try:
        result = shrink_fn(list(case.args), dict(case.files), case.case_id)
    except Exception as exc:  # noqa: BLE001 - the failure stands; its minimal form is unknown
        row["shrink"] = f"shrinker failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return
    minimal = getattr(result, "minimal_args", result)
    if minimal is None or getattr(result, "reproduced", True) is False or tuple(minimal) == tuple(case.args):
        row["shrink"] = getattr(result, "sentence", "") or "not shrunk"
        return
    row["minimal_args"] = list(minimal)
    row["shrink"] = getattr(result, "sentence", "") or "shrunk"


def run_campaign(options: CampaignOptions, *, c_runner, cand_runner=None, executor,
                 shrink_fn: Callable[[list, dict, str], object] | None = None,
                 on_result: Callable[[dict, int, int], None] | None = None,
                 cases: Sequence[CaseSpec] | None = None, shrink_budget: int = 0,
                 on_shrink: Callable[[dict], None] | None = None) -> CampaignReport:
    """Draw (unless ``cases`` are given), run, judge, shrink and report (module docstring)."""
    from parity.campaign.draw import draw_cases, hypothesis_version
    from parity.thresholds import class_thresholds

    options.validate()
    th = class_thresholds(options.threshold_class)
    t0 = time.monotonic()
    if cases is None:
        cases = draw_cases(options.n, options.seed, max_work=options.max_work, max_side=options.max_side)
    draw_s = time.monotonic() - t0
    cfg = CaseConfig(c_runner=c_runner, cand_runner=cand_runner, dtype=options.dtype, thresholds=th,
                     timeout_s=options.timeout_s, torch_threads=1 if executor.workers else None)
    rows: list[dict | None] = [None] * len(cases)
    t_run = time.monotonic()
    for done, (i, result, error) in enumerate(executor.map_unordered(run_case, [c.to_dict() for c in cases], cfg),
                                              start=1):
        rows[i] = row = _row(cases[i], result, error)
        if on_result is not None:
            on_result(row, done, len(cases))
    wall = time.monotonic() - t_run
    if shrink_fn is None and shrink_budget > 0:
        from parity.campaign.shrinking import make_shrinker

        shrink_fn = make_shrinker(cfg, executor=executor, budget=shrink_budget)
    t_shrink = time.monotonic()
    for i, row in enumerate(rows):
        if row is not None and row["status"] == FAIL:
            _shrink(row, cases[i], shrink_fn)
            if on_shrink is not None:
                on_shrink(row)
    shrink_s = time.monotonic() - t_shrink
    return CampaignReport(options=options, rows=[r for r in rows if r is not None], wall_s=wall, draw_s=draw_s,
                          shrink_s=shrink_s,
                          executor={"kind": executor.kind, "workers": executor.workers, "address": executor.address},
                          ports={"c": _port(c_runner), "candidate": _port(cand_runner)},
                          thresholds=th.to_dict(), hypothesis_version=hypothesis_version(),
                          specs={c.case_id: c for c in cases})


def _port(runner) -> dict:
    if runner is None:
        return {"name": "simcore", "kind": "simcore", "how": "in-process on each worker"}
    return {"name": runner.port.name, "kind": runner.port.kind, "command": runner.describe(),
            "extra_args": list(runner.extra_args), "sha256": runner.sha256}


def resolve_ports(*, c_bin=None, cand: str | None = None, cand_cmd: str | None = None, dtype: str = "float32",
                  workspace=None):
    """``(C runner, candidate runner or None)``, preflighted: the C by ``--c-bin``/``NB_C_BIN``/``./nanoBragg``;
    the candidate ``--cand PORT`` or ``--cand-cmd CMD`` (given ``-dtype D`` after the arguments, as nb-compare
    does for any candidate that is not the C), else None: simcore in-process on each worker."""
    from parity.ports.process import preflight, resolve_c_runner, runner_for, simcore_extra_args
    from parity.ports.profile import port_from_cmd, resolve_port

    if cand is not None and cand_cmd is not None:
        raise ParityUsageError("candidate: give one of --cand, --cand-cmd, not both")
    c_runner = preflight(resolve_c_runner(c_bin))
    if cand is None and cand_cmd is None:
        return c_runner, None
    port = port_from_cmd(cand_cmd, source="--cand-cmd") if cand_cmd is not None else \
        resolve_port(cand, workspace=workspace, c_bin=c_bin)
    extra = simcore_extra_args(dtype) if port.kind != "c" else ()
    return c_runner, preflight(runner_for(port, extra_args=extra))
