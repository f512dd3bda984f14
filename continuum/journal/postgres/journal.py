"""``PostgresJournal``: the :class:`~continuum.journal.protocol.Journal` on PostgreSQL.

Same semantics as :class:`~continuum.journal.memory.MemoryJournal` (the reference),
plus what the worker runtime needs: batch claims, lease heartbeats, task leases,
crash requeue and dead-worker takeover. Rules every method follows:

- one transaction per call; a ``psycopg.OperationalError`` (connection lost, deadlock,
  serialization failure) propagates unchanged, so the runtime crashes and resumes the
  run instead of failing it;
- every ownership-dependent write carries the lease token (and, for activity tasks,
  the attempt) in its ``WHERE`` clause; a lost lease raises :class:`Fenced` or returns
  ``TaskFinish("fenced")``;
- every time comparison and every backoff uses the database clock;
- NOTIFY payloads carry ids only: ``continuum_run_wake``, ``continuum_task_ready``,
  ``continuum_timer_armed``, ``continuum_run_finished``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from continuum.engine.events import Event
from continuum.engine.types import ActivationInput, ActivationResult
from continuum.errors import ConfigurationError
from continuum.journal.inspection import CallSite, RunDetail
from continuum.journal.notices import emit_cancelled
from continuum.journal.postgres import (
    activations,
    cancel,
    messages,
    query,
    runs,
    runview,
    signals,
    sticky_step,
)
from continuum.journal.postgres import batch as batch_ops
from continuum.journal.postgres.statements import Cursor, dumps, fetch_one, sql
from continuum.journal.postgres.task_journal import TaskJournal
from continuum.journal.records import Lease, NewRun, TaskLease, UpdateStatus
from continuum.models import Page, RunInfo

T = TypeVar("T")

SNAPSHOTS_KEPT = 2
"""Snapshots kept per run: the newest, and one fallback."""


class PostgresJournal(TaskJournal):
    """A journal on PostgreSQL, over a psycopg pool (or a DSN it opens a pool for).

    ``max_child_depth`` bounds child nesting (the cancel cascade walks at most that many
    generations, plus a margin). ``successor_version``, when set, is the version hash
    given to ``continue_as_new`` successors (default: the finishing run's hash). The
    plumbing is in :class:`~continuum.journal.postgres.base.JournalBase`, the activity
    task methods in :class:`~continuum.journal.postgres.task_journal.TaskJournal`.
    """

    # -- runs ---------------------------------------------------------------------
    def now(self) -> datetime:
        """The database clock."""
        return self._run(runs.now)

    def create_run(self, new: NewRun, *, if_exists: str = "return") -> tuple[RunInfo, bool]:
        """Insert a runnable run (and NOTIFY the dispatchers); on an existing ``new.id``,
        ``if_exists`` decides: ``"return"`` it, ``"error"``, or ``"restart_failed"``."""
        info, created, _ = self._run(
            lambda cur: runs.create_run(cur, new, None, self.lease_ttl, if_exists)
        )
        return info, created

    def transaction(self, fn: Callable[[Cursor], T]) -> T:
        """Run ``fn`` with a cursor inside one transaction (schedules, queues, fork)."""
        return self._run(fn)

    def start_run(self, new: NewRun, owner: str) -> tuple[RunInfo, bool, Lease | None]:
        """Insert a run already leased to ``owner`` (one transaction); idempotent on its id.

        Returns ``(info, created, lease)``; ``lease`` is ``None`` when the run existed.
        """
        return self._run(lambda cur: runs.create_run(cur, new, owner, self.lease_ttl))

    def get_run(self, run_id: str) -> RunInfo:
        """The run's public record, or :class:`~continuum.errors.RunNotFound`."""
        return self._run(lambda cur: runs.get_run(cur, run_id))

    def tip(self, run_id: str) -> str:
        """The live end of the ``continue_as_new`` chain containing ``run_id``."""
        return self._run(lambda cur: runs.tip(cur, run_id))

    def history(self, run_id: str) -> list[Event]:
        """The run's events in seq order."""
        return self._run(lambda cur: runs.history(cur, run_id))

    def set_attributes(self, run_id: str, attributes: dict[str, Any]) -> None:
        """Merge search attributes in SQL (not journaled, invisible to replay)."""
        dumps(attributes, what="attributes")
        self._run(lambda cur: runs.set_attributes(cur, run_id, attributes))

    def query(
        self,
        *,
        namespace: str | None = "default",
        where: Sequence[tuple[str, Any, Any]] = (),
        order_by: Sequence[str] = ("desc", "started_at"),
        limit: int = 50,
        after: str | None = None,
    ) -> Page:
        """One page of runs; ``where`` holds ``(op, field, value)`` conditions, ANDed.

        Fields: run columns (``state``, ``workflow``, ``started_at``, ...) or
        ``("attributes", key)``; ops: ``eq ne in gt gte lt lte``. ``namespace=None``
        searches every namespace. Pass ``page.next_cursor`` as ``after`` for the next page.
        """
        return self._run(
            lambda cur: query.run_query(
                cur, namespace=namespace, where=where, order_by=order_by, limit=limit, after=after
            )
        )

    # -- run leases ---------------------------------------------------------------
    def claim_due_runs(self, owner: str, limit: int) -> list[Lease]:
        """Lease up to ``limit`` due runs (``FOR UPDATE SKIP LOCKED``), rotating tokens."""
        return self._run(lambda cur: runs.claim_due_runs(cur, owner, limit, self.lease_ttl))

    def claim_and_load_due_runs(
        self, owner: str, limit: int
    ) -> list[tuple[Lease, ActivationInput]]:
        """:meth:`claim_due_runs` and every claimed run's activation input, in one
        transaction (two statements: the load needs a snapshot taken after the claim)."""

        def claim(cur: Cursor) -> list[tuple[Lease, ActivationInput]]:
            leases = runs.claim_due_runs(cur, owner, limit, self.lease_ttl)
            loaded = activations.load_activations(
                cur,
                leases,
                max_child_depth=self.max_child_depth,
                instance=self.instance,
                known=self.sticky_hint,
            )
            # Every claimed run is leased to us under this transaction: all are loaded.
            return [(lease, loaded[lease.run_id]) for lease in leases]

        return self._run(claim)

    def claim_run(self, run_id: str, owner: str) -> Lease | None:
        """Lease one active run that nobody holds (or whose lease expired)."""
        return self._run(lambda cur: runs.claim_run(cur, run_id, owner, self.lease_ttl))

    def claim_and_load(self, run_id: str, owner: str) -> tuple[Lease, ActivationInput] | None:
        """:meth:`claim_run` and :meth:`load_activation` in one transaction."""
        known = self.sticky_hint(run_id) if self.sticky_hint is not None else None
        if known is not None:
            return sticky_step.claim_and_load_parked(
                self._pool,
                run_id,
                owner,
                after=known[0],
                ttl=self.lease_ttl,
                max_child_depth=self.max_child_depth,
                instance=self.instance,
            )

        def claim(cur: Cursor) -> tuple[Lease, ActivationInput] | None:
            lease = runs.claim_run(cur, run_id, owner, self.lease_ttl)
            if lease is None:
                return None
            inp = activations.load_activation(
                cur,
                lease,
                max_child_depth=self.max_child_depth,
                instance=self.instance,
                known=self.sticky_hint,
            )
            return lease, inp

        return self._run(claim)

    def heartbeat_runs(self, owner: str, tokens: Sequence[int]) -> set[int]:
        """Extend ``owner``'s run leases; returns the tokens that are still current."""
        return self._run(lambda cur: runs.heartbeat_runs(cur, owner, list(tokens), self.lease_ttl))

    def release_orphaned_runs(
        self, owner: str, tokens: Sequence[int], min_age: timedelta
    ) -> list[str]:
        """Hand back runs leased to ``owner`` under a token it does not hold (a lost
        acknowledgement), leased at least ``min_age`` ago; returns their ids."""
        return self._run(
            lambda cur: runs.release_orphaned_runs(
                cur, owner, list(tokens), self.lease_ttl, min_age
            )
        )

    def release_run(self, lease: Lease, retry_after: timedelta) -> None:
        """Give the lease back without progress; the run wakes again after ``retry_after``."""
        self._run(lambda cur: runs.release_run(cur, lease, retry_after))

    def expire_leases_of(self, owners: Sequence[str]) -> tuple[int, int]:
        """End every run and task lease held by dead ``owners``; ``(runs, tasks)``.

        Their runs become due at once; their tasks are requeued (consuming the lost
        attempt) by the next :meth:`requeue_expired_tasks`.
        """
        return self._run(lambda cur: runs.expire_leases_of(cur, list(owners)))

    def owners_with_leases(self, owners: Sequence[str]) -> set[str]:
        """Which of ``owners`` still hold a lease :meth:`expire_leases_of` had to skip
        (its row was locked by another session, e.g. a frozen worker's transaction)."""
        return self._run(lambda cur: runs.owners_with_leases(cur, list(owners)))

    def recover_expired_runs(self) -> list[str]:
        """Make runs whose lease expired (owner stopped heartbeating) due again."""
        return self._run(runs.recover_expired_runs)

    def wake(self, run_id: str) -> bool:
        """Make an active run due now; ``False`` if it is not active."""
        return self._run(lambda cur: runs.wake_run(cur, run_id))

    def next_wakeup(self) -> datetime | None:
        """The earliest wake-up time among active runs."""
        row = self._run(lambda cur: fetch_one(cur, sql("runs", "next_wakeup")))
        return None if row is None else row["at"]

    # -- activations --------------------------------------------------------------
    def load_activation(self, lease: Lease) -> ActivationInput:
        """History, mailbox, finished tasks/children and ``now()`` for the leased run."""
        return self._run(
            lambda cur: activations.load_activation(
                cur, lease, max_child_depth=self.max_child_depth, instance=self.instance
            )
        )

    def commit_activation(
        self, lease: Lease, result: ActivationResult, *, successor_version: str | None = None
    ) -> None:
        """Apply an activation in one transaction; :class:`Fenced` if the
        lease was lost. ``successor_version`` overrides the hash of a continue_as_new
        successor."""
        self.commit_activation_leasing(lease, result, successor_version=successor_version)

    def commit_activation_leasing(
        self,
        lease: Lease,
        result: ActivationResult,
        *,
        successor_version: str | None = None,
        task_owner: str | None = None,
        max_tasks: int = 0,
        notify_timers: bool = True,
    ) -> list[TaskLease]:
        """:meth:`commit_activation`, inserting up to ``max_tasks`` of the new activity tasks
        already leased to ``task_owner`` (attempt 1, as a claim would), in the same
        transaction; returns those task leases for the caller to run.

        ``notify_timers=False``: new timers are not announced (``continuum_timer_armed``);
        the caller's own timer wheel is woken in-process, and other workers find the run
        by its ``next_wakeup_at`` on their poll (a NOTIFY serialises committers)."""
        prepared = activations.prepare(result)
        version = successor_version or self.successor_version
        return self._run_retrying(
            lambda cur: activations.commit_activation(
                cur,
                lease,
                prepared,
                successor_version=version,
                max_levels=self._cascade_levels,
                instance=self.instance,
                task_owner=task_owner,
                lease_tasks=max_tasks,
                task_ttl=self.task_lease_ttl,
                notify_timers=notify_timers,
            )
        )

    def commit_activations(
        self,
        items: Sequence[tuple[Lease, ActivationResult, int]],
        *,
        task_owner: str,
    ) -> list[list[TaskLease] | BaseException | None]:
        """Group commit: ``(lease, result, max_tasks)`` activations in one transaction.

        One outcome per item, in order: the task leases it took (committed, as
        :meth:`commit_activation_leasing` returns them), an exception for that item alone
        (:class:`Fenced`, or ``PayloadError`` for a value that is not
        JSON), or ``None`` — not written here, commit it on its own. Shapes the batch
        does not write (see :mod:`continuum.journal.postgres.batch`) always come back
        ``None``. An error of the transaction itself propagates: nothing was written.
        """

        def prepare(item: tuple[Lease, ActivationResult, int]) -> batch_ops.BatchItem:
            lease, result, max_tasks = item
            return batch_ops.BatchItem(lease, activations.prepare(result), max_tasks)

        return self._batch(
            items,
            prepare,
            lambda cur, batch: batch_ops.commit_batch(
                cur, batch, task_owner=task_owner, task_ttl=self.task_lease_ttl
            ),
        )

    # -- retention and snapshots --------------------------------------------------
    def apply_default_retention(self, run_ids: Sequence[str], seconds: float) -> None:
        """Give finished runs without a retention of their own this one (a worker default)."""
        self._run(
            lambda cur: cur.execute(
                sql("retention", "default_retention"), {"ids": list(run_ids), "seconds": seconds}
            )
        )

    def save_snapshot(self, run_id: str, seq: int, format_version: int, payload: str) -> bool:
        """Store a snapshot of the run through ``seq`` (JSON text); ``False`` if not stored
        (one exists at that seq, or the run's journal has not reached it)."""

        def save(cur: Cursor) -> bool:
            params = {
                "run_id": run_id,
                "seq": seq,
                "format_version": format_version,
                "payload": payload,
                "keep": SNAPSHOTS_KEPT,
            }
            stored = fetch_one(cur, sql("snapshots", "save_snapshot"), params) is not None
            if stored:
                cur.execute(sql("snapshots", "prune_snapshots"), params)
            return stored

        return self._run(save)

    # -- signals and cancel -------------------------------------------------------
    def send_signal(self, run_id: str, name: str, payload: Any) -> str:
        """Deliver to the chain tip's mailbox and wake it; returns the tip's id.

        The payload is checked before the database is touched (``PayloadError``).
        """
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a signal name must be a non-empty string, got {name!r}")
        text = dumps(payload, what=f"payload of signal {name!r}")
        return self._run(lambda cur: signals.send_signal(cur, run_id, name, text))

    def cancel(self, run_id: str, grace: timedelta | None = None) -> RunInfo:
        """Cancel the chain tip and its live descendants; idempotent on cancelled runs.

        Emits ``run.cancelled`` for the tip and ``child.cancelled`` for each descendant
        once the transaction has committed. With ``grace`` the cancel is cooperative:
        every run of the tree gets ``continuum.Cancelled`` at its next wait, and is
        hard-cancelled when ``grace`` has passed (telemetry then comes from the run's
        own cancelled outcome).
        """
        if grace is None:
            info, cancelled = self._run_retrying(
                lambda cur: cancel.cancel(
                    cur, run_id, max_levels=self._cascade_levels, instance=self.instance
                )
            )
            emit_cancelled(cancelled, instance=self.instance)
            return info
        if grace < timedelta(0):
            raise ConfigurationError(f"cancel grace must not be negative, got {grace}")
        tip, queued = self._run_retrying(
            lambda cur: messages.request_cancel(cur, run_id, grace, max_levels=self._cascade_levels)
        )
        if queued:  # never started: nothing to clean up
            return self.cancel(tip)
        return self.get_run(tip)

    # -- events and updates -----------------------------------------------------------
    def send_update(self, run_id: str, name: str, payload: Any) -> tuple[int, str]:
        """Put an update request in the chain tip's mailbox and wake it;
        ``(update id, id of the run it landed on)``."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"an update name must be a non-empty string, got {name!r}")
        text = dumps(payload, what=f"payload of update {name!r}")
        return self._run(lambda cur: messages.send_update(cur, run_id, name, text))

    def update_status(self, update_id: int) -> UpdateStatus:
        """Where an update request stands (answered, or its run's state)."""
        return self._run(lambda cur: messages.update_status(cur, update_id))

    def withdraw_update(self, update_id: int) -> bool:
        """Remove an update request nobody accepted; ``False`` if it was accepted."""
        return self._run(lambda cur: messages.withdraw_update(cur, update_id))

    def pending_updates(self, run_id: str) -> list[dict[str, Any]]:
        """Unanswered update requests of one run (accepted or not), oldest first."""
        return self._run(lambda cur: messages.pending_updates(cur, run_id))

    def get_event(self, run_id: str, key: str) -> tuple[bool, Any]:
        """``(True, value)`` if the run's chain published ``key``, else ``(False, None)``."""
        return self._run(lambda cur: messages.get_event(cur, messages.chain_of(cur, run_id), key))

    def events(self, run_id: str) -> dict[str, Any]:
        """Every event the run's chain published, by key."""
        return self._run(lambda cur: messages.events(cur, messages.chain_of(cur, run_id)))

    # -- inspection (operators: the Observer, `runs show`) ---------------------------
    def run_detail(self, run_id: str, *, limit: int = 100) -> RunDetail:
        """The run's input, lease, pending signals/timers/tasks and children (at most
        ``limit`` of each), in one snapshot; :class:`~continuum.errors.RunNotFound`."""
        return self._run(lambda cur: runview.run_detail(cur, run_id, limit))

    def history_window(
        self,
        run_id: str,
        *,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 200,
    ) -> list[Event]:
        """A page of the run's events in seq order: the newest ``limit`` ones, or those
        after ``after_seq`` / before ``before_seq`` (a long history is never read whole)."""
        if limit < 1:
            raise ConfigurationError(f"history_window needs limit >= 1, got {limit}")
        return self._run(
            lambda cur: runview.history_window(cur, run_id, after_seq, before_seq, limit)
        )

    def reached_sites(self, run_id: str) -> set[CallSite]:
        """The ``(kind, qualname, line offset)`` of every command the run has journaled."""
        return self._run(lambda cur: runview.reached_sites(cur, run_id))
