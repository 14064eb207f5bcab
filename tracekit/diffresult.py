"""The result types of a trace diff and their JSON form (the keys other tools rely on).

JSON keys kept for every consumer: ``first_divergence: {tap, index, ref, cand, hint: {class, text,
check}}`` (null when clean), ``compared``, ``reference_total``, ``not_compared``, ``skipped_lines``,
``consistency: {ok, disagreeing, checks}``, ``closure: {ok, trace_value, image_value}`` (null
without an image) and ``live``; plus ``n_compared``/``n_divergent``/``taps``/``only_in_*``/``notes``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracekit.blockmap import BlockMatch
from tracekit.records import LoopIndex, Value


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
    matched: str = "exact"

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"tap": self.tap, "index": self.index.as_dict(), "unit": self.unit, "ref": vals(self.ref),
                "cand": vals(self.cand), "status": self.status, "abs_err": num(self.abs_err),
                "rel_err": num(self.rel_err), "rule": self.rule, "defects": list(self.defects), "via": self.via,
                "matched": self.matched}


@dataclass
class TraceDiff:
    """The result of diff_traces; `first` is None when nothing diverges (and the trace is live)."""

    ref_name: str
    cand_name: str
    rows: list[TapComparison]
    only_in_ref: list[tuple[str, LoopIndex]]
    only_in_cand: list[tuple[str, LoopIndex]]
    first: TapComparison | None = None
    hint: Any = None                 # tracekit.hints.Hint
    context: list[TapComparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dtype: str = "float64"
    compared: int = 0                # reference values compared
    reference_total: int = 0         # reference values there were to compare
    not_compared: list[str] = field(default_factory=list)
    blocks: list[BlockMatch] = field(default_factory=list)
    skipped_lines: int = 0           # candidate lines skipped (prose, other prefixes, progress ...)
    skipped: dict[str, int] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    extra_taps: list[str] = field(default_factory=list)
    ignored_taps: list[str] = field(default_factory=list)
    consistency: Any = None          # tracekit.consistency.Consistency of the candidate
    ref_consistency: Any = None
    closure: Any = None              # tracekit.consistency.Closure, None without an image
    warnings: list[str] = field(default_factory=list)

    @property
    def n_compared(self) -> int:
        return sum(r.status != "ignored" for r in self.rows)

    @property
    def n_divergent(self) -> int:
        return sum(r.failed for r in self.rows)

    @property
    def partial(self) -> bool:
        """Fewer than half of the reference values could be compared."""
        return self.compared * 2 < self.reference_total

    @property
    def live(self) -> bool:
        """False when the candidate trace contradicts itself or its image (not the live computation)."""
        return not ((self.consistency is not None and not self.consistency.ok)
                    or (self.closure is not None and not self.closure.ok))

    def ok(self, *, partial_ok: bool = False) -> bool:
        """Clean: no divergence, a live trace, and (unless `partial_ok`) at least half compared."""
        return self.first is None and self.live and (partial_ok or not self.partial)

    def to_dict(self) -> dict[str, Any]:
        first = None
        if self.first is not None:
            f = self.first
            hint = self.hint.to_dict() if hasattr(self.hint, "to_dict") else self.hint
            first = {"tap": f.tap, "index": f.index.as_dict(), "ref": vals(f.ref), "cand": vals(f.cand),
                     "abs_err": num(f.abs_err), "rel_err": num(f.rel_err), "hint": hint,
                     "unit": f.unit, "rule": f.rule, "matched": f.matched,
                     "context": [c.to_dict() for c in self.context]}
        return {"ref": self.ref_name, "cand": self.cand_name, "dtype": self.dtype,
                "n_compared": self.n_compared, "n_divergent": self.n_divergent, "first_divergence": first,
                "live": self.live, "compared": self.compared, "reference_total": self.reference_total,
                "partial": self.partial, "not_compared": self.not_compared,
                "skipped_lines": self.skipped_lines, "skipped": self.skipped,
                "consistency": None if self.consistency is None else self.consistency.to_dict(),
                "ref_consistency": None if self.ref_consistency is None else self.ref_consistency.to_dict(),
                "closure": None if self.closure is None else self.closure.to_dict(),
                "blocks": [b.to_dict() for b in self.blocks], "renamed": self.renamed,
                "extra_taps": self.extra_taps, "ignored_taps": self.ignored_taps, "warnings": self.warnings,
                "taps": [r.to_dict() for r in self.rows],
                "only_in_ref": [{"tap": t, "index": i.as_dict()} for t, i in self.only_in_ref],
                "only_in_cand": [{"tap": t, "index": i.as_dict()} for t, i in self.only_in_cand],
                "notes": self.notes}


def vals(values: tuple[Value, ...]) -> list:
    return [v if isinstance(v, str) else num(v) for v in values]


def num(x: float) -> float | str:
    return x if x == x and abs(x) != float("inf") else str(x)
