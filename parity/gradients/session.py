"""A gradcheck run over several parameters, and what it writes: JSON, overlays, bundle artifacts.

`pwb gradcheck` is a thin layer over :func:`run_gradcheck` and :func:`write_results`; tests call
them directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from parity.errors import ParityUsageError
from parity.gradients import params as P
from parity.gradients.check import GradCheckResult, check_param, prepare_case

__all__ = ["CaseSpec", "golden_case", "GradcheckRun", "resolve_c_reference", "run_gradcheck", "write_results",
           "summary_rows", "markdown_table"]

SCHEMA = "pwb.gradcheck/1"


@dataclass(frozen=True)
class CaseSpec:
    """Where a gradient is checked: nanoBragg arguments and the folder their input files are in."""

    label: str | None
    args: tuple[str, ...]
    base_dir: Path = Path(".")


def golden_case(name: str) -> CaseSpec:
    """A golden case by id (``tests/golden_data/<id>``) or a folder holding an ``args.txt``."""
    from parity.matrix.cases import GOLDEN_ROOT

    folder = Path(name) if Path(name).is_dir() else GOLDEN_ROOT / name
    args_file = folder / "args.txt"
    if not args_file.is_file():
        raise ParityUsageError(f"--case {name}: no golden case or folder with an args.txt of that name")
    return CaseSpec(label=folder.name, args=tuple(args_file.read_text().split()), base_dir=folder)


@dataclass
class GradcheckRun:
    results: list[GradCheckResult]
    candidates: list[str]
    c_binary: str | None

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "candidates": self.candidates, "c_binary": self.c_binary, "passed": self.passed,
                "results": [r.to_dict() for r in self.results]}


def resolve_c_reference(reference: str, c_bin: str | None):
    """The preflighted C runner for ``--reference c`` (``--c-bin``, else ``NB_C_BIN``); None for
    ``--reference simcore`` (autograd self-consistency)."""
    from parity.ports.process import C_BIN_ENV, preflight, resolve_c_runner

    if reference == "simcore":
        return None
    if reference != "c":
        raise ParityUsageError(f"--reference {reference}: use c (finite differences of the C) or simcore")
    if not c_bin and not os.environ.get(C_BIN_ENV):
        raise ParityUsageError(f"no C binary: give --c-bin or set {C_BIN_ENV} "
                               "(or --reference simcore for autograd self-consistency)")
    return preflight(resolve_c_runner(c_bin))


def run_gradcheck(cases: Sequence[CaseSpec], names: Sequence[str], *, ports: Sequence, c_runner=None,
                  step: float | None = None, stencil: str = "richardson", progress=None) -> GradcheckRun:
    """Check every parameter of ``names`` (``all`` expands) for every case and port; the C's
    finite differences are computed once per case and parameter and shared by the ports."""
    names = P.expand_names(names)
    if step is not None and len(names) > 1:
        raise ParityUsageError("--step applies to one --param (steps differ by parameter); omit it for auto")
    results = []
    for spec in cases:
        case = prepare_case(spec.args, base_dir=spec.base_dir, label=spec.label)
        for port in ports:
            for name in names:
                results.append(check_param(case, name, port=port, c_runner=c_runner, step=step, stencil=stencil))
                if progress is not None:
                    progress(results[-1])
    return GradcheckRun(results=results, candidates=[p.describe() for p in ports],
                        c_binary=str(c_runner.executable) if c_runner is not None else None)


def summary_rows(run: GradcheckRun) -> list[dict]:
    """One flat row per parameter (console table, README table, bundle metrics)."""
    rows = []
    for r in run.results:
        m, fd = r.metrics, r.fd.summary()
        rows.append({"case": r.case, "candidate": r.candidate, "dtype": r.cand_dtype, "param": r.param,
                     "reference": r.reference, "step": r.fd.step,
                     "fd_noise_rel": fd["noise_rel_max"], "fd_trunc_rel": fd["trunc_rel_median"],
                     "signal_px": m.n_signal, "correlation": m.correlation, "rel_err_max": m.rel_err_max,
                     "rel_l2": m.rel_l2, "sum_ratio": m.sum_ratio,
                     "secant_corr": (r.secant or {}).get("correlation"),
                     "failed": [g["name"] for g in r.gates if not g["passed"]], "passed": r.passed,
                     "error": r.error})
    return rows


def markdown_table(run: GradcheckRun) -> str:
    """The summary rows as a Markdown table (the bundle's ``gradcheck.md``)."""
    def num(x, spec):
        return "n/a" if x is None or x != x else format(x, spec)

    lines = ["| case | dtype | param | reference | step | FD noise/max | signal px | corr | rel err max | "
             "Σ|c|/Σ|r| | C integer secant corr | result |", "|" + "---|" * 12]
    for row in summary_rows(run):
        verdict = "pass" if row["passed"] else "FAIL: " + ", ".join(row["failed"])
        lines.append(f"| {row['case'] or '-'} | {row['dtype'] or 'cmd'} | {row['param']} | {row['reference']} | "
                     f"{row['step']:.3g} | {num(row['fd_noise_rel'], '.1e')} | {row['signal_px']} | "
                     f"{num(row['correlation'], '.8f')} | {num(row['rel_err_max'], '.2e')} | "
                     f"{num(row['sum_ratio'], '.7f')} | {num(row['secant_corr'], '.4f')} | {verdict} |")
    return "\n".join(lines) + "\n"


def write_results(run: GradcheckRun, *, json_path: str | os.PathLike | None = None,
                  overlay_dir: str | os.PathLike | None = None, bundle=None, overwrite: bool = False,
                  save_arrays: bool = False, overlays: str = "all") -> list[Path]:
    """Write the JSON report, one overlay PNG per parameter, and the same into ``bundle`` (with the
    gradient images as float32 .npy when ``save_arrays``). ``overlays``: "all", "failed" or "none"."""
    from parity.gradients.overlay import overlay_png
    from parity.images.io import write_json_atomic, write_output_atomic

    written: list[Path] = []
    data = run.to_dict()
    if json_path is not None:
        written.append(write_json_atomic(json_path, data, overwrite=overwrite))
    chosen = [r for r in run.results if overlays == "all" or (overlays == "failed" and not r.passed)]
    pngs = {_png_name(r): overlay_png(r) for r in chosen} if (overlay_dir or bundle) else {}
    if overlay_dir is not None:
        Path(overlay_dir).mkdir(parents=True, exist_ok=True)
        for name, png in pngs.items():
            written.append(write_output_atomic(Path(overlay_dir) / name, png, overwrite=overwrite))
    if bundle is not None:
        bundle.write_json("gradcheck.json", data)
        for name, png in pngs.items():
            bundle.write_bytes(f"overlays/{name}", png)
        if save_arrays:
            for r in run.results:
                stem = _png_name(r)[:-4]
                bundle.save_npy(f"arrays/{stem}_ref.npy", r.fd.grad.astype("float32"))
                bundle.save_npy(f"arrays/{stem}_cand.npy", r.cand.astype("float32"))
        bundle.write_text("gradcheck.md", markdown_table(run))
        bundle.add_metrics({"passed": run.passed, "n_checks": len(run.results),
                            "n_failed": sum(not r.passed for r in run.results)}, headline=True)
        bundle.add_metrics({"failed": ["/".join(str(x) for x in (r.case, r.cand_dtype, r.param) if x)
                                       for r in run.results if not r.passed]})
        bundle.set_status("passed" if run.passed else "failed")
    return written


def _png_name(r: GradCheckResult) -> str:
    """``gradcheck[_<case>][_<dtype>]_<param>.png`` (case and dtype only when known)."""
    parts = ["gradcheck", *(x for x in (r.case, r.cand_dtype) if x), r.param]
    return "_".join(parts) + ".png"
