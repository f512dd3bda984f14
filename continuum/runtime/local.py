"""The host for ``local=True`` activities: run inline on the workflow's worker.

A local activity runs inside the activation that issued it, with its retries (and
backoff) and its timeout, and its result is journaled in the same transaction as the
rest of the activation — so it is fenced by the run lease like everything else. The
run lease stays alive meanwhile because the activation is tracked by the heartbeater.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from continuum import telemetry
from continuum.db.retrying import retry_transient
from continuum.definitions.activity import Activity
from continuum.definitions.activity_context import ActivityInfo, ActivityScope
from continuum.engine.activation import error_payload
from continuum.engine.context import current_context_or_none
from continuum.engine.types import LocalOutcome
from continuum.journal.protocol import Journal
from continuum.runtime.deadline import run_bounded

_log = logging.getLogger("continuum.runtime.local")


class ActivationAborted(SystemExit):
    """Abandon the current activation without journaling anything.

    Raised when the database stays unreachable in the middle of an activation. It
    derives from ``SystemExit`` only because that is the one exception family the
    engine lets propagate (everything else becomes a workflow failure, and a database
    outage must never fail a run); the dispatcher catches it, the activation's writes
    never happen, and the run is resumed later (crash-and-resume).
    """


def local_scope(activity: str, attempt: int, max_attempts: int | None) -> ActivityScope:
    """The activity context of a local attempt: no task (no token), heartbeats are no-ops.

    The run id is the activation's, when one is running on this thread.
    """
    ctx = current_context_or_none()
    info = ActivityInfo(
        run_id=ctx.run_id if ctx is not None else "",
        activity=activity,
        attempt=attempt,
        task_id=None,
        task_token=None,
        started_at=datetime.now(UTC),
        max_attempts=max_attempts,
        local=True,
    )
    return ActivityScope(info)


def _no_complete_later(activity: str) -> dict[str, Any]:
    return {
        "type": "continuum.errors.ConfigurationError",
        "message": (
            f"local activity {activity} returned continuum.complete_later(); a local "
            "activity runs inside its workflow's activation and has no task token: "
            "declare it without local=True to complete it asynchronously"
        ),
        "traceback": "",
        "code": "configuration",
    }


class LocalHost:
    """Implements :class:`continuum.engine.types.ActivationHost` for a worker."""

    def __init__(
        self,
        journal: Journal,
        activity_for: Callable[[str], Activity[..., Any]],
        *,
        instance: str = "default",
        stopping: threading.Event | None = None,
        db_retry_s: float = 20.0,
        backoff_wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.journal = journal
        self.activity_for = activity_for
        self.instance = instance
        self.stopping = stopping or threading.Event()
        self.db_retry_s = db_retry_s
        # Waits out a retry backoff; True means "stop now". The testing kit passes a
        # no-op so retries skip the backoff on its virtual clock.
        self.backoff_wait = backoff_wait or self.stopping.wait

    def run_local_activity(
        self,
        activity: str,
        args: dict[str, Any],
        *,
        idempotency_key: str | None,
        max_attempts: int | None,
        timeout: timedelta | None,
    ) -> LocalOutcome:
        """Run ``activity`` now with up to ``max_attempts`` attempts; never raises."""
        if idempotency_key is not None:
            found, value = self._idempotent(activity, idempotency_key)
            if found:
                telemetry.emit(
                    "activity.idempotency_hit",
                    {"activity": activity, "local": True},
                    instance=self.instance,
                )
                return LocalOutcome(True, value, idempotency_hit=True)
        try:
            act = self.activity_for(activity)
        except Exception as exc:
            return LocalOutcome(False, error=error_payload(exc), attempts=1)
        timeout_s = timeout.total_seconds() if timeout is not None else None
        error: dict[str, Any] | None = None
        attempt = 0
        while max_attempts is None or attempt < max_attempts:
            attempt += 1
            scope = local_scope(activity, attempt, max_attempts)
            out = run_bounded(act, args, timeout_s, scope)
            assert out is not None  # nothing abandons a local attempt
            if out.deferred:
                return LocalOutcome(False, error=_no_complete_later(activity), attempts=attempt)
            if out.ok:
                return LocalOutcome(True, out.result, attempts=attempt)
            error = out.error
            if out.final:
                break
            if (max_attempts is None or attempt < max_attempts) and self.backoff_wait(
                act.backoff.delay(attempt).total_seconds()
            ):
                raise ActivationAborted("worker stopping during a local activity's backoff")
        return LocalOutcome(False, error=error, attempts=attempt)

    def _idempotent(self, activity: str, key: str) -> tuple[bool, Any]:
        try:
            return retry_transient(
                lambda: self.journal.idempotent_result(activity, key),
                within_s=self.db_retry_s,
                stop=self.stopping.is_set,
            )
        except Exception as exc:
            _log.warning("idempotency lookup for %s failed; dropping the activation", activity)
            raise ActivationAborted(str(exc)) from exc
