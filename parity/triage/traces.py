"""Pixels worth tracing, traced on both sides, diffed, and the first divergences aggregated.

Roles, in order (each pixel once; ``n`` of them):

==============  ===============================================================================
worst_rel       the worst relative error on signal (``max_rel_diff`` of
                :func:`parity.images.pick.pick_pixels`: above 1 % of the reference maximum)
worst_peak      the reference peak whose cand/ref at its pixel is farthest from 1 (|log ratio|)
typical         a typical signal pixel: the one whose reference value is nearest the signal median
background      a control far from every peak (``background`` of the picker)
==============  ===============================================================================

then, for ``n`` > 4, the picker's other roles (max_abs_diff, brightest_peak, flank, missing_peak,
extra_peak). Each pixel is traced with each side's trace port (:mod:`parity.triage.pair`) through
:func:`parity.ports.process.trace_port`, and the two traces are diffed through
:mod:`parity.triage.tracediff` with the candidate's traced image for the closure check.
"""
from __future__ import annotations

import concurrent.futures as cf
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["PixelTrace", "choose_pixels", "trace_one", "trace_pixels", "aggregate", "ROLES"]

ROLES = ("worst_rel", "worst_peak", "typical", "background")


@dataclass
class PixelTrace:
    role: str
    slow: int
    fast: int
    reason: str
    ref_value: float
    cand_value: float
    status: str = "pending"            # diverged | clean | not_traced | error
    note: str = ""
    divergence: dict | None = None     # {tap, index, ref, cand, rel_err, unit, hint: {class, text, check}}
    live: bool | None = None
    compared: int | None = None
    reference_total: int | None = None
    ref_trace: Path | None = None
    cand_trace: Path | None = None
    diff: dict | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"role": self.role, "slow": self.slow, "fast": self.fast, "reason": self.reason,
                "ref_value": float(self.ref_value), "cand_value": float(self.cand_value), "status": self.status,
                "note": self.note or None, "first_divergence": self.divergence, "live": self.live,
                "compared": self.compared, "reference_total": self.reference_total}


def _worst_peak(ref: np.ndarray, cand: np.ndarray, peaks):
    if peaks is None or len(peaks.ref_peaks) == 0:
        return None
    rp = peaks.ref_peaks
    s, f = np.asarray(rp.pixel_slow, dtype=int), np.asarray(rp.pixel_fast, dtype=int)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.abs(np.log(np.abs(cand[s, f]) / np.abs(ref[s, f])))
    score = np.where(np.isfinite(score), score, np.inf)
    k = int(np.argmax(score))
    return (int(s[k]), int(f[k]),
            f"reference peak #{k + 1} of {len(rp)}: cand/ref {cand[s[k], f[k]] / ref[s[k], f[k]]:.6g} at its pixel")


def _typical(ref: np.ndarray, rel_floor: float):
    signal = ref > rel_floor * float(np.abs(ref).max())
    if not signal.any():
        return None
    ss, ff = np.nonzero(signal)
    values = ref[ss, ff]
    med = float(np.median(values))
    k = int(np.lexsort((ff, ss, np.abs(values - med)))[0])
    return int(ss[k]), int(ff[k]), f"reference {values[k]:.6g}, nearest the median signal value {med:.6g}"


def choose_pixels(ref: np.ndarray, cand: np.ndarray, *, n: int = 4, peaks=None, rel_floor: float = 0.01) -> list[PixelTrace]:
    """Up to ``n`` distinct pixels in role order (module table)."""
    from parity.images.pick import pick_pixels

    picked = pick_pixels(ref, cand, rel_floor_fraction=rel_floor)
    by_role = {p.role: p for p in picked.pixels}
    found: list[tuple[str, int, int, str]] = []
    if "max_rel_diff" in by_role:
        p = by_role["max_rel_diff"]
        found.append(("worst_rel", p.slow, p.fast, p.reason))
    for role, pick in (("worst_peak", _worst_peak(ref, cand, peaks)), ("typical", _typical(ref, rel_floor))):
        if pick is not None:
            found.append((role, *pick))
    if "background" in by_role:
        p = by_role["background"]
        found.append(("background", p.slow, p.fast, p.reason))
    for p in picked.pixels:
        if p.role not in ("max_rel_diff", "background"):
            found.append((p.role, p.slow, p.fast, p.reason))
    out, seen = [], set()
    for role, s, f, reason in found:
        if (s, f) in seen:
            continue
        seen.add((s, f))
        out.append(PixelTrace(role, s, f, reason, float(ref[s, f]), float(cand[s, f])))
        if len(out) == n:
            break
    return out


def _tail(run) -> str:
    lines = (run.stderr or run.stdout or "").strip().splitlines()
    return lines[-1][:200] if lines else "no output"


def trace_one(pair, args, px: PixelTrace, workdir: Path, shape, dtype) -> PixelTrace:
    from parity.errors import ParityInputError, ParityUsageError
    from parity.ports.process import trace_port
    from parity.triage.tracediff import diff_pixel_traces
    from tracekit import TracekitError

    sides = {}
    for side, port, runner in (("ref", pair.ref_trace, pair.ref), ("cand", pair.cand_trace, pair.cand)):
        extra = runner.extra_args if port.kind != "c" else ()
        dest = workdir / side
        dest.mkdir(parents=True, exist_ok=True)
        try:
            traced = trace_port(port, args, px.slow, px.fast, base=pair.plan.base, dest_dir=dest,
                                timeout_s=pair.plan.timeout_s, extra_args=extra)
        except (ParityInputError, ParityUsageError) as exc:
            px.status, px.note = "error", f"{side} trace ({port.name}) could not run: {exc}"
            return px
        if not traced.run.ok:
            why = "timed out" if traced.run.timed_out else f"exited {traced.run.returncode}: {_tail(traced.run)}"
            px.status, px.note = "error", f"{side} trace ({port.name}) {why}"
            return px
        sides[side] = traced
    px.ref_trace, px.cand_trace = sides["ref"].trace_path, sides["cand"].trace_path
    try:
        d = diff_pixel_traces(px.ref_trace, px.cand_trace, ref_dialect=pair.ref_trace.dialect,
                              cand_dialect=pair.cand_trace.dialect, dtype=dtype, image=sides["cand"].float_path,
                              shape=shape, pixel=(px.slow, px.fast))
    except TracekitError as exc:
        px.status, px.note = "error", f"trace diff: {str(exc).splitlines()[0] if str(exc) else exc}"
        return px
    px.diff = d["raw"]
    px.divergence, px.live = d["first_divergence"], d["live"]
    px.compared, px.reference_total = d["compared"], d["reference_total"]
    px.status = "diverged" if px.divergence else "clean"
    notes = [str(w) for w in d["warnings"][:2]]
    if d["raw"].get("partial"):
        notes.insert(0, f"compared {px.compared} of {px.reference_total} reference values")
    px.note = "; ".join(notes)
    return px


def trace_pixels(pair, args: Sequence[str], pixels: list[PixelTrace], *, workdir: Path, shape, dtype: str | None,
                 workers: int = 1, progress=None) -> list[PixelTrace]:
    """Trace and diff each pixel (in parallel with ``workers``); pixels are updated in place and returned."""
    if pair.ref_trace is None or pair.cand_trace is None:
        why = "; ".join(n for n in (pair.ref_trace_note, pair.cand_trace_note) if n)
        for px in pixels:
            px.status, px.note = "not_traced", why
        return pixels
    done = 0
    with cf.ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        futures = [pool.submit(trace_one, pair, list(args), px, workdir, shape, dtype) for px in pixels]
        for fut in cf.as_completed(futures):
            px = fut.result()
            done += 1
            if progress is not None:
                progress.advance(f"traced ({px.slow}, {px.fast}) {px.role}: {px.status}", done, len(pixels))
    return pixels


def aggregate(pixels: Sequence[PixelTrace]) -> dict:
    """Where the traced pixels first diverge, by tap (most common first), with the hint class they share."""
    from parity.triage.cause import defect_words

    traced = [p for p in pixels if p.status in ("diverged", "clean")]
    diverged = [p for p in traced if p.status == "diverged"]
    taps = Counter(p.divergence["tap"] for p in diverged)
    out = {"n_pixels": len(pixels), "n_traced": len(traced), "n_diverged": len(diverged),
           "taps": [{"tap": t, "count": c} for t, c in taps.most_common()], "tap": None, "count": 0,
           "hint_class": None, "hint": None}
    if not traced:
        notes = sorted({p.note for p in pixels if p.note})
        out["text"] = "no pixel could be traced" + (f" ({'; '.join(notes)})" if notes else "")
        return out
    if not diverged:
        out["text"] = f"all {len(traced)} traced pixel(s) agree with the reference: no divergence"
        return out
    tap, count = taps.most_common(1)[0]
    at_tap = [p for p in diverged if p.divergence["tap"] == tap]
    classes = Counter((p.divergence.get("hint") or {}).get("class", "unknown") for p in at_tap)
    klass = classes.most_common(1)[0][0]
    hint = next((p.divergence.get("hint") for p in at_tap
                 if (p.divergence.get("hint") or {}).get("class", "unknown") == klass), None)
    out.update(tap=tap, count=count, hint_class=klass, hint=hint)
    out["text"] = f"{count} of {len(traced)} traced pixels first diverge at {tap}: {defect_words(klass)}"
    return out
