"""The one door from triage to tracekit's trace diff and config diff (switch it here, nowhere else).

:func:`diff_pixel_traces` returns the trace-diff JSON keys of the shared contract (INTERFACES.md):
``first_divergence: {tap, index, ref, cand, hint: {class, text, check}}`` (None when clean),
``compared``, ``reference_total``, ``live`` and the full result under ``raw``. It calls
``tracekit.diff_files`` with the keywords the installed tracekit has: the dialect-aware reader
(``dialect``/``ref_dialect``), the candidate's ``dtype``, and its image for the closure check
(``image``/``shape``/``pixel``) once tracekit takes them; before that the hint is a string, and
:func:`hint_class_from_text` gives it a canonical class. :func:`diff_configs` does the same for the
configuration printouts (``tracekit.config_diff_files`` with dialects, else ``config_diff``).
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Sequence

__all__ = ["diff_pixel_traces", "diff_configs", "hint_class_from_text", "hint_dict"]

#: (pattern in the text of a string hint, canonical class), first match wins
_TEXT_CLASSES = (
    (r"non-finite|nan/inf", "non_finite"),
    (r"trace is not the live|trace_inconsistent|not live", "trace_inconsistent"),
    (r"sign flip \(cand = -ref\)", "sign_flip"),
    (r"components permuted|axis swap", "swapped_components"),
    (r"half a pixel", "half_pixel"),
    (r"one pixel|beam cent", "beam_center"),
    (r"pivot", "detector_pivot"),
    (r"unit suspect|ratio = 1e-?\d", "unit_power_of_ten"),
    (r"rad -> deg|deg -> rad|2\*pi", "unit_factor"),
    (r"constant factor|factor 2|factor 1/2", "constant_factor"),
    (r"phi.?0|carry.?over", "phi0_carryover"),
    (r"mosaic", "mosaic_rng"),
    (r"float32", "float32_precision"),
    (r"oversampl|sub-?pixel|steps", "sampling"),
    (r"precision level", "precision"),
)


def hint_class_from_text(text: str | None) -> str:
    """A canonical hint class for a string hint (tracekit before hint classes).

    >>> hint_class_from_text("ratio = 1e-3: unit suspect (mm -> m)"), hint_class_from_text("relative difference 0.2")
    ('unit_power_of_ten', 'unknown')
    """
    low = (text or "").lower()
    for pattern, klass in _TEXT_CLASSES:
        if re.search(pattern, low):
            return klass
    return "unknown"


def hint_dict(hint) -> dict | None:
    """``{class, text, check}`` from a tracekit Hint, its dict, or a string hint."""
    if hint is None:
        return None
    if hasattr(hint, "to_dict"):
        return dict(hint.to_dict())
    if isinstance(hint, dict):
        return {"class": hint.get("class") or hint_class_from_text(hint.get("text")), "text": hint.get("text", ""),
                "check": hint.get("check") or ""}
    return {"class": hint_class_from_text(str(hint)), "text": str(hint), "check": ""}


def _accepted(fn, **kwargs) -> dict:
    params = inspect.signature(fn).parameters
    return {k: v for k, v in kwargs.items() if k in params and v is not None}


def diff_pixel_traces(ref_path: str | Path, cand_path: str | Path, *, ref_dialect: str | Path | None = None,
                      cand_dialect: str | Path | None = None, dtype: str | None = None,
                      image: str | Path | None = None, shape: Sequence[int] | None = None,
                      pixel: Sequence[int] | None = None) -> dict:
    """Diff two trace files; TracekitError (exit 5) when one holds no parseable trace."""
    import tracekit

    kwargs = _accepted(tracekit.diff_files, dialect=str(cand_dialect) if cand_dialect else None,
                       ref_dialect=str(ref_dialect) if ref_dialect else None, dtype=dtype,
                       image=str(image) if image is not None else None,
                       shape=tuple(int(v) for v in shape) if shape is not None and image is not None else None,
                       pixel=tuple(int(v) for v in pixel) if pixel is not None and image is not None else None)
    diff = tracekit.diff_files(ref_path, cand_path, **kwargs)
    raw = diff.to_dict()
    first = None
    if diff.first is not None:
        f = raw["first_divergence"]
        first = {"tap": f["tap"], "index": f.get("index"), "ref": f.get("ref"), "cand": f.get("cand"),
                 "rel_err": f.get("rel_err"), "unit": f.get("unit"), "hint": hint_dict(diff.hint)}
    live = raw.get("live")
    return {"first_divergence": first, "compared": raw.get("compared", raw.get("n_compared")),
            "reference_total": raw.get("reference_total"), "live": True if live is None else bool(live),
            "n_divergent": raw.get("n_divergent"), "warnings": raw.get("warnings", []),
            "used": sorted(kwargs), "raw": raw}


def diff_configs(ref_stdout: Path, cand_stdout: Path, *, ref_dialect: str | Path | None = None,
                 cand_dialect: str | Path | None = None) -> dict:
    """The configuration diff of two stdout files: ``{"available": True, ...ConfigDiff.to_dict()}``, or
    ``{"available": False, "reason": ...}`` when a side prints no configuration tracekit can read."""
    import tracekit

    kwargs = _accepted(tracekit.config_diff_files, dialect=str(cand_dialect) if cand_dialect else None,
                       ref_dialect=str(ref_dialect) if ref_dialect else None)
    try:
        result = tracekit.config_diff_files(ref_stdout, cand_stdout, **kwargs)
    except tracekit.TracekitError as exc:
        return {"available": False, "reason": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    out = result.to_dict()
    out.setdefault("ok", bool(result.ok))
    return {"available": True, **out}
