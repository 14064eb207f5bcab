"""Progress of many tasks on stderr: a rich progress bar on a terminal, one plain line per task when piped."""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

__all__ = ["task_progress"]


@contextlib.contextmanager
def task_progress(total: int, label: str) -> Iterator[Callable[[str], None]]:
    """Yields ``step(text, notable=False)``, called once per finished task (in completion order); a notable
    task (a failure) is also printed above the bar on a terminal."""
    if sys.stderr.isatty():
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
        print(f"[{next(done)}/{total}] {text}", file=sys.stderr, flush=True)

    yield line
