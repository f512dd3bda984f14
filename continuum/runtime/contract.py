"""What the worker runtime needs from a journal beyond the ``Journal`` protocol.

The Postgres journal implements these; the runtime depends only on this protocol, so
the leasing rules stay in one place (the journal's SQL) and the runtime only schedules.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any, Protocol

from continuum.engine.types import ActivationInput, ActivationResult
from continuum.journal.protocol import Journal
from continuum.journal.records import Lease, TaskFinish, TaskLease


class WorkerJournal(Journal, Protocol):
    """A journal that can lease work to many worker processes at once."""

    def claim_and_load_due_runs(
        self, owner: str, limit: int
    ) -> list[tuple[Lease, ActivationInput]]:
        """Lease up to ``limit`` due runs (``FOR UPDATE SKIP LOCKED``, rotating tokens) and load
        each claimed run's activation input, in one transaction."""
        ...

    def heartbeat_runs(self, owner: str, tokens: Sequence[int]) -> Collection[int] | Any:
        """Extend the leases ``owner`` holds with ``tokens``; returns the tokens still held."""
        ...

    def release_orphaned_runs(
        self, owner: str, tokens: Sequence[int], min_age: timedelta
    ) -> list[str]:
        """Hand back runs leased to ``owner`` under tokens outside ``tokens`` (leased at
        least ``min_age`` ago): their lease's acknowledgement was lost."""
        ...

    def claim_tasks(self, owner: str, limit: int) -> list[TaskLease]:
        """Lease up to ``limit`` due activity tasks (the attempt moves at claim time)."""
        ...

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
        """Extend one task lease; ``False`` when it is no longer ours (a CAS miss).
        ``beat``: the activity's own heartbeat (made ``age`` ago), storing ``details``
        when ``has_details``."""
        ...

    def task_state(self, task_id: int) -> dict[str, Any] | None:
        """``{state, attempt, run_state}`` of a task now (why a heartbeat missed)."""
        ...

    def defer_task(self, lease: TaskLease) -> bool:
        """Hand an attempt to asynchronous completion; ``False`` when the lease was lost."""
        ...

    def next_watched_expiry_in(self) -> float | None:
        """Seconds until the earliest lease only its activity (or nobody) renews runs out."""
        ...

    def requeue_expired_tasks(self) -> int:
        """Requeue (consuming an attempt) or exhaust tasks whose lease expired."""
        ...

    def recover_expired_runs(self) -> list[str]:
        """Make runs whose lease expired (its holder stopped renewing) due again."""
        ...

    def expire_leases_of(self, owner_ids: Sequence[str]) -> Any:
        """Expire every run and task lease held by the given (dead) owners (skipping rows
        another session holds locked)."""
        ...

    def owners_with_leases(self, owner_ids: Sequence[str]) -> set[str]:
        """Which of ``owner_ids`` still hold an unexpired lease."""
        ...

    def claim_idempotency_key(self, lease: TaskLease) -> bool:
        """Claim the attempt's idempotency key; ``False`` while another live attempt has it."""
        ...

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
        """Finish a task and, if that wakes an unleased run, lease and load it for ``owner``."""
        ...

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
        """Commit an activation, leasing up to ``max_tasks`` new tasks to ``task_owner``
        (``notify_timers=False``: the caller wakes its own timer wheel instead)."""
        ...

    def commit_activations(
        self,
        items: Sequence[tuple[Lease, ActivationResult, int]],
        *,
        task_owner: str,
    ) -> list[list[TaskLease] | BaseException | None]:
        """Group commit ``(lease, result, max_tasks)`` items; per item: task leases taken,
        its own error, or ``None`` (commit it on its own)."""
        ...

    def finish_tasks(
        self, items: Sequence[tuple[TaskLease, Any, bool]], *, owner: str
    ) -> list[tuple[TaskFinish, Lease | None, ActivationInput | None] | BaseException | None]:
        """Group finish ``(lease, result, claim)`` successful attempts; per item the
        ``finish_task_and_claim`` triple, its own error, or ``None`` (finish it alone)."""
        ...

    def unclaim_tasks(self, leases: Sequence[TaskLease]) -> int:
        """Give back task leases whose attempt never started."""
        ...

    def claim_and_load(self, run_id: str, owner: str) -> tuple[Lease, ActivationInput] | None:
        """Lease one run that nobody holds and load its activation, in one transaction."""
        ...
