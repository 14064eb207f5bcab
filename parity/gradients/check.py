"""One gradient check: a port's ∂image/∂param against finite differences of the reference images.

    case = prepare_case(args, base_dir=case_dir)                     # pins -oversample, reads the config
    result = check_param(case, "distance_mm", port=SimcoreGradientPort("float64"), c_runner=runner)
    result.passed, result.metrics.correlation, result.fd.step

The reference is the C program (``c_runner``): central finite differences of its float32 images at
the parameter's flag. For integer parameters (-N) the C has no image between integers, so the
reference is simcore's own finite difference instead, and the result says so
(``reference == "simcore-fd"``: self-consistency of autograd, not C parity), plus the one C check an
integer allows: the C's central integer difference (I(N+1) − I(N−1))/2 must correlate with the
candidate's dI/dN. Without a C runner every parameter uses the self-consistency reference (what CI
can check).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from parity.errors import ParityUsageError
from parity.gradients import params as P
from parity.gradients.fd import FDResult, choose_step, finite_difference
from parity.gradients.metrics import GradMetrics, GradThresholds, gates, gradient_metrics, gradient_thresholds
from parity.gradients.reference import c_image_at, simcore_image_at
from parity.ports.gradients import GradientPortError, GradRequest, simcore_config

__all__ = ["PreparedCase", "GradCheckResult", "prepare_case", "check_param", "grad_request", "REFERENCES"]

REFERENCES = {"c-fd": "central finite differences of the C program's float32 images",
              "simcore-fd": "simcore finite differences (self-consistency of autograd, not C parity)"}


@dataclass
class PreparedCase:
    args: list[str]              # as given
    pinned: list[str]            # with auto-selected settings pinned
    base_dir: Path
    config: dict
    shape: tuple[int, int]
    label: str | None = None
    _original_c: dict = field(default_factory=dict)
    _fd: dict = field(default_factory=dict)      # (param, reference, dtype, step, stencil) -> (FDResult, log)


@dataclass
class GradCheckResult:
    param: str
    case: str | None
    reference: str               # "c-fd" or "simcore-fd"
    reference_note: str
    candidate: str
    value: float
    args: list[str]              # the arguments the gradient was taken at
    inserted_flag: bool          # the flag was absent and inserted with its effective value
    base_matches_original: bool | None   # C image with the edited args == with the given args
    fd: FDResult
    step_log: list[dict]
    cand: np.ndarray
    metrics: GradMetrics
    gates: list[dict]
    thresholds: GradThresholds
    wall_s: dict
    secant: dict | None = None   # integer parameters with a C: the C's integer difference vs cand
    error: str | None = None     # the candidate gave no gradient (then ``cand`` is zeros)
    cand_dtype: str | None = None  # what the candidate computes in, when it says

    @property
    def passed(self) -> bool:
        return all(g["passed"] for g in self.gates)

    def to_dict(self) -> dict:
        return {"param": self.param, "case": self.case, "reference": self.reference,
                "reference_note": self.reference_note, "candidate": self.candidate, "cand_dtype": self.cand_dtype,
                "value": self.value,
                "args": self.args, "inserted_flag": self.inserted_flag,
                "base_matches_original": self.base_matches_original, "fd": self.fd.summary(),
                "step_log": self.step_log, "metrics": self.metrics.to_dict(), "gates": self.gates,
                "threshold_class": self.thresholds.klass, "passed": self.passed, "wall_s": self.wall_s,
                "c_integer_secant": self.secant, "error": self.error}


def prepare_case(args: Sequence[str], *, base_dir: str | os.PathLike = ".", label: str | None = None) -> PreparedCase:
    """Read simcore's effective configuration and pin the auto-selected oversample factor."""
    args = list(args)
    if not args:
        raise ParityUsageError("no nanoBragg arguments: put them after --")
    config = simcore_config(args, cwd=base_dir)
    return PreparedCase(args=args, pinned=P.pinned_args(args, config), base_dir=Path(base_dir), config=config,
                        shape=(int(config["spixels"]), int(config["fpixels"])), label=label)


def grad_request(spec: P.ParamSpec, value: float, defaults: list[float]) -> GradRequest:
    vector = tuple(defaults) if spec.component is not None else ()
    if vector:
        vector = tuple(value if k == spec.index else v for k, v in enumerate(vector))
    return GradRequest(param=spec.name, simcore_names=spec.simcore, value=value, component=spec.component,
                       vector=vector)


def _original_c_image(case: PreparedCase, runner) -> np.ndarray:
    if "image" not in case._original_c:
        fn = c_image_at(lambda _v: case.args, runner=runner, base_dir=case.base_dir, shape=case.shape)
        case._original_c["image"] = fn(0.0)
    return case._original_c["image"]


def check_param(case: PreparedCase, name: str, *, port, c_runner=None, step: float | None = None,
                stencil: str = "richardson", thresholds: GradThresholds | None = None) -> GradCheckResult:
    """Check ``port``'s gradient for parameter ``name`` (module docstring). ``step`` None: the
    parameter's default step, re-balanced between truncation and rounding (fd.choose_step)."""
    spec = P.param_spec(name)
    th = thresholds or gradient_thresholds()
    defaults = P.effective_defaults(spec, case.config, case.pinned)
    value = float(defaults[spec.index])
    inserted = P.flag_values(case.pinned, spec) is None
    at_value = P.with_value(case.pinned, spec, value, defaults=defaults)

    def args_for(v: float) -> list[str]:
        return P.with_value(at_value, spec, v)

    use_c = c_runner is not None and not spec.integer
    fd_dtype = None
    if use_c:
        reference = "c-fd"
        image_at = c_image_at(args_for, runner=c_runner, base_dir=case.base_dir, shape=case.shape)
        note = REFERENCES[reference]
    else:
        reference = "simcore-fd"
        fd_dtype = (getattr(port, "dtype", None) if getattr(port, "name", "") == "simcore" else None) or "float64"
        # simcore's own finite difference, through params at fixed args (non-integer N has no flag)
        image_at = simcore_image_at(lambda _v: at_value, lambda v: grad_request(spec, v, defaults),
                                    base_dir=case.base_dir, dtype=fd_dtype)
        note = f"simcore {fd_dtype} finite differences (self-consistency of autograd, not C parity)"
        note += "; " + P.INTEGER_NOTE if spec.integer else ""
    t0 = time.perf_counter()
    key = (name, reference, fd_dtype, step, stencil)      # the reference is shared by every port checked
    if key not in case._fd:
        if step is None:
            case._fd[key] = choose_step(image_at, value, spec.step, stencil=stencil)
        else:
            case._fd[key] = (finite_difference(image_at, value, float(step), stencil=stencil),
                             [{"step": float(step), "fixed": True}])
    fd, log = case._fd[key]
    t1 = time.perf_counter()
    error = None
    try:
        cand = port.gradient(at_value, grad_request(spec, value, defaults), base_dir=case.base_dir, shape=case.shape)
    except GradientPortError as exc:
        cand, error = np.zeros(case.shape), str(exc)
    t2 = time.perf_counter()
    matches = None
    if use_c and inserted:
        matches = bool(np.array_equal(_original_c_image(case, c_runner).astype(np.float64), fd.base))
    metrics = gradient_metrics(fd.grad, cand, fd.sigma, th)
    checks = gates(metrics, th)
    if error:
        checks.insert(0, {"name": "candidate_gradient", "value": error, "threshold": None, "op": "available",
                          "passed": False})
    secant = None
    if spec.integer and c_runner is not None and not error:
        secant = integer_secant(case, spec, at_value, value, cand, runner=c_runner)
        checks.append(secant_gate(secant, th))
    return GradCheckResult(
        param=name, case=case.label, reference=reference, reference_note=note,
        candidate=port.describe(), value=value, args=at_value, inserted_flag=inserted,
        base_matches_original=matches, fd=fd, step_log=log, cand=cand, metrics=metrics,
        gates=checks, thresholds=th, secant=secant, error=error, cand_dtype=getattr(port, "dtype", None),
        wall_s={"reference": t1 - t0, "candidate": t2 - t1})


def integer_secant(case: PreparedCase, spec: P.ParamSpec, at_value: list[str], value: float, cand: np.ndarray,
                   *, runner) -> dict:
    """The C's central integer difference (I(N+1) − I(N−1))/2 against the candidate's dI/dN: the
    only C evidence on an integer parameter (a step of 1 has a large truncation error, so only the
    correlation is gated)."""
    image_at = c_image_at(lambda v: P.with_value(at_value, spec, v), runner=runner, base_dir=case.base_dir,
                          shape=case.shape)
    if value - 1 < 1:
        return {"available": False, "reason": f"{spec.flag} {value:g}: no integer value below it"}
    sec = (image_at(value + 1).astype(np.float64) - image_at(value - 1).astype(np.float64)) / 2.0
    ok = np.std(sec) > 0 and np.std(cand) > 0
    corr = float(np.corrcoef(sec.ravel(), cand.ravel())[0, 1]) if ok else float("nan")
    total = float(np.abs(sec).sum())
    return {"available": True, "correlation": corr, "values": [value - 1, value + 1],
            "sum_ratio": float(np.abs(cand).sum()) / total if total else float("nan")}


def secant_gate(secant: dict, th: GradThresholds) -> dict:
    value = secant.get("correlation", float("nan"))
    ok = secant.get("available", False) and value == value and value >= th.secant_corr_min
    return {"name": "c_integer_secant_correlation", "value": value, "threshold": th.secant_corr_min,
            "op": ">=", "passed": bool(ok)}
