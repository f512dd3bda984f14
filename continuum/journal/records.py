"""Records shared by every journal implementation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class NewRun:
    """A run to create (``Client.start``)."""

    id: str
    workflow: str
    version_hash: str
    input: Any
    namespace: str = "default"
    attributes: dict[str, Any] = field(default_factory=dict)
    trace_context: str | None = None
    queue: str | None = None
    priority: int = 0
    retention_s: float | None = None  # how long the run is kept once finished (None: forever)


@dataclass(slots=True)
class Lease:
    """Write authority over one run: every journal write carries ``token``."""

    run_id: str
    owner: str
    token: int
    workflow: str
    version_hash: str


@dataclass(slots=True)
class TaskLease:
    """Write authority over one activity task attempt: ``token`` and ``attempt`` fence it."""

    id: int
    run_id: str
    command_seq: int
    kind: str
    activity: str
    args: dict[str, Any]
    idempotency_key: str | None
    attempt: int
    max_attempts: int | None  # None: no limit
    timeout_ms: int | None
    token: int
    owner: str
    claimed_at: datetime | None = None
    trace_context: str | None = None
    heartbeat_timeout_ms: int | None = None
    heartbeat_details: Any = None
    """The last heartbeat details any earlier attempt stored (``None`` if none)."""


@dataclass(slots=True)
class TaskFinish:
    """What happened to a task attempt: ``completed``, ``retry``, ``failed`` or ``fenced``."""

    status: str
    run_id: str
    retry_at: datetime | None = None


@dataclass(slots=True)
class UpdateStatus:
    """Where an update request stands: ``status`` is ``None`` until it is answered."""

    id: int
    run_id: str
    run_state: str
    accepted: bool
    status: str | None  # replied | rejected
    answer: Any = None
