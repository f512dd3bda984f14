"""The storage contract every journal (memory, Postgres) fulfils.

Semantics both implementations share (and the tests check on both):

- ``commit_activation`` applies everything an activation produced in one atomic step,
  and only while the lease token is current and the run is active (else ``Fenced``).
- Signals wait in a per-run mailbox; ``send_signal`` follows a ``continue_as_new``
  chain to its live tip, raising ``RunNotFound`` / ``RunTerminal``.
- ``cancel`` makes the run and its live descendants ``cancelled``, clears leases,
  discards pending tasks and closes timers; with ``grace`` it only requests a
  cooperative cancel (woken, delivered at the next wait, hard cancel after ``grace``).
- Update requests wait in a per-run mailbox like signals; an activation's commit
  accepts and answers them (each at most once) and writes its events (last write wins
  per continue_as_new chain).
- ``finish_task`` is fenced by the task's token *and* attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from continuum.engine.events import Event
from continuum.engine.types import ActivationInput, ActivationResult
from continuum.journal.records import Lease, NewRun, TaskFinish, TaskLease, UpdateStatus
from continuum.models import RunInfo


class Journal(Protocol):
    """What the runtime, the client and the testing kit need from storage."""

    def now(self) -> datetime:
        """The storage clock (the database clock for Postgres)."""
        ...

    def create_run(self, new: NewRun) -> tuple[RunInfo, bool]:
        """Insert a runnable run, idempotent on its id; ``(info, created)``."""
        ...

    def get_run(self, run_id: str) -> RunInfo:
        """The run's public record, or ``RunNotFound``."""
        ...

    def tip(self, run_id: str) -> str:
        """The live end of the chain containing ``run_id``."""
        ...

    def history(self, run_id: str) -> list[Event]:
        """The run's events in seq order."""
        ...

    def set_attributes(self, run_id: str, attributes: dict[str, Any]) -> None:
        """Merge search attributes (not journaled, invisible to replay)."""
        ...

    def claim_run(self, run_id: str, owner: str) -> Lease | None:
        """Lease one due run, rotating its fencing token."""
        ...

    def release_run(self, lease: Lease, retry_after: timedelta) -> None:
        """Give the lease back without progress; the run wakes again after ``retry_after``."""
        ...

    def load_activation(self, lease: Lease) -> ActivationInput:
        """History, mailbox and finished work for one activation."""
        ...

    def commit_activation(
        self, lease: Lease, result: ActivationResult, *, successor_version: str | None = None
    ) -> None:
        """Apply an activation atomically under the lease."""
        ...

    def send_signal(self, run_id: str, name: str, payload: Any) -> str:
        """Deliver to the chain tip's mailbox; returns the id it landed on."""
        ...

    def cancel(self, run_id: str, grace: timedelta | None = None) -> RunInfo:
        """Cancel the chain tip and its descendants (cooperatively with ``grace``)."""
        ...

    def send_update(self, run_id: str, name: str, payload: Any) -> tuple[int, str]:
        """Put an update request in the chain tip's mailbox; ``(update id, run id)``."""
        ...

    def update_status(self, update_id: int) -> UpdateStatus:
        """Where an update request stands."""
        ...

    def withdraw_update(self, update_id: int) -> bool:
        """Remove an update request nobody accepted."""
        ...

    def get_event(self, run_id: str, key: str) -> tuple[bool, Any]:
        """``(found, value)`` of an event the run's chain published."""
        ...

    def events(self, run_id: str) -> dict[str, Any]:
        """Every event the run's chain published."""
        ...

    def claim_task(self, owner: str) -> TaskLease | None:
        """Lease the oldest due activity task."""
        ...

    def finish_task(
        self,
        lease: TaskLease,
        *,
        ok: bool,
        result: Any = None,
        error: dict[str, Any] | None = None,
        final: bool = False,
    ) -> TaskFinish:
        """Record an attempt's outcome (fenced by token and attempt); ``final``: no retry."""
        ...

    def idempotent_result(self, activity: str, key: str) -> tuple[bool, Any]:
        """A committed result for ``(activity, key)``, if any."""
        ...
