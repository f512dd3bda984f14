"""Records of an operator's read-only view of one run (the Observer, ``runs show``).

Everything here is a snapshot: by the time a caller renders it, the run may have moved on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True, frozen=True)
class PendingSignal:
    """A signal in the run's mailbox that no wait has consumed yet."""

    id: int
    name: str
    payload: Any
    inserted_at: datetime


@dataclass(slots=True, frozen=True)
class PendingTimer:
    """A durable timer (``continuum.sleep`` or a wait's timeout) that has not fired."""

    seq: int
    fire_at: datetime


@dataclass(slots=True, frozen=True)
class OpenTask:
    """An activity (or compensation) task that is pending or leased."""

    id: int
    command_seq: int
    kind: str
    activity: str
    state: str
    attempt: int
    max_attempts: int | None  # None: unlimited
    available_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: dict[str, Any] | None


@dataclass(slots=True, frozen=True)
class ChildRef:
    """A child run of the inspected run."""

    id: str
    workflow: str
    state: str
    started_at: datetime | None


@dataclass(slots=True, frozen=True)
class PendingUpdate:
    """An update request not answered yet (``accepted``: the workflow holds it)."""

    id: int
    name: str
    payload: Any
    inserted_at: datetime | None
    accepted: bool


@dataclass(slots=True, frozen=True)
class RunDetail:
    """What an operator sees of a run beyond :class:`~continuum.models.RunInfo`."""

    id: str
    input: Any
    trace_context: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    next_wakeup_at: datetime | None
    cancel_requested_at: datetime | None
    last_seq: int
    updated_at: datetime | None
    signals: list[PendingSignal] = field(default_factory=list)
    timers: list[PendingTimer] = field(default_factory=list)
    tasks: list[OpenTask] = field(default_factory=list)
    children: list[ChildRef] = field(default_factory=list)
    # SPEC §13: what the run's chain published, and update requests not yet answered.
    events: dict[str, Any] = field(default_factory=dict)
    updates: list[PendingUpdate] = field(default_factory=list)


CallSite = tuple[str, str, int]
"""``(kind, qualname, line offset from the first line of the function)`` of a command."""
