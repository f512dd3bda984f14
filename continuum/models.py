"""Public boundary models: run states, ``RunInfo``, query pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunState(StrEnum):
    """Where a run is in its life. The last three are terminal."""

    QUEUED = "queued"
    RUNNING = "running"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Whether nothing more will happen to the run."""
        return self in (RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED)


TERMINAL_STATES = frozenset({"completed", "failed", "cancelled"})


class RunInfo(BaseModel):
    """What a client sees of a run."""

    model_config = ConfigDict(frozen=True)

    id: str
    workflow: str
    version_hash: str
    state: RunState
    namespace: str = "default"
    attributes: dict[str, Any] = Field(default_factory=dict)
    parent_run_id: str | None = None
    correlation_id: str | None = None
    continued_from_run_id: str | None = None
    continued_to_run_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    queue: str | None = None
    priority: int = 0
    forked_from_run_id: str | None = None
    forked_at_seq: int | None = None


class ScheduleInfo(BaseModel):
    """What a client sees of a schedule (SPEC §14)."""

    model_config = ConfigDict(frozen=True)

    id: str
    workflow: str
    cron: str | None = None
    every: timedelta | None = None
    timezone: str = "UTC"
    overlap: str = "skip"
    catchup: timedelta | None = None
    paused: bool = False
    next_fire_at: datetime | None = None
    last_run_id: str | None = None
    namespace: str = "default"
    queue: str | None = None


class QueueInfo(BaseModel):
    """A queue's limits and how many of its runs are running and waiting (SPEC §15)."""

    model_config = ConfigDict(frozen=True)

    name: str
    concurrency: int | None = None
    rate_limit: tuple[int, timedelta] | None = None
    running: int = 0
    queued: int = 0


class Page(BaseModel):
    """One page of :meth:`Client.query` results."""

    runs: list[RunInfo]
    next_cursor: str | None = None
