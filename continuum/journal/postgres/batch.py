"""Group commit: many runs' activations written by one transaction of three statements.

A worker under load finishes activations faster than it can give each one its own
transaction; the runtime's group committer hands the activations waiting at that moment
to :func:`commit_batch` together. Every run keeps its own fencing: its row is locked
and its lease token and ``last_seq`` checked exactly as :func:`commit_activation` does,
and only the runs that pass are written. The common shapes ride in the batch — a run
that suspends, or a root run that completes or fails — with events, journaled tasks and
new activity tasks. Everything else (timers, signals, children, idempotency results,
``continue_as_new``, cancel, a run with a parent, a run whose row someone else holds
locked right now) is answered :data:`ALONE`: the caller commits it on its own, through
the ordinary path, after this transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from continuum.engine.types import ActivationResult
from continuum.journal.fencing import Fenced
from continuum.journal.postgres.activations import PreparedCommit, lease_check, run_document
from continuum.journal.postgres.messages import has_messages
from continuum.journal.postgres.statements import Cursor, fetch_all, sql
from continuum.journal.postgres.tasks import task_lease
from continuum.journal.records import Lease, TaskLease

ALONE = None
"""The outcome of an item the batch did not write: commit it on its own."""

BatchOutcome = list[TaskLease] | Fenced | None
"""Per item: the task leases it took (committed), :class:`Fenced`, or :data:`ALONE`."""

_BATCHABLE = frozenset({"suspended", "completed", "failed"})


@dataclass(slots=True)
class BatchItem:
    """One activation offered to a group commit."""

    lease: Lease
    prepared: PreparedCommit
    lease_tasks: int = 0


def batchable(result: ActivationResult) -> bool:
    """Whether the activation has a shape :func:`commit_batch` writes."""
    return (
        result.outcome.kind in _BATCHABLE
        and not result.new_timers
        and not result.fired_timers
        and not result.consumed_signals
        and not result.new_children
        and not result.idempotent_results
        and not has_messages(result)
    )


def commit_batch(
    cur: Cursor, items: Sequence[BatchItem], *, task_owner: str, task_ttl: timedelta
) -> list[BatchOutcome]:
    """Apply the batchable ``items`` in the caller's transaction; one outcome per item."""
    outcomes: list[BatchOutcome] = [ALONE] * len(items)
    wanted = [k for k, item in enumerate(items) if batchable(item.prepared.result)]
    if not wanted:
        return outcomes
    rows = fetch_all(cur, sql("batch", "lock_runs"), ([items[k].lease.run_id for k in wanted],))
    locked = {row["id"]: row for row in rows}
    accepted: list[int] = []
    for k in wanted:
        item = items[k]
        row = locked.get(item.lease.run_id)
        if row is None:
            continue  # locked by someone else right now (or gone): on its own
        fenced = lease_check(row, item.lease, item.prepared.result)
        if fenced is not None:
            outcomes[k] = fenced
            continue
        if item.prepared.result.outcome.kind != "suspended" and row["parent_run_id"] is not None:
            continue  # waking a parent takes the parent's lock first: on its own
        accepted.append(k)
    if not accepted:
        return outcomes
    docs = [_document(items[k], locked[items[k].lease.run_id]["last_seq"]) for k in accepted]
    batch = "[" + ",".join(docs) + "]"
    leased: dict[str, list[TaskLease]] = {items[k].lease.run_id: [] for k in accepted}
    if any(items[k].prepared.tasks is not None for k in accepted):
        params = {"batch": batch, "owner": task_owner, "ttl": task_ttl}
        task_rows = fetch_all(cur, sql("batch", "insert_tasks"), params)
        for r in task_rows:
            if r["state"] == "leased":
                leased[r["run_id"]].append(task_lease(r))
        pending = [r["run_id"] for r in task_rows if r["state"] != "leased"]
        if pending:
            cur.execute(sql("activations", "notify"), ("continuum_task_ready", pending[0]))
    ids = [items[k].lease.run_id for k in accepted]
    seqs = sorted({seq for k in accepted for seq in items[k].prepared.journaled})
    ended = any(items[k].prepared.result.outcome.kind != "suspended" for k in accepted)
    params = {"batch": batch, "ids": ids, "seqs": seqs, "any_ended": ended}
    done = fetch_all(cur, sql("batch", "commit_runs"), params)
    if len(done) != len(accepted):
        # Every accepted row is locked by us with a matching token: a miss is a bug, and
        # raising rolls the whole batch back so each item commits on its own.
        raise RuntimeError(f"group commit wrote {len(done)} of {len(accepted)} runs")
    for r in done:
        if r["due"]:  # a wake arrived while we held the lease: tell the dispatchers again
            cur.execute(sql("activations", "notify"), ("continuum_run_wake", r["id"]))
    for k in accepted:
        outcomes[k] = leased[items[k].lease.run_id]
    return outcomes


def _document(item: BatchItem, locked_seq: int) -> str:
    events = item.prepared.result.new_events
    last_seq = events[-1].seq if events else locked_seq
    return run_document(item.lease, item.prepared, last_seq, lease_tasks=item.lease_tasks)
