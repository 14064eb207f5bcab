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


class StreamState(Protocol):
    """The part of a stream a reader uses: its display name, catalogue and stats."""

    name: str
    cat: Catalogue
    stats: ParseStats
