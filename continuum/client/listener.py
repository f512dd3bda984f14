"""One LISTEN connection per client, shared by every waiting call (updates, events).

``Client.update`` must hear its answer within milliseconds, so it cannot afford a new
connection per call. The hub keeps one autocommit connection LISTENing on the channels
the client waits on, on a daemon thread, and wakes the waiters whose key a NOTIFY
carries. NOTIFY is only an accelerator: every waiter re-reads the database on wake-up
and at least every ``poll_s``, so a lost notification (or no listener at all) costs
latency, never correctness.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import psycopg
from psycopg import sql

from continuum.db.dsn import one_line, redact

_log = logging.getLogger("continuum.client")

T = TypeVar("T")


class Waiter:
    """Woken when a NOTIFY on ``channel`` carries ``key``."""

    def __init__(self, channels: frozenset[tuple[str, str]]) -> None:
        self.wants = channels
        self.event = threading.Event()


class NotifyHub:
    """A background LISTEN connection that fans notifications out to waiters."""

    def __init__(self, dsn: str, channels: Iterable[str]) -> None:
        self.dsn = dsn
        self.channels = tuple(channels)
        self._waiters: set[Waiter] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wait_s: float = 2.0) -> bool:
        """Start listening (idempotent); ``True`` once LISTEN is in place."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="continuum-client-listener", daemon=True
                )
                self._thread.start()
        return self._ready.wait(wait_s)

    def stop(self) -> None:
        """Stop the listener thread (it exits within half a second)."""
        self._stop.set()

    def watch(self, wants: Iterable[tuple[str, str]]) -> Waiter:
        """Register a waiter for ``(channel, key)`` pairs; pair with :meth:`unwatch`."""
        waiter = Waiter(frozenset(wants))
        with self._lock:
            self._waiters.add(waiter)
        return waiter

    def unwatch(self, waiter: Waiter) -> None:
        """Forget ``waiter``."""
        with self._lock:
            self._waiters.discard(waiter)

    def _loop(self) -> None:
        delay = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.dsn, autocommit=True, application_name="continuum-client"
                ) as conn:
                    for channel in self.channels:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self._ready.set()
                    delay = 0.1
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(note.channel, note.payload)
            except psycopg.Error as exc:
                self._ready.clear()
                if self._stop.is_set():
                    break
                _log.warning(
                    "client listener lost its connection (%s); waiters poll meanwhile",
                    redact(one_line(exc)),
                )
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _deliver(self, channel: str, payload: str) -> None:
        with self._lock:
            for waiter in self._waiters:
                if (channel, payload) in waiter.wants:
                    waiter.event.set()


def wait_until(
    hub: NotifyHub | None,
    wants: Iterable[tuple[str, str]],
    check: Callable[[], T | None],
    timeout: float | None,
    *,
    poll_s: float = 0.5,
) -> T | None:
    """Call ``check`` until it returns a value, re-checking on each NOTIFY in ``wants``
    and every ``poll_s``; ``None`` when ``timeout`` seconds pass first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    waiter = hub.watch(wants) if hub is not None else None
    try:
        while True:
            if waiter is not None:
                waiter.event.clear()
            found = check()
            if found is not None:
                return found
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            slice_s = poll_s if remaining is None else min(poll_s, remaining)
            if waiter is not None:
                waiter.event.wait(slice_s)
            else:
                time.sleep(slice_s)
    finally:
        if waiter is not None and hub is not None:
            hub.unwatch(waiter)
