"""Schedules in PostgreSQL: upsert, pause/resume, trigger, delete, list, and firing.

Firing locks due schedules ``FOR UPDATE SKIP LOCKED`` (so any number of workers can
try at once) and starts each tick's run under the id ``f"{schedule_id}@{tick}"`` with
``ON CONFLICT DO NOTHING``: a tick starts exactly one run, whoever fires it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from continuum.definitions.schedules import ScheduleSpec, tick_id
from continuum.errors import RunNotFound, ScheduleNotFound
from continuum.journal.postgres import runs
from continuum.journal.postgres.statements import Cursor, Row, dumps, fetch_all, fetch_one, sql
from continuum.journal.records import NewRun
from continuum.models import TERMINAL_STATES, ScheduleInfo

FIRE_BATCH = 16

VersionFor = Callable[[str], str | None]
"""The version hash new runs of a workflow get on this node (``None``: keep the stored one)."""


@dataclass(slots=True)
class ScheduleDef:
    """Everything :func:`upsert` stores (the input already JSON-encoded)."""

    id: str
    workflow: str
    version_hash: str
    input: Any
    spec: ScheduleSpec
    namespace: str = "default"
    overlap: str = "skip"
    catchup: timedelta | None = None
    queue: str | None = None
    priority: int = 0


@dataclass(slots=True)
class FireReport:
    """What one firing pass did, and when the next schedule is due."""

    started: list[str]
    next_in_s: float | None
    blocked: bool
    """Some due schedule was locked by another firer (look again shortly)."""


def _spec(row: Row) -> ScheduleSpec:
    return ScheduleSpec(cron=row["cron"], every=row["every"], timezone=row["timezone"])


def info(row: Row) -> ScheduleInfo:
    """A ``continuum_schedules`` row as the public :class:`ScheduleInfo`."""
    return ScheduleInfo(
        id=row["id"],
        workflow=row["workflow"],
        cron=row["cron"],
        every=row["every"],
        timezone=row["timezone"],
        overlap=row["overlap"],
        catchup=row["catchup"],
        paused=row["paused"],
        next_fire_at=None if row["paused"] else row["next_fire_at"],
        last_run_id=row["last_run_id"],
        namespace=row["namespace"],
        queue=row["queue"],
    )


def upsert(cur: Cursor, sched: ScheduleDef) -> ScheduleInfo:
    """Create or replace the schedule (keeps ``paused`` and ``last_run_id``)."""
    now = runs.now(cur)
    anchor = now.replace(microsecond=0)
    params = {
        "id": sched.id,
        "workflow": sched.workflow,
        "version_hash": sched.version_hash,
        "input": dumps(sched.input, what=f"input of schedule {sched.id!r}"),
        "namespace": sched.namespace,
        "cron": sched.spec.cron,
        "every": sched.spec.every,
        "timezone": sched.spec.timezone,
        "overlap": sched.overlap,
        "catchup": sched.catchup,
        "queue": sched.queue,
        "priority": sched.priority,
        "anchor": anchor,
        "next_fire_at": sched.spec.next_after(now, anchor),
    }
    row = fetch_one(cur, sql("schedules", "upsert_schedule"), params)
    assert row is not None
    return info(row)


def _locked(cur: Cursor, schedule_id: str, operation: str) -> Row:
    row = fetch_one(cur, sql("schedules", "lock_schedule"), (schedule_id,))
    if row is None:
        raise ScheduleNotFound(schedule_id, operation)
    return row


def set_paused(cur: Cursor, schedule_id: str, paused: bool) -> ScheduleInfo:
    """Pause, or resume from the next tick after now (missed ticks are not started)."""
    row = _locked(cur, schedule_id, "pause" if paused else "resume")
    next_fire_at = row["next_fire_at"]
    if not paused and row["paused"]:
        next_fire_at = _spec(row).next_after(runs.now(cur), row["anchor"])
    params = {"id": schedule_id, "paused": paused, "next_fire_at": next_fire_at}
    done = fetch_one(cur, sql("schedules", "set_paused"), params)
    assert done is not None
    return info(done)


def delete(cur: Cursor, schedule_id: str) -> None:
    """Remove the schedule; its runs are untouched."""
    if fetch_one(cur, sql("schedules", "delete_schedule"), (schedule_id,)) is None:
        raise ScheduleNotFound(schedule_id, "delete")


def list_all(cur: Cursor) -> list[ScheduleInfo]:
    """Every schedule, by id."""
    return [info(r) for r in fetch_all(cur, sql("schedules", "list_schedules"))]


def _start(cur: Cursor, row: Row, tick: datetime, version_for: VersionFor | None) -> str:
    version = (version_for(row["workflow"]) if version_for else None) or row["version_hash"]
    new = NewRun(
        id=f"{row['id']}@{tick_id(tick)}",
        workflow=row["workflow"],
        version_hash=version,
        input=row["input"],
        namespace=row["namespace"],
        queue=row["queue"],
        priority=row["priority"],
    )
    runs.create_run(cur, new, None, timedelta(seconds=30))
    return new.id


def _open(cur: Cursor, run_id: str | None) -> bool:
    if run_id is None:
        return False
    try:
        tip = runs.get_run(cur, runs.tip(cur, run_id))
    except RunNotFound:  # the previous run was deleted (retention): nothing is open
        return False
    return tip.state.value not in TERMINAL_STATES


def trigger(cur: Cursor, schedule_id: str, version_for: VersionFor | None = None) -> str:
    """Start the schedule's run for the current second now (whatever ``overlap`` says)."""
    row = _locked(cur, schedule_id, "trigger")
    run_id = _start(cur, row, runs.now(cur), version_for)
    params = {
        "id": schedule_id,
        "next_fire_at": row["next_fire_at"],
        "last_tick": None,
        "last_run_id": run_id,
    }
    cur.execute(sql("schedules", "fired"), params)
    return run_id


def fire_due(cur: Cursor, version_for: VersionFor | None = None) -> FireReport:
    """Start the runs of every due tick of the due schedules this firer can lock."""
    now = runs.now(cur)
    started: list[str] = []
    rows = fetch_all(cur, sql("schedules", "lock_due"), (FIRE_BATCH,))
    for row in rows:
        spec = _spec(row)
        last = row["last_run_id"]
        ticks = spec.due_ticks(row["next_fire_at"], now, row["anchor"], row["catchup"])
        for tick in ticks:
            if row["overlap"] == "skip" and _open(cur, last):
                continue
            last = _start(cur, row, tick, version_for)
            started.append(last)
        params = {
            "id": row["id"],
            "next_fire_at": spec.next_after(now, row["anchor"]),
            "last_tick": ticks[-1] if ticks else None,
            "last_run_id": last,
        }
        cur.execute(sql("schedules", "fired"), params)
    due = fetch_one(cur, sql("schedules", "next_fire_in"))
    due_in = None if due is None or due["due_in_s"] is None else float(due["due_in_s"])
    # Anything still due now was locked by another firer (or beyond this batch).
    blocked = due_in is not None and due_in <= 0
    return FireReport(started, due_in, blocked)
