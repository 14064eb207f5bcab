"""A whole parsed trace: records keyed by (tap, LoopIndex), with the facts the diff needs.

`read_trace` collects a `TraceStream` into a `ParsedTrace`. Keys that repeat (a trace printing
the same tap twice at one position) get increasing ``occurrence`` numbers, so nothing is lost.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tracekit.catalogue import Catalogue
from tracekit.dialect import Dialect
from tracekit.parse import TraceStream
from tracekit.stream_state import ParseStats
from tracekit.records import LoopIndex, TraceRecord


@dataclass
class ParsedTrace:
    """All records of one trace, in file order, keyed by (canonical tap, LoopIndex)."""

    name: str
    records: dict[tuple[str, LoopIndex], TraceRecord]
    stats: ParseStats
    cat: Catalogue
    dialect: Dialect = dataclasses.field(default_factory=Dialect)

    @property
    def prefix(self) -> str:
        return self.stats.prefix or ""

    @property
    def is_c(self) -> bool:
        """True for a trace printed by the C program (prefix TRACE_C)."""
        return self.prefix == "TRACE_C"

    @property
    def meta(self) -> dict[str, str]:
        return self.stats.meta

    @property
    def dtype(self) -> str:
        """Compute dtype of the producing run: META/JSONL header, the dialect, else float64."""
        return self.stats.meta.get("dtype") or self.dialect.dtype or "float64"

    @property
    def headerless(self) -> bool:
        """True when the pixel blocks carry no (layer, sub-pixel) index (no loop-index header)."""
        return any(r.index.layer is None and r.index.source is not None for r in self.records.values())

    @functools.cached_property
    def tap_names(self) -> frozenset[str]:
        return frozenset(tap for tap, _ in self.records)

    @functools.cached_property
    def branch(self) -> str | None:
        """"beam" or "sample": which pivot branch printed the setup block (None if unknown)."""
        return self.cat.branch_of(self.tap_names)

    @property
    def pixel_mm(self) -> float | None:
        """Pixel size from the setup tap ``beam_center_m`` (its ``pixel_mm`` component)."""
        rec = self.records.get(("beam_center_m", LoopIndex()))
        if rec is None or not rec.keys or "pixel_mm" not in rec.keys:
            return None
        return float(rec.values[rec.keys.index("pixel_mm")])

    @functools.cached_property
    def config(self) -> dict:
        """The configuration printout found before the first pixel block, the C's or in a port's
        own words (tracekit.config.parse_any_config), or {}."""
        from tracekit.config import parse_any_config

        return parse_any_config("\n".join(self.stats.config_lines), self.dialect)[0]

    def get(self, tap: str, index: LoopIndex = LoopIndex()) -> TraceRecord | None:
        return self.records.get((tap, index))

    def by_tap(self, tap: str) -> list[TraceRecord]:
        return [r for (t, _), r in self.records.items() if t == tap]

    def names_in_order(self) -> list[str]:
        """Tap names in file order, consecutive repeats kept (one entry per record)."""
        return [r.tap for r in self.records.values()]


def read_trace(source: str | Path | Iterable[str], *, name: str | None = None,
               cat: Catalogue | None = None, dialect: Dialect | None = None) -> ParsedTrace:
    """Parse a trace file (text or JSONL) or an iterable of text lines into a ParsedTrace;
    `dialect` says how a port that is not the C spells its trace (tracekit.dialect).

    Raises TraceParseError (exit code 5) for empty, binary, truncated or malformed input.
    """
    stream = TraceStream(source, name=name, cat=cat, dialect=dialect)
    records: dict[tuple[str, LoopIndex], TraceRecord] = {}
    for rec in stream:
        key = rec.key
        if key in records:
            occ = rec.index.occurrence
            while (rec.tap, rec.index._replace(occurrence=occ)) in records:
                occ += 1
            rec = dataclasses.replace(rec, index=rec.index._replace(occurrence=occ))
            key = rec.key
        records[key] = rec
    return ParsedTrace(stream.name, records, stream.stats, stream.cat, stream.dialect)
