"""The rows of the in-memory journal: runs, mailbox signals, update requests, tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from continuum.engine.events import Event


@dataclass
class _Run:
    id: str
    workflow: str
    version_hash: str
    input: Any
    state: str = "running"
    namespace: str = "default"
    attributes: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: dict[str, Any] | None = None
    lease_owner: str | None = None
    lease_token: int | None = None
    next_wakeup_at: datetime | None = None
    parent_run_id: str | None = None
    parent_command_seq: int | None = None
    correlation_id: str = ""
    continued_from_run_id: str | None = None
    continued_to_run_id: str | None = None
    depth: int = 0
    cancel_requested_at: datetime | None = None
    cancel_grace_until: datetime | None = None
    attempt: int = 1
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_seq: int = 0
    events: list[Event] = field(default_factory=list)


@dataclass
class _Signal:
    id: int
    run_id: str
    name: str
    payload: Any
    consumed: bool = False


@dataclass
class _Update:
    id: int
    run_id: str
    name: str
    payload: Any
    accepted_seq: int | None = None
    status: str | None = None  # replied | rejected
    answer: Any = None


@dataclass
class _Task:
    id: int
    run_id: str
    command_seq: int
    kind: str
    activity: str
    args: dict[str, Any]
    idempotency_key: str | None
    max_attempts: int | None
    timeout_ms: int | None
    backoff: dict[str, Any]
    state: str = "pending"
    attempt: int = 0
    available_at: datetime | None = None
    lease_token: int | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    journaled: bool = False
    heartbeat_details: Any = None
