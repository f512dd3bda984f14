"""Activity task leases: claim, heartbeat, finish (fenced by token and attempt), requeue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from continuum.journal.postgres.runs import run_lease, wake_run
from continuum.journal.postgres.statements import (
    Cursor,
    Row,
    dumps,
    dumps_or_none,
    fetch_all,
    fetch_one,
    sql,
)
from continuum.journal.records import Lease, TaskFinish, TaskLease


def task_lease(row: Row) -> TaskLease:
    """A leased ``continuum_activity_tasks`` row as a :class:`TaskLease`."""
    return TaskLease(
        id=int(row["id"]),
        run_id=row["run_id"],
        command_seq=row["command_seq"],
        kind=row["kind"],
        activity=row["activity"],
        args=row["args"],
        idempotency_key=row["idempotency_key"],
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        timeout_ms=row["timeout_ms"],
        token=int(row["lease_token"]),
        owner=row["lease_owner"] or "",
        claimed_at=row["claimed_at"],
        trace_context=row.get("trace_context"),
        heartbeat_timeout_ms=row.get("heartbeat_timeout_ms"),
        heartbeat_details=row.get("heartbeat_details"),
    )


def claim_tasks(cur: Cursor, owner: str, limit: int, ttl: timedelta) -> list[TaskLease]:
    """Lease up to ``limit`` due tasks, oldest first; each claim is a new attempt."""
    rows = fetch_all(cur, sql("tasks", "claim_tasks"), {"owner": owner, "ttl": ttl, "limit": limit})
    return [task_lease(r) for r in rows]


def heartbeat_task(
    cur: Cursor,
    lease: TaskLease,
    ttl: timedelta,
    *,
    beat: bool = False,
    details: str | None = None,
    age: timedelta = timedelta(0),
) -> bool:
    """Extend the task lease on the database clock; ``False`` once it is lost.

    ``beat``: an activity's own heartbeat (stamps ``last_heartbeat_at``); ``details``
    (JSON text) are stored for the next attempt when given; ``age``: how long ago the
    heartbeat call was made (a coalesced call written late renews from its own time).
    """
    params = {
        "id": lease.id,
        "token": lease.token,
        "attempt": lease.attempt,
        "ttl": ttl,
        "beat": beat,
        "has_details": details is not None,
        "details": details,
        "age": age,
    }
    return fetch_one(cur, sql("tasks", "heartbeat_task"), params) is not None


def task_state(cur: Cursor, task_id: int) -> Row | None:
    """``{state, attempt, run_state}`` of a task now (why a heartbeat missed)."""
    return fetch_one(cur, sql("tasks", "task_state"), (task_id,))


def defer_task(cur: Cursor, lease: TaskLease) -> bool:
    """Hand the attempt to asynchronous completion; ``False`` if the lease was lost."""
    params = {"id": lease.id, "token": lease.token, "attempt": lease.attempt}
    return fetch_one(cur, sql("tasks", "defer_task"), params) is not None


def hand_off_task(cur: Cursor, lease: TaskLease, owner: str, ttl: timedelta) -> bool:
    """Give the attempt to an external queue (owner ``queued:...``) for at most ``ttl``."""
    params = {"id": lease.id, "token": lease.token, "attempt": lease.attempt}
    return (
        fetch_one(cur, sql("tasks", "hand_off_task"), {**params, "owner": owner, "ttl": ttl})
        is not None
    )


def adopt_task(
    cur: Cursor, task_id: int, attempt: int, token: int, owner: str, ttl: timedelta
) -> TaskLease | None:
    """Start a handed-off attempt as ``owner`` (once; fenced); ``None`` when stale."""
    params = {"id": task_id, "token": token, "attempt": attempt, "owner": owner, "ttl": ttl}
    row = fetch_one(cur, sql("tasks", "adopt_task"), params)
    return None if row is None else task_lease(row)


def finish_by_token(
    cur: Cursor,
    task_id: int,
    attempt: int,
    token: int,
    *,
    ok: bool,
    result: Any,
    error: dict[str, Any] | None,
    final_for: Callable[[str], bool],
) -> TaskFinish:
    """Asynchronous completion: finish the attempt a task token names, fenced as a
    worker's finish; ``fenced`` when the token is stale (or names no task)."""
    row = task_by_id(cur, task_id)
    if row is None:
        return TaskFinish("fenced", "")
    lease = replace(task_lease({**row, "lease_token": token}), attempt=attempt)
    payload = prepare_finish(lease, ok, result, error)
    final = not ok and final_for(lease.activity)
    return finish_task(cur, lease, ok, payload, final=final)[0]


def task_by_id(cur: Cursor, task_id: int) -> Row | None:
    """A task row by id (what a task token names), leased or not."""
    return fetch_one(cur, sql("tasks", "task_by_id"), (task_id,))


def prepare_finish(
    lease: TaskLease, ok: bool, result: Any, error: dict[str, Any] | None
) -> str | None:
    """The JSON text ``finish_task`` will store (validated before any SQL runs)."""
    if ok:
        return dumps(result, what=f"result of activity {lease.activity}")
    return dumps_or_none(error, what=f"error of activity {lease.activity}")


def finish_task(
    cur: Cursor,
    lease: TaskLease,
    ok: bool,
    payload: str | None,
    *,
    claim_for: str | None = None,
    ttl: timedelta = timedelta(seconds=30),
    final: bool = False,
) -> tuple[TaskFinish, Lease | None]:
    """Record one attempt's outcome; ``fenced`` unless id, token, attempt and state match.

    An outcome the workflow must see wakes the run; with ``claim_for`` it leases the run
    to that owner instead when nobody holds it (returned with the finish), so the
    caller can activate it without a claim transaction of its own. ``final``: a failure
    that is not retried whatever attempts remain (a ``non_retryable`` error).
    """
    # The run row first: commit_activation and cancel lock run then tasks.
    fetch_one(cur, sql("tasks", "lock_task_run"), (lease.id,))
    params = {"id": lease.id, "token": lease.token, "attempt": lease.attempt}
    if ok:
        row = fetch_one(cur, sql("tasks", "complete_task"), {**params, "result": payload})
        if row is None:
            return TaskFinish("fenced", lease.run_id), None
        if row["idempotency_key"] is not None:
            cur.execute(
                sql("tasks", "upsert_activity_result"),
                (row["activity"], row["idempotency_key"], payload),
            )
        return TaskFinish("completed", row["run_id"]), _wake(cur, row["run_id"], claim_for, ttl)
    row = fetch_one(cur, sql("tasks", "fail_task"), {**params, "error": payload, "final": final})
    if row is None:
        return TaskFinish("fenced", lease.run_id), None
    if row["state"] == "pending":
        return TaskFinish("retry", row["run_id"], row["available_at"]), None
    return TaskFinish("failed", row["run_id"]), _wake(cur, row["run_id"], claim_for, ttl)


def _wake(cur: Cursor, run_id: str, claim_for: str | None, ttl: timedelta) -> Lease | None:
    # The run row is locked by this transaction, so the claim cannot race another
    # worker's; a run leased elsewhere right now is woken instead (its commit sees it).
    # The same statement as a group finish, for one run.
    params = {"ids": [run_id], "claim": [claim_for is not None], "owner": claim_for, "ttl": ttl}
    row = fetch_one(cur, sql("batch", "claim_or_wake_runs"), params)
    if row is None or not row["claimed"]:
        return None
    return run_lease(row)


def unclaim_tasks(cur: Cursor, leases: list[TaskLease]) -> int:
    """Hand never-started task leases back without counting their attempt."""
    moved = 0
    for lease in leases:
        params = {"id": lease.id, "token": lease.token, "attempt": lease.attempt}
        if fetch_one(cur, sql("tasks", "unclaim_task"), params) is not None:
            moved += 1
    if moved:
        cur.execute(sql("activations", "notify"), ("continuum_task_ready", leases[0].run_id))
    return moved


def requeue_expired_tasks(cur: Cursor) -> list[Row]:
    """Requeue (or exhaust) leased tasks whose lease expired; the lost attempt counts.

    Returns ``{id, run_id, state}`` for every task moved; runs of exhausted tasks are
    woken so their workflow sees the failure.
    """
    runs = [r["id"] for r in fetch_all(cur, sql("tasks", "lock_runs_of_expired_tasks"))]
    if not runs:
        return []
    moved = fetch_all(cur, sql("tasks", "requeue_expired_tasks"), (runs,))
    for run_id in sorted({r["run_id"] for r in moved if r["state"] == "failed"}):
        wake_run(cur, run_id)
    for run_id in sorted({r["run_id"] for r in moved if r["state"] == "pending"}):
        cur.execute(sql("activations", "notify"), ("continuum_task_ready", run_id))
    return moved


def claim_idempotency_key(cur: Cursor, lease: TaskLease) -> bool:
    """Claim ``lease``'s idempotency key for its attempt; ``False`` while another live
    attempt holds it (see ``claim_idempotency_key`` in tasks.sql)."""
    params = {"id": lease.id, "token": lease.token, "attempt": lease.attempt}
    return fetch_one(cur, sql("tasks", "claim_idempotency_key"), params) is not None


def idempotent_result(cur: Cursor, activity: str, key: str) -> tuple[bool, Any]:
    """A committed result for ``(activity, key)``, if any."""
    row = fetch_one(cur, sql("tasks", "idempotent_result"), (activity, key))
    return (False, None) if row is None else (True, row["result"])
