"""Trace diff: compare aligned taps under tolerance rules, apply known C-trace defects, count what
was compared, and find the first divergence (first failing tap in computation order) with its
upstream context and a hint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from tracekit import hints
from tracekit.align import Alignment, Pair, align
import numpy as np

from tracekit.blame import agreement, culprits
from tracekit.catalogue import KnownDefect, TapSpec
from tracekit.consistency import check_closure, check_consistency, read_image
from tracekit.diagnose import diagnose
from tracekit.dialect import DTYPES, Dialect, load_dialect
from tracekit.diffresult import TapComparison, TraceDiff
from tracekit.errors import TraceUsageError
from tracekit.records import LoopIndex, Value
from tracekit.tolerance import Rule, RuleSet, compare, default_rules, load_rules
from tracekit.trace import ParsedTrace, read_trace

__all__ = ["TapComparison", "TraceDiff", "diff_files", "diff_traces"]


def diff_traces(ref: ParsedTrace, cand: ParsedTrace, *, rules: RuleSet | Sequence[Rule] | None = None,
                pixel_mm: float | None = None, context: int = 5, dtype: str | None = None,
                consistency: bool = True, image: np.ndarray | None = None,
                pixel: tuple[int, int] | None = None) -> TraceDiff:
    """Compare `cand` against `ref`. `rules` are user rules added on top of the dtype defaults
    (a RuleSet replaces the defaults). `pixel_mm` overrides the pixel size read from the setup
    block (for the half-pixel hint). `dtype` is what the candidate computes in (default: its
    trace header or dialect; float32 when either side says float32). `consistency` runs the
    reference-free checks on both traces; `image` (slow, fast array) with `pixel` (default: the
    trace's own) checks the candidate's final value against its image. A candidate that fails
    either is reported as not live, with a trace_inconsistent hint."""
    if pixel_mm is not None and not pixel_mm > 0:
        raise TraceUsageError(f"pixel_mm must be > 0, got {pixel_mm}")
    if context < 0:
        raise TraceUsageError(f"context must be >= 0, got {context}")
    if dtype not in (None, *DTYPES):
        raise TraceUsageError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    dtype = dtype or ("float32" if "float32" in (ref.dtype, cand.dtype) else "float64")
    ruleset = rules if isinstance(rules, RuleSet) else default_rules(dtype).extended(rules or [])
    al: Alignment = align(ref, cand, ruleset)
    rows = [_compare_pair(p, ref, cand, ruleset) for p in al.pairs]
    diff = TraceDiff(ref.name, cand.name, rows, al.only_in_ref, al.only_in_cand, dtype=dtype, blocks=al.blocks)
    _coverage(diff, al, rows, ref, cand)
    _report_parse(diff, cand)
    used = sorted({d for r in rows for d in r.defects})
    diff.notes += [f"{d.id}: {d.explanation}" for d in ref.cat.defects if d.id in used]
    if consistency:
        diff.consistency = check_consistency(cand, dtype=dtype, config=cand.config, run_config=ref.config)
        diff.ref_consistency = check_consistency(ref, dtype=ref.dtype, config=ref.config)
        if not diff.ref_consistency.ok:
            diff.warnings.append("the reference trace contradicts itself (a catalogue formula or an unrecorded "
                                 f"C-trace defect): {diff.ref_consistency.summary()}")
    if image is not None:
        diff.closure = check_closure(cand, image, pixel, dtype=dtype)
    _first_divergence(diff, rows, ref, cand, context, pixel_mm)
    return diff


def _first_divergence(diff: TraceDiff, rows: list[TapComparison], ref: ParsedTrace, cand: ParsedTrace,
                      context: int, pixel_mm: float | None) -> None:
    """The first failing row, its context and hint; a candidate that is not live gets a
    trace_inconsistent hint instead (and a first divergence at its first disagreeing tap)."""
    failing = [i for i, r in enumerate(rows) if r.failed]
    if not diff.live:
        i0 = _first_disagreeing(diff, rows)
        i0 = failing[0] if i0 is None and failing else i0
        if i0 is None:
            diff.first = _uncompared_row(diff, cand, rows)
        else:
            diff.first = rows[i0]
            diff.context = _upstream(rows[:i0], diff.first.index, context)
        diff.hint = hints.Hint("trace_inconsistent", _inconsistent_text(diff))
        return
    if not failing:
        return
    i0 = failing[0]
    diff.first = rows[i0]
    diff.context = _upstream(rows[:i0], diff.first.index, context)
    pixel = pixel_mm or ref.pixel_mm or cand.pixel_mm
    spec = ref.cat.get(diff.first.tap)
    downstream = [(rows[i].tap, rows[i].ref, rows[i].cand) for i in failing[1:] if rows[i].tap != diff.first.tap]
    pixel_m = pixel * 1e-3 if pixel else None
    hint = hints.classify(diff.first.ref, diff.first.cand, position=bool(spec and spec.position),
                          pixel_m=pixel_m, downstream=downstream, tight=1e-5 if diff.dtype == "float32" else 1e-6)
    hint = diagnose(diff.first, rows, ref, cand, dtype=diff.dtype, pixel_m=pixel_m, value_hint=hint)
    notes = [d.explanation for d in ref.cat.defects_for(diff.first.tap, "note")]
    if notes:
        hint = hints.Hint(hint.cls, hint.text + " | known: " + "; ".join(notes), hint.check)
    diff.hint = hint


def _culprits(diff: TraceDiff, rows: list[TapComparison]) -> list[str]:
    """The taps of the failing consistency checks that are wrong (tracekit.blame): those that also
    disagree with the reference, not those the reference vindicates."""
    if diff.consistency is None or diff.consistency.ok:
        return []
    return culprits(diff.consistency.checks, agreement(rows))


def _first_disagreeing(diff: TraceDiff, rows: list[TapComparison]) -> int | None:
    bad = set(_culprits(diff, rows))
    if diff.closure is not None and diff.closure.ok is False and diff.closure.tap:
        bad.add(diff.closure.tap)
    hits = [i for i, r in enumerate(rows) if r.tap in bad]
    return next((i for i in hits if rows[i].failed), hits[0] if hits else None)


def _uncompared_row(diff: TraceDiff, cand: ParsedTrace, rows: list[TapComparison]) -> TapComparison:
    """A row for a disagreeing candidate tap that has no reference counterpart (ref empty)."""
    taps = _culprits(diff, rows) or [diff.closure.tap or "floatimage_accumulated"]
    rec = next((r for r in cand.records.values() if r.tap == taps[0]), None)
    spec = cand.cat.get(taps[0])
    return TapComparison(taps[0], rec.index if rec else LoopIndex(), spec.unit if spec else "?",
                         spec.level if spec else "pixel", (), rec.values if rec else (), "inconsistent", 0.0, 0.0,
                         "consistency", matched="none")


def _inconsistent_text(diff: TraceDiff) -> str:
    parts = []
    c = diff.consistency
    if c is not None and not c.ok:
        parts.append(f"its own taps disagree ({', '.join(c.disagreeing)}): {c.summary()}")
    cl = diff.closure
    if cl is not None and cl.ok is False:
        parts.append(f"its final value {cl.tap} = {cl.trace_value:.9g} is not the image pixel "
                     f"({cl.pixel[0]}, {cl.pixel[1]}) = {cl.image_value:.9g}")
    return ("the candidate trace is not the live computation, so no divergence is claimed: " + "; ".join(parts))

def diff_files(ref_path: str | Path, cand_path: str | Path, *, tolerances: str | Path | None = None,
               pixel_mm: float | None = None, context: int = 5, dtype: str | None = None,
               dialect: str | Path | Dialect | None = None, ref_dialect: str | Path | Dialect | None = None,
               image: str | Path | None = None, shape: Sequence[int] | None = None,
               pixel: tuple[int, int] | None = None, consistency: bool = True) -> TraceDiff:
    """read_trace both files (text or JSONL) and diff them; `tolerances` is a YAML rules file,
    `dialect`/`ref_dialect` a dialect (or its YAML file) for the candidate/reference trace,
    `image` the candidate's float image (raw float32 of `shape` (slow, fast), or .npy)."""
    rules = load_rules(tolerances) if tolerances else None
    ref = read_trace(ref_path, dialect=_dialect(ref_dialect))
    cand = read_trace(cand_path, dialect=_dialect(dialect))
    img = read_image(image, shape) if image is not None else None
    return diff_traces(ref, cand, rules=rules, pixel_mm=pixel_mm, context=context, dtype=dtype, image=img,
                       pixel=tuple(pixel) if pixel else None, consistency=consistency)


def _dialect(d: str | Path | Dialect | None) -> Dialect | None:
    return load_dialect(d) if isinstance(d, (str, Path)) else d


def _coverage(diff: TraceDiff, al: Alignment, rows: list[TapComparison], ref: ParsedTrace,
              cand: ParsedTrace) -> None:
    """How many reference values were compared, of how many, and which taps were not."""
    cat = ref.cat
    compared = {p.ref.key for p, r in zip(al.pairs, rows) if r.status != "ignored" and p.ref.key in ref.records}
    total, missing = 0, {}
    for key, rec in ref.records.items():
        spec = cat.get(key[0])
        if spec is None or spec.group == "pseudo" or _defect_ignored(spec, ref, cand):
            continue
        total += 1
        if key not in compared:
            missing.setdefault(spec.name, spec.order)
    diff.compared, diff.reference_total = len(compared), total
    diff.not_compared = sorted(missing, key=missing.get)
    for b in al.blocks:
        diff.notes.append(b.describe())
    if diff.partial:
        diff.warnings.append(f"compared only {diff.compared} of {diff.reference_total} reference values "
                             f"(less than half): not compared {', '.join(diff.not_compared[:12])}"
                             + (" ..." if len(diff.not_compared) > 12 else ""))


def _report_parse(diff: TraceDiff, cand: ParsedTrace) -> None:
    st = cand.stats
    diff.skipped_lines, diff.skipped = st.n_skipped, dict(st.skipped_kinds)
    diff.renamed = dict(st.renamed)
    diff.extra_taps = sorted(st.unknown_taps)
    diff.ignored_taps = sorted(st.ignored_taps)
    diff.notes += [f"candidate: {n}" for n in st.notes]
    diff.notes += [f"candidate tap {k} read as {v}" for k, v in st.renamed.items()]


def _compare_pair(p: Pair, ref: ParsedTrace, cand: ParsedTrace, ruleset: RuleSet) -> TapComparison:
    spec = p.spec
    ref_vals, cand_vals = p.ref_values, p.cand_values
    applied: list[str] = []
    status = None
    for d in (ref.cat.defects_for(spec.name) if spec else []):
        if d.kind == "print_scale":
            if ref.is_c:
                ref_vals = _unscale(ref_vals, d)
            if cand.is_c:
                cand_vals = _unscale(cand_vals, d)
            if ref.is_c or cand.is_c:
                applied.append(d.id)
        elif d.kind == "ignore" and _c_in_branch(d, ref, cand):
            status = "ignored"
            applied.append(d.id)
    level = spec.level if spec else "pixel"
    rule = ruleset.resolve(p.tap, level, spec.tol if spec else "physics")
    unit = spec.unit if spec else "?"
    if status == "ignored":
        return TapComparison(p.tap, p.index, unit, level, ref_vals, cand_vals, "ignored", 0.0, 0.0,
                             rule.describe(), tuple(applied), p.via, p.ref.keys, p.matched)
    verdict = compare(ref_vals, cand_vals, rule)
    status = "pass" if verdict.passed else "fail"
    if verdict.passed and p.ref.keys and p.cand.keys and p.ref.keys != p.cand.keys:
        status = "fail"
    return TapComparison(p.tap, p.index, unit, level, ref_vals, cand_vals, status, verdict.abs_err,
                         verdict.rel_err, rule.describe(), tuple(applied), p.via, p.ref.keys, p.matched)


def _upstream(rows: list[TapComparison], index: LoopIndex, n: int) -> list[TapComparison]:
    """The last `n` compared rows whose loop index contains `index` (same values where both set)."""
    def contains(other: LoopIndex) -> bool:
        return all(a is None or b is None or a == b for a, b in zip(other[:6], index[:6]))
    picked = [r for r in rows if r.status != "ignored" and contains(r.index)]
    return picked[-n:] if n else []


def _unscale(values: tuple[Value, ...], d: KnownDefect) -> tuple[Value, ...]:
    comps = d.components or tuple(range(len(values)))
    return tuple(v / d.factor if i in comps and not isinstance(v, str) else v for i, v in enumerate(values))


def _c_in_branch(d: KnownDefect, ref: ParsedTrace, cand: ParsedTrace) -> bool:
    return any(t.is_c and (d.branch is None or t.branch == d.branch) for t in (ref, cand))


def _defect_ignored(spec: TapSpec, ref: ParsedTrace, cand: ParsedTrace) -> bool:
    return any(d.kind == "ignore" and _c_in_branch(d, ref, cand) for d in ref.cat.defects_for(spec.name))
