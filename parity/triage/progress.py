"""How triage and shrink report progress: two calls, rendered by the CLI (rich on a terminal, lines otherwise).

``stage(text)`` starts a step ("running both ports", "tracing 4 pixels"); ``advance(text, done,
total)`` reports one finished unit of it (``total`` None when unknown). :class:`NullProgress` says
nothing; :class:`LineProgress` writes one plain line per call to a stream (logs, CI, pipes).
"""
from __future__ import annotations

import sys
import threading
from typing import Protocol, TextIO

__all__ = ["Progress", "NullProgress", "LineProgress"]


class Progress(Protocol):
    def stage(self, text: str) -> None: ...

    def advance(self, text: str, done: int, total: int | None) -> None: ...


class NullProgress:
    def stage(self, text: str) -> None:
        return None

    def advance(self, text: str, done: int, total: int | None) -> None:
        return None


class LineProgress:
    """One line per call, ``[done/total] text`` (thread-safe: workers report from their threads)."""

    def __init__(self, stream: TextIO | None = None, *, prefix: str = "pwb"):
        self.stream = stream if stream is not None else sys.stderr
        self.prefix = prefix
        self._lock = threading.Lock()

    def _write(self, line: str) -> None:
        with self._lock:
            self.stream.write(f"{self.prefix}: {line}\n")
            self.stream.flush()

    def stage(self, text: str) -> None:
        self._write(text)

    def advance(self, text: str, done: int, total: int | None) -> None:
        self._write(f"[{done}/{total if total is not None else '?'}] {text}")
