"""The one door from triage to tracekit's trace diff and config diff (change it here, nowhere else).

:func:`diff_pixel_traces` returns the trace-diff JSON keys of the shared contract (INTERFACES.md):
``first_divergence: {tap, index, ref, cand, hint: {class, text, check}}`` (None when clean),
``compared``, ``reference_total``, ``live``, and the full result under ``raw``. It reads each side
in its dialect, diffs under the candidate's dtype and checks the candidate's trace against its own
image (closure): a trace that is not the live computation is reported as such
(``trace_inconsistent``), not as a physics divergence. :func:`diff_configs` does the same for the
configuration printouts (a port's own words through its dialect).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

__all__ = ["diff_pixel_traces", "diff_configs", "hint_dict"]


def hint_dict(hint) -> dict | None:
    """``{class, text, check}`` of a tracekit Hint (or of its dict); None for no hint."""
    if hint is None:
        return None
    if hasattr(hint, "to_dict"):
        return dict(hint.to_dict())
    if isinstance(hint, dict):
        return {"class": hint.get("class") or "unknown", "text": hint.get("text", ""), "check": hint.get("check", "")}
    return {"class": "unknown", "text": str(hint), "check": ""}


def _path(p) -> str | None:
    return str(p) if p else None


def diff_pixel_traces(ref_path: str | Path, cand_path: str | Path, *, ref_dialect: str | Path | None = None,
                      cand_dialect: str | Path | None = None, dtype: str | None = None,
                      image: str | Path | None = None, shape: Sequence[int] | None = None,
                      pixel: Sequence[int] | None = None) -> dict:
    """Diff two trace files (``image``: the candidate's raw float32 image of ``shape``, for closure at
    ``pixel``); TracekitError (exit 5) when one holds no parseable trace."""
    import tracekit

    closure = image is not None and shape is not None and pixel is not None and Path(image).is_file()
    diff = tracekit.diff_files(ref_path, cand_path, dialect=_path(cand_dialect), ref_dialect=_path(ref_dialect),
                               dtype=dtype, image=str(image) if closure else None,
                               shape=tuple(int(v) for v in shape) if closure else None,
                               pixel=tuple(int(v) for v in pixel) if closure else None)
    raw = diff.to_dict()
    first = None
    if diff.first is not None:
        f = raw["first_divergence"]
        first = {"tap": f["tap"], "index": f.get("index"), "ref": f.get("ref"), "cand": f.get("cand"),
                 "rel_err": f.get("rel_err"), "unit": f.get("unit"), "hint": hint_dict(diff.hint)}
    return {"first_divergence": first, "compared": raw.get("compared"), "reference_total": raw.get("reference_total"),
            "live": bool(raw.get("live", True)), "n_divergent": raw.get("n_divergent"),
            "warnings": raw.get("warnings", []), "closure_checked": closure, "raw": raw}


def diff_configs(ref_stdout: Path, cand_stdout: Path, *, ref_dialect: str | Path | None = None,
                 cand_dialect: str | Path | None = None) -> dict:
    """The configuration diff of two stdout files: ``{"available": True, ...ConfigDiff.to_dict()}``, or
    ``{"available": False, "reason": ...}`` when a side prints no configuration tracekit can read."""
    import tracekit

    try:
        result = tracekit.config_diff_files(ref_stdout, cand_stdout, dialect=_path(cand_dialect),
                                            ref_dialect=_path(ref_dialect))
    except tracekit.TracekitError as exc:
        return {"available": False, "reason": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    return {"available": True, **result.to_dict()}
