"""The signal router: one LISTEN connection per worker, fanning NOTIFYs out to components.

Channels (:mod:`continuum.journal.channels`; payloads are ids only, SPEC §6):

- ``continuum_run_wake`` — a run became due (signal, task outcome, child finished, start);
- ``continuum_task_ready`` — an activity task became claimable;
- ``continuum_timer_armed`` — a timer was armed (the timer wheel refreshes its cache);
- ``continuum_run_finished`` — a run reached a terminal state;
- ``continuum_queue_ready`` — a queue may admit runs (payload: the queue's name);
- ``continuum_task_cancelled`` — an activity task was discarded by a cancel (a worker
  running its attempt cancels it without waiting for the next heartbeat).

NOTIFY is an accelerator, never the source of truth: a lost notification costs at
most one backstop interval. The router retries a failed LISTEN with backoff instead of
going deaf (seed v0.6.0), and on every (re)connect and every ``backstop_s`` it tells
each component to re-scan for due work, because notifications sent while it was
disconnected are gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql

from continuum.db.dsn import one_line, redact
from continuum.journal.channels import CHANNELS

_log = logging.getLogger("continuum.runtime.signals")

Handler = Callable[[str], None]


class SignalRouter:
    """Listens on every Continuum channel and calls the handlers subscribed to each."""

    def __init__(
        self,
        dsn: str,
        *,
        backstop_s: float = 5.0,
        reconnect_max_s: float = 5.0,
        application_name: str = "continuum-listener",
    ) -> None:
        self.dsn = dsn
        self.backstop_s = backstop_s
        self.reconnect_max_s = reconnect_max_s
        self.application_name = application_name
        self._handlers: dict[str, list[Handler]] = {ch: [] for ch in CHANNELS}
        self._rescan: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        self.connects = 0
        self.received = 0

    def subscribe(self, channel: str, handler: Handler) -> None:
        """Call ``handler(payload)`` for each notification on ``channel``."""
        self._handlers[channel].append(handler)

    def on_rescan(self, handler: Callable[[], None]) -> None:
        """Call ``handler()`` on every (re)connect and every backstop interval."""
        self._rescan.append(handler)

    def start(self) -> None:
        """Start listening on a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="continuum-signal-router")
            self._thread.daemon = True
            self._thread.start()

    def stop(self) -> None:
        """Stop listening (within about half a second)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the listener thread to end."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _fire_rescan(self) -> None:
        for handler in self._rescan:
            try:
                handler()
            except Exception:
                _log.exception("rescan handler failed")

    def _loop(self) -> None:
        delay = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.dsn,
                    autocommit=True,
                    application_name=self.application_name,
                    connect_timeout=5,
                ) as conn:
                    for channel in CHANNELS:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.connects += 1
                    self.connected.set()
                    delay = 0.1
                    self._fire_rescan()
                    self._listen(conn)
            except psycopg.Error as exc:
                self.connected.clear()
                if self._stop.is_set():
                    break
                _log.warning(
                    "signal router lost its connection (%s); reconnecting in %.1fs",
                    redact(one_line(exc)),
                    delay,
                )
                # Work may be due while we are deaf: keep the poll backstop running.
                self._fire_rescan()
                self._stop.wait(delay)
                delay = min(delay * 2, self.reconnect_max_s)
        self.connected.clear()

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        quiet = 0.0
        slice_s = 0.5
        while not self._stop.is_set():
            got = False
            for note in conn.notifies(timeout=slice_s):
                got = True
                self.received += 1
                for handler in self._handlers.get(note.channel, ()):
                    try:
                        handler(note.payload)
                    except Exception:
                        _log.exception("handler for %s failed", note.channel)
                if self._stop.is_set():
                    return
            quiet = 0.0 if got else quiet + slice_s
            if quiet >= self.backstop_s:
                quiet = 0.0
                self._fire_rescan()
