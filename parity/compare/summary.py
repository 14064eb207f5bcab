"""summary.json of nb-compare, its one-line summary and the rows of its stdout table.

Every field the contract lists is always present; values that were not computed (a runner
failed, the shapes differ) are ``null`` and metrics that are undefined are ``"n/a"`` with the reason
under ``"n/a_reasons"``. Paths are never absolute (``parity.evidence.provenance.relpath_from_root``:
inside the workspace relative to its root, elsewhere ``external:<name>``; the sha256 identifies them).
``provenance.ports`` holds both runners' identities (``parity.evidence.port_identity``).
"""
from __future__ import annotations

import math
import os

from parity.compare.outdir import args_hash, canonical_args

__all__ = ["SUMMARY_SCHEMA", "ROI_CONVENTION", "build_summary", "one_line", "table_rows", "failed_gate_names",
           "known_divergences"]

SUMMARY_SCHEMA = "nb-compare.summary/1"
ROI_CONVENTION = ("C inclusive, as nanoBragg's -roi: [xmin, xmax, ymin, ymax], x = fast, y = slow,"
                  " zero-based, both ends inclusive")
_METRIC_KEYS = {"correlation": "correlation", "mse": "mse", "rmse": "rmse", "max_abs_diff": "max_abs_diff",
                "max_abs_diff_at": "max_abs_diff_at", "sum_c": "ref_sum", "sum_py": "cand_sum",
                "sum_ratio": "sum_ratio", "n_pixels": "n_pixels", "metrics_version": "metrics_version"}


def _binary(runner, root) -> dict:
    from parity.evidence.provenance import relpath_from_root

    rest = [relpath_from_root(t, root=root) if os.path.isabs(t) else t for t in runner.command[1:]]
    return {"path": relpath_from_root(runner.executable, root=root), "name": runner.executable.name,
            "sha256": runner.sha256, "source": runner.source,
            "command": [relpath_from_root(runner.executable, root=root), *rest]}


def _roi_block(plan, details: dict) -> dict:
    roi = details.get("roi")
    if roi is not None:
        block = {"xmin_xmax_ymin_ymax": list(roi.to_c_inclusive()), "full_image": plan.options.roi is None,
                 "half_open": roi.to_dict()}
    else:
        block = {"xmin_xmax_ymin_ymax": list(plan.options.roi) if plan.options.roi else None,
                 "full_image": plan.options.roi is None}
    return {"convention": ROI_CONVENTION, **block}


def known_divergences(plan) -> list[dict]:
    """The C quirks ARGS touch, worded for each side's port (parity.quirks.registry): ``verdict`` is about
    the candidate (about the reference when the candidate is the C), ``verdicts`` holds both sides'."""
    from parity.evidence.errors import EvidenceUsageError
    from parity.quirks.registry import classify, emulation_from_args

    sides = {"ref": plan.c.port, "cand": plan.py.port}
    about = "cand" if sides["cand"].kind != "c" or sides["ref"].kind == "c" else "ref"
    per_side = {}
    for side, port in sides.items():
        try:
            emulation = emulation_from_args(plan.args) if port.kind == "simcore" else None
        except EvidenceUsageError:        # simcore refused the flag itself (runner failed): defaults
            emulation = None
        per_side[side] = classify(list(plan.args), port=port.kind, emulation=emulation)
    return [{"id": m.id, "verdict": m.verdict, "certain": m.certain, "reason": m.reason, "about": about,
             "port": sides[about].name, "verdicts": {side: per_side[side][i].verdict for side in sides}}
            for i, m in enumerate(per_side[about])]


def _ms(run) -> float | None:
    return None if run is None else round(run.wall_s * 1000.0, 3)


def build_summary(plan, result) -> dict:
    """The summary.json dict for a finished (or failed) comparison."""
    from parity.compare.sides import port_block
    from parity.evidence.port_identity import port_identity
    from parity.evidence.provenance import collect_provenance, default_root

    root = default_root()  # the workspace
    o, d = plan.options, result.details
    ports = [dict(port_identity(r.name, r.command, getattr(r, "env", None), root=root), side=side)
             for side, r in (("ref", plan.c), ("cand", plan.py))]
    prov = collect_provenance(inputs=list(plan.inputs), binaries=[plan.c.executable, plan.py.executable],
                              device=plan.device, dtype=plan.dtype, root=root, ports=ports)
    metrics = d.get("metrics") or {}
    peaks = d.get("peaks")
    png = d.get("png") or {}
    summary = {
        "schema": SUMMARY_SCHEMA, "tool": "nb-compare", "status": result.status, "exit_code": result.exit_code,
        "notes": list(result.notes), "case": o.case,
        "args": list(plan.args), "args_canonical": canonical_args(plan.args), "args_hash": args_hash(plan.args),
        "argv_c": result.c_run.argv if result.c_run else None,
        "argv_py": result.py_run.argv if result.py_run else None,
        "exit_code_c": result.c_run.returncode if result.c_run else None,
        "exit_code_py": result.py_run.returncode if result.py_run else None,
        "binaries": {"c": _binary(plan.c, root), "py": _binary(plan.py, root)},
        "ports": {"ref": port_block(plan.c, root), "cand": port_block(plan.py, root),
                  "files": "c_* = the reference side, py_* = the candidate side"},
        "inputs": prov["inputs"],
        "roi": _roi_block(plan, d),
        "resample": bool(o.resample), "resampled": bool(d.get("resampled", False)),
        "resample_note": d.get("resample_note"),
        "shape_expected": list(plan.expected_shape) if plan.expected_shape else None,
        "shape_c": d.get("shape_c"), "shape_py": d.get("shape_py"),
        "threshold": plan.corr_min,
        "threshold_source": "--threshold" if o.threshold is not None else f"registry {plan.thresholds.klass}",
        "threshold_class": plan.thresholds.klass,
        "thresholds": plan.thresholds.to_dict(),
        "gates": d.get("gates"),
        "timeout": dict(plan.timeout),
        "runtime_c_ms": _ms(result.c_run), "runtime_py_ms": _ms(result.py_run),
        **{key: metrics.get(src) for key, src in _METRIC_KEYS.items()},
        "sum_ratio_definition": "sum_py / sum_c (n/a when sum_c ~ 0)",
        "n/a_reasons": metrics.get("n/a_reasons", {}),
        "peaks": peaks, "peak_params": d.get("peak_params"),
        "peak_matched_fraction": peaks["matched_fraction"] if peaks else None,
        "peak_median_dist_px": peaks["median_dist_px"] if peaks else None,
        "peak_max_dist_px": peaks["max_dist_px"] if peaks else None,
        "png_scale_method": png.get("png_scale_method"), "png_scale_percentile": o.png_percentile,
        "png_scale_value": png.get("png_scale_value"),
        "save_diff": bool(o.save_diff), "diff": d.get("diff"),
        "git_sha": prov["git"]["sha"], "git_dirty": prov["git"]["dirty"],
        "versions": {"python": prov["python"], "numpy": prov["numpy"], "torch": prov["torch"]},
        "device": plan.device, "dtype": plan.dtype,
        "known_divergences": known_divergences(plan),
        "provenance": prov,
    }
    summary["files"] = sorted([p.name for p in result.outdir.iterdir() if p.is_file() and not p.name.startswith(".")]
                              + ["summary.json"])
    return summary


def _num(value, spec: str = ".6g") -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec) if math.isfinite(value) else str(value)
    return str(value)


def failed_gate_names(summary: dict) -> list[str]:
    """``["2 sum_ratio", "3 max_rel_err"]``: the failed gates, by number and name."""
    return [f"{g['number']} {g['name']}" for g in summary.get("gates") or [] if not g["passed"]]


def one_line(summary: dict, *, outdir: str) -> str:
    """``PASS corr=… | rmse=… max|Δ|=… sum_ratio=… | peaks m/n … | outdir`` (or FAIL with the failed gates
    or the reason)."""
    verdict = "PASS" if summary["exit_code"] == 0 else f"FAIL ({summary['status']})"
    parts = [verdict]
    failed = failed_gate_names(summary)
    if failed:
        parts.append(f"failed gates ({summary['threshold_class']}): {', '.join(failed)}")
    if summary["correlation"] is not None:
        parts.append(f"corr={_num(summary['correlation'], '.9f')} (threshold {summary['threshold']})")
        parts.append(f"rmse={_num(summary['rmse'], '.3g')} max|d|={_num(summary['max_abs_diff'], '.3g')}"
                     f" sum_ratio={_num(summary['sum_ratio'], '.7f')}")
        p = summary["peaks"]
        parts.append(f"peaks {p['n_matched']}/{p['n_ref']} matched, median {_num(p['median_dist_px'], '.2f')} px,"
                     f" max {_num(p['max_dist_px'], '.2f')} px")
    if summary["exit_code"] != 0 and summary["notes"] and not failed:
        parts.append(summary["notes"][0])
    parts.append(outdir)
    return "nb-compare: " + " | ".join(parts)


def table_rows(summary: dict) -> list[tuple[str, str]]:
    """(label, value) rows for the stdout table."""
    p = summary["peaks"] or {}
    roi = summary["roi"]
    rows = [
        ("correlation", f"{_num(summary['correlation'], '.9f')}  (threshold {summary['threshold']})"),
        ("mse", _num(summary["mse"], ".6g")), ("rmse", _num(summary["rmse"], ".6g")),
        ("max |py - c|", f"{_num(summary['max_abs_diff'], '.6g')} at (slow, fast) {summary['max_abs_diff_at']}"
         if summary["max_abs_diff"] is not None else "-"),
        ("sum_c", _num(summary["sum_c"], ".9g")), ("sum_py", _num(summary["sum_py"], ".9g")),
        ("sum_ratio (py / c)", _num(summary["sum_ratio"], ".9f")),
        ("peaks matched", f"{p.get('n_matched', '-')}/{p.get('n_ref', '-')} ({_num(p.get('matched_fraction'), '.3f')})"),
        ("peak distance median / max", f"{_num(p.get('median_dist_px'), '.3f')} / {_num(p.get('max_dist_px'), '.3f')} px"),
        ("shape C / Py (slow, fast)", f"{summary['shape_c']} / {summary['shape_py']}"
                                      + (" (Py resampled)" if summary["resampled"] else "")),
        ("ROI (C inclusive x=fast)", "full image" if roi["full_image"] else str(roi["xmin_xmax_ymin_ymax"])),
        ("runtime C / Py", f"{_num(summary['runtime_c_ms'], '.1f')} / {_num(summary['runtime_py_ms'], '.1f')} ms"),
    ]
    for g in summary.get("gates") or []:
        rows.append((f"gate {g['number']} {g['name']}", f"{'ok' if g['passed'] else 'FAIL'}  {_num(g['value'], '.9g')}"
                                                         f" (needs {g['op']} {_num(g['threshold'], '.9g')})"))
    return rows
