"""One campaign case on one worker: write its input files into a fresh directory, run the C and the
candidate there, judge the candidate's image against the C's with the registry's four gates.

:func:`run_case` is what Dask ships to a worker (a module-level function of an installed package, its
arguments plain data): it never raises for a case's own trouble. Its result is a dict:

=========== ===========================================================================================
status      ``pass`` every gate passed · ``fail`` a gate failed, the shapes differ, the candidate's
            image is not finite where the C's is, or the candidate did not run · ``degenerate``
            nothing to judge: the C's image is constant and the candidate's equal to it (correlation
            is undefined), or the C's image overflows (inf: ``-point_pixel -oversample_omega``
            multiplies the running sum by 1/R² per term) with the candidate's non-finite pixels at
            the same places · ``error`` the C did not run (exit code, timeout, no image) or the
            judging broke: an error of the case, not a parity verdict (a candidate that does not run
            what the C runs *fails*)
reason      one line: the failed gates with their numbers, or why it is an error
metrics     the metrics the gates rest on (``parity.images.metrics``)
gates       ``[{number, name, value, threshold, op, passed, ...}]`` (``parity.compare.gates``)
c_s, cand_s wall seconds of each side; ``task_s`` the whole task on the worker
setup_work  loop counts and work from the candidate's set-up when the candidate is simcore in-process
=========== ===========================================================================================
"""
from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parity.campaign.spec import CaseSpec

__all__ = ["CaseConfig", "run_case", "PASS", "FAIL", "ERROR", "DEGENERATE"]

PASS, FAIL, ERROR, DEGENERATE = "pass", "fail", "error", "degenerate"


@dataclass(frozen=True)
class CaseConfig:
    """Everything a worker needs besides the case: plain, picklable data."""

    c_runner: object                  # parity.ports.process.Runner (preflighted on the client)
    cand_runner: object | None        # a Runner, or None for simcore in-process
    dtype: str = "float32"
    thresholds: object = None         # parity.thresholds.Thresholds
    timeout_s: float | None = None
    torch_threads: int | None = None  # set in the worker before simcore runs (1 on a cluster)


def _tail(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def _run_port(runner, spec: CaseSpec, inputs: Path, out: Path, name: str, timeout_s, expected=None):
    from parity.compare.images import read_float_image
    from parity.ports.process import run_isolated

    result = run_isolated(runner, spec.args, base=inputs, float_dest=out / f"{name}.bin", timeout_s=timeout_s)
    if not result.ok or result.float_path is None:
        why = "timed out" if result.timed_out else f"exited {result.returncode}" if result.returncode else \
            "wrote no float image"
        return None, result.wall_s, f"{name} {why}: {_tail(result.stderr or result.stdout)}"
    return read_float_image(result.float_path, expected=expected, stdout=result.stdout, name=f"{name} image"), \
        result.wall_s, ""


_WARM = {"done": False}
_WARM_ARGS = ["-default_F", "1", "-cell", "50", "50", "50", "90", "90", "90", "-detpixels", "16"]


def _warm_up(cfg: CaseConfig) -> float | None:
    """The first simcore run of a process imports torch and warms its kernels: done once on a 16² case and
    timed apart (``warmup_s``), so a worker's first case does not carry it."""
    if _WARM["done"]:
        return None
    from parity.ports.inprocess import run_case_dir

    t0 = time.monotonic()
    if cfg.torch_threads:
        import torch

        torch.set_num_threads(int(cfg.torch_threads))
    with tempfile.TemporaryDirectory(prefix="pwb-fuzz-warm-") as empty:
        run_case_dir(empty, list(_WARM_ARGS), dtype=cfg.dtype)
    _WARM["done"] = True
    return time.monotonic() - t0


def _simcore(spec: CaseSpec, inputs: Path, cfg: CaseConfig):
    from parity.ports.inprocess import run_case_dir

    run = run_case_dir(inputs, list(spec.args), dtype=cfg.dtype)
    c = run.config
    counts = {"pixels": int(c["fpixels"]) * int(c["spixels"]), "sources": int(c["sources"]),
              "mosaic_domains": int(c["mosaic_domains"]), "phisteps": int(c["phisteps"]),
              "thicksteps": int(c["thicksteps"]), "oversample": int(c["oversample"])}
    work = counts["pixels"] * counts["sources"] * counts["mosaic_domains"] * counts["phisteps"] \
        * counts["thicksteps"] * counts["oversample"] ** 2
    return run.image, run.wall_s, {**counts, "work": work}


def _verdict(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason, "metrics": {}, "gates": []}


def judge_images(c_image: np.ndarray, cand_image: np.ndarray, th) -> dict:
    """status, reason, metrics and gates of one candidate image against the C's (see the module table)."""
    from parity.compare.gates import evaluate_gates, failed_gates
    from parity.images.metrics import compare_images

    if c_image.shape != cand_image.shape:
        return _verdict(FAIL, f"shape {cand_image.shape} differs from the C's {c_image.shape}")
    c_bad, cand_bad = ~np.isfinite(c_image), ~np.isfinite(cand_image)
    if c_bad.any():
        if np.array_equal(c_bad, cand_bad):
            return _verdict(DEGENERATE, f"the C's image overflows ({int(c_bad.sum())} non-finite pixels) and the "
                            "candidate's at the same pixels: nothing to judge")
        return _verdict(FAIL, f"non-finite pixels: {int(c_bad.sum())} in the C's image, {int(cand_bad.sum())} in the "
                        f"candidate's, {int((c_bad != cand_bad).sum())} of them not shared")
    if cand_bad.any():
        return _verdict(FAIL, f"{int(cand_bad.sum())} non-finite candidate pixels (the C's are all finite)")
    if float(c_image.max()) == float(c_image.min()) and np.array_equal(c_image, cand_image):
        return _verdict(DEGENERATE, f"both images are constant ({float(c_image.max()):g}): nothing to judge")
    m = compare_images(c_image, cand_image, rel_floor_fraction=th.rel_floor, argmax_rel_tol=th.argmax_tie_rel)
    gates = evaluate_gates(m, th)
    failed = failed_gates(gates)
    return {"status": FAIL if failed else PASS, "reason": "; ".join(g.describe() for g in failed),
            "metrics": m.to_dict(), "gates": [g.to_dict() for g in gates]}


def _describe(exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def _known_divergences(args) -> list[str]:
    from parity.quirks.registry import classify

    try:
        return [m.id for m in classify(list(args)) if m.certain]
    except Exception:  # noqa: BLE001 - a label, never a reason for the case to fail
        return []


def run_case(spec_dict: dict, cfg: CaseConfig) -> dict:
    """Run and judge one case (module docstring); only a dying worker stops it from returning."""
    warmup_s = _warm_up(cfg) if cfg.cand_runner is None else None
    t0 = time.monotonic()
    spec = CaseSpec.from_dict(spec_dict)
    out = {"warmup_s": warmup_s, "case_id": spec.case_id, "status": ERROR, "reason": "", "metrics": {}, "gates": [],
           "c_s": None, "cand_s": None, "setup_work": None, "worker": f"{socket.gethostname()}:{os.getpid()}",
           "known_divergences": _known_divergences(spec.args)}
    try:
        with tempfile.TemporaryDirectory(prefix=f"pwb-fuzz-{spec.case_id}-") as scratch:
            inputs, images = Path(scratch, "inputs"), Path(scratch, "images")
            inputs.mkdir()
            images.mkdir()
            spec.write_inputs(inputs)
            c_image, out["c_s"], problem = _run_port(cfg.c_runner, spec, inputs, images, "C", cfg.timeout_s)
            if c_image is None:
                out["reason"] = problem
                return out
            if cfg.cand_runner is None:
                try:
                    cand_image, out["cand_s"], out["setup_work"] = _simcore(spec, inputs, cfg)
                except Exception as exc:  # noqa: BLE001 - the C ran this case: a port refusing it fails
                    cand_image, problem = None, f"candidate simcore failed: {_describe(exc)}"
            else:
                cand_image, out["cand_s"], problem = _run_port(cfg.cand_runner, spec, inputs, images, "candidate",
                                                               cfg.timeout_s, expected=c_image.shape)
            if cand_image is None:
                out["status"], out["reason"] = FAIL, problem
                return out
            out.update(judge_images(c_image, cand_image, cfg.thresholds))
    except Exception as exc:  # noqa: BLE001 - one broken case must not stop the campaign
        out["status"], out["reason"] = ERROR, _describe(exc)
    finally:
        out["task_s"] = time.monotonic() - t0
    return out
