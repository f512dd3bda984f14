"""Group finish: many activity tasks' completions recorded by one transaction.

The activity pool's counterpart of :mod:`continuum.journal.postgres.batch`. Successful
attempts finishing at the same time are recorded together: their runs locked first (run
before task, without waiting), each completion fenced by its task's token and attempt,
idempotency results stored, and each run either leased to this worker (when the caller
holds a free run slot for it, so it skips the dispatcher) or woken. A failed attempt
(retry arithmetic, attempts_exhausted), or a task whose run someone else holds locked
right now, is answered ``None``: the caller finishes it on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from continuum.engine.types import ActivationInput
from continuum.journal.postgres.activations import Known, load_activations
from continuum.journal.postgres.runs import run_lease
from continuum.journal.postgres.statements import Cursor, fetch_all, sql
from continuum.journal.records import Lease, TaskFinish, TaskLease

FinishOutcome = tuple[TaskFinish, Lease | None, ActivationInput | None] | None
"""Per item: ``(finish, run lease, activation input)`` as ``finish_task_and_claim``
returns them, or ``None``: finish it on its own."""


@dataclass(slots=True)
class FinishItem:
    """One successful attempt offered to a group finish."""

    lease: TaskLease
    payload: str  # the result as JSON text (validated before any SQL runs)
    claim: bool  # the caller holds a free run slot: lease the woken run to it


def finish_batch(
    cur: Cursor,
    items: Sequence[FinishItem],
    *,
    owner: str,
    ttl: timedelta,
    max_child_depth: int,
    instance: str,
    known: Known | None = None,
) -> list[FinishOutcome]:
    """Record the completions in the caller's transaction; one outcome per item."""
    out: list[FinishOutcome] = [None] * len(items)
    task_ids = [i.lease.id for i in items]
    run_ids = sorted({i.lease.run_id for i in items})
    rows = fetch_all(cur, sql("batch", "lock_task_runs"), (task_ids, run_ids))
    locked = {r["task_id"] for r in rows}
    mine = [k for k, item in enumerate(items) if item.lease.id in locked]
    if not mine:
        return out
    doc = "[" + ",".join(_document(items[k]) for k in mine) + "]"
    ids = [items[k].lease.id for k in mine]
    rows = fetch_all(cur, sql("batch", "complete_tasks"), (doc, ids))
    done = {r["id"]: r["run_id"] for r in rows}
    runs: dict[str, bool] = {}
    for k in mine:
        item = items[k]
        run_id = done.get(item.lease.id)
        if run_id is None:
            out[k] = (TaskFinish("fenced", item.lease.run_id), None, None)
            continue
        runs[run_id] = runs.get(run_id, False) or item.claim
    claimed: dict[str, Lease] = {}
    if runs:
        params = {
            "ids": list(runs),
            "claim": list(runs.values()),
            "owner": owner,
            "ttl": ttl,
        }
        for r in fetch_all(cur, sql("batch", "claim_or_wake_runs"), params):
            if r["claimed"]:
                claimed[r["id"]] = run_lease(r)
    loaded = load_activations(
        cur,
        list(claimed.values()),
        max_child_depth=max_child_depth,
        instance=instance,
        known=known,
    )
    for k in mine:
        if out[k] is not None:
            continue
        item = items[k]
        run_id = done[item.lease.id]
        lease = claimed.pop(run_id, None) if item.claim else None  # one taker per run
        out[k] = (
            TaskFinish("completed", run_id),
            lease,
            loaded.get(run_id) if lease is not None else None,
        )
    return out


def _document(item: FinishItem) -> str:
    lease = item.lease
    return (
        f'{{"id":{lease.id},"token":{lease.token},"attempt":{lease.attempt},'
        f'"result":{item.payload}}}'
    )
