"""What a trace reader fills while it streams records: shared by the text parser and the JSONL reader.

Kept apart so that neither reader imports the other (``tracekit.parse`` dispatches to
``tracekit.jsonl``; both only need this state).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tracekit.catalogue import Catalogue


@dataclass
class ParseStats:
    """What a stream saw; complete once iteration has finished."""

    n_lines: int = 0
    n_skipped: int = 0
    n_records: int = 0
    prefix: str | None = None
    oversample: int | None = None
    layers: int | None = None
    meta: dict[str, str] = field(default_factory=dict)
    blocks_per_pixel: list[int] = field(default_factory=list)
    unknown_taps: set[str] = field(default_factory=set)
    fmt: str = "text"
    skipped_kinds: dict[str, int] = field(default_factory=dict)   # why lines were skipped
    renamed: dict[str, str] = field(default_factory=dict)         # printed name -> how it was read
    ignored_taps: set[str] = field(default_factory=set)           # names the dialect ignores
    notes: list[str] = field(default_factory=list)                # parse remarks for the report
    config_lines: list[str] = field(default_factory=list)         # other lines before the first block

    def skip(self, kind: str) -> None:
        """Count one skipped line of `kind` (progress, blank, prose, other_prefix, ignored, malformed)."""
        self.n_skipped += 1
        self.skipped_kinds[kind] = self.skipped_kinds.get(kind, 0) + 1


class StreamState(Protocol):
    """The part of a stream a reader uses: its display name, catalogue and stats."""

    name: str
    cat: Catalogue
    stats: ParseStats
