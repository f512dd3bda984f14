"""Schedules in the in-memory kit: the same ticks as on PostgreSQL, on the virtual clock.

:class:`~continuum.testing.WorkflowEnvironment` owns one :class:`ScheduleBook`; its
``advance`` fires each tick at its own virtual time, in order with timers, so a test
can check a month of a cron schedule in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from continuum.definitions.schedules import ScheduleSpec, check_overlap, tick_id
from continuum.definitions.workflow import Workflow
from continuum.errors import ConfigurationError, ScheduleNotFound
from continuum.models import ScheduleInfo

StartRun = Callable[[Workflow[Any, Any], Any, str], None]
IsOpen = Callable[[str], bool]


@dataclass(slots=True)
class _Entry:
    id: str
    flow: Workflow[Any, Any]
    input: Any
    spec: ScheduleSpec
    overlap: str
    catchup: timedelta | None
    anchor: datetime
    next_fire_at: datetime
    paused: bool = False
    last_run_id: str | None = None

    def info(self) -> ScheduleInfo:
        return ScheduleInfo(
            id=self.id,
            workflow=self.flow.name,
            cron=self.spec.cron,
            every=self.spec.every,
            timezone=self.spec.timezone,
            overlap=self.overlap,
            catchup=self.catchup,
            paused=self.paused,
            next_fire_at=None if self.paused else self.next_fire_at,
            last_run_id=self.last_run_id,
        )


class ScheduleBook:
    """The schedules of one in-memory environment."""

    def __init__(self, start: StartRun, is_open: IsOpen) -> None:
        self._start = start
        self._is_open = is_open
        self._entries: dict[str, _Entry] = {}

    def _get(self, schedule_id: str, operation: str) -> _Entry:
        entry = self._entries.get(schedule_id)
        if entry is None:
            raise ScheduleNotFound(schedule_id, operation)
        return entry

    def upsert(
        self,
        schedule_id: str,
        flow: Workflow[Any, Any],
        input: Any,
        spec: ScheduleSpec,
        *,
        overlap: str,
        catchup: timedelta | None,
        now: datetime,
    ) -> ScheduleInfo:
        if not isinstance(schedule_id, str) or not schedule_id or "@" in schedule_id:
            raise ConfigurationError(
                f"schedule: a schedule id must be a non-empty string without '@', "
                f"got {schedule_id!r}"
            )
        check_overlap(overlap)
        anchor = now.replace(microsecond=0)
        old = self._entries.get(schedule_id)
        entry = _Entry(
            schedule_id,
            flow,
            input,
            spec,
            overlap,
            catchup,
            anchor,
            spec.next_after(now, anchor),
            paused=old.paused if old else False,
            last_run_id=old.last_run_id if old else None,
        )
        self._entries[schedule_id] = entry
        return entry.info()

    def set_paused(self, schedule_id: str, paused: bool, now: datetime) -> ScheduleInfo:
        entry = self._get(schedule_id, "pause" if paused else "resume")
        if entry.paused and not paused:
            entry.next_fire_at = entry.spec.next_after(now, entry.anchor)
        entry.paused = paused
        return entry.info()

    def trigger(self, schedule_id: str, now: datetime) -> str:
        entry = self._get(schedule_id, "trigger")
        run_id = f"{schedule_id}@{tick_id(now)}"
        self._start(entry.flow, entry.input, run_id)
        entry.last_run_id = run_id
        return run_id

    def delete(self, schedule_id: str) -> None:
        self._get(schedule_id, "delete")
        del self._entries[schedule_id]

    def all(self) -> list[ScheduleInfo]:
        return [self._entries[k].info() for k in sorted(self._entries)]

    def next_fire_at(self) -> datetime | None:
        """The earliest unpaused fire time."""
        times = [e.next_fire_at for e in self._entries.values() if not e.paused]
        return min(times) if times else None

    def fire_due(self, now: datetime) -> list[str]:
        """Start the runs of every due tick; returns their ids."""
        started: list[str] = []
        for entry in list(self._entries.values()):
            if entry.paused or entry.next_fire_at > now:
                continue
            for tick in entry.spec.due_ticks(entry.next_fire_at, now, entry.anchor, entry.catchup):
                last = entry.last_run_id
                if entry.overlap == "skip" and last is not None and self._is_open(last):
                    continue
                run_id = f"{entry.id}@{tick_id(tick)}"
                self._start(entry.flow, entry.input, run_id)
                entry.last_run_id = run_id
                started.append(run_id)
            entry.next_fire_at = entry.spec.next_after(now, entry.anchor)
        return started
