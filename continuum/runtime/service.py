"""A background loop on a thread: the shape every worker component shares.

A :class:`Service` runs :meth:`Service.tick` whenever it is poked or its interval
passes, until it is stopped. An exception in a tick is logged and the loop continues
after a short pause: one bad iteration (a database blip, a bug in a handler) never
takes a worker component down for good.
"""

from __future__ import annotations

import logging
import threading

from continuum.db.retrying import is_transient

_log = logging.getLogger("continuum.runtime")


class Service:
    """Base class: override :meth:`tick`; it returns the seconds until the next tick."""

    name = "service"
    interval_s: float = 1.0
    error_pause_s: float = 0.5

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> float | None:
        """One iteration; return the delay before the next one (``None``: the interval)."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the loop on a daemon thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=f"continuum-{self.name}")
        self._thread.daemon = True
        self._thread.start()

    def poke(self) -> None:
        """Run the next tick now instead of after the interval."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was requested."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the loop to end after the current tick."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; ``True`` if it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                delay = self.tick()
            except Exception as exc:
                if is_transient(exc):
                    _log.warning("%s: transient database error, retrying: %s", self.name, exc)
                else:
                    _log.exception("%s: tick failed", self.name)
                delay = self.error_pause_s
            if self._stop.is_set():
                break
            self._wake.wait(self.interval_s if delay is None else max(delay, 0.0))
        self.on_stop()

    def on_stop(self) -> None:
        """Hook run on the loop's thread after the last tick."""
