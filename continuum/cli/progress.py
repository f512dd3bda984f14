"""A rich progress bar for long CLI operations, only where a person is watching.

``--format json`` output and pipes stay clean: the bar is drawn on stderr, and only when
stderr is a terminal and the output is not JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from continuum.progress import Progress as ProgressFn
from continuum.progress import silent


def wants_bar(fmt: str, console: Console | None = None) -> bool:
    """Whether a bar should be drawn for output format ``fmt``."""
    if fmt == "json":
        return False
    return (console or Console(stderr=True)).is_terminal


@contextmanager
def progress_bar(fmt: str, console: Console | None = None) -> Iterator[ProgressFn]:
    """Yield a :class:`continuum.progress.Progress` callback (a bar, or silence)."""
    console = console or Console(stderr=True, file=sys.stderr)
    if not wants_bar(fmt, console):
        yield silent
        return
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:

        def report(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total or None)
            bar.update(tasks[what], completed=done, total=total or None)

        yield report
