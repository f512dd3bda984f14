"""The in-memory journal: the reference semantics, used by the testing kit.

It follows the same rules as the Postgres journal: every activation write is fenced by
the run's lease token, terminal transitions require an active run, signals buffer in a
per-run mailbox and follow ``continue_as_new`` chains, cancel cascades to descendants
and clears leases, and activity task writes are fenced by task token and attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from continuum.definitions.backoff import Backoff
from continuum.journal.memory_core import MemoryJournalCore
from continuum.journal.records import TaskFinish, TaskLease


class MemoryJournal(MemoryJournalCore):
    """A journal held in process memory; thread-safe; time from ``clock``.

    Its state and the run side live in :class:`~continuum.journal.memory_core.MemoryJournalCore`;
    this class adds the activity tasks.
    """

    # -- activity tasks ---------------------------------------------------------------
    def claim_task(self, owner: str) -> TaskLease | None:
        """Lease the oldest due task; the attempt counter moves at claim time."""
        now = self.now()
        with self._tx():
            due = [
                t
                for t in self._tasks.values()
                if t.state == "pending" and (t.available_at is None or t.available_at <= now)
            ]
            if not due:
                return None
            task = min(due, key=lambda t: (t.available_at or now, t.id))
            task.state = "leased"
            task.attempt += 1
            task.lease_token = next(self._tokens)
            return TaskLease(
                task.id,
                task.run_id,
                task.command_seq,
                task.kind,
                task.activity,
                task.args,
                task.idempotency_key,
                task.attempt,
                task.max_attempts,
                task.timeout_ms,
                task.lease_token,
                owner,
                now,
                heartbeat_details=task.heartbeat_details,
            )

    def next_task_at(self) -> datetime | None:
        """When the next pending task becomes due."""
        with self._tx():
            times = [
                t.available_at or self.now() for t in self._tasks.values() if t.state == "pending"
            ]
            return min(times) if times else None

    def claim_idempotency_key(self, lease: TaskLease) -> bool:
        """The in-memory kit runs one attempt at a time: a key is always free to claim."""
        return True

    def idempotent_result(self, activity: str, key: str) -> tuple[bool, Any]:
        """A committed result for ``(activity, key)``, if any."""
        with self._tx():
            if (activity, key) in self._results:
                return True, self._results[(activity, key)]
            return False, None

    def record_heartbeat(self, lease: TaskLease, details: Any) -> bool:
        """Keep heartbeat details for the next attempt; ``False`` once the lease is lost."""
        with self._tx():
            task = self._tasks.get(lease.id)
            if task is None or task.state != "leased" or task.lease_token != lease.token:
                return False
            task.heartbeat_details = details
            return True

    def finish_task(
        self,
        lease: TaskLease,
        *,
        ok: bool,
        result: Any = None,
        error: dict[str, Any] | None = None,
        final: bool = False,
    ) -> TaskFinish:
        """Record an attempt's outcome, fenced by task token and attempt."""
        with self._tx():
            task = self._tasks.get(lease.id)
            if (
                task is None
                or task.state != "leased"
                or task.lease_token != lease.token
                or task.attempt != lease.attempt
            ):
                return TaskFinish("fenced", lease.run_id)
            run = self._runs[task.run_id]
            task.lease_token = None
            if ok:
                task.state = "completed"
                task.result = result
                if task.idempotency_key is not None:
                    self._results.setdefault((task.activity, task.idempotency_key), result)
                self._wake(run)
                return TaskFinish("completed", run.id)
            if not final and (task.max_attempts is None or task.attempt < task.max_attempts):
                delay = Backoff.from_json(task.backoff).delay(task.attempt)
                task.state = "pending"
                task.available_at = self.now() + delay
                task.error = error
                return TaskFinish("retry", run.id, task.available_at)
            task.state = "failed"
            task.error = error
            self._wake(run)
            return TaskFinish("failed", run.id)
