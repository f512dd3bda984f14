"""Sticky steps in few round trips (psycopg pipeline mode).

:meth:`TaskJournal.finish_task_and_step` for a run a worker keeps parked in memory:

1. one pipeline: lock the task's run (run before task, as every writer), complete the
   task (fenced by id, token, attempt and state), lease the run to the worker if nobody
   holds it (else wake it, as any finish does), and read the run's new input (only the
   events after the parked seq);
2. the caller resumes the parked workflow and writes what it did — for the common
   shape (a suspended run with events and new tasks) as one more pipeline of the two
   statements a group commit uses (``insert_tasks``, ``commit_runs``): the lease check
   needs no extra read, since the run row has been locked by this transaction since
   before it was claimed and every value it compares was read under that lock;
3. the commit.

Anything the fast write does not cover goes through :func:`commit_activation` in the same
transaction. A finish that turns out fenced rolls everything back.

:func:`claim_and_load_parked` is the same first pipeline for a run woken by name (a
signal): claim it and read its new input in one round trip plus the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from continuum.engine.types import ActivationInput, ActivationResult
from continuum.journal.postgres import activations
from continuum.journal.postgres.batch import batchable
from continuum.journal.postgres.runs import run_lease
from continuum.journal.postgres.statements import Cursor, sql
from continuum.journal.postgres.tasks import task_lease
from continuum.journal.records import Lease, TaskFinish, TaskLease

S = TypeVar("S")
Stepped = tuple[TaskFinish, Lease | None, ActivationInput | None, S | None]


def finish_and_step(
    pool: ConnectionPool[Any],
    lease: TaskLease,
    owner: str,
    payload: str,
    *,
    after: int,
    ttl: timedelta,
    max_child_depth: int,
    instance: str,
    step: Callable[[Cursor, Lease, ActivationInput], S],
) -> Stepped[S]:
    """Complete ``lease`` (a successful attempt without an idempotency key), claim its
    run and load its input after seq ``after``, then ``step`` — one transaction."""
    conn: Connection[Any]
    with pool.connection() as conn:
        # Not `conn.transaction()`: a transaction block inside a pipeline syncs on entry
        # and exit (two more round trips); the implicit transaction of a non-autocommit
        # connection rides in the pipeline, and one commit ends it.
        try:
            with conn.pipeline():
                got = _pipelined(conn, lease, owner, payload, after, ttl)
                if got is None:
                    conn.rollback()
                    return TaskFinish("fenced", lease.run_id), None, None, None
                finish, claimed, run = got
                if claimed is None:
                    conn.commit()
                    return finish, None, None, None  # woken for its holder
                inp = activations.input_of(
                    run, activations.events_of(run["events"]), max_child_depth, instance
                )
                inp.history_after = max(after, 1)
                with conn.cursor(row_factory=dict_row) as cur:
                    out = step(cur, claimed, inp)
                conn.commit()  # queued in the pipeline: its exit is the last round trip
        except BaseException:
            conn.rollback()
            raise
        return finish, claimed, inp, out


def parked_load(run_id: str, owner: str, after: int) -> dict[str, Any]:
    """``load_activation_deltas`` for one run being leased to ``owner`` in the same
    pipeline (its token is not known yet, so the owner fences the read)."""
    return {"ids": [run_id], "tokens": [None], "after": [after], "owner": owner}


def _pipelined(
    conn: Connection[Any],
    lease: TaskLease,
    owner: str,
    payload: str,
    after: int,
    ttl: timedelta,
) -> tuple[TaskFinish, Lease | None, Any] | None:
    """The first pipeline; ``None`` when the task's lease was stale (fenced)."""
    lock, done, claim, load = (conn.cursor(row_factory=dict_row) for _ in range(4))
    lock.execute(sql("tasks", "lock_task_run"), (lease.id,))
    done.execute(
        sql("tasks", "complete_task"),
        {"id": lease.id, "token": lease.token, "attempt": lease.attempt, "result": payload},
    )
    claim.execute(
        sql("batch", "claim_or_wake_runs"),
        {"ids": [lease.run_id], "claim": [True], "owner": owner, "ttl": ttl},
    )
    load.execute(
        sql("activations", "load_activation_deltas"),
        parked_load(lease.run_id, owner, after),
    )
    if done.fetchone() is None:
        return None
    claimed = claim.fetchone()
    run = load.fetchone()
    finish = TaskFinish("completed", lease.run_id)
    if claimed is None or not claimed["claimed"] or run is None:
        return finish, None, None
    return finish, run_lease(claimed), run


def write_fast(
    cur: Cursor,
    lease: Lease,
    inp: ActivationInput,
    result: ActivationResult,
    *,
    task_owner: str,
    max_tasks: int,
    task_ttl: timedelta,
) -> list[TaskLease] | None:
    """Write a suspended activation of the common shape under ``lease`` (claimed and
    locked by this transaction, its journal at ``inp.last_seq``); ``None`` when the
    shape needs :func:`activations.commit_activation` instead."""
    if result.outcome.kind != "suspended" or not batchable(result):
        return None
    prepared = activations.prepare(result)
    row = {"lease_token": lease.token, "state": "running", "last_seq": inp.last_seq}
    fenced = activations.lease_check(row, lease, result)
    if fenced is not None:
        raise fenced
    last_seq = result.new_events[-1].seq if result.new_events else inp.last_seq
    doc = "[" + activations.run_document(lease, prepared, last_seq, lease_tasks=max_tasks) + "]"
    conn = cur.connection
    tasks_cur = conn.cursor(row_factory=dict_row) if prepared.tasks is not None else None
    if tasks_cur is not None:
        tasks_cur.execute(
            sql("batch", "insert_tasks"), {"batch": doc, "owner": task_owner, "ttl": task_ttl}
        )
    cur.execute(
        sql("batch", "commit_runs"),
        {"batch": doc, "ids": [lease.run_id], "seqs": prepared.journaled, "any_ended": False},
    )
    rows = tasks_cur.fetchall() if tasks_cur is not None else []
    done = cur.fetchone()
    if done is None:  # cannot happen under our lock and token: roll everything back
        raise RuntimeError(f"run {lease.run_id}: the sticky step's commit wrote nothing")
    leased = [task_lease(r) for r in rows if r["state"] == "leased"]
    if len(leased) < len(rows):
        cur.execute(sql("activations", "notify"), ("continuum_task_ready", lease.run_id))
    if done["due"]:  # a wake arrived while we held the lease: tell the dispatchers again
        cur.execute(sql("activations", "notify"), ("continuum_run_wake", lease.run_id))
    return leased


def claim_and_load_parked(
    pool: ConnectionPool[Any],
    run_id: str,
    owner: str,
    *,
    after: int,
    ttl: timedelta,
    max_child_depth: int,
    instance: str,
) -> tuple[Lease, ActivationInput] | None:
    """Claim a run parked in this worker's memory and read its new input (the events
    after seq ``after``): one transaction, one pipeline, one commit (a signalled run)."""
    conn: Connection[Any]
    with pool.connection() as conn:
        try:
            with conn.pipeline():
                claim, load = (conn.cursor(row_factory=dict_row) for _ in range(2))
                claim.execute(
                    sql("runs", "claim_run"), {"run_id": run_id, "owner": owner, "ttl": ttl}
                )
                load.execute(
                    sql("activations", "load_activation_deltas"),
                    parked_load(run_id, owner, after),
                )
                claimed, run = claim.fetchone(), load.fetchone()
                conn.commit()
        except BaseException:
            conn.rollback()
            raise
    if claimed is None or run is None:
        return None
    inp = activations.input_of(run, activations.events_of(run["events"]), max_child_depth, instance)
    inp.history_after = max(after, 1)
    return run_lease(claimed), inp
