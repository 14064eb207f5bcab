"""Progress on stderr for every long command: a rich progress bar on a terminal, plain lines when piped.

The packages never import rich: they report through a callback (``on_progress(done, total, text)``,
``on_result(row)``, or triage's ``stage``/``advance`` protocol in :mod:`parity.triage.progress`) and
the CLI renders it here. Three shapes, one look:

* :func:`task_progress` — N tasks finishing in any order: ``step(text, notable=False)`` per task.
* :func:`progress_display` — stages and counted units (triage, shrink): ``stage(text)``, ``advance(text, done, total)``.
* :func:`counter_progress` — one counted job (bench repeats, trace-sweep pixels, sim pixels):
  ``on_progress(done, total, text)``.

Piped (not a terminal), each call is one line, ``title: [done/total] text``, so logs and CI show it too.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

__all__ = ["task_progress", "progress_display", "counter_progress", "RichProgress", "is_terminal"]


def is_terminal() -> bool:
    """Whether stderr (where progress goes) is a terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def task_progress(total: int, label: str) -> Iterator[Callable[[str], None]]:
    """Yields ``step(text, notable=False)``, called once per finished task (in completion order); a notable
    task (a failure) is also printed above the bar on a terminal."""
    if is_terminal():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task(label, total=total)

            def step(text: str, notable: bool = False) -> None:
                if notable:
                    bar.console.print(text, highlight=False, markup=False)
                bar.update(task, advance=1, description=f"{label}: {text}"[:70])

            yield step
        return
    done = iter(range(1, total + 1))

    def line(text: str, notable: bool = False) -> None:
        print(f"{label}: [{next(done)}/{total}] {text}", file=sys.stderr, flush=True)

    yield line


class RichProgress:
    """Progress on a terminal: each stage printed as it starts, a spinner and bar for the counted units."""

    def __init__(self, title: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True),
                                 transient=True)
        self.task = None
        self.title = title

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def stage(self, text: str) -> None:
        from rich.markup import escape

        self.progress.console.print(f"[bold]{self.title}[/bold] {escape(text)}", highlight=False)
        if self.task is None:
            self.task = self.progress.add_task(escape(text), total=None)
        else:
            self.progress.update(self.task, description=escape(text), total=None, completed=0)

    def advance(self, text: str, done: int, total: int | None) -> None:
        from rich.markup import escape

        description = escape(text if len(text) <= 60 else text[:57] + "...")
        if self.task is None:
            self.task = self.progress.add_task(description, total=total)
        self.progress.update(self.task, description=description, completed=done, total=total)


class _Plain:
    def __init__(self, title: str):
        from parity.triage.progress import LineProgress

        self.line = LineProgress(sys.stderr, prefix=title)

    def __enter__(self):
        return self.line

    def __exit__(self, *exc) -> None:
        return None


def progress_display(title: str):
    """A context manager giving the stage/advance progress object: rich on a terminal, plain lines otherwise."""
    return RichProgress(title) if is_terminal() else _Plain(title)


@contextlib.contextmanager
def counter_progress(title: str) -> Iterator[Callable[[int, int | None, str], None]]:
    """Yields ``on_progress(done, total, text)`` for one counted job (``total`` None when unknown)."""
    with progress_display(title) as display:
        def on_progress(done: int, total: int | None, text: str) -> None:
            display.advance(text, done, total)

        yield on_progress
