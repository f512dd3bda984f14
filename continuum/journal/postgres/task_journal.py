"""Activity task methods of :class:`~continuum.journal.postgres.journal.PostgresJournal`:
claims, heartbeats, hand-offs, finishes (fenced by token and attempt), requeues."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from continuum.engine.types import ActivationInput, ActivationResult
from continuum.journal.postgres import (
    activations,
    batch_tasks,
    sticky_step,
    tasks,
)
from continuum.journal.postgres.base import JournalBase
from continuum.journal.postgres.statements import Cursor, dumps, fetch_one, sql
from continuum.journal.records import Lease, TaskFinish, TaskLease

S = TypeVar("S")
Stepped = tuple[TaskFinish, Lease | None, ActivationInput | None, S | None]
"""What :meth:`TaskJournal.finish_task_and_step` returns: finish, run lease, input, step."""


class TaskJournal(JournalBase):
    """Activity tasks: every write fenced by the task's lease token and attempt."""

    # -- activity tasks -----------------------------------------------------------
    def claim_task(self, owner: str) -> TaskLease | None:
        """Lease the oldest due activity task (a new attempt), or ``None``."""
        claimed = self.claim_tasks(owner, 1)
        return claimed[0] if claimed else None

    def claim_tasks(self, owner: str, limit: int) -> list[TaskLease]:
        """Lease up to ``limit`` due activity tasks (``FOR UPDATE SKIP LOCKED``)."""
        return self._run(lambda cur: tasks.claim_tasks(cur, owner, limit, self.task_lease_ttl))

    def heartbeat_task(
        self,
        lease: TaskLease,
        extend: timedelta | None = None,
        *,
        beat: bool = False,
        details: Any = None,
        has_details: bool = False,
        age: timedelta = timedelta(0),
    ) -> bool:
        """Extend a task lease by ``extend`` (default: the task lease TTL); ``False`` if lost.

        ``beat``: the activity's own heartbeat, made ``age`` ago; with ``has_details`` its
        ``details`` (JSON) are stored for the next attempt.
        """
        ttl = extend or self.task_lease_ttl
        text = (
            dumps(details, what=f"heartbeat details of activity {lease.activity}")
            if has_details
            else None
        )
        return self._run(
            lambda cur: tasks.heartbeat_task(cur, lease, ttl, beat=beat, details=text, age=age)
        )

    def task_state(self, task_id: int) -> dict[str, Any] | None:
        """``{state, attempt, run_state}`` of a task right now (``None`` if it is gone)."""
        return self._run(lambda cur: tasks.task_state(cur, task_id))

    def defer_task(self, lease: TaskLease) -> bool:
        """Hand an attempt to asynchronous completion (``complete_later``); fenced."""
        return self._run(lambda cur: tasks.defer_task(cur, lease))

    def hand_off_task(self, lease: TaskLease, owner: str, ttl: timedelta) -> bool:
        """Give an attempt to an external executor's queue (``owner`` ``queued:...``)."""
        return self._run(lambda cur: tasks.hand_off_task(cur, lease, owner, ttl))

    def adopt_task(self, task_id: int, attempt: int, token: int, owner: str) -> TaskLease | None:
        """An external executor starts a handed-off attempt; ``None`` if it is stale."""
        ttl = self.task_lease_ttl
        return self._run(lambda cur: tasks.adopt_task(cur, task_id, attempt, token, owner, ttl))

    def finish_by_token(
        self,
        task_id: int,
        attempt: int,
        token: int,
        *,
        ok: bool,
        result: Any = None,
        error: dict[str, Any] | None = None,
        final_for: Callable[[str], bool] = lambda _activity: False,
    ) -> TaskFinish:
        """Finish the attempt a task token names (asynchronous completion), in one
        transaction; ``fenced`` when the token is stale."""
        return self._run(
            lambda cur: tasks.finish_by_token(
                cur,
                task_id,
                attempt,
                token,
                ok=ok,
                result=result,
                error=error,
                final_for=final_for,
            )
        )

    def finish_task(
        self,
        lease: TaskLease,
        *,
        ok: bool,
        result: Any = None,
        error: dict[str, Any] | None = None,
        final: bool = False,
    ) -> TaskFinish:
        """Record an attempt's outcome (fenced by token and attempt)."""
        payload = tasks.prepare_finish(lease, ok, result, error)
        return self._run(lambda cur: tasks.finish_task(cur, lease, ok, payload, final=final))[0]

    def finish_task_and_claim(
        self,
        lease: TaskLease,
        owner: str,
        *,
        ok: bool,
        result: Any = None,
        error: dict[str, Any] | None = None,
        final: bool = False,
    ) -> tuple[TaskFinish, Lease | None, ActivationInput | None]:
        """:meth:`finish_task`; when the outcome wakes a run nobody holds, also lease that
        run to ``owner`` and load its activation, in the same transaction."""
        payload = tasks.prepare_finish(lease, ok, result, error)

        def finish(cur: Cursor) -> tuple[TaskFinish, Lease | None, ActivationInput | None]:
            done, run_lease = tasks.finish_task(
                cur, lease, ok, payload, claim_for=owner, ttl=self.lease_ttl, final=final
            )
            if run_lease is None:
                return done, None, None
            inp = activations.load_activation(
                cur,
                run_lease,
                max_child_depth=self.max_child_depth,
                instance=self.instance,
                known=self.sticky_hint,
            )
            return done, run_lease, inp

        return self._run(finish)

    def finish_task_and_step(
        self,
        lease: TaskLease,
        owner: str,
        result: Any,
        step: Callable[[Cursor, Lease, ActivationInput], S],
    ) -> Stepped[S]:
        """:meth:`finish_task_and_claim` for a successful attempt, and then, in the same
        transaction, ``step(cursor, run lease, input)`` — the claimed run's next
        activation, written by ``step`` through :meth:`write_activation` (a sticky
        worker resumes the run from memory: one transaction per step)."""
        payload = tasks.prepare_finish(lease, True, result, None)
        known = self.sticky_hint(lease.run_id) if self.sticky_hint is not None else None
        if known is not None and lease.idempotency_key is None:
            return sticky_step.finish_and_step(
                self._pool,
                lease,
                owner,
                payload or "null",
                after=known[0],
                ttl=self.lease_ttl,
                max_child_depth=self.max_child_depth,
                instance=self.instance,
                step=step,
            )

        def finish(cur: Cursor) -> Stepped[S]:
            done, run_lease = tasks.finish_task(
                cur, lease, True, payload, claim_for=owner, ttl=self.lease_ttl
            )
            if run_lease is None:
                return done, None, None, None
            inp = activations.load_activation(
                cur,
                run_lease,
                max_child_depth=self.max_child_depth,
                instance=self.instance,
                known=self.sticky_hint,
            )
            return done, run_lease, inp, step(cur, run_lease, inp)

        return self._run(finish)

    def write_activation(
        self,
        cur: Cursor,
        lease: Lease,
        result: ActivationResult,
        *,
        task_owner: str,
        max_tasks: int,
        loaded: ActivationInput | None = None,
    ) -> list[TaskLease]:
        """:meth:`commit_activation_leasing` in the caller's open transaction (only for a
        suspended outcome: it never takes a parent's lock, so it never has to retry).

        ``loaded``: the input the activation ran on, read in this transaction after it
        claimed the run (its row locked since): the common shape is then written without
        re-reading the row (see :mod:`~continuum.journal.postgres.sticky_step`)."""
        if result.outcome.kind != "suspended":
            raise ValueError("write_activation writes suspended activations only")
        if loaded is not None:
            fast = sticky_step.write_fast(
                cur,
                lease,
                loaded,
                result,
                task_owner=task_owner,
                max_tasks=max_tasks,
                task_ttl=self.task_lease_ttl,
            )
            if fast is not None:
                return fast
        return activations.commit_activation(
            cur,
            lease,
            activations.prepare(result),
            successor_version=None,
            max_levels=self._cascade_levels,
            instance=self.instance,
            task_owner=task_owner,
            lease_tasks=max_tasks,
            task_ttl=self.task_lease_ttl,
            notify_timers=False,
        )

    def finish_tasks(
        self, items: Sequence[tuple[TaskLease, Any, bool]], *, owner: str
    ) -> list[tuple[TaskFinish, Lease | None, ActivationInput | None] | BaseException | None]:
        """Group finish: ``(lease, result, claim)`` successful attempts in one transaction.

        Per item, in order: ``(finish, run lease, activation input)`` as
        :meth:`finish_task_and_claim` returns them (with ``claim`` false the run is only
        woken), an exception for that item alone (``PayloadError``), or ``None`` — not
        recorded here, finish it on its own. An error of the transaction propagates.
        """

        def prepare(item: tuple[TaskLease, Any, bool]) -> batch_tasks.FinishItem:
            lease, result, claim = item
            payload = tasks.prepare_finish(lease, True, result, None)
            return batch_tasks.FinishItem(lease, payload or "null", claim)

        return self._batch(
            items,
            prepare,
            lambda cur, batch: batch_tasks.finish_batch(
                cur,
                batch,
                owner=owner,
                ttl=self.lease_ttl,
                max_child_depth=self.max_child_depth,
                instance=self.instance,
                known=self.sticky_hint,
            ),
        )

    def unclaim_tasks(self, leases: Sequence[TaskLease]) -> int:
        """Give back task leases whose attempt never started (the attempt is not counted)."""
        return self._run(lambda cur: tasks.unclaim_tasks(cur, list(leases)))

    def requeue_expired_tasks(self) -> int:
        """Requeue or exhaust tasks whose lease expired; returns how many moved."""
        return len(self._run(tasks.requeue_expired_tasks))

    def claim_idempotency_key(self, lease: TaskLease) -> bool:
        """Claim ``lease``'s idempotency key for this attempt; ``False`` while another
        live attempt holds it (it is running the body: wait for its result)."""
        return self._run(lambda cur: tasks.claim_idempotency_key(cur, lease))

    def idempotent_result(self, activity: str, key: str) -> tuple[bool, Any]:
        """A committed result for ``(activity, key)``, if any."""
        return self._run(lambda cur: tasks.idempotent_result(cur, activity, key))

    def next_watched_expiry_in(self) -> float | None:
        """Seconds until the earliest heartbeat-timeout (or async-completion) lease runs out."""
        row = self._run(lambda cur: fetch_one(cur, sql("tasks", "next_watched_expiry_in")))
        return None if row is None or row["seconds"] is None else float(row["seconds"])

    def next_task_at(self) -> datetime | None:
        """When the next pending activity task becomes due."""
        row = self._run(lambda cur: fetch_one(cur, sql("tasks", "next_task_at")))
        return None if row is None else row["at"]
