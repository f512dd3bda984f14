"""One activity attempt in progress on a worker: its scope, heartbeats and cancellation.

:class:`AttemptControl` is what the activity dispatcher (or an external executor) keeps
per running attempt:

- the :class:`~continuum.definitions.activity_context.ActivityScope` the body sees
  (``activity_info()``, ``heartbeat()``, ``heartbeat_details()``);
- heartbeat coalescing: at most one database write per :data:`COALESCE_S` per task,
  whatever the call rate — each write renews the task lease (from the time of the
  newest call) and stores the newest details; a call inside the second is written by
  the worker's watch when the second is up, or before the failure of the attempt is
  recorded (so the next attempt sees the newest details);
- cancellation: a write that misses (the run was cancelled or finished, or the lease
  was taken over after a heartbeat timeout), a lost lease reported by the heartbeater,
  a heartbeat timeout noticed locally, a timeout or a worker shutdown cancels the
  scope; the body learns it at its next ``heartbeat()`` (``ActivityCancelled``) or, if
  ``async``, at once (``asyncio.CancelledError``);
- abandonment: a body that ignores cancellation for :attr:`cancel_grace_s` — or is
  still running when a shutdown's drain ends — is let go (its thread is a daemon).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from continuum.db.retrying import is_transient, retry_transient
from continuum.definitions.activity import Activity
from continuum.definitions.activity_context import ActivityInfo, ActivityScope, task_token
from continuum.engine.activation import error_payload
from continuum.journal.records import TaskLease
from continuum.runtime.contract import WorkerJournal
from continuum.runtime.deadline import run_bounded
from continuum.runtime.execution import AttemptResult

_log = logging.getLogger("continuum.runtime.attempt")

COALESCE_S = 1.0
"""At most one heartbeat write per task per this many seconds."""


def info_for(lease: TaskLease) -> ActivityInfo:
    """The :class:`ActivityInfo` of a leased task attempt."""
    ht = lease.heartbeat_timeout_ms
    return ActivityInfo(
        run_id=lease.run_id,
        activity=lease.activity,
        attempt=lease.attempt,
        task_id=lease.id,
        task_token=task_token(lease.id, lease.attempt, lease.token),
        started_at=lease.claimed_at or datetime.now(UTC),
        max_attempts=lease.max_attempts,
        heartbeat_timeout=timedelta(milliseconds=ht) if ht is not None else None,
    )


def miss_reason(journal: WorkerJournal, lease: TaskLease) -> str:
    """Why a heartbeat write found the lease gone, in words for ``ActivityCancelled``."""
    try:
        row = journal.task_state(lease.id)
    except Exception:
        row = None
    if row is None:
        return "its task no longer exists"
    if row["run_state"] == "cancelled":
        return "its run was cancelled"
    if row["state"] == "discarded" or row["run_state"] in ("completed", "failed"):
        return f"its run is {row['run_state']} and no longer needs this activity"
    if row["attempt"] != lease.attempt or row["state"] == "pending":
        return (
            "its task lease was lost (it was silent for longer than its heartbeat_timeout, "
            "or its worker was taken for dead) and the task is being retried"
        )
    return f"its task lease was lost (the task is {row['state']})"


class AttemptControl:
    """The worker's handle on one running attempt (see the module docstring)."""

    def __init__(
        self,
        journal: WorkerJournal,
        lease: TaskLease,
        *,
        cancel_grace_s: float = 5.0,
        coalesce_s: float = COALESCE_S,
    ) -> None:
        self.journal = journal
        self.lease = lease
        self.cancel_grace_s = cancel_grace_s
        self.coalesce_s = coalesce_s
        self.wake = threading.Event()
        self.scope = ActivityScope(
            info_for(lease), previous_details=lease.heartbeat_details, beat=self._beat
        )
        self._lock = threading.Lock()
        now = time.monotonic()
        self._last_write = now  # the claim renewed the lease: it counts as a write
        self._last_call = now  # ... and as a sign of life
        self._pending: tuple[Any, bool] | None = None
        self._cancelled_at: float | None = None
        self._abandon = False
        ht = lease.heartbeat_timeout_ms
        # A heartbeat-timeout lease runs out this long after the last heartbeat call
        # (the SQL adds the same one-second coalescing margin).
        self._silence_s = (ht / 1000 + coalesce_s) if ht is not None else None

    # -- heartbeats (called on the body's thread) ---------------------------------------
    def _beat(self, details: Any, has_details: bool) -> None:
        with self._lock:
            self._last_call = time.monotonic()
            if has_details:
                self._pending = (details, True)
            elif self._pending is None:
                self._pending = (None, False)
            if self._last_call - self._last_write < self.coalesce_s:
                return  # coalesced: the worker writes it when the second is up
        self.flush()

    def flush(self) -> bool:
        """Write the pending heartbeat now (renewing the lease from the time of the call);
        ``False`` if the lease is lost."""
        with self._lock:
            pending, self._pending = self._pending, None
            if pending is None:
                return not self.scope.cancelled
            details, has_details = pending
            self._last_write = now = time.monotonic()
            age = timedelta(seconds=max(now - self._last_call, 0.0))
        try:
            alive = self.journal.heartbeat_task(
                self.lease, beat=True, details=details, has_details=has_details, age=age
            )
        except Exception as exc:
            # A blip: the lease is probably still ours; the next heartbeat tries again.
            if not is_transient(exc):
                _log.exception("activity %s: heartbeat failed", self.lease.activity)
            with self._lock:
                if self._pending is None:
                    self._pending = pending
            return True
        if not alive:
            self.cancel(miss_reason(self.journal, self.lease))
        return alive

    def flush_due(self) -> None:
        """Write a coalesced heartbeat once its second is up (polled by the worker)."""
        with self._lock:
            due = (
                self._pending is not None
                and time.monotonic() - self._last_write >= self.coalesce_s
                and not self.scope.cancelled
            )
        if due:
            self.flush()

    @property
    def has_pending(self) -> bool:
        """Whether heartbeat details wait for a write."""
        with self._lock:
            return self._pending is not None and self._pending[1]

    # -- cancellation and abandonment ---------------------------------------------------
    def cancel(self, reason: str) -> None:
        """Tell the body to stop (``heartbeat()`` raises; an async body is cancelled)."""
        with self._lock:
            if self._cancelled_at is None:
                self._cancelled_at = time.monotonic()
        self.scope.cancel(reason)
        self.wake.set()

    def lease_lost(self) -> None:
        """The heartbeater found the lease gone (the run was cancelled, or taken over)."""
        self.cancel(miss_reason(self.journal, self.lease))

    def abandon(self) -> None:
        """Stop waiting for the body (shutdown drain over); it runs on as a daemon."""
        self._abandon = True
        self.wake.set()

    @property
    def stopped(self) -> bool:
        """Whether the worker told the attempt to stop (lease lost, run over, shutdown) —
        not merely that it ran out of time, which is an outcome to record."""
        with self._lock:
            return self._cancelled_at is not None

    def should_abandon(self) -> bool:
        """Polled while the body runs: coalesced heartbeats, local heartbeat timeout, and
        the grace after a cancel."""
        if self._abandon:
            return True
        self.flush_due()
        now = time.monotonic()
        if self._silence_s is not None and not self.scope.cancelled:
            with self._lock:
                silent = now - self._last_call
            if silent > self._silence_s:
                self.cancel(
                    f"it sent no heartbeat for {silent:.1f}s, longer than its heartbeat_timeout "
                    "(the task is retried elsewhere)"
                )
        with self._lock:
            since = self._cancelled_at
        return since is not None and now - since >= self.cancel_grace_s

    def describe(self) -> dict[str, Any]:
        """JSON-ready identity of the attempt (logs, ``Worker.abandoned``)."""
        lease = self.lease
        return {
            "run_id": lease.run_id,
            "activity": lease.activity,
            "task_id": lease.id,
            "attempt": lease.attempt,
            "cancel_reason": self.scope.cancel_reason,
        }


IDEMPOTENCY_WAIT_S = 600.0
"""How long an attempt waits for another live attempt holding the same idempotency key."""


def _idempotent_outcome(
    journal: WorkerJournal, control: AttemptControl, retry_s: float
) -> AttemptResult | None:
    """The committed result for the attempt's key, or ``None`` once this attempt holds the
    key's claim and must run the body itself.

    Another attempt holding a live claim on the same key is running the body right now:
    wait for its result (or for its claim to die with its lease) rather than run it twice.
    """
    lease = control.lease
    key = lease.idempotency_key
    assert key is not None
    deadline = time.monotonic() + IDEMPOTENCY_WAIT_S
    pause = 0.02
    while True:
        claimed = retry_transient(lambda: journal.claim_idempotency_key(lease), within_s=retry_s)
        # Checked after the claim: a holder commits its result and ends its lease together.
        found, value = retry_transient(
            lambda: journal.idempotent_result(lease.activity, key), within_s=retry_s
        )
        if found:
            return AttemptResult(True, value)
        if claimed:
            return None
        if control.scope.cancelled or time.monotonic() > deadline:
            return AttemptResult(
                False,
                error={
                    "type": "IdempotencyKeyBusy",
                    "message": f"another attempt still holds idempotency key {key!r}",
                },
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def run_leased(
    journal: WorkerJournal,
    control: AttemptControl,
    activity_for: Callable[[str], Activity[..., Any]],
    emit: Callable[[str, dict[str, Any]], None],
    meta: dict[str, Any],
    *,
    retry_s: float = 30.0,
) -> AttemptResult | None:
    """Run the attempt ``control`` holds: reuse an idempotent result, else run the body.

    ``None`` when the attempt was abandoned (it ignored cancellation). Shared by the
    builtin pool and external executors.
    """
    lease = control.lease
    kind = "compensation" if lease.kind == "compensation" else "activity"
    if lease.idempotency_key is not None:
        reused = _idempotent_outcome(journal, control, retry_s)
        if reused is not None:
            emit("activity.idempotency_hit", meta)
            return reused
    try:
        act = activity_for(lease.activity)
    except Exception as exc:
        return AttemptResult(False, error=error_payload(exc))
    emit(f"{kind}.started", meta)
    timeout_s = lease.timeout_ms / 1000 if lease.timeout_ms else None
    return run_bounded(
        act,
        lease.args,
        timeout_s,
        control.scope,
        should_abandon=control.should_abandon,
        wake=control.wake,
    )
