"""Named telemetry events with ``instance`` metadata.

>>> handler_id = continuum.telemetry.attach("run.completed", lambda event, meta: print(meta))

Handlers run synchronously in the emitting thread and must not raise; an exception in
a handler is logged and swallowed so observability can never break a run. ``"*"``
subscribes to every event.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

Handler = Callable[[str, dict[str, Any]], None]

EVENTS = frozenset(
    {
        "run.started",
        "run.completed",
        "run.failed",
        "run.cancelled",
        "run.continued_as_new",
        "run.suspended",
        "run.unknown_version",
        "run.fenced",
        "run.cancel_cascade_truncated",
        "activity.scheduled",
        "activity.started",
        "activity.completed",
        "activity.failed",
        "activity.retry",
        "activity.fenced",
        "activity.idempotency_hit",
        "activity.deferred",
        "activity.abandoned",
        "activity.handed_off",
        "activity_dispatcher.requeued",
        "compensation.scheduled",
        "compensation.started",
        "compensation.completed",
        "compensation.failed",
        "compensation.retry",
        "compensation.deferred",
        "child.started",
        "child.completed",
        "child.failed",
        "child.cancelled",
        "signal.received",
        "signal.timed_out",
        "timer.fired",
        "patched.hit",
        "snapshot.taken",
        "snapshot.skipped",
    }
)

_log = logging.getLogger("continuum.telemetry")
_lock = threading.Lock()
_handlers: dict[int, tuple[str, Handler]] = {}
_ids = itertools.count(1)


def attach(event: str, handler: Handler) -> int:
    """Call ``handler(event, metadata)`` for every ``event`` (or ``"*"``); returns an id."""
    if event != "*" and event not in EVENTS:
        raise ValueError(f"unknown telemetry event {event!r}; known: {', '.join(sorted(EVENTS))}")
    with _lock:
        handler_id = next(_ids)
        _handlers[handler_id] = (event, handler)
        return handler_id


def detach(handler_id: int) -> None:
    """Remove a handler attached with :func:`attach`."""
    with _lock:
        _handlers.pop(handler_id, None)


def emit(event: str, metadata: dict[str, Any], *, instance: str = "default") -> None:
    """Deliver ``event`` to its handlers with ``instance`` added to the metadata."""
    if not _handlers:
        return
    meta = {**metadata, "instance": instance}
    with _lock:
        targets = [h for (name, h) in _handlers.values() if name in (event, "*")]
    for handler in targets:
        try:
            handler(event, meta)
        except Exception:  # observability must never break a run
            _log.exception("telemetry handler for %s raised", event)
