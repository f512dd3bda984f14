"""Progress reporting for long operations (migrate, archive, gc, partition drops).

A long operation takes ``progress: Progress`` and calls it as units of work finish:
``progress("dropping partitions", done, total)``. The library stays silent by default;
the CLI passes a rich progress bar on a terminal (see ``continuum/cli/progress.py``).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told ``(what, done, total)`` as units finish; ``total`` is 0 when unknown."""

    def __call__(self, what: str, done: int, total: int) -> None: ...


def silent(what: str, done: int, total: int) -> None:
    """The default: report nothing."""
