"""Running the journal's synchronous SQL functions on an asyncio connection.

The journal's operations (``runs.create_run``, ``signals.send_signal``, the cancel
cascade, ...) are plain functions over a cursor: a few statements with Python control
flow between them. Rather than keep an ``async`` copy of each, :func:`run_green` runs
the function in a greenlet whose cursor hands every statement back to the event loop,
which awaits it on a psycopg ``AsyncCursor``. One code path, two kinds of connection,
and no thread: the greenlet runs in the event loop's own thread, between awaits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import greenlet
import psycopg

from continuum.journal.postgres.statements import Cursor, Row

T = TypeVar("T")


class _Await:
    """What the function's greenlet hands its parent: an awaitable to run."""

    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


def _await(awaitable: Awaitable[T]) -> T:
    current = greenlet.getcurrent()
    parent = current.parent
    if parent is None or not getattr(current, "continuum_green", False):
        raise RuntimeError("journal SQL on an async cursor must run through run_green")
    value: T = parent.switch(_Await(awaitable))
    return value


class GreenCursor:
    """The subset of ``psycopg.Cursor`` the journal functions use, on an ``AsyncCursor``."""

    def __init__(self, cur: psycopg.AsyncCursor[Row]) -> None:
        self._cur = cur

    def execute(self, query: Any, params: Any = None) -> GreenCursor:
        _await(self._cur.execute(query, params))
        return self

    def fetchone(self) -> Row | None:
        return _await(self._cur.fetchone())

    def fetchall(self) -> list[Row]:
        return _await(self._cur.fetchall())


async def run_green(fn: Callable[[Cursor], T], cur: psycopg.AsyncCursor[Row]) -> T:
    """``fn(cursor)``, with each statement awaited on ``cur``; returns what ``fn`` returns."""
    green = greenlet.greenlet(lambda: fn(cast(Cursor, GreenCursor(cur))))
    green.continuum_green = True
    step: Any = green.switch()
    while isinstance(step, _Await):
        try:
            value = await step.awaitable
        except BaseException as exc:  # hand the error to the function: it may handle it
            step = green.throw(exc)
        else:
            step = green.switch(value)
    return cast(T, step)
