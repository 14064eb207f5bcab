"""Trace diff: compare aligned taps under tolerance rules, apply known C-trace defects, and find
the first divergence (first failing tap in computation order) with its upstream context and a hint.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from tracekit import hints
from tracekit.align import Alignment, Pair, align
from tracekit.catalogue import KnownDefect
from tracekit.dialect import DTYPES, Dialect, load_dialect
from tracekit.errors import TraceUsageError
from tracekit.records import LoopIndex, Value
from tracekit.tolerance import Rule, RuleSet, compare, default_rules, load_rules
from tracekit.trace import ParsedTrace, read_trace


@dataclass
class TapComparison:
    """One aligned tap at one loop index, with its verdict."""

    tap: str
    index: LoopIndex
    unit: str
    level: str
    ref: tuple[Value, ...]
    cand: tuple[Value, ...]
    status: str            # "pass" | "fail" | "ignored"
    abs_err: float
    rel_err: float
    rule: str
    defects: tuple[str, ...] = ()
    via: str | None = None
    keys: tuple[str, ...] | None = None

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"tap": self.tap, "index": self.index.as_dict(), "unit": self.unit, "ref": _vals(self.ref),
                "cand": _vals(self.cand), "status": self.status, "abs_err": _num(self.abs_err),
                "rel_err": _num(self.rel_err), "rule": self.rule, "defects": list(self.defects), "via": self.via}


@dataclass
class TraceDiff:
    """The result of diff_traces; `first` is None when nothing diverges."""

    ref_name: str
    cand_name: str
    rows: list[TapComparison]
    only_in_ref: list[tuple[str, LoopIndex]]
    only_in_cand: list[tuple[str, LoopIndex]]
    first: TapComparison | None = None
    hint: str | None = None
    context: list[TapComparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dtype: str = "float64"

    @property
    def n_compared(self) -> int:
        return sum(r.status != "ignored" for r in self.rows)

    @property
    def n_divergent(self) -> int:
        return sum(r.failed for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        first = None
        if self.first is not None:
            f = self.first
            first = {"tap": f.tap, "index": f.index.as_dict(), "ref": _vals(f.ref), "cand": _vals(f.cand),
                     "abs_err": _num(f.abs_err), "rel_err": _num(f.rel_err), "hint": self.hint,
                     "unit": f.unit, "rule": f.rule, "context": [c.to_dict() for c in self.context]}
        return {"ref": self.ref_name, "cand": self.cand_name, "dtype": self.dtype,
                "n_compared": self.n_compared, "n_divergent": self.n_divergent, "first_divergence": first,
                "taps": [r.to_dict() for r in self.rows],
                "only_in_ref": [{"tap": t, "index": i.as_dict()} for t, i in self.only_in_ref],
                "only_in_cand": [{"tap": t, "index": i.as_dict()} for t, i in self.only_in_cand],
                "notes": self.notes}


def diff_traces(ref: ParsedTrace, cand: ParsedTrace, *, rules: RuleSet | Sequence[Rule] | None = None,
                pixel_mm: float | None = None, context: int = 5, dtype: str | None = None) -> TraceDiff:
    """Compare `cand` against `ref`. `rules` are user rules added on top of the dtype defaults
    (a RuleSet replaces the defaults). `pixel_mm` overrides the pixel size read from the setup
    block (for the half-pixel hint). `dtype` is what the candidate computes in (default: its
    trace header or dialect; float32 when either side says float32)."""
    if pixel_mm is not None and not pixel_mm > 0:
        raise TraceUsageError(f"pixel_mm must be > 0, got {pixel_mm}")
    if context < 0:
        raise TraceUsageError(f"context must be >= 0, got {context}")
    if dtype not in (None, *DTYPES):
        raise TraceUsageError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    dtype = dtype or ("float32" if "float32" in (ref.dtype, cand.dtype) else "float64")
    ruleset = rules if isinstance(rules, RuleSet) else default_rules(dtype).extended(rules or [])
    al: Alignment = align(ref, cand)
    rows = [_compare_pair(p, ref, cand, ruleset) for p in al.pairs]
    diff = TraceDiff(ref.name, cand.name, rows, al.only_in_ref, al.only_in_cand, dtype=dtype)
    used = sorted({d for r in rows for d in r.defects})
    diff.notes = [f"{d.id}: {d.explanation}" for d in ref.cat.defects if d.id in used]
    failing = [i for i, r in enumerate(rows) if r.failed]
    if failing:
        i0 = failing[0]
        diff.first = rows[i0]
        diff.context = _upstream(rows[:i0], diff.first.index, context)
        pixel = pixel_mm or ref.pixel_mm or cand.pixel_mm
        spec = ref.cat.get(diff.first.tap)
        downstream = [(rows[i].tap, rows[i].ref, rows[i].cand) for i in failing[1:] if rows[i].tap != diff.first.tap]
        diff.hint = hints.classify(diff.first.ref, diff.first.cand, position=bool(spec and spec.position),
                                   pixel_m=pixel * 1e-3 if pixel else None, downstream=downstream)
        notes = [d.explanation for d in ref.cat.defects_for(diff.first.tap, "note")]
        if notes:
            diff.hint += " | known: " + "; ".join(notes)
    return diff


def diff_files(ref_path: str | Path, cand_path: str | Path, *, tolerances: str | Path | None = None,
               pixel_mm: float | None = None, context: int = 5, dtype: str | None = None,
               dialect: str | Path | Dialect | None = None,
               ref_dialect: str | Path | Dialect | None = None) -> TraceDiff:
    """read_trace both files (text or JSONL) and diff them; `tolerances` is a YAML rules file,
    `dialect`/`ref_dialect` a dialect (or its YAML file) for the candidate/reference trace."""
    rules = load_rules(tolerances) if tolerances else None
    ref = read_trace(ref_path, dialect=_dialect(ref_dialect))
    cand = read_trace(cand_path, dialect=_dialect(dialect))
    return diff_traces(ref, cand, rules=rules, pixel_mm=pixel_mm, context=context, dtype=dtype)


def _dialect(d: str | Path | Dialect | None) -> Dialect | None:
    return load_dialect(d) if isinstance(d, (str, Path)) else d


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
                             rule.describe(), tuple(applied), p.via, p.ref.keys)
    verdict = compare(ref_vals, cand_vals, rule)
    status = "pass" if verdict.passed else "fail"
    if verdict.passed and p.ref.keys and p.cand.keys and p.ref.keys != p.cand.keys:
        status = "fail"
    return TapComparison(p.tap, p.index, unit, level, ref_vals, cand_vals, status, verdict.abs_err,
                         verdict.rel_err, rule.describe(), tuple(applied), p.via, p.ref.keys)


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


def _vals(values: tuple[Value, ...]) -> list:
    return [v if isinstance(v, str) else _num(v) for v in values]


def _num(x: float) -> float | str:
    return x if x == x and abs(x) != float("inf") else str(x)
