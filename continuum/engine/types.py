"""What an activation reads (``ActivationInput``) and what it produces (``ActivationResult``).

The engine never touches storage: a runtime (the Postgres worker, or the testing kit's
in-memory environment) loads an :class:`ActivationInput`, calls
:func:`continuum.engine.activation.activate`, and commits the :class:`ActivationResult`
atomically under the run's lease.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from continuum.engine.events import Event


@dataclass(slots=True)
class MailboxSignal:
    """An undelivered signal in the run's durable mailbox."""

    id: int
    name: str
    payload: Any


@dataclass(slots=True)
class MailboxUpdate:
    """An update request not yet accepted by the workflow (``Client.update``)."""

    id: int
    name: str
    payload: Any


@dataclass(slots=True)
class TaskOutcome:
    """The finished (not yet journaled) outcome of an activity task."""

    command_seq: int
    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 1


@dataclass(slots=True)
class ChildOutcome:
    """A child run that reached a terminal state."""

    run_id: str
    state: str  # completed | failed | cancelled
    result: Any = None
    error: dict[str, Any] | None = None


@dataclass(slots=True)
class ActivationInput:
    """Everything one activation of a run may read."""

    run_id: str
    workflow: str
    version_hash: str
    input: Any
    events: list[Event]
    now: datetime
    last_seq: int
    signals: list[MailboxSignal] = field(default_factory=list)
    finished_tasks: dict[int, TaskOutcome] = field(default_factory=dict)
    finished_children: dict[str, ChildOutcome] = field(default_factory=dict)
    cancel_requested: bool = False
    # Cooperative cancellation (``cancel(grace=)``): until this moment Cancelled is
    # delivered into the workflow; None (with cancel_requested) cancels at once.
    cancel_deadline: datetime | None = None
    updates: list[MailboxUpdate] = field(default_factory=list)
    namespace: str = "default"
    parent_run_id: str | None = None
    correlation_id: str = ""
    attempt: int = 1
    depth: int = 0
    max_child_depth: int = 10
    instance: str = "default"
    trace_context: str | None = None
    # Snapshots (continuum.engine.snapshot): ``events`` starts with the compacted history
    # through ``snapshot_seq`` (0: the full history was read); ``snapshot_skipped`` is why
    # a stored snapshot could not be used (the full history was read instead).
    snapshot_seq: int = 0
    snapshot_skipped: str | None = None
    # Sticky execution (continuum.runtime.sticky): ``generation`` tells incarnations of
    # one run id apart (a run restarted under its id is a new one); ``history_after`` > 0
    # means ``events`` holds only the events after that seq — a load for a worker that
    # keeps the run parked there — and is no input for a cold activation.
    generation: Any = None
    history_after: int = 0


@dataclass(slots=True)
class TaskSpec:
    """An activity task to enqueue for activity workers."""

    command_seq: int
    kind: str  # activity | compensation
    activity: str
    args: dict[str, Any]
    idempotency_key: str | None
    max_attempts: int | None  # None: no limit
    timeout_ms: int | None
    backoff: dict[str, Any]
    heartbeat_timeout_ms: int | None = None


@dataclass(slots=True)
class TimerSpec:
    """A timer to arm (a ``sleep`` or a ``wait_signal`` timeout)."""

    seq: int
    fire_at: datetime


@dataclass(slots=True)
class ChildSpec:
    """A child run to create in the same transaction as the parent's commit."""

    run_id: str
    workflow: str
    version_hash: str
    input: Any
    command_seq: int
    command: dict[str, Any]


@dataclass(slots=True)
class Outcome:
    """How the activation ended.

    ``kind`` is one of ``suspended``, ``completed``, ``failed``, ``continued``,
    ``cancelled``.
    """

    kind: str
    result: Any = None
    error: dict[str, Any] | None = None
    continue_input: Any = None
    waiting_on: str = ""


@dataclass(slots=True)
class ActivationResult:
    """Everything an activation wants committed, atomically, under the run's lease."""

    outcome: Outcome
    new_events: list[Event] = field(default_factory=list)
    new_tasks: list[TaskSpec] = field(default_factory=list)
    new_timers: list[TimerSpec] = field(default_factory=list)
    fired_timers: list[int] = field(default_factory=list)
    consumed_signals: list[tuple[int, int]] = field(default_factory=list)  # (signal id, seq)
    journaled_tasks: list[int] = field(default_factory=list)  # command seqs
    new_children: list[ChildSpec] = field(default_factory=list)
    idempotent_results: list[tuple[str, str, Any]] = field(default_factory=list)
    telemetry: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    event_writes: list[tuple[str, Any, int]] = field(default_factory=list)  # key, value, seq
    accepted_updates: list[tuple[int, int]] = field(default_factory=list)  # (update id, seq)
    # (update id, "replied" | "rejected", reply value or rejection reason)
    update_answers: list[tuple[int, str, Any]] = field(default_factory=list)
    fatal: BaseException | None = None  # drift or suspend leak, for replay tooling

    @property
    def last_seq(self) -> int | None:
        """The highest seq this activation journals, if any."""
        return self.new_events[-1].seq if self.new_events else None


@dataclass(slots=True)
class LocalOutcome:
    """What a runtime reports after running a ``local=True`` activity inline."""

    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 1
    idempotency_hit: bool = False


class ActivationHost(Protocol):
    """Services the runtime lends an activation (kept tiny on purpose)."""

    def run_local_activity(
        self,
        activity: str,
        args: dict[str, Any],
        *,
        idempotency_key: str | None,
        max_attempts: int | None,
        timeout: timedelta | None,
    ) -> LocalOutcome:
        """Run a ``local=True`` activity now, with its retries; never raises."""
        ...
