"""The activity dispatcher's port to external executors (the plug-ins in
:mod:`continuum.executors` implement it; the builtin pool needs none).

Continuum keeps the task table, the retry policy, idempotency, heartbeats and the
completion CAS; an executor only carries a leased attempt to a process that runs it.
"""

from __future__ import annotations

from typing import Protocol

from continuum.journal.records import TaskLease


class ExternalExecutor(Protocol):
    """Where a worker's activity dispatcher sends the attempts it leased."""

    name: str

    def hand_off(self, leases: list[TaskLease]) -> list[TaskLease]:
        """Queue each leased attempt; return those that could not be queued (to unclaim)."""
        ...

    def close(self) -> None:
        """Release what the executor opened."""
        ...
