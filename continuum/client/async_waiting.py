"""Waiting from asyncio: one LISTEN connection for every waiter.

An :class:`AsyncClient` keeps a single connection listening on
``continuum_run_finished``, ``continuum_update_answered`` and ``continuum_event_set``;
each waiting call (``result``, ``update``, ``get_event``) registers an ``asyncio.Event``
under the ``(channel, payload)`` pairs it waits for and sleeps on it (with a poll slice
as backstop). A thousand waiters cost a thousand events, not a thousand connections or
threads. NOTIFY payloads are ids only: a wake-up just triggers a re-read of the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import psycopg

from continuum.errors import ResultTimeout
from continuum.journal.postgres.async_journal import AsyncPostgresJournal
from continuum.journal.postgres.messages import EVENT_SET, UPDATE_ANSWERED
from continuum.models import RunInfo

_log = logging.getLogger("continuum.client")
T = TypeVar("T")

POLL_S = 1.0  # re-read period when the LISTEN connection is down
LISTENING_POLL_S = 10.0  # backstop only: a NOTIFY normally wakes the waiter first
RUN_FINISHED = "continuum_run_finished"
_CHANNELS = (RUN_FINISHED, UPDATE_ANSWERED, EVENT_SET)
MESSAGE_POLL_S = 0.5  # update/get_event backstop, as the sync Client's


class FinishListener:
    """The shared LISTEN connection and the waiters registered on it."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._waiters: dict[tuple[str, str], set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.notices = 0  # bumped on every notification: a waiter re-reads if it moved

    async def start(self) -> None:
        """Connect and LISTEN; on failure waiters fall back to polling."""
        try:
            self._conn = await psycopg.AsyncConnection.connect(
                self._dsn, autocommit=True, application_name="continuum-async-result"
            )
            for channel in _CHANNELS:
                await self._conn.execute(f"LISTEN {channel}")
        except psycopg.Error as exc:
            _log.warning("AsyncClient: LISTEN unavailable (%s); result() polls instead", exc)
            self._conn = None
            return
        self._task = asyncio.create_task(self._pump(self._conn), name="continuum-listen")

    async def _pump(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            async for note in conn.notifies():
                self.notices += 1
                targets = (
                    [v for (channel, _), v in self._waiters.items() if channel == note.channel]
                    if note.payload == ""
                    else (self._waiters.get((note.channel, note.payload), ()),)
                )
                for events in list(targets):
                    for ev in list(events):
                        ev.set()
        except psycopg.Error as exc:
            _log.warning("AsyncClient: LISTEN connection lost (%s); result() polls", exc)

    def register(self, run_id: str) -> asyncio.Event:
        """An event set when ``run_id`` finishes (until :meth:`unregister`)."""
        return self.watch([(RUN_FINISHED, run_id)])

    def unregister(self, run_id: str, ev: asyncio.Event) -> None:
        """Forget a waiter."""
        self.unwatch([(RUN_FINISHED, run_id)], ev)

    def watch(self, wants: Iterable[tuple[str, str]]) -> asyncio.Event:
        """One event set on a NOTIFY of any ``(channel, payload)`` in ``wants``."""
        ev = asyncio.Event()
        for key in wants:
            self._waiters.setdefault(key, set()).add(ev)
        return ev

    def unwatch(self, wants: Iterable[tuple[str, str]], ev: asyncio.Event) -> None:
        """Forget a waiter registered by :meth:`watch`."""
        for key in wants:
            events = self._waiters.get(key)
            if events is not None:
                events.discard(ev)
                if not events:
                    del self._waiters[key]

    @property
    def poll_s(self) -> float:
        """How long a waiter sleeps between re-reads when no NOTIFY arrives."""
        alive = self._task is not None and not self._task.done()
        return LISTENING_POLL_S if alive else POLL_S

    @property
    def waiting(self) -> int:
        """How many waiters are registered (for tests and debugging)."""
        return sum(len(v) for v in self._waiters.values())

    async def close(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def _read_tip(journal: AsyncPostgresJournal, run_id: str) -> RunInfo:
    info = await journal.get_run(await journal.tip(run_id))
    while info.continued_to_run_id is not None:  # the tip moved between the two reads
        info = await journal.get_run(info.continued_to_run_id)
    return info


async def wait_for_terminal(
    journal: AsyncPostgresJournal,
    listener: FinishListener,
    run_id: str,
    timeout: float | None,
    *,
    poll_s: float | None = None,
) -> RunInfo:
    """The terminal record at the tip of ``run_id``'s chain; ``ResultTimeout`` past ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        mark = listener.notices
        info = await _read_tip(journal, run_id)
        if info.state.terminal:
            return info
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise ResultTimeout(
                f"AsyncClient.result: run {run_id!r} did not finish within {timeout:g}s; it "
                "is still running — await result() again or check `continuum runs show`"
            )
        ev = listener.register(info.id)
        try:
            if listener.notices != mark:
                continue  # something finished while we read: it may be ours, re-read now
            period = poll_s if poll_s is not None else listener.poll_s
            slice_s = period if remaining is None else min(period, remaining)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ev.wait(), slice_s)
        finally:
            listener.unregister(info.id, ev)


async def wait_until(
    listener: FinishListener,
    wants: Iterable[tuple[str, str]],
    check: Callable[[], Awaitable[T | None]],
    timeout: float | None,
) -> T | None:
    """Await ``check`` until it returns a value, re-checking on each NOTIFY in ``wants``
    and every half second; ``None`` once ``timeout`` seconds have passed."""
    keys = list(wants)
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    ev = listener.watch(keys)
    try:
        while True:
            ev.clear()  # before the read: a NOTIFY during it sets the event again
            found = await check()
            if found is not None:
                return found
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            slice_s = MESSAGE_POLL_S if remaining is None else min(MESSAGE_POLL_S, remaining)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ev.wait(), slice_s)
    finally:
        listener.unwatch(keys, ev)
